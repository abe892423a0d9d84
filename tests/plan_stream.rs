//! `plan` without `--json` or `--report` keeps no item: it maps and
//! compares the export a chunk at a time (`diff::stream`), so a
//! million-entry plan fits in less memory than twice the export. What it
//! prints and its exit status must be exactly what the whole-plan path
//! (the one `--report` takes) gives, whatever the export and the
//! workspace hold, and wherever the chunk boundaries fall.

mod common;

use std::path::{Path, PathBuf};

use common::{northwind_db, sample, vaultferry, vaultferry_env, Run, LASTPASS, ONEPASSWORD};

/// Chunk sizes that put boundaries everywhere, and the default.
const CHUNKS: [&str; 3] = ["1", "3", "2048"];

struct Case {
    export: PathBuf,
    sharing: PathBuf,
    policy: Option<PathBuf>,
}

impl Case {
    fn args<'a>(&'a self, db: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "plan",
            self.export.to_str().unwrap(),
            "--sharing",
            self.sharing.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ];
        if let Some(p) = &self.policy {
            args.extend(["--policy", p.to_str().unwrap()]);
        }
        args.extend_from_slice(extra);
        args
    }

    /// Fails unless every chunk size prints what the whole plan prints,
    /// with the same exit status (`--fail-on-changes` included).
    fn check(&self, db: &Path, what: &str) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("whole.json");
        for extra in [&[][..], &["--fail-on-changes"][..]] {
            let mut whole_args = extra.to_vec();
            whole_args.extend(["--report", report.to_str().unwrap()]);
            let whole = vaultferry(&self.args(db, &whole_args));
            assert!(whole.code == 0 || whole.code == 1, "{}", whole.describe());
            for chunk in CHUNKS {
                let streamed = vaultferry_env(&self.args(db, extra), &[("VAULTFERRY_PLAN_CHUNK", chunk)]);
                assert_eq!(
                    streamed.stdout,
                    whole.stdout,
                    "{what}, chunks of {chunk}: the streamed plan differs from the whole plan\n{}",
                    streamed.describe()
                );
                assert_eq!(streamed.code, whole.code, "{what}, chunks of {chunk}");
            }
        }
        vaultferry(&self.args(db, &[])).success()
    }
}

fn sample_case(source: &common::Source, policy: bool) -> Case {
    Case {
        export: sample(source.export),
        sharing: sample(source.sharing),
        policy: policy.then(|| sample("vaultferry.toml")),
    }
}

fn migrate(case: &Case, db: &Path) {
    let outbox = db.with_extension("outbox");
    let mut args = vec![
        "migrate",
        case.export.to_str().unwrap(),
        "--sharing",
        case.sharing.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--outbox",
        outbox.to_str().unwrap(),
        "--yes",
    ];
    if let Some(p) = &case.policy {
        args.extend(["--policy", p.to_str().unwrap()]);
    }
    vaultferry(&args).success();
}

fn sql(db: &Path, statements: &[&str]) {
    let conn = rusqlite::Connection::open(db).unwrap();
    for s in statements {
        let n = conn.execute(s, []).unwrap();
        assert!(n > 0, "{s} changed nothing");
    }
}

#[test]
fn the_samples_plan_the_same_a_chunk_at_a_time_against_a_fresh_workspace() {
    for source in [&LASTPASS, &ONEPASSWORD] {
        for policy in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let db = northwind_db(dir.path());
            let run = sample_case(source, policy).check(&db, source.export);
            assert!(run.stdout.contains("accounts:"), "{}", run.describe());
            assert!(run.stdout.contains("(holds)"), "{}", run.describe());
        }
    }
}

#[test]
fn a_re_run_edits_duplicates_and_items_gone_are_decided_as_the_whole_plan_decides_them() {
    for source in [&LASTPASS, &ONEPASSWORD] {
        let dir = tempfile::tempdir().unwrap();
        let db = northwind_db(dir.path());
        let case = sample_case(source, false);
        migrate(&case, &db);
        let run = case.check(&db, "re-run");
        assert!(run.stdout.contains(" 0 created"), "{}", run.describe());

        // Edited in the workspace: conflicts, named field by field.
        sql(
            &db,
            &[
                "UPDATE accounts SET name = name || ' (edited)' WHERE id = (SELECT min(id) FROM accounts)",
                "UPDATE secrets SET notes = 'hand notes' WHERE id = (SELECT min(id) FROM secrets)",
            ],
        );
        let run = case.check(&db, "edited");
        assert!(run.stdout.contains("conflict account"), "{}", run.describe());

        // Roles lowered by hand on grants of items at the root (made a
        // chunk at a time by the streamed plan; the LastPass sample has
        // some) and of a collection, and a grant removed: conflicts and a
        // creation, in key order.
        let conn = rusqlite::Connection::open(&db).unwrap();
        let item_grants = conn
            .execute(
                "UPDATE grants SET role = 'collaborator' WHERE id IN
                 (SELECT id FROM grants WHERE target_kind IN ('account', 'secret') AND role <> 'collaborator'
                  ORDER BY id DESC LIMIT 2)",
                [],
            )
            .unwrap();
        assert!(item_grants > 0 || source.export.starts_with("onepassword"));
        drop(conn);
        sql(
            &db,
            &[
                "UPDATE grants SET role = 'collaborator' WHERE id = (SELECT min(id) FROM grants WHERE target_kind = 'collection' AND role = 'owner')",
                "DELETE FROM grants WHERE id = (SELECT min(id) FROM grants)",
            ],
        );
        let run = case.check(&db, "grants edited");
        assert!(run.stdout.contains("conflict grant"), "{}", run.describe());

        // Items whose import key was lost: the planned items are new, and
        // duplicates of the workspace items now without a key.
        sql(
            &db,
            &[
                "UPDATE accounts SET import_key = NULL
                 WHERE id = (SELECT max(id) FROM accounts WHERE username IS NOT NULL AND url IS NOT NULL)",
                "UPDATE secrets SET import_key = NULL WHERE id = (SELECT max(id) FROM secrets)",
            ],
        );
        let run = case.check(&db, "duplicates");
        assert!(
            run.stdout.contains("duplicates of workspace items"),
            "{}",
            run.describe()
        );

        // An item a run of this source created under a key the export no
        // longer has (the journal says which run created what): gone, kept.
        let gone = "(SELECT min(id) FROM secrets WHERE import_key IS NOT NULL AND id > (SELECT min(id) FROM secrets))";
        sql(
            &db,
            &[
                &format!(
                    "UPDATE run_journal SET import_key = import_key || '-gone'
                     WHERE import_key = (SELECT import_key FROM secrets WHERE id = {gone})"
                ),
                &format!("UPDATE secrets SET import_key = import_key || '-gone' WHERE id = {gone}"),
            ],
        );
        let run = case.check(&db, "gone");
        assert!(run.stdout.contains("gone from the source"), "{}", run.describe());
    }
}

/// The one case a chunk cannot decide: a new planned account whose login
/// equals a workspace account that holds another key of the same plan
/// (the whole plan does not take that one for an original). The streamed
/// plan notices and decides the plan whole.
#[test]
fn a_duplicate_of_an_item_the_plan_also_holds_is_decided_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let case = sample_case(&LASTPASS, false);
    migrate(&case, &db);
    let logins = "SELECT id FROM accounts WHERE username IS NOT NULL AND url IS NOT NULL";
    sql(
        &db,
        &[
            // The last login loses its key (its planned account becomes
            // new) ...
            &format!("UPDATE accounts SET import_key = import_key || '-old' WHERE id = (SELECT max(id) FROM ({logins}))"),
            // ... and the first login, still under its own key, takes the
            // same username and URL.
            &format!(
                "UPDATE accounts SET username = (SELECT username FROM accounts WHERE id = (SELECT max(id) FROM ({logins}))),
                                     url = (SELECT url FROM accounts WHERE id = (SELECT max(id) FROM ({logins}))),
                                     urls = '[]'
                 WHERE id = (SELECT min(id) FROM ({logins}))"
            ),
        ],
    );
    let run = case.check(&db, "duplicate of a planned item");
    assert!(
        run.stdout.contains("duplicates of workspace items"),
        "{}",
        run.describe()
    );
}

#[test]
fn generated_exports_plan_the_same_a_chunk_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    for (format, ext) in [("lastpass-csv", "csv"), ("1pux", "1pux")] {
        let export = dir.path().join(format!("gen.{ext}"));
        let sharing = dir.path().join(format!("gen-{format}.sharing.json"));
        vaultferry(&[
            "generate",
            "--format",
            format,
            "--entries",
            "1500",
            "--seed",
            "7",
            "--out",
            export.to_str().unwrap(),
            "--sharing-out",
            sharing.to_str().unwrap(),
        ])
        .success();
        let db_dir = dir.path().join(format!("{format}-db"));
        std::fs::create_dir(&db_dir).unwrap();
        let db = northwind_db(&db_dir);
        let case = Case {
            export,
            sharing,
            policy: None,
        };
        case.check(&db, format);
        migrate(&case, &db);
        case.check(&db, &format!("{format}, re-run"));
    }
}
