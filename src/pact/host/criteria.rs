//! The v3 list criteria (`productId`, `companyId`, `geography`, `classification`, the
//! validity dates, `status`) and the validity period they are tested on.

use serde_json::Value;

use super::{Doc, PactError};

/// The criteria of a v3 list request (ids and places in lower case).
#[derive(Default)]
pub(crate) struct V3Criteria {
    pub(crate) product_ids: Vec<String>,
    pub(crate) company_ids: Vec<String>,
    pub(crate) geography: Vec<String>,
    pub(crate) classification: Vec<String>,
    pub(crate) valid_on: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub(crate) valid_after: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub(crate) valid_before: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub(crate) status: Option<String>,
}

fn date_param(v: &str, name: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, PactError> {
    chrono::DateTime::parse_from_rfc3339(v).map_err(|_| {
        PactError::bad_request(format!("{name} must be an RFC 3339 date-time, got {v:?}"))
    })
}

impl V3Criteria {
    /// Whether no criterion was given: every footprint matches.
    pub(crate) fn is_everything(&self) -> bool {
        self.decided_by_stored()
            && self.product_ids.is_empty()
            && self.company_ids.is_empty()
            && self.geography.is_empty()
            && self.status.is_none()
    }

    /// Whether [`V3Criteria::may_match`] is the whole answer: no criterion on a field the
    /// list does not keep (classification, validity dates).
    pub(crate) fn decided_by_stored(&self) -> bool {
        self.classification.is_empty()
            && self.valid_on.is_none()
            && self.valid_after.is_none()
            && self.valid_before.is_none()
    }

    pub(crate) fn parse(pairs: &[(String, String)]) -> Result<V3Criteria, PactError> {
        let mut c = V3Criteria::default();
        for (k, v) in pairs {
            match k.to_ascii_lowercase().as_str() {
                "productid" => c.product_ids.push(v.to_ascii_lowercase()),
                "companyid" => c.company_ids.push(v.to_ascii_lowercase()),
                "geography" => c.geography.push(v.to_ascii_lowercase()),
                "classification" => c.classification.push(v.to_ascii_lowercase()),
                "validon" => c.valid_on = Some(date_param(v, "validOn")?),
                "validafter" => c.valid_after = Some(date_param(v, "validAfter")?),
                "validbefore" => c.valid_before = Some(date_param(v, "validBefore")?),
                // Any other value than Active or Deprecated is kept: it matches no footprint,
                // so the answer is an empty list, as interoperating hosts give it.
                "status" => c.status = Some(v.to_ascii_lowercase()),
                "limit" | "offset" | "dataset" => {}
                other if other.starts_with("x-") => {}
                other => {
                    return Err(PactError::bad_request(format!(
                        "unknown query parameter {other:?}"
                    )));
                }
            }
        }
        Ok(c)
    }

    /// Whether `d` may match, from its stored ids alone (a necessary condition of
    /// [`V3Criteria::matches`]).
    pub(crate) fn may_match(&self, d: &Doc) -> bool {
        let any_of = |wanted: &[String], have: &[String]| {
            wanted.is_empty()
                || have
                    .iter()
                    .any(|h| wanted.iter().any(|w| w.eq_ignore_ascii_case(h)))
        };
        let geography = [&d.region, &d.country, &d.subdivision];
        let in_geography = self.geography.is_empty()
            || geography
                .iter()
                .filter_map(|g| g.as_deref())
                .any(|g| self.geography.iter().any(|w| w.eq_ignore_ascii_case(g)));
        let status = self
            .status
            .as_ref()
            .is_none_or(|s| s.eq_ignore_ascii_case(&d.status));
        any_of(&self.product_ids, &d.products)
            && any_of(&self.company_ids, &d.companies)
            && in_geography
            && status
    }

    pub(crate) fn matches(&self, doc: &Value) -> bool {
        let lower_list = |key: &str| -> Vec<String> {
            doc[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_ascii_lowercase))
                        .collect()
                })
                .unwrap_or_default()
        };
        let any_of = |wanted: &[String], have: &[String]| {
            wanted.is_empty() || wanted.iter().any(|w| have.contains(w))
        };
        if !any_of(&self.product_ids, &lower_list("productIds"))
            || !any_of(&self.company_ids, &lower_list("companyIds"))
            || !any_of(&self.classification, &lower_list("productClassifications"))
        {
            return false;
        }
        let pcf = &doc["pcf"];
        let geo: Vec<String> = [
            "geographyRegionOrSubregion",
            "geographyCountry",
            "geographyCountrySubdivision",
        ]
        .iter()
        .filter_map(|k| pcf[*k].as_str().map(str::to_ascii_lowercase))
        .collect();
        if !any_of(&self.geography, &geo) {
            return false;
        }
        if let Some(s) = &self.status
            && doc["status"].as_str().map(str::to_ascii_lowercase).as_ref() != Some(s)
        {
            return false;
        }
        if self.valid_on.is_some() || self.valid_after.is_some() || self.valid_before.is_some() {
            let Some((start, end)) = validity(doc) else {
                return false;
            };
            if self.valid_on.is_some_and(|t| !(start <= t && t <= end))
                || self.valid_after.is_some_and(|t| start <= t)
                || self.valid_before.is_some_and(|t| end >= t)
            {
                return false;
            }
        }
        true
    }
}

/// The validity period of a v3 footprint: as given, else three years from the reference
/// period's end (PACT v3 §validity-period).
fn validity(
    doc: &Value,
) -> Option<(
    chrono::DateTime<chrono::FixedOffset>,
    chrono::DateTime<chrono::FixedOffset>,
)> {
    let at = |v: &Value| {
        v.as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    };
    let start = at(&doc["validityPeriodStart"]);
    let end = at(&doc["validityPeriodEnd"]);
    match (start, end) {
        (Some(s), Some(e)) => Some((s, e)),
        _ => {
            let ref_end = at(&doc["pcf"]["referencePeriodEnd"])?;
            let three_years = ref_end.checked_add_months(chrono::Months::new(36))?;
            Some((start.unwrap_or(ref_end), end.unwrap_or(three_years)))
        }
    }
}
