//! The README is for users: its first screen is enough for a first dry
//! run, it links nowhere outside the repository, and every
//! `vaultferry explain NAME` it or a message of the binary names exists.

mod common;

use common::root;

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

#[test]
fn the_first_screen_has_the_two_commands_and_a_first_dry_run() {
    let text = readme();
    let first: String = text.lines().take(45).collect::<Vec<_>>().join("\n");
    for needed in [
        "cargo run -- workspace init --db demo.db --seed samples/workspace.toml",
        "cargo run -- migrate samples/lastpass/company.csv --sharing samples/lastpass/sharing-getdetailedsfdata.json --db demo.db --yes",
        "\n.ci/test\n",
        "Rust toolchain",
        "vaultferry workspace init --db",
        "vaultferry plan export.csv --sharing sharing.json --db",
    ] {
        assert!(first.contains(needed), "the README's first screen lacks {needed:?}:\n{first}");
    }
    assert!(root().join(".ci/test").is_file());
}

#[test]
fn the_readme_links_nowhere_outside_the_repository() {
    for (n, line) in readme().lines().enumerate() {
        for scheme in ["http://", "https://"] {
            for (at, _) in line.match_indices(scheme) {
                let rest = &line[at + scheme.len()..];
                assert!(
                    rest.starts_with("127.0.0.1") || rest.starts_with("localhost") || rest.starts_with("HOST"),
                    "README.md:{}: a link outside the repository: {line}",
                    n + 1
                );
            }
        }
        // Links inside the repository point at files that exist.
        for target in line.split("](").skip(1).filter_map(|s| s.split(')').next()) {
            if !target.starts_with('#') {
                assert!(
                    root().join(target).exists(),
                    "README.md:{}: {target} does not exist",
                    n + 1
                );
            }
        }
    }
}

/// Every `vaultferry explain WORD` in `text`.
fn explained(text: &str) -> Vec<String> {
    text.match_indices("vaultferry explain ")
        .map(|(at, m)| {
            text[at + m.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
                .collect::<String>()
                .trim_end_matches('.')
                .to_owned()
        })
        .filter(|w| !w.is_empty() && w.chars().any(|c| c.is_ascii_lowercase()) && w != "NAME" && w != "CODE")
        .collect()
}

#[test]
fn every_explain_page_the_readme_and_the_binary_name_exists() {
    let mut texts = vec![("README.md".to_owned(), readme())];
    let mut stack = vec![root().join("src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                texts.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut named = 0;
    for (file, text) in &texts {
        for word in explained(text) {
            named += 1;
            let known = vaultferry::docs::page(&word).is_some() || vaultferry::docs::finding(&word).is_some();
            assert!(
                known,
                "{file} sends the user to `vaultferry explain {word}`, which does not exist"
            );
        }
    }
    assert!(named > 20, "only {named} references found");
}
