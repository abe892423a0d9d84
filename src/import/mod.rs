//! The import pipeline: a configured import (export, sharing, policy,
//! workspace, importer, overwrite) becomes a changeset against the
//! workspace, ready for `apply`. `plan`, `migrate` and `serve` all call
//! it, so there is one fast path: chunks of entries flow through sources →
//! mapper → diff on their own threads while the next chunk is read.
//!
//! Every stage it drives is a plain function of an earlier stage's output;
//! the pipeline only decides which path fits (streamed summary or whole
//! plan) and, for a run that writes, moves collections an earlier build
//! keyed differently before the comparison.

mod pipelined;
mod streamed;

use std::path::PathBuf;

use crate::diff::{self, Changeset};
use crate::mapper;
use crate::policy::Policy;
use crate::sources::{self, ParseOptions};
use crate::workspace::{ImportKey, Snapshot, Workspace};
use crate::Error;

pub use pipelined::{cpu_seconds_of, thread_cpu};

impl Prepared {
    /// Applies the changeset and builds the report of it at once: the
    /// report's bulk (a row per item) depends on the changeset alone, so it
    /// is made on another thread while the run writes (the store's thread
    /// is the bottleneck). `Full` lists every item; the terminal needs no
    /// row per unchanged one. The report still needs [`Report::applied`]
    /// with the outcome.
    pub fn apply_with_report(
        &self,
        options: &crate::apply::ApplyOptions,
        reporter: &mut dyn crate::apply::Reporter,
        detail: crate::report::json::Detail,
    ) -> (
        Result<crate::apply::ApplyOutcome, crate::apply::ApplyError>,
        crate::report::Report,
    ) {
        let cs = &self.changeset;
        let (outcome, report) = std::thread::scope(|scope| {
            let report = scope.spawn(move || crate::report::Report::plan_with(cs, detail));
            let outcome = crate::apply::apply(cs, &self.snapshot, self.workspace.as_ref(), options, reporter);
            (outcome, report.join())
        });
        match report {
            Ok(report) => (outcome, report),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}
pub use streamed::summarise;

/// What one import reads and how.
pub struct Import {
    pub export: PathBuf,
    pub sharing: Option<PathBuf>,
    /// The reader's options as given; the policy may add entity decoding.
    pub options: ParseOptions,
    pub policy: Policy,
    /// The member running the import (default: the workspace owner).
    pub importer: Option<String>,
    /// Write over items edited in the workspace since the last import.
    pub overwrite: bool,
    /// Whose export it is (`--owner`), when the export does not say.
    pub owner: Option<String>,
    /// Keep the digests of each entry as the readers gave it, for a check
    /// after the run ([`Prepared::source`]): `migrate`'s own verify then
    /// never reads the export a second time.
    pub keep_source: bool,
}

/// Told the name of each stage as it starts ("reading the export"), so a
/// terminal can show what is happening and a server can store it.
pub trait Stages {
    fn start(&mut self, name: &'static str);

    /// Whether [`reading`](Stages::reading) is shown: finding the total
    /// costs a pass over the file.
    fn wants_progress(&self) -> bool {
        false
    }

    /// While the export is read: the reader is at `line` of the file's
    /// `lines`, after each chunk (formats with lines only).
    fn reading(&mut self, _line: u64, _lines: u64) {}

    /// The same for a 1PUX, which has no lines: `done` of `total` bytes of
    /// its `export.data` unpacked.
    fn unpacking(&mut self, _done: u64, _total: u64) {}
}

/// The stage that starts once the export and sharing file are read and
/// mapped: a server answers the upload then.
pub const COMPARING: &str = "comparing with the workspace";

/// No one to tell.
pub struct Quiet;

impl Stages for Quiet {
    fn start(&mut self, _: &'static str) {}
}

/// What to do with collections an earlier build keyed differently
/// ([`mapper::key_moves`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyMoves {
    /// Re-key them in the store before the comparison (a run that writes).
    Write,
    /// Leave the store alone and compare as if they were moved: what the
    /// run would do after the move (`plan`).
    InMemory,
}

/// The workspace, its snapshot and the changeset of an export against it:
/// what `plan` shows and `migrate` and `serve` apply.
pub struct Prepared {
    pub workspace: Box<dyn Workspace>,
    pub snapshot: Snapshot,
    pub changeset: Changeset,
    /// With [`Import::keep_source`]: the export as `verify` keeps it (each
    /// entry's identity and value digests, its folders and sharing), made
    /// from the readers' entries before the mapper saw them, so a mapper
    /// fault cannot shape what it is checked against.
    pub source: Option<crate::verify::Source>,
}

impl Prepared {
    /// The end of the command: the workspace is closed properly; the
    /// snapshot and changeset (a million items each on a big run) have
    /// their secrets zeroed and are left to the process's exit instead of
    /// being freed item by item (see `secret::release_at_exit`).
    pub fn release(self) {
        drop(self.workspace);
        crate::secret::release_at_exit(self.snapshot);
        crate::secret::release_at_exit(self.changeset);
    }
}

/// The changeset of `import` against the workspace `open` opens.
pub fn prepare(
    import: &Import,
    open: impl FnOnce() -> Result<Box<dyn Workspace>, Error>,
    stages: &mut dyn Stages,
    moves: KeyMoves,
) -> Result<Prepared, Error> {
    stages.start("reading the workspace");
    let workspace = open()?;
    prepare_on(workspace, import, stages, Some(moves))
}

/// [`prepare`] once the workspace is open; `moves` is `None` once the
/// moves were made (the run starts again on the moved workspace).
fn prepare_on(
    workspace: Box<dyn Workspace>,
    import: &Import,
    stages: &mut dyn Stages,
    moves: Option<KeyMoves>,
) -> Result<Prepared, Error> {
    let mut snapshot = workspace.snapshot_base()?;
    let (importer, options) = importer_and_options(&snapshot, import)?;
    let kind = export_kind(import, &options)?;
    let file = import.export.display().to_string();
    let policy = &import.policy;
    let owner = export_owner(import, &options);
    let mut mapping =
        mapper::MapStream::whole(kind, &file, policy, &snapshot, &importer, &owner).map_err(|e| Error::Usage(e.0))?;
    // Each chunk of entries is mapped on a second thread while the next
    // is read, and its items hashed on a third while the next is mapped
    // (mapping is the one step that cannot be split, so it waits on
    // nothing else); the workspace's items are read ahead on a fourth.
    // Only what needs the plan is left for the comparison.
    let mut hashes = diff::ItemHashes::default();
    let (mut accounts, mut secrets) = (Vec::new(), Vec::new());
    // A million items are a few hundred megabytes: room for as many as the
    // export's size suggests (`sources::entries_expected`), so they are
    // not copied (and their pages faulted in) again each time the lists
    // double.
    let room = sources::entries_expected(&import.export);
    let _ = accounts.try_reserve(room * 3 / 4);
    let _ = secrets.try_reserve(room / 2);
    let mut digested = Vec::new();
    if import.keep_source {
        let _ = digested.try_reserve(room);
    }
    stages.start("reading and mapping the export");
    let (read, read_ahead) = std::thread::scope(|scope| {
        let read_ahead = scope.spawn(|| workspace.read_ahead());
        let read = pipelined::read(
            &import.export,
            &options,
            &mut |entries| {
                // Digested before the mapper takes them: what the check
                // after the run holds the store to is the readers' word.
                let digested: Vec<crate::verify::source::SourceItem> = if import.keep_source {
                    entries.iter().map(crate::verify::source::digest).collect()
                } else {
                    Vec::new()
                };
                let mut items = (
                    Vec::with_capacity(entries.len()),
                    Vec::with_capacity(entries.len() / 2),
                    digested,
                );
                for e in entries {
                    match mapping.entry(e) {
                        Some(mapper::PlannedItem::Account(a)) => items.0.push(a),
                        Some(mapper::PlannedItem::Secret(s)) => items.1.push(s),
                        None => {}
                    }
                }
                items
            },
            &mut |(mut a, mut s, mut d)| {
                hashes.extend(&a, &s);
                accounts.append(&mut a);
                secrets.append(&mut s);
                digested.append(&mut d);
            },
            &mut *stages,
        );
        (read, read_ahead.join())
    });
    let mut vault = read?;
    let read_ahead = read_ahead.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    if let Some(rows) = &read_ahead {
        diff::fingerprints::pair_with_workspace(&mut accounts, &mut secrets, &hashes, rows);
    }
    // The rows read ahead are settled against the planned keys and hashes
    // on the pool while the folders and sharing are mapped on this thread:
    // neither needs the other.
    let (finished, settled) = std::thread::scope(|scope| {
        let settle = scope.spawn(|| read_ahead.map(|rows| diff::settle_read_ahead(rows, &accounts, &secrets, &hashes)));
        let finished = (|| -> Result<Option<mapper::Plan>, Error> {
            if let Some(sharing) = &import.sharing {
                stages.start("reading the sharing file");
                sources::read_sharing(&mut vault, sharing, &options)?;
            }
            stages.start("mapping the folders and sharing");
            // The readers name the vault as they are told: never otherwise
            // today.
            Ok((vault.source == kind && vault.file == file).then(|| mapping.finish(&vault).0))
        })();
        (
            finished,
            settle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        )
    });
    let finished = finished?;
    if let (Some(plan), Some(moves)) = (finished.as_ref(), moves) {
        let found = key_moves(kind, plan, &snapshot, workspace.as_ref())?;
        if !found.is_empty() {
            stages.start("moving collections keyed by an earlier build to this build's keys");
            // A dry run moves them in a copy of the store and shows the
            // run that would follow the move; a store that cannot be
            // copied is shown unmoved.
            let copy = match moves {
                KeyMoves::Write => None,
                KeyMoves::InMemory => workspace.scratch_copy()?,
            };
            let moved_in = copy.as_deref().unwrap_or(workspace.as_ref());
            if moves == KeyMoves::Write || copy.is_some() {
                let whole = moved_in.snapshot()?;
                let rehashed = diff::rekey::rehash_moved(&whole, &found);
                drop(whole);
                if moved_in.move_collection_keys(&found, &rehashed)? > 0 {
                    // Everything read so far was compared with the old
                    // keys: once, the run starts again on the moved
                    // workspace.
                    drop((finished, accounts, secrets, hashes, settled, digested));
                    return prepare_on(copy.unwrap_or(workspace), import, stages, None);
                }
            }
        }
    }
    let source = (import.keep_source && finished.is_some())
        .then(|| crate::verify::Source::of(&vault, std::mem::take(&mut digested), &import.export));
    let changeset = match finished {
        Some(mut plan) => {
            plan.accounts = accounts;
            plan.secrets = secrets;
            stages.start(COMPARING);
            diff::against_workspace_settled(
                workspace.as_ref(),
                plan,
                hashes,
                &mut snapshot,
                import.overwrite,
                settled,
            )?
        }
        None => {
            // The whole read names the vault as the vault says.
            let mut vault = sources::read_export(&import.export, &options)?;
            if let Some(sharing) = &import.sharing {
                sources::read_sharing(&mut vault, sharing, &options)?;
            }
            let plan = mapper::map_entries_of(vault, policy, &snapshot, &importer, import.owner.as_deref())
                .map_err(|e| Error::Usage(e.0))?;
            stages.start(COMPARING);
            diff::against_workspace(workspace.as_ref(), plan, &mut snapshot, import.overwrite)?
        }
    };
    Ok(Prepared {
        workspace,
        snapshot,
        changeset,
        source,
    })
}

/// The collections of `plan` the workspace holds under a key an earlier
/// build gave them. A collection moves to a person's personal key only
/// when a run of that person's export made it (an admin who imported two
/// people's exports under an earlier build holds one collection of both).
fn key_moves(
    kind: crate::model::SourceKind,
    plan: &mapper::Plan,
    snapshot: &Snapshot,
    workspace: &dyn Workspace,
) -> Result<Vec<crate::workspace::KeyMove>, Error> {
    let existing: std::collections::HashSet<&str> = snapshot
        .collections
        .iter()
        .filter_map(|c| c.import_key.as_ref().map(ImportKey::as_str))
        .collect();
    let moves = mapper::key_moves(kind, &plan.collections, |k| existing.contains(k));
    let personal: Vec<&ImportKey> = moves
        .iter()
        .filter(|m| mapper::is_personal_key(kind, &m.to))
        .map(|m| &m.from)
        .collect();
    if personal.is_empty() {
        return Ok(moves);
    }
    let theirs = workspace.created_by_source(&diff::source_scope(plan), &personal)?;
    let refused: std::collections::HashSet<&ImportKey> = personal
        .iter()
        .zip(theirs)
        .filter(|(_, ours)| !ours)
        .map(|(k, _)| *k)
        .collect();
    Ok(moves.iter().filter(|m| !refused.contains(&m.from)).cloned().collect())
}

/// Whose export it is, by `--owner` and by what the export says.
fn export_owner(import: &Import, options: &ParseOptions) -> mapper::ExportOwner {
    mapper::ExportOwner {
        given: import.owner.clone(),
        in_file: sources::export_owner(&import.export, options),
    }
}

/// The export's format, as the reader will take it.
fn export_kind(import: &Import, options: &ParseOptions) -> Result<crate::model::SourceKind, Error> {
    Ok(match options.format {
        Some(kind) => kind,
        None => sources::detect::detect_path(&import.export)?,
    })
}

/// The importing member's email (checked) and the export's parse options
/// (the policy may turn on entity decoding).
fn importer_and_options(snapshot: &Snapshot, import: &Import) -> Result<(String, ParseOptions), Error> {
    let importer = mapper::resolve_importer(snapshot, import.importer.as_deref())
        .map_err(|e| Error::Usage(e.0))?
        .email
        .clone();
    let mut options = import.options.clone();
    options.decode_html_entities |= import.policy.decode_html_entities;
    Ok((importer, options))
}
