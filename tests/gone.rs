//! "Gone from the source" is what a run of the same source (vendor and
//! owner's vault) created earlier and the export no longer holds; what
//! other exports put in the workspace is none of a run's business.

mod common;

use std::path::Path;

use common::{northwind_db, sample, vaultferry_in};

/// A small export of another person's vault, beside the sample company's.
const SAMS_EXPORT: &str = "url,username,password,totp,extra,name,grouping,fav\n\
https://git.example/login,sam@northwind.example,Pw-Sam-Git-4kT9!q,,,Sam git,Sam,0\n\
https://ci.example/login,sam@northwind.example,Pw-Sam-Ci-7hQ2#w,,,Sam ci,Sam,0\n\
https://wiki.example/login,sam@northwind.example,Pw-Sam-Wiki-2mX5$z,,,Sam wiki,Sam,0\n";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn migrate(dir: &Path, db: &Path, export: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["migrate", s(export), "--db", s(db), "--yes", "--json"];
    args.extend_from_slice(extra);
    let run = vaultferry_in(dir, &args).success();
    run.json()
}

/// The names the report lists as gone.
fn gone(report: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = report["gone"]
        .as_array()
        .unwrap_or_else(|| panic!("no gone list: {report}"))
        .iter()
        .map(|g| g["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn bug10_an_upload_of_another_vault_lists_nothing_another_export_made_as_gone() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let company = sample("lastpass/company.csv");
    let first = migrate(dir.path(), &db, &company, &[]);
    assert!(gone(&first).is_empty());

    // Sam's own three entries into the workspace the company export filled.
    let sams = dir.path().join("sam.csv");
    std::fs::write(&sams, SAMS_EXPORT).unwrap();
    let upload = migrate(dir.path(), &db, &sams, &["--as", "sam@northwind.example"]);
    assert!(
        gone(&upload).is_empty(),
        "the company export's items listed as gone: {:?}",
        gone(&upload)
    );

    // Each source still sees its own: Sam drops one entry, the company
    // export (the same vault as before) drops none and lists none.
    let two: String = SAMS_EXPORT.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(&sams, two).unwrap();
    let sam_again = migrate(dir.path(), &db, &sams, &["--as", "sam@northwind.example"]);
    assert_eq!(gone(&sam_again), ["Sam wiki"], "{}", sam_again["gone"]);
    let company_again = migrate(dir.path(), &db, &company, &[]);
    assert!(gone(&company_again).is_empty(), "{}", company_again["gone"]);

    // The company export without one of its entries: that one is gone.
    let text = std::fs::read_to_string(&company).unwrap();
    let fewer = dir.path().join("company-fewer.csv");
    std::fs::write(
        &fewer,
        text.lines()
            .filter(|l| !l.contains("Proton Mail (personal)"))
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let company_fewer = migrate(dir.path(), &db, &fewer, &[]);
    assert_eq!(
        gone(&company_fewer),
        ["Proton Mail (personal)"],
        "{}",
        company_fewer["gone"]
    );

    // The dry run says the same.
    let plan = vaultferry_in(
        dir.path(),
        &["plan", s(&sams), "--db", s(&db), "--as", "sam@northwind.example"],
    )
    .success();
    let gone_lines: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.contains("gone from the source"))
        .collect();
    assert_eq!(gone_lines.len(), 1, "{}", plan.describe());
    assert!(gone_lines[0].contains("Sam wiki"), "{}", plan.describe());
}
