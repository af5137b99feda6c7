//! NDJSON read in place: a source whose bytes can all be had at once — in memory, or a
//! regular file mapped read-only — is cut into chunks of whole lines where it lies.
//!
//! Read into buffers, a file's every byte was copied out of the page cache first: 14 % of
//! the CPU of a 1M-footprint ingest went to that copy, on the thread that decides (see
//! BENCHMARKS.md). Mapped, the chunks are the page cache's own pages. The pages of a chunk
//! are let go once it is decided, so that a mapped file of any size holds about two chunks
//! in memory, as the buffers did. A pipe or a device is read in chunks as before
//! ([`Intake::ndjson`]).

use std::ops::Range;
use std::path::Path;

use memmap2::{Advice, Mmap, UncheckedAdvice};

use super::{
    Chunk, Group, Intake, MOST_LINES, beside, check_units, ndjson_units, size_message, strip_bom,
    timed, whole,
};
use crate::ingest::source::Data;
use crate::{Error, Result};

/// A source's bytes, all at hand.
enum Whole<'a> {
    Bytes(&'a [u8]),
    Mapped(Mmap),
}

impl Whole<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Whole::Bytes(b) => b,
            Whole::Mapped(m) => m,
        }
    }

    /// Asks for `range`'s pages to be mapped now, in one call, rather than faulted in one
    /// by one by the threads that check them. A hint: nothing happens if it fails.
    fn prefetch(&self, range: Range<usize>) {
        if let Whole::Mapped(m) = self
            && !range.is_empty()
        {
            let _ = m.advise_range(Advice::PopulateRead, range.start, range.len());
        }
    }

    /// Lets `range`'s pages go (they stay in the page cache, and are read again from there
    /// if touched). A hint: nothing happens if it fails.
    fn release(&self, range: Range<usize>) {
        if let Whole::Mapped(m) = self
            && !range.is_empty()
        {
            // SAFETY: the mapping is read-only and never written, so dropping its pages
            // loses nothing: a later read of `range` maps the file's pages again.
            let _ = unsafe {
                m.unchecked_advise_range(UncheckedAdvice::DontNeed, range.start, range.len())
            };
        }
    }
}

/// `path` mapped read-only, when it is a regular file that is not empty and can be mapped.
fn map(path: &Path) -> Result<Option<Mmap>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() || meta.len() == 0 {
        return Ok(None);
    }
    // SAFETY: the map is only read, as bytes checked like any others (UTF-8 included) before
    // they are used. As with every tool that maps its input (ripgrep does by default), a file
    // changed by another process while it is ingested is read as it is at each moment, and
    // one cut short ends the process with SIGBUS: the store then keeps its last commit, as
    // after any crash, and the kept original's length is checked against what was read.
    let mapped = unsafe { Mmap::map(&file) };
    let Ok(mapped) = mapped else {
        return Ok(None);
    };
    let _ = mapped.advise(Advice::Sequential);
    Ok(Some(mapped))
}

/// A chunk that was checked and waits to be decided: where it is, and its groups.
type Waiting = (Range<usize>, Vec<Group>);

impl Intake<'_> {
    /// NDJSON source `si` read in place, when its bytes can be had at once; `false`, having
    /// read nothing, when they cannot (a device, an empty file, a file that does not map)
    /// or files are not to be mapped ([`crate::ingest::IngestOptions::map_files`]).
    pub(super) fn ndjson_in_place(&mut self, si: usize) -> Result<bool> {
        let sources = self.sources;
        let whole_source = match &sources[si].data {
            Data::Bytes(b) => Whole::Bytes(b),
            Data::File(path) if self.opts.map_files => match map(path)? {
                Some(m) => Whole::Mapped(m),
                None => return Ok(false),
            },
            Data::File(_) => return Ok(false),
        };
        timed(&mut self.phases.write, || self.sink.keep_original(si))?;
        let bytes = whole_source.bytes();
        let (max, step) = (self.opts.max_document_bytes, self.step());
        whole_source.prefetch(0..step.min(bytes.len()));
        let mut pending: Option<Waiting> = None;
        let mut pos = 0;
        let mut line_no = 1;
        while pos < bytes.len() {
            let rest = &bytes[pos..];
            let cut = match rest.len() <= step {
                true => rest.len(),
                false => match memchr::memrchr(b'\n', &rest[..step]) {
                    Some(i) => i + 1,
                    None => {
                        // A line longer than a chunk: where it ends, its pages let go as they
                        // are read past.
                        let end = line_end(&whole_source, pos, step) - pos;
                        if end > max.saturating_add(2) {
                            (self.progress)(end as u64);
                            self.decide_in_place(si, &whole_source, &mut pending)?;
                            self.reject(si, line_no, whole(size_message(end, max)))?;
                            line_no += 1;
                            let next = pos + (end + 1).min(rest.len());
                            whole_source.release(pos..next);
                            pos = next;
                            continue;
                        }
                        (end + 1).min(rest.len())
                    }
                },
            };
            let skip = match pos {
                0 => rest.len() - strip_bom(rest).len(),
                _ => 0,
            };
            let chunk = Chunk {
                source: si,
                bytes: &rest[..cut],
                base: pos as u64,
            };
            let (units, breaks, used) = ndjson_units(chunk.bytes, skip, line_no, max, MOST_LINES);
            if used == 0 {
                return Err(Error::Internal(format!(
                    "no line read at byte {pos} of {}",
                    sources[si].name
                )));
            }
            if pos == 0 {
                self.expect_documents(si, units.len(), used);
            }
            let started = std::time::Instant::now();
            let (names, progress) = (self.names.clone(), self.progress);
            let rows = (self.sink.seq(), self.sink.keeps_records());
            let (decided, checked) = beside(
                || {
                    let decided = self.decide_in_place(si, &whole_source, &mut pending);
                    whole_source.prefetch(pos + used..(pos + used + step).min(bytes.len()));
                    decided
                },
                || check_units(&names, progress, chunk, units, None, rows),
            );
            decided?;
            let checked = checked?;
            self.phases.check += started.elapsed();
            line_no += breaks;
            pending = Some((pos..pos + used, checked));
            pos += used;
        }
        self.decide_in_place(si, &whole_source, &mut pending)?;
        let len = bytes.len() as u64;
        timed(&mut self.phases.write, || self.sink.original_read(si, len))?;
        Ok(true)
    }

    /// Decides on the chunk `pending` holds, if any, and lets its pages go.
    fn decide_in_place(
        &mut self,
        si: usize,
        whole_source: &Whole,
        pending: &mut Option<Waiting>,
    ) -> Result<()> {
        let Some((range, checked)) = pending.take() else {
            return Ok(());
        };
        let chunk = Chunk {
            source: si,
            bytes: &whole_source.bytes()[range.clone()],
            base: range.start as u64,
        };
        self.footprint_chunk(Some(chunk), checked)?;
        whole_source.release(range);
        Ok(())
    }
}

/// Where the line that starts at `from` and has no break in its first `step` bytes ends (its
/// line break, or the end of the source); the pages read past are let go a step at a time.
fn line_end(whole_source: &Whole, from: usize, step: usize) -> usize {
    let bytes = whole_source.bytes();
    let mut at = from;
    loop {
        let end = (at + step).min(bytes.len());
        if let Some(i) = memchr::memchr(b'\n', &bytes[at..end]) {
            return at + i;
        }
        whole_source.release(at..end);
        if end == bytes.len() {
            return end;
        }
        at = end;
    }
}
