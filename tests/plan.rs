//! `vaultferry plan` end to end: the sample company's LastPass and
//! 1Password exports, with their sharing files, against the Northwind
//! Robotics workspace (`samples/workspace.toml`).

mod common;

use std::path::Path;

use common::{
    assert_no_secrets, northwind_db, sample, secrets_in_revealed, vaultferry, Run, Source, LASTPASS, ONEPASSWORD,
};
use serde_json::Value;

fn plan(source: &Source, db: &Path, extra: &[&str]) -> Run {
    let export = sample(source.export);
    let sharing = sample(source.sharing);
    let mut args = vec![
        "plan",
        export.to_str().unwrap(),
        "--sharing",
        sharing.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    vaultferry(&args)
}

/// The secret values of the export, from `inspect --json --reveal`.
fn secrets_of(source: &Source) -> Vec<String> {
    let export = sample(source.export);
    let run = vaultferry(&["inspect", export.to_str().unwrap(), "--json", "--reveal"]).success();
    secrets_in_revealed(&run.json())
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

fn invitation<'a>(plan: &'a Value, email: &str) -> Option<&'a Value> {
    plan["invitations"].as_array()?.iter().find(|i| i["email"] == email)
}

fn grants_to<'a>(plan: &'a Value, who: &str) -> Vec<&'a Value> {
    plan["grants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|g| g["grantee"]["email"] == who || g["grantee"]["name"] == who)
        .collect()
}

fn unmatched<'a>(plan: &'a Value, email: &str) -> Vec<&'a Value> {
    plan["unmatched"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|u| u["email"] == email)
        .collect()
}

fn team<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["teams"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no team {name} in {:#}", plan["teams"]))
}

fn codes(plan: &Value) -> Vec<String> {
    plan["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str().map(str::to_owned))
        .collect()
}

/// What both samples must give, whatever the vendor.
fn check_the_cast(plan: &Value, run: &Run) {
    let ctx = run.describe();
    // Outside sharers: one invitation each, however many folders or spellings.
    let emails: Vec<String> = plan["invitations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["email"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        emails
            .iter()
            .filter(|e| e.as_str() == "jules@studio-jules.example")
            .count(),
        1,
        "{ctx}"
    );
    let ravi = invitation(plan, "ravi@acme-partners.example").unwrap_or_else(|| panic!("ravi not invited\n{ctx}"));
    assert_eq!(ravi["partner"], "Acme Partners", "{ctx}");
    assert_eq!(
        invitation(plan, "jules@studio-jules.example").unwrap()["partner"],
        Value::Null
    );
    assert!(
        invitation(plan, "tom@initech.example").is_some(),
        "Initech is not accepted\n{ctx}"
    );
    // Globex is an accepted partnership: shared through it, nobody invited.
    assert!(invitation(plan, "kim@globex.example").is_none(), "{ctx}");
    let globex = grants_to(plan, "Globex");
    assert!(!globex.is_empty(), "{ctx}");
    assert!(globex.iter().all(|g| g["grantee"]["type"] == "partnership"));
    // Never invite the company's own people.
    for e in &emails {
        assert!(
            !e.ends_with("@northwind.example") && !e.ends_with("@nwr.example"),
            "{e} invited\n{ctx}"
        );
    }

    // Ravi administered Vendors: lowered to Collaborator, and the plan says so.
    let ravi_grants = grants_to(plan, "ravi@acme-partners.example");
    assert!(!ravi_grants.is_empty(), "{ctx}");
    assert!(ravi_grants.iter().all(|g| g["role"] == "collaborator"), "{ctx}");
    assert!(ravi_grants.iter().any(|g| g["lowered_from"] == "owner"), "{ctx}");
    assert!(plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "mapper.guest-role-lowered"
            && f["message"]
                .as_str()
                .unwrap_or("")
                .contains("ravi@acme-partners.example")));
    // Every guest grant is Collaborator.
    for g in plan["grants"].as_array().unwrap() {
        if g["grantee"]["type"] == "guest" {
            assert_eq!(g["role"], "collaborator", "{g}");
        }
    }

    // Mark left the company: unmatched, not invited, no grant.
    let mark = unmatched(plan, "mark@northwind.example");
    assert_eq!(mark.len(), 1, "{ctx}");
    assert_eq!(mark[0]["reason"], "left_company");
    assert!(!mark[0]["items"].as_array().unwrap().is_empty(), "{ctx}");
    assert!(grants_to(plan, "mark@northwind.example").is_empty());
    // Felix is suspended: no grant.
    assert!(grants_to(plan, "felix@northwind.example").is_empty(), "{ctx}");
    assert!(!unmatched(plan, "felix@northwind.example").is_empty(), "{ctx}");
    // Lee may edit but not administer Engineering.
    assert!(grants_to(plan, "lee@northwind.example")
        .iter()
        .all(|g| g["role"] == "collaborator"));
    assert!(codes(plan).contains(&"mapper.edit-not-admin".to_owned()), "{ctx}");
    // Legacy is shared but not in the export: a finding (from the sharing
    // parser or the mapper) names it, and no collection is made for it.
    assert!(
        plan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["message"].as_str().unwrap_or("").contains("Legacy")),
        "{ctx}"
    );
    assert!(plan["collections"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["name"] != "Legacy"));

    // Teams: Engineering exists; Ops is created.
    let eng = team(plan, "Engineering");
    assert!(eng["existing"].is_i64(), "{ctx}");
    let ops = team(plan, "Ops");
    assert_eq!(ops["existing"], Value::Null);
    assert!(!grants_to(plan, "Ops").is_empty(), "{ctx}");

    // Personal folders belong to the importer.
    assert!(grants_to(plan, "sam@northwind.example")
        .iter()
        .any(|g| g["role"] == "owner" && g["source_access"] == "personal"));

    // Every source entry is accounted for.
    let n = |k: &str| plan[k].as_array().map_or(0, Vec::len) as u64;
    assert_eq!(
        plan["source_entries"].as_u64(),
        Some(n("accounts") + n("secrets") + n("skipped")),
        "{ctx}"
    );
    // Every planned object carries its import key.
    for list in ["collections", "accounts", "secrets", "teams", "invitations", "grants"] {
        for o in plan[list].as_array().unwrap() {
            assert!(o["key"].as_str().is_some_and(|k| !k.is_empty()), "{list}: {o}");
        }
    }
}

fn check_summary(run: &Run) {
    let out = &run.stdout;
    for needle in [
        "Plan: ",
        "→ Northwind Robotics, as sam@northwind.example",
        "collections: ",
        "accounts: ",
        "grants: ",
        "teams: ",
        "guest invitations: ",
        "guest invitations: 3 (1 joining 1 partner; grants collaborator ",
        "): jules@studio-jules.example, ravi@acme-partners.example",
        "ravi@acme-partners.example on Vendors: admin",
        "unmatched users (lose their access, not invited): ",
        "1 left the company",
        "reconciliation: ",
        "findings: ",
    ] {
        assert!(out.contains(needle), "{needle:?} missing\n{}", run.describe());
    }
}

fn plan_end_to_end(source: &Source) {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let secrets = secrets_of(source);
    assert!(!secrets.is_empty(), "the sample holds secrets");

    let run = plan(source, &db, &["--as", "sam@northwind.example", "--json"]).success();
    let json = run.json();
    check_the_cast(&json, &run);
    assert_no_secrets("plan --json", &run.stdout, &secrets);
    assert_no_secrets("plan --json stderr", &run.stderr, &secrets);

    let run = plan(source, &db, &["--as", "sam@northwind.example"]).success();
    check_summary(&run);
    assert_no_secrets("plan summary", &run.stdout, &secrets);

    // Without --as, the workspace owner runs it.
    let run = plan(source, &db, &["--json"]).success();
    assert_eq!(run.json()["importer"], "olivia@northwind.example");
}

#[test]
fn lastpass_sample_plan() {
    plan_end_to_end(&LASTPASS);
}

#[test]
fn onepassword_sample_plan() {
    plan_end_to_end(&ONEPASSWORD);
    // 1Password's permissions name the Ops group's members and say who
    // never accepted (state INVITED).
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let plan = plan(&ONEPASSWORD, &db, &["--json"]).success().json();
    assert_eq!(
        strs(&team(&plan, "Ops")["members"]),
        vec!["lee@northwind.example", "priya@northwind.example"]
    );
    assert!(unmatched(&plan, "tom@initech.example")
        .iter()
        .any(|u| u["reason"] == "never_accepted"));
}

#[test]
fn guests_and_login_only_members_cannot_run_the_importer() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let run = plan(&ONEPASSWORD, &db, &["--as", "mo@freelance.example"]).expect_code(2);
    assert!(
        run.stderr
            .contains("mo@freelance.example is a guest; guests and login-only members cannot use the importer"),
        "{}",
        run.describe()
    );
    assert!(run.stdout.is_empty());
    let run = plan(&ONEPASSWORD, &db, &["--as", "kiosk@northwind.example"]).expect_code(2);
    assert!(run.stderr.contains("login-only"), "{}", run.describe());
    let run = plan(&ONEPASSWORD, &db, &["--as", "mark@northwind.example"]).expect_code(2);
    assert!(run.stderr.contains("not a member"), "{}", run.describe());
}

#[test]
fn a_bad_policy_stops_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("vaultferry.toml");
    std::fs::write(&policy, "import_archived = true\n[roles]\nedit = \"manager\"\n").unwrap();
    // The database does not exist: the policy error must come first.
    let missing = dir.path().join("missing.db");
    let run = plan(&ONEPASSWORD, &missing, &["--policy", policy.to_str().unwrap()]).expect_code(2);
    assert!(run.stderr.contains("vaultferry.toml:line 3"), "{}", run.describe());
    assert!(run.stderr.contains("roles.edit"), "{}", run.describe());
}

#[test]
fn the_sample_policy_changes_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let policy = dir.path().join("vaultferry.toml");
    std::fs::write(&policy, "invite_guests = false\n[roles]\nedit = \"owner\"\n").unwrap();
    let run = plan(&ONEPASSWORD, &db, &["--policy", policy.to_str().unwrap(), "--json"]).success();
    let json = run.json();
    assert_eq!(
        json["invitations"].as_array().map(Vec::len),
        Some(0),
        "{}",
        run.describe()
    );
    assert!(unmatched(&json, "jules@studio-jules.example")
        .iter()
        .any(|u| u["reason"] == "invitations_off"));
    assert!(grants_to(&json, "lee@northwind.example")
        .iter()
        .any(|g| g["role"] == "owner"));
    // The sample policy file itself is accepted.
    let sample_policy = sample("vaultferry.toml");
    plan(&ONEPASSWORD, &db, &["--policy", sample_policy.to_str().unwrap()]).success();
}

#[test]
fn the_policy_can_turn_on_html_entity_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let severity_of_entities = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        let plan = plan(&LASTPASS, &db, &args).success().json();
        plan["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["code"] == "lastpass.html-entities")
            .filter_map(|f| f["severity"].as_str().map(str::to_owned))
            .collect()
    };
    // The sample has entity-encoded values: kept and warned about by default…
    assert!(severity_of_entities(&[]).contains(&"warning".to_owned()));
    // …decoded (and only noted) when the policy asks.
    let policy = dir.path().join("vaultferry.toml");
    std::fs::write(&policy, "decode_html_entities = true\n").unwrap();
    let decoded = severity_of_entities(&["--policy", policy.to_str().unwrap()]);
    assert!(!decoded.is_empty());
    assert!(decoded.iter().all(|s| s == "info"), "{decoded:?}");
}
