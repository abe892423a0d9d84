//! `vaultferry explain`: the pages and finding codes the help and the
//! messages send a user to are in the binary, so an installed copy with no
//! repository beside it can show every one.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{root, vaultferry_in};

/// Every finding code a string literal in `src/` can give a finding:
/// `"lastpass.…"`, `"onepassword.…"`, `"mapper.…"`, `"cxf.…"`.
fn codes_in_the_source() -> BTreeSet<String> {
    fn walk(dir: &Path, found: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for literal in text.split('"').skip(1).step_by(2) {
                    if vaultferry::docs::is_code(literal) {
                        found.insert(literal.to_owned());
                    }
                }
            }
        }
    }
    let mut found = BTreeSet::new();
    walk(&root().join("src"), &mut found);
    found
}

#[test]
fn explain_knows_every_finding_code_the_source_can_emit() {
    let codes = codes_in_the_source();
    // The LastPass, 1Password and mapper findings: dozens, not a few.
    assert!(codes.len() > 60, "only {} codes found: {codes:?}", codes.len());
    // Run where no formats/ folder is: the pages must be in the binary.
    let dir = tempfile::tempdir().unwrap();
    let mut unknown = Vec::new();
    for code in &codes {
        let run = vaultferry_in(dir.path(), &["explain", code]);
        if run.code != 0 {
            unknown.push(code.clone());
            continue;
        }
        let first = run.stdout.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("{code} (")) && ["error", "warning", "info"].iter().any(|s| first.contains(s)),
            "explain {code} names no severity\n{}",
            run.describe()
        );
        assert!(run.stdout.contains("vaultferry explain "), "{}", run.describe());
    }
    assert!(unknown.is_empty(), "explain does not know: {unknown:?}");
}

#[test]
fn explain_policy_prints_the_policy_page_compiled_in() {
    let dir = tempfile::tempdir().unwrap();
    let run = vaultferry_in(dir.path(), &["explain", "policy"]).success();
    let page = std::fs::read_to_string(root().join("formats/policy.md")).unwrap();
    assert_eq!(run.stdout.trim_end(), page.trim_end());
    // A format by its --from name, a sharing file by its vendor.
    for (topic, file) in [
        ("1pux", "onepassword-1pux.md"),
        ("lastpass-sharing", "lastpass-sharing.md"),
        ("1password-sharing", "onepassword-sharing.md"),
    ] {
        let run = vaultferry_in(dir.path(), &["explain", topic]).success();
        let page = std::fs::read_to_string(root().join("formats").join(file)).unwrap();
        assert_eq!(run.stdout.trim_end(), page.trim_end(), "explain {topic}");
    }
}

#[test]
fn explain_lists_its_pages_and_refuses_an_unknown_topic_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let list = vaultferry_in(dir.path(), &["explain"]).success();
    for page in [
        "policy",
        "lastpass-csv",
        "1pux",
        "1pif",
        "1password-csv",
        "lastpass-sharing",
    ] {
        assert!(list.stdout.contains(&format!("  {page} ")), "{}", list.describe());
    }
    let bad = vaultferry_in(dir.path(), &["explain", "mapper.no-such-rule"]).expect_code(2);
    assert!(
        bad.stderr.contains("mapper.no-such-rule") && bad.stderr.contains("no finding has this code"),
        "{}",
        bad.describe()
    );
    assert!(bad.stderr.contains("policy, lastpass-csv"), "{}", bad.describe());
}
