//! What one member may see and do, read from the store a page at a time.
//!
//! The importer's routes read the whole [`Snapshot`](super::Snapshot)
//! (secret values included) per request; that is fine for the HTTP target
//! but not for every member's page: after a 20 000-entry import a full
//! snapshot per request is a few dozen requests a second. Everything here
//! is one bounded query per page, keyed by id, and list rows never carry a
//! secret value: a value is read only by [`MemberViews::read_account_password`]
//! and [`MemberViews::read_secret_value`], each of which writes an audit row.
//!
//! Reach has the meaning `verify::reach` gives it: a grant to the member,
//! to a team they are in or to their local partner, on the item, on its
//! collection or on any collection above it; the strongest role wins.
//! Guests and login-only members never act as more than Collaborator
//! whatever a grant says (a partner's Guest Admin keeps Manager on
//! accounts, the one role above Collaborator the product gives them).

use serde::Serialize;

use super::{ItemRole, Member, Role, WorkspaceError};
use crate::model::Field;
use crate::secret::Secret;

/// A page asked for: rows with an id after `after` (keyset paging), at most
/// `size` of them. For the activity log, which is read newest first, rows
/// with an id before `after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageAfter {
    pub after: Option<i64>,
    pub size: usize,
}

/// One page of rows, and whether more follow (read as one row more than
/// asked, so no count of the whole set is ever needed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paged<T> {
    pub rows: Vec<T>,
    pub more: bool,
}

/// How a member sees an item: through a role they hold on it, or only
/// because they administer the workspace (admins see everything, but read
/// a value only where they hold a role).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Shared,
    Admin,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VisibleCollection {
    pub id: i64,
    pub name: String,
    pub parent: Option<i64>,
    /// The role the member acts with here; `None` for an admin without one.
    pub role: Option<ItemRole>,
    pub access: Access,
}

/// An account as a list shows it: no password, TOTP, notes or field values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VisibleAccount {
    pub id: i64,
    pub collection: Option<i64>,
    pub name: String,
    pub url: Option<String>,
    pub username: Option<String>,
    pub role: Option<ItemRole>,
    pub access: Access,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VisibleSecret {
    pub id: i64,
    pub collection: Option<i64>,
    pub title: String,
    pub secret_type: String,
    pub role: Option<ItemRole>,
    pub access: Access,
}

/// One item's detail: what a list row has, plus the names (never values)
/// of its fields and its attachments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemDetail<T> {
    #[serde(flatten)]
    pub item: T,
    pub urls: Vec<String>,
    pub tags: Vec<String>,
    pub field_labels: Vec<String>,
    pub attachments: Vec<AttachmentInfo>,
    pub has_password: bool,
    pub has_totp: bool,
    pub has_notes: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttachmentInfo {
    pub id: i64,
    pub name: String,
    pub size: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberTeam {
    pub id: i64,
    pub name: String,
    pub members: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActivityRow {
    pub id: i64,
    pub time: String,
    pub action: String,
    pub object: String,
}

/// An account's password and TOTP seed, for the one member who asked.
pub struct AccountPassword {
    pub password: Option<Secret>,
    pub totp: Option<Secret>,
}

/// A secret item's values: its notes and every field.
pub struct SecretValue {
    pub notes: Option<Secret>,
    pub fields: Vec<Field>,
}

/// A member as an admin's list shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonRow {
    #[serde(flatten)]
    pub member: Member,
    /// The local partner a guest belongs to, and as what.
    pub partner: Option<String>,
    pub partner_kind: Option<String>,
}

/// A guest invited directly (not by the importer): what the email needs.
/// The temporary password is the caller's; only its hash reaches the store.
#[derive(Clone, Debug)]
pub struct DirectInvite {
    pub email: String,
    pub name: Option<String>,
    /// The username's base; the store appends a number if it is taken.
    pub username_base: String,
    pub password_hash: String,
    pub salt: String,
    /// Who sends it, for the audit row.
    pub inviter: String,
    /// Set when the inviter is a local partner's Guest Admin: the guest
    /// must be of that partner's domains.
    pub for_partner: Option<i64>,
}

/// What a direct invitation wrote.
#[derive(Clone, Debug)]
pub struct InvitedGuest {
    pub member: Member,
    pub username: String,
    pub import_key: super::ImportKey,
    pub partner: Option<i64>,
}

/// The kinds of item one grant or value read is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Collection,
    Account,
    Secret,
}

impl ItemKind {
    pub fn name(self) -> &'static str {
        match self {
            ItemKind::Collection => "collection",
            ItemKind::Account => "account",
            ItemKind::Secret => "secret",
        }
    }
}

/// The role a member acts with, from the strongest role a grant gives
/// them: guests and login-only members are held to Collaborator (a Guest
/// Admin's Manager on an account aside).
pub fn acting_role(member: &Member, granted: ItemRole) -> ItemRole {
    match (member.role, granted) {
        (Role::Guest | Role::LoginOnly, ItemRole::Owner) => ItemRole::Collaborator,
        (Role::LoginOnly, ItemRole::Manager) => ItemRole::Collaborator,
        (_, role) => role,
    }
}

/// Whether the member administers the workspace (sees every item).
pub fn administers(member: &Member) -> bool {
    matches!(member.role, Role::Owner | Role::SuperAdmin | Role::Admin)
}

pub trait MemberViews: Send + Sync {
    /// Collections the member reaches (every one, for an admin).
    fn visible_collections(&self, member: &Member, page: PageAfter)
        -> Result<Paged<VisibleCollection>, WorkspaceError>;
    fn visible_accounts(&self, member: &Member, page: PageAfter) -> Result<Paged<VisibleAccount>, WorkspaceError>;
    fn visible_secrets(&self, member: &Member, page: PageAfter) -> Result<Paged<VisibleSecret>, WorkspaceError>;
    /// `None` when the member cannot see it (whether or not it exists).
    fn account_detail(&self, member: &Member, id: i64) -> Result<Option<ItemDetail<VisibleAccount>>, WorkspaceError>;
    fn secret_detail(&self, member: &Member, id: i64) -> Result<Option<ItemDetail<VisibleSecret>>, WorkspaceError>;
    /// The values, with an audit row written in the same transaction;
    /// `None` (and no row) unless the member holds a role on the item.
    fn read_account_password(&self, member: &Member, id: i64) -> Result<Option<AccountPassword>, WorkspaceError>;
    fn read_secret_value(&self, member: &Member, id: i64) -> Result<Option<SecretValue>, WorkspaceError>;
    /// An attachment's name and stored size, when the member holds a role
    /// on its item (a download is a read of a value: audited in the same
    /// transaction). `None` when they hold none, it is not that item's, or
    /// its content was never imported.
    fn open_attachment(
        &self,
        member: &Member,
        item: ItemKind,
        item_id: i64,
        attachment: i64,
    ) -> Result<Option<AttachmentInfo>, WorkspaceError>;
    /// Up to `len` bytes of an attachment's content from `offset` (fewer at
    /// its end), so a download of any size is served a piece at a time.
    fn attachment_piece(&self, attachment: i64, offset: usize, len: usize) -> Result<Vec<u8>, WorkspaceError>;
    /// The teams the member is in.
    fn member_teams(&self, member: &Member, page: PageAfter) -> Result<Paged<MemberTeam>, WorkspaceError>;
    /// The member's own audit rows, newest first.
    fn member_activity(&self, member: &Member, page: PageAfter) -> Result<Paged<ActivityRow>, WorkspaceError>;
    /// Members for an admin, optionally only those of one role.
    fn people(&self, role: Option<Role>, page: PageAfter) -> Result<Paged<PersonRow>, WorkspaceError>;
    /// The workspace's name, id, domains and password policy (no items).
    fn workspace_header(&self) -> Result<super::WorkspaceInfo, WorkspaceError>;
    /// Creates the guest member, the invitation and its pending outbox row
    /// in one transaction. Refused (`Rule`) for an address inside the
    /// company's domains, of a member who is not a guest or whom the
    /// directory manages, or outside the inviting Guest Admin's partner.
    /// The local partner this member is a Guest Admin of, if any: the one
    /// kind of guest who may invite (for that partner only).
    fn guest_admin_partner(&self, member: i64) -> Result<Option<i64>, WorkspaceError>;
    fn invite_guest(&self, invite: &DirectInvite) -> Result<InvitedGuest, WorkspaceError>;
    /// Removes a guest from the workspace: state `removed`, their grants,
    /// team and partner places, API keys and sessions gone, an invitation email not
    /// yet delivered withdrawn (the invitation expires). `None`: no such
    /// guest.
    fn remove_guest(&self, actor: &str, guest: i64) -> Result<Option<Member>, WorkspaceError>;
    /// Removes one grant made to this guest (on one item). False when the
    /// guest holds no such grant.
    fn remove_guest_grant(&self, actor: &str, guest: i64, grant: i64) -> Result<bool, WorkspaceError>;
}
