//! Cross-site request forgery: a state-changing request a cookie
//! authenticates must show it comes from our own pages.
//!
//! Either its `Origin` matches the server (`--base-url` when set, else the
//! `Host` it was sent to), or it carries the session's CSRF token: the
//! `X-CSRF-Token` header (the upload page's script) or a `csrf` form field
//! (every server-rendered form). `Origin: null` (what browsers send for a
//! form under our `Referrer-Policy: no-referrer`) counts as no Origin. A request with `X-API-Key` carries its own
//! proof and needs neither; a request with a foreign `Origin` (or
//! `Sec-Fetch-Site: cross-site`) is refused whatever else it carries.

use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::session::{cookie_token, csrf_token, same};
use super::{AppError, AppState};

/// The most of a form body read to find its `csrf` field.
const FORM_LIMIT: usize = 64 * 1024;

fn refused(detail: &str) -> Response {
    AppError::new(StatusCode::FORBIDDEN, detail).into_response()
}

/// `scheme://host[:port]` of a URL, lowercase, without path.
fn origin_of(url: &str) -> String {
    let url = url.trim().to_lowercase();
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or("")),
        None => url,
    }
}

/// Whether `origin` is this server as the request reached it.
fn same_origin(state: &AppState, origin: &str, headers: &HeaderMap) -> bool {
    if let Some(base) = &state.config.base_url {
        return origin_of(origin) == origin_of(base);
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    origin_of(origin)
        .split_once("://")
        .is_some_and(|(_, authority)| authority == host.trim().to_lowercase())
}

#[derive(Deserialize)]
struct Field {
    #[serde(default)]
    csrf: Option<String>,
}

pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) || req.headers().contains_key("x-api-key")
    {
        return next.run(req).await;
    }
    let headers = req.headers();
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
    {
        return refused("a cross-site request may not change anything here");
    }
    // Under `Referrer-Policy: no-referrer` (ours) browsers send a form's
    // Origin as `null`: that proves nothing either way, so the token must.
    let origin = headers
        .get(header::ORIGIN)
        .map(|o| o.to_str().unwrap_or("invalid"))
        .filter(|o| *o != "null");
    if let Some(origin) = origin {
        if !same_origin(&state, origin, headers) {
            return refused("a request from another origin may not change anything here");
        }
        return next.run(req).await;
    }
    let Some(token) = cookie_token(headers) else {
        // No cookie: nothing a forged request could borrow.
        return next.run(req).await;
    };
    let expected = csrf_token(&token);
    if let Some(sent) = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        if same(sent.trim(), &expected) {
            return next.run(req).await;
        }
        return refused("the X-CSRF-Token header does not belong to this session: reload the page");
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, FORM_LIMIT).await {
            Ok(b) => b,
            Err(_) => {
                return AppError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("a form may be at most {FORM_LIMIT} bytes"),
                )
                .into_response()
            }
        };
        let copy = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
        let field = axum::Form::<Field>::from_request(copy, &())
            .await
            .ok()
            .and_then(|f| f.0.csrf);
        if field.is_some_and(|f| same(f.trim(), &expected)) {
            return next.run(Request::from_parts(parts, Body::from(bytes))).await;
        }
        return refused("this form does not carry the session's CSRF token: reload the page and send it again");
    }
    refused("a request signed in by cookie needs the session's CSRF token in the X-CSRF-Token header")
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins_drop_the_path_and_case() {
        assert_eq!(origin_of("HTTPS://Vault.Example.com/join"), "https://vault.example.com");
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }
}
