//! The workspace API: the snapshot's resources, paged, and the writes
//! `apply` makes (runs and their batches), each under an `Idempotency-Key`.
//!
//! Secret values cross this API (the HTTP target must write passwords), so
//! it is only served to importer keys, and nothing of a body is logged or
//! audited.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Importer;
use super::error::ApiJson;
use super::{blocking, AppError, AppState};
use crate::workspace::service::IdempotencyRecord;
use crate::workspace::wire::{resource_items, WireWrite, RESOURCES};
use crate::workspace::{NewRun, RunState};

const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;

#[derive(Debug, Default, Deserialize)]
pub struct Page {
    #[serde(rename = "page[number]")]
    number: Option<String>,
    #[serde(rename = "page[size]")]
    size: Option<String>,
}

impl Page {
    /// (number from 1, size), checked.
    fn checked(&self) -> Result<(usize, usize), AppError> {
        let number = match &self.number {
            None => 1,
            Some(n) => n
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| AppError::bad_request("page[number] must be a whole number from 1"))?,
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
        Ok((number, size))
    }
}

/// One JSON:API resource object: the id moved out of the attributes.
pub fn resource(kind: &str, mut attributes: Value) -> Value {
    let id = attributes
        .as_object_mut()
        .and_then(|m| m.remove("id"))
        .map(|id| match id {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .unwrap_or_default();
    json!({ "id": id, "type": kind, "attributes": attributes })
}

pub async fn workspace_info(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let ws = state.workspace.clone();
    let snapshot = blocking(move || Ok(ws.snapshot()?)).await?;
    let info = serde_json::to_value(&snapshot.workspace).map_err(AppError::internal)?;
    Ok(Json(json!({
        "data": resource("workspace", info),
        "links": { "self": "/api/v1/workspace" },
        "meta": {},
    })))
}

pub async fn list(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Value>, AppError> {
    let Some((_, kind)) = RESOURCES.iter().find(|(r, _)| *r == name) else {
        return Err(AppError::new(StatusCode::NOT_FOUND, "no such route"));
    };
    let (number, size) = page.checked()?;
    let ws = state.workspace.clone();
    let resource_name = name.clone();
    // A snapshot per page: consistent per page; the HTTP target reads with
    // large pages, so this is a handful of reads. Only accounts and secrets
    // need the items: members, teams, grants… are read without them (a
    // members page of a large workspace read every item and its values).
    let items = blocking(move || {
        let snapshot = if matches!(resource_name.as_str(), "accounts" | "secrets") {
            ws.snapshot()?
        } else {
            ws.snapshot_base()?
        };
        let listing = super::withheld::Listing::new(&snapshot);
        resource_items(&snapshot, &resource_name, &listing).ok_or_else(|| AppError::internal("resource table mismatch"))
    })
    .await?;
    let total = items.len();
    let start = (number - 1).saturating_mul(size);
    let data: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(size)
        .map(|v| resource(kind, v))
        .collect();
    let link = |n: usize| format!("/api/v1/{name}?page[number]={n}&page[size]={size}");
    let next = (start.saturating_add(size) < total).then(|| link(number + 1));
    Ok(Json(json!({
        "data": data,
        "links": { "self": link(number), "first": link(1), "next": next },
        "meta": { "total": total, "page": { "number": number, "size": size } },
    })))
}

pub async fn runs(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let ws = state.workspace.clone();
    let runs = blocking(move || Ok(ws.runs()?)).await?;
    let data: Vec<Value> = runs
        .into_iter()
        .map(|mut r| {
            // A run names its export as the command was given it: a CLI
            // path on this machine, or a server copy from before uploads
            // were recorded by their name. Clients get the file name only.
            r.source_file = file_name_only(&r.source_file);
            r
        })
        .filter_map(|r| serde_json::to_value(r).ok())
        .map(|v| {
            let id = v.get("id").cloned().unwrap_or(Value::Null);
            json!({ "id": id, "type": "run", "attributes": v })
        })
        .collect();
    Ok(Json(
        json!({ "data": data, "links": { "self": "/api/v1/runs" }, "meta": { "total": data.len() } }),
    ))
}

/// The last component of a path (either separator), or the text itself.
fn file_name_only(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_owned()
}

/// Runs `write` once per idempotency key: the same key with the same
/// request replays the recorded answer; with another request it is refused.
/// Failures are not recorded, so a retry after one does the work.
async fn idempotent(
    state: &AppState,
    importer: &Importer,
    headers: &HeaderMap,
    method: Method,
    path: &str,
    raw: &[u8],
    write: impl FnOnce() -> Result<(StatusCode, Value), AppError> + Send + 'static,
) -> Result<Response, AppError> {
    use sha2::{Digest, Sha256};
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .ok_or_else(|| {
            AppError::bad_request("writes need an Idempotency-Key header (1 to 200 characters), unique per change")
        })?;
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(raw);
    let request_hash = hex::encode(h.finalize());
    let member = importer.0.id;
    let store = state.store.clone();
    let lookup_key = key.clone();
    if let Some(record) = blocking(move || Ok(store.idempotency_record(member, &lookup_key)?)).await? {
        if record.request_hash != request_hash {
            return Err(AppError::unprocessable(
                "this Idempotency-Key was used before for a different request; use a new key per change",
            ));
        }
        let status = StatusCode::from_u16(record.status).map_err(AppError::internal)?;
        let body: Value = serde_json::from_str(&record.response).map_err(AppError::internal)?;
        let mut response = (status, Json(body)).into_response();
        response
            .headers_mut()
            .insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
        return Ok(response);
    }
    let store = state.store.clone();
    let (status, body) = blocking(move || {
        let (status, body) = write()?;
        let record = IdempotencyRecord {
            request_hash,
            status: status.as_u16(),
            response: body.to_string(),
        };
        store.save_idempotency_record(member, &key, &record)?;
        Ok((status, body))
    })
    .await?;
    Ok((status, Json(body)).into_response())
}

pub async fn begin_run(
    State(state): State<AppState>,
    Extension(importer): Extension<Importer>,
    headers: HeaderMap,
    body: ApiJson<NewRun>,
) -> Result<Response, AppError> {
    let ws = state.workspace.clone();
    let mut run = body.value;
    // The run is recorded as the key's member, whatever the body says.
    run.actor = importer.0.email.clone();
    idempotent(
        &state,
        &importer,
        &headers,
        Method::POST,
        "/api/v1/runs",
        &body.raw,
        move || {
            let interrupted = ws.begin_run(&run)?;
            Ok((
                StatusCode::CREATED,
                json!({
                    "data": { "id": run.id, "type": "run", "attributes": { "interrupted_runs": interrupted } },
                    "links": { "self": format!("/api/v1/runs/{}", run.id) },
                    "meta": {},
                }),
            ))
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct KeyMoves {
    moves: Vec<crate::workspace::KeyMove>,
    /// What the client computed; not used: the list routes withhold the
    /// values the hashes cover, so the server computes them itself from
    /// the values it holds (and a client cannot set an item's hash).
    #[serde(default)]
    #[allow(dead_code)]
    rehashed: crate::workspace::RehashedItems,
}

/// `migrate --target` moves collections an earlier build keyed otherwise
/// before it compares, as `migrate --db` does.
pub async fn move_collection_keys(
    State(state): State<AppState>,
    Extension(importer): Extension<Importer>,
    headers: HeaderMap,
    body: ApiJson<KeyMoves>,
) -> Result<Response, AppError> {
    let ws = state.workspace.clone();
    let request = body.value;
    idempotent(
        &state,
        &importer,
        &headers,
        Method::POST,
        "/api/v1/key-moves",
        &body.raw,
        move || {
            let rehashed = crate::diff::rekey::rehash_moved(&ws.snapshot()?, &request.moves);
            let moved = ws.move_collection_keys(&request.moves, &rehashed)?;
            Ok((
                StatusCode::OK,
                json!({
                    "data": { "id": "key-moves", "type": "key-moves", "attributes": { "moved": moved } },
                    "links": {},
                    "meta": {},
                }),
            ))
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct FinishRun {
    state: RunState,
    #[serde(default)]
    summary: Value,
}

pub async fn finish_run(
    State(state): State<AppState>,
    Extension(importer): Extension<Importer>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: ApiJson<FinishRun>,
) -> Result<Response, AppError> {
    let ws = state.workspace.clone();
    let path = format!("/api/v1/runs/{id}");
    let finish = body.value;
    let config = state.config.clone();
    idempotent(
        &state,
        &importer,
        &headers,
        Method::PATCH,
        &path,
        &body.raw,
        move || {
            let summary = match &finish.summary {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            ws.finish_run(&id, finish.state, &summary)?;
            // Every batch of the run has copied its blobs into the store.
            super::blobs::clear(&config);
            Ok((
                StatusCode::OK,
                json!({
                    "data": { "id": id, "type": "run", "attributes": { "state": finish.state } },
                    "links": {},
                    "meta": {},
                }),
            ))
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct Batch {
    writes: Vec<WireWrite>,
}

pub async fn apply_batch(
    State(state): State<AppState>,
    Extension(importer): Extension<Importer>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: ApiJson<Batch>,
) -> Result<Response, AppError> {
    let ws = state.workspace.clone();
    let path = format!("/api/v1/runs/{id}/batches");
    let writes = super::blobs::into_writes(&state.config, body.value.writes)?;
    for w in &writes {
        if w.key().is_none() {
            return Err(AppError::unprocessable(
                "a write has no import key: everything the importer creates needs one",
            ));
        }
    }
    idempotent(&state, &importer, &headers, Method::POST, &path, &body.raw, move || {
        let ids = ws.apply_batch(&id, &writes)?;
        Ok((
            StatusCode::OK,
            json!({
                "data": { "id": id, "type": "batch", "attributes": { "ids": ids } },
                "links": {},
                "meta": { "written": ids.len() },
            }),
        ))
    })
    .await
}
