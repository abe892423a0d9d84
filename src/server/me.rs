//! What the caller may know of themselves: the first route every member,
//! guests included, may call.

use axum::{Extension, Json};
use serde_json::{json, Value};

use super::api::resource;
use super::auth::Caller;
use super::AppError;

pub async fn show(Extension(Caller(member)): Extension<Caller>) -> Result<Json<Value>, AppError> {
    let attributes = serde_json::to_value(&member).map_err(AppError::internal)?;
    Ok(Json(json!({
        "data": resource("member", attributes),
        "links": { "self": "/api/v1/me" },
        "meta": {},
    })))
}
