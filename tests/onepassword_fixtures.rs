//! The real-world 1Password files of pass-import (reference fixtures outside
//! the repository, `../shared/fixtures/pass-import`, or the folder named by
//! `VAULTFERRY_FIXTURES`) must hold the entries its `expected-main.yml`
//! lists. Skipped, with a note, where the fixtures are not present.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::vaultferry;
use serde_json::Value;

fn fixtures() -> Option<PathBuf> {
    common::pass_import_fixtures()
}

/// Just enough YAML for expected-main.yml: a list of flat maps whose values
/// are plain, double-quoted (with `\\` and `\"` escapes) or `|-` blocks.
fn parse_expected(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut out: Vec<BTreeMap<String, String>> = Vec::new();
    let mut block: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        if let Some((key, lines)) = block.as_mut() {
            if let Some(rest) = line.strip_prefix("    ") {
                lines.push(rest.to_owned());
                continue;
            }
            let value = lines.join("\n");
            let key = key.clone();
            out.last_mut().unwrap().insert(key, value);
            block = None;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed == "---" {
            continue;
        }
        let pair = if let Some(rest) = line.strip_prefix("- ") {
            out.push(BTreeMap::new());
            rest
        } else {
            trimmed
        };
        let (key, value) = pair.split_once(':').unwrap();
        let value = value.trim();
        if value == "|-" {
            block = Some((key.to_owned(), Vec::new()));
            continue;
        }
        let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(q) => q.replace("\\\\", "\u{0}").replace("\\\"", "\"").replace('\u{0}', "\\"),
            None => value.to_owned(),
        };
        out.last_mut().unwrap().insert(key.to_owned(), value);
    }
    if let Some((key, lines)) = block {
        out.last_mut().unwrap().insert(key, lines.join("\n"));
    }
    out
}

fn check(file: &str, with_group: bool) {
    let Some(dir) = fixtures() else {
        return;
    };
    let expected = parse_expected(&std::fs::read_to_string(dir.join("expected-main.yml")).unwrap());
    assert_eq!(expected.len(), 14);
    let path = dir.join(file);
    let v = vaultferry(&["inspect", "--json", "--reveal", path.to_str().unwrap()])
        .success()
        .json();
    let entries = v["entries"].as_array().unwrap();
    let s = |e: &Value, k: &str| e[k].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    for want in &expected {
        let found = entries.iter().any(|e| {
            let folder: Vec<&str> = e["folder"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            s(e, "title").as_ref() == want.get("title")
                && s(e, "username").as_ref() == want.get("login")
                && s(e, "password").as_ref() == want.get("password")
                && s(e, "notes").as_ref() == want.get("comments")
                && want
                    .get("url")
                    .map_or(true, |u| e["urls"].as_array().unwrap().iter().any(|x| x == u))
                && (!with_group || Some(&folder.join("/")) == want.get("group"))
        });
        assert!(found, "{file}: no entry matches {want:?}");
    }
}

#[test]
fn pif_with_bom_crlf_and_nested_folders() {
    check("1password.1pif", true);
}

#[test]
fn csv_1password_8() {
    check("1password8.csv", false);
}

#[test]
fn csv_1password_6_with_leading_empty_column_and_folder_in_type() {
    check("1password.csv", true);
}

#[test]
fn csv_1password_4() {
    check("1password4.csv", false);
}
