//! The workspace seed: a TOML file that describes a workspace to create
//! (`workspace init --seed FILE`), documented in `formats/workspace-seed.md`.
//!
//! Parsing ends in plain structs ([`Seed`]); the SQLite store only writes
//! them. Every error names the seed file, the line (from toml's byte spans)
//! and the key, and says what was expected.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::scim::DirectoryUser;
use super::{domain_in, MemberState, PartnershipState, PasswordPolicy, Role, WorkspaceError};
use crate::model::Position;

/// A checked seed: what `workspace init` writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seed {
    pub file: String,
    /// Generated at init when the seed has none.
    pub id: Option<String>,
    pub name: String,
    /// Lowercase.
    pub domains: Vec<String>,
    pub password_policy: PasswordPolicy,
    pub members: Vec<SeedMember>,
    pub teams: Vec<SeedTeam>,
    pub partners: Vec<SeedPartner>,
    pub partnerships: Vec<SeedPartnership>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedMember {
    /// Lowercase, trimmed.
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub state: MemberState,
    pub directory_managed: bool,
    /// Where the member was declared (seed line or SCIM record), for errors.
    pub at: Position,
}

/// A reference to a member by email, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRef {
    /// Lowercase, trimmed.
    pub email: String,
    pub at: Position,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedTeam {
    pub name: String,
    pub members: Vec<MemberRef>,
    pub at: Position,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedPartner {
    pub name: String,
    pub domains: Vec<String>,
    pub guest_admins: Vec<MemberRef>,
    pub guest_users: Vec<MemberRef>,
    pub at: Position,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedPartnership {
    pub name: String,
    pub workspace_id: String,
    pub domains: Vec<String>,
    pub state: PartnershipState,
    pub at: Position,
}

// --- the file as written -------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeed {
    workspace: RawWorkspace,
    #[serde(default)]
    members: Vec<RawMember>,
    #[serde(default)]
    teams: Vec<RawTeam>,
    #[serde(default)]
    partners: Vec<RawPartner>,
    #[serde(default)]
    partnerships: Vec<RawPartnership>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkspace {
    name: Spanned<String>,
    id: Option<Spanned<String>>,
    #[serde(default)]
    domains: Vec<Spanned<String>>,
    password_policy: Option<Spanned<RawPolicy>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    min_length: Option<u32>,
    require_uppercase: Option<bool>,
    require_lowercase: Option<bool>,
    require_digit: Option<bool>,
    require_symbol: Option<bool>,
    guest_invitation_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    email: Spanned<String>,
    name: Option<String>,
    role: Spanned<String>,
    state: Option<Spanned<String>>,
    #[serde(default)]
    directory_managed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeam {
    name: Spanned<String>,
    #[serde(default)]
    members: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPartner {
    name: Spanned<String>,
    #[serde(default)]
    domains: Vec<Spanned<String>>,
    #[serde(default)]
    guest_admins: Vec<Spanned<String>>,
    #[serde(default)]
    guest_users: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPartnership {
    name: Spanned<String>,
    workspace_id: Spanned<String>,
    #[serde(default)]
    domains: Vec<Spanned<String>>,
    state: Spanned<String>,
}

const ROLES: &str = "owner, super_admin, admin, user, login_only, guest";
const MEMBER_STATES: &str = "invited, active, suspended, removed";
const PARTNERSHIP_STATES: &str = "requested, approved, accepted, declined";

/// Shortest `min_length` a seed may ask for: below it the policy would let
/// temporary guest passwords be guessable.
pub const MIN_PASSWORD_LENGTH: u32 = 8;
/// Longest `min_length`; beyond it no password manager generates passwords.
pub const MAX_PASSWORD_LENGTH: u32 = 128;
/// The longest a guest's temporary password may stay valid, in days.
pub const MAX_GUEST_INVITATION_DAYS: u32 = 90;

pub fn role_from_name(name: &str) -> Option<Role> {
    Some(match name {
        "owner" => Role::Owner,
        "super_admin" => Role::SuperAdmin,
        "admin" => Role::Admin,
        "user" => Role::User,
        "login_only" => Role::LoginOnly,
        "guest" => Role::Guest,
        _ => return None,
    })
}

pub fn member_state_from_name(name: &str) -> Option<MemberState> {
    Some(match name {
        "invited" => MemberState::Invited,
        "active" => MemberState::Active,
        "suspended" => MemberState::Suspended,
        "removed" => MemberState::Removed,
        _ => return None,
    })
}

pub fn member_state_name(state: MemberState) -> &'static str {
    match state {
        MemberState::Invited => "invited",
        MemberState::Active => "active",
        MemberState::Suspended => "suspended",
        MemberState::Removed => "removed",
    }
}

pub fn partnership_state_from_name(name: &str) -> Option<PartnershipState> {
    Some(match name {
        "requested" => PartnershipState::Requested,
        "approved" => PartnershipState::Approved,
        "accepted" => PartnershipState::Accepted,
        "declined" => PartnershipState::Declined,
        _ => return None,
    })
}

pub fn partnership_state_name(state: PartnershipState) -> &'static str {
    match state {
        PartnershipState::Requested => "requested",
        PartnershipState::Approved => "approved",
        PartnershipState::Accepted => "accepted",
        PartnershipState::Declined => "declined",
    }
}

/// Lowercases and trims an email; `None` unless it has the shape
/// `local@domain.tld` with no spaces. Deliberately loose beyond that: the
/// identity provider, not the seed, owns address syntax.
pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty() && valid_domain(domain) && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(email)
}

/// A DNS name with at least one dot; labels of letters, digits and `-`.
pub fn valid_domain(domain: &str) -> bool {
    domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// Reads and checks a seed file.
pub fn read_seed(path: &Path) -> Result<Seed, WorkspaceError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| WorkspaceError::Input {
        position: Position::file(&file),
        message: format!("cannot read the workspace seed: {e}"),
    })?;
    parse_seed(&file, &text)
}

/// What `workspace init` reads: the seed, plus the users of a SCIM export
/// if one is given, merged and checked together.
pub fn load(seed: &Path, scim: Option<&Path>) -> Result<Seed, WorkspaceError> {
    let mut seed = read_seed(seed)?;
    if let Some(scim) = scim {
        seed.merge_directory(super::scim::read_scim(scim)?);
        seed.validate()?;
    }
    Ok(seed)
}

/// Parses a seed's text (`file` is used in errors) and checks each value and
/// the rules across them ([`Seed::validate`]).
pub fn parse_seed(file: &str, text: &str) -> Result<Seed, WorkspaceError> {
    let lines = Lines::new(file, text);
    let raw: RawSeed = toml::from_str(text).map_err(|e| {
        let mut position = Position::file(file);
        if let Some(span) = e.span() {
            position = lines.at(span.start, None);
            position.field = lines.key_at(span.start);
        }
        WorkspaceError::Input {
            position,
            // toml splits some messages over lines ("invalid array\nexpected `]`").
            message: e.message().trim().lines().map(str::trim).collect::<Vec<_>>().join(": "),
        }
    })?;
    let seed = lines.convert(raw)?;
    seed.validate()?;
    Ok(seed)
}

/// `file:line` of an earlier declaration, for "already declared at …".
fn short(at: &Position) -> String {
    match (&at.file, at.line) {
        (Some(f), Some(l)) => format!("{f}:{l}"),
        _ => at.to_string(),
    }
}

fn input(position: Position, message: impl Into<String>) -> WorkspaceError {
    WorkspaceError::Input {
        position,
        message: message.into(),
    }
}

/// Turns byte offsets into `file:line` positions and finds the key written
/// on a line, since toml's errors carry only a span.
struct Lines<'a> {
    file: &'a str,
    text: &'a str,
}

impl<'a> Lines<'a> {
    fn new(file: &'a str, text: &'a str) -> Lines<'a> {
        Lines { file, text }
    }

    fn line_of(&self, offset: usize) -> u64 {
        let end = offset.min(self.text.len());
        let before = self.text.get(..end).unwrap_or(self.text);
        before.bytes().filter(|&b| b == b'\n').count() as u64 + 1
    }

    fn at(&self, offset: usize, field: Option<&str>) -> Position {
        let mut p = Position::file(self.file).line(self.line_of(offset));
        if let Some(field) = field {
            p = p.field(field);
        }
        p
    }

    fn spanned<T>(&self, value: &Spanned<T>, field: &str) -> Position {
        self.at(value.span().start, Some(field))
    }

    /// `members.role` for an error on `role = …` under `[[members]]`.
    fn key_at(&self, offset: usize) -> Option<String> {
        let line_no = self.line_of(offset) as usize;
        let lines: Vec<&str> = self.text.lines().collect();
        let line = lines.get(line_no.checked_sub(1)?)?;
        let key = line
            .split_once('=')
            .map(|(k, _)| k.trim().trim_matches('"').to_owned())
            .filter(|k| !k.is_empty() && !k.contains(['[', ']', '{', '#']));
        let table = lines.iter().take(line_no).rev().find_map(|l| {
            let l = l.trim();
            l.starts_with('[').then(|| {
                l.trim_start_matches('[')
                    .split(']')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned()
            })
        });
        match (table, key) {
            (Some(t), Some(k)) if !t.is_empty() => Some(format!("{t}.{k}")),
            (_, Some(k)) => Some(k),
            (Some(t), None) if !t.is_empty() => Some(t),
            _ => None,
        }
    }

    fn email(&self, value: &Spanned<String>, field: &str) -> Result<MemberRef, WorkspaceError> {
        let at = self.spanned(value, field);
        match normalize_email(value.get_ref()) {
            Some(email) => Ok(MemberRef { email, at }),
            None => Err(input(
                at,
                format!(
                    "`{}` is not an email address: expected local@domain.example",
                    value.get_ref().trim()
                ),
            )),
        }
    }

    fn emails(&self, values: &[Spanned<String>], field: &str) -> Result<Vec<MemberRef>, WorkspaceError> {
        values.iter().map(|v| self.email(v, field)).collect()
    }

    fn domains(&self, values: &[Spanned<String>], field: &str) -> Result<Vec<String>, WorkspaceError> {
        let mut out: Vec<String> = Vec::new();
        for v in values {
            let d = v.get_ref().trim().trim_start_matches('@').to_lowercase();
            if !valid_domain(&d) {
                return Err(input(
                    self.spanned(v, field),
                    format!(
                        "`{}` is not a domain: expected a name like example.com",
                        v.get_ref().trim()
                    ),
                ));
            }
            if !out.contains(&d) {
                out.push(d);
            }
        }
        Ok(out)
    }

    fn name(&self, value: &Spanned<String>, field: &str) -> Result<String, WorkspaceError> {
        let name = value.get_ref().trim();
        if name.is_empty() {
            return Err(input(self.spanned(value, field), "is empty: expected a name"));
        }
        Ok(name.to_owned())
    }

    fn convert(&self, raw: RawSeed) -> Result<Seed, WorkspaceError> {
        let ws = raw.workspace;
        let name = self.name(&ws.name, "workspace.name")?;
        let id = match &ws.id {
            Some(id) => {
                let v = id.get_ref().trim();
                if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(input(
                        self.spanned(id, "workspace.id"),
                        "expected a workspace id without spaces, such as ws-northwind",
                    ));
                }
                Some(v.to_owned())
            }
            None => None,
        };
        let domains = self.domains(&ws.domains, "workspace.domains")?;
        let password_policy = match &ws.password_policy {
            None => PasswordPolicy::default(),
            Some(p) => {
                let d = PasswordPolicy::default();
                let r = p.get_ref();
                let policy = PasswordPolicy {
                    min_length: r.min_length.unwrap_or(d.min_length),
                    require_uppercase: r.require_uppercase.unwrap_or(d.require_uppercase),
                    require_lowercase: r.require_lowercase.unwrap_or(d.require_lowercase),
                    require_digit: r.require_digit.unwrap_or(d.require_digit),
                    require_symbol: r.require_symbol.unwrap_or(d.require_symbol),
                    guest_invitation_days: r.guest_invitation_days.unwrap_or(d.guest_invitation_days),
                };
                if !(1..=MAX_GUEST_INVITATION_DAYS).contains(&policy.guest_invitation_days) {
                    return Err(input(
                        self.spanned(p, "workspace.password_policy.guest_invitation_days"),
                        format!(
                            "guest_invitation_days {} is out of range: expected 1 to {MAX_GUEST_INVITATION_DAYS}",
                            policy.guest_invitation_days
                        ),
                    ));
                }
                if !(MIN_PASSWORD_LENGTH..=MAX_PASSWORD_LENGTH).contains(&policy.min_length) {
                    return Err(input(
                        self.spanned(p, "workspace.password_policy.min_length"),
                        format!(
                            "min_length {} is out of range: expected {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH}",
                            policy.min_length
                        ),
                    ));
                }
                policy
            }
        };

        let mut members = Vec::new();
        for m in &raw.members {
            let email = self.email(&m.email, "members.email")?;
            let role = role_from_name(m.role.get_ref().trim()).ok_or_else(|| {
                input(
                    self.spanned(&m.role, "members.role"),
                    format!("unknown role `{}`: expected one of {ROLES}", m.role.get_ref().trim()),
                )
            })?;
            let state = match &m.state {
                None => MemberState::Active,
                Some(s) => member_state_from_name(s.get_ref().trim()).ok_or_else(|| {
                    input(
                        self.spanned(s, "members.state"),
                        format!(
                            "unknown state `{}`: expected one of {MEMBER_STATES}",
                            s.get_ref().trim()
                        ),
                    )
                })?,
            };
            members.push(SeedMember {
                email: email.email,
                name: m
                    .name
                    .as_deref()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
                role,
                state,
                directory_managed: m.directory_managed,
                at: email.at,
            });
        }

        let mut teams = Vec::new();
        for t in &raw.teams {
            teams.push(SeedTeam {
                name: self.name(&t.name, "teams.name")?,
                members: self.emails(&t.members, "teams.members")?,
                at: self.spanned(&t.name, "teams.name"),
            });
        }

        let mut partners = Vec::new();
        for p in &raw.partners {
            partners.push(SeedPartner {
                name: self.name(&p.name, "partners.name")?,
                domains: self.domains(&p.domains, "partners.domains")?,
                guest_admins: self.emails(&p.guest_admins, "partners.guest_admins")?,
                guest_users: self.emails(&p.guest_users, "partners.guest_users")?,
                at: self.spanned(&p.name, "partners.name"),
            });
        }

        let mut partnerships = Vec::new();
        for p in &raw.partnerships {
            let workspace_id = self.name(&p.workspace_id, "partnerships.workspace_id")?;
            let state = partnership_state_from_name(p.state.get_ref().trim()).ok_or_else(|| {
                input(
                    self.spanned(&p.state, "partnerships.state"),
                    format!(
                        "unknown state `{}`: expected one of {PARTNERSHIP_STATES}",
                        p.state.get_ref().trim()
                    ),
                )
            })?;
            partnerships.push(SeedPartnership {
                name: self.name(&p.name, "partnerships.name")?,
                workspace_id,
                domains: self.domains(&p.domains, "partnerships.domains")?,
                state,
                at: self.spanned(&p.workspace_id, "partnerships.workspace_id"),
            });
        }

        Ok(Seed {
            file: self.file.to_owned(),
            id,
            name,
            domains,
            password_policy,
            members,
            teams,
            partners,
            partnerships,
        })
    }
}

impl Seed {
    /// Adds the users of a SCIM directory export. A user the seed already
    /// lists keeps the seed's role, name and state (the seed is the admin's
    /// explicit word) and becomes directory-managed; any other user joins as
    /// a `user`, active or suspended as the directory says.
    pub fn merge_directory(&mut self, users: Vec<DirectoryUser>) {
        for user in users {
            if let Some(m) = self.members.iter_mut().find(|m| m.email == user.email) {
                m.directory_managed = true;
                if m.name.is_none() {
                    m.name = user.name;
                }
                continue;
            }
            self.members.push(SeedMember {
                email: user.email,
                name: user.name,
                role: Role::User,
                state: if user.active {
                    MemberState::Active
                } else {
                    MemberState::Suspended
                },
                directory_managed: true,
                at: user.at,
            });
        }
    }

    /// The rules across records: exactly one owner, unique emails, team and
    /// partner members exist, guests are outsiders and never
    /// directory-managed, one partnership per partner workspace.
    pub fn validate(&self) -> Result<(), WorkspaceError> {
        let mut seen: HashMap<&str, &Position> = HashMap::new();
        for m in &self.members {
            if let Some(first) = seen.insert(&m.email, &m.at) {
                return Err(input(
                    m.at.clone(),
                    format!("duplicate member {}: already declared at {}", m.email, short(first)),
                ));
            }
            if m.role == Role::Guest && m.directory_managed {
                return Err(input(
                    m.at.clone(),
                    format!(
                        "{} is a guest but directory-managed: members the identity provider manages are \
                         regular members, never guests (expected a role other than guest, or directory_managed = false)",
                        m.email
                    ),
                ));
            }
            if m.role == Role::Guest && domain_in(&m.email, &self.domains) {
                return Err(input(
                    m.at.clone(),
                    format!(
                        "{} is in a company domain and cannot be a guest: expected role user \
                         (or another non-guest role)",
                        m.email
                    ),
                ));
            }
        }
        let owners: Vec<&SeedMember> = self.members.iter().filter(|m| m.role == Role::Owner).collect();
        match owners.as_slice() {
            [_] => {}
            [] => {
                return Err(input(
                    Position::file(&self.file).field("members.role"),
                    "no member has role `owner`: expected exactly one workspace owner",
                ))
            }
            [first, second, ..] => {
                return Err(input(
                    second.at.clone().field("members.role"),
                    format!(
                        "a second owner ({}; {} at {} is one already): expected exactly one workspace owner",
                        second.email,
                        first.email,
                        short(&first.at)
                    ),
                ))
            }
        }

        let member = |r: &MemberRef| self.members.iter().find(|m| m.email == r.email);
        let mut team_names = HashSet::new();
        for t in &self.teams {
            if !team_names.insert(t.name.to_lowercase()) {
                return Err(input(t.at.clone(), format!("duplicate team `{}`", t.name)));
            }
            for r in &t.members {
                if member(r).is_none() {
                    return Err(input(
                        r.at.clone(),
                        format!(
                            "team `{}` lists {}, who is not a member: expected an email from [[members]]",
                            t.name, r.email
                        ),
                    ));
                }
            }
        }

        let mut partner_names = HashSet::new();
        let mut partner_domains: HashMap<&str, &str> = HashMap::new();
        let mut partner_of: HashMap<&str, &str> = HashMap::new();
        for p in &self.partners {
            if !partner_names.insert(p.name.to_lowercase()) {
                return Err(input(p.at.clone(), format!("duplicate partner `{}`", p.name)));
            }
            for d in &p.domains {
                if self.domains.contains(d) {
                    return Err(input(
                        p.at.clone().field("partners.domains"),
                        format!("partner domain {d} is one of the workspace's own domains"),
                    ));
                }
                if let Some(other) = partner_domains.insert(d, &p.name) {
                    return Err(input(
                        p.at.clone().field("partners.domains"),
                        format!("domain {d} belongs to partner `{other}` already"),
                    ));
                }
            }
            for r in p.guest_admins.iter().chain(&p.guest_users) {
                let Some(m) = member(r) else {
                    return Err(input(
                        r.at.clone(),
                        format!(
                            "partner `{}` lists {}, who is not a member: expected an email from [[members]] with role guest",
                            p.name, r.email
                        ),
                    ));
                };
                if m.role != Role::Guest {
                    return Err(input(
                        r.at.clone(),
                        format!(
                            "partner `{}` lists {}, whose role is {}: a partner's members are guests",
                            p.name,
                            r.email,
                            m.role.name()
                        ),
                    ));
                }
                if let Some(other) = partner_of.insert(&r.email, &p.name) {
                    return Err(input(
                        r.at.clone(),
                        format!("{} is listed by partner `{other}` already (or twice)", r.email),
                    ));
                }
            }
        }

        let mut ids: HashMap<&str, &Position> = HashMap::new();
        for p in &self.partnerships {
            if Some(&p.workspace_id) == self.id.as_ref() {
                return Err(input(
                    p.at.clone(),
                    "a partnership with the workspace itself: expected another workspace's id",
                ));
            }
            if let Some(first) = ids.insert(&p.workspace_id, &p.at) {
                return Err(input(
                    p.at.clone(),
                    format!(
                        "a second partnership with workspace {} (the first is at {}): \
                         at most one partnership per guest workspace",
                        p.workspace_id,
                        short(first)
                    ),
                ));
            }
            if let Some(d) = p.domains.iter().find(|d| self.domains.contains(d)) {
                return Err(input(
                    p.at.clone().field("partnerships.domains"),
                    format!("partnership domain {d} is one of the workspace's own domains"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"
[workspace]
name = "Northwind Robotics"
id = "ws-northwind"
domains = ["northwind.example", "NWR.example"]

[workspace.password_policy]
min_length = 14

[[members]]
email = "Olivia@Northwind.example "
name = "Olivia Chen"
role = "owner"

[[members]]
email = "dana@northwind.example"
role = "user"
directory_managed = true

[[members]]
email = "mo@freelance.example"
role = "guest"

[[teams]]
name = "Engineering"
members = ["dana@northwind.example"]

[[partnerships]]
name = "Globex"
workspace_id = "ws-globex"
domains = ["globex.example"]
state = "accepted"
"#;

    fn err(text: &str) -> String {
        parse_seed("seed.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn parses_and_normalizes() {
        let seed = parse_seed("seed.toml", SEED).unwrap();
        assert_eq!(seed.domains, ["northwind.example", "nwr.example"]);
        assert_eq!(seed.password_policy.min_length, 14);
        assert!(seed.password_policy.require_symbol);
        assert_eq!(seed.members[0].email, "olivia@northwind.example");
        assert_eq!(seed.members[0].state, MemberState::Active);
        assert_eq!(seed.members[0].at.line, Some(11));
        assert_eq!(seed.partnerships[0].state, PartnershipState::Accepted);
    }

    #[test]
    fn guest_invitation_days_default_to_a_week_and_are_bounded() {
        assert_eq!(
            parse_seed("seed.toml", SEED)
                .unwrap()
                .password_policy
                .guest_invitation_days,
            7
        );
        let seed = parse_seed(
            "seed.toml",
            &SEED.replace("min_length = 14", "min_length = 14\nguest_invitation_days = 3"),
        )
        .unwrap();
        assert_eq!(seed.password_policy.guest_invitation_days, 3);
        let e = err(&SEED.replace("min_length = 14", "min_length = 14\nguest_invitation_days = 0"));
        assert!(
            e.contains("workspace.password_policy.guest_invitation_days") && e.contains("expected 1 to 90"),
            "{e}"
        );
    }

    #[test]
    fn unknown_role_names_line_key_and_choices() {
        let e = err(&SEED.replace("role = \"owner\"", "role = \"superadmin\""));
        assert!(e.starts_with("seed.toml:line 13: field 'members.role'"), "{e}");
        assert!(e.contains("`superadmin`") && e.contains("super_admin, admin"), "{e}");
    }

    #[test]
    fn toml_errors_name_line_and_key() {
        let e = err(&SEED.replace("min_length = 14", "min_length = \"long\""));
        assert!(
            e.starts_with("seed.toml:line 8: field 'workspace.password_policy.min_length'"),
            "{e}"
        );
        let e = err(&SEED.replace("name = \"Olivia Chen\"", "nmae = \"Olivia Chen\""));
        assert!(
            e.contains("line 12: field 'members.nmae'") && e.contains("unknown field `nmae`"),
            "{e}"
        );
    }

    #[test]
    fn cross_record_rules() {
        let e = err(&SEED.replace("dana@northwind.example\"\nrole", "OLIVIA@northwind.example\"\nrole"));
        assert!(
            e.contains("line 16") && e.contains("duplicate member olivia@") && e.contains("declared at seed.toml:11"),
            "{e}"
        );
        let e = err(&SEED.replace("role = \"user\"", "role = \"owner\""));
        assert!(e.contains("line 16") && e.contains("second owner"), "{e}");
        let e = err(&SEED.replace("members = [\"dana@", "members = [\"lee@"));
        assert!(
            e.contains("line 26") && e.contains("lee@northwind.example, who is not a member"),
            "{e}"
        );
        let e = err(&SEED.replace("mo@freelance.example", "mo@nwr.example"));
        assert!(e.contains("company domain"), "{e}");
        let e = err(&SEED.replace("role = \"guest\"", "role = \"guest\"\ndirectory_managed = true"));
        assert!(e.contains("directory-managed"), "{e}");
        let e = err(&SEED.replace("role = \"owner\"", "role = \"admin\""));
        assert!(e.contains("no member has role `owner`"), "{e}");
        let twice = format!(
            "{SEED}\n[[partnerships]]\nname = \"Globex 2\"\nworkspace_id = \"ws-globex\"\nstate = \"requested\"\n"
        );
        let e = err(&twice);
        assert!(e.contains("at most one partnership per guest workspace"), "{e}");
    }

    #[test]
    fn partner_members_must_be_guests() {
        let text = format!(
            "{SEED}\n[[partners]]\nname = \"Acme\"\ndomains = [\"acme.example\"]\nguest_admins = [\"dana@northwind.example\"]\n"
        );
        let e = err(&text);
        assert!(e.contains("whose role is user"), "{e}");
        let ok = text.replace(
            "guest_admins = [\"dana@northwind.example\"]",
            "guest_users = [\"mo@freelance.example\"]",
        );
        parse_seed("seed.toml", &ok).unwrap();
    }

    #[test]
    fn directory_users_merge_by_email() {
        let mut seed = parse_seed("seed.toml", SEED).unwrap();
        seed.merge_directory(vec![
            DirectoryUser {
                email: "olivia@northwind.example".into(),
                name: Some("O. Chen".into()),
                active: true,
                at: Position::file("scim.json"),
            },
            DirectoryUser {
                email: "felix@northwind.example".into(),
                name: None,
                active: false,
                at: Position::file("scim.json"),
            },
        ]);
        assert_eq!(seed.members[0].role, Role::Owner);
        assert_eq!(seed.members[0].name.as_deref(), Some("Olivia Chen"));
        assert!(seed.members[0].directory_managed);
        let felix = seed.members.last().unwrap();
        assert_eq!(
            (felix.role, felix.state, felix.directory_managed),
            (Role::User, MemberState::Suspended, true)
        );
        seed.validate().unwrap();
    }
}
