//! `vaultferry verify` after a real migrate: nothing unexpected on a
//! faithful migration, and every fault planted straight into the store
//! named by person, item and roles (issue 19).

mod common;

use std::path::{Path, PathBuf};

use common::{sample, vaultferry, Run};

fn fixture(name: &str) -> PathBuf {
    common::root().join("tests/fixtures/verify").join(name)
}

/// The passwords of `tests/fixtures/verify/*.csv`: no output may hold one.
const SECRETS: [&str; 6] = [
    "Vf-Ops-9kQ2!x",
    "Vf-Db-3mZ7#r",
    "Vf-Legal-5pW8$t",
    "Vf-Bank-1sX4%u",
    "Vf-Mail-8nV6&y",
    "Vf-Private-2qR9*z",
];

fn assert_clean(run: &Run, report: Option<&Path>) {
    let secrets: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    common::assert_no_secrets("stdout", &run.stdout, &secrets);
    common::assert_no_secrets("stderr", &run.stderr, &secrets);
    if let Some(report) = report {
        let text = std::fs::read_to_string(report).unwrap();
        common::assert_no_secrets("report", &text, &secrets);
    }
}

/// A fresh workspace from the fixture's seed, migrated from `export`
/// (with the fixture's sharing file).
fn migrated(dir: &Path, export: &str) -> PathBuf {
    let db = common::seeded_db(&dir.join("verify.db"), &fixture("workspace.toml"));
    let run = vaultferry(&[
        "migrate",
        fixture(export).to_str().unwrap(),
        "--sharing",
        fixture("sharing.json").to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--yes",
        "--outbox",
        dir.join("outbox").to_str().unwrap(),
    ]);
    assert!(run.code == 0 || run.code == 1, "{}", run.describe());
    db
}

fn verify(db: &Path, export: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "verify",
        fixture(export).to_str().unwrap().to_owned().leak() as &str,
        "--sharing",
        fixture("sharing.json").to_str().unwrap().to_owned().leak(),
        "--db",
        db.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    vaultferry(&args)
}

/// (what, person, item) of each unexpected difference in a `--json` outcome.
fn unexpected(run: &Run) -> Vec<Named> {
    let json = run.json();
    let mut out: Vec<Named> = json["unexpected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["what"].as_str().unwrap().to_owned(),
                d["person"].as_str().unwrap_or("-").to_owned(),
                d["item"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// (what, person, item) of an unexpected difference.
type Named = (String, String, String);

fn triple(what: &str, person: &str, item: &str) -> Named {
    (what.to_owned(), person.to_owned(), item.to_owned())
}

/// Runs each `;`-separated statement; every one must change a row.
fn sql(db: &Path, statements: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    for statement in statements.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let changed = conn.execute(statement, []).unwrap();
        assert!(changed > 0, "the fault was not planted: {statement}");
    }
}

/// Whether `email` reaches the account named `item` in the store, by any
/// grant to them or their teams on the account or a collection above it:
/// the store's own answer, computed apart from `verify`.
fn reaches(db: &Path, email: &str, item: &str) -> bool {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "WITH RECURSIVE up(id) AS (
             SELECT collection_id FROM accounts WHERE name = ?2
             UNION SELECT c.parent_id FROM collections c JOIN up ON c.id = up.id WHERE c.parent_id IS NOT NULL),
         me(kind, id) AS (
             SELECT 'member', id FROM members WHERE email = ?1
             UNION SELECT 'team', t.team_id FROM team_members t JOIN members m ON m.id = t.member_id WHERE m.email = ?1)
         SELECT EXISTS (SELECT 1 FROM grants g JOIN me ON g.grantee_kind = me.kind AND g.grantee_id = me.id
             WHERE (g.target_kind = 'collection' AND g.target_id IN (SELECT id FROM up))
                OR (g.target_kind = 'account' AND g.target_id = (SELECT id FROM accounts WHERE name = ?2)))",
        [email, item],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn verify_finds_nothing_unexpected_after_migrating_the_samples() {
    let cases: [(&str, Option<&str>); 4] = [
        ("lastpass/company.csv", Some("lastpass/sharing-getdetailedsfdata.json")),
        ("onepassword/company.1pux", Some("onepassword/permissions.json")),
        ("onepassword/company.1pif", Some("onepassword/permissions.json")),
        ("onepassword/company-1p8.csv", None),
    ];
    for (export, sharing) in cases {
        let dir = tempfile::tempdir().unwrap();
        let db = common::northwind_db(dir.path());
        let export = sample(export);
        let mut args = vec!["--db", db.to_str().unwrap()];
        let sharing = sharing.map(sample);
        if let Some(s) = &sharing {
            args.extend(["--sharing", s.to_str().unwrap()]);
        }
        let outbox = dir.path().join("outbox");
        let mut migrate = vec![
            "migrate",
            export.to_str().unwrap(),
            "--yes",
            "--outbox",
            outbox.to_str().unwrap(),
        ];
        migrate.extend(&args);
        let run = vaultferry(&migrate).success();
        assert!(run.stdout.contains("— 0 unexpected differences"), "{}", run.describe());
        let mut check = vec!["verify", export.to_str().unwrap(), "--json"];
        check.extend(&args);
        let run = vaultferry(&check).success();
        let json = run.json();
        assert_eq!(json["unexpected"], serde_json::json!([]), "{}", run.describe());
        assert!(json["items"].as_u64().unwrap() > 0, "{}", run.describe());
        assert!(json["people"].as_u64().unwrap() > 0, "{}", run.describe());
    }
}

#[test]
fn verify_explains_each_expected_difference_by_its_rule_and_shows_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(dir.path(), "export.csv");
    let report = dir.path().join("verify.json");
    let run = verify(&db, "export.csv", &["--report", report.to_str().unwrap()]).success();
    assert_clean(&run, Some(&report));
    assert!(
        run.stdout
            .ends_with("verified: 5 people, 5 items — 0 unexpected differences\n"),
        "{}",
        run.describe()
    );
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let rules: Vec<(String, String)> = json["expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["rule"].as_str().unwrap().to_owned(),
                e["person"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // Mark left the company: his read-only right on both Ops items is gone,
    // by rule; Dana could edit and holds Collaborator.
    assert!(
        rules.contains(&("left-the-company".into(), "mark@corp.example".into())),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("edit-not-admin".into(), "dana@corp.example".into())),
        "{rules:?}"
    );
}

/// An admin who revokes a grant or deletes an item after the import is
/// not a fault: re-runs leave it alone (bug 7), and verify says which rule
/// explains the difference instead of failing the migration.
#[test]
fn an_admins_revocation_after_the_import_is_expected_not_unexpected() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(dir.path(), "export.csv");
    sql(
        &db,
        "DELETE FROM grants WHERE grantee_kind = 'member'
         AND grantee_id = (SELECT id FROM members WHERE email = 'dana@corp.example');
         DELETE FROM accounts WHERE name = 'Mail';",
    );
    let run = verify(&db, "export.csv", &["--json"]).success();
    let out: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let removed: Vec<&serde_json::Value> = out["expected"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["rule"] == "removed-in-workspace")
        .collect();
    assert!(
        removed.iter().any(|e| e["person"] == "dana@corp.example"),
        "{}",
        run.describe()
    );
    assert!(
        removed.iter().any(|e| e["person"].is_null() && e["items"] == 1),
        "{}",
        run.describe()
    );
}

#[test]
fn verify_names_each_fault_planted_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let migrated = migrated(dir.path(), "export.csv");
    verify(&migrated, "export.csv", &["--json"]).success();
    let faults: [(&str, &str, Vec<Named>); 6] = [
        (
            "an extra grant: Dana on Olivia's personal bank login",
            "INSERT INTO grants (target_kind, target_id, grantee_kind, grantee_id, role)
             SELECT 'account', a.id, 'member', m.id, 'collaborator' FROM accounts a, members m
             WHERE a.name = 'Bank' AND m.email = 'dana@corp.example'",
            vec![triple("gained-item", "dana@corp.example", "Bank")],
        ),
        (
            "a removed grant: Dana's on the Ops collection",
            // A grant the store lost, not one an admin revoked: the record
            // of revocations (bug 7) is cleared with it.
            "DELETE FROM grants WHERE grantee_kind = 'member'
             AND grantee_id = (SELECT id FROM members WHERE email = 'dana@corp.example');
             DELETE FROM import_removed;",
            vec![
                triple("lost-item", "dana@corp.example", "Ops Dashboard"),
                triple("lost-item", "dana@corp.example", "Ops Database"),
            ],
        ),
        (
            "a role raised through a team: Oncall (Lee, read-only) made Owner",
            "UPDATE grants SET role = 'owner' WHERE grantee_kind = 'team'",
            vec![
                triple("role-above-source", "lee@corp.example", "Ops Dashboard"),
                triple("role-above-source", "lee@corp.example", "Ops Database"),
            ],
        ),
        (
            "a field emptied: the Mail password",
            "UPDATE accounts SET password = '' WHERE name = 'Mail'",
            vec![triple("value-not-carried", "-", "Mail")],
        ),
        (
            "a note dropped: the Ops Database notes",
            "UPDATE accounts SET notes = NULL WHERE name = 'Ops Database'",
            vec![triple("value-not-carried", "-", "Ops Database")],
        ),
        (
            "an item deleted: Ops Dashboard",
            "DELETE FROM accounts WHERE name = 'Ops Dashboard'; DELETE FROM import_removed;",
            vec![triple("item-missing", "-", "Ops Dashboard")],
        ),
    ];
    for (i, (fault, statement, named)) in faults.into_iter().enumerate() {
        let db = dir.path().join(format!("fault-{i}.db"));
        std::fs::copy(&migrated, &db).unwrap();
        // A copy of the database opens with the key of the one it copies.
        let key = |db: &std::path::Path| std::path::PathBuf::from(format!("{}.key", db.display()));
        std::fs::copy(key(&migrated), key(&db)).unwrap();
        sql(&db, statement);
        let report = dir.path().join(format!("fault-{i}.txt"));
        let run = verify(&db, "export.csv", &["--json", "--report", report.to_str().unwrap()]).expect_code(1);
        assert_clean(&run, Some(&report));
        assert_eq!(unexpected(&run), named, "{fault}\n{}", run.describe());
        let text = std::fs::read_to_string(&report).unwrap();
        for (what, person, item) in &named {
            let line = text
                .lines()
                .find(|l| l.contains(&format!("UNEXPECTED {what}: {person} on '{item}'")))
                .unwrap_or_else(|| panic!("{fault}: no line for {what} {person} {item}:\n{text}"));
            assert!(line.contains("source ") && line.contains("workspace "), "{line}");
        }
    }
}

#[test]
fn bug1_verify_names_who_gains_a_personal_item_filed_with_a_shared_folder_of_the_same_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated(dir.path(), "export-legal.csv");
    // The mix-up of bug 1, planted: Olivia's personal `Legal` item filed in
    // the collection of `Shared-Legal` (which today's mapper does by itself).
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE accounts SET collection_id = (SELECT collection_id FROM accounts WHERE name = 'Contract portal')
         WHERE name = 'Private legal notes'",
        [],
    )
    .unwrap();
    drop(conn);
    // The store lets Lee and Gina (members of Shared-Legal only) open it.
    assert!(reaches(&db, "lee@corp.example", "Private legal notes"));
    assert!(reaches(&db, "gina@freelance.example", "Private legal notes"));
    let run = verify(&db, "export-legal.csv", &["--json"]).expect_code(1);
    assert_clean(&run, None);
    let found = unexpected(&run);
    for who in ["gina@freelance.example", "lee@corp.example"] {
        assert!(
            found.contains(&triple("gained-item", who, "Private legal notes")),
            "{found:?}\n{}",
            run.describe()
        );
    }
}

#[test]
fn verify_refuses_unusable_input_with_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.db");
    let run = verify(&missing, "export.csv", &[]).expect_code(2);
    assert!(run.stderr.contains("nowhere.db"), "{}", run.describe());
    let db = migrated(dir.path(), "export.csv");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "url,username\n\"unterminated\n").unwrap();
    let run = vaultferry(&["verify", bad.to_str().unwrap(), "--db", db.to_str().unwrap()]).expect_code(2);
    assert!(run.stderr.contains("bad.csv"), "{}", run.describe());
}

/// Generates `format` with `knobs` (comma-separated) into `dir`, migrates it
/// into a fresh sample workspace and verifies it; returns verify's run.
fn generated_round(dir: &Path, format: &str, seed: u64, entries: usize, knobs: &str) -> Run {
    let export = dir.join(format!("export-{seed}.{format}"));
    let sharing = dir.join(format!("export-{seed}.{format}.sharing.json"));
    let (e, s) = (export.to_str().unwrap(), sharing.to_str().unwrap());
    let seed = seed.to_string();
    let entries = entries.to_string();
    let mut gen = vec![
        "generate",
        "--format",
        format,
        "--entries",
        &entries,
        "--seed",
        &seed,
        "--out",
        e,
    ];
    if !knobs.is_empty() {
        gen.extend(["--adversarial", knobs]);
    }
    vaultferry(&gen).success();
    let db = common::northwind_db(dir);
    let outbox = dir.join("outbox");
    let (d, o) = (db.to_str().unwrap(), outbox.to_str().unwrap());
    // Chunks of 7 entries: the digests migrate's check keeps are made per
    // chunk, and entries without an id are numbered across chunks.
    let migrate = common::vaultferry_env(
        &["migrate", e, "--sharing", s, "--db", d, "--yes", "--outbox", o],
        &[("VAULTFERRY_PLAN_CHUNK", "7")],
    );
    let check = vaultferry(&["verify", e, "--sharing", s, "--db", d, "--json"]);
    // migrate's check reads the export once, with the run; verify reads it
    // again on its own: they must count the same people, items and faults.
    let json = check.json();
    let counted = format!(
        "verified: {} people, {} items — {} unexpected difference",
        json["people"],
        json["items"],
        json["unexpected"].as_array().map_or(0, Vec::len)
    );
    assert!(
        migrate.code == check.code && migrate.stdout.lines().any(|l| l.starts_with(&counted)),
        "migrate's own check and verify disagree (verify: {counted})\n{}\n{}",
        migrate.describe(),
        check.describe()
    );
    check
}

/// Every adversarial knob: each is a shape a mapper bug of issue 19 broke
/// (same-name: bug 1, separators: bug 2, duplicate-ids: bug 5, …).
const SURVIVED: [&str; 6] = [
    "same-name",
    "separators",
    "duplicate-ids",
    "group-outsiders",
    "existing-teams",
    "nested-sharing",
];

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn verify_finds_nothing_unexpected_after_migrating_generated_adversarial_exports(
            seed in 1u64..10_000,
            format in prop::sample::select(vec!["lastpass-csv", "1pux", "1pif"]),
            knobs in prop::sample::subsequence(SURVIVED.to_vec(), 1..=SURVIVED.len()),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let run = generated_round(dir.path(), format, seed, 250, &knobs.join(","));
            prop_assert_eq!(run.code, 0, "{}", run.describe());
            prop_assert_eq!(&run.json()["unexpected"], &serde_json::json!([]));
        }
    }
}

#[test]
fn generated_adversarial_exports_hold_the_shape_each_knob_names() {
    let dir = tempfile::tempdir().unwrap();
    let gen = |knob: &str, format: &str| -> String {
        let out = dir.path().join(format!("{knob}.{format}"));
        vaultferry(&[
            "generate",
            "--format",
            format,
            "--entries",
            "200",
            "--out",
            out.to_str().unwrap(),
            "--adversarial",
            knob,
        ])
        .success();
        let sharing = std::fs::read_to_string(dir.path().join(format!("{knob}.{format}.sharing.json"))).unwrap();
        if format == "1pux" {
            return sharing;
        }
        std::fs::read_to_string(&out).unwrap() + &sharing
    };
    let text = gen("same-name", "lastpass-csv");
    assert!(text.contains(",Engineering,") && text.contains(",Shared-Engineering,"));
    let text = gen("separators", "lastpass-csv");
    assert!(text.contains(",Tools/Build,") && text.contains(",Tools\\Build,"));
    assert!(text.contains("Shared-Web") && text.contains("Shared-WEB"));
    let text = gen("duplicate-ids", "lastpass-csv");
    assert!(text.starts_with("id,url,"));
    let ids: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|i| !i.is_empty())
        .collect();
    let distinct: std::collections::HashSet<&&str> = ids.iter().collect();
    assert!(distinct.len() < ids.len(), "no id is duplicated");
    let text = gen("group-outsiders", "1pux");
    assert!(text.contains("@partner-") && text.contains("former.employee"));
    let text = gen("existing-teams", "lastpass-csv");
    assert!(text.contains("\"group_name\": \"Engineering\""), "{text}");
}

/// A `vaultferry serve` on loopback, killed when dropped.
struct Served {
    child: std::process::Child,
    url: String,
}

impl Served {
    fn start(db: &Path) -> Served {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vaultferry"))
            .args(["serve", "--db", db.to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .env_clear()
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start vaultferry serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut url = None;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(u) = line.strip_prefix("listening on ") {
                url = Some(u.trim().to_owned());
                break;
            }
        }
        Served {
            child,
            url: url.expect("vaultferry serve printed its address"),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn verify_through_a_served_workspace_reads_what_the_api_lists_and_names_a_planted_fault() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::seeded_db(&dir.path().join("served.db"), &fixture("workspace.toml"));
    let key = vaultferry(&[
        "apikey",
        "create",
        "--db",
        db.to_str().unwrap(),
        "--member",
        "olivia@corp.example",
    ])
    .success()
    .stdout
    .trim()
    .to_owned();
    let server = Served::start(&db);
    let (e, s) = (fixture("export.csv"), fixture("sharing.json"));
    let target = ["--target", server.url.as_str(), "--api-key", key.as_str()];
    let mut migrate = vec![
        "migrate",
        e.to_str().unwrap(),
        "--sharing",
        s.to_str().unwrap(),
        "--yes",
    ];
    migrate.extend(target);
    let outbox = dir.path().join("outbox");
    migrate.extend(["--outbox", outbox.to_str().unwrap()]);
    let run = vaultferry(&migrate).success();
    assert!(
        run.stdout
            .contains("verified: 5 people, 5 items — 0 unexpected differences"),
        "{}",
        run.describe()
    );
    let mut check = vec![
        "verify",
        e.to_str().unwrap(),
        "--sharing",
        s.to_str().unwrap(),
        "--json",
    ];
    check.extend(target);
    let run = vaultferry(&check).success();
    assert_clean(&run, None);
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key));
    sql(&db, "UPDATE accounts SET password = 'changed' WHERE name = 'Bank'");
    let run = vaultferry(&check).expect_code(1);
    assert_clean(&run, None);
    assert_eq!(unexpected(&run), vec![triple("value-not-carried", "-", "Bank")]);
}

#[test]
fn migrate_no_verify_skips_the_check_it_ends_with() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::seeded_db(&dir.path().join("v.db"), &fixture("workspace.toml"));
    let (e, s) = (fixture("export.csv"), fixture("sharing.json"));
    let outbox = dir.path().join("outbox");
    let run = vaultferry(&[
        "migrate",
        e.to_str().unwrap(),
        "--sharing",
        s.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--yes",
        "--no-verify",
        "--outbox",
        outbox.to_str().unwrap(),
    ])
    .success();
    assert!(!run.stdout.contains("verified:"), "{}", run.describe());
}

/// `migrate` ends with a check that takes the digests its own pipeline made
/// of the readers' entries (the export is read once), against the store
/// read after the writes: a store that keeps other than it was given still
/// fails the run, and the check counts what `verify` names on its own.
#[test]
fn migrates_own_check_fails_a_store_that_keeps_other_than_it_was_given() {
    let faults: [(&str, &str, bool, Vec<Named>); 2] = [
        (
            // Grants are not in the reconciliation: only the check sees it.
            "the store adds a grant: Dana on Olivia's personal bank login",
            "CREATE TRIGGER extra_grant AFTER INSERT ON grants
             WHEN NOT EXISTS (SELECT 1 FROM grants WHERE target_kind = 'account' AND grantee_kind = 'member'
                              AND grantee_id = (SELECT id FROM members WHERE email = 'dana@corp.example'))
             BEGIN
               INSERT INTO grants (target_kind, target_id, grantee_kind, grantee_id, role)
               SELECT 'account', a.id, 'member', m.id, 'collaborator' FROM accounts a, members m
               WHERE a.name = 'Bank' AND m.email = 'dana@corp.example';
             END;",
            true,
            vec![triple("gained-item", "dana@corp.example", "Bank")],
        ),
        (
            "the store drops a note and a password as they are written",
            "CREATE TRIGGER drop_note AFTER INSERT ON accounts WHEN NEW.name = 'Ops Database'
             BEGIN UPDATE accounts SET notes = NULL WHERE id = NEW.id; END;
             CREATE TRIGGER drop_password AFTER INSERT ON accounts WHEN NEW.name = 'Mail'
             BEGIN UPDATE accounts SET password = '' WHERE id = NEW.id; END;",
            false,
            vec![
                triple("value-not-carried", "-", "Mail"),
                triple("value-not-carried", "-", "Ops Database"),
            ],
        ),
    ];
    for (fault, triggers, reconciles, named) in faults {
        let dir = tempfile::tempdir().unwrap();
        let db = common::seeded_db(&dir.path().join("verify.db"), &fixture("workspace.toml"));
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch(triggers)
            .unwrap();
        let run = vaultferry(&[
            "migrate",
            fixture("export.csv").to_str().unwrap(),
            "--sharing",
            fixture("sharing.json").to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--yes",
            "--outbox",
            dir.path().join("outbox").to_str().unwrap(),
        ])
        .expect_code(1);
        assert_clean(&run, None);
        let n = named.len();
        let line = format!("— {n} unexpected difference{}", if n == 1 { "" } else { "s" });
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with("verified: ") && l.ends_with(&line)),
            "{fault}: migrate's check does not count {n}\n{}",
            run.describe()
        );
        assert!(
            run.stderr.contains("differs from the export"),
            "{fault}\n{}",
            run.describe()
        );
        let holds = run
            .stdout
            .lines()
            .rfind(|l| l.starts_with("reconciliation:"))
            .is_some_and(|l| l.contains("(holds)"));
        assert_eq!(holds, reconciles, "{fault}\n{}", run.describe());
        let check = verify(&db, "export.csv", &["--json"]).expect_code(1);
        assert_eq!(unexpected(&check), named, "{fault}\n{}", check.describe());
    }
}
