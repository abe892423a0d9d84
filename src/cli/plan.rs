//! `vaultferry plan`: what an import would create, without writing anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::{Output, SourceArgs};
use crate::diff::{self, Action, ChangeSummary, Changeset, ObjectKind};
use crate::mapper::{self, ItemCounts, Plan, PlannedCollection, PlannedGrantee};
use crate::model::{Severity, SourceKind};
use crate::policy::Policy;
use crate::report::{self, Report};
use crate::sources;
use crate::workspace::{ImportKey, ItemRole, Snapshot, Workspace};
use crate::Error;

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The import policy (vaultferry.toml, keys in formats/policy.md);
    /// without it, the defaults.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The workspace database (created by `workspace init`).
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    /// The member running the import: an active owner, super admin or admin
    /// (default: the workspace owner). Guests and login-only members are refused.
    #[arg(long = "as", value_name = "EMAIL")]
    pub importer: Option<String>,
    /// Print the whole plan as JSON, secrets redacted (keys in formats/plan.md).
    #[arg(long)]
    pub json: bool,
    /// Also write the dry-run report to FILE; the format follows the
    /// extension: .json (formats/report.md), .md, .html (one page to open or
    /// mail) or .csv (the unmatched users). Repeatable. No secret values.
    #[arg(long, value_name = "FILE")]
    pub report: Vec<PathBuf>,
    /// Exit with status 1 when the import would write anything (create,
    /// update) or the export has error findings; for CI and cron checks.
    #[arg(long)]
    pub fail_on_changes: bool,
}

pub fn run(args: &PlanArgs, out: &mut Output) -> Result<ExitCode, Error> {
    let reports = report_formats(&args.report)?;
    // The summary needs no item kept: the export is planned a chunk at a
    // time. `--json` and the reports list every item, so they need the
    // whole plan.
    if !args.json && reports.is_empty() {
        let streamed = prepare_streamed(&args.source, args.policy.as_deref(), &args.db, args.importer.as_deref())?;
        if let Some(s) = streamed {
            summary(&s.plan, &s.items, out)?;
            changes(&s.changes, out)?;
            out.flush()?;
            let blocking = s.plan.findings_by_severity(Severity::Error) > 0;
            let fail = args.fail_on_changes && (s.changes.to_write() > 0 || blocking);
            return Ok(if fail { ExitCode::from(1) } else { ExitCode::SUCCESS });
        }
    }
    let prepared = prepare(
        &args.source,
        args.policy.as_deref(),
        &args.db,
        args.importer.as_deref(),
        false,
    )?;
    let plan = &prepared.changeset.plan;
    if args.json {
        out.json(plan, false)?;
    } else {
        summary(plan, &ItemCounts::of(plan), out)?;
        changes(&prepared.changeset.summary(), out)?;
    }
    out.flush()?;
    if !reports.is_empty() {
        write_reports(&Report::plan(&prepared.changeset), &reports)?;
    }
    let blocking = plan.findings_by_severity(Severity::Error) > 0;
    if args.fail_on_changes && (prepared.changeset.has_changes() || blocking) {
        prepared.release();
        return Ok(ExitCode::from(1));
    }
    prepared.release();
    Ok(ExitCode::SUCCESS)
}

/// The workspace, its snapshot and the changeset of an export against it:
/// what `plan` shows and `migrate` applies.
pub struct Prepared {
    pub workspace: Box<dyn Workspace>,
    pub snapshot: Snapshot,
    pub changeset: Changeset,
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

pub fn prepare(
    source: &SourceArgs,
    policy: Option<&Path>,
    db: &Path,
    importer: Option<&str>,
    overwrite: bool,
) -> Result<Prepared, Error> {
    prepare_in(
        || Ok(crate::workspace::open_sqlite(db)?),
        source,
        policy,
        importer,
        overwrite,
        false,
    )
}

/// [`prepare`] against any workspace store (`migrate --target URL` opens
/// the HTTP one); `open` runs after the policy is loaded. With
/// `move_keys` (migrate), collections an earlier build keyed differently
/// are re-keyed in the store first ([`mapper::key_moves`]); `plan` writes
/// nothing, so it shows them as the run would find them unmoved.
pub fn prepare_in(
    open: impl FnOnce() -> Result<Box<dyn Workspace>, Error>,
    source: &SourceArgs,
    policy: Option<&Path>,
    importer: Option<&str>,
    overwrite: bool,
    move_keys: bool,
) -> Result<Prepared, Error> {
    // Configuration first: a bad policy or a refused importer stops the run
    // before the export is read.
    let policy = load_policy(policy)?;
    let mut stages = super::stages::Stages::new();
    stages.start("reading the workspace");
    let workspace = open()?;
    prepare_on(workspace, &policy, stages, source, importer, overwrite, move_keys)
}

/// [`prepare_in`] once the workspace is open.
fn prepare_on(
    workspace: Box<dyn Workspace>,
    policy: &Policy,
    mut stages: super::stages::Stages,
    source: &SourceArgs,
    requested_importer: Option<&str>,
    overwrite: bool,
    move_keys: bool,
) -> Result<Prepared, Error> {
    let mut snapshot = workspace.snapshot_base()?;
    let (importer, options) = importer_and_options(&snapshot, requested_importer, source, policy)?;
    let kind = export_kind(source, &options)?;
    let file = source.export.display().to_string();
    let owner = source.export_owner(&options);
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
    let room = sources::entries_expected(&source.export);
    let _ = accounts.try_reserve(room * 3 / 4);
    let _ = secrets.try_reserve(room / 2);
    stages.start("reading and mapping the export");
    let (read, read_ahead) = std::thread::scope(|scope| {
        let read_ahead = scope.spawn(|| workspace.read_ahead());
        let read = read_pipelined(
            source,
            &options,
            &mut |entries| {
                let mut items = (Vec::with_capacity(entries.len()), Vec::with_capacity(entries.len() / 2));
                for e in entries {
                    match mapping.entry(e) {
                        Some(mapper::PlannedItem::Account(a)) => items.0.push(a),
                        Some(mapper::PlannedItem::Secret(s)) => items.1.push(s),
                        None => {}
                    }
                }
                items
            },
            &mut |(mut a, mut s)| {
                hashes.extend(&a, &s);
                accounts.append(&mut a);
                secrets.append(&mut s);
            },
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
            if let Some(sharing) = &source.sharing {
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
    if let Some(plan) = finished.as_ref().filter(|_| move_keys) {
        let existing: std::collections::HashSet<&str> = snapshot
            .collections
            .iter()
            .filter_map(|c| c.import_key.as_ref().map(ImportKey::as_str))
            .collect();
        let moves = mapper::key_moves(kind, &plan.collections, |k| existing.contains(k));
        // A collection moves to a person's personal key only when a run of
        // that person's export made it (an admin who imported two people's
        // exports under an earlier build holds one collection of both).
        let personal: Vec<&ImportKey> = moves
            .iter()
            .filter(|m| mapper::is_personal_key(kind, &m.to))
            .map(|m| &m.from)
            .collect();
        let theirs = workspace.created_by_source(&diff::source_scope(plan), &personal)?;
        let refused: std::collections::HashSet<&ImportKey> = personal
            .iter()
            .zip(theirs)
            .filter(|(_, ours)| !ours)
            .map(|(k, _)| *k)
            .collect();
        let moves: Vec<_> = moves.iter().filter(|m| !refused.contains(&m.from)).cloned().collect();
        if !moves.is_empty() {
            stages.start("moving collections keyed by an earlier build to this build's keys");
            let whole = workspace.snapshot()?;
            let rehashed = diff::rekey::rehash_moved(&whole, &moves);
            drop(whole);
            if workspace.move_collection_keys(&moves, &rehashed)? > 0 {
                // Everything read so far was compared with the old keys:
                // once, the run starts again on the moved workspace.
                drop((finished, accounts, secrets, hashes, settled));
                return prepare_on(workspace, policy, stages, source, requested_importer, overwrite, false);
            }
        }
    }
    let changeset = match finished {
        Some(mut plan) => {
            plan.accounts = accounts;
            plan.secrets = secrets;
            stages.start("comparing with the workspace");
            diff::against_workspace_settled(workspace.as_ref(), plan, hashes, &mut snapshot, overwrite, settled)?
        }
        None => {
            // The whole read names the vault as the vault says.
            let mut vault = sources::read_export(&source.export, &options)?;
            if let Some(sharing) = &source.sharing {
                sources::read_sharing(&mut vault, sharing, &options)?;
            }
            let plan = mapper::map_entries_of(vault, policy, &snapshot, &importer, source.owner.as_deref())
                .map_err(|e| Error::Usage(e.0))?;
            stages.start("comparing with the workspace");
            diff::against_workspace(workspace.as_ref(), plan, &mut snapshot, overwrite)?
        }
    };
    Ok(Prepared {
        workspace,
        snapshot,
        changeset,
    })
}

/// The export's format, as the reader will take it.
fn export_kind(source: &SourceArgs, options: &sources::ParseOptions) -> Result<crate::model::SourceKind, Error> {
    Ok(match options.format {
        Some(kind) => kind,
        None => sources::detect::detect_path(&source.export)?,
    })
}

/// Reads the export a chunk of entries at a time on this thread, hands
/// each chunk to `map` on a second one and what that makes of it to
/// `consume` on a third: reading the next chunk, mapping this one and
/// consuming the last overlap, and no stage waits for a later one to
/// finish a chunk (two are queued between stages). Reading is the longest
/// stage, so the entries' fingerprint ids are numbered on the second.
fn read_pipelined<T: Send>(
    source: &SourceArgs,
    options: &sources::ParseOptions,
    map: &mut (dyn FnMut(Vec<crate::model::Entry>) -> T + Send),
    consume: &mut (dyn FnMut(T) + Send),
) -> Result<crate::model::Vault, Error> {
    let (chunks, received) = std::sync::mpsc::sync_channel::<Vec<crate::model::Entry>>(2);
    let (mapped, to_consume) = std::sync::mpsc::sync_channel::<T>(2);
    let (read, done) = std::thread::scope(|scope| {
        let consumer = scope.spawn(move || {
            for item in to_consume {
                consume(item);
            }
            super::stages::thread_cpu("deciding");
        });
        let mapper = scope.spawn(move || {
            let mut numbering = sources::Numbering::for_export(&source.export);
            for mut entries in received {
                numbering.assign(&mut entries);
                // The consumer only stops early by panicking, re-raised below.
                let _ = mapped.send(map(entries));
            }
            super::stages::thread_cpu("mapping");
        });
        let read = sources::read_export_chunks(&source.export, options, plan_chunk(), &mut |entries| {
            // The mapper only stops early by panicking, re-raised below.
            let _ = chunks.send(entries);
        });
        drop(chunks);
        super::stages::thread_cpu("reading");
        (read, [mapper.join(), consumer.join()])
    });
    for result in done {
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }
    Ok(read?)
}

/// The importing member's email (checked) and the export's parse options
/// (the policy may turn on entity decoding).
fn importer_and_options(
    snapshot: &Snapshot,
    importer: Option<&str>,
    source: &SourceArgs,
    policy: &Policy,
) -> Result<(String, sources::ParseOptions), Error> {
    let importer = mapper::resolve_importer(snapshot, importer)
        .map_err(|e| Error::Usage(e.0))?
        .email
        .clone();
    let mut options = source.options();
    options.decode_html_entities |= policy.decode_html_entities;
    Ok((importer, options))
}

fn load_policy(policy: Option<&Path>) -> Result<Policy, Error> {
    Ok(match policy {
        Some(path) => Policy::load(path)?,
        None => Policy::default(),
    })
}

/// Entries per chunk of a plan that keeps no item: a few megabytes, and
/// three chunks in flight (one read, one queued, one decided). 1024 to
/// 8192 took the same CPU time on the 1M benchmark export; the peak RSS
/// went from 197 to 240 MB.
/// `VAULTFERRY_PLAN_CHUNK` sets it (the tests use tiny chunks, so that
/// chunk boundaries fall everywhere).
fn plan_chunk() -> usize {
    std::env::var("VAULTFERRY_PLAN_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(2048)
}

/// The most accounts and secrets a workspace may hold for `plan` to take
/// the streamed path: ~1 KB each held whole, 50 MB at most.
const STREAMED_WORKSPACE_ITEMS: usize = 50_000;

/// [`prepare`] for the summary alone: each chunk of entries is mapped,
/// compared with the workspace and dropped ([`diff::stream`]), so `plan`
/// holds a few chunks, a name per item and the plan's other objects, not
/// the export. `None` when the plan must be decided whole after all
/// ([`diff::stream::NeedsWholePlan`]), or the workspace holds too many
/// items to read whole.
fn prepare_streamed(
    source: &SourceArgs,
    policy: Option<&Path>,
    db: &Path,
    importer: Option<&str>,
) -> Result<Option<diff::stream::Streamed>, Error> {
    let policy = load_policy(policy)?;
    let mut stages = super::stages::Stages::new();
    stages.start("reading the workspace");
    let workspace = crate::workspace::open_sqlite(db)?;
    // This path holds the workspace's items whole. Past a few thousand
    // (the dry run of a re-run) the whole-plan path, which reads the items
    // a previous run left untouched as ids, is the lighter one.
    if workspace.item_count()? > STREAMED_WORKSPACE_ITEMS {
        return Ok(None);
    }
    let snapshot = workspace.snapshot()?;
    let (importer, options) = importer_and_options(&snapshot, importer, source, &policy)?;
    let kind = export_kind(source, &options)?;
    let file = source.export.display().to_string();
    let owner = source.export_owner(&options);
    let mut mapping =
        mapper::MapStream::new(kind, &file, &policy, &snapshot, &importer, &owner).map_err(|e| Error::Usage(e.0))?;
    let mut items = diff::stream::ItemStream::new(&snapshot, &file);
    stages.start("reading, mapping and comparing the export");
    let mut vault = read_pipelined(
        source,
        &options,
        &mut |entries| entries.into_iter().filter_map(|e| mapping.entry(e)).collect(),
        &mut |planned| items.push(planned),
    )?;
    if let Some(sharing) = &source.sharing {
        stages.start("reading the sharing file");
        sources::read_sharing(&mut vault, sharing, &options)?;
    }
    if vault.source != kind || vault.file != file {
        // Never so today; the whole plan reads the vault's own words.
        return Ok(None);
    }
    stages.start("mapping and comparing the folders and sharing");
    let (plan, keys, root_grants) = mapping.finish(&vault);
    let Ok(mut streamed) = items.finish(plan, &keys, root_grants, false) else {
        return Ok(None);
    };
    let gone = std::mem::take(&mut streamed.changes.gone);
    streamed.changes.gone = diff::from_this_source(workspace.as_ref(), &streamed.plan, gone)?;
    Ok(Some(streamed))
}

/// Checks every `--report FILE` has a known extension before any work.
pub fn report_formats(files: &[PathBuf]) -> Result<Vec<(PathBuf, report::Format)>, Error> {
    files
        .iter()
        .map(|f| {
            report::Format::from_path(f).map(|fmt| (f.clone(), fmt)).ok_or_else(|| {
                Error::Usage(format!(
                    "--report {}: unknown report format; expected a file ending in {}",
                    f.display(),
                    report::Format::EXTENSIONS
                ))
            })
        })
        .collect()
}

pub fn write_reports(r: &Report, files: &[(PathBuf, report::Format)]) -> Result<(), Error> {
    for (path, format) in files {
        let io_err = |source: std::io::Error| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::File::create(path).map_err(io_err)?;
        let mut w = std::io::BufWriter::new(file);
        report::write(r, *format, &mut w).map_err(io_err)?;
        std::io::Write::flush(&mut w).map_err(io_err)?;
    }
    Ok(())
}

/// What the import would do to the workspace, per kind and action, with
/// the changeset's reconciliation, conflicts and items gone from the source.
pub fn changes(cs: &ChangeSummary, out: &mut Output) -> Result<(), Error> {
    out.line("changes against the workspace:")?;
    let tally = &cs.tally;
    for kind in ObjectKind::ALL {
        let parts: Vec<String> = Action::ALL
            .into_iter()
            .filter_map(|a| {
                let n = tally.get(&(kind, a)).copied().unwrap_or(0);
                (n > 0).then(|| format!("{n} {}", a.name()))
            })
            .collect();
        if !parts.is_empty() {
            out.line(format!("  {}: {}", kind.plural(), parts.join(", ")))?;
        }
    }
    for c in &cs.notable {
        out.line(format!(
            "  {} {} '{}': {}",
            c.action.name(),
            c.kind.name(),
            c.label,
            c.changes.join(", ")
        ))?;
    }
    for g in &cs.gone {
        out.line(format!(
            "  gone from the source (kept): {} '{}' (#{})",
            g.kind.name(),
            g.label,
            g.id
        ))?;
    }
    out.line(format!(
        "  to write: {} objects{}",
        cs.to_write(),
        if cs.overwrite { " (conflicts overwritten)" } else { "" }
    ))?;
    out.line(format!("  entries: {}", cs.counts.describe()))?;
    Ok(())
}

fn format_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::LastpassCsv => "LastPass CSV",
        SourceKind::Onepassword1pux => "1Password 1PUX",
        SourceKind::Onepassword1pif => "1Password 1PIF",
        SourceKind::OnepasswordCsv => "1Password CSV",
    }
}

/// Most findings listed one by one; the rest are counted (all are in --json).
const FINDINGS_SHOWN: usize = 50;

/// The human summary, in the order the issue lists: collections, accounts,
/// secrets by type, grants by role, teams, invitations by partner, lowered
/// roles, unmatched users, skipped entries, reconciliation, findings.
pub fn summary(plan: &Plan, items: &ItemCounts, out: &mut Output) -> Result<(), Error> {
    out.line(format!(
        "Plan: {} ({}) → {}, as {}",
        plan.file,
        format_name(plan.source),
        plan.workspace,
        plan.importer
    ))?;

    out.line(format!("collections: {}", plan.collections.len()))?;
    let mut children: BTreeMap<Option<&ImportKey>, Vec<&PlannedCollection>> = BTreeMap::new();
    for c in &plan.collections {
        children.entry(c.parent.as_ref()).or_default().push(c);
    }
    let mut stack: Vec<(usize, &PlannedCollection)> = children
        .get(&None)
        .into_iter()
        .flatten()
        .rev()
        .map(|c| (1, *c))
        .collect();
    while let Some((depth, c)) = stack.pop() {
        let shared = if c.shared { "shared, " } else { "" };
        out.line(format!("{}{}  ({shared}{} items)", "  ".repeat(depth), c.name, c.items))?;
        if let Some(kids) = children.get(&Some(&c.key)) {
            stack.extend(kids.iter().rev().map(|k| (depth + 1, *k)));
        }
    }
    let at_root = items.at_root;
    if at_root > 0 {
        out.line(format!("  (no collection: {at_root} items)"))?;
    }

    let by_type: Vec<String> = items
        .secrets_by_type
        .iter()
        .map(|(t, n)| format!("{} {n}", t.name()))
        .collect();
    out.line(format!(
        "accounts: {}   secrets: {}{}",
        items.accounts,
        items.secrets,
        paren(&by_type)
    ))?;

    let mut by_role = plan.grants_by_role();
    if items.root_item_grants > 0 {
        *by_role.entry(ItemRole::Owner).or_default() += items.root_item_grants;
    }
    let by_role: Vec<String> = by_role.iter().map(|(r, n)| format!("{} {n}", r.name())).collect();
    out.line(format!(
        "grants: {}{}",
        plan.grants.len() + items.root_item_grants,
        paren(&by_role)
    ))?;

    let teams: Vec<String> = plan
        .teams
        .iter()
        .map(|t| match t.existing {
            Some(_) => format!("{} (existing, {} members named)", t.name, t.members.len()),
            None if t.members.is_empty() => format!("{} (new, no members named)", t.name),
            None => format!("{} (new: {})", t.name, t.members.join(", ")),
        })
        .collect();
    out.line(format!(
        "teams: {}",
        if teams.is_empty() {
            "none".to_owned()
        } else {
            teams.join(", ")
        }
    ))?;

    out.line(format!("guest invitations: {}", plan.invitations.len()))?;
    let mut by_partner: BTreeMap<Option<&str>, Vec<&str>> = BTreeMap::new();
    for i in &plan.invitations {
        by_partner.entry(i.partner.as_deref()).or_default().push(&i.email);
    }
    // Partners first, then the guests who join none; each guest with the
    // roles they get, so a reviewer sees at a glance that guests are capped.
    for (partner, emails) in by_partner
        .iter()
        .filter(|(p, _)| p.is_some())
        .chain(by_partner.get_key_value(&None))
    {
        out.line(format!("  {}:", partner.unwrap_or("(no partner)")))?;
        for email in emails {
            out.line(format!("    {email} — {}", guest_grants(plan, email)))?;
        }
    }

    let lowered: Vec<String> = plan
        .grants
        .iter()
        .filter_map(|g| {
            let from = g.lowered_from?;
            Some(format!(
                "{} on {}: {} ({}) → {}",
                g.grantee.label(),
                target_name(plan, &g.target),
                g.source_access,
                from.name(),
                g.role.name()
            ))
        })
        .collect();
    if !lowered.is_empty() {
        out.line(format!("lowered roles: {}", lowered.len()))?;
        for l in &lowered {
            out.line(format!("  {l}"))?;
        }
    }

    out.line(format!("unmatched users: {}", plan.unmatched.len()))?;
    for u in &plan.unmatched {
        let access: Vec<String> = u
            .access
            .iter()
            .map(|a| format!("{} ({})", a.folder, a.access))
            .collect();
        out.line(format!(
            "  {} ({}): {}, {} items",
            u.email,
            u.reason.describe(),
            access.join(", "),
            u.items.len()
        ))?;
    }

    let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &plan.skipped {
        *skipped.entry(s.reason.name()).or_default() += 1;
    }
    let skipped: Vec<String> = skipped.iter().map(|(r, n)| format!("{n} {r}")).collect();
    out.line(format!(
        "skipped: {}",
        if skipped.is_empty() {
            "none".to_owned()
        } else {
            skipped.join(", ")
        }
    ))?;

    let r = items.reconcile(plan);
    out.line(format!(
        "reconciliation: {} source entries = {} accounts + {} secrets + {} skipped{}{}",
        r.source_entries,
        r.accounts,
        r.secrets,
        r.skipped,
        if r.duplicates > 0 {
            format!(" ({} duplicates of workspace items, not created)", r.duplicates)
        } else {
            String::new()
        },
        if r.holds() { "" } else { "  MISMATCH" }
    ))?;

    out.line(format!(
        "findings: {} errors, {} warnings, {} info",
        plan.findings_by_severity(Severity::Error),
        plan.findings_by_severity(Severity::Warning),
        plan.findings_by_severity(Severity::Info)
    ))?;
    let mut sorted: Vec<_> = plan.findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in sorted.iter().take(FINDINGS_SHOWN) {
        out.line(format!("  {f}"))?;
    }
    if sorted.len() > FINDINGS_SHOWN {
        out.line(format!(
            "  … and {} more (all are in --json)",
            sorted.len() - FINDINGS_SHOWN
        ))?;
    }
    Ok(())
}

fn paren(parts: &[String]) -> String {
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// A grant target as a reviewer knows it: the collection path or item name.
fn target_name(plan: &Plan, key: &ImportKey) -> String {
    if let Some(c) = plan.collection(key) {
        let mut names = vec![c.name.clone()];
        let mut parent = c.parent.as_ref();
        while let Some(p) = parent.and_then(|k| plan.collection(k)) {
            names.push(p.name.clone());
            parent = p.parent.as_ref();
            if names.len() > plan.collections.len() {
                break;
            }
        }
        names.reverse();
        return names.join("/");
    }
    if let Some(a) = plan.accounts.iter().find(|a| &a.key == key) {
        return format!("account '{}'", a.name);
    }
    if let Some(s) = plan.secrets.iter().find(|s| &s.key == key) {
        return format!("secret '{}'", s.title);
    }
    key.to_string()
}

/// "collaborator on Finance, Vendors" for one invited guest.
fn guest_grants(plan: &Plan, email: &str) -> String {
    let mut by_role: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for g in &plan.grants {
        if !matches!(&g.grantee, PlannedGrantee::Guest { email: e } if e == email) {
            continue;
        }
        let target = plan
            .collection(&g.target)
            .map(|_| target_name(plan, &g.target))
            .or_else(|| plan.accounts.iter().find(|a| a.key == g.target).map(|a| a.name.clone()))
            .or_else(|| plan.secrets.iter().find(|s| s.key == g.target).map(|s| s.title.clone()))
            .unwrap_or_else(|| g.target.to_string());
        by_role.entry(g.role.name()).or_default().push(target);
    }
    if by_role.is_empty() {
        return "no grant".into();
    }
    by_role
        .into_iter()
        .map(|(role, targets)| format!("{role} on {}", targets.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::mapper::*;
    use crate::model::Finding;
    use crate::workspace::ItemRole;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn key(s: &str) -> ImportKey {
        ImportKey(s.into())
    }

    #[test]
    fn the_summary_names_invitations_by_partner_lowered_roles_and_unmatched_users() {
        let coll = |k: &str, name: &str, parent: Option<&str>, items| PlannedCollection {
            key: key(k),
            path: vec![name.into()],
            name: name.into(),
            parent: parent.map(key),
            shared: parent.is_none(),
            items,
        };
        let plan = Plan {
            source: SourceKind::LastpassCsv,
            file: "company.csv".into(),
            workspace: "Northwind Robotics".into(),
            importer: "sam@northwind.example".into(),
            vault_owner: "sam@northwind.example".into(),
            collections: vec![
                coll("c:eng", "Engineering", None, 2),
                coll("c:vendors", "Vendors", None, 1),
                coll("c:db", "Databases", Some("c:eng"), 3),
            ],
            accounts: vec![],
            secrets: vec![],
            teams: vec![PlannedTeam {
                key: key("team:ops"),
                name: "Ops".into(),
                members: vec!["lee@northwind.example".into()],
                existing: None,
            }],
            invitations: vec![
                PlannedInvitation {
                    key: key("invitation:jules@studio-jules.example"),
                    email: "jules@studio-jules.example".into(),
                    name: None,
                    partner: None,
                    guest_admin: false,
                    folders: vec!["Vendors".into()],
                },
                PlannedInvitation {
                    key: key("invitation:ravi@acme-partners.example"),
                    email: "ravi@acme-partners.example".into(),
                    name: None,
                    partner: Some("Acme Partners".into()),
                    guest_admin: true,
                    folders: vec!["Vendors".into()],
                },
            ],
            grants: vec![PlannedGrant {
                key: key("g"),
                target: key("c:vendors"),
                grantee: PlannedGrantee::Guest {
                    email: "ravi@acme-partners.example".into(),
                },
                role: ItemRole::Collaborator,
                source_access: "admin".into(),
                lowered_from: Some(ItemRole::Owner),
            }],
            unmatched: vec![UnmatchedUser {
                email: "mark@northwind.example".into(),
                name: None,
                reason: UnmatchedReason::LeftCompany,
                access: vec![UnmatchedAccess {
                    folder: "Engineering".into(),
                    access: "edit".into(),
                }],
                items: vec![key("a:1"), key("a:2")],
            }],
            skipped: vec![],
            findings: vec![Finding::warning("mapper.guest-role-lowered", "ravi lowered")],
            source_entries: 0,
        };
        let buf = Buf::default();
        let mut out = Output::new(buf.clone());
        summary(&plan, &ItemCounts::of(&plan), &mut out).unwrap();
        out.flush().unwrap();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let pos = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s:?} missing from:\n{text}"));
        assert!(pos("    Databases  (3 items)") > pos("  Engineering  (shared, 2 items)"));
        assert!(
            pos("  Vendors") > pos("    Databases"),
            "children follow their parent:\n{text}"
        );
        pos("Plan: company.csv (LastPass CSV) → Northwind Robotics, as sam@northwind.example");
        pos("teams: Ops (new: lee@northwind.example)");
        pos("  Acme Partners:\n    ravi@acme-partners.example — collaborator on Vendors");
        pos("  (no partner):\n    jules@studio-jules.example — no grant");
        assert!(pos("(no partner)") > pos("Acme Partners:"));
        pos("ravi@acme-partners.example on Vendors: admin (owner) → collaborator");
        pos("mark@northwind.example (left the company): Engineering (edit), 2 items");
        pos("findings: 0 errors, 1 warnings, 0 info");
        // Sections in the order the issue lists.
        let order = [
            "collections:",
            "accounts:",
            "grants:",
            "teams:",
            "guest invitations:",
            "unmatched users:",
            "reconciliation:",
            "findings:",
        ];
        assert!(order.windows(2).all(|w| pos(w[0]) < pos(w[1])), "{text}");
    }
}
