//! The embedded workspace: one SQLite file (bundled SQLite, WAL, foreign keys).
//!
//! All SQL of the crate lives under this module. The schema is in
//! [`schema`]; reading everything back is [`snapshot`]; writes are in
//! [`write`] and run inside one transaction per call.

mod identity;
mod key_moves;
mod ledger;
mod outbox;
mod schema;
pub mod sealed;
mod service;
mod snapshot;
mod views;
mod write;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction};

use super::key::{default_key_path, KeyLocation, KeyOrigin, WorkspaceKey};
use super::read_ahead::ReadAhead;
use super::seed::Seed;
use super::{
    Account, Collection, Grant, GrantTarget, ImportKey, KeyMove, NewGuestInvitation, NewRun, PendingInvitation,
    PlannedHashes, RehashedItems, RunInfo, RunState, SecretItem, Snapshot, Workspace, WorkspaceError, Write,
};

pub use schema::latest as schema_version;

/// How long a writer waits for another process's lock (a `plan` reading
/// while `migrate` writes) before giving up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A workspace stored in a SQLite file.
pub struct SqliteWorkspace {
    path: String,
    /// `Connection` is `Send` but not `Sync`; the trait needs both so the
    /// server can share one store between requests.
    conn: Mutex<Connection>,
    /// Seals and opens the secret values (`sealed`); checked against the
    /// store when it was opened.
    key: Arc<WorkspaceKey>,
}

impl std::fmt::Debug for SqliteWorkspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteWorkspace").field("path", &self.path).finish()
    }
}

impl SqliteWorkspace {
    /// Opens an existing workspace database created by `workspace init`,
    /// bringing an older schema up to date, with the key found where
    /// [`KeyLocation::default`] looks (the environment, then `DB.key`).
    pub fn open(path: &Path) -> Result<SqliteWorkspace, WorkspaceError> {
        SqliteWorkspace::open_keyed(path, &KeyLocation::default())
    }

    /// [`open`](SqliteWorkspace::open) with the key looked for at `key`
    /// (`--key-file`). A sealed store without its key, or with another
    /// one, is refused with what to do; a store from before sealing is
    /// sealed now (with a new `DB.key` when no key is given).
    pub fn open_keyed(path: &Path, key: &KeyLocation) -> Result<SqliteWorkspace, WorkspaceError> {
        let display = path.display().to_string();
        // Looked at read-only first: connecting sets up the schema, which
        // would turn an empty file or another program's database into a
        // half-made workspace (`plan` must write nothing).
        let refuse = |message: String| WorkspaceError::Store {
            path: display.clone(),
            message,
        };
        match probe(path) {
            Probe::Workspace(_) => {}
            Probe::Missing => {
                return Err(refuse(
                    "no workspace database here: expected a file created by \
                     `vaultferry workspace init --db PATH --seed FILE`"
                        .into(),
                ))
            }
            Probe::Empty | Probe::Unfinished => {
                return Err(refuse(
                    "the database has no workspace yet: run `vaultferry workspace init --db PATH --seed FILE`".into(),
                ))
            }
            Probe::Other(why) => {
                return Err(refuse(format!(
                    "{why}: expected a workspace created by `vaultferry workspace init --db PATH --seed FILE`"
                )))
            }
        }
        let key = WorkspaceKey::find(path, key).map_err(|e| refuse(e.0))?;
        SqliteWorkspace::connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE, key)
    }

    /// Creates a new, empty-schema database at `path` for `workspace init`,
    /// with a new workspace key in `DB.key` beside it (see
    /// [`create_keyed`](SqliteWorkspace::create_keyed)).
    pub fn create(path: &Path, force: bool) -> Result<SqliteWorkspace, WorkspaceError> {
        SqliteWorkspace::create_keyed(path, force, &KeyLocation::default())
    }

    /// Creates a new, empty-schema database at `path` for `workspace init`.
    ///
    /// Its key: the one at `key` (`--key-file`, made there if the file does
    /// not exist), else the environment's, else `DB.key` beside the
    /// database, made now. A key file already there is used, never
    /// overwritten: it may be the only key to a backup of the workspace
    /// `--force` replaces.
    ///
    /// A file that already holds a workspace (or anything that is not an
    /// empty database) is refused unless `force`, which deletes it first.
    pub fn create_keyed(path: &Path, force: bool, key: &KeyLocation) -> Result<SqliteWorkspace, WorkspaceError> {
        let display = path.display().to_string();
        let refuse = |message: String| WorkspaceError::Store {
            path: display.clone(),
            message,
        };
        match probe(path) {
            Probe::Missing | Probe::Empty | Probe::Unfinished => {}
            Probe::Workspace(name) if !force => {
                return Err(refuse(format!(
                    "holds the workspace \"{name}\" already: refusing to overwrite it \
                     (pass --force to recreate the workspace)"
                )))
            }
            // Only a vaultferry workspace is ever deleted: --force says
            // "start this workspace over", not "remove whatever is here".
            Probe::Workspace(_) => remove_database(path).map_err(refuse)?,
            Probe::Other(why) => {
                return Err(refuse(format!(
                    "{why}: refusing to overwrite it, even with --force (choose another --db path)"
                )))
            }
        }
        let made = match &key.file {
            Some(file) if !file.exists() => Some(file.clone()),
            Some(_) => None,
            None if std::env::var_os(super::key::KEY_ENV).is_some() => None,
            None => Some(default_key_path(path)).filter(|p| !p.exists()),
        };
        let key = match made {
            Some(file) => {
                let k = WorkspaceKey::generate(KeyOrigin::File(file.clone()));
                k.write_file(&file, false).map_err(|e| refuse(e.0))?;
                k
            }
            None => WorkspaceKey::find(path, key)
                .map_err(|e| refuse(e.0))?
                .ok_or_else(|| refuse("no workspace key was found or made".into()))?,
        };
        if !path.exists() {
            create_private(path).map_err(|e| WorkspaceError::Store {
                path: display,
                message: format!("cannot create the database: {e}"),
            })?;
        }
        SqliteWorkspace::connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE, Some(key))
    }

    fn connect(path: &Path, flags: OpenFlags, key: Option<WorkspaceKey>) -> Result<SqliteWorkspace, WorkspaceError> {
        let display = path.display().to_string();
        let store = |e: &dyn std::fmt::Display| WorkspaceError::Store {
            path: display.clone(),
            message: e.to_string(),
        };
        let mut conn =
            Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(|e| store(&e))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| store(&e))?;
        // WAL lets `plan` read a consistent snapshot while `migrate` writes.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| store(&format!("not a workspace database ({e})")))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(store(&format!(
                "cannot switch to write-ahead logging (journal mode is {mode})"
            )));
        }
        // Foreign keys off while migrating (the bundled SQLite turns them on
        // by default): a step that rebuilds a table must not cascade.
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;")
            .map_err(|e| store(&e))?;
        schema::migrate(&mut conn).map_err(|e| match e {
            schema::SchemaError::Newer { found, known } => store(&format!(
                "the database has schema version {found}, written by a newer vaultferry; \
                 this one knows versions up to {known}: upgrade vaultferry"
            )),
            schema::SchemaError::Changed { version } => store(&format!(
                "schema step {version} in the database differs from this vaultferry's: \
                 it was created by an incompatible build; recreate it with `workspace init --force`"
            )),
            schema::SchemaError::Sql(e) => store(&format!("cannot set up the schema: {e}")),
        })?;
        // After the migrations: a step that rebuilds a table (V2) must not
        // cascade deletes into the tables that reference it.
        conn.execute_batch("PRAGMA foreign_keys = ON;").map_err(|e| store(&e))?;
        let key = sealed::attach(&mut conn, path, key).map_err(|e| store(&e))?;
        // `apply` writes up to a million objects, each with its journal and
        // audit rows and entries in the random-order import-key indexes: a
        // page cache that holds those indexes' hot pages (64 MiB, allocated
        // only as used; SQLite's default is 2 MiB) and room for every
        // statement a batch prepares keep each write from re-reading pages
        // and re-parsing SQL.
        conn.execute_batch("PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;")
            .map_err(|e| store(&e))?;
        // Checkpoint the write-ahead log every ~40 MB instead of every 4 MB:
        // the hot index pages a run rewrites batch after batch are then
        // copied back to the database once per checkpoint, not ten times
        // (a fifth of a million-item first run's write time).
        conn.execute_batch("PRAGMA wal_autocheckpoint = 10000")
            .map_err(|e| store(&e))?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(SqliteWorkspace {
            path: display,
            conn: Mutex::new(conn),
            key: Arc::new(key),
        })
    }

    /// Where the workspace key came from (a file, the environment): what
    /// `workspace init` tells the admin to back up.
    pub fn key_origin(&self) -> &KeyOrigin {
        self.key.origin()
    }

    /// The database file, as given.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable: every
        // write is a transaction that rolled back when it unwound.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn store_error(&self, message: impl Into<String>) -> WorkspaceError {
        WorkspaceError::Store {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// Turns SQLite's refusals of workspace rules (our triggers' `rule:`
    /// messages, the unique constraints that encode rules) into
    /// [`WorkspaceError::Rule`]; the rest are store failures. SQLite's
    /// messages name tables and columns, never values.
    fn sql_error(&self, e: rusqlite::Error) -> WorkspaceError {
        if let rusqlite::Error::SqliteFailure(_, Some(msg)) = &e {
            if let Some(rule) = msg.strip_prefix("rule: ") {
                return WorkspaceError::Rule(rule.to_owned());
            }
            let rule = match msg.as_str() {
                "UNIQUE constraint failed: partnerships.partner_workspace_id" => {
                    Some("at most one partnership per guest workspace: that workspace has one already")
                }
                "UNIQUE constraint failed: members.role" => Some("a workspace has exactly one owner"),
                "UNIQUE constraint failed: members.email" => Some("a member with that email exists already"),
                "UNIQUE constraint failed: partner_members.member_id" => {
                    Some("a guest belongs to one local partner at most")
                }
                "UNIQUE constraint failed: partner_domains.domain" => {
                    Some("a domain belongs to one local partner at most")
                }
                m if m.starts_with("CHECK constraint failed") && m.contains("guest") => {
                    Some("members the identity provider manages are regular members, never guests")
                }
                _ => None,
            };
            if let Some(rule) = rule {
                return WorkspaceError::Rule(rule.to_owned());
            }
        }
        self.store_error(e.to_string())
    }

    /// Runs `f` in one immediate transaction: all of it is written, or none.
    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>) -> Result<T, WorkspaceError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.sql_error(e))?;
        let value = f(&tx).map_err(|e| self.sql_error(e))?;
        tx.commit().map_err(|e| self.sql_error(e))?;
        Ok(value)
    }

    /// Writes a checked seed (and any SCIM users merged into it) as the
    /// workspace, in one transaction. Returns the workspace id.
    pub fn init(&self, seed: &Seed) -> Result<String, WorkspaceError> {
        let id = seed.id.clone().unwrap_or_else(generate_id);
        self.write(|tx| {
            write::seed(tx, &id, seed)?;
            Ok(id.clone())
        })
    }

    /// Adds a member; returns its id.
    pub fn add_member(&self, member: &write::NewMember) -> Result<i64, WorkspaceError> {
        self.write(|tx| write::insert_member(tx, member))
    }

    /// Adds a host-guest partnership; a second one with the same partner
    /// workspace is refused ([`WorkspaceError::Rule`]).
    pub fn add_partnership(&self, p: &super::seed::SeedPartnership) -> Result<i64, WorkspaceError> {
        self.write(|tx| write::insert_partnership(tx, p))
    }

    /// Current `journal_mode` and `foreign_keys`, for tests and `doctor`-style checks.
    pub fn pragmas(&self) -> Result<(String, bool), WorkspaceError> {
        let conn = self.lock();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(|e| self.sql_error(e))?;
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .map_err(|e| self.sql_error(e))?;
        Ok((mode, fk == 1))
    }
}

pub use write::NewMember;

impl Workspace for SqliteWorkspace {
    fn attachment_bytes(&self, item: GrantTarget) -> Result<Vec<Option<crate::secret::Secret>>, WorkspaceError> {
        let (sql, id) = match item {
            GrantTarget::Account(id) => (
                "SELECT id, size, length(content) FROM attachments WHERE account_id = ?1 ORDER BY id",
                id,
            ),
            GrantTarget::Secret(id) => (
                "SELECT id, size, length(content) FROM attachments WHERE secret_id = ?1 ORDER BY id",
                id,
            ),
            GrantTarget::Collection(_) => return Ok(Vec::new()),
        };
        let conn = self.lock();
        let rows: Vec<(i64, i64, Option<i64>)> = {
            let mut stmt = conn.prepare_cached(sql).map_err(|e| self.sql_error(e))?;
            let rows = stmt
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(|e| self.sql_error(e))?;
            rows.collect::<rusqlite::Result<_>>().map_err(|e| self.sql_error(e))?
        };
        rows.into_iter()
            .map(|(row, size, stored)| {
                let Some(stored) = stored else { return Ok(None) };
                snapshot::attachment_content(&conn, &self.key, row, size, stored)
                    .map(Some)
                    .map_err(|e| self.sql_error(e))
            })
            .collect()
    }

    fn snapshot(&self) -> Result<Snapshot, WorkspaceError> {
        let mut conn = self.lock();
        // One read transaction: a consistent view even while another
        // process writes (WAL).
        let tx = conn.transaction().map_err(|e| self.sql_error(e))?;
        let snapshot = snapshot::read(&tx, &self.key).map_err(|e| self.sql_error(e))?;
        tx.finish().map_err(|e| self.sql_error(e))?;
        Ok(snapshot)
    }

    /// Two reads, so the items can be two moments later than the rest; a
    /// concurrent edit in between is at worst compared in full (its intact
    /// flag is cleared in the same write), and every write `apply` makes
    /// is keyed and idempotent.
    fn item_count(&self) -> Result<usize, WorkspaceError> {
        let conn = self.lock();
        let n: i64 = conn
            .query_row(
                "SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM secrets)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.sql_error(e))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn snapshot_base(&self) -> Result<Snapshot, WorkspaceError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.sql_error(e))?;
        let snapshot = snapshot::read_base(&tx).map_err(|e| self.sql_error(e))?;
        tx.finish().map_err(|e| self.sql_error(e))?;
        Ok(snapshot)
    }

    fn load_items(&self, snapshot: &mut Snapshot, planned: &PlannedHashes<'_>) -> Result<(), WorkspaceError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.sql_error(e))?;
        snapshot::read_items(&tx, &self.key, snapshot, Some(planned)).map_err(|e| self.sql_error(e))?;
        tx.finish().map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    /// A third read: a row edited after it was read ahead as intact is
    /// decided unchanged by this run, as one edited after `load_items`
    /// would be; the edit cleared its flag, so the next run compares it.
    fn read_ahead(&self) -> Result<Option<ReadAhead>, WorkspaceError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.sql_error(e))?;
        let rows = snapshot::read_ahead(&tx).map_err(|e| self.sql_error(e))?;
        tx.finish().map_err(|e| self.sql_error(e))?;
        // The pages just read are not needed again (what is left to read
        // is a few rows by id): their cache is freed now rather than held
        // while the plan is built, when the run holds the most.
        conn.execute_batch("PRAGMA shrink_memory")
            .map_err(|e| self.sql_error(e))?;
        Ok(Some(rows))
    }

    fn read_items_by_id(
        &self,
        snapshot: &mut Snapshot,
        accounts: &[i64],
        secrets: &[i64],
    ) -> Result<(), WorkspaceError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.sql_error(e))?;
        snapshot::read_items_by_id(&tx, &self.key, snapshot, accounts, secrets).map_err(|e| self.sql_error(e))?;
        tx.finish().map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    fn create_collection(&self, c: &Collection) -> Result<i64, WorkspaceError> {
        let key = required_key(c.import_key.as_ref(), &format!("collection {:?}", c.name))?;
        self.write(|tx| write::create_collection(tx, c, key))
    }

    fn create_account(&self, a: &Account) -> Result<i64, WorkspaceError> {
        let key = required_key(a.import.import_key.as_ref(), &format!("account {:?}", a.name))?;
        self.write(|tx| write::create_account(tx, &self.key, a, key))
    }

    fn create_secret(&self, s: &SecretItem) -> Result<i64, WorkspaceError> {
        let key = required_key(s.import.import_key.as_ref(), &format!("secret {:?}", s.title))?;
        self.write(|tx| write::create_secret(tx, &self.key, s, key))
    }

    fn create_grant(&self, g: &Grant) -> Result<i64, WorkspaceError> {
        let key = required_key(g.import_key.as_ref(), "grant")?;
        self.write(|tx| write::create_grant(tx, g, key))
    }

    fn create_team(&self, name: &str, import_key: &ImportKey) -> Result<i64, WorkspaceError> {
        self.write(|tx| write::create_team(tx, name, import_key))
    }

    fn add_team_member(&self, team: i64, member: i64) -> Result<(), WorkspaceError> {
        self.write(|tx| write::add_team_member(tx, team, member).map(|_| ()))
    }

    fn create_guest_invitation(&self, invitation: &NewGuestInvitation) -> Result<i64, WorkspaceError> {
        self.write(|tx| write::create_guest_invitation(tx, invitation))
    }

    fn begin_run(&self, run: &NewRun) -> Result<Vec<String>, WorkspaceError> {
        self.write(|tx| write::begin_run(tx, run))
    }

    fn apply_batch(&self, run: &str, writes: &[Write]) -> Result<Vec<i64>, WorkspaceError> {
        for w in writes {
            if !matches!(w, Write::Interrupt) && w.key().is_none() {
                return Err(WorkspaceError::Rule(
                    "a write has no import key: everything the importer creates needs one".into(),
                ));
            }
        }
        self.write(|tx| write::apply_batch(tx, &self.key, run, writes))
    }

    fn pending_invitations(&self) -> Result<Vec<PendingInvitation>, WorkspaceError> {
        let conn = self.lock();
        outbox::pending(&conn).map_err(|e| self.sql_error(e))
    }

    fn replace_invitation_password(&self, key: &ImportKey, hash: &str, salt: &str) -> Result<bool, WorkspaceError> {
        self.write(|tx| outbox::replace_password(tx, key, hash, salt))
    }

    fn invitation_delivered(&self, key: &ImportKey, via: &str) -> Result<(), WorkspaceError> {
        self.write(|tx| outbox::delivered(tx, key, via))
    }

    fn created_by_source(&self, scope: &str, keys: &[&ImportKey]) -> Result<Vec<bool>, WorkspaceError> {
        let conn = self.lock();
        ledger::created_by_source(&conn, scope, keys).map_err(|e| self.sql_error(e))
    }

    fn finish_run(&self, run: &str, state: RunState, summary: &str) -> Result<(), WorkspaceError> {
        self.write(|tx| write::finish_run(tx, run, state, summary))
    }

    fn runs(&self) -> Result<Vec<RunInfo>, WorkspaceError> {
        let conn = self.lock();
        write::runs(&conn).map_err(|e| self.sql_error(e))
    }

    fn move_collection_keys(&self, moves: &[KeyMove], rehashed: &RehashedItems) -> Result<usize, WorkspaceError> {
        if moves.is_empty() {
            return Ok(0);
        }
        self.write(|tx| key_moves::move_collection_keys(tx, moves, rehashed))
    }

    /// The database copied page by page into memory (SQLite's backup API,
    /// which reads through the write-ahead log like any reader).
    fn scratch_copy(&self) -> Result<Option<Box<dyn Workspace>>, WorkspaceError> {
        let mut copy = Connection::open_in_memory().map_err(|e| self.sql_error(e))?;
        {
            let conn = self.lock();
            let backup = rusqlite::backup::Backup::new(&conn, &mut copy).map_err(|e| self.sql_error(e))?;
            backup
                .run_to_completion(4096, Duration::ZERO, None)
                .map_err(|e| self.sql_error(e))?;
        }
        copy.execute_batch("PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;")
            .map_err(|e| self.sql_error(e))?;
        Ok(Some(Box::new(SqliteWorkspace {
            path: self.path.clone(),
            conn: Mutex::new(copy),
            key: Arc::clone(&self.key),
        })))
    }
}

/// Writes from `apply` must carry an import key, or a re-run could not
/// find what it created.
fn required_key<'a>(key: Option<&'a ImportKey>, what: &str) -> Result<&'a ImportKey, WorkspaceError> {
    key.ok_or_else(|| {
        WorkspaceError::Rule(format!(
            "the {what} has no import key: everything the importer creates needs one"
        ))
    })
}

/// What is at a `--db` path, looked at without writing to it.
enum Probe {
    Missing,
    /// A zero-length file, or a SQLite database without a table.
    Empty,
    /// Our schema without a workspace row: an `init` that failed midway.
    Unfinished,
    /// A vaultferry workspace, by name.
    Workspace(String),
    /// Anything else, with why it is not a workspace.
    Other(String),
}

fn probe(path: &Path) -> Probe {
    const OTHER: &str = "exists and is not a vaultferry workspace";
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Probe::Missing,
        Err(e) => return Probe::Other(format!("cannot be read ({e})")),
        Ok(m) if m.is_dir() => return Probe::Other("is a directory, not a vaultferry workspace".into()),
        Ok(m) if m.len() == 0 => return Probe::Empty,
        Ok(_) => {}
    }
    let conn = match Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY) {
        Ok(c) => c,
        Err(_) => return Probe::Other(OTHER.into()),
    };
    let tables: rusqlite::Result<Vec<String>> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect());
    let Ok(tables) = tables else {
        return Probe::Other(OTHER.into());
    };
    if tables.is_empty() {
        return Probe::Empty;
    }
    // Our bookkeeping table, with its checksum column: another program's
    // `schema_migrations` (Rails, Diesel) has none.
    let ours = tables.iter().any(|t| t == "schema_migrations")
        && conn
            .query_row(
                "SELECT count(*) FROM pragma_table_info('schema_migrations') WHERE name = 'checksum'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .is_ok_and(|n| n == 1);
    if !ours {
        return Probe::Other(OTHER.into());
    }
    if !tables.iter().any(|t| t == "workspace") {
        return Probe::Unfinished;
    }
    match conn.query_row("SELECT name FROM workspace", [], |r| r.get::<_, String>(0)) {
        Ok(name) => Probe::Workspace(name),
        Err(rusqlite::Error::QueryReturnedNoRows) => Probe::Unfinished,
        Err(_) => Probe::Other(OTHER.into()),
    }
}

/// Deletes a workspace database and its write-ahead files.
fn remove_database(path: &Path) -> Result<(), String> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot remove the old database for --force: {e}")),
        }
    }
    Ok(())
}

/// The database holds every password of the company: owner-only from the
/// first byte (SQLite gives its `-wal`/`-shm` files the same mode).
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

fn generate_id() -> String {
    use rand::Rng;
    let bytes: [u8; 8] = rand::thread_rng().gen();
    format!("ws-{}", hex::encode(bytes))
}

/// Now, as stored in the database (to the second).
///
/// Every object `apply` writes stamps an audit and a journal row; the
/// formatted second is kept per thread so a batch formats it about once
/// rather than twice per object.
fn now() -> String {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != secs {
            *last = (secs, crate::model::Timestamp(secs).to_rfc3339());
        }
        last.1.clone()
    })
}

#[cfg(test)]
mod access_tests;
#[cfg(test)]
mod sealed_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod views_tests;
