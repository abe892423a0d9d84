//! A member's own API keys over the API: list them, revoke one. Creating
//! one stays on the command line (`vaultferry apikey create`), where the
//! key is shown once to whoever runs it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};

use super::auth::Caller;
use super::session::now;
use super::{blocking, AppError, AppState};
use crate::workspace::identity::KeyRecord;

fn resource(k: &KeyRecord, now: i64) -> Value {
    json!({
        "id": k.id.to_string(),
        "type": "api_key",
        "attributes": {
            "prefix": k.prefix,
            "created": k.created,
            "expires": k.expires.map(|t| crate::model::Timestamp(t).to_rfc3339()),
            "revoked": k.revoked.map(|t| crate::model::Timestamp(t).to_rfc3339()),
            "state": k.state(now),
        },
    })
}

pub async fn list(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
) -> Result<Json<Value>, AppError> {
    let identity = state.identity.clone();
    let keys = blocking(move || Ok(identity.api_keys(Some(me.id))?)).await?;
    let now = now();
    let data: Vec<Value> = keys.iter().map(|k| resource(k, now)).collect();
    Ok(Json(json!({
        "data": data,
        "links": { "self": "/api/v1/api-keys" },
        "meta": { "total": data.len() },
    })))
}

pub async fn revoke(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let Ok(id) = id.parse::<i64>() else {
        return Err(AppError::not_found("API key of yours"));
    };
    let identity = state.identity.clone();
    let revoked = blocking(move || Ok(identity.revoke_api_key(id, Some(me.id), now())?)).await?;
    if revoked {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(AppError::not_found("active API key of yours"))
    }
}
