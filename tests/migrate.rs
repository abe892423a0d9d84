//! Applying a changeset: idempotent re-runs, resume after a crash at any
//! point, conflicts left as edited, guest invitations sent once.

mod common;

use std::path::{Path, PathBuf};

use common::{canonical, sample, secrets_in_revealed, vaultferry, Source, LASTPASS, ONEPASSWORD};
use serde_json::Value;
use vaultferry::apply::{self, ApplyError, ApplyOptions, Mailer, Silent};
use vaultferry::diff::{self, Action, Changeset, ObjectKind};
use vaultferry::mapper;
use vaultferry::policy::Policy;
use vaultferry::sources::{self, ParseOptions};
use vaultferry::workspace::sqlite::SqliteWorkspace;
use vaultferry::workspace::{seed, RunState, Snapshot, Workspace};

fn new_workspace(dir: &Path, name: &str) -> (PathBuf, SqliteWorkspace) {
    let db = dir.join(name);
    let ws = SqliteWorkspace::create(&db, false).unwrap();
    let seed = seed::load(&sample("workspace.toml"), None).unwrap();
    ws.init(&seed).unwrap();
    (db, ws)
}

/// As `plan` and `migrate` compare: the workspace's items read once the
/// plan's hashes are known, so intact items come without content.
fn changeset(source: &Source, ws: &dyn Workspace, overwrite: bool) -> (Changeset, Snapshot) {
    let mut snapshot = ws.snapshot_base().unwrap();
    let options = ParseOptions::default();
    let mut vault = sources::read_export(&sample(source.export), &options).unwrap();
    sources::read_sharing(&mut vault, &sample(source.sharing), &options).unwrap();
    let plan = mapper::map_entries(vault, &Policy::default(), &snapshot, "sam@northwind.example").unwrap();
    let cs = diff::against_workspace(ws, plan, &mut snapshot, overwrite).unwrap();
    (cs, snapshot)
}

/// As `plan` and `migrate` compare since they read the workspace's items
/// ahead, while the export is mapped: must decide as [`changeset`] does.
fn changeset_read_ahead(source: &Source, ws: &dyn Workspace, overwrite: bool) -> (Changeset, Snapshot) {
    let mut snapshot = ws.snapshot_base().unwrap();
    let read_ahead = ws.read_ahead().unwrap();
    assert!(read_ahead.is_some(), "the SQLite store reads ahead");
    let options = ParseOptions::default();
    let mut vault = sources::read_export(&sample(source.export), &options).unwrap();
    sources::read_sharing(&mut vault, &sample(source.sharing), &options).unwrap();
    let plan = mapper::map_entries(vault, &Policy::default(), &snapshot, "sam@northwind.example").unwrap();
    let hashes = diff::ItemHashes::of(&plan);
    let settled = read_ahead.map(|rows| diff::settle_read_ahead(rows, &plan.accounts, &plan.secrets, &hashes));
    let cs = diff::against_workspace_settled(ws, plan, hashes, &mut snapshot, overwrite, settled).unwrap();
    (cs, snapshot)
}

/// The same from a full snapshot (what a store without intact flags,
/// such as the HTTP one, gives): both must decide alike.
fn changeset_in_full(source: &Source, ws: &dyn Workspace, overwrite: bool) -> Changeset {
    let snapshot = ws.snapshot().unwrap();
    let options = ParseOptions::default();
    let mut vault = sources::read_export(&sample(source.export), &options).unwrap();
    sources::read_sharing(&mut vault, &sample(source.sharing), &options).unwrap();
    let plan = mapper::map(vault, &Policy::default(), &snapshot, "sam@northwind.example").unwrap();
    diff::diff(plan, &snapshot, overwrite)
}

fn options(dir: &Path) -> ApplyOptions {
    ApplyOptions::new("sam@northwind.example", dir.join("outbox"))
}

fn run(source: &Source, ws: &dyn Workspace, options: &ApplyOptions) -> Result<apply::ApplyOutcome, ApplyError> {
    let (cs, snapshot) = changeset(source, ws, false);
    apply::apply(&cs, &snapshot, ws, options, &mut Silent)
}

#[test]
fn a_second_run_of_the_same_export_creates_nothing() {
    for source in [&LASTPASS, &ONEPASSWORD] {
        let dir = tempfile::tempdir().unwrap();
        let (_, ws) = new_workspace(dir.path(), "w.db");
        let first = run(source, &ws, &options(dir.path())).unwrap();
        assert!(first.written > 0);
        assert!(first.warnings.is_empty(), "{:?}", first.warnings);
        let after_first = canonical(&ws.snapshot().unwrap());

        let (cs, _) = changeset(source, &ws, false);
        let pending: Vec<_> = cs
            .changes
            .iter()
            .filter(|c| !matches!(c.action, Action::Unchanged | Action::Skip))
            .map(|c| format!("{} {} {:?} {:?}", c.kind.name(), c.key, c.action, c.changes))
            .collect();
        assert!(pending.is_empty(), "{} after one run: {pending:#?}", source.export);
        assert!(!cs.has_changes());
        assert!(cs.reconcile().holds());

        let second = run(source, &ws, &options(dir.path())).unwrap();
        assert_eq!(second.written, 0);
        assert!(second.invitations.is_empty(), "nobody is invited twice");
        assert_eq!(canonical(&ws.snapshot().unwrap()), after_first);
        let runs = ws.runs().unwrap();
        assert_eq!(runs.len(), 2);
        assert!(runs.iter().all(|r| r.state == RunState::Completed));
        // One journal row per object written, newest run first.
        let journal: Vec<usize> = runs.iter().map(|r| r.writes).collect();
        assert_eq!(journal, [0, first.written]);
    }
}

#[test]
fn a_run_stopped_after_n_writes_and_run_again_ends_equal_to_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let (_, clean) = new_workspace(dir.path(), "clean.db");
    let mut opts = options(dir.path());
    opts.batch_size = 7;
    let total = run(&LASTPASS, &clean, &opts).unwrap().written;
    assert!(total > 20, "the sample writes enough objects to cut anywhere ({total})");
    let expected = canonical(&clean.snapshot().unwrap());

    // Every N around batch boundaries and phase changes, a stride through
    // the rest, and a few random ones.
    let mut cuts: Vec<usize> = (0..=total).step_by(3).collect();
    cuts.extend([1, 6, 7, 8, 13, 14, 15, total - 1, total]);
    for _ in 0..4 {
        cuts.push(rand_below(total + 1));
    }
    cuts.sort_unstable();
    cuts.dedup();
    for n in cuts {
        let (_, ws) = new_workspace(dir.path(), &format!("cut-{n}.db"));
        let mut stopped = opts.clone();
        stopped.stop_after_writes = Some(n);
        match run(&LASTPASS, &ws, &stopped) {
            Err(ApplyError::Interrupted { written, .. }) => {
                assert!(written <= n, "cut {n}: {written} committed");
                assert!(n < total, "cut {n} >= total {total} should not stop");
            }
            Ok(outcome) => assert_eq!((n, outcome.written), (total, total), "only a cut at the end finishes"),
            Err(e) => panic!("cut {n}: {e}"),
        }
        let resumed = run(&LASTPASS, &ws, &opts).unwrap();
        if n < total {
            assert_eq!(
                resumed.interrupted_runs.len(),
                1,
                "cut {n}: the crashed run is reported"
            );
        }
        let got = canonical(&ws.snapshot().unwrap());
        if got != expected {
            let differing: Vec<&String> = expected
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| got[k.as_str()] != expected[k.as_str()])
                .collect();
            let show =
                |v: &Value| -> Vec<String> { v["grants"].as_array().unwrap().iter().map(|g| g.to_string()).collect() };
            let (a, b) = (show(&expected), show(&got));
            let missing: Vec<&String> = a.iter().filter(|g| !b.contains(g)).collect();
            let extra: Vec<&String> = b.iter().filter(|g| !a.contains(g)).collect();
            panic!("cut after {n} writes: {differing:?} differ from a clean run; grants missing {missing:?}, extra {extra:?}");
        }
        let states: Vec<RunState> = ws.runs().unwrap().iter().map(|r| r.state).collect();
        assert!(!states.contains(&RunState::Running), "{states:?}");
    }
}

fn rand_below(n: usize) -> usize {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos()) as usize;
    nanos % n.max(1)
}

#[test]
fn an_item_edited_in_the_workspace_is_a_conflict_and_stays_as_edited() {
    let dir = tempfile::tempdir().unwrap();
    let (db, ws) = new_workspace(dir.path(), "w.db");
    run(&LASTPASS, &ws, &options(dir.path())).unwrap();
    let snapshot = ws.snapshot().unwrap();
    let edited = snapshot
        .accounts
        .iter()
        .find(|a| a.password.is_some())
        .expect("an account with a password")
        .clone();
    // An admin changes the password and the notes in the workspace.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE accounts SET password = 'Edited-By-Hand-9!', notes = 'hand notes' WHERE id = ?1",
        [edited.id],
    )
    .unwrap();
    drop(conn);

    let (cs, _) = changeset(&LASTPASS, &ws, false);
    let conflict = cs
        .changes
        .iter()
        .find(|c| c.existing == Some(edited.id) && c.kind == ObjectKind::Account)
        .unwrap();
    assert_eq!(conflict.action, Action::Conflict);
    assert!(
        conflict.changes.contains(&"password changed".to_owned()),
        "{:?}",
        conflict.changes
    );
    assert!(conflict.changes.contains(&"notes changed".to_owned()));
    assert!(!format!("{cs:?}").contains("Edited-By-Hand-9!"));
    assert_eq!(cs.reconcile().conflicts, 1);
    assert!(cs.reconcile().holds());

    let outcome = run(&LASTPASS, &ws, &options(dir.path())).unwrap();
    assert_eq!(outcome.written, 0);
    let after = ws.snapshot().unwrap();
    let kept = after.accounts.iter().find(|a| a.id == edited.id).unwrap();
    assert_eq!(kept.password.as_ref().map(|p| p.expose()), Some("Edited-By-Hand-9!"));
    assert_eq!(kept.notes.as_deref(), Some("hand notes"));

    // --overwrite puts the source's values back; then all is unchanged.
    let (cs, snap) = changeset(&LASTPASS, &ws, true);
    let outcome = apply::apply(&cs, &snap, &ws, &options(dir.path()), &mut Silent).unwrap();
    assert_eq!(outcome.written, 1);
    let after = ws.snapshot().unwrap();
    let restored = after.accounts.iter().find(|a| a.id == edited.id).unwrap();
    assert_eq!(restored.password, edited.password);
    let (cs, _) = changeset(&LASTPASS, &ws, false);
    assert_eq!(cs.reconcile().conflicts, 0);
    assert!(!cs.has_changes());
}

/// What the diff decided, object by object, without the hashes.
fn decisions(cs: &Changeset) -> Vec<String> {
    cs.changes
        .iter()
        .map(|c| {
            format!(
                "{} {} {:?} {:?} {:?} {:?}",
                c.kind.name(),
                c.key,
                c.action,
                c.existing,
                c.changes,
                c.reason
            )
        })
        .collect()
}

#[test]
fn items_read_as_intact_are_decided_as_a_full_read_decides_them_whatever_was_edited() {
    for source in [&LASTPASS, &ONEPASSWORD] {
        let dir = tempfile::tempdir().unwrap();
        let (db, ws) = new_workspace(dir.path(), "w.db");
        let first = run(source, &ws, &options(dir.path())).unwrap();

        // Untouched since the run: every item is read without content.
        let (cs, snapshot) = changeset(source, &ws, false);
        assert!(snapshot.accounts.is_empty() && snapshot.secrets.is_empty());
        let intact = snapshot.intact_accounts.len() + snapshot.intact_secrets.len();
        assert_eq!(intact, cs.reconcile().unchanged);
        assert!(intact > 0);
        assert_eq!(decisions(&cs), decisions(&changeset_in_full(source, &ws, false)));
        let (ahead, snapshot) = changeset_read_ahead(source, &ws, false);
        assert!(snapshot.accounts.is_empty() && snapshot.secrets.is_empty());
        assert_eq!(snapshot.intact_accounts.len() + snapshot.intact_secrets.len(), intact);
        assert_eq!(decisions(&ahead), decisions(&cs));

        // Items are audited per batch, and journaled one by one.
        let conn = rusqlite::Connection::open(&db).unwrap();
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            count("SELECT count(*) FROM audit_log WHERE action IN ('account.create', 'secret.create')"),
            0
        );
        assert!(count("SELECT count(*) FROM audit_log WHERE action = 'import.items'") >= 1);
        assert_eq!(count("SELECT count(*) FROM run_journal") as usize, first.written);

        // Every kind of edit the content hash covers clears the intact flag,
        // so it is compared in full: decided as a full read decides it.
        let edits = [
            "UPDATE accounts SET name = name || ' (edited)' WHERE id = (SELECT min(id) FROM accounts)",
            "UPDATE secrets SET notes = 'hand notes' WHERE id = (SELECT min(id) FROM secrets)",
            "INSERT INTO attachments (account_id, name, size) VALUES ((SELECT max(id) FROM accounts), 'added.txt', 0)",
            "UPDATE collections SET import_key = import_key || '-rekeyed'
             WHERE id = (SELECT min(collection_id) FROM secrets WHERE imported_intact = 1)",
            "DELETE FROM collections WHERE id = (SELECT max(collection_id) FROM accounts WHERE imported_intact = 1)",
        ];
        let mut unchanged = cs.reconcile().unchanged;
        for sql in edits {
            let edited = conn.execute(sql, []).unwrap();
            assert!(edited > 0, "{sql} changed nothing");
            let (cs, _) = changeset(source, &ws, false);
            assert_eq!(
                decisions(&cs),
                decisions(&changeset_in_full(source, &ws, false)),
                "{sql}"
            );
            let (ahead, snapshot) = changeset_read_ahead(source, &ws, false);
            assert_eq!(decisions(&ahead), decisions(&cs), "{sql}, read ahead");
            assert!(!snapshot.accounts.is_empty() || !snapshot.secrets.is_empty(), "{sql}");
            assert!(cs.reconcile().unchanged < unchanged, "{sql} went unnoticed");
            assert!(cs.reconcile().holds());
            unchanged = cs.reconcile().unchanged;
        }
    }
}

#[test]
fn a_changed_source_item_is_an_update_naming_fields_not_values() {
    let dir = tempfile::tempdir().unwrap();
    let (db, ws) = new_workspace(dir.path(), "w.db");
    run(&LASTPASS, &ws, &options(dir.path())).unwrap();
    // Pretend the importer last wrote another password: the source differs
    // from what was imported, and nobody edited the workspace copy.
    let snapshot = ws.snapshot().unwrap();
    let target = snapshot.accounts.iter().find(|a| a.password.is_some()).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE accounts SET password = 'Old-Imported-1!' WHERE id = ?1",
        [target.id],
    )
    .unwrap();
    drop(conn);
    let edited = ws.snapshot().unwrap();
    let canon_hash = {
        let (cs, _) = changeset(&LASTPASS, &ws, false);
        let c = cs
            .changes
            .iter()
            .find(|c| c.kind == ObjectKind::Account && c.existing == Some(target.id))
            .unwrap();
        assert_eq!(c.action, Action::Conflict, "no imported hash matches yet");
        c.hash.clone()
    };
    assert!(canon_hash.is_some());
    // Record the edited copy as what the importer wrote.
    let current_hash = {
        let a = edited.accounts.iter().find(|a| a.id == target.id).unwrap();
        vaultferry::diff::workspace_account_hash(a, &edited)
    };
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE accounts SET imported_hash = ?2 WHERE id = ?1",
        rusqlite::params![target.id, current_hash],
    )
    .unwrap();
    drop(conn);
    let (cs, _) = changeset(&LASTPASS, &ws, false);
    let c = cs
        .changes
        .iter()
        .find(|c| c.kind == ObjectKind::Account && c.existing == Some(target.id))
        .unwrap();
    assert_eq!(c.action, Action::Update);
    assert_eq!(c.changes, vec!["password changed".to_owned()]);
    let outcome = run(&LASTPASS, &ws, &options(dir.path())).unwrap();
    assert_eq!(outcome.written, 1);
    let (cs, _) = changeset(&LASTPASS, &ws, false);
    assert!(!cs.has_changes());
}

#[test]
fn guests_are_invited_once_with_an_owner_only_email_and_only_a_hash_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (db, ws) = new_workspace(dir.path(), "w.db");
    let outcome = run(&LASTPASS, &ws, &options(dir.path())).unwrap();
    let emails: Vec<&str> = outcome.invitations.iter().map(|i| i.email.as_str()).collect();
    assert!(emails.contains(&"jules@studio-jules.example"), "{emails:?}");
    assert_eq!(emails.iter().filter(|e| **e == "jules@studio-jules.example").count(), 1);
    assert!(
        !emails.contains(&"mark@northwind.example"),
        "never invite a company address"
    );
    assert!(
        !emails.contains(&"mo@freelance.example"),
        "an existing guest is not invited again"
    );
    let outbox = dir.path().join("outbox");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&outbox).unwrap().permissions().mode() & 0o777, 0o700);
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    for sent in &outcome.invitations {
        let apply::Delivery::Outbox { file } = &sent.delivery else {
            panic!("outbox expected")
        };
        let text = std::fs::read_to_string(file).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(file).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let password = text
            .lines()
            .find_map(|l| l.strip_prefix("Temporary password: "))
            .unwrap()
            .to_owned();
        assert!(text.contains("Northwind Robotics"));
        assert!(text.contains(&format!("Username: {}", sent.username)));
        let (hash, salt): (String, String) = conn
            .query_row(
                "SELECT i.password_hash, i.salt FROM guest_invitations i JOIN members m ON m.id = i.member_id
                 WHERE m.email = ?1",
                [&sent.email],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert!(!hash.contains(&password) && !salt.contains(&password));
        assert!(apply::invitations::verify_password(&password, &hash));
        let policy = ws.snapshot().unwrap().workspace.password_policy;
        assert!(apply::invitations::meets_policy(&password, &policy));
        // The journal and the audit log never hold it.
        let leaked: i64 = conn
            .query_row(
                "SELECT (SELECT count(*) FROM run_journal WHERE instr(import_key || coalesce(content_hash, ''), ?1) > 0)
                      + (SELECT count(*) FROM audit_log WHERE instr(object, ?1) > 0)",
                [&password],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(leaked, 0);
    }
    let again = run(&LASTPASS, &ws, &options(dir.path())).unwrap();
    assert!(again.invitations.is_empty());
}

#[test]
fn invitations_go_through_smtp_when_configured() {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Just enough SMTP: greet, accept every command, collect DATA.
    let server = std::thread::spawn(move || {
        let mut messages = Vec::new();
        while let Ok((stream, _)) = listener.accept() {
            let mut w = stream.try_clone().unwrap();
            let mut r = BufReader::new(stream);
            w.write_all(b"220 fake ESMTP\r\n").unwrap();
            let mut line = String::new();
            let mut quit = false;
            while !quit {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let upper = line.to_ascii_uppercase();
                if upper.starts_with("EHLO") {
                    w.write_all(b"250-fake\r\n250 8BITMIME\r\n").unwrap();
                } else if upper.starts_with("DATA") {
                    w.write_all(b"354 go on\r\n").unwrap();
                    let mut data = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).unwrap_or(0) == 0 || line == ".\r\n" {
                            break;
                        }
                        data.push_str(&line);
                    }
                    messages.push(data);
                    w.write_all(b"250 queued\r\n").unwrap();
                } else if upper.starts_with("QUIT") {
                    w.write_all(b"221 bye\r\n").unwrap();
                    quit = true;
                } else {
                    w.write_all(b"250 ok\r\n").unwrap();
                }
            }
            if messages.len() >= 3 {
                break;
            }
        }
        messages
    });
    let dir = tempfile::tempdir().unwrap();
    let (_, ws) = new_workspace(dir.path(), "w.db");
    let mut opts = options(dir.path());
    opts.mailer = Mailer::Smtp(format!("smtp://127.0.0.1:{port}"));
    let outcome = run(&LASTPASS, &ws, &opts).unwrap();
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    assert!(outcome.invitations.len() >= 3);
    assert!(outcome
        .invitations
        .iter()
        .all(|i| matches!(i.delivery, apply::Delivery::Smtp { .. })));
    let messages = server.join().unwrap();
    assert!(messages.iter().any(|m| m.contains("jules@studio-jules.example")));
    assert!(messages.iter().all(|m| m.contains("Temporary password: ")));
    assert!(!dir.path().join("outbox").exists(), "nothing written to the outbox");
}

#[test]
fn the_reconciliation_holds_for_the_samples_and_a_broken_count_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    for source in [&LASTPASS, &ONEPASSWORD] {
        let (_, ws) = new_workspace(dir.path(), &format!("r-{}.db", source.export.replace('/', "-")));
        let (cs, _) = changeset(source, &ws, false);
        let r = cs.reconcile();
        assert!(r.holds(), "{}", r.describe());
        assert!(r.created > 0 && r.source_entries > 0);
        let mut broken = cs.clone();
        broken.plan.source_entries += 1;
        assert!(!broken.reconcile().holds());
        assert!(broken.reconcile().describe().contains("MISMATCH"));
    }
}

#[test]
fn secrets_of_the_sample_never_reach_the_changeset_debug_or_outcome() {
    let export = sample(LASTPASS.export);
    let revealed = vaultferry(&["inspect", export.to_str().unwrap(), "--json", "--reveal"]).success();
    let secrets = secrets_in_revealed(&revealed.json());
    assert!(!secrets.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let (_, ws) = new_workspace(dir.path(), "w.db");
    let (cs, snapshot) = changeset(&LASTPASS, &ws, false);
    let outcome = apply::apply(&cs, &snapshot, &ws, &options(dir.path()), &mut Silent).unwrap();
    let text = format!("{cs:?}\n{}\n{outcome:?}", serde_json::to_string(&cs).unwrap());
    common::assert_no_secrets("changeset and outcome", &text, &secrets);
}

#[test]
fn an_unreachable_smtp_server_leaves_the_emails_in_the_outbox() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, ws) = new_workspace(dir.path(), "w.db");
    let mut opts = options(dir.path());
    opts.mailer = Mailer::Smtp(format!("smtp://127.0.0.1:{port}"));
    let outcome = run(&LASTPASS, &ws, &opts).unwrap();
    assert_eq!(outcome.warnings.len(), outcome.invitations.len());
    assert!(outcome.warnings.iter().all(|w| w.contains("not sent through SMTP")));
    assert!(outcome
        .invitations
        .iter()
        .all(|i| matches!(&i.delivery, apply::Delivery::Outbox { file } if Path::new(file).starts_with(dir.path().join("outbox")))));
}

#[test]
fn a_large_export_applies_in_batches_and_reruns_with_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("big.csv");
    let mut text = String::from("url,username,password,totp,extra,name,grouping,fav\n");
    for i in 0..5000 {
        let folder = format!("Team{}/Sub{}", i % 20, i % 7);
        text.push_str(&format!(
            "https://app{i}.example/login,user{i},Pw-Big-{i}!,,,App {i},{folder},0\n"
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let (_, ws) = new_workspace(dir.path(), "big.db");
    let apply_once = || {
        let snapshot = ws.snapshot().unwrap();
        let vault = sources::read_export(&csv, &ParseOptions::default()).unwrap();
        let plan = mapper::map(vault, &Policy::default(), &snapshot, "sam@northwind.example").unwrap();
        let cs = diff::diff(plan, &snapshot, false);
        assert!(cs.reconcile().holds());
        let started = std::time::Instant::now();
        let outcome = apply::apply(&cs, &snapshot, &ws, &options(dir.path()), &mut Silent).unwrap();
        (outcome, started.elapsed())
    };
    let (first, took) = apply_once();
    assert!(first.written >= 5000 + 20 * 8, "{}", first.written);
    eprintln!("5000 entries applied in {took:?}");
    let (second, _) = apply_once();
    assert_eq!(second.written, 0);
    assert_eq!(ws.snapshot().unwrap().accounts.len(), 5000);
}

/// The report's item rows with each list sorted by key, so two reports
/// can be compared whatever order their changesets listed items in.
fn items_sorted(mut report: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if let (true, Value::Array(items)) = (k == "items" || k == "root_items", &mut *v) {
                        items.sort_by(|a, b| a["key"].to_string().cmp(&b["key"].to_string()));
                    }
                    walk(v);
                }
            }
            Value::Array(list) => list.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut report);
    report
}

#[test]
fn a_report_puts_each_item_in_its_collection_whatever_order_the_changeset_lists_items_in() {
    for source in [&LASTPASS, &ONEPASSWORD] {
        let dir = tempfile::tempdir().unwrap();
        let (_, ws) = new_workspace(dir.path(), "w.db");
        let (cs, _) = changeset(source, &ws, false);
        let mut shuffled = cs.clone();
        let items: Vec<usize> = (0..shuffled.changes.len())
            .filter(|i| matches!(shuffled.changes[*i].kind, ObjectKind::Account | ObjectKind::Secret))
            .collect();
        assert!(items.len() > 2);
        // Reversed, so accounts and secrets are no longer the plan's order.
        let reversed: Vec<_> = items.iter().rev().map(|i| shuffled.changes[*i].clone()).collect();
        for (i, c) in items.iter().zip(reversed) {
            shuffled.changes[*i] = c;
        }
        let json = |cs: &Changeset| serde_json::to_value(vaultferry::report::Report::plan(cs)).unwrap();
        let (planned, from_shuffled) = (json(&cs), json(&shuffled));
        assert_ne!(planned, from_shuffled, "the item order differs");
        assert_eq!(items_sorted(planned), items_sorted(from_shuffled));
    }
}

/// What `migrate` prints without `--report` or `--json` comes from a report
/// that lists only the items that change: it must print exactly what the
/// full report prints, for a first run (everything new) and a re-run with
/// an item edited in the workspace (one conflict, the rest unchanged).
#[test]
fn the_terminal_report_prints_what_the_full_report_prints() {
    use vaultferry::report::json::{Detail, Report};
    use vaultferry::report::text;
    let render = |cs: &Changeset, detail: Detail| {
        let r = Report::plan_with(cs, detail);
        let mut out = Vec::new();
        text::write(&r, &mut out).unwrap();
        (String::from_utf8(out).unwrap(), r)
    };
    let dir = tempfile::tempdir().unwrap();
    for source in [&LASTPASS, &ONEPASSWORD] {
        let (db, ws) = new_workspace(dir.path(), &format!("terminal-{}.db", source.sharing.replace('/', "-")));
        let (first, _) = changeset(source, &ws, false);
        let (full, _) = render(&first, Detail::Full);
        let (terminal, _) = render(&first, Detail::Terminal);
        assert_eq!(terminal, full, "{}: first run", source.export);

        run(source, &ws, &options(dir.path())).unwrap();
        let edited = ws.snapshot().unwrap().accounts[0].id;
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("UPDATE accounts SET notes = 'edited by hand' WHERE id = ?1", [edited])
            .unwrap();
        // And a grant's role changed by hand: a grant conflict to list.
        conn.execute(
            "UPDATE grants SET role = 'collaborator' WHERE id = (SELECT min(id) FROM grants WHERE role = 'owner')",
            [],
        )
        .unwrap();
        let (again, _) = changeset(source, &ws, false);
        assert!(again
            .changes
            .iter()
            .any(|c| c.action == Action::Conflict && c.kind == ObjectKind::Account));
        assert!(again
            .changes
            .iter()
            .any(|c| c.action == Action::Conflict && c.kind == ObjectKind::Grant));
        let (full, full_report) = render(&again, Detail::Full);
        let (terminal, terminal_report) = render(&again, Detail::Terminal);
        assert_eq!(terminal, full, "{}: re-run", source.export);
        assert!(
            full.contains("unchanged items") && full.contains("grant conflict"),
            "{full}"
        );
        // The terminal's report holds no row for an unchanged item.
        fn listed(n: &vaultferry::report::json::CollectionNode, out: &mut Vec<Action>) {
            out.extend(n.items.iter().map(|i| i.action));
            for c in &n.children {
                listed(c, out);
            }
        }
        let actions = |r: &Report| {
            let mut out: Vec<Action> = r.root_items.iter().map(|i| i.action).collect();
            for c in &r.collections {
                listed(c, &mut out);
            }
            out
        };
        assert!(actions(&full_report).contains(&Action::Unchanged));
        let shown = actions(&terminal_report);
        assert!(!shown.is_empty() && !shown.contains(&Action::Unchanged), "{shown:?}");
    }
}
