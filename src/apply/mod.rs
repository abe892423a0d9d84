//! Changeset → workspace writes, in dependency order, in batches that each
//! commit atomically with their journal rows.
//!
//! Order: teams → collections (parents first) → accounts and secrets →
//! invitations → grants, because grants refer to ids all the others create
//! and subcollections to their parents'. Invitations come after the items
//! so their passwords' Argon2 hashes (tens of milliseconds each) are made on
//! the spare core while the items are written, not while everything waits.
//! Every object is written under its import key in the same transaction as
//! its `run_journal` row, so a crash, Ctrl-C or failed write loses at most
//! the batch in flight; the next run diffs against the workspace, finds the
//! committed objects unchanged and writes only the rest.

pub mod invitations;
mod key_order;
pub mod stored;

// See diff/mod.rs: Fx hashing for maps of a million import keys.
use rustc_hash::FxHashMap as HashMap;
use std::path::PathBuf;

use crate::diff::{Action, Change, Changeset, ObjectKind, PlanIndex};
use crate::mapper::{team_key, PlannedGrantee, PlannedInvitation};
use crate::secret::Secret;
use crate::workspace::{
    Account, Grant, GrantTarget, Grantee, ImportKey, ItemImport, NewGuestInvitation, NewRun, RunState, SecretItem,
    Snapshot, Workspace, WorkspaceError, Write,
};

pub use invitations::{Delivery, Mailer, SentInvitation};
pub use stored::StoredCounts;

/// Progress of a run, phase by phase. The library reports; only the CLI
/// draws (bars on a terminal, plain lines when piped).
pub trait Reporter {
    fn phase_started(&mut self, phase: &str, total: usize);
    fn item_done(&mut self, phase: &str, done: usize);
    fn phase_finished(&mut self, phase: &str);
}

/// A reporter that shows nothing (tests, the server).
pub struct Silent;

impl Reporter for Silent {
    fn phase_started(&mut self, _: &str, _: usize) {}
    fn item_done(&mut self, _: &str, _: usize) {}
    fn phase_finished(&mut self, _: &str) {}
}

/// How to apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Objects per transaction.
    pub batch_size: usize,
    /// Test hook: stop with [`ApplyError::Interrupted`] after this many
    /// committed object writes, as a crash would (the run stays `running`).
    /// When the limit falls inside a batch, that batch is rolled back.
    pub stop_after_writes: Option<usize>,
    /// Email of the member running the import.
    pub actor: String,
    /// Where invitation emails go.
    pub mailer: Mailer,
    /// Where an email goes when SMTP fails: the guest exists by then, so
    /// their email must not be lost.
    pub fallback_outbox: PathBuf,
    /// Set (by Ctrl-C or SIGTERM: see [`stop_on_signals`]) to stop after
    /// the batch in flight: the run ends `interrupted` with
    /// [`ApplyError::Stopped`], and the next run continues it.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// The server guests join on (`--base-url`): their email links to its
    /// `/join` page.
    pub base_url: Option<String>,
}

impl ApplyOptions {
    pub fn new(actor: impl Into<String>, outbox: PathBuf) -> ApplyOptions {
        ApplyOptions {
            // Each commit writes every page the batch dirtied to the WAL
            // (and a checkpoint copies them back), so the index and table
            // pages a batch's objects share are written once per commit:
            // 20 000 objects (some 20 MB of items, three batches in flight
            // while one is built and one written) make commits forty times
            // rarer than 500 did and cut a million-item first run by a tenth
            // against 5000, while a crash still loses only the batch in
            // flight, which the re-run writes again.
            batch_size: 20_000,
            stop_after_writes: None,
            actor: actor.into(),
            mailer: Mailer::Outbox(outbox.clone()),
            fallback_outbox: outbox,
            stop: None,
            base_url: None,
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ApplyOutcome {
    pub run_id: String,
    /// Every run that stopped before finishing (a crash, a kill, Ctrl-C)
    /// since the last completed one, oldest first: this run continued them.
    pub interrupted_runs: Vec<String>,
    /// Objects written (created or updated).
    pub written: usize,
    pub invitations: Vec<SentInvitation>,
    /// Objects not written and why (a grant whose target was not created…).
    pub warnings: Vec<String>,
    /// The reconciliation as the store holds it after the run, read back
    /// by import key (see [`stored`]): what reports print, not the plan's.
    pub stored: StoredCounts,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The test hook stopped the run; re-running continues it.
    #[error("run {run_id} interrupted after {written} writes; run the same command again to continue")]
    Interrupted { run_id: String, written: usize },
    /// A stop was asked for (Ctrl-C, SIGTERM): the batches before it are
    /// committed, the run is marked `interrupted`.
    #[error("run {run_id} stopped on request after {written} writes (every batch before the stop is kept); run the same command again to continue")]
    Stopped { run_id: String, written: usize },
    /// An invitation email could not be written or sent.
    #[error("{0}")]
    Mail(String),
}

/// A flag that Ctrl-C (SIGINT) and SIGTERM set, for
/// [`ApplyOptions::stop`]: a run stops between batches instead of dying
/// mid-batch and mid-report. A second signal ends the process at once
/// (status 130), for a user who does not want to wait for the batch.
#[cfg(unix)]
pub fn stop_on_signals() -> std::io::Result<std::sync::Arc<std::sync::atomic::AtomicBool>> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::signal::unix::{signal, SignalKind};
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    // Registered here, before returning, so a signal that comes right
    // after is already caught.
    let (mut int, mut term) = runtime.block_on(async {
        Ok::<_, std::io::Error>((signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?))
    })?;
    let set = flag.clone();
    std::thread::Builder::new()
        .name("vaultferry-signals".into())
        .spawn(move || {
            runtime.block_on(async move {
                loop {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                    if set.swap(true, Ordering::SeqCst) {
                        std::process::exit(130);
                    }
                    eprintln!("stopping after the batch in flight (signal again to stop at once)");
                }
            });
        })?;
    Ok(flag)
}

/// Signals are not caught off Unix: the run stops as it did before.
#[cfg(not(unix))]
pub fn stop_on_signals() -> std::io::Result<std::sync::Arc<std::sync::atomic::AtomicBool>> {
    Ok(std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)))
}

/// A fresh run id: time plus randomness, sortable by start.
pub fn new_run_id() -> String {
    use rand::Rng;
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let r: u32 = rand::thread_rng().gen();
    format!("run-{secs}-{r:08x}")
}

/// Applies the changeset. `snapshot` is the one the changeset was diffed
/// against (ids of unchanged objects come from it).
pub fn apply(
    changeset: &Changeset,
    snapshot: &Snapshot,
    workspace: &dyn Workspace,
    options: &ApplyOptions,
    reporter: &mut dyn Reporter,
) -> Result<ApplyOutcome, ApplyError> {
    let run_id = new_run_id();
    let interrupted_runs = workspace.begin_run(&NewRun {
        id: run_id.clone(),
        source_file: changeset.plan.file.clone(),
        actor: options.actor.clone(),
        scope: crate::diff::source_scope(&changeset.plan),
    })?;
    let mut applier = Applier::new(changeset, snapshot, workspace, options, run_id.clone());
    let result = applier.run(reporter);
    let outcome = |a: Applier<'_>, stored: StoredCounts| ApplyOutcome {
        run_id: run_id.clone(),
        interrupted_runs: interrupted_runs.clone(),
        written: a.written,
        invitations: a.sent.clone(),
        warnings: a.warnings.clone(),
        stored,
    };
    match result {
        Ok(()) => {
            let stored = stored::read_back(changeset, workspace)?;
            let summary = serde_json::json!({
                "written": applier.written,
                "counts": stored.counts,
                "holds": stored.holds(),
                "mismatches": stored.mismatches,
            })
            .to_string();
            workspace.finish_run(&run_id, RunState::Completed, &summary)?;
            Ok(outcome(applier, stored))
        }
        // A simulated crash leaves the run `running`, as a real one would.
        Err(e @ ApplyError::Interrupted { .. }) => Err(e),
        Err(ApplyError::Stopped { .. }) => {
            let summary = serde_json::json!({ "written": applier.written, "stopped": "on request" }).to_string();
            workspace.finish_run(&run_id, RunState::Interrupted, &summary)?;
            Err(ApplyError::Stopped {
                run_id: run_id.clone(),
                written: applier.written,
            })
        }
        Err(e) => {
            let summary = serde_json::json!({ "written": applier.written }).to_string();
            // The run's failure is what the user needs; a second failure
            // recording it would hide it.
            let _ = workspace.finish_run(&run_id, RunState::Failed, &summary);
            Err(e)
        }
    }
}

/// One batch, honouring the test hook; `written` counts committed writes.
fn commit_batch(
    ws: &dyn Workspace,
    options: &ApplyOptions,
    run_id: &str,
    written: &mut usize,
    writes: &mut Vec<Write>,
) -> Result<Vec<i64>, ApplyError> {
    if writes.is_empty() {
        return Ok(Vec::new());
    }
    if options
        .stop
        .as_ref()
        .is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst))
    {
        return Err(ApplyError::Stopped {
            run_id: run_id.to_owned(),
            written: *written,
        });
    }
    if let Some(stop) = options.stop_after_writes {
        if *written + writes.len() > stop {
            let keep = stop.saturating_sub(*written);
            if keep > 0 {
                // A crash mid-batch: the writes before it roll back with it.
                writes.truncate(keep);
                writes.push(Write::Interrupt);
                let _ = ws.apply_batch(run_id, writes);
            }
            return Err(ApplyError::Interrupted {
                run_id: run_id.to_owned(),
                written: *written,
            });
        }
    }
    let ids = ws.apply_batch(run_id, writes)?;
    *written += writes.len();
    Ok(ids)
}

struct Applier<'a> {
    cs: &'a Changeset,
    index: PlanIndex<'a>,
    snapshot: &'a Snapshot,
    ws: &'a dyn Workspace,
    options: &'a ApplyOptions,
    run_id: String,
    written: usize,
    /// Ids by import key: from the snapshot, then from each batch.
    ids: HashMap<&'a ImportKey, i64>,
    members: HashMap<String, i64>,
    teams: HashMap<String, i64>,
    sent: Vec<SentInvitation>,
    warnings: Vec<String>,
}

impl<'a> Applier<'a> {
    fn new(
        cs: &'a Changeset,
        snapshot: &'a Snapshot,
        ws: &'a dyn Workspace,
        options: &'a ApplyOptions,
        run_id: String,
    ) -> Applier<'a> {
        // A re-run with nothing to write (the common case on a million
        // items) needs neither index: building them was most of its apply.
        let writes = cs.changes.iter().any(|c| cs.writes(c));
        let mut ids = HashMap::default();
        if writes {
            ids.reserve(cs.changes.len());
            for c in &cs.changes {
                if let (Some(id), Action::Unchanged | Action::Update | Action::Conflict | Action::Skip) =
                    (c.existing, c.action)
                {
                    ids.insert(&c.key, id);
                }
            }
        }
        let index = if writes {
            PlanIndex::new(&cs.plan)
        } else {
            PlanIndex::empty(&cs.plan)
        };
        Applier {
            cs,
            index,
            snapshot,
            ws,
            options,
            run_id,
            written: 0,
            ids,
            members: snapshot
                .members
                .iter()
                .map(|m| (m.email.to_lowercase(), m.id))
                .collect(),
            teams: snapshot.teams.iter().map(|t| (t.name.to_lowercase(), t.id)).collect(),
            sent: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn run(&mut self, reporter: &mut dyn Reporter) -> Result<(), ApplyError> {
        let planned = self.planned_invitations();
        let (count, policy) = (planned.len(), &self.snapshot.workspace.password_policy);
        std::thread::scope(|scope| {
            let hashing = scope.spawn(move || invitations::hashed_passwords(count, policy));
            self.teams(reporter)?;
            self.phase(reporter, "collections", &[ObjectKind::Collection], |a, c| {
                a.collection(c)
            })?;
            self.phase(
                reporter,
                "accounts and secrets",
                &[ObjectKind::Account, ObjectKind::Secret],
                |a, c| a.item(c),
            )?;
            let hashed = hashing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            self.invitations(reporter, planned, hashed)?;
            self.phase(reporter, "grants", &[ObjectKind::Grant], |a, c| a.grant(c))
        })
    }

    /// The invitations to write, in the plan's order.
    fn planned_invitations(&self) -> Vec<&'a PlannedInvitation> {
        let index = &self.index;
        self.to_write(&[ObjectKind::Invitation])
            .into_iter()
            .filter_map(|c| index.invitations.get(&c.key).copied())
            .collect()
    }

    fn to_write(&self, kinds: &[ObjectKind]) -> Vec<&'a Change> {
        let cs = self.cs;
        cs.changes
            .iter()
            .filter(|c| kinds.contains(&c.kind) && cs.writes(c))
            .collect()
    }

    /// Writes one phase batch by batch. `build` turns a change into its
    /// write, or `None` (with a warning) when it cannot be written. A
    /// subcollection whose parent waits in the current batch flushes the
    /// batch first, so its parent's id is known (parents come first).
    fn phase(
        &mut self,
        reporter: &mut dyn Reporter,
        name: &str,
        kinds: &[ObjectKind],
        build: impl Fn(&mut Self, &Change) -> Option<Write>,
    ) -> Result<(), ApplyError> {
        let mut changes = self.to_write(kinds);
        if !kinds.contains(&ObjectKind::Collection) {
            // Items and grants depend only on earlier phases, so their order
            // is free: see `key_order`. Collections keep the plan's order:
            // parents first.
            key_order::by_kind_and_key(&mut changes);
            return self.pipelined(reporter, name, changes, build);
        }
        reporter.phase_started(name, changes.len());
        let batch_size = self.options.batch_size.max(1);
        let mut writes = Vec::with_capacity(batch_size.min(changes.len()));
        let mut keys: Vec<&'a ImportKey> = Vec::with_capacity(batch_size.min(changes.len()));
        let mut done = 0;
        for c in changes {
            let parent_pending = self
                .index
                .collections
                .get(&c.key)
                .and_then(|p| p.parent.as_ref())
                .is_some_and(|p| keys.contains(&p));
            if parent_pending || writes.len() >= batch_size {
                done += self.flush(&mut writes, &mut keys)?;
                reporter.item_done(name, done);
            }
            if let Some(w) = build(self, c) {
                keys.push(&c.key);
                writes.push(w);
            }
        }
        done += self.flush(&mut writes, &mut keys)?;
        reporter.item_done(name, done);
        reporter.phase_finished(name);
        Ok(())
    }

    /// A phase whose writes do not depend on each other (items, grants):
    /// the next batch is built (its items copied out of the plan) on this
    /// thread while the store commits the previous one on another, so a
    /// million-item run keeps both cores busy instead of alternating. At
    /// most two built batches wait; a failed batch stops the builder at its
    /// next hand-over, and nothing after it is written.
    fn pipelined(
        &mut self,
        reporter: &mut dyn Reporter,
        name: &str,
        changes: Vec<&'a Change>,
        build: impl Fn(&mut Self, &Change) -> Option<Write>,
    ) -> Result<(), ApplyError> {
        use std::sync::mpsc;
        type Done<'k> = Result<(Vec<&'k ImportKey>, Vec<i64>, Vec<Write>), ApplyError>;
        reporter.phase_started(name, changes.len());
        let batch_size = self.options.batch_size.max(1);
        let (ws, options, run_id) = (self.ws, self.options, self.run_id.clone());
        let mut written = self.written;
        let (to_writer, batches) = mpsc::sync_channel::<(Vec<Write>, Vec<&'a ImportKey>)>(1);
        let (to_builder, results) = mpsc::channel::<Done<'a>>();
        let mut done = 0;
        let mut failed = None;
        let mut spare: Vec<Vec<Write>> = Vec::new();
        let mut record = |applier: &mut Self, result: Done<'a>, spare: &mut Vec<Vec<Write>>| match result {
            Ok((keys, ids, mut used)) => {
                done += keys.len();
                for (key, id) in keys.into_iter().zip(ids) {
                    applier.ids.insert(key, id);
                }
                // Dropped here, not on the store's thread.
                used.clear();
                spare.push(used);
                reporter.item_done(name, done);
                None
            }
            Err(e) => Some(e),
        };
        let written_after = std::thread::scope(|scope| {
            let writer = scope.spawn(move || {
                for (mut writes, keys) in batches {
                    let result =
                        commit_batch(ws, options, &run_id, &mut written, &mut writes).map(|ids| (keys, ids, writes));
                    let stop = result.is_err();
                    if to_builder.send(result).is_err() || stop {
                        break;
                    }
                }
                crate::import::thread_cpu("writing");
                written
            });
            let mut chunk = changes.into_iter().peekable();
            while chunk.peek().is_some() && failed.is_none() {
                let mut writes = spare.pop().unwrap_or_else(|| Vec::with_capacity(batch_size));
                let mut keys = Vec::with_capacity(batch_size);
                for c in chunk.by_ref() {
                    if let Some(w) = build(self, c) {
                        keys.push(&c.key);
                        writes.push(w);
                    }
                    if writes.len() >= batch_size {
                        break;
                    }
                }
                if writes.is_empty() {
                    continue;
                }
                if to_writer.send((writes, keys)).is_err() {
                    break;
                }
                while let Ok(result) = results.try_recv() {
                    let error = record(self, result, &mut spare);
                    if failed.is_none() {
                        failed = error;
                    }
                }
            }
            drop(to_writer);
            let written = writer.join();
            for result in results.try_iter() {
                let error = record(self, result, &mut spare);
                if failed.is_none() {
                    failed = error;
                }
            }
            written
        });
        match written_after {
            Ok(n) => self.written = n,
            Err(panic) => std::panic::resume_unwind(panic),
        }
        if let Some(e) = failed {
            return Err(e);
        }
        reporter.phase_finished(name);
        Ok(())
    }

    /// Commits the pending writes and records their ids.
    fn flush(&mut self, writes: &mut Vec<Write>, keys: &mut Vec<&'a ImportKey>) -> Result<usize, ApplyError> {
        let n = writes.len();
        let ids = self.commit(writes)?;
        for (key, id) in keys.drain(..).zip(ids) {
            self.ids.insert(key, id);
        }
        Ok(n)
    }

    /// One batch, honouring the test hook.
    ///
    /// Empties `writes` but keeps its buffer: a batch of 20 000 items is a
    /// few MB, and freeing and regrowing it per batch made the allocator
    /// consolidate its free lists every time.
    fn commit(&mut self, writes: &mut Vec<Write>) -> Result<Vec<i64>, ApplyError> {
        let ids = commit_batch(self.ws, self.options, &self.run_id, &mut self.written, writes)?;
        writes.clear();
        Ok(ids)
    }

    fn teams(&mut self, reporter: &mut dyn Reporter) -> Result<(), ApplyError> {
        let changes = self.to_write(&[ObjectKind::Team]);
        reporter.phase_started("teams", changes.len());
        let mut writes = Vec::new();
        let mut names = Vec::new();
        for c in &changes {
            let Some(t) = self.index.teams.get(&c.key) else {
                continue;
            };
            let members = t
                .members
                .iter()
                .filter_map(|e| self.members.get(&e.to_lowercase()).copied())
                .collect();
            writes.push(Write::Team {
                key: t.key.clone(),
                name: t.name.clone(),
                members,
            });
            names.push(t.name.to_lowercase());
        }
        // Teams are few: one batch.
        let ids = self.commit(&mut writes)?;
        for (name, id) in names.into_iter().zip(ids) {
            self.teams.insert(name, id);
        }
        reporter.item_done("teams", changes.len());
        reporter.phase_finished("teams");
        Ok(())
    }

    /// Writes `planned` with their passwords `hashed` (one each, in order),
    /// then delivers every invitation still pending.
    ///
    /// An invitation's row commits `pending` (with its password's hash)
    /// before its email goes out, and is marked delivered only once the
    /// mail server accepted it or its `.eml` is durably written: a run that
    /// dies in between leaves it pending, never lost, and never an email
    /// whose password matches no stored hash.
    fn invitations(
        &mut self,
        reporter: &mut dyn Reporter,
        planned: Vec<&'a PlannedInvitation>,
        hashed: Vec<invitations::HashedPassword>,
    ) -> Result<(), ApplyError> {
        reporter.phase_started("invitations", planned.len());
        let mut taken: std::collections::HashSet<String> = self
            .snapshot
            .invitations
            .iter()
            .map(|i| i.username.to_lowercase())
            .collect();
        let mut done = 0;
        let batch_size = self.options.batch_size.max(1);
        let mut hashed = hashed.into_iter();
        let mut written = Vec::new();
        for chunk in planned.chunks(batch_size) {
            let mut writes = Vec::new();
            let mut mails = Vec::new();
            let named: Vec<_> = chunk
                .iter()
                .map(|inv| (*inv, invitations::username_for(&inv.email, &mut taken)))
                .collect();
            for ((inv, username), hashed) in named.into_iter().zip(hashed.by_ref()) {
                let (password, hash, salt) = hashed.map_err(ApplyError::Mail)?;
                let partner = inv.partner.as_deref().and_then(|p| {
                    self.snapshot
                        .partners
                        .iter()
                        .find(|w| w.name.eq_ignore_ascii_case(p))
                        .map(|w| w.id)
                });
                writes.push(Write::Invitation(NewGuestInvitation {
                    email: inv.email.clone(),
                    name: inv.name.clone(),
                    username: username.clone(),
                    password_hash: hash,
                    salt,
                    partner,
                    partner_admin: inv.guest_admin,
                    import_key: inv.key.clone(),
                }));
                mails.push((
                    inv.key.clone(),
                    self.mail(&inv.email, inv.name.clone(), username, password),
                ));
            }
            let ids = self.commit(&mut writes)?;
            for ((_, m), id) in mails.iter().zip(ids) {
                self.members.insert(m.email.clone(), id);
            }
            written.extend(mails);
            done += chunk.len();
            reporter.item_done("invitations", done);
        }
        self.deliver(written)?;
        reporter.phase_finished("invitations");
        Ok(())
    }

    fn mail(&self, email: &str, name: Option<String>, username: String, password: Secret) -> invitations::Invitation {
        invitations::Invitation {
            workspace_name: self.snapshot.workspace.name.clone(),
            workspace_id: self.snapshot.workspace.id.clone(),
            email: email.to_owned(),
            name,
            username,
            password,
            join_url: invitations::join_url(self.options.base_url.as_deref(), &self.snapshot.workspace.id),
        }
    }

    /// Delivers this run's invitations (`written`, with the passwords
    /// whose hashes were just committed) and every one an earlier run left
    /// pending. The password of a left-over one was only in that run's
    /// memory, so it gets a new one whose hash replaces the stored hash in
    /// a commit of its own before the email goes: whatever reaches the
    /// guest is the password the store checks.
    fn deliver(&mut self, written: Vec<(ImportKey, invitations::Invitation)>) -> Result<(), ApplyError> {
        let mut queue = written;
        let ours: std::collections::HashSet<ImportKey> = queue.iter().map(|(k, _)| k.clone()).collect();
        for p in self.ws.pending_invitations()? {
            if ours.contains(&p.import_key) {
                continue;
            }
            let password = invitations::temporary_password(&self.snapshot.workspace.password_policy);
            let (hash, salt) = invitations::hash_password(&password).map_err(ApplyError::Mail)?;
            if self.ws.replace_invitation_password(&p.import_key, &hash, &salt)? {
                let mail = self.mail(&p.email, p.name, p.username, password);
                queue.push((p.import_key, mail));
            }
        }
        for (key, m) in &queue {
            let sent = self.send(m)?;
            let via = match &sent.delivery {
                Delivery::Outbox { .. } => "outbox",
                Delivery::Smtp { .. } => "smtp",
            };
            self.ws.invitation_delivered(key, via)?;
            self.sent.push(sent);
        }
        Ok(())
    }

    /// One email, through SMTP or into the outbox. When SMTP fails the
    /// email goes to the fallback outbox (the guest exists by then); when
    /// that fails too, the invitation stays pending for the next run.
    fn send(&mut self, m: &invitations::Invitation) -> Result<SentInvitation, ApplyError> {
        match &self.options.mailer {
            Mailer::Outbox(dir) => invitations::write_eml(dir, m).map_err(ApplyError::Mail),
            Mailer::Smtp(url) => match invitations::send_smtp(url, m) {
                Ok(sent) => Ok(sent),
                Err(e) => {
                    let fallback = self.options.fallback_outbox.clone();
                    self.warnings.push(format!(
                        "invitation to {} not sent through SMTP ({e}); written to {}",
                        m.email,
                        fallback.display()
                    ));
                    invitations::write_eml(&fallback, m).map_err(ApplyError::Mail)
                }
            },
        }
    }

    fn collection(&mut self, c: &Change) -> Option<Write> {
        let planned = *self.index.collections.get(&c.key)?;
        let parent = match &planned.parent {
            Some(p) => match self.ids.get(p) {
                Some(id) => Some(*id),
                None => {
                    self.warnings.push(format!(
                        "collection '{}' not created: its parent was not created",
                        c.label
                    ));
                    return None;
                }
            },
            None => None,
        };
        Some(Write::Collection {
            key: c.key.clone(),
            name: planned.name.clone(),
            parent,
        })
    }

    fn collection_id(&mut self, key: Option<&ImportKey>, label: &str) -> Result<Option<i64>, ()> {
        match key {
            None => Ok(None),
            Some(k) => match self.ids.get(k) {
                Some(id) => Ok(Some(*id)),
                None => {
                    self.warnings
                        .push(format!("'{label}' not written: its collection was not created"));
                    Err(())
                }
            },
        }
    }

    fn item(&mut self, c: &Change) -> Option<Write> {
        let import = ItemImport {
            import_key: Some(c.key.clone()),
            imported_hash: c.hash.clone(),
            withheld: None,
        };
        match c.kind {
            ObjectKind::Account => {
                let a = *self.index.accounts.get(&c.key)?;
                let collection = self.collection_id(a.collection.as_ref(), &a.name).ok()?;
                Some(Write::Account(Account {
                    id: 0,
                    collection,
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
                    import,
                }))
            }
            _ => {
                let s = *self.index.secrets.get(&c.key)?;
                let collection = self.collection_id(s.collection.as_ref(), &s.title).ok()?;
                Some(Write::Secret(SecretItem {
                    id: 0,
                    collection,
                    secret_type: s.secret_type,
                    title: s.title.clone(),
                    notes: s.notes.clone(),
                    fields: s.fields.clone(),
                    tags: s.tags.clone(),
                    attachments: s.attachments.clone(),
                    import,
                }))
            }
        }
    }

    fn grant(&mut self, c: &Change) -> Option<Write> {
        let g = *self.index.grants.get(&c.key)?;
        let target = if self.index.collections.contains_key(&g.target) {
            self.ids.get(&g.target).map(|id| GrantTarget::Collection(*id))
        } else if self.index.accounts.contains_key(&g.target) {
            self.ids.get(&g.target).map(|id| GrantTarget::Account(*id))
        } else {
            self.ids.get(&g.target).map(|id| GrantTarget::Secret(*id))
        };
        let grantee = match &g.grantee {
            PlannedGrantee::Member { email } | PlannedGrantee::Guest { email } => {
                self.members.get(&email.to_lowercase()).map(|id| Grantee::Member(*id))
            }
            PlannedGrantee::Team { name } => self
                .teams
                .get(&name.to_lowercase())
                .or_else(|| self.ids.get(&team_key(name)))
                .map(|id| Grantee::Team(*id)),
            PlannedGrantee::Partner { name } => self
                .snapshot
                .partners
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(name))
                .map(|p| Grantee::Partner(p.id)),
            PlannedGrantee::Partnership { name } => self
                .snapshot
                .partnerships
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(name))
                .map(|p| Grantee::Partnership(p.id)),
        };
        let (Some(target), Some(grantee)) = (target, grantee) else {
            self.warnings.push(format!(
                "grant {} not written: its target or grantee does not exist in the workspace",
                c.label
            ));
            return None;
        };
        Some(Write::Grant(Grant {
            id: 0,
            target,
            grantee,
            role: g.role,
            import_key: Some(g.key.clone()),
        }))
    }
}
