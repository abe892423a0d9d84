//! The upload page: one server-rendered HTML page, no front-end build. A
//! little inline script sends the files to the jobs API, polls the job,
//! shows the dry-run report (the same HTML report `plan --report` writes),
//! and applies on request.
//!
//! The report runs in a sandboxed frame (scripts, no same origin): its
//! own script lists items, and cannot reach the page's cookie or API.
//!
//! The API key is typed once and kept in a `SameSite=Strict` cookie, which
//! the API accepts besides `X-API-Key` so the report download links work.

use axum::response::Html;

pub async fn index() -> Html<&'static str> {
    Html(PAGE)
}

const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vaultferry — import</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
fieldset { margin-bottom: 1rem; }
label { display: block; margin: .4rem 0; }
#report { width: 100%; height: 32rem; border: 1px solid #ccc; }
.error { color: #a00; white-space: pre-wrap; }
progress { width: 20rem; }
</style>
</head>
<body>
<h1>Import an export into the workspace</h1>
<form id="upload">
<fieldset>
<legend>Your API key</legend>
<label>API key (an owner, super admin or admin; <code>vaultferry apikey create</code>)
<input id="apikey" type="password" autocomplete="off" size="70"></label>
</fieldset>
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
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let jobId = null;
let polls = 0;

function key() { return $("apikey").value.trim(); }

function saveKey() {
  document.cookie = "vaultferry_key=" + encodeURIComponent(key()) + "; path=/; SameSite=Strict";
}

async function api(method, path, body) {
  const res = await fetch(path, { method, body, headers: { "X-API-Key": key() }, credentials: "same-origin" });
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
  const res = await fetch("/api/v1/imports/" + jobId + "/report", { headers: { "X-API-Key": key(), "Accept": "text/html" } });
  if (!res.ok) return;
  const frame = $("report");
  frame.srcdoc = await res.text();
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
  saveKey();
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
</script>
</body>
</html>
"##;
