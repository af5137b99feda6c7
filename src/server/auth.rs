//! Who is asking: tokens, roles and the one place that decides what a request may do.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{ApiError, AppState};

/// A role of the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, writes included.
    Admin,
    /// Read everything, and ad-hoc SQL.
    Analyst,
    /// Read the rows of its own companies only.
    Supplier,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No token: reads everything when the server has no config, nothing when it has one.
    Anonymous,
    /// A token sent to a server without a config: reads like [`Principal::Anonymous`], but
    /// writes answer 403 (the token exists; no role can be proven), not 401.
    Unconfigured,
    /// A token holder.
    Token {
        /// The name of the token in the config.
        name: String,
        /// Its role.
        role: Role,
        /// A supplier's companies.
        companies: Vec<String>,
    },
}

impl Principal {
    /// The companies a supplier is restricted to, or `None` for full access.
    pub fn companies(&self) -> Option<&[String]> {
        match self {
            Principal::Token {
                role: Role::Supplier,
                companies,
                ..
            } => Some(companies),
            _ => None,
        }
    }

    fn role(&self) -> Option<Role> {
        match self {
            Principal::Anonymous | Principal::Unconfigured => None,
            Principal::Token { role, .. } => Some(*role),
        }
    }

    /// Refuses unless the principal holds one of `roles`: 401 without a token, 403 with
    /// one that lacks the role.
    pub fn require(&self, roles: &[Role], what: &str) -> Result<(), ApiError> {
        if *self == Principal::Unconfigured {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "{what} needs a role, and this server has no config to grant one: start it with --config"
                ),
            ));
        }
        match self.role() {
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!("{what} needs a token (Authorization: Bearer …)"),
            )),
            Some(r) if roles.contains(&r) => Ok(()),
            Some(_) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "{what} needs the role {}",
                    roles
                        .iter()
                        .map(|r| format!("{r:?}").to_ascii_lowercase())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            )),
        }
    }
}

/// Hex SHA-256 of a token, as the config stores it.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The credentials of an `Authorization` header with `scheme` (`Bearer`, `Basic`): the
/// scheme is matched without regard to case, as RFC 9110 §11.1 says.
pub(crate) fn credentials<'h>(headers: &'h HeaderMap, scheme: &str) -> Option<&'h str> {
    let v = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim_start();
    let (given, rest) = v.split_once(' ')?;
    given
        .eq_ignore_ascii_case(scheme)
        .then(|| rest.trim())
        .filter(|c| !c.is_empty())
}

fn token_of(parts: &Parts) -> Option<String> {
    if let Some(t) = credentials(&parts.headers, "Bearer") {
        return Some(t.to_owned());
    }
    let cookies = parts.headers.get(header::COOKIE)?.to_str().ok()?;
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == "mieruka_token")
        .map(|(_, v)| v.to_owned())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = token_of(parts);
        let Some(config) = &state.0.config else {
            // Without a config there are no tokens: every request reads anonymously.
            return Ok(match token {
                Some(_) => Principal::Unconfigured,
                None => Principal::Anonymous,
            });
        };
        let Some(token) = token else {
            return Ok(Principal::Anonymous);
        };
        let hash = hash_token(&token);
        config
            .tokens
            .iter()
            .find(|t| t.sha256.eq_ignore_ascii_case(&hash))
            .map(|t| Principal::Token {
                name: t.name.clone(),
                role: t.role,
                companies: t.companies.clone(),
            })
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unknown token"))
    }
}

/// A reader: anyone without a config; with a config, any valid token.
pub(crate) fn require_reader(state: &AppState, p: &Principal) -> Result<(), ApiError> {
    match (&state.0.config, p) {
        (None, _) | (Some(_), Principal::Token { .. }) => Ok(()),
        (Some(_), Principal::Anonymous | Principal::Unconfigured) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this server needs a token (Authorization: Bearer …, or /login?token=…)",
        )),
    }
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    token: String,
}

/// `GET /login?token=…`: sets the token as an HttpOnly cookie for the dashboards.
pub(crate) async fn login(
    axum::extract::State(state): axum::extract::State<AppState>,
    Query(q): Query<LoginQuery>,
) -> Response {
    let known = state.0.config.as_ref().is_some_and(|c| {
        c.tokens
            .iter()
            .any(|t| t.sha256.eq_ignore_ascii_case(&hash_token(&q.token)))
    });
    if !known {
        return ApiError::new(StatusCode::UNAUTHORIZED, "unknown token").into_response();
    }
    let cookie = format!(
        "mieruka_token={}; HttpOnly; SameSite=Strict; Path=/",
        q.token.replace([';', ' ', ','], "")
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}
