//! The PACT events endpoints, `POST /2/events` and `/3/events`: every CloudEvent checked
//! whole; `RequestCreated` answered on the requester's host when its client has a callback;
//! answers to the requests this host sent (`mieruka request`) matched, their footprints
//! ingested.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::AppState;
use super::pact::{base_url, client_of};
use crate::ingest::is_uuid;
use crate::pact::host::{Docs, PactClient, PactError, V3Criteria};

/// The event types a host accepts, per major version.
fn event_kind(t: &str) -> Option<&'static str> {
    Some(match t {
        "org.wbcsd.pathfinder.ProductFootprint.Published.v1"
        | "org.wbcsd.pact.ProductFootprint.PublishedEvent.3" => "published",
        "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1"
        | "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3" => "request_created",
        "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1"
        | "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3" => "request_fulfilled",
        "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1"
        | "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3" => "request_rejected",
        _ => return None,
    })
}

/// `POST /2/events` and `/3/events`: CloudEvents. Each event is checked; `Published`,
/// `Fulfilled` and `Rejected` are acknowledged and logged. A `RequestCreated` is accepted
/// when the client has a callback in the config: the footprints it asks for (and may see)
/// are sent to the requester's events endpoint in a `Fulfilled` event, or a `Rejected` one
/// with `NoSuchFootprint`; without a callback it is declined at once with `NotImplemented`.
pub(crate) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PactError> {
    let client = client_of(&state, &headers)?;
    let event: Value = serde_json::from_slice(&body)
        .map_err(|e| PactError::bad_request(format!("the body is not JSON: {e}")))?;
    let kind = check_event(&event)?;
    let t = event["type"].as_str().unwrap_or_default();
    let data = &event["data"];
    if kind == "request_created" {
        let Some(callback) = client.callback.clone() else {
            // Accepting obliges the host to answer later on the requester's own host, which
            // needs a callback in the config; without one the request is declined at once,
            // as the spec allows.
            return Err(PactError::new(
                StatusCode::BAD_REQUEST,
                "NotImplemented",
                "this host has no callback configured for your client, so it cannot answer requests asynchronously; ListFootprints with the same criteria returns what is shared with you",
            ));
        };
        let major = if t.ends_with(".v1") { 2 } else { 3 };
        let docs = state.pact_docs().map_err(PactError::internal)?;
        let found = requested(&docs, &client, major, data)?;
        let answer = answer_event(major, &base_url(&state, &headers), &event, found)?;
        let id = client.id.clone();
        tokio::spawn(async move {
            match crate::pact::client::send_event(&callback, major, &answer).await {
                Ok(()) => tracing::info!(client = %id, "pact: request answered"),
                Err(e) => tracing::warn!(client = %id, "pact: answering a request failed: {e}"),
            }
        });
        tracing::info!(client = %client.id, event = %event["id"], "pact: request accepted");
        return Ok(StatusCode::OK.into_response());
    }
    if matches!(kind, "request_fulfilled" | "request_rejected") {
        answer_to_request(&state, kind, &body).await?;
    }
    tracing::info!(client = %client.id, event = %event["id"], kind, "pact: event received");
    Ok(StatusCode::OK.into_response())
}

/// An answer to a request this host sent (`mieruka request`), found by its `requestEventId`
/// in the data directory's `requests.json`: a Fulfilled event's footprints are ingested with
/// the same checks and atomic commit as an upload, each document's text as the partner sent
/// it, and the request closed; a Rejected event's reason is kept. An answer to a request not
/// sent from here is acknowledged and logged only. `body` is the event, already checked.
async fn answer_to_request(state: &AppState, kind: &str, body: &[u8]) -> Result<(), PactError> {
    use crate::ingest::{self, IngestOptions, Source};
    use crate::pact::request::RequestLog;

    let Some(dir) = state.0.data_dir.clone() else {
        return Ok(());
    };
    #[derive(serde::Deserialize)]
    struct Answer<'a> {
        #[serde(borrow)]
        data: AnswerData<'a>,
    }
    #[derive(serde::Deserialize)]
    struct AnswerData<'a> {
        #[serde(rename = "requestEventId")]
        request: String,
        #[serde(borrow, default)]
        pfs: Vec<&'a RawValue>,
        #[serde(default)]
        error: Option<Value>,
    }
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| PactError::bad_request(format!("the answer's data: {e}")))?;
    let id = answer.data.request.clone();
    // The footprints as a list response, each document's bytes as received.
    let list = crate::pact::list_body(answer.data.pfs.iter().copied());
    let reason = answer.data.error.map(|e| {
        format!(
            "{}: {}",
            e["code"].as_str().unwrap_or_default(),
            e["message"].as_str().unwrap_or_default()
        )
    });
    let fulfilled = kind == "request_fulfilled";
    let _one_at_a_time = state.0.upload.lock().await;
    let before = state.loaded();
    // Under the log's lock: `mieruka request` may be adding to it at the same time.
    let tables = tokio::task::spawn_blocking(move || -> crate::Result<Option<crate::table::Tables>> {
        let matched = RequestLog::update(&dir, |log| -> crate::Result<bool> {
            let Some(r) = log.requests.iter_mut().find(|r| r.id == id) else {
                tracing::info!(request = %id, "pact: an answer to a request not sent from here");
                return Ok(false);
            };
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            if fulfilled {
                let store = crate::store::Store::create_or_open(&dir)?;
                let source = Source::new(format!("answer to request {id}"), list);
                let report =
                    ingest::ingest_into(&store, &[source], &IngestOptions::default(), &|_| {})?;
                r.status = "fulfilled".into();
                r.reason = report.errors.first().map(|e| {
                    format!(
                        "{} of the footprints sent were rejected; the first: {} {}",
                        report.rejected, e.pointer, e.message
                    )
                });
            } else {
                r.status = "rejected".into();
                r.reason = reason;
            }
            r.answered_at = Some(now);
            Ok(true)
        })??;
        // Read after the log is written: `pact_requests` shows the answer, and the
        // footprints it brought are in the tables.
        match matched {
            true => Ok(Some(crate::store::Store::open(&dir)?.load_after(&before.tables)?)),
            false => Ok(None),
        }
    })
        .await
        .map_err(PactError::internal)?
        .map_err(PactError::internal)?;
    if let Some(t) = tables {
        state.replace(t).await.map_err(PactError::internal)?;
    }
    Ok(())
}

/// Checks a CloudEvent (structured mode, CloudEvents 1.0 JSON) as PACT defines it for its
/// type; returns the event's kind. Every field the specification names is checked, so an
/// event is either understood whole or answered 400 with the field that is wrong.
fn check_event(event: &Value) -> Result<&'static str, PactError> {
    fn bad<T>(m: String) -> Result<T, PactError> {
        Err(PactError::bad_request(m))
    }
    let Some(e) = event.as_object() else {
        return bad("the body must be a JSON object: a CloudEvent in structured mode".into());
    };
    for field in ["type", "specversion", "id", "source"] {
        if e.get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return bad(format!(
                "a CloudEvent needs the non-empty string field {field:?}"
            ));
        }
    }
    // CloudEvents 1.0 JSON format §2: "specversion" is "1.0".
    if e["specversion"] != "1.0" {
        return bad(format!(
            "specversion must be \"1.0\", got {}",
            e["specversion"]
        ));
    }
    if let Some(time) = e.get("time")
        && time
            .as_str()
            .is_none_or(|t| chrono::DateTime::parse_from_rfc3339(t).is_err())
    {
        return bad(format!("time must be an RFC 3339 date-time, got {time}"));
    }
    let t = e["type"].as_str().unwrap_or_default();
    let kind = event_kind(t).ok_or_else(|| {
        PactError::new(
            StatusCode::BAD_REQUEST,
            "NotImplemented",
            format!("event type {t:?} is not supported"),
        )
    })?;
    let Some(data) = e.get("data").and_then(Value::as_object) else {
        return bad(format!(
            "{t}: a CloudEvent of this type needs a data object"
        ));
    };
    let v2 = t.ends_with(".v1");
    let string = |field: &str| -> Result<(), PactError> {
        match data.get(field) {
            Some(Value::String(_)) => Ok(()),
            Some(other) => bad(format!("{t}: data.{field} must be a string, got {other}")),
            None => bad(format!("{t}: data.{field} is required")),
        }
    };
    let optional_string = |field: &str| match data.get(field) {
        None | Some(Value::String(_)) => Ok(()),
        Some(other) => bad(format!("{t}: data.{field} must be a string, got {other}")),
    };
    match kind {
        // PACT: "The PfIds MUST be the non-empty list of ProductFootprint/id values of the
        // updated Product Footprints, encoded as a JSON array" (v3: `items: format: uuid`).
        "published" => {
            let Some(ids) = data.get("pfIds").and_then(Value::as_array) else {
                return bad(format!("{t}: data.pfIds must be a list of footprint ids"));
            };
            if ids.is_empty() {
                return bad(format!("{t}: data.pfIds must not be empty"));
            }
            for (i, id) in ids.iter().enumerate() {
                if !id.as_str().is_some_and(is_uuid) {
                    return bad(format!(
                        "{t}: data.pfIds[{i}] is {id}, not a footprint id (a UUID)"
                    ));
                }
            }
        }
        // v2 asks with a partial footprint in data.pf; both may carry a comment: "The property
        // data.comment of a PF Request Event is OPTIONAL" and "MUST be encoded as a JSON string".
        "request_created" if v2 => {
            if !data.get("pf").is_some_and(Value::is_object) {
                return bad(format!(
                    "{t}: data.pf must be an object (a partial footprint)"
                ));
            }
            optional_string("comment")?;
        }
        "request_created" => {
            for (k, v) in data {
                let ok = match k.as_str() {
                    "productId" | "companyId" | "geography" | "classification" => {
                        v.is_string()
                            || v.as_array()
                                .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string))
                    }
                    "validOn" | "validAfter" | "validBefore" => v
                        .as_str()
                        .is_some_and(|d| chrono::DateTime::parse_from_rfc3339(d).is_ok()),
                    "status" | "comment" => v.is_string(),
                    x if x.starts_with("x-") => true,
                    other => {
                        return bad(format!(
                            "{t}: data.{other} is not a criterion (productId, companyId, geography, classification, validOn, validAfter, validBefore, status, x-…) nor comment"
                        ));
                    }
                };
                if !ok {
                    return bad(format!("{t}: data.{k} has the wrong form: {v}"));
                }
            }
        }
        "request_fulfilled" => {
            string("requestEventId")?;
            let Some(pfs) = data.get("pfs").and_then(Value::as_array) else {
                return bad(format!("{t}: data.pfs must be a list of footprints"));
            };
            // v3: "This list MUST be non-empty, as the RequestFulfilled event indicates success."
            if !v2 && pfs.is_empty() {
                return bad(format!("{t}: data.pfs must not be empty"));
            }
            if let Some(i) = pfs.iter().position(|p| !p.is_object()) {
                return bad(format!("{t}: data.pfs[{i}] is not a footprint object"));
            }
        }
        _ => {
            string("requestEventId")?;
            let error = data.get("error").and_then(Value::as_object);
            let field = |f: &str| error.and_then(|e| e.get(f)).is_some_and(Value::is_string);
            if !(field("code") && field("message")) {
                return bad(format!(
                    "{t}: data.error must be an error response: an object with the strings code and message"
                ));
            }
        }
    }
    Ok(kind)
}

/// The footprints a `RequestCreated` event asks for that `client` may see: v2 by the
/// `productIds` (and `companyIds`) of the partial footprint in `data.pf`, v3 by the criteria
/// in `data`, as ListFootprints filters them.
fn requested(
    docs: &Docs,
    client: &PactClient,
    major: u8,
    data: &Value,
) -> Result<Vec<Box<RawValue>>, PactError> {
    let lower = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_ascii_lowercase))
                .collect(),
            Value::String(s) => vec![s.to_ascii_lowercase()],
            _ => Vec::new(),
        }
    };
    if major == 2 {
        let products = lower(&data["pf"]["productIds"]);
        let companies = lower(&data["pf"]["companyIds"]);
        if products.is_empty() && companies.is_empty() {
            return Err(PactError::bad_request(
                "data.pf needs productIds or companyIds to say which footprints are asked for",
            ));
        }
        let has = |want: &[String], have: &Value| {
            want.is_empty() || lower(have).iter().any(|h| want.contains(h))
        };
        let keep =
            |v: &Value| has(&products, &v["productIds"]) && has(&companies, &v["companyIds"]);
        docs.page(client, major, Some(&keep), None, 0, None)
            .map(|p| p.docs)
            .map_err(PactError::internal)
    } else {
        let mut pairs = Vec::new();
        if let Some(o) = data.as_object() {
            // The comment is part of the request, not a criterion.
            for (k, v) in o.iter().filter(|(k, _)| k.as_str() != "comment") {
                match v {
                    Value::Array(a) => pairs.extend(
                        a.iter()
                            .filter_map(|x| x.as_str().map(|x| (k.clone(), x.to_owned()))),
                    ),
                    Value::String(x) => pairs.push((k.clone(), x.clone())),
                    _ => {}
                }
            }
        }
        let criteria = V3Criteria::parse(&pairs)?;
        let keep = |v: &Value| criteria.matches(v);
        docs.page(client, major, Some(&keep), None, 0, None)
            .map(|p| p.docs)
            .map_err(PactError::internal)
    }
}

fn uuid_v4() -> Result<String, PactError> {
    crate::pact::request::uuid_v4().map_err(PactError::internal)
}

/// The `Fulfilled` (or, with nothing found, `Rejected`) event answering `request`.
fn answer_event(
    major: u8,
    base: &str,
    request: &Value,
    found: Vec<Box<RawValue>>,
) -> Result<Value, PactError> {
    let host = base.split_once("://").map_or(base, |(_, h)| h);
    let (fulfilled, rejected) = if major == 2 {
        (
            "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1",
            "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1",
        )
    } else {
        (
            "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
            "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
        )
    };
    let request_id = request["id"].clone();
    let (kind, data) = if found.is_empty() {
        let code = if major == 2 {
            "NoSuchFootprint"
        } else {
            "NotFound"
        };
        (
            rejected,
            json!({"requestEventId": request_id, "error": {"code": code, "message": "no footprint shared with you matches the request"}}),
        )
    } else {
        (
            fulfilled,
            json!({"requestEventId": request_id, "pfs": found}),
        )
    };
    Ok(json!({
        "type": kind,
        "specversion": "1.0",
        "id": uuid_v4()?,
        "source": format!("//{host}/{major}/events"),
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": data,
    }))
}
