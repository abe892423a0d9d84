//! The upload page in headless Chromium against a real `vaultferry serve`
//! on 127.0.0.1: sign in, pick the export and its sharing file, read the
//! dry-run report, press Apply, wait for done, then find the items in the
//! workspace. The page runs under the server's content security policy (no
//! inline script), so this also shows the policy lets the page and the
//! report work.
//!
//! Chromium is driven through chromedriver's W3C WebDriver HTTP protocol
//! with the blocking reqwest client the crate already has (a handful of
//! JSON calls; no async WebDriver crate needed). Needs the Debian packages
//! `chromium` and `chromium-driver`; `.ci/run` installs them. Without them
//! this test fails and says so: a skipped browser test would look green.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{sample, vaultferry};
use reqwest::blocking::Client;
use serde_json::{json, Value};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A child process killed when dropped, whatever the test did.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(db: &Path) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vaultferry"))
        .args(["serve", "--db"])
        .arg(db)
        .args(["--listen", "127.0.0.1:0"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vaultferry serve");
    let stdout = child.stdout.take().expect("stdout");
    let child = Killed(child);
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
    (child, url)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

struct Driver {
    client: Client,
    base: String,
    session: String,
}

impl Driver {
    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.client.request(method, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().unwrap_or_else(|e| panic!("webdriver {path}: {e}"));
        let status = r.status();
        let v: Value = r.json().unwrap_or(Value::Null);
        assert!(status.is_success(), "webdriver {path}: {status} {v}");
        v["value"].clone()
    }

    fn find(&self, css: &str) -> String {
        let v = self.call(
            reqwest::Method::POST,
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({})));
    }

    fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Waits (bounded) until `#state` shows `want`; fails on a failed job.
    fn wait_state(&self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let state = self.script("return document.getElementById('state').textContent");
            if state == want {
                return;
            }
            let error = self.script("return document.getElementById('error').textContent");
            assert!(
                state != "failed" && error.as_str().unwrap_or("").is_empty(),
                "the page shows state {state}, error {error}"
            );
            assert!(Instant::now() < deadline, "the page still shows {state}, not {want}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn upload_plan_and_apply_from_the_page_in_headless_chromium() {
    assert!(
        Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
        "this test needs headless Chromium: install it with \
         `apt-get update && apt-get install -y chromium chromium-driver` (.ci/run does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ws.db");
    let dbs = db.to_str().unwrap();
    vaultferry(&[
        "workspace",
        "init",
        "--db",
        dbs,
        "--seed",
        sample("workspace.toml").to_str().unwrap(),
    ])
    .success();
    let password = "Sam-Signs-In-2026!";
    let mut set = Command::new(env!("CARGO_BIN_EXE_vaultferry"))
        .args([
            "member",
            "set-password",
            "--db",
            dbs,
            "--email",
            "sam@northwind.example",
        ])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run member set-password");
    std::io::Write::write_all(&mut set.stdin.take().unwrap(), format!("{password}\n").as_bytes()).unwrap();
    assert!(set.wait().unwrap().success(), "member set-password failed");
    let (_server, url) = start_server(&db);

    let port = free_port();
    let _chromedriver = Killed(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = client
            .get(format!("{base}/status"))
            .send()
            .ok()
            .and_then(|r| r.json::<Value>().ok())
            .is_some_and(|v| v["value"]["ready"] == true);
        if ready {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not become ready on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let profile = dir.path().join("chromium-profile");
    let caps = json!({
        "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}
    });
    let r: Value = client
        .post(format!("{base}/session"))
        .json(&caps)
        .send()
        .expect("create a webdriver session")
        .json()
        .unwrap();
    let session = r["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {r}"))
        .to_owned();
    let driver = Driver {
        client: client.clone(),
        base: base.clone(),
        session,
    };

    // The page sends a browser without a session to sign in.
    driver.call(reqwest::Method::POST, "/url", Some(json!({ "url": format!("{url}/") })));
    let title = driver.call(reqwest::Method::GET, "/title", None);
    assert!(title.as_str().unwrap_or("").contains("sign in"), "{title}");
    driver.type_into("input[name=login]", "sam@northwind.example");
    driver.type_into("input[name=password]", password);
    driver.click("button[type=submit]");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let title = driver.call(reqwest::Method::GET, "/title", None);
        if title.as_str().unwrap_or("").contains("import") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "signing in did not reach the upload page: {title}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The session cookie is out of the page's scripts' reach.
    let cookies = driver.script("return document.cookie");
    assert_eq!(cookies.as_str(), Some(""), "a script sees a cookie: {cookies}");
    driver.type_into("#export", sample("lastpass/company.csv").to_str().unwrap());
    driver.type_into(
        "#sharing",
        sample("lastpass/sharing-getdetailedsfdata.json").to_str().unwrap(),
    );
    driver.click("#submit");
    driver.wait_state("planned");

    // The dry-run report is on the page, and nothing is written yet.
    let frame = driver.find("#report");
    driver.call(
        reqwest::Method::POST,
        "/frame",
        Some(json!({ "id": { ELEMENT: frame } })),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let report = loop {
        let html = driver.script("return document.documentElement.outerHTML");
        let html = html.as_str().unwrap_or("").to_owned();
        if html.contains("Who gains access") {
            break html;
        }
        assert!(
            Instant::now() < deadline,
            "no report on the page: {}",
            html.chars().take(600).collect::<String>()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(!report.contains("Pw-Travel-3hR8#m"), "the report shows a password");
    // Inside the report, its own script lists the items the filter finds.
    driver.type_into("#filter", "Airbnb");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = driver.script("return document.getElementById('tree').innerText");
        let listed = listed.as_str().unwrap_or("");
        if listed.contains("Airbnb") {
            assert!(!listed.contains("Pw-Travel-3hR8#m"), "the report lists a password");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the report's filter lists no Airbnb: {listed}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    driver.call(reqwest::Method::POST, "/frame/parent", Some(json!({})));
    let ws = vaultferry::workspace::open_sqlite(&db).unwrap();
    assert!(
        ws.snapshot().unwrap().accounts.is_empty(),
        "planning wrote to the workspace"
    );

    driver.click("#apply");
    driver.wait_state("done");
    let csv_link = driver.script("return document.getElementById('dl-csv').href");
    assert!(
        csv_link.as_str().unwrap_or("").ends_with("/report?format=csv"),
        "{csv_link}"
    );
    // The download links work with the session cookie, which is HttpOnly.
    let cookie = driver.call(reqwest::Method::GET, "/cookie/vaultferry_session", None);
    assert_eq!(cookie["httpOnly"], true, "{cookie}");
    assert_eq!(cookie["sameSite"], "Strict", "{cookie}");

    let _ = client.delete(format!("{base}/session/{}", driver.session)).send();

    let snapshot = ws.snapshot().unwrap();
    let airbnb = snapshot
        .accounts
        .iter()
        .find(|a| a.name == "Airbnb")
        .expect("the Airbnb login is in the workspace");
    assert_eq!(airbnb.password.as_ref().map(|p| p.expose()), Some("Pw-Travel-3hR8#m"));
    assert!(!snapshot.grants.is_empty(), "the sharing file's grants were applied");
}
