//! Encryption at rest, through the real binary: after a migrate of the
//! samples, no secret value of theirs is in the database file or its
//! write-ahead log, yet every one is still there for `export` to give
//! back; a wrong, missing or loosely kept key is refused with what to do.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::{sample, secrets_in_revealed, vaultferry, vaultferry_env, Source, LASTPASS, ONEPASSWORD};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The secret values of a sample, as bytes (attachments decoded), as
/// `inspect --reveal` reads them: what must not be in the file.
fn sample_secrets(src: &Source) -> Vec<Vec<u8>> {
    let run = vaultferry(&["inspect", "--json", "--reveal", s(&sample(src.export))]).success();
    let mut out: Vec<Vec<u8>> = Vec::new();
    for secret in secrets_in_revealed(&run.json()) {
        // Attachments reveal as base64: searched for as their bytes.
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&secret)
            .ok()
            .filter(|b| b.len() >= 8 && secret.len() >= 12)
            .unwrap_or_else(|| secret.into_bytes());
        // Short values ("1234") turn up in any binary file by chance.
        if bytes.len() >= 6 && !out.contains(&bytes) {
            out.push(bytes);
        }
    }
    out
}

/// The entries' titles: in the file in clear, so a search of it that
/// finds no secret means something.
fn sample_titles(src: &Source) -> Vec<String> {
    let run = vaultferry(&["inspect", "--json", s(&sample(src.export))]).success();
    run.json()["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["title"].as_str().map(str::to_owned))
        .filter(|t| t.len() >= 6)
        .collect()
}

fn file_and_log(db: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    for suffix in ["-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(more) = std::fs::read(PathBuf::from(p)) {
            bytes.extend(more);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn migrate(db: &Path, src: &Source) {
    vaultferry(&[
        "migrate",
        s(&sample(src.export)),
        "--sharing",
        s(&sample(src.sharing)),
        "--db",
        s(db),
        "--yes",
    ])
    .success();
}

#[test]
fn after_a_migrate_of_the_samples_no_secret_value_is_in_the_database_or_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut found_anything = 0;
    for src in [LASTPASS, ONEPASSWORD] {
        let db = common::northwind_db(dir.path());
        migrate(&db, &src);
        let secrets = sample_secrets(&src);
        assert!(
            secrets.len() >= 10,
            "{}: only {} secrets to look for",
            src.export,
            secrets.len()
        );
        let raw = file_and_log(&db);
        let titles = sample_titles(&src);
        assert!(
            titles.iter().any(|t| contains(&raw, t.as_bytes())),
            "{}: no entry title found in the file either: the search proves nothing",
            src.export
        );
        for secret in &secrets {
            assert!(
                !contains(&raw, secret),
                "{}: a secret value ({} bytes) is in the database file in clear",
                src.export,
                secret.len()
            );
        }
        // The values are in the store all the same: the export (which
        // opens them with the key) gives them back.
        let out = dir.path().join("export.cxf");
        vaultferry(&["export", "--format", "cxf", "--db", s(&db), "--out", s(&out), "--yes"]).success();
        let mut exported = std::fs::read(&out).unwrap();
        if let Ok(docs) = std::fs::read_dir(dir.path().join("documents")) {
            for d in docs {
                exported.extend(std::fs::read(d.unwrap().path()).unwrap());
            }
        }
        let text = String::from_utf8_lossy(&exported).replace("\\/", "/");
        let in_export = secrets
            .iter()
            .filter(|secret| contains(&exported, secret) || std::str::from_utf8(secret).is_ok_and(|t| text.contains(t)))
            .count();
        assert!(
            in_export * 2 > secrets.len(),
            "{}: the export holds {in_export} of {}",
            src.export,
            secrets.len()
        );
        found_anything += in_export;
        std::fs::remove_file(&out).unwrap();
        let _ = std::fs::remove_dir_all(dir.path().join("documents"));
        for suffix in ["", "-wal", "-shm", ".key"] {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    }
    assert!(found_anything > 0);
}

#[test]
fn a_wrong_missing_or_readable_key_is_a_clear_error_and_the_right_one_works_from_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::northwind_db(dir.path());
    migrate(&db, &LASTPASS);
    let key = dir.path().join("northwind.db.key");
    let export = sample(LASTPASS.export);
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", s(&export), "--db", s(&db)];
        args.extend_from_slice(extra);
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>()
    };
    let argv = |v: &[String]| v.to_vec();
    let run = |v: Vec<String>, env: &[(&str, &str)]| {
        let args: Vec<&str> = v.iter().map(String::as_str).collect();
        vaultferry_env(&args, env)
    };

    // Another workspace's key.
    let other = tempfile::tempdir().unwrap();
    let other_db = common::northwind_db(other.path());
    let other_key = other.path().join("northwind.db.key");
    let wrong = run(argv(&plan(&["--key-file", s(&other_key)])), &[]).expect_code(2);
    assert!(
        wrong.stderr.contains(s(&other_key)) && wrong.stderr.contains("does not open this workspace"),
        "{}",
        wrong.describe()
    );
    assert!(!wrong.stderr.contains("panicked"), "{}", wrong.describe());
    drop(other_db);

    // The right key in the environment; --key-file wins over it.
    let text = std::fs::read_to_string(&key).unwrap();
    let from_env = run(argv(&plan(&[])), &[("VAULTFERRY_WORKSPACE_KEY", text.trim())]);
    assert_eq!(from_env.code, 0, "{}", from_env.describe());
    let env_wrong = run(
        argv(&plan(&[])),
        &[(
            "VAULTFERRY_WORKSPACE_KEY",
            &std::fs::read_to_string(&other_key).unwrap(),
        )],
    )
    .expect_code(2);
    assert!(
        env_wrong.stderr.contains("VAULTFERRY_WORKSPACE_KEY"),
        "{}",
        env_wrong.describe()
    );
    let file_wins = run(
        argv(&plan(&["--key-file", s(&key)])),
        &[(
            "VAULTFERRY_WORKSPACE_KEY",
            &std::fs::read_to_string(&other_key).unwrap(),
        )],
    );
    assert_eq!(file_wins.code, 0, "{}", file_wins.describe());
    let garbage = run(argv(&plan(&[])), &[("VAULTFERRY_WORKSPACE_KEY", "not a key")]).expect_code(2);
    assert!(garbage.stderr.contains("32 bytes"), "{}", garbage.describe());

    // A key file others may read is refused.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let loose = run(argv(&plan(&[])), &[]).expect_code(2);
        assert!(loose.stderr.contains("chmod 600"), "{}", loose.describe());
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    // No key at all: every command that reads values says where it looked.
    let moved = dir.path().join("backup.key");
    std::fs::rename(&key, &moved).unwrap();
    let export_out = dir.path().join("out.cxf");
    for args in [
        plan(&[]),
        vec![
            "verify".into(),
            s(&sample(LASTPASS.export)).into(),
            "--sharing".into(),
            s(&sample(LASTPASS.sharing)).into(),
            "--db".into(),
            s(&db).into(),
        ],
        vec![
            "export".into(),
            "--format".into(),
            "cxf".into(),
            "--db".into(),
            s(&db).into(),
            "--out".into(),
            s(&export_out).into(),
            "--yes".into(),
        ],
        vec![
            "migrate".into(),
            s(&sample(LASTPASS.export)).into(),
            "--db".into(),
            s(&db).into(),
            "--yes".into(),
        ],
        vec!["workspace".into(), "show".into(), "--db".into(), s(&db).into()],
    ] {
        let missing = run(args, &[]).expect_code(2);
        assert!(
            missing.stderr.contains("northwind.db.key") && missing.stderr.contains("none was found"),
            "{}",
            missing.describe()
        );
    }
    assert!(!key.exists(), "no new key is made for a sealed workspace");
    assert!(!export_out.exists());

    // The backed-up key, named: verify reads the values with it.
    let verified = run(
        vec![
            "verify".into(),
            s(&sample(LASTPASS.export)).into(),
            "--sharing".into(),
            s(&sample(LASTPASS.sharing)).into(),
            "--db".into(),
            s(&db).into(),
            "--key-file".into(),
            s(&moved).into(),
        ],
        &[],
    );
    assert!(verified.code == 0 || verified.code == 1, "{}", verified.describe());
    assert!(
        !verified.stdout.contains("value-not-carried"),
        "{}",
        verified.describe()
    );
}

/// A `vaultferry serve` on a free port, killed when dropped.
struct Server {
    child: std::process::Child,
    url: String,
}

impl Server {
    fn start(db: &Path) -> Server {
        use std::io::BufRead as _;
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_vaultferry"))
            .args(["serve", "--db", s(db), "--listen", "127.0.0.1:0"])
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start vaultferry serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("vaultferry serve printed its address");
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The list routes withhold the values, so `verify --target` counts the
/// digests the server sends for them: it finds what `verify --db` finds,
/// and no value "not carried".
#[test]
fn verify_through_the_server_finds_what_verify_of_the_database_finds() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::northwind_db(dir.path());
    migrate(&db, &LASTPASS);
    let key = vaultferry(&["apikey", "create", "--db", s(&db), "--as", "olivia@northwind.example"]).success();
    let key = key.stdout.trim().to_owned();
    let export = sample(LASTPASS.export);
    let sharing = sample(LASTPASS.sharing);
    let verify = |target: &[&str]| {
        let mut args = vec!["verify", s(&export), "--sharing", s(&sharing), "--json"];
        args.extend_from_slice(target);
        vaultferry(&args)
    };
    let local = verify(&["--db", s(&db)]);
    let server = Server::start(&db);
    let remote = verify(&["--target", &server.url, "--api-key", &key]);
    assert_eq!(remote.code, local.code, "{}\n{}", local.describe(), remote.describe());
    assert!(!remote.stdout.contains("value-not-carried"), "{}", remote.describe());
    let (l, r) = (local.json(), remote.json());
    for part in ["items", "people", "unexpected", "expected"] {
        assert_eq!(r[part], l[part], "{part}: {}", remote.describe());
    }
}
