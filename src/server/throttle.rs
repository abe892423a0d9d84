//! Failed sign-ins (the login form and the join form alike) are slowed and
//! then locked, per account and per source address.
//!
//! What was chosen: every failure is answered after a pause that grows
//! with the failures so far (`Config::failure_delay` times their number,
//! at most five times). [`ACCOUNT_LIMIT`] failures for one sign-in name
//! within [`WINDOW`] lock that name for [`LOCK`]; [`ADDRESS_LIMIT`]
//! failures from one address (trying many names) lock the address as
//! long. A locked name is refused even with the right password, and a name
//! no member has is counted and locked the same way, so neither the
//! answers nor the lock tell whether a name exists. Counts are in the
//! store: a restart does not reset them. An attempt is counted before its
//! password is checked (and given back when it succeeds), in one store
//! transaction, so guesses sent together get no more checks than guesses
//! sent one after another.

use std::sync::OnceLock;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use super::session::now;
use super::{blocking, html, AppError, AppState};
use crate::workspace::identity::Failures;

/// Failures for one sign-in name before it is locked.
pub const ACCOUNT_LIMIT: u32 = 5;
/// Failures from one address before it is locked.
pub const ADDRESS_LIMIT: u32 = 20;
/// How long a lock lasts, in seconds.
pub const LOCK: i64 = 15 * 60;
/// Failures older than this (seconds) no longer count.
pub const WINDOW: i64 = 15 * 60;

/// Whether `password` matches the PHC string `hash`. Without a hash (no
/// such member, or no password) a throwaway hash is verified instead, so
/// both cost the same time and fail.
pub fn verify(password: &str, hash: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    match hash {
        Some(h) => crate::apply::invitations::verify_password(password, h),
        None => {
            let dummy = DUMMY.get_or_init(|| {
                crate::apply::invitations::hash_password(&crate::secret::Secret::text(super::session::new_token()))
                    .map(|(h, _)| h)
                    .unwrap_or_default()
            });
            let _ = crate::apply::invitations::verify_password(password, dummy);
            false
        }
    }
}

/// One sign-in attempt: the name and address it counts against, and what
/// counting it found (set by [`Attempt::begin`]).
pub struct Attempt {
    state: AppState,
    account: String,
    address: String,
    counted: std::sync::Mutex<Counted>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Counted {
    failures: u32,
    locked_until: Option<i64>,
}
/// A refused attempt: its status and what the page says.
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
    pub retry_after: Option<i64>,
}

impl Refusal {
    /// The form again, with the message (`form` renders it).
    pub fn page(&self, form: impl FnOnce(&str) -> String) -> Response {
        let mut response = html::page(self.status, "sign in", &form(&self.message));
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

fn locked_refusal(until: i64, now: i64) -> Refusal {
    let minutes = ((until - now) + 59) / 60;
    Refusal {
        status: StatusCode::TOO_MANY_REQUESTS,
        message: format!(
            "too many failed attempts for this name or from your address: try again in {} minute{}",
            minutes.max(1),
            if minutes == 1 { "" } else { "s" }
        ),
        retry_after: Some(until - now),
    }
}

impl Attempt {
    pub fn new(state: &AppState, login: &str, peer: &str) -> Attempt {
        Attempt {
            state: state.clone(),
            account: format!("account:{}", login.trim().to_lowercase()),
            address: format!("address:{peer}"),
            counted: Default::default(),
        }
    }

    /// Counts the attempt as a failure against the name and the address
    /// *before* the password is checked, so attempts sent together cannot
    /// all be checked before the first failure is recorded; a refusal
    /// (without checking) when either is locked. A success takes the
    /// count back ([`Self::succeeded`]).
    pub async fn begin(&self) -> Result<Option<Refusal>, AppError> {
        let identity = self.state.identity.clone();
        let (account, address) = (self.account.clone(), self.address.clone());
        let now = now();
        let (a, b): (Failures, Failures) = blocking(move || {
            let a = identity.record_failure(&account, now, WINDOW, ACCOUNT_LIMIT, LOCK)?;
            // A locked name costs the address nothing more.
            if a.failures == 0 {
                return Ok((a, Failures::default()));
            }
            let b = identity.record_failure(&address, now, WINDOW, ADDRESS_LIMIT, LOCK)?;
            if b.failures == 0 {
                // The address was locked: the name's count is given back.
                identity.forgive_failure(&account, ACCOUNT_LIMIT)?;
            }
            Ok((a, b))
        })
        .await?;
        if let Some(until) = [a, b].iter().filter(|f| f.failures == 0).find_map(|f| f.locked_until) {
            return Ok(Some(locked_refusal(until, now)));
        }
        *self.counted.lock().unwrap_or_else(|p| p.into_inner()) = Counted {
            failures: a.failures.max(b.failures),
            locked_until: a.locked_until.max(b.locked_until),
        };
        Ok(None)
    }

    /// The attempt failed (it was counted by [`Self::begin`]): waits, and
    /// says `message` (or that this attempt locked the name or address).
    pub async fn failed_with(&self, message: &str) -> Result<Refusal, AppError> {
        let counted = *self.counted.lock().unwrap_or_else(|p| p.into_inner());
        let n = counted.failures.min(5);
        tokio::time::sleep(self.state.config.failure_delay * n).await;
        Ok(match counted.locked_until {
            Some(until) => locked_refusal(until, now()),
            None => Refusal {
                status: StatusCode::UNAUTHORIZED,
                message: message.to_owned(),
                retry_after: None,
            },
        })
    }

    pub async fn failed(&self) -> Result<Refusal, AppError> {
        self.failed_with(super::session::WRONG).await
    }

    /// The name's count starts again; the address keeps its own, less
    /// this attempt.
    pub async fn succeeded(&self) -> Result<(), AppError> {
        let identity = self.state.identity.clone();
        let (account, address) = (self.account.clone(), self.address.clone());
        blocking(move || {
            identity.clear_failures(&account)?;
            Ok(identity.forgive_failure(&address, ADDRESS_LIMIT)?)
        })
        .await
    }
}
