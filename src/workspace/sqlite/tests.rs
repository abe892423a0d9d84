use super::*;
use crate::workspace::scim::parse_scim;
use crate::workspace::seed::parse_seed;
use crate::workspace::{MemberState, PartnershipState, Role};

const SEED: &str = include_str!("../../../samples/workspace.toml");

fn db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws.db");
    (dir, path)
}

fn init(path: &Path) -> SqliteWorkspace {
    let seed = parse_seed("samples/workspace.toml", SEED).unwrap();
    let ws = SqliteWorkspace::create(path, false).unwrap();
    ws.init(&seed).unwrap();
    ws
}

#[test]
fn snapshot_round_trips_the_seed() {
    let (_dir, path) = db();
    drop(init(&path));
    let seed = parse_seed("samples/workspace.toml", SEED).unwrap();
    let snap = SqliteWorkspace::open(&path).unwrap().snapshot().unwrap();

    assert_eq!(snap.workspace.name, seed.name);
    assert_eq!(Some(&snap.workspace.id), seed.id.as_ref());
    let mut domains = seed.domains.clone();
    domains.sort();
    assert_eq!(snap.workspace.domains, domains);
    assert_eq!(snap.workspace.password_policy, seed.password_policy);

    let got: Vec<_> = snap
        .members
        .iter()
        .map(|m| (m.email.clone(), m.name.clone(), m.role, m.state, m.directory_managed))
        .collect();
    let want: Vec<_> = seed
        .members
        .iter()
        .map(|m| (m.email.clone(), m.name.clone(), m.role, m.state, m.directory_managed))
        .collect();
    assert_eq!(got, want);

    let email = |id: &i64| snap.members.iter().find(|m| m.id == *id).unwrap().email.clone();
    for (team, seed_team) in snap.teams.iter().zip(&seed.teams) {
        assert_eq!(team.name, seed_team.name);
        let mut got: Vec<String> = team.members.iter().map(email).collect();
        let mut want: Vec<String> = seed_team.members.iter().map(|r| r.email.clone()).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }
    assert_eq!(snap.teams.len(), seed.teams.len());
    assert_eq!(snap.partners.len(), seed.partners.len());
    assert_eq!(snap.partners[0].domains, seed.partners[0].domains);
    let ships: Vec<_> = snap
        .partnerships
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.partner_workspace_id.clone(),
                p.domains.clone(),
                p.state,
            )
        })
        .collect();
    let want: Vec<_> = seed
        .partnerships
        .iter()
        .map(|p| (p.name.clone(), p.workspace_id.clone(), p.domains.clone(), p.state))
        .collect();
    assert_eq!(ships, want);
    assert!(snap.collections.is_empty() && snap.accounts.is_empty() && snap.grants.is_empty());
}

#[test]
fn wal_and_foreign_keys_are_on() {
    let (_dir, path) = db();
    drop(init(&path));
    let ws = SqliteWorkspace::open(&path).unwrap();
    assert_eq!(ws.pragmas().unwrap(), ("wal".to_owned(), true));
    // Foreign keys enforced: a team member that does not exist is refused.
    let err = ws.write(|tx| write::add_team_member(tx, 1, 9999)).unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
}

#[test]
fn one_partnership_per_guest_workspace() {
    let (_dir, path) = db();
    let ws = init(&path);
    let again = crate::workspace::seed::SeedPartnership {
        name: "Globex again".into(),
        workspace_id: "ws-globex".into(),
        domains: vec![],
        state: PartnershipState::Requested,
        at: crate::model::Position::default(),
    };
    let err = ws.add_partnership(&again).unwrap_err();
    assert!(matches!(err, WorkspaceError::Rule(_)), "{err:?}");
    assert!(
        err.to_string().contains("at most one partnership per guest workspace"),
        "{err}"
    );
    let other = crate::workspace::seed::SeedPartnership {
        workspace_id: "ws-hooli".into(),
        ..again
    };
    ws.add_partnership(&other).unwrap();
    assert_eq!(ws.snapshot().unwrap().partnerships.len(), 3);
}

#[test]
fn store_rules_refuse_a_second_owner_and_directory_managed_guests() {
    let (_dir, path) = db();
    let ws = init(&path);
    let member = |email: &str, role, dm| NewMember {
        email: email.into(),
        name: None,
        role,
        state: MemberState::Active,
        directory_managed: dm,
    };
    let e = ws
        .add_member(&member("boss@northwind.example", Role::Owner, false))
        .unwrap_err();
    assert!(
        matches!(e, WorkspaceError::Rule(_)) && e.to_string().contains("one owner"),
        "{e}"
    );
    let e = ws
        .add_member(&member("g@elsewhere.example", Role::Guest, true))
        .unwrap_err();
    assert!(matches!(e, WorkspaceError::Rule(_)), "{e:?}");
    let e = ws
        .add_member(&member("OLIVIA@northwind.example", Role::User, false))
        .unwrap_err();
    assert!(e.to_string().contains("exists already"), "{e}");
}

#[test]
fn create_refuses_an_initialized_database_unless_forced() {
    let (_dir, path) = db();
    drop(init(&path));
    let e = SqliteWorkspace::create(&path, false).unwrap_err();
    assert!(
        e.to_string().contains("holds the workspace \"Northwind Robotics\""),
        "{e}"
    );
    let ws = SqliteWorkspace::create(&path, true).unwrap();
    let e = SqliteWorkspace::open(&path).unwrap_err();
    assert!(e.to_string().contains("no workspace yet"), "{e}");
    drop(ws);
}

#[test]
fn open_refuses_newer_schema_and_missing_files() {
    let (_dir, path) = db();
    drop(init(&path));
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {}", schema::latest() + 1))
            .unwrap();
    }
    let e = SqliteWorkspace::open(&path).unwrap_err();
    assert!(e.to_string().contains("newer vaultferry"), "{e}");
    let e = SqliteWorkspace::open(&path.with_file_name("missing.db")).unwrap_err();
    assert!(e.to_string().contains("no workspace database here"), "{e}");
}

#[test]
fn scim_users_are_stored_directory_managed() {
    let (_dir, path) = db();
    let mut seed = parse_seed("samples/workspace.toml", SEED).unwrap();
    let scim = include_str!("../../../samples/scim-users.json");
    seed.merge_directory(parse_scim("samples/scim-users.json", scim).unwrap());
    seed.validate().unwrap();
    let ws = SqliteWorkspace::create(&path, false).unwrap();
    ws.init(&seed).unwrap();
    let snap = ws.snapshot().unwrap();
    let dana = snap.member_by_email("DANA@northwind.example").unwrap();
    assert!(dana.directory_managed);
    assert_eq!(dana.role, Role::User);
}

mod writes {
    use super::*;
    use crate::model::{Attachment, Field};
    use crate::secret::Secret;
    use crate::workspace::{
        Account, Collection, Grant, GrantTarget, Grantee, ImportKey, ItemImport, ItemRole, NewGuestInvitation,
        SecretItem, SecretType, Workspace,
    };

    fn key(k: &str) -> Option<ImportKey> {
        Some(ImportKey(k.into()))
    }

    fn collection(name: &str, parent: Option<i64>, k: &str) -> Collection {
        Collection {
            id: 0,
            name: name.into(),
            parent,
            import_key: key(k),
        }
    }

    fn account(collection: Option<i64>) -> Account {
        Account {
            id: 0,
            collection,
            name: "Postgres admin".into(),
            url: Some("https://db.northwind.example".into()),
            urls: vec!["https://db2.northwind.example".into()],
            username: Some("dba".into()),
            password: Some(Secret::text("Pw-Eng-7fQ2!x")),
            totp: Some(Secret::text("JBSWY3DPEHPK3PXP")),
            notes: Some("rotate quarterly".into()),
            fields: vec![
                Field::concealed("PIN", "Pin-4471-zz"),
                Field::plain("Region", "eu-west").group("Cloud"),
            ],
            tags: vec!["db".into()],
            attachments: vec![Attachment {
                name: "ca.pem".into(),
                size: 5,
                content: Some(Secret::bytes(b"\x00CERT".to_vec())),
                source_id: None,
                digest: None,
                origin: None,
            }],
            import: ItemImport {
                import_key: key("account:lastpass:4711"),
                imported_hash: Some("h1".into()),
                withheld: None,
            },
        }
    }

    fn grant(target: GrantTarget, grantee: Grantee, role: ItemRole, k: &str) -> Grant {
        Grant {
            id: 0,
            target,
            grantee,
            role,
            import_key: key(k),
        }
    }

    #[test]
    fn items_round_trip_with_their_secrets_and_are_idempotent() {
        let (_dir, path) = db();
        let ws = init(&path);
        let eng = ws
            .create_collection(&collection("Engineering", None, "collection:lastpass:Engineering"))
            .unwrap();
        let dbs = ws
            .create_collection(&collection(
                "Databases",
                Some(eng),
                "collection:lastpass:Engineering/Databases",
            ))
            .unwrap();
        assert_eq!(
            ws.create_collection(&collection("Renamed", None, "collection:lastpass:Engineering"))
                .unwrap(),
            eng,
            "same import key: same collection, nothing written"
        );
        let acc = ws.create_account(&account(Some(dbs))).unwrap();
        assert_eq!(ws.create_account(&account(Some(dbs))).unwrap(), acc);
        let note = SecretItem {
            id: 0,
            collection: Some(eng),
            secret_type: SecretType::Wifi,
            title: "Office Wi-Fi".into(),
            notes: None,
            fields: vec![Field::concealed("Password", "Wifi-Pass-93kd")],
            tags: vec![],
            attachments: vec![],
            import: ItemImport {
                import_key: key("secret:lastpass:99"),
                imported_hash: None,
                withheld: None,
            },
        };
        let sec = ws.create_secret(&note).unwrap();

        let snap = ws.snapshot().unwrap();
        assert_eq!(snap.collections.len(), 2);
        assert_eq!(snap.collections[1].parent, Some(eng));
        assert_eq!(snap.accounts.len(), 1);
        let mut want = account(Some(dbs));
        want.id = acc;
        // The bytes stay in the store; the snapshot reads their digest.
        for a in &mut want.attachments {
            a.digest = a.sha256();
            a.content = None;
        }
        assert_eq!(snap.accounts[0], want, "every field, secrets included, reads back");
        assert_eq!(snap.accounts[0].password.as_ref().unwrap().expose(), "Pw-Eng-7fQ2!x");
        assert_eq!(snap.secrets.len(), 1);
        assert_eq!(snap.secrets[0].id, sec);
        assert_eq!(snap.secrets[0].fields, note.fields);
        assert_eq!(snap.secrets[0].secret_type, SecretType::Wifi);
    }

    #[test]
    fn grants_follow_the_item_role_rules() {
        let (_dir, path) = db();
        let ws = init(&path);
        let snap = ws.snapshot().unwrap();
        let id = |email: &str| snap.member_by_email(email).unwrap().id;
        let eng_team = snap.teams.iter().find(|t| t.name == "Engineering").unwrap().id;
        let eng = ws.create_collection(&collection("Engineering", None, "c:eng")).unwrap();
        let acc = ws.create_account(&account(Some(eng))).unwrap();

        let g = ws
            .create_grant(&grant(
                GrantTarget::Collection(eng),
                Grantee::Team(eng_team),
                ItemRole::Owner,
                "g:1",
            ))
            .unwrap();
        assert_eq!(
            ws.create_grant(&grant(
                GrantTarget::Collection(eng),
                Grantee::Team(eng_team),
                ItemRole::Owner,
                "g:1"
            ))
            .unwrap(),
            g
        );
        let rule = |g: Grant| {
            let e = ws.create_grant(&g).unwrap_err();
            assert!(matches!(e, WorkspaceError::Rule(_)), "{e:?}");
            e.to_string()
        };
        let mo = id("mo@freelance.example");
        let e = rule(grant(
            GrantTarget::Collection(eng),
            Grantee::Member(mo),
            ItemRole::Owner,
            "g:2",
        ));
        assert!(e.contains("only be collaborators"), "{e}");
        let kiosk = id("kiosk@northwind.example");
        rule(grant(
            GrantTarget::Account(acc),
            Grantee::Member(kiosk),
            ItemRole::Manager,
            "g:3",
        ));
        let e = rule(grant(
            GrantTarget::Collection(eng),
            Grantee::Member(id("lee@northwind.example")),
            ItemRole::Manager,
            "g:4",
        ));
        assert!(e.contains("only on accounts"), "{e}");
        let e = rule(grant(
            GrantTarget::Secret(777),
            Grantee::Member(mo),
            ItemRole::Collaborator,
            "g:5",
        ));
        assert!(e.contains("does not exist"), "{e}");
        let e = rule(grant(
            GrantTarget::Account(acc),
            Grantee::Team(777),
            ItemRole::Collaborator,
            "g:6",
        ));
        assert!(e.contains("does not exist"), "{e}");
        ws.create_grant(&grant(
            GrantTarget::Account(acc),
            Grantee::Member(mo),
            ItemRole::Collaborator,
            "g:7",
        ))
        .unwrap();
        let e = ws
            .create_grant(&Grant {
                import_key: None,
                ..grant(
                    GrantTarget::Account(acc),
                    Grantee::Member(mo),
                    ItemRole::Collaborator,
                    "",
                )
            })
            .unwrap_err();
        assert!(e.to_string().contains("no import key"), "{e}");

        let grants = ws.snapshot().unwrap().grants;
        assert_eq!(grants.len(), 2);
        assert_eq!(grants[0].grantee, Grantee::Team(eng_team));
        assert_eq!(grants[0].role, ItemRole::Owner);
    }

    #[test]
    fn teams_for_groups_reuse_existing_teams() {
        let (_dir, path) = db();
        let ws = init(&path);
        let snap = ws.snapshot().unwrap();
        let eng = snap.teams.iter().find(|t| t.name == "Engineering").unwrap().id;
        assert_eq!(
            ws.create_team("engineering", &ImportKey("team:lastpass:Engineering".into()))
                .unwrap(),
            eng
        );
        let ops = ws.create_team("Ops", &ImportKey("team:lastpass:Ops".into())).unwrap();
        assert_eq!(
            ws.create_team("Ops", &ImportKey("team:lastpass:Ops".into())).unwrap(),
            ops
        );
        let lee = snap.member_by_email("lee@northwind.example").unwrap().id;
        ws.add_team_member(ops, lee).unwrap();
        ws.add_team_member(ops, lee).unwrap();
        let snap = ws.snapshot().unwrap();
        let team = snap.teams.iter().find(|t| t.id == ops).unwrap();
        assert_eq!(team.members, [lee]);
        assert_eq!(team.import_key, Some(ImportKey("team:lastpass:Ops".into())));
        assert_eq!(snap.teams.len(), 3);
    }

    #[test]
    fn guest_invitations_create_one_invited_guest() {
        let (_dir, path) = db();
        let ws = init(&path);
        let acme = ws.snapshot().unwrap().partners[0].id;
        let invite = NewGuestInvitation {
            email: " Ravi@Acme-Partners.example".into(),
            name: Some("Ravi Shah".into()),
            username: "ravi.shah".into(),
            password_hash: "hash".into(),
            salt: "salt".into(),
            partner: Some(acme),
            partner_admin: true,
            import_key: ImportKey("guest:ravi@acme-partners.example".into()),
        };
        let id = ws.create_guest_invitation(&invite).unwrap();
        assert_eq!(ws.create_guest_invitation(&invite).unwrap(), id);
        let snap = ws.snapshot().unwrap();
        let ravi = snap.member_by_email("ravi@acme-partners.example").unwrap();
        assert_eq!((ravi.role, ravi.state), (Role::Guest, MemberState::Invited));
        assert_eq!(snap.partners[0].guest_admins, [ravi.id]);
        assert_eq!(snap.invitations.len(), 1);
        assert_eq!(snap.invitations[0].email, "ravi@acme-partners.example");
        assert_eq!(snap.invitations[0].partner, Some(acme));

        let e = ws
            .create_guest_invitation(&NewGuestInvitation {
                email: "lee@northwind.example".into(),
                import_key: ImportKey("guest:lee".into()),
                username: "lee".into(),
                partner: None,
                ..invite
            })
            .unwrap_err();
        assert!(
            matches!(e, WorkspaceError::Rule(_)) && e.to_string().contains("not a guest"),
            "{e}"
        );
    }

    #[test]
    fn snapshot_debug_is_redacted() {
        let (_dir, path) = db();
        let ws = init(&path);
        let eng = ws.create_collection(&collection("Engineering", None, "c:eng")).unwrap();
        ws.create_account(&account(Some(eng))).unwrap();
        let snap = ws.snapshot().unwrap();
        let text = format!("{snap:?}");
        assert!(
            !text.contains("Pw-Eng-7fQ2!x") && !text.contains("Pin-4471-zz"),
            "{text}"
        );
    }
}

#[test]
fn open_refuses_a_changed_schema_history() {
    let (_dir, path) = db();
    drop(init(&path));
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1", [])
            .unwrap();
    }
    let e = SqliteWorkspace::open(&path).unwrap_err();
    assert!(e.to_string().contains("schema step 1 in the database differs"), "{e}");
}

#[cfg(unix)]
#[test]
fn the_database_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, path) = db();
    drop(init(&path));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");
}

/// A database written before the run journal could say `interrupted`
/// (schema version 1, as `main` shipped it) opens, keeps its runs and
/// journal rows, and its crashed run is marked interrupted by the next.
#[test]
fn a_version_1_database_is_upgraded_keeping_its_runs_and_journal() {
    use sha2::{Digest, Sha256};
    let (_dir, path) = db();
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, checksum TEXT NOT NULL,
             applied TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))",
        )
        .unwrap();
        let v1 = schema::MIGRATIONS[0];
        conn.execute_batch(v1).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, checksum) VALUES (1, ?1)",
            [hex::encode(Sha256::digest(v1.as_bytes()))],
        )
        .unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 1;
             INSERT INTO workspace VALUES (1, 'ws-old', 'Old', 12, 1, 1, 1, 1, '2026-01-01T00:00:00Z');
             INSERT INTO import_runs (id, started, source_file, actor, state)
                 VALUES ('run-old', '2026-01-01T00:00:00Z', 'old.csv', 'sam@northwind.example', 'running');
             INSERT INTO run_journal (run_id, import_key, action) VALUES ('run-old', 'collection:lastpass:X', 'create');",
        )
        .unwrap();
    }
    let ws = SqliteWorkspace::open(&path).unwrap();
    let runs = ws.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].state, runs[0].writes), (RunState::Running, 1));
    let interrupted = ws
        .begin_run(&NewRun {
            id: "run-new".into(),
            source_file: "new.csv".into(),
            actor: "sam@northwind.example".into(),
            scope: String::new(),
        })
        .unwrap();
    assert_eq!(interrupted, ["run-old"]);
    let runs = ws.runs().unwrap();
    let old = runs.iter().find(|r| r.id == "run-old").unwrap();
    assert_eq!((old.state, old.writes), (RunState::Interrupted, 1));
    // Foreign keys are on again after the migration.
    assert!(ws.pragmas().unwrap().1);
}

#[test]
fn a_failed_batch_keeps_nothing_of_itself() {
    let (_dir, path) = db();
    let ws = init(&path);
    ws.begin_run(&NewRun {
        id: "r".into(),
        source_file: "f".into(),
        actor: "sam@northwind.example".into(),
        scope: String::new(),
    })
    .unwrap();
    let coll = |k: &str| Write::Collection {
        key: ImportKey(k.into()),
        name: k.into(),
        parent: None,
    };
    assert!(ws
        .apply_batch("r", &[coll("collection:t:a"), Write::Interrupt, coll("collection:t:b")])
        .is_err());
    assert!(ws.snapshot().unwrap().collections.is_empty());
    assert_eq!(ws.runs().unwrap()[0].writes, 0);
    let ids = ws
        .apply_batch("r", &[coll("collection:t:a"), coll("collection:t:b")])
        .unwrap();
    assert_eq!(ids.len(), 2);
    // Again under the same keys: updated in place, never duplicated.
    let again = ws.apply_batch("r", &[coll("collection:t:a")]).unwrap();
    assert_eq!(again[0], ids[0]);
    assert_eq!(ws.snapshot().unwrap().collections.len(), 2);
}

/// A workspace written by the previous schema (version 4) with items,
/// grants and a journal is rebuilt by step 5 without losing a row, a flag
/// or a rule: the checks, the grant rules and the triggers on the rebuilt
/// tables hold as they did.
#[test]
fn a_version_4_database_is_upgraded_keeping_its_items_grants_journal_and_rules() {
    use crate::workspace::{Grant, GrantTarget, Grantee, ImportKey, ItemRole};
    use sha2::{Digest, Sha256};
    let (_dir, path) = db();
    // Each row as text, every column with its storage type.
    let rows = |conn: &Connection, sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| {
            Ok((0..n)
                .map(|i| r.get_ref(i).map(|v| format!("{v:?}")).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    // Every column but the fields, which are sealed in place (below).
    let read_secrets = |conn: &Connection| {
        rows(
            conn,
            "SELECT id, collection_id, type, title, notes, tags, import_key, imported_hash, created, imported_intact
             FROM secrets ORDER BY id",
        )
    };
    let read_grants = |conn: &Connection| rows(conn, "SELECT * FROM grants ORDER BY id");
    let (secrets_before, grants_before) = {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, checksum TEXT NOT NULL,
             applied TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))",
        )
        .unwrap();
        for (i, step) in schema::MIGRATIONS[..4].iter().enumerate() {
            conn.execute_batch(step).unwrap();
            conn.execute(
                "INSERT INTO schema_migrations (version, checksum) VALUES (?1, ?2)",
                rusqlite::params![i as i64 + 1, hex::encode(Sha256::digest(step.as_bytes()))],
            )
            .unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 4;
             INSERT INTO workspace VALUES (1, 'ws-old', 'Old', 12, 1, 1, 1, 1, '2026-01-01T00:00:00Z');
             INSERT INTO members (id, email, role) VALUES (1, 'sam@northwind.example', 'owner'),
                 (2, 'gus@partner.example', 'guest');
             INSERT INTO collections (id, name, import_key) VALUES (1, 'Shared', 'collection:lastpass:Shared');
             INSERT INTO accounts (id, collection_id, name, import_key) VALUES (3, 1, 'Mail', 'account:lastpass:fp:2');
             INSERT INTO secrets (id, collection_id, type, title, fields, import_key, imported_hash, imported_intact)
                 VALUES (7, 1, 'wifi', 'Office wifi', '[{\"name\":\"SSID\"}]', 'secret:lastpass:fp:1', 'h1', 1),
                        (8, 1, 'ssh_key', 'Deploy key', '[]', 'secret:lastpass:fp:3', 'h3', 1);
             INSERT INTO grants (id, target_kind, target_id, grantee_kind, grantee_id, role, import_key)
                 VALUES (5, 'secret', 7, 'member', 2, 'collaborator', 'grant:a'),
                        (6, 'account', 3, 'member', 1, 'owner', 'grant:b');
             INSERT INTO import_runs (id, started, source_file, actor, state)
                 VALUES ('run-old', '2026-01-01T00:00:00Z', 'old.csv', 'sam@northwind.example', 'completed');
             INSERT INTO run_journal (run_id, import_key, action, content_hash)
                 VALUES ('run-old', 'secret:lastpass:fp:1', 'create', 'h1'),
                        ('run-old', 'secret:lastpass:fp:3', 'create', 'h3');",
        )
        .unwrap();
        (read_secrets(&conn), read_grants(&conn))
    };

    let ws = SqliteWorkspace::open(&path).unwrap();
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, schema::latest());
    assert_eq!(read_secrets(&conn), secrets_before);
    assert_eq!(read_grants(&conn), grants_before);
    let fields: String = conn
        .query_row("SELECT fields FROM secrets WHERE id = 7", [], |r| r.get(0))
        .unwrap();
    assert!(!fields.contains("SSID"), "the fields are sealed: {fields}");
    let opened = super::sealed::open_fields(&ws.key, super::sealed::Column::SecretFields, 7, 0, &fields).unwrap();
    assert_eq!(&*opened, r#"[{"name":"SSID"}]"#);
    assert_eq!(ws.runs().unwrap()[0].writes, 2, "the journal rows are kept");
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");

    // The grant rules, now one trigger, refuse what they refused.
    let grant = |target, grantee, role, k: &str| Grant {
        id: 0,
        target,
        grantee,
        role,
        import_key: Some(ImportKey(k.into())),
    };
    let refused = |g: Grant| match ws.create_grant(&g) {
        Err(WorkspaceError::Rule(why)) => why,
        other => panic!("{g:?} was not refused: {other:?}"),
    };
    assert!(refused(grant(
        GrantTarget::Secret(99),
        Grantee::Member(1),
        ItemRole::Owner,
        "g:1"
    ))
    .contains("does not exist"));
    assert!(
        refused(grant(GrantTarget::Secret(8), Grantee::Team(99), ItemRole::Owner, "g:2")).contains("does not exist")
    );
    assert!(refused(grant(
        GrantTarget::Account(3),
        Grantee::Member(2),
        ItemRole::Owner,
        "g:3"
    ))
    .contains("collaborators"));
    assert!(refused(grant(
        GrantTarget::Secret(8),
        Grantee::Member(1),
        ItemRole::Manager,
        "g:4"
    ))
    .contains("only on accounts"));
    assert!(ws
        .create_grant(&grant(
            GrantTarget::Secret(8),
            Grantee::Member(2),
            ItemRole::Collaborator,
            "g:5"
        ))
        .is_ok());
    drop(ws);

    // The checks written without `IN` allow and refuse the same values.
    let check = |sql: &str| conn.execute_batch(sql).map_err(|e| e.to_string());
    assert!(check("INSERT INTO secrets (type, title, import_key) VALUES ('custom', 't', 'k:ok')").is_ok());
    assert!(
        check("INSERT INTO secrets (type, title, import_key) VALUES ('bogus', 't', 'k:bad')")
            .unwrap_err()
            .contains("CHECK constraint failed")
    );
    assert!(check("UPDATE grants SET role = 'admin' WHERE id = 5")
        .unwrap_err()
        .contains("CHECK constraint failed"));
    assert!(check("UPDATE grants SET grantee_kind = 'robot' WHERE id = 5")
        .unwrap_err()
        .contains("CHECK constraint failed"));
    // The triggers on the rebuilt tables, and the other tables' triggers
    // that name them, still fire.
    let intact = |id: i64| -> i64 {
        conn.query_row("SELECT imported_intact FROM secrets WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    };
    check("UPDATE secrets SET title = 'Guest wifi' WHERE id = 7").unwrap();
    assert_eq!(intact(7), 0, "an edit clears the intact flag");
    check("INSERT INTO attachments (secret_id, name, size) VALUES (8, 'id_ed25519.pub', 3)").unwrap();
    assert_eq!(intact(8), 0, "an added attachment clears it");
    check("PRAGMA foreign_keys = ON; DELETE FROM secrets WHERE id = 7").unwrap();
    let left: i64 = conn
        .query_row(
            "SELECT count(*) FROM grants WHERE target_kind = 'secret' AND target_id = 7",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0, "a deleted secret's grants go with it");
}

#[test]
fn bug7_a_workspace_imported_before_the_ledger_remembers_its_objects_once_upgraded() {
    use rusqlite::Connection;
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, checksum TEXT NOT NULL,
             applied TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))",
        )
        .unwrap();
        for (i, step) in schema::MIGRATIONS[..6].iter().enumerate() {
            conn.execute_batch(step).unwrap();
            conn.execute(
                "INSERT INTO schema_migrations (version, checksum) VALUES (?1, ?2)",
                rusqlite::params![i as i64 + 1, hex::encode(Sha256::digest(step.as_bytes()))],
            )
            .unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 6;
             INSERT INTO workspace VALUES (1, 'ws-old', 'Old', 12, 1, 1, 1, 1, '2026-01-01T00:00:00Z');
             INSERT INTO members (id, email, role) VALUES (1, 'sam@northwind.example', 'owner'),
                 (2, 'gus@partner.example', 'guest'), (3, 'hand@northwind.example', 'user');
             INSERT INTO collections (id, name, import_key) VALUES (1, 'Shared', 'collection:lastpass:Shared');
             INSERT INTO accounts (id, collection_id, name, import_key) VALUES (3, 1, 'Mail', 'account:lastpass:fp:2'),
                 (4, 1, 'By hand', NULL);
             INSERT INTO grants (id, target_kind, target_id, grantee_kind, grantee_id, role, import_key)
                 VALUES (5, 'collection', 1, 'member', 2, 'collaborator', 'grant:a'),
                        (6, 'account', 3, 'member', 1, 'owner', 'grant:b');
             INSERT INTO guest_invitations (id, member_id, username, password_hash, salt, import_key)
                 VALUES (1, 2, 'gus', 'h', 's', 'invitation:gus@partner.example');",
        )
        .unwrap();
    }
    let ws = SqliteWorkspace::open(&path).unwrap();
    assert!(ws.snapshot().unwrap().removed.keys.is_empty());
    assert!(
        ws.pending_invitations().unwrap().is_empty(),
        "an invitation from before the outbox was mailed then"
    );
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    // An admin deletes an account (its grant goes with it), an account
    // made by hand, and the guest (their invitation goes with them).
    conn.execute_batch(
        "DELETE FROM accounts WHERE id IN (3, 4);
         DELETE FROM members WHERE id = 2;",
    )
    .unwrap();
    let removed: Vec<String> = ws
        .snapshot()
        .unwrap()
        .removed
        .keys
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(
        removed,
        [
            "account:lastpass:fp:2",
            "grant:a",
            "grant:b",
            "invitation:gus@partner.example"
        ]
    );
}

/// Step 12 moves an attachment's bytes to the end of its row (so SQLite
/// streams a `zeroblob` instead of materialising it): a version-11
/// database keeps every attachment, byte for byte, and the trigger that
/// makes the next run compare an item whose attachments changed.
#[test]
fn a_version_11_database_keeps_its_attachments_with_the_bytes_last_in_the_row() {
    use sha2::{Digest, Sha256};
    let (_dir, path) = db();
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, checksum TEXT NOT NULL,
             applied TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))",
        )
        .unwrap();
        for (i, step) in schema::MIGRATIONS[..11].iter().enumerate() {
            conn.execute_batch(step).unwrap();
            conn.execute(
                "INSERT INTO schema_migrations (version, checksum) VALUES (?1, ?2)",
                rusqlite::params![i as i64 + 1, hex::encode(Sha256::digest(step.as_bytes()))],
            )
            .unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 11;
             INSERT INTO workspace VALUES (1, 'ws-old', 'Old', 12, 1, 1, 1, 1, '2026-01-01T00:00:00Z');
             INSERT INTO collections (id, name, import_key) VALUES (1, 'Shared', 'collection:lastpass:Shared');
             INSERT INTO secrets (id, collection_id, type, title, fields, import_key, imported_hash, imported_intact)
                 VALUES (7, 1, 'custom', 'Contract', '[]', 'secret:1password:d1', 'h1', 1),
                        (8, 1, 'custom', 'Scan', '[]', 'secret:1password:d2', 'h2', 1);
             INSERT INTO attachments (id, secret_id, name, size, content, source_id, content_sha256)
                 VALUES (4, 7, 'contract.pdf', 3, x'010203', 'f1', 'abc');",
        )
        .unwrap();
    }
    let ws = SqliteWorkspace::open(&path).unwrap();
    let conn = Connection::open(&path).unwrap();
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('attachments') ORDER BY cid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(columns.last().map(String::as_str), Some("content"));
    let kept: (i64, String, i64, String, String) = conn
        .query_row(
            "SELECT secret_id, name, size, source_id, content_sha256 FROM attachments WHERE id = 4",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(kept, (7, "contract.pdf".into(), 3, "f1".into(), "abc".into()));
    // The bytes are sealed where they lie (schema V17) and open as they were.
    let stored: Vec<u8> = conn
        .query_row("SELECT content FROM attachments WHERE id = 4", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored.len() as u64, super::sealed::sealed_len(3));
    let bytes = ws.attachment_bytes(crate::workspace::GrantTarget::Secret(7)).unwrap();
    assert_eq!(bytes.len(), 1);
    assert_eq!(
        bytes[0].as_ref().map(|b| b.expose_bytes().to_vec()),
        Some(vec![1, 2, 3])
    );
    conn.execute(
        "INSERT INTO attachments (secret_id, name, size, content) VALUES (8, 'scan.png', 1, x'00')",
        [],
    )
    .unwrap();
    let intact: i64 = conn
        .query_row("SELECT imported_intact FROM secrets WHERE id = 8", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        intact, 0,
        "an attachment added after the import clears the item's intact flag"
    );
}

/// V13 moves the reports a version-12 server kept in the job row into
/// pieces of at most 256 KiB, byte for byte, and drops the columns; a job
/// with no report gets none.
#[test]
fn a_version_12_database_keeps_its_job_reports_cut_into_pieces() {
    use crate::workspace::service::ServiceStore;
    use sha2::{Digest, Sha256};
    let (_dir, path) = db();
    // Over three pieces, with multi-byte characters across the cuts.
    let big: String = "é→ report line ".repeat(60_000);
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, checksum TEXT NOT NULL,
             applied TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))",
        )
        .unwrap();
        for (i, step) in schema::MIGRATIONS[..12].iter().enumerate() {
            conn.execute_batch(step).unwrap();
            conn.execute(
                "INSERT INTO schema_migrations (version, checksum) VALUES (?1, ?2)",
                rusqlite::params![i as i64 + 1, hex::encode(Sha256::digest(step.as_bytes()))],
            )
            .unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 12;
             INSERT INTO workspace VALUES (1, 'ws-old', 'Old', 12, 1, 1, 1, 1, '2026-01-01T00:00:00Z');",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO jobs (id, member_id, actor, state, export_name, report_json, report_html, report_csv)
             VALUES ('job-a', 1, 'a@x.example', 'planned', 'e.csv', ?1, '<html></html>', ''),
                    ('job-b', 1, 'a@x.example', 'queued', 'e.csv', NULL, NULL, NULL)",
            [&big],
        )
        .unwrap();
    }
    let ws = SqliteWorkspace::open(&path).unwrap();
    let json = ws.report("job-a", "json").unwrap().expect("the JSON report is kept");
    assert_eq!(json.bytes as usize, big.len());
    assert_eq!(json.pieces as usize, big.len().div_ceil(256 * 1024));
    assert!(json.pieces > 3);
    let mut joined = Vec::new();
    for seq in 0..json.pieces {
        let piece = ws.report_piece("job-a", "json", json.generation, seq).unwrap().unwrap();
        assert!(piece.len() <= crate::workspace::service::REPORT_PIECE_BYTES);
        joined.extend(piece);
    }
    assert_eq!(joined, big.as_bytes());
    let html = ws.report("job-a", "html").unwrap().unwrap();
    assert_eq!(
        ws.report_piece("job-a", "html", html.generation, 0).unwrap().unwrap(),
        b"<html></html>"
    );
    let csv = ws.report("job-a", "csv").unwrap().unwrap();
    assert_eq!((csv.pieces, csv.bytes), (0, 0), "an empty report is kept, empty");
    assert_eq!(ws.report("job-b", "json").unwrap(), None);
    assert!(ws.job("job-a").unwrap().is_some(), "the job itself reads back");
    let conn = Connection::open(&path).unwrap();
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('jobs')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!columns.iter().any(|c| c.starts_with("report_")), "{columns:?}");
}
