//! The plan before `migrate`'s question (and `plan`'s output): one screen
//! at any size. Counts per kind, the first levels of the collection tree
//! with their counts, who gains and who loses access in numbers with a few
//! names, and the findings by code.

use std::collections::{BTreeMap, BTreeSet};

use super::{findings, some_of};
use crate::mapper::{ItemCounts, Plan, PlannedGrantee};
use crate::workspace::{ImportKey, ItemRole};

/// Lines of the collection tree shown, and how deep it goes.
const TREE_LINES: usize = 12;
const TREE_DEPTH: usize = 2;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The brief summary, a line per entry of the returned list.
pub fn brief(plan: &Plan, items: &ItemCounts) -> Vec<String> {
    let mut lines = vec![format!(
        "Plan: {} ({}) → {}, as {}",
        plan.file,
        plan.source.display_name(),
        plan.workspace,
        plan.importer
    )];
    tree(plan, items, &mut lines);

    let by_type: Vec<String> = items
        .secrets_by_type
        .iter()
        .map(|(t, n)| format!("{} {n}", t.name()))
        .collect();
    lines.push(format!(
        "accounts: {}   secrets: {}{}",
        items.accounts,
        items.secrets,
        paren(&by_type)
    ));
    let mut by_role = plan.grants_by_role();
    if items.root_item_grants > 0 {
        *by_role.entry(ItemRole::Owner).or_default() += items.root_item_grants;
    }
    let by_role: Vec<String> = by_role.iter().map(|(r, n)| format!("{} {n}", r.name())).collect();
    lines.push(format!(
        "grants: {}{}",
        plan.grants.len() + items.root_item_grants,
        paren(&by_role)
    ));

    let new = plan.teams.iter().filter(|t| t.existing.is_none()).count();
    let names: Vec<&str> = plan.teams.iter().map(|t| t.name.as_str()).collect();
    lines.push(match plan.teams.len() {
        0 => "teams: none".to_owned(),
        n => format!("teams: {n} ({new} new, {} existing): {}", n - new, some_of(&names, n)),
    });

    access(plan, &mut lines);

    lines.push(skipped_line(plan));
    lines.push(reconciliation_line(plan, items));
    let found: Vec<findings::Line<'_>> = plan.findings.iter().map(findings::Line::of).collect();
    lines.extend(findings::grouped(&found));
    lines
}

/// "skipped: 2 policy, 1 empty" (the brief and the full summary alike).
pub(crate) fn skipped_line(plan: &Plan) -> String {
    let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &plan.skipped {
        *skipped.entry(s.reason.name()).or_default() += 1;
    }
    let skipped: Vec<String> = skipped.iter().map(|(r, n)| format!("{n} {r}")).collect();
    format!(
        "skipped: {}",
        if skipped.is_empty() {
            "none".to_owned()
        } else {
            skipped.join(", ")
        }
    )
}

/// The reconciliation the plan promises, flagged when it does not hold.
pub(crate) fn reconciliation_line(plan: &Plan, items: &ItemCounts) -> String {
    let r = items.reconcile(plan);
    format!(
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
    )
}

pub(crate) fn paren(parts: &[String]) -> String {
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// The collections, the first [`TREE_DEPTH`] levels in source order, each
/// with its items and sub-collections counted whole (descendants included).
fn tree(plan: &Plan, items: &ItemCounts, lines: &mut Vec<String>) {
    let n = plan.collections.len();
    let shared = plan.collections.iter().filter(|c| c.shared).count();
    lines.push(format!("collections: {n} ({shared} shared)"));
    let index: BTreeMap<&ImportKey, usize> = plan.collections.iter().enumerate().map(|(i, c)| (&c.key, i)).collect();
    let parent: Vec<Option<usize>> = plan
        .collections
        .iter()
        .map(|c| c.parent.as_ref().and_then(|p| index.get(p).copied()))
        .collect();
    // Parents come before children: one pass from the end sums subtrees.
    let mut total_items: Vec<usize> = plan.collections.iter().map(|c| c.items).collect();
    let mut below = vec![0usize; n];
    for i in (0..n).rev() {
        if let Some(p) = parent[i].filter(|p| *p < i) {
            total_items[p] += total_items[i];
            below[p] += below[i] + 1;
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, p) in parent.iter().enumerate() {
        match p {
            Some(p) if *p != i => children[*p].push(i),
            _ => roots.push(i),
        }
    }
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|i| (1, *i)).collect();
    let mut shown = 0;
    while let Some((depth, i)) = stack.pop() {
        if shown == TREE_LINES {
            break;
        }
        let c = &plan.collections[i];
        let subs = match below[i] {
            0 => String::new(),
            k => format!("{}, ", plural(k, "sub-collection", "sub-collections")),
        };
        let shared = if c.shared { "shared, " } else { "" };
        lines.push(format!(
            "{}{}  ({shared}{subs}{})",
            "  ".repeat(depth),
            c.name,
            plural(total_items[i], "item", "items")
        ));
        shown += 1;
        if depth < TREE_DEPTH {
            stack.extend(children[i].iter().rev().map(|k| (depth + 1, *k)));
        }
    }
    if shown < n {
        lines.push(format!(
            "  … {} more collections below or after these (--verbose, or --report plan.html, lists the whole tree)",
            n - shown
        ));
    }
    if items.at_root > 0 {
        lines.push(format!("  (no collection: {} items)", items.at_root));
    }
}

/// Who gets access (by kind of grantee), the guests and their roles, the
/// roles lowered, who can now see passwords they could not, and who gets
/// nothing.
fn access(plan: &Plan, lines: &mut Vec<String>) {
    let mut grantees: BTreeMap<&'static str, BTreeSet<&str>> = BTreeMap::new();
    let mut targets: BTreeSet<&ImportKey> = BTreeSet::new();
    for g in &plan.grants {
        let kind = match g.grantee {
            PlannedGrantee::Member { .. } => "members",
            PlannedGrantee::Guest { .. } => "guests",
            PlannedGrantee::Team { .. } => "teams",
            PlannedGrantee::Partner { .. } => "partners",
            PlannedGrantee::Partnership { .. } => "partnerships",
        };
        grantees.entry(kind).or_default().insert(g.grantee.label());
        if plan.collection(&g.target).is_some() {
            targets.insert(&g.target);
        }
    }
    let who: Vec<String> = ["members", "teams", "guests", "partners", "partnerships"]
        .iter()
        .filter_map(|k| grantees.get(k).map(|s| format!("{} {k}", s.len())))
        .collect();
    lines.push(format!(
        "gain access: {} on {}",
        if who.is_empty() {
            "nobody".to_owned()
        } else {
            who.join(", ")
        },
        plural(targets.len(), "collection", "collections")
    ));

    let mut guest_roles: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &plan.grants {
        if matches!(g.grantee, PlannedGrantee::Guest { .. }) {
            *guest_roles.entry(g.role.name()).or_default() += 1;
        }
    }
    let partners: BTreeSet<&str> = plan.invitations.iter().filter_map(|i| i.partner.as_deref()).collect();
    let emails: Vec<&str> = plan.invitations.iter().map(|i| i.email.as_str()).collect();
    if !plan.invitations.is_empty() {
        let roles: Vec<String> = guest_roles.iter().map(|(r, n)| format!("{r} {n}")).collect();
        lines.push(format!(
            "guest invitations: {} ({} joining {}; grants {}): {}",
            plan.invitations.len(),
            plan.invitations.iter().filter(|i| i.partner.is_some()).count(),
            plural(partners.len(), "partner", "partners"),
            if roles.is_empty() {
                "none".to_owned()
            } else {
                roles.join(", ")
            },
            some_of(&emails, emails.len())
        ));
    } else {
        lines.push("guest invitations: 0".to_owned());
    }

    let lowered: Vec<String> = plan
        .grants
        .iter()
        .filter_map(|g| {
            let from = g.lowered_from?;
            Some(format!(
                "{} on {}: {} ({}) → {}",
                g.grantee.label(),
                plan.collection(&g.target)
                    .map_or_else(|| g.target.to_string(), |c| c.name.clone()),
                g.source_access,
                from.name(),
                g.role.name()
            ))
        })
        .take(1)
        .collect();
    let n_lowered = plan.grants.iter().filter(|g| g.lowered_from.is_some()).count();
    if n_lowered > 0 {
        lines.push(format!(
            "lowered roles: {n_lowered}, e.g. {}",
            lowered.first().map(String::as_str).unwrap_or_default()
        ));
    }
    let see = plan
        .findings
        .iter()
        .filter(|f| f.code == "mapper.hide-passwords-not-kept")
        .count();
    if see > 0 {
        lines.push(format!(
            "can now see passwords the source hid from them: {} (mapper.hide-passwords-not-kept below)",
            plural(see, "grantee", "grantees")
        ));
    }

    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for u in &plan.unmatched {
        *reasons.entry(u.reason.describe()).or_default() += 1;
    }
    let reasons: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    let emails: Vec<&str> = plan.unmatched.iter().map(|u| u.email.as_str()).collect();
    lines.push(match plan.unmatched.len() {
        0 => "unmatched users: 0".to_owned(),
        n => format!(
            "unmatched users (lose their access, not invited): {n} ({}): {}",
            reasons.join(", "),
            some_of(&emails, n)
        ),
    });
}
