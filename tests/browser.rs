//! The web app in headless Chromium against a real `vaultferry serve` on
//! 127.0.0.1, under the server's content security policy (no inline
//! script), so this also shows the policy lets the pages work:
//!
//! - an admin signs in, uploads the export and its sharing file, reads the
//!   dry-run report, applies it, and the items are in the workspace;
//! - a guest the import invited opens the link in the email, joins (a
//!   password breaking the policy is refused and the policy shown), accepts
//!   the terms, and sees exactly the items shared with them: the members
//!   page and the importer answer 403.
//!
//! Screenshots of each step go to `target/screenshots/` for a person to
//! look at. Chromium is driven through `common::webdriver`; without
//! Debian's `chromium` and `chromium-driver` these tests fail and say so.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::webdriver::{start_server, Browser, ELEMENT};
use common::{sample, vaultferry};
use serde_json::json;

/// Waits (bounded) until the upload page's `#state` shows `want`; fails
/// on a failed job.
fn wait_state(driver: &Browser, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let state = driver.script("return document.getElementById('state').textContent");
        if state == want {
            return;
        }
        let error = driver.script("return document.getElementById('error').textContent");
        assert!(
            state != "failed" && error.as_str().unwrap_or("").is_empty(),
            "the page shows state {state}, error {error}"
        );
        assert!(Instant::now() < deadline, "the page still shows {state}, not {want}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits (bounded) until the page title contains `want`.
fn wait_title(driver: &Browser, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let title = driver.title();
        if title.contains(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} never reached a page titled {want:?}: {title}\n{}",
            driver.url(),
            driver.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn set_password(db: &Path, email: &str, password: &str) {
    let mut set = Command::new(env!("CARGO_BIN_EXE_vaultferry"))
        .args(["member", "set-password", "--db"])
        .arg(db)
        .args(["--email", email])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run member set-password");
    std::io::Write::write_all(&mut set.stdin.take().unwrap(), format!("{password}\n").as_bytes()).unwrap();
    assert!(set.wait().unwrap().success(), "member set-password failed");
}

#[test]
fn upload_plan_and_apply_from_the_page_in_headless_chromium() {
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
    set_password(&db, "sam@northwind.example", password);
    let (_server, url) = start_server(&db, &[]);
    let profile = tempfile::tempdir().unwrap();
    let driver = Browser::start(profile.path());

    // The page sends a browser without a session to sign in.
    driver.goto(&format!("{url}/"));
    let title = driver.title();
    assert!(title.contains("sign in"), "{title}");
    driver.screenshot("admin-1-sign-in");
    driver.type_into("input[name=login]", "sam@northwind.example");
    driver.type_into("input[name=password]", password);
    driver.click("button[type=submit]");
    wait_title(&driver, "Import");
    // The session cookie is out of the page's scripts' reach.
    let cookies = driver.script("return document.cookie");
    assert_eq!(cookies.as_str(), Some(""), "a script sees a cookie: {cookies}");
    driver.type_into("#export", sample("lastpass/company.csv").to_str().unwrap());
    driver.type_into(
        "#sharing",
        sample("lastpass/sharing-getdetailedsfdata.json").to_str().unwrap(),
    );
    driver.click("#submit");
    wait_state(&driver, "planned");
    driver.screenshot("admin-2-planned");

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
    wait_state(&driver, "done");
    driver.screenshot("admin-3-applied");
    let csv_link = driver.script("return document.getElementById('dl-csv').href");
    assert!(
        csv_link.as_str().unwrap_or("").ends_with("/report?format=csv"),
        "{csv_link}"
    );
    // The download links work with the session cookie, which is HttpOnly.
    let cookie = driver.call(reqwest::Method::GET, "/cookie/vaultferry_session", None);
    assert_eq!(cookie["httpOnly"], true, "{cookie}");
    assert_eq!(cookie["sameSite"], "Strict", "{cookie}");

    // The admin's other pages, in the same shell: everyone, then the guests.
    driver.click("a[href='/app/members']");
    wait_title(&driver, "Members");
    let members = driver.text();
    assert!(
        members.contains("olivia@northwind.example") && members.contains("Sign out"),
        "{members}"
    );
    driver.screenshot("admin-4-members");
    driver.click("a[href='/app/guests']");
    wait_title(&driver, "Guests");
    driver.screenshot("admin-5-guests");

    // Invite a guest from the page: listed at once, the email in the outbox.
    let invited = "nina@contractor.example";
    driver.fill("#invite input[name=email]", invited);
    driver.fill("#invite input[name=name]", "Nina Ortiz");
    driver.click("#invite-submit");
    let shown = driver.wait_text(&format!("Invited {invited} as a guest"));
    let rows = driver.script(
        "return Array.from(document.querySelectorAll('table tr td:first-child')).map(td => td.textContent.trim())",
    );
    assert!(
        rows.as_array().unwrap().iter().any(|r| r.as_str() == Some(invited)),
        "{invited} is not listed: {rows}\n{shown}"
    );
    driver.screenshot("admin-6-guest-invited");
    let outbox = dir.path().join("ws.db.outbox");
    let mails: Vec<String> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(
        mails.iter().any(|m| m.contains(&format!("To: {invited}"))),
        "no invitation email to {invited} in {}",
        outbox.display()
    );

    drop(driver);

    let snapshot = ws.snapshot().unwrap();
    let airbnb = snapshot
        .accounts
        .iter()
        .find(|a| a.name == "Airbnb")
        .expect("the Airbnb login is in the workspace");
    assert_eq!(airbnb.password.as_ref().map(|p| p.expose()), Some("Pw-Travel-3hR8#m"));
    assert!(!snapshot.grants.is_empty(), "the sharing file's grants were applied");
}

/// The items a guest had in LastPass, computed from the sample files
/// themselves (not from anything the importer planned): every row of the
/// export whose folder is, or is inside, a shared folder the sharing file
/// lists the guest in.
fn items_shared_with(email: &str) -> (Vec<String>, Vec<String>) {
    let sharing: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sample("lastpass/sharing-getdetailedsfdata.json")).unwrap()).unwrap();
    let folders: Vec<String> = sharing
        .as_object()
        .unwrap()
        .values()
        .filter(|f| {
            f["users"].as_array().unwrap().iter().any(|u| {
                u["username"].as_str().unwrap().trim().eq_ignore_ascii_case(email)
                    && u["deletedstatus"].to_string().trim_matches('"') == "0"
            })
        })
        .map(|f| f["sharedfoldername"].as_str().unwrap().to_owned())
        .collect();
    assert!(!folders.is_empty(), "{email} is in no shared folder of the sample");
    let mut theirs = Vec::new();
    let mut others = Vec::new();
    let mut rows = csv::Reader::from_path(sample("lastpass/company.csv")).unwrap();
    for row in rows.records() {
        let row = row.unwrap();
        let (name, grouping) = (row[5].to_owned(), &row[6]);
        let inside = folders
            .iter()
            .any(|f| grouping == f || grouping.starts_with(&format!("{f}\\")));
        if inside {
            theirs.push(name);
        } else {
            others.push(name);
        }
    }
    theirs.sort();
    (theirs, others)
}

/// The first cells of the item tables on the guest's item pages.
fn listed_items(driver: &Browser, url: &str) -> Vec<String> {
    let mut names = Vec::new();
    for kind in ["accounts", "secrets"] {
        driver.goto(&format!("{url}/app/items?kind={kind}"));
        let cells = driver.script(
            "return Array.from(document.querySelectorAll('table tr td:first-child')).map(td => td.textContent.trim())",
        );
        names.extend(cells.as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()));
    }
    names.sort();
    names
}

/// What the server answers this browser's session for `path`.
fn status_of(driver: &Browser, path: &str) -> u64 {
    driver
        .script(&format!(
            "return fetch({path:?}, {{ credentials: 'same-origin' }}).then(r => r.status)"
        ))
        .as_u64()
        .unwrap_or_else(|| panic!("no status for {path}"))
}

#[test]
fn a_guest_opens_the_email_joins_and_sees_exactly_what_was_shared_with_them() {
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
    let port = common::webdriver::free_port();
    let base = format!("http://127.0.0.1:{port}");
    vaultferry(&[
        "migrate",
        sample("lastpass/company.csv").to_str().unwrap(),
        "--sharing",
        sample("lastpass/sharing-getdetailedsfdata.json").to_str().unwrap(),
        "--db",
        dbs,
        "--base-url",
        &base,
        "--yes",
    ])
    .success();

    // The email, as the guest receives it.
    let outbox = dir.path().join("ws.db.outbox");
    let email = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|m| m.contains("To: jules@studio-jules.example"))
        .expect("an invitation email to jules@studio-jules.example in the outbox");
    let line = |label: &str| {
        email
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("the email has no {label:?} line:\n{email}"))
            .trim()
            .to_owned()
    };
    let (username, temporary, link) = (line("Username:"), line("Temporary password:"), line("Join here:"));
    assert!(
        email.contains("Northwind Robotics"),
        "the email names no workspace:\n{email}"
    );
    assert!(link.starts_with(&format!("{base}/join")), "{link}");

    let (_server, url) = start_server(&db, &["--listen", &format!("127.0.0.1:{port}"), "--base-url", &base]);
    let profile = tempfile::tempdir().unwrap();
    let driver = Browser::start(profile.path());

    // Join: username and temporary password.
    driver.goto(&link);
    wait_title(&driver, "join");
    driver.fill("input[name=username]", &username);
    driver.fill("input[name=password]", &temporary);
    driver.screenshot("guest-1-join");
    driver.click("button[type=submit]");
    wait_title(&driver, "change your password");

    // A password the policy refuses: refused, with the policy shown.
    let weak = "jules2026";
    driver.fill("input[name=password]", weak);
    driver.fill("input[name=password_again]", weak);
    driver.fill("input[name=given_name]", "Jules");
    driver.fill("input[name=family_name]", "Moreau");
    driver.click("button[type=submit]");
    wait_title(&driver, "change your password");
    let refused = driver.text();
    let seed: toml::Value = toml::from_str(&std::fs::read_to_string(sample("workspace.toml")).unwrap()).unwrap();
    let min_length = seed["workspace"]["password_policy"]["min_length"].as_integer().unwrap();
    assert!(
        refused.contains(&format!("at least {min_length} characters")) && refused.to_lowercase().contains("symbol"),
        "the refusal does not show the workspace's policy:\n{refused}"
    );
    driver.screenshot("guest-2-password-refused");

    let good = "Jules-Joins-2026!";
    driver.fill("input[name=password]", good);
    driver.fill("input[name=password_again]", good);
    driver.fill("input[name=given_name]", "Jules");
    driver.fill("input[name=family_name]", "Moreau");
    driver.click("button[type=submit]");
    wait_title(&driver, "terms");
    // Nothing of the workspace before the terms are accepted.
    assert_eq!(status_of(&driver, "/api/v1/me/accounts"), 403);
    driver.screenshot("guest-3-terms");
    driver.click("input[name=accept]");
    driver.click("button[type=submit]");
    wait_title(&driver, "My items");
    driver.screenshot("guest-4-dashboard");

    // Exactly the items shared with them in LastPass.
    let (expected, others) = items_shared_with("jules@studio-jules.example");
    let listed = listed_items(&driver, &url);
    assert_eq!(
        listed, expected,
        "the guest's items differ from what LastPass shared with them"
    );
    let page = driver.text();
    for other in &others {
        assert!(
            !listed.contains(other),
            "the guest sees {other}, which was never shared with them"
        );
    }
    assert!(!page.contains("Pw-"), "a password is on the guest's page");
    driver.screenshot("guest-5-items");

    // "Show password" opens a page with the value asked for, in the shell.
    driver.goto(&format!("{url}/app/items?kind=accounts"));
    driver.click("a[href^='/app/accounts/']");
    wait_title(&driver, "Password of");
    let value = driver.script("return document.querySelector('#values code.value').textContent");
    assert!(
        value.as_str().is_some_and(|v| !v.is_empty()),
        "no password on the page: {}",
        driver.text()
    );
    driver.screenshot("guest-6-show-password");

    // Not the members, not the importer.
    assert_eq!(status_of(&driver, "/app/members"), 403);
    assert_eq!(status_of(&driver, "/api/v1/members"), 403);
    assert_eq!(status_of(&driver, "/api/v1/runs"), 403);
    assert_eq!(status_of(&driver, "/api/v1/imports/any"), 403);
    driver.goto(&format!("{url}/app/members"));
    driver.screenshot("guest-7-members-refused");
}
