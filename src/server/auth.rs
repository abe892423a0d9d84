//! API keys and the audit trail.
//!
//! A key comes in `X-API-Key`, or in the `vaultferry_key` cookie the upload
//! page sets (download links cannot send headers). Only the workspace
//! owner, super admins and admins may use the importer; every other key is
//! refused with 403 and says why. Every request, allowed or not, leaves an
//! audit row: who, method and path, status. Never a body or a query.

use axum::extract::{Request, State};
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

/// The audit actor of a request, filled in by [`require_importer`].
#[derive(Clone, Debug, Default)]
struct Actor(std::sync::Arc<std::sync::Mutex<Option<String>>>);

fn key_from(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_owned());
    }
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix("vaultferry_key="))
        .map(|k| k.trim().to_owned())
        .find(|k| !k.is_empty())
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
    let Some(key) = key_from(req.headers()) else {
        return Err((
            req,
            AppError::new(
                StatusCode::UNAUTHORIZED,
                "an API key is required in the X-API-Key header (`vaultferry apikey create --db … --member EMAIL`)",
            ),
        ));
    };
    let store = state.store.clone();
    let member = match blocking(move || Ok(store.member_for_key(&key)?)).await {
        Ok(Some(m)) => m,
        Ok(None) => {
            return Err((
                req,
                AppError::new(StatusCode::UNAUTHORIZED, "that API key is not known to this workspace"),
            ))
        }
        Err(e) => return Err((req, e)),
    };
    if let Some(actor) = req.extensions().get::<Actor>() {
        *actor.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(member.email.clone());
    }
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
