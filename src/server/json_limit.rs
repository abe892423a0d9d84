//! How large a JSON request may be, per route, and the 413 that says so.
//!
//! The JSON write routes once took bodies of up to 512 MiB, each held
//! whole in memory to hash (idempotency) and decode. What they need is
//! set by the HTTP target's batches (`workspace::http`): items go in
//! chunks of 100 and only teams, invitations and collections go as one
//! batch of `batch_size` (20 000 by default) objects of a few hundred
//! bytes each, some 6 MB; [`BATCH_BYTES`] leaves five times that. Key
//! moves carry an (id, hash) pair of some 80 bytes for every item they
//! re-key, so a million-item move needs ~80 MB: [`KEY_MOVES_BYTES`].

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppError;

/// `POST /runs`, `PATCH /runs/{id}`, `POST /runs/{id}/batches`.
pub const BATCH_BYTES: usize = 32 * 1024 * 1024;
/// `POST /key-moves`.
pub const KEY_MOVES_BYTES: usize = 128 * 1024 * 1024;

/// The limit of the route a request came to (request extension), so the
/// body extractor's 413 can name it too.
#[derive(Clone, Copy, Debug)]
pub struct JsonLimit(pub usize);

impl JsonLimit {
    /// The refusal, for a body of `size` bytes (`None`: not declared).
    pub fn refusal(self, size: Option<u64>) -> AppError {
        let body = size.map_or_else(
            || "the request body is larger than that".to_owned(),
            |n| format!("the request body is {n} bytes"),
        );
        AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "this route takes JSON bodies of up to {} bytes ({} MiB); {body}: send smaller batches",
                self.0,
                self.0 / (1024 * 1024)
            ),
        )
    }
}

/// Refuses a declared `Content-Length` over `limit` before reading the
/// body, and tells the extractor the limit for a body that is not declared.
pub async fn check(limit: usize, mut req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return JsonLimit(limit).refusal(declared).into_response();
    }
    req.extensions_mut().insert(JsonLimit(limit));
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::BATCH_BYTES;
    use crate::workspace::wire::WireWrite;
    use crate::workspace::{ImportKey, Write};

    /// The largest batch the HTTP target sends whole: `batch_size`
    /// (20 000) collections, here with long names and keys, with room to
    /// spare under the limit.
    #[test]
    fn a_whole_batch_of_collections_fits_the_json_limit_with_room() {
        let batch_size = crate::apply::ApplyOptions::new("x", "outbox".into()).batch_size;
        let writes: Vec<WireWrite> = (0..batch_size)
            .map(|i| {
                WireWrite::from_write(&Write::Collection {
                    key: ImportKey(format!("collection:lastpass:olivia@northwind.example:{i:064}").into()),
                    name: format!("Shared-{}{i}", "Engineering/Platform/".repeat(8)),
                    parent: Some(i as i64),
                })
                .unwrap()
            })
            .collect();
        let body = serde_json::json!({ "writes": writes }).to_string();
        assert!(
            body.len() * 3 < BATCH_BYTES,
            "a batch of {batch_size} collections is {} bytes, limit {BATCH_BYTES}",
            body.len()
        );
    }
}
