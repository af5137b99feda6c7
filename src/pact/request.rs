//! Asking suppliers for data: the partners' PACT hosts (`[[pact.partner]]` in the config),
//! `RequestCreated` events for them, and the requests sent, kept in the data directory
//! (`requests.json`) so that answers can be matched and unanswered requests sent again.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};

use super::client::{Callback, send_event};
use crate::{Error, Result};

/// A supplier's PACT host, for asking it for footprints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// How reports call it.
    pub name: String,
    /// The companies (URNs, as in PACT `companyIds`) whose data this host holds.
    pub companies: Vec<String>,
    /// The host's base URL (its events endpoint is `/2/events` or `/3/events`).
    pub url: String,
    /// The PACT major version it speaks: 2 (default) or 3.
    #[serde(default = "two")]
    pub version: u8,
    /// The client id this host gave us.
    pub client_id: String,
    /// Its secret, or …
    #[serde(default)]
    pub client_secret: Option<String>,
    /// … the name of an environment variable holding it (keeps it out of the config file).
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// A CA certificate (PEM) to trust besides the Mozilla roots.
    #[serde(default)]
    pub ca_cert: Option<PathBuf>,
    /// Its token endpoint, when its discovery announces another host.
    #[serde(default)]
    pub token_url: Option<String>,
}

fn two() -> u8 {
    2
}

impl Partner {
    /// Checks the entry; `at` names the config file in messages.
    pub fn validate(&self, at: &str) -> std::result::Result<(), String> {
        let who = format!("{at}: pact partner {:?}", self.name);
        if self.companies.is_empty() {
            return Err(format!("{who}: companies = [\"urn:…\"] is required"));
        }
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            return Err(format!(
                "{who}: url = {:?} must start with https://",
                self.url
            ));
        }
        if !matches!(self.version, 2 | 3) {
            return Err(format!(
                "{who}: version must be 2 or 3, got {}",
                self.version
            ));
        }
        if self.client_secret.is_none() && self.client_secret_env.is_none() {
            return Err(format!(
                "{who}: client_secret_env = \"VAR\" (or client_secret) is required"
            ));
        }
        Ok(())
    }

    /// Whether this host holds the data of `company` (a URN; case-insensitive).
    pub fn serves(&self, company: &str) -> bool {
        self.companies
            .iter()
            .any(|c| c.eq_ignore_ascii_case(company))
    }

    fn callback(&self) -> Callback {
        Callback {
            url: self.url.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            client_secret_env: self.client_secret_env.clone(),
            ca_cert: self.ca_cert.clone(),
            token_url: self.token_url.clone(),
        }
    }

    /// Sends `event` to this partner's events endpoint.
    pub async fn send(&self, event: &Value) -> Result<()> {
        send_event(&self.callback(), self.version, event).await
    }
}

/// What one request asks for.
#[derive(Debug, Clone)]
pub struct Ask {
    /// The product whose footprint is asked for.
    pub product_id: String,
    /// The company asked.
    pub company_id: String,
    /// Why, for a person to read.
    pub comment: String,
}

/// A `RequestCreated` event (PACT v2 `ProductFootprintRequest.Created.v1` with a partial
/// footprint, v3 `RequestCreatedEvent.3` with criteria) with the id `id`, from `source` (the
/// base URL answers come back to).
pub fn request_event(version: u8, source: &str, id: &str, ask: &Ask) -> Value {
    let host = source.split_once("://").map_or(source, |(_, h)| h);
    let host = host.trim_end_matches('/');
    let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (kind, data) = if version == 2 {
        (
            "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
            json!({
                "pf": {"productIds": [ask.product_id], "companyIds": [ask.company_id]},
                "comment": ask.comment,
            }),
        )
    } else {
        (
            "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
            json!({
                "productId": [ask.product_id],
                "companyId": [ask.company_id],
                "comment": ask.comment,
            }),
        )
    };
    json!({
        "type": kind,
        "specversion": "1.0",
        "id": id,
        "source": format!("//{host}/{version}/events"),
        "time": time,
        "data": data,
    })
}

pub use crate::table::{RequestLog, SentRequest};

impl RequestLog {
    const FILE: &str = crate::table::REQUESTS_FILE;

    /// The log of `data`, empty if there is none yet.
    pub fn read(data: &Path) -> Result<RequestLog> {
        let path = data.join(Self::FILE);
        super::read_json(&path, |e| {
            format!("{}: not a request log ({e})", path.display())
        })
    }

    /// Reads the log of `data`, applies `change` and writes it back, holding a lock on it
    /// (`requests.lock`) throughout: `mieruka request` and a server recording an answer may
    /// change it at the same time, and neither change is lost.
    pub fn update<T>(data: &Path, change: impl FnOnce(&mut RequestLog) -> T) -> Result<T> {
        super::locked(data, Self::FILE, || {
            let mut log = RequestLog::read(data)?;
            let out = change(&mut log);
            log.write(data)?;
            Ok(out)
        })
    }

    /// Writes the log into `data`, atomically.
    pub fn write(&self, data: &Path) -> Result<()> {
        super::write_json(data, Self::FILE, self)
    }
}

/// A random (version 4) UUID, for event ids.
pub fn uuid_v4() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| Error::Internal(format!("random: {e}")))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}
