//! `GET /openapi.json`: every route, with its parameters and responses.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AppState;

fn param(name: &str, description: &str, required: bool, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": description, "schema": schema})
}

fn text() -> Value {
    json!({"type": "string"})
}

fn errors() -> Value {
    json!({
        "400": {"description": "Bad parameters", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "401": {"description": "A token is needed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "403": {"description": "The token lacks the role", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "404": {"description": "No such thing", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    })
}

fn with_errors(ok: Value) -> Value {
    let mut r = errors();
    r["200"] = ok;
    r
}

/// The OpenAPI document, including one path per catalog query.
pub(crate) async fn openapi(State(state): State<AppState>) -> Json<Value> {
    let html = json!({"description": "HTML page", "content": {"text/html": {}}});
    let json_any = json!({"description": "JSON", "content": {"application/json": {}}});
    let table = json!({"description": "Rows: JSON (an array of objects, decimals as strings), CSV, Arrow IPC stream or Parquet, by format= or Accept", "content": {
        "application/json": {}, "text/csv": {}, "application/vnd.apache.arrow.stream": {}, "application/vnd.apache.parquet": {}}});
    let format = param(
        "format",
        "json, csv, arrow or parquet (else the Accept header; default json)",
        false,
        json!({"type": "string", "enum": ["json", "csv", "arrow", "parquet"]}),
    );
    let lang = param(
        "lang",
        "ja or en; kept in a cookie (default: the cookie, else Accept-Language, else en)",
        false,
        json!({"type": "string", "enum": ["ja", "en"]}),
    );
    let mut paths = serde_json::Map::new();
    paths.insert("/".into(), json!({"get": {"summary": "Index: the dataset and the dashboards", "parameters": [lang.clone()], "responses": with_errors(html.clone())}}));
    paths.insert("/dashboards/{id}".into(), json!({"get": {"summary": "A dashboard: parameter form, charts as inline SVG, tables", "parameters": [
        {"name": "id", "in": "path", "required": true, "schema": text()}, lang.clone()], "responses": with_errors(html.clone())}}));
    paths.insert("/dashboards/profile".into(), json!({
        "get": {"summary": "The profile editor: the active scoring profile as a form; action=preview shows the sheet and every product's score and rank with the edit (422 with the reasons when it is not a valid profile), action=toml downloads it. Fields: name, w.<key>, kind.<key>, a.<key>, b.<key>, o<i>.prefix|key|kind|a|b, category",
            "parameters": [lang.clone(), param("action", "preview or toml", false, json!({"type": "string", "enum": ["preview", "toml"]}))],
            "responses": with_errors(html.clone())},
        "post": {"summary": "Saves the form's profile in the data directory as save_as (admin; 409 on the read-only demo); then 303 to the editor",
            "requestBody": {"content": {"application/x-www-form-urlencoded": {}}},
            "responses": {"303": {"description": "Saved"}, "400": {"description": "Not a profile name"}, "403": {"description": "Not an admin"}, "409": {"description": "No data directory"}, "422": {"description": "Not a valid profile"}}}
    }));
    paths.insert("/charts/{dashboard}/{panel}.{ext}".into(), json!({"get": {"summary": "One chart of a dashboard as SVG or PNG; the dashboard's parameters as query parameters", "parameters": [
        {"name": "dashboard", "in": "path", "required": true, "schema": text()},
        {"name": "panel", "in": "path", "required": true, "schema": {"type": "integer"}},
        {"name": "ext", "in": "path", "required": true, "schema": {"type": "string", "enum": ["svg", "png"]}}, lang],
        "responses": with_errors(json!({"description": "The chart", "content": {"image/svg+xml": {}, "image/png": {}}}))}}));
    paths.insert("/assets/mplus1-regular.otf".into(), json!({"get": {"summary": "The charts' bundled font (M+ 1, SIL OFL 1.1)", "responses": {"200": {"description": "OpenType font", "content": {"font/otf": {}}}}}}));
    paths.insert("/healthz".into(), json!({"get": {"summary": "Liveness", "responses": {"200": {"description": "ok", "content": {"text/plain": {}}}}}}));
    paths.insert(
        "/openapi.json".into(),
        json!({"get": {"summary": "This document", "responses": {"200": json_any.clone()}}}),
    );
    paths.insert("/login".into(), json!({"get": {"summary": "Keeps a token in a cookie for the dashboards", "parameters": [param("token", "An API token", true, text())],
        "responses": {"303": {"description": "To the index, with the cookie set"}, "401": {"description": "Unknown token"}}}}));
    // The PACT host (PACT v2.3.3 and v3.0.3 OpenAPI; errors are `{code, message}`).
    let pact_error = json!({"description": "PACT error", "content": {"application/json": {"schema": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string", "enum": ["BadRequest", "AccessDenied", "TokenExpired", "NoSuchFootprint", "NotFound", "NotImplemented", "InternalError"]}, "message": {"type": "string"}}}}}});
    let pact_errors = |ok: Value| json!({"200": ok, "400": pact_error, "401": pact_error, "403": pact_error, "404": pact_error, "500": pact_error});
    let pf_list = json!({"description": "Footprints as received, or converted from the other PACT version (`mieruka footprints --explain-conversion`); `Link: <…>; rel=\"next\"` when more remain", "content": {"application/json": {}}});
    let pf_one =
        json!({"description": "`{\"data\": footprint}`", "content": {"application/json": {}}});
    paths.insert("/auth/token".into(), json!({"post": {"summary": "PACT: OAuth2 client credentials (HTTP Basic; form grant_type=client_credentials)",
        "responses": {"200": {"description": "access_token, token_type, expires_in"}, "400": {"description": "RFC 6749 error: invalid_request, invalid_client, unsupported_grant_type"}, "401": {"description": "invalid_client: no credentials"}}}}));
    paths.insert("/.well-known/openid-configuration".into(), json!({"get": {"summary": "PACT: discovery (token_endpoint)", "responses": {"200": json_any.clone()}}}));
    paths.insert("/2/footprints".into(), json!({"get": {"summary": "PACT v2 ListFootprints", "parameters": [
        param("limit", "Most footprints per page", false, json!({"type": "integer", "minimum": 0})),
        param("$filter", "The PACT v2 OData subset: eq ne lt le gt ge, and, productIds/any(…), companyIds/any(…)", false, text())],
        "responses": pact_errors(pf_list.clone())}}));
    paths.insert("/2/footprints/{id}".into(), json!({"get": {"summary": "PACT v2 GetFootprint", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}], "responses": pact_errors(pf_one.clone())}}));
    paths.insert("/2/events".into(), json!({"post": {"summary": "PACT v2 events (CloudEvents)", "responses": pact_errors(json!({"description": "Accepted"}))}}));
    paths.insert(
        "/3/footprints".into(),
        json!({"get": {"summary": "PACT v3 ListFootprints", "parameters": [
        param("limit", "Most footprints per page", false, json!({"type": "integer", "minimum": 0})),
        param("productId", "Repeatable; case-insensitive", false, text()),
        param("companyId", "Repeatable; case-insensitive", false, text()),
        param("geography", "Repeatable: region, country or subdivision", false, text()),
        param("classification", "Repeatable", false, text()),
        param("validOn", "RFC 3339", false, text()),
        param("validAfter", "RFC 3339", false, text()),
        param("validBefore", "RFC 3339", false, text()),
        param("status", "Active or Deprecated", false, text())],
        "responses": pact_errors(pf_list)}}),
    );
    paths.insert("/3/footprints/{id}".into(), json!({"get": {"summary": "PACT v3 GetFootprint", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}], "responses": pact_errors(pf_one)}}));
    paths.insert("/3/events".into(), json!({"post": {"summary": "PACT v3 events (CloudEvents)", "responses": pact_errors(json!({"description": "Accepted"}))}}));
    paths.insert("/api/queries".into(), json!({"get": {"summary": "The query catalog", "responses": with_errors(json_any.clone())}}));
    for q in state.0.catalog.iter() {
        let mut params: Vec<Value> = q
            .params
            .iter()
            .map(|p| {
                let ty = match p.ty {
                    crate::query::ParamType::Int => json!({"type": "integer"}),
                    crate::query::ParamType::Float | crate::query::ParamType::Decimal => {
                        json!({"type": "number"})
                    }
                    crate::query::ParamType::Bool => json!({"type": "boolean"}),
                    crate::query::ParamType::Date => json!({"type": "string", "format": "date"}),
                    crate::query::ParamType::Text => json!({"type": "string"}),
                };
                let mut v = param(&p.name, &p.description, p.default.is_none(), ty);
                if !p.choices.is_empty() {
                    v["schema"]["enum"] = json!(p.choices);
                }
                if let Some(d) = &p.default {
                    v["schema"]["default"] = Value::String(d.clone());
                }
                v
            })
            .collect();
        params.push(format.clone());
        paths.insert(
            format!("/api/queries/{}", q.id),
            json!({"get": {"summary": q.title, "description": format!("{} (engine: {}; returns: {})", q.description, q.engine.describe(), q.returns),
                "parameters": params, "responses": with_errors(table.clone())}}),
        );
    }
    paths.insert("/api/hotspots".into(), json!({"get": {"summary": "A product's footprint decomposed tier by tier (as mieruka hotspots --format json)", "parameters": [
        param("product", "Footprint id or product URN", true, text()),
        param("max_tier", "Deepest tier expanded (default 10)", false, json!({"type": "integer"})),
        param("min_share", "Minimum share of the CFP to expand, percent (default 0)", false, json!({"type": "number"})),
        param("basis", "excluding_biogenic (default) or including_biogenic", false, text()),
        param("as_of", "Date the chain is analysed for", false, json!({"type": "string", "format": "date"})),
        param("by", "tier, supplier, footprint, category, country or kind", false, text()),
        param("top", "The N largest rows and a rest row (with uncertainty: suppliers named)", false, json!({"type": "integer"})),
        param("uncertainty", "How sure instead: N Monte Carlo samples (1 to 100000); the CFP's 95 % interval and each supplier's and tier's share with its interval", false, json!({"type": "integer"})),
        param("seed", "Seed of the samples (default 1)", false, json!({"type": "integer"}))],
        "responses": with_errors(json_any.clone())}}));
    paths.insert("/api/score".into(), json!({"get": {"summary": "GX scores (as mieruka score --format json)", "parameters": [param("category", "UN CPC prefix", false, text())], "responses": with_errors(json_any.clone())}}));
    paths.insert("/api/sheet".into(), json!({"get": {"summary": "The GX requirement sheet", "parameters": [
        param("lang", "ja (default) or en", false, text()), param("format", "html (default), csv, json, md or xlsx (an Excel workbook)", false, text()), param("category", "UN CPC prefix", false, text())],
        "responses": with_errors(json!({"description": "The sheet", "content": {"text/html": {}, "text/csv": {}, "application/json": {}, "text/markdown": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}))}}));
    paths.insert("/api/rank".into(), json!({"get": {"summary": "Supplier ranking within a category, with its caveat", "parameters": [
        param("category", "UN CPC prefix", false, text()), param("by", "score (default), intensity, reduction or pds", false, text()), param("product", "Buyer product", false, text()),
        param("uncertainty", "With by=intensity: N Monte Carlo samples (1 to 100000); each supplier gets ahead_of_next_pct, the probability that its intensity is below the next one's (a tie counts half)", false, json!({"type": "integer"})),
        param("seed", "Seed of the samples (default 1)", false, json!({"type": "integer"}))],
        "responses": with_errors(json_any.clone())}}));
    paths.insert("/api/whatif".into(), json!({"post": {"summary": "What if: a scenario's changes (replace, scale, reduce, estimate, attribute) applied to a product's chain, beside it as stored: the CFP, the change by supplier and tier, the footprints changed, the GX score and rank before and after",
        "parameters": [param("product", "Footprint id or product URN (default: the scenario's product)", false, text()), param("scenario", "A bundled scenario's name, with no body", false, text()),
        param("max_tier", "Deepest tier expanded", false, json!({"type": "integer"})), param("basis", "excluding_biogenic (default) or including_biogenic", false, text()), param("as_of", "Date the chain is analysed for, YYYY-MM-DD", false, text()),
        param("top", "Suppliers and footprints listed by name, the largest changes (default 20); the others are one (rest) row", false, json!({"type": "integer"}))],
        "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "required": ["name"], "properties": {"name": text(), "description": text(), "product": text(), "changes": {"type": "array", "items": {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["replace", "scale", "reduce", "estimate", "attribute"]}}}}}}}}},
        "responses": with_errors(json_any.clone())}}));
    let mut upload = with_errors(
        json!({"description": "The ingest report: accepted, rejected, warnings, errors with source, index, line, pointer and message", "content": {"application/json": {}}}),
    );
    upload["409"] = json!({"description": "The server shows the read-only demo dataset"});
    upload["422"] = json!({"description": "Documents were rejected and nothing was stored"});
    paths.insert("/api/footprints".into(), json!({"post": {"summary": "Ingest PACT footprints, a BOM CSV or a GX attributes CSV (admin)", "security": [{"bearer": []}],
        "parameters": [param("name", "Source name for the report", false, text()), param("all_or_nothing", "true: store nothing if anything is rejected", false, json!({"type": "boolean"}))],
        "requestBody": {"required": true, "content": {"application/json": {}, "application/x-ndjson": {}, "text/csv": {}}},
        "responses": upload}}));
    let mut sql = with_errors(table);
    sql["408"] = json!({"description": "Time limit"});
    sql["413"] = json!({"description": "Row limit"});
    sql["422"] = json!({"description": "Memory limit"});
    paths.insert("/api/sql".into(), json!({"post": {"summary": "Read-only ad-hoc SQL (analyst or admin), within memory, row and time limits", "security": [{"bearer": []}],
        "parameters": [format], "requestBody": {"required": true, "content": {"text/plain": {}, "application/json": {"schema": {"type": "object", "properties": {"sql": text()}}}}},
        "responses": sql}}));
    Json(json!({
        "openapi": "3.1.0",
        "info": {"title": "mieruka", "version": env!("CARGO_PKG_VERSION"), "description": "Supply-chain carbon footprint hotspots and GX product scores."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": text(), "message": text()}, "required": ["error", "message"]}}
        }
    }))
}
