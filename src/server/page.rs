//! The pages at `/`: for an importer (owner, super admin, admin) the
//! upload page, one server-rendered HTML page with no front-end build; for
//! any other member a minimal signed-in page; without a session, the way
//! to `/login`. The page's script (`/static/app.js`, never inline: the
//! content security policy forbids inline script) sends the files to the
//! jobs API with the session cookie and its CSRF token, polls the job,
//! shows the dry-run report (the same HTML report `plan --report` writes),
//! and applies on request.
//!
//! The report runs in a sandboxed frame (scripts, no same origin): its
//! own script lists items, and cannot reach the page's cookie or API.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::html::escape;
use super::session::{self, SignedIn};
use super::shell::Shell;
use super::{AppError, AppState};

pub async fn index(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let Some(signed_in) = session::current(&state, &headers).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    if let Some(step) = signed_in.session.pending {
        return Ok(Redirect::to(session::step_page(step)).into_response());
    }
    let m = &signed_in.session.member;
    if m.role.may_import() && m.state == crate::workspace::MemberState::Active {
        let workspace = super::shell::workspace_name(&state).await?;
        let shell = Shell::new(workspace, m.clone(), Some(signed_in.csrf.clone()));
        return Ok(shell.page(StatusCode::OK, "/", "Import", &upload_page(&signed_in)));
    }
    // Everyone else (users, guests) lands on what is shared with them.
    Ok(Redirect::to("/app/items").into_response())
}

fn upload_page(s: &SignedIn) -> String {
    format!(
        "<meta name=\"csrf-token\" content=\"{csrf}\">\n{BODY}<script src=\"/static/app.js\"></script>",
        csrf = escape(&s.csrf),
    )
}

pub async fn app_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], APP_JS).into_response()
}

pub async fn app_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS).into_response()
}

const BODY: &str = r##"<p class="hint">Upload an export: vaultferry plans the import and shows the dry-run report; nothing is written until you apply it.</p>
<form id="upload">
<fieldset>
<legend>Files</legend>
<label>Export (LastPass CSV, 1PUX, 1PIF or 1Password CSV) <input id="export" name="export" type="file" required></label>
<label>Sharing file (optional) <input id="sharing" name="sharing" type="file"></label>
<label>Policy, vaultferry.toml (optional) <input id="policy" name="policy" type="file"></label>
</fieldset>
<button id="submit" type="submit">Upload and plan</button>
</form>
<section id="job" hidden>
<h2>Import <span id="job-id"></span></h2>
<p>State: <strong id="state">queued</strong> <progress id="progress" max="1" value="0"></progress> <span id="phase"></span></p>
<p id="error" class="error"></p>
<p><button id="apply" type="button" hidden>Apply</button></p>
<p id="downloads" hidden>Reports:
 <a id="dl-json" href="#">JSON</a> · <a id="dl-html" href="#">HTML</a> · <a id="dl-csv" href="#">unmatched users (CSV)</a></p>
<iframe id="report" title="Dry-run report" sandbox="allow-scripts" hidden></iframe>
</section>
"##;

/// The stylesheet of every page.
const APP_CSS: &str = include_str!("static/app.css");

/// The upload page's script.
const APP_JS: &str = include_str!("static/app.js");
