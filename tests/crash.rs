//! Crash safety of `migrate`: a real process killed with SIGKILL at random
//! points, again and again, and run once more after each kill, ends with
//! the same workspace as one clean run — no item lost or doubled, no guest
//! invited twice, and a database SQLite itself calls intact.
//!
//! The kill times come from a seeded RNG spread over the length of a clean
//! run (measured first), so most of them land mid-apply; set
//! `VAULTFERRY_CRASH_SEED` to try other points.
#![cfg(unix)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{canonical, northwind_db, vaultferry};
use rand::{Rng, SeedableRng};
use serde_json::Value;
use vaultferry::workspace::sqlite::SqliteWorkspace;
use vaultferry::workspace::{Snapshot, Workspace};

const KILLS: usize = 12;
const ENTRIES: &str = "3000";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn migrate_command(export: &Path, sharing: &Path, db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vaultferry"));
    c.args(["migrate", s(export), "--sharing", s(sharing), "--db", s(db), "--yes"])
        .current_dir(db.parent().expect("db in a dir"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// Runs migrate to the end; returns how long it took.
fn migrate_to_the_end(export: &Path, sharing: &Path, db: &Path) -> Duration {
    let start = Instant::now();
    let out = migrate_command(export, sharing, db).output().expect("run migrate");
    assert!(
        out.status.success(),
        "migrate failed: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed()
}

fn integrity_ok(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let result: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(result, "ok", "{}: integrity_check", db.display());
}

fn snapshot(db: &Path) -> Snapshot {
    SqliteWorkspace::open(db).unwrap().snapshot().unwrap()
}

/// Row counts of every table but the run bookkeeping (which grows by one
/// run per attempt): a doubled row the snapshot hides still shows here.
fn row_counts(db: &Path) -> BTreeMap<String, i64> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap();
    let tables: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    tables
        .into_iter()
        .filter(|t| {
            ![
                "import_runs",
                "import_run_scopes",
                "run_journal",
                "audit_log",
                "schema_migrations",
            ]
            .contains(&t.as_str())
        })
        .map(|t| {
            let n: i64 = conn
                .query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))
                .unwrap();
            (t, n)
        })
        .collect()
}

/// The guests the outbox holds an email for, one entry per `.eml` file
/// (a guest emailed twice appears twice).
fn outbox_recipients(outbox: &Path) -> Vec<String> {
    let mut to: Vec<String> = std::fs::read_dir(outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("To: "))
                .unwrap_or_else(|| panic!("{}: no To: header", p.display()))
                .trim()
                .to_owned()
        })
        .collect();
    to.sort();
    to
}

fn outbox_of(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".outbox");
    PathBuf::from(p)
}

#[test]
fn migrate_killed_at_random_points_and_rerun_ends_equal_to_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("big.csv");
    let sharing = dir.path().join("big.csv.sharing.json");
    vaultferry(&[
        "generate",
        "--format",
        "lastpass-csv",
        "--entries",
        ENTRIES,
        "--out",
        s(&export),
        "--sharing-out",
        s(&sharing),
    ])
    .success();

    let clean_dir = dir.path().join("clean");
    let crash_dir = dir.path().join("crash");
    std::fs::create_dir(&clean_dir).unwrap();
    std::fs::create_dir(&crash_dir).unwrap();
    let clean = northwind_db(&clean_dir);
    let crashed = northwind_db(&crash_dir);

    let took = migrate_to_the_end(&export, &sharing, &clean);
    integrity_ok(&clean);
    let want = canonical(&snapshot(&clean));
    let want_counts = row_counts(&clean);
    let want_outbox = outbox_recipients(&outbox_of(&clean));
    assert!(
        !want_outbox.is_empty(),
        "the generated sharing file should invite guests"
    );

    let seed = std::env::var("VAULTFERRY_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_125u64);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    // Each attempt resumes what the one before did, so later attempts have
    // less left to do and some kills land after the end (checked to have
    // succeeded); a quarter must land mid-run or the test proves little.
    let span = took.as_millis().max(50) as u64 * 11 / 10;
    let mut killed_mid_run = 0;
    for k in 0..KILLS {
        let delay = Duration::from_millis(rng.gen_range(0..span));
        let mut child = migrate_command(&export, &sharing, &crashed)
            .spawn()
            .expect("spawn migrate");
        std::thread::sleep(delay);
        // `Child::kill` is SIGKILL on Unix: no destructor, no flush.
        let running = child.try_wait().unwrap().is_none();
        child.kill().unwrap();
        let status = child.wait().unwrap();
        if running {
            killed_mid_run += 1;
        } else {
            assert!(
                status.success(),
                "attempt {k} (seed {seed}) failed on its own: {status:?}"
            );
        }
        // A killed run leaves its -wal/-shm behind: they hold secrets too.
        for suffix in ["-wal", "-shm"] {
            let mut p = crashed.as_os_str().to_owned();
            p.push(suffix);
            if let Ok(meta) = std::fs::metadata(&p) {
                use std::os::unix::fs::PermissionsExt;
                let mode = meta.permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{:?} left by a killed run is {mode:o}", p);
            }
        }
        integrity_ok(&crashed);
    }
    assert!(
        killed_mid_run >= KILLS / 4,
        "only {killed_mid_run} of {KILLS} kills landed while migrate ran (seed {seed})"
    );
    migrate_to_the_end(&export, &sharing, &crashed);
    integrity_ok(&crashed);

    let got = canonical(&snapshot(&crashed));
    for part in [
        "collections",
        "accounts",
        "secrets",
        "grants",
        "members",
        "teams",
        "partners",
        "invitations",
    ] {
        let (w, g) = (&want[part], &got[part]);
        if w != g {
            let ws: BTreeSet<String> = w.as_array().unwrap().iter().map(Value::to_string).collect();
            let gs: BTreeSet<String> = g.as_array().unwrap().iter().map(Value::to_string).collect();
            let missing: Vec<_> = ws.difference(&gs).take(3).collect();
            let extra: Vec<_> = gs.difference(&ws).take(3).collect();
            panic!(
                "{part} differ from a clean run after {KILLS} kills (seed {seed}): {} vs {} rows; \
                 missing e.g. {missing:?}; extra e.g. {extra:?}",
                w.as_array().map_or(0, Vec::len),
                g.as_array().map_or(0, Vec::len),
            );
        }
    }
    assert_eq!(row_counts(&crashed), want_counts, "rows per table (seed {seed})");

    // One email and one stored invitation per guest, however often the run
    // was cut between sending and recording.
    let got_outbox = outbox_recipients(&outbox_of(&crashed));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&outbox_of(&crashed)), 0o700, "the outbox");
        for email in std::fs::read_dir(outbox_of(&crashed)).unwrap() {
            let email = email.unwrap().path();
            assert_eq!(mode(&email), 0o600, "{}", email.display());
        }
    }
    assert_eq!(got_outbox, want_outbox, "outbox recipients (seed {seed})");
    let conn = rusqlite::Connection::open(&crashed).unwrap();
    let per_guest: Vec<(String, i64)> = conn
        .prepare(
            "SELECT m.email, count(*) FROM guest_invitations i JOIN members m ON m.id = i.member_id
             GROUP BY m.email ORDER BY m.email",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let emailed: Vec<(String, i64)> = got_outbox.iter().map(|e| (e.clone(), 1)).collect();
    assert_eq!(
        per_guest, emailed,
        "one stored invitation per emailed guest (seed {seed})"
    );

    // A re-run after all that has nothing left to do.
    let again = vaultferry(&[
        "migrate",
        s(&export),
        "--sharing",
        s(&sharing),
        "--db",
        s(&crashed),
        "--yes",
        "--json",
    ])
    .success();
    let summary = &again.json()["summary"];
    for (kind, counts) in summary.as_object().expect("summary per kind") {
        for action in ["create", "update"] {
            assert_eq!(counts[action], 0, "a re-run would {action} {kind}: {summary}");
        }
    }
}

/// Starts migrate and sends it `signal` as soon as it reports its first
/// phase written (the collections): the accounts, invitations and grants
/// are still to come. Returns its exit status, stdout and stderr.
fn migrate_signalled(export: &Path, sharing: &Path, db: &Path, signal: &str) -> (i32, String, String) {
    use std::io::{BufRead, Read};
    let mut child = migrate_command(export, sharing, db)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn migrate");
    let mut stderr = String::new();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while lines.read_line(&mut line).unwrap() > 0 {
        stderr.push_str(&line);
        if line.starts_with("collections:") {
            let sent = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .unwrap();
            assert!(sent.success(), "kill {signal}");
            break;
        }
        line.clear();
    }
    lines.read_to_string(&mut stderr).unwrap();
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    let status = child.wait().unwrap();
    (status.code().unwrap_or(-1), stdout, stderr)
}

fn run_states(db: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, state FROM import_runs ORDER BY rowid")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

#[test]
fn bug9_sigterm_and_ctrl_c_stop_after_the_batch_mark_the_run_interrupted_and_a_rerun_names_every_stopped_run() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("big.csv");
    let sharing = dir.path().join("big.csv.sharing.json");
    vaultferry(&[
        "generate",
        "--format",
        "lastpass-csv",
        "--entries",
        "30000",
        "--out",
        s(&export),
        "--sharing-out",
        s(&sharing),
    ])
    .success();
    let clean_dir = dir.path().join("clean");
    let stopped_dir = dir.path().join("stopped");
    std::fs::create_dir(&clean_dir).unwrap();
    std::fs::create_dir(&stopped_dir).unwrap();
    let clean = northwind_db(&clean_dir);
    let db = northwind_db(&stopped_dir);

    let mut stopped = Vec::new();
    for signal in ["-TERM", "-INT"] {
        let (code, stdout, stderr) = migrate_signalled(&export, &sharing, &db, signal);
        assert_eq!(code, 130, "{signal}: exit status\n{stdout}\n{stderr}");
        assert!(stdout.contains("stopped on request"), "{signal}: {stdout}\n{stderr}");
        assert!(stdout.contains("run the same command again"), "{signal}: {stdout}");
        let runs = run_states(&db);
        let (id, state) = runs.last().unwrap();
        assert_eq!(state, "interrupted", "{signal}: {runs:?}");
        assert!(stdout.contains(id.as_str()), "{signal}: the run is named\n{stdout}");
        stopped.push(id.clone());
        integrity_ok(&db);
    }

    let out = migrate_command(&export, &sharing, &db).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for id in &stopped {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(id.as_str()) && l.contains("stopped before finishing")),
            "run {id} is not named by the re-run\n{stderr}"
        );
    }
    // Continued, it ends as one clean run does.
    migrate_to_the_end(&export, &sharing, &clean);
    assert_eq!(canonical(&snapshot(&db)), canonical(&snapshot(&clean)));
    // A completed run closes the list: the next names none.
    let out = migrate_command(&export, &sharing, &db).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("stopped before finishing"), "{stderr}");
}
