//! The document every server-rendered page shares (sign-in, join, and the
//! signed-in pages of [`super::shell`]), and escaping. Pages are plain
//! forms: the content security policy allows no inline script or style, so
//! the look comes from `/static/app.css`.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Text made safe for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page of someone not (yet) in the app (sign-in, joining): `body` in
/// one narrow card. `body` is trusted HTML (callers escape what they insert).
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    document(status, title, &format!("<main class=\"narrow\">\n{body}\n</main>"))
}

/// A whole document around `body` (trusted HTML).
pub fn document(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>vaultferry — {title}</title>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"stylesheet\" href=\"/static/app.css\">\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        title = escape(title),
    );
    (status, Html(html)).into_response()
}

/// A confirmation paragraph, or nothing.
pub fn notice(message: Option<&str>) -> String {
    message
        .map(|m| format!("<p class=\"notice\" role=\"status\">{}</p>", escape(m)))
        .unwrap_or_default()
}

/// An error paragraph, or nothing.
pub fn error(message: Option<&str>) -> String {
    message
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default()
}

/// The hidden field that carries a session's CSRF token in a form.
pub fn csrf_field(token: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", escape(token))
}

/// The sign-out button (a POST: signing out changes state).
pub fn logout_form(csrf: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/logout\" class=\"inline\">{}<button type=\"submit\" class=\"quiet\" id=\"sign-out\">Sign out</button></form>",
        csrf_field(csrf)
    )
}
