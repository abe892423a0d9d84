//! The server's tables (schema V3): API keys, jobs, idempotency records,
//! and rows of the existing audit log.

use rusqlite::{params, OptionalExtension, Row};

use super::snapshot::parse;
use super::SqliteWorkspace;
use crate::workspace::seed::{member_state_from_name, role_from_name};
use crate::workspace::service::{api_key_hash, new_api_key, IdempotencyRecord, Job, JobState, ServiceStore};
use crate::workspace::{Member, WorkspaceError};

const MEMBER_COLUMNS: &str = "m.id, m.email, m.name, m.role, m.directory_managed, m.state";

fn member(r: &Row<'_>) -> rusqlite::Result<Member> {
    Ok(Member {
        id: r.get(0)?,
        email: r.get::<_, String>(1)?.trim().to_lowercase(),
        name: r.get(2)?,
        role: parse(r, 3, "role", role_from_name)?,
        directory_managed: r.get(4)?,
        state: parse(r, 5, "member state", member_state_from_name)?,
    })
}

const JOB_COLUMNS: &str = "id, member_id, actor, state, progress, summary, error, resumable, upload_dir, \
     export_name, sharing_name, policy_name, report_json, report_html, report_csv, run_id, created, updated";

fn job(r: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: r.get(0)?,
        member_id: r.get(1)?,
        actor: r.get(2)?,
        state: parse(r, 3, "job state", JobState::from_name)?,
        progress: r.get(4)?,
        summary: r.get(5)?,
        error: r.get(6)?,
        resumable: r.get(7)?,
        upload_dir: r.get(8)?,
        export_name: r.get(9)?,
        sharing_name: r.get(10)?,
        policy_name: r.get(11)?,
        report_json: r.get(12)?,
        report_html: r.get(13)?,
        report_csv: r.get(14)?,
        run_id: r.get(15)?,
        created: r.get(16)?,
        updated: r.get(17)?,
    })
}

impl ServiceStore for SqliteWorkspace {
    fn create_api_key(&self, email: &str) -> Result<(String, Member), WorkspaceError> {
        let key = new_api_key();
        let hash = api_key_hash(&key);
        let email = email.trim().to_lowercase();
        let member = self.write(|tx| {
            let found = tx
                .query_row(
                    &format!("SELECT {MEMBER_COLUMNS} FROM members m WHERE lower(trim(m.email)) = ?1"),
                    [&email],
                    member,
                )
                .optional()?;
            if let Some(m) = &found {
                tx.execute(
                    "INSERT INTO api_keys (member_id, key_hash) VALUES (?1, ?2)",
                    params![m.id, hash],
                )?;
            }
            Ok(found)
        })?;
        match member {
            Some(m) => Ok((key, m)),
            None => Err(WorkspaceError::Rule(format!(
                "no member with the email {email} in this workspace: expected one of its members"
            ))),
        }
    }

    fn member_for_key(&self, key: &str) -> Result<Option<Member>, WorkspaceError> {
        let conn = self.lock();
        conn.query_row(
            &format!(
                "SELECT {MEMBER_COLUMNS} FROM api_keys k JOIN members m ON m.id = k.member_id WHERE k.key_hash = ?1"
            ),
            [api_key_hash(key)],
            member,
        )
        .optional()
        .map_err(|e| self.sql_error(e))
    }

    fn audit(&self, actor: &str, action: &str, object: &str) -> Result<(), WorkspaceError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO audit_log (actor, action, object) VALUES (?1, ?2, ?3)",
                params![actor, action, object],
            )
            .map(drop)
        })
    }

    fn idempotency_record(&self, member: i64, key: &str) -> Result<Option<IdempotencyRecord>, WorkspaceError> {
        let conn = self.lock();
        conn.query_row(
            "SELECT request_hash, status, response FROM idempotency_records WHERE member_id = ?1 AND key = ?2",
            params![member, key],
            |r| {
                Ok(IdempotencyRecord {
                    request_hash: r.get(0)?,
                    status: r.get(1)?,
                    response: r.get(2)?,
                })
            },
        )
        .optional()
        .map_err(|e| self.sql_error(e))
    }

    fn save_idempotency_record(
        &self,
        member: i64,
        key: &str,
        record: &IdempotencyRecord,
    ) -> Result<(), WorkspaceError> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO idempotency_records (member_id, key, request_hash, status, response)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![member, key, record.request_hash, record.status, record.response],
            )
            .map(drop)
        })
    }

    fn insert_job(&self, j: &Job) -> Result<(), WorkspaceError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO jobs (id, member_id, actor, state, progress, upload_dir, export_name, sharing_name,
                                   policy_name, created, updated)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                params![
                    j.id,
                    j.member_id,
                    j.actor,
                    j.state.name(),
                    j.progress,
                    j.upload_dir,
                    j.export_name,
                    j.sharing_name,
                    j.policy_name,
                    super::now(),
                ],
            )
            .map(drop)
        })
    }

    fn job(&self, id: &str) -> Result<Option<Job>, WorkspaceError> {
        let conn = self.lock();
        conn.query_row(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"), [id], job)
            .optional()
            .map_err(|e| self.sql_error(e))
    }

    fn save_job(&self, j: &Job) -> Result<(), WorkspaceError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE jobs SET progress = ?2, summary = ?3, upload_dir = ?4, report_json = ?5, report_html = ?6,
                                 report_csv = ?7, run_id = ?8, updated = ?9
                 WHERE id = ?1",
                params![
                    j.id,
                    j.progress,
                    j.summary,
                    j.upload_dir,
                    j.report_json,
                    j.report_html,
                    j.report_csv,
                    j.run_id,
                    super::now(),
                ],
            )
            .map(drop)
        })
    }

    fn transition(
        &self,
        id: &str,
        from: &[JobState],
        to: JobState,
        error: Option<&str>,
        resumable: bool,
    ) -> Result<bool, WorkspaceError> {
        self.write(|tx| {
            let state: Option<String> = tx
                .query_row("SELECT state FROM jobs WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            let Some(state) = state.as_deref().and_then(JobState::from_name) else {
                return Ok(false);
            };
            if !from.contains(&state) {
                return Ok(false);
            }
            tx.execute(
                "UPDATE jobs SET state = ?2, error = ?3, resumable = ?4, updated = ?5 WHERE id = ?1",
                params![id, to.name(), error, resumable, super::now()],
            )?;
            Ok(true)
        })
    }

    fn active_jobs(&self) -> Result<usize, WorkspaceError> {
        let conn = self.lock();
        conn.query_row(
            "SELECT count(*) FROM jobs WHERE state IN ('queued', 'parsing', 'applying')",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n.max(0) as usize)
        .map_err(|e| self.sql_error(e))
    }

    fn recover_jobs(&self) -> Result<Vec<String>, WorkspaceError> {
        self.write(|tx| {
            let ids = {
                let mut stmt = tx.prepare("SELECT id FROM jobs WHERE state IN ('queued', 'parsing', 'applying')")?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                rows.collect::<rusqlite::Result<Vec<String>>>()?
            };
            tx.execute(
                "UPDATE jobs SET state = 'failed', resumable = 1, updated = ?1,
                     error = 'the server stopped while this job was running; nothing was applied half-way \
                              silently: POST apply to finish it (writes are idempotent by import key)'
                 WHERE state IN ('queued', 'parsing', 'applying')",
                [super::now()],
            )?;
            Ok(ids)
        })
    }
}
