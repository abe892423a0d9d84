//! Sessions: the `vaultferry_session` cookie a browser signs in with.
//!
//! The token is 256 random bits; the store keeps only its SHA-256, so a
//! copy of the database opens no session. The cookie is `HttpOnly` (no
//! script reads it), `SameSite=Strict`, `Path=/`, and `Secure` behind TLS
//! (`serve --secure-cookies`, or a proxy's `X-Forwarded-Proto: https`). A
//! session ends after [`super::Config::session_idle`] without a request and
//! at [`super::Config::session_absolute`] whatever happens. Its CSRF token
//! is derived from the session token (a keyed digest), so it is bound to
//! the session, needs no storage, and cannot be computed without the
//! cookie a cross-site page cannot read.

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::auth::AuditActor;
use super::html::{self, escape};
use super::throttle::{self, Attempt};
use super::{blocking, AppError, AppState};
use crate::secret::Secret;
use crate::workspace::identity::{Pending, Session};
use crate::workspace::MemberState;

/// The session cookie's name.
pub const COOKIE: &str = "vaultferry_session";

/// Now, in Unix seconds: the clock sessions, keys and invitations are
/// judged by.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A new session token.
pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("vfs_{}", hex::encode(bytes))
}

/// The stored form of a session token.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// The CSRF token of the session with this token: a digest under a
/// different label than [`token_hash`], so neither gives the other.
pub fn csrf_token(token: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"vaultferry csrf\0");
    h.update(token.trim().as_bytes());
    hex::encode(h.finalize())
}

/// Equal without a timing signal of where they first differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The session token the request's cookie carries.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .map(|k| k.trim().to_owned())
        .find(|k| !k.is_empty())
}

/// Whether cookies get `Secure`: configured, or the request came through
/// a TLS-terminating proxy that says so.
pub fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

fn cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}");
    // Our own token (hex) and numbers: always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("vaultferry_session=; Max-Age=0"))
}

/// A response that sets the session cookie and redirects to `to`.
pub fn start(to: &str, token: &str, max_age: i64, secure: bool) -> Response {
    let mut response = Redirect::to(to).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie(token, max_age, secure));
    response
}

/// A signed-in request: its session and the CSRF token its forms carry.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub session: Session,
    pub csrf: String,
}

impl SignedIn {
    /// How the audit log names who did it: the member and the session (its
    /// row id, never the token).
    pub fn label(&self) -> String {
        format!("{} (session #{})", self.session.member.email, self.session.id)
    }
}

/// The live session the request's cookie names, if any; seen now.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<SignedIn>, AppError> {
    let Some(token) = cookie_token(headers) else {
        return Ok(None);
    };
    let identity = state.identity.clone();
    let now = now();
    let idle = state.config.session_idle.as_secs() as i64;
    let hash = token_hash(&token);
    let found = blocking(move || {
        let s = identity.session(&hash, now, now - idle)?;
        if let Some(s) = &s {
            // At most one write a minute per session.
            if s.last_seen < now - 60 {
                identity.touch_session(s.id, now)?;
            }
        }
        Ok(s)
    })
    .await?;
    Ok(found.map(|session| SignedIn {
        session,
        csrf: csrf_token(&token),
    }))
}

/// Where a session that still has a join step goes.
pub fn step_page(pending: Pending) -> &'static str {
    match pending {
        Pending::Password => "/join/password",
        Pending::Terms => "/join/terms",
    }
}

/// The source address of a request (`unknown` when not served over TCP,
/// as in tests): what failed attempts are also counted against.
#[derive(Clone, Debug)]
pub struct Peer(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Peer, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(Peer(addr))
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    login: Option<String>,
}

fn login_form(login: &str, message: Option<&str>) -> String {
    format!(
        "<h1>Sign in</h1>\n{error}\
         <form method=\"post\" action=\"/login\">\n\
         <label>Email, or your guest username <input name=\"login\" autocomplete=\"username\" required value=\"{login}\"></label>\n\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\n\
         <button type=\"submit\">Sign in</button>\n</form>\n\
         <p>Invited as a guest? <a href=\"/join\">Join with your temporary password</a>.</p>",
        error = html::error(message),
        login = escape(login),
    )
}

pub async fn login_page(Query(q): Query<LoginQuery>) -> Response {
    html::page(
        StatusCode::OK,
        "sign in",
        &login_form(q.login.as_deref().unwrap_or(""), None),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
}

/// What every refused sign-in says: never whether the name exists.
pub const WRONG: &str = "that sign-in name and password do not match a member who may sign in";

pub async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    actor: AuditActor,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let password = Secret::text(form.password);
    let login = form.login.trim().to_lowercase();
    let attempt = Attempt::new(&state, &login, &peer);
    if let Some(refusal) = attempt.begin().await? {
        return Ok(refusal.page(|m| login_form(&login, Some(m))));
    }
    let identity = state.identity.clone();
    let name = login.clone();
    let found = blocking(move || {
        let found = identity.credential(&name)?;
        // A missing member or password still costs one verification, so
        // the answer's timing does not tell which it was.
        let hash = found.as_ref().and_then(|(_, h)| h.clone());
        let ok = throttle::verify(password.expose(), hash.as_deref());
        Ok(found.filter(|(m, _)| ok && matches!(m.state, MemberState::Active | MemberState::Invited)))
    })
    .await?;
    let Some((member, _)) = found else {
        let refusal = attempt.failed().await?;
        return Ok(refusal.page(|m| login_form(&login, Some(m))));
    };
    attempt.succeeded().await?;
    // An invited guest with a password of their own left before the terms.
    let pending = (member.state == MemberState::Invited).then_some(Pending::Terms);
    let token = new_token();
    let identity = state.identity.clone();
    let hash = token_hash(&token);
    let now = now();
    let absolute = state.config.session_absolute.as_secs() as i64;
    let old = cookie_token(&headers).map(|t| token_hash(&t));
    let id = blocking(move || {
        if let Some(old) = old {
            identity.end_session(&old)?;
        }
        Ok(identity.create_session(member.id, &hash, pending, now, now + absolute)?)
    })
    .await?;
    // The member, not the name typed (a guest signs in with a username):
    // their own activity finds their sign-ins by email.
    actor.name(format!("{} (session #{id})", member.email));
    let to = pending.map_or("/", step_page);
    Ok(start(to, &token, absolute, secure(&state, &headers)))
}

pub async fn logout(
    State(state): State<AppState>,
    actor: AuditActor,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(signed_in) = current(&state, &headers).await? {
        actor.name(signed_in.label());
    }
    if let Some(token) = cookie_token(&headers) {
        let identity = state.identity.clone();
        let hash = token_hash(&token);
        blocking(move || Ok(identity.end_session(&hash)?)).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie("", 0, secure(&state, &headers)));
    Ok(response)
}
