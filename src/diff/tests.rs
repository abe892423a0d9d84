use super::*;
use crate::mapper::{PlannedCollection, SkipReason, SkippedEntry};
use crate::model::{EntryKind, Field, Position, SourceKind};
use crate::secret::Secret;
use crate::workspace::{Collection, ItemImport, PasswordPolicy, WorkspaceInfo};

fn key(s: &str) -> ImportKey {
    ImportKey(s.into())
}

fn planned_account(k: &str, name: &str, password: &str) -> PlannedAccount {
    PlannedAccount {
        key: key(k),
        source_id: k.into(),
        source_kind: EntryKind::Login,
        collection: Some(key("collection:lastpass:Eng")),
        name: name.into(),
        url: Some("https://a.example".into()),
        urls: vec![],
        username: Some("u".into()),
        password: Some(Secret::text(password)),
        totp: None,
        notes: None,
        fields: vec![Field::concealed("PIN", "PIN-1111")],
        tags: vec![],
        attachments: vec![],
        source_line: Some(2),
        duplicate_of: None,
    }
}

fn plan(accounts: Vec<PlannedAccount>, skipped: usize) -> Plan {
    Plan {
        source: SourceKind::LastpassCsv,
        file: "x.csv".into(),
        workspace: "Northwind Robotics".into(),
        importer: "sam@northwind.example".into(),
        vault_owner: "sam@northwind.example".into(),
        collections: vec![PlannedCollection {
            key: key("collection:lastpass:Eng"),
            path: vec!["Eng".into()],
            name: "Eng".into(),
            parent: None,
            shared: false,
            items: accounts.len(),
        }],
        source_entries: accounts.len() + skipped,
        accounts,
        secrets: vec![],
        teams: vec![],
        invitations: vec![],
        grants: vec![],
        unmatched: vec![],
        skipped: (0..skipped)
            .map(|i| SkippedEntry {
                source_id: format!("s{i}"),
                title: format!("old {i}"),
                folder: String::new(),
                reason: SkipReason::Archived,
                position: Position::file("x.csv"),
            })
            .collect(),
        findings: vec![],
    }
}

fn snapshot(accounts: Vec<Account>) -> Snapshot {
    Snapshot {
        workspace: WorkspaceInfo {
            id: "ws-1".into(),
            name: "Northwind Robotics".into(),
            domains: vec!["northwind.example".into()],
            password_policy: PasswordPolicy::default(),
        },
        members: vec![],
        teams: vec![],
        partners: vec![],
        partnerships: vec![],
        collections: vec![Collection {
            id: 1,
            name: "Eng".into(),
            parent: None,
            import_key: Some(key("collection:lastpass:Eng")),
        }],
        accounts,
        secrets: vec![],
        intact_accounts: vec![],
        intact_secrets: vec![],
        grants: vec![],
        invitations: vec![],
        removed: Default::default(),
    }
}

/// The workspace copy of a planned account, as the importer wrote it.
fn written(id: i64, a: &PlannedAccount) -> Account {
    Account {
        id,
        collection: Some(1),
        name: a.name.clone(),
        url: a.url.clone(),
        urls: a.urls.clone(),
        username: a.username.clone(),
        password: a.password.clone(),
        totp: a.totp.clone(),
        notes: a.notes.clone(),
        fields: a.fields.clone(),
        tags: a.tags.clone(),
        attachments: a.attachments.clone(),
        import: ItemImport {
            import_key: Some(a.key.clone()),
            imported_hash: Some(planned_account_canon(a).hash()),
            withheld: None,
        },
    }
}

#[test]
fn matched_by_key_an_item_is_unchanged_updated_or_a_conflict() {
    let same = planned_account("account:lastpass:1", "Same", "Pw-Same-1!");
    let changed_src = planned_account("account:lastpass:2", "Changed", "Pw-Old-2!");
    let edited_src = planned_account("account:lastpass:3", "Edited", "Pw-Edit-3!");
    let mut edited = written(12, &edited_src);
    edited.notes = Some("edited by hand".into());
    let snap = snapshot(vec![written(10, &same), written(11, &changed_src), edited]);

    let mut changed = changed_src.clone();
    changed.password = Some(Secret::text("Pw-New-2!"));
    changed.fields = vec![Field::concealed("PIN", "PIN-2222"), Field::plain("Extra", "x")];
    let p = plan(
        vec![
            same,
            changed,
            edited_src,
            planned_account("account:lastpass:4", "New", "Pw-New-4!"),
        ],
        0,
    );
    let cs = diff(p.clone(), &snap, false);
    let action = |k: &str| {
        cs.changes
            .iter()
            .find(|c| c.key.as_str() == k)
            .map(|c| (c.action, c.changes.clone()))
    };
    assert_eq!(action("account:lastpass:1"), Some((Action::Unchanged, vec![])));
    assert_eq!(
        action("account:lastpass:2"),
        Some((
            Action::Update,
            vec![
                "password changed".to_owned(),
                "field 'PIN' changed".to_owned(),
                "field 'Extra' added".to_owned()
            ]
        ))
    );
    assert_eq!(
        action("account:lastpass:3"),
        Some((Action::Conflict, vec!["notes changed".to_owned()]))
    );
    assert_eq!(action("account:lastpass:4"), Some((Action::Create, vec![])));
    let debug = format!("{cs:?}");
    for secret in ["Pw-New-2!", "Pw-Old-2!", "PIN-2222"] {
        assert!(!debug.contains(secret), "{secret} leaked");
    }
    let r = cs.reconcile();
    assert_eq!(
        (r.created, r.updated, r.unchanged, r.conflicts, r.skipped),
        (1, 1, 1, 1, 0)
    );
    assert!(r.holds());
    // Conflicts are written only when overwriting.
    assert_eq!(cs.to_write(), 2);
    assert_eq!(diff(p, &snap, true).to_write(), 3);
}

#[test]
fn duplicates_are_skipped_with_their_reason_and_gone_items_are_reported() {
    let mut dup = planned_account("account:lastpass:5", "Dup", "Pw-Dup-5!");
    dup.duplicate_of = Some(99);
    let gone_src = planned_account("account:lastpass:old", "Old", "Pw-Gone-0!");
    let mut other_vendor = written(21, &planned_account("account:1password:x", "Other", "p"));
    other_vendor.id = 21;
    let snap = snapshot(vec![written(20, &gone_src), other_vendor]);
    let p = plan(vec![dup], 2);
    let cs = diff(p, &snap, false);
    let skip = cs
        .changes
        .iter()
        .find(|c| c.key.as_str() == "account:lastpass:5")
        .unwrap();
    assert_eq!(skip.action, Action::Skip);
    assert_eq!(skip.reason.as_deref(), Some("duplicate of workspace account #99"));
    assert_eq!(cs.gone.len(), 1, "only this source's keys: {:?}", cs.gone);
    assert_eq!(cs.gone[0].id, 20);
    let r = cs.reconcile();
    assert_eq!(r.skipped, 3, "two archived + one duplicate");
    assert!(r.holds(), "{}", r.describe());
    let reasons: Vec<String> = cs.skipped().into_iter().map(|s| s.reason).collect();
    assert_eq!(reasons, ["archived", "archived", "duplicate of workspace account #99"]);
    assert!(!cs.has_changes());
}

#[test]
fn a_miscounted_changeset_does_not_reconcile() {
    let p = plan(vec![planned_account("account:lastpass:1", "A", "p")], 0);
    let mut cs = diff(p, &snapshot(vec![]), false);
    assert!(cs.reconcile().holds());
    cs.changes.retain(|c| c.kind != ObjectKind::Account);
    assert!(!cs.reconcile().holds());
    assert!(cs.reconcile().describe().ends_with("MISMATCH"));
}

#[test]
fn bug7_what_the_importer_created_and_the_workspace_removed_is_a_conflict_of_every_kind() {
    let kept = planned_account("account:lastpass:1", "Kept", "Pw-Kept-1!");
    let removed = planned_account("account:lastpass:2", "Removed", "Pw-Removed-2!");
    let fresh = planned_account("account:lastpass:3", "Fresh", "Pw-Fresh-3!");
    let mut snap = snapshot(vec![written(10, &kept)]);
    // The collection was deleted too, with the guest's invitation.
    snap.collections.clear();
    snap.removed.keys = [
        "collection:lastpass:Eng",
        "account:lastpass:2",
        "invitation:jules@studio-jules.example",
    ]
    .into_iter()
    .map(key)
    .collect();
    let mut p = plan(vec![kept, removed, fresh], 0);
    p.invitations.push(PlannedInvitation {
        key: key("invitation:jules@studio-jules.example"),
        email: "jules@studio-jules.example".into(),
        name: None,
        partner: None,
        guest_admin: false,
        folders: vec![],
    });
    let cs = diff(p.clone(), &snap, false);
    let action = |k: &str| {
        let c = cs.changes.iter().find(|c| c.key.as_str() == k).unwrap();
        (c.action, c.removed_since_import())
    };
    assert_eq!(action("collection:lastpass:Eng"), (Action::Conflict, true));
    assert_eq!(action("account:lastpass:2"), (Action::Conflict, true));
    assert_eq!(
        action("invitation:jules@studio-jules.example"),
        (Action::Conflict, true)
    );
    assert_eq!(action("account:lastpass:3"), (Action::Create, false));
    // The kept account's collection moved (it was deleted): an edit, not a removal.
    assert_eq!(action("account:lastpass:1"), (Action::Conflict, false));
    assert!(cs.reconcile().holds());
    assert_eq!(cs.to_write(), 1, "only the fresh account");
    assert_eq!(
        diff(p, &snap, true).to_write(),
        5,
        "overwriting writes the removed ones again"
    );
}
