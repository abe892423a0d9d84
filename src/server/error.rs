//! The one error type of the service and the body every error has:
//! `{"errors": [{"status", "title", "detail"}]}`.
//!
//! Input errors (a bad upload, a refused key, a workspace rule) reach the
//! client with their positioned message. Internal ones (the store failed)
//! answer only that something went wrong; the cause is logged once, here,
//! so a file path or SQL detail never reaches a client.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::workspace::WorkspaceError;

#[derive(Debug)]
pub enum AppError {
    /// The client's request cannot be served as sent.
    Client { status: StatusCode, detail: String },
    /// Our failure: logged, not shown.
    Internal(String),
}

impl AppError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> AppError {
        AppError::Client {
            status,
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn unprocessable(detail: impl Into<String>) -> AppError {
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }

    pub fn not_found(what: &str) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, format!("no {what} with that id"))
    }

    pub fn internal(cause: impl std::fmt::Display) -> AppError {
        AppError::Internal(cause.to_string())
    }
}

impl From<WorkspaceError> for AppError {
    fn from(e: WorkspaceError) -> AppError {
        match e {
            WorkspaceError::Rule(_) | WorkspaceError::Input { .. } => AppError::unprocessable(e.to_string()),
            other => AppError::internal(other),
        }
    }
}

/// A JSON error document with this status and detail.
pub fn error_body(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{
            "status": status.as_u16().to_string(),
            "title": status.canonical_reason().unwrap_or("error"),
            "detail": detail,
        }]
    });
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Client { status, detail } => error_body(status, &detail),
            AppError::Internal(cause) => {
                eprintln!("vaultferry serve: internal error: {cause}");
                error_body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "something went wrong on the server; it has been logged",
                )
            }
        }
    }
}

/// A JSON body that keeps its raw bytes (the idempotency record hashes
/// them) and turns a malformed body into the same error document as every
/// other error, naming what serde expected (never the values).
pub struct ApiJson<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<ApiJson<T>, AppError> {
        let limit = req.extensions().get::<super::json_limit::JsonLimit>().copied();
        let raw = Bytes::from_request(req, state).await.map_err(|e| match limit {
            Some(limit) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => limit.refusal(None),
            _ => AppError::new(e.status(), format!("cannot read the request body: {}", e.body_text())),
        })?;
        let value = serde_json::from_slice(&raw).map_err(|e| {
            AppError::unprocessable(format!(
                "the JSON body does not have the expected shape at line {}, column {}: {}",
                e.line(),
                e.column(),
                // serde_json names the field and the type expected; for
                // invalid values it may quote them, so only the class.
                match e.classify() {
                    serde_json::error::Category::Data => "a field is missing or of the wrong type",
                    serde_json::error::Category::Syntax => "not valid JSON",
                    serde_json::error::Category::Eof => "the body ends too early",
                    serde_json::error::Category::Io => "could not be read",
                }
            ))
        })?;
        Ok(ApiJson { value, raw })
    }
}
