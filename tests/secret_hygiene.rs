//! No secret value reaches any output without `--reveal`.
//!
//! Each test builds exports in which every secret is a unique marker
//! (`SECRET-MARKER-0001`…): the LastPass and 1Password samples with each of
//! their secret values swapped for a marker, every LastPass note type built
//! from `formats/lastpass-note-types.toml`, and rows broken right next to a
//! secret. `inspect --json --reveal` first proves that every marker is read
//! as a secret (so a search that finds nothing means something); then every
//! command a user can run is searched — stdout and stderr — for the markers.
//!
//! `migrate` is searched the same way: its stdout and stderr on a first
//! run and a re-run, the report files of `plan --report` and `migrate
//! --report` in every format, the journal and audit rows it writes
//! (`run_journal`, `import_runs`, `audit_log`) and the invitation emails in
//! the outbox. Run with umask 000, it must still create every file that
//! holds secrets owner-only: the database and its `-wal`/`-shm` files, the
//! outbox (0700) and each email in it (0600).

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::{sample, secrets_in_revealed, vaultferry, Run};
use serde_json::Value;

const PREFIX: &str = "SECRET-MARKER-";

/// Hands out unique markers.
#[derive(Default)]
struct Markers {
    issued: Vec<String>,
}

impl Markers {
    fn next(&mut self) -> String {
        let m = format!("{PREFIX}{:04}", self.issued.len() + 1);
        self.issued.push(m.clone());
        m
    }
}

/// One export to search the outputs of.
struct Export {
    path: PathBuf,
    sharing: Option<PathBuf>,
    /// The markers it holds, as `--reveal` prints them (attachments as base64).
    revealed: Vec<String>,
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Proves every secret of the export is a marker and returns them.
fn revealed_markers(path: &Path, at_least: usize) -> Vec<String> {
    let run = vaultferry(&["inspect", "--json", "--reveal", s(path)]);
    assert_eq!(run.code, 0, "{}", run.describe());
    let secrets = secrets_in_revealed(&run.json());
    for secret in &secrets {
        let text = base64::engine::general_purpose::STANDARD
            .decode(secret)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_else(|| secret.clone());
        assert!(
            text.starts_with(PREFIX),
            "{}: secret {secret:?} is not a marker: the export was not fully rewritten",
            path.display()
        );
    }
    assert!(
        secrets.len() >= at_least,
        "{}: only {} secrets read as secrets, expected at least {at_least}",
        path.display(),
        secrets.len()
    );
    secrets
}

/// Replaces each secret with a marker, longest first (so a secret inside a
/// longer one is not half-replaced), in its raw, JSON-escaped and
/// CSV-quoted spellings.
fn substitute(text: &str, secrets: &[String], markers: &mut Markers) -> String {
    let mut sorted: Vec<&String> = secrets.iter().collect::<BTreeSet<_>>().into_iter().collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_owned();
    for secret in sorted {
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json.trim_matches('"').to_owned();
        let csv = secret.replace('"', "\"\"");
        let m = markers.next();
        for spelling in [secret.clone(), json, csv] {
            if out.contains(&spelling) {
                out = out.replace(&spelling, &m);
            }
        }
    }
    out
}

/// A text export with each secret value swapped for a marker.
fn rewritten_text(original: &Path, dir: &Path, markers: &mut Markers) -> PathBuf {
    let run = vaultferry(&["inspect", "--json", "--reveal", s(original)]).success();
    let secrets = secrets_in_revealed(&run.json());
    let text = std::fs::read_to_string(original).unwrap();
    let path = dir.join(original.file_name().unwrap());
    std::fs::write(&path, substitute(&text, &secrets, markers)).unwrap();
    path
}

/// The 1PUX sample with each secret swapped for a marker and each attached
/// file's bytes replaced by one.
fn rewritten_pux(original: &Path, dir: &Path, markers: &mut Markers) -> PathBuf {
    let run = vaultferry(&["inspect", "--json", "--reveal", s(original)]).success();
    let secrets = secrets_in_revealed(&run.json());
    let mut archive = zip::ZipArchive::new(std::fs::File::open(original).unwrap()).unwrap();
    let path = dir.join("company.1pux");
    let mut out = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).unwrap();
        let name = member.name().to_owned();
        let mut bytes = Vec::new();
        member.read_to_end(&mut bytes).unwrap();
        let bytes = if name == "export.data" {
            substitute(&String::from_utf8(bytes).unwrap(), &secrets, markers).into_bytes()
        } else if name.starts_with("files/") {
            markers.next().into_bytes()
        } else {
            bytes
        };
        out.start_file(name, opts).unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap();
    path
}

/// Every LastPass note type of the table, each secret field a marker, plus
/// a custom type and a login with password and TOTP.
fn lastpass_every_note_type(dir: &Path, markers: &mut Markers) -> PathBuf {
    let table: toml::Value =
        toml::from_str(&std::fs::read_to_string(common::root().join("formats/lastpass-note-types.toml")).unwrap())
            .unwrap();
    let mut csv = String::from("url,username,password,totp,extra,name,grouping,fav\n");
    csv.push_str(&format!(
        "https://login.example,ops@northwind.example,{},{},,Login,Team,0\n",
        markers.next(),
        markers.next()
    ));
    for (i, ty) in table["types"].as_array().unwrap().iter().enumerate() {
        let name = ty["name"].as_str().unwrap();
        let password_label = ty.get("password").and_then(|p| p.as_str());
        let mut note = format!("NoteType:{name}");
        for field in ty["fields"].as_array().unwrap() {
            let label = field["label"].as_str().unwrap();
            let secret =
                field.get("concealed").and_then(|c| c.as_bool()) == Some(true) || Some(label) == password_label;
            let value = if secret { markers.next() } else { format!("plain {i}") };
            note.push_str(&format!("\n{label}:{value}"));
        }
        note.push_str("\nNotes:free text");
        let note = note.replace('"', "\"\"");
        csv.push_str(&format!("http://sn,,,,\"{note}\",Note {i},Notes,0\n"));
    }
    csv.push_str(&format!(
        "http://sn,,,,\"NoteType:Custom_4711\nSite:plain\nAPI Key:{}\nRecovery Code:{}\",Custom,Notes,0\n",
        markers.next(),
        markers.next()
    ));
    let path = dir.join("every-note-type.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

/// Rows broken right next to a secret: an unquoted comma inside a
/// password, a stray quote right after one, a quote opened and never
/// closed before one. Each is recovered or skipped with a finding (or
/// refused under `--strict`), and none of those messages may quote it.
fn broken_near_secrets(dir: &Path, markers: &mut Markers) -> Vec<PathBuf> {
    let lp = dir.join("broken-lastpass.csv");
    std::fs::write(
        &lp,
        format!(
            "url,username,password,totp,extra,name,grouping,fav\n\
             https://a.example,ops,{a1},{a2},,,Split,Team,0\n\
             https://b.example,ops,{b}\",,,Stray,Team,0\n\
             https://c.example,ops,\"{c},,,Open,Team,0\n\
             https://d.example,ops,{d},,,Fine,Team,0\n",
            a1 = markers.next(),
            a2 = markers.next(),
            b = markers.next(),
            c = markers.next(),
            d = markers.next(),
        ),
    )
    .unwrap();
    let op = dir.join("broken-1password.csv");
    std::fs::write(
        &op,
        format!(
            "\"Title\",\"Url\",\"Username\",\"Password\",\"OTPAuth\",\"Favorite\",\"Archived\",\"Tags\",\"Notes\"\n\
             \"Split\",\"https://a.example\",\"ops\",{a1},{a2},\"\",\"false\",\"false\",\"\",\"\"\n\
             \"Stray\",\"https://b.example\",\"ops\",\"{b}\"x,\"\",\"false\",\"false\",\"\",\"\"\n\
             \"Short\",\"https://c.example\",\"ops\",\"{c}\"\n",
            a1 = markers.next(),
            a2 = markers.next(),
            b = markers.next(),
            c = markers.next(),
        ),
    )
    .unwrap();
    let sep = "***5642bee8-a5ff-11dc-8314-0800200c9a66***";
    let pif = dir.join("broken.1pif");
    std::fs::write(
        &pif,
        format!(
            "{{\"uuid\":\"A1\",\"typeName\":\"webforms.WebForm\",\"title\":\"Fine\",\"secureContents\":{{\"fields\":[{{\"designation\":\"password\",\"value\":\"{a}\",\"name\":\"p\",\"type\":\"P\"}}]}}}}\n{sep}\n\
             {{\"uuid\":\"A2\",\"typeName\":\"webforms.WebForm\",\"title\":\"Cut\",\"secureContents\":{{\"fields\":[{{\"designation\":\"password\",\"value\":\"{b}\"\n{sep}\n\
             {{\"uuid\":\"A3\",\"typeName\":\"webforms.WebForm\",\"title\":\"Typed\",\"secureContents\":{{\"fields\":[{{\"designation\":\"password\",\"value\":\"{c}\",\"name\":\"p\",\"type\":\"P\"}}],\"sections\":[{{\"fields\":[{{\"k\":\"concealed\",\"t\":\"PIN\",\"v\":\"{d}\",\"n\":\"pin\"}}]}}]}},\"openContents\":{{\"tags\":\"{e}\"}}}}\n{sep}\n",
            a = markers.next(),
            b = markers.next(),
            c = markers.next(),
            d = markers.next(),
            e = markers.next(),
        ),
    )
    .unwrap();
    let pux = dir.join("broken.1pux");
    let item = |title: &str, password: &str, extra: &str| {
        format!(
            r#"{{"uuid":"{title}","categoryUuid":"001","overview":{{"title":"{title}"}},"details":{{"loginFields":[{{"value":"{password}","designation":"password","fieldType":"P","name":"password"}}]{extra}}}}}"#
        )
    };
    let items = [
        item("fine", &markers.next(), ""),
        // A value of the wrong type right after the password: serde's own
        // message would quote it.
        item(
            "typed",
            &markers.next(),
            &format!(
                r#","sections":[{{"fields":[{{"title":"PIN","multiline":"{}"}}]}}]"#,
                markers.next()
            ),
        ),
        item(
            "history",
            &markers.next(),
            &format!(
                r#","passwordHistory":[{{"value":"{}","time":"yesterday"}}, 7]"#,
                markers.next()
            ),
        ),
    ];
    let data = format!(
        r#"{{"accounts":[{{"attrs":{{"name":"T"}},"vaults":[{{"attrs":{{"uuid":"v1","name":"Ops","type":"E","desc":""}},"items":[{}]}}]}}]}}"#,
        items.join(",")
    );
    let mut z = zip::ZipWriter::new(std::fs::File::create(&pux).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    z.start_file("export.attributes", opts).unwrap();
    z.write_all(br#"{"version":3,"description":"1Password Unencrypted Export","createdAt":1735689600}"#)
        .unwrap();
    z.start_file("export.data", opts).unwrap();
    z.write_all(data.as_bytes()).unwrap();
    z.finish().unwrap();
    vec![lp, op, pif, pux]
}

/// A workspace database seeded with the sample company.
fn northwind_db(dir: &Path) -> PathBuf {
    let db = dir.join("northwind.db");
    let seed = sample("workspace.toml");
    vaultferry(&["workspace", "init", "--db", s(&db), "--seed", s(&seed)]).success();
    db
}

/// Every command a user can run on an export without `--reveal`.
fn commands(export: &Export, db: &Path) -> Vec<Vec<String>> {
    let mut source = vec![s(&export.path).to_owned()];
    if let Some(sharing) = &export.sharing {
        source.extend(["--sharing".to_owned(), s(sharing).to_owned()]);
    }
    let db = s(db).to_owned();
    let with = |head: &[&str], tail: &[&str]| -> Vec<String> {
        head.iter()
            .map(|x| x.to_string())
            .chain(source.iter().cloned())
            .chain(tail.iter().map(|x| x.to_string()))
            .collect()
    };
    vec![
        with(&["inspect"], &[]),
        with(&["inspect", "--json"], &[]),
        with(&["inspect", "--strict"], &[]),
        with(&["inspect", "--decode-html-entities"], &[]),
        with(&["plan"], &["--db", &db]),
        with(&["plan", "--json"], &["--db", &db]),
        with(&["plan", "--strict"], &["--db", &db]),
        vec!["workspace".into(), "show".into(), "--db".into(), db.clone()],
        vec!["workspace".into(), "show".into(), "--json".into(), "--db".into(), db],
    ]
}

/// What one run left for a user to see. Files written by `migrate`
/// (reports, journal, outbox) join this list when that command exists.
fn outputs_of(run: &Run) -> Vec<(&'static str, &str)> {
    vec![("stdout", &run.stdout), ("stderr", &run.stderr)]
}

fn assert_no_marker_in_any_output(exports: &[Export]) {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    for export in exports {
        for args in commands(export, &db) {
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = vaultferry(&argv);
            assert!(run.code == 0 || run.code == 2, "{}", run.describe());
            assert!(!run.stderr.contains("panicked"), "{}", run.describe());
            for (what, text) in outputs_of(&run) {
                assert!(
                    !text.contains(PREFIX),
                    "a secret leaked into the {what} of `{}`:\n{}",
                    run.command,
                    run.describe()
                );
                for secret in &export.revealed {
                    assert!(
                        !text.contains(secret.as_str()),
                        "{secret} leaked into the {what} of `{}`",
                        run.command
                    );
                }
            }
        }
    }
}

#[test]
fn no_secret_of_the_samples_reaches_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut markers = Markers::default();
    let mut exports = Vec::new();
    let lp = rewritten_text(&sample("lastpass/company.csv"), dir.path(), &mut markers);
    exports.push(Export {
        revealed: revealed_markers(&lp, 20),
        path: lp,
        sharing: Some(sample("lastpass/sharing-getdetailedsfdata.json")),
    });
    let pux = rewritten_pux(&sample("onepassword/company.1pux"), dir.path(), &mut markers);
    exports.push(Export {
        revealed: revealed_markers(&pux, 20),
        path: pux,
        sharing: Some(sample("onepassword/permissions.json")),
    });
    for name in [
        "company.1pif",
        "company-1p8.csv",
        "company-1p7-mac.csv",
        "company-1p7-mac-all.csv",
        "company-1p7-win.csv",
        "company-1p7-win-all.csv",
        "company-opvault.1pif",
        "company-flat-keys.1pif",
        "company-1p6.csv",
        "company-1p4.csv",
    ] {
        let path = rewritten_text(&sample(&format!("onepassword/{name}")), dir.path(), &mut markers);
        exports.push(Export {
            revealed: revealed_markers(&path, 2),
            path,
            sharing: None,
        });
    }
    assert_no_marker_in_any_output(&exports);
}

#[test]
fn no_secret_of_any_lastpass_note_type_reaches_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut markers = Markers::default();
    let path = lastpass_every_note_type(dir.path(), &mut markers);
    let revealed = revealed_markers(&path, 20);
    let revealed_set: BTreeSet<&String> = revealed.iter().collect();
    for m in &markers.issued {
        assert!(revealed_set.contains(m), "{m} was not read as a secret");
    }
    assert_no_marker_in_any_output(&[Export {
        path,
        sharing: None,
        revealed,
    }]);
}

#[test]
fn rows_broken_next_to_a_secret_never_quote_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut markers = Markers::default();
    let exports: Vec<Export> = broken_near_secrets(dir.path(), &mut markers)
        .into_iter()
        .map(|path| Export {
            path,
            sharing: None,
            revealed: Vec::new(),
        })
        .collect();
    // Each file is read with findings, and --strict refuses it: both the
    // finding and the error message are near the secret.
    for export in &exports {
        let json: Value = vaultferry(&["inspect", "--json", s(&export.path)]).success().json();
        assert!(
            !json["findings"].as_array().unwrap().is_empty(),
            "{}: expected a finding for the broken row",
            export.path.display()
        );
        let strict = vaultferry(&["inspect", "--strict", s(&export.path)]);
        assert_eq!(strict.code, 2, "{}", strict.describe());
    }
    assert_no_marker_in_any_output(&exports);
}

#[test]
fn a_panic_message_holding_a_secret_shows_it_redacted() {
    let marker = format!("{PREFIX}PANIC");
    let secret = vaultferry::Secret::text(marker.clone());
    let payload = std::thread::spawn(move || {
        // The default hook prints this message to stderr; the payload is it.
        panic!("failed on {secret:?} and {secret} and {:?}", Some(&secret));
    })
    .join()
    .expect_err("the thread panicked");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .expect("a formatted panic message");
    assert!(message.contains("[redacted]"), "{message}");
    assert!(
        !message.contains(&marker),
        "the secret reached the panic message: {message}"
    );
}

/// Runs `vaultferry ARGS` with umask 000, so any file it does not create
/// owner-only on purpose comes out world-readable.
#[cfg(unix)]
fn spawn_umask0(args: &[&str]) -> std::process::Child {
    std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_vaultferry"))
        .args(args)
        .current_dir(common::root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run vaultferry")
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Runs `vaultferry ARGS` with umask 000 and, while it runs, records the
/// mode of the database's `-wal` and `-shm` files each time they exist.
#[cfg(unix)]
fn run_watching_wal(args: &[&str], db: &Path) -> (Run, Vec<(String, u32)>) {
    use std::os::unix::fs::PermissionsExt;
    let mut child = spawn_umask0(args);
    let mut seen = Vec::new();
    let sidecars: Vec<PathBuf> = ["-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p)
        })
        .collect();
    while child.try_wait().expect("wait").is_none() {
        for p in &sidecars {
            if let Ok(meta) = std::fs::metadata(p) {
                seen.push((p.display().to_string(), meta.permissions().mode() & 0o777));
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let out = child.wait_with_output().expect("run vaultferry");
    let run = Run {
        command: format!("vaultferry {}", args.join(" ")),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (run, seen)
}

fn assert_no_marker(what: &str, text: &str, revealed: &[String]) {
    assert!(!text.contains(PREFIX), "a secret leaked into {what}:\n{text}");
    for secret in revealed {
        assert!(!text.contains(secret.as_str()), "{secret} leaked into {what}");
    }
}

/// Every row of `table`, each column as text, one line per row.
fn table_text(conn: &rusqlite::Connection, table: &str) -> String {
    let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
    let columns = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    let mut text = String::new();
    while let Some(row) = rows.next().unwrap() {
        for i in 0..columns {
            let v: rusqlite::types::Value = row.get(i).unwrap();
            match v {
                rusqlite::types::Value::Text(t) => text.push_str(&t),
                rusqlite::types::Value::Blob(b) => text.push_str(&String::from_utf8_lossy(&b)),
                other => text.push_str(&format!("{other:?}")),
            }
            text.push('\t');
        }
        text.push('\n');
    }
    text
}

#[cfg(unix)]
#[test]
fn no_secret_reaches_migrate_its_reports_journal_or_outbox_and_its_files_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut markers = Markers::default();
    let lp = rewritten_text(&sample("lastpass/company.csv"), dir.path(), &mut markers);
    let pux = rewritten_pux(&sample("onepassword/company.1pux"), dir.path(), &mut markers);
    let exports = [
        Export {
            revealed: revealed_markers(&lp, 20),
            path: lp,
            sharing: Some(sample("lastpass/sharing-getdetailedsfdata.json")),
        },
        Export {
            revealed: revealed_markers(&pux, 20),
            path: pux,
            sharing: Some(sample("onepassword/permissions.json")),
        },
    ];
    for (n, export) in exports.iter().enumerate() {
        let work = dir.path().join(format!("run{n}"));
        std::fs::create_dir(&work).unwrap();
        let db = work.join("northwind.db");
        let seed = sample("workspace.toml");
        let init = spawn_umask0(&["workspace", "init", "--db", s(&db), "--seed", s(&seed)])
            .wait_with_output()
            .unwrap();
        assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
        assert_eq!(mode(&db), 0o600, "the workspace database under umask 000");
        let mut source = vec![s(&export.path).to_owned()];
        if let Some(sharing) = &export.sharing {
            source.extend(["--sharing".to_owned(), s(sharing).to_owned()]);
        }
        let with = |head: &[&str], tail: &[String]| -> Vec<String> {
            head.iter()
                .map(|x| x.to_string())
                .chain(source.iter().cloned())
                .chain(tail.iter().cloned())
                .collect()
        };
        let report = |stem: &str, ext: &str| work.join(format!("{stem}.{ext}"));
        let db_args = vec!["--db".to_owned(), s(&db).to_owned()];
        let mut report_files = Vec::new();
        let mut plan_args = db_args.clone();
        for ext in ["json", "md", "html", "csv"] {
            plan_args.extend(["--report".to_owned(), s(&report("plan", ext)).to_owned()]);
            report_files.push(report("plan", ext));
        }
        let mut first_args = db_args.clone();
        first_args.push("--yes".to_owned());
        for ext in ["json", "md", "html", "csv"] {
            first_args.extend(["--report".to_owned(), s(&report("migrate", ext)).to_owned()]);
            report_files.push(report("migrate", ext));
        }
        let mut again_args = db_args.clone();
        again_args.extend(["--yes".to_owned(), "--json".to_owned()]);
        again_args.extend(["--report".to_owned(), s(&report("again", "md")).to_owned()]);
        report_files.push(report("again", "md"));

        let mut sidecar_modes = Vec::new();
        for args in [
            with(&["plan"], &plan_args),
            with(&["migrate"], &first_args),
            with(&["migrate"], &again_args),
        ] {
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let (run, seen) = run_watching_wal(&argv, &db);
            assert_eq!(run.code, 0, "{}", run.describe());
            sidecar_modes.extend(seen);
            for (what, text) in outputs_of(&run) {
                assert_no_marker(&format!("the {what} of `{}`", run.command), text, &export.revealed);
            }
        }
        for file in &report_files {
            let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert!(!text.trim().is_empty(), "{} is empty", file.display());
            assert_no_marker(&file.display().to_string(), &text, &export.revealed);
        }

        let conn = rusqlite::Connection::open(&db).unwrap();
        let runs: i64 = conn
            .query_row("SELECT count(*) FROM import_runs", [], |r| r.get(0))
            .unwrap();
        assert!(runs >= 2, "expected a run row per migrate, found {runs}");
        for table in ["run_journal", "import_runs", "audit_log"] {
            let text = table_text(&conn, table);
            assert!(!text.is_empty(), "{table} is empty after two runs");
            assert_no_marker(&format!("table {table}"), &text, &export.revealed);
        }
        drop(conn);

        let outbox = work.join("northwind.db.outbox");
        assert_eq!(mode(&outbox), 0o700, "{}", outbox.display());
        let emails: Vec<PathBuf> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(
            !emails.is_empty(),
            "the samples invite guests: expected emails in the outbox"
        );
        for email in &emails {
            assert_eq!(mode(email), 0o600, "{}", email.display());
            let text = std::fs::read_to_string(email).unwrap();
            assert_no_marker(&email.display().to_string(), &text, &export.revealed);
        }

        assert!(
            !sidecar_modes.is_empty(),
            "never saw the database's -wal/-shm files while migrate ran"
        );
        for (path, m) in &sidecar_modes {
            assert_eq!(*m, 0o600, "{path} was {m:o} while vaultferry ran (umask 000)");
        }
    }
}
