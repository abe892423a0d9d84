//! A 1PUX's attachments are streamed from the archive into the store: the
//! plan holds their size and digest, the store their bytes. These tests
//! migrate a real archive and check, with SHA-256 computed here from the
//! zip, that every attachment's bytes are in the store, and that a re-run
//! compares digests instead of writing them again.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Bytes that do not compress away, so the archive is as large as they are.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A 1PUX with a Document item per size and a login with two `file` fields.
fn write_archive(path: &Path, sizes: &[usize]) {
    let mut items = Vec::new();
    let mut files = Vec::new();
    for (k, size) in sizes.iter().enumerate() {
        let doc = format!("doc{k:03}");
        let name = format!("scan-{k}.bin");
        items.push(serde_json::json!({
            "uuid": format!("item{k:03}"), "categoryUuid": "006",
            "overview": {"title": format!("Document {k}")},
            "details": {"documentAttributes": {"fileName": name, "documentId": doc}}
        }));
        files.push((format!("files/{doc}__{name}"), noise(*size, k as u64 + 1)));
    }
    items.push(serde_json::json!({
        "uuid": "login1", "categoryUuid": "001",
        "overview": {"title": "Build server", "url": "https://ci.example"},
        "details": {"loginFields": [{"value": "ci", "designation": "username"}],
            "sections": [{"title": "Files", "fields": [
                {"title": "key", "value": {"file": {"fileName": "id_ed25519", "documentId": "keydoc"}}},
                {"title": "notes", "value": {"file": {"fileName": "notes.txt", "documentId": "notesdoc"}}}]}]}
    }));
    files.push(("files/keydoc__id_ed25519".into(), noise(100_001, 77)));
    files.push(("files/notesdoc__notes.txt".into(), b"plain text notes\n".to_vec()));
    let data = serde_json::json!({"accounts": [{"attrs": {"name": "Ann"}, "vaults": [
        {"attrs": {"uuid": "v1", "name": "Engineering", "type": "U"}, "items": items}]}]});
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("export.attributes", opts).unwrap();
    zip.write_all(br#"{"version":3,"createdAt":1740873600}"#).unwrap();
    zip.start_file("export.data", opts).unwrap();
    zip.write_all(data.to_string().as_bytes()).unwrap();
    for (name, bytes) in files {
        zip.start_file(name, opts).unwrap();
        zip.write_all(&bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// File name → SHA-256 of the bytes the archive holds, read with the zip crate.
fn digests_in_archive(path: &Path) -> BTreeMap<String, String> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).unwrap();
        let Some(base) = member.name().strip_prefix("files/") else {
            continue;
        };
        let name = base.split_once("__").unwrap().1.to_owned();
        let mut bytes = Vec::new();
        member.read_to_end(&mut bytes).unwrap();
        out.insert(name, hex::encode(Sha256::digest(&bytes)));
    }
    out
}

/// File name → (SHA-256 of the stored bytes, stored size) for every
/// attachment in the store, the bytes opened with the workspace key (the
/// file holds them sealed).
fn digests_in_store(db: &Path) -> BTreeMap<String, (String, i64)> {
    use vaultferry::workspace::{GrantTarget, Workspace as _};
    let ws = vaultferry::workspace::sqlite::SqliteWorkspace::open(db).unwrap();
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT name, size, account_id, secret_id FROM attachments ORDER BY id")
        .unwrap();
    let rows: Vec<(String, i64, Option<i64>, Option<i64>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // Each item's attachments come in id order, as the rows above.
    type Opened = std::vec::IntoIter<Option<vaultferry::secret::Secret>>;
    let mut opened: BTreeMap<(Option<i64>, Option<i64>), Opened> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (name, size, account, secret) in rows {
        let files = opened.entry((account, secret)).or_insert_with(|| {
            let owner = match (account, secret) {
                (Some(a), _) => GrantTarget::Account(a),
                (None, Some(s)) => GrantTarget::Secret(s),
                (None, None) => panic!("attachment '{name}' belongs to no item"),
            };
            ws.attachment_bytes(owner).unwrap().into_iter()
        });
        let content = files
            .next()
            .flatten()
            .unwrap_or_else(|| panic!("attachment '{name}' has no bytes in the store"));
        assert_eq!(content.len() as i64, size, "'{name}': stored size");
        out.insert(name, (hex::encode(Sha256::digest(content.expose_bytes())), size));
    }
    out
}

fn migrate(export: &Path, db: &Path, dir: &Path) -> common::Run {
    common::vaultferry(&[
        "migrate",
        export.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--yes",
        "--json",
        "--outbox",
        dir.join("outbox").to_str().unwrap(),
    ])
    .success()
}

#[test]
fn every_1pux_attachment_is_in_the_store_after_migrate_digest_for_digest() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("docs.1pux");
    // Empty, one byte, and sizes on both sides of the 64 KiB pieces.
    write_archive(&export, &[0, 1, 65_535, 65_536, 65_537, 1_000_003]);
    let db = common::seeded_db(&dir.path().join("ws.db"), &common::sample("workspace.toml"));
    migrate(&export, &db, dir.path());

    let want = digests_in_archive(&export);
    assert_eq!(want.len(), 8);
    let got = digests_in_store(&db);
    let got_digests: BTreeMap<String, String> = got.iter().map(|(k, (d, _))| (k.clone(), d.clone())).collect();
    assert_eq!(got_digests, want, "the store's bytes are the archive's");

    // The re-run compares digests: nothing is written again.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let ids = |conn: &rusqlite::Connection| -> Vec<i64> {
        let mut stmt = conn.prepare("SELECT id FROM attachments ORDER BY id").unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    let before = ids(&conn);
    let rerun = migrate(&export, &db, dir.path());
    let json = rerun.json();
    assert_eq!(ids(&conn), before, "a re-run rewrote attachments: {}", rerun.describe());
    for kind in ["accounts", "secrets"] {
        let counts = &json["summary"][kind];
        assert!(
            counts["unchanged"].as_u64().unwrap_or(0) > 0,
            "{kind}: {}",
            rerun.describe()
        );
        for action in ["create", "update", "conflict"] {
            assert_eq!(
                counts[action].as_u64().unwrap_or(0),
                0,
                "{kind} {action} on a re-run: {}",
                rerun.describe()
            );
        }
    }
}

#[test]
fn a_1pux_attachment_changed_in_the_store_is_told_apart_by_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("docs.1pux");
    write_archive(&export, &[70_000]);
    let db = common::seeded_db(&dir.path().join("ws.db"), &common::sample("workspace.toml"));
    migrate(&export, &db, dir.path());
    let conn = rusqlite::Connection::open(&db).unwrap();
    // An admin replaces the document's bytes in the workspace (as the web
    // app does, without the importer's digest).
    conn.execute(
        "UPDATE attachments SET content = x'00', size = 1, content_sha256 = NULL WHERE name = 'scan-0.bin'",
        [],
    )
    .unwrap();
    let report = dir.path().join("plan.json");
    let plan = common::vaultferry(&[
        "plan",
        export.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let conflicts = report["summary"]["secrets"]["conflict"].as_u64().unwrap_or(0);
    assert_eq!(conflicts, 1, "an edited attachment is a conflict: {}", plan.describe());
}

#[test]
fn generate_attachment_bytes_makes_every_document_file_that_large() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("big.1pux");
    common::vaultferry(&[
        "generate",
        "--format",
        "1pux",
        "--entries",
        "1000",
        "--attachment-bytes",
        "150001",
        "--out",
        export.to_str().unwrap(),
    ])
    .success();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&export).unwrap()).unwrap();
    let mut large = 0;
    for i in 0..zip.len() {
        let member = zip.by_index(i).unwrap();
        if member.name().starts_with("files/") && member.name().ends_with(".pdf") {
            assert_eq!(member.size(), 150_001, "{}", member.name());
            large += 1;
        }
    }
    assert!(large >= 3, "only {large} Documents in 1000 entries");
    // Read back, every Document's attachment has that size and the digest
    // of the archive's bytes.
    let want = digests_in_archive(&export);
    let vault = vaultferry::sources::read_export(&export, &Default::default()).unwrap();
    let docs: Vec<_> = vault
        .entries
        .iter()
        .flat_map(|e| &e.attachments)
        .filter(|a| a.name.ends_with(".pdf"))
        .collect();
    assert_eq!(docs.len(), large);
    for a in docs {
        assert_eq!(a.size, 150_001);
        assert_eq!(a.sha256().map(hex::encode).as_ref(), want.get(&a.name), "{}", a.name);
    }

    let refused = common::vaultferry(&[
        "generate",
        "--format",
        "lastpass-csv",
        "--entries",
        "10",
        "--attachment-bytes",
        "10",
        "--out",
        dir.path().join("x.csv").to_str().unwrap(),
    ])
    .expect_code(2);
    assert!(refused.stderr.contains("--attachment-bytes"), "{}", refused.describe());
}

#[test]
fn bug20_generate_1pif_attachment_bytes_writes_the_1password_7_export_folder() {
    use sha2::Digest as _;
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("big-1pif");
    common::vaultferry(&[
        "generate",
        "--format",
        "1pif",
        "--entries",
        "1000",
        "--attachment-bytes",
        "150001",
        "--out",
        export.to_str().unwrap(),
    ])
    .success();
    assert!(export.join("data.1pif").is_file());
    // attachments/<item uuid>/<file>, each that large, by name.
    let mut want = std::collections::HashMap::new();
    for item in std::fs::read_dir(export.join("attachments")).unwrap() {
        for file in std::fs::read_dir(item.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(bytes.len(), 150_001, "{}", path.display());
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            want.insert(name, hex::encode(sha2::Sha256::digest(&bytes)));
        }
    }
    assert!(want.len() >= 3, "only {} Documents in 1000 entries", want.len());
    // Read back without --from: every file is its item's attachment.
    let vault = vaultferry::sources::read_export(&export, &Default::default()).unwrap();
    assert_eq!(vault.source, vaultferry::model::SourceKind::Onepassword1pif);
    let docs: Vec<_> = vault.entries.iter().flat_map(|e| &e.attachments).collect();
    assert_eq!(docs.len(), want.len());
    for a in docs {
        assert_eq!(a.size, 150_001);
        assert_eq!(a.sha256().map(hex::encode).as_ref(), want.get(&a.name), "{}", a.name);
    }
    assert!(
        !vault.findings.iter().any(|f| f.code.contains("attachment")),
        "{:?}",
        vault.findings
    );
}

/// A `vaultferry serve` over `db` on a free loopback port, killed when
/// dropped.
struct Serve {
    child: std::process::Child,
    url: String,
}

impl Serve {
    fn start(db: &Path) -> Serve {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vaultferry"))
            .args(["serve", "--db", db.to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .env_clear()
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start vaultferry serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("vaultferry serve printed its address");
        Serve { child, url }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issue 20: attachments go to the HTTP target through the blob route, a
/// few pieces at a time, not inside the JSON batch; every byte arrives.
#[test]
fn bug20_migrate_to_the_http_target_stores_every_1pux_attachment_digest_for_digest() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("docs.1pux");
    // Sizes on both sides of the upload's 64 KiB pieces, one many pieces long.
    write_archive(&export, &[0, 1, 65_535, 65_536, 65_537, 1_000_003]);
    let db = common::seeded_db(&dir.path().join("remote.db"), &common::sample("workspace.toml"));
    let key = common::vaultferry(&[
        "apikey",
        "create",
        "--db",
        db.to_str().unwrap(),
        "--as",
        "olivia@northwind.example",
    ])
    .success()
    .stdout
    .trim()
    .to_owned();
    let server = Serve::start(&db);
    let migrate = |extra: &[&str]| {
        let mut args = vec![
            "migrate",
            export.to_str().unwrap(),
            "--target",
            &server.url,
            "--api-key",
            &key,
            "--yes",
        ];
        args.extend_from_slice(extra);
        common::vaultferry_in(dir.path(), &args).success()
    };
    let run = migrate(&[]);

    let want = digests_in_archive(&export);
    assert_eq!(want.len(), 8);
    let got: BTreeMap<String, String> = digests_in_store(&db).into_iter().map(|(k, (d, _))| (k, d)).collect();
    assert_eq!(got, want, "the store's bytes are the archive's: {}", run.describe());
    // Each attachment's bytes went on their own, once, to the blob route.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let uploads: Vec<String> = conn
        .prepare("SELECT action FROM audit_log WHERE action LIKE 'http PUT /api/v1/blobs/%' AND object = 'status 201'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut uploaded: Vec<&str> = uploads.iter().filter_map(|a| a.rsplit('/').next()).collect();
    uploaded.sort_unstable();
    let mut digests: Vec<&str> = want.values().map(String::as_str).collect();
    digests.sort_unstable();
    assert_eq!(uploaded, digests, "{}", run.describe());
    // What was staged for the batches is gone once the run finished.
    let staged = dir.path().join("remote.db.blobs");
    let left = std::fs::read_dir(&staged).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "staged blobs left in {}", staged.display());

    // The re-run compares digests through the API: nothing to write.
    let rerun = migrate(&["--json"]);
    assert_eq!(rerun.json()["written"], 0, "{}", rerun.describe());
    drop(server);
}
