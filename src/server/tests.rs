//! The router without a server: `app()` driven with `oneshot`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use super::*;
use crate::workspace::seed;

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    owner: String,
    guest: String,
}

fn fixture() -> Fixture {
    fixture_with(|_| {})
}

fn fixture_with(configure: impl FnOnce(&mut Config)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ws.db");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed = seed::load(&root.join("samples/workspace.toml"), None).unwrap();
    let ws = SqliteWorkspace::create(&db, false).unwrap();
    ws.init(&seed).unwrap();
    let (owner, _) = ws.create_api_key("olivia@northwind.example").unwrap();
    let (guest, _) = ws.create_api_key("mo@freelance.example").unwrap();
    let mut config = Config::new(&db);
    configure(&mut config);
    let state = AppState::sqlite(ws, config).unwrap();
    Fixture {
        _dir: dir,
        state,
        owner,
        guest,
    }
}

async fn send(f: &Fixture, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = app(f.state.clone()).oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn request(method: &str, uri: &str, key: &str, body: &str) -> axum::http::request::Builder {
    let _ = body;
    Request::builder()
        .method(method)
        .uri(uri)
        .header("X-API-Key", key)
        .header("content-type", "application/json")
}

#[tokio::test]
async fn every_listed_route_is_routed() {
    let f = fixture();
    for (method, path) in ROUTES {
        let uri = path
            .replace("{id}", "nope")
            .replace("{grant}", "nope")
            .replace("{attachment}", "nope");
        let req = request(method, &uri, &f.owner, "")
            .body(Body::from(if *method == "GET" || *method == "DELETE" {
                ""
            } else {
                "{}"
            }))
            .unwrap();
        let (status, _, body) = send(&f, req).await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_ne!(body["errors"][0]["detail"], "no such route", "{method} {path}");
    }
    let (status, _, _) = send(
        &f,
        request("GET", "/api/v1/nothing", &f.owner, "")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn resources_are_paged_with_a_next_link() {
    let f = fixture();
    let (status, _, body) = send(
        &f,
        request("GET", "/api/v1/members?page[number]=1&page[size]=3", &f.owner, "")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let total = body["meta"]["total"].as_u64().unwrap();
    assert!(total > 3);
    assert_eq!(body["data"].as_array().unwrap().len(), 3);
    assert_eq!(body["data"][0]["type"], "member");
    assert!(body["data"][0]["attributes"]["email"].is_string());
    assert!(body["data"][0]["attributes"].get("id").is_none());
    assert_eq!(body["links"]["next"], "/api/v1/members?page[number]=2&page[size]=3");
    let last = total.div_ceil(3);
    let (_, _, body) = send(
        &f,
        request(
            "GET",
            &format!("/api/v1/members?page[number]={last}&page[size]=3"),
            &f.owner,
            "",
        )
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert!(body["links"]["next"].is_null());
    let (status, _, body) = send(
        &f,
        request("GET", "/api/v1/members?page[size]=0", &f.owner, "")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"][0]["detail"].as_str().unwrap().contains("page[size]"));
}

#[tokio::test]
async fn writes_need_an_idempotency_key_and_replay_under_it() {
    let f = fixture();
    let body = r#"{"id": "run-1-a", "source_file": "company.csv", "actor": "x"}"#;
    let post = |key: Option<&str>, body: &'static str| {
        let mut b = request("POST", "/api/v1/runs", &f.owner, body);
        if let Some(k) = key {
            b = b.header("Idempotency-Key", k);
        }
        b.body(Body::from(body)).unwrap()
    };
    let (status, _, doc) = send(&f, post(None, body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(doc["errors"][0]["detail"].as_str().unwrap().contains("Idempotency-Key"));

    let (status, headers, first) = send(&f, post(Some("k1"), body)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(headers.get("idempotent-replayed").is_none());
    let (status, headers, again) = send(&f, post(Some("k1"), body)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(first, again);
    // One run recorded, as the key's member.
    let runs = f.state.workspace.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].actor.as_deref(), Some("olivia@northwind.example"));

    let other = r#"{"id": "run-2-b", "source_file": "company.csv", "actor": "x"}"#;
    let (status, _, doc) = send(&f, post(Some("k1"), other)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(doc["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("different request"));
}

#[tokio::test]
async fn a_malformed_body_gets_the_error_document() {
    let f = fixture();
    for body in ["{not json", r#"{"writes": [{"type": "rocket"}]}"#] {
        let req = request("POST", "/api/v1/runs/run-x/batches", &f.owner, body)
            .header("Idempotency-Key", "k")
            .body(Body::from(body))
            .unwrap();
        let (status, _, doc) = send(&f, req).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(doc["errors"][0]["status"], "422");
        assert!(doc["errors"][0]["detail"].as_str().unwrap().contains("line 1"), "{doc}");
    }
}

#[tokio::test]
async fn a_guest_key_is_refused_and_the_page_sends_to_sign_in() {
    let f = fixture();
    let (status, _, doc) = send(
        &f,
        request("GET", "/api/v1/workspace", &f.guest, "")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(doc["errors"][0]["detail"].as_str().unwrap().contains("role guest"));
    // Without a session the page is the way to sign in (the upload page
    // itself is tested signed in, in tests_session).
    let page = app(f.state.clone())
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/login");
}

#[tokio::test]
async fn a_guest_may_ask_who_they_are_but_not_list_the_members() {
    let f = fixture();
    let (status, _, doc) = send(
        &f,
        request("GET", "/api/v1/me", &f.guest, "").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["data"]["attributes"]["email"], "mo@freelance.example");
    assert_eq!(doc["data"]["attributes"]["role"], "guest");
    let (status, _, _) = send(
        &f,
        request("GET", "/api/v1/members", &f.guest, "")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = send(&f, Request::get("/api/v1/me").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_full_job_queue_answers_429_with_retry_after() {
    let f = fixture_with(|c| c.max_jobs = 0);
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"export\"; filename=\"a.csv\"\r\n\r\nurl\r\n--XyZ--\r\n";
    let req = Request::post("/api/v1/imports")
        .header("X-API-Key", &f.owner)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(Body::from(body))
        .unwrap();
    let (status, headers, doc) = send(&f, req).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    assert!(
        doc["errors"][0]["detail"].as_str().unwrap().contains("limit is 0"),
        "{doc}"
    );
}

#[tokio::test]
async fn uploads_are_owner_only_while_the_job_lives() {
    let f = fixture_with(|c| c.parse_wait = std::time::Duration::from_secs(30));
    let csv = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/lastpass/company.csv")).unwrap();
    let body = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"export\"; filename=\"../company.csv\"\r\n\r\n{csv}\r\n--XyZ--\r\n"
    );
    let req = Request::post("/api/v1/imports")
        .header("X-API-Key", &f.owner)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(Body::from(body))
        .unwrap();
    let (status, _, doc) = send(&f, req).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{doc}");
    let id = doc["data"]["id"].as_str().unwrap().to_owned();
    let dir = f.state.config.upload_root.join(&id);
    // The name cannot climb out of the job's folder.
    let file = dir.join("export-company.csv");
    assert!(file.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let req = request("DELETE", &format!("/api/v1/imports/{id}"), &f.owner, "")
        .body(Body::empty())
        .unwrap();
    // Planning may still be running; cancel is accepted either way.
    let (status, _, doc) = send(&f, req).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["data"]["attributes"]["state"], "cancelled");
    assert!(!dir.exists(), "the cancelled job's uploads are still there");
}

fn put_blob(key: &str, name: &str, bytes: Vec<u8>, length: Option<usize>) -> Request<Body> {
    let mut req = Request::builder()
        .method("PUT")
        .uri(format!("/api/v1/blobs/{name}"))
        .header("X-API-Key", key);
    if let Some(n) = length {
        req = req.header("content-length", n);
    }
    req.body(Body::from(bytes)).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn a_blob_is_kept_only_under_its_own_digest_and_only_for_admins() {
    let f = fixture_with(|c| c.max_blob_bytes = 1000);
    let bytes = b"scan of a passport \x00\xff".to_vec();
    let name = sha256_hex(&bytes);
    let staged = f.state.config.blob_root.join(&name);

    let (status, _, _) = send(&f, put_blob(&f.guest, &name, bytes.clone(), Some(bytes.len()))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a guest may not upload");
    let wrong = sha256_hex(b"other bytes");
    let (status, _, body) = send(&f, put_blob(&f.owner, &wrong, bytes.clone(), Some(bytes.len()))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(!f.state.config.blob_root.join(&wrong).exists());
    let (status, _, body) = send(&f, put_blob(&f.owner, &name, vec![1; 1001], Some(1001))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (status, _, _) = send(&f, put_blob(&f.owner, "../../ws.db", bytes.clone(), Some(bytes.len()))).await;
    assert!(status.is_client_error(), "{status}");
    let (status, _, body) = send(&f, put_blob(&f.owner, &name, bytes[..5].to_vec(), Some(bytes.len()))).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a body shorter than its Content-Length: {body}"
    );
    let (status, _, _) = send(&f, put_blob(&f.owner, &name, bytes.clone(), None)).await;
    assert_eq!(status, StatusCode::LENGTH_REQUIRED);
    assert!(!staged.exists(), "nothing kept by a refused upload");

    let (status, _, body) = send(&f, put_blob(&f.owner, &name, bytes.clone(), Some(bytes.len()))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(std::fs::read(&staged).unwrap(), bytes);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&staged).unwrap().permissions().mode() & 0o077, 0);
    }
    // Only the named file is left: no partial upload lies around.
    assert_eq!(std::fs::read_dir(&f.state.config.blob_root).unwrap().count(), 1);
}

#[tokio::test]
async fn a_batch_naming_bytes_never_uploaded_is_refused() {
    let f = fixture();
    let batch = serde_json::json!({"writes": [{"type": "secret", "secret": {
        "id": 0, "collection": null, "secret_type": "secret", "title": "Scan", "notes": null,
        "import_key": "secret:x:1", "imported_hash": "h",
        "attachments": [{"name": "scan.pdf", "size": 3, "sha256": "a".repeat(64), "uploaded": true}]}}]});
    let req = request("POST", "/api/v1/runs/run-b/batches", &f.owner, "")
        .header("idempotency-key", "b1")
        .body(Body::from(batch.to_string()))
        .unwrap();
    let (status, _, body) = send(&f, req).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let detail = body["errors"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("scan.pdf") && detail.contains("/api/v1/blobs/"),
        "{detail}"
    );
}

mod jobs_access;
mod uploads;
