//! `vaultferry serve` on loopback, driven like a user would: the HTTP
//! target against `--db`, refused keys, upload limits, many jobs at once, a
//! server killed mid-apply, a bad upload, and the OpenAPI file against the
//! routes.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{sample, vaultferry};
use reqwest::blocking::{multipart, Client};
use serde_json::Value;
use vaultferry::workspace::{open_sqlite, Snapshot};

/// A `vaultferry serve` child, killed when dropped (even when a test fails).
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(db: &Path, extra: &[&str]) -> Server {
        Server::start_logged(db, extra, None)
    }

    /// With the server's stderr (its log) written to `log`.
    fn start_logged(db: &Path, extra: &[&str], log: Option<&Path>) -> Server {
        let stderr = match log {
            Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
            None => Stdio::null(),
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_vaultferry"))
            .arg("serve")
            .arg("--db")
            .arg(db)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start vaultferry serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("vaultferry serve did not print its address within 30 s");
            }
        };
        Server { child, url }
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> Client {
    Client::builder().timeout(Duration::from_secs(60)).build().unwrap()
}

fn init_db(dir: &Path, name: &str) -> PathBuf {
    let db = dir.join(name);
    vaultferry(&[
        "workspace",
        "init",
        "--db",
        db.to_str().unwrap(),
        "--seed",
        sample("workspace.toml").to_str().unwrap(),
    ])
    .success();
    db
}

fn api_key(db: &Path, email: &str) -> String {
    let run = vaultferry(&["apikey", "create", "--db", db.to_str().unwrap(), "--member", email]).success();
    let key = run.stdout.trim().to_owned();
    assert!(key.starts_with("vfk_") && key.len() > 60, "{}", run.describe());
    key
}

const OWNER: &str = "olivia@northwind.example";

fn export() -> PathBuf {
    sample("lastpass/company.csv")
}

fn sharing() -> PathBuf {
    sample("lastpass/sharing-getdetailedsfdata.json")
}

fn upload_form(export: &Path, sharing: Option<&Path>) -> multipart::Form {
    let mut form = multipart::Form::new().file("export", export).unwrap();
    if let Some(s) = sharing {
        form = form.file("sharing", s).unwrap();
    }
    form
}

fn submit(c: &Client, server: &Server, key: &str) -> (u16, Value) {
    let r = c
        .post(format!("{}/api/v1/imports", server.url))
        .header("X-API-Key", key)
        .multipart(upload_form(&export(), Some(&sharing())))
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn job(c: &Client, server: &Server, key: &str, id: &str) -> Value {
    c.get(format!("{}/api/v1/imports/{id}", server.url))
        .header("X-API-Key", key)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// Polls a job until its state is one of `states` (bounded).
fn wait_for(c: &Client, server: &Server, key: &str, id: &str, states: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let doc = job(c, server, key, id);
        let state = doc["data"]["attributes"]["state"].as_str().unwrap_or("").to_owned();
        if states.contains(&state.as_str()) {
            return doc;
        }
        assert!(
            !matches!(state.as_str(), "failed" | "cancelled") || states.contains(&state.as_str()),
            "job {id} ended {state}: {doc}"
        );
        assert!(Instant::now() < deadline, "job {id} still {state} after 120 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The workspace as a user sees it: no ids (each reference replaced by
/// the email, name or import key it points to), lists sorted.
fn normalized(snapshot: &Snapshot) -> Value {
    use std::collections::HashMap;
    let mut labels: HashMap<(&str, i64), String> = HashMap::new();
    for m in &snapshot.members {
        labels.insert(("member", m.id), m.email.clone());
    }
    for t in &snapshot.teams {
        labels.insert(("team", t.id), t.name.clone());
    }
    for p in &snapshot.partners {
        labels.insert(("partner", p.id), p.name.clone());
    }
    for p in &snapshot.partnerships {
        labels.insert(("partnership", p.id), p.partner_workspace_id.clone());
    }
    for c in &snapshot.collections {
        let label = c
            .import_key
            .as_ref()
            .map(|k| k.0.to_string())
            .unwrap_or_else(|| c.name.clone());
        labels.insert(("collection", c.id), label);
    }
    for a in &snapshot.accounts {
        let label = a
            .import
            .import_key
            .as_ref()
            .map(|k| k.0.to_string())
            .unwrap_or_else(|| a.name.clone());
        labels.insert(("account", a.id), label);
    }
    for s in &snapshot.secrets {
        let label = s
            .import
            .import_key
            .as_ref()
            .map(|k| k.0.to_string())
            .unwrap_or_else(|| s.title.clone());
        labels.insert(("secret", s.id), label);
    }
    let label = |kind: &str, v: &Value| -> Value {
        match v.as_i64() {
            Some(id) => Value::String(
                labels
                    .get(&(kind, id))
                    .cloned()
                    .unwrap_or_else(|| format!("?{kind}{id}")),
            ),
            None => v.clone(),
        }
    };
    let json = vaultferry::secret::reveal(|| serde_json::to_value(snapshot).unwrap());
    let mut out = serde_json::Map::new();
    for (section, value) in json.as_object().unwrap() {
        let Some(items) = value.as_array() else {
            out.insert(section.clone(), value.clone());
            continue;
        };
        let mut items: Vec<Value> = items
            .iter()
            .map(|item| {
                let mut item = item.clone();
                let obj = item.as_object_mut().unwrap();
                obj.remove("id");
                for (field, kind) in [
                    ("parent", "collection"),
                    ("collection", "collection"),
                    ("member", "member"),
                    ("partner", "partner"),
                ] {
                    if let Some(v) = obj.get_mut(field) {
                        *v = label(kind, v);
                    }
                }
                for field in ["members", "guest_admins", "guest_users"] {
                    if let Some(Value::Array(ids)) = obj.get_mut(field) {
                        let mut l: Vec<Value> = ids.iter().map(|v| label("member", v)).collect();
                        l.sort_by_key(|v| v.to_string());
                        *ids = l;
                    }
                }
                for field in ["target", "grantee"] {
                    if let Some(t) = obj.get_mut(field) {
                        let kind = t["type"].as_str().unwrap_or("").to_owned();
                        t["id"] = label(&kind, &t["id"]);
                    }
                }
                item
            })
            .collect();
        items.sort_by_key(|v| v.to_string());
        out.insert(section.clone(), Value::Array(items));
    }
    Value::Object(out)
}

fn snapshot(db: &Path) -> Snapshot {
    open_sqlite(db).unwrap().snapshot().unwrap()
}

fn migrate_db(db: &Path, cwd: &Path) {
    common::vaultferry_in(
        cwd,
        &[
            "migrate",
            export().to_str().unwrap(),
            "--sharing",
            sharing().to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--yes",
        ],
    )
    .success();
}

#[test]
fn migrate_through_the_http_target_gives_the_same_workspace_as_db() {
    let dir = tempfile::tempdir().unwrap();
    let local = init_db(dir.path(), "local.db");
    let remote = init_db(dir.path(), "remote.db");
    let key = api_key(&remote, OWNER);
    migrate_db(&local, dir.path());

    let log = dir.path().join("serve.log");
    let server = Server::start_logged(&remote, &[], Some(&log));
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec![
            "migrate".into(),
            export().display().to_string(),
            "--sharing".into(),
            sharing().display().to_string(),
            "--target".into(),
            server.url.clone(),
            "--api-key".into(),
            key.clone(),
            "--yes".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let first = args(&[]);
    let run = common::vaultferry_in(dir.path(), &first.iter().map(String::as_str).collect::<Vec<_>>()).success();
    assert!(run.stdout.contains("run id: run-"), "{}", run.describe());
    assert!(
        !run.stderr.contains(&key) && !run.stdout.contains(&key),
        "the API key was printed"
    );

    // Plan through the target after the run: nothing left to write.
    let again = args(&["--json"]);
    let rerun = common::vaultferry_in(dir.path(), &again.iter().map(String::as_str).collect::<Vec<_>>()).success();
    let report = rerun.json();
    assert_eq!(report["written"], 0, "{}", rerun.describe());
    drop(server);

    // Passwords crossed the API, but none is in the server's log, the
    // audit trail or the recorded answers.
    let revealed = vaultferry(&["inspect", export().to_str().unwrap(), "--json", "--reveal"])
        .success()
        .json();
    let secrets = common::secrets_in_revealed(&revealed);
    assert!(secrets.len() > 5);
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("listening on"));
    common::assert_no_secrets("the server's log", &log_text, &secrets);
    let conn = rusqlite::Connection::open(&remote).unwrap();
    let audit: String = conn
        .query_row(
            "SELECT group_concat(actor || action || object, '\n') FROM audit_log",
            [],
            |r| r.get(0),
        )
        .unwrap();
    common::assert_no_secrets("the audit log", &audit, &secrets);
    let records: String = conn
        .query_row(
            "SELECT group_concat(response, '\n') FROM idempotency_records",
            [],
            |r| r.get(0),
        )
        .unwrap();
    common::assert_no_secrets("the idempotency records", &records, &secrets);
    drop(conn);

    let (a, b) = (snapshot(&local), snapshot(&remote));
    assert!(!a.accounts.is_empty() && !a.grants.is_empty());
    assert_eq!(a.accounts.len(), b.accounts.len());
    assert_eq!(normalized(&a), normalized(&b));
}

#[test]
fn guest_and_login_only_keys_are_refused_and_every_request_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_db(dir.path(), "ws.db");
    let guest = api_key(&db, "mo@freelance.example");
    let kiosk = api_key(&db, "kiosk@northwind.example");
    let user = api_key(&db, "dana@northwind.example");
    let admin = api_key(&db, "sam@northwind.example");
    let server = Server::start(&db, &[]);
    let c = client();
    for (key, role) in [(&guest, "guest"), (&kiosk, "login_only"), (&user, "user")] {
        let r = c
            .get(format!("{}/api/v1/accounts", server.url))
            .header("X-API-Key", key.as_str())
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "{role}");
        let body: Value = r.json().unwrap();
        let detail = body["errors"][0]["detail"].as_str().unwrap();
        assert!(
            detail.contains(role) && detail.contains("only the workspace owner, super admins and admins"),
            "{detail}"
        );
        // Nor may they start an import.
        let (status, _) = submit(&c, &server, key);
        assert_eq!(status, 403, "{role} started an import");
    }
    let r = c.get(format!("{}/api/v1/members", server.url)).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = c
        .get(format!("{}/api/v1/members", server.url))
        .header("X-API-Key", "vfk_not-a-key")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = c
        .get(format!("{}/api/v1/members", server.url))
        .header("X-API-Key", admin.as_str())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    drop(server);

    let conn = rusqlite::Connection::open(&db).unwrap();
    let rows: Vec<(String, String, String)> = conn
        .prepare("SELECT actor, action, object FROM audit_log WHERE action LIKE 'http %' ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 9, "{rows:?}");
    // Who, with which key (its id and prefix, never the key).
    let by = |who: &str, action: &str, status: &str| {
        rows.iter()
            .any(|(a, b, c)| a.starts_with(&format!("{who} (key #")) && a.ends_with("…)") && b == action && c == status)
    };
    assert!(
        by("mo@freelance.example", "http GET /api/v1/accounts", "status 403"),
        "{rows:?}"
    );
    assert!(rows.contains(&(
        "anonymous".into(),
        "http GET /api/v1/members".into(),
        "status 401".into()
    )));
    assert!(
        by("sam@northwind.example", "http GET /api/v1/members", "status 200"),
        "{rows:?}"
    );
    for (actor, _, _) in &rows {
        assert!(!actor.contains(&admin[12..]), "the audit log holds a key");
    }
    for (_, _, object) in &rows {
        assert!(object.starts_with("status "), "{object}");
    }
    // Keys are stored hashed only.
    let all: String = conn
        .query_row("SELECT group_concat(key_hash) FROM api_keys", [], |r| r.get(0))
        .unwrap();
    assert!(!all.contains(&admin) && !all.contains(&guest[4..]));
}

#[test]
fn an_oversized_upload_gets_413_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_db(dir.path(), "ws.db");
    let key = api_key(&db, OWNER);
    let server = Server::start(&db, &["--max-upload-bytes", "20000"]);
    let big = dir.path().join("big.csv");
    let mut text = std::fs::read_to_string(export()).unwrap();
    while text.len() < 60_000 {
        text.push_str("https://example.com,u,p,,,n,g,0\n");
    }
    std::fs::write(&big, text).unwrap();
    let c = client();
    let r = c
        .post(format!("{}/api/v1/imports", server.url))
        .header("X-API-Key", key.as_str())
        .multipart(upload_form(&big, None))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let body: Value = r.json().unwrap();
    assert!(
        body["errors"][0]["detail"].as_str().unwrap().contains("20000 bytes"),
        "{body}"
    );
    // Nothing of the refused upload is left behind.
    let uploads = PathBuf::from(format!("{}.uploads", db.display()));
    let left = std::fs::read_dir(&uploads).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "upload folders left behind");
    // Still serving: reads and a normal upload work.
    let r = c
        .get(format!("{}/api/v1/workspace", server.url))
        .header("X-API-Key", key.as_str())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (status, doc) = submit(&c, &server, &key);
    assert_eq!(status, 202, "{doc}");
    let id = doc["data"]["id"].as_str().unwrap().to_owned();
    wait_for(&c, &server, &key, &id, &["planned"]);
}

#[test]
fn fifty_concurrent_submissions_all_finish() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_db(dir.path(), "ws.db");
    let key = api_key(&db, OWNER);
    let server = Server::start(&db, &[]);
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|_| {
                s.spawn(|| {
                    let (status, doc) = submit(&client(), &server, &key);
                    assert_eq!(status, 202, "{doc}");
                    doc["data"]["id"].as_str().unwrap().to_owned()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let c = client();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 50);
    for id in &ids {
        let doc = wait_for(&c, &server, &key, id, &["planned"]);
        assert!(doc["data"]["attributes"]["summary"]["to_write"].as_u64().unwrap() > 0);
    }
    // Cancelling discards each job's uploads.
    for id in &ids {
        let r = c
            .delete(format!("{}/api/v1/imports/{id}", server.url))
            .header("X-API-Key", key.as_str())
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    let uploads = PathBuf::from(format!("{}.uploads", db.display()));
    let left = std::fs::read_dir(&uploads).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "cancelled jobs left uploads behind");
}

#[test]
fn a_server_killed_mid_apply_finishes_on_reapply_with_nothing_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let clean = init_db(dir.path(), "clean.db");
    migrate_db(&clean, dir.path());
    let db = init_db(dir.path(), "ws.db");
    let key = api_key(&db, OWNER);
    let c = client();

    let server = Server::start(&db, &["--batch-size", "1", "--write-delay-ms", "40"]);
    let (status, doc) = submit(&c, &server, &key);
    assert_eq!(status, 202, "{doc}");
    let id = doc["data"]["id"].as_str().unwrap().to_owned();
    wait_for(&c, &server, &key, &id, &["planned"]);
    let r = c
        .post(format!("{}/api/v1/imports/{id}/apply", server.url))
        .header("X-API-Key", key.as_str())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    // Kill it once some accounts are written, well before the end.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let doc = job(&c, &server, &key, &id);
        let p = &doc["data"]["attributes"]["progress"];
        if p["phase"] == "accounts and secrets" && p["done"].as_u64().unwrap_or(0) >= 3 {
            break;
        }
        assert_ne!(
            doc["data"]["attributes"]["state"], "done",
            "apply finished before the kill"
        );
        assert!(Instant::now() < deadline, "apply never got going: {doc}");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    let partial = snapshot(&db);
    assert!(
        partial.accounts.len() + partial.secrets.len()
            < snapshot(&clean).accounts.len() + snapshot(&clean).secrets.len()
    );

    let server = Server::start(&db, &[]);
    let doc = job(&c, &server, &key, &id);
    assert_eq!(doc["data"]["attributes"]["state"], "failed", "{doc}");
    assert_eq!(doc["data"]["attributes"]["resumable"], true, "{doc}");
    let r = c
        .post(format!("{}/api/v1/imports/{id}/apply", server.url))
        .header("X-API-Key", key.as_str())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    wait_for(&c, &server, &key, &id, &["done"]);
    // The job's uploads are gone once it is done.
    let uploads = PathBuf::from(format!("{}.uploads", db.display()));
    assert_eq!(std::fs::read_dir(&uploads).map(|d| d.count()).unwrap_or(0), 0);
    // Reports of the finished job.
    let html = c
        .get(format!("{}/api/v1/imports/{id}/report", server.url))
        .header("X-API-Key", key.as_str())
        .header("Accept", "text/html")
        .send()
        .unwrap();
    assert_eq!(html.headers()["content-type"], "text/html; charset=utf-8");
    assert!(html.text().unwrap().contains("<html"));
    let csv = c
        .get(format!("{}/api/v1/imports/{id}/report", server.url))
        .header("X-API-Key", key.as_str())
        .header("Accept", "text/csv")
        .send()
        .unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    drop(server);

    assert_eq!(normalized(&snapshot(&db)), normalized(&snapshot(&clean)));
}

#[test]
fn a_bad_upload_gets_422_with_the_parsers_positioned_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_db(dir.path(), "ws.db");
    let key = api_key(&db, OWNER);
    let server = Server::start(&db, &[]);
    let bad = dir.path().join("notes.txt");
    std::fs::write(&bad, "just some notes\nnot an export\n").unwrap();
    let c = client();
    let r = c
        .post(format!("{}/api/v1/imports", server.url))
        .header("X-API-Key", key.as_str())
        .multipart(upload_form(&bad, None))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let body: Value = r.json().unwrap();
    let detail = body["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.starts_with("notes.txt:line 1: "), "{detail}");
    assert!(detail.contains("expected a LastPass CSV"), "{detail}");
    assert!(!detail.contains(".uploads"), "the server's path leaked: {detail}");
    let uploads = PathBuf::from(format!("{}.uploads", db.display()));
    assert_eq!(std::fs::read_dir(&uploads).map(|d| d.count()).unwrap_or(0), 0);
}

#[test]
fn the_openapi_file_documents_exactly_the_routes() {
    let text = std::fs::read_to_string(common::root().join("formats/openapi.json")).unwrap();
    let spec: Value = serde_json::from_str(&text).unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented: Vec<(String, String)> = vec![];
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    documented.sort();
    let mut routes: Vec<(String, String)> = vaultferry::server::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    routes.sort();
    assert_eq!(documented, routes);
}

#[test]
fn a_large_export_through_the_target_is_sent_in_parallel_chunks_and_equals_db() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("big.csv");
    let mut text = String::from("url,username,password,totp,extra,name,grouping,fav\n");
    for i in 0..450 {
        text.push_str(&format!(
            "https://app{i}.example/login,user{i},Pw-{i}-x!Q9,,note {i},App {i},Ops\\Area {},0\n",
            i % 7
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let local = init_db(dir.path(), "local.db");
    let remote = init_db(dir.path(), "remote.db");
    let key = api_key(&remote, OWNER);
    let (c, l, r) = (csv.to_str().unwrap(), local.to_str().unwrap(), remote.to_str().unwrap());
    common::vaultferry_in(dir.path(), &["migrate", c, "--db", l, "--yes"]).success();
    let server = Server::start(&remote, &[]);
    common::vaultferry_in(
        dir.path(),
        &["migrate", c, "--target", &server.url, "--api-key", &key, "--yes"],
    )
    .success();
    drop(server);
    let conn = rusqlite::Connection::open(r).unwrap();
    let batches: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action LIKE 'http POST /api/v1/runs/%/batches'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(
        batches >= 5,
        "450 accounts went in {batches} requests, expected chunks of at most 100"
    );
    let (a, b) = (snapshot(&local), snapshot(&remote));
    assert_eq!(a.accounts.len(), 450);
    assert_eq!(normalized(&a), normalized(&b));
}

#[test]
fn apikey_create_refuses_an_unknown_member_and_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_db(dir.path(), "ws.db");
    let run = vaultferry(&[
        "apikey",
        "create",
        "--db",
        db.to_str().unwrap(),
        "--member",
        "nobody@northwind.example",
    ])
    .expect_code(2);
    assert!(run.stdout.is_empty(), "{}", run.describe());
    assert!(
        run.stderr.contains("no member with the email nobody@northwind.example"),
        "{}",
        run.describe()
    );
    // A guest's key is created (so it can be refused), with a note saying so.
    let run = vaultferry(&[
        "apikey",
        "create",
        "--db",
        db.to_str().unwrap(),
        "--member",
        "mo@freelance.example",
    ])
    .success();
    assert!(run.stderr.contains("will refuse this key"), "{}", run.describe());
}

/// Every import key in the store, sorted (collections, grants, items).
fn import_keys(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut st = conn
        .prepare(
            "SELECT import_key FROM collections UNION ALL SELECT import_key FROM grants
             UNION ALL SELECT import_key FROM accounts UNION ALL SELECT import_key FROM secrets ORDER BY 1",
        )
        .unwrap();
    let keys = st
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .unwrap()
        .filter_map(Result::unwrap)
        .collect();
    keys
}

/// Uploads `export` (and `sharing`) as a job and waits for its plan.
fn planned_job(c: &Client, server: &Server, key: &str, export: &Path, sharing: Option<&Path>) -> (String, Value) {
    let r = c
        .post(format!("{}/api/v1/imports", server.url))
        .header("X-API-Key", key)
        .multipart(upload_form(export, sharing))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let doc: Value = r.json().unwrap();
    let id = doc["data"]["id"].as_str().unwrap().to_owned();
    let doc = wait_for(c, server, key, &id, &["planned"]);
    (id, doc)
}

fn apply_job(c: &Client, server: &Server, key: &str, id: &str) -> Value {
    let r = c
        .post(format!("{}/api/v1/imports/{id}/apply", server.url))
        .header("X-API-Key", key)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    wait_for(c, server, key, id, &["done"])
}

#[test]
fn issue19_an_upload_over_a_workspace_keyed_the_old_way_moves_the_keys_and_creates_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_db(dir.path(), "ws.db");
    migrate_db(&db, dir.path());
    let new_keys = import_keys(&db);
    common::key_the_old_way(&db);
    assert_ne!(
        import_keys(&db),
        new_keys,
        "the sample's shared folders were keyed otherwise"
    );

    let server = Server::start(&db, &[]);
    let key = api_key(&db, OWNER);
    let c = client();
    let (id, planned) = planned_job(&c, &server, &key, &export(), Some(&sharing()));
    assert_eq!(
        planned["data"]["attributes"]["summary"]["to_write"], 0,
        "the plan after the key move writes nothing: {planned}"
    );
    apply_job(&c, &server, &key, &id);
    assert_eq!(import_keys(&db), new_keys, "every object under its new key, none twice");
}

#[test]
fn issue19_bug11d_a_shuffled_upload_of_identical_entries_plans_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_db(dir.path(), "ws.db");
    let fixtures = common::root().join("tests/fixtures/keys");
    vaultferry(&[
        "migrate",
        fixtures.join("same-fingerprint.csv").to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--yes",
    ])
    .success();
    let before = import_keys(&db);
    let server = Server::start(&db, &[]);
    let key = api_key(&db, OWNER);
    let c = client();
    let shuffled = fixtures.join("same-fingerprint-shuffled.csv");
    let (id, planned) = planned_job(&c, &server, &key, &shuffled, None);
    assert_eq!(
        planned["data"]["attributes"]["summary"]["to_write"], 0,
        "the same entries in another order change nothing: {planned}"
    );
    apply_job(&c, &server, &key, &id);
    assert_eq!(import_keys(&db), before);
}

#[test]
fn issue19_migrate_through_the_target_over_a_workspace_keyed_the_old_way_creates_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_db(dir.path(), "ws.db");
    migrate_db(&db, dir.path());
    let new_keys = import_keys(&db);
    common::key_the_old_way(&db);
    let server = Server::start(&db, &[]);
    let key = api_key(&db, OWNER);
    let run = common::vaultferry_in(
        dir.path(),
        &[
            "migrate",
            export().to_str().unwrap(),
            "--sharing",
            sharing().to_str().unwrap(),
            "--target",
            &server.url,
            "--api-key",
            &key,
            "--yes",
        ],
    )
    .success();
    assert!(
        run.stdout
            .contains("= 0 created + 0 updated + 34 unchanged + 0 conflicts"),
        "the run through the server moves the keys first and finds everything unchanged\n{}",
        run.describe()
    );
    assert_eq!(import_keys(&db), new_keys, "every object under its new key, none twice");
}

/// A report larger than a piece: stored in pieces of at most 256 KiB as it
/// rendered (the job row holds no report), served whole, and replaced by
/// the run's report once applied. The report names the upload's file, not
/// the server's copy of it.
#[test]
fn job_reports_are_stored_and_served_in_bounded_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_db(dir.path(), "ws.db");
    let key = api_key(&db, OWNER);
    let export = dir.path().join("big-export.csv");
    vaultferry(&[
        "generate",
        "--format",
        "lastpass-csv",
        "--entries",
        "2500",
        "--seed",
        "3",
        "--out",
        export.to_str().unwrap(),
    ])
    .success();
    let sharing = PathBuf::from(format!("{}.sharing.json", export.display()));
    let server = Server::start(&db, &[]);
    let c = client();
    let r = c
        .post(format!("{}/api/v1/imports", server.url))
        .header("X-API-Key", key.as_str())
        .multipart(upload_form(&export, Some(&sharing)))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let id = r.json::<Value>().unwrap()["data"]["id"].as_str().unwrap().to_owned();
    wait_for(&c, &server, &key, &id, &["planned"]);

    let fetch = |format: &str| {
        let r = c
            .get(format!("{}/api/v1/imports/{id}/report?format={format}", server.url))
            .header("X-API-Key", key.as_str())
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let length: usize = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
        let body = r.bytes().unwrap().to_vec();
        assert_eq!(body.len(), length, "{format}: the body is as long as announced");
        body
    };
    let pieces = |format: &str| -> Vec<(i64, i64, Vec<u8>)> {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT generation, seq, bytes FROM job_report_pieces WHERE job_id = ?1 AND format = ?2
                 ORDER BY generation, seq",
            )
            .unwrap();
        let rows = stmt
            .query_map(rusqlite::params![id, format], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    };

    let json = fetch("json");
    let plan: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(plan["kind"], "plan");
    assert_eq!(plan["reconciliation"]["source_entries"], 2500);
    assert_eq!(
        plan["source"]["file"], "big-export.csv",
        "the upload's name, not the server's path"
    );
    assert_eq!(plan["generated"]["inputs"][0], "big-export.csv");
    let stored = pieces("json");
    assert!(
        stored.len() > 2,
        "a report of {} bytes in {} pieces",
        json.len(),
        stored.len()
    );
    assert!(stored.iter().all(|(_, _, b)| b.len() <= 256 * 1024));
    let joined: Vec<u8> = stored.iter().flat_map(|(_, _, b)| b.clone()).collect();
    assert_eq!(joined, json, "the pieces, in order, are the report");
    let html = String::from_utf8(fetch("html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(!html.contains(".uploads"), "no server path in the report");
    let csv = fetch("csv");
    assert!(csv.starts_with(b"email,name,reason"));
    // No report is kept in the job row any more.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('jobs')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(columns.iter().all(|c| !c.starts_with("report")), "{columns:?}");

    let r = c
        .post(format!("{}/api/v1/imports/{id}/apply", server.url))
        .header("X-API-Key", key.as_str())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    wait_for(&c, &server, &key, &id, &["done"]);
    let run: Value = serde_json::from_slice(&fetch("json")).unwrap();
    assert_eq!(run["kind"], "migrate");
    assert!(run["written"].as_u64().unwrap() > 2500);
    // Only the run's version is kept.
    let generations: std::collections::BTreeSet<i64> = pieces("json").iter().map(|p| p.0).collect();
    assert_eq!(generations.len(), 1, "{generations:?}");
}

/// The server applied through a wrapper that forwarded only a few store
/// methods: the invitations it mailed stayed pending in the store (a later
/// run would mail them again with new passwords), and the read-back after
/// the writes re-hashed the whole workspace.
#[test]
fn bug_serve_left_the_invitations_it_mailed_pending() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_db(dir.path(), "ws.db");
    let key = api_key(&db, OWNER);
    let outbox = dir.path().join("outbox");
    let server = Server::start(&db, &["--outbox", outbox.to_str().unwrap()]);
    let c = client();
    let (status, doc) = submit(&c, &server, &key);
    assert_eq!(status, 202, "{doc}");
    let id = doc["data"]["id"].as_str().unwrap().to_owned();
    wait_for(&c, &server, &key, &id, &["planned"]);
    let r = c
        .post(format!("{}/api/v1/imports/{id}/apply", server.url))
        .header("X-API-Key", key.as_str())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    wait_for(&c, &server, &key, &id, &["done"]);
    let report: Value = c
        .get(format!("{}/api/v1/imports/{id}/report", server.url))
        .header("X-API-Key", key.as_str())
        .send()
        .unwrap()
        .json()
        .unwrap();
    let sent = report["invitations"].as_array().unwrap();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(sent.iter().all(|i| i["delivered_via"] == "outbox"), "{sent:?}");
    assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), 3);
    let pending = open_sqlite(&db).unwrap().pending_invitations().unwrap();
    assert!(pending.is_empty(), "{} invitations still pending", pending.len());
}
