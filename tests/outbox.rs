//! Guest invitations follow an outbox: pending until the mail server
//! accepted the email or its `.eml` is durably written, delivered by the
//! next run when a run dies first, and whatever reaches a guest carries
//! the password whose hash the store keeps.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

use common::{northwind_db, sample, Source, LASTPASS};
use vaultferry::apply::invitations::verify_password;
use vaultferry::apply::{self, ApplyError, ApplyOptions, Silent};
use vaultferry::diff::{self, Changeset, ObjectKind};
use vaultferry::mapper;
use vaultferry::policy::Policy;
use vaultferry::sources::{self, ParseOptions};
use vaultferry::workspace::sqlite::SqliteWorkspace;
use vaultferry::workspace::{Snapshot, Workspace};

const GUESTS: [&str; 3] = [
    "jules@studio-jules.example",
    "ravi@acme-partners.example",
    "tom@initech.example",
];

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The stored password hash of each invited guest, by email.
fn stored_hashes(db: &Path) -> BTreeMap<String, String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT m.email, i.password_hash FROM guest_invitations i JOIN members m ON m.id = i.member_id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

/// (recipient, temporary password) of one email.
fn addressed(text: &str) -> (String, String) {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name:?} in the email"))
            .trim()
            .to_owned()
    };
    (field("To: "), field("Temporary password: "))
}

/// Every email in the outbox as (recipient, password), one per file.
fn outbox(dir: &Path) -> Vec<(String, String)> {
    if !dir.exists() {
        return Vec::new();
    }
    let mut mails: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| addressed(&std::fs::read_to_string(p).unwrap()))
        .collect();
    mails.sort();
    mails
}

/// Fails unless every email's password is the one the store checks.
fn assert_passwords_match(db: &Path, mails: &[(String, String)]) {
    let hashes = stored_hashes(db);
    for (to, password) in mails {
        let hash = hashes
            .get(to)
            .unwrap_or_else(|| panic!("an email to {to}, who has no invitation in the store"));
        assert!(
            verify_password(password, hash),
            "the email to {to} carries a password that does not match the stored hash"
        );
    }
}

fn recipients(mails: &[(String, String)]) -> Vec<&str> {
    mails.iter().map(|(to, _)| to.as_str()).collect()
}

/// The message as a mail client shows it: SMTP bodies go quoted-printable
/// (a password's `=` arrives as `=3D`).
fn quoted_printable(message: &str) -> String {
    let text = message.replace("=\r\n", "");
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

// --- the `.eml` outbox, through the library with the crash hook.

fn workspace(dir: &Path) -> (PathBuf, SqliteWorkspace) {
    let db = northwind_db(dir);
    let ws = SqliteWorkspace::open(&db).unwrap();
    (db, ws)
}

fn changeset(source: &Source, ws: &dyn Workspace) -> (Changeset, Snapshot) {
    let mut snapshot = ws.snapshot_base().unwrap();
    let options = ParseOptions::default();
    let mut vault = sources::read_export(&sample(source.export), &options).unwrap();
    sources::read_sharing(&mut vault, &sample(source.sharing), &options).unwrap();
    let plan = mapper::map_entries(vault, &Policy::default(), &snapshot, "sam@northwind.example").unwrap();
    let cs = diff::against_workspace(ws, plan, &mut snapshot, false).unwrap();
    (cs, snapshot)
}

fn run(ws: &dyn Workspace, options: &ApplyOptions) -> Result<apply::ApplyOutcome, ApplyError> {
    let (cs, snapshot) = changeset(&LASTPASS, ws);
    apply::apply(&cs, &snapshot, ws, options, &mut Silent)
}

#[test]
fn bug9_an_interrupted_run_leaves_no_email_whose_password_matches_no_stored_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (db, ws) = workspace(dir.path());
    let mut options = ApplyOptions::new("sam@northwind.example", dir.path().join("outbox"));
    // Stop inside the invitations' batch: everything before it committed.
    let (cs, _) = changeset(&LASTPASS, &ws);
    let before = cs
        .changes
        .iter()
        .filter(|c| c.kind != ObjectKind::Invitation && c.kind != ObjectKind::Grant && cs.writes(c))
        .count();
    options.stop_after_writes = Some(before + 1);
    assert!(matches!(run(&ws, &options), Err(ApplyError::Interrupted { .. })));
    assert_passwords_match(&db, &outbox(&dir.path().join("outbox")));

    options.stop_after_writes = None;
    run(&ws, &options).unwrap();
    let mails = outbox(&dir.path().join("outbox"));
    assert_eq!(recipients(&mails), GUESTS, "one email per guest");
    assert_passwords_match(&db, &mails);
}

#[test]
fn bug9_an_invitation_whose_email_could_not_be_written_is_delivered_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let (db, ws) = workspace(dir.path());
    // The outbox cannot be made: a file is in its place.
    let blocked = dir.path().join("blocked");
    std::fs::write(&blocked, "not a folder").unwrap();
    let options = ApplyOptions::new("sam@northwind.example", blocked.clone());
    assert!(matches!(run(&ws, &options), Err(ApplyError::Mail(_))));
    assert_eq!(stored_hashes(&db).len(), 3, "the guests are invited in the store");

    let options = ApplyOptions::new("sam@northwind.example", dir.path().join("outbox"));
    let again = run(&ws, &options).unwrap();
    assert_eq!(again.invitations.len(), 3, "{:?}", again.invitations);
    let mails = outbox(&dir.path().join("outbox"));
    assert_eq!(recipients(&mails), GUESTS);
    assert_passwords_match(&db, &mails);

    // Delivered now: a third run sends nothing.
    let third = run(&ws, &options).unwrap();
    assert!(third.invitations.is_empty(), "{:?}", third.invitations);
}

// --- SMTP, through the binary, killed while it sends.

/// A fake SMTP server on `listener`. It accepts every command and
/// collects each message when `hang` is `None`; with `Some(tx)` it tells
/// `tx` when the first message's DATA begins and then answers nothing, so
/// the client waits until it is killed.
fn smtp_server(listener: TcpListener, hang: Option<mpsc::Sender<()>>) -> Arc<Mutex<Vec<String>>> {
    let messages = Arc::new(Mutex::new(Vec::new()));
    let kept = messages.clone();
    std::thread::spawn(move || {
        while let Ok((stream, _)) = listener.accept() {
            let mut w = stream.try_clone().unwrap();
            let mut r = BufReader::new(stream);
            let _ = w.write_all(b"220 fake ESMTP\r\n");
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let upper = line.to_ascii_uppercase();
                let reply: &[u8] = if upper.starts_with("EHLO") {
                    b"250-fake\r\n250 8BITMIME\r\n"
                } else if upper.starts_with("DATA") {
                    if let Some(tx) = &hang {
                        let _ = tx.send(());
                        // Hold the connection open, silent, until the client dies.
                        let mut rest = String::new();
                        while r.read_line(&mut rest).unwrap_or(0) > 0 {}
                        return;
                    }
                    let _ = w.write_all(b"354 go on\r\n");
                    let mut data = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).unwrap_or(0) == 0 || line == ".\r\n" {
                            break;
                        }
                        data.push_str(&line);
                    }
                    kept.lock().unwrap().push(data);
                    b"250 queued\r\n"
                } else if upper.starts_with("QUIT") {
                    let _ = w.write_all(b"221 bye\r\n");
                    break;
                } else {
                    b"250 ok\r\n"
                };
                let _ = w.write_all(reply);
            }
        }
    });
    messages
}

fn migrate_args<'a>(export: &'a Path, sharing: &'a Path, db: &'a Path, smtp: &'a str) -> Vec<&'a str> {
    vec![
        "migrate",
        s(export),
        "--sharing",
        s(sharing),
        "--db",
        s(db),
        "--yes",
        "--smtp",
        smtp,
    ]
}

#[test]
fn bug9_a_run_killed_while_sending_through_smtp_loses_no_invitation() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let export = sample("lastpass/company.csv");
    let sharing = sample("lastpass/sharing-getdetailedsfdata.json");

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (tx, in_data) = mpsc::channel();
    let hung = smtp_server(listener, Some(tx));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vaultferry"))
        .args(migrate_args(&export, &sharing, &db, &url))
        .current_dir(dir.path())
        .env_clear()
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    in_data
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the run never reached the mail server");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(hung.lock().unwrap().is_empty(), "the hanging server accepted nothing");

    // The next run, with a mail server that works, delivers every one.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let delivered = smtp_server(listener, None);
    let again = common::vaultferry_in(dir.path(), &migrate_args(&export, &sharing, &db, &url)).success();
    let mails: Vec<(String, String)> = {
        let mut m: Vec<_> = delivered
            .lock()
            .unwrap()
            .iter()
            .map(|d| addressed(&quoted_printable(d)))
            .collect();
        m.sort();
        m
    };
    assert_eq!(recipients(&mails), GUESTS, "{}", again.describe());
    assert_passwords_match(&db, &mails);
    assert!(!again.stdout.contains("not sent through SMTP"), "{}", again.describe());

    // And a third sends nothing more.
    let third = common::vaultferry_in(dir.path(), &migrate_args(&export, &sharing, &db, &url)).success();
    assert_eq!(delivered.lock().unwrap().len(), 3, "{}", third.describe());
}
