//! Source against workspace: items matched by import key, values by
//! digest, and per person what the source gave against what the workspace
//! gives, each difference classified.

use std::collections::BTreeMap;
use std::rc::Rc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::policy::Policy;
use crate::workspace::{GrantTarget, ItemRole};

use super::expect::{self, Rights, Rule, Seat, SourceRights};
use super::holdings::{Holdings, StoredItem};
use super::reach::{rank, Reach, Roles, Who};
use super::source::{Source, SourceItem};
use super::{Difference, Expected, Outcome, What};

/// One person's difference on one item, before it is named for an item.
#[derive(Clone, Debug)]
struct PersonDiff {
    person: String,
    source: Option<String>,
    workspace: Option<ItemRole>,
    verdict: Verdict,
}

#[derive(Clone, Copy, Debug)]
enum Verdict {
    Expected(Rule),
    Unexpected(What),
}

/// The differences of a (folder, collection, kind) group of items, and the
/// people compared on them.
#[derive(Default)]
struct GroupResult {
    diffs: Vec<PersonDiff>,
    people: Vec<String>,
}

pub fn run(source: &Source, holdings: &Holdings, policy: &Policy, owner: &str) -> Outcome {
    let vendor = source.kind.vendor();
    let mut outcome = Outcome {
        workspace: holdings.workspace.clone(),
        export: source.file.clone(),
        ..Outcome::default()
    };
    let matched = match_items(source, holdings, vendor, policy, &mut outcome);
    let mut rights = SourceRights::new(&source.shares, &source.folders, owner);
    let mut reach = Reach::new(holdings);
    let members: FxHashMap<i64, &str> = holdings.members.iter().map(|m| (m.id, m.email.as_str())).collect();
    let partnerships: FxHashMap<i64, &str> = holdings.partnerships.iter().map(|p| (p.id, p.name.as_str())).collect();
    let names = Names {
        members: &members,
        partnerships: &partnerships,
    };
    type GroupKey = (crate::model::FolderPath, Option<bool>, Option<i64>, bool);
    let mut groups: FxHashMap<GroupKey, Rc<GroupResult>> = FxHashMap::default();
    let mut people: FxHashSet<String> = FxHashSet::default();
    let mut expected: BTreeMap<(Rule, String, String, Option<ItemRole>), usize> = BTreeMap::new();
    for (item, stored) in matched {
        let is_account = matches!(stored.target, GrantTarget::Account(_));
        let item_rights = rights.entry(&item.id, &item.folder, item.shared);
        // An item with rights or grants of its own is compared alone.
        let own = reach.has_own_grants(stored.target) || item_rights.is_some();
        let key = (item.folder.clone(), item.shared, stored.collection, is_account);
        let result = match (own, groups.get(&key)) {
            (false, Some(r)) => Rc::clone(r),
            _ => {
                let r = Rc::new(compare_access(
                    &item_rights.unwrap_or_else(|| rights.folder(&item.folder, item.shared)),
                    &reach.item(stored.target, stored.collection),
                    rights.in_shared_folder(&item.folder, item.shared),
                    rights.owner(),
                    holdings,
                    policy,
                    &names,
                    is_account,
                ));
                for p in &r.people {
                    if !people.contains(p) {
                        people.insert(p.clone());
                    }
                }
                if !own {
                    groups.insert(key, Rc::clone(&r));
                }
                r
            }
        };
        for d in &result.diffs {
            match d.verdict {
                Verdict::Expected(rule) => {
                    *expected
                        .entry((
                            rule,
                            d.person.clone(),
                            d.source.clone().unwrap_or_default(),
                            d.workspace,
                        ))
                        .or_default() += 1;
                }
                Verdict::Unexpected(what) => outcome.unexpected.push(Difference {
                    what,
                    person: Some(d.person.clone()),
                    item: item.title.clone(),
                    source_id: item.id.clone(),
                    line: item.line,
                    source_right: d.source.clone(),
                    workspace_role: d.workspace.map(|r| r.name().to_owned()),
                    detail: what.describe().to_owned(),
                }),
            }
        }
    }
    outcome.people = people.len();
    for ((rule, person, source_right, role), items) in expected {
        outcome.expected.push(Expected {
            rule: rule.code(),
            why: rule.why(),
            person: Some(person),
            source_right: Some(source_right).filter(|s| !s.is_empty()),
            workspace_role: role.map(|r| r.name().to_owned()),
            items,
        });
    }
    if outcome.skipped > 0 {
        outcome.expected.push(Expected {
            rule: Rule::SkippedByPolicy.code(),
            why: Rule::SkippedByPolicy.why(),
            person: None,
            source_right: None,
            workspace_role: None,
            items: outcome.skipped,
        });
    }
    outcome
}

struct Names<'a> {
    members: &'a FxHashMap<i64, &'a str>,
    partnerships: &'a FxHashMap<i64, &'a str>,
}

impl Names<'_> {
    fn of(&self, who: Who) -> String {
        match who {
            Who::Member(id) => self
                .members
                .get(&id)
                .map_or_else(|| format!("member #{id}"), |e| (*e).to_owned()),
            Who::Partnership(id) => self
                .partnerships
                .get(&id)
                .map_or_else(|| format!("partnership #{id}"), |n| format!("partnership '{n}'")),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn compare_access(
    rights: &Rights,
    roles: &Roles,
    shared: bool,
    owner: &str,
    holdings: &Holdings,
    policy: &Policy,
    names: &Names<'_>,
    is_account: bool,
) -> GroupResult {
    let mut out = GroupResult::default();
    let mut claimed: FxHashSet<Who> = FxHashSet::default();
    let mut wants: Vec<(String, Option<expect::Expected>, Option<ItemRole>)> = Vec::new();
    for (email, person_rights) in rights {
        let e = expect::expected(holdings, policy, email, person_rights, is_account);
        let seat = expect::seat(holdings, email);
        let w = match seat {
            Seat::Member(id) => Some(Who::Member(id)),
            Seat::Partnership(id) => Some(Who::Partnership(id)),
            Seat::Nowhere => None,
        };
        if let Some(w) = w {
            claimed.insert(w);
        }
        wants.push((email.clone(), e, w.and_then(|w| roles.get(&w).copied())));
    }
    let someone_owns = wants
        .iter()
        .any(|(_, e, _)| e.and_then(|e| e.role) == Some(ItemRole::Owner));
    for (email, e, held) in wants {
        out.people.push(email.clone());
        let Some(e) = e else { continue };
        let source = Some(e.right.describe());
        let verdict = match (e.role, held) {
            (Some(want), Some(got)) if rank(got) > rank(want) => {
                if email == owner && shared && got == ItemRole::Owner && !someone_owns {
                    Some(Verdict::Expected(Rule::NoOwnerInSource))
                } else {
                    Some(Verdict::Unexpected(What::RoleAbove))
                }
            }
            (Some(want), got)
                if holdings.revoked_people.contains(&email) && got.map_or(true, |got| rank(got) < rank(want)) =>
            {
                Some(Verdict::Expected(Rule::RemovedInWorkspace))
            }
            (Some(want), Some(got)) if rank(got) < rank(want) => Some(Verdict::Unexpected(What::RoleBelow)),
            (Some(_), Some(_)) => e.rule.map(Verdict::Expected),
            (Some(_), None) => Some(Verdict::Unexpected(What::LostItem)),
            (None, Some(got)) => {
                if email == owner && shared && got == ItemRole::Owner && !someone_owns {
                    Some(Verdict::Expected(Rule::NoOwnerInSource))
                } else {
                    Some(Verdict::Unexpected(What::GainedItem))
                }
            }
            (None, None) => e.rule.map(Verdict::Expected),
        };
        if let Some(verdict) = verdict {
            out.diffs.push(PersonDiff {
                person: email,
                source,
                workspace: held,
                verdict,
            });
        }
    }
    // Whoever the workspace lets in that no source right names.
    let mut others: Vec<(&Who, &ItemRole)> = roles.iter().filter(|(w, _)| !claimed.contains(w)).collect();
    others.sort();
    for (&who, &role) in others {
        let person = names.of(who);
        out.people.push(person.clone());
        let verdict = if person == owner && shared && role == ItemRole::Owner && !someone_owns {
            Verdict::Expected(Rule::NoOwnerInSource)
        } else {
            Verdict::Unexpected(What::GainedItem)
        };
        out.diffs.push(PersonDiff {
            person,
            source: None,
            workspace: Some(role),
            verdict,
        });
    }
    out
}

/// Each source entry the workspace should hold, paired with the item that
/// holds it; the ones it lacks are named, and so are values not carried.
fn match_items<'s, 'h>(
    source: &'s Source,
    holdings: &'h Holdings,
    vendor: &str,
    policy: &Policy,
    outcome: &mut Outcome,
) -> Vec<(&'s SourceItem, &'h StoredItem)> {
    let mut claimed: FxHashMap<&'h str, usize> = FxHashMap::default();
    let mut pairs: Vec<Option<&'h str>> = vec![None; source.items.len()];
    let mut wanted = 0usize;
    let exact = |item: &SourceItem| -> Option<(&'h str, &'h StoredItem)> {
        ["account:", "secret:"].iter().find_map(|kind| {
            let key = [kind, vendor, ":", &item.id].concat();
            holdings.items.get_key_value(key.as_str()).map(|(k, v)| (k.as_str(), v))
        })
    };
    // A duplicated source id: the entries that hold it want the same key;
    // the one whose values the item holds best keeps it.
    for (i, item) in source.items.iter().enumerate() {
        if skipped(item, policy) {
            outcome.skipped += 1;
            continue;
        }
        wanted += 1;
        let Some((key, stored)) = exact(item) else { continue };
        // Entries told apart only by content are numbered in file order,
        // and a run keeps each stored item's key by matching content
        // (issue 19, bug 11d): in a reordered export the exact key may hold
        // a sibling. Such a pair is decided below among all siblings.
        if item.id.starts_with("fp:") && carried(item, stored) < item.values.len() {
            continue;
        }
        match claimed.get(key).copied() {
            None => {
                claimed.insert(key, i);
                pairs[i] = Some(key);
            }
            Some(j) => {
                if carried(item, stored) > carried(&source.items[j], stored) {
                    pairs[j] = None;
                    claimed.insert(key, i);
                    pairs[i] = Some(key);
                }
            }
        }
    }
    // An entry without its exact key may be under a key a run made unique
    // for it (`<id>` and something after); the best holder among those
    // nobody has claimed.
    let unmatched: Vec<usize> = (0..source.items.len())
        .filter(|&i| pairs[i].is_none() && !skipped(&source.items[i], policy))
        .collect();
    if !unmatched.is_empty() {
        let mut free: Vec<&'h str> = holdings
            .items
            .keys()
            .map(String::as_str)
            .filter(|k| !claimed.contains_key(k))
            .collect();
        free.sort_unstable();
        for i in unmatched {
            let item = &source.items[i];
            let mut best: Option<(&'h str, usize)> = None;
            for kind in ["account:", "secret:"] {
                let prefix = [kind, vendor, ":", base_id(&item.id)].concat();
                let start = free.partition_point(|k| *k < prefix.as_str());
                for &k in free[start..].iter().take_while(|k| k.starts_with(&prefix)) {
                    if claimed.contains_key(k) {
                        continue;
                    }
                    let n = holdings.items.get(k).map_or(0, |s| carried(item, s));
                    if !matches!(best, Some((_, b)) if b >= n) {
                        best = Some((k, n));
                    }
                }
            }
            if let Some((k, _)) = best {
                claimed.insert(k, i);
                pairs[i] = Some(k);
            }
        }
    }
    outcome.items = wanted;
    let mut out = Vec::with_capacity(wanted);
    let mut removed = 0usize;
    for (i, item) in source.items.iter().enumerate() {
        if skipped(item, policy) {
            continue;
        }
        match pairs[i].and_then(|k| holdings.items.get(k)) {
            None if ["account:", "secret:"].iter().any(|kind| {
                let key = [kind, vendor, ":", &item.id].concat();
                holdings
                    .removed_items
                    .iter()
                    .any(|r| r == &key || r.strip_prefix(key.as_str()).is_some_and(|rest| rest.starts_with('#')))
            }) =>
            {
                removed += 1;
            }
            None => outcome.unexpected.push(Difference {
                what: What::ItemMissing,
                person: None,
                item: item.title.clone(),
                source_id: item.id.clone(),
                line: item.line,
                source_right: None,
                workspace_role: None,
                detail: format!("the workspace holds no item imported from {vendor} entry '{}'", item.id),
            }),
            Some(stored) => {
                values(item, stored, outcome);
                out.push((item, stored));
            }
        }
    }
    if removed > 0 {
        outcome.expected.push(Expected {
            rule: Rule::RemovedInWorkspace.code(),
            why: Rule::RemovedInWorkspace.why(),
            person: None,
            source_right: None,
            workspace_role: None,
            items: removed,
        });
    }
    out
}

/// `fp:…#3` → `fp:…`: the siblings of a content-numbered entry share it.
fn base_id(id: &str) -> &str {
    match id.rsplit_once('#') {
        Some((base, n)) if id.starts_with("fp:") && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => id,
    }
}

fn skipped(item: &SourceItem, policy: &Policy) -> bool {
    (item.archived && !policy.import_archived) || policy.skips_folder(&item.folder)
}

/// How many of the entry's values the item holds.
fn carried(item: &SourceItem, stored: &StoredItem) -> usize {
    item.values.iter().filter(|v| stored.held.count(&v.digest) > 0).count()
}

/// Every value of the entry must be in the item, as many times as the
/// entry holds it; a missing one is named by its label, never shown.
fn values(item: &SourceItem, stored: &StoredItem, outcome: &mut Outcome) {
    let mut need: FxHashMap<super::digest::Digest, (usize, Vec<&str>)> = FxHashMap::default();
    for v in &item.values {
        let e = need.entry(v.digest).or_default();
        e.0 += 1;
        e.1.push(v.label.as_ref());
    }
    let mut missing: Vec<&str> = Vec::new();
    for (digest, (n, labels)) in &need {
        let held = stored.held.count(digest);
        if held < *n {
            missing.extend(labels.iter().skip(held));
        }
    }
    if missing.is_empty() {
        return;
    }
    missing.sort_unstable();
    outcome.unexpected.push(Difference {
        what: What::ValueNotCarried,
        person: None,
        item: item.title.clone(),
        source_id: item.id.clone(),
        line: item.line,
        source_right: None,
        workspace_role: None,
        detail: format!(
            "the workspace item does not hold the source's value of {} (compared by digest)",
            missing.iter().map(|l| format!("'{l}'")).collect::<Vec<_>>().join(", ")
        ),
    });
}
