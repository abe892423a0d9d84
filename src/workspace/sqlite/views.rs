//! [`MemberViews`] over SQLite: each page is one query that starts from the
//! member's grants (indexed by grantee since the guests' side migration),
//! walks down the collections they reach, and reads items in id order until
//! the page is full. Nothing here reads the snapshot.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::sealed::{self, Column};
use super::snapshot::parse;
use super::write::{audit, create_guest_invitation};
use super::SqliteWorkspace;
use crate::model::{Field, FieldValue};
use crate::secret::Secret;
use crate::workspace::seed::{member_state_from_name, role_from_name};
use crate::workspace::views::{
    acting_role, administers, Access, AccountPassword, ActivityRow, AttachmentInfo, DirectInvite, InvitedGuest,
    ItemDetail, ItemKind, MemberTeam, MemberViews, PageAfter, Paged, PersonRow, SecretValue, VisibleAccount,
    VisibleCollection, VisibleSecret,
};
use crate::workspace::{
    domain_in, ItemRole, Member, MemberState, NewGuestInvitation, PasswordPolicy, Role, WorkspaceError, WorkspaceInfo,
};

/// What member `?1` reaches through collections: `principal` is who they
/// act as (themselves, their teams, their local partner); `held` the
/// strongest role of those principals' grants per collection; `reached` the
/// strongest role per collection, inherited downwards (`UNION` stops a
/// parent cycle, which the schema does not prevent). Grants on single items
/// are not gathered here (an owner of a large personal folder holds one per
/// item): each row looks its own up by the grants' target index. `CROSS
/// JOIN` keeps SQLite starting from the principals (through the grantee
/// index) rather than from every collection grant. Ranks:
/// owner 3, manager 2, collaborator 1.
const REACH: &str = "
WITH RECURSIVE
principal(kind, id) AS MATERIALIZED (
    SELECT 'member', ?1
    UNION ALL SELECT 'team', team_id FROM team_members WHERE member_id = ?1
    UNION ALL SELECT 'partner', partner_id FROM partner_members WHERE member_id = ?1),
held(id, rank) AS MATERIALIZED (
    SELECT g.target_id, max(CASE g.role WHEN 'owner' THEN 3 WHEN 'manager' THEN 2 ELSE 1 END)
    FROM principal p CROSS JOIN grants g
    WHERE g.grantee_kind = p.kind AND g.grantee_id = p.id AND g.target_kind = 'collection'
    GROUP BY g.target_id),
down(id, rank) AS (
    SELECT id, rank FROM held
    UNION SELECT c.id, d.rank FROM down d JOIN collections c ON c.parent_id = d.id),
reached(id, rank) AS MATERIALIZED (SELECT id, max(rank) FROM down GROUP BY id)
";

/// The strongest rank the member's principals hold by a grant on this item
/// itself (NULL when none).
fn own_rank(table_alias: &str, kind: &str) -> String {
    format!(
        "(SELECT max(CASE g.role WHEN 'owner' THEN 3 WHEN 'manager' THEN 2 ELSE 1 END)
          FROM principal p JOIN grants g ON g.target_kind = '{kind}' AND g.target_id = {table_alias}.id
              AND g.grantee_kind = p.kind AND g.grantee_id = p.id)"
    )
}

/// An item's rank: from its collection or from a grant on itself.
fn item_rank(table_alias: &str, kind: &str) -> String {
    format!(
        "max(coalesce((SELECT rank FROM reached r WHERE r.id = {table_alias}.collection_id), 0),
             coalesce({own}, 0))",
        own = own_rank(table_alias, kind)
    )
}

/// Rows the member may see: every row for an admin (`?2`), else the
/// items of collections they reach and the items granted to them.
fn item_filter(table_alias: &str, kind: &str) -> String {
    format!(
        "(?2 OR {table_alias}.collection_id IN (SELECT id FROM reached) OR {own} IS NOT NULL)",
        own = own_rank(table_alias, kind)
    )
}

fn rank_role(rank: i64) -> Option<ItemRole> {
    match rank {
        3 => Some(ItemRole::Owner),
        2 => Some(ItemRole::Manager),
        1 => Some(ItemRole::Collaborator),
        _ => None,
    }
}

/// The role shown and acted with, and how the member sees the row.
fn seen(member: &Member, rank: i64) -> (Option<ItemRole>, Access) {
    match rank_role(rank) {
        Some(role) => (Some(acting_role(member, role)), Access::Shared),
        None => (None, Access::Admin),
    }
}

/// Keyset bounds as SQL parameters: after `after`, one row more than the
/// page so `more` needs no count.
fn bounds(page: PageAfter) -> (i64, i64) {
    (
        // Row ids the store assigns start at 1.
        page.after.unwrap_or(0),
        i64::try_from(page.size).unwrap_or(i64::MAX).saturating_add(1),
    )
}

fn paged<T>(mut rows: Vec<T>, page: PageAfter) -> Paged<T> {
    let more = rows.len() > page.size;
    rows.truncate(page.size);
    Paged { rows, more }
}

fn collect<T>(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, f)?;
    rows.collect()
}

/// Accounts or secrets: the table, the kind its grants name, and the
/// columns a list row reads (as `a`).
struct ItemTable {
    table: &'static str,
    kind: &'static str,
    columns: &'static str,
}

const ACCOUNTS: ItemTable = ItemTable {
    table: "accounts",
    kind: "account",
    columns: "a.id, a.collection_id, a.name, a.url, a.username",
};

const SECRETS: ItemTable = ItemTable {
    table: "secrets",
    kind: "secret",
    columns: "a.id, a.collection_id, a.title, a.type",
};

/// How many ids after the cursor a page walks before, still not full, it
/// turns to [`ItemTable::sparse_page`]: a member who sees fewer than one
/// row in `PROBE / page size` would otherwise walk rows they cannot see.
/// Ids, not rows, so the bound is a range of the primary key (no count).
const PROBE: i64 = 2_000;

/// How often a short walk is widened by the density it saw before the
/// page turns to the member's side, and how many ids one widening may walk
/// at most. The walk costs the ids it passes (about 1/density a row), the
/// member's side what they reach after the cursor (density × rows): each
/// is cheap where the other is not, so the walk goes on only while the
/// page it predicts costs under this bound.
const WIDENINGS: usize = 3;
const WALK_AT_MOST: i64 = 50_000;

impl ItemTable {
    /// One item (`a.id = ?3`) or the visible rows of an id range, read
    /// straight from the table in id order (stopping at the page).
    fn sql(&self, filter: &str) -> String {
        format!(
            "{REACH} SELECT {columns}, {rank} FROM {table} a WHERE {filter} AND {visible} ORDER BY a.id LIMIT ?4",
            columns = self.columns,
            table = self.table,
            rank = item_rank("a", self.kind),
            visible = item_filter("a", self.kind),
        )
    }

    /// The walk: ids after the cursor up to `?5`, keeping the rows the
    /// member sees. The page of whoever sees most rows (an admin, an owner
    /// of much) costs about a page of reads.
    fn dense_page(&self) -> String {
        self.sql("a.id > ?3 AND a.id <= ?5")
    }

    /// A page found from the member's side: the items of the collections
    /// they reach (through the `collection_id` index) and those granted to
    /// them, after the cursor, sorted. Costs what the member reaches after
    /// the cursor, which is few when [`Self::dense_page`] came back short.
    fn sparse_page(&self) -> String {
        format!(
            "{REACH}, candidate(id) AS (
                 SELECT x.id FROM reached r JOIN {table} x ON x.collection_id = r.id WHERE x.id > ?3
                 UNION SELECT g.target_id FROM principal p CROSS JOIN grants g
                     WHERE g.grantee_kind = p.kind AND g.grantee_id = p.id
                         AND g.target_kind = '{kind}' AND g.target_id > ?3)
             SELECT {columns}, {rank} FROM candidate c JOIN {table} a ON a.id = c.id ORDER BY c.id LIMIT ?4",
            columns = self.columns,
            table = self.table,
            kind = self.kind,
            rank = item_rank("a", self.kind),
        )
    }

    /// The visible rows after the cursor: the walk by id, and when it came
    /// back short with rows left beyond it, the member's side.
    fn page<T>(
        &self,
        conn: &Connection,
        member: &Member,
        page: PageAfter,
        probe: i64,
        row: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Paged<T>> {
        let (after, limit) = bounds(page);
        let admin = administers(member);
        // An admin sees every row: the walk fills the page wherever it is.
        let upto = if admin {
            i64::MAX
        } else {
            after.saturating_add(probe.max(limit))
        };
        let mut rows = collect(
            conn,
            &self.dense_page(),
            params![member.id, admin, after, limit, upto],
            &row,
        )?;
        if rows.len() as i64 >= limit || admin {
            return Ok(paged(rows, page));
        }
        let last: Option<i64> = conn.query_row(&format!("SELECT max(id) FROM {}", self.table), [], |r| r.get(0))?;
        let mut walked_to = upto;
        for _ in 0..WIDENINGS {
            if last.map_or(true, |last| last <= walked_to) {
                return Ok(paged(rows, page));
            }
            let found = rows.len() as i64;
            if found == 0 {
                break;
            }
            // The ids the rest of the page should take at the density
            // seen so far, twice over; a member who sees too few rows for
            // that to be cheap is served from their side instead.
            let need = limit - found;
            let window = need.saturating_mul(walked_to - after).saturating_mul(2) / found;
            if window > WALK_AT_MOST {
                break;
            }
            let until = walked_to.saturating_add(window.max(probe));
            rows.extend(collect(
                conn,
                &self.dense_page(),
                params![member.id, admin, walked_to, need, until],
                &row,
            )?);
            walked_to = until;
            if rows.len() as i64 >= limit {
                return Ok(paged(rows, page));
            }
        }
        if last.map_or(true, |last| last <= walked_to) {
            return Ok(paged(rows, page));
        }
        let need = limit - rows.len() as i64;
        rows.extend(collect(
            conn,
            &self.sparse_page(),
            params![member.id, admin, walked_to, need],
            &row,
        )?);
        Ok(paged(rows, page))
    }
}

fn account_row(member: &Member) -> impl Fn(&Row<'_>) -> rusqlite::Result<VisibleAccount> + '_ {
    move |r| {
        let (role, access) = seen(member, r.get(5)?);
        Ok(VisibleAccount {
            id: r.get(0)?,
            collection: r.get(1)?,
            name: r.get(2)?,
            url: r.get(3)?,
            username: r.get(4)?,
            role,
            access,
        })
    }
}

fn secret_row(member: &Member) -> impl Fn(&Row<'_>) -> rusqlite::Result<VisibleSecret> + '_ {
    move |r| {
        let (role, access) = seen(member, r.get(4)?);
        Ok(VisibleSecret {
            id: r.get(0)?,
            collection: r.get(1)?,
            title: r.get(2)?,
            secret_type: r.get(3)?,
            role,
            access,
        })
    }
}

/// The account the member sees under this id, if any.
fn one_account(conn: &Connection, member: &Member, id: i64) -> rusqlite::Result<Option<VisibleAccount>> {
    conn.query_row(
        &ACCOUNTS.sql("a.id = ?3"),
        params![member.id, administers(member), id, 1],
        account_row(member),
    )
    .optional()
}

fn one_secret(conn: &Connection, member: &Member, id: i64) -> rusqlite::Result<Option<VisibleSecret>> {
    conn.query_row(
        &SECRETS.sql("a.id = ?3"),
        params![member.id, administers(member), id, 1],
        secret_row(member),
    )
    .optional()
}

/// Only the labels of a `fields` column: the values in the same JSON are
/// skipped by serde, never copied out.
fn field_labels(json: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Label {
        label: String,
    }
    serde_json::from_str::<Vec<Label>>(json)
        .map(|v| v.into_iter().map(|l| l.label).collect())
        .unwrap_or_default()
}

fn string_list(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn attachments(conn: &Connection, column: &str, id: i64) -> rusqlite::Result<Vec<AttachmentInfo>> {
    collect(
        conn,
        &format!("SELECT id, name, size FROM attachments WHERE {column} = ?1 ORDER BY id"),
        [id],
        |r| {
            Ok(AttachmentInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                size: r.get(2)?,
            })
        },
    )
}

/// A stored `fields` column with its values, for the value route only.
fn fields_with_values(json: &str) -> Vec<Field> {
    #[derive(serde::Deserialize)]
    struct Stored {
        label: String,
        value: String,
        #[serde(default)]
        concealed: bool,
        #[serde(default)]
        group: Option<String>,
    }
    serde_json::from_str::<Vec<Stored>>(json)
        .unwrap_or_default()
        .into_iter()
        .map(|f| Field {
            label: f.label,
            value: if f.concealed {
                FieldValue::Concealed(Secret::text(f.value))
            } else {
                FieldValue::Plain(f.value)
            },
            kind: Default::default(),
            group: f.group,
        })
        .collect()
}

fn member_row(r: &Row<'_>) -> rusqlite::Result<Member> {
    Ok(Member {
        id: r.get(0)?,
        email: r.get::<_, String>(1)?.trim().to_lowercase(),
        name: r.get(2)?,
        role: parse(r, 3, "role", role_from_name)?,
        directory_managed: r.get(4)?,
        state: parse(r, 5, "member state", member_state_from_name)?,
    })
}

/// A refusal the server answers 422 with, from inside a transaction.
fn rule(message: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
        Some(format!("rule: {message}")),
    )
}

fn header(conn: &Connection) -> rusqlite::Result<WorkspaceInfo> {
    let domains = collect(conn, "SELECT lower(domain) FROM domains ORDER BY domain", [], |r| {
        r.get::<_, String>(0)
    })?;
    conn.query_row(
        "SELECT id, name, pw_min_length, pw_require_uppercase, pw_require_lowercase, pw_require_digit,
                pw_require_symbol, guest_invitation_days FROM workspace",
        [],
        |r| {
            Ok(WorkspaceInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                domains: domains.clone(),
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
    )
}

impl MemberViews for SqliteWorkspace {
    fn visible_collections(
        &self,
        member: &Member,
        page: PageAfter,
    ) -> Result<Paged<VisibleCollection>, WorkspaceError> {
        let (after, limit) = bounds(page);
        let sql = format!(
            "{REACH} SELECT c.id, c.name, c.parent_id, coalesce(r.rank, 0) FROM collections c
             LEFT JOIN reached r ON r.id = c.id
             WHERE c.id > ?3 AND (?2 OR r.id IS NOT NULL) ORDER BY c.id LIMIT ?4"
        );
        let conn = self.lock();
        let rows = collect(
            &conn,
            &sql,
            params![member.id, administers(member), after, limit],
            |r| {
                let (role, access) = seen(member, r.get(3)?);
                Ok(VisibleCollection {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    parent: r.get(2)?,
                    role,
                    access,
                })
            },
        )
        .map_err(|e| self.sql_error(e))?;
        Ok(paged(rows, page))
    }

    fn visible_accounts(&self, member: &Member, page: PageAfter) -> Result<Paged<VisibleAccount>, WorkspaceError> {
        let conn = self.lock();
        ACCOUNTS
            .page(&conn, member, page, PROBE, account_row(member))
            .map_err(|e| self.sql_error(e))
    }

    fn visible_secrets(&self, member: &Member, page: PageAfter) -> Result<Paged<VisibleSecret>, WorkspaceError> {
        let conn = self.lock();
        SECRETS
            .page(&conn, member, page, PROBE, secret_row(member))
            .map_err(|e| self.sql_error(e))
    }

    fn account_detail(&self, member: &Member, id: i64) -> Result<Option<ItemDetail<VisibleAccount>>, WorkspaceError> {
        let conn = self.lock();
        let read = || -> rusqlite::Result<Option<ItemDetail<VisibleAccount>>> {
            let Some(item) = one_account(&conn, member, id)? else {
                return Ok(None);
            };
            let key = &self.key;
            let (urls, tags, labels, has_password, has_totp, has_notes) = conn.query_row(
                "SELECT urls, tags, fields, password, totp, notes FROM accounts WHERE id = ?1",
                [id],
                |r| {
                    let filled = |idx: usize, column: Column| -> rusqlite::Result<bool> {
                        Ok(sealed::open_text(key, column, id, idx, r.get_ref(idx)?)?.is_some_and(|v| !v.is_empty()))
                    };
                    Ok((
                        string_list(r.get_ref(0)?.as_str()?),
                        string_list(r.get_ref(1)?.as_str()?),
                        field_labels(&sealed::open_fields(
                            key,
                            Column::AccountFields,
                            id,
                            2,
                            r.get_ref(2)?.as_str()?,
                        )?),
                        filled(3, Column::AccountPassword)?,
                        filled(4, Column::AccountTotp)?,
                        filled(5, Column::AccountNotes)?,
                    ))
                },
            )?;
            Ok(Some(ItemDetail {
                item,
                urls,
                tags,
                field_labels: labels,
                attachments: attachments(&conn, "account_id", id)?,
                has_password,
                has_totp,
                has_notes,
            }))
        };
        read().map_err(|e| self.sql_error(e))
    }

    fn secret_detail(&self, member: &Member, id: i64) -> Result<Option<ItemDetail<VisibleSecret>>, WorkspaceError> {
        let conn = self.lock();
        let read = || -> rusqlite::Result<Option<ItemDetail<VisibleSecret>>> {
            let Some(item) = one_secret(&conn, member, id)? else {
                return Ok(None);
            };
            let key = &self.key;
            let (tags, labels, has_notes) =
                conn.query_row("SELECT tags, fields, notes FROM secrets WHERE id = ?1", [id], |r| {
                    Ok((
                        string_list(r.get_ref(0)?.as_str()?),
                        field_labels(&sealed::open_fields(
                            key,
                            Column::SecretFields,
                            id,
                            1,
                            r.get_ref(1)?.as_str()?,
                        )?),
                        sealed::open_text(key, Column::SecretNotes, id, 2, r.get_ref(2)?)?
                            .is_some_and(|v| !v.is_empty()),
                    ))
                })?;
            Ok(Some(ItemDetail {
                item,
                urls: Vec::new(),
                tags,
                field_labels: labels,
                attachments: attachments(&conn, "secret_id", id)?,
                has_password: false,
                has_totp: false,
                has_notes,
            }))
        };
        read().map_err(|e| self.sql_error(e))
    }

    fn read_account_password(&self, member: &Member, id: i64) -> Result<Option<AccountPassword>, WorkspaceError> {
        self.write(|tx| {
            let held = one_account(tx, member, id)?.and_then(|a| a.role);
            if held.is_none() {
                return Ok(None);
            }
            let key = &self.key;
            let (password, totp) = tx.query_row("SELECT password, totp FROM accounts WHERE id = ?1", [id], |r| {
                let open = |idx: usize, column: Column| -> rusqlite::Result<Option<Secret>> {
                    Ok(sealed::open_text(key, column, id, idx, r.get_ref(idx)?)?.map(|v| Secret::text(v.as_str())))
                };
                Ok((open(0, Column::AccountPassword)?, open(1, Column::AccountTotp)?))
            })?;
            audit(tx, &member.email, "account.password-read", &format!("account {id}"))?;
            Ok(Some(AccountPassword { password, totp }))
        })
    }

    fn read_secret_value(&self, member: &Member, id: i64) -> Result<Option<SecretValue>, WorkspaceError> {
        self.write(|tx| {
            let held = one_secret(tx, member, id)?.and_then(|s| s.role);
            if held.is_none() {
                return Ok(None);
            }
            let key = &self.key;
            let value = tx.query_row("SELECT notes, fields FROM secrets WHERE id = ?1", [id], |r| {
                Ok(SecretValue {
                    notes: sealed::open_text(key, Column::SecretNotes, id, 0, r.get_ref(0)?)?
                        .map(|v| Secret::text(v.as_str())),
                    fields: fields_with_values(&sealed::open_fields(
                        key,
                        Column::SecretFields,
                        id,
                        1,
                        r.get_ref(1)?.as_str()?,
                    )?),
                })
            })?;
            audit(tx, &member.email, "secret.value-read", &format!("secret {id}"))?;
            Ok(Some(value))
        })
    }

    fn open_attachment(
        &self,
        member: &Member,
        item: ItemKind,
        item_id: i64,
        attachment: i64,
    ) -> Result<Option<AttachmentInfo>, WorkspaceError> {
        self.write(|tx| {
            let (held, column) = match item {
                ItemKind::Account => (one_account(tx, member, item_id)?.and_then(|a| a.role), "account_id"),
                ItemKind::Secret => (one_secret(tx, member, item_id)?.and_then(|s| s.role), "secret_id"),
                ItemKind::Collection => (None, ""),
            };
            if held.is_none() {
                return Ok(None);
            }
            let info = tx
                .query_row(
                    &format!(
                        "SELECT id, name, size FROM attachments
                         WHERE id = ?1 AND {column} = ?2 AND content IS NOT NULL"
                    ),
                    params![attachment, item_id],
                    |r| {
                        Ok(AttachmentInfo {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            size: r.get(2)?,
                        })
                    },
                )
                .optional()?;
            if info.is_some() {
                audit(
                    tx,
                    &member.email,
                    &format!("{}.attachment-read", item.name()),
                    &format!("attachment {attachment} of {} {item_id}", item.name()),
                )?;
            }
            Ok(info)
        })
    }

    fn attachment_piece(&self, attachment: i64, offset: usize, len: usize) -> Result<Vec<u8>, WorkspaceError> {
        let conn = self.lock();
        let read = || -> rusqlite::Result<Vec<u8>> {
            let size: i64 = conn.query_row("SELECT size FROM attachments WHERE id = ?1", [attachment], |r| r.get(0))?;
            let blob = conn.blob_open(rusqlite::DatabaseName::Main, "attachments", "content", attachment, true)?;
            let stored = blob.len() as u64;
            let opened = sealed::open_attachment_range(
                &self.key,
                attachment,
                u64::try_from(size).unwrap_or(0),
                stored,
                offset as u64,
                len,
                |buf, at| {
                    blob.read_at_exact(buf, usize::try_from(at).unwrap_or(usize::MAX))
                        .map_err(std::io::Error::other)
                },
            )
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(e)))?;
            Ok(opened.to_vec())
        };
        read().map_err(|e| self.sql_error(e))
    }

    fn member_teams(&self, member: &Member, page: PageAfter) -> Result<Paged<MemberTeam>, WorkspaceError> {
        let (after, limit) = bounds(page);
        let conn = self.lock();
        let rows = collect(
            &conn,
            "SELECT t.id, t.name, (SELECT count(*) FROM team_members x WHERE x.team_id = t.id)
             FROM team_members tm JOIN teams t ON t.id = tm.team_id
             WHERE tm.member_id = ?1 AND t.id > ?2 ORDER BY t.id LIMIT ?3",
            params![member.id, after, limit],
            |r| {
                Ok(MemberTeam {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    members: r.get(2)?,
                })
            },
        )
        .map_err(|e| self.sql_error(e))?;
        Ok(paged(rows, page))
    }

    fn member_activity(&self, member: &Member, page: PageAfter) -> Result<Paged<ActivityRow>, WorkspaceError> {
        let (_, limit) = bounds(page);
        let before = page.after.unwrap_or(i64::MAX);
        let conn = self.lock();
        let rows = collect(
            &conn,
            // The member's own rows: the value reads name them by email, the
            // request rows as `email (key or session)`; emails hold no space,
            // so `[email, email || ' )')` is exactly those.
            "SELECT id, time, action, object FROM audit_log
             WHERE actor >= ?1 AND actor < ?1 || ' )' AND id < ?2
             ORDER BY id DESC LIMIT ?3",
            params![member.email, before, limit],
            |r| {
                Ok(ActivityRow {
                    id: r.get(0)?,
                    time: r.get(1)?,
                    action: r.get(2)?,
                    object: r.get(3)?,
                })
            },
        )
        .map_err(|e| self.sql_error(e))?;
        Ok(paged(rows, page))
    }

    fn people(&self, role: Option<Role>, page: PageAfter) -> Result<Paged<PersonRow>, WorkspaceError> {
        let (after, limit) = bounds(page);
        let conn = self.lock();
        let rows = collect(
            &conn,
            "SELECT m.id, m.email, m.name, m.role, m.directory_managed, m.state, p.name, pm.kind FROM members m
             LEFT JOIN partner_members pm ON pm.member_id = m.id LEFT JOIN local_partners p ON p.id = pm.partner_id
             WHERE m.id > ?1 AND (?2 IS NULL OR m.role = ?2) ORDER BY m.id LIMIT ?3",
            params![after, role.map(Role::name), limit],
            |r| {
                Ok(PersonRow {
                    member: member_row(r)?,
                    partner: r.get(6)?,
                    partner_kind: r.get(7)?,
                })
            },
        )
        .map_err(|e| self.sql_error(e))?;
        Ok(paged(rows, page))
    }

    fn workspace_header(&self) -> Result<WorkspaceInfo, WorkspaceError> {
        let conn = self.lock();
        header(&conn).map_err(|e| self.sql_error(e))
    }

    fn guest_admin_partner(&self, member: i64) -> Result<Option<i64>, WorkspaceError> {
        let conn = self.lock();
        conn.query_row(
            "SELECT partner_id FROM partner_members WHERE member_id = ?1 AND kind = 'guest_admin'",
            [member],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| self.sql_error(e))
    }

    fn invite_guest(&self, invite: &DirectInvite) -> Result<InvitedGuest, WorkspaceError> {
        let email = invite.email.trim().to_lowercase();
        self.write(|tx| {
            let ws = header(tx)?;
            if domain_in(&email, &ws.domains) {
                return Err(rule(format!(
                    "{email} is inside the company's domains ({}): company addresses are members, never guests",
                    ws.domains.join(", ")
                )));
            }
            let existing = tx
                .query_row(
                    "SELECT id, email, name, role, directory_managed, state FROM members WHERE email = ?1",
                    [&email],
                    member_row,
                )
                .optional()?;
            if let Some(m) = existing {
                return Err(rule(if m.directory_managed {
                    format!("{email} is managed by the directory: such members are never made guests")
                } else if m.role == Role::Guest {
                    format!("{email} is a guest of this workspace already")
                } else {
                    format!("{email} is a member with the role {}, not a guest", m.role.name())
                }));
            }
            let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
            let partner: Option<i64> = tx
                .query_row(
                    "SELECT partner_id FROM partner_domains WHERE domain = ?1",
                    [domain],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(theirs) = invite.for_partner {
                if partner != Some(theirs) {
                    return Err(rule(format!(
                        "a local partner's Guest Admin invites only addresses of that partner's domains; {email} is not one"
                    )));
                }
            }
            let mut username = invite.username_base.clone();
            let mut n = 2;
            while tx
                .query_row("SELECT 1 FROM guest_invitations WHERE username = ?1", [&username], |_| Ok(()))
                .optional()?
                .is_some()
            {
                username = format!("{}{n}", invite.username_base);
                n += 1;
            }
            // The importer's key for this person: a later import of an
            // export naming them finds this invitation instead of a second.
            let import_key = crate::mapper::invitation_key(&email);
            let invitation = create_guest_invitation(
                tx,
                &NewGuestInvitation {
                    email: email.clone(),
                    name: invite.name.clone(),
                    username: username.clone(),
                    password_hash: invite.password_hash.clone(),
                    salt: invite.salt.clone(),
                    partner,
                    partner_admin: false,
                    import_key: import_key.clone(),
                },
            )?;
            tx.execute(
                "INSERT INTO invitation_outbox (invitation_id, state) VALUES (?1, 'pending')
                 ON CONFLICT (invitation_id) DO NOTHING",
                [invitation],
            )?;
            audit(tx, &invite.inviter, "guest.invite-direct", &format!("guest {email}"))?;
            let member = tx.query_row(
                "SELECT id, email, name, role, directory_managed, state FROM members WHERE email = ?1",
                [&email],
                member_row,
            )?;
            Ok(InvitedGuest {
                member,
                username,
                import_key,
                partner,
            })
        })
    }

    fn remove_guest(&self, actor: &str, guest: i64) -> Result<Option<Member>, WorkspaceError> {
        self.write(|tx| {
            let found = tx
                .query_row(
                    "SELECT id, email, name, role, directory_managed, state FROM members WHERE id = ?1 AND role = 'guest'",
                    [guest],
                    member_row,
                )
                .optional()?;
            let Some(mut member) = found else {
                return Ok(None);
            };
            tx.execute("UPDATE members SET state = 'removed' WHERE id = ?1", [guest])?;
            let grants = tx.execute(
                "DELETE FROM grants WHERE grantee_kind = 'member' AND grantee_id = ?1",
                [guest],
            )?;
            tx.execute("DELETE FROM team_members WHERE member_id = ?1", [guest])?;
            tx.execute("DELETE FROM partner_members WHERE member_id = ?1", [guest])?;
            tx.execute("DELETE FROM api_keys WHERE member_id = ?1", [guest])?;
            tx.execute("DELETE FROM sessions WHERE member_id = ?1", [guest])?;
            // An email not yet delivered must not reach someone removed:
            // the next import run would otherwise send it.
            tx.execute(
                "DELETE FROM invitation_outbox WHERE state = 'pending'
                   AND invitation_id IN (SELECT id FROM guest_invitations WHERE member_id = ?1)",
                [guest],
            )?;
            tx.execute(
                "UPDATE guest_invitations SET state = 'expired' WHERE member_id = ?1 AND state = 'sent'",
                [guest],
            )?;
            audit(
                tx,
                actor,
                "guest.removed",
                &format!("guest {} ({grants} grants removed)", member.email),
            )?;
            member.state = MemberState::Removed;
            Ok(Some(member))
        })
    }

    fn remove_guest_grant(&self, actor: &str, guest: i64, grant: i64) -> Result<bool, WorkspaceError> {
        self.write(|tx| {
            let target: Option<(String, i64, String)> = tx
                .query_row(
                    "SELECT g.target_kind, g.target_id, m.email FROM grants g JOIN members m ON m.id = g.grantee_id
                     WHERE g.id = ?1 AND g.grantee_kind = 'member' AND g.grantee_id = ?2 AND m.role = 'guest'",
                    params![grant, guest],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((kind, id, email)) = target else {
                return Ok(false);
            };
            tx.execute("DELETE FROM grants WHERE id = ?1", [grant])?;
            audit(
                tx,
                actor,
                "guest.grant-removed",
                &format!("grant {grant} of guest {email} on {kind} {id}"),
            )?;
            Ok(true)
        })
    }
}

#[cfg(test)]
impl SqliteWorkspace {
    /// The plans SQLite makes for a page of accounts, walked by id and
    /// from the member's side: the test of "a page is one bounded read"
    /// without a million rows.
    pub(crate) fn account_page_plans(&self) -> (Vec<String>, Vec<String>) {
        let conn = self.lock();
        let plan = |sql: String, n: usize| {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let args: Vec<i64> = [1, 0, 0, 101, PROBE].into_iter().take(n).collect();
            // (member 1, not an admin, after 0, a page of 100, up to PROBE)
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
                .unwrap();
            rows.map(Result::unwrap).collect::<Vec<String>>()
        };
        (plan(ACCOUNTS.dense_page(), 5), plan(ACCOUNTS.sparse_page(), 4))
    }

    /// A page of accounts with a given walk length, so a test can make the
    /// member's-side read happen on a small store.
    pub(crate) fn account_page_with_probe(
        &self,
        member: &Member,
        page: PageAfter,
        probe: i64,
    ) -> Paged<VisibleAccount> {
        let conn = self.lock();
        ACCOUNTS.page(&conn, member, page, probe, account_row(member)).unwrap()
    }
}
