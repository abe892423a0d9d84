//! The shape of a member's page query: what keeps it one bounded read at
//! any size (tests/guestview.rs times it on a 20k-entry store).

use super::SqliteWorkspace;
use crate::workspace::seed;
use crate::workspace::views::{MemberViews, PageAfter};
use crate::workspace::{Account, Grant, GrantTarget, Grantee, ImportKey, ItemRole, Member, Role, Workspace};

fn sample_store(dir: &std::path::Path) -> SqliteWorkspace {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed = seed::load(&root.join("samples/workspace.toml"), None).unwrap();
    let ws = SqliteWorkspace::create(&dir.join("ws.db"), false).unwrap();
    ws.init(&seed).unwrap();
    ws
}

#[test]
fn a_page_walks_by_id_or_starts_from_the_members_collections_never_from_every_grant() {
    let dir = tempfile::tempdir().unwrap();
    let ws = sample_store(dir.path());
    let (dense, sparse) = ws.account_page_plans();
    let (dense, sparse) = (dense.join("\n"), sparse.join("\n"));
    // The walk: accounts by id from the cursor, no sort of every row.
    assert!(
        dense.contains("SEARCH a USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"),
        "{dense}"
    );
    assert!(!dense.contains("FOR ORDER BY"), "{dense}");
    // The member's side: each reached collection's accounts by index.
    assert!(
        sparse.contains("USING INDEX accounts_collection (collection_id=? AND rowid>?)")
            || sparse.contains("USING COVERING INDEX accounts_collection (collection_id=? AND rowid>?)"),
        "{sparse}"
    );
    for plan in [&dense, &sparse] {
        // Grants by grantee, team places by member, subcollections by parent.
        assert!(plan.contains("SEARCH g USING INDEX grants_grantee"), "{plan}");
        assert!(plan.contains("USING INDEX team_members_member"), "{plan}");
        assert!(plan.contains("USING COVERING INDEX collections_parent"), "{plan}");
        assert!(
            !plan
                .lines()
                .any(|l| l.trim_start_matches(['|', '`', '-', ' ']) == "SCAN g"),
            "{plan}"
        );
    }
}

/// Twelve accounts in a collection of its own per three, one granted to a
/// guest directly and two through a collection: what they see is the same
/// whether a page is found by the walk or from their side.
#[test]
fn both_ways_of_finding_a_page_give_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let ws = sample_store(dir.path());
    let mut collections = Vec::new();
    for i in 0..4 {
        collections.push(
            ws.create_collection(&crate::workspace::Collection {
                id: 0,
                name: format!("C{i}"),
                parent: None,
                import_key: Some(ImportKey::new(format!("collection:test:{i}"))),
            })
            .unwrap(),
        );
    }
    let mut accounts = Vec::new();
    for i in 0..12 {
        let a = Account {
            id: 0,
            collection: Some(collections[i % 4]),
            name: format!("A{i}"),
            url: None,
            urls: vec![],
            username: None,
            password: None,
            totp: None,
            notes: None,
            fields: vec![],
            tags: vec![],
            attachments: vec![],
            import: crate::workspace::ItemImport {
                import_key: Some(ImportKey::new(format!("account:test:{i}"))),
                imported_hash: None,
                withheld: None,
            },
        };
        accounts.push(ws.create_account(&a).unwrap());
    }
    let snapshot = ws.snapshot().unwrap();
    let member = |email: &str| -> Member { snapshot.members.iter().find(|m| m.email == email).unwrap().clone() };
    let mo = member("mo@freelance.example");
    let lee = member("lee@northwind.example");
    let grant = |target: GrantTarget, grantee: Grantee| Grant {
        id: 0,
        target,
        grantee,
        role: ItemRole::Collaborator,
        import_key: Some(ImportKey::new(format!("grant:test:{target:?}:{grantee:?}"))),
    };
    ws.create_grant(&grant(GrantTarget::Collection(collections[1]), Grantee::Member(mo.id)))
        .unwrap();
    ws.create_grant(&grant(GrantTarget::Account(accounts[10]), Grantee::Member(mo.id)))
        .unwrap();
    ws.create_grant(&grant(GrantTarget::Collection(collections[0]), Grantee::Team(1)))
        .unwrap();
    assert_eq!(mo.role, Role::Guest);
    for who in [&mo, &lee] {
        for size in [1, 2, 5] {
            let read = |probe: i64| {
                let mut ids = Vec::new();
                let mut after = None;
                loop {
                    let page = ws.account_page_with_probe(who, PageAfter { after, size }, probe);
                    ids.extend(page.rows.iter().map(|a| (a.id, a.role)));
                    if !page.more {
                        break;
                    }
                    after = page.rows.last().map(|a| a.id);
                }
                ids
            };
            let walked = read(1_000_000);
            // A walk of 1 or 3 ids comes back short: widened by the density
            // it saw, then from the member's side, in every mix.
            for probe in [1, 3] {
                assert_eq!(walked, read(probe), "{} size {size} probe {probe}", who.email);
            }
            let through_trait = {
                let page = ws.visible_accounts(who, PageAfter { after: None, size: 100 }).unwrap();
                page.rows.iter().map(|a| (a.id, a.role)).collect::<Vec<_>>()
            };
            assert_eq!(walked, through_trait);
        }
    }
    let mo_sees: Vec<i64> = ws
        .visible_accounts(&mo, PageAfter { after: None, size: 100 })
        .unwrap()
        .rows
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(mo_sees, vec![accounts[1], accounts[5], accounts[9], accounts[10]]);
}
