//! The catalogue of bad input (`formats/errors.md`), one test per entry:
//! the real binary over each malformed file, asserting what the user sees —
//! exit status, a one-line message that names the file (and line or field)
//! and says what was expected — and that nothing panicked.
//!
//! Small inputs live in `tests/fixtures/bad/`; the ones too large to commit
//! (zip bomb, 10 MB field, 100k columns) are built here in a temp dir.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{sample, vaultferry, vaultferry_in, Run};
use serde_json::Value;

const BAD: &str = "tests/fixtures/bad";

fn bad(name: &str) -> String {
    format!("{BAD}/{name}")
}

/// Runs the binary and checks the rules every bad input shares: exit 0 or
/// 2 only, and no panic.
fn run(args: &[&str]) -> Run {
    checked(vaultferry(args))
}

fn checked(run: Run) -> Run {
    assert!(
        run.code == 0 || run.code == 2,
        "exit status must be 0 or 2\n{}",
        run.describe()
    );
    assert!(
        !run.stderr.contains("panicked"),
        "a panic reached the user\n{}",
        run.describe()
    );
    assert!(
        !run.stderr.contains("RUST_BACKTRACE"),
        "a panic reached the user\n{}",
        run.describe()
    );
    run
}

/// The refusal shape: exit 2, one line on stderr,
/// `vaultferry: error: <file>[:line N][: field 'F']: …; expected …`.
fn assert_refused(run: &Run, file: &str, line: Option<u64>, expected: &str) {
    assert_eq!(run.code, 2, "expected a refusal\n{}", run.describe());
    assert!(
        run.stdout.is_empty(),
        "a refusal prints nothing on stdout\n{}",
        run.describe()
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "the message is one line\n{}", run.describe());
    let prefix = match line {
        Some(n) => format!("vaultferry: error: {file}:line {n}"),
        None => format!("vaultferry: error: {file}"),
    };
    assert!(
        run.stderr.starts_with(&prefix),
        "expected {prefix:?} first\n{}",
        run.describe()
    );
    assert!(
        run.stderr.contains(expected),
        "expected {expected:?} in\n{}",
        run.describe()
    );
}

/// `inspect --json` of a file that is read with findings.
fn inspect_json(path: &str, extra: &[&str]) -> Value {
    let mut args = vec!["inspect", "--json", path];
    args.extend_from_slice(extra);
    run(&args).expect_code(0).json()
}

/// The findings with this code.
fn findings<'a>(v: &'a Value, code: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .map(|a| a.iter().filter(|f| f["code"] == code).collect())
        .unwrap_or_default()
}

/// Asserts a finding `code` at `line` of `file` (and `field`, if given),
/// that the human summary shows it too, and that `--strict` refuses the
/// file naming the same place.
fn assert_recovered(path: &str, code: &str, line: u64, field: Option<&str>) -> Value {
    let v = inspect_json(path, &[]);
    let found = findings(&v, code);
    assert!(
        found.iter().any(|f| f["line"] == line && f["file"] == path),
        "no {code} at {path}:{line} in {:#}",
        v["findings"]
    );
    if let Some(field) = field {
        assert!(
            found.iter().any(|f| f["field"] == field),
            "{code} does not name field {field}"
        );
    }
    let human = run(&["inspect", path]).expect_code(0);
    assert!(
        human.stdout.contains(code),
        "summary does not list {code}\n{}",
        human.describe()
    );
    let strict = run(&["inspect", "--strict", path]);
    assert_refused(&strict, path, Some(line), code);
    assert!(strict.stderr.contains("--strict"), "{}", strict.describe());
    v
}

fn entries(v: &Value) -> &Vec<Value> {
    v["entries"].as_array().expect("entries")
}

/// Writes a deflated zip with these members.
fn build_zip(path: &Path, members: &[(&str, &[u8])]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in members {
        z.start_file(*name, opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}

const PUX_ATTRS: &[u8] = br#"{"version":3,"description":"1Password Unencrypted Export","createdAt":1735689600}"#;
const PUX_DATA: &[u8] = br#"{"accounts":[{"attrs":{"name":"T"},"vaults":[]}]}"#;

const LP_HEADER: &str = "url,username,password,totp,extra,name,grouping,fav";
const OP_HEADER: &str = r#""Title","Url","Username","Password","OTPAuth","Favorite","Archived","Tags","Notes""#;

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

// ------------------------------------------------------------ empty file

#[test]
fn empty_file_is_refused_by_detection_and_by_every_format() {
    let path = bad("empty.csv");
    let r = run(&["inspect", &path]);
    assert_refused(&r, &path, Some(1), "the file is empty; expected a LastPass CSV");
    for (from, line, expected) in [
        ("lastpass-csv", Some(1), "the file is empty; expected a LastPass header"),
        (
            "1password-csv",
            Some(1),
            "the file is empty; expected a 1Password CSV header",
        ),
        ("1pif", Some(1), "no records found; expected JSON records"),
        ("1pux", None, "not a readable zip archive"),
    ] {
        let r = run(&["inspect", "--from", from, &path]);
        assert_refused(&r, &path, line, expected);
    }
}

// ------------------------------------------------------------ truncated file

#[test]
fn truncated_lastpass_csv_skips_the_cut_row_with_its_line() {
    let v = assert_recovered(&bad("truncated-lastpass.csv"), "lastpass.row-skipped", 5, None);
    assert_eq!(entries(&v).len(), 2, "the rows before the cut are read");
    assert_eq!(v["skipped_records"], 1);
}

#[test]
fn truncated_1password_csv_reads_the_cut_row_by_position_with_a_warning() {
    let v = assert_recovered(&bad("truncated-1password.csv"), "onepassword.csv-column-count", 3, None);
    assert_eq!(entries(&v).len(), 2);
}

#[test]
fn a_1password_csv_cut_inside_its_last_quoted_value_says_it_may_be_truncated() {
    let v = assert_recovered(
        &bad("truncated-1password-notes.csv"),
        "onepassword.csv-truncated",
        2,
        None,
    );
    assert_eq!(entries(&v).len(), 1, "the cut row is kept");
    assert!(entries(&v)[0]["notes"].as_str().unwrap_or("").ends_with("kim@glo"));
    // A whole file that ends without a newline raises nothing.
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.csv");
    std::fs::write(
        &whole,
        format!("{OP_HEADER}\n\"Mail\",\"\",\"ops\",\"pw\",\"\",\"false\",\"false\",\"\",\"a \"\"quoted\"\" note\""),
    )
    .unwrap();
    let v = inspect_json(path_str(&whole), &[]);
    assert!(v["findings"].as_array().unwrap().is_empty(), "{:#}", v["findings"]);
}

#[test]
fn truncated_1pif_skips_the_cut_record_and_says_the_file_may_be_truncated() {
    let path = bad("truncated.1pif");
    let v = assert_recovered(&path, "onepassword.pif-record-malformed", 3, None);
    assert_eq!(entries(&v).len(), 1);
    let f = findings(&v, "onepassword.pif-record-malformed");
    assert!(
        f[0]["message"].as_str().unwrap_or("").contains("truncated"),
        "{:#}",
        f[0]
    );
}

#[test]
fn truncated_1pux_is_refused_as_an_unreadable_zip() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(sample("onepassword/company.1pux")).unwrap();
    let path = dir.path().join("cut.1pux");
    std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
    let p = path_str(&path);
    let r = run(&["inspect", p]);
    assert_refused(&r, p, None, "not a readable zip archive");
    assert!(r.stderr.contains("expected a 1PUX export"), "{}", r.describe());
}

// ------------------------------------------------------------ encodings

#[test]
fn utf16_with_or_without_a_byte_order_mark_is_refused_with_the_fix() {
    for name in ["utf16le-bom.csv", "utf16be-no-bom.csv"] {
        let path = bad(name);
        let r = run(&["inspect", &path]);
        assert_refused(&r, &path, Some(1), "the file is UTF-16; save it as UTF-8; expected");
    }
}

#[test]
fn latin1_lastpass_csv_is_read_lossily_with_a_finding_naming_the_line() {
    let path = bad("latin1-lastpass.csv");
    let v = assert_recovered(&path, "lastpass.invalid-utf8", 3, None);
    assert_eq!(entries(&v).len(), 3, "no row is lost");
    let vpn = entries(&v).iter().find(|e| e["title"] == "VPN").expect("VPN");
    assert!(
        vpn["notes"].as_str().unwrap_or("").starts_with("Caf\u{fffd} VPN notes"),
        "{vpn:#}"
    );
}

#[test]
fn latin1_1password_files_are_refused_naming_the_line() {
    let path = bad("latin1-1password.csv");
    assert_refused(
        &run(&["inspect", &path]),
        &path,
        Some(3),
        "not valid UTF-8; save the export as UTF-8",
    );
    let path = bad("latin1.1pif");
    assert_refused(
        &run(&["inspect", &path]),
        &path,
        Some(3),
        "the file is not UTF-8; expected a 1PIF export",
    );
}

// ------------------------------------------------------------ binary garbage

#[test]
fn binary_garbage_is_refused_by_detection_and_by_every_format() {
    let path = bad("garbage.bin");
    assert_refused(
        &run(&["inspect", &path]),
        &path,
        Some(1),
        "the content matches no known export; expected",
    );
    for (from, line, expected) in [
        ("lastpass-csv", Some(1), "expected a LastPass header"),
        ("1password-csv", Some(1), "save the export as UTF-8"),
        ("1pif", Some(1), "expected a 1PIF export"),
        ("1pux", None, "expected a 1PUX export"),
    ] {
        assert_refused(&run(&["inspect", "--from", from, &path]), &path, line, expected);
    }
}

// ------------------------------------------------------------ hostile archives

#[test]
fn zip_bomb_is_stopped_at_the_unpacked_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.1pux");
    // 32 MiB of JSON whitespace deflate to ~32 KiB: a 1000:1 bomb that a
    // streaming JSON reader would go on consuming (zeros it would refuse
    // at the first byte, before any limit is reached).
    let mut bomb = b"{\"accounts\": [".to_vec();
    bomb.resize(32 << 20, b' ');
    bomb.extend_from_slice(b"]}");
    build_zip(&path, &[("export.attributes", PUX_ATTRS), ("export.data", &bomb)]);
    assert!(std::fs::metadata(&path).unwrap().len() < 256 << 10);
    let p = path_str(&path);
    let started = Instant::now();
    let r = run(&["inspect", p, "--max-unpacked-bytes", "1048576"]);
    assert_refused(
        &r,
        p,
        None,
        "field 'export.data': the archive unpacks to more than 1048576 bytes",
    );
    assert!(r.stderr.contains("raise --max-unpacked-bytes"), "{}", r.describe());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the bomb was not stopped early"
    );
}

#[test]
fn zip_with_too_many_members_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.1pux");
    let names: Vec<String> = (0..150).map(|i| format!("files/doc{i}__f.txt")).collect();
    let mut members: Vec<(&str, &[u8])> = vec![("export.attributes", PUX_ATTRS), ("export.data", PUX_DATA)];
    members.extend(names.iter().map(|n| (n.as_str(), &b"x"[..])));
    build_zip(&path, &members);
    let p = path_str(&path);
    let r = run(&["inspect", p, "--max-entries", "100"]);
    assert_refused(&r, p, None, "the archive holds 152 files; the limit is 100");
    assert!(r.stderr.contains("--max-entries"), "{}", r.describe());
}

#[test]
fn zip_members_named_to_leave_the_archive_refuse_the_whole_archive() {
    let dir = tempfile::tempdir().unwrap();
    for evil in ["../../evil.txt", "files/../../evil.txt", "/etc/evil"] {
        let path = dir.path().join("slip.1pux");
        build_zip(
            &path,
            &[
                ("export.attributes", PUX_ATTRS),
                ("export.data", PUX_DATA),
                (evil, b"x"),
            ],
        );
        let p = path_str(&path);
        let r = run(&["inspect", p]);
        assert_refused(
            &r,
            p,
            None,
            &format!("field '{evil}': archive member '{evil}' points outside the archive"),
        );
        assert!(!dir.path().parent().unwrap().join("evil.txt").exists());
    }
}

// ------------------------------------------------------------ huge values

#[test]
fn a_10_mb_field_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let note = "n".repeat(10_000_000);
    let lp = dir.path().join("big-lastpass.csv");
    std::fs::write(&lp, format!("{LP_HEADER}\nhttps://a.example,u,pw,,{note},Big,Ops,0\n")).unwrap();
    let op = dir.path().join("big-1password.csv");
    std::fs::write(
        &op,
        format!("{OP_HEADER}\n\"Big\",\"https://a.example\",\"u\",\"pw\",\"\",\"false\",\"false\",\"\",\"{note}\"\n"),
    )
    .unwrap();
    for path in [&lp, &op] {
        let started = Instant::now();
        let v = inspect_json(path_str(path), &[]);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} took {:?}",
            path.display(),
            started.elapsed()
        );
        let e = entries(&v).first().expect("the entry");
        assert_eq!(
            e["notes"].as_str().map(str::len),
            Some(10_000_000),
            "{}",
            path.display()
        );
        assert!(v["findings"].as_array().unwrap().is_empty(), "{:#}", v["findings"]);
    }
}

#[test]
fn a_10_mb_password_stays_concealed() {
    let dir = tempfile::tempdir().unwrap();
    let pw = "p".repeat(10_000_000);
    let path = dir.path().join("big-password.csv");
    std::fs::write(&path, format!("{LP_HEADER}\nhttps://a.example,u,{pw},,,Big,Ops,0\n")).unwrap();
    let r = run(&["inspect", "--json", path_str(&path)]).expect_code(0);
    assert!(r.stdout.len() < 100_000, "the password reached stdout");
    assert_eq!(r.json()["entries"][0]["password"], "[redacted]");
}

// ------------------------------------------------------------ 100k columns

#[test]
fn a_header_of_100k_columns_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let extra: String = (0..100_000).map(|i| format!(",c{i}")).collect();
    let path = dir.path().join("wide-header.csv");
    let cells = ",".repeat(100_000);
    std::fs::write(
        &path,
        format!("{LP_HEADER}{extra}\nhttps://a.example,u,pw,,,Wide,Ops,0{cells}\n"),
    )
    .unwrap();
    let started = Instant::now();
    let v = inspect_json(path_str(&path), &[]);
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(entries(&v).len(), 1);
}

#[test]
fn a_row_of_100k_cells_under_a_short_header_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let cells = ",z".repeat(100_000);
    let lp = dir.path().join("wide-lastpass.csv");
    std::fs::write(
        &lp,
        format!("{LP_HEADER}\nhttps://a.example,u,pw,,,Wide,Ops,0{cells}\n"),
    )
    .unwrap();
    let v = inspect_json(path_str(&lp), &[]);
    let f = findings(&v, "lastpass.row-skipped");
    assert_eq!(f.len(), 1, "{:#}", v["findings"]);
    assert_eq!(f[0]["line"], 2);
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("found 100008 fields, expected 8 fields"));

    let cells = ",\"z\"".repeat(100_000);
    let op = dir.path().join("wide-1password.csv");
    std::fs::write(
        &op,
        format!("{OP_HEADER}\n\"Wide\",\"https://a.example\",\"u\",\"pw\",\"\",\"false\",\"false\",\"\",\"\"{cells}\n"),
    )
    .unwrap();
    let v = inspect_json(path_str(&op), &[]);
    let f = findings(&v, "onepassword.csv-column-count");
    assert_eq!(f.len(), 1, "{:#}", v["findings"]);
    assert_eq!(f[0]["line"], 2);
    let fields = entries(&v)[0]["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 100_000);
    assert!(
        fields.iter().all(|f| f["concealed"] == true),
        "extra cells may be a split password"
    );
}

// ------------------------------------------------------------ duplicated headers

#[test]
fn a_column_named_twice_keeps_the_first_and_reports_the_repeat() {
    for (name, code) in [
        ("duplicate-columns-lastpass.csv", "lastpass.duplicate-column"),
        ("duplicate-columns-1password.csv", "onepassword.csv-duplicate-column"),
    ] {
        let path = bad(name);
        let v = assert_recovered(&path, code, 1, None);
        let f = findings(&v, code);
        assert!(
            f[0]["field"].as_str().unwrap_or("").eq_ignore_ascii_case("password"),
            "{:#}",
            f[0]
        );
        let revealed = run(&["inspect", "--json", "--reveal", &path]).expect_code(0).json();
        let e = &entries(&revealed)[0];
        assert_eq!(e["password"], "Pw-Mail-1", "the first column is the password");
        let kept = e["fields"].as_array().unwrap();
        assert!(
            kept.iter()
                .any(|f| f["value"] == "Pw-Mail-old" && f["concealed"] == true),
            "the repeated password is kept, concealed: {kept:#?}"
        );
    }
}

// ------------------------------------------------------------ sharing files

#[test]
fn a_sharing_file_of_the_other_vendor_is_refused() {
    let lp_sharing = sample("lastpass/sharing-getdetailedsfdata.json");
    let op_sharing = sample("onepassword/permissions.json");
    let lp_export = sample("lastpass/company.csv");
    let op_export = sample("onepassword/company.1pux");
    let cases = [
        (&lp_export, &op_sharing, "expected a LastPass shared-folder file"),
        (&op_export, &lp_sharing, "expected a 1Password vault-permissions bundle"),
    ];
    for (export, sharing, expected) in cases {
        let s = sharing.to_str().unwrap();
        let r = run(&["inspect", export.to_str().unwrap(), "--sharing", s]);
        assert_refused(&r, s, None, expected);
        assert!(
            r.stderr.contains(export.to_str().unwrap()),
            "the export is named too\n{}",
            r.describe()
        );
    }
}

#[test]
fn a_sharing_file_for_another_export_of_the_same_vendor_names_each_unknown_folder() {
    // The fixture has one folder, Ops; the sharing file speaks of four others.
    let export = "tests/fixtures/lastpass/older-header.csv";
    let sharing = sample("lastpass/sharing-getdetailedsfdata.json");
    let s = sharing.to_str().unwrap();
    let v = run(&["inspect", "--json", export, "--sharing", s])
        .expect_code(0)
        .json();
    let f = findings(&v, "lastpass.sharing-unknown-folder");
    assert!(f.len() >= 3, "{:#}", v["findings"]);
    for finding in &f {
        assert_eq!(finding["file"], s);
        assert!(
            finding["line"].as_u64().is_some() && finding["field"].is_string(),
            "{finding:#}"
        );
        assert!(finding["message"]
            .as_str()
            .unwrap()
            .contains("no Shared- folder of that name is in the export"));
    }
    let strict = run(&["inspect", "--strict", export, "--sharing", s]);
    assert_refused(&strict, s, None, "lastpass.sharing-unknown-folder");

    let export = sample("onepassword/company-1p8.csv");
    let sharing = sample("onepassword/permissions.json");
    let s = sharing.to_str().unwrap();
    let v = run(&["inspect", "--json", export.to_str().unwrap(), "--sharing", s])
        .expect_code(0)
        .json();
    let f = findings(&v, "onepassword.sharing-unknown-vault");
    assert!(!f.is_empty(), "{:#}", v["findings"]);
    assert!(f.iter().all(|x| x["file"] == s && x["field"].is_string()));
}

// ------------------------------------------------------------ configuration files

#[test]
fn a_seed_with_an_unknown_role_is_refused_naming_line_key_and_choices() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::fs::canonicalize(bad("seed-unknown-role.toml")).unwrap();
    let s = seed.to_str().unwrap();
    let r = checked(vaultferry_in(
        dir.path(),
        &["workspace", "init", "--db", "ws.db", "--seed", s],
    ));
    assert_refused(&r, s, Some(24), "field 'members.role': unknown role `overlord`");
    assert!(r
        .stderr
        .contains("expected one of owner, super_admin, admin, user, login_only, guest"));
    assert!(!dir.path().join("ws.db").exists(), "a refused seed leaves no database");
}

fn sample_workspace(dir: &Path) -> PathBuf {
    let db = dir.join("ws.db");
    let seed = sample("workspace.toml");
    run(&[
        "workspace",
        "init",
        "--db",
        path_str(&db),
        "--seed",
        seed.to_str().unwrap(),
    ])
    .expect_code(0);
    db
}

#[test]
fn a_policy_with_an_unknown_key_is_refused_naming_line_key_and_choices() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_workspace(dir.path());
    let policy = bad("policy-unknown-key.toml");
    let export = sample("lastpass/company.csv");
    let r = run(&[
        "plan",
        export.to_str().unwrap(),
        "--db",
        path_str(&db),
        "--policy",
        &policy,
    ]);
    assert_refused(
        &r,
        &policy,
        Some(2),
        "field 'company_domain': unknown field `company_domain`",
    );
    assert!(
        r.stderr.contains("expected one of `company_domains`"),
        "{}",
        r.describe()
    );
    // The message sends the user to a page the binary prints, not to a
    // file of the repository.
    assert!(r.stderr.contains("`vaultferry explain policy`"), "{}", r.describe());
}
