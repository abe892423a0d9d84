//! What the commands never touch: `plan` writes nothing but the reports it
//! was asked for, and `workspace init --force` deletes only a vaultferry
//! workspace. Each test looks at the real files afterwards.

mod common;

use std::path::Path;

use common::{northwind_db, sample, vaultferry_in};

/// Every file in `dir` with its bytes, sorted by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}

fn plan_args(db: &str) -> Vec<String> {
    vec![
        "plan".into(),
        sample("lastpass/company.csv").to_str().unwrap().into(),
        "--sharing".into(),
        sample("lastpass/sharing-getdetailedsfdata.json")
            .to_str()
            .unwrap()
            .into(),
        "--db".into(),
        db.into(),
    ]
}

fn run_plan(dir: &Path, db: &str) -> common::Run {
    let args = plan_args(db);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    vaultferry_in(dir, &args)
}

/// A SQLite database of someone else's, with one table and one row.
fn foreign_database(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER); INSERT INTO invoices VALUES (1, 42);",
    )
    .unwrap();
}

#[test]
fn bug_plan_leaves_an_empty_db_file_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.db"), b"").unwrap();
    let run = run_plan(dir.path(), "empty.db").expect_code(2);
    assert!(
        run.stderr.contains("empty.db") && run.stderr.contains("workspace init"),
        "the error names the file and how to create a workspace\n{}",
        run.describe()
    );
    assert_eq!(
        files(dir.path()),
        vec![("empty.db".to_owned(), Vec::new())],
        "plan wrote to the empty file or beside it"
    );
}

#[test]
fn plan_with_a_missing_db_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_plan(dir.path(), "missing.db").expect_code(2);
    assert!(run.stderr.contains("missing.db"), "{}", run.describe());
    assert!(files(dir.path()).is_empty(), "plan created {:?}", files(dir.path()));
}

#[test]
fn bug_plan_leaves_another_programs_database_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("invoices.db");
    foreign_database(&db);
    let before = files(dir.path());
    let run = run_plan(dir.path(), "invoices.db").expect_code(2);
    assert!(run.stderr.contains("not a vaultferry workspace"), "{}", run.describe());
    assert_eq!(files(dir.path()), before, "plan changed another program's database");
}

#[test]
fn plan_writes_only_the_report_it_was_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let db_name = db.file_name().unwrap().to_str().unwrap().to_owned();
    // Settle the store's own files (WAL) first: what plan must not change
    // is the workspace's content and the set of files.
    let workspace_before = common::vaultferry(&["workspace", "show", "--db", db.to_str().unwrap(), "--json"])
        .success()
        .stdout;
    let names_before: Vec<String> = files(dir.path()).into_iter().map(|(n, _)| n).collect();
    let mut args = plan_args(&db_name);
    args.extend(["--report".into(), "plan.json".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    vaultferry_in(dir.path(), &args).success();
    let mut names_after: Vec<String> = files(dir.path()).into_iter().map(|(n, _)| n).collect();
    names_after.retain(|n| n != "plan.json");
    assert_eq!(names_after, names_before, "plan created files besides its report");
    assert!(dir.path().join("plan.json").is_file());
    let workspace_after = common::vaultferry(&["workspace", "show", "--db", db.to_str().unwrap(), "--json"])
        .success()
        .stdout;
    assert_eq!(workspace_after, workspace_before, "plan changed the workspace");
}

fn init_forced(dir: &Path, db: &str) -> common::Run {
    let seed = sample("workspace.toml");
    vaultferry_in(
        dir,
        &[
            "workspace",
            "init",
            "--db",
            db,
            "--seed",
            seed.to_str().unwrap(),
            "--force",
        ],
    )
}

#[test]
fn bug_init_force_keeps_a_file_that_is_not_a_workspace() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "shopping list").unwrap();
    let run = init_forced(dir.path(), "notes.txt").expect_code(2);
    assert!(
        run.stderr.contains("notes.txt") && run.stderr.contains("not a vaultferry workspace"),
        "{}",
        run.describe()
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "shopping list"
    );
}

#[test]
fn bug_init_force_keeps_another_programs_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("invoices.db");
    foreign_database(&db);
    init_forced(dir.path(), "invoices.db").expect_code(2);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let total: i64 = conn.query_row("SELECT total FROM invoices", [], |r| r.get(0)).unwrap();
    assert_eq!(total, 42, "the other program's data is gone");
}

#[test]
fn init_force_recreates_a_workspace_and_fills_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    init_forced(dir.path(), db.file_name().unwrap().to_str().unwrap()).success();
    std::fs::write(dir.path().join("empty.db"), b"").unwrap();
    init_forced(dir.path(), "empty.db").success();
    common::vaultferry(&[
        "workspace",
        "show",
        "--db",
        dir.path().join("empty.db").to_str().unwrap(),
    ])
    .success();
}

#[test]
fn migrate_takes_y_for_yes() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let mut args = plan_args(db.to_str().unwrap());
    args[0] = "migrate".into();
    args.push("-y".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    vaultferry_in(dir.path(), &args).success();
    let shown = common::vaultferry(&["workspace", "show", "--db", db.to_str().unwrap(), "--json"])
        .success()
        .json();
    let collections = shown["collections"].as_array().unwrap();
    assert!(!collections.is_empty(), "migrate -y wrote no collection");
}

#[test]
fn apikey_takes_as_like_plan_and_keeps_member_as_an_alias() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let db = db.to_str().unwrap();
    for flag in ["--as", "--member"] {
        let run = common::vaultferry(&["apikey", "create", "--db", db, flag, "sam@northwind.example"]).success();
        assert!(
            !run.stdout.trim().is_empty(),
            "no key printed for {flag}\n{}",
            run.describe()
        );
    }
    let help = common::vaultferry(&["apikey", "create", "--help"]).success().stdout;
    assert!(help.contains("--as") && !help.contains("--member"), "{help}");
}
