//! Shares → grants, teams, guest invitations and unmatched users.
//!
//! Who a sharer is decides what they get (ARCHITECTURE.md, "Mapping rules"):
//! an active workspace member gets a grant; someone inside the company's
//! domains who is not (or no longer) a member gets nothing and is listed;
//! an outside person is shared with through an accepted partnership, or
//! invited as a guest, joining the local partner of their domain.
//!
//! Shares carry no position of their own (the sharing parsers point at the
//! file in their findings), so these findings name the folder and person.

use std::collections::{HashMap, HashSet};

use crate::model::{Access, EntryRef, Finding, Principal, Share, ShareStatus};
use crate::workspace::{domain_in, ImportKey, ItemRole, MemberState, PartnershipState, Role};

use super::{
    invitation_key, normalize_email, team_key, Mapper, PlannedGrantee, PlannedInvitation, PlannedTeam, UnmatchedAccess,
    UnmatchedReason, UnmatchedUser,
};

pub(crate) fn shares(m: &mut Mapper<'_>, shares: &[Share]) {
    let teams = group_teams(m, shares);
    let items = shares
        .iter()
        .filter_map(|s| s.item.as_ref())
        .map(|i| i.source_id.as_str());
    m.item_targets = m.items_by_source_id(items);
    for share in shares {
        if let Some(item) = &share.item {
            let Some(target) = m.item_targets.get(&item.source_id).cloned() else {
                item_not_planned(m, share, item);
                continue;
            };
            if share.status != ShareStatus::Active {
                not_active(m, share);
                continue;
            }
            principal(m, share, &target, &teams);
            continue;
        }
        let folder = share.folder.join("/");
        if m.policy.skips_folder(&share.folder) {
            m.findings.push(Finding::info(
                "mapper.share-in-skipped-folder",
                format!(
                    "the share of '{folder}' with {} is ignored: the policy skips that folder",
                    who(share)
                ),
            ));
            continue;
        }
        if !m.folder_set.contains(&share.folder) {
            m.findings.push(
                Finding::warning(
                    "mapper.share-folder-missing",
                    format!(
                        "the sharing data shares folder '{folder}' with {}, but the export has no such folder; no grant is made",
                        who(share)
                    ),
                )
                .help("check that the sharing file and the export come from the same account and date"),
            );
            continue;
        }
        let Some(target) = m.collection_keys.get(&share.folder).cloned() else {
            m.findings.push(Finding::info(
                "mapper.share-folder-empty",
                format!(
                    "folder '{folder}' is shared with {} but no collection is created for it (it is empty)",
                    who(share)
                ),
            ));
            continue;
        };
        if share.status != ShareStatus::Active {
            not_active(m, share);
            continue;
        }
        principal(m, share, &target, &teams);
    }
}

type Teams = HashMap<String, (Option<String>, HashSet<String>)>;

/// An active share, on a collection or a single item (`target`), to the
/// person or group it names.
fn principal(m: &mut Mapper<'_>, share: &Share, target: &ImportKey, teams: &Teams) {
    match &share.principal {
        Principal::User { email, name } => user(m, share, target, email, name.as_deref()),
        Principal::Group { group, members } => {
            let (team, all) = teams.get(&group_name(group)).cloned().unwrap_or_default();
            group_share(m, share, target, group, members, team, &all);
        }
    }
}

/// An item share whose entry is not planned: the policy skipped it (its
/// folder, archived), or the export does not hold it.
fn item_not_planned(m: &mut Mapper<'_>, share: &Share, item: &EntryRef) {
    let place = place(m, share);
    if m.policy.skips_folder(&item.folder) {
        m.findings.push(Finding::info(
            "mapper.share-in-skipped-folder",
            format!(
                "the share of '{place}' with {} is ignored: the policy skips that folder",
                who(share)
            ),
        ));
        return;
    }
    m.findings.push(Finding::info(
        "mapper.share-item-not-imported",
        format!(
            "item '{place}' (id '{}') is shared with {}, but it is not imported (archived, skipped or not in the export); no grant",
            item.source_id,
            who(share)
        ),
    ));
}

/// Where a share gives access, as the workspace will show it: the
/// collection path, or an item's title after its collection's.
fn place(m: &Mapper<'_>, share: &Share) -> String {
    match &share.item {
        None => m.display_path(&share.folder),
        Some(item) if item.folder.is_empty() => item.title.clone(),
        Some(item) => format!("{} › {}", m.display_path(&item.folder), item.title),
    }
}

/// The planned items a share reaches: its item, or everything under its
/// folder.
fn reached(m: &mut Mapper<'_>, share: &Share) -> Vec<ImportKey> {
    match &share.item {
        Some(item) => m.item_targets.get(&item.source_id).cloned().into_iter().collect(),
        None => m.items_under(&share.folder),
    }
}

fn who(share: &Share) -> String {
    match &share.principal {
        Principal::User { email, .. } => normalize_email(email),
        Principal::Group { group, .. } => format!("group '{group}'"),
    }
}

/// The role the policy gives this access, before any workspace rule caps it.
fn mapped_role(m: &Mapper<'_>, access: &Access) -> ItemRole {
    let roles = &m.policy.roles;
    if access.admin {
        roles.admin
    } else if access.edit {
        roles.edit
    } else if access.hide_passwords {
        roles.hide_passwords
    } else {
        roles.read_only
    }
}

/// The source's words for the access, for findings: the raw permissions
/// when the parser kept them.
fn source_words(share: &Share) -> String {
    match &share.source_access {
        Some(raw) => format!("{} ({raw})", share.access.describe()),
        None => share.access.describe(),
    }
}

fn edit_not_admin(m: &mut Mapper<'_>, share: &Share, role: ItemRole) {
    if share.access.edit && !share.access.admin && role == ItemRole::Collaborator {
        let folder = place(m, share);
        m.findings.push(
            Finding::info(
                "mapper.edit-not-admin",
                format!(
                    "{} could edit but not administer '{folder}'; they get Collaborator (Owner would also let them share it)",
                    who(share)
                ),
            )
            .help("set [roles] edit = \"owner\" in the policy to give Owner instead"),
        );
    }
}

/// Guests and login-only members hold Collaborator whatever the policy's
/// `[roles] edit` says, so an edit right they had is lost; when the mapped
/// role is above Collaborator the role-lowered finding says it already.
fn edit_lowered(m: &mut Mapper<'_>, share: &Share, role: ItemRole, what: &str) {
    if share.access.edit && !share.access.admin && role == ItemRole::Collaborator {
        let folder = place(m, share);
        m.findings.push(
            Finding::warning(
                "mapper.edit-lowered",
                format!(
                    "{} could edit '{folder}' in the source but is {what}; they get collaborator, who cannot edit",
                    who(share)
                ),
            )
            .help("guests and login-only members can only be collaborators; make them a member if they need to edit"),
        );
    }
}

/// Every workspace role may view an item's password: a source right that
/// hid them is not carried, and a reviewer must hear of it.
fn hide_passwords_not_kept(m: &mut Mapper<'_>, share: &Share) {
    if share.access.hide_passwords {
        let folder = place(m, share);
        m.findings.push(
            Finding::warning(
                "mapper.hide-passwords-not-kept",
                format!(
                    "{} could use {} without seeing their passwords; in the workspace they can view them (no workspace role hides passwords)",
                    who(share),
                    if share.item.is_some() {
                        format!("item '{folder}'")
                    } else {
                        format!("the items of '{folder}'")
                    }
                ),
            )
            .help("if they must not see the passwords, remove their access after the import, or leave the folder out with skip_folders"),
        );
    }
}

fn is_capped(role: Role) -> bool {
    matches!(role, Role::Guest | Role::LoginOnly)
}

fn not_active(m: &mut Mapper<'_>, share: &Share) {
    let (reason, words) = match share.status {
        ShareStatus::Pending => (UnmatchedReason::NeverAccepted, "never accepted the share"),
        ShareStatus::Deleted => (UnmatchedReason::Deleted, "was deleted in the source"),
        _ => (UnmatchedReason::SuspendedInSource, "is suspended in the source"),
    };
    let folder = place(m, share);
    m.findings.push(Finding::warning(
        "mapper.share-not-active",
        format!("{} {words}; no grant on '{folder}'", who(share)),
    ));
    if let Principal::User { email, name } = &share.principal {
        unmatched(m, share, email, name.as_deref(), reason);
    }
}

fn unmatched(m: &mut Mapper<'_>, share: &Share, email: &str, name: Option<&str>, reason: UnmatchedReason) {
    let email = normalize_email(email);
    let folder = place(m, share);
    let items = reached(m, share);
    let access = UnmatchedAccess {
        folder,
        access: share.access.describe(),
    };
    if let Some(u) = m
        .plan
        .unmatched
        .iter_mut()
        .find(|u| u.email == email && u.reason == reason)
    {
        if !u.access.contains(&access) {
            u.access.push(access);
        }
        let known: HashSet<ImportKey> = u.items.iter().cloned().collect();
        u.items.extend(items.into_iter().filter(|i| !known.contains(i)));
        if u.name.is_none() {
            u.name = name.map(str::to_owned);
        }
        return;
    }
    m.plan.unmatched.push(UnmatchedUser {
        email,
        name: name.map(str::to_owned),
        reason,
        access: vec![access],
        items,
    });
}

fn user(m: &mut Mapper<'_>, share: &Share, target: &ImportKey, email: &str, name: Option<&str>) {
    let email_n = normalize_email(email);
    let role = mapped_role(m, &share.access);
    let folder = place(m, share);
    let snapshot = m.snapshot;
    if !looks_like_email(&email_n) {
        // Sharing data can name a user by login name only (old LastPass
        // accounts); without a domain nobody can tell inside from outside,
        // and inviting a guest at a non-address would fail.
        m.findings.push(
            Finding::warning(
                "mapper.sharer-not-an-email",
                format!("the sharer '{email_n}' of '{folder}' is not an email address; no grant, no invitation"),
            )
            .help("grant access by hand in the workspace after the import"),
        );
        return;
    }
    if !crate::model::address::is_mailbox(&email_n) {
        // The readers drop these with the file and line; this catches the
        // sources that do not (CXF, group member lists).
        m.findings.push(
            Finding::warning(
                "mapper.sharer-address-invalid",
                format!(
                    "the sharer {email_n:?} of '{folder}' is not a valid email address (expected name@domain.example); no grant, no invitation"
                ),
            )
            .help("correct the address in the sharing file and run again, or grant access by hand in the workspace"),
        );
        return;
    }
    if let Some(member) = snapshot.member_by_email(&email_n) {
        match member.state {
            MemberState::Suspended | MemberState::Removed => {
                let (reason, words) = if member.state == MemberState::Suspended {
                    (UnmatchedReason::Suspended, "suspended")
                } else {
                    (UnmatchedReason::Removed, "removed")
                };
                m.findings.push(Finding::warning(
                    "mapper.member-not-active",
                    format!("{email_n} is {words} in the workspace; no grant on '{folder}'"),
                ));
                unmatched(m, share, &email_n, name, reason);
                return;
            }
            // A guest in state invited is one the workspace (or an earlier
            // run) invited: granted as the first run granted them, so a
            // re-run keeps what it made. A regular member who has not joined
            // yet gets nothing until they do.
            MemberState::Invited if member.role != Role::Guest => {
                m.findings.push(
                    Finding::warning(
                        "mapper.member-not-joined",
                        format!(
                            "{email_n} is invited to the workspace but has not joined yet; no grant on '{folder}' (only active members get grants)"
                        ),
                    )
                    .help("re-run the import once they have joined"),
                );
                unmatched(m, share, &email_n, name, UnmatchedReason::NotJoined);
                return;
            }
            MemberState::Active | MemberState::Invited => {}
        }
        let capped = is_capped(member.role);
        let (granted, lowered) = if capped && role != ItemRole::Collaborator {
            let (code, what) = if member.role == Role::Guest {
                ("mapper.guest-role-lowered", "a guest")
            } else {
                ("mapper.login-only-role-lowered", "a login-only member")
            };
            m.findings.push(Finding::warning(
                code,
                format!(
                    "{email_n} had {} on '{folder}' but is {what}; lowered from {} to collaborator",
                    source_words(share),
                    role.name()
                ),
            ));
            (ItemRole::Collaborator, Some(role))
        } else {
            (role, None)
        };
        if capped {
            let what = if member.role == Role::Guest {
                "a guest"
            } else {
                "a login-only member"
            };
            edit_lowered(m, share, role, what);
        } else {
            edit_not_admin(m, share, role);
        }
        hide_passwords_not_kept(m, share);
        // An existing guest is a member already: granted as a member.
        let grantee = PlannedGrantee::Member { email: email_n.clone() };
        m.grant(
            target.clone(),
            grantee.clone(),
            granted,
            share.access.describe(),
            lowered,
        );
        let guest_admin =
            member.role == Role::Guest && snapshot.partners.iter().any(|p| p.guest_admins.contains(&member.id));
        if guest_admin && m.policy.partner_guest_admin_role == ItemRole::Manager {
            manager_on_accounts(m, share, grantee, role);
        }
        return;
    }
    if domain_in(&email_n, &m.company_domains) {
        m.findings.push(
            Finding::warning(
                "mapper.internal-not-member",
                format!(
                    "{email_n} is inside the company's domains but not a workspace member (left the company?); not invited, no grant on '{folder}'"
                ),
            )
            .help("add them to the workspace (or the directory) and re-run, if they still need access"),
        );
        unmatched(m, share, &email_n, name, UnmatchedReason::LeftCompany);
        return;
    }
    outside(m, share, target, &email_n, name, role);
}

fn looks_like_email(email: &str) -> bool {
    email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'))
}

fn outside(m: &mut Mapper<'_>, share: &Share, target: &ImportKey, email: &str, name: Option<&str>, role: ItemRole) {
    let folder = place(m, share);
    let snapshot = m.snapshot;
    let partnerships: Vec<_> = snapshot
        .partnerships
        .iter()
        .filter(|p| domain_in(email, &p.domains))
        .collect();
    if let Some(p) = partnerships.iter().find(|p| p.state == PartnershipState::Accepted) {
        // Partnerships carry Collaborator or Manager only.
        let (granted, lowered) = if role == ItemRole::Owner {
            m.findings.push(
                Finding::warning(
                    "mapper.partnership-role-lowered",
                    format!(
                        "{email} had {} on '{folder}'; shared through the {} partnership as collaborator (partnerships carry collaborator or manager only)",
                        source_words(share),
                        p.name
                    ),
                ),
            );
            (ItemRole::Collaborator, Some(role))
        } else {
            (role, None)
        };
        edit_lowered(
            m,
            share,
            role,
            &format!("shared with through the {} partnership", p.name),
        );
        hide_passwords_not_kept(m, share);
        let grantee = PlannedGrantee::Partnership { name: p.name.clone() };
        m.grant(target.clone(), grantee, granted, share.access.describe(), lowered);
        return;
    }
    // Said once per person, however many folders they had.
    let first_time = !m.plan.invitations.iter().any(|i| i.key == invitation_key(email));
    if let (true, Some(p)) = (first_time, partnerships.first()) {
        m.findings.push(
            Finding::info(
                "mapper.partnership-not-accepted",
                format!(
                    "{email}'s domain belongs to the {} partnership, which is not accepted yet; they are invited as a guest instead",
                    p.name
                ),
            ),
        );
    }
    if !m.policy.invite_guests {
        m.findings.push(Finding::info(
            "mapper.invitations-off",
            format!("{email} is outside the company and guest invitations are off; no grant on '{folder}'"),
        ));
        unmatched(m, share, email, name, UnmatchedReason::InvitationsOff);
        return;
    }
    let partner = snapshot.partners.iter().find(|p| domain_in(email, &p.domains));
    let guest_admin = partner.is_some() && share.access.admin;
    let key = invitation_key(email);
    match m.plan.invitations.iter_mut().find(|i| i.key == key) {
        Some(inv) => {
            if !inv.folders.contains(&folder) {
                inv.folders.push(folder.clone());
            }
            inv.guest_admin |= guest_admin;
            if inv.name.is_none() {
                inv.name = name.map(str::to_owned);
            }
        }
        None => m.plan.invitations.push(PlannedInvitation {
            key,
            email: email.to_owned(),
            name: name.map(str::to_owned),
            partner: partner.map(|p| p.name.clone()),
            guest_admin,
            folders: vec![folder.clone()],
        }),
    }
    let lowered = if role != ItemRole::Collaborator {
        m.findings.push(
            Finding::warning(
                "mapper.guest-role-lowered",
                format!(
                    "{email} had {} on '{folder}'; as a guest they get collaborator, not {}",
                    source_words(share),
                    role.name()
                ),
            )
            .help("guests can only hold Collaborator; make them a member if they need more"),
        );
        Some(role)
    } else {
        edit_lowered(m, share, role, "an outside sharer, invited as a guest");
        None
    };
    hide_passwords_not_kept(m, share);
    let grantee = PlannedGrantee::Guest {
        email: email.to_owned(),
    };
    m.grant(
        target.clone(),
        grantee.clone(),
        ItemRole::Collaborator,
        share.access.describe(),
        lowered,
    );
    if guest_admin && m.policy.partner_guest_admin_role == ItemRole::Manager {
        manager_on_accounts(m, share, grantee, role);
    }
}

/// A local partner's Guest Admin may share onward only accounts on which
/// they are Manager, so with `partner_guest_admin_role = "manager"` they get
/// Manager on each account of the folder (subfolders included).
fn manager_on_accounts(m: &mut Mapper<'_>, share: &Share, grantee: PlannedGrantee, role: ItemRole) {
    let lowered = (role == ItemRole::Owner).then_some(role);
    let accounts = match &share.item {
        Some(item) => m
            .item_targets
            .get(&item.source_id)
            .filter(|k| k.as_str().starts_with("account:"))
            .cloned()
            .into_iter()
            .collect(),
        None => m.accounts_under(&share.folder),
    };
    for account in accounts {
        m.grant(
            account,
            grantee.clone(),
            ItemRole::Manager,
            share.access.describe(),
            lowered,
        );
    }
}

/// How groups are told apart: trimmed, case folded (`Ops`, ` ops`).
fn group_name(group: &str) -> String {
    group.trim().to_lowercase()
}

/// The team each source group's grants go to, decided once per group
/// (`None`: no team can take them without giving access away).
///
/// A group is mapped onto the workspace team of its name only when nobody
/// in that team would gain access: the importer made the team (its import
/// key), or each of its members is an active regular member the sharing
/// data names in the group. Otherwise the group gets a team of its own,
/// `<group> (imported)`, which keeps every group member's rights and the
/// group's shape (a reviewer can merge the two by hand); rewriting the
/// group as direct grants would lose the shape, and capping or skipping
/// the existing team would take rights from the group's own members.
///
/// Beside the team comes every active regular member the group names on
/// any folder: the team holds them all, so a folder whose list names fewer
/// cannot be granted to the team.
fn group_teams(m: &mut Mapper<'_>, shares: &[Share]) -> Teams {
    let snapshot = m.snapshot;
    let mut order: Vec<String> = Vec::new();
    let mut known: HashMap<String, (String, HashSet<String>)> = HashMap::new();
    for share in shares.iter().filter(|s| s.status == ShareStatus::Active) {
        let Principal::Group { group, members } = &share.principal else {
            continue;
        };
        let (_, regular) = known.entry(group_name(group)).or_insert_with(|| {
            order.push(group_name(group));
            (group.trim().to_owned(), HashSet::new())
        });
        for email in members {
            let email = normalize_email(email);
            if snapshot
                .member_by_email(&email)
                .is_some_and(|mb| mb.state == MemberState::Active && !is_capped(mb.role))
            {
                regular.insert(email);
            }
        }
    }
    let mut out = HashMap::new();
    for key in order {
        let Some((group, regular)) = known.remove(&key) else {
            continue;
        };
        let all = regular.clone();
        let team = match team_outsiders(snapshot, &group, &regular) {
            None => Some(group.clone()),
            Some((existing, outsiders)) if outsiders.is_empty() => Some(existing),
            Some((existing, outsiders)) => {
                let own = format!("{group} (imported)");
                let own_free = team_outsiders(snapshot, &own, &regular).map_or(true, |(_, o)| o.is_empty());
                let shown = outsiders.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
                let more = outsiders.len().saturating_sub(5);
                let others = if more > 0 {
                    format!("{shown} and {more} more")
                } else {
                    shown
                };
                let (what, team) = if own_free {
                    (
                        format!("its grants go to a new team '{own}' with the group's members"),
                        Some(own),
                    )
                } else {
                    (
                        format!("team '{own}' exists with other members too, so the group's grants are not made"),
                        None,
                    )
                };
                m.findings.push(
                    Finding::warning(
                        "mapper.group-team-not-reused",
                        format!(
                            "group '{group}' is not mapped onto the workspace team '{existing}': {} of its members ({others}) are not in the group and would gain access; {what}",
                            outsiders.len()
                        ),
                    )
                    .help("merge the teams by hand after the import if they are the same people; a group whose members the sharing data does not name is never mapped onto a team with members"),
                );
                team
            }
        };
        out.insert(key, (team, all));
    }
    out
}

/// The workspace team named `name` (case-insensitively) and the emails of
/// its members outside `regular`; no outsiders when the importer made it.
fn team_outsiders(
    snapshot: &crate::workspace::Snapshot,
    name: &str,
    regular: &HashSet<String>,
) -> Option<(String, Vec<String>)> {
    let team = snapshot
        .teams
        .iter()
        .find(|t| t.name.trim().eq_ignore_ascii_case(name.trim()))?;
    if team.import_key.as_ref() == Some(&team_key(&team.name)) {
        return Some((team.name.clone(), Vec::new()));
    }
    let mut outsiders: Vec<String> = team
        .members
        .iter()
        .map(|id| {
            snapshot
                .members
                .iter()
                .find(|mb| mb.id == *id)
                .map_or_else(|| format!("member #{id}"), |mb| mb.email.to_lowercase())
        })
        .filter(|email| !regular.contains(email))
        .collect();
    outsiders.sort();
    Some((team.name.clone(), outsiders))
}

/// A group's active regular members join its team; everyone else it names
/// is handled as a direct sharer of the folder (capped at Collaborator,
/// invited, or listed unmatched), so access held only through a group is
/// never dropped and never reaches a guest through a team.
fn group_share(
    m: &mut Mapper<'_>,
    share: &Share,
    target: &ImportKey,
    group: &str,
    members: &[String],
    team: Option<String>,
    all: &HashSet<String>,
) {
    let snapshot = m.snapshot;
    let folder = place(m, share);
    let mut regular = Vec::new();
    for email in members {
        let email_n = normalize_email(email);
        let member = snapshot.member_by_email(&email_n);
        let why = match member {
            Some(mb) if mb.state == MemberState::Active && !is_capped(mb.role) => {
                if !regular.contains(&email_n) {
                    regular.push(email_n);
                }
                continue;
            }
            Some(mb) if mb.role == Role::Guest => "a guest",
            Some(mb) if mb.role == Role::LoginOnly => "a login-only member",
            Some(mb) => match mb.state {
                MemberState::Invited => "invited but not joined",
                MemberState::Suspended => "suspended",
                _ => "removed",
            },
            None if domain_in(&email_n, &m.company_domains) => "not a workspace member",
            None => "outside the company",
        };
        m.findings.push(Finding::info(
            "mapper.group-member-not-in-team",
            format!(
                "group '{}' names {email_n}, who is {why}; they do not join the group's team and are handled as a direct sharer of '{folder}'",
                group.trim()
            ),
        ));
        let direct = Share {
            principal: Principal::User {
                email: email_n.clone(),
                name: None,
            },
            ..share.clone()
        };
        user(m, &direct, target, &email_n, None);
    }
    let Some(name) = team else {
        return;
    };
    // The team holds everyone the group names on any folder; when this
    // folder's list names fewer (a member removed from the group's share of
    // it), granting the team would give them the folder back, so the
    // members it names get it directly.
    if regular.len() < all.len() {
        let mut missing: Vec<&String> = all.iter().filter(|e| !regular.contains(e)).collect();
        missing.sort();
        let shown = missing
            .iter()
            .take(5)
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        m.findings.push(Finding::info(
            "mapper.group-members-differ",
            format!(
                "group '{}' holds '{folder}' without {} of the members it has on other folders ({shown}); the {} members it names there get '{folder}' directly instead of through team '{name}'",
                group.trim(),
                missing.len(),
                regular.len()
            ),
        ));
        for email in regular {
            let direct = Share {
                principal: Principal::User {
                    email: email.clone(),
                    name: None,
                },
                ..share.clone()
            };
            user(m, &direct, target, &email, None);
        }
        return;
    }
    let key = team_key(&name);
    match m.plan.teams.iter_mut().find(|t| t.key == key) {
        Some(planned) => {
            for e in regular {
                if !planned.members.contains(&e) {
                    planned.members.push(e);
                }
            }
        }
        None => {
            let existing = snapshot
                .teams
                .iter()
                .find(|t| t.name.trim().eq_ignore_ascii_case(name.trim()))
                .map(|t| t.id);
            m.plan.teams.push(PlannedTeam {
                key,
                name: name.clone(),
                members: regular,
                existing,
            });
        }
    }
    let role = mapped_role(m, &share.access);
    edit_not_admin(m, share, role);
    hide_passwords_not_kept(m, share);
    m.grant(
        target.clone(),
        PlannedGrantee::Team { name },
        role,
        share.access.describe(),
        None,
    );
}
