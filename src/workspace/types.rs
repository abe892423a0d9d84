use serde::{Deserialize, Serialize};

use crate::model::{Attachment, Field};
use crate::secret::Secret;

/// The stable identity of an object the importer created: source vendor +
/// source id (or fingerprint), prefixed by the object kind, e.g.
/// `account:lastpass:4711`, `collection:lastpass:Shared-Ops/db`. A re-run
/// finds its earlier objects by it instead of duplicating them.
///
/// Shared (`Arc<str>`): one key is held by the plan, the mapper's folder
/// indexes, the changeset, the report and `apply`'s id map; a clone is a
/// reference count, not a copy of the text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ImportKey(pub std::sync::Arc<str>);

impl ImportKey {
    pub fn new(key: impl Into<std::sync::Arc<str>>) -> ImportKey {
        ImportKey(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ImportKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Workspace-wide roles, in the product's order of power.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    SuperAdmin,
    Admin,
    User,
    LoginOnly,
    Guest,
}

impl Role {
    /// Guests and Login-only members cannot use the importer.
    pub fn may_import(self) -> bool {
        matches!(self, Role::Owner | Role::SuperAdmin | Role::Admin)
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::SuperAdmin => "super_admin",
            Role::Admin => "admin",
            Role::User => "user",
            Role::LoginOnly => "login_only",
            Role::Guest => "guest",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberState {
    Invited,
    Active,
    Suspended,
    Removed,
}

/// Roles on collections, accounts and secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemRole {
    Owner,
    /// Only on accounts shared with partners: log in, request access for others.
    Manager,
    Collaborator,
}

impl ItemRole {
    pub fn name(self) -> &'static str {
        match self {
            ItemRole::Owner => "owner",
            ItemRole::Manager => "manager",
            ItemRole::Collaborator => "collaborator",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnershipState {
    Requested,
    Approved,
    Accepted,
    Declined,
}

/// What the workspace requires of passwords; temporary guest passwords are
/// generated to satisfy it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub min_length: u32,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_digit: bool,
    pub require_symbol: bool,
    /// Days a guest's temporary password works (once) before it expires.
    /// Defaulted when absent so a server of an earlier version still reads.
    #[serde(default = "default_guest_invitation_days")]
    pub guest_invitation_days: u32,
}

fn default_guest_invitation_days() -> u32 {
    7
}

impl Default for PasswordPolicy {
    fn default() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 12,
            require_uppercase: true,
            require_lowercase: true,
            require_digit: true,
            require_symbol: true,
            guest_invitation_days: default_guest_invitation_days(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceInfo {
    pub id: String,
    pub name: String,
    /// Verified domains, lowercase.
    pub domains: Vec<String>,
    pub password_policy: PasswordPolicy,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: i64,
    /// Lowercase, trimmed.
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    /// Provisioned by the identity provider (SCIM): never a guest.
    pub directory_managed: bool,
    pub state: MemberState,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: i64,
    pub name: String,
    /// Member ids.
    pub members: Vec<i64>,
    pub import_key: Option<ImportKey>,
}

/// The external collaborators of one outside company.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalPartner {
    pub id: i64,
    pub name: String,
    pub domains: Vec<String>,
    /// Member ids of its Guest Admins and Guest Users.
    pub guest_admins: Vec<i64>,
    pub guest_users: Vec<i64>,
}

/// A host-guest partnership with another workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partnership {
    pub id: i64,
    pub partner_workspace_id: String,
    pub name: String,
    pub domains: Vec<String>,
    pub state: PartnershipState,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    pub id: i64,
    pub name: String,
    pub parent: Option<i64>,
    pub import_key: Option<ImportKey>,
}

/// Fields common to accounts and secrets that the diff compares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemImport {
    pub import_key: Option<ImportKey>,
    /// Hash of the content as the importer last wrote it. If the current
    /// content hashes differently, someone edited it since: a conflict.
    pub imported_hash: Option<String>,
    /// Set when the store sent the item without its secret values (the
    /// list routes of `vaultferry serve`): what the diff and `verify`
    /// compare in their place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<Withheld>,
}

/// What stands in for an item's secret values when they are withheld.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withheld {
    /// The item's content hash as the store holds it (the diff's
    /// canonical hash, computed where the values are).
    pub content_hash: String,
    /// The digest of each value of the item, as `verify` counts them
    /// (hex; `verify::digest`), so a check through the API can still
    /// name a value not carried.
    #[serde(default)]
    pub value_digests: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: i64,
    pub collection: Option<i64>,
    pub name: String,
    pub url: Option<String>,
    /// Further URLs beyond the login URL.
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub totp: Option<Secret>,
    pub notes: Option<String>,
    pub fields: Vec<Field>,
    pub tags: Vec<String>,
    pub attachments: Vec<Attachment>,
    #[serde(flatten)]
    pub import: ItemImport,
}

/// The product's secret types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretType {
    /// A secure note.
    Secret,
    Wifi,
    SshKey,
    Database,
    Server,
    SoftwareLicense,
    /// Every other kind, with all its fields.
    Custom,
}

impl SecretType {
    pub fn name(self) -> &'static str {
        match self {
            SecretType::Secret => "secret",
            SecretType::Wifi => "wifi",
            SecretType::SshKey => "ssh_key",
            SecretType::Database => "database",
            SecretType::Server => "server",
            SecretType::SoftwareLicense => "software_license",
            SecretType::Custom => "custom",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecretItem {
    pub id: i64,
    pub collection: Option<i64>,
    pub secret_type: SecretType,
    pub title: String,
    pub notes: Option<String>,
    pub fields: Vec<Field>,
    pub tags: Vec<String>,
    pub attachments: Vec<Attachment>,
    #[serde(flatten)]
    pub import: ItemImport,
}

/// What a grant is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum GrantTarget {
    Collection(i64),
    Account(i64),
    Secret(i64),
}

/// Who a grant is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum Grantee {
    Member(i64),
    Team(i64),
    Partner(i64),
    Partnership(i64),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub id: i64,
    pub target: GrantTarget,
    pub grantee: Grantee,
    pub role: ItemRole,
    pub import_key: Option<ImportKey>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    Sent,
    Accepted,
    Expired,
}

/// A guest user invitation. The temporary password is never stored, only
/// its salted hash (kept inside the store, not in the snapshot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestInvitation {
    pub id: i64,
    /// The guest's member id (role guest, state invited until they join).
    pub member: i64,
    pub email: String,
    pub username: String,
    pub partner: Option<i64>,
    pub state: InvitationState,
    pub import_key: Option<ImportKey>,
}

/// The workspace as the mapper and the diff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub workspace: WorkspaceInfo,
    pub members: Vec<Member>,
    pub teams: Vec<Team>,
    pub partners: Vec<LocalPartner>,
    pub partnerships: Vec<Partnership>,
    pub collections: Vec<Collection>,
    pub accounts: Vec<Account>,
    pub secrets: Vec<SecretItem>,
    /// Accounts and secrets read without their content because the store
    /// vouches they are unchanged: see [`Workspace::load_items`]. Empty
    /// from [`Workspace::snapshot`].
    pub intact_accounts: Vec<IntactItem>,
    pub intact_secrets: Vec<IntactItem>,
    pub grants: Vec<Grant>,
    pub invitations: Vec<GuestInvitation>,
    /// What the importer created that the workspace has deleted since.
    pub removed: RemovedSinceImport,
}

/// Objects the importer created and someone deleted in the workspace
/// afterwards (an admin revoking a grant, removing an account, taking a
/// member off a team). A run must not quietly undo that: the diff makes
/// each a conflict, written again only with `--overwrite`. Few, so read
/// whole with the snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RemovedSinceImport {
    /// Import keys of deleted collections, accounts, secrets, grants,
    /// teams and invitations.
    pub keys: std::collections::BTreeSet<ImportKey>,
    /// (team id, member id) of team memberships the importer added.
    pub team_members: std::collections::BTreeSet<(i64, i64)>,
}

impl RemovedSinceImport {
    pub fn has(&self, key: &ImportKey) -> bool {
        !self.keys.is_empty() && self.keys.contains(key)
    }
}

/// An account or secret that holds exactly what the importer last wrote,
/// whose content hash equals the planned one: unchanged, so nothing but
/// its id is needed (a re-run of a million items reads no content).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IntactItem {
    pub id: i64,
    pub import_key: ImportKey,
}

impl Snapshot {
    /// The member with this email (compared trimmed, case-insensitively).
    pub fn member_by_email(&self, email: &str) -> Option<&Member> {
        let email = email.trim();
        self.members.iter().find(|m| m.email.eq_ignore_ascii_case(email))
    }

    /// Whether the email's domain is one of the workspace's verified domains
    /// (subdomains included).
    pub fn is_company_email(&self, email: &str) -> bool {
        domain_in(email, &self.workspace.domains)
    }
}

/// Whether an email's domain is one of `domains` or a subdomain of one.
pub fn domain_in(email: &str, domains: &[String]) -> bool {
    let Some((_, domain)) = email.trim().rsplit_once('@') else {
        return false;
    };
    let domain = domain.to_ascii_lowercase();
    domains.iter().any(|d| {
        let d = d.trim().to_ascii_lowercase();
        domain == d || domain.ends_with(&format!(".{d}"))
    })
}

impl crate::secret::Wipe for Account {
    fn wipe(&mut self) {
        self.password.wipe();
        self.totp.wipe();
        self.fields.wipe();
        self.attachments.wipe();
    }
}

impl crate::secret::Wipe for SecretItem {
    fn wipe(&mut self) {
        self.fields.wipe();
        self.attachments.wipe();
    }
}

impl crate::secret::Wipe for Snapshot {
    fn wipe(&mut self) {
        self.accounts.wipe();
        self.secrets.wipe();
    }
}
