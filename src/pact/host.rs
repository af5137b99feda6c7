//! What a PACT host keeps, whoever serves it: the config of its data recipients, the access
//! tokens handed out, the PACT error shape, and the footprints as served — each exactly as
//! received under its own version's path, converted under the other's — with the v2 `$filter`
//! and the v3 query criteria over them. The HTTP handlers that use these are in `server::pact`.

use std::collections::HashMap;
use std::time::Instant;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::filter::{Filter, Known};

mod criteria;
mod text;
pub(crate) use criteria::V3Criteria;
use text::{Given, converted_raw, not_json, raw_document};

/// A PACT client (data recipient) of the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PactClient {
    /// The OAuth2 client id.
    pub id: String,
    /// Hex SHA-256 of the client secret (`printf %s SECRET | sha256sum`).
    pub secret_sha256: String,
    /// Companies (URNs, as in PACT `companyIds`) whose footprints it may read; `"*"`: all.
    pub companies: Vec<String>,
    /// Where to answer its `RequestCreated` events; without it they are declined at once.
    #[serde(default)]
    pub callback: Option<super::client::Callback>,
}

/// `[pact]` of the server config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PactConfig {
    /// Lifetime of an access token, seconds.
    pub token_seconds: u64,
    /// The clients.
    #[serde(rename = "client")]
    pub clients: Vec<PactClient>,
    /// Suppliers' PACT hosts, asked for data by `mieruka request`.
    #[serde(rename = "partner")]
    pub partners: Vec<super::request::Partner>,
}

impl Default for PactConfig {
    fn default() -> PactConfig {
        PactConfig {
            token_seconds: 3600,
            clients: Vec::new(),
            partners: Vec::new(),
        }
    }
}

impl PactConfig {
    /// The partner holding `company`'s data (a URN; case-insensitive), if any.
    pub fn partner_for(&self, company: &str) -> Option<&super::request::Partner> {
        self.partners.iter().find(|p| p.serves(company))
    }

    /// Checks the entries; `at` names the config file in messages.
    pub fn validate(&self, at: &str) -> Result<(), String> {
        for c in &self.clients {
            let ok = c.secret_sha256.len() == 64
                && c.secret_sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                return Err(format!(
                    "{at}: pact client {:?}: secret_sha256 must be 64 hex digits (printf %s SECRET | sha256sum)",
                    c.id
                ));
            }
            if c.companies.is_empty() {
                return Err(format!(
                    "{at}: pact client {:?}: companies = [\"urn:…\"] (or [\"*\"] for every company) is required",
                    c.id
                ));
            }
        }
        for p in &self.partners {
            p.validate(at)?;
        }
        Ok(())
    }
}

/// Access tokens handed out, by token.
#[derive(Default)]
pub(crate) struct Tokens {
    pub(crate) by_token: std::sync::Mutex<HashMap<String, Issued>>,
    /// Failed authentications, for the backoff.
    pub(crate) failures: Failures,
}

/// Failed client authentications at the token endpoint, by where they come from (the
/// client's address). The first [`Failures::FREE`] in a row cost nothing; after them every
/// attempt from that address, right or wrong, waits out a delay that doubles with each
/// further failure, up to [`Failures::MAX_SECONDS`]. A success clears the count. Guessing a
/// secret thus runs at a few attempts per several minutes instead of hundreds per second,
/// while a partner who mistyped a secret a few times is not held up.
#[derive(Default)]
pub(crate) struct Failures {
    by_source: std::sync::Mutex<HashMap<String, Strikes>>,
}

struct Strikes {
    count: u32,
    until: Instant,
}

impl Failures {
    /// Failures in a row that cost nothing.
    pub(crate) const FREE: u32 = 5;
    /// The longest wait.
    pub(crate) const MAX_SECONDS: u64 = 300;
    /// Sources remembered before the ones whose wait is over are forgotten.
    const KEPT: usize = 10_000;

    /// `Err(seconds)` when `source` must wait that long before its next attempt.
    pub(crate) fn check(&self, source: &str, now: Instant) -> Result<(), u64> {
        let by = self.by_source.lock().map_err(|_| 1u64)?;
        match by.get(source) {
            Some(s) if s.until > now => Err((s.until - now).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Counts a failure from `source`; returns the wait it now has, in seconds (0: none).
    pub(crate) fn failed(&self, source: &str, now: Instant) -> u64 {
        let Ok(mut by) = self.by_source.lock() else {
            return 0;
        };
        if by.len() >= Self::KEPT && !by.contains_key(source) {
            by.retain(|_, s| s.until > now);
        }
        let s = by.entry(source.to_owned()).or_insert(Strikes {
            count: 0,
            until: now,
        });
        s.count = s.count.saturating_add(1);
        let wait = match s.count.checked_sub(Self::FREE) {
            None | Some(0) => 0,
            Some(n) => 1u64
                .checked_shl(n - 1)
                .unwrap_or(u64::MAX)
                .min(Self::MAX_SECONDS),
        };
        s.until = now + std::time::Duration::from_secs(wait);
        wait
    }

    /// Clears the count of `source`.
    pub(crate) fn succeeded(&self, source: &str) {
        if let Ok(mut by) = self.by_source.lock() {
            by.remove(source);
        }
    }
}

#[derive(Clone)]
pub(crate) struct Issued {
    pub(crate) client: String,
    pub(crate) expires: Instant,
}

/// A PACT error: `{code, message}` with its status.
#[derive(Debug)]
pub struct PactError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl PactError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> PactError {
        PactError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> PactError {
        PactError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// A footprint that does not exist (or is not shared with the client): 404, with the
    /// code of the API version asked — v2 `NoSuchFootprint`, v3 `NotFound` (PACT v3 OpenAPI,
    /// `Error.code`: "NotFound # 404 NoSuchFootprint").
    pub(crate) fn not_found(id: &str, major: u8) -> PactError {
        PactError::new(
            StatusCode::NOT_FOUND,
            if major == 2 {
                "NoSuchFootprint"
            } else {
                "NotFound"
            },
            format!("the requested footprint {id} could not be found"),
        )
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> PactError {
        tracing::error!("pact: internal error: {e}");
        PactError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "an internal error occurred",
        )
    }
}

impl IntoResponse for PactError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(json!({"code": self.code, "message": self.message})),
        )
            .into_response()
    }
}

/// An OAuth2 error (RFC 6749 §5.2).
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut r = (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"pact\""),
        );
    }
    r
}

pub(crate) fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One served footprint: what listing needs of it, from the table's columns; the document
/// itself stays in the data directory until a page shows it.
#[derive(Debug)]
pub(crate) struct Doc {
    pub(crate) id: String,
    pub(crate) major: u8,
    /// `companyIds` and `productIds` as stored (as received).
    pub(crate) companies: Vec<String>,
    pub(crate) products: Vec<String>,
    /// `pcf.geographyRegionOrSubregion`, `pcf.geographyCountry`,
    /// `pcf.geographyCountrySubdivision` and `status`, as stored.
    pub(crate) region: Option<Box<str>>,
    pub(crate) country: Option<Box<str>>,
    pub(crate) subdivision: Option<Box<str>>,
    pub(crate) status: Box<str>,
    /// `(batch, row)` in the `footprints` table.
    pub(crate) at: (usize, usize),
}

/// The latest version of every footprint id, in (created, id) order. Built from columns
/// (no document is parsed: a million footprints list in seconds, in a few hundred MiB);
/// documents are read as pages show them, and parsed only to match a filter.
#[derive(Debug, Default)]
pub(crate) struct Docs {
    pub(crate) docs: Vec<Doc>,
    pub(crate) tables: crate::table::Tables,
    /// (id, major) of the footprints already logged as left out of a version.
    left_out: std::sync::Mutex<std::collections::HashSet<(String, u8)>>,
}

impl Docs {
    /// Builds the list from the stored `footprints` batches.
    pub(crate) fn build(tables: &crate::table::Tables) -> crate::Result<Docs> {
        use datafusion::arrow::array::{Array, AsArray};
        use datafusion::arrow::datatypes::{Int32Type, TimestampMicrosecondType};
        let internal = |what: &str| crate::Error::Internal(format!("footprints.{what}"));
        // The latest version of each id: (version, created, (batch, row)).
        let mut latest: HashMap<String, (i64, i64, (usize, usize))> = HashMap::new();
        for (bi, b) in tables.footprints.iter().enumerate() {
            let col = |name: &str| b.column_by_name(name).ok_or_else(|| internal(name));
            let ids = col("id")?
                .as_string_opt::<i32>()
                .ok_or_else(|| internal("id is not text"))?;
            let versions = col("version")?
                .as_primitive_opt::<Int32Type>()
                .ok_or_else(|| internal("version is not Int32"))?;
            let created = col("created")?
                .as_primitive_opt::<TimestampMicrosecondType>()
                .ok_or_else(|| internal("created is not a timestamp"))?;
            for r in 0..b.num_rows() {
                // v3 footprints carry no version: each id is then one footprint.
                let version = if versions.is_null(r) {
                    -1
                } else {
                    i64::from(versions.value(r))
                };
                let id = ids.value(r).to_ascii_lowercase();
                let newer = latest.get(&id).is_none_or(|(v, _, _)| version > *v);
                if newer {
                    latest.insert(id, (version, created.value(r), (bi, r)));
                }
            }
        }
        // Spec version and ids, for the rows kept only.
        let doc = |id: String, (bi, r): (usize, usize)| -> crate::Result<Doc> {
            let b = &tables.footprints[bi];
            let col = |name: &str| b.column_by_name(name).ok_or_else(|| internal(name));
            let major = col("spec_version")?
                .as_string_opt::<i32>()
                .ok_or_else(|| internal("spec_version is not text"))?
                .value(r)
                .split('.')
                .next()
                .and_then(|m| m.parse().ok())
                .unwrap_or(2);
            let ids = |name: &str| -> crate::Result<Vec<String>> {
                let list = col(name)?
                    .as_list_opt::<i32>()
                    .ok_or_else(|| internal(name))?
                    .value(r);
                let names = list.as_string_opt::<i32>().ok_or_else(|| internal(name))?;
                Ok(names.iter().flatten().map(str::to_owned).collect())
            };
            let text = |name: &str| -> crate::Result<Option<Box<str>>> {
                let c = col(name)?
                    .as_string_opt::<i32>()
                    .ok_or_else(|| internal(name))?;
                Ok((!c.is_null(r)).then(|| c.value(r).into()))
            };
            Ok(Doc {
                id,
                major,
                companies: ids("company_ids")?,
                products: ids("product_ids")?,
                region: text("geography_region_or_subregion")?,
                country: text("geography_country")?,
                subdivision: text("geography_country_subdivision")?,
                status: text("status")?.unwrap_or_default(),
                at: (bi, r),
            })
        };
        let mut docs = latest
            .into_iter()
            .map(|(id, (_, created, at))| Ok((created, doc(id, at)?)))
            .collect::<crate::Result<Vec<(i64, Doc)>>>()?;
        docs.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        Ok(Docs {
            docs: docs.into_iter().map(|(_, d)| d).collect(),
            tables: tables.clone(),
            left_out: Default::default(),
        })
    }

    /// The document of `d` as PACT major version `major` serves it: as received when it was
    /// received in that version, else converted (`pact::convert`); [`Served::LeftOut`] with
    /// the reason when it cannot be given in `major` faithfully (logged the first time).
    pub(crate) fn served(
        &self,
        reader: &mut crate::table::DocumentReader<'_>,
        d: &Doc,
        major: u8,
    ) -> crate::Result<Served> {
        match self.given(reader, d, major)? {
            Given::Received(bytes) => Ok(Served::Doc(raw_document(d, bytes)?)),
            Given::Converted(doc) => Ok(Served::Doc(converted_raw(d, &doc)?)),
            Given::LeftOut(why) => Ok(Served::LeftOut(why)),
        }
    }

    /// [`Docs::served`] before it is made text: the bytes as received, or the converted
    /// document as a value (a filter reads it without parsing it again).
    fn given(
        &self,
        reader: &mut crate::table::DocumentReader<'_>,
        d: &Doc,
        major: u8,
    ) -> crate::Result<Given> {
        let bytes = reader.footprint(d.at.0, d.at.1)?;
        if d.major == major {
            return Ok(Given::Received(bytes));
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| not_json(d, e))?;
        let converted = super::convert::convert(&value, major);
        if let Some(doc) = converted.document {
            return Ok(Given::Converted(doc));
        }
        let why = converted.blockers.join("; ");
        let first = self
            .left_out
            .lock()
            .is_ok_and(|mut l| l.insert((d.id.clone(), major)));
        if first {
            tracing::warn!(
                footprint = %d.id,
                "pact: left out of /{major}/: received as PACT v{}, it cannot be given as v{major}: {why}",
                d.major
            );
        }
        Ok(Given::LeftOut(why))
    }

    /// The footprint `id` (lower case) that `client` may see, in either version.
    pub(crate) fn find(&self, client: &PactClient, id: &str) -> Option<&Doc> {
        self.docs.iter().find(|d| d.id == id && visible(client, d))
    }

    /// A page of what `client` sees under `/{major}/`: the footprints received in either
    /// version, in list order, from the `offset`-th candidate (a footprint `client` may see
    /// and whose stored fields `may` match; every one it may see without `may`), each given
    /// in `major` and kept when `keep` accepts it as given. A footprint that cannot be given
    /// in `major` is left out. Stops after `limit` documents; `next` is the candidate to go
    /// on from, if any is left.
    pub(crate) fn page(
        &self,
        client: &PactClient,
        major: u8,
        keep: Option<&dyn Fn(&Value) -> bool>,
        may: Option<&dyn Fn(&Doc) -> bool>,
        offset: usize,
        limit: Option<usize>,
    ) -> crate::Result<Page> {
        let mut candidates = candidates(&self.docs, client, may, offset).peekable();
        let mut reader = self.tables.documents();
        let mut page = Page::default();
        // Footprints found unconvertible before are skipped unread.
        let known_left_out = |d: &Doc| {
            d.major != major
                && self
                    .left_out
                    .lock()
                    .is_ok_and(|l| l.contains(&(d.id.clone(), major)))
        };
        while let Some((_, d)) = candidates.next() {
            if known_left_out(d) {
                continue;
            }
            // Each document is parsed at most once: to convert it, or for the filter.
            let raw = match self.given(&mut reader, d, major)? {
                Given::LeftOut(_) => continue,
                Given::Converted(doc) => {
                    if keep.is_some_and(|keep| !keep(&doc)) {
                        continue;
                    }
                    converted_raw(d, &doc)?
                }
                Given::Received(bytes) => {
                    if let Some(keep) = keep {
                        let value: Value =
                            serde_json::from_slice(&bytes).map_err(|e| not_json(d, e))?;
                        if !keep(&value) {
                            continue;
                        }
                    }
                    raw_document(d, bytes)?
                }
            };
            page.docs.push(raw);
            if limit.is_some_and(|l| page.docs.len() >= l) {
                page.next = candidates.peek().map(|(i, _)| *i);
                break;
            }
        }
        Ok(page)
    }
}

/// The candidates of a list from the `offset`-th on, each with its place in the list (see
/// [`Docs::page`]). A client that sees every company, asking for every footprint, has every
/// footprint as a candidate: its page starts at its offset at once. Otherwise each footprint
/// before the offset is tested (at a million footprints, a page at the end of the list took
/// 25 ms so).
fn candidates<'d>(
    docs: &'d [Doc],
    client: &'d PactClient,
    may: Option<&'d dyn Fn(&Doc) -> bool>,
    offset: usize,
) -> Box<dyn Iterator<Item = (usize, &'d Doc)> + 'd> {
    let every = may.is_none() && client.companies.iter().any(|c| c == "*");
    let all = docs.iter();
    if every {
        return Box::new(all.enumerate().skip(offset));
    }
    Box::new(
        all.filter(move |d| visible(client, d) && may.is_none_or(|may| may(d)))
            .enumerate()
            .skip(offset),
    )
}

/// A footprint as a version serves it.
pub(crate) enum Served {
    /// The document to send.
    Doc(Box<RawValue>),
    /// Why it cannot be given in the version asked for.
    LeftOut(String),
}

/// Footprints of a list answer.
#[derive(Default)]
pub(crate) struct Page {
    pub(crate) docs: Vec<Box<RawValue>>,
    /// The candidate the next page starts from.
    pub(crate) next: Option<usize>,
}

pub(crate) fn visible(client: &PactClient, doc: &Doc) -> bool {
    client
        .companies
        .iter()
        .any(|c| c == "*" || doc.companies.iter().any(|d| d.eq_ignore_ascii_case(c)))
}

/// A filter on a parsed document.
pub(crate) type Keep<'a> = Box<dyn Fn(&Value) -> bool + 'a>;

/// What a list request filters on.
pub(crate) enum Criteria {
    /// v2: an OData `$filter`, if any.
    V2(Option<Filter>),
    /// v3: the query criteria.
    V3(V3Criteria),
}

impl Doc {
    /// The fields of a footprint a v2 `$filter` can be decided on without its document.
    pub(crate) const FIELDS: [&str; 6] = [
        "productIds",
        "companyIds",
        "pcf/geographyRegionOrSubregion",
        "pcf/geographyCountry",
        "pcf/geographyCountrySubdivision",
        "status",
    ];

    /// The stored value of `field`, one of [`Doc::FIELDS`] (`None` for any other).
    pub(crate) fn field(&self, field: &str) -> Option<Known<'_>> {
        Some(match field {
            "productIds" => Known::Array(&self.products),
            "companyIds" => Known::Array(&self.companies),
            "pcf/geographyRegionOrSubregion" => Known::Text(self.region.as_deref()),
            "pcf/geographyCountry" => Known::Text(self.country.as_deref()),
            "pcf/geographyCountrySubdivision" => Known::Text(self.subdivision.as_deref()),
            "status" => Known::Text(Some(&self.status)),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_authentications_wait_longer_each_time() {
        let f = Failures::default();
        let t0 = Instant::now();
        let waits: Vec<u64> = (0..16).map(|_| f.failed("10.0.0.1", t0)).collect();
        // Five free, then 1, 2, 4, … seconds, capped at five minutes.
        assert_eq!(
            waits,
            [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
        );
        assert_eq!(f.check("10.0.0.1", t0), Err(300));
        assert_eq!(
            f.check("10.0.0.1", t0 + std::time::Duration::from_secs(299)),
            Err(1)
        );
        assert_eq!(
            f.check("10.0.0.1", t0 + std::time::Duration::from_secs(300)),
            Ok(())
        );
        assert_eq!(f.check("10.0.0.2", t0), Ok(()), "another address waits not");
        f.succeeded("10.0.0.1");
        assert_eq!(f.check("10.0.0.1", t0), Ok(()));
        assert_eq!(
            f.failed("10.0.0.1", t0),
            0,
            "a success starts the count again"
        );
    }

    #[test]
    fn every_stored_field_has_a_value() {
        let d = Doc {
            id: "x".into(),
            major: 2,
            companies: Vec::new(),
            products: Vec::new(),
            region: None,
            country: None,
            subdivision: None,
            status: "Active".into(),
            at: (0, 0),
        };
        for f in Doc::FIELDS {
            assert!(d.field(f).is_some(), "{f}");
        }
        assert!(d.field("pcf/referencePeriodStart").is_none());
    }

    #[test]
    fn a_client_of_every_company_has_the_same_pages_without_testing_each_footprint() {
        let doc = |id: &str, company: &str, status: &str| Doc {
            id: id.into(),
            major: 2,
            companies: vec![company.into()],
            products: Vec::new(),
            region: None,
            country: None,
            subdivision: None,
            status: status.into(),
            at: (0, 0),
        };
        let docs = [
            doc("a", "urn:c:1", "Active"),
            doc("b", "urn:c:2", "Deprecated"),
            doc("c", "urn:c:1", "Active"),
            doc("d", "urn:c:3", "Active"),
        ];
        let client = |companies: &[&str]| PactClient {
            id: "x".into(),
            secret_sha256: String::new(),
            companies: companies.iter().map(|c| (*c).to_owned()).collect(),
            callback: None,
        };
        let places = |client: &PactClient, may: Option<&dyn Fn(&Doc) -> bool>, offset| {
            candidates(&docs, client, may, offset)
                .map(|(i, d)| (i, d.id.clone()))
                .collect::<Vec<_>>()
        };
        let every = client(&["*"]);
        let always: &dyn Fn(&Doc) -> bool = &|_| true;
        for offset in 0..6 {
            // The same candidates, at the same places, as when each is tested.
            assert_eq!(
                places(&every, None, offset),
                places(&every, Some(always), offset),
                "offset {offset}"
            );
        }
        let ids = |v: Vec<(usize, String)>| v.into_iter().map(|(_, id)| id).collect::<Vec<_>>();
        assert_eq!(ids(places(&every, None, 1)), ["b", "c", "d"]);
        // A client of some companies, or a filter: only what they let through, counted so.
        assert_eq!(
            places(&client(&["urn:c:1"]), None, 1),
            [(1, "c".to_owned())]
        );
        let active: &dyn Fn(&Doc) -> bool = &|d| &*d.status == "Active";
        assert_eq!(ids(places(&every, Some(active), 1)), ["c", "d"]);
    }

    #[test]
    fn percent_round_trip() {
        let s = "(pcf/geographyCountry eq 'DE') and x=1&y";
        assert_eq!(percent_decode(&percent_encode(s)), s);
        assert_eq!(percent_decode("a+b%20c"), "a b c");
    }
}
