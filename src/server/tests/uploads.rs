//! Issue 22: uploads are refused early, never hold the admission lock,
//! and leave no folder behind them; planned jobs expire with their uploads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::jobs_access::{get, multipart, planned_job, sample, upload_request};
use super::*;

/// A body that sends `first` and then never ends (a stalled client); it
/// notes whether anyone ever polled it.
fn stalled_body(first: Vec<u8>, polled: Arc<AtomicBool>) -> Body {
    let head = futures_util::stream::once(async move {
        polled.store(true, Ordering::SeqCst);
        Ok::<_, std::io::Error>(axum::body::Bytes::from(first))
    });
    Body::from_stream(futures_util::StreamExt::chain(head, futures_util::stream::pending()))
}

fn stalled_upload(key: &str, polled: Arc<AtomicBool>, declared: Option<u64>) -> Request<Body> {
    let head =
        b"--XyZ\r\nContent-Disposition: form-data; name=\"export\"; filename=\"company.csv\"\r\n\r\nurl,username\r\n"
            .to_vec();
    let mut req = Request::post("/api/v1/imports")
        .header("X-API-Key", key)
        .header("content-type", "multipart/form-data; boundary=XyZ");
    if let Some(n) = declared {
        req = req.header("content-length", n);
    }
    req.body(stalled_body(head, polled)).unwrap()
}

fn folders(f: &Fixture) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(&f.state.config.upload_root)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_over_limit_content_length_is_refused_before_the_body_is_read() {
    let f = fixture_with(|c| c.max_upload_bytes = 1000);
    let polled = Arc::new(AtomicBool::new(false));
    let req = stalled_upload(&f.owner, polled.clone(), Some(10_000_000));
    let (status, _, doc) = tokio::time::timeout(Duration::from_secs(10), send(&f, req))
        .await
        .expect("the 413 waited for the body");
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{doc}");
    let detail = doc["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("10000000 bytes") && detail.contains("up to 1000 bytes"),
        "{detail}"
    );
    assert!(!polled.load(Ordering::SeqCst), "the body was read before the refusal");
    assert!(folders(&f).is_empty(), "a refused upload left a folder");
}

#[tokio::test]
async fn a_300_byte_file_name_is_accepted_as_metadata() {
    let f = fixture_with(|c| c.parse_wait = Duration::from_secs(30));
    let name = format!("{}.csv", "n".repeat(296));
    let body = multipart(&[("export", &name, &sample("lastpass/company.csv"))]);
    let (status, _, doc) = send(&f, upload_request(&f.owner, body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{doc}");
    let shown = doc["data"]["attributes"]["export"].as_str().unwrap();
    assert!(shown.len() <= 255 && shown.starts_with("nnn"), "{shown}");
    let id = doc["data"]["id"].as_str().unwrap();
    super::jobs_access::wait_for(&f, &f.owner, id, "planned").await;
}

#[tokio::test]
async fn a_stalled_upload_does_not_hold_up_another() {
    let f = fixture_with(|c| c.parse_wait = Duration::from_secs(30));
    let stalled =
        tokio::spawn(app(f.state.clone()).oneshot(stalled_upload(&f.owner, Arc::new(AtomicBool::new(false)), None)));
    // The stalled one is in: admitted, its folder made.
    for _ in 0..100 {
        if f.state.admission.arriving() == 1 && !folders(&f).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(f.state.admission.arriving(), 1);
    let body = multipart(&[("export", "company.csv", &sample("lastpass/company.csv"))]);
    let (status, _, doc) = tokio::time::timeout(Duration::from_secs(10), send(&f, upload_request(&f.owner, body)))
        .await
        .expect("the second upload waited for the stalled one");
    assert_eq!(status, StatusCode::ACCEPTED, "{doc}");
    stalled.abort();
    let _ = stalled.await;
    // Its slot and its folder went with it.
    assert_eq!(f.state.admission.arriving(), 0);
    let id = doc["data"]["id"].as_str().unwrap();
    assert_eq!(folders(&f), [f.state.config.upload_root.join(id)]);
}

#[tokio::test]
async fn a_slot_given_back_by_a_failed_upload_admits_the_next() {
    let f = fixture_with(|c| {
        c.max_jobs = 1;
        c.parse_wait = Duration::from_secs(30);
    });
    let body = multipart(&[("nonsense", "x.csv", b"url\r\n")]);
    let (status, _, _) = send(&f, upload_request(&f.owner, body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(folders(&f).is_empty(), "the refused upload left its folder");
    let body = multipart(&[("export", "company.csv", &sample("lastpass/company.csv"))]);
    let (status, _, doc) = send(&f, upload_request(&f.owner, body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{doc}");
}

#[tokio::test]
async fn an_upload_cut_off_by_the_timeout_leaves_no_folder() {
    let f = fixture_with(|c| c.request_timeout = Duration::from_millis(500));
    let req = stalled_upload(&f.owner, Arc::new(AtomicBool::new(false)), None);
    let (status, _, _) = send(&f, req).await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
    assert!(folders(&f).is_empty(), "left behind: {:?}", folders(&f));
    assert_eq!(f.state.admission.arriving(), 0);
}

#[tokio::test]
async fn start_up_deletes_upload_folders_no_job_owns() {
    let f = fixture_with(|c| c.parse_wait = Duration::from_secs(30));
    let id = planned_job(&f, &f.owner).await;
    let orphan = f.state.config.upload_root.join("job-0123456789abcdef01234567");
    std::fs::create_dir_all(&orphan).unwrap();
    std::fs::write(orphan.join("export-company.csv"), "url,password\nx,hunter2\n").unwrap();
    let db = f._dir.path().join("ws.db");
    let again = AppState::sqlite(SqliteWorkspace::open(&db).unwrap(), (*f.state.config).clone()).unwrap();
    assert!(!orphan.exists(), "the orphan folder is still there");
    let owned = again.config.upload_root.join(&id);
    assert!(owned.is_dir(), "the planned job's uploads went too");
}

#[tokio::test]
async fn a_planned_job_expires_with_its_uploads_and_answers_410() {
    let f = fixture_with(|c| c.parse_wait = Duration::from_secs(30));
    let id = planned_job(&f, &f.owner).await;
    let dir = f.state.config.upload_root.join(&id);
    let ttl = Duration::from_secs(3600);
    // Not yet: planned a moment ago.
    let expired = crate::server::uploads::expire(f.state.store.as_ref(), ttl, crate::server::uploads::now()).unwrap();
    assert!(expired.is_empty());
    assert!(dir.is_dir());
    // Two hours on.
    let expired =
        crate::server::uploads::expire(f.state.store.as_ref(), ttl, crate::server::uploads::now() + 7200).unwrap();
    assert_eq!(expired, std::slice::from_ref(&id));
    assert!(!dir.exists(), "the expired job's uploads are still there");
    for (method, uri) in [
        ("GET", format!("/api/v1/imports/{id}")),
        ("GET", format!("/api/v1/imports/{id}/report")),
        ("POST", format!("/api/v1/imports/{id}/apply")),
    ] {
        let (status, _, doc) = send(&f, request(method, &uri, &f.owner, "").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::GONE, "{method} {uri}: {doc}");
        assert!(
            doc["errors"][0]["detail"]
                .as_str()
                .unwrap()
                .contains("--planned-job-ttl"),
            "{doc}"
        );
    }
}

#[tokio::test]
async fn an_applied_job_keeps_no_upload() {
    let f = fixture_with(|c| c.parse_wait = Duration::from_secs(30));
    let id = planned_job(&f, &f.owner).await;
    let dir = f.state.config.upload_root.join(&id);
    assert!(dir.is_dir());
    let (status, _, doc) = send(
        &f,
        request("POST", &format!("/api/v1/imports/{id}/apply"), &f.owner, "")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{doc}");
    super::jobs_access::wait_for(&f, &f.owner, &id, "done").await;
    assert!(!dir.exists(), "the applied job's uploads are still there");
    let (status, _) = get(&f, &f.owner, &format!("/api/v1/imports/{id}")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_json_batch_over_its_limit_is_413_naming_the_limit() {
    let f = fixture();
    let limit = crate::server::json_limit::BATCH_BYTES;
    // Declared: refused before the body is read.
    let polled = Arc::new(AtomicBool::new(false));
    let req = request("POST", "/api/v1/runs/run-x/batches", &f.owner, "")
        .header("idempotency-key", "big")
        .header("content-length", limit as u64 + 1)
        .body(stalled_body(b"{\"writes\": [".to_vec(), polled.clone()))
        .unwrap();
    let (status, _, doc) = tokio::time::timeout(Duration::from_secs(10), send(&f, req))
        .await
        .expect("the 413 waited for the body");
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{doc}");
    let detail = doc["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("up to 33554432 bytes (32 MiB)"), "{detail}");
    assert!(!polled.load(Ordering::SeqCst));
    // Not declared (chunked): refused once it passes the limit.
    let mut big = b"{\"writes\": [], \"pad\": \"".to_vec();
    big.resize(limit + 1024, b'x');
    let req = request("POST", "/api/v1/runs/run-x/batches", &f.owner, "")
        .header("idempotency-key", "big2")
        .body(Body::from_stream(futures_util::stream::iter(
            big.chunks(1 << 20)
                .map(|c| Ok::<_, std::io::Error>(axum::body::Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>(),
        )))
        .unwrap();
    let (status, _, doc) = send(&f, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{doc}");
    assert!(doc["errors"][0]["detail"].as_str().unwrap().contains("32 MiB"), "{doc}");
}

/// A 1PUX whose one item holds `size` bytes of one letter: a few KB zipped.
fn bomb(size: usize) -> Vec<u8> {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("export.attributes", deflated).unwrap();
    zip.write_all(br#"{"version": 3}"#).unwrap();
    zip.start_file("export.data", deflated).unwrap();
    zip.write_all(br#"{"accounts":[{"attrs":{"email":"olivia@northwind.example"},"vaults":[{"attrs":{"name":"V"},"items":[{"uuid":"x","overview":{"title":""#)
        .unwrap();
    let block = vec![b'a'; 1 << 16];
    for _ in 0..size / block.len() {
        zip.write_all(&block).unwrap();
    }
    zip.write_all(br#""}}]}]}]}"#).unwrap();
    zip.finish().unwrap().into_inner()
}

#[tokio::test]
async fn a_1pux_bomb_stops_at_the_item_limit_with_a_422() {
    let f = fixture_with(|c| {
        c.parse_wait = Duration::from_secs(60);
        c.limits.max_item_bytes = 1 << 20;
    });
    let archive = bomb(16 << 20);
    assert!(archive.len() < 200_000, "{} bytes zipped", archive.len());
    let body = multipart(&[("export", "company.1pux", &archive)]);
    let (status, _, doc) = send(&f, upload_request(&f.owner, body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{doc}");
    let detail = doc["errors"][0]["detail"].as_str().unwrap();
    // Stopped after 1 MiB of the 16 MiB item, not after reading it whole.
    assert!(
        detail.contains("more than 1048576 bytes") && detail.contains("export.data"),
        "{detail}"
    );
    assert!(folders(&f).is_empty(), "the failed job kept its upload");
}
