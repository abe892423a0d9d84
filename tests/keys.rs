//! Import keys tell apart folders the source tells apart: what each person
//! can reach is read back from the SQLite workspace after a real migrate.

mod common;

use std::path::Path;

use common::{key_the_old_way, northwind_db, rekey_as_written, root, vaultferry};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/keys").join(name)
}

/// The collection (id) holding the account of this title.
fn collection_of(conn: &rusqlite::Connection, title: &str) -> i64 {
    conn.query_row("SELECT collection_id FROM accounts WHERE name = ?1", [title], |r| {
        r.get(0)
    })
    .unwrap_or_else(|e| panic!("account {title:?}: {e}"))
}

/// Emails of the members with a direct grant on a collection, and roles.
fn member_grants(conn: &rusqlite::Connection, collection: i64) -> Vec<(String, String)> {
    let mut st = conn
        .prepare(
            "SELECT m.email, g.role FROM grants g JOIN members m ON m.id = g.grantee_id
             WHERE g.target_kind = 'collection' AND g.target_id = ?1 AND g.grantee_kind = 'member'
             ORDER BY m.email",
        )
        .unwrap();
    st.query_map([collection], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Who can open the account or secret of this title, read from the store
/// (not from the plan): grants on the item, on its collection or any
/// collection above it, to the member or to a team they are in.
fn reach(conn: &rusqlite::Connection, title: &str) -> Vec<String> {
    let mut st = conn
        .prepare(
            "WITH RECURSIVE item(kind, id, collection_id) AS (
                 SELECT 'account', id, collection_id FROM accounts WHERE name = ?1
                 UNION ALL SELECT 'secret', id, collection_id FROM secrets WHERE title = ?1
             ),
             up(id) AS (
                 SELECT collection_id FROM item WHERE collection_id IS NOT NULL
                 UNION SELECT c.parent_id FROM collections c JOIN up ON c.id = up.id WHERE c.parent_id IS NOT NULL
             ),
             held(grantee_kind, grantee_id) AS (
                 SELECT g.grantee_kind, g.grantee_id FROM grants g JOIN item i
                     ON g.target_kind = i.kind AND g.target_id = i.id
                 UNION SELECT g.grantee_kind, g.grantee_id FROM grants g JOIN up
                     ON g.target_kind = 'collection' AND g.target_id = up.id
             )
             SELECT DISTINCT m.email FROM members m WHERE m.id IN (
                 SELECT grantee_id FROM held WHERE grantee_kind = 'member'
                 UNION SELECT tm.member_id FROM team_members tm JOIN held h
                     ON h.grantee_kind = 'team' AND h.grantee_id = tm.team_id
             ) ORDER BY m.email",
        )
        .unwrap();
    st.query_map([title], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn count(conn: &rusqlite::Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// Migrates an export (with an optional sharing file) into `db`.
fn migrate_file(db: &Path, export: &str, sharing: Option<&str>) -> common::Run {
    let export = fixture(export);
    let mut args = vec!["migrate".to_owned(), s(&export).to_owned()];
    if let Some(sharing) = sharing {
        args.extend(["--sharing".to_owned(), s(&fixture(sharing)).to_owned()]);
    }
    args.extend(["--db".to_owned(), s(db).to_owned(), "--yes".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    vaultferry(&args).success()
}

fn migrate(db: &Path) {
    let export = fixture("legal-personal-and-shared.csv");
    let sharing = fixture("legal-sharing.json");
    vaultferry(&["migrate", s(&export), "--sharing", s(&sharing), "--db", s(db), "--yes"]).success();
}

#[test]
fn bug1_personal_and_shared_folder_of_same_name_stay_apart() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    migrate(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let personal = collection_of(&conn, "My divorce lawyer");
    let shared = collection_of(&conn, "Contracts portal");
    assert_ne!(personal, shared, "personal Legal and Shared-Legal are one collection");
    let reach = member_grants(&conn, personal);
    assert_eq!(
        reach,
        [("olivia@northwind.example".to_owned(), "owner".to_owned())],
        "the personal folder's owner alone"
    );
    assert!(
        !reach.iter().any(|(email, _)| email == "lee@northwind.example"),
        "a member of Shared-Legal reaches the personal Legal folder: {reach:?}"
    );
    assert!(
        member_grants(&conn, shared)
            .iter()
            .any(|(email, _)| email == "lee@northwind.example"),
        "the shared folder's member lost it"
    );
}

#[test]
fn bug1_shared_folders_differing_only_in_case_are_two() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    migrate(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let lower = collection_of(&conn, "Web lower");
    let upper = collection_of(&conn, "Web upper");
    assert_ne!(lower, upper, "Shared-Web and Shared-WEB are one collection");
    let has_dana = |c| {
        member_grants(&conn, c)
            .iter()
            .any(|(e, _)| e == "dana@northwind.example")
    };
    assert!(has_dana(upper), "Shared-WEB's member lost it");
    assert!(!has_dana(lower), "Shared-WEB's member reaches Shared-Web");
}

#[test]
fn bug1_a_rerun_counts_every_collection_unchanged_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    migrate(&db);
    migrate(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let collections: i64 = conn
        .query_row("SELECT count(*) FROM collections", [], |r| r.get(0))
        .unwrap();
    let accounts: i64 = conn
        .query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(accounts, 4, "a re-run duplicated or lost accounts");
    assert_eq!(collections, 4, "Legal, Shared-Legal, Shared-Web, Shared-WEB");
}

#[test]
fn bug2_a_slash_in_a_lastpass_folder_name_is_not_nesting() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let first = migrate_file(&db, "slash-in-names.csv", Some("slash-sharing.json"));
    assert!(
        !first.stdout.contains("parent was not created") && !first.stderr.contains("parent was not created"),
        "{}",
        first.describe()
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_ne!(
        collection_of(&conn, "Slash build"),
        collection_of(&conn, "Nested build")
    );
    assert_ne!(collection_of(&conn, "RD slash"), collection_of(&conn, "RD nested"));
    // `Shared-R/D` is shared with lee alone; `D` inside `Shared-R` with dana.
    let lee = "lee@northwind.example".to_owned();
    let dana = "dana@northwind.example".to_owned();
    let slash = reach(&conn, "RD slash");
    let nested = reach(&conn, "RD nested");
    assert!(
        slash.contains(&lee) && !slash.contains(&dana),
        "Shared-R/D reached by {slash:?}"
    );
    assert!(
        nested.contains(&dana) && !nested.contains(&lee),
        "Shared-R\\D reached by {nested:?}"
    );
    let collections = count(&conn, "collections");
    // Tools/Build; Tools and Tools\Build; Shared-R/D; Shared-R and D in it.
    assert_eq!(collections, 6);
    drop(conn);
    let again = migrate_file(&db, "slash-in-names.csv", Some("slash-sharing.json"));
    assert!(
        again.stdout.contains(&format!("collections: {collections} unchanged")),
        "a re-run must count each of the {collections} collections unchanged once\n{}",
        again.describe()
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(count(&conn, "collections"), collections);
    assert_eq!(count(&conn, "accounts"), 4);
}

#[test]
fn bug2_a_1pif_folder_named_with_a_slash_is_not_a_folder_inside_another() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let first = migrate_file(&db, "slash-in-names.1pif", None);
    assert!(!first.stdout.contains("parent was not created"), "{}", first.describe());
    assert!(!first.stderr.contains("parent was not created"), "{}", first.describe());
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_ne!(
        collection_of(&conn, "In R slash D"),
        collection_of(&conn, "In D inside R")
    );
    assert_eq!(count(&conn, "collections"), 3, "R/D; R and D inside it");
    drop(conn);
    let again = migrate_file(&db, "slash-in-names.1pif", None);
    assert!(
        again.stdout.contains("collections: 3 unchanged"),
        "{}",
        again.describe()
    );
}

#[test]
fn bug2_two_1pif_folders_of_one_name_stay_two_collections() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let first = migrate_file(&db, "same-name-folders.1pif", None);
    assert!(
        first.stdout.contains("onepassword.folder-name-repeated"),
        "{}",
        first.describe()
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_ne!(
        collection_of(&conn, "Client portal"),
        collection_of(&conn, "Internal wiki")
    );
    assert_eq!(count(&conn, "collections"), 2, "Projects and Projects (2)");
    drop(conn);
    // The records in the other order: each folder keeps its name (by uuid,
    // not by file order), so the re-run changes nothing.
    let text = std::fs::read_to_string(fixture("same-name-folders.1pif")).unwrap();
    let sep = "***5642bee8-a5ff-11dc-8314-0800200c9a66***";
    let mut records: Vec<&str> = text.split(sep).map(str::trim).filter(|r| !r.is_empty()).collect();
    records.reverse();
    let reordered = dir.path().join("reordered.1pif");
    std::fs::write(&reordered, records.join(&format!("\n{sep}\n")) + "\n" + sep + "\n").unwrap();
    let again = vaultferry(&["migrate", s(&reordered), "--db", s(&db), "--yes"]).success();
    assert!(
        again.stdout.contains("collections: 2 unchanged"),
        "{}",
        again.describe()
    );
    assert!(again.stdout.contains("0 created"), "{}", again.describe());
}

/// Every import key of collections and grants, and who reaches each item.
fn keys_and_reach(conn: &rusqlite::Connection) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let mut st = conn
        .prepare(
            "SELECT import_key FROM collections UNION ALL SELECT import_key FROM grants
             UNION ALL SELECT import_key FROM accounts UNION ALL SELECT import_key FROM secrets ORDER BY 1",
        )
        .unwrap();
    let keys: Vec<String> = st
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .unwrap()
        .filter_map(Result::unwrap)
        .collect();
    let mut st = conn
        .prepare("SELECT name FROM accounts UNION SELECT title FROM secrets ORDER BY 1")
        .unwrap();
    let titles: Vec<String> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    let reach = titles.into_iter().map(|t| (t.clone(), reach(conn, &t))).collect();
    (keys, reach)
}

#[test]
fn a_workspace_keyed_the_old_way_is_moved_to_the_new_keys_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let export = common::sample("lastpass/company.csv");
    let sharing = common::sample("lastpass/sharing-getdetailedsfdata.json");
    let run = || vaultferry(&["migrate", s(&export), "--sharing", s(&sharing), "--db", s(&db), "--yes"]).success();
    run();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (new_keys, reach_before) = keys_and_reach(&conn);
    let collections = count(&conn, "collections");
    drop(conn);

    key_the_old_way(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (old_keys, _) = keys_and_reach(&conn);
    assert_ne!(old_keys, new_keys, "the sample has shared folders, whose keys changed");
    drop(conn);

    let moved = run();
    assert!(
        moved.stdout.contains(&format!("collections: {collections} unchanged"))
            && moved
                .stdout
                .contains("= 0 created + 0 updated + 34 unchanged + 0 conflicts"),
        "the re-run over the old-keyed workspace must find everything unchanged\n{}",
        moved.describe()
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (keys, reach_after) = keys_and_reach(&conn);
    assert_eq!(keys, new_keys, "every object is under its new key, none twice");
    assert_eq!(reach_after, reach_before, "nobody gained or lost an item");
    let recorded: i64 = conn
        .query_row("SELECT count(*) FROM key_moves", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        recorded, 6,
        "Engineering, Engineering/Databases, Finance and Vendors, and the two personal folders (now keyed by their owner) were moved, and recorded"
    );
    drop(conn);

    let again = run();
    assert!(
        again
            .stdout
            .contains("= 0 created + 0 updated + 34 unchanged + 0 conflicts"),
        "{}",
        again.describe()
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let recorded_again: i64 = conn
        .query_row("SELECT count(*) FROM key_moves", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded_again, 6, "a second re-run moves nothing");
}

/// The plan's findings of one code, as JSON.
fn findings(export: &str, sharing: Option<&str>, db: &Path, code: &str) -> Vec<serde_json::Value> {
    let export = fixture(export);
    let mut args = vec!["plan".to_owned(), s(&export).to_owned()];
    if let Some(sharing) = sharing {
        args.extend(["--sharing".to_owned(), s(&fixture(sharing)).to_owned()]);
    }
    args.extend(["--db".to_owned(), s(db).to_owned(), "--json".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let plan = vaultferry(&args).success().json();
    plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .cloned()
        .collect()
}

#[test]
fn bug5_lastpass_rows_sharing_an_id_are_all_written_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let dups = findings(
        "duplicate-ids.csv",
        Some("duplicate-sharing.json"),
        &db,
        "mapper.duplicate-source-id",
    );
    assert_eq!(dups.len(), 2, "the second and third row of id 4242: {dups:?}");
    let lines: Vec<u64> = dups.iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 4]);
    assert!(dups
        .iter()
        .all(|f| f["field"] == "id" && f["message"].as_str().unwrap().contains("line 2")));

    migrate_file(&db, "duplicate-ids.csv", Some("duplicate-sharing.json"));
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(count(&conn, "accounts"), 4, "every row is an account");
    let lee = "lee@northwind.example".to_owned();
    assert!(
        reach(&conn, "Ops console").contains(&lee),
        "the shared row reaches its member"
    );
    for personal in ["My bank", "Third row", "Unique row"] {
        let who = reach(&conn, personal);
        assert_eq!(who, ["olivia@northwind.example"], "{personal} reached by {who:?}");
    }
    drop(conn);
    let again = migrate_file(&db, "duplicate-ids.csv", Some("duplicate-sharing.json"));
    assert!(
        again
            .stdout
            .contains("= 0 created + 0 updated + 4 unchanged + 0 conflicts"),
        "{}",
        again.describe()
    );
    let secrets = [
        "Pw-Dup-Personal-5Ab!",
        "Pw-Dup-Shared-6Cd#",
        "Pw-Dup-Third-7Ef$",
        "Pw-Unique-8Gh%",
    ]
    .map(String::from);
    common::assert_no_secrets("migrate stdout", &again.stdout, &secrets);
    common::assert_no_secrets("migrate stderr", &again.stderr, &secrets);
}

#[test]
fn bug5_a_1pif_uuid_in_three_records_gives_three_items() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let dups = findings("duplicate-ids.1pif", None, &db, "mapper.duplicate-source-id");
    assert_eq!(dups.len(), 2, "{dups:?}");
    assert!(dups.iter().all(|f| f["field"] == "uuid"));
    migrate_file(&db, "duplicate-ids.1pif", None);
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(count(&conn, "accounts") + count(&conn, "secrets"), 3);
    for title in ["First of the uuid", "Second of the uuid", "Third of the uuid"] {
        assert_eq!(reach(&conn, title), ["olivia@northwind.example"], "{title}");
    }
    drop(conn);
    let again = migrate_file(&db, "duplicate-ids.1pif", None);
    assert!(
        again
            .stdout
            .contains("= 0 created + 0 updated + 3 unchanged + 0 conflicts"),
        "{}",
        again.describe()
    );
}

/// Each account's notes with its import key, from the store (opened with
/// its key: the notes are sealed in the file).
fn notes_by_key(db: &Path) -> Vec<(String, String)> {
    use vaultferry::workspace::Workspace as _;
    let snapshot = vaultferry::workspace::sqlite::SqliteWorkspace::open(db)
        .unwrap()
        .snapshot()
        .unwrap();
    let mut out: Vec<(String, String)> = snapshot
        .accounts
        .iter()
        .filter_map(|a| {
            Some((
                a.import.import_key.as_ref()?.to_string(),
                a.notes.clone().unwrap_or_default(),
            ))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn bug11d_a_shuffled_reexport_of_identical_fingerprints_reports_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    migrate_file(&db, "same-fingerprint.csv", None);
    let before = notes_by_key(&db);
    assert_eq!(before.len(), 4);
    let shuffled = migrate_file(&db, "same-fingerprint-shuffled.csv", None);
    assert!(
        shuffled
            .stdout
            .contains("= 0 created + 0 updated + 4 unchanged + 0 conflicts"),
        "the same entries in another order are unchanged\n{}",
        shuffled.describe()
    );
    assert_eq!(notes_by_key(&db), before, "each item keeps its key and content");
    let back = migrate_file(&db, "same-fingerprint.csv", None);
    assert!(
        back.stdout
            .contains("= 0 created + 0 updated + 4 unchanged + 0 conflicts"),
        "{}",
        back.describe()
    );
}

#[test]
fn a_personal_and_shared_folder_the_old_build_merged_come_apart_without_leaking() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    migrate(&db);
    // The old build's workspace: `Legal` and `Shared-Legal` were one
    // collection holding both folders' items and the shared folder's
    // members.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let personal = collection_of(&conn, "My divorce lawyer");
    let shared = collection_of(&conn, "Contracts portal");
    conn.execute(
        "UPDATE accounts SET collection_id = ?1 WHERE collection_id = ?2",
        [personal, shared],
    )
    .unwrap();
    conn.execute(
        "DELETE FROM grants WHERE target_kind = 'collection' AND target_id = ?2 AND grantee_kind || ':' || grantee_id IN
             (SELECT grantee_kind || ':' || grantee_id FROM grants WHERE target_kind = 'collection' AND target_id = ?1)",
        [personal, shared],
    )
    .unwrap();
    conn.execute(
        "UPDATE grants SET target_id = ?1 WHERE target_kind = 'collection' AND target_id = ?2",
        [personal, shared],
    )
    .unwrap();
    conn.execute("DELETE FROM collections WHERE id = ?1", [shared]).unwrap();
    drop(conn);
    key_the_old_way(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let lee = "lee@northwind.example".to_owned();
    assert!(
        reach(&conn, "My divorce lawyer").contains(&lee),
        "the old build's leak, as it was"
    );
    drop(conn);

    migrate(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let personal_reach = reach(&conn, "My divorce lawyer");
    assert_eq!(
        personal_reach,
        ["olivia@northwind.example"],
        "after the move: {personal_reach:?}"
    );
    assert!(
        reach(&conn, "Contracts portal").contains(&lee),
        "the shared folder's member kept it"
    );
    assert_ne!(
        collection_of(&conn, "My divorce lawyer"),
        collection_of(&conn, "Contracts portal")
    );
    let accounts = count(&conn, "accounts");
    assert_eq!(accounts, 4, "nothing duplicated");
    drop(conn);
    migrate(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(count(&conn, "collections"), 4);
    assert_eq!(count(&conn, "accounts"), 4);
}

#[test]
fn issue19_plan_over_a_workspace_keyed_the_old_way_shows_the_run_after_the_move_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let export = common::sample("lastpass/company.csv");
    let sharing = common::sample("lastpass/sharing-getdetailedsfdata.json");
    vaultferry(&["migrate", s(&export), "--sharing", s(&sharing), "--db", s(&db), "--yes"]).success();
    key_the_old_way(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (old_keys, reach_before) = keys_and_reach(&conn);
    let collections = count(&conn, "collections");
    drop(conn);

    // The summary alone and the whole plan (a report asked for) alike.
    let report = dir.path().join("plan.json");
    for extra in [vec![], vec!["--report".to_owned(), s(&report).to_owned()]] {
        let mut args = vec!["plan", s(&export), "--sharing", s(&sharing), "--db", s(&db)];
        args.extend(extra.iter().map(String::as_str));
        let plan = vaultferry(&args).success();
        assert!(
            plan.stdout.contains(&format!("collections: {collections} unchanged"))
                && plan
                    .stdout
                    .contains("= 0 created + 0 updated + 34 unchanged + 0 conflicts"),
            "plan must show what the run does after the key move: nothing to create\n{}",
            plan.describe()
        );
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (keys, reach_after) = keys_and_reach(&conn);
    assert_eq!(keys, old_keys, "plan moved no key in the store");
    assert_eq!(reach_after, reach_before);
    let recorded: i64 = conn
        .query_row("SELECT count(*) FROM key_moves", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded, 0, "plan recorded no move");
}

/// Migrates an export with extra arguments (`--owner …`) into `db`.
fn migrate_with(db: &Path, export: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec!["migrate", s(export), "--db", s(db), "--yes"];
    args.extend_from_slice(extra);
    vaultferry(&args).success()
}

/// `--sharing` with the file naming dana (admin) and lee in `Shared-Ops`.
fn ops_sharing() -> [&'static str; 2] {
    let path: &'static Path = Box::leak(fixture("ops-sharing.json").into_boxed_path());
    ["--sharing", s(path)]
}

/// Collections with this name, from the store.
fn collections_named(conn: &rusqlite::Connection, name: &str) -> i64 {
    conn.query_row("SELECT count(*) FROM collections WHERE name = ?1", [name], |r| r.get(0))
        .unwrap()
}

#[test]
fn bug19_two_owners_personal_folders_stay_apart() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let sharing = fixture("ops-sharing.json");
    let sharing = ["--sharing", s(&sharing)];
    migrate_with(
        &db,
        &fixture("personal-dana.csv"),
        &[&sharing[..], &["--owner", "dana@northwind.example"]].concat(),
    );
    migrate_with(
        &db,
        &fixture("personal-lee.csv"),
        &[&sharing[..], &["--owner", "Lee@Northwind.example "]].concat(),
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_ne!(
        collection_of(&conn, "Dana bank"),
        collection_of(&conn, "Lee bank"),
        "two people's `Personal` are one collection"
    );
    assert_eq!(collections_named(&conn, "Personal"), 2);
    assert_eq!(
        collections_named(&conn, "Ops"),
        1,
        "the shared folder is one, whoever exported it"
    );
    assert_eq!(reach(&conn, "Dana bank"), ["dana@northwind.example"]);
    assert_eq!(reach(&conn, "Lee bank"), ["lee@northwind.example"]);
    assert_eq!(count(&conn, "accounts"), 3, "the shared row is one account");
    drop(conn);
    // Each re-run finds its own folder again.
    let again = migrate_with(
        &db,
        &fixture("personal-dana.csv"),
        &[&sharing[..], &["--owner", "dana@northwind.example"]].concat(),
    );
    assert!(
        again
            .stdout
            .contains("= 0 created + 0 updated + 2 unchanged + 0 conflicts"),
        "{}",
        again.describe()
    );
}

#[test]
fn bug19_without_an_owner_the_importer_is_assumed_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let assumed = findings("personal-dana.csv", None, &db, "mapper.personal-owner-assumed");
    assert_eq!(assumed.len(), 1, "{assumed:?}");
    let message = assumed[0]["message"].as_str().unwrap();
    assert!(
        message.contains("olivia@northwind.example") && message.contains("--owner"),
        "{message}"
    );
    let named = {
        let export = fixture("personal-dana.csv");
        let plan = vaultferry(&[
            "plan",
            s(&export),
            "--db",
            s(&db),
            "--owner",
            "dana@northwind.example",
            "--json",
        ])
        .success()
        .json();
        plan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "mapper.personal-owner-assumed")
            .count()
    };
    assert_eq!(named, 0, "--owner names the owner: nothing is assumed");
}

/// A 1PUX of one account (`email`) with a private vault holding `title`
/// and the shared vault `Ops`.
fn one_pux(dir: &Path, name: &str, email: &str, uuid: &str, title: &str, ops: bool) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join(name);
    let ops = if ops {
        r#",{"attrs":{"uuid":"ops","name":"Ops","type":"U"},"items":[
                {"uuid":"ops-1","categoryUuid":"001","overview":{"title":"Ops console","url":"https://ops.example"},
                  "details":{"loginFields":[]}}]}"#
    } else {
        ""
    };
    let data = format!(
        r#"{{"accounts":[{{"attrs":{{"accountName":"Northwind","name":"N","email":"{email}","uuid":"acc-{uuid}"}},
            "vaults":[
              {{"attrs":{{"uuid":"priv-{uuid}","name":"Private","type":"P"}},"items":[
                {{"uuid":"{uuid}","categoryUuid":"001","overview":{{"title":"{title}","url":"https://{uuid}.example"}},
                  "details":{{"loginFields":[{{"value":"{uuid}-user","designation":"username","fieldType":"T"}}]}}}}]}}{ops}]}}]}}"#
    );
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("export.attributes", opts).unwrap();
    zip.write_all(br#"{"version":3,"createdAt":1740873600}"#).unwrap();
    zip.start_file("export.data", opts).unwrap();
    zip.write_all(data.as_bytes()).unwrap();
    zip.finish().unwrap();
    path
}

#[test]
fn bug19_two_1pux_accounts_private_vaults_stay_apart() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let dana = one_pux(
        dir.path(),
        "dana.1pux",
        "dana@northwind.example",
        "d1",
        "Dana private",
        true,
    );
    let lee = one_pux(
        dir.path(),
        "lee.1pux",
        "lee@northwind.example",
        "l1",
        "Lee private",
        false,
    );
    migrate_with(&db, &dana, &[]);
    migrate_with(&db, &lee, &[]);
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(
        collections_named(&conn, "Private"),
        2,
        "two accounts' Private vaults are one"
    );
    let ops: String = conn
        .query_row("SELECT import_key FROM collections WHERE name = 'Ops'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(ops, "collection:1password:Ops", "a shared vault names no owner");
    assert_eq!(reach(&conn, "Dana private"), ["dana@northwind.example"]);
    assert_eq!(reach(&conn, "Lee private"), ["lee@northwind.example"]);
    drop(conn);
    // `--owner` that disagrees with the export's account is refused.
    let run = vaultferry(&["plan", s(&dana), "--db", s(&db), "--owner", "lee@northwind.example"]);
    assert_eq!(run.code, 2, "{}", run.describe());
    assert!(run.stderr.contains("dana@northwind.example"), "{}", run.describe());
}

/// A workspace the build before owner keys filled: each personal
/// collection under `collection:<vendor>:<path>` (no owner), the grants on
/// it, and its items' stored hashes as that build wrote them.
fn drop_owners_from_keys(db: &Path) {
    let ws = vaultferry::workspace::open_sqlite(db).unwrap();
    let mut snap = ws.snapshot().unwrap();
    drop(ws);
    let conn = rusqlite::Connection::open(db).unwrap();
    for c in &mut snap.collections {
        let Some(key) = c.import_key.clone() else { continue };
        let Some((vendor, rest)) = key.as_str().strip_prefix("collection:").and_then(|k| k.split_once(':')) else {
            continue;
        };
        let Some((_owner, path)) = rest.strip_prefix("personal:").and_then(|r| r.split_once(':')) else {
            continue;
        };
        let old = format!("collection:{vendor}:{}", path.replace("%3A", ":"));
        conn.execute(
            "UPDATE collections SET import_key = ?1 WHERE id = ?2",
            rusqlite::params![old, c.id],
        )
        .unwrap();
        rekey_as_written(&conn, key.as_str(), &old);
        c.import_key = Some(vaultferry::workspace::ImportKey::new(old));
    }
    for a in &snap.accounts {
        let hash = vaultferry::diff::workspace_account_hash(a, &snap);
        conn.execute(
            "UPDATE accounts SET imported_hash = ?1, imported_intact = 1 WHERE id = ?2",
            rusqlite::params![hash, a.id],
        )
        .unwrap();
    }
}

#[test]
fn bug19_a_workspace_keyed_without_owners_moves_to_owner_keys_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let dana = fixture("personal-dana.csv");
    migrate_with(&db, &dana, &ops_sharing());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (new_keys, reach_before) = keys_and_reach(&conn);
    assert!(
        new_keys
            .iter()
            .any(|k| k == "collection:lastpass:personal:olivia@northwind.example:Personal"),
        "{new_keys:?}"
    );
    drop(conn);
    drop_owners_from_keys(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (old_keys, _) = keys_and_reach(&conn);
    assert!(
        old_keys.iter().any(|k| k == "collection:lastpass:Personal"),
        "{old_keys:?}"
    );
    drop(conn);

    let moved = migrate_with(&db, &dana, &ops_sharing());
    assert!(
        moved
            .stdout
            .contains("= 0 created + 0 updated + 2 unchanged + 0 conflicts")
            && moved.stdout.contains("collections: 2 unchanged"),
        "the re-run over the workspace keyed without owners finds everything unchanged\n{}",
        moved.describe()
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (keys, reach_after) = keys_and_reach(&conn);
    assert_eq!(keys, new_keys, "every object is under its new key, none twice");
    assert_eq!(reach_after, reach_before, "nobody gained or lost an item");
    assert_eq!(count(&conn, "key_moves"), 1, "Personal was moved, and recorded");
    drop(conn);

    // Another person's export of a `Personal` folder does not take it.
    migrate_with(
        &db,
        &fixture("personal-lee.csv"),
        &[&ops_sharing()[..], &["--owner", "lee@northwind.example"]].concat(),
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(collections_named(&conn, "Personal"), 2);
    assert_eq!(reach(&conn, "Dana bank"), ["olivia@northwind.example"]);
    assert_eq!(reach(&conn, "Lee bank"), ["lee@northwind.example"]);
    assert_eq!(count(&conn, "key_moves"), 1);
}

#[test]
fn bug19_a_personal_folder_keyed_without_owner_is_not_moved_to_another_owner() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let dana = fixture("personal-dana.csv");
    // Imported by olivia, before `--owner`: the old build gave her the
    // personal folder (and the run's source is olivia's).
    migrate_with(&db, &dana, &ops_sharing());
    drop_owners_from_keys(&db);
    // Now with the right owner: the old collection is olivia's, so it is
    // not handed to dana; dana's folder is made apart and her item moves.
    migrate_with(
        &db,
        &dana,
        &[&ops_sharing()[..], &["--owner", "dana@northwind.example"]].concat(),
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(count(&conn, "key_moves"), 0);
    assert_eq!(reach(&conn, "Dana bank"), ["dana@northwind.example"]);
    assert_eq!(count(&conn, "accounts"), 2, "nothing duplicated");
}
