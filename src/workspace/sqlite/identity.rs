//! The sign-in tables (schema V14): passwords, sessions, failed attempts,
//! and the API keys' prefix, expiry and revocation.

use rusqlite::{params, OptionalExtension, Row};

use super::service::{member, MEMBER_COLUMNS};
use super::write::audit;
use super::SqliteWorkspace;
use crate::workspace::identity::{
    Failures, IdentityStore, JoinInvitation, KeyRecord, Pending, Session, JOIN_STEP_DONE,
};
use crate::workspace::service::{api_key_hash, new_api_key};
use crate::workspace::{Member, PasswordPolicy, WorkspaceError, WorkspaceInfo};

/// Non-secret: `vfk_` and 8 of the 64 hex digits.
fn prefix_of(key: &str) -> String {
    key.trim().chars().take(12).collect()
}

const KEY_COLUMNS: &str = "k.id, k.prefix, k.created, k.expires, k.revoked";

fn key_record(r: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    // Member columns first (0..6), then the key's.
    Ok(KeyRecord {
        member: member(r)?,
        id: r.get(6)?,
        prefix: r.get(7)?,
        created: r.get(8)?,
        expires: r.get(9)?,
        revoked: r.get(10)?,
    })
}

fn no_member(email: &str) -> WorkspaceError {
    WorkspaceError::Rule(format!(
        "no member with the email {email} in this workspace: expected one of its members"
    ))
}

impl SqliteWorkspace {
    fn invitation_where(
        &self,
        condition: &str,
        value: &dyn rusqlite::ToSql,
    ) -> Result<Option<JoinInvitation>, WorkspaceError> {
        let conn = self.lock();
        conn.query_row(
            &format!(
                "SELECT {MEMBER_COLUMNS}, i.id, i.password_hash, i.state,
                        coalesce(i.temp_issued, CAST(strftime('%s', i.created) AS INTEGER)), i.temp_used
                 FROM guest_invitations i JOIN members m ON m.id = i.member_id WHERE {condition}"
            ),
            [value],
            |r| {
                Ok(JoinInvitation {
                    member: member(r)?,
                    id: r.get(6)?,
                    password_hash: r.get(7)?,
                    state: r.get(8)?,
                    issued: r.get(9)?,
                    used: r.get(10)?,
                })
            },
        )
        .optional()
        .map_err(|e| self.sql_error(e))
    }
}

/// A join step asked for twice (a form sent again before the first
/// answer came): the session is past it already.
fn step_done() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
        Some(format!("rule: {JOIN_STEP_DONE}")),
    )
}

impl IdentityStore for SqliteWorkspace {
    fn workspace_info(&self) -> Result<WorkspaceInfo, WorkspaceError> {
        let conn = self.lock();
        let run = || -> rusqlite::Result<WorkspaceInfo> {
            let mut stmt = conn.prepare("SELECT lower(domain) FROM domains ORDER BY domain")?;
            let domains = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
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
        };
        run().map_err(|e| self.sql_error(e))
    }

    fn create_api_key_expiring(
        &self,
        email: &str,
        expires: Option<i64>,
    ) -> Result<(String, KeyRecord), WorkspaceError> {
        let key = new_api_key();
        let hash = api_key_hash(&key);
        let prefix = prefix_of(&key);
        let email = email.trim().to_lowercase();
        let record = self.write(|tx| {
            let found = tx
                .query_row(
                    &format!("SELECT {MEMBER_COLUMNS} FROM members m WHERE lower(trim(m.email)) = ?1"),
                    [&email],
                    member,
                )
                .optional()?;
            let Some(m) = found else { return Ok(None) };
            tx.execute(
                "INSERT INTO api_keys (member_id, key_hash, prefix, expires) VALUES (?1, ?2, ?3, ?4)",
                params![m.id, hash, prefix, expires],
            )?;
            let id = tx.last_insert_rowid();
            audit(tx, "vaultferry", "apikey.create", &format!("key #{id} {prefix}… for {}", m.email))?;
            tx.query_row(
                &format!("SELECT {MEMBER_COLUMNS}, {KEY_COLUMNS} FROM api_keys k JOIN members m ON m.id = k.member_id WHERE k.id = ?1"),
                [id],
                key_record,
            )
            .map(Some)
        })?;
        record.map(|r| (key, r)).ok_or_else(|| no_member(&email))
    }

    fn api_key(&self, key: &str) -> Result<Option<KeyRecord>, WorkspaceError> {
        let conn = self.lock();
        conn.query_row(
            &format!(
                "SELECT {MEMBER_COLUMNS}, {KEY_COLUMNS} FROM api_keys k JOIN members m ON m.id = k.member_id WHERE k.key_hash = ?1"
            ),
            [api_key_hash(key)],
            key_record,
        )
        .optional()
        .map_err(|e| self.sql_error(e))
    }

    fn api_keys(&self, member_id: Option<i64>) -> Result<Vec<KeyRecord>, WorkspaceError> {
        let conn = self.lock();
        let run = || -> rusqlite::Result<Vec<KeyRecord>> {
            let mut stmt = conn.prepare(&format!(
                "SELECT {MEMBER_COLUMNS}, {KEY_COLUMNS} FROM api_keys k JOIN members m ON m.id = k.member_id
                 WHERE ?1 IS NULL OR k.member_id = ?1 ORDER BY k.id"
            ))?;
            let rows = stmt.query_map([member_id], key_record)?;
            rows.collect()
        };
        run().map_err(|e| self.sql_error(e))
    }

    fn revoke_api_key(&self, id: i64, member_id: Option<i64>, now: i64) -> Result<bool, WorkspaceError> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE api_keys SET revoked = ?3 WHERE id = ?1 AND revoked IS NULL AND (?2 IS NULL OR member_id = ?2)",
                params![id, member_id, now],
            )?;
            if changed > 0 {
                audit(tx, "vaultferry", "apikey.revoke", &format!("key #{id}"))?;
            }
            Ok(changed > 0)
        })
    }

    fn set_password(&self, email: &str, phc: &str, now: i64) -> Result<Member, WorkspaceError> {
        let email = email.trim().to_lowercase();
        let found = self.write(|tx| {
            let found = tx
                .query_row(
                    &format!("SELECT {MEMBER_COLUMNS} FROM members m WHERE lower(trim(m.email)) = ?1"),
                    [&email],
                    member,
                )
                .optional()?;
            if let Some(m) = &found {
                tx.execute(
                    "INSERT INTO member_passwords (member_id, password_hash, updated) VALUES (?1, ?2, ?3)
                     ON CONFLICT (member_id) DO UPDATE SET password_hash = excluded.password_hash, updated = excluded.updated",
                    params![m.id, phc, now],
                )?;
                // Sessions opened with the old password end with it.
                tx.execute("DELETE FROM sessions WHERE member_id = ?1", [m.id])?;
                audit(tx, "vaultferry", "member.set-password", &m.email)?;
            }
            Ok(found)
        })?;
        found.ok_or_else(|| no_member(&email))
    }

    fn credential(&self, login: &str) -> Result<Option<(Member, Option<String>)>, WorkspaceError> {
        let login = login.trim().to_lowercase();
        let conn = self.lock();
        conn.query_row(
            &format!(
                "SELECT {MEMBER_COLUMNS}, p.password_hash FROM members m
                 LEFT JOIN member_passwords p ON p.member_id = m.id
                 WHERE lower(trim(m.email)) = ?1
                    OR m.id = (SELECT member_id FROM guest_invitations WHERE lower(username) = ?1)
                 ORDER BY lower(trim(m.email)) = ?1 DESC LIMIT 1"
            ),
            [&login],
            |r| Ok((member(r)?, r.get::<_, Option<String>>(6)?)),
        )
        .optional()
        .map_err(|e| self.sql_error(e))
    }

    fn join_invitation(&self, username: &str) -> Result<Option<JoinInvitation>, WorkspaceError> {
        let username = username.trim().to_lowercase();
        self.invitation_where("lower(i.username) = ?1", &username)
    }

    fn member_invitation(&self, member: i64) -> Result<Option<JoinInvitation>, WorkspaceError> {
        self.invitation_where("i.member_id = ?1", &member)
    }

    fn start_join(
        &self,
        invitation: i64,
        token_hash: &str,
        now: i64,
        expires: i64,
    ) -> Result<Option<i64>, WorkspaceError> {
        self.write(|tx| {
            let used = tx.execute(
                "UPDATE guest_invitations SET temp_used = ?2 WHERE id = ?1 AND temp_used IS NULL AND state = 'sent'",
                params![invitation, now],
            )?;
            if used == 0 {
                return Ok(None);
            }
            let member: i64 = tx.query_row(
                "SELECT member_id FROM guest_invitations WHERE id = ?1",
                [invitation],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO sessions (token_hash, member_id, pending, created, last_seen, expires)
                 VALUES (?1, ?2, 'password', ?3, ?3, ?4)",
                params![token_hash, member, now, expires],
            )?;
            let id = tx.last_insert_rowid();
            audit(
                tx,
                "vaultferry",
                "guest.join-started",
                &format!("invitation {invitation}, session #{id}"),
            )?;
            Ok(Some(id))
        })
    }

    fn finish_password(
        &self,
        session: i64,
        phc: &str,
        given_name: &str,
        family_name: &str,
        now: i64,
    ) -> Result<(), WorkspaceError> {
        self.write(|tx| {
            let Some(member) = tx
                .query_row(
                    "SELECT member_id FROM sessions WHERE id = ?1 AND pending = 'password'",
                    [session],
                    |r| r.get::<_, i64>(0),
                )
                .optional()?
            else {
                return Err(step_done());
            };
            tx.execute(
                "INSERT INTO member_passwords (member_id, password_hash, updated) VALUES (?1, ?2, ?3)
                 ON CONFLICT (member_id) DO UPDATE SET password_hash = excluded.password_hash, updated = excluded.updated",
                params![member, phc, now],
            )?;
            tx.execute(
                "INSERT INTO member_profiles (member_id, given_name, family_name) VALUES (?1, ?2, ?3)
                 ON CONFLICT (member_id) DO UPDATE SET given_name = excluded.given_name, family_name = excluded.family_name",
                params![member, given_name, family_name],
            )?;
            tx.execute(
                "UPDATE members SET name = ?2 WHERE id = ?1",
                params![member, format!("{given_name} {family_name}")],
            )?;
            tx.execute("UPDATE sessions SET pending = 'terms' WHERE id = ?1", [session])?;
            audit(tx, "vaultferry", "guest.password-set", &format!("session #{session}"))?;
            Ok(())
        })
    }

    fn accept_terms(&self, session: i64, token_hash: &str, now: i64, expires: i64) -> Result<(), WorkspaceError> {
        self.write(|tx| {
            let Some(member) = tx
                .query_row(
                    "SELECT member_id FROM sessions WHERE id = ?1 AND pending = 'terms'",
                    [session],
                    |r| r.get::<_, i64>(0),
                )
                .optional()?
            else {
                return Err(step_done());
            };
            tx.execute(
                "INSERT INTO member_profiles (member_id, terms_accepted) VALUES (?1, ?2)
                 ON CONFLICT (member_id) DO UPDATE SET terms_accepted = excluded.terms_accepted",
                params![member, now],
            )?;
            tx.execute(
                "UPDATE members SET state = 'active' WHERE id = ?1 AND state = 'invited'",
                [member],
            )?;
            tx.execute(
                "UPDATE guest_invitations SET state = 'accepted' WHERE member_id = ?1",
                [member],
            )?;
            tx.execute(
                "UPDATE sessions SET pending = NULL, token_hash = ?2, expires = ?3 WHERE id = ?1",
                params![session, token_hash, expires],
            )?;
            audit(
                tx,
                "vaultferry",
                "guest.joined",
                &format!("member {member}, session #{session}"),
            )?;
            Ok(())
        })
    }

    fn create_session(
        &self,
        member_id: i64,
        token_hash: &str,
        pending: Option<Pending>,
        now: i64,
        expires: i64,
    ) -> Result<i64, WorkspaceError> {
        self.write(|tx| {
            // Ended sessions are swept as new ones begin.
            tx.execute("DELETE FROM sessions WHERE expires <= ?1", [now])?;
            tx.execute(
                "INSERT INTO sessions (token_hash, member_id, pending, created, last_seen, expires)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
                params![token_hash, member_id, pending.map(Pending::name), now, expires],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    fn session(&self, token_hash: &str, now: i64, idle_since: i64) -> Result<Option<Session>, WorkspaceError> {
        let found = {
            let conn = self.lock();
            conn.query_row(
                &format!(
                    "SELECT {MEMBER_COLUMNS}, s.id, s.pending, s.created, s.last_seen, s.expires
                     FROM sessions s JOIN members m ON m.id = s.member_id WHERE s.token_hash = ?1"
                ),
                [token_hash],
                |r| {
                    let pending: Option<String> = r.get(7)?;
                    Ok(Session {
                        member: member(r)?,
                        id: r.get(6)?,
                        pending: pending.as_deref().and_then(Pending::from_name),
                        created: r.get(8)?,
                        last_seen: r.get(9)?,
                        expires: r.get(10)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.sql_error(e))?
        };
        match found {
            Some(s) if s.expires > now && s.last_seen > idle_since => Ok(Some(s)),
            Some(s) => {
                self.write(|tx| tx.execute("DELETE FROM sessions WHERE id = ?1", [s.id]).map(drop))?;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    fn touch_session(&self, id: i64, now: i64) -> Result<(), WorkspaceError> {
        self.write(|tx| {
            tx.execute("UPDATE sessions SET last_seen = ?2 WHERE id = ?1", params![id, now])
                .map(drop)
        })
    }

    fn end_session(&self, token_hash: &str) -> Result<(), WorkspaceError> {
        self.write(|tx| {
            tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])
                .map(drop)
        })
    }

    fn failures(&self, subject: &str, now: i64, window: i64) -> Result<Failures, WorkspaceError> {
        let conn = self.lock();
        let row: Option<(u32, i64, Option<i64>)> = conn
            .query_row(
                "SELECT failures, first_failure, locked_until FROM login_failures WHERE subject = ?1",
                [subject],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.sql_error(e))?;
        Ok(match row {
            Some((_, _, Some(until))) if until > now => Failures {
                failures: 0,
                locked_until: Some(until),
            },
            Some((n, first, None)) if first + window > now => Failures {
                failures: n,
                locked_until: None,
            },
            _ => Failures::default(),
        })
    }

    fn record_failure(
        &self,
        subject: &str,
        now: i64,
        window: i64,
        threshold: u32,
        lock: i64,
    ) -> Result<Failures, WorkspaceError> {
        // Read and written in one transaction: attempts arriving together
        // each count, and one recorded while the subject is locked neither
        // counts nor lifts the lock.
        self.write(|tx| {
            let row: Option<(u32, i64, Option<i64>)> = tx
                .query_row(
                    "SELECT failures, first_failure, locked_until FROM login_failures WHERE subject = ?1",
                    [subject],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (prior, first) = match row {
                Some((_, _, Some(until))) if until > now => {
                    return Ok(Failures {
                        failures: 0,
                        locked_until: Some(until),
                    })
                }
                Some((n, first, None)) if first + window > now => (n, first),
                _ => (0, now),
            };
            let failures = prior + 1;
            let locked_until = (failures >= threshold).then_some(now + lock);
            tx.execute(
                "INSERT INTO login_failures (subject, failures, first_failure, locked_until) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures,
                     first_failure = excluded.first_failure, locked_until = excluded.locked_until",
                params![subject, failures, first, locked_until],
            )?;
            Ok(Failures { failures, locked_until })
        })
    }

    fn forgive_failure(&self, subject: &str, threshold: u32) -> Result<(), WorkspaceError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE login_failures SET failures = failures - 1,
                     locked_until = CASE WHEN failures - 1 < ?2 THEN NULL ELSE locked_until END
                 WHERE subject = ?1 AND failures > 0",
                params![subject, threshold],
            )
            .map(drop)
        })
    }

    fn clear_failures(&self, subject: &str) -> Result<(), WorkspaceError> {
        self.write(|tx| {
            tx.execute("DELETE FROM login_failures WHERE subject = ?1", [subject])
                .map(drop)
        })
    }
}
