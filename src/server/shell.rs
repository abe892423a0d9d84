//! The frame of every signed-in page: a header with the workspace's name,
//! the nav (what the person may open: their items and teams; for admins
//! the members, the guests and the importer), who is signed in, and the
//! sign-out button.
//!
//! The app pages render from [`super::auth::Caller`], which says who but
//! not which session. The sign-out form needs the session's CSRF token;
//! it is derived from the cookie (see [`super::session::csrf_token`]), so
//! it is computed here from the cookie the auth layer already accepted. A
//! request made with an API key has no session to end: no button.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::auth::key_from;
use super::html::{self, escape};
use super::session::{cookie_token, csrf_token};
use super::{blocking, AppError, AppState};
use crate::workspace::views::administers;
use crate::workspace::Member;

/// What the header shows, for one request.
#[derive(Clone, Debug)]
pub struct Shell {
    workspace: String,
    me: Member,
    csrf: Option<String>,
}

impl Shell {
    /// The shell for a request the auth layer let through as `me`.
    pub async fn load(state: &AppState, me: &Member, headers: &HeaderMap) -> Result<Shell, AppError> {
        let csrf = match key_from(headers) {
            Some(_) => None,
            None => cookie_token(headers).map(|t| csrf_token(&t)),
        };
        Ok(Shell::new(workspace_name(state).await?, me.clone(), csrf))
    }

    pub fn new(workspace: String, me: Member, csrf: Option<String>) -> Shell {
        Shell { workspace, me, csrf }
    }

    pub fn member(&self) -> &Member {
        &self.me
    }

    /// The hidden CSRF field for a form on this page (empty under an API
    /// key: no cookie, so no token is needed).
    pub fn csrf_field(&self) -> String {
        self.csrf.as_deref().map(html::csrf_field).unwrap_or_default()
    }

    fn header(&self, current: &str) -> String {
        let mut links = vec![("/app/items", "My items"), ("/app/teams", "My teams")];
        if administers(&self.me) {
            links.push(("/app/members", "Members"));
            links.push(("/app/guests", "Guests"));
        }
        if self.me.role.may_import() {
            links.push(("/", "Import"));
        }
        let nav: String = links
            .iter()
            .map(|(href, label)| {
                let here = if *href == current { " aria-current=\"page\"" } else { "" };
                format!("<li><a href=\"{href}\"{here}>{label}</a></li>")
            })
            .collect();
        let logout = self.csrf.as_deref().map(html::logout_form).unwrap_or_default();
        format!(
            "<header class=\"bar\"><div class=\"bar-inner\">\
             <span class=\"brand\">{workspace}<small>vaultferry</small></span>\
             <nav aria-label=\"Main\"><ul class=\"nav\">{nav}</ul></nav>\
             <span class=\"who\">Signed in as {who} ({email}, {role}){logout}</span>\
             </div></header>",
            workspace = escape(&self.workspace),
            who = escape(self.me.name.as_deref().unwrap_or(&self.me.email)),
            email = escape(&self.me.email),
            role = self.me.role.name(),
        )
    }

    /// A signed-in page: `current` is the nav entry it belongs to, `body`
    /// trusted HTML (callers escape what they insert).
    pub fn page(&self, status: StatusCode, current: &str, title: &str, body: &str) -> Response {
        let body = format!(
            "{header}\n<main>\n<h1>{title}</h1>\n{body}\n</main>",
            header = self.header(current),
            title = escape(title),
        );
        html::document(status, title, &body)
    }

    /// A refusal (or other client error) as a page in the shell; an
    /// internal error stays the logged, detail-free JSON answer.
    pub fn refusal(&self, current: &str, e: AppError) -> Response {
        match e {
            AppError::Client { status, detail } => self.page(
                status,
                current,
                "Not available",
                &format!("<p class=\"error\" role=\"alert\">{}</p>", escape(&detail)),
            ),
            internal => internal.into_response(),
        }
    }
}

/// The workspace's name, as the header shows it.
pub async fn workspace_name(state: &AppState) -> Result<String, AppError> {
    let identity = state.identity.clone();
    blocking(move || Ok(identity.workspace_info()?.name)).await
}
