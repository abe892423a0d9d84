//! `vaultferry workspace init|show`: create the embedded workspace from a
//! seed (and a SCIM directory export), and show what it holds.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::Output;
use crate::workspace::seed::{self, member_state_name, partnership_state_name};
use crate::workspace::sqlite::SqliteWorkspace;
use crate::workspace::{Grant, GrantTarget, Grantee, PasswordPolicy, Snapshot, Workspace};
use crate::Error;

#[derive(Debug, Args)]
pub struct WorkspaceArgs {
    #[command(subcommand)]
    pub command: WorkspaceCommand,
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace database from a seed file (`vaultferry explain
    /// workspace-seed`).
    #[command(after_help = super::help::WORKSPACE_INIT)]
    Init(InitArgs),
    /// Show the workspace: members, teams, partners, collections and grants.
    #[command(after_help = super::help::WORKSPACE_SHOW)]
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The workspace database to create (SQLite). Its workspace key is
    /// made beside it (DB.key, owner-only) unless --key-file or
    /// VAULTFERRY_WORKSPACE_KEY gives one; back it up apart from the database.
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    #[command(flatten)]
    pub key: super::key_file::KeyFileArg,
    /// The workspace seed: name, domains, members, teams, partners,
    /// partnerships (TOML; `vaultferry explain workspace-seed`).
    #[arg(long, value_name = "FILE")]
    pub seed: PathBuf,
    /// Also load members from a SCIM 2.0 ListResponse of Users (an Okta or
    /// Entra ID export); they are marked directory-managed. A user the seed
    /// lists keeps the seed's role.
    #[arg(long, value_name = "FILE")]
    pub scim: Option<PathBuf>,
    /// Delete an existing database at PATH and create the workspace anew.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The workspace database (created by `workspace init`).
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    #[command(flatten)]
    pub key: super::key_file::KeyFileArg,
    /// Print the workspace as JSON (secret values are never included).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &WorkspaceArgs, out: &mut Output) -> Result<ExitCode, Error> {
    match &args.command {
        WorkspaceCommand::Init(a) => init(a, out),
        WorkspaceCommand::Show(a) => show(a, out),
    }
}

fn init(args: &InitArgs, out: &mut Output) -> Result<ExitCode, Error> {
    // Everything is checked before the database file is touched, so a bad
    // seed leaves nothing behind.
    let seed = seed::load(&args.seed, args.scim.as_deref())?;
    let ws = SqliteWorkspace::create_keyed(&args.db, args.force, &args.key.location())?;
    let id = ws.init(&seed)?;
    let snap = ws.snapshot()?;
    let managed = snap.members.iter().filter(|m| m.directory_managed).count();
    out.line(format!(
        "created workspace {} ({id}) in {}",
        snap.workspace.name,
        args.db.display()
    ))?;
    out.line(format!(
        "{} ({managed} directory-managed), {}, {}, {}",
        plural(snap.members.len(), "member", "members"),
        plural(snap.teams.len(), "team", "teams"),
        plural(snap.partners.len(), "local partner", "local partners"),
        plural(snap.partnerships.len(), "partnership", "partnerships")
    ))?;
    out.line(format!(
        "secret values sealed with {}: back it up apart from the database; without it they cannot be read",
        ws.key_origin()
    ))?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn show(args: &ShowArgs, out: &mut Output) -> Result<ExitCode, Error> {
    let ws = SqliteWorkspace::open_keyed(&args.db, &args.key.location())?;
    let snap = ws.snapshot()?;
    let view = View::new(&snap);
    if args.json {
        out.json(&view, false)?;
    } else {
        text(&view, out)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

// --- the `show` view: its own types, so `--json` stays stable whatever the
// snapshot types become. It holds names and counts, never item contents.

#[derive(Serialize)]
struct View {
    workspace: WorkspaceView,
    members: Vec<MemberView>,
    teams: Vec<TeamView>,
    partners: Vec<PartnerView>,
    partnerships: Vec<PartnershipView>,
    /// Depth-first, parents before their subcollections.
    collections: Vec<CollectionView>,
    /// Accounts and secrets in no collection.
    unfiled: Counts,
    invitations: Vec<InvitationView>,
}

#[derive(Serialize)]
struct WorkspaceView {
    id: String,
    name: String,
    domains: Vec<String>,
    password_policy: PasswordPolicy,
}

#[derive(Serialize)]
struct MemberView {
    email: String,
    name: Option<String>,
    role: &'static str,
    state: &'static str,
    directory_managed: bool,
    teams: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partner: Option<String>,
}

#[derive(Serialize)]
struct TeamView {
    name: String,
    members: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    import_key: Option<String>,
}

#[derive(Serialize)]
struct PartnerView {
    name: String,
    domains: Vec<String>,
    guest_admins: Vec<String>,
    guest_users: Vec<String>,
}

#[derive(Serialize)]
struct PartnershipView {
    name: String,
    workspace_id: String,
    domains: Vec<String>,
    state: &'static str,
}

#[derive(Default, Serialize)]
struct Counts {
    accounts: usize,
    secrets: usize,
}

#[derive(Serialize)]
struct CollectionView {
    name: String,
    /// Names from the top collection down, joined with `/`.
    path: String,
    depth: usize,
    /// Items directly in this collection (not in subcollections).
    items: Counts,
    grants: Vec<GrantView>,
    /// Grants on single accounts and secrets inside it.
    item_grants: Vec<ItemGrantView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    import_key: Option<String>,
}

#[derive(Serialize)]
struct GrantView {
    grantee_type: &'static str,
    grantee: String,
    role: &'static str,
}

#[derive(Serialize)]
struct ItemGrantView {
    item_type: &'static str,
    item: String,
    #[serde(flatten)]
    grant: GrantView,
}

#[derive(Serialize)]
struct InvitationView {
    email: String,
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    partner: Option<String>,
    state: &'static str,
}

impl View {
    fn new(snap: &Snapshot) -> View {
        let email: HashMap<i64, &str> = snap.members.iter().map(|m| (m.id, m.email.as_str())).collect();
        let emails = |ids: &[i64]| -> Vec<String> {
            ids.iter()
                .map(|id| email.get(id).map_or_else(|| format!("#{id}"), |e| (*e).to_owned()))
                .collect()
        };
        let mut members: Vec<MemberView> = snap
            .members
            .iter()
            .map(|m| MemberView {
                email: m.email.clone(),
                name: m.name.clone(),
                role: m.role.name(),
                state: member_state_name(m.state),
                directory_managed: m.directory_managed,
                teams: snap
                    .teams
                    .iter()
                    .filter(|t| t.members.contains(&m.id))
                    .map(|t| t.name.clone())
                    .collect(),
                partner: snap
                    .partners
                    .iter()
                    .find(|p| p.guest_admins.contains(&m.id) || p.guest_users.contains(&m.id))
                    .map(|p| p.name.clone()),
            })
            .collect();
        let rank = |role: &str| {
            ["owner", "super_admin", "admin", "user", "login_only", "guest"]
                .iter()
                .position(|r| *r == role)
        };
        members.sort_by(|a, b| rank(a.role).cmp(&rank(b.role)).then_with(|| a.email.cmp(&b.email)));

        View {
            workspace: WorkspaceView {
                id: snap.workspace.id.clone(),
                name: snap.workspace.name.clone(),
                domains: snap.workspace.domains.clone(),
                password_policy: snap.workspace.password_policy.clone(),
            },
            members,
            teams: snap
                .teams
                .iter()
                .map(|t| TeamView {
                    name: t.name.clone(),
                    members: emails(&t.members),
                    import_key: t.import_key.as_ref().map(|k| k.to_string()),
                })
                .collect(),
            partners: snap
                .partners
                .iter()
                .map(|p| PartnerView {
                    name: p.name.clone(),
                    domains: p.domains.clone(),
                    guest_admins: emails(&p.guest_admins),
                    guest_users: emails(&p.guest_users),
                })
                .collect(),
            partnerships: snap
                .partnerships
                .iter()
                .map(|p| PartnershipView {
                    name: p.name.clone(),
                    workspace_id: p.partner_workspace_id.clone(),
                    domains: p.domains.clone(),
                    state: partnership_state_name(p.state),
                })
                .collect(),
            collections: collections(snap),
            unfiled: Counts {
                accounts: snap.accounts.iter().filter(|a| a.collection.is_none()).count(),
                secrets: snap.secrets.iter().filter(|s| s.collection.is_none()).count(),
            },
            invitations: snap
                .invitations
                .iter()
                .map(|i| InvitationView {
                    email: i.email.clone(),
                    username: i.username.clone(),
                    partner: i
                        .partner
                        .and_then(|id| snap.partners.iter().find(|p| p.id == id))
                        .map(|p| p.name.clone()),
                    state: match i.state {
                        crate::workspace::InvitationState::Sent => "sent",
                        crate::workspace::InvitationState::Accepted => "accepted",
                        crate::workspace::InvitationState::Expired => "expired",
                    },
                })
                .collect(),
        }
    }
}

fn grant_view(snap: &Snapshot, g: &Grant) -> GrantView {
    let (grantee_type, grantee) = match g.grantee {
        Grantee::Member(id) => (
            "member",
            snap.members.iter().find(|m| m.id == id).map(|m| m.email.clone()),
        ),
        Grantee::Team(id) => ("team", snap.teams.iter().find(|t| t.id == id).map(|t| t.name.clone())),
        Grantee::Partner(id) => (
            "partner",
            snap.partners.iter().find(|p| p.id == id).map(|p| p.name.clone()),
        ),
        Grantee::Partnership(id) => (
            "partnership",
            snap.partnerships.iter().find(|p| p.id == id).map(|p| p.name.clone()),
        ),
    };
    let id = match g.grantee {
        Grantee::Member(id) | Grantee::Team(id) | Grantee::Partner(id) | Grantee::Partnership(id) => id,
    };
    GrantView {
        grantee_type,
        grantee: grantee.unwrap_or_else(|| format!("#{id}")),
        role: g.role.name(),
    }
}

/// The collections as a depth-first tree. Parent links come from the
/// database, so a cycle (which no foreign key prevents) is cut and its
/// collections listed at the top level rather than looping.
fn collections(snap: &Snapshot) -> Vec<CollectionView> {
    let mut children: BTreeMap<Option<i64>, Vec<usize>> = BTreeMap::new();
    let ids: HashSet<i64> = snap.collections.iter().map(|c| c.id).collect();
    for (i, c) in snap.collections.iter().enumerate() {
        // A parent that does not exist makes a top-level collection.
        let parent = c.parent.filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(i);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| snap.collections[*a].name.cmp(&snap.collections[*b].name));
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack: Vec<(usize, usize, String)> = Vec::new();
    let push_children = |stack: &mut Vec<(usize, usize, String)>, parent: Option<i64>, depth: usize, path: &str| {
        for &i in children.get(&parent).into_iter().flatten().rev() {
            stack.push((i, depth, path.to_owned()));
        }
    };
    push_children(&mut stack, None, 0, "");
    let mut roots: Vec<usize> = (0..snap.collections.len()).collect();
    loop {
        while let Some((i, depth, prefix)) = stack.pop() {
            let c = &snap.collections[i];
            if !seen.insert(c.id) {
                continue;
            }
            let path = if prefix.is_empty() {
                c.name.clone()
            } else {
                format!("{prefix}/{}", c.name)
            };
            out.push(collection_view(
                snap,
                c.id,
                &c.name,
                &path,
                depth,
                c.import_key.as_ref(),
            ));
            push_children(&mut stack, Some(c.id), depth + 1, &path);
        }
        // Collections only reachable through a cycle.
        roots.retain(|i| !seen.contains(&snap.collections[*i].id));
        match roots.first() {
            Some(&i) => stack.push((i, 0, String::new())),
            None => break,
        }
    }
    out
}

fn collection_view(
    snap: &Snapshot,
    id: i64,
    name: &str,
    path: &str,
    depth: usize,
    import_key: Option<&crate::workspace::ImportKey>,
) -> CollectionView {
    let accounts: Vec<_> = snap.accounts.iter().filter(|a| a.collection == Some(id)).collect();
    let secrets: Vec<_> = snap.secrets.iter().filter(|s| s.collection == Some(id)).collect();
    let mut item_grants = Vec::new();
    for g in &snap.grants {
        let item = match g.target {
            GrantTarget::Account(a) => accounts.iter().find(|x| x.id == a).map(|x| ("account", x.name.clone())),
            GrantTarget::Secret(s) => secrets.iter().find(|x| x.id == s).map(|x| ("secret", x.title.clone())),
            GrantTarget::Collection(_) => None,
        };
        if let Some((item_type, item)) = item {
            item_grants.push(ItemGrantView {
                item_type,
                item,
                grant: grant_view(snap, g),
            });
        }
    }
    CollectionView {
        name: name.to_owned(),
        path: path.to_owned(),
        depth,
        items: Counts {
            accounts: accounts.len(),
            secrets: secrets.len(),
        },
        grants: snap
            .grants
            .iter()
            .filter(|g| g.target == GrantTarget::Collection(id))
            .map(|g| grant_view(snap, g))
            .collect(),
        item_grants,
        import_key: import_key.map(|k| k.to_string()),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn text(view: &View, out: &mut Output) -> Result<(), Error> {
    let ws = &view.workspace;
    out.line(format!("workspace {} ({})", ws.name, ws.id))?;
    out.line(format!("domains: {}", ws.domains.join(", ")))?;
    let p = &ws.password_policy;
    let mut needs = Vec::new();
    for (on, what) in [
        (p.require_uppercase, "uppercase"),
        (p.require_lowercase, "lowercase"),
        (p.require_digit, "digit"),
        (p.require_symbol, "symbol"),
    ] {
        if on {
            needs.push(what);
        }
    }
    out.line(format!(
        "password policy: at least {} characters{}{}",
        p.min_length,
        if needs.is_empty() { "" } else { "; " },
        needs.join(", ")
    ))?;

    let mut by_role: BTreeMap<usize, (&str, usize)> = BTreeMap::new();
    let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, role) in ["owner", "super_admin", "admin", "user", "login_only", "guest"]
        .iter()
        .enumerate()
    {
        let n = view.members.iter().filter(|m| m.role == *role).count();
        if n > 0 {
            by_role.insert(i, (role, n));
        }
    }
    for m in &view.members {
        *by_state.entry(m.state).or_default() += 1;
    }
    let roles: Vec<String> = by_role.values().map(|(r, n)| format!("{n} {r}")).collect();
    let states: Vec<String> = by_state.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let managed = view.members.iter().filter(|m| m.directory_managed).count();
    out.line(format!(
        "\nmembers: {} ({}; {}; {managed} directory-managed)",
        view.members.len(),
        roles.join(", "),
        states.join(", ")
    ))?;
    let width = view.members.iter().map(|m| m.email.chars().count()).max().unwrap_or(0);
    let name_width = view
        .members
        .iter()
        .map(|m| m.name.as_deref().unwrap_or("-").chars().count())
        .max()
        .unwrap_or(0);
    for m in &view.members {
        let mut notes = vec![m.state.to_owned()];
        if m.directory_managed {
            notes.push("directory".into());
        }
        if let Some(p) = &m.partner {
            notes.push(format!("partner {p}"));
        }
        out.line(format!(
            "  {:<width$}  {:<11}  {:<name_width$}  ({})",
            m.email,
            m.role,
            m.name.as_deref().unwrap_or("-"),
            notes.join(", ")
        ))?;
    }

    out.line(format!("\nteams: {}", view.teams.len()))?;
    for t in &view.teams {
        let members = if t.members.is_empty() {
            "no members".to_owned()
        } else {
            t.members.join(", ")
        };
        out.line(format!("  {}: {members}", t.name))?;
    }

    out.line(format!("\nlocal partners: {}", view.partners.len()))?;
    for p in &view.partners {
        out.line(format!(
            "  {} ({}): guest admins {}; guest users {}",
            p.name,
            p.domains.join(", "),
            list_or_none(&p.guest_admins),
            list_or_none(&p.guest_users)
        ))?;
    }

    out.line(format!("\npartnerships: {}", view.partnerships.len()))?;
    for p in &view.partnerships {
        out.line(format!(
            "  {} (workspace {}; {}): {}",
            p.name,
            p.workspace_id,
            p.domains.join(", "),
            p.state
        ))?;
    }

    out.line(format!("\ncollections: {}", view.collections.len()))?;
    for c in &view.collections {
        let indent = "  ".repeat(c.depth + 1);
        out.line(format!(
            "{indent}{} ({}, {})",
            c.name,
            plural(c.items.accounts, "account", "accounts"),
            plural(c.items.secrets, "secret", "secrets")
        ))?;
        for g in &c.grants {
            out.line(format!("{indent}  → {} {}: {}", g.grantee_type, g.grantee, g.role))?;
        }
        for g in &c.item_grants {
            out.line(format!(
                "{indent}  {} {} → {} {}: {}",
                g.item_type, g.item, g.grant.grantee_type, g.grant.grantee, g.grant.role
            ))?;
        }
    }
    if view.unfiled.accounts + view.unfiled.secrets > 0 {
        out.line(format!(
            "  (in no collection: {}, {})",
            plural(view.unfiled.accounts, "account", "accounts"),
            plural(view.unfiled.secrets, "secret", "secrets")
        ))?;
    }

    out.line(format!("\nguest invitations: {}", view.invitations.len()))?;
    for i in &view.invitations {
        let partner = i.partner.as_ref().map(|p| format!(", partner {p}")).unwrap_or_default();
        out.line(format!("  {} (username {}{partner}): {}", i.email, i.username, i.state))?;
    }
    Ok(())
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}
