//! Runs `inspect` over the real exports of other projects' test suites in
//! `../shared/fixtures/` (present in CI, not part of this repository) and
//! checks that every entry pass-import expects is there, field by field.

mod common;

use std::path::PathBuf;

use common::vaultferry;
use serde_json::Value;

fn fixtures() -> Option<PathBuf> {
    common::pass_import_fixtures()
}

/// One entry of `expected-main.yml`.
#[derive(Debug, Default)]
struct Expected {
    title: String,
    password: Option<String>,
    login: Option<String>,
    url: Option<String>,
    comments: Option<String>,
    group: Option<String>,
}

/// Reads the small YAML subset the reference file uses: a list of maps with
/// plain, double-quoted (with `\\` escapes) and `|-` block scalars. Enough
/// for this one file; a YAML crate would be a dependency for a test input.
fn parse_expected(text: &str) -> Vec<Expected> {
    let mut out: Vec<Expected> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let item_start = trimmed.starts_with("- ");
        let body = if item_start { &trimmed[2..] } else { trimmed };
        if item_start {
            out.push(Expected::default());
        }
        let Some((key, raw)) = body.split_once(':') else {
            continue;
        };
        let Some(current) = out.last_mut() else { continue };
        let raw = raw.trim();
        let value = if raw == "|-" {
            let mut block = Vec::new();
            while let Some(next) = lines.peek() {
                if next.starts_with("    ") {
                    block.push(next.trim_start().to_owned());
                    lines.next();
                } else {
                    break;
                }
            }
            block.join("\n")
        } else if raw.starts_with('"') && raw.ends_with('"') && raw.len() >= 2 {
            raw[1..raw.len() - 1].replace("\\\\", "\\").replace("\\\"", "\"")
        } else {
            raw.to_owned()
        };
        match key.trim() {
            "title" => current.title = value,
            "password" => current.password = Some(value),
            "login" => current.login = Some(value),
            "url" => current.url = Some(value),
            "comments" => current.comments = Some(value),
            "group" => current.group = Some(value),
            _ => {}
        }
    }
    out
}

fn matches(entry: &Value, want: &Expected, check_group: bool) -> bool {
    let s = |k: &str| entry[k].as_str().unwrap_or("").to_owned();
    if s("title") != want.title {
        return false;
    }
    if s("username") != want.login.clone().unwrap_or_default() {
        return false;
    }
    if s("password") != want.password.clone().unwrap_or_default() {
        return false;
    }
    if s("notes").trim_end() != want.comments.clone().unwrap_or_default() {
        return false;
    }
    if let Some(url) = &want.url {
        let urls: Vec<&str> = entry["urls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if !urls.contains(&url.as_str()) {
            return false;
        }
    }
    if check_group {
        let folder: Vec<&str> = entry["folder"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if folder.join("/") != want.group.clone().unwrap_or_default() {
            return false;
        }
    }
    true
}

fn check(file: &str, check_group: bool) {
    let Some(dir) = fixtures() else { return };
    let expected = parse_expected(&std::fs::read_to_string(dir.join("expected-main.yml")).unwrap());
    assert_eq!(expected.len(), 14, "the reference file changed shape");
    let path = dir.join(file);
    let run = vaultferry(&["inspect", path.to_str().unwrap(), "--json", "--reveal"]).success();
    let json = run.json();
    let entries = json["entries"].as_array().expect("entries array");
    for want in &expected {
        assert!(
            entries.iter().any(|e| matches(e, want, check_group)),
            "{file}: no entry matches {want:?}\n{}",
            run.describe()
        );
    }
}

#[test]
fn lastpass_csv_holds_every_reference_entry() {
    check("lastpass.csv", true);
}

#[test]
fn onepassword_1pif_holds_every_reference_entry_with_folders() {
    check("1password.1pif", true);
}

#[test]
fn onepassword_6_csv_holds_every_reference_entry() {
    check("1password.csv", true);
}

#[test]
fn onepassword_8_csv_holds_every_reference_entry() {
    check("1password8.csv", false);
}

#[test]
fn onepassword_4_csv_holds_every_reference_entry() {
    check("1password4.csv", false);
}

#[test]
fn plain_inspect_of_every_fixture_succeeds_without_leaking() {
    let Some(dir) = fixtures() else { return };
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yml") {
            continue;
        }
        let p = path.to_str().unwrap();
        let revealed = vaultferry(&["inspect", p, "--json", "--reveal"]).success().json();
        let secrets = common::secrets_in_revealed(&revealed);
        assert!(!secrets.is_empty(), "{p}: no secrets found to check");
        for args in [vec!["inspect", p], vec!["inspect", p, "--json"]] {
            let run = vaultferry(&args).success();
            common::assert_no_secrets(&run.command, &run.stdout, &secrets);
            common::assert_no_secrets(&run.command, &run.stderr, &secrets);
        }
    }
}
