//! PACT interoperability: the host API `mieruka serve` offers to data recipients, the client
//! `mieruka pull` uses to read from other hosts, and the `$filter` subset of PACT v2.

pub mod client;
pub mod convert;
pub mod filter;
pub(crate) mod host;
pub mod request;

pub use host::{PactClient, PactConfig};

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::{Error, Result};

/// A JSON file of a data directory (`pulls.json`, `requests.json`): its value, or the default
/// when there is none yet; `bad` words the error for a file that is not one.
fn read_json<T: DeserializeOwned + Default>(
    path: &Path,
    bad: impl FnOnce(serde_json::Error) -> String,
) -> Result<T> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Usage(bad(e))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Writes `value` as the JSON file `name` of `data`, atomically.
fn write_json(data: &Path, name: &str, value: &impl Serialize) -> Result<()> {
    std::fs::create_dir_all(data).map_err(|e| Error::io(data, e))?;
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Internal(e.to_string()))?;
    crate::store::write_atomic(&data.join(name), &bytes)
}

/// Holds `NAME.lock` in `data` while `f` runs: two processes changing the JSON file `name`
/// (a pull, `mieruka request`, a server recording an answer) never lose each other's change.
fn locked<R>(data: &Path, name: &str, f: impl FnOnce() -> Result<R>) -> Result<R> {
    std::fs::create_dir_all(data).map_err(|e| Error::io(data, e))?;
    let path = data.join(format!("{}.lock", name.trim_end_matches(".json")));
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    lock.lock().map_err(|e| Error::io(&path, e))?;
    f()
}

/// A PACT list response, `{"data":[…]}`, holding `docs` byte for byte.
pub(crate) fn list_body<'a>(docs: impl IntoIterator<Item = &'a RawValue>) -> Vec<u8> {
    let mut out = b"{\"data\":[".to_vec();
    for (i, doc) in docs.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(doc.get().as_bytes());
    }
    out.extend_from_slice(b"]}");
    out
}

/// The footprint `id` of `tables` (its latest version) in the other PACT major version, as
/// the host serves it there: what `mieruka footprints --explain-conversion` prints.
/// `tables` needs only where the documents are (`dataset::documents`).
pub fn conversion_of(tables: &crate::table::Tables, id: &str) -> Result<convert::Converted> {
    let id = id.trim();
    let bytes = tables
        .latest_document(id)?
        .ok_or_else(|| Error::NotFound(format!("no footprint {id} is stored")))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Internal(format!("stored footprint {id} is not JSON: {e}")))?;
    let to = if convert::major_of(&value) == Some(2) {
        3
    } else {
        2
    };
    Ok(convert::convert(&value, to))
}
