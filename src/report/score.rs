//! The score and ranking views as the CLI and the API show them: a session's scored products
//! (optionally of one category) and the catalog's supplier ranking.

use crate::query::{Catalog, Output, Session};
use crate::score;
use crate::{Error, Result};

/// The products of `session` (optionally those whose CPC code starts with `category`) and
/// their scores under the session's profile.
pub fn scored(session: &Session, category: Option<&str>) -> Result<(score::Inputs, score::Scores)> {
    let all = session.scores()?;
    Ok(match category.filter(|c| !c.is_empty()) {
        Some(c) => {
            let inputs = all.0.clone().filter_category(c);
            let scores = score::score(session.profile(), &inputs);
            (inputs, scores)
        }
        None => (all.0.clone(), all.1.clone()),
    })
}

/// The supplier ranking (`ranking/suppliers`) within `category`, by `by` (`score`,
/// `intensity`, `reduction` or `pds`), with a buyer `product`'s contributions when given.
pub async fn rank(
    session: &Session,
    category: Option<&str>,
    by: &str,
    product: Option<&str>,
) -> Result<Output> {
    if !["score", "intensity", "reduction", "pds"].contains(&by) {
        return Err(Error::Usage(format!(
            "rank by {by:?}: expected score, intensity, reduction or pds"
        )));
    }
    let catalog = Catalog::embedded()?;
    let args = vec![
        (
            "category".to_owned(),
            category.unwrap_or_default().to_owned(),
        ),
        ("by".to_owned(), by.to_owned()),
        ("product".to_owned(), product.unwrap_or_default().to_owned()),
    ];
    session.run(catalog.get("ranking/suppliers")?, &args).await
}
