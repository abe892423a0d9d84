//! The Guests page's two forms: "Invite a guest" and "Remove" per guest.
//!
//! They are plain POST forms (the CSRF layer checks their `csrf` field)
//! that call exactly what `POST /api/v1/guests` and
//! `DELETE /api/v1/guests/{id}` call ([`super::guests`]), so the page has
//! the same rules and the same refusals; the answer is the Guests page
//! again, with what was done or why not (and a refused address kept in the
//! field to correct it), under the refusal's status.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::auth::Caller;
use super::guests;
use super::html;
use super::member_views::Cursor;
use super::shell::Shell;
use super::views_page::{people_page, Outcome};
use super::{AppError, AppState};
use crate::workspace::views::administers;
use crate::workspace::Role;

#[derive(Debug, Default, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: Option<String>,
}

/// The outcome (or refusal) on the Guests page when the person may see
/// that page; otherwise (a guest, a user) on a page of its own.
async fn answer(state: &AppState, shell: &Shell, outcome: Outcome, e: Option<AppError>) -> Response {
    match e {
        None if administers(shell.member()) => {
            people_page(state, shell, Cursor::default(), Some(Role::Guest), outcome).await
        }
        // A user may invite (as through the JSON route) but not see the
        // guest list: what was done, alone.
        None => shell.page(
            StatusCode::OK,
            "/app/guests",
            "Guests",
            &html::notice(outcome.notice.as_deref()),
        ),
        Some(AppError::Client { status, detail }) if administers(shell.member()) => {
            let outcome = Outcome {
                status: Some(status),
                error: Some(detail),
                ..outcome
            };
            people_page(state, shell, Cursor::default(), Some(Role::Guest), outcome).await
        }
        Some(e) => shell.refusal("/app/guests", e),
    }
}

/// `POST /app/guests/invite`: the invite form.
pub async fn invite(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    headers: HeaderMap,
    Form(form): Form<InviteForm>,
) -> Response {
    let shell = match Shell::load(&state, &me, &headers).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let name = form.name.clone().unwrap_or_default();
    match guests::invite_guest(&state, me, &form.email, form.name, "email").await {
        Ok((invited, delivered)) => {
            let mail = if delivered {
                "the invitation email is in the outbox"
            } else {
                "the invitation email could not be written yet: it stays pending and the next import run sends it"
            };
            let notice = format!(
                "Invited {} as a guest (username {}): {mail}.",
                invited.member.email, invited.username
            );
            let outcome = Outcome {
                notice: Some(notice),
                ..Outcome::default()
            };
            answer(&state, &shell, outcome, None).await
        }
        Err(e) => {
            let outcome = Outcome {
                email: form.email,
                name,
                ..Outcome::default()
            };
            answer(&state, &shell, outcome, Some(e)).await
        }
    }
}

/// `POST /app/guests/{id}/remove`: a guest's Remove button.
pub async fn remove(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Response {
    let shell = match Shell::load(&state, &me, &headers).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    match guests::remove_guest(&state, me, &raw).await {
        Ok(removed) => {
            let outcome = Outcome {
                notice: Some(format!(
                    "Removed {}: their access, sessions and API keys are gone.",
                    removed.email
                )),
                ..Outcome::default()
            };
            answer(&state, &shell, outcome, None).await
        }
        Err(e) => answer(&state, &shell, Outcome::default(), Some(e)).await,
    }
}
