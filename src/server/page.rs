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

use super::html::{self, escape};
use super::session::{self, SignedIn};
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
        return Ok(html::page(StatusCode::OK, "import", &upload_page(&signed_in)));
    }
    // Everyone else (users, guests) lands on what is shared with them.
    Ok(Redirect::to("/app/items").into_response())
}

fn upload_page(s: &SignedIn) -> String {
    format!(
        "<meta name=\"csrf-token\" content=\"{csrf}\">\n<p class=\"signed-in\">Signed in as {email} {logout}</p>\n{BODY}\
         <script src=\"/static/app.js\"></script>",
        csrf = escape(&s.csrf),
        email = escape(&s.session.member.email),
        logout = html::logout_form(&s.csrf),
    )
}

pub async fn app_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], APP_JS).into_response()
}

pub async fn app_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS).into_response()
}

const BODY: &str = r##"<h1>Import an export into the workspace</h1>
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

const APP_CSS: &str = r##"body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
fieldset { margin-bottom: 1rem; }
label { display: block; margin: .4rem 0; }
#report { width: 100%; height: 32rem; border: 1px solid #ccc; }
.error { color: #a00; white-space: pre-wrap; }
progress { width: 20rem; }
.inline { display: inline; }
.signed-in { float: right; }
"##;

const APP_JS: &str = r##""use strict";
const $ = (id) => document.getElementById(id);
let jobId = null;
let polls = 0;

// The session cookie is HttpOnly: the page proves itself with the
// session's CSRF token, which the server put in a meta tag.
function csrf() { return document.querySelector('meta[name="csrf-token"]').content; }

async function api(method, path, body) {
  const res = await fetch(path, { method, body, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" });
  let doc = null;
  try { doc = await res.json(); } catch (e) { doc = null; }
  if (!res.ok) {
    const detail = doc && doc.errors && doc.errors[0] ? doc.errors[0].detail : res.statusText;
    throw new Error(res.status + ": " + detail);
  }
  return doc;
}

function showError(e) { $("error").textContent = String(e.message || e); }

async function showReport() {
  // Loaded by URL (with the session cookie) into the sandboxed frame: the
  // report's own inline script runs under the report's policy, not ours.
  const frame = $("report");
  // Without ?format= (which makes it a download) the frame's own
  // `Accept: text/html` picks the HTML report.
  frame.src = "/api/v1/imports/" + jobId + "/report";
  frame.hidden = false;
  for (const f of ["json", "html", "csv"]) {
    $("dl-" + f).href = "/api/v1/imports/" + jobId + "/report?format=" + f;
  }
  $("downloads").hidden = false;
}

async function poll() {
  if (!jobId || polls++ > 3000) return;
  let doc;
  try { doc = await api("GET", "/api/v1/imports/" + jobId); } catch (e) { showError(e); return; }
  const a = doc.data.attributes;
  $("state").textContent = a.state;
  const p = a.progress || {};
  $("phase").textContent = p.phase ? p.phase + " " + (p.done || 0) + "/" + (p.total || 0) : "";
  $("progress").max = Math.max(1, p.total || 0);
  $("progress").value = p.done || 0;
  $("error").textContent = a.error || "";
  if (a.state === "planned") {
    await showReport();
    $("apply").hidden = false;
    $("apply").disabled = false;
    return;
  }
  if (a.state === "done") {
    $("progress").value = $("progress").max;
    await showReport();
    return;
  }
  if (a.state === "failed" && a.resumable) { $("apply").hidden = false; $("apply").disabled = false; return; }
  if (a.state === "failed" || a.state === "cancelled") return;
  setTimeout(poll, 300);
}

$("upload").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("error").textContent = "";
  const form = new FormData();
  for (const part of ["export", "sharing", "policy"]) {
    const f = $(part).files[0];
    if (f) form.append(part, f, f.name);
  }
  $("submit").disabled = true;
  try {
    const doc = await api("POST", "/api/v1/imports", form);
    jobId = doc.data.id;
    $("job-id").textContent = jobId;
    $("job").hidden = false;
    $("report").hidden = true;
    $("apply").hidden = true;
    polls = 0;
    poll();
  } catch (e) {
    $("job").hidden = false;
    showError(e);
  } finally {
    $("submit").disabled = false;
  }
});

$("apply").addEventListener("click", async () => {
  $("apply").disabled = true;
  try {
    await api("POST", "/api/v1/imports/" + jobId + "/apply");
    $("apply").hidden = true;
    polls = 0;
    poll();
  } catch (e) { showError(e); $("apply").disabled = false; }
});
"##;
