//! How an invited guest joins: username and temporary password (`/join`),
//! then a password of their own with their name (`/join/password`), then
//! the terms of service (`/join/terms`), then their dashboard (`/`).
//!
//! The temporary password works once, and only for
//! `password_policy.guest_invitation_days` after it was issued: the first
//! right answer marks it used and opens a session that reaches nothing but
//! the next step. The member becomes active, and the invitation accepted,
//! only when the terms are accepted; until then every API route refuses
//! the session. A wrong username or password is answered the same way
//! (and counted, see [`super::throttle`]).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::auth::AuditActor;
use super::html::{self, escape};
use super::session::{self, Peer, SignedIn};
use super::throttle::{self, Attempt};
use super::{blocking, AppError, AppState};
use crate::apply::invitations::{hash_password, meets_policy};
use crate::secret::Secret;
use crate::workspace::identity::{Pending, JOIN_STEP_DONE};
use crate::workspace::{MemberState, PasswordPolicy, WorkspaceError};

/// How long a join session may take from the temporary password to the
/// terms, in seconds.
pub const JOIN_SESSION: i64 = 30 * 60;

const WRONG: &str = "that username and temporary password do not match an invitation";
const SPENT: &str = "this temporary password was used already or has expired: \
                     ask the workspace administrator to invite you again";

/// The policy as the pages list it.
pub fn describe(policy: &PasswordPolicy) -> Vec<String> {
    let mut rules = vec![format!("at least {} characters", policy.min_length)];
    for (required, what) in [
        (policy.require_uppercase, "an uppercase letter (A–Z)"),
        (policy.require_lowercase, "a lowercase letter (a–z)"),
        (policy.require_digit, "a digit (0–9)"),
        (policy.require_symbol, "a symbol (anything but a letter or digit)"),
    ] {
        if required {
            rules.push(what.to_owned());
        }
    }
    rules
}

#[derive(Deserialize)]
pub struct JoinQuery {
    #[serde(default)]
    username: Option<String>,
}

fn join_form(username: &str, message: Option<&str>) -> String {
    format!(
        "<h1>Join as a guest</h1>\n{error}\
         <p>Use the username and temporary password from your invitation email.</p>\n\
         <form method=\"post\" action=\"/join\">\n\
         <label>Username <input name=\"username\" autocomplete=\"username\" required value=\"{username}\"></label>\n\
         <label>Temporary password <input name=\"password\" type=\"password\" autocomplete=\"one-time-code\" required></label>\n\
         <button type=\"submit\">Continue</button>\n</form>",
        error = html::error(message),
        username = escape(username),
    )
}

pub async fn page(Query(q): Query<JoinQuery>) -> Response {
    html::page(
        StatusCode::OK,
        "join",
        &join_form(q.username.as_deref().unwrap_or(""), None),
    )
}

#[derive(Deserialize)]
pub struct JoinForm {
    username: String,
    password: String,
}

pub async fn start(
    State(state): State<AppState>,
    Peer(peer): Peer,
    actor: AuditActor,
    headers: HeaderMap,
    Form(form): Form<JoinForm>,
) -> Result<Response, AppError> {
    let password = Secret::text(form.password);
    let username = form.username.trim().to_lowercase();
    let attempt = Attempt::new(&state, &username, &peer);
    if let Some(refusal) = attempt.begin().await? {
        return Ok(refusal.page(|m| join_form(&username, Some(m))));
    }
    let identity = state.identity.clone();
    let name = username.clone();
    let (invitation, days) = blocking(move || {
        let invitation = identity.join_invitation(&name)?;
        let ok = throttle::verify(password.expose(), invitation.as_ref().map(|i| i.password_hash.as_str()));
        let days = identity.workspace_info()?.password_policy.guest_invitation_days;
        Ok((invitation.filter(|_| ok), days))
    })
    .await?;
    let Some(invitation) = invitation else {
        let refusal = attempt.failed_with(WRONG).await?;
        return Ok(refusal.page(|m| join_form(&username, Some(m))));
    };
    let now = session::now();
    let expired = now >= invitation.issued + i64::from(days) * 86_400;
    if invitation.used.is_some()
        || invitation.state != "sent"
        || invitation.member.state != MemberState::Invited
        || expired
    {
        let refusal = attempt.failed_with(SPENT).await?;
        return Ok(refusal.page(|m| join_form(&username, Some(m))));
    }
    let token = session::new_token();
    let hash = session::token_hash(&token);
    let identity = state.identity.clone();
    let id = blocking(move || Ok(identity.start_join(invitation.id, &hash, now, now + JOIN_SESSION)?)).await?;
    let Some(id) = id else {
        let refusal = attempt.failed_with(SPENT).await?;
        return Ok(refusal.page(|m| join_form(&username, Some(m))));
    };
    attempt.succeeded().await?;
    actor.name(format!("{} (session #{id})", invitation.member.email));
    Ok(session::start(
        "/join/password",
        &token,
        JOIN_SESSION,
        session::secure(&state, &headers),
    ))
}

/// The signed-in session if it is at `step`; otherwise where to send the
/// browser instead.
async fn at_step(state: &AppState, headers: &HeaderMap, step: Pending) -> Result<Result<SignedIn, Response>, AppError> {
    let Some(signed_in) = session::current(state, headers).await? else {
        return Ok(Err(Redirect::to("/join").into_response()));
    };
    match signed_in.session.pending {
        Some(p) if p == step => Ok(Ok(signed_in)),
        Some(p) => Ok(Err(Redirect::to(session::step_page(p)).into_response())),
        None => Ok(Err(Redirect::to("/").into_response())),
    }
}

fn password_form(s: &SignedIn, policy: &PasswordPolicy, given: &str, family: &str, message: Option<&str>) -> String {
    let rules: String = describe(policy)
        .iter()
        .map(|r| format!("<li>{}</li>", escape(r)))
        .collect();
    format!(
        "<h1>Change your password</h1>\n{error}\
         <p>Choose a password of your own, different from the temporary one. The workspace requires:</p>\n\
         <ul id=\"policy\">{rules}</ul>\n\
         <form method=\"post\" action=\"/join/password\">\n{csrf}\n\
         <label>New password <input name=\"password\" type=\"password\" autocomplete=\"new-password\" required></label>\n\
         <label>New password again <input name=\"password_again\" type=\"password\" autocomplete=\"new-password\" required></label>\n\
         <label>Name <input name=\"given_name\" autocomplete=\"given-name\" required value=\"{given}\"></label>\n\
         <label>Family name <input name=\"family_name\" autocomplete=\"family-name\" required value=\"{family}\"></label>\n\
         <button type=\"submit\">Continue</button>\n</form>",
        error = html::error(message),
        csrf = html::csrf_field(&s.csrf),
        given = escape(given),
        family = escape(family),
    )
}

async fn policy(state: &AppState) -> Result<PasswordPolicy, AppError> {
    let identity = state.identity.clone();
    blocking(move || Ok(identity.workspace_info()?.password_policy)).await
}

pub async fn password_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let s = match at_step(&state, &headers, Pending::Password).await? {
        Ok(s) => s,
        Err(redirect) => return Ok(redirect),
    };
    let policy = policy(&state).await?;
    Ok(html::page(
        StatusCode::OK,
        "change your password",
        &password_form(&s, &policy, "", "", None),
    ))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
    password_again: String,
    given_name: String,
    family_name: String,
}

/// A name as the member typed it: trimmed, one line, not too long.
fn name_field(value: &str, what: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(format!("the {what} is required"));
    }
    if v.chars().count() > 100 || v.chars().any(char::is_control) {
        return Err(format!("the {what} must be one line of at most 100 characters"));
    }
    Ok(v.to_owned())
}

pub async fn set_password(
    State(state): State<AppState>,
    actor: AuditActor,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let s = match at_step(&state, &headers, Pending::Password).await? {
        Ok(s) => s,
        Err(redirect) => return Ok(redirect),
    };
    actor.name(s.label());
    let password = Secret::text(form.password);
    let again = Secret::text(form.password_again);
    let policy = policy(&state).await?;
    let refuse = |message: &str| {
        Ok(html::page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "change your password",
            &password_form(&s, &policy, &form.given_name, &form.family_name, Some(message)),
        ))
    };
    let (given, family) = match (
        name_field(&form.given_name, "name"),
        name_field(&form.family_name, "family name"),
    ) {
        (Ok(g), Ok(f)) => (g, f),
        (Err(m), _) | (_, Err(m)) => return refuse(&m),
    };
    if password.expose() != again.expose() {
        return refuse("the two new passwords differ: type the same password twice");
    }
    if !meets_policy(password.expose(), &policy) {
        return refuse(&format!(
            "the new password does not meet the workspace's policy: it needs {}",
            describe(&policy).join(", ")
        ));
    }
    let identity = state.identity.clone();
    let member = s.session.member.id;
    let session_id = s.session.id;
    let outcome = blocking(move || {
        let temporary = identity
            .member_invitation(member)?
            .map(|i| i.password_hash)
            .unwrap_or_default();
        if crate::apply::invitations::verify_password(password.expose(), &temporary) {
            return Ok(Err("the new password must differ from the temporary one"));
        }
        let (phc, _) = hash_password(&password).map_err(AppError::internal)?;
        match identity.finish_password(session_id, &phc, &given, &family, session::now()) {
            // Sent twice: the first one set the password; go on with it.
            Err(WorkspaceError::Rule(m)) if m == JOIN_STEP_DONE => Ok(Ok(())),
            other => other.map(Ok).map_err(AppError::from),
        }
    })
    .await?;
    match outcome {
        Ok(()) => Ok(Redirect::to("/join/terms").into_response()),
        Err(message) => refuse(message),
    }
}

/// The terms a guest accepts. One text for every workspace for now; the
/// workspace's own terms would be a seed field.
const TERMS: &str = "You were invited by the workspace named above to see the items it shares with you. \
     Keep your password to yourself, do not share what you see beyond what the workspace allows, \
     and tell the workspace administrator if you think someone else used your account. \
     The workspace may end your access at any time; every sign-in and change is recorded.";

fn terms_form(s: &SignedIn, workspace: &str, message: Option<&str>) -> String {
    format!(
        "<h1>Terms of Service</h1>\n{error}\
         <p>Workspace: <strong>{ws}</strong></p>\n<p id=\"terms\">{terms}</p>\n\
         <form method=\"post\" action=\"/join/terms\">\n{csrf}\n\
         <label><input type=\"checkbox\" name=\"accept\" value=\"yes\" required> I accept the terms of service</label>\n\
         <button type=\"submit\">Accept and continue</button>\n</form>\n{logout}",
        error = html::error(message),
        ws = escape(workspace),
        terms = escape(TERMS),
        csrf = html::csrf_field(&s.csrf),
        logout = html::logout_form(&s.csrf),
    )
}

async fn workspace_name(state: &AppState) -> Result<String, AppError> {
    let identity = state.identity.clone();
    blocking(move || Ok(identity.workspace_info()?.name)).await
}

pub async fn terms_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let s = match at_step(&state, &headers, Pending::Terms).await? {
        Ok(s) => s,
        Err(redirect) => return Ok(redirect),
    };
    let name = workspace_name(&state).await?;
    Ok(html::page(
        StatusCode::OK,
        "terms of service",
        &terms_form(&s, &name, None),
    ))
}

#[derive(Deserialize)]
pub struct TermsForm {
    #[serde(default)]
    accept: Option<String>,
}

pub async fn accept_terms(
    State(state): State<AppState>,
    actor: AuditActor,
    headers: HeaderMap,
    Form(form): Form<TermsForm>,
) -> Result<Response, AppError> {
    let s = match at_step(&state, &headers, Pending::Terms).await? {
        Ok(s) => s,
        Err(redirect) => return Ok(redirect),
    };
    actor.name(s.label());
    if form.accept.as_deref() != Some("yes") {
        let name = workspace_name(&state).await?;
        return Ok(html::page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "terms of service",
            &terms_form(
                &s,
                &name,
                Some("confirm that you accept the terms of service to continue"),
            ),
        ));
    }
    // A new token for the full session: whatever knew the join session's
    // (it reached only these pages) does not get the member's.
    let token = session::new_token();
    let hash = session::token_hash(&token);
    let identity = state.identity.clone();
    let id = s.session.id;
    let absolute = state.config.session_absolute.as_secs() as i64;
    let now = session::now();
    let accepted = blocking(move || match identity.accept_terms(id, &hash, now, now + absolute) {
        Ok(()) => Ok(true),
        // Sent twice: the first one opened the session under its own token.
        Err(WorkspaceError::Rule(m)) if m == JOIN_STEP_DONE => Ok(false),
        Err(e) => Err(e.into()),
    })
    .await?;
    if !accepted {
        return Ok(Redirect::to("/").into_response());
    }
    Ok(session::start("/", &token, absolute, session::secure(&state, &headers)))
}
