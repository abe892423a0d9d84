//! What the importer intends to create: the mapper's output, the diff's input.
//!
//! Every planned object carries its [`ImportKey`]; objects refer to each
//! other by key, never by position, so the diff can match them against the
//! workspace whatever order the source listed them in. The serialized keys
//! are a public format documented in `formats/plan.md`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Attachment, EntryKind, Field, Finding, Position, Severity, SourceKind};
use crate::secret::Secret;
use crate::workspace::{ImportKey, ItemRole, SecretType};

/// An export mapped onto a workspace: collections, accounts, secrets, teams,
/// guest invitations and grants, plus who was left out and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub source: SourceKind,
    /// The export file as the user named it.
    pub file: String,
    /// The workspace's name, for the summary's first line.
    pub workspace: String,
    /// Email of the member running the import (owner of personal items by default).
    pub importer: String,
    /// Whose vault the export is (the owner of its personal items): with
    /// the vendor, the source a later run must match before it may call
    /// what this one created "gone" ([`crate::diff::source_scope`]).
    pub vault_owner: String,
    /// Parents before children.
    pub collections: Vec<PlannedCollection>,
    pub accounts: Vec<PlannedAccount>,
    pub secrets: Vec<PlannedSecret>,
    pub teams: Vec<PlannedTeam>,
    /// One per person, whatever the number of folders they were invited for.
    pub invitations: Vec<PlannedInvitation>,
    pub grants: Vec<PlannedGrant>,
    /// Sharers who get no grant, with what they had.
    pub unmatched: Vec<UnmatchedUser>,
    /// Source entries that become nothing (archived, in a skipped folder).
    pub skipped: Vec<SkippedEntry>,
    /// The vault's findings followed by the mapper's (`mapper.*`).
    pub findings: Vec<Finding>,
    /// Entries the source held; see [`Plan::reconcile`].
    pub source_entries: usize,
}

/// A folder, shared folder or vault → a collection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedCollection {
    pub key: ImportKey,
    /// The source folder path, one element per level.
    pub path: Vec<String>,
    /// The collection's name (the last path element, LastPass `Shared-`
    /// prefix removed).
    pub name: String,
    pub parent: Option<ImportKey>,
    /// The source folder carried sharing (grants attach here).
    pub shared: bool,
    /// Accounts and secrets directly inside it.
    pub items: usize,
}

/// A login (or a kind the policy adds) → an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedAccount {
    pub key: ImportKey,
    pub source_id: String,
    pub source_kind: EntryKind,
    /// `None`: at the workspace root (a LastPass entry without a folder).
    pub collection: Option<ImportKey>,
    pub name: String,
    /// The login URL: the source's first URL.
    pub url: Option<String>,
    /// Further URLs.
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub totp: Option<Secret>,
    pub notes: Option<String>,
    pub fields: Vec<Field>,
    pub tags: Vec<String>,
    pub attachments: Vec<Attachment>,
    /// First line of the entry in the export, when it has lines.
    pub source_line: Option<u64>,
    /// An account already in the workspace (same username and login
    /// domain, another import key) that this one duplicates: not created.
    pub duplicate_of: Option<i64>,
}

/// Every other kind → a secret of the matching type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedSecret {
    pub key: ImportKey,
    pub source_id: String,
    pub source_kind: EntryKind,
    /// The source's own type name (LastPass NoteType, 1Password category).
    pub source_type: Option<String>,
    pub collection: Option<ImportKey>,
    pub secret_type: SecretType,
    pub title: String,
    pub notes: Option<String>,
    /// The entry's fields; a username, password, URLs or TOTP the entry
    /// carried come first as fields of their own (secrets have no such slots).
    pub fields: Vec<Field>,
    pub tags: Vec<String>,
    pub attachments: Vec<Attachment>,
    pub source_line: Option<u64>,
    /// A secret already in the workspace with the same type, title and
    /// content, under another import key: not created.
    pub duplicate_of: Option<i64>,
}

/// A source group → a team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedTeam {
    pub key: ImportKey,
    pub name: String,
    /// Emails (lowercase) of active workspace members the sharing data names
    /// as the group's members; they are added, nobody is removed.
    pub members: Vec<String>,
    /// The workspace team of that name, if there is one.
    pub existing: Option<i64>,
}

/// A guest user invitation for an outside sharer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedInvitation {
    pub key: ImportKey,
    /// Trimmed, lowercase.
    pub email: String,
    pub name: Option<String>,
    /// The local partner the guest joins (by domain).
    pub partner: Option<String>,
    /// Joins the partner as a Guest Admin (the workspace lists them as one,
    /// or they administered a shared folder in the source); otherwise a
    /// Guest User.
    pub guest_admin: bool,
    /// The folders (paths joined by `/`) the sharer had access to.
    pub folders: Vec<String>,
}

/// Who a grant is for. Members, guests and teams are named by email/name so
/// the plan reads without the workspace at hand.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum PlannedGrantee {
    Member {
        email: String,
    },
    Team {
        name: String,
    },
    Partner {
        name: String,
    },
    Partnership {
        name: String,
    },
    /// A guest this plan invites (see `invitations`).
    Guest {
        email: String,
    },
}

impl PlannedGrantee {
    /// `<kind>:<id>`, the grantee part of a grant's import key.
    pub fn key_part(&self) -> String {
        match self {
            PlannedGrantee::Member { email } => format!("member:{}", email.to_lowercase()),
            PlannedGrantee::Team { name } => format!("team:{}", name.to_lowercase()),
            PlannedGrantee::Partner { name } => format!("partner:{}", name.to_lowercase()),
            PlannedGrantee::Partnership { name } => format!("partnership:{}", name.to_lowercase()),
            // Once invited, the guest is a workspace member and the next
            // run plans a `Member` grant: the key must not change with it,
            // or a resumed or repeated run would grant twice.
            PlannedGrantee::Guest { email } => format!("member:{}", email.to_lowercase()),
        }
    }

    /// For the summary: the email or name.
    pub fn label(&self) -> &str {
        match self {
            PlannedGrantee::Member { email } | PlannedGrantee::Guest { email } => email,
            PlannedGrantee::Team { name } | PlannedGrantee::Partner { name } | PlannedGrantee::Partnership { name } => {
                name
            }
        }
    }
}

/// The `source_access` of the grant that gives the export's owner their
/// own unshared folders and items: reports count these rather than list
/// them (a big export has thousands of personal folders).
pub const PERSONAL_ACCESS: &str = "personal";

/// A role on a collection, account or secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedGrant {
    pub key: ImportKey,
    /// A planned collection, account or secret.
    pub target: ImportKey,
    pub grantee: PlannedGrantee,
    pub role: ItemRole,
    /// The access in the source's words (or `personal` for the owner of
    /// unshared items).
    pub source_access: String,
    /// The role the policy maps the source access to, when a workspace rule
    /// lowered it (guests, login-only members, partnerships).
    pub lowered_from: Option<ItemRole>,
}

/// Why a sharer gets no grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmatchedReason {
    /// Inside the company's domains but not a workspace member.
    LeftCompany,
    /// A workspace member who is suspended.
    Suspended,
    /// A workspace member who was removed.
    Removed,
    /// Deleted from the source account.
    Deleted,
    /// Suspended or deprovisioned in the source.
    SuspendedInSource,
    /// Never accepted the source's share invitation.
    NeverAccepted,
    /// Outside the company, and the policy turns guest invitations off.
    InvitationsOff,
    /// A regular workspace member invited but not joined yet (state
    /// `invited`): only active members get grants.
    NotJoined,
}

impl UnmatchedReason {
    /// Words for the summary.
    pub fn describe(self) -> &'static str {
        match self {
            UnmatchedReason::LeftCompany => "left the company",
            UnmatchedReason::Suspended => "suspended in the workspace",
            UnmatchedReason::Removed => "removed from the workspace",
            UnmatchedReason::Deleted => "deleted in the source",
            UnmatchedReason::SuspendedInSource => "suspended in the source",
            UnmatchedReason::NeverAccepted => "never accepted the share",
            UnmatchedReason::InvitationsOff => "guest invitations are off",
            UnmatchedReason::NotJoined => "invited to the workspace, not joined yet",
        }
    }
}

/// One folder an unmatched sharer had, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnmatchedAccess {
    /// Folder path joined by `/`.
    pub folder: String,
    /// `Access::describe()`: "admin", "edit", "read-only, hide passwords"…
    pub access: String,
}

/// A sharer who gets nothing, with the items they had access to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnmatchedUser {
    /// Trimmed, lowercase.
    pub email: String,
    pub name: Option<String>,
    pub reason: UnmatchedReason,
    pub access: Vec<UnmatchedAccess>,
    /// Import keys of the planned accounts and secrets in those folders
    /// (subfolders included).
    pub items: Vec<ImportKey>,
}

/// Why an entry is left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Archived or trashed in the source (policy `import_archived`).
    Archived,
    /// In a folder the policy's `skip_folders` names.
    SkippedFolder,
}

impl SkipReason {
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::Archived => "archived",
            SkipReason::SkippedFolder => "skipped folder",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedEntry {
    pub source_id: String,
    pub title: String,
    /// Folder path joined by `/`; empty for the root.
    pub folder: String,
    pub reason: SkipReason,
    #[serde(flatten)]
    pub position: Position,
}

/// The plan's counts; `source_entries == accounts + secrets + skipped`
/// always holds (duplicates are counted among accounts and secrets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub source_entries: usize,
    pub accounts: usize,
    pub secrets: usize,
    pub skipped: usize,
    /// Accounts and secrets with `duplicate_of` (already included above).
    pub duplicates: usize,
}

impl Reconciliation {
    pub fn holds(&self) -> bool {
        self.source_entries == self.accounts + self.secrets + self.skipped
    }
}

impl Plan {
    /// Counts to check that every source entry was accounted for.
    pub fn reconcile(&self) -> Reconciliation {
        Reconciliation {
            source_entries: self.source_entries,
            accounts: self.accounts.len(),
            secrets: self.secrets.len(),
            skipped: self.skipped.len(),
            duplicates: self.accounts.iter().filter(|a| a.duplicate_of.is_some()).count()
                + self.secrets.iter().filter(|s| s.duplicate_of.is_some()).count(),
        }
    }

    pub fn secrets_by_type(&self) -> BTreeMap<SecretType, usize> {
        let mut out = BTreeMap::new();
        for s in &self.secrets {
            *out.entry(s.secret_type).or_default() += 1;
        }
        out
    }

    pub fn grants_by_role(&self) -> BTreeMap<ItemRole, usize> {
        let mut out = BTreeMap::new();
        for g in &self.grants {
            *out.entry(g.role).or_default() += 1;
        }
        out
    }

    pub fn findings_by_severity(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == severity).count()
    }

    pub fn collection(&self, key: &ImportKey) -> Option<&PlannedCollection> {
        self.collections.iter().find(|c| &c.key == key)
    }

    pub fn invitation(&self, email: &str) -> Option<&PlannedInvitation> {
        let email = email.trim().to_lowercase();
        self.invitations.iter().find(|i| i.email == email)
    }
}

/// What the summary counts of a plan's accounts and secrets: from the plan
/// ([`ItemCounts::of`]), or added up item by item when the items are not
/// kept (a plan decided a chunk at a time).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemCounts {
    pub accounts: usize,
    pub secrets: usize,
    /// Items in no collection.
    pub at_root: usize,
    pub secrets_by_type: BTreeMap<SecretType, usize>,
    /// Accounts and secrets with `duplicate_of`.
    pub duplicates: usize,
    /// Owner grants on items at the root that a streamed plan made and
    /// decided without keeping (`crate::mapper::RootGrants`); none in a
    /// whole plan, whose grants hold them.
    pub root_item_grants: usize,
}

impl ItemCounts {
    pub fn of(plan: &Plan) -> ItemCounts {
        let mut counts = ItemCounts::default();
        plan.accounts.iter().for_each(|a| counts.account(a));
        plan.secrets.iter().for_each(|s| counts.secret(s));
        counts
    }

    pub fn account(&mut self, a: &PlannedAccount) {
        self.accounts += 1;
        self.at_root += usize::from(a.collection.is_none());
        self.duplicates += usize::from(a.duplicate_of.is_some());
    }

    pub fn secret(&mut self, s: &PlannedSecret) {
        self.secrets += 1;
        self.at_root += usize::from(s.collection.is_none());
        self.duplicates += usize::from(s.duplicate_of.is_some());
        *self.secrets_by_type.entry(s.secret_type).or_default() += 1;
    }

    /// [`Plan::reconcile`] with these counts.
    pub fn reconcile(&self, plan: &Plan) -> Reconciliation {
        Reconciliation {
            source_entries: plan.source_entries,
            accounts: self.accounts,
            secrets: self.secrets,
            skipped: plan.skipped.len(),
            duplicates: self.duplicates,
        }
    }
}

impl PlannedAccount {
    /// An account known by key and name only: what a grant's target needs
    /// (its label, and the workspace account it duplicates) when the plan
    /// does not keep its items.
    pub fn named(key: ImportKey, name: String, duplicate_of: Option<i64>) -> PlannedAccount {
        PlannedAccount {
            key,
            source_id: String::new(),
            source_kind: EntryKind::Login,
            collection: None,
            name,
            url: None,
            urls: Vec::new(),
            username: None,
            password: None,
            totp: None,
            notes: None,
            fields: Vec::new(),
            tags: Vec::new(),
            attachments: Vec::new(),
            source_line: None,
            duplicate_of,
        }
    }
}

impl PlannedSecret {
    /// See [`PlannedAccount::named`].
    pub fn named(key: ImportKey, title: String, duplicate_of: Option<i64>) -> PlannedSecret {
        PlannedSecret {
            key,
            source_id: String::new(),
            source_kind: EntryKind::SecureNote,
            source_type: None,
            collection: None,
            secret_type: SecretType::Secret,
            title,
            notes: None,
            fields: Vec::new(),
            tags: Vec::new(),
            attachments: Vec::new(),
            source_line: None,
            duplicate_of,
        }
    }
}

impl crate::secret::Wipe for PlannedAccount {
    fn wipe(&mut self) {
        self.password.wipe();
        self.totp.wipe();
        self.fields.wipe();
        self.attachments.wipe();
    }
}

impl crate::secret::Wipe for PlannedSecret {
    fn wipe(&mut self) {
        self.fields.wipe();
        self.attachments.wipe();
    }
}

impl crate::secret::Wipe for Plan {
    fn wipe(&mut self) {
        self.accounts.wipe();
        self.secrets.wipe();
    }
}
