"use strict";
// The importer page's script (only the upload page loads it; the guard
// below keeps it harmless on a page without the upload form).
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

if ($("upload")) {
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
}
