//! Security headers on every response, pages and API alike.
//!
//! The pages need nothing but their own origin: scripts and styles come
//! from `/static/`, so the policy allows no inline script or style. The
//! one exception is a job's HTML report, a self-contained document with
//! its own inline script and style: it is served sandboxed (an opaque
//! origin, no cookies, no API) and may be framed only by our own page.
//! Nothing is cached: every response may carry workspace data.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The pages' policy.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The HTML report's policy (see the module doc).
pub const REPORT_CSP: &str = "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

fn is_report(path: &str, response: &Response) -> bool {
    path.starts_with("/api/v1/imports/")
        && path.ends_with("/report")
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
}

pub async fn secure(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let mut response = next.run(req).await;
    let report = is_report(&path, &response);
    let h = response.headers_mut();
    let (csp, frames) = if report {
        (REPORT_CSP, "SAMEORIGIN")
    } else {
        (PAGE_CSP, "DENY")
    };
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static(frames));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
