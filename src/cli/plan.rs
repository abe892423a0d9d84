//! `vaultferry plan`: what an import would create, without writing anything.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::stages::Stages;
use super::{ImportArgs, Output};
use crate::diff::{Action, ChangeSummary, ObjectKind};
use crate::import::KeyMoves;
use crate::mapper::{ItemCounts, Plan, PlannedCollection, PlannedGrantee};
use crate::model::Severity;
use crate::report::{self, Report};
use crate::workspace::{ImportKey, ItemRole};
use crate::Error;

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub import: ImportArgs,
    /// The workspace database (created by `workspace init`).
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    #[command(flatten)]
    pub key: super::key_file::KeyFileArg,
    /// Print the whole plan as JSON, secrets redacted (keys: `vaultferry explain plan`).
    #[arg(long)]
    pub json: bool,
    /// Exit with status 1 when the import would write anything (create,
    /// update) or the export has error findings; for CI and cron checks.
    #[arg(long)]
    pub fail_on_changes: bool,
}

pub fn run(args: &PlanArgs, out: &mut Output) -> Result<ExitCode, Error> {
    let reports = report_formats(&args.import.report)?;
    // Configuration first: a bad policy or a refused importer stops the run
    // before the export is read.
    let import = args.import.import(false)?;
    let mut stages = Stages::new();
    // The summary needs no item kept: the export is planned a chunk at a
    // time. `--json` and the reports list every item, so they need the
    // whole plan.
    if !args.json && reports.is_empty() {
        stages.start("reading the workspace");
        let workspace = crate::workspace::open_sqlite_keyed(&args.db, &args.key.location())?;
        let streamed = crate::import::summarise(&import, workspace.as_ref(), &mut stages)?;
        if let Some(s) = streamed {
            drop(stages);
            summary(&s.plan, &s.items, out)?;
            changes(&s.changes, out)?;
            out.flush()?;
            let blocking = s.plan.findings_by_severity(Severity::Error) > 0;
            let fail = args.fail_on_changes && (s.changes.to_write() > 0 || blocking);
            return Ok(if fail { ExitCode::from(1) } else { ExitCode::SUCCESS });
        }
    }
    let prepared = crate::import::prepare(
        &import,
        || Ok(crate::workspace::open_sqlite_keyed(&args.db, &args.key.location())?),
        &mut stages,
        KeyMoves::InMemory,
    )?;
    drop(stages);
    let plan = &prepared.changeset.plan;
    if args.json {
        out.json(plan, false)?;
    } else {
        summary(plan, &ItemCounts::of(plan), out)?;
        changes(&prepared.changeset.summary(), out)?;
    }
    out.flush()?;
    if !reports.is_empty() {
        let mut r = Report::plan(&prepared.changeset);
        super::render::files::stamp(&mut r, &args.import.source, &args.db.display().to_string());
        write_reports(&r, &reports)?;
    }
    let blocking = plan.findings_by_severity(Severity::Error) > 0;
    if args.fail_on_changes && (prepared.changeset.has_changes() || blocking) {
        prepared.release();
        return Ok(ExitCode::from(1));
    }
    prepared.release();
    Ok(ExitCode::SUCCESS)
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
    super::render::files::write(r, files)
}

/// What the import would do to the workspace, per kind and action, with
/// the changeset's reconciliation, conflicts and items gone from the source.
pub fn changes(cs: &ChangeSummary, out: &mut Output) -> Result<(), Error> {
    let shown = match super::verbosity() {
        super::Verbosity::Quiet => return Ok(()),
        super::Verbosity::Normal => super::render::EXAMPLES,
        super::Verbosity::Verbose => usize::MAX,
    };
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
    for c in cs.notable.iter().take(shown) {
        out.line(format!(
            "  {} {} '{}': {}",
            c.action.name(),
            c.kind.name(),
            c.label,
            c.changes.join(", ")
        ))?;
    }
    if cs.notable.len() > shown {
        out.line(format!(
            "  … and {} more updates and conflicts (--verbose lists them)",
            cs.notable.len() - shown
        ))?;
    }
    for g in cs.gone.iter().take(shown) {
        out.line(format!(
            "  gone from the source (kept): {} '{}' (#{})",
            g.kind.name(),
            g.label,
            g.id
        ))?;
    }
    if cs.gone.len() > shown {
        out.line(format!(
            "  … and {} more gone from the source (--verbose lists them)",
            cs.gone.len() - shown
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

/// The human summary, in the order the issue lists: collections, accounts,
/// secrets by type, grants by role, teams, invitations by partner, lowered
/// roles, unmatched users, skipped entries, reconciliation, findings.
pub fn summary(plan: &Plan, items: &ItemCounts, out: &mut Output) -> Result<(), Error> {
    match super::verbosity() {
        super::Verbosity::Quiet => Ok(()),
        super::Verbosity::Normal => super::render::plan::brief(plan, items)
            .into_iter()
            .try_for_each(|l| out.line(l)),
        super::Verbosity::Verbose => summary_full(plan, items, out),
    }
}

/// Every collection, team, guest, lowered role, unmatched user and finding:
/// what `--verbose` prints.
pub fn summary_full(plan: &Plan, items: &ItemCounts, out: &mut Output) -> Result<(), Error> {
    out.line(format!(
        "Plan: {} ({}) → {}, as {}",
        plan.file,
        plan.source.display_name(),
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
        super::render::plan::paren(&by_type)
    ))?;

    let mut by_role = plan.grants_by_role();
    if items.root_item_grants > 0 {
        *by_role.entry(ItemRole::Owner).or_default() += items.root_item_grants;
    }
    let by_role: Vec<String> = by_role.iter().map(|(r, n)| format!("{} {n}", r.name())).collect();
    out.line(format!(
        "grants: {}{}",
        plan.grants.len() + items.root_item_grants,
        super::render::plan::paren(&by_role)
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

    out.line(super::render::plan::skipped_line(plan))?;
    out.line(super::render::plan::reconciliation_line(plan, items))?;

    let found: Vec<_> = plan.findings.iter().map(super::render::findings::Line::of).collect();
    super::render::findings::every(&found)
        .into_iter()
        .try_for_each(|l| out.line(l))
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
    use crate::model::{Finding, SourceKind};
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
        summary_full(&plan, &ItemCounts::of(&plan), &mut out).unwrap();
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
