//! `PUT /api/v1/blobs/{sha256}`: attachment bytes uploaded on their own,
//! before the batch that names them by digest.
//!
//! A batch is one JSON document; an attachment inside it as base64 had to
//! be held whole by both ends (and a third larger), so a 1PUX of 5 GB of
//! documents could not go through the HTTP target. Here the body is taken
//! a piece at a time (a bounded channel of the frames hyper reads) into an
//! owner-only file under [`Config::blob_root`], hashed as it is written,
//! and kept under its digest only when the bytes are the ones named and of
//! the length announced. The batch's attachment then streams from that
//! file into the store like an attachment from an archive does
//! ([`ContentOrigin`]), and `PATCH /runs/{id}` removes what was staged.
//!
//! The staging folder belongs to this server process's store: a second
//! `serve` on another machine would not see it (the store is SQLite, one
//! file on one machine, today).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use axum::body::{Body, HttpBody};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{AppError, AppState, Config};
use crate::model::{Attachment, ContentOrigin, FileContent};
use crate::workspace::wire::WireWrite;
use crate::workspace::Write;

/// Frames queued between the connection and the file: with hyper's frames
/// of at most a few hundred KiB, an upload holds at most this many in
/// memory however large it is.
pub const PIECES_IN_FLIGHT: usize = 4;

/// A digest as the route names it: 64 lowercase hex digits.
fn parse_digest(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut d = [0u8; 32];
    hex::decode_to_slice(text, &mut d).ok().map(|()| d)
}

/// Where the bytes of `digest` are kept once uploaded.
fn staged_path(config: &Config, digest: &[u8; 32]) -> PathBuf {
    config.blob_root.join(hex::encode(digest))
}

/// The folder, made owner-only: the bytes are secrets.
fn blob_root(config: &Config) -> std::io::Result<&Path> {
    let root = config.blob_root.as_path();
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(root)?;
    Ok(root)
}

/// What the blocking writer concluded.
enum Stored {
    Kept,
    Mismatch,
    Short(u64),
}

pub async fn put(
    State(state): State<AppState>,
    UrlPath(sha256): UrlPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let digest = parse_digest(&sha256).ok_or_else(|| {
        AppError::bad_request("the blob's name must be the SHA-256 of its bytes: 64 lowercase hex digits")
    })?;
    let length = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            AppError::new(
                StatusCode::LENGTH_REQUIRED,
                "a blob upload needs a Content-Length header: the store reserves the attachment's size before the bytes arrive",
            )
        })?;
    let limit = state.config.max_blob_bytes;
    if length > limit {
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the blob is {length} bytes; this server stores attachments of up to {limit} bytes"),
        ));
    }
    let config = state.config.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<axum::body::Bytes>(PIECES_IN_FLIGHT);
    // The file side: written as the pieces come, renamed into place only
    // when length and digest are right.
    let writer = tokio::task::spawn_blocking(move || -> Result<Stored, AppError> {
        let root = blob_root(&config).map_err(AppError::internal)?;
        let mut suffix = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut suffix);
        let partial = root.join(format!("{}.partial-{}", hex::encode(digest), hex::encode(suffix)));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&partial).map_err(AppError::internal)?;
        let mut hasher = Sha256::new();
        let mut written = 0u64;
        let outcome = (|| {
            while let Some(piece) = rx.blocking_recv() {
                written += piece.len() as u64;
                if written > length {
                    return Ok(Stored::Short(written));
                }
                hasher.update(&piece);
                file.write_all(&piece).map_err(AppError::internal)?;
            }
            if written != length {
                return Ok(Stored::Short(written));
            }
            if hasher.finalize().as_slice() != digest.as_slice() {
                return Ok(Stored::Mismatch);
            }
            file.sync_all().map_err(AppError::internal)?;
            std::fs::rename(&partial, staged_path(&config, &digest)).map_err(AppError::internal)?;
            Ok(Stored::Kept)
        })();
        if !matches!(outcome, Ok(Stored::Kept)) {
            let _ = std::fs::remove_file(&partial);
        }
        outcome
    });
    let mut body = body;
    let mut received = 0u64;
    let mut broken = false;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(frame) = frame else {
            broken = true;
            break;
        };
        let Ok(piece) = frame.into_data() else { continue };
        received += piece.len() as u64;
        // The writer stops taking pieces once it has seen too many bytes.
        if received > length || tx.send(piece).await.is_err() {
            break;
        }
    }
    drop(tx);
    let stored = writer.await.map_err(AppError::internal)??;
    match stored {
        _ if broken => Err(AppError::bad_request(
            "the upload broke off before its Content-Length bytes arrived",
        )),
        Stored::Kept => Ok((
            StatusCode::CREATED,
            Json(json!({
                "data": { "id": sha256, "type": "blob", "attributes": { "size": length } },
                "links": { "self": format!("/api/v1/blobs/{sha256}") },
                "meta": {},
            })),
        )),
        Stored::Mismatch => Err(AppError::unprocessable(format!(
            "the bytes uploaded are not the ones named: their SHA-256 is not {sha256}; nothing was kept"
        ))),
        Stored::Short(n) => Err(AppError::bad_request(format!(
            "Content-Length said {length} bytes and {n} came; nothing was kept"
        ))),
    }
}

/// A batch's writes, each attachment marked `uploaded` given the staged
/// file to stream from. One that names bytes never uploaded (or removed
/// since) is refused: stored without them, it would look imported and
/// hold nothing.
pub fn into_writes(config: &Config, wire: Vec<WireWrite>) -> Result<Vec<Write>, AppError> {
    let mut writes = Vec::with_capacity(wire.len());
    for w in wire {
        let files: &[crate::workspace::wire::WireAttachment] = match &w {
            WireWrite::Account { account } => &account.attachments,
            WireWrite::Secret { secret } => &secret.attachments,
            _ => &[],
        };
        let mut staged = Vec::with_capacity(files.len());
        for a in files {
            if !a.uploaded {
                staged.push(None);
                continue;
            }
            let digest = a.sha256.as_deref().and_then(parse_digest).ok_or_else(|| {
                AppError::unprocessable(format!(
                    "attachment '{}' is marked uploaded but names no SHA-256 (64 lowercase hex digits)",
                    a.name
                ))
            })?;
            let path = staged_path(config, &digest);
            if !path.is_file() {
                return Err(AppError::unprocessable(format!(
                    "attachment '{}' names bytes (SHA-256 {}) that were not uploaded; PUT them to /api/v1/blobs/{} first",
                    a.name,
                    hex::encode(digest),
                    hex::encode(digest)
                )));
            }
            staged.push(Some((digest, path)));
        }
        let mut write = w.into_write();
        let files: &mut [Attachment] = match &mut write {
            Write::Account(a) => &mut a.attachments,
            Write::Secret(s) => &mut s.attachments,
            _ => &mut [],
        };
        for (a, staged) in files.iter_mut().zip(staged) {
            if let Some((digest, path)) = staged {
                a.digest = Some(digest);
                a.origin = Some(ContentOrigin::new(FileContent {
                    shown: format!("uploaded blob {}", hex::encode(digest)),
                    path,
                }));
            }
        }
        writes.push(write);
    }
    Ok(writes)
}

/// Removes everything staged: called when a run finishes, by which time
/// every batch that named a blob has copied it into the store.
pub fn clear(config: &Config) {
    if let Ok(dir) = std::fs::read_dir(&config.blob_root) {
        for entry in dir.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_lowercase_sha256_names_a_blob() {
        let ok = "a".repeat(64);
        assert!(parse_digest(&ok).is_some());
        for bad in [
            "",
            "../../etc/passwd",
            &"A".repeat(64),
            &"a".repeat(63),
            &format!("{}/", "a".repeat(63)),
        ] {
            assert!(parse_digest(bad).is_none(), "{bad}");
        }
    }
}
