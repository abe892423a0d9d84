//! What the plan says about inputs that are not there: shared folders
//! planned without the sharing file that says who had them, and an export
//! with no entries. Both would otherwise plan "successfully" and quietly
//! give nobody anything.

mod common;

use common::{northwind_db, sample, vaultferry_in, Run};

fn plan(dir: &std::path::Path, args: &[&str]) -> Run {
    let db = northwind_db(dir);
    let mut all = vec!["plan", "--db", db.to_str().unwrap()];
    all.extend_from_slice(args);
    vaultferry_in(dir, &all).success()
}

/// The one line of `stdout` naming `code`, and the help line under it.
fn finding_lines<'a>(run: &'a Run, code: &str) -> (&'a str, Option<&'a str>) {
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(&format!("[{code}]")))
        .unwrap_or_else(|| panic!("no {code}\n{}", run.describe()));
    let help = lines
        .get(at + 1)
        .filter(|l| l.trim_start().starts_with("help: "))
        .copied();
    (lines[at], help)
}

#[test]
fn lastpass_shared_folders_without_sharing_warn_who_gets_access_and_how_to_fetch_it() {
    let dir = tempfile::tempdir().unwrap();
    let export = sample("lastpass/company.csv");
    let run = plan(dir.path(), &[export.to_str().unwrap()]);
    let (line, help) = finding_lines(&run, "mapper.sharing-not-given");
    assert!(line.starts_with("  warning["), "{line}");
    // The sample's three Shared- folders and the one person left with them.
    for part in [
        "nobody but olivia@northwind.example",
        "3 shared folders (Engineering, Finance, Vendors; 15 items)",
    ] {
        assert!(line.contains(part), "{part:?} missing from {line}");
    }
    let help = help.unwrap_or_else(|| panic!("no help line\n{}", run.describe()));
    assert!(
        help.contains("getdetailedsfdata") && help.contains("vaultferry explain lastpass-sharing"),
        "{help}"
    );
    // The same warning in what a reviewer reads, with the whole message.
    let json = vaultferry_in(
        dir.path(),
        &["plan", "--db", "northwind.db", export.to_str().unwrap(), "--json"],
    )
    .success()
    .json();
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "mapper.sharing-not-given")
        .expect("the finding is in the plan");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["message"].as_str().unwrap().contains("neither granted nor invited"),
        "{f}"
    );
}

#[test]
fn with_the_sharing_file_there_is_no_such_warning() {
    let dir = tempfile::tempdir().unwrap();
    let export = sample("lastpass/company.csv");
    let sharing = sample("lastpass/sharing-getdetailedsfdata.json");
    let run = plan(
        dir.path(),
        &[export.to_str().unwrap(), "--sharing", sharing.to_str().unwrap()],
    );
    assert!(!run.stdout.contains("sharing-not-given"), "{}", run.describe());
}

#[test]
fn onepassword_shared_vaults_without_permissions_say_how_to_gather_them_with_op() {
    let dir = tempfile::tempdir().unwrap();
    let export = sample("onepassword/company.1pux");
    let run = plan(dir.path(), &[export.to_str().unwrap()]);
    let (line, help) = finding_lines(&run, "mapper.sharing-not-given");
    // A 1PUX names its account: its owner keeps the shared vaults.
    assert!(line.contains("nobody but sam@northwind.example"), "{line}");
    assert!(line.contains("shared vaults"), "{line}");
    let help = help.unwrap_or_else(|| panic!("no help line\n{}", run.describe()));
    assert!(
        help.contains("op vault user list") && help.contains("vaultferry explain 1password-sharing"),
        "{help}"
    );
}

#[test]
fn an_export_with_no_entries_gets_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("header-only.csv"),
        "url,username,password,totp,extra,name,grouping,fav\n",
    )
    .unwrap();
    let run = plan(dir.path(), &["header-only.csv"]);
    let (line, _) = finding_lines(&run, "mapper.no-entries");
    assert!(
        line.starts_with("  warning[") && line.contains("header-only.csv") && line.contains("nothing will be imported"),
        "{line}"
    );
    assert!(run.stdout.contains("0 source entries"), "{}", run.describe());
}

#[test]
fn a_cxf_export_carries_its_own_shares_and_needs_no_sharing_file() {
    let dir = tempfile::tempdir().unwrap();
    let export = sample("cxf/company.cxf.json");
    let run = plan(dir.path(), &[export.to_str().unwrap()]);
    // Its shared collection is planned with the people the export names.
    assert!(run.stdout.contains("(1 shared)"), "{}", run.describe());
    assert!(run.stdout.contains("guests on"), "{}", run.describe());
    assert!(!run.stdout.contains("sharing-not-given"), "{}", run.describe());
}
