//! Helpers for end-to-end tests that drive the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod webdriver;

/// What one run of the binary produced.
pub struct Run {
    pub command: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the whole run shown unless it exited with `code`.
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(self.code, code, "unexpected exit status\n{}", self.describe());
        self
    }

    pub fn success(self) -> Run {
        self.expect_code(0)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", self.describe()))
    }

    pub fn describe(&self) -> String {
        format!(
            "command: {}\nexit: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// The repository root (where Cargo.toml is).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under `samples/`.
pub fn sample(rel: &str) -> PathBuf {
    root().join("samples").join(rel)
}

/// Runs `vaultferry ARGS` in `cwd` with a clean environment.
pub fn vaultferry_in(cwd: &Path, args: &[&str]) -> Run {
    run_in(cwd, args, &[])
}

fn run_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vaultferry"));
    command
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("run vaultferry");
    let shown_env: String = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    Run {
        command: format!("{shown_env}vaultferry {}", args.join(" ")),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `vaultferry ARGS` from the repository root.
pub fn vaultferry(args: &[&str]) -> Run {
    vaultferry_in(&root(), args)
}

/// Fails if any of `secrets` appears in `text`; `what` names the output.
pub fn assert_no_secrets(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        if s.len() >= 4 {
            assert!(
                !text.contains(s.as_str()),
                "secret value {s:?} leaked into {what}:\n{text}"
            );
        }
    }
}

/// The secret values in an `inspect --json --reveal` document: passwords,
/// TOTPs, concealed fields, password history and attachment contents.
pub fn secrets_in_revealed(json: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for e in json["entries"].as_array().into_iter().flatten() {
        for key in ["password", "totp"] {
            if let Some(s) = e[key].as_str() {
                out.push(s.to_owned());
            }
        }
        for f in e["fields"].as_array().into_iter().flatten() {
            if f["concealed"] == true {
                if let Some(s) = f["value"].as_str() {
                    out.push(s.to_owned());
                }
            }
        }
        for h in e["password_history"].as_array().into_iter().flatten() {
            if let Some(s) = h["value"].as_str() {
                out.push(s.to_owned());
            }
        }
        for a in e["attachments"].as_array().into_iter().flatten() {
            if let Some(s) = a["content"].as_str() {
                out.push(s.to_owned());
            }
        }
    }
    out.retain(|s| s.trim().len() >= 4 && s != "[redacted]");
    out
}

/// A sample export and its sharing file, under `samples/`.
pub struct Source {
    pub export: &'static str,
    pub sharing: &'static str,
}

pub const LASTPASS: Source = Source {
    export: "lastpass/company.csv",
    sharing: "lastpass/sharing-getdetailedsfdata.json",
};

pub const ONEPASSWORD: Source = Source {
    export: "onepassword/company.1pux",
    sharing: "onepassword/permissions.json",
};

/// A fresh workspace database in `dir`, seeded with the sample company
/// through the real `workspace init`.
pub fn northwind_db(dir: &Path) -> PathBuf {
    seeded_db(&dir.join("northwind.db"), &sample("workspace.toml"))
}

/// A fresh workspace database at `db`, seeded from `seed` through the real
/// `workspace init`.
pub fn seeded_db(db: &Path, seed: &Path) -> PathBuf {
    vaultferry(&[
        "workspace",
        "init",
        "--db",
        db.to_str().unwrap(),
        "--seed",
        seed.to_str().unwrap(),
    ])
    .success();
    db.to_path_buf()
}

/// The workspace with ids and times replaced by what they refer to, and
/// secret values revealed (so a lost or changed password shows up): two
/// runs that should end in the same workspace compare equal through it.
pub fn canonical(s: &vaultferry::workspace::Snapshot) -> serde_json::Value {
    let coll: std::collections::BTreeMap<i64, String> = s
        .collections
        .iter()
        .map(|c| {
            (
                c.id,
                c.import_key
                    .as_ref()
                    .map_or(format!("#{}", c.name), |k| k.0.to_string()),
            )
        })
        .collect();
    let member: std::collections::BTreeMap<i64, String> = s.members.iter().map(|m| (m.id, m.email.clone())).collect();
    let team: std::collections::BTreeMap<i64, String> = s.teams.iter().map(|t| (t.id, t.name.clone())).collect();
    let account: std::collections::BTreeMap<i64, String> = s
        .accounts
        .iter()
        .map(|a| (a.id, format!("{:?}", a.import.import_key)))
        .collect();
    let secret: std::collections::BTreeMap<i64, String> = s
        .secrets
        .iter()
        .map(|x| (x.id, format!("{:?}", x.import.import_key)))
        .collect();
    let c = |id: Option<i64>| id.and_then(|i| coll.get(&i).cloned());
    let sorted = |mut v: Vec<serde_json::Value>| {
        v.sort_by_key(|v| v.to_string());
        v
    };
    vaultferry::secret::reveal(|| {
        let grants = s
            .grants
            .iter()
            .map(|g| {
                let target = match g.target {
                    vaultferry::workspace::GrantTarget::Collection(i) => coll.get(&i).cloned(),
                    vaultferry::workspace::GrantTarget::Account(i) => account.get(&i).cloned(),
                    vaultferry::workspace::GrantTarget::Secret(i) => secret.get(&i).cloned(),
                };
                let grantee = match g.grantee {
                    vaultferry::workspace::Grantee::Member(i) => member.get(&i).cloned(),
                    vaultferry::workspace::Grantee::Team(i) => team.get(&i).cloned(),
                    vaultferry::workspace::Grantee::Partner(i) => Some(format!("partner {i}")),
                    vaultferry::workspace::Grantee::Partnership(i) => Some(format!("partnership {i}")),
                };
                serde_json::json!([target, grantee, g.role, g.import_key])
            })
            .collect();
        let items = |v: Vec<serde_json::Value>, cols: Vec<Option<i64>>| {
            v.into_iter()
                .zip(cols)
                .map(|(mut v, col)| {
                    v["id"] = serde_json::json!(0);
                    v["collection"] = serde_json::json!(c(col));
                    v
                })
                .collect::<Vec<_>>()
        };
        let accounts = items(
            s.accounts.iter().map(|a| serde_json::to_value(a).unwrap()).collect(),
            s.accounts.iter().map(|a| a.collection).collect(),
        );
        let secrets = items(
            s.secrets.iter().map(|x| serde_json::to_value(x).unwrap()).collect(),
            s.secrets.iter().map(|x| x.collection).collect(),
        );
        let collections = s
            .collections
            .iter()
            .map(|x| serde_json::json!([x.name, x.import_key, c(x.parent)]))
            .collect();
        let members = s
            .members
            .iter()
            .map(|m| serde_json::json!([m.email, m.role, m.state]))
            .collect();
        let teams = s
            .teams
            .iter()
            .map(|t| {
                let mut m: Vec<&String> = t.members.iter().filter_map(|i| member.get(i)).collect();
                m.sort();
                serde_json::json!([t.name, m])
            })
            .collect();
        let partners = s
            .partners
            .iter()
            .map(|p| {
                let mut a: Vec<&String> = p.guest_admins.iter().filter_map(|i| member.get(i)).collect();
                let mut u: Vec<&String> = p.guest_users.iter().filter_map(|i| member.get(i)).collect();
                a.sort();
                u.sort();
                serde_json::json!([p.name, a, u])
            })
            .collect();
        let invitations = s
            .invitations
            .iter()
            .map(|i| serde_json::json!([i.email, i.username, i.state, i.import_key, member.get(&i.member)]))
            .collect();
        serde_json::json!({
            "collections": sorted(collections), "accounts": sorted(accounts), "secrets": sorted(secrets),
            "grants": sorted(grants), "members": sorted(members), "teams": sorted(teams),
            "partners": sorted(partners), "invitations": sorted(invitations),
        })
    })
}

/// [`vaultferry`] with extra environment variables.
pub fn vaultferry_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    run_in(&root(), args, env)
}

/// Turns a workspace this build filled into the one the build before exact
/// keys would have left: every LastPass collection under its legacy key
/// (`Shared-` dropped, segments unescaped), the grant keys that hold it,
/// and each item's stored hash and intact flag as that build wrote them.
pub fn key_the_old_way(db: &Path) {
    use vaultferry::mapper::legacy_collection_key;
    use vaultferry::model::SourceKind;
    let ws = vaultferry::workspace::open_sqlite(db).unwrap();
    let mut snap = ws.snapshot().unwrap();
    drop(ws);
    let conn = rusqlite::Connection::open(db).unwrap();
    for c in &mut snap.collections {
        let Some(key) = c.import_key.clone() else { continue };
        let Some(path) = key.as_str().strip_prefix("collection:lastpass:") else {
            continue;
        };
        // A personal folder's key names its owner first.
        let path = match path.strip_prefix("personal:").and_then(|p| p.split_once(':')) {
            Some((_owner, path)) => path,
            None => path,
        };
        let path: Vec<String> = path
            .split('/')
            .map(|s| s.replace("%2F", "/").replace("%3A", ":").replace("%25", "%"))
            .collect();
        let old = legacy_collection_key(SourceKind::LastpassCsv, &path);
        conn.execute(
            "UPDATE collections SET import_key = ?1 WHERE id = ?2",
            rusqlite::params![old.as_str(), c.id],
        )
        .unwrap();
        rekey_as_written(&conn, key.as_str(), old.as_str());
        c.import_key = Some(old);
    }
    for a in &snap.accounts {
        let hash = vaultferry::diff::workspace_account_hash(a, &snap);
        conn.execute(
            "UPDATE accounts SET imported_hash = ?1, imported_intact = 1 WHERE id = ?2",
            rusqlite::params![hash, a.id],
        )
        .unwrap();
    }
    for s in &snap.secrets {
        let hash = vaultferry::diff::workspace_secret_hash(s, &snap);
        conn.execute(
            "UPDATE secrets SET imported_hash = ?1, imported_intact = 1 WHERE id = ?2",
            rusqlite::params![hash, s.id],
        )
        .unwrap();
    }
}

/// A collection's key, the grants on it and the journal rows that name
/// them, renamed from `new` to `old` as the earlier build wrote them.
pub fn rekey_as_written(conn: &rusqlite::Connection, new: &str, old: &str) {
    conn.execute(
        "UPDATE run_journal SET import_key = ?2 WHERE import_key = ?1",
        rusqlite::params![new, old],
    )
    .unwrap();
    for table in ["grants", "run_journal"] {
        conn.execute(
            &format!(
                "UPDATE {table} SET import_key = ?2 || substr(import_key, length(?1) + 1)
                 WHERE substr(import_key, 1, length(?1)) = ?1"
            ),
            rusqlite::params![format!("grant:{new}->"), format!("grant:{old}->")],
        )
        .unwrap();
    }
}

/// `../shared/fixtures/pass-import` (or `$VAULTFERRY_FIXTURES/pass-import`):
/// real exports from other projects, not in this repository. Absent, the
/// tests over them are skipped with a line on stderr, unless
/// `VAULTFERRY_REQUIRE_FIXTURES=1` (set by `.ci/run`), which makes their
/// absence a failure so CI never passes without running them.
pub fn pass_import_fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("VAULTFERRY_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/fixtures"))
        .join("pass-import");
    if dir.join("expected-main.yml").is_file() {
        return Some(dir);
    }
    if std::env::var_os("VAULTFERRY_REQUIRE_FIXTURES").is_some_and(|v| v == "1") {
        panic!(
            "VAULTFERRY_REQUIRE_FIXTURES=1 but {} holds no expected-main.yml: put the shared fixtures \
             beside the repository or point VAULTFERRY_FIXTURES at them",
            dir.display()
        );
    }
    eprintln!("skipped: no pass-import fixtures at {}", dir.display());
    None
}

/// One item as the HTML report's script lists it.
#[derive(Debug)]
pub struct HtmlItem {
    pub collection: String,
    pub action: String,
    pub item_type: String,
    pub name: String,
}

/// Reads the items an HTML report carries the way its script does: each
/// `<details data-b data-i>` names a collection of a deflated,
/// base64-encoded JSON block, decoded with the legend's actions and types.
pub fn html_items(html: &str) -> Vec<HtmlItem> {
    use base64::Engine as _;
    use std::io::Read as _;
    let between = |s: &str, open: &str, close: &str| -> Option<String> {
        let start = s.find(open)? + open.len();
        Some(s[start..].split(close).next()?.to_owned())
    };
    let legend: serde_json::Value = serde_json::from_str(
        &between(html, "<script type=\"application/json\" id=\"legend\">", "</script>").expect("legend"),
    )
    .unwrap();
    let mut blocks = Vec::new();
    for n in 0.. {
        let Some(b64) = between(
            html,
            &format!("<script type=\"application/x-vaultferry-items\" id=\"b{n}\">"),
            "</script>",
        ) else {
            break;
        };
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim()).unwrap();
        let mut text = String::new();
        flate2::read::ZlibDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        blocks.push(serde_json::from_str::<serde_json::Value>(&text).unwrap());
    }
    // Collections nest: a stack of the open ones' names gives each its path.
    let mut items = Vec::new();
    let mut open: Vec<Option<String>> = Vec::new();
    let mut rest = html;
    loop {
        let (start, end) = (rest.find("<details "), rest.find("</details>"));
        let tag = match (start, end) {
            (Some(s), Some(e)) if s < e => s,
            (Some(s), None) => s,
            (_, Some(e)) => {
                open.pop();
                rest = &rest[e + "</details>".len()..];
                continue;
            }
            (None, None) => break,
        };
        rest = &rest[tag + "<details ".len()..];
        let head = rest.split("</summary>").next().unwrap();
        let attr = |name: &str| between(head, &format!("{name}=\""), "\"");
        let name = head
            .split("<summary>")
            .nth(1)
            .filter(|s| s.contains("<b>"))
            .and_then(|s| between(s, "<b>", "</b>"))
            .map(|n| unescape_html(&n));
        open.push(name);
        let path: Vec<&str> = open.iter().flatten().map(String::as_str).collect();
        let (Some(b), Some(i)) = (attr("data-b"), attr("data-i")) else {
            continue;
        };
        let node = &blocks[b.parse::<usize>().unwrap()][i.parse::<usize>().unwrap()];
        let (t, a) = (node["t"].as_str().unwrap(), node["a"].as_str().unwrap());
        let names: Vec<&str> = if t.is_empty() {
            Vec::new()
        } else {
            node["n"].as_str().unwrap().split('\n').collect()
        };
        assert_eq!(names.len(), t.chars().count(), "one name per item");
        for (j, name) in names.into_iter().enumerate() {
            let code = |s: &str, radix| s.chars().nth(j).and_then(|c| c.to_digit(radix)).unwrap() as usize;
            items.push(HtmlItem {
                collection: path.join("/"),
                action: legend["actions"][code(a, 10)].as_str().unwrap().to_owned(),
                item_type: legend["types"][code(t, 36)].as_str().unwrap().to_owned(),
                name: name.to_owned(),
            });
        }
    }
    items
}

/// The text an escaped HTML attribute stands for.
pub fn unescape_html(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
