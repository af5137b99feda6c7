//! `pact_requests`: the requests `mieruka request` sent, kept beside the segments in
//! `requests.json` (written whole and atomically by `pact::request`, not by commits).

use std::fs;

use datafusion::arrow::array::RecordBatch;

use super::Store;
use crate::{Error, Result};

impl Store {
    /// `pact_requests`: the requests kept in `requests.json` (none when there is no file).
    /// The file is written whole and atomically by `pact::request`, outside the segments.
    pub fn requests(&self) -> Result<Vec<RecordBatch>> {
        let path = self.dir.join(crate::table::REQUESTS_FILE);
        let log: crate::table::RequestLog = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Usage(format!("{}: not a request log ({e})", path.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&path, e)),
        };
        Ok(vec![crate::table::requests_batch(&log.requests)?])
    }

    /// [`Store::requests`], or none when the log cannot be read: a damaged request log must
    /// not keep the footprints from being read (`mieruka request --list` names the error).
    pub fn requests_or_empty(&self) -> Vec<RecordBatch> {
        self.requests().unwrap_or_else(|e| {
            tracing::warn!("{e}; pact_requests is empty");
            Vec::new()
        })
    }
}
