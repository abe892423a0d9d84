//! The workspace behind `vaultferry serve`'s API (`migrate --target URL`).
//!
//! The [`Workspace`] trait is synchronous, so this uses reqwest's blocking
//! client. The network adds three things the SQLite store never needed:
//! retries (429 and 5xx answers and dropped connections are retried with
//! exponential backoff and jitter, a bounded number of times), an
//! `Idempotency-Key` on every write (derived from the run id and the import
//! keys written, so a retried or resumed write is replayed, never done
//! twice), and bounded concurrency for large batches of independent items.
//!
//! The snapshot is read resource by resource, page by page, so unlike the
//! SQLite one it is not a single consistent view: an import should not run
//! while someone else edits the same workspace (the diff would see a mix).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::Digest as _;

use super::wire::{SnapshotParts, WireWrite, RESOURCES};
use super::{
    KeyMove, NewRun, RehashedItems, RunInfo, RunState, Snapshot, Workspace, WorkspaceError, WorkspaceInfo, Write,
};

/// Attempts per request before giving up (the first try included).
const ATTEMPTS: u32 = 6;
/// First backoff; doubled per attempt, plus up to as much again of jitter.
const BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between attempts, whatever `Retry-After` says.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Objects per page when reading the snapshot.
const PAGE_SIZE: usize = 500;
/// Most pages read per resource: a server that keeps answering `next`
/// must not keep us reading forever.
const MAX_PAGES: usize = 100_000;
/// Items per request when a batch is split.
const CHUNK: usize = 100;
/// Requests in flight at once for a split batch.
const IN_FLIGHT: usize = 4;

/// Where a parallel chunk's ids (or error) land; `None` if never sent.
type ChunkResult = Mutex<Option<Result<Vec<i64>, WorkspaceError>>>;

/// A workspace reached over HTTP.
pub struct HttpWorkspace {
    base: String,
    api_key: String,
    client: Client,
}

impl std::fmt::Debug for HttpWorkspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the API key.
        f.debug_struct("HttpWorkspace").field("base", &self.base).finish()
    }
}

#[derive(Deserialize)]
struct Document<T> {
    data: T,
    #[serde(default)]
    links: Links,
}

#[derive(Default, Deserialize)]
struct Links {
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct Resource<A> {
    id: String,
    attributes: A,
}

#[derive(Deserialize)]
struct ErrorDocument {
    errors: Vec<ErrorObject>,
}

#[derive(Deserialize)]
struct ErrorObject {
    #[serde(default)]
    detail: String,
}

impl HttpWorkspace {
    /// `url` is the server's base (`http://127.0.0.1:8080`); checked before
    /// anything is sent.
    pub fn new(url: &str, api_key: &str) -> Result<HttpWorkspace, WorkspaceError> {
        let base = url.trim().trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base).map_err(|e| WorkspaceError::Store {
            path: base.clone(),
            message: format!("not a URL ({e}): expected http://HOST:PORT of a `vaultferry serve`"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(WorkspaceError::Store {
                path: base,
                message: "expected an http:// or https:// URL".into(),
            });
        }
        if api_key.trim().is_empty() {
            return Err(WorkspaceError::Store {
                path: base,
                message: "an API key is required (`vaultferry apikey create`)".into(),
            });
        }
        let client = Client::builder()
            .timeout(Duration::from_secs(120))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| WorkspaceError::Store {
                path: base.clone(),
                message: format!("cannot set up the HTTP client: {e}"),
            })?;
        Ok(HttpWorkspace {
            base,
            api_key: api_key.trim().to_owned(),
            client,
        })
    }

    fn error(&self, message: impl Into<String>) -> WorkspaceError {
        WorkspaceError::Store {
            path: self.base.clone(),
            message: message.into(),
        }
    }

    /// Sends the request built by `build`, retrying what may succeed later.
    fn send(&self, what: &str, build: impl Fn(&Client) -> RequestBuilder) -> Result<Response, WorkspaceError> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(backoff(attempt, &last));
            }
            let request = build(&self.client).header("X-API-Key", &self.api_key);
            match request.send() {
                Ok(response) => {
                    let status = response.status();
                    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                        let retry_after = response
                            .headers()
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.trim().parse::<u64>().ok());
                        last = match retry_after {
                            Some(secs) => format!("retry-after:{secs}"),
                            None => format!("status {status}"),
                        };
                        continue;
                    }
                    if status.is_success() {
                        return Ok(response);
                    }
                    let detail = response
                        .json::<ErrorDocument>()
                        .ok()
                        .and_then(|d| d.errors.into_iter().next())
                        .map(|e| e.detail)
                        .unwrap_or_default();
                    let message = format!("{what}: the server answered {status}: {detail}");
                    return Err(match status {
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => self.error(message),
                        _ => WorkspaceError::Rule(detail_or(detail, message)),
                    });
                }
                // Connection refused or reset, timeouts: the server may be
                // restarting.
                Err(e) => last = format!("{}", e.without_url()),
            }
        }
        Err(self.error(format!(
            "{what}: no answer after {ATTEMPTS} attempts (last: {})",
            if last.starts_with("retry-after:") {
                "429 Too Many Requests"
            } else {
                last.as_str()
            }
        )))
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Document<T>, WorkspaceError> {
        let url = format!("{}{path}", self.base);
        let response = self.send(&format!("GET {path}"), |c| c.get(&url))?;
        response
            .json()
            .map_err(|e| self.error(format!("GET {path}: unexpected answer ({})", e.without_url())))
    }

    fn write<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        idempotency_key: &str,
        body: &serde_json::Value,
    ) -> Result<T, WorkspaceError> {
        let url = format!("{}{path}", self.base);
        let what = format!("{method} {path}");
        let response = self.send(&what, |c| {
            c.request(method.clone(), &url)
                .header("Idempotency-Key", idempotency_key)
                .json(body)
        })?;
        let doc: Document<T> = response
            .json()
            .map_err(|e| self.error(format!("{what}: unexpected answer ({})", e.without_url())))?;
        Ok(doc.data)
    }

    fn read_all(&self, resource: &str) -> Result<Vec<serde_json::Value>, WorkspaceError> {
        let mut items = Vec::new();
        let mut next = Some(format!("/api/v1/{resource}?page[number]=1&page[size]={PAGE_SIZE}"));
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(self.error(format!("{resource}: more than {MAX_PAGES} pages")));
            }
            let doc: Document<Vec<Resource<serde_json::Value>>> = self.get(&path)?;
            for r in doc.data {
                let mut attributes = r.attributes;
                let id: i64 =
                    r.id.parse()
                        .map_err(|_| self.error(format!("{resource}: an id is not a number")))?;
                if let Some(map) = attributes.as_object_mut() {
                    map.insert("id".into(), id.into());
                }
                items.push(attributes);
            }
            // Only follow links on this server.
            next = doc.links.next.filter(|n| n.starts_with("/api/v1/"));
        }
        Ok(items)
    }

    /// Sends the bytes of every attachment the batch writes to the blob
    /// route, each streamed from where the export keeps it
    /// ([`super::upload`]); the batch then names them by digest. The same
    /// bytes twice in a batch go once.
    fn upload_attachments(&self, writes: &[Write]) -> Result<(), WorkspaceError> {
        let mut sent = std::collections::HashSet::new();
        let files = writes.iter().flat_map(|w| match w {
            Write::Account(a) => a.attachments.as_slice(),
            Write::Secret(s) => s.attachments.as_slice(),
            _ => &[],
        });
        for a in files.filter(|a| a.has_bytes()) {
            let Some(digest) = a.sha256() else { continue };
            if !sent.insert(digest) {
                continue;
            }
            let path = format!("/api/v1/blobs/{}", hex::encode(digest));
            let url = format!("{}{path}", self.base);
            let what = format!("PUT {path} (attachment '{}')", a.name);
            // A fresh copy per attempt: a body is read once. (`has_bytes`
            // said there are bytes; an empty body would be refused as not
            // matching the digest.)
            self.send(&what, |c| {
                let body = match super::upload::pieces(a) {
                    Some(pieces) => reqwest::blocking::Body::sized(pieces, a.size),
                    None => reqwest::blocking::Body::from(Vec::new()),
                };
                c.put(&url).body(body)
            })?;
        }
        Ok(())
    }

    fn send_batch(&self, run: &str, writes: &[WireWrite], key: &str) -> Result<Vec<i64>, WorkspaceError> {
        #[derive(Deserialize)]
        struct Ids {
            attributes: IdList,
        }
        #[derive(Deserialize)]
        struct IdList {
            ids: Vec<i64>,
        }
        let body = serde_json::json!({ "writes": writes });
        let ids: Ids = self.write(
            reqwest::Method::POST,
            &format!("/api/v1/runs/{run}/batches"),
            key,
            &body,
        )?;
        if ids.attributes.ids.len() != writes.len() {
            return Err(self.error(format!(
                "a batch of {} writes came back with {} ids",
                writes.len(),
                ids.attributes.ids.len()
            )));
        }
        Ok(ids.attributes.ids)
    }
}

fn detail_or(detail: String, message: String) -> String {
    if detail.is_empty() {
        message
    } else {
        detail
    }
}

/// Exponential backoff with jitter; a `Retry-After` the server sent wins,
/// capped.
fn backoff(attempt: u32, last: &str) -> Duration {
    use rand::Rng;
    if let Some(secs) = last.strip_prefix("retry-after:").and_then(|s| s.parse::<u64>().ok()) {
        return Duration::from_secs(secs).min(MAX_BACKOFF);
    }
    let base = BACKOFF.saturating_mul(1 << attempt.min(6));
    let jitter = rand::thread_rng().gen_range(0..=base.as_millis() as u64);
    (base + Duration::from_millis(jitter)).min(MAX_BACKOFF)
}

/// The idempotency key of a batch: the run and what it writes. The same
/// batch retried (or re-sent after a lost answer) gets the same key.
fn batch_key(run: &str, writes: &[WireWrite]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(run.as_bytes());
    for w in writes {
        h.update([0]);
        let key = match w {
            WireWrite::Team { key, .. } | WireWrite::Collection { key, .. } => key.as_str(),
            WireWrite::Invitation { invitation } => invitation.import_key.as_str(),
            WireWrite::Account { account } => account.import_key.as_ref().map_or("", |k| k.as_str()),
            WireWrite::Secret { secret } => secret.import_key.as_ref().map_or("", |k| k.as_str()),
            WireWrite::Grant { grant } => grant.import_key.as_ref().map_or("", |k| k.as_str()),
        };
        h.update(key.as_bytes());
    }
    format!("batch-{}", hex::encode(h.finalize()))
}

impl Workspace for HttpWorkspace {
    fn snapshot(&self) -> Result<Snapshot, WorkspaceError> {
        let info: Document<Resource<serde_json::Value>> = self.get("/api/v1/workspace")?;
        let mut attributes = info.data.attributes;
        if let Some(map) = attributes.as_object_mut() {
            map.insert("id".into(), info.data.id.into());
        }
        let workspace: WorkspaceInfo = serde_json::from_value(attributes)
            .map_err(|e| self.error(format!("GET /api/v1/workspace: unexpected answer ({e})")))?;
        let mut parts = SnapshotParts::default();
        for (resource, _) in RESOURCES {
            let items = self.read_all(resource)?;
            parts.add(resource, items).map_err(|e| self.error(e))?;
        }
        Ok(parts.into_snapshot(workspace))
    }

    fn begin_run(&self, run: &NewRun) -> Result<Vec<String>, WorkspaceError> {
        #[derive(Deserialize)]
        struct Begun {
            attributes: BegunAttributes,
        }
        #[derive(Deserialize)]
        struct BegunAttributes {
            interrupted_runs: Vec<String>,
        }
        let body = serde_json::to_value(run).map_err(|e| self.error(e.to_string()))?;
        let begun: Begun = self.write(
            reqwest::Method::POST,
            "/api/v1/runs",
            &format!("begin-{}", run.id),
            &body,
        )?;
        Ok(begun.attributes.interrupted_runs)
    }

    fn apply_batch(&self, run: &str, writes: &[Write]) -> Result<Vec<i64>, WorkspaceError> {
        if writes.iter().any(|w| matches!(w, Write::Interrupt)) {
            // The crash hook: like a crash mid-batch, nothing is sent.
            return Err(WorkspaceError::Rule("batch interrupted (test hook)".into()));
        }
        self.upload_attachments(writes)?;
        let mut wire = Vec::with_capacity(writes.len());
        for w in writes {
            match WireWrite::from_write(w) {
                Some(x) => wire.push(x),
                // The crash hook: like a crash mid-batch, nothing is sent.
                None => return Err(WorkspaceError::Rule("batch interrupted (test hook)".into())),
            }
        }
        // Items of these kinds only refer to ids written by earlier batches,
        // so a large batch may go as parallel chunks; teams, invitations and
        // collections go whole and in order.
        let independent = wire.iter().all(|w| {
            matches!(
                w,
                WireWrite::Account { .. } | WireWrite::Secret { .. } | WireWrite::Grant { .. }
            )
        });
        if !independent || wire.len() <= CHUNK {
            let key = batch_key(run, &wire);
            return self.send_batch(run, &wire, &key);
        }
        let chunks: Vec<&[WireWrite]> = wire.chunks(CHUNK).collect();
        let results: Vec<ChunkResult> = chunks.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..IN_FLIGHT.min(chunks.len()) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let (Some(chunk), Some(slot)) = (chunks.get(i), results.get(i)) else {
                        break;
                    };
                    let result = self.send_batch(run, chunk, &batch_key(run, chunk));
                    let failed = result.is_err();
                    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
                    if failed {
                        // Stop taking chunks; the ones in flight finish.
                        next.store(chunks.len(), Ordering::SeqCst);
                        break;
                    }
                });
            }
        });
        let mut ids = Vec::with_capacity(wire.len());
        for slot in results {
            match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
                Some(Ok(part)) => ids.extend(part),
                Some(Err(e)) => return Err(e),
                None => return Err(self.error("a chunk of the batch was not sent after an earlier one failed")),
            }
        }
        Ok(ids)
    }

    fn finish_run(&self, run: &str, state: RunState, summary: &str) -> Result<(), WorkspaceError> {
        let summary: serde_json::Value =
            serde_json::from_str(summary).unwrap_or_else(|_| serde_json::Value::String(summary.to_owned()));
        let body = serde_json::json!({ "state": state, "summary": summary });
        let _: serde_json::Value = self.write(
            reqwest::Method::PATCH,
            &format!("/api/v1/runs/{run}"),
            &format!("finish-{run}-{}", state.name()),
            &body,
        )?;
        Ok(())
    }

    fn runs(&self) -> Result<Vec<RunInfo>, WorkspaceError> {
        let doc: Document<Vec<Resource<RunInfo>>> = self.get("/api/v1/runs")?;
        Ok(doc.data.into_iter().map(|r| r.attributes).collect())
    }

    fn move_collection_keys(&self, moves: &[KeyMove], rehashed: &RehashedItems) -> Result<usize, WorkspaceError> {
        if moves.is_empty() {
            return Ok(0);
        }
        let body = serde_json::json!({ "moves": moves, "rehashed": rehashed });
        // The same moves are the same request: a retry after a lost answer
        // is answered from the server's record, not moved twice.
        let digest = hex::encode(&sha2::Sha256::digest(body.to_string().as_bytes())[..12]);
        let data: serde_json::Value = self.write(
            reqwest::Method::POST,
            "/api/v1/key-moves",
            &format!("key-moves-{digest}"),
            &body,
        )?;
        Ok(data["attributes"]["moved"].as_u64().unwrap_or(0) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1, "") >= Duration::from_millis(200));
        assert!(backoff(10, "") <= MAX_BACKOFF);
        assert_eq!(backoff(1, "retry-after:2"), Duration::from_secs(2));
        assert_eq!(backoff(1, "retry-after:600"), MAX_BACKOFF);
    }

    #[test]
    fn urls_are_checked_before_anything_is_sent() {
        assert!(HttpWorkspace::new("ftp://x", "k").is_err());
        assert!(HttpWorkspace::new("not a url", "k").is_err());
        assert!(HttpWorkspace::new("http://127.0.0.1:1", " ").is_err());
        let ws = HttpWorkspace::new("http://127.0.0.1:1/", "secret-key-marker").unwrap();
        assert!(!format!("{ws:?}").contains("secret-key-marker"));
    }

    /// A loopback server answering each connection with the next canned
    /// response; returns its URL and the number of requests it saw.
    fn canned(responses: Vec<&'static str>) -> (String, std::sync::Arc<AtomicUsize>) {
        use std::io::{Read, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        std::thread::spawn(move || {
            for response in responses {
                let Ok((mut stream, _)) = listener.accept() else { return };
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(response.as_bytes());
            }
        });
        (url, seen)
    }

    #[test]
    fn busy_and_failing_answers_are_retried_then_the_answer_is_used() {
        let ok = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"data\":[]}";
        let (url, seen) = canned(vec![
            "HTTP/1.1 429 Too Many Requests\r\nretry-after: 0\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            ok,
        ]);
        let ws = HttpWorkspace::new(&url, "k").unwrap();
        assert_eq!(ws.runs().unwrap(), vec![]);
        assert_eq!(seen.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_refusal_is_not_retried_and_its_detail_is_kept() {
        let (url, seen) = canned(vec![
            "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: 35\r\nconnection: close\r\n\r\n{\"errors\":[{\"detail\":\"no guests\"}]}",
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        ]);
        let ws = HttpWorkspace::new(&url, "k").unwrap();
        let err = ws.runs().unwrap_err().to_string();
        assert!(err.contains("403") && err.contains("no guests"), "{err}");
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }
}
