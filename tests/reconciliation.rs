//! The reconciliation `migrate` prints is what the store holds after the
//! run, read back by import key: a store that loses or rewrites a write
//! makes it say MISMATCH, name the items and exit non-zero.

mod common;

use std::path::Path;

use common::{northwind_db, vaultferry_in};

const EXPORT: &str = "url,username,password,totp,extra,name,grouping,fav\n\
https://git.example/login,ada@northwind.example,Pw-Git-4kT9!q,,,Git server,Engineering,0\n\
https://ci.example/login,ada@northwind.example,Pw-Ci-7hQ2#w,,,Build server,Engineering,0\n\
https://wiki.example/login,ada@northwind.example,Pw-Wiki-2mX5$z,,,Team wiki,Engineering,0\n";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Installs triggers that make the store keep other than what it was
/// given: one account is deleted as soon as it is written, another has its
/// password rewritten.
fn sabotage(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER lose_one AFTER INSERT ON accounts WHEN NEW.name = 'Build server'
         BEGIN DELETE FROM accounts WHERE id = NEW.id; END;
         CREATE TRIGGER alter_one AFTER INSERT ON accounts WHEN NEW.name = 'Team wiki'
         BEGIN UPDATE accounts SET password = 'not-what-was-written' WHERE id = NEW.id; END;",
    )
    .unwrap();
}

fn migrate(dir: &Path, export: &Path, db: &Path, json: bool) -> common::Run {
    let mut args = vec!["migrate", s(export), "--db", s(db), "--yes"];
    if json {
        args.push("--json");
    }
    vaultferry_in(dir, &args)
}

#[test]
fn bug6_reconciliation_is_read_back_from_the_store_and_a_lost_or_altered_write_is_a_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.csv");
    std::fs::write(&export, EXPORT).unwrap();
    let db = northwind_db(dir.path());
    sabotage(&db);

    let run = migrate(dir.path(), &export, &db, false).expect_code(1);
    // The run's own line (the plan's summary before it predicts "holds").
    let line = run
        .stdout
        .lines()
        .rfind(|l| l.starts_with("reconciliation:"))
        .unwrap_or_default();
    assert!(
        line.contains("MISMATCH") && !line.contains("(holds)"),
        "{}",
        run.describe()
    );
    for name in ["Build server", "Team wiki"] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.contains("not in the workspace as decided") && l.contains(name)),
            "{name} is not named\n{}",
            run.describe()
        );
    }
    assert!(
        !run.stdout
            .lines()
            .any(|l| l.contains("not in the workspace as decided") && l.contains("Git server")),
        "the account the store kept is named\n{}",
        run.describe()
    );
    assert!(run.stderr.contains("MISMATCH"), "{}", run.describe());
    for secret in [
        "Pw-Git-4kT9!q",
        "Pw-Ci-7hQ2#w",
        "Pw-Wiki-2mX5$z",
        "not-what-was-written",
    ] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{secret} printed"
        );
    }

    // A second run: the rewritten account is now a conflict (edited in the
    // workspace), the lost one is written and lost again. The counts are
    // the accounts the store holds, and the lost one is named.
    let again = migrate(dir.path(), &export, &db, true).expect_code(1);
    let report = again.json();
    let r = &report["reconciliation"];
    assert_eq!(r["source_entries"], 3, "{r}");
    assert_eq!(r["holds"], false, "{r}");
    let counted = ["created", "updated", "unchanged", "conflicts", "skipped"]
        .iter()
        .map(|k| r[k].as_u64().unwrap())
        .sum::<u64>();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let as_written: u64 = conn
        .query_row(
            "SELECT count(*) FROM accounts WHERE import_key IS NOT NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(counted, as_written, "{r}");
    let named = report["reconciliation_mismatches"].as_array().unwrap();
    assert!(
        named.iter().any(|m| m.as_str().unwrap().contains("Build server")),
        "{report}"
    );
}

#[test]
fn a_store_that_keeps_every_write_reconciles_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.csv");
    std::fs::write(&export, EXPORT).unwrap();
    let db = northwind_db(dir.path());
    let run = migrate(dir.path(), &export, &db, false).success();
    assert!(
        run.stdout.contains("3 source entries = 3 created"),
        "{}",
        run.describe()
    );
    let line = run
        .stdout
        .lines()
        .rfind(|l| l.starts_with("reconciliation:"))
        .unwrap_or_default();
    assert!(line.contains("(holds)"), "{}", run.describe());
    let again = migrate(dir.path(), &export, &db, false).success();
    assert!(
        again
            .stdout
            .contains("3 source entries = 0 created + 0 updated + 3 unchanged"),
        "{}",
        again.describe()
    );
}
