//! Signing in against the real binary: a password set with `member
//! set-password`, a guest joining from the email `migrate` wrote, and API
//! keys listed, expiring and revoked from the command line.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{sample, vaultferry};
use reqwest::blocking::{Client, Response};
use reqwest::redirect::Policy;

/// A `vaultferry serve` child, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(db: &Path) -> Server {
        Server::start_logged(db, None)
    }

    /// With the server's stderr (its log) written to `log`.
    fn start_logged(db: &Path, log: Option<&Path>) -> Server {
        let stderr = match log {
            Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
            None => Stdio::null(),
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_vaultferry"))
            .args(["serve", "--db"])
            .arg(db)
            .args(["--listen", "127.0.0.1:0"])
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
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("vaultferry serve printed its address");
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn init_db(dir: &Path) -> PathBuf {
    let db = dir.join("ws.db");
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

/// `vaultferry member set-password` with `input` on stdin: (exit code, stderr).
fn set_password(db: &Path, email: &str, input: &str) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vaultferry"))
        .args(["member", "set-password", "--db"])
        .arg(db)
        .args(["--email", email])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

fn session_of(r: &Response) -> String {
    let set = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Set-Cookie ({})", r.status()));
    set.strip_prefix("vaultferry_session=")
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned()
}

fn cookie(token: &str) -> String {
    format!("vaultferry_session={token}")
}

/// The hidden `csrf` field of a page.
fn csrf_of(html: &str) -> String {
    let (_, rest) = html.split_once(r#"name="csrf" value=""#).expect("a csrf field");
    rest.split('"').next().unwrap().to_owned()
}

#[test]
fn a_member_signs_in_with_a_password_set_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_db(dir.path());
    let (code, text) = set_password(&db, "sam@northwind.example", "weak\n");
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("does not meet the workspace's policy") && text.contains("at least 14"),
        "{text}"
    );
    let password = "Sam-Signs-In-2026!";
    let (code, text) = set_password(&db, "sam@northwind.example", &format!("{password}\n"));
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains(password), "the password was echoed: {text}");
    let (code, text) = set_password(&db, "nobody@northwind.example", &format!("{password}\n"));
    assert_eq!(code, 2, "{text}");

    let server = Server::start(&db);
    let c = client();
    let r = c
        .post(format!("{}/login", server.url))
        .form(&[("login", "Sam@Northwind.example"), ("password", password)])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let token = session_of(&r);
    let me = c
        .get(format!("{}/api/v1/me", server.url))
        .header("cookie", cookie(&token))
        .send()
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
    assert_eq!(me.headers()["cache-control"], "no-store");
    // The admin's upload page, signed in: no key typed anywhere.
    let page = c
        .get(format!("{}/", server.url))
        .header("cookie", cookie(&token))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains(r#"id="upload""#), "{page}");
    let script = c.get(format!("{}/static/app.js", server.url)).send().unwrap();
    assert_eq!(script.status().as_u16(), 200);
    assert!(script.text().unwrap().contains("X-CSRF-Token"));
}

#[test]
fn a_guest_joins_from_the_invitation_email() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_db(dir.path());
    let outbox = dir.path().join("outbox");
    vaultferry(&[
        "migrate",
        sample("lastpass/company.csv").to_str().unwrap(),
        "--sharing",
        sample("lastpass/sharing-getdetailedsfdata.json").to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--outbox",
        outbox.to_str().unwrap(),
        "--base-url",
        "https://vault.example.com",
        "--yes",
    ])
    .success();
    let email = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "eml"))
        .expect("an invitation email");
    let text = std::fs::read_to_string(email).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name:?} in {text}"))
            .trim()
            .to_owned()
    };
    let (username, temporary) = (field("Username: "), field("Temporary password: "));
    assert_eq!(
        field("Join here: "),
        format!("https://vault.example.com/join?username={username}")
    );

    let log = dir.path().join("serve.log");
    let server = Server::start_logged(&db, Some(&log));
    let c = client();
    let r = c
        .post(format!("{}/join", server.url))
        .form(&[("username", username.as_str()), ("password", temporary.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/join/password");
    let token = session_of(&r);
    let page = c
        .get(format!("{}/join/password", server.url))
        .header("cookie", cookie(&token))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("at least 14 characters"), "{page}");
    let csrf = csrf_of(&page);
    let mine = "Guest-Chose-This-1!";
    let r = c
        .post(format!("{}/join/password", server.url))
        .header("cookie", cookie(&token))
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", mine),
            ("password_again", mine),
            ("given_name", "Ravi"),
            ("family_name", "Shah"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/join/terms");
    let r = c
        .post(format!("{}/join/terms", server.url))
        .header("cookie", cookie(&token))
        .form(&[("csrf", csrf.as_str()), ("accept", "yes")])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let joining = token;
    let token = session_of(&r);
    assert_ne!(token, joining, "the full session gets a token of its own");
    let home = c
        .get(format!("{}/", server.url))
        .header("cookie", cookie(&token))
        .send()
        .unwrap();
    assert_eq!(home.status().as_u16(), 303, "a guest's home is their items");
    let items = c
        .get(format!("{}/app/items", server.url))
        .header("cookie", cookie(&token))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(items.contains("Signed in as"), "{items}");
    let me = c
        .get(format!("{}/api/v1/me", server.url))
        .header("cookie", cookie(&token))
        .send()
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
    // The temporary password is spent.
    let again = c
        .post(format!("{}/join", server.url))
        .form(&[("username", username.as_str()), ("password", temporary.as_str())])
        .send()
        .unwrap();
    assert_eq!(again.status().as_u16(), 401);
    drop(server);
    // Neither password nor the session token reached the server's log or
    // the audit log.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let audit: String = conn
        .query_row(
            "SELECT group_concat(actor || action || object, ' ') FROM audit_log",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let logged = std::fs::read_to_string(&log).unwrap();
    for secret in [temporary.as_str(), mine, token.as_str(), joining.as_str()] {
        assert!(!logged.contains(secret), "the server log holds a secret");
        assert!(!audit.contains(secret), "the audit log holds a secret");
    }
    assert!(audit.contains("guest.joined"), "{audit}");
}

#[test]
fn api_keys_are_listed_expire_and_are_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_db(dir.path());
    let d = db.to_str().unwrap();
    let refused = vaultferry(&[
        "apikey",
        "create",
        "--db",
        d,
        "--as",
        "sam@northwind.example",
        "--expires",
        "0",
    ]);
    let refused = refused.expect_code(2);
    assert!(refused.stderr.contains("--expires 0"), "{}", refused.describe());
    let run = vaultferry(&[
        "apikey",
        "create",
        "--db",
        d,
        "--as",
        "sam@northwind.example",
        "--expires",
        "30",
    ])
    .success();
    let key = run.stdout.trim().to_owned();
    assert!(
        run.stderr.contains("key #1 vfk_") && run.stderr.contains("expires"),
        "{}",
        run.describe()
    );
    let list = vaultferry(&["apikey", "list", "--db", d]).success();
    let prefix: String = key.chars().take(12).collect();
    assert!(
        list.stdout.contains(&prefix) && list.stdout.contains("\tactive"),
        "{}",
        list.describe()
    );
    assert!(!list.stdout.contains(&key[12..]), "the list shows a key");

    let server = Server::start(&db);
    let c = client();
    let members = |key: &str| {
        c.get(format!("{}/api/v1/members", server.url))
            .header("X-API-Key", key)
            .send()
            .unwrap()
    };
    assert_eq!(members(&key).status().as_u16(), 200);
    let revoke = vaultferry(&["apikey", "revoke", "--db", d, &prefix]).success();
    assert!(revoke.stderr.contains("revoked key #1"), "{}", revoke.describe());
    let r = members(&key);
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().unwrap().contains("was revoked on"));
    let list = vaultferry(&["apikey", "list", "--db", d]).success();
    assert!(list.stdout.contains("\trevoked"), "{}", list.describe());
    let unknown = vaultferry(&["apikey", "revoke", "--db", d, "999"]).expect_code(2);
    assert!(unknown.stderr.contains("no API key"), "{}", unknown.describe());
}
