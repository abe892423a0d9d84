//! The server's tables (schema V3; reports in pieces since V13): API keys, jobs, idempotency records,
//! and rows of the existing audit log.

use rusqlite::{params, OptionalExtension, Row};

use super::snapshot::parse;
use super::SqliteWorkspace;
use crate::workspace::seed::{member_state_from_name, role_from_name};
use crate::workspace::service::{
    api_key_hash, new_api_key, IdempotencyRecord, Job, JobState, ServiceStore, StoredReport,
};
use crate::workspace::{Member, WorkspaceError};

pub(super) const MEMBER_COLUMNS: &str = "m.id, m.email, m.name, m.role, m.directory_managed, m.state";

pub(super) fn member(r: &Row<'_>) -> rusqlite::Result<Member> {
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
     export_name, sharing_name, policy_name, run_id, created, updated";

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
        run_id: r.get(12)?,
        created: r.get(13)?,
        updated: r.get(14)?,
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
                // The non-secret prefix the audit log and `apikey list` name it by.
                let prefix: String = key.chars().take(12).collect();
                tx.execute(
                    "INSERT INTO api_keys (member_id, key_hash, prefix) VALUES (?1, ?2, ?3)",
                    params![m.id, hash, prefix],
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
                "SELECT {MEMBER_COLUMNS} FROM api_keys k JOIN members m ON m.id = k.member_id
                 WHERE k.key_hash = ?1 AND k.revoked IS NULL
                   AND (k.expires IS NULL OR k.expires > CAST(strftime('%s', 'now') AS INTEGER))"
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
                "UPDATE jobs SET progress = ?2, summary = ?3, upload_dir = ?4, run_id = ?5, updated = ?6
                 WHERE id = ?1",
                params![j.id, j.progress, j.summary, j.upload_dir, j.run_id, super::now(),],
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

    fn begin_report(&self, job: &str, format: &str) -> Result<i64, WorkspaceError> {
        self.write(|tx| {
            let current: Option<i64> = tx
                .query_row(
                    "SELECT generation FROM job_reports WHERE job_id = ?1 AND format = ?2",
                    params![job, format],
                    |r| r.get(0),
                )
                .optional()?;
            tx.execute(
                "DELETE FROM job_report_pieces WHERE job_id = ?1 AND format = ?2 AND generation IS NOT ?3",
                params![job, format, current],
            )?;
            Ok(current.unwrap_or(0) + 1)
        })
    }

    fn save_report_piece(
        &self,
        job: &str,
        format: &str,
        generation: i64,
        seq: i64,
        bytes: &[u8],
    ) -> Result<(), WorkspaceError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO job_report_pieces (job_id, format, generation, seq, bytes) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![job, format, generation, seq, bytes],
            )
            .map(drop)
        })
    }

    fn finish_report(&self, job: &str, format: &str, report: StoredReport) -> Result<(), WorkspaceError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO job_reports (job_id, format, generation, pieces, bytes) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (job_id, format) DO UPDATE SET
                     generation = excluded.generation, pieces = excluded.pieces, bytes = excluded.bytes",
                params![job, format, report.generation, report.pieces, report.bytes],
            )?;
            tx.execute(
                "DELETE FROM job_report_pieces WHERE job_id = ?1 AND format = ?2 AND generation <> ?3",
                params![job, format, report.generation],
            )
            .map(drop)
        })
    }

    fn report(&self, job: &str, format: &str) -> Result<Option<StoredReport>, WorkspaceError> {
        let conn = self.lock();
        conn.query_row(
            "SELECT generation, pieces, bytes FROM job_reports WHERE job_id = ?1 AND format = ?2",
            params![job, format],
            |r| {
                Ok(StoredReport {
                    generation: r.get(0)?,
                    pieces: r.get(1)?,
                    bytes: r.get(2)?,
                })
            },
        )
        .optional()
        .map_err(|e| self.sql_error(e))
    }

    fn report_piece(
        &self,
        job: &str,
        format: &str,
        generation: i64,
        seq: i64,
    ) -> Result<Option<Vec<u8>>, WorkspaceError> {
        let conn = self.lock();
        conn.query_row(
            "SELECT bytes FROM job_report_pieces WHERE job_id = ?1 AND format = ?2 AND generation = ?3 AND seq = ?4",
            params![job, format, generation, seq],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| self.sql_error(e))
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
