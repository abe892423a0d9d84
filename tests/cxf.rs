//! CXF in (issue 24): what each person can reach in the store after a real
//! `migrate` of a CXF document whose `shared` extensions name users and
//! groups, with hostile collection names.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::vaultferry;

const SECRETS: [&str; 6] = [
    "Cxf-Pw-Slash-1",
    "Cxf-Pw-A-2",
    "Cxf-Key-Group-3",
    "Cxf-Wifi-Keys-4",
    "Cxf-Pw-Hidden-5",
    "Cxf-Pw-Mine-6",
];

fn fixture(name: &str) -> PathBuf {
    common::root().join("tests/fixtures/cxf").join(name)
}

fn migrate(dir: &Path, export: &Path) -> (common::Run, rusqlite::Connection) {
    let db = common::seeded_db(&dir.join("cxf.db"), &fixture("workspace.toml"));
    let report = dir.join("report.md");
    let run = vaultferry(&[
        "migrate",
        export.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--yes",
        "--json",
        "--report",
        report.to_str().unwrap(),
        "--outbox",
        dir.join("outbox").to_str().unwrap(),
    ])
    .success();
    let secrets: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    common::assert_no_secrets("stdout", &run.stdout, &secrets);
    common::assert_no_secrets("stderr", &run.stderr, &secrets);
    common::assert_no_secrets("report", &std::fs::read_to_string(&report).unwrap(), &secrets);
    (run, rusqlite::Connection::open(&db).unwrap())
}

/// Each person's best role on each item (by item name), from the store's
/// tables alone: grants to them, their teams or their partner, on the item
/// or on any collection above it.
fn reach(conn: &rusqlite::Connection) -> BTreeMap<String, BTreeMap<String, String>> {
    let sql = "
        WITH RECURSIVE
        items(kind, id, name, coll) AS (
            SELECT 'account', id, name, collection_id FROM accounts
            UNION ALL SELECT 'secret', id, title, collection_id FROM secrets),
        above(kind, id, coll) AS (
            SELECT kind, id, coll FROM items WHERE coll IS NOT NULL
            UNION SELECT a.kind, a.id, c.parent_id FROM above a JOIN collections c ON c.id = a.coll
                WHERE c.parent_id IS NOT NULL),
        targets(kind, id, tkind, tid) AS (
            SELECT kind, id, kind, id FROM items
            UNION SELECT kind, id, 'collection', coll FROM above),
        held(member, tkind, tid, role) AS (
            SELECT grantee_id, target_kind, target_id, role FROM grants WHERE grantee_kind = 'member'
            UNION ALL SELECT t.member_id, g.target_kind, g.target_id, g.role FROM grants g
                JOIN team_members t ON g.grantee_kind = 'team' AND t.team_id = g.grantee_id
            UNION ALL SELECT p.member_id, g.target_kind, g.target_id, g.role FROM grants g
                JOIN partner_members p ON g.grantee_kind = 'partner' AND p.partner_id = g.grantee_id)
        SELECT m.email, i.name, MIN(CASE h.role WHEN 'owner' THEN 1 WHEN 'manager' THEN 2 ELSE 3 END)
        FROM held h
        JOIN targets t ON t.tkind = h.tkind AND t.tid = h.tid
        JOIN items i ON i.kind = t.kind AND i.id = t.id
        JOIN members m ON m.id = h.member
        GROUP BY m.email, i.name";
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut stmt = conn.prepare(sql).unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })
        .unwrap();
    for row in rows {
        let (email, item, rank) = row.unwrap();
        let role = ["owner", "manager", "collaborator"][usize::try_from(rank - 1).unwrap()];
        out.entry(email).or_default().insert(item, role.to_owned());
    }
    out
}

fn of(reach: &BTreeMap<String, BTreeMap<String, String>>, email: &str) -> Vec<(String, String)> {
    reach
        .get(email)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    v.sort();
    v
}

#[test]
fn each_person_reaches_what_the_shared_extension_gave_them_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (run, conn) = migrate(dir.path(), &fixture("shared.cxf.json"));
    let reach = reach(&conn);
    // "A/B" (one collection whose name holds a slash) is Dana's; "A" › "B"
    // is Lee's, as an Owner (manage), inherited by the subcollection.
    assert_eq!(
        of(&reach, "dana@corp.example"),
        pairs(&[("Slash item", "collaborator"), ("Group item", "collaborator")]),
        "{reach:?}"
    );
    assert_eq!(
        of(&reach, "lee@corp.example"),
        pairs(&[("A item", "owner"), ("A B item", "owner")]),
        "{reach:?}"
    );
    // A guest holds Collaborator by every path: through the group's team
    // and where the source gave share + manage.
    assert_eq!(
        of(&reach, "gina@freelance.example"),
        pairs(&[("Group item", "collaborator"), ("Keys item", "collaborator")]),
        "{reach:?}"
    );
    // `read` without `readSecret` (hide passwords) still reaches the item.
    assert_eq!(
        of(&reach, "kiosk@corp.example"),
        pairs(&[("Hidden item", "collaborator")]),
        "{reach:?}"
    );
    // An outsider is invited as a guest and reaches the one item shared.
    assert_eq!(
        of(&reach, "zed@outside.example"),
        pairs(&[("Keys item", "collaborator")]),
        "{reach:?}"
    );
    // Someone inside the domains who is no member gets nothing.
    assert!(of(&reach, "mark@corp.example").is_empty(), "{reach:?}");
    // The owner of the export reaches every item, her own collection too.
    assert_eq!(of(&reach, "olivia@corp.example").len(), 7, "{reach:?}");
    let invited: Vec<String> = conn
        .prepare("SELECT m.email FROM guest_invitations g JOIN members m ON m.id = g.member_id ORDER BY m.email")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(invited, ["zed@outside.example"]);
    let json = run.json();
    let unmatched = json.to_string();
    assert!(
        unmatched.contains("mark@corp.example"),
        "the report lists the unmatched sharer"
    );
}

#[test]
fn hostile_collection_names_stay_apart_and_nest_as_the_document_says() {
    let dir = tempfile::tempdir().unwrap();
    let (_, conn) = migrate(dir.path(), &fixture("shared.cxf.json"));
    let mut stmt = conn
        .prepare(
            "SELECT c.name, p.name FROM collections c LEFT JOIN collections p ON p.id = c.parent_id ORDER BY c.name, p.name",
        )
        .unwrap();
    let rows: Vec<(String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for want in [
        ("A/B".to_owned(), None),
        ("A".to_owned(), None),
        ("B".to_owned(), Some("A".to_owned())),
        ("personal:olivia@corp.example".to_owned(), None),
        ("Secrets 🔑 %2F".to_owned(), None),
    ] {
        assert!(rows.contains(&want), "{want:?} in {rows:?}");
    }
    let keys: Vec<String> = conn
        .prepare("SELECT import_key FROM collections")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "{keys:?}");
}

#[test]
fn a_second_migrate_of_the_same_document_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, conn) = migrate(dir.path(), &fixture("shared.cxf.json"));
    let before = reach(&conn);
    let db = dir.path().join("cxf.db");
    let again = vaultferry(&[
        "plan",
        fixture("shared.cxf.json").to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--json",
    ]);
    let json = again.json();
    let creates = json.to_string().matches("\"create\"").count();
    assert_eq!(creates, 0, "{}", again.describe());
    assert_eq!(reach(&conn), before);
}

/// `export --format cxf` of the migrated fixture, as a test would run it.
fn export(dir: &Path, extra: &[&str]) -> (common::Run, PathBuf) {
    let out = dir.join("out.cxf.json");
    let db = dir.join("cxf.db");
    let mut args = vec![
        "export",
        "--format",
        "cxf",
        "--db",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    (vaultferry(&args), out)
}

#[test]
fn export_asks_for_yes_without_a_terminal_and_writes_an_owner_only_file() {
    let dir = tempfile::tempdir().unwrap();
    migrate(dir.path(), &fixture("shared.cxf.json"));
    let (run, out) = export(dir.path(), &[]);
    let run = run.expect_code(2);
    assert!(run.stderr.contains("--yes"), "{}", run.describe());
    assert!(!out.exists(), "nothing written without confirmation");
    let (run, out) = export(dir.path(), &["--yes"]);
    run.success();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["version"]["major"], 1);
    let account = &doc["accounts"][0];
    assert_eq!(account["email"], "olivia@corp.example");
    let titles: Vec<&str> = account["collections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["title"].as_str())
        .collect();
    assert!(titles.contains(&"A/B") && titles.contains(&"A"), "{titles:?}");
    let a = account["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] == "A")
        .unwrap();
    assert_eq!(a["subCollections"][0]["title"], "B", "nested as in the workspace");
    let text = doc.to_string();
    for secret in SECRETS {
        assert!(text.contains(secret), "an export holds the real value {secret}");
    }
}

#[test]
fn export_of_one_collection_holds_it_and_what_is_below_it_only() {
    let dir = tempfile::tempdir().unwrap();
    migrate(dir.path(), &fixture("shared.cxf.json"));
    let (run, out) = export(dir.path(), &["--yes", "--collection", "A"]);
    run.success();
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let items: Vec<&str> = doc["accounts"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["title"].as_str())
        .collect();
    assert_eq!(items, ["A item", "A B item"]);
    let nope = export(dir.path(), &["--yes", "--collection", "Nope"]).0.expect_code(2);
    assert!(
        nope.stderr.contains("no collection named 'Nope'"),
        "{}",
        nope.describe()
    );
}

#[test]
fn an_exported_workspace_migrated_into_a_fresh_one_gives_every_person_the_same_reach() {
    let dir = tempfile::tempdir().unwrap();
    let (_, conn) = migrate(dir.path(), &fixture("shared.cxf.json"));
    let first = reach(&conn);
    let (run, out) = export(dir.path(), &["--yes"]);
    run.success();
    let again = tempfile::tempdir().unwrap();
    let (_, conn2) = migrate(again.path(), &out);
    assert_eq!(reach(&conn2), first);
    // The values came through: every password, key and passphrase.
    let verify = vaultferry(&[
        "verify",
        out.to_str().unwrap(),
        "--db",
        again.path().join("cxf.db").to_str().unwrap(),
        "--json",
    ])
    .success();
    assert_eq!(
        verify.json()["unexpected"].as_array().unwrap().len(),
        0,
        "{}",
        verify.describe()
    );
}

#[test]
fn convert_turns_a_lastpass_export_with_sharing_into_cxf_that_reads_back_alike() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lastpass.cxf.json");
    let csv = common::sample("lastpass/company.csv");
    let sharing = common::sample("lastpass/sharing-getdetailedsfdata.json");
    let run = vaultferry(&[
        "convert",
        csv.to_str().unwrap(),
        "--sharing",
        sharing.to_str().unwrap(),
        "--to",
        "cxf",
        "--out",
        out.to_str().unwrap(),
        "--owner",
        "admin@northwind.example",
        "--yes",
    ])
    .success();
    assert!(!run.stderr.contains("Secret"), "{}", run.describe());
    let before = vaultferry(&[
        "inspect",
        csv.to_str().unwrap(),
        "--sharing",
        sharing.to_str().unwrap(),
        "--json",
    ])
    .json();
    let after = vaultferry(&["inspect", out.to_str().unwrap(), "--json"])
        .success()
        .json();
    assert_eq!(after["source"], "cxf");
    let count = |v: &serde_json::Value, k: &str| v[k].as_array().map_or(0, Vec::len);
    assert_eq!(count(&after, "entries"), count(&before, "entries"));
    let folders = |v: &serde_json::Value| -> std::collections::BTreeSet<String> {
        v["folders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].to_string())
            .collect()
    };
    assert_eq!(folders(&after), folders(&before));
    // Every active share comes back (plus the exporter on the shared folders).
    let shares = |v: &serde_json::Value| -> std::collections::BTreeSet<String> {
        v["shares"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["status"] == "active")
            .map(|s| {
                format!(
                    "{} {} {}",
                    s["folder"], s["principal"]["email"], s["principal"]["group"]
                )
            })
            .collect()
    };
    let (b, a) = (shares(&before), shares(&after));
    assert!(b.is_subset(&a), "lost: {:?}", b.difference(&a).collect::<Vec<_>>());
}

#[test]
fn inspect_and_plan_of_the_samples_show_no_secret_value() {
    let samples = ["cxf/company.cxf.json", "cxf/every-type.cxf.json"];
    let secrets: Vec<String> = [
        "Dpl-Secret-9!",
        "Db-Secret-42",
        "Rk-Secret-77",
        "4111111111111111",
        "Gen-Secret-5%",
        "Basic-Secret-1",
        "Pin-9911",
        "Api-Secret-key",
        "Custom-Secret-x",
        "Dl-Secret-123",
        "Id-Secret-456",
        "Pp-Secret-789",
        "U3NoLVNlY3JldC1rZXk",
        "Wifi-Secret-pass",
        "Gen-Secret-pw",
        "UGFzc2tleS1TZWNyZXQtcGtjczg",
        "SG1hYy1TZWNyZXQ",
        "Loyal-Secret-1",
        "File-Secret-bytes",
        "GEZDGNBVGY3TQOJQ",
        "JBSWY3DPEHPK3PXP",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let dir = tempfile::tempdir().unwrap();
    let db = common::seeded_db(&dir.path().join("w.db"), &fixture("workspace.toml"));
    for sample in samples {
        let path = common::sample(sample);
        let path = path.to_str().unwrap();
        for args in [
            vec!["inspect", path],
            vec!["inspect", path, "--json"],
            vec!["plan", path, "--db", db.to_str().unwrap(), "--json"],
            vec!["plan", path, "--db", db.to_str().unwrap(), "-v"],
        ] {
            let run = vaultferry(&args).success();
            common::assert_no_secrets(&format!("{args:?} stdout"), &run.stdout, &secrets);
            common::assert_no_secrets(&format!("{args:?} stderr"), &run.stderr, &secrets);
        }
    }
}

#[test]
fn an_attachment_goes_out_beside_the_document_owner_only_and_comes_back_with_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    migrate(dir.path(), &common::sample("cxf/every-type.cxf.json"));
    let (run, out) = export(dir.path(), &["--yes"]);
    let run = run.success();
    assert!(run.stderr.contains("1 files"), "{}", run.describe());
    let documents = dir.path().join("documents");
    let files: Vec<PathBuf> = std::fs::read_dir(&documents)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), b"File-Secret-bytes");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&documents).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
    let back = vaultferry(&["inspect", out.to_str().unwrap(), "--json", "--reveal"])
        .success()
        .json();
    let entry = back["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["title"] == "file")
        .unwrap();
    let content = entry["attachments"][0]["content"].to_string();
    assert!(
        content.contains("RmlsZS1TZWNyZXQtYnl0ZXM"),
        "the bytes, base64: {content}"
    );
    assert!(!back.to_string().contains("cxf.file-integrity"));
}

/// CXF names users and groups only: a grant to a local partner or a
/// partnership is not written, and the summary names each one.
#[test]
fn export_names_each_grant_to_a_partner_or_partnership_it_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("partners.cxf.json");
    std::fs::write(
        &doc,
        r#"{"id":"b2xpdmlh","email":"olivia@northwind.example","collections":[
          {"id":"dmVu","title":"Vendors","items":[{"item":"dg"}],
           "extensions":[{"name":"shared","accessors":[{"type":"user","accountId":"a2lt","name":"kim@globex.example","permissions":["read","readSecret"]}]}]}],
          "items":[{"id":"dg","title":"Vendor portal","credentials":[{"type":"note","content":{"fieldType":"string","value":"v"}}]},
                   {"id":"cg","title":"Root thing","credentials":[{"type":"note","content":{"fieldType":"string","value":"r"}}],
                    "extensions":[{"name":"shared","accessors":[{"type":"user","accountId":"YW5u","name":"ann@globex.example","permissions":["read","readSecret"]}]}]}]}"#,
    )
    .unwrap();
    let db = common::northwind_db(dir.path());
    vaultferry(&[
        "migrate",
        doc.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--yes",
        "--quiet",
        "--outbox",
        dir.path().join("outbox").to_str().unwrap(),
    ])
    .success();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "INSERT INTO grants (target_kind, target_id, grantee_kind, grantee_id, role)
         SELECT 'collection', c.id, 'partner', p.id, 'collaborator' FROM collections c, local_partners p
         WHERE c.name = 'Vendors' AND p.name = 'Acme Partners'",
        [],
    )
    .unwrap();
    let out = dir.path().join("out.cxf.json");
    let run = vaultferry(&[
        "export",
        "--format",
        "cxf",
        "--db",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--yes",
    ])
    .success();
    for line in [
        "3 grants left out:",
        "partnership 'Globex' as collaborator on collection 'Vendors':",
        "partnership 'Globex' as collaborator on item 'Root thing':",
        "partner 'Acme Partners' as collaborator on collection 'Vendors':",
    ] {
        assert!(run.stderr.contains(line), "{line}\n{}", run.describe());
    }
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        !text.contains("Globex") && !text.contains("Acme"),
        "nothing of them is written"
    );
}
