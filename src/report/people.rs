//! Who gains access to what: the part of a report a reviewer reads first
//! (per collection the members, teams, partners and partnerships with
//! their roles; the guests with their source access and the role they
//! get; roles lowered; passwords the source hid; unmatched users).
//!
//! Worked out once from the [`Report`] so the text, Markdown and HTML
//! renderings cannot disagree about who gets what.

use std::collections::BTreeMap;

use super::json::{GrantRow, InvitationRow, LoweredRole, Report, UnmatchedRow};
use crate::diff::Action;
use crate::mapper::PERSONAL_ACCESS;
use crate::model::Access;

/// Item names a human rendering shows per unmatched user; the CSV and the
/// JSON list them all (a user who left can have had a hundred thousand).
pub const ITEM_EXAMPLES: usize = 5;

pub struct People<'r> {
    /// Collections by path, each with the grants that give or change
    /// access there.
    pub collections: Vec<CollectionAccess<'r>>,
    /// The export owner's own unshared folders, counted per grantee and
    /// role rather than listed (thousands on a big export).
    pub personal_collections: Vec<ItemGrants<'r>>,
    /// Grants on single accounts and secrets, one row per grantee, role,
    /// source access and action, with how many items.
    pub item_grants: Vec<ItemGrants<'r>>,
    pub guests: Vec<Guest<'r>>,
    pub lowered: &'r [LoweredRole],
    /// Grants to people whose source access hid passwords: every
    /// workspace role can view them.
    pub see_passwords: Vec<&'r GrantRow>,
    pub unmatched: &'r [UnmatchedRow],
    /// Grants whose role an admin changed in the workspace since the last
    /// import: left as they are unless the run overwrites, each named.
    pub conflicts: Vec<&'r GrantRow>,
    /// Grants the workspace already holds as planned: counted, not listed.
    pub unchanged_grants: usize,
}

pub struct CollectionAccess<'r> {
    pub path: &'r str,
    pub grants: Vec<&'r GrantRow>,
}

pub struct ItemGrants<'r> {
    pub grantee_kind: &'static str,
    pub grantee: &'r str,
    pub role: &'static str,
    pub source_access: &'r str,
    pub action: Action,
    pub count: usize,
    /// One of the items (`account 'GitHub'`), to recognise them by.
    pub example: &'r str,
}

pub struct Guest<'r> {
    pub invitation: &'r InvitationRow,
    /// What they get, each with the access they had in the source.
    pub grants: Vec<&'r GrantRow>,
}

/// Grantee kind rank, grantee, role, source access, action.
type ItemGrantKey<'r> = (u8, &'r str, &'static str, &'r str, Action);

/// Members first, then teams, guests, partners and partnerships.
fn kind_rank(kind: &str) -> u8 {
    match kind {
        "member" => 0,
        "team" => 1,
        "guest" => 2,
        "partner" => 3,
        _ => 4,
    }
}

impl<'r> People<'r> {
    pub fn of(r: &'r Report) -> People<'r> {
        let gaining = || r.grants.iter().filter(|g| g.action != Action::Unchanged);
        let mut collections: BTreeMap<&str, Vec<&GrantRow>> = BTreeMap::new();
        let mut items: BTreeMap<ItemGrantKey<'_>, (usize, &str)> = BTreeMap::new();
        let mut personal: BTreeMap<ItemGrantKey<'_>, (usize, &str)> = BTreeMap::new();
        for g in gaining() {
            let counted = if g.target_kind != "collection" {
                &mut items
            } else if g.source_access == PERSONAL_ACCESS {
                &mut personal
            } else {
                collections.entry(&g.target).or_default().push(g);
                continue;
            };
            let row = counted
                .entry((
                    kind_rank(g.grantee_kind),
                    &g.grantee,
                    g.role,
                    &g.source_access,
                    g.action,
                ))
                .or_insert((0, &g.target));
            row.0 += 1;
        }
        let collections = collections
            .into_iter()
            .map(|(path, mut grants)| {
                grants.sort_by(|a, b| {
                    (kind_rank(a.grantee_kind), &a.grantee).cmp(&(kind_rank(b.grantee_kind), &b.grantee))
                });
                CollectionAccess { path, grants }
            })
            .collect();
        let kind_named = |rank: u8| match rank {
            0 => "member",
            1 => "team",
            2 => "guest",
            3 => "partner",
            _ => "partnership",
        };
        let counted = |rows: BTreeMap<ItemGrantKey<'r>, (usize, &'r str)>| -> Vec<ItemGrants<'r>> {
            rows.into_iter()
                .map(
                    |((rank, grantee, role, source_access, action), (count, example))| ItemGrants {
                        grantee_kind: kind_named(rank),
                        grantee,
                        role,
                        source_access,
                        action,
                        count,
                        example,
                    },
                )
                .collect()
        };
        let item_grants = counted(items);
        let personal_collections = counted(personal);
        let mut by_guest: BTreeMap<String, Vec<&GrantRow>> = BTreeMap::new();
        for g in r.grants.iter().filter(|g| g.grantee_kind == "guest") {
            by_guest.entry(g.grantee.to_lowercase()).or_default().push(g);
        }
        let guests = r
            .invitations
            .iter()
            .map(|i| Guest {
                invitation: i,
                grants: by_guest.remove(&i.email.to_lowercase()).unwrap_or_default(),
            })
            .collect();
        People {
            collections,
            personal_collections,
            item_grants,
            guests,
            lowered: &r.lowered_roles,
            see_passwords: gaining()
                .filter(|g| Access::described_hides_passwords(&g.source_access))
                .collect(),
            unmatched: &r.unmatched,
            conflicts: r.grants.iter().filter(|g| g.action == Action::Conflict).collect(),
            unchanged_grants: r
                .summary
                .get("grants")
                .and_then(|row| row.get(Action::Unchanged.name()))
                .copied()
                .unwrap_or(0),
        }
    }

    /// Nobody gains, loses or changes access.
    pub fn is_empty(&self) -> bool {
        self.collections.is_empty()
            && self.item_grants.is_empty()
            && self.guests.is_empty()
            && self.unmatched.is_empty()
    }
}

/// `team Engineering: collaborator (edit)`, with the action when it is
/// not a plain create.
pub fn grant_line(g: &GrantRow) -> String {
    let mut s = format!("{} {}: {} ({})", g.grantee_kind, g.grantee, g.role, g.source_access);
    if g.action != Action::Create {
        s.push_str(&format!(" [{}]", g.action.name()));
    }
    if !g.changes.is_empty() {
        s.push_str(&format!(" — {}", g.changes.join(", ")));
    }
    s
}

/// `grant conflict: sam@… on account 'X': role is collaborator in the workspace`.
pub fn conflict_line(g: &GrantRow) -> String {
    format!(
        "grant conflict: {} on {}: {}",
        g.grantee,
        g.target,
        g.changes.join(", ")
    )
}

/// `Vendors: admin → collaborator` for a guest's grant.
pub fn guest_grant_line(g: &GrantRow) -> String {
    format!("{}: {} → {}", g.target, g.source_access, g.role)
}

/// `member olivia@…: owner on 3026 items (personal), e.g. account 'X'`.
pub fn item_grants_line(g: &ItemGrants<'_>) -> String {
    counted_line(g, "item", "items")
}

/// `member olivia@…: owner on 3800 collections (personal), e.g. Taxes`.
pub fn personal_line(g: &ItemGrants<'_>) -> String {
    counted_line(g, "collection", "collections")
}

fn counted_line(g: &ItemGrants<'_>, one: &str, many: &str) -> String {
    let action = if g.action == Action::Create {
        String::new()
    } else {
        format!(" [{}]", g.action.name())
    };
    format!(
        "{} {}: {} on {} {} ({}){action}, e.g. {}",
        g.grantee_kind,
        g.grantee,
        g.role,
        g.count,
        if g.count == 1 { one } else { many },
        g.source_access,
        g.example
    )
}

/// The names of an unmatched user's items, up to [`ITEM_EXAMPLES`], with
/// the count of the rest.
pub fn unmatched_items(u: &UnmatchedRow) -> String {
    let n = u.item_count.max(u.items.len());
    let shown: Vec<&str> = u.items.iter().take(ITEM_EXAMPLES).map(String::as_str).collect();
    let mut s = format!("{n} {}", if n == 1 { "item" } else { "items" });
    if !shown.is_empty() {
        s.push_str(&format!(": {}", shown.join(", ")));
        if n > shown.len() {
            s.push_str(&format!(" and {} more", n - shown.len()));
        }
    }
    s
}

/// `Finance (read-only), Vendors (edit)`.
pub fn unmatched_access(u: &UnmatchedRow) -> String {
    u.access
        .iter()
        .map(|a| format!("{} ({})", a.folder, a.access))
        .collect::<Vec<_>>()
        .join(", ")
}
