//! `pact_requests`: the PACT requests `mieruka request` sent from a data directory and what
//! came of them, kept in `requests.json` there (written by `pact::request`), as a table for
//! queries and dashboards.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Result;

/// The file of a data directory the requests are kept in.
pub const REQUESTS_FILE: &str = "requests.json";

/// One request sent (or tried).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentRequest {
    /// The event id: answers name it as `requestEventId`.
    pub id: String,
    /// The partner's name.
    pub partner: String,
    /// The company asked.
    pub company_id: String,
    /// The product asked about.
    pub product_id: String,
    /// The footprint whose gap it is.
    pub footprint_id: String,
    /// The root product whose decomposition showed the gap.
    pub root_product_id: String,
    /// The gap's kind (`unresolved`, `untraced`, …).
    pub gap: String,
    /// The gap's share of the root's CFP, percent.
    pub share_pct: f64,
    /// The share of the root's CFP backed by primary Gate-to-Gate data when the request was
    /// made, percent (`hotspot_quality`'s `primary_data_coverage_pct`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_before_pct: Option<f64>,
    /// `sent`, `failed`, `fulfilled` or `rejected`.
    pub status: String,
    /// Why it failed or was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was sent (RFC 3339).
    pub sent_at: String,
    /// When the answer came (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<String>,
    /// The event sent, sent again as it is by `mieruka request --resend`.
    #[serde(default)]
    pub event: Value,
}

/// The requests sent from a data directory ([`REQUESTS_FILE`] there).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RequestLog {
    /// In the order sent.
    pub requests: Vec<SentRequest>,
}

/// The columns of `pact_requests`.
pub fn requests_schema() -> SchemaRef {
    let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        text("request_id", false),
        text("partner", false),
        text("company_id", false),
        text("product_id", false),
        text("footprint_id", false),
        text("root_product_id", false),
        text("gap", false),
        Field::new("share_pct", DataType::Float64, false),
        Field::new("coverage_before_pct", DataType::Float64, true),
        text("status", false),
        text("reason", true),
        text("sent_at", false),
        text("answered_at", true),
    ]))
}

/// `requests` as a `pact_requests` batch, in the order sent.
pub fn requests_batch(requests: &[SentRequest]) -> Result<RecordBatch> {
    let text = |f: &dyn Fn(&SentRequest) -> Option<&str>| -> ArrayRef {
        Arc::new(requests.iter().map(f).collect::<StringArray>())
    };
    let float = |f: &dyn Fn(&SentRequest) -> Option<f64>| -> ArrayRef {
        Arc::new(requests.iter().map(f).collect::<Float64Array>())
    };
    let columns = vec![
        text(&|r| Some(&r.id)),
        text(&|r| Some(&r.partner)),
        text(&|r| Some(&r.company_id)),
        text(&|r| Some(&r.product_id)),
        text(&|r| Some(&r.footprint_id)),
        text(&|r| Some(&r.root_product_id)),
        text(&|r| Some(&r.gap)),
        float(&|r| Some(r.share_pct)),
        float(&|r| r.coverage_before_pct),
        text(&|r| Some(&r.status)),
        text(&|r| r.reason.as_deref()),
        text(&|r| Some(&r.sent_at)),
        text(&|r| r.answered_at.as_deref()),
    ];
    Ok(RecordBatch::try_new(requests_schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Array;

    #[test]
    fn a_request_log_reads_as_a_table() {
        // A log as `mieruka request` writes it, before coverage was recorded (no
        // coverage_before_pct) and after.
        let log: RequestLog = serde_json::from_str(
            r#"{"requests": [
                {"id": "a", "partner": "P", "company_id": "urn:c", "product_id": "urn:p",
                 "footprint_id": "f", "root_product_id": "urn:r", "gap": "unresolved",
                 "share_pct": 12.5, "status": "sent", "sent_at": "2026-12-01T00:00:00Z"},
                {"id": "b", "partner": "P", "company_id": "urn:c", "product_id": "urn:p",
                 "footprint_id": "f", "root_product_id": "urn:r", "gap": "untraced",
                 "share_pct": 3.0, "coverage_before_pct": 40.0, "status": "rejected",
                 "reason": "NotFound: no", "sent_at": "2026-12-01T00:00:00Z",
                 "answered_at": "2026-12-02T00:00:00Z", "event": {}}
            ]}"#,
        )
        .expect("log");
        let b = requests_batch(&log.requests).expect("batch");
        assert_eq!(b.num_rows(), 2);
        assert_eq!(b.schema(), requests_schema());
        let coverage = b
            .column_by_name("coverage_before_pct")
            .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
            .expect("coverage");
        assert!(coverage.is_null(0));
        assert_eq!(coverage.value(1), 40.0);
    }
}
