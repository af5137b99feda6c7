//! What an ingest reports: counts, and the errors and warnings it lists.

use serde::Serialize;

/// One error or warning of an ingest report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The source the document came from.
    pub source: String,
    /// 0-based position of the document (footprint or CSV row) in its source.
    pub index: usize,
    /// 1-based line of the value concerned.
    pub line: usize,
    /// RFC 6901 pointer into the document (`/pcf/declaredUnit`), or `/column` for CSV rows.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// What an ingest did; `mieruka ingest --format json` prints it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    /// Documents accepted (footprints and BOM rows), duplicates included.
    pub accepted: usize,
    /// Documents rejected.
    pub rejected: usize,
    /// Accepted documents that were already stored with identical content.
    pub duplicates: usize,
    /// New footprint versions.
    pub footprints: usize,
    /// New or changed BOM edges.
    pub bom_edges: usize,
    /// New or changed GX attribute rows.
    pub gx_attributes: usize,
    /// Whether anything was written (false on a dry run, with `--all-or-nothing` after a
    /// rejection, or when everything was a duplicate).
    pub stored: bool,
    /// The ingest sequence number of the commit, when stored.
    pub ingest_seq: Option<i64>,
    /// Warnings: accepted as read, but worth a look (the first [`LISTED_PROBLEMS`]).
    pub warnings: Vec<Problem>,
    /// Errors: why documents were rejected (the first [`LISTED_PROBLEMS`]).
    pub errors: Vec<Problem>,
    /// Warnings beyond those listed (each is in the ingest log when the ingest is stored).
    #[serde(skip_serializing_if = "is_zero")]
    pub warnings_not_listed: usize,
    /// Errors beyond those listed (each is in the ingest log when the ingest is stored).
    #[serde(skip_serializing_if = "is_zero")]
    pub errors_not_listed: usize,
}

/// Errors, and warnings, a report lists; the rest are counted. Listed, a file of millions of
/// bad lines kept a `Problem` per line until the ingest ended, and a server's answer to such
/// an upload listed them all; the ingest log, streamed into the segment, has every one.
pub const LISTED_PROBLEMS: usize = 10_000;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl IngestReport {
    /// Exit code per the CLI contract: 0 nothing rejected, 1 some rejected.
    pub fn exit_code(&self) -> i32 {
        if self.rejected == 0 { 0 } else { 1 }
    }

    /// All warnings, listed or not.
    pub fn warning_count(&self) -> usize {
        self.warnings.len() + self.warnings_not_listed
    }

    /// All errors, listed or not.
    pub fn error_count(&self) -> usize {
        self.errors.len() + self.errors_not_listed
    }

    /// Adds an error: listed while fewer than [`LISTED_PROBLEMS`] are, counted after.
    pub(super) fn error(&mut self, p: Problem) {
        list_or_count(&mut self.errors, &mut self.errors_not_listed, p);
    }

    /// Adds a warning, as [`IngestReport::error`] does an error.
    pub(super) fn warning(&mut self, p: Problem) {
        list_or_count(&mut self.warnings, &mut self.warnings_not_listed, p);
    }
}

/// `p` onto `listed` while it has fewer than [`LISTED_PROBLEMS`], else one more `not_listed`.
fn list_or_count(listed: &mut Vec<Problem>, not_listed: &mut usize, p: Problem) {
    match listed.len() < LISTED_PROBLEMS {
        true => listed.push(p),
        false => *not_listed += 1,
    }
}
