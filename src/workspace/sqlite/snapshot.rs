//! Reads the whole workspace into a [`Snapshot`] and turns stored text back
//! into the model's enums.

use std::collections::HashMap;

use rusqlite::types::Type;
use rusqlite::{Connection, Result, Row};
use serde::Deserialize;

use super::sealed::{self, Column};
use crate::model::{Attachment, Field, FieldKind, FieldValue};
use crate::secret::Secret;
use crate::workspace::key::WorkspaceKey;
use crate::workspace::read_ahead::{IndexedRows, ReadAhead};
use crate::workspace::seed::{member_state_from_name, partnership_state_from_name, role_from_name};
use crate::workspace::{
    Account, Collection, Grant, GrantTarget, Grantee, GuestInvitation, ImportKey, IntactItem, InvitationState,
    ItemImport, ItemRole, LocalPartner, Member, Partnership, PasswordPolicy, PlannedHashes, RemovedSinceImport,
    SecretItem, SecretType, Snapshot, Team, WorkspaceInfo,
};

/// A stored value the schema's CHECKs should have kept out: reported like
/// any conversion failure, naming the column, never the value.
fn bad(col: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, Type::Text, format!("unexpected {what} in the database").into())
}

pub(super) fn parse<T>(row: &Row<'_>, col: usize, what: &str, f: impl Fn(&str) -> Option<T>) -> Result<T> {
    let s: String = row.get(col)?;
    f(&s).ok_or_else(|| bad(col, what))
}

pub fn item_role_from_name(name: &str) -> Option<ItemRole> {
    Some(match name {
        "owner" => ItemRole::Owner,
        "manager" => ItemRole::Manager,
        "collaborator" => ItemRole::Collaborator,
        _ => return None,
    })
}

pub fn secret_type_from_name(name: &str) -> Option<SecretType> {
    Some(match name {
        "secret" => SecretType::Secret,
        "wifi" => SecretType::Wifi,
        "ssh_key" => SecretType::SshKey,
        "database" => SecretType::Database,
        "server" => SecretType::Server,
        "software_license" => SecretType::SoftwareLicense,
        "custom" => SecretType::Custom,
        _ => return None,
    })
}

fn invitation_state_from_name(name: &str) -> Option<InvitationState> {
    Some(match name {
        "sent" => InvitationState::Sent,
        "accepted" => InvitationState::Accepted,
        "expired" => InvitationState::Expired,
        _ => return None,
    })
}

/// Every field kind, to read kinds back by their serialized name
/// (`FieldKind` only implements `Serialize`).
const FIELD_KINDS: [FieldKind; 19] = [
    FieldKind::Text,
    FieldKind::Multiline,
    FieldKind::Concealed,
    FieldKind::Email,
    FieldKind::Phone,
    FieldKind::Url,
    FieldKind::Date,
    FieldKind::MonthYear,
    FieldKind::Totp,
    FieldKind::CardNumber,
    FieldKind::CardType,
    FieldKind::Address,
    FieldKind::Menu,
    FieldKind::Reference,
    FieldKind::PrivateKey,
    FieldKind::PublicKey,
    FieldKind::Fingerprint,
    FieldKind::KeyType,
    FieldKind::File,
];

/// Fails to compile when a field kind is added, so [`FIELD_KINDS`] is
/// updated with it.
#[allow(dead_code)]
fn field_kinds_complete(k: FieldKind) {
    match k {
        FieldKind::Text
        | FieldKind::Multiline
        | FieldKind::Concealed
        | FieldKind::Email
        | FieldKind::Phone
        | FieldKind::Url
        | FieldKind::Date
        | FieldKind::MonthYear
        | FieldKind::Totp
        | FieldKind::CardNumber
        | FieldKind::CardType
        | FieldKind::Address
        | FieldKind::Menu
        | FieldKind::Reference
        | FieldKind::PrivateKey
        | FieldKind::PublicKey
        | FieldKind::Fingerprint
        | FieldKind::KeyType
        | FieldKind::File => {}
    }
}

/// Runs for every stored field of a snapshot (millions in a large
/// workspace), so the serialized names are computed once.
pub fn field_kind_from_name(name: &str) -> Option<FieldKind> {
    static NAMES: std::sync::OnceLock<Vec<(String, FieldKind)>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            FIELD_KINDS
                .into_iter()
                .filter_map(|k| match serde_json::to_value(k) {
                    Ok(serde_json::Value::String(s)) => Some((s, k)),
                    _ => None,
                })
                .collect()
        })
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, k)| *k)
}

/// A field as stored in the `fields` JSON column: what `Field` serializes to
/// inside `secret::reveal`.
#[derive(Deserialize)]
struct StoredField {
    label: String,
    value: String,
    #[serde(default)]
    concealed: bool,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    group: Option<String>,
}

/// A JSON list column as text, or `None` for the empty list most items
/// store (the schema's default): a million of them are read per snapshot,
/// and skipping the parse (and the owned copy) for `[]` is most of their cost.
fn json_list<'r>(row: &'r Row<'_>, col: usize) -> Result<Option<&'r str>> {
    let json = row.get_ref(col)?.as_str().map_err(|_| bad(col, "JSON list"))?;
    Ok(if json == "[]" { None } else { Some(json) })
}

/// Reads a `fields` column. The JSON holds secret values, so parse errors
/// (which quote input) are replaced by a fixed message.
fn fields(row: &Row<'_>, col: usize, key: &WorkspaceKey, column: Column, id: i64) -> Result<Vec<Field>> {
    let Some(json) = json_list(row, col)? else {
        return Ok(Vec::new());
    };
    let json = sealed::open_fields(key, column, id, col, json)?;
    let stored: Vec<StoredField> = serde_json::from_str(&json).map_err(|_| bad(col, "fields JSON"))?;
    Ok(stored
        .into_iter()
        .map(|f| Field {
            label: f.label,
            value: if f.concealed {
                FieldValue::Concealed(Secret::text(f.value))
            } else {
                FieldValue::Plain(f.value)
            },
            kind: f.kind.as_deref().and_then(field_kind_from_name).unwrap_or_default(),
            group: f.group,
        })
        .collect())
}

fn strings(row: &Row<'_>, col: usize) -> Result<Vec<String>> {
    match json_list(row, col)? {
        None => Ok(Vec::new()),
        Some(json) => serde_json::from_str(json).map_err(|_| bad(col, "JSON list")),
    }
}

fn import_key(row: &Row<'_>, col: usize) -> Result<Option<ImportKey>> {
    Ok(row.get::<_, Option<String>>(col)?.map(ImportKey::new))
}

/// Members of a many-to-many table, grouped by the first column.
fn grouped(conn: &Connection, sql: &str) -> Result<HashMap<i64, Vec<i64>>> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (k, v) = row?;
        out.entry(k).or_default().push(v);
    }
    Ok(out)
}

fn grouped_text(conn: &Connection, sql: &str) -> Result<HashMap<i64, Vec<String>>> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (k, v) = row?;
        out.entry(k).or_default().push(v);
    }
    Ok(out)
}

/// Attachments by owner id, for accounts (`account_id`) or secrets.
fn attachments(conn: &Connection, key: &WorkspaceKey, owner: &str) -> Result<HashMap<i64, Vec<Attachment>>> {
    let sql = format!(
        "SELECT {owner}, name, size, CASE WHEN content_sha256 IS NULL THEN content END, source_id, content_sha256, id
         FROM attachments WHERE {owner} IS NOT NULL ORDER BY id"
    );
    let mut out: HashMap<i64, Vec<Attachment>> = HashMap::new();
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            Attachment {
                name: r.get(1)?,
                size: r.get::<_, i64>(2)?.max(0) as u64,
                // Rows with a digest are compared by it: their bytes stay
                // in the store.
                content: match r.get_ref(3)? {
                    rusqlite::types::ValueRef::Null => None,
                    stored => {
                        let bytes = stored.as_bytes()?;
                        Some(open_bytes(key, r.get(6)?, r.get(2)?, bytes)?)
                    }
                },
                source_id: r.get(4)?,
                digest: r.get::<_, Option<String>>(5)?.and_then(|h| {
                    let mut d = [0u8; 32];
                    hex::decode_to_slice(h, &mut d).ok().map(|()| d)
                }),
                origin: None,
            },
        ))
    })?;
    for row in rows {
        let (k, v) = row?;
        out.entry(k).or_default().push(v);
    }
    Ok(out)
}

fn all<T>(conn: &Connection, sql: &str, f: impl FnMut(&Row<'_>) -> Result<T>) -> Result<Vec<T>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], f)?;
    rows.collect()
}

/// Like [`all`], for the tables that hold a row per item (a million in a
/// large workspace): the Vec is sized from a count first, so it is not
/// regrown and copied some twenty times on the way. Rows `f` maps to `None`
/// are left out; when most will be (`sparse`), the Vec grows as needed.
fn all_counted<T>(
    conn: &Connection,
    sparse: bool,
    count_sql: &str,
    sql: &str,
    mut f: impl FnMut(&Row<'_>) -> Result<Option<T>>,
) -> Result<Vec<T>> {
    let n: i64 = if sparse {
        0
    } else {
        conn.query_row(count_sql, [], |r| r.get(0))?
    };
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        out.extend(f(row)?);
    }
    Ok(out)
}

/// Attachment bytes held in memory, opened.
fn open_bytes(key: &WorkspaceKey, row: i64, size: i64, stored: &[u8]) -> Result<Secret> {
    let size = u64::try_from(size).unwrap_or(0);
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(1 << 30));
    sealed::open_attachment(key, row, size, stored.len() as u64, stored, |piece| {
        out.extend_from_slice(piece)
    })
    .map_err(|e| {
        zeroize::Zeroize::zeroize(&mut out);
        rusqlite::Error::FromSqlConversionFailure(3, Type::Blob, Box::new(e))
    })?;
    Ok(Secret::bytes(out))
}

/// One attachment's bytes, read from the store a piece at a time and
/// opened (`stored` is the length of its `content`).
pub(super) fn attachment_content(
    conn: &Connection,
    key: &WorkspaceKey,
    row: i64,
    size: i64,
    stored: i64,
) -> Result<Secret> {
    let size = u64::try_from(size).unwrap_or(0);
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(1 << 30));
    let opened = match conn.blob_open(rusqlite::DatabaseName::Main, "attachments", "content", row, true) {
        Ok(blob) => sealed::open_attachment(key, row, size, u64::try_from(stored).unwrap_or(0), blob, |piece| {
            out.extend_from_slice(piece)
        }),
        // Text written by an older build: its bytes, as they are.
        Err(_) => {
            let text: zeroize::Zeroizing<Vec<u8>> = conn.query_row(
                "SELECT CAST(content AS BLOB) FROM attachments WHERE id = ?1",
                [row],
                |r| r.get::<_, Vec<u8>>(0).map(zeroize::Zeroizing::new),
            )?;
            out.extend_from_slice(&text);
            Ok(())
        }
    };
    match opened {
        Ok(()) => Ok(Secret::bytes(out)),
        Err(e) => {
            zeroize::Zeroize::zeroize(&mut out);
            Err(rusqlite::Error::FromSqlConversionFailure(0, Type::Blob, Box::new(e)))
        }
    }
}

/// The whole workspace.
pub fn read(conn: &Connection, key: &WorkspaceKey) -> Result<Snapshot> {
    let mut snapshot = read_base(conn)?;
    read_items(conn, key, &mut snapshot, None)?;
    Ok(snapshot)
}

/// Everything but accounts and secrets (see [`read_items`]).
pub fn read_base(conn: &Connection) -> Result<Snapshot> {
    let domains = all(conn, "SELECT domain FROM domains ORDER BY domain", |r| {
        r.get::<_, String>(0)
    })?;
    let workspace = conn.query_row(
        "SELECT id, name, pw_min_length, pw_require_uppercase, pw_require_lowercase, pw_require_digit,
                pw_require_symbol, guest_invitation_days FROM workspace",
        [],
        |r| {
            Ok(WorkspaceInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                domains: domains.iter().map(|d| d.to_lowercase()).collect(),
                password_policy: PasswordPolicy {
                    min_length: r.get(2)?,
                    require_uppercase: r.get(3)?,
                    require_lowercase: r.get(4)?,
                    require_digit: r.get(5)?,
                    require_symbol: r.get(6)?,
                    guest_invitation_days: r.get(7)?,
                },
            })
        },
    )?;

    let members = all(
        conn,
        "SELECT id, email, name, role, directory_managed, state FROM members ORDER BY id",
        |r| {
            Ok(Member {
                id: r.get(0)?,
                email: r.get::<_, String>(1)?.trim().to_lowercase(),
                name: r.get(2)?,
                role: parse(r, 3, "role", role_from_name)?,
                directory_managed: r.get(4)?,
                state: parse(r, 5, "member state", member_state_from_name)?,
            })
        },
    )?;

    let mut team_members = grouped(
        conn,
        "SELECT team_id, member_id FROM team_members ORDER BY team_id, member_id",
    )?;
    let teams = all(conn, "SELECT id, name, import_key FROM teams ORDER BY id", |r| {
        let id: i64 = r.get(0)?;
        Ok(Team {
            id,
            name: r.get(1)?,
            members: team_members.remove(&id).unwrap_or_default(),
            import_key: import_key(r, 2)?,
        })
    })?;

    let mut partner_domains = grouped_text(
        conn,
        "SELECT partner_id, lower(domain) FROM partner_domains ORDER BY partner_id, domain",
    )?;
    let mut admins = grouped(
        conn,
        "SELECT partner_id, member_id FROM partner_members WHERE kind = 'guest_admin' ORDER BY partner_id, member_id",
    )?;
    let mut users = grouped(
        conn,
        "SELECT partner_id, member_id FROM partner_members WHERE kind = 'guest_user' ORDER BY partner_id, member_id",
    )?;
    let partners = all(conn, "SELECT id, name FROM local_partners ORDER BY id", |r| {
        let id: i64 = r.get(0)?;
        Ok(LocalPartner {
            id,
            name: r.get(1)?,
            domains: partner_domains.remove(&id).unwrap_or_default(),
            guest_admins: admins.remove(&id).unwrap_or_default(),
            guest_users: users.remove(&id).unwrap_or_default(),
        })
    })?;

    let mut partnership_domains = grouped_text(
        conn,
        "SELECT partnership_id, lower(domain) FROM partnership_domains ORDER BY partnership_id, domain",
    )?;
    let partnerships = all(
        conn,
        "SELECT id, partner_workspace_id, name, state FROM partnerships ORDER BY id",
        |r| {
            let id: i64 = r.get(0)?;
            Ok(Partnership {
                id,
                partner_workspace_id: r.get(1)?,
                name: r.get(2)?,
                domains: partnership_domains.remove(&id).unwrap_or_default(),
                state: parse(r, 3, "partnership state", partnership_state_from_name)?,
            })
        },
    )?;

    let collections = all(
        conn,
        "SELECT id, name, parent_id, import_key FROM collections ORDER BY id",
        |r| {
            Ok(Collection {
                id: r.get(0)?,
                name: r.get(1)?,
                parent: r.get(2)?,
                import_key: import_key(r, 3)?,
            })
        },
    )?;

    let grants = all(
        conn,
        "SELECT id, target_kind, target_id, grantee_kind, grantee_id, role, import_key FROM grants ORDER BY id",
        |r| {
            let target_id: i64 = r.get(2)?;
            let grantee_id: i64 = r.get(4)?;
            Ok(Grant {
                id: r.get(0)?,
                target: parse(r, 1, "grant target", |k| match k {
                    "collection" => Some(GrantTarget::Collection(target_id)),
                    "account" => Some(GrantTarget::Account(target_id)),
                    "secret" => Some(GrantTarget::Secret(target_id)),
                    _ => None,
                })?,
                grantee: parse(r, 3, "grantee", |k| match k {
                    "member" => Some(Grantee::Member(grantee_id)),
                    "team" => Some(Grantee::Team(grantee_id)),
                    "partner" => Some(Grantee::Partner(grantee_id)),
                    "partnership" => Some(Grantee::Partnership(grantee_id)),
                    _ => None,
                })?,
                role: parse(r, 5, "item role", item_role_from_name)?,
                import_key: import_key(r, 6)?,
            })
        },
    )?;

    let invitations = all(
        conn,
        "SELECT i.id, i.member_id, m.email, i.username, i.partner_id, i.state, i.import_key
         FROM guest_invitations i JOIN members m ON m.id = i.member_id ORDER BY i.id",
        |r| {
            Ok(GuestInvitation {
                id: r.get(0)?,
                member: r.get(1)?,
                email: r.get::<_, String>(2)?.trim().to_lowercase(),
                username: r.get(3)?,
                partner: r.get(4)?,
                state: parse(r, 5, "invitation state", invitation_state_from_name)?,
                import_key: import_key(r, 6)?,
            })
        },
    )?;

    let removed = RemovedSinceImport {
        keys: all(conn, "SELECT import_key FROM import_removed", |r| {
            Ok(ImportKey::new(r.get::<_, String>(0)?))
        })?
        .into_iter()
        .collect(),
        team_members: all(
            conn,
            "SELECT team_id, member_id FROM import_ledger_members WHERE removed IS NOT NULL",
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .into_iter()
        .collect(),
    };

    Ok(Snapshot {
        workspace,
        members,
        teams,
        partners,
        partnerships,
        collections,
        accounts: Vec::new(),
        secrets: Vec::new(),
        intact_accounts: Vec::new(),
        intact_secrets: Vec::new(),
        grants,
        invitations,
        removed,
    })
}

/// The row as an [`IntactItem`] when it may be left without content: the
/// store vouches it holds what the importer wrote (`imported_intact`,
/// schema V4), and that content hashes as the plan's does for its key.
/// Columns: id, import key, imported hash, intact flag.
fn intact(planned: Option<&PlannedHashes<'_>>, row: &Row<'_>, first: usize) -> Result<Option<IntactItem>> {
    let Some(planned) = planned else {
        return Ok(None);
    };
    if !row.get::<_, bool>(first + 3)? {
        return Ok(None);
    }
    let key = row.get_ref(first + 1)?.as_str_or_null()?;
    let hash = row.get_ref(first + 2)?.as_str_or_null()?;
    let (Some(key), Some(hash)) = (key, hash) else {
        return Ok(None);
    };
    Ok(match planned.get(key) {
        Some((planned_key, planned_hash)) if *planned_hash == hash => Some(IntactItem {
            id: row.get(first)?,
            import_key: (*planned_key).clone(),
        }),
        _ => None,
    })
}

const ACCOUNT_COLUMNS: &str = "SELECT id, import_key, imported_hash, imported_intact, collection_id, name, url, urls,
        username, password, totp, notes, fields, tags FROM accounts";
const SECRET_COLUMNS: &str = "SELECT id, import_key, imported_hash, imported_intact, collection_id, type, title, notes,
        fields, tags FROM secrets";

/// An account row of [`ACCOUNT_COLUMNS`], whole.
fn account(r: &Row<'_>, key: &WorkspaceKey, files: &mut HashMap<i64, Vec<Attachment>>) -> Result<Account> {
    let id: i64 = r.get(0)?;
    let text = |idx: usize, column: Column| sealed::open_text(key, column, id, idx, r.get_ref(idx)?);
    Ok(Account {
        id,
        collection: r.get(4)?,
        name: r.get(5)?,
        url: r.get(6)?,
        urls: strings(r, 7)?,
        username: r.get(8)?,
        password: text(9, Column::AccountPassword)?.map(secret_text),
        totp: text(10, Column::AccountTotp)?.map(secret_text),
        notes: text(11, Column::AccountNotes)?.map(plain_text),
        fields: fields(r, 12, key, Column::AccountFields, id)?,
        tags: strings(r, 13)?,
        attachments: files.remove(&id).unwrap_or_default(),
        import: ItemImport {
            import_key: import_key(r, 1)?,
            imported_hash: r.get(2)?,
            withheld: None,
        },
    })
}

/// A secret row of [`SECRET_COLUMNS`], whole.
fn secret(r: &Row<'_>, key: &WorkspaceKey, files: &mut HashMap<i64, Vec<Attachment>>) -> Result<SecretItem> {
    let id: i64 = r.get(0)?;
    Ok(SecretItem {
        id,
        collection: r.get(4)?,
        secret_type: parse(r, 5, "secret type", secret_type_from_name)?,
        title: r.get(6)?,
        notes: sealed::open_text(key, Column::SecretNotes, id, 7, r.get_ref(7)?)?.map(plain_text),
        fields: fields(r, 8, key, Column::SecretFields, id)?,
        tags: strings(r, 9)?,
        attachments: files.remove(&id).unwrap_or_default(),
        import: ItemImport {
            import_key: import_key(r, 1)?,
            imported_hash: r.get(2)?,
            withheld: None,
        },
    })
}

/// An opened value moved into the secret type (no copy left behind).
fn secret_text(mut value: zeroize::Zeroizing<String>) -> Secret {
    Secret::text(std::mem::take(&mut *value))
}

/// Notes are plain text in the model (sealed in the store all the same).
fn plain_text(mut value: zeroize::Zeroizing<String>) -> String {
    std::mem::take(&mut *value)
}

/// Reads the accounts and secrets into `snapshot`; with `planned`, the
/// intact ones as [`IntactItem`]s (their content columns are never
/// converted: on a re-run of a million unchanged items that was most of
/// the time spent reading the workspace).
pub fn read_items(
    conn: &Connection,
    key: &WorkspaceKey,
    snapshot: &mut Snapshot,
    planned: Option<&PlannedHashes<'_>>,
) -> Result<()> {
    let mut account_files = attachments(conn, key, "account_id")?;
    let mut intact_accounts = Vec::new();
    let accounts = all_counted(
        conn,
        planned.is_some(),
        "SELECT count(*) FROM accounts",
        &format!("{ACCOUNT_COLUMNS} ORDER BY id"),
        |r| {
            if let Some(item) = intact(planned, r, 0)? {
                intact_accounts.push(item);
                return Ok(None);
            }
            account(r, key, &mut account_files).map(Some)
        },
    )?;

    let mut secret_files = attachments(conn, key, "secret_id")?;
    let mut intact_secrets = Vec::new();
    let secrets = all_counted(
        conn,
        planned.is_some(),
        "SELECT count(*) FROM secrets",
        &format!("{SECRET_COLUMNS} ORDER BY id"),
        |r| {
            if let Some(item) = intact(planned, r, 0)? {
                intact_secrets.push(item);
                return Ok(None);
            }
            secret(r, key, &mut secret_files).map(Some)
        },
    )?;

    snapshot.accounts = accounts;
    snapshot.secrets = secrets;
    snapshot.intact_accounts = intact_accounts;
    snapshot.intact_secrets = intact_secrets;
    Ok(())
}

/// Every account's and secret's id, import key, stored hash and intact
/// flag, and nothing else: what a run reads while it maps the export
/// (see [`crate::workspace::read_ahead`]).
pub fn read_ahead(conn: &Connection) -> Result<ReadAhead> {
    let mut out = ReadAhead::default();
    for (table, rows) in [("accounts", &mut out.accounts), ("secrets", &mut out.secrets)] {
        // The largest id stands for the number of rows.
        let max: i64 = conn.query_row(&format!("SELECT coalesce(max(id), 0) FROM {table}"), [], |r| r.get(0))?;
        *rows = IndexedRows::with_capacity(usize::try_from(max).unwrap_or(0));
        let mut stmt = conn.prepare(&format!(
            "SELECT id, import_key, imported_hash, imported_intact FROM {table} ORDER BY id"
        ))?;
        let mut found = stmt.query([])?;
        while let Some(r) = found.next()? {
            rows.push(
                r.get(0)?,
                r.get_ref(1)?.as_str_or_null()?,
                r.get_ref(2)?.as_str_or_null()?,
                r.get(3)?,
            );
        }
    }
    Ok(out)
}

/// The rows of `ids` (ascending) of `table` through `sql` (its columns):
/// one lookup each when they are few next to the table's rows (its
/// largest id stands for their number), else one pass over the table
/// picking them out (a lookup costs several rows' worth of a pass).
fn rows_by_id<T>(
    conn: &Connection,
    table: &str,
    sql: &str,
    ids: &[i64],
    mut f: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(out);
    }
    let rows: i64 = conn.query_row(&format!("SELECT coalesce(max(id), 0) FROM {table}"), [], |r| r.get(0))?;
    if i64::try_from(ids.len()).unwrap_or(i64::MAX).saturating_mul(8) < rows {
        let mut stmt = conn.prepare(&format!("{sql} WHERE id = ?1"))?;
        for id in ids {
            let mut rows = stmt.query([id])?;
            if let Some(r) = rows.next()? {
                out.push(f(r)?);
            }
        }
        return Ok(out);
    }
    let mut stmt = conn.prepare(&format!("{sql} ORDER BY id"))?;
    let mut rows = stmt.query([])?;
    let mut wanted = ids.iter().copied().peekable();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        while wanted.next_if(|w| *w < id).is_some() {}
        if wanted.next_if_eq(&id).is_some() {
            out.push(f(r)?);
        }
        if wanted.peek().is_none() {
            break;
        }
    }
    Ok(out)
}

/// The accounts and secrets of these ids (ascending), read whole into
/// `snapshot` (in id order, as [`read_items`] gives them).
pub fn read_items_by_id(
    conn: &Connection,
    key: &WorkspaceKey,
    snapshot: &mut Snapshot,
    accounts: &[i64],
    secrets: &[i64],
) -> Result<()> {
    let mut account_files = if accounts.is_empty() {
        HashMap::new()
    } else {
        attachments(conn, key, "account_id")?
    };
    snapshot.accounts = rows_by_id(conn, "accounts", ACCOUNT_COLUMNS, accounts, |r| {
        account(r, key, &mut account_files)
    })?;
    let mut secret_files = if secrets.is_empty() {
        HashMap::new()
    } else {
        attachments(conn, key, "secret_id")?
    };
    snapshot.secrets = rows_by_id(conn, "secrets", SECRET_COLUMNS, secrets, |r| {
        secret(r, key, &mut secret_files)
    })?;
    Ok(())
}
