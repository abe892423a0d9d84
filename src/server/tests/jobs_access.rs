//! Issue 22, the upload/job side: whose jobs an admin may touch, and that
//! the server's upload paths never reach a client.

use super::*;

/// A multipart body of `(part, file name, bytes)`.
pub(super) fn multipart(parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (part, name, bytes) in parts {
        body.extend_from_slice(
            format!("--XyZ\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--XyZ--\r\n");
    body
}

pub(super) fn upload_request(key: &str, body: Vec<u8>) -> Request<Body> {
    Request::post("/api/v1/imports")
        .header("X-API-Key", key)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(Body::from(body))
        .unwrap()
}

pub(super) fn sample(rel: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(rel),
    )
    .unwrap()
}

pub(super) async fn get(f: &Fixture, key: &str, uri: &str) -> (StatusCode, Value) {
    let (status, _, doc) = send(f, request("GET", uri, key, "").body(Body::empty()).unwrap()).await;
    (status, doc)
}

/// Polls the job until it is in `state` (or fails the test after 60 s).
pub(super) async fn wait_for(f: &Fixture, key: &str, id: &str, state: &str) -> Value {
    for _ in 0..600 {
        let (status, doc) = get(f, key, &format!("/api/v1/imports/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{doc}");
        let now = doc["data"]["attributes"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if now == state {
            return doc;
        }
        assert!(
            !matches!(now.as_str(), "failed" | "cancelled" | "done") || now == state,
            "the job is {now}, waited for {state}: {doc}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("job {id} never became {state}");
}

/// Uploads the LastPass sample (with its sharing file) as `key`; returns
/// the planned job's id.
pub(super) async fn planned_job(f: &Fixture, key: &str) -> String {
    let body = multipart(&[
        ("export", "company.csv", &sample("lastpass/company.csv")),
        (
            "sharing",
            "sharing.json",
            &sample("lastpass/sharing-getdetailedsfdata.json"),
        ),
    ]);
    let (status, _, doc) = send(f, upload_request(key, body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{doc}");
    let id = doc["data"]["id"].as_str().unwrap().to_owned();
    wait_for(f, key, &id, "planned").await;
    id
}

/// A second admin beside Sam: Lee is made one for the test.
fn two_admins() -> (Fixture, String, String) {
    let f = fixture_with(|c| c.parse_wait = std::time::Duration::from_secs(30));
    let conn = rusqlite::Connection::open(f._dir.path().join("ws.db")).unwrap();
    conn.execute(
        "UPDATE members SET role = 'admin' WHERE email = 'lee@northwind.example'",
        [],
    )
    .unwrap();
    let (sam, _) = f.state.store.create_api_key("sam@northwind.example").unwrap();
    let (lee, _) = f.state.store.create_api_key("lee@northwind.example").unwrap();
    (f, sam, lee)
}

#[tokio::test]
async fn another_admins_job_is_not_found_and_the_owner_applies_it_as_themselves() {
    let (f, sam, lee) = two_admins();
    let id = planned_job(&f, &sam).await;
    let base = format!("/api/v1/imports/{id}");

    // Lee, another admin: the job does not exist for him, whatever he tries.
    for (method, uri) in [
        ("GET", base.clone()),
        ("GET", format!("{base}/report")),
        ("POST", format!("{base}/apply")),
        ("DELETE", base.clone()),
    ] {
        let (status, _, doc) = send(&f, request(method, &uri, &lee, "").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {uri}: {doc}");
        assert_eq!(doc["errors"][0]["detail"], "no import with that id");
    }
    // Untouched: still planned, its uploads still there.
    let doc = wait_for(&f, &sam, &id, "planned").await;
    assert!(doc["data"]["attributes"]["run_id"].is_null());

    // The owner sees every job and applies Sam's: the run is Olivia's.
    let (status, _) = get(&f, &f.owner, &base).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, doc) = send(
        &f,
        request("POST", &format!("{base}/apply"), &f.owner, "")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{doc}");
    let doc = wait_for(&f, &sam, &id, "done").await;
    let run_id = doc["data"]["attributes"]["run_id"].as_str().unwrap().to_owned();
    let conn = rusqlite::Connection::open(f._dir.path().join("ws.db")).unwrap();
    let actor: String = conn
        .query_row("SELECT actor FROM import_runs WHERE id = ?1", [&run_id], |r| r.get(0))
        .unwrap();
    assert_eq!(actor, "olivia@northwind.example");
    let audited: Vec<String> = conn
        .prepare("SELECT actor FROM audit_log WHERE action = 'import.start' AND object LIKE ?1")
        .unwrap()
        .query_map([format!("run {run_id} %")], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(audited, ["olivia@northwind.example"]);
    let (_, runs) = get(&f, &f.owner, "/api/v1/runs").await;
    let run = runs["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == run_id.as_str())
        .unwrap();
    assert_eq!(run["attributes"]["actor"], "olivia@northwind.example");
}

#[tokio::test]
async fn an_admin_sees_and_cancels_their_own_job() {
    let (f, sam, lee) = two_admins();
    let id = planned_job(&f, &lee).await;
    let (status, _) = get(&f, &sam, &format!("/api/v1/imports/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, doc) = send(
        &f,
        request("DELETE", &format!("/api/v1/imports/{id}"), &lee, "")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["data"]["attributes"]["state"], "cancelled");
}

/// Everything a client can read about a job, as text.
async fn everything_shown(f: &Fixture, key: &str, id: &str) -> String {
    let mut all = String::new();
    for format in ["json", "html", "csv"] {
        let response = app(f.state.clone())
            .oneshot(
                request("GET", &format!("/api/v1/imports/{id}/report?format={format}"), key, "")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{format}");
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert!(bytes.len() > 100, "the {format} report is empty");
        all.push_str(&String::from_utf8_lossy(&bytes));
    }
    let (_, doc) = get(f, key, &format!("/api/v1/imports/{id}")).await;
    all.push_str(&doc.to_string());
    let (_, runs) = get(f, key, "/api/v1/runs").await;
    all.push_str(&runs.to_string());
    all
}

#[tokio::test]
async fn server_paths_never_reach_clients_in_reports_or_runs() {
    let f = fixture_with(|c| c.parse_wait = std::time::Duration::from_secs(30));
    let root = f.state.config.upload_root.display().to_string();
    let id = planned_job(&f, &f.owner).await;
    let shown = everything_shown(&f, &f.owner, &id).await;
    assert!(!shown.contains(&root), "the planned job shows {root}");
    assert!(!shown.contains("export-company.csv"), "the server's copy is named");
    assert!(shown.contains("company.csv"));

    let (status, _, doc) = send(
        &f,
        request("POST", &format!("/api/v1/imports/{id}/apply"), &f.owner, "")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{doc}");
    let doc = wait_for(&f, &f.owner, &id, "done").await;
    let shown = everything_shown(&f, &f.owner, &id).await;
    assert!(!shown.contains(&root), "the applied job or GET /runs shows {root}");
    let run_id = doc["data"]["attributes"]["run_id"].as_str().unwrap();
    let (_, runs) = get(&f, &f.owner, "/api/v1/runs").await;
    let run = runs["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == run_id)
        .unwrap();
    assert_eq!(run["attributes"]["source_file"], "company.csv");

    // A bad upload's error names the file as uploaded.
    let body = multipart(&[("export", "broken.1pif", b"{not a 1pif at all")]);
    let (status, _, doc) = send(&f, upload_request(&f.owner, body)).await;
    assert!(status.is_client_error(), "{status} {doc}");
    let text = doc.to_string();
    assert!(!text.contains(&root), "{text}");
}

#[tokio::test]
async fn a_1pux_jobs_reports_name_no_server_path_either() {
    let f = fixture_with(|c| c.parse_wait = std::time::Duration::from_secs(30));
    let root = f.state.config.upload_root.display().to_string();
    let body = multipart(&[
        ("export", "company.1pux", &sample("onepassword/company.1pux")),
        ("sharing", "permissions.json", &sample("onepassword/permissions.json")),
    ]);
    let (status, _, doc) = send(&f, upload_request(&f.owner, body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{doc}");
    let id = doc["data"]["id"].as_str().unwrap().to_owned();
    wait_for(&f, &f.owner, &id, "planned").await;
    let shown = everything_shown(&f, &f.owner, &id).await;
    assert!(!shown.contains(&root), "the 1PUX job shows {root}");
    assert!(shown.contains("company.1pux"));
}
