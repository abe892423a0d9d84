//! The store as a thief of its file sees it: no secret value in the
//! database or its write-ahead log, a wrong or missing key refused with
//! what to do, and a sealed value moved to another row refused.

use super::*;
use crate::model::{Attachment, Field};
use crate::secret::Secret;
use crate::workspace::seed::parse_seed;
use crate::workspace::{Account, ImportKey, ItemImport, SecretItem, SecretType};

const SEED: &str = include_str!("../../../samples/workspace.toml");

fn init(path: &Path) -> SqliteWorkspace {
    let seed = parse_seed("samples/workspace.toml", SEED).unwrap();
    let ws = SqliteWorkspace::create(path, false).unwrap();
    ws.init(&seed).unwrap();
    ws
}

fn account(n: u32) -> Account {
    Account {
        id: 0,
        collection: None,
        name: format!("Account {n}"),
        url: Some("https://mail.northwind.example".into()),
        urls: vec![],
        username: Some(format!("user{n}")),
        password: Some(Secret::text(format!("MARKER-password-{n}"))),
        totp: Some(Secret::text(format!("MARKER-totp-{n}"))),
        notes: Some(format!("MARKER-notes-{n}")),
        fields: vec![
            Field::concealed("PIN", format!("MARKER-pin-{n}")),
            Field::plain("Region", "eu"),
        ],
        tags: vec![],
        attachments: vec![Attachment {
            name: "key.pem".into(),
            size: 17,
            content: Some(Secret::bytes(format!("MARKER-bytes-{n:04}").into_bytes())),
            source_id: None,
            digest: None,
            origin: None,
        }],
        import: ItemImport {
            import_key: Some(ImportKey::new(format!("account:lastpass:{n}"))),
            imported_hash: Some(format!("h{n}")),
            withheld: None,
        },
    }
}

fn note(n: u32) -> SecretItem {
    SecretItem {
        id: 0,
        collection: None,
        secret_type: SecretType::Secret,
        title: format!("Note {n}"),
        notes: Some(format!("MARKER-note-text-{n}")),
        fields: vec![Field::concealed("Key", format!("MARKER-secret-field-{n}"))],
        tags: vec![],
        attachments: vec![],
        import: ItemImport {
            import_key: Some(ImportKey::new(format!("secret:lastpass:{n}"))),
            imported_hash: None,
            withheld: None,
        },
    }
}

/// The database and its `-wal`, as bytes.
fn file_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(more) = std::fs::read(&wal) {
        bytes.extend(more);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_file_and_its_log_hold_no_secret_value_and_the_snapshot_opens_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws.db");
    let ws = init(&path);
    for n in 0..3 {
        ws.create_account(&account(n)).unwrap();
        ws.create_secret(&note(n)).unwrap();
    }
    let raw = file_bytes(&path);
    assert!(
        contains(&raw, b"Account 1"),
        "names stay readable (a search that finds nothing means something)"
    );
    assert!(!contains(&raw, b"MARKER"), "a secret value is in the file in clear");

    let snap = ws.snapshot().unwrap();
    let a = &snap.accounts[1];
    assert_eq!(a.password.as_ref().map(Secret::expose), Some("MARKER-password-1"));
    assert_eq!(a.totp.as_ref().map(Secret::expose), Some("MARKER-totp-1"));
    assert_eq!(a.notes.as_deref(), Some("MARKER-notes-1"));
    assert_eq!(a.fields[0].value.expose(), "MARKER-pin-1");
    assert_eq!(a.fields[1].value.expose(), "eu");
    assert_eq!(snap.secrets[2].notes.as_deref(), Some("MARKER-note-text-2"));
    assert_eq!(snap.secrets[2].fields[0].value.expose(), "MARKER-secret-field-2");
    let files = ws.attachment_bytes(GrantTarget::Account(a.id)).unwrap();
    assert_eq!(
        files[0].as_ref().map(|f| f.expose_bytes().to_vec()),
        Some(b"MARKER-bytes-0001".to_vec())
    );
}

#[test]
fn init_makes_an_owner_only_key_beside_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws.db");
    drop(init(&path));
    let key = dir.path().join("ws.db.key");
    assert!(key.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // `--force` starts the workspace over with the same key: a backup of
    // the old database still opens with it.
    let before = std::fs::read(&key).unwrap();
    drop(SqliteWorkspace::create(&path, true).unwrap());
    assert_eq!(std::fs::read(&key).unwrap(), before);
}

#[test]
fn a_wrong_or_missing_key_is_an_error_naming_the_key_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws.db");
    let ws = init(&path);
    ws.create_account(&account(1)).unwrap();
    drop(ws);

    let other = dir.path().join("other.key");
    WorkspaceKey::generate(KeyOrigin::File(other.clone()))
        .write_file(&other, false)
        .unwrap();
    let wrong = SqliteWorkspace::open_keyed(&path, &KeyLocation::file(&other))
        .unwrap_err()
        .to_string();
    assert!(
        wrong.contains("other.key") && wrong.contains("does not open this workspace") && wrong.contains("--key-file"),
        "{wrong}"
    );

    std::fs::rename(dir.path().join("ws.db.key"), dir.path().join("moved.key")).unwrap();
    let missing = SqliteWorkspace::open(&path).unwrap_err().to_string();
    assert!(
        missing.contains("ws.db.key") && missing.contains("none was found") && missing.contains("backup"),
        "{missing}"
    );
    assert!(
        !dir.path().join("ws.db.key").exists(),
        "a sealed store never gets a new key made for it"
    );

    let given = SqliteWorkspace::open_keyed(&path, &KeyLocation::file(dir.path().join("moved.key"))).unwrap();
    let snap = given.snapshot().unwrap();
    assert_eq!(
        snap.accounts[0].password.as_ref().map(Secret::expose),
        Some("MARKER-password-1")
    );
}

#[test]
fn a_sealed_value_copied_to_another_row_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws.db");
    let ws = init(&path);
    let a = ws.create_account(&account(1)).unwrap();
    let b = ws.create_account(&account(2)).unwrap();
    let s = ws.create_secret(&note(1)).unwrap();
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "UPDATE accounts SET password = (SELECT password FROM accounts WHERE id = ?1) WHERE id = ?2",
            [a, b],
        )
        .unwrap();
    }
    let e = ws.snapshot().unwrap_err().to_string();
    assert!(
        e.contains("accounts.password") && e.contains(&format!("row {b}")) && e.contains("copied from another row"),
        "{e}"
    );
    assert!(!e.contains("MARKER"), "{e}");

    // A column's value in another column of the same row fails too.
    let conn = Connection::open(&path).unwrap();
    conn.execute("UPDATE accounts SET password = totp WHERE id = ?1", [b])
        .unwrap();
    assert!(ws.snapshot().is_err());
    // So do attachment bytes moved to another item's attachment.
    conn.execute(
        "UPDATE accounts SET password = (SELECT password FROM accounts WHERE id = ?1) WHERE id = ?1",
        [a],
    )
    .unwrap();
    let _ = s;
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM attachments ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    conn.execute(
        "UPDATE attachments SET content = (SELECT content FROM attachments WHERE id = ?1) WHERE id = ?2",
        [ids[0], ids[1]],
    )
    .unwrap();
    let e = ws.attachment_bytes(GrantTarget::Account(b)).unwrap_err().to_string();
    assert!(e.contains("copied from another attachment"), "{e}");
}

/// A store as schema V16 left it (every value in clear) is sealed in place
/// the first time it is opened: the values read back as they were, the
/// file no longer holds them, and the import's "intact" flags (a re-run's
/// shortcut) survive.
#[test]
fn a_store_from_before_sealing_is_sealed_in_place_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        schema::migrate_to(&mut conn, schema::latest() - 1).unwrap();
        conn.execute_batch(
            "INSERT INTO workspace (singleton, id, name, pw_min_length, pw_require_uppercase, pw_require_lowercase,
                                    pw_require_digit, pw_require_symbol, created)
                 VALUES (1, 'ws-old', 'Old', 12, 1, 1, 1, 1, '2026-01-01T00:00:00Z');
             INSERT INTO members (id, email, role) VALUES (1, 'sam@northwind.example', 'owner');
             INSERT INTO accounts (id, name, username, password, totp, notes, fields, import_key, imported_hash, imported_intact)
                 VALUES (3, 'Mail', 'sam', 'MARKER-old-password', 'MARKER-old-totp', 'MARKER-old-notes',
                         '[{\"label\":\"PIN\",\"value\":\"MARKER-old-pin\",\"concealed\":true,\"kind\":\"concealed\"}]',
                         'account:lastpass:3', 'h3', 1),
                        (4, 'Empty', NULL, NULL, NULL, NULL, '[]', 'account:lastpass:4', 'h4', 0);
             INSERT INTO secrets (id, type, title, notes, fields, import_key, imported_hash, imported_intact)
                 VALUES (7, 'secret', 'Note', 'MARKER-old-note', '[]', 'secret:lastpass:7', 'h7', 1);
             INSERT INTO attachments (id, secret_id, name, size, content)
                 VALUES (5, 7, 'scan.bin', 18, CAST('MARKER-old-bytes!!' AS BLOB));
             -- As the importer leaves it: flagged after its attachments.
             UPDATE secrets SET imported_intact = 1 WHERE id = 7;",
        )
        .unwrap();
    }
    assert!(contains(&file_bytes(&path), b"MARKER-old-password"));
    assert!(!dir.path().join("old.db.key").exists());

    let ws = SqliteWorkspace::open(&path).unwrap();
    assert!(dir.path().join("old.db.key").is_file(), "a key is made for the store");
    // Nothing of the old values is left: not in the rows, not in the
    // pages they were freed from, not in the write-ahead log.
    assert!(
        !contains(&file_bytes(&path), b"MARKER"),
        "a value is still in the file in clear"
    );
    let conn = Connection::open(&path).unwrap();
    let types: (String, String, String) = conn
        .query_row(
            "SELECT typeof(password), typeof(totp), typeof(notes) FROM accounts WHERE id = 3",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(types, ("blob".into(), "blob".into(), "blob".into()));

    let snap = ws.snapshot().unwrap();
    let a = snap.accounts.iter().find(|a| a.id == 3).unwrap();
    assert_eq!(a.password.as_ref().map(Secret::expose), Some("MARKER-old-password"));
    assert_eq!(a.totp.as_ref().map(Secret::expose), Some("MARKER-old-totp"));
    assert_eq!(a.notes.as_deref(), Some("MARKER-old-notes"));
    assert_eq!(a.fields[0].value.expose(), "MARKER-old-pin");
    assert!(a.fields[0].is_concealed());
    let empty = snap.accounts.iter().find(|a| a.id == 4).unwrap();
    assert_eq!((empty.password.is_none(), empty.fields.len()), (true, 0));
    assert_eq!(snap.secrets[0].notes.as_deref(), Some("MARKER-old-note"));
    let files = ws.attachment_bytes(GrantTarget::Secret(7)).unwrap();
    assert_eq!(
        files[0].as_ref().map(|f| f.expose_bytes().to_vec()),
        Some(b"MARKER-old-bytes!!".to_vec())
    );
    let intact: Vec<(i64, i64)> = conn
        .prepare("SELECT id, imported_intact FROM accounts UNION ALL SELECT id, imported_intact FROM secrets")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(intact, vec![(3, 1), (4, 0), (7, 1)], "sealing is not an edit");

    // Opened again, it is sealed already: nothing is sealed twice.
    drop(ws);
    let again = SqliteWorkspace::open(&path).unwrap().snapshot().unwrap();
    assert_eq!(
        again.accounts[0].password.as_ref().map(Secret::expose),
        Some("MARKER-old-password")
    );
}
