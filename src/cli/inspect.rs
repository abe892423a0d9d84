use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Args;

use super::{Output, SourceArgs};
use crate::model::{EntryKind, Principal, Severity, Vault};
use crate::sources::{self, EntrySummary};
use crate::Error;

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Print the whole normalized vault as JSON (keys: `vaultferry explain normalized`).
    #[arg(long)]
    pub json: bool,
    /// Show secret values in `--json` output instead of "[redacted]".
    #[arg(long, requires = "json")]
    pub reveal: bool,
}

pub fn run(args: &InspectArgs, out: &mut Output) -> Result<ExitCode, Error> {
    if args.json {
        let vault = args.source.read()?;
        out.json(&vault, args.reveal)?;
        out.flush()?;
        // `inspect` is the last thing the process does: freeing a million
        // entries (~10M small allocations) one by one would add a noticeable
        // share of its run time for memory the exit hands back anyway. The
        // secrets are zeroed in place first, as their drop would have done.
        crate::secret::release_at_exit(vault);
        return Ok(ExitCode::SUCCESS);
    }
    // The summary only counts entries: each is counted as it is read, from
    // its summary (a LastPass row is never built into an entry), so a
    // million-entry export never sits in memory whole.
    let mut tally = Tally::default();
    let options = args.source.options();
    let mut vault = sources::read_export_summary(&args.source.export, &options, &mut |e| tally.add(e))?;
    if let Some(sharing) = &args.source.sharing {
        sources::read_sharing(&mut vault, sharing, &options)?;
    }
    summary(&vault, &tally, out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// What the summary says about the entries.
#[derive(Default)]
struct Tally {
    entries: usize,
    archived: usize,
    attachments: usize,
    /// By kind; listed by name (a million name comparisons were a visible
    /// share of counting).
    kinds: rustc_hash::FxHashMap<EntryKind, usize>,
}

impl Tally {
    fn add(&mut self, e: EntrySummary) {
        self.entries += 1;
        self.archived += usize::from(e.archived);
        self.attachments += e.attachments;
        *self.kinds.entry(e.kind).or_default() += 1;
    }
}

/// Most findings listed one by one; the rest are counted (all are in --json).
const FINDINGS_SHOWN: usize = 50;

fn summary(vault: &Vault, tally: &Tally, out: &mut Output) -> Result<(), Error> {
    out.line(format!("{} ({})", vault.file, vault.source.display_name()))?;
    out.line(format!(
        "entries: {} ({} archived, {} attachments, {} source records skipped)",
        tally.entries, tally.archived, tally.attachments, vault.skipped_records
    ))?;
    let kinds: BTreeMap<&str, usize> = tally.kinds.iter().map(|(k, &n)| (k.name(), n)).collect();
    for (kind, n) in &kinds {
        out.line(format!("  {kind:<20} {n:>7}"))?;
    }
    let shared = vault.folders.iter().filter(|f| f.shared).count();
    out.line(format!("folders: {} ({shared} shared)", vault.folders.len()))?;
    let line = |share: &crate::model::Share| {
        let who = match &share.principal {
            Principal::User { email, .. } => email.clone(),
            Principal::Group { group, .. } => format!("group {group}"),
        };
        let status = match share.status {
            crate::model::ShareStatus::Active => String::new(),
            other => format!(
                " [{}]",
                serde_json::to_value(other).unwrap_or_default().as_str().unwrap_or("")
            ),
        };
        format!("{who}: {}{status}", share.access.describe())
    };
    for folder in vault.folders.iter().filter(|f| f.shared) {
        let members: Vec<_> = vault
            .shares
            .iter()
            .filter(|s| s.item.is_none() && s.folder == folder.path)
            .collect();
        out.line(format!("  {} ({} members)", folder.path.join("/"), members.len()))?;
        for share in members {
            out.line(format!("    {}", line(share)))?;
        }
    }
    // CXF shares single items too: each reaches its item and nothing else.
    let on_items: Vec<_> = vault.shares.iter().filter(|s| s.item.is_some()).collect();
    if !on_items.is_empty() {
        let items: std::collections::BTreeSet<&str> = on_items
            .iter()
            .filter_map(|s| s.item.as_ref().map(|i| i.source_id.as_str()))
            .collect();
        out.line(format!(
            "items shared on their own: {} ({} shares)",
            items.len(),
            on_items.len()
        ))?;
        for share in on_items.iter().take(FINDINGS_SHOWN) {
            out.line(format!("  {} — {}", share.place(), line(share)))?;
        }
        if on_items.len() > FINDINGS_SHOWN {
            out.line(format!("  … and {} more", on_items.len() - FINDINGS_SHOWN))?;
        }
    }
    let count = |s: Severity| vault.findings.iter().filter(|f| f.severity == s).count();
    out.line(format!(
        "findings: {} errors, {} warnings, {} info",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    ))?;
    let mut sorted: Vec<_> = vault.findings.iter().collect();
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
