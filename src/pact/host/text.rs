//! A served footprint before and as it is made text.

use serde_json::Value;
use serde_json::value::RawValue;

use super::Doc;

/// A footprint as a version gives it, before it is made text.
pub(super) enum Given {
    /// Received in that version: its bytes.
    Received(Vec<u8>),
    /// Converted from the other.
    Converted(Value),
    /// Why it cannot be given in that version.
    LeftOut(String),
}

pub(super) fn not_json(d: &Doc, e: serde_json::Error) -> crate::Error {
    crate::Error::Internal(format!("stored footprint {} is not JSON: {e}", d.id))
}

/// A stored document, exactly as received, as JSON text.
pub(super) fn raw_document(d: &Doc, bytes: Vec<u8>) -> crate::Result<Box<RawValue>> {
    let text = String::from_utf8(bytes).map_err(|e| {
        crate::Error::Internal(format!("stored footprint {} is not UTF-8: {e}", d.id))
    })?;
    RawValue::from_string(text).map_err(|e| not_json(d, e))
}

/// A converted document as JSON text.
pub(super) fn converted_raw(d: &Doc, doc: &Value) -> crate::Result<Box<RawValue>> {
    serde_json::value::to_raw_value(doc).map_err(|e| not_json(d, e))
}
