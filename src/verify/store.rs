//! The workspace side read straight from the SQLite store, with queries of
//! its own: not the snapshot the diff reads, so a fault in how a run reads
//! the store cannot hide what the store holds. Opened read-only.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, Row};
use serde::Deserialize;

use crate::secret::Secret;
use crate::workspace::key::{KeyLocation, WorkspaceKey};
use crate::workspace::sqlite::sealed::{self, Column};
use crate::workspace::{
    GrantTarget, Grantee, ItemRole, Member, MemberState, Partnership, PartnershipState, Role, WorkspaceError,
};

use super::holdings::{Digests, HeldGrant, Holdings, StoredItem};

fn store_error(path: &Path, message: impl Into<String>) -> WorkspaceError {
    WorkspaceError::Store {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Reads everything the check needs from the database at `path`.
///
/// A sealed store is read with its key (looked for at `key`, as every
/// command does); a store from before sealing is read as it is.
pub fn read(path: &Path, key: &KeyLocation) -> std::result::Result<Holdings, WorkspaceError> {
    if !path.is_file() {
        return Err(store_error(
            path,
            "no workspace database here: expected a file created by `vaultferry workspace init --db PATH --seed FILE`",
        ));
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| store_error(path, format!("cannot open the database: {e}")))?;
    // One read transaction: a consistent view even while a run writes.
    conn.execute_batch("BEGIN")
        .map_err(|e| store_error(path, format!("cannot read the database: {e}")))?;
    let key = store_key(&conn, path, key)?;
    let h = read_all(&conn, &key).map_err(|e| store_error(path, format!("cannot read the workspace: {e}")))?;
    let _ = conn.execute_batch("COMMIT");
    Ok(h)
}

type Result<T> = std::result::Result<T, rusqlite::Error>;

fn bad(col: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        col,
        rusqlite::types::Type::Text,
        format!("unexpected {what} in the store").into(),
    )
}

/// The key the store's values open with: checked against the store's
/// check value; a key of nobody's (never used) for a store not sealed yet.
fn store_key(conn: &Connection, path: &Path, at: &KeyLocation) -> std::result::Result<WorkspaceKey, WorkspaceError> {
    let sealed_with = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'workspace_key'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(|e| store_error(path, format!("cannot read the database: {e}")))?;
    let check = if sealed_with == 1 {
        sealed::check_value(conn).map_err(|e| store_error(path, format!("cannot read the database: {e}")))?
    } else {
        None
    };
    let key = WorkspaceKey::find(path, at).map_err(|e| store_error(path, e.0))?;
    match (check, key) {
        (Some(check), Some(key)) if sealed::key_opens(&key, &check) => Ok(key),
        (Some(_), Some(key)) => Err(store_error(path, sealed::wrong_key(&key))),
        (Some(_), None) => Err(store_error(path, sealed::no_key(path))),
        (None, key) => Ok(key.unwrap_or_else(|| WorkspaceKey::generate(crate::workspace::key::KeyOrigin::Env))),
    }
}

fn read_all(conn: &Connection, key: &WorkspaceKey) -> Result<Holdings> {
    let mut h = Holdings {
        workspace: conn.query_row("SELECT name FROM workspace", [], |r| r.get(0))?,
        domains: column(conn, "SELECT lower(domain) FROM domains")?,
        ..Holdings::default()
    };
    h.members = rows(
        conn,
        "SELECT id, email, name, role, directory_managed, state FROM members",
        |r| {
            Ok(Member {
                id: r.get(0)?,
                email: r.get::<_, String>(1)?.trim().to_lowercase(),
                name: r.get(2)?,
                role: role(r, 3)?,
                directory_managed: r.get(4)?,
                state: state(r, 5)?,
            })
        },
    )?;
    for (team, member) in rows(conn, "SELECT team_id, member_id FROM team_members", |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })? {
        h.teams.entry(team).or_default().push(member);
    }
    for (partner, member, kind) in rows(conn, "SELECT partner_id, member_id, kind FROM partner_members", |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
    })? {
        h.partners.entry(partner).or_default().push(member);
        if kind == "guest_admin" {
            h.guest_admins.insert(member);
        }
    }
    h.partnerships = rows(
        conn,
        "SELECT id, partner_workspace_id, name, state FROM partnerships",
        |r| {
            Ok(Partnership {
                id: r.get(0)?,
                partner_workspace_id: r.get(1)?,
                name: r.get(2)?,
                domains: Vec::new(),
                state: match r.get_ref(3)?.as_str()? {
                    "requested" => PartnershipState::Requested,
                    "approved" => PartnershipState::Approved,
                    "accepted" => PartnershipState::Accepted,
                    "declined" => PartnershipState::Declined,
                    _ => return Err(bad(3, "partnership state")),
                },
            })
        },
    )?;
    for (id, domain) in rows(
        conn,
        "SELECT partnership_id, lower(domain) FROM partnership_domains",
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
    )? {
        if let Some(p) = h.partnerships.iter_mut().find(|p| p.id == id) {
            p.domains.push(domain);
        }
    }
    for (id, parent) in rows(conn, "SELECT id, parent_id FROM collections", |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
    })? {
        h.collections.insert(id, parent);
    }
    h.grants = rows(
        conn,
        "SELECT target_kind, target_id, grantee_kind, grantee_id, role FROM grants",
        |r| {
            let id: i64 = r.get(1)?;
            let target = match r.get_ref(0)?.as_str()? {
                "collection" => GrantTarget::Collection(id),
                "account" => GrantTarget::Account(id),
                "secret" => GrantTarget::Secret(id),
                _ => return Err(bad(0, "grant target")),
            };
            let gid: i64 = r.get(3)?;
            let grantee = match r.get_ref(2)?.as_str()? {
                "member" => Grantee::Member(gid),
                "team" => Grantee::Team(gid),
                "partner" => Grantee::Partner(gid),
                "partnership" => Grantee::Partnership(gid),
                _ => return Err(bad(2, "grantee")),
            };
            let role = match r.get_ref(4)?.as_str()? {
                "owner" => ItemRole::Owner,
                "manager" => ItemRole::Manager,
                "collaborator" => ItemRole::Collaborator,
                _ => return Err(bad(4, "role")),
            };
            Ok(HeldGrant { target, grantee, role })
        },
    )?;
    let mut attachments = read_attachments(conn, key)?;
    let mut stmt = conn.prepare(
        "SELECT id, collection_id, name, url, urls, username, password, totp, notes, fields, import_key
         FROM accounts WHERE import_key IS NOT NULL",
    )?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let id: i64 = r.get(0)?;
        let mut d = Digests::default();
        for col in [2, 3, 5] {
            d.text(text(r, col)?);
        }
        for (col, column) in [
            (6, Column::AccountPassword),
            (7, Column::AccountTotp),
            (8, Column::AccountNotes),
        ] {
            let value = sealed::open_text(key, column, id, col, r.get_ref(col)?)?;
            d.text(value.as_ref().map(|v| v.as_bytes()));
        }
        strings(r, 4, &mut d)?;
        fields(r, 9, &mut d, key, Column::AccountFields, id)?;
        if let Some(files) = attachments.accounts.remove(&id) {
            d.extend(files);
        }
        h.items.insert(
            r.get(10)?,
            StoredItem {
                target: GrantTarget::Account(id),
                collection: r.get(1)?,
                name: r.get(2)?,
                held: d.held(),
            },
        );
    }
    let mut stmt = conn.prepare(
        "SELECT id, collection_id, title, notes, fields, import_key FROM secrets WHERE import_key IS NOT NULL",
    )?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let id: i64 = r.get(0)?;
        let mut d = Digests::default();
        d.text(text(r, 2)?);
        let notes = sealed::open_text(key, Column::SecretNotes, id, 3, r.get_ref(3)?)?;
        d.text(notes.as_ref().map(|v| v.as_bytes()));
        fields(r, 4, &mut d, key, Column::SecretFields, id)?;
        if let Some(files) = attachments.secrets.remove(&id) {
            d.extend(files);
        }
        h.items.insert(
            r.get(5)?,
            StoredItem {
                target: GrantTarget::Secret(id),
                collection: r.get(1)?,
                name: r.get(2)?,
                held: d.held(),
            },
        );
    }
    read_revocations(conn, &mut h);
    Ok(h)
}

#[derive(Default)]
struct Attachments {
    accounts: rustc_hash::FxHashMap<i64, Vec<super::digest::Digest>>,
    secrets: rustc_hash::FxHashMap<i64, Vec<super::digest::Digest>>,
}

fn read_attachments(conn: &Connection, key: &WorkspaceKey) -> Result<Attachments> {
    let mut out = Attachments::default();
    // The stored bytes are hashed here, a piece at a time, not taken from
    // the digest column the importer wrote: what is checked is that the
    // bytes are in the store, and a 4 GB document never sits in memory.
    let mut stmt = conn
        .prepare("SELECT id, account_id, secret_id, name, content IS NULL, size, length(content) FROM attachments")?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let name = r.get_ref(3)?.as_str()?;
        let content = if r.get::<_, bool>(4)? {
            None
        } else {
            Some(blob_sha256(conn, key, r.get(0)?, r.get(5)?, r.get(6)?)?)
        };
        let digest = super::digest::attachment(name, content.as_ref());
        match (r.get::<_, Option<i64>>(1)?, r.get::<_, Option<i64>>(2)?) {
            (Some(a), _) => out.accounts.entry(a).or_default().push(digest),
            (None, Some(s)) => out.secrets.entry(s).or_default().push(digest),
            (None, None) => {}
        }
    }
    Ok(out)
}

fn blob_sha256(conn: &Connection, key: &WorkspaceKey, row: i64, size: i64, stored: i64) -> Result<[u8; 32]> {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    match conn.blob_open(rusqlite::DatabaseName::Main, "attachments", "content", row, true) {
        Ok(blob) => {
            let size = u64::try_from(size).unwrap_or(0);
            let stored = u64::try_from(stored).unwrap_or(0);
            sealed::open_attachment(key, row, size, stored, blob, |piece| h.update(piece))
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        }
        // Content written as text by an older build: hashed as its bytes.
        Err(_) => {
            let text: Option<zeroize::Zeroizing<String>> = conn
                .query_row("SELECT content FROM attachments WHERE id = ?1", [row], |r| {
                    r.get::<_, String>(0).map(zeroize::Zeroizing::new)
                })
                .ok();
            if let Some(t) = text {
                h.update(t.as_bytes());
            }
        }
    }
    Ok(h.finalize().into())
}

/// What admins removed after an import (schema V7 and V9). A database
/// older than those has no such record, and nothing is explained by it.
fn read_revocations(conn: &Connection, h: &mut Holdings) {
    let removed_keys = column(conn, "SELECT import_key FROM import_removed").unwrap_or_default();
    for key in removed_keys {
        if key.starts_with("account:") || key.starts_with("secret:") {
            h.removed_items.insert(key);
        } else if let Some(grantee) = key.strip_prefix("grant:").and_then(|k| k.rsplit("->").next()) {
            if let Some(email) = grantee.strip_prefix("member:") {
                h.revoked_people.insert(email.to_owned());
            } else if let Some(team) = grantee.strip_prefix("team:") {
                let members = conn
                    .prepare(
                        "SELECT lower(trim(m.email)) FROM teams t JOIN team_members tm ON tm.team_id = t.id
                         JOIN members m ON m.id = tm.member_id WHERE lower(t.name) = ?1",
                    )
                    .and_then(|mut stmt| {
                        stmt.query_map([team], |r| r.get::<_, String>(0))?
                            .collect::<Result<Vec<_>>>()
                    });
                h.revoked_people.extend(members.unwrap_or_default());
            }
        }
    }
    let left = column(
        conn,
        "SELECT lower(trim(m.email)) FROM import_ledger_members l JOIN members m ON m.id = l.member_id
         WHERE l.removed IS NOT NULL",
    );
    h.revoked_people.extend(left.unwrap_or_default());
}

/// A text column as borrowed bytes (no owned copy of a secret).
fn text<'r>(r: &'r Row<'_>, col: usize) -> Result<Option<&'r [u8]>> {
    match r.get_ref(col)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        v => Ok(Some(v.as_str()?.as_bytes())),
    }
}

fn strings(r: &Row<'_>, col: usize, d: &mut Digests) -> Result<()> {
    let json = r.get_ref(col)?.as_str()?;
    if json == "[]" {
        return Ok(());
    }
    let list: Vec<String> = serde_json::from_str(json).map_err(|_| bad(col, "JSON list"))?;
    for s in &list {
        d.text(Some(s.as_bytes()));
    }
    Ok(())
}

/// A field as the `fields` column stores it; only its value matters here.
#[derive(Deserialize)]
struct StoredField {
    value: String,
}

/// The values of a `fields` column. The JSON holds secrets: each value is
/// moved into a [`Secret`] (zeroed when dropped) as soon as it is parsed,
/// and a parse error, which would quote the input, is replaced.
fn fields(r: &Row<'_>, col: usize, d: &mut Digests, key: &WorkspaceKey, column: Column, id: i64) -> Result<()> {
    let json = r.get_ref(col)?.as_str()?;
    if json == "[]" {
        return Ok(());
    }
    let json = sealed::open_fields(key, column, id, col, json)?;
    let stored: Vec<StoredField> = serde_json::from_str(&json).map_err(|_| bad(col, "fields JSON"))?;
    for f in stored {
        let value = Secret::text(f.value);
        d.text(Some(value.expose_bytes()));
    }
    Ok(())
}

fn role(r: &Row<'_>, col: usize) -> Result<Role> {
    Ok(match r.get_ref(col)?.as_str()? {
        "owner" => Role::Owner,
        "super_admin" => Role::SuperAdmin,
        "admin" => Role::Admin,
        "user" => Role::User,
        "login_only" => Role::LoginOnly,
        "guest" => Role::Guest,
        _ => return Err(bad(col, "member role")),
    })
}

fn state(r: &Row<'_>, col: usize) -> Result<MemberState> {
    Ok(match r.get_ref(col)?.as_str()? {
        "invited" => MemberState::Invited,
        "active" => MemberState::Active,
        "suspended" => MemberState::Suspended,
        "removed" => MemberState::Removed,
        _ => return Err(bad(col, "member state")),
    })
}

fn rows<T>(conn: &Connection, sql: &str, f: impl FnMut(&Row<'_>) -> Result<T>) -> Result<Vec<T>> {
    let mut stmt = conn.prepare(sql)?;
    let out = stmt.query_map([], f)?.collect();
    out
}

fn column(conn: &Connection, sql: &str) -> Result<Vec<String>> {
    rows(conn, sql, |r| r.get(0))
}
