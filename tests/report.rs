//! The reports of `plan --report` and `migrate --report`, end to end on the
//! samples: each format's content, the reconciliation line, and not one
//! sample secret in any of them.

mod common;

use std::path::{Path, PathBuf};

use common::{
    assert_no_secrets, northwind_db, sample, secrets_in_revealed, vaultferry, Run, Source, LASTPASS, ONEPASSWORD,
};
use serde_json::Value;

fn run(command: &str, source: &Source, db: &Path, extra: &[&str]) -> Run {
    let export = sample(source.export);
    let sharing = sample(source.sharing);
    let mut args = vec![
        command,
        export.to_str().unwrap(),
        "--sharing",
        sharing.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    vaultferry(&args)
}

fn secrets_of(source: &Source) -> Vec<String> {
    let export = sample(source.export);
    let run = vaultferry(&["inspect", export.to_str().unwrap(), "--json", "--reveal"]).success();
    let secrets = secrets_in_revealed(&run.json());
    assert!(secrets.len() > 5, "the sample holds secrets");
    secrets
}

/// Writes all four formats with `plan --report` and returns their text.
fn plan_reports(source: &Source, dir: &Path, db: &Path) -> (Run, [String; 4]) {
    let files = ["plan.json", "plan.md", "plan.html", "unmatched.csv"].map(|f| dir.join(f));
    let mut extra = Vec::new();
    for f in &files {
        extra.push("--report");
        extra.push(f.to_str().unwrap());
    }
    let r = run("plan", source, db, &extra).success();
    let texts = files.map(|f| std::fs::read_to_string(f).unwrap());
    (r, texts)
}

#[test]
fn every_report_format_has_its_content_and_no_secret() {
    for source in [&LASTPASS, &ONEPASSWORD] {
        let dir = tempfile::tempdir().unwrap();
        let db = northwind_db(dir.path());
        let secrets = secrets_of(source);
        let (run, [json, md, html, csv]) = plan_reports(source, dir.path(), &db);
        assert_no_secrets("plan stdout", &run.stdout, &secrets);
        for (what, text) in [("json", &json), ("markdown", &md), ("html", &html), ("csv", &csv)] {
            assert_no_secrets(what, text, &secrets);
        }

        // JSON: versioned, with every section and a holding reconciliation.
        let j: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(j["schema_version"], 1);
        assert_eq!(j["kind"], "plan");
        assert_eq!(j["workspace"]["name"], "Northwind Robotics");
        assert_eq!(j["reconciliation"]["holds"], true);
        let rec = &j["reconciliation"];
        let n = |k: &str| rec[k].as_u64().unwrap();
        assert_eq!(
            n("source_entries"),
            n("created") + n("updated") + n("unchanged") + n("conflicts") + n("skipped")
        );
        assert!(n("created") > 0);
        assert_eq!(
            j["summary"]["accounts"]["create"].as_u64(),
            Some(j_items(&j, "account"))
        );
        let emails: Vec<&str> = j["invitations"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["email"].as_str())
            .collect();
        assert!(emails.contains(&"jules@studio-jules.example"), "{emails:?}");
        assert_eq!(emails.iter().filter(|e| **e == "jules@studio-jules.example").count(), 1);
        assert!(j["unmatched"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["email"] == "mark@northwind.example" && !u["items"].as_array().unwrap().is_empty()));
        assert!(j["lowered_roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["grantee"] == "ravi@acme-partners.example" && l["to"] == "collaborator"));
        let eng = j["collections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "Engineering")
            .unwrap();
        if source.export.starts_with("lastpass") {
            // LastPass folders nest; 1Password vaults do not.
            assert!(eng["children"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "Databases"));
        }

        // Markdown and HTML: the same sections for a person.
        for (what, text) in [("markdown", &md), ("html", &html)] {
            for needle in [
                "Northwind Robotics",
                "Guest invitations",
                "Lowered roles",
                "Unmatched users",
                "Skipped items",
                "Findings",
                "Engineering",
                "Vendors",
                "jules@studio-jules.example",
                "mark@northwind.example",
                "(holds)",
            ] {
                assert!(text.contains(needle), "{what}: {needle:?} missing\n{text}");
            }
        }
        // One self-contained page: its own inline script, no external
        // resource, nothing fetched.
        assert!(html.starts_with("<!DOCTYPE html>"));
        for banned in ["src=", "href=\"http", "@import", "fetch(", "XMLHttpRequest", "<link"] {
            assert!(!html.contains(banned), "html holds {banned:?}");
        }
        // Every item of the JSON is in the page's item data, in its collection.
        let listed = common::html_items(&html);
        assert_eq!(listed.len() as u64, j_items(&j, "account") + j_items(&j, "secret"));
        assert!(listed.iter().all(|i| i.action == "create"));

        // CSV: the unmatched users with their items and access.
        let mut rows = csv::Reader::from_reader(csv.as_bytes());
        let headers = rows.headers().unwrap().clone();
        assert_eq!(
            headers.iter().collect::<Vec<_>>(),
            ["email", "name", "reason", "items", "item_names", "access"]
        );
        let mark = rows
            .records()
            .map(|r| r.unwrap())
            .find(|r| &r[0] == "mark@northwind.example")
            .expect("mark is unmatched");
        assert!(mark[3].parse::<usize>().unwrap() > 0);
        assert!(mark[5].contains("Engineering"), "{mark:?}");
    }
}

fn j_items(j: &Value, kind: &str) -> u64 {
    fn walk(nodes: &Value, kind: &str) -> u64 {
        nodes
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| {
                n["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|i| i["kind"] == kind && i["action"] == "create")
                    .count() as u64
                    + walk(&n["children"], kind)
            })
            .sum()
    }
    walk(&j["collections"], kind)
        + j["root_items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == kind && i["action"] == "create")
            .count() as u64
}

#[test]
fn html_escapes_what_an_export_could_smuggle_in() {
    use vaultferry::report::html::esc;
    assert_eq!(
        esc("<img src=x onerror=alert(1)> & \"q\" 'a'"),
        "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot; &#39;a&#39;"
    );
    // The LastPass sample has an entry named with `&amp;` (kept as written).
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let (_, [_, _, html, _]) = plan_reports(&LASTPASS, dir.path(), &db);
    // Item names are data the page's script sets as text, kept as written.
    assert!(
        common::html_items(&html).iter().any(|i| i.name == "Costco &amp; more"),
        "the entry is in the page's items as written"
    );
    assert!(!html.contains("Costco &amp; more"), "no item name is markup");
}

#[test]
fn unknown_report_extensions_are_refused_naming_the_allowed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let pdf = dir.path().join("plan.pdf");
    let r = run("plan", &LASTPASS, &db, &["--report", pdf.to_str().unwrap()]).expect_code(2);
    assert!(r.stderr.contains(".json, .md, .html, .csv"), "{}", r.describe());
    assert!(!pdf.exists());
}

#[test]
fn migrate_refuses_without_a_terminal_or_yes_then_applies_and_reruns_with_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let secrets = secrets_of(&LASTPASS);

    let r = run("migrate", &LASTPASS, &db, &[]).expect_code(2);
    assert!(r.stderr.contains("--yes"), "{}", r.describe());
    // Nothing was written.
    run("plan", &LASTPASS, &db, &["--fail-on-changes"]).expect_code(1);

    let report = dir.path().join("run.json");
    let html = dir.path().join("run.html");
    let md = dir.path().join("run.md");
    let first = run(
        "migrate",
        &LASTPASS,
        &db,
        &[
            "--yes",
            "--report",
            report.to_str().unwrap(),
            "--report",
            html.to_str().unwrap(),
            "--report",
            md.to_str().unwrap(),
        ],
    )
    .success();
    for f in [&html, &md] {
        let text = std::fs::read_to_string(f).unwrap();
        assert_no_secrets("migrate report", &text, &secrets);
        assert!(text.contains("Migration report") && text.contains("run-"), "{text}");
    }
    assert!(first.stdout.contains("run id: run-"), "{}", first.describe());
    assert!(
        first.stderr.contains("collections: 6/6"),
        "plain progress lines when piped\n{}",
        first.describe()
    );
    assert_no_secrets("migrate stdout", &first.stdout, &secrets);
    assert_no_secrets("migrate stderr", &first.stderr, &secrets);
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(j["kind"], "migrate");
    assert!(j["run_id"].as_str().unwrap().starts_with("run-"));
    assert!(j["written"].as_u64().unwrap() > 0);
    assert_no_secrets("migrate report", &j.to_string(), &secrets);

    // The outbox holds one owner-only email per guest; its password is in
    // no output.
    let outbox = PathBuf::from(format!("{}.outbox", db.display()));
    let emails: Vec<PathBuf> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(emails.len(), 3, "{emails:?}");
    for e in &emails {
        let text = std::fs::read_to_string(e).unwrap();
        let pw = text
            .lines()
            .find_map(|l| l.strip_prefix("Temporary password: "))
            .unwrap();
        assert!(!first.stdout.contains(pw) && !first.stderr.contains(pw));
        assert!(!j.to_string().contains(pw));
    }

    run("plan", &LASTPASS, &db, &["--fail-on-changes"]).success();
    let again = run("migrate", &LASTPASS, &db, &["--json"]).success();
    let j = again.json();
    assert_eq!(j["written"], 0);
    assert_eq!(j["to_write"], 0);
    assert_eq!(j["reconciliation"]["unchanged"], j["reconciliation"]["source_entries"]);
    assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), 3, "nobody invited twice");
}

#[test]
fn migrate_refuses_a_bad_smtp_url_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let r = run("migrate", &LASTPASS, &db, &["--yes", "--smtp", "mail.example:25"]).expect_code(2);
    assert!(r.stderr.contains("smtp://HOST:PORT"), "{}", r.describe());
    run("plan", &LASTPASS, &db, &["--fail-on-changes"]).expect_code(1);
}

/// The people section of a Markdown report: from its heading to the tree's.
fn people_part(md: &str) -> &str {
    let start = md.find("## Who gains access").expect("a people section");
    let end = md.find("## Collections").expect("a collection tree");
    assert!(start < end, "people come before the tree");
    &md[start..end]
}

#[test]
fn people_come_first_with_every_grantee_the_partnership_included() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let (_, [json, md, html, _]) = plan_reports(&LASTPASS, dir.path(), &db);
    let j: Value = serde_json::from_str(&json).unwrap();

    // Every grant on a collection in the JSON is a line under that
    // collection in the Markdown's people section, before the tree.
    let people = people_part(&md);
    let grants = j["grants"].as_array().unwrap();
    let on_collections: Vec<&Value> = grants
        .iter()
        .filter(|g| g["target_kind"] == "collection" && g["source_access"] != "personal")
        .collect();
    // The owner's own folders are counted, not listed one by one.
    let personal = grants
        .iter()
        .filter(|g| g["target_kind"] == "collection" && g["source_access"] == "personal")
        .count();
    assert!(personal > 0);
    assert!(
        people.contains(&format!(
            "- *personal folders*\n  - member olivia@northwind.example: owner on {personal} {} (personal)",
            if personal == 1 { "collection" } else { "collections" }
        )),
        "{people}"
    );
    assert!(
        on_collections.iter().any(|g| g["grantee_kind"] == "partnership"),
        "the sample shares Vendors through the Globex partnership"
    );
    for g in &on_collections {
        let heading = format!("- **{}**", g["target"].as_str().unwrap());
        let at = people
            .find(&heading)
            .unwrap_or_else(|| panic!("{heading} missing\n{people}"));
        let section = people[at + heading.len()..].split("\n- ").next().unwrap();
        let line = format!(
            "  - {} {}: {} ({})",
            g["grantee_kind"].as_str().unwrap(),
            g["grantee"].as_str().unwrap(),
            g["role"].as_str().unwrap(),
            g["source_access"].as_str().unwrap()
        );
        assert!(section.contains(&line), "{line:?} not under {heading}\n{people}");
    }
    assert!(
        people.contains("  - partnership Globex: collaborator (edit)"),
        "{people}"
    );
    // The guests with what they had and what they get; what was lowered;
    // who can now see passwords; who is left out.
    assert!(
        people.contains("| ravi@acme-partners.example | Acme Partners (Guest Admin) | Vendors: admin → collaborator |"),
        "{people}"
    );
    assert!(
        people.contains("jules@studio-jules.example | — | Finance: read-only, hide passwords → collaborator"),
        "{people}"
    );
    let see = people.split("## Can now see passwords").nth(1).unwrap();
    assert!(
        see.split("## ")
            .next()
            .unwrap()
            .contains("guest jules@studio-jules.example on Vendors"),
        "{people}"
    );
    assert!(people.contains("ravi@acme-partners.example on Vendors: admin (owner) → collaborator"));
    assert!(people.contains("| mark@northwind.example | left the company | Engineering (edit) | 8 items:"));

    // The HTML: the same, first.
    let who = html.find("<h2>Who gains access</h2>").unwrap();
    assert!(who < html.find("<h2>Collections</h2>").unwrap());
    assert!(who < html.find("<h2>Summary</h2>").unwrap());
    let vendors = &html[html.find("<b>Vendors</b></td>").expect("Vendors in the people table")..];
    let vendors = vendors.split("</b></td>").nth(1).unwrap();
    assert!(
        vendors.contains("<span class=\"k\">partnership</span> Globex</td><td>collaborator</td><td>edit</td>"),
        "{vendors}"
    );
}

#[test]
fn migrate_verbose_prints_people_first_with_the_partnership() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let r = run("migrate", &LASTPASS, &db, &["--yes", "--verbose"]).success();
    let who = r
        .stdout
        .find("who gains access:")
        .unwrap_or_else(|| panic!("{}", r.describe()));
    let tree = r.stdout.find("collection tree:").unwrap();
    assert!(who < tree, "{}", r.stdout);
    let people = &r.stdout[who..tree];
    let vendors = people.split("  Vendors:\n").nth(1).expect("Vendors' grantees");
    assert!(
        vendors.contains("    partnership Globex: collaborator (edit)"),
        "{people}"
    );
    assert!(
        people.contains("ravi@acme-partners.example [create], joins Acme Partners as Guest Admin"),
        "{people}"
    );
}

#[test]
fn hostile_names_are_text_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let export = common::root().join("tests/fixtures/lastpass/hostile-names.csv");
    let files = ["h.html", "h.md", "h.json"].map(|f| dir.path().join(f));
    let mut args = vec!["plan", export.to_str().unwrap(), "--db", db.to_str().unwrap()];
    for f in &files {
        args.extend(["--report", f.to_str().unwrap()]);
    }
    vaultferry(&args).success();
    let [html, md, json] = files.map(|f| std::fs::read_to_string(f).unwrap());
    for pw in ["Hostile-Pw-1!x", "Hostile-Pw-2!y", "Hostile-Pw-3!z"] {
        assert!(!html.contains(pw) && !md.contains(pw) && !json.contains(pw));
    }
    // No markup from the export in the page: only our own script tags.
    for raw in ["<img", "<svg", "<b>bold", "<script>alert", "</details><script"] {
        assert!(!html.contains(raw), "the page holds {raw:?}");
    }
    let scripts = html.matches("<script").count();
    let ours = html.matches("<script type=\"application/x-vaultferry-items\"").count() + 2;
    assert_eq!(scripts, ours, "only the legend, the item blocks and the page's script");
    assert!(html.contains("&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
    assert!(html.contains("&lt;svg onload=alert(4)&gt;"));
    // The item names travel as data, as written, for the script's textContent.
    let items = common::html_items(&html);
    let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    for name in [
        "<img src=x onerror=alert(1)>",
        "Quote \" and 'apos' & amp",
        "</details><script>alert(3)</script>",
    ] {
        assert!(names.contains(&name), "{name:?} not in {names:?}");
    }
    let hostile = items.iter().find(|i| i.name.starts_with("</details>")).unwrap();
    assert_eq!(
        hostile.collection,
        "</script><script>alert(2)</script>/<svg onload=alert(4)>"
    );
    // Markdown: nothing a renderer would turn into markup; every `<` is
    // an escaped one.
    assert!(md.contains("\\<img src=x onerror=alert(1)\\>"), "{md}");
    for (at, _) in md.match_indices('<') {
        assert_eq!(&md[at.saturating_sub(1)..at], "\\", "an unescaped < at {at}: {md}");
    }
    assert!(md.contains("\\*Team\\*"), "{md}");
}

#[test]
fn the_html_report_of_a_million_items_stays_under_ten_megabytes() {
    // Two generated exports: what each further item costs the page,
    // collections, people and findings included, times a million.
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let size = |entries: usize| -> u64 {
        let export = dir.path().join(format!("e{entries}.csv"));
        let n = entries.to_string();
        vaultferry(&[
            "generate",
            "--format",
            "lastpass-csv",
            "--entries",
            &n,
            "--seed",
            "7",
            "--out",
            export.to_str().unwrap(),
        ])
        .success();
        let sharing = format!("{}.sharing.json", export.display());
        let html = dir.path().join(format!("p{entries}.html"));
        vaultferry(&[
            "plan",
            export.to_str().unwrap(),
            "--sharing",
            &sharing,
            "--db",
            db.to_str().unwrap(),
            "--report",
            html.to_str().unwrap(),
        ])
        .success();
        let text = std::fs::read_to_string(&html).unwrap();
        assert_eq!(common::html_items(&text).len(), entries, "every entry is in the page");
        text.len() as u64
    };
    let (small, large) = (size(3_000), size(15_000));
    let per_item = (large - small) as f64 / 12_000.0;
    let at_a_million = small as f64 + per_item * 997_000.0;
    assert!(
        at_a_million < 10_000_000.0,
        "{per_item:.1} bytes an item: {at_a_million:.0} bytes at a million"
    );
}
