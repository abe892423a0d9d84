//! What signing in needs from the store: members' password hashes, guests'
//! temporary passwords, sessions, failed attempts and API keys with their
//! expiry. A trait of its own, beside [`super::service::ServiceStore`], so
//! the server holds it as `Arc<dyn IdentityStore>` and an identity provider
//! could answer it instead of the embedded store.
//!
//! Times are Unix seconds, passed in by the caller: the server's clock is
//! the one that decides, and tests can move it.

use super::{Member, WorkspaceError, WorkspaceInfo};

/// An API key found by its hash: whose, which (id and non-secret prefix),
/// and whether it still works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    pub id: i64,
    /// `vfk_` and the first 8 hex digits: names the key in the audit log
    /// and `apikey list` without being usable. `None` for keys made before
    /// prefixes were kept.
    pub prefix: Option<String>,
    pub member: Member,
    pub created: String,
    pub expires: Option<i64>,
    pub revoked: Option<i64>,
}

impl KeyRecord {
    /// `active`, `expired` or `revoked` at `now`.
    pub fn state(&self, now: i64) -> &'static str {
        if self.revoked.is_some() {
            "revoked"
        } else if self.expires.is_some_and(|t| t <= now) {
            "expired"
        } else {
            "active"
        }
    }

    /// How the key is named where the key itself must not be.
    pub fn label(&self) -> String {
        match &self.prefix {
            Some(p) => format!("key #{} {p}…", self.id),
            None => format!("key #{}", self.id),
        }
    }
}

/// The step of joining a session still has to go through before it opens
/// anything but the join pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// Signed in with the temporary password: a new one must be set.
    Password,
    /// The terms of service must be accepted.
    Terms,
}

impl Pending {
    pub fn name(self) -> &'static str {
        match self {
            Pending::Password => "password",
            Pending::Terms => "terms",
        }
    }

    pub fn from_name(name: &str) -> Option<Pending> {
        match name {
            "password" => Some(Pending::Password),
            "terms" => Some(Pending::Terms),
            _ => None,
        }
    }
}

/// A live session (found by its token's hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub id: i64,
    pub member: Member,
    pub pending: Option<Pending>,
    pub created: i64,
    pub last_seen: i64,
    pub expires: i64,
}

/// A guest's invitation as the join page checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinInvitation {
    pub id: i64,
    pub member: Member,
    /// PHC string of the temporary password.
    pub password_hash: String,
    /// `sent`, `accepted` or `expired`.
    pub state: String,
    /// When the temporary password was issued.
    pub issued: i64,
    /// When it opened a join session; it works once.
    pub used: Option<i64>,
}

/// Failed attempts counted against one subject (an account or a source
/// address).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Failures {
    pub failures: u32,
    pub locked_until: Option<i64>,
}

/// The rule [`IdentityStore::finish_password`] and
/// [`IdentityStore::accept_terms`] refuse with when the session is past
/// that step already (a form sent twice, the second before the first was
/// answered): the pages send the browser on instead.
pub const JOIN_STEP_DONE: &str = "this step of joining was completed already: the form was sent twice";

pub trait IdentityStore: Send + Sync {
    /// The workspace's name, domains and password policy, without the rest
    /// of a snapshot: what the sign-in pages show.
    fn workspace_info(&self) -> Result<WorkspaceInfo, WorkspaceError>;
    /// A new API key for the member with this email, expiring at `expires`
    /// if given: the key (shown once), its record.
    fn create_api_key_expiring(&self, email: &str, expires: Option<i64>)
        -> Result<(String, KeyRecord), WorkspaceError>;
    /// The key whatever its state (the caller decides what expired and
    /// revoked mean), or `None` when unknown.
    fn api_key(&self, key: &str) -> Result<Option<KeyRecord>, WorkspaceError>;
    /// Every key, or one member's, oldest first.
    fn api_keys(&self, member: Option<i64>) -> Result<Vec<KeyRecord>, WorkspaceError>;
    /// Revokes a key (by id, and only `member`'s when given); false when
    /// there is no such key or it was revoked already.
    fn revoke_api_key(&self, id: i64, member: Option<i64>, now: i64) -> Result<bool, WorkspaceError>;

    /// Stores a member's password hash (replacing any), by email.
    fn set_password(&self, email: &str, phc: &str, now: i64) -> Result<Member, WorkspaceError>;
    /// The member a sign-in name (an email, or a guest's username) is, and
    /// their password hash if they have one.
    fn credential(&self, login: &str) -> Result<Option<(Member, Option<String>)>, WorkspaceError>;
    /// A guest invitation by username.
    fn join_invitation(&self, username: &str) -> Result<Option<JoinInvitation>, WorkspaceError>;
    /// A guest's invitation by member id.
    fn member_invitation(&self, member: i64) -> Result<Option<JoinInvitation>, WorkspaceError>;
    /// Marks the temporary password used and opens a session that must set
    /// a new password; `None` when it was used meanwhile.
    fn start_join(
        &self,
        invitation: i64,
        token_hash: &str,
        now: i64,
        expires: i64,
    ) -> Result<Option<i64>, WorkspaceError>;
    /// The guest's own password, name and family name; the session moves on
    /// to the terms.
    fn finish_password(
        &self,
        session: i64,
        phc: &str,
        given_name: &str,
        family_name: &str,
        now: i64,
    ) -> Result<(), WorkspaceError>;
    /// Terms accepted: the member becomes active, the invitation accepted,
    /// the session a full one under a new token (`token_hash`), lasting
    /// until `expires`: the token that only opened the join pages stops
    /// working.
    fn accept_terms(&self, session: i64, token_hash: &str, now: i64, expires: i64) -> Result<(), WorkspaceError>;

    fn create_session(
        &self,
        member: i64,
        token_hash: &str,
        pending: Option<Pending>,
        now: i64,
        expires: i64,
    ) -> Result<i64, WorkspaceError>;
    /// The session whose token has this hash, if not past `expires` and
    /// seen since `idle_since`; an ended one is deleted.
    fn session(&self, token_hash: &str, now: i64, idle_since: i64) -> Result<Option<Session>, WorkspaceError>;
    fn touch_session(&self, id: i64, now: i64) -> Result<(), WorkspaceError>;
    fn end_session(&self, token_hash: &str) -> Result<(), WorkspaceError>;

    /// The failures counted against `subject` within the window.
    fn failures(&self, subject: &str, now: i64, window: i64) -> Result<Failures, WorkspaceError>;
    /// One more failure; at `threshold` the subject is locked until
    /// `now + lock`.
    fn record_failure(
        &self,
        subject: &str,
        now: i64,
        window: i64,
        threshold: u32,
        lock: i64,
    ) -> Result<Failures, WorkspaceError>;
    fn clear_failures(&self, subject: &str) -> Result<(), WorkspaceError>;
    /// Takes back one failure [`Self::record_failure`] counted for an
    /// attempt that then succeeded (attempts are counted before the
    /// password is checked), lifting the lock it set, if it set one.
    fn forgive_failure(&self, subject: &str, threshold: u32) -> Result<(), WorkspaceError>;
}
