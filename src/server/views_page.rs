//! Server-rendered pages for a signed-in person: "My items" and "My teams"
//! (everyone, guests included), "Members" and "Guests" (admins).
//!
//! They render from [`Caller`], so they work with whichever way the member
//! route authenticated the request (the session cookie of a browser signed
//! in at `/login`, or an API key). Everything shown comes from an export or
//! a person (titles, usernames, URLs, names) and is escaped; a URL is a link
//! only when it is http or https. No script and no inline style (the
//! security headers' policy allows neither), and no secret value: "Show
//! password" links to the value route, which audits the read.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use super::auth::Caller;
use super::html::escape;
use super::member_views::Cursor;
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

fn page(status: StatusCode, me: &Member, title: &str, body: &str) -> Response {
    let mut nav = String::from(r#"<a href="/app/items">My items</a> · <a href="/app/teams">My teams</a>"#);
    if administers(me) {
        nav.push_str(r#" · <a href="/app/members">Members</a> · <a href="/app/guests">Guests</a>"#);
    }
    if me.role.may_import() {
        nav.push_str(r#" · <a href="/">Import</a>"#);
    }
    let body = format!(
        "<nav>{nav}</nav>\n<p>Signed in as {who} ({email}, {role})</p>\n<h1>{title}</h1>\n{body}",
        title = escape(title),
        who = escape(me.name.as_deref().unwrap_or(&me.email)),
        email = escape(&me.email),
        role = me.role.name(),
    );
    super::html::page(status, title, &body)
}

fn error_page(me: &Member, e: AppError) -> Response {
    match e {
        AppError::Client { status, detail } => {
            page(status, me, "Not available", &format!("<p>{}</p>", escape(&detail)))
        }
        internal => internal.into_response(),
    }
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

/// `GET /app/items`: accounts, secrets or collections, a page at a time.
pub async fn items(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Query(query): Query<ItemsQuery>,
) -> Response {
    let kind = query.kind.clone().unwrap_or_else(|| "accounts".into());
    let page_after = match query.cursor.checked() {
        Ok(p) => p,
        Err(e) => return error_page(&me, e),
    };
    let views = state.views.clone();
    let who = me.clone();
    let rendered = blocking(move || {
        let tabs = r#"<p><a href="/app/items?kind=accounts">Accounts</a> · <a href="/app/items?kind=secrets">Secrets</a> · <a href="/app/items?kind=collections">Collections</a></p>"#;
        let mut body = String::from(tabs);
        match kind.as_str() {
            "accounts" => {
                let rows = views.visible_accounts(&who, page_after)?;
                body.push_str("<table><tr><th>Name</th><th>Username</th><th>URL</th><th>Role</th><th></th></tr>");
                for a in &rows.rows {
                    let show = if a.role.is_some() {
                        format!(r#"<a href="/api/v1/me/accounts/{}/password">Show password</a>"#, a.id)
                    } else {
                        String::new()
                    };
                    body.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{show}</td></tr>",
                        escape(&a.name),
                        escape(a.username.as_deref().unwrap_or("")),
                        url_cell(a.url.as_deref()),
                        role_cell(a.role),
                    ));
                }
                body.push_str("</table>");
                let last = rows.rows.last().map(|a| a.id);
                body.push_str(&more_link("/app/items", "kind=accounts&amp;", page_after, rows.more, last));
            }
            "secrets" => {
                let rows = views.visible_secrets(&who, page_after)?;
                body.push_str("<table><tr><th>Title</th><th>Type</th><th>Role</th><th></th></tr>");
                for s in &rows.rows {
                    let show = if s.role.is_some() {
                        format!(r#"<a href="/api/v1/me/secrets/{}/value">Show value</a>"#, s.id)
                    } else {
                        String::new()
                    };
                    body.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{show}</td></tr>",
                        escape(&s.title),
                        escape(&s.secret_type),
                        role_cell(s.role),
                    ));
                }
                body.push_str("</table>");
                let last = rows.rows.last().map(|s| s.id);
                body.push_str(&more_link("/app/items", "kind=secrets&amp;", page_after, rows.more, last));
            }
            "collections" => {
                let rows = views.visible_collections(&who, page_after)?;
                body.push_str("<table><tr><th>Collection</th><th>Inside</th><th>Role</th></tr>");
                for c in &rows.rows {
                    body.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                        escape(&c.name),
                        c.parent.map(|p| format!("collection {p}")).unwrap_or_default(),
                        role_cell(c.role),
                    ));
                }
                body.push_str("</table>");
                let last = rows.rows.last().map(|c| c.id);
                body.push_str(&more_link("/app/items", "kind=collections&amp;", page_after, rows.more, last));
            }
            _ => {
                return Err(AppError::bad_request(
                    "kind must be accounts, secrets or collections",
                ))
            }
        }
        Ok(body)
    })
    .await;
    match rendered {
        Ok(body) => page(StatusCode::OK, &me, "My items", &body),
        Err(e) => error_page(&me, e),
    }
}

/// `GET /app/teams`: the teams the person is in.
pub async fn teams(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Query(cursor): Query<Cursor>,
) -> Response {
    let page_after = match cursor.checked() {
        Ok(p) => p,
        Err(e) => return error_page(&me, e),
    };
    let views = state.views.clone();
    let who = me.clone();
    let rows = match blocking(move || Ok(views.member_teams(&who, page_after)?)).await {
        Ok(r) => r,
        Err(e) => return error_page(&me, e),
    };
    let mut body = String::from("<table><tr><th>Team</th><th>Members</th></tr>");
    for t in &rows.rows {
        body.push_str(&format!("<tr><td>{}</td><td>{}</td></tr>", escape(&t.name), t.members));
    }
    body.push_str("</table>");
    body.push_str(&more_link(
        "/app/teams",
        "",
        page_after,
        rows.more,
        rows.rows.last().map(|t| t.id),
    ));
    page(StatusCode::OK, &me, "My teams", &body)
}

async fn people_page(state: AppState, me: Member, cursor: Cursor, role: Option<Role>) -> Response {
    let (title, path) = match role {
        Some(_) => ("Guests", "/app/guests"),
        None => ("Members", "/app/members"),
    };
    if !administers(&me) {
        let detail = format!(
            "{} is a member with the role {}: only the workspace owner, super admins and admins see this page",
            me.email,
            me.role.name()
        );
        return error_page(&me, AppError::new(StatusCode::FORBIDDEN, detail));
    }
    let page_after = match cursor.checked() {
        Ok(p) => p,
        Err(e) => return error_page(&me, e),
    };
    let views = state.views.clone();
    let rows = match blocking(move || Ok(views.people(role, page_after)?)).await {
        Ok(r) => r,
        Err(e) => return error_page(&me, e),
    };
    let mut body =
        String::from("<table><tr><th>Email</th><th>Name</th><th>Role</th><th>State</th><th>Local partner</th></tr>");
    for p in &rows.rows {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&p.member.email),
            escape(p.member.name.as_deref().unwrap_or("")),
            p.member.role.name(),
            escape(&format!("{:?}", p.member.state).to_lowercase()),
            escape(p.partner.as_deref().unwrap_or("")),
        ));
    }
    body.push_str("</table>");
    body.push_str(&more_link(
        path,
        "",
        page_after,
        rows.more,
        rows.rows.last().map(|p| p.member.id),
    ));
    page(StatusCode::OK, &me, title, &body)
}

/// `GET /app/members`: everyone, for admins.
pub async fn members(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Query(cursor): Query<Cursor>,
) -> Response {
    people_page(state, me, cursor, None).await
}

/// `GET /app/guests`: the guests, for admins.
pub async fn guests(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Query(cursor): Query<Cursor>,
) -> Response {
    people_page(state, me, cursor, Some(Role::Guest)).await
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
