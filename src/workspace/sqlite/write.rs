//! Writes. Each function runs inside the caller's transaction, so a seed
//! (or, later, one apply step) is written whole or not at all.

use std::collections::HashMap;

use rusqlite::blob::ZeroBlob;
use rusqlite::{params, Connection, DatabaseName, Result};

use super::now;
use super::sealed::{self, Column};
use crate::workspace::key::WorkspaceKey;
use crate::workspace::seed::{member_state_name, partnership_state_name, Seed, SeedPartner, SeedPartnership};
use crate::workspace::{MemberState, Role};

/// A member to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMember {
    /// Stored lowercase and trimmed.
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub state: MemberState,
    pub directory_managed: bool,
}

pub(super) fn audit(tx: &Connection, actor: &str, action: &str, object: &str) -> Result<()> {
    tx.prepare_cached("INSERT INTO audit_log (time, actor, action, object) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![now(), actor, action, object])?;
    Ok(())
}

pub(super) fn insert_member(tx: &Connection, m: &NewMember) -> Result<i64> {
    let email = m.email.trim().to_lowercase();
    tx.prepare_cached("INSERT INTO members (email, name, role, directory_managed, state) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![
            email,
            m.name,
            m.role.name(),
            m.directory_managed,
            member_state_name(m.state)
        ])?;
    let id = tx.last_insert_rowid();
    audit(tx, "vaultferry", "member.create", &format!("member {email}"))?;
    Ok(id)
}

pub(super) fn insert_team(tx: &Connection, name: &str, import_key: Option<&str>) -> Result<i64> {
    tx.prepare_cached("INSERT INTO teams (name, import_key) VALUES (?1, ?2)")?
        .execute(params![name, import_key])?;
    let id = tx.last_insert_rowid();
    audit(tx, "vaultferry", "team.create", &format!("team {name}"))?;
    Ok(id)
}

/// Whether the member joined now (false: they were in the team already).
pub(super) fn add_team_member(tx: &Connection, team: i64, member: i64) -> Result<bool> {
    let added = tx
        .prepare_cached("INSERT INTO team_members (team_id, member_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
        .execute(params![team, member])?;
    Ok(added > 0)
}

pub(super) fn insert_partner(tx: &Connection, p: &SeedPartner, ids: &HashMap<String, i64>) -> Result<i64> {
    tx.execute("INSERT INTO local_partners (name) VALUES (?1)", params![p.name])?;
    let id = tx.last_insert_rowid();
    for d in &p.domains {
        tx.prepare_cached("INSERT INTO partner_domains (partner_id, domain) VALUES (?1, ?2)")?
            .execute(params![id, d])?;
    }
    for (kind, refs) in [("guest_admin", &p.guest_admins), ("guest_user", &p.guest_users)] {
        for r in refs {
            let member = ids.get(&r.email).copied().ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            tx.prepare_cached("INSERT INTO partner_members (partner_id, member_id, kind) VALUES (?1, ?2, ?3)")?
                .execute(params![id, member, kind])?;
        }
    }
    audit(tx, "vaultferry", "partner.create", &format!("partner {}", p.name))?;
    Ok(id)
}

pub(super) fn insert_partnership(tx: &Connection, p: &SeedPartnership) -> Result<i64> {
    tx.prepare_cached("INSERT INTO partnerships (partner_workspace_id, name, state) VALUES (?1, ?2, ?3)")?
        .execute(params![p.workspace_id, p.name, partnership_state_name(p.state)])?;
    let id = tx.last_insert_rowid();
    for d in &p.domains {
        tx.prepare_cached(
            "INSERT INTO partnership_domains (partnership_id, domain) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        )?
        .execute(params![id, d])?;
    }
    audit(
        tx,
        "vaultferry",
        "partnership.create",
        &format!("partnership {} ({})", p.name, p.workspace_id),
    )?;
    Ok(id)
}

/// The whole seed: workspace row, domains, members, teams, partners,
/// partnerships.
pub(super) fn seed(tx: &Connection, id: &str, seed: &Seed) -> Result<()> {
    let p = &seed.password_policy;
    tx.prepare_cached(
        "INSERT INTO workspace (singleton, id, name, pw_min_length, pw_require_uppercase, pw_require_lowercase,
                                pw_require_digit, pw_require_symbol, created, guest_invitation_days)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        id,
        seed.name,
        p.min_length,
        p.require_uppercase,
        p.require_lowercase,
        p.require_digit,
        p.require_symbol,
        now(),
        p.guest_invitation_days
    ])?;
    for d in &seed.domains {
        tx.prepare_cached("INSERT INTO domains (domain) VALUES (?1) ON CONFLICT DO NOTHING")?
            .execute(params![d])?;
    }
    let mut ids = HashMap::new();
    for m in &seed.members {
        let id = insert_member(
            tx,
            &NewMember {
                email: m.email.clone(),
                name: m.name.clone(),
                role: m.role,
                state: m.state,
                directory_managed: m.directory_managed,
            },
        )?;
        ids.insert(m.email.clone(), id);
    }
    for t in &seed.teams {
        let team = insert_team(tx, &t.name, None)?;
        for r in &t.members {
            let member = ids.get(&r.email).copied().ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            add_team_member(tx, team, member)?;
        }
    }
    for p in &seed.partners {
        insert_partner(tx, p, &ids)?;
    }
    for p in &seed.partnerships {
        insert_partnership(tx, p)?;
    }
    audit(
        tx,
        "vaultferry",
        "workspace.init",
        &format!("workspace {} from {}", seed.name, seed.file),
    )
}

// --- what `apply` writes: each keyed by import key and idempotent. A second
// call with the same key writes nothing and returns the id of the object
// the first call created (updates are the diff's decision, not a retry's).

use crate::secret;
use crate::workspace::{
    Account, Collection, Grant, GrantTarget, Grantee, ImportKey, ItemRole, NewGuestInvitation, SecretItem,
};

/// The tables objects are keyed in by import key.
#[derive(Clone, Copy)]
enum Keyed {
    Collections,
    Accounts,
    Secrets,
    Grants,
    Teams,
    GuestInvitations,
}

/// The id of the row with `import_key`, if any. Runs once per object of a
/// batch, so the SQL is a fixed string per table and the statement is
/// prepared once per connection (parsing it per row was most of the cost).
fn by_key(tx: &Connection, table: Keyed, key: &ImportKey) -> Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    let sql = match table {
        Keyed::Collections => "SELECT id FROM collections WHERE import_key = ?1",
        Keyed::Accounts => "SELECT id FROM accounts WHERE import_key = ?1",
        Keyed::Secrets => "SELECT id FROM secrets WHERE import_key = ?1",
        Keyed::Grants => "SELECT id FROM grants WHERE import_key = ?1",
        Keyed::Teams => "SELECT id FROM teams WHERE import_key = ?1",
        Keyed::GuestInvitations => "SELECT id FROM guest_invitations WHERE import_key = ?1",
    };
    tx.prepare_cached(sql)?
        .query_row([key.as_str()], |r| r.get(0))
        .optional()
}

/// The id the next row of `table` gets (SQLite's own choice for a table
/// without AUTOINCREMENT, made explicit). Only for accounts and secrets.
fn next_id(tx: &Connection, table: Keyed) -> Result<i64> {
    let sql = match table {
        Keyed::Secrets => "SELECT coalesce(max(id), 0) + 1 FROM secrets",
        _ => "SELECT coalesce(max(id), 0) + 1 FROM accounts",
    };
    tx.prepare_cached(sql)?.query_row([], |r| r.get(0))
}

/// Serializes with secret values (the workspace is where they are kept);
/// a failure never quotes the value.
fn json_with_secrets<T: serde::Serialize>(value: &T) -> Result<zeroize::Zeroizing<String>> {
    secret::reveal(|| serde_json::to_string(value))
        .map(zeroize::Zeroizing::new)
        .map_err(|_| rusqlite::Error::ToSqlConversionFailure("cannot serialize fields".into()))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

pub(super) fn create_collection(tx: &Connection, c: &Collection, key: &ImportKey) -> Result<i64> {
    if let Some(id) = by_key(tx, Keyed::Collections, key)? {
        return Ok(id);
    }
    tx.prepare_cached("INSERT INTO collections (name, parent_id, import_key) VALUES (?1, ?2, ?3)")?
        .execute(params![c.name, c.parent, key.as_str()])?;
    let id = tx.last_insert_rowid();
    audit(
        tx,
        "vaultferry",
        "collection.create",
        &format!("collection {id} ({key})"),
    )?;
    Ok(id)
}

/// Whose attachments: an account's or a secret's.
#[derive(Clone, Copy)]
enum Owner {
    Account,
    Secret,
}

fn insert_attachments(
    tx: &Connection,
    wk: &WorkspaceKey,
    owner: Owner,
    id: i64,
    files: &[crate::model::Attachment],
) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let sql = match owner {
        Owner::Account => {
            "INSERT INTO attachments (account_id, name, size, content, source_id, content_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        }
        Owner::Secret => {
            "INSERT INTO attachments (secret_id, name, size, content, source_id, content_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        }
    };
    let mut stmt = tx.prepare_cached(sql)?;
    for a in files {
        let size = i64::try_from(a.size).unwrap_or(i64::MAX);
        let sha = a.sha256().map(hex::encode);
        let io = |e: std::io::Error| rusqlite::Error::ToSqlConversionFailure(Box::new(e));
        match (&a.content, &a.origin, &a.digest) {
            (None, None, _) | (None, _, None) => {
                stmt.execute(params![id, a.name, size, None::<Vec<u8>>, a.source_id, sha])?;
            }
            (content, origin, digest) => {
                // Sealed a piece at a time into a blob of the sealed size,
                // whose row id each piece is bound to; a streamed one is
                // copied from where the export holds it, 64 KiB at a time
                // (a 4 GB 1PUX is never in memory).
                let blob_size = i32::try_from(sealed::sealed_len(a.size)).map_err(|_| too_large(a))?;
                stmt.execute(params![id, a.name, size, ZeroBlob(blob_size), a.source_id, sha])?;
                let row = tx.last_insert_rowid();
                let mut blob = tx.blob_open(DatabaseName::Main, "attachments", "content", row, false)?;
                let mut out = sealed::PieceWriter::new(wk, &mut blob, row, a.size);
                match (content, origin, digest) {
                    (Some(c), _, _) => std::io::Write::write_all(&mut out, c.expose_bytes()).map_err(io)?,
                    (None, Some(origin), Some(digest)) => origin.copy_checked(&mut out, a.size, digest).map_err(io)?,
                    _ => {}
                }
                out.finish().map_err(io)?;
            }
        }
    }
    Ok(())
}

/// SQLite holds at most 1 GB in one value (`SQLITE_MAX_LENGTH`).
fn too_large(a: &crate::model::Attachment) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(
        format!(
            "attachment '{}' is {} bytes; the embedded store holds attachments of up to 1 GB",
            a.name, a.size
        )
        .into(),
    )
}

pub(super) fn create_account(tx: &Connection, wk: &WorkspaceKey, a: &Account, key: &ImportKey) -> Result<i64> {
    match insert_account(tx, wk, a, key)? {
        Some(id) => {
            audit(tx, "vaultferry", "account.create", &format!("account {id} ({key})"))?;
            Ok(id)
        }
        None => by_key(tx, Keyed::Accounts, key)?.ok_or(rusqlite::Error::QueryReturnedNoRows),
    }
}

/// Marks an item as holding what the importer wrote (see schema V4). Set
/// after its attachments, whose triggers clear it.
fn mark_intact(tx: &Connection, owner: Owner, id: i64) -> Result<()> {
    let sql = match owner {
        Owner::Account => "UPDATE accounts SET imported_intact = 1 WHERE id = ?1",
        Owner::Secret => "UPDATE secrets SET imported_intact = 1 WHERE id = ?1",
    };
    tx.prepare_cached(sql)?.execute([id])?;
    Ok(())
}

/// The account under `key`, written unless one exists already (`None`
/// then: the caller looks it up). Inserting first and looking up only on a
/// conflict costs a first run one statement per item instead of two.
/// Intact when it carries the hash of what is written (the import path);
/// the caller audits.
fn insert_account(tx: &Connection, wk: &WorkspaceKey, a: &Account, key: &ImportKey) -> Result<Option<i64>> {
    let intact = a.import.imported_hash.is_some();
    // The row id is chosen here, in the write transaction, so the sealed
    // values can be bound to it before the row exists.
    let id = next_id(tx, Keyed::Accounts)?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO accounts (id, collection_id, name, url, urls, username, password, totp, notes, fields, tags,
                                   import_key, imported_hash, imported_intact, created)
             VALUES (?15, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (import_key) DO NOTHING",
        )?
        .execute(params![
            a.collection,
            a.name,
            a.url,
            json(&a.urls)?,
            a.username,
            sealed::seal_text(wk, Column::AccountPassword, id, a.password.as_ref().map(|s| s.expose())),
            sealed::seal_text(wk, Column::AccountTotp, id, a.totp.as_ref().map(|s| s.expose())),
            sealed::seal_text(wk, Column::AccountNotes, id, a.notes.as_deref()),
            sealed::seal_fields(wk, Column::AccountFields, id, &json_with_secrets(&a.fields)?),
            json(&a.tags)?,
            key.as_str(),
            a.import.imported_hash,
            intact,
            now(),
            id,
        ])?;
    if inserted == 0 {
        return Ok(None);
    }
    if !a.attachments.is_empty() {
        insert_attachments(tx, wk, Owner::Account, id, &a.attachments)?;
        if intact {
            mark_intact(tx, Owner::Account, id)?;
        }
    }
    Ok(Some(id))
}

pub(super) fn create_secret(tx: &Connection, wk: &WorkspaceKey, s: &SecretItem, key: &ImportKey) -> Result<i64> {
    match insert_secret(tx, wk, s, key)? {
        Some(id) => {
            audit(tx, "vaultferry", "secret.create", &format!("secret {id} ({key})"))?;
            Ok(id)
        }
        None => by_key(tx, Keyed::Secrets, key)?.ok_or(rusqlite::Error::QueryReturnedNoRows),
    }
}

/// The secret under `key` unless one exists; as [`insert_account`].
fn insert_secret(tx: &Connection, wk: &WorkspaceKey, s: &SecretItem, key: &ImportKey) -> Result<Option<i64>> {
    let intact = s.import.imported_hash.is_some();
    let id = next_id(tx, Keyed::Secrets)?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO secrets (id, collection_id, type, title, notes, fields, tags, import_key, imported_hash,
                                  imported_intact, created)
             VALUES (?11, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (import_key) DO NOTHING",
        )?
        .execute(params![
            s.collection,
            s.secret_type.name(),
            s.title,
            sealed::seal_text(wk, Column::SecretNotes, id, s.notes.as_deref()),
            sealed::seal_fields(wk, Column::SecretFields, id, &json_with_secrets(&s.fields)?),
            json(&s.tags)?,
            key.as_str(),
            s.import.imported_hash,
            intact,
            now(),
            id,
        ])?;
    if inserted == 0 {
        return Ok(None);
    }
    if !s.attachments.is_empty() {
        insert_attachments(tx, wk, Owner::Secret, id, &s.attachments)?;
        if intact {
            mark_intact(tx, Owner::Secret, id)?;
        }
    }
    Ok(Some(id))
}

pub(super) fn create_grant(tx: &Connection, g: &Grant, key: &ImportKey) -> Result<i64> {
    Ok(match find_or_insert_grant(tx, g, key)? {
        Found::Existing(id) | Found::Inserted(id) => id,
    })
}

/// Whether [`find_or_insert_grant`] found the grant or wrote it.
enum Found {
    Existing(i64),
    Inserted(i64),
}

/// Inserts first and looks up only when the insert met an existing grant
/// (the same key, or the same grantee on the target, granted by hand or
/// under another key: that one is kept; the diff reports role
/// differences). A first run's grants are all new, and two lookups before
/// each insert were a third of its cost. The rules (the insert trigger)
/// apply to the grant asked for either way.
fn find_or_insert_grant(tx: &Connection, g: &Grant, key: &ImportKey) -> Result<Found> {
    use rusqlite::OptionalExtension;
    let (target_kind, target_id) = match g.target {
        GrantTarget::Collection(id) => ("collection", id),
        GrantTarget::Account(id) => ("account", id),
        GrantTarget::Secret(id) => ("secret", id),
    };
    let (grantee_kind, grantee_id) = match g.grantee {
        Grantee::Member(id) => ("member", id),
        Grantee::Team(id) => ("team", id),
        Grantee::Partner(id) => ("partner", id),
        Grantee::Partnership(id) => ("partnership", id),
    };
    let inserted = tx
        .prepare_cached(
            "INSERT INTO grants (target_kind, target_id, grantee_kind, grantee_id, role, import_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            target_kind,
            target_id,
            grantee_kind,
            grantee_id,
            g.role.name(),
            key.as_str()
        ])?;
    if inserted == 0 {
        if let Some(id) = by_key(tx, Keyed::Grants, key)? {
            return Ok(Found::Existing(id));
        }
        return tx
            .prepare_cached(
                "SELECT id FROM grants WHERE target_kind = ?1 AND target_id = ?2 AND grantee_kind = ?3 AND grantee_id = ?4",
            )?
            .query_row(params![target_kind, target_id, grantee_kind, grantee_id], |r| r.get(0))
            .optional()?
            .map(Found::Existing)
            .ok_or(rusqlite::Error::QueryReturnedNoRows);
    }
    let id = tx.last_insert_rowid();
    audit(
        tx,
        "vaultferry",
        "grant.create",
        &format!(
            "{grantee_kind} {grantee_id} → {target_kind} {target_id}: {} ({key})",
            ItemRole::name(g.role)
        ),
    )?;
    Ok(Found::Inserted(id))
}

/// A team for a sharing group: found by import key, else by name (a team
/// the company already has), else created.
pub(super) fn create_team(tx: &Connection, name: &str, key: &ImportKey) -> Result<i64> {
    use rusqlite::OptionalExtension;
    if let Some(id) = by_key(tx, Keyed::Teams, key)? {
        return Ok(id);
    }
    let existing: Option<i64> = tx
        .query_row("SELECT id FROM teams WHERE name = ?1", [name], |r| r.get(0))
        .optional()?;
    match existing {
        Some(id) => Ok(id),
        None => insert_team(tx, name, Some(key.as_str())),
    }
}

/// The guest member (role guest, state invited; kept if they exist) and
/// their invitation.
pub(super) fn create_guest_invitation(tx: &Connection, inv: &NewGuestInvitation) -> Result<i64> {
    use rusqlite::OptionalExtension;
    if let Some(id) = by_key(tx, Keyed::GuestInvitations, &inv.import_key)? {
        return Ok(id);
    }
    let email = inv.email.trim().to_lowercase();
    let member: Option<(i64, String)> = tx
        .query_row("SELECT id, role FROM members WHERE email = ?1", [&email], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let member = match member {
        Some((_, role)) if role != "guest" => {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
                Some(format!(
                    "rule: {email} is a {role}, not a guest: only outsiders are invited as guests"
                )),
            ))
        }
        Some((id, _)) => id,
        None => insert_member(
            tx,
            &NewMember {
                email: email.clone(),
                name: inv.name.clone(),
                role: Role::Guest,
                state: MemberState::Invited,
                directory_managed: false,
            },
        )?,
    };
    if let Some(id) = tx
        .query_row("SELECT id FROM guest_invitations WHERE member_id = ?1", [member], |r| {
            r.get(0)
        })
        .optional()?
    {
        return Ok(id);
    }
    tx.prepare_cached(
        "INSERT INTO guest_invitations (member_id, username, password_hash, salt, partner_id, state, import_key)
         VALUES (?1, ?2, ?3, ?4, ?5, 'sent', ?6)",
    )?
    .execute(params![
        member,
        inv.username,
        inv.password_hash,
        inv.salt,
        inv.partner,
        inv.import_key.as_str()
    ])?;
    let id = tx.last_insert_rowid();
    if let Some(partner) = inv.partner {
        tx.prepare_cached(
            "INSERT INTO partner_members (partner_id, member_id, kind) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            partner,
            member,
            if inv.partner_admin { "guest_admin" } else { "guest_user" }
        ])?;
    }
    audit(
        tx,
        "vaultferry",
        "guest.invite",
        &format!("guest {email} ({})", inv.import_key),
    )?;
    Ok(id)
}

// --- import runs and the batch writes of `apply`.

use crate::workspace::{NewRun, RunInfo, RunState, Write};

/// Opens a run; runs left `running` by a dead process become `interrupted`.
/// Returns every run that stopped before finishing since the last one that
/// completed (killed, or stopped on Ctrl-C), oldest first: each re-run of
/// a run stopped twice names both, not only the last.
pub(super) fn begin_run(tx: &Connection, run: &NewRun) -> Result<Vec<String>> {
    tx.prepare("UPDATE import_runs SET state = 'interrupted', finished = ?1 WHERE state = 'running'")?
        .execute([now()])?;
    let interrupted: Vec<String> = {
        let mut stmt = tx.prepare(
            "SELECT id FROM import_runs WHERE state = 'interrupted'
               AND rowid > coalesce((SELECT max(rowid) FROM import_runs WHERE state = 'completed'), 0)
             ORDER BY rowid",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<Result<_>>()?
    };
    tx.prepare_cached(
        "INSERT INTO import_runs (id, started, source_file, actor, state) VALUES (?1, ?2, ?3, ?4, 'running')",
    )?
    .execute(params![run.id, now(), run.source_file, run.actor])?;
    if !run.scope.is_empty() {
        tx.prepare_cached("INSERT INTO import_run_scopes (run_id, scope) VALUES (?1, ?2)")?
            .execute(params![run.id, run.scope])?;
    }
    audit(
        tx,
        &run.actor,
        "import.start",
        &format!("run {} ({})", run.id, run.source_file),
    )?;
    Ok(interrupted)
}

pub(super) fn finish_run(tx: &Connection, run: &str, state: RunState, summary: &str) -> Result<()> {
    tx.prepare_cached("UPDATE import_runs SET state = ?2, finished = ?3, summary = ?4 WHERE id = ?1")?
        .execute(params![run, state.name(), now(), summary])?;
    audit(
        tx,
        "vaultferry",
        "import.finish",
        &format!("run {run}: {}", state.name()),
    )
}

pub(super) fn runs(conn: &Connection) -> Result<Vec<RunInfo>> {
    let mut stmt = conn.prepare(
        "SELECT r.id, r.started, r.finished, r.source_file, r.actor, r.state,
                (SELECT count(*) FROM run_journal j WHERE j.run_id = r.id)
         FROM import_runs r ORDER BY r.started DESC, r.rowid DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        let state: String = r.get(5)?;
        Ok(RunInfo {
            id: r.get(0)?,
            started: r.get(1)?,
            finished: r.get(2)?,
            source_file: r.get(3)?,
            actor: r.get(4)?,
            state: RunState::from_name(&state).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, "unexpected run state".into())
            })?,
            writes: r.get::<_, i64>(6)?.max(0) as usize,
        })
    })?;
    rows.collect()
}

/// One batch: the objects, each keyed by import key, and a journal row
/// each. The caller's transaction makes it all-or-nothing.
///
/// Accounts and secrets are audited once per batch ("run …: 5000 accounts
/// created"), not once per item: the journal rows written beside them name
/// each item, its key, action and content hash, and a per-item audit row
/// repeated that for a million items. Access changes (teams, invitations,
/// collections, grants) keep an audit row each.
pub(super) fn apply_batch(tx: &Connection, wk: &WorkspaceKey, run: &str, writes: &[Write]) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(writes.len());
    // (accounts created, accounts updated, secrets created, secrets updated)
    let mut items = [0usize; 4];
    // Held for the batch: a journal row per object, and looking the
    // statement up in the cache each time was a visible part of the cost.
    let mut journal = tx.prepare_cached(
        "INSERT INTO run_journal (run_id, import_key, action, content_hash, time) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    // An object created again (`--overwrite` of one someone deleted) is no
    // longer removed (schema V9). The table is empty but for those, so the
    // keys created are struck off once the batch is written, and only when
    // it holds a row: a statement per created item was a tenth of a first
    // run's store time. Nothing in a batch reads the table, so striking
    // them off last leaves it as striking each off as it was written did.
    let mut created: Vec<&str> = Vec::new();
    // A batch commits at once: its rows share the time it was written.
    let time = now();
    for w in writes {
        let (id, action, hash) = match w {
            Write::Interrupt => {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                    Some("the batch was interrupted (test hook); nothing of it was kept".into()),
                ))
            }
            Write::Team { key, name, members } => upsert_team(tx, run, key, name, members)?,
            Write::Invitation(inv) => {
                let existed = by_key(tx, Keyed::GuestInvitations, &inv.import_key)?.is_some();
                let invitation = create_guest_invitation(tx, inv)?;
                if !existed {
                    // Pending until its email is delivered (schema V8).
                    tx.prepare_cached(
                        "INSERT INTO invitation_outbox (invitation_id, state) VALUES (?1, 'pending')
                         ON CONFLICT (invitation_id) DO NOTHING",
                    )?
                    .execute([invitation])?;
                }
                let member: i64 = tx.query_row(
                    "SELECT member_id FROM guest_invitations WHERE id = ?1",
                    [invitation],
                    |r| r.get(0),
                )?;
                (member, if existed { "unchanged" } else { "invite" }, None)
            }
            Write::Collection { key, name, parent } => upsert_collection(tx, key, name, *parent)?,
            Write::Account(a) => upsert_account(tx, wk, a)?,
            Write::Secret(s) => upsert_secret(tx, wk, s)?,
            Write::Grant(g) => upsert_grant(tx, g)?,
        };
        match (w, action) {
            (Write::Account(_), "create") => items[0] += 1,
            (Write::Account(_), _) => items[1] += 1,
            (Write::Secret(_), "create") => items[2] += 1,
            (Write::Secret(_), _) => items[3] += 1,
            _ => {}
        }
        let key = w.key().map(ImportKey::as_str).unwrap_or_default();
        journal.execute(params![run, key, action, hash, time])?;
        if matches!(action, "create" | "invite") {
            created.push(key);
        }
        ids.push(id);
    }
    if !created.is_empty() && tx.query_row("SELECT EXISTS (SELECT 1 FROM import_removed)", [], |r| r.get(0))? {
        let mut restored = tx.prepare_cached("DELETE FROM import_removed WHERE import_key = ?1")?;
        for key in created {
            restored.execute([key])?;
        }
    }
    let described: Vec<String> = [
        (items[0], "accounts created"),
        (items[1], "accounts updated"),
        (items[2], "secrets created"),
        (items[3], "secrets updated"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if !described.is_empty() {
        audit(
            tx,
            "vaultferry",
            "import.items",
            &format!("run {run}: {} (each in run_journal)", described.join(", ")),
        )?;
    }
    Ok(ids)
}

type Written = (i64, &'static str, Option<String>);

/// Adds the members (each joining recorded in the ledger, so an admin's
/// removal of one is not undone by the next run).
fn upsert_team(tx: &Connection, run: &str, key: &ImportKey, name: &str, members: &[i64]) -> Result<Written> {
    use rusqlite::OptionalExtension;
    let existed = by_key(tx, Keyed::Teams, key)?.is_some()
        || tx
            .query_row("SELECT id FROM teams WHERE name = ?1", [name], |r| r.get::<_, i64>(0))
            .optional()?
            .is_some();
    let id = create_team(tx, name, key)?;
    for m in members {
        if add_team_member(tx, id, *m)? {
            tx.prepare_cached(
                "INSERT INTO import_ledger_members (team_id, member_id, run_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT (team_id, member_id) DO UPDATE SET removed = NULL, run_id = excluded.run_id",
            )?
            .execute(params![id, m, run])?;
        }
    }
    Ok((id, if existed { "update" } else { "create" }, None))
}

fn upsert_collection(tx: &Connection, key: &ImportKey, name: &str, parent: Option<i64>) -> Result<Written> {
    if let Some(id) = by_key(tx, Keyed::Collections, key)? {
        tx.prepare_cached("UPDATE collections SET name = ?2, parent_id = ?3 WHERE id = ?1")?
            .execute(params![id, name, parent])?;
        audit(
            tx,
            "vaultferry",
            "collection.update",
            &format!("collection {id} ({key})"),
        )?;
        return Ok((id, "update", None));
    }
    let c = Collection {
        id: 0,
        name: name.to_owned(),
        parent,
        import_key: Some(key.clone()),
    };
    Ok((create_collection(tx, &c, key)?, "create", None))
}

fn upsert_account(tx: &Connection, wk: &WorkspaceKey, a: &Account) -> Result<Written> {
    let key = a.import.import_key.clone().unwrap_or_else(|| ImportKey::new(""));
    let hash = a.import.imported_hash.clone();
    if let Some(id) = insert_account(tx, wk, a, &key)? {
        return Ok((id, "create", hash));
    }
    let id = by_key(tx, Keyed::Accounts, &key)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.prepare_cached(
        "UPDATE accounts SET collection_id = ?2, name = ?3, url = ?4, urls = ?5, username = ?6, password = ?7,
                totp = ?8, notes = ?9, fields = ?10, tags = ?11, imported_hash = ?12, imported_intact = 0
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        a.collection,
        a.name,
        a.url,
        json(&a.urls)?,
        a.username,
        sealed::seal_text(wk, Column::AccountPassword, id, a.password.as_ref().map(|s| s.expose())),
        sealed::seal_text(wk, Column::AccountTotp, id, a.totp.as_ref().map(|s| s.expose())),
        sealed::seal_text(wk, Column::AccountNotes, id, a.notes.as_deref()),
        sealed::seal_fields(wk, Column::AccountFields, id, &json_with_secrets(&a.fields)?),
        json(&a.tags)?,
        hash,
    ])?;
    tx.prepare_cached("DELETE FROM attachments WHERE account_id = ?1")?
        .execute([id])?;
    insert_attachments(tx, wk, Owner::Account, id, &a.attachments)?;
    if hash.is_some() {
        mark_intact(tx, Owner::Account, id)?;
    }
    Ok((id, "update", hash))
}

fn upsert_secret(tx: &Connection, wk: &WorkspaceKey, s: &SecretItem) -> Result<Written> {
    let key = s.import.import_key.clone().unwrap_or_else(|| ImportKey::new(""));
    let hash = s.import.imported_hash.clone();
    if let Some(id) = insert_secret(tx, wk, s, &key)? {
        return Ok((id, "create", hash));
    }
    let id = by_key(tx, Keyed::Secrets, &key)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.prepare_cached(
        "UPDATE secrets SET collection_id = ?2, type = ?3, title = ?4, notes = ?5, fields = ?6, tags = ?7,
                imported_hash = ?8, imported_intact = 0 WHERE id = ?1",
    )?
    .execute(params![
        id,
        s.collection,
        s.secret_type.name(),
        s.title,
        sealed::seal_text(wk, Column::SecretNotes, id, s.notes.as_deref()),
        sealed::seal_fields(wk, Column::SecretFields, id, &json_with_secrets(&s.fields)?),
        json(&s.tags)?,
        hash,
    ])?;
    tx.prepare_cached("DELETE FROM attachments WHERE secret_id = ?1")?
        .execute([id])?;
    insert_attachments(tx, wk, Owner::Secret, id, &s.attachments)?;
    if hash.is_some() {
        mark_intact(tx, Owner::Secret, id)?;
    }
    Ok((id, "update", hash))
}

/// A grant: created, or (when this key or this target and grantee hold a
/// grant already) its role set, which only happens when the diff decided
/// so (`--overwrite` of a conflict).
fn upsert_grant(tx: &Connection, g: &Grant) -> Result<Written> {
    let key = g.import_key.clone().unwrap_or_else(|| ImportKey::new(""));
    let id = match find_or_insert_grant(tx, g, &key)? {
        // Written with this role just now.
        Found::Inserted(id) => return Ok((id, "create", None)),
        Found::Existing(id) => id,
    };
    let changed = tx
        .prepare_cached("UPDATE grants SET role = ?2 WHERE id = ?1 AND role <> ?2")?
        .execute(params![id, g.role.name()])?;
    if changed > 0 {
        audit(
            tx,
            "vaultferry",
            "grant.update",
            &format!("grant {id}: {} ({key})", g.role.name()),
        )?;
        return Ok((id, "update", None));
    }
    // Held already (granted by hand, or under another key): not the
    // importer's to remember as created.
    Ok((id, "unchanged", None))
}
