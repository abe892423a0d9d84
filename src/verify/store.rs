//! The workspace side read straight from the SQLite store, with queries of
//! its own: not the snapshot the diff reads, so a fault in how a run reads
//! the store cannot hide what the store holds. Opened read-only.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, Row};
use serde::Deserialize;

use crate::secret::Secret;
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
pub fn read(path: &Path) -> std::result::Result<Holdings, WorkspaceError> {
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
    let h = read_all(&conn).map_err(|e| store_error(path, format!("cannot read the workspace: {e}")))?;
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

fn read_all(conn: &Connection) -> Result<Holdings> {
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
    let mut attachments = read_attachments(conn)?;
    let mut stmt = conn.prepare(
        "SELECT id, collection_id, name, url, urls, username, password, totp, notes, fields, import_key
         FROM accounts WHERE import_key IS NOT NULL",
    )?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let id: i64 = r.get(0)?;
        let mut d = Digests::default();
        for col in [2, 3, 5, 6, 7, 8] {
            d.text(text(r, col)?);
        }
        strings(r, 4, &mut d)?;
        fields(r, 9, &mut d)?;
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
        d.text(text(r, 3)?);
        fields(r, 4, &mut d)?;
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
    Ok(h)
}

#[derive(Default)]
struct Attachments {
    accounts: rustc_hash::FxHashMap<i64, Vec<super::digest::Digest>>,
    secrets: rustc_hash::FxHashMap<i64, Vec<super::digest::Digest>>,
}

fn read_attachments(conn: &Connection) -> Result<Attachments> {
    let mut out = Attachments::default();
    let mut stmt = conn.prepare("SELECT account_id, secret_id, name, content FROM attachments")?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let name = r.get_ref(2)?.as_str()?;
        let content = match r.get_ref(3)? {
            rusqlite::types::ValueRef::Null => None,
            v => Some(v.as_blob().or_else(|_| v.as_str().map(str::as_bytes))?),
        };
        let digest = super::digest::attachment(name, content);
        match (r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?) {
            (Some(a), _) => out.accounts.entry(a).or_default().push(digest),
            (None, Some(s)) => out.secrets.entry(s).or_default().push(digest),
            (None, None) => {}
        }
    }
    Ok(out)
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
fn fields(r: &Row<'_>, col: usize, d: &mut Digests) -> Result<()> {
    let json = r.get_ref(col)?.as_str()?;
    if json == "[]" {
        return Ok(());
    }
    let stored: Vec<StoredField> = serde_json::from_str(json).map_err(|_| bad(col, "fields JSON"))?;
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
