//! `/api/v1/me/...`: what the calling member may see, a page at a time,
//! and the two routes that hand out a secret value.
//!
//! Every route decides from [`Caller`] alone. An item the caller cannot see
//! answers 404 exactly like an id that does not exist, so ids of other
//! people's items do not leak. Lists and details never carry a value; the
//! value routes (and attachment downloads) do, only for a member holding a
//! role on the item, and the store writes the audit row of each read in the
//! same transaction.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::api::resource;
use super::auth::Caller;
use super::{blocking, AppError, AppState};
use crate::model::FieldValue;
use crate::workspace::views::{ItemKind, PageAfter, Paged};

const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;

/// Keyset paging: `page[size]` rows after the id in `page[after]` (the
/// `next` link carries it). Offsets are not offered: a deep offset costs a
/// scan of every row before it.
#[derive(Debug, Default, Deserialize)]
pub struct Cursor {
    #[serde(rename = "page[after]")]
    after: Option<String>,
    #[serde(rename = "page[size]")]
    size: Option<String>,
}

impl Cursor {
    pub fn checked(&self) -> Result<PageAfter, AppError> {
        let after = match &self.after {
            None => None,
            Some(a) => Some(
                a.trim()
                    .parse::<i64>()
                    .map_err(|_| AppError::bad_request("page[after] must be an id from a `next` link"))?,
            ),
        };
        let size = match &self.size {
            None => DEFAULT_PAGE_SIZE,
            Some(n) => n
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| AppError::bad_request(format!("page[size] must be from 1 to {MAX_PAGE_SIZE}")))?,
        };
        Ok(PageAfter { after, size })
    }
}

/// A page as a JSON:API document, with a `next` link while more follow.
pub fn page_document<T: Serialize>(
    kind: &str,
    path: &str,
    extra_query: &str,
    page: PageAfter,
    rows: Paged<T>,
    id_of: impl Fn(&T) -> i64,
) -> Result<Json<Value>, AppError> {
    let last = rows.rows.last().map(&id_of);
    let mut data = Vec::with_capacity(rows.rows.len());
    for row in &rows.rows {
        data.push(resource(kind, serde_json::to_value(row).map_err(AppError::internal)?));
    }
    let link = |after: Option<i64>| {
        let mut l = format!("{path}?{extra_query}page[size]={}", page.size);
        if let Some(a) = after {
            l.push_str(&format!("&page[after]={a}"));
        }
        l
    };
    let next = if rows.more { last.map(|a| link(Some(a))) } else { None };
    Ok(Json(json!({
        "data": data,
        "links": { "self": link(page.after), "first": link(None), "next": next },
        "meta": { "page": { "size": page.size, "after": page.after } },
    })))
}

/// An id in a path: anything that is not one is simply not found.
fn item_id(raw: &str, what: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found(what))
}

pub async fn collections(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Query(cursor): Query<Cursor>,
) -> Result<Json<Value>, AppError> {
    let page = cursor.checked()?;
    let views = state.views.clone();
    let rows = blocking(move || Ok(views.visible_collections(&me, page)?)).await?;
    page_document("collection", "/api/v1/me/collections", "", page, rows, |c| c.id)
}

pub async fn accounts(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Query(cursor): Query<Cursor>,
) -> Result<Json<Value>, AppError> {
    let page = cursor.checked()?;
    let views = state.views.clone();
    let rows = blocking(move || Ok(views.visible_accounts(&me, page)?)).await?;
    page_document("account", "/api/v1/me/accounts", "", page, rows, |a| a.id)
}

pub async fn secrets(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Query(cursor): Query<Cursor>,
) -> Result<Json<Value>, AppError> {
    let page = cursor.checked()?;
    let views = state.views.clone();
    let rows = blocking(move || Ok(views.visible_secrets(&me, page)?)).await?;
    page_document("secret", "/api/v1/me/secrets", "", page, rows, |s| s.id)
}

pub async fn teams(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Query(cursor): Query<Cursor>,
) -> Result<Json<Value>, AppError> {
    let page = cursor.checked()?;
    let views = state.views.clone();
    let rows = blocking(move || Ok(views.member_teams(&me, page)?)).await?;
    page_document("team", "/api/v1/me/teams", "", page, rows, |t| t.id)
}

/// Newest first: `page[after]` is the id the next page starts below.
pub async fn activity(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Query(cursor): Query<Cursor>,
) -> Result<Json<Value>, AppError> {
    let page = cursor.checked()?;
    let views = state.views.clone();
    let rows = blocking(move || Ok(views.member_activity(&me, page)?)).await?;
    page_document("activity", "/api/v1/me/activity", "", page, rows, |a| a.id)
}

fn single(kind: &str, path: String, attributes: Value) -> Json<Value> {
    Json(json!({
        "data": resource(kind, attributes),
        "links": { "self": path },
        "meta": {},
    }))
}

pub async fn account(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Path(raw): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = item_id(&raw, "account")?;
    let views = state.views.clone();
    let detail = blocking(move || Ok(views.account_detail(&me, id)?))
        .await?
        .ok_or_else(|| AppError::not_found("account"))?;
    let attributes = serde_json::to_value(&detail).map_err(AppError::internal)?;
    Ok(single("account", format!("/api/v1/me/accounts/{id}"), attributes))
}

pub async fn secret(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Path(raw): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = item_id(&raw, "secret")?;
    let views = state.views.clone();
    let detail = blocking(move || Ok(views.secret_detail(&me, id)?))
        .await?
        .ok_or_else(|| AppError::not_found("secret"))?;
    let attributes = serde_json::to_value(&detail).map_err(AppError::internal)?;
    Ok(single("secret", format!("/api/v1/me/secrets/{id}"), attributes))
}

/// A value document, never cached by a browser or proxy. The body is
/// built with the values revealed only inside [`crate::secret::reveal`].
fn value_response(body: Vec<u8>) -> Result<Response, AppError> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(body))
        .map_err(AppError::internal)
}

pub async fn account_password(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    let id = item_id(&raw, "account")?;
    let views = state.views.clone();
    let body = blocking(move || {
        let value = views
            .read_account_password(&me, id)?
            .ok_or_else(|| AppError::not_found("account"))?;
        crate::secret::reveal(|| {
            serde_json::to_vec(&json!({
                "data": { "id": id.to_string(), "type": "account-password", "attributes": {
                    "password": value.password, "totp": value.totp } },
                "links": { "self": format!("/api/v1/me/accounts/{id}/password") },
                "meta": {},
            }))
        })
        .map_err(AppError::internal)
    })
    .await?;
    value_response(body)
}

pub async fn secret_value(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    let id = item_id(&raw, "secret")?;
    let views = state.views.clone();
    let body = blocking(move || {
        let value = views
            .read_secret_value(&me, id)?
            .ok_or_else(|| AppError::not_found("secret"))?;
        crate::secret::reveal(|| {
            let fields: Vec<Value> = value
                .fields
                .iter()
                .map(|f| {
                    let (v, concealed) = match &f.value {
                        FieldValue::Plain(p) => (json!(p), false),
                        FieldValue::Concealed(s) => (json!(s), true),
                    };
                    json!({ "label": f.label, "value": v, "concealed": concealed })
                })
                .collect();
            serde_json::to_vec(&json!({
                "data": { "id": id.to_string(), "type": "secret-value", "attributes": {
                    "notes": value.notes, "fields": fields } },
                "links": { "self": format!("/api/v1/me/secrets/{id}/value") },
                "meta": {},
            }))
        })
        .map_err(AppError::internal)
    })
    .await?;
    value_response(body)
}

/// The largest piece of an attachment read from the store at once.
const ATTACHMENT_PIECE: usize = 256 * 1024;

/// A file name safe in a `Content-Disposition` header: what is not a
/// letter, digit, dot, dash, underscore or space becomes `_`.
fn download_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.trim().is_empty() {
        "attachment".into()
    } else {
        safe
    }
}

/// An attachment's bytes for a member holding a role on its item, read a
/// piece at a time as the client takes them (an attachment may be up to
/// a gigabyte). The store audits the download before the first byte.
async fn attachment(
    state: AppState,
    me: crate::workspace::Member,
    kind: ItemKind,
    raw: String,
    raw_attachment: String,
) -> Result<Response, AppError> {
    let what = kind.name();
    let id = item_id(&raw, what)?;
    let attachment = raw_attachment
        .parse::<i64>()
        .map_err(|_| AppError::not_found("attachment"))?;
    let views = state.views.clone();
    let info = blocking(move || Ok(views.open_attachment(&me, kind, id, attachment)?))
        .await?
        .ok_or_else(|| AppError::not_found("attachment"))?;
    let size = usize::try_from(info.size).unwrap_or(0);
    let views = state.views.clone();
    let stream = futures_util::stream::try_unfold(0usize, move |offset| {
        let views = views.clone();
        async move {
            if offset >= size {
                return Ok(None);
            }
            let piece =
                tokio::task::spawn_blocking(move || views.attachment_piece(attachment, offset, ATTACHMENT_PIECE))
                    .await
                    .map_err(std::io::Error::other)?
                    .map_err(std::io::Error::other)?;
            if piece.is_empty() {
                return Err(std::io::Error::other("the attachment changed while it was read"));
            }
            let next = offset + piece.len();
            Ok::<_, std::io::Error>(Some((axum::body::Bytes::from(piece), next)))
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, size)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", download_name(&info.name)),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from_stream(stream))
        .map_err(AppError::internal)
}

pub async fn account_attachment(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Path((raw, raw_attachment)): Path<(String, String)>,
) -> Result<Response, AppError> {
    attachment(state, me, ItemKind::Account, raw, raw_attachment).await
}

pub async fn secret_attachment(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Path((raw, raw_attachment)): Path<(String, String)>,
) -> Result<Response, AppError> {
    attachment(state, me, ItemKind::Secret, raw, raw_attachment).await
}
