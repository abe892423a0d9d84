//! Server-rendered pages for a signed-in person: "My items" and "My teams"
//! (everyone, guests included), "Members" and "Guests" (admins).
//!
//! They render from [`Caller`], so they work with whichever way the member
//! route authenticated the request (the session cookie of a browser signed
//! in at `/login`, or an API key). Everything shown comes from an export or
//! a person (titles, usernames, URLs, names) and is escaped; a URL is a link
//! only when it is http or https. No script and no inline style (the
//! security headers' policy allows neither), and no secret value: "Show
//! password" opens the value page ([`super::value_page`]), which audits
//! the read. Every page is framed by [`Shell`].

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;

use super::auth::Caller;
use super::html::{self, escape};
use super::member_views::Cursor;
use super::shell::Shell;
use super::{blocking, AppError, AppState};
use crate::workspace::views::{administers, PageAfter};
use crate::workspace::{ItemRole, Member, Role};

/// A link for an http(s) URL; any other scheme (`javascript:`, `data:`…)
/// is shown as text only.
fn url_cell(url: Option<&str>) -> String {
    match url.map(str::trim) {
        Some(u) if u.to_ascii_lowercase().starts_with("https://") || u.to_ascii_lowercase().starts_with("http://") => {
            format!(r#"<a href="{0}" rel="noopener noreferrer">{0}</a>"#, escape(u))
        }
        Some(u) => escape(u),
        None => String::new(),
    }
}

fn role_cell(role: Option<ItemRole>) -> &'static str {
    role.map(ItemRole::name).unwrap_or("(admin: no role)")
}

/// The shell for this request, or the (internal) error that kept it from
/// loading, as the answer.
async fn shell(state: &AppState, me: &Member, headers: &HeaderMap) -> Result<Shell, Response> {
    Shell::load(state, me, headers)
        .await
        .map_err(axum::response::IntoResponse::into_response)
}

fn more_link(path: &str, extra: &str, page: PageAfter, more: bool, last: Option<i64>) -> String {
    match (more, last) {
        (true, Some(id)) => format!(
            r#"<p><a href="{path}?{extra}page[size]={}&amp;page[after]={id}">Next page</a></p>"#,
            page.size
        ),
        _ => String::new(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ItemsQuery {
    kind: Option<String>,
    #[serde(flatten)]
    cursor: Cursor,
}

/// The three kinds of item, as tabs; `current` is marked.
fn tabs(current: &str) -> String {
    let tab = |kind: &str, label: &str| {
        let here = if kind == current { r#" aria-current="page""# } else { "" };
        format!(r#"<li><a href="/app/items?kind={kind}"{here}>{label}</a></li>"#)
    };
    format!(
        r#"<ul class="tabs">{}{}{}</ul>"#,
        tab("accounts", "Accounts"),
        tab("secrets", "Secrets"),
        tab("collections", "Collections")
    )
}

/// A table, or a line saying there is nothing to list.
fn table(head: &str, rows: &str, empty: &str) -> String {
    if rows.is_empty() {
        format!(r#"<p class="empty">{empty}</p>"#)
    } else {
        format!("<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    }
}

/// `GET /app/items`: accounts, secrets or collections, a page at a time.
pub async fn items(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    headers: HeaderMap,
    Query(query): Query<ItemsQuery>,
) -> Response {
    let shell = match shell(&state, &me, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let kind = query.kind.clone().unwrap_or_else(|| "accounts".into());
    let page_after = match query.cursor.checked() {
        Ok(p) => p,
        Err(e) => return shell.refusal("/app/items", e),
    };
    let views = state.views.clone();
    let who = me.clone();
    let rendered = blocking(move || {
        let mut body = tabs(&kind);
        let mut rows = String::new();
        match kind.as_str() {
            "accounts" => {
                let page = views.visible_accounts(&who, page_after)?;
                for a in &page.rows {
                    let show = if a.role.is_some() {
                        format!(r#"<a href="/app/accounts/{}/password">Show password</a>"#, a.id)
                    } else {
                        String::new()
                    };
                    rows.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{show}</td></tr>",
                        escape(&a.name),
                        escape(a.username.as_deref().unwrap_or("")),
                        url_cell(a.url.as_deref()),
                        role_cell(a.role),
                    ));
                }
                body.push_str(&table(
                    "<th>Name</th><th>Username</th><th>URL</th><th>Role</th><th></th>",
                    &rows,
                    "No accounts are shared with you.",
                ));
                let last = page.rows.last().map(|a| a.id);
                body.push_str(&more_link(
                    "/app/items",
                    "kind=accounts&amp;",
                    page_after,
                    page.more,
                    last,
                ));
            }
            "secrets" => {
                let page = views.visible_secrets(&who, page_after)?;
                for s in &page.rows {
                    let show = if s.role.is_some() {
                        format!(r#"<a href="/app/secrets/{}/value">Show value</a>"#, s.id)
                    } else {
                        String::new()
                    };
                    rows.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{show}</td></tr>",
                        escape(&s.title),
                        escape(&s.secret_type),
                        role_cell(s.role),
                    ));
                }
                body.push_str(&table(
                    "<th>Title</th><th>Type</th><th>Role</th><th></th>",
                    &rows,
                    "No secrets are shared with you.",
                ));
                let last = page.rows.last().map(|s| s.id);
                body.push_str(&more_link(
                    "/app/items",
                    "kind=secrets&amp;",
                    page_after,
                    page.more,
                    last,
                ));
            }
            "collections" => {
                let page = views.visible_collections(&who, page_after)?;
                for c in &page.rows {
                    rows.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                        escape(&c.name),
                        c.parent.map(|p| format!("collection {p}")).unwrap_or_default(),
                        role_cell(c.role),
                    ));
                }
                body.push_str(&table(
                    "<th>Collection</th><th>Inside</th><th>Role</th>",
                    &rows,
                    "No collections are shared with you.",
                ));
                let last = page.rows.last().map(|c| c.id);
                body.push_str(&more_link(
                    "/app/items",
                    "kind=collections&amp;",
                    page_after,
                    page.more,
                    last,
                ));
            }
            _ => return Err(AppError::bad_request("kind must be accounts, secrets or collections")),
        }
        Ok(body)
    })
    .await;
    match rendered {
        Ok(body) => shell.page(StatusCode::OK, "/app/items", "My items", &body),
        Err(e) => shell.refusal("/app/items", e),
    }
}

/// `GET /app/teams`: the teams the person is in.
pub async fn teams(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    headers: HeaderMap,
    Query(cursor): Query<Cursor>,
) -> Response {
    let shell = match shell(&state, &me, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let page_after = match cursor.checked() {
        Ok(p) => p,
        Err(e) => return shell.refusal("/app/teams", e),
    };
    let views = state.views.clone();
    let who = me.clone();
    let page = match blocking(move || Ok(views.member_teams(&who, page_after)?)).await {
        Ok(r) => r,
        Err(e) => return shell.refusal("/app/teams", e),
    };
    let rows: String = page
        .rows
        .iter()
        .map(|t| format!("<tr><td>{}</td><td>{}</td></tr>", escape(&t.name), t.members))
        .collect();
    let mut body = table("<th>Team</th><th>Members</th>", &rows, "You are in no team.");
    body.push_str(&more_link(
        "/app/teams",
        "",
        page_after,
        page.more,
        page.rows.last().map(|t| t.id),
    ));
    shell.page(StatusCode::OK, "/app/teams", "My teams", &body)
}

/// What a Guests page shows above the list after one of its forms: what
/// was done, or why not (with what was typed, to correct it).
#[derive(Debug, Default)]
pub struct Outcome {
    pub status: Option<StatusCode>,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub email: String,
    pub name: String,
}

/// The admin-only 403 of the Members and Guests pages.
fn admins_only(me: &Member) -> AppError {
    AppError::new(
        StatusCode::FORBIDDEN,
        format!(
            "{} is a member with the role {}: only the workspace owner, super admins and admins see this page",
            me.email,
            me.role.name()
        ),
    )
}

/// The invite form of the Guests page.
fn invite_form(shell: &Shell, outcome: &Outcome) -> String {
    format!(
        r#"<h2>Invite a guest</h2>
<form method="post" action="/app/guests/invite" id="invite">{csrf}
<div class="row">
<label>Email <input name="email" type="email" required autocomplete="off" value="{email}"></label>
<label>Name (optional) <input name="name" type="text" autocomplete="off" value="{name}"></label>
<button type="submit" id="invite-submit">Invite</button>
</div>
<p class="hint">The guest gets an email (written to the server's outbox) with a username, a temporary password and the link to join. Company addresses are members, never guests.</p>
</form>"#,
        csrf = shell.csrf_field(),
        email = escape(&outcome.email),
        name = escape(&outcome.name),
    )
}

/// The Members or Guests page (`role` `Some(Guest)`), with the result of a
/// form of the Guests page when there was one.
pub async fn people_page(
    state: &AppState,
    shell: &Shell,
    cursor: Cursor,
    role: Option<Role>,
    outcome: Outcome,
) -> Response {
    let me = shell.member().clone();
    let guests = role == Some(Role::Guest);
    let (title, path) = if guests {
        ("Guests", "/app/guests")
    } else {
        ("Members", "/app/members")
    };
    if !administers(&me) {
        return shell.refusal(path, admins_only(&me));
    }
    let page_after = match cursor.checked() {
        Ok(p) => p,
        Err(e) => return shell.refusal(path, e),
    };
    let views = state.views.clone();
    let page = match blocking(move || Ok(views.people(role, page_after)?)).await {
        Ok(r) => r,
        Err(e) => return shell.refusal(path, e),
    };
    let mut rows = String::new();
    for p in &page.rows {
        let state_name = format!("{:?}", p.member.state).to_lowercase();
        let action = if guests && p.member.state != crate::workspace::MemberState::Removed {
            format!(
                r#"<form method="post" action="/app/guests/{id}/remove">{csrf}<button type="submit" class="danger" aria-label="Remove {email}">Remove</button></form>"#,
                id = p.member.id,
                csrf = shell.csrf_field(),
                email = escape(&p.member.email),
            )
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}</tr>",
            escape(&p.member.email),
            escape(p.member.name.as_deref().unwrap_or("")),
            p.member.role.name(),
            escape(&state_name),
            escape(p.partner.as_deref().unwrap_or("")),
            if guests {
                format!("<td>{action}</td>")
            } else {
                String::new()
            },
        ));
    }
    let head = format!(
        "<th>Email</th><th>Name</th><th>Role</th><th>State</th><th>Local partner</th>{}",
        if guests { "<th></th>" } else { "" }
    );
    let mut body = html::notice(outcome.notice.as_deref());
    body.push_str(&html::error(outcome.error.as_deref()));
    if guests {
        body.push_str(&invite_form(shell, &outcome));
        body.push_str("<h2>Guests</h2>");
    }
    body.push_str(&table(
        &head,
        &rows,
        if guests { "No guests yet." } else { "No members yet." },
    ));
    body.push_str(&more_link(
        path,
        "",
        page_after,
        page.more,
        page.rows.last().map(|p| p.member.id),
    ));
    shell.page(outcome.status.unwrap_or(StatusCode::OK), path, title, &body)
}

/// `GET /app/members`: everyone, for admins.
pub async fn members(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    headers: HeaderMap,
    Query(cursor): Query<Cursor>,
) -> Response {
    match shell(&state, &me, &headers).await {
        Ok(shell) => people_page(&state, &shell, cursor, None, Outcome::default()).await,
        Err(r) => r,
    }
}

/// `GET /app/guests`: the guests, for admins, with the invite form and a
/// Remove button per guest.
pub async fn guests(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    headers: HeaderMap,
    Query(cursor): Query<Cursor>,
) -> Response {
    match shell(&state, &me, &headers).await {
        Ok(shell) => people_page(&state, &shell, cursor, Some(Role::Guest), Outcome::default()).await,
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_urls_are_shown_as_text() {
        assert_eq!(url_cell(Some("javascript:alert(1)")), "javascript:alert(1)");
        assert_eq!(url_cell(Some(" JavaScript:x")), "JavaScript:x");
        assert_eq!(
            url_cell(Some(r#"https://a.example/?q="><script>"#)),
            r#"<a href="https://a.example/?q=&quot;&gt;&lt;script&gt;" rel="noopener noreferrer">https://a.example/?q=&quot;&gt;&lt;script&gt;</a>"#
        );
    }
}
