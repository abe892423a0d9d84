//! The pages "Show password" and "Show value" open: one item's values,
//! shown because the member asked for them, on a page of their own.
//!
//! The list pages never carry a value; these read it through the same
//! store call as `GET /api/v1/me/accounts/{id}/password` and
//! `GET /api/v1/me/secrets/{id}/value`, which writes the audit row in the
//! same transaction and answers nothing (a 404, like an item that does not
//! exist) unless the member holds a role on the item. Every response is
//! `Cache-Control: no-store` (the headers layer), so the value is not kept
//! by the browser.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::auth::Caller;
use super::html::escape;
use super::shell::Shell;
use super::{blocking, AppError, AppState};
use crate::model::FieldValue;
use crate::secret::Secret;

fn item_id(raw: &str, what: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found(what))
}

fn value_row(label: &str, value: &str) -> String {
    format!(
        "<dt>{}</dt><dd><code class=\"value\">{}</code></dd>",
        escape(label),
        escape(value)
    )
}

fn secret_row(label: &str, value: Option<&Secret>) -> String {
    match value {
        Some(v) if !v.is_empty() => value_row(label, v.expose()),
        _ => format!("<dt>{}</dt><dd class=\"empty\">none</dd>", escape(label)),
    }
}

const FOOTER: &str = "<p class=\"hint\">This read is recorded in the workspace's audit log. \
     The page is not cached: leave it and the value is gone from this browser.</p>\n\
     <p><a href=\"/app/items\">Back to my items</a></p>";

async fn load(state: &AppState, me: &crate::workspace::Member, headers: &HeaderMap) -> Result<Shell, Response> {
    Shell::load(state, me, headers)
        .await
        .map_err(IntoResponse::into_response)
}

/// `GET /app/accounts/{id}/password`.
pub async fn account_password(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Response {
    let shell = match load(&state, &me, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match item_id(&raw, "account you may open") {
        Ok(id) => id,
        Err(e) => return shell.refusal("/app/items", e),
    };
    let views = state.views.clone();
    let rendered = blocking(move || {
        let value = views
            .read_account_password(&me, id)?
            .ok_or_else(|| AppError::not_found("account you may open"))?;
        let detail = views.account_detail(&me, id)?;
        let (name, username) = detail
            .map(|d| (d.item.name, d.item.username))
            .unwrap_or_else(|| (format!("account {id}"), None));
        let mut rows = String::new();
        if let Some(u) = username.filter(|u| !u.is_empty()) {
            rows.push_str(&format!("<dt>Username</dt><dd>{}</dd>", escape(&u)));
        }
        rows.push_str(&secret_row("Password", value.password.as_ref()));
        if value.totp.as_ref().is_some_and(|t| !t.is_empty()) {
            rows.push_str(&secret_row("One-time code seed (TOTP)", value.totp.as_ref()));
        }
        Ok((
            name,
            format!("<dl class=\"values\" id=\"values\">{rows}</dl>\n{FOOTER}"),
        ))
    })
    .await;
    match rendered {
        Ok((name, body)) => shell.page(StatusCode::OK, "/app/items", &format!("Password of {name}"), &body),
        Err(e) => shell.refusal("/app/items", e),
    }
}

/// `GET /app/secrets/{id}/value`.
pub async fn secret_value(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Response {
    let shell = match load(&state, &me, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match item_id(&raw, "secret you may open") {
        Ok(id) => id,
        Err(e) => return shell.refusal("/app/items", e),
    };
    let views = state.views.clone();
    let rendered = blocking(move || {
        let value = views
            .read_secret_value(&me, id)?
            .ok_or_else(|| AppError::not_found("secret you may open"))?;
        let title = views
            .secret_detail(&me, id)?
            .map(|d| d.item.title)
            .unwrap_or_else(|| format!("secret {id}"));
        let mut rows = String::new();
        for f in &value.fields {
            match &f.value {
                FieldValue::Plain(p) => rows.push_str(&value_row(&f.label, p)),
                FieldValue::Concealed(s) => rows.push_str(&secret_row(&f.label, Some(s))),
            }
        }
        if value.notes.as_ref().is_some_and(|n| !n.is_empty()) {
            rows.push_str(&secret_row("Notes", value.notes.as_ref()));
        }
        if rows.is_empty() {
            rows.push_str("<dt>Value</dt><dd class=\"empty\">none</dd>");
        }
        Ok((
            title,
            format!("<dl class=\"values\" id=\"values\">{rows}</dl>\n{FOOTER}"),
        ))
    })
    .await;
    match rendered {
        Ok((title, body)) => shell.page(StatusCode::OK, "/app/items", &format!("Value of {title}"), &body),
        Err(e) => shell.refusal("/app/items", e),
    }
}
