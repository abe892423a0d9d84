//! Issue 22: a sharer "address" with markup in it never becomes an
//! invitation's `To:`. The reader drops it with its file and line.

mod common;

use std::path::Path;

use common::{northwind_db, sample, vaultferry};
use serde_json::Value;

const EVIL: &str = "evil<img src=x onerror=alert(1)>@acme-partners.example";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The LastPass sample with the evil sharer on line 8, beside Olivia.
fn lastpass_sharing(dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(sample("lastpass/sharing-getdetailedsfdata.json")).unwrap();
    let anchor = r#"      { "username": "sam@northwind.example""#;
    assert!(text.contains(anchor));
    let evil = format!(
        r#"      {{ "username": "{EVIL}", "readonly": "0", "give": "0", "can_administer": "0", "deletedstatus": "0" }},"#
    );
    let text = text.replacen(anchor, &format!("{evil}\n{anchor}"), 1);
    let path = dir.join("sharing.json");
    std::fs::write(&path, text).unwrap();
    path
}

/// The 1Password bundle with the evil sharer as Engineering's first user, line 4.
fn onepassword_sharing(dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(sample("onepassword/permissions.json")).unwrap();
    let anchor = "    \"users\": [\n";
    assert!(text.starts_with(&format!("{{\n  \"Engineering\": {{\n{anchor}")));
    let evil = format!(
        r#"      {{"name": "Evil", "email": "{EVIL}", "type": "GUEST", "state": "ACTIVE", "permissions": ["view_items"]}},"#
    );
    let text = text.replacen(anchor, &format!("{anchor}{evil}\n"), 1);
    let path = dir.join("permissions.json");
    std::fs::write(&path, text).unwrap();
    path
}

fn invalid_findings(v: &Value) -> Vec<&Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "mapper.sharer-address-invalid")
        .collect()
}

/// Every `.eml` of the outbox, as text.
fn emails(outbox: &Path) -> Vec<String> {
    std::fs::read_dir(outbox)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .map(|p| std::fs::read_to_string(p).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

fn check(export: &Path, sharing: &Path, line: u64, dir: &Path) {
    let v = vaultferry(&["inspect", "--json", s(export), "--sharing", s(sharing)])
        .success()
        .json();
    let found = invalid_findings(&v);
    assert_eq!(found.len(), 1, "{:#}", v["findings"]);
    assert_eq!(found[0]["file"], s(sharing));
    assert_eq!(found[0]["line"], line, "{:#}", found[0]);
    assert!(found[0]["message"]
        .as_str()
        .unwrap()
        .contains("not a valid email address"));
    assert!(
        !serde_json::to_string(&v["shares"]).unwrap().contains("onerror"),
        "the evil sharer is still a share"
    );

    let db = northwind_db(dir);
    let outbox = dir.join("outbox");
    let run = vaultferry(&[
        "migrate",
        s(export),
        "--sharing",
        s(sharing),
        "--db",
        s(&db),
        "--yes",
        "--outbox",
        s(&outbox),
    ])
    .success();
    let mails = emails(&outbox);
    // The other guests are still invited: the outbox works.
    assert!(!mails.is_empty(), "no invitation at all\n{}", run.describe());
    for mail in &mails {
        assert!(!mail.contains("onerror") && !mail.contains("<img"), "{mail}");
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let members: i64 = conn
        .query_row("SELECT count(*) FROM members WHERE email LIKE '%onerror%'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(members, 0, "the evil sharer became a member");
}

#[test]
fn an_invalid_lastpass_sharer_address_gets_a_finding_and_no_invitation() {
    let dir = tempfile::tempdir().unwrap();
    let sharing = lastpass_sharing(dir.path());
    check(&sample("lastpass/company.csv"), &sharing, 8, dir.path());
}

#[test]
fn an_invalid_onepassword_sharer_address_gets_a_finding_and_no_invitation() {
    let dir = tempfile::tempdir().unwrap();
    let sharing = onepassword_sharing(dir.path());
    check(&sample("onepassword/company.1pux"), &sharing, 4, dir.path());
}

#[test]
fn explain_shows_the_invalid_address_finding() {
    let run = vaultferry(&["explain", "mapper.sharer-address-invalid"]).success();
    assert!(
        run.stdout.starts_with("mapper.sharer-address-invalid (warning"),
        "{}",
        run.describe()
    );
}
