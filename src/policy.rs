//! The organisation's import policy (`vaultferry.toml`).
//!
//! Every key is optional; a missing file or key means the defaults of
//! ARCHITECTURE.md ("Mapping rules"). The file is checked whole before any
//! export or database is opened, and an unknown key is an error, not
//! ignored: a misspelt `invite_guest = false` must not silently invite
//! every outside sharer. Keys are documented in `formats/policy.md`.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::model::{EntryKind, Position};
use crate::workspace::{ItemRole, Snapshot};

/// The policy file is invalid.
#[derive(Debug, thiserror::Error)]
#[error("{position}: {message}")]
pub struct PolicyError {
    pub position: crate::model::Position,
    pub message: String,
}

/// Who owns the collections made from personal (unshared) folders.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PersonalOwner {
    /// The member running the import (`--as`).
    #[default]
    Importer,
    /// This member (email, lowercase).
    Member(String),
}

/// Source access → workspace item role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleMap {
    /// LastPass "can administer", 1Password "manage vault".
    pub admin: ItemRole,
    /// May edit but not administer. Collaborator by default: Owner would
    /// also let them share onward, which the source did not allow.
    pub edit: ItemRole,
    pub read_only: ItemRole,
    pub hide_passwords: ItemRole,
}

impl Default for RoleMap {
    fn default() -> RoleMap {
        RoleMap {
            admin: ItemRole::Owner,
            edit: ItemRole::Collaborator,
            read_only: ItemRole::Collaborator,
            hide_passwords: ItemRole::Collaborator,
        }
    }
}

/// The checked policy. Built by [`Policy::from_toml`] or [`Policy::default`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Lowercase; `None`: the workspace's verified domains.
    pub company_domains: Option<Vec<String>>,
    pub roles: RoleMap,
    pub import_archived: bool,
    pub create_empty_folders: bool,
    /// Entry kinds that become accounts; every other kind becomes a secret.
    pub account_kinds: Vec<EntryKind>,
    pub personal_items_owner: PersonalOwner,
    /// ORed into the parse options by the CLI.
    pub decode_html_entities: bool,
    pub invite_guests: bool,
    /// The role a local partner's Guest Admin gets on the accounts of the
    /// folders shared with them: Collaborator or Manager.
    pub partner_guest_admin_role: ItemRole,
    /// Folder paths (split on `/`) whose entries and subfolders are left out.
    pub skip_folders: Vec<Vec<String>>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            company_domains: None,
            roles: RoleMap::default(),
            import_archived: false,
            create_empty_folders: false,
            account_kinds: vec![EntryKind::Login],
            personal_items_owner: PersonalOwner::Importer,
            decode_html_entities: false,
            invite_guests: true,
            partner_guest_admin_role: ItemRole::Collaborator,
            skip_folders: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    company_domains: Option<Spanned<Vec<Spanned<String>>>>,
    roles: Option<RawRoles>,
    import_archived: Option<bool>,
    create_empty_folders: Option<bool>,
    account_kinds: Option<Vec<Spanned<String>>>,
    personal_items_owner: Option<Spanned<String>>,
    decode_html_entities: Option<bool>,
    invite_guests: Option<bool>,
    partner_guest_admin_role: Option<Spanned<String>>,
    skip_folders: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoles {
    admin: Option<Spanned<String>>,
    edit: Option<Spanned<String>>,
    read_only: Option<Spanned<String>>,
    hide_passwords: Option<Spanned<String>>,
}

impl Policy {
    /// Reads and checks a policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
            position: Position::file(&file),
            message: format!("cannot read the policy file: {e}"),
        })?;
        Policy::from_toml(&text, &file)
    }

    /// Parses and checks policy TOML; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Policy, PolicyError> {
        let ctx = Ctx { text, file };
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let mut position = Position::file(file);
            if let Some(span) = e.span() {
                position = position.line(ctx.line(span.start));
                if let Some(key) = ctx.key_at(span.start) {
                    position = position.field(key);
                }
            }
            PolicyError {
                position,
                message: format!(
                    "{} (`vaultferry explain policy` lists the keys)",
                    e.message().trim_end()
                ),
            }
        })?;
        let mut policy = Policy::default();
        if let Some(domains) = raw.company_domains {
            if domains.get_ref().is_empty() {
                return Err(ctx.error(
                    domains.span().start,
                    "company_domains",
                    "the list is empty; expected at least one domain (leave the key out to use the workspace's verified domains)",
                ));
            }
            let mut out = Vec::new();
            for d in domains.into_inner() {
                let name = d.get_ref().trim().trim_start_matches('@').to_ascii_lowercase();
                if name.is_empty() || name.contains('@') || name.contains('/') || !name.contains('.') {
                    return Err(ctx.error(
                        d.span().start,
                        "company_domains",
                        format!(
                            "`{}` is not a domain; expected a name such as `example.com`",
                            d.get_ref()
                        ),
                    ));
                }
                out.push(name);
            }
            policy.company_domains = Some(out);
        }
        if let Some(roles) = raw.roles {
            let slots = [
                (roles.admin, "roles.admin", &mut policy.roles.admin),
                (roles.edit, "roles.edit", &mut policy.roles.edit),
                (roles.read_only, "roles.read_only", &mut policy.roles.read_only),
                (
                    roles.hide_passwords,
                    "roles.hide_passwords",
                    &mut policy.roles.hide_passwords,
                ),
            ];
            for (value, key, slot) in slots {
                if let Some(value) = value {
                    *slot = match value.get_ref().trim().to_ascii_lowercase().as_str() {
                        "owner" => ItemRole::Owner,
                        "collaborator" => ItemRole::Collaborator,
                        _ => {
                            return Err(ctx.error(
                                value.span().start,
                                key,
                                format!(
                                    "`{}` is not a collection role; expected \"owner\" or \"collaborator\" (manager exists only on accounts shared with partners)",
                                    value.get_ref()
                                ),
                            ))
                        }
                    };
                }
            }
        }
        if let Some(v) = raw.import_archived {
            policy.import_archived = v;
        }
        if let Some(v) = raw.create_empty_folders {
            policy.create_empty_folders = v;
        }
        if let Some(v) = raw.decode_html_entities {
            policy.decode_html_entities = v;
        }
        if let Some(v) = raw.invite_guests {
            policy.invite_guests = v;
        }
        if let Some(kinds) = raw.account_kinds {
            let mut out = Vec::new();
            for k in kinds {
                let name = k.get_ref().trim().to_ascii_lowercase();
                let Some(kind) = EntryKind::from_name(&name) else {
                    let known: Vec<&str> = EntryKind::ALL.iter().map(|k| k.name()).collect();
                    return Err(ctx.error(
                        k.span().start,
                        "account_kinds",
                        format!(
                            "`{}` is not an entry kind; expected one of {}",
                            k.get_ref(),
                            known.join(", ")
                        ),
                    ));
                };
                if !out.contains(&kind) {
                    out.push(kind);
                }
            }
            policy.account_kinds = out;
        }
        if let Some(owner) = raw.personal_items_owner {
            let value = owner.get_ref().trim().to_ascii_lowercase();
            policy.personal_items_owner = if value == "importer" {
                PersonalOwner::Importer
            } else if value
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
            {
                PersonalOwner::Member(value)
            } else {
                return Err(ctx.error(
                    owner.span().start,
                    "personal_items_owner",
                    format!("`{}` is neither \"importer\" nor an email address", owner.get_ref()),
                ));
            };
        }
        if let Some(role) = raw.partner_guest_admin_role {
            policy.partner_guest_admin_role = match role.get_ref().trim().to_ascii_lowercase().as_str() {
                "collaborator" => ItemRole::Collaborator,
                "manager" => ItemRole::Manager,
                _ => {
                    return Err(ctx.error(
                        role.span().start,
                        "partner_guest_admin_role",
                        format!(
                        "`{}` is not allowed; expected \"collaborator\" or \"manager\" (guests can never be owners)",
                        role.get_ref()
                    ),
                    ))
                }
            };
        }
        if let Some(folders) = raw.skip_folders {
            for f in folders {
                let path: Vec<String> = f
                    .get_ref()
                    .split('/')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect();
                if path.is_empty() {
                    return Err(ctx.error(
                        f.span().start,
                        "skip_folders",
                        "an empty folder path; expected a path such as \"Personal/Old\"",
                    ));
                }
                policy.skip_folders.push(path);
            }
        }
        Ok(policy)
    }

    /// The domains whose people are the company's: the policy's, or the
    /// workspace's verified domains.
    pub fn company_domains(&self, snapshot: &Snapshot) -> Vec<String> {
        match &self.company_domains {
            Some(d) => d.clone(),
            None => snapshot.workspace.domains.clone(),
        }
    }

    /// Whether a folder path is in (or is) a folder the policy skips.
    pub fn skips_folder(&self, path: &[String]) -> bool {
        self.skip_folders.iter().any(|s| path.starts_with(s))
    }

    pub fn is_account_kind(&self, kind: EntryKind) -> bool {
        self.account_kinds.contains(&kind)
    }
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
}

impl Ctx<'_> {
    /// Lines start at 1; an offset past the end or inside a character
    /// counts the lines before it.
    fn line(&self, offset: usize) -> u64 {
        let bytes = self.text.as_bytes();
        let end = offset.min(bytes.len());
        bytes.iter().take(end).filter(|&&b| b == b'\n').count() as u64 + 1
    }

    /// The dotted key written on the line of `offset` (`roles.edit`), for
    /// errors the toml crate reports by span only (wrong types, unknown keys).
    fn key_at(&self, offset: usize) -> Option<String> {
        let before = self.text.get(..offset.min(self.text.len()))?;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = self.text.get(start..)?.lines().next()?;
        let (key, _) = line.split_once('=')?;
        let key = key.trim().trim_matches('"');
        if key.is_empty() || key.starts_with('#') || key.starts_with('[') {
            return None;
        }
        let table = before
            .get(..start)?
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('[') && !l.starts_with("[["))
            .map(|l| l.trim_matches(['[', ']']).trim().to_owned());
        Some(match table {
            Some(t) if !t.is_empty() => format!("{t}.{key}"),
            _ => key.to_owned(),
        })
    }

    fn error(&self, offset: usize, key: &str, message: impl Into<String>) -> PolicyError {
        PolicyError {
            position: Position::file(self.file).line(self.line(offset)).field(key),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_the_defaults() {
        assert_eq!(Policy::from_toml("", "p.toml").unwrap(), Policy::default());
        let d = Policy::default();
        assert_eq!(d.roles.admin, ItemRole::Owner);
        assert_eq!(d.roles.edit, ItemRole::Collaborator);
        assert!(d.invite_guests);
        assert!(!d.import_archived);
        assert_eq!(d.account_kinds, vec![EntryKind::Login]);
    }

    #[test]
    fn every_key_is_read() {
        let text = r#"
company_domains = ["Northwind.example", "@nwr.example"]
import_archived = true
create_empty_folders = true
account_kinds = ["login", "email_account", "server"]
personal_items_owner = "Olivia@Northwind.example"
decode_html_entities = true
invite_guests = false
partner_guest_admin_role = "manager"
skip_folders = ["Personal/Old", " Legacy "]

[roles]
admin = "owner"
edit = "owner"
read_only = "collaborator"
hide_passwords = "collaborator"
"#;
        let p = Policy::from_toml(text, "p.toml").unwrap();
        assert_eq!(
            p.company_domains,
            Some(vec!["northwind.example".to_owned(), "nwr.example".to_owned()])
        );
        assert!(p.import_archived && p.create_empty_folders && p.decode_html_entities);
        assert!(!p.invite_guests);
        assert_eq!(
            p.account_kinds,
            vec![EntryKind::Login, EntryKind::EmailAccount, EntryKind::Server]
        );
        assert_eq!(
            p.personal_items_owner,
            PersonalOwner::Member("olivia@northwind.example".into())
        );
        assert_eq!(p.partner_guest_admin_role, ItemRole::Manager);
        assert_eq!(p.roles.edit, ItemRole::Owner);
        assert!(p.skips_folder(&["Personal".into(), "Old".into(), "x".into()]));
        assert!(p.skips_folder(&["Legacy".into()]));
        assert!(!p.skips_folder(&["Personal".into()]));
    }

    #[test]
    fn an_unknown_key_is_an_error_with_its_line() {
        let err = Policy::from_toml("import_archived = true\ninvite_guest = false\n", "p.toml").unwrap_err();
        assert_eq!(err.position.file.as_deref(), Some("p.toml"));
        assert_eq!(err.position.line, Some(2));
        assert_eq!(err.position.field.as_deref(), Some("invite_guest"));
        assert!(err.message.contains("invite_guest"), "{err}");
        let err = Policy::from_toml("[roles]\nadmin = \"owner\"\nadmn = \"owner\"\n", "p.toml").unwrap_err();
        assert_eq!(err.position.line, Some(3));
        assert_eq!(err.position.field.as_deref(), Some("roles.admn"));
    }

    #[test]
    fn a_bad_role_names_the_key_line_and_choices() {
        let err = Policy::from_toml("\n[roles]\nedit = \"manager\"\n", "p.toml").unwrap_err();
        assert_eq!(err.position.line, Some(3));
        assert_eq!(err.position.field.as_deref(), Some("roles.edit"));
        assert!(
            err.to_string().contains("expected \"owner\" or \"collaborator\""),
            "{err}"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        for (text, key) in [
            ("account_kinds = [\"login\", \"spaceship\"]", "account_kinds"),
            ("company_domains = []", "company_domains"),
            ("company_domains = [\"not a domain\"]", "company_domains"),
            ("personal_items_owner = \"somebody\"", "personal_items_owner"),
            ("partner_guest_admin_role = \"owner\"", "partner_guest_admin_role"),
            ("skip_folders = [\"/\"]", "skip_folders"),
        ] {
            let err = Policy::from_toml(text, "p.toml").unwrap_err();
            assert_eq!(err.position.field.as_deref(), Some(key), "{text}: {err}");
            assert_eq!(err.position.line, Some(1), "{text}");
        }
        let err = Policy::from_toml("\ninvite_guests = \"yes\"", "p.toml").unwrap_err();
        assert_eq!(err.position.line, Some(2));
        assert_eq!(err.position.field.as_deref(), Some("invite_guests"));
    }

    #[test]
    fn the_sample_policy_is_valid_and_documents_the_defaults() {
        let text = include_str!("../samples/vaultferry.toml");
        let p = Policy::from_toml(text, "samples/vaultferry.toml").unwrap();
        assert_eq!(p.account_kinds, vec![EntryKind::Login, EntryKind::EmailAccount]);
        assert_eq!(p.roles, RoleMap::default());
        assert!(p.invite_guests);
    }
}
