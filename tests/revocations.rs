//! An admin's deletion in the workspace outlives the next import: a grant,
//! account or team membership the importer created and someone deleted is
//! reported as a conflict and left deleted unless `--overwrite`.

mod common;

use std::path::Path;

use common::{northwind_db, sample, vaultferry_in};

const REMOVED: &str = "removed in the workspace since the import";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn migrate(dir: &Path, db: &Path, extra: &[&str]) -> common::Run {
    let export = sample("lastpass/company.csv");
    let sharing = sample("lastpass/sharing-getdetailedsfdata.json");
    let mut args = vec!["migrate", s(&export), "--sharing", s(&sharing), "--db", s(db), "--yes"];
    args.extend_from_slice(extra);
    vaultferry_in(dir, &args)
}

fn count(db: &Path, sql: &str, param: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [param], |r| r.get(0)).unwrap()
}

/// Whether Priya can reach the Finance collection through a grant made to her.
fn priya_on_finance(db: &Path) -> i64 {
    count(
        db,
        "SELECT count(*) FROM grants g JOIN members m ON g.grantee_kind = 'member' AND m.id = g.grantee_id
         JOIN collections c ON g.target_kind = 'collection' AND c.id = g.target_id
         WHERE m.email = ?1 AND c.name = 'Finance'",
        "priya@northwind.example",
    )
}

fn priya_in_ops(db: &Path) -> i64 {
    count(
        db,
        "SELECT count(*) FROM team_members t JOIN teams ON teams.id = t.team_id
         JOIN members m ON m.id = t.member_id WHERE teams.name = 'Ops' AND m.email = ?1",
        "priya@northwind.example",
    )
}

fn accounts_named(db: &Path, name: &str) -> i64 {
    count(db, "SELECT count(*) FROM accounts WHERE name = ?1", name)
}

/// Fails unless a line of `stdout` names all of `what` and says removed.
fn assert_removed(run: &common::Run, what: &[&str]) {
    assert!(
        run.stdout
            .lines()
            .any(|l| l.contains(REMOVED) && what.iter().all(|w| l.contains(w))),
        "no line names {what:?} as {REMOVED:?}\n{}",
        run.describe()
    );
}

#[test]
fn bug7_a_grant_account_or_team_membership_an_admin_deleted_is_a_conflict_not_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    migrate(dir.path(), &db, &[]).success();
    assert_eq!(priya_on_finance(&db), 1);
    assert_eq!(priya_in_ops(&db), 1);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (account, accounts_before): (String, i64) = conn
        .query_row(
            "SELECT name, (SELECT count(*) FROM accounts) FROM accounts
             WHERE collection_id = (SELECT id FROM collections WHERE name = 'Finance') ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(accounts_named(&db, &account), 1);

    // What an admin does in the workspace, by hand.
    conn.execute_batch(&format!(
        "DELETE FROM grants WHERE target_kind = 'collection'
           AND target_id = (SELECT id FROM collections WHERE name = 'Finance')
           AND grantee_kind = 'member'
           AND grantee_id = (SELECT id FROM members WHERE email = 'priya@northwind.example');
         DELETE FROM accounts WHERE name = '{}';
         DELETE FROM team_members WHERE team_id = (SELECT id FROM teams WHERE name = 'Ops')
           AND member_id = (SELECT id FROM members WHERE email = 'priya@northwind.example');",
        account.replace('\'', "''")
    ))
    .unwrap();
    drop(conn);

    // The next run leaves all three deleted, names each, and reconciles:
    // a conflict, as an edit is, with the exit status of a run with edits.
    let again = migrate(dir.path(), &db, &[]).success();
    assert_eq!(
        priya_on_finance(&db),
        0,
        "the revoked grant is back\n{}",
        again.describe()
    );
    assert_eq!(
        accounts_named(&db, &account),
        0,
        "the deleted account is back\n{}",
        again.describe()
    );
    assert_eq!(priya_in_ops(&db), 0, "the removed member is back\n{}", again.describe());
    assert_removed(&again, &["grant", "priya@northwind.example", "Finance"]);
    assert_removed(&again, &[&account]);
    assert_removed(&again, &["Ops", "priya@northwind.example"]);
    let reconciliation = again
        .stdout
        .lines()
        .rfind(|l| l.starts_with("reconciliation:"))
        .unwrap_or_default();
    assert!(
        reconciliation.contains("1 conflicts") && reconciliation.contains("(holds)"),
        "{}",
        again.describe()
    );

    // And a third: still left alone, still named.
    let third = migrate(dir.path(), &db, &[]).success();
    assert_eq!(
        priya_on_finance(&db) + accounts_named(&db, &account) + priya_in_ops(&db),
        0
    );
    assert_removed(&third, &[&account]);

    // `--overwrite` writes them again.
    let overwrite = migrate(dir.path(), &db, &["--overwrite"]).success();
    assert_eq!(priya_on_finance(&db), 1, "{}", overwrite.describe());
    assert_eq!(accounts_named(&db, &account), 1, "{}", overwrite.describe());
    assert_eq!(priya_in_ops(&db), 1, "{}", overwrite.describe());
    assert_eq!(
        count(&db, "SELECT count(*) FROM accounts WHERE name <> ?1", ""),
        accounts_before,
        "an account doubled"
    );
    // Written again, they are the importer's again: nothing left to report.
    let settled = migrate(dir.path(), &db, &[]).success();
    assert!(!settled.stdout.contains(REMOVED), "{}", settled.describe());
}

#[test]
fn bug7_the_dry_run_names_a_removed_team_member_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    migrate(dir.path(), &db, &[]).success();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DELETE FROM team_members WHERE team_id = (SELECT id FROM teams WHERE name = 'Ops')
           AND member_id = (SELECT id FROM members WHERE email = 'priya@northwind.example');",
    )
    .unwrap();
    drop(conn);
    let export = sample("lastpass/company.csv");
    let sharing = sample("lastpass/sharing-getdetailedsfdata.json");
    let plan = vaultferry_in(
        dir.path(),
        &["plan", s(&export), "--sharing", s(&sharing), "--db", s(&db)],
    )
    .success();
    assert_removed(&plan, &["Ops", "priya@northwind.example"]);
    assert!(plan.stdout.contains("to write: 0 objects"), "{}", plan.describe());
}
