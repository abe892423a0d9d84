//! API keys, sessions, and the audit trail.
//!
//! A request is authenticated by a key in `X-API-Key` (scripts, the HTTP
//! target) or by the `vaultferry_session` cookie (a browser signed in at
//! `/login`, see [`super::session`]); the key wins when both come. An
//! expired or revoked key is refused with 401 and says which. A session
//! that still has a join step reaches no route until the guest finishes.
//! Only the workspace owner, super admins and admins may use the importer;
//! every other member is refused with 403 and says why. Every request,
//! allowed or not, leaves an audit row: who (with which key or session,
//! named by its id and prefix, never the key or token), method and path,
//! status. Never a body or a query.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{blocking, AppError, AppState};
use crate::workspace::{Member, MemberState};

/// The member a request was authenticated as (request extension), on the
/// importer routes: an active owner, super admin or admin.
#[derive(Clone, Debug)]
pub struct Importer(pub Member);

/// The member a request was authenticated as (request extension), on the
/// routes every active member may call (guests included). What each such
/// route shows is decided by the route from this member, never by which
/// links a page happens to render.
#[derive(Clone, Debug)]
pub struct Caller(pub Member);

/// The audit actor of a request, filled in by [`require_importer`],
/// [`require_member`] and the sign-in handlers.
#[derive(Clone, Debug, Default)]
struct Actor(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl Actor {
    fn set(&self, who: String) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(who);
    }
}

/// A handler's handle on its request's audit actor (the sign-in pages
/// name who signed in; no-op outside the audit layer).
#[derive(Clone, Debug, Default)]
pub struct AuditActor(Option<Actor>);

impl AuditActor {
    pub fn name(&self, who: String) {
        if let Some(a) = &self.0 {
            a.set(who);
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuditActor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<AuditActor, Self::Rejection> {
        Ok(AuditActor(parts.extensions.get::<Actor>().cloned()))
    }
}

/// The key in `X-API-Key`, if the request sends one.
pub fn key_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

/// `2026-12-06` for a Unix time.
fn date(secs: i64) -> String {
    crate::model::Timestamp(secs).to_rfc3339().chars().take(10).collect()
}

/// Most of a refused request's body read before answering: a client still
/// sending an upload would otherwise see a reset instead of the 401/403.
const DRAIN_REFUSED: usize = 1024 * 1024;

/// Any active member, whatever the role: the request carries [`Caller`].
pub async fn require_member(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match check(&state, req, false).await {
        Ok((req, member)) => {
            let mut req = req;
            req.extensions_mut().insert(Caller(member));
            next.run(req).await
        }
        Err((req, refusal)) => {
            let _ = axum::body::to_bytes(req.into_body(), DRAIN_REFUSED).await;
            refusal.into_response()
        }
    }
}

/// An active owner, super admin or admin: the request carries [`Importer`]
/// (and [`Caller`]).
pub async fn require_importer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match check(&state, req, true).await {
        Ok((req, member)) => {
            let mut req = req;
            req.extensions_mut().insert(Caller(member.clone()));
            req.extensions_mut().insert(Importer(member));
            next.run(req).await
        }
        Err((req, refusal)) => {
            let _ = axum::body::to_bytes(req.into_body(), DRAIN_REFUSED).await;
            refusal.into_response()
        }
    }
}

async fn check(state: &AppState, req: Request, importer: bool) -> Result<(Request, Member), (Request, AppError)> {
    let actor = req.extensions().get::<Actor>().cloned();
    let name = |who: String| {
        if let Some(a) = &actor {
            a.set(who);
        }
    };
    let member = match key_from(req.headers()) {
        Some(key) => {
            let identity = state.identity.clone();
            let record = match blocking(move || Ok(identity.api_key(&key)?)).await {
                Ok(Some(r)) => r,
                Ok(None) => {
                    return Err((
                        req,
                        AppError::new(StatusCode::UNAUTHORIZED, "that API key is not known to this workspace"),
                    ))
                }
                Err(e) => return Err((req, e)),
            };
            name(format!("{} ({})", record.member.email, record.label()));
            if let Some(when) = record.revoked {
                let message = format!(
                    "that API key ({}) was revoked on {}: create a new one (`vaultferry apikey create`)",
                    record.label(),
                    date(when)
                );
                return Err((req, AppError::new(StatusCode::UNAUTHORIZED, message)));
            }
            if let Some(when) = record.expires.filter(|&t| t <= super::session::now()) {
                let message = format!(
                    "that API key ({}) expired on {}: create a new one (`vaultferry apikey create --expires DAYS`)",
                    record.label(),
                    date(when)
                );
                return Err((req, AppError::new(StatusCode::UNAUTHORIZED, message)));
            }
            record.member
        }
        None => {
            let signed_in = match super::session::current(state, req.headers()).await {
                Ok(Some(s)) => s,
                Ok(None) => {
                    let message = if super::session::cookie_token(req.headers()).is_some() {
                        "your session has ended: sign in again at /login"
                    } else {
                        "an API key is required in the X-API-Key header (`vaultferry apikey create --db … --member EMAIL`), \
                         or a session (sign in at /login)"
                    };
                    return Err((req, AppError::new(StatusCode::UNAUTHORIZED, message)));
                }
                Err(e) => return Err((req, e)),
            };
            name(signed_in.label());
            if let Some(step) = signed_in.session.pending {
                let message = format!(
                    "finish joining the workspace first: {}",
                    super::session::step_page(step)
                );
                return Err((req, AppError::new(StatusCode::FORBIDDEN, message)));
            }
            signed_in.session.member
        }
    };
    if importer && !member.role.may_import() {
        let message = format!(
            "{} is a member with the role {}: only the workspace owner, super admins and admins may use the importer",
            member.email,
            member.role.name()
        );
        return Err((req, AppError::new(StatusCode::FORBIDDEN, message)));
    }
    if member.state != MemberState::Active {
        let message = format!("{} is not an active member of this workspace", member.email);
        return Err((req, AppError::new(StatusCode::FORBIDDEN, message)));
    }
    Ok((req, member))
}

/// Outermost layer: one audit row per request once its status is known.
pub async fn audit(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let actor = Actor::default();
    req.extensions_mut().insert(actor.clone());
    let action = format!("http {} {}", req.method(), req.uri().path());
    let response = next.run(req).await;
    let who = actor
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .unwrap_or_else(|| "anonymous".to_owned());
    let object = format!("status {}", response.status().as_u16());
    let store = state.store.clone();
    // An audit row that cannot be written is logged, not turned into a
    // failure of a request that already happened.
    if let Err(e) = blocking(move || Ok(store.audit(&who, &action, &object)?)).await {
        eprintln!("vaultferry serve: cannot write the audit row: {e:?}");
    }
    response
}
