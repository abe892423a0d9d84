//! End-to-end tests of the LastPass CSV and sharing readers, driving the
//! real binary on the samples in `samples/lastpass/` and the quirk files in
//! `tests/fixtures/lastpass/`.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{assert_no_secrets, root, sample, secrets_in_revealed, vaultferry};
use serde_json::Value;

fn fixture(name: &str) -> String {
    root().join("tests/fixtures/lastpass").join(name).display().to_string()
}

fn sample_path(name: &str) -> String {
    sample(&format!("lastpass/{name}")).display().to_string()
}

fn inspect_json(args: &[&str]) -> Value {
    let mut all = vec!["inspect"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", "--reveal"]);
    vaultferry(&all).success().json()
}

fn entries(v: &Value) -> &Vec<Value> {
    v["entries"].as_array().unwrap_or_else(|| panic!("no entries in {v}"))
}

fn entry<'a>(v: &'a Value, title: &str) -> &'a Value {
    entries(v)
        .iter()
        .find(|e| e["title"] == title)
        .unwrap_or_else(|| panic!("no entry titled {title:?}"))
}

fn field<'a>(e: &'a Value, label: &str) -> &'a Value {
    e["fields"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["label"] == label))
        .unwrap_or_else(|| panic!("no field {label:?} in {}", e["title"]))
}

fn codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter_map(|f| f["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn findings<'a>(v: &'a Value, code: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .map(|fs| fs.iter().filter(|f| f["code"] == code).collect())
        .unwrap_or_default()
}

fn share<'a>(v: &'a Value, folder: &str, who: &str) -> &'a Value {
    v["shares"]
        .as_array()
        .and_then(|ss| {
            ss.iter().find(|s| {
                s["folder"] == serde_json::json!([folder])
                    && (s["principal"]["email"] == who || s["principal"]["group"] == who)
            })
        })
        .unwrap_or_else(|| panic!("no share of {folder} with {who}"))
}

// ---- the main sample --------------------------------------------------------

#[test]
fn company_sample_reads_every_row_with_its_folder_and_kind() {
    let v = inspect_json(&[&sample_path("company.csv")]);
    // 35 data rows: 34 entries and one http://group folder row.
    assert_eq!(entries(&v).len(), 34);
    assert_eq!(v["skipped_records"], 0);

    let aws = entry(&v, "AWS console");
    assert_eq!(aws["kind"], "login");
    assert_eq!(aws["folder"], serde_json::json!(["Shared-Engineering"]));
    assert_eq!(aws["password"], "Pw-Eng-7fQ2!x");
    assert_eq!(aws["favorite"], true);

    let gh = entry(&v, "GitHub (org bot)");
    assert_eq!(gh["totp"], "JBSWY3DPEHPK3PXP");
    assert_eq!(gh["folder"], serde_json::json!([]));

    let pg = entry(&v, "Postgres prod");
    assert_eq!(pg["kind"], "database");
    assert_eq!(pg["folder"], serde_json::json!(["Shared-Engineering", "Databases"]));
    assert_eq!(pg["username"], "app_rw");
    assert_eq!(pg["password"], "Db-Prod-4vN8$k");
    assert_eq!(field(pg, "Hostname")["value"], "db-prod.nwr.example");

    let airbnb = entry(&v, "Airbnb");
    assert_eq!(airbnb["folder"], serde_json::json!(["Personal", "Travel"]));
    assert_eq!(
        airbnb["notes"],
        "Réservation à Lisbonne — 3 nuits\nCheck-in after 15:00, key box at the door"
    );
    assert_eq!(entry(&v, "Bürgeramt-Portal 東京")["password"], "Pw-Amt-7gH4|x");

    let plain = entry(&v, "Lab notes (plain)");
    assert_eq!(
        plain["kind"], "secure_note",
        "NoteType: further down is still plain text"
    );
    assert!(plain["notes"].as_str().is_some_and(|n| n.contains("日本語のメモ")));

    let alarm = entry(&v, "Alarm panel");
    assert_eq!(alarm["kind"], "login");
    assert_eq!(alarm["urls"], serde_json::json!([]));

    let folders: BTreeSet<String> = v["folders"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let path: Vec<&str> = f["path"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            format!(
                "{}{}",
                path.join("/"),
                if f["shared"] == true { " (shared)" } else { "" }
            )
        })
        .collect();
    let expected: BTreeSet<String> = [
        "Personal",
        "Personal/Travel",
        "Personal/Archive",
        "Shared-Engineering (shared)",
        "Shared-Engineering/Databases",
        "Shared-Finance (shared)",
        "Shared-Vendors (shared)",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(folders, expected);
}

#[test]
fn company_sample_holds_every_note_type_mapped_to_its_kind() {
    let v = inspect_json(&[&sample_path("company.csv")]);
    let kinds: BTreeSet<(String, String)> = entries(&v)
        .iter()
        .filter_map(|e| Some((e["source_type"].as_str()?.to_owned(), e["kind"].as_str()?.to_owned())))
        .collect();
    for (ty, kind) in [
        ("Address", "address"),
        ("Bank Account", "bank_account"),
        ("Credit Card", "credit_card"),
        ("Database", "database"),
        ("Driver's License", "drivers_license"),
        ("Email Account", "email_account"),
        ("Health Insurance", "health_insurance"),
        ("Instant Messenger", "instant_messenger"),
        ("Insurance", "insurance"),
        ("Membership", "membership"),
        ("Passport", "passport"),
        ("Server", "server"),
        ("Social Security", "social_security"),
        ("Software License", "software_license"),
        ("SSH Key", "ssh_key"),
        ("Wi-Fi Password", "wifi"),
        ("Custom_3417589", "custom"),
    ] {
        assert!(
            kinds.contains(&(ty.to_owned(), kind.to_owned())),
            "{ty} → {kind} missing: {kinds:?}"
        );
    }
    let card = entry(&v, "Visa (personal)");
    assert_eq!(field(card, "Number")["concealed"], true);
    assert_eq!(field(card, "Expiration Date")["value"], "2029-03");
    assert!(card["fields"]
        .as_array()
        .is_some_and(|f| f.iter().all(|f| f["label"] != "Start Date")));
    let key = entry(&v, "Deploy key");
    assert!(field(key, "Private Key")["value"]
        .as_str()
        .is_some_and(|k| k.contains("Proc-Type: 4,ENCRYPTED")));
    assert_eq!(field(key, "Public Key")["concealed"], false);
    assert_eq!(
        entry(&v, "Passport — Olivia")["notes"],
        "Renew six months before travel.\nKeep a scan in the safe."
    );
    assert_eq!(entry(&v, "Office Wi-Fi")["password"], "Wifi-Office-3qZ7!k");
}

#[test]
fn html_entities_are_kept_with_a_finding_or_decoded_on_request() {
    let csv = sample_path("company.csv");
    let v = inspect_json(&[&csv]);
    assert_eq!(entry(&v, "Costco &amp; more")["password"], "Pw-Amp-5t&amp;Z");
    let found = findings(&v, "lastpass.html-entities");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["line"], 240);
    assert!(found[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("password, name") && !m.contains("Pw-Amp")));

    let v = inspect_json(&[&csv, "--decode-html-entities"]);
    assert_eq!(entry(&v, "Costco & more")["password"], "Pw-Amp-5t&Z");
}

// ---- header variants and file quirks ----------------------------------------

#[test]
fn older_header_without_totp() {
    let v = inspect_json(&[&fixture("older-header.csv")]);
    assert_eq!(entry(&v, "Old header login")["password"], "Old-Hdr-4kP9!q");
    let srv = entry(&v, "Old server");
    assert_eq!(srv["kind"], "server");
    assert_eq!(srv["password"], "Old-Srv-2bN7#w");
    assert_eq!(srv["favorite"], true);
    assert_eq!(srv["folder"], serde_json::json!(["Shared-Engineering", "Databases"]));
}

#[test]
fn totp_as_the_last_column() {
    let v = inspect_json(&[&fixture("totp-last.csv")]);
    let e = entry(&v, "GitHub (Dana)");
    assert_eq!(e["totp"], "JBSWY3DPEHPK3PXQ");
    assert_eq!(e["password"], "Totp-Last-8jR2$v");
    assert_eq!(e["favorite"], true);
}

#[test]
fn lpass_export_fields_columns() {
    let v = inspect_json(&[&fixture("lpass-fields.csv")]);
    let vpn = entry(&v, "VPN");
    assert_eq!(vpn["source_id"], "4711000001");
    assert_eq!(vpn["updated"], "2024-03-14T09:30:00Z");
    assert_eq!(vpn["attachments"][0]["content"], Value::Null);
    assert_eq!(
        field(vpn, "note_owner")["value"],
        "sam",
        "unknown columns are kept as fields"
    );
    let att = findings(&v, "lastpass.attachment-not-exported");
    assert_eq!(att.len(), 1);
    assert_eq!(att[0]["line"], 2);
    let hr = entry(&v, "HR portal");
    assert_eq!(hr["updated"], "2024-03-14T09:30:00Z");
    assert_eq!(hr["favorite"], true);
}

#[test]
fn bom_and_crlf_with_quoted_multiline_fields() {
    let v = inspect_json(&[&fixture("crlf-bom.csv")]);
    let crm = entry(&v, "CRM (CRLF)");
    assert_eq!(crm["urls"], serde_json::json!(["https://crm.nwr.example"]));
    assert!(crm["notes"]
        .as_str()
        .is_some_and(|n| n.starts_with("Line one") && n.ends_with("Line two, with comma")));
    let card = entry(&v, "Travel card");
    assert_eq!(card["kind"], "credit_card");
    assert_eq!(field(card, "Number")["value"], "4000-1111-2222-3333");
    assert_eq!(field(card, "Expiration Date")["value"], "2030-07");
    assert_eq!(card["line"], 3);
}

#[test]
fn broken_rows_are_recovered_or_skipped_with_their_lines_and_no_secrets() {
    let csv = fixture("broken-rows.csv");
    let v = inspect_json(&[&csv]);
    let titles: Vec<&str> = entries(&v).iter().filter_map(|e| e["title"].as_str()).collect();
    assert_eq!(
        titles,
        [
            "Before the broken rows",
            "Wiki (unquoted note)",
            "Stray quote login",
            "After the stray quote",
            "After the broken rows"
        ]
    );
    assert_eq!(
        entry(&v, "Wiki (unquoted note)")["notes"],
        "first line of a note\nsecond line of a note\nlast line of a note"
    );
    assert_eq!(v["skipped_records"], 1);
    let lines = |code: &str| -> Vec<u64> { findings(&v, code).iter().filter_map(|f| f["line"].as_u64()).collect() };
    assert_eq!(lines("lastpass.row-recovered"), [3, 6]);
    assert_eq!(lines("lastpass.row-skipped"), [8]);

    // Every finding and the summary name lines but no value of those rows.
    let row_secrets: Vec<String> = [
        "Brk-Wiki-7mN2#b",
        "Brk-Stray-3kL9$c",
        "Brk-Comma-1xZ6^e",
        "first line of a note",
    ]
    .map(str::to_owned)
    .to_vec();
    assert_no_secrets("findings", &v["findings"].to_string(), &row_secrets);
    let text = vaultferry(&["inspect", &csv]).success();
    assert!(text.stdout.contains("line 8"), "{}", text.describe());
    assert_no_secrets("inspect", &format!("{}{}", text.stdout, text.stderr), &row_secrets);

    let strict = vaultferry(&["inspect", &csv, "--strict"]).expect_code(2);
    assert!(
        strict.stderr.contains("broken-rows.csv:line 3"),
        "{}",
        strict.describe()
    );
    assert!(
        strict.stderr.contains("lastpass.row-recovered"),
        "{}",
        strict.describe()
    );
    assert_no_secrets(
        "--strict error",
        &format!("{}{}", strict.stdout, strict.stderr),
        &row_secrets,
    );
}

// ---- sharing ---------------------------------------------------------------

#[test]
fn getdetailedsfdata_gives_members_groups_and_findings() {
    let v = inspect_json(&[
        &sample_path("company.csv"),
        "--sharing",
        &sample_path("sharing-getdetailedsfdata.json"),
    ]);
    let lee = share(&v, "Shared-Engineering", "lee@northwind.example");
    assert_eq!(
        lee["access"],
        serde_json::json!({"admin": false, "edit": true, "hide_passwords": false})
    );
    assert_eq!(lee["source_access"], "readonly=0 can_administer=0 give=1");
    assert_eq!(
        share(&v, "Shared-Engineering", "sam@northwind.example")["access"]["admin"],
        true
    );
    assert_eq!(
        share(&v, "Shared-Engineering", "felix@northwind.example")["status"],
        "deleted"
    );
    assert_eq!(
        share(&v, "Shared-Finance", "priya@northwind.example")["access"]["edit"],
        false
    );
    let jules = share(&v, "Shared-Vendors", "jules@studio-jules.example");
    assert_eq!(jules["access"]["hide_passwords"], true, "give=0 hides passwords");
    assert_eq!(
        share(&v, "Shared-Vendors", "kim@globex.example")["access"]["edit"],
        true
    );
    let ops = share(&v, "Shared-Engineering", "Ops");
    assert_eq!(
        ops["principal"]["members"],
        serde_json::json!(["lee@northwind.example", "priya@northwind.example"])
    );
    assert_eq!(
        share(&v, "Shared-Engineering", "Engineering")["principal"]["members"],
        serde_json::json!(["dana@northwind.example", "lee@northwind.example"])
    );

    let unknown = findings(&v, "lastpass.sharing-unknown-folder");
    assert_eq!(unknown.len(), 1);
    assert!(unknown[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("Shared-Legacy")));
    assert_eq!(unknown[0]["line"], 42);
    let deleted = findings(&v, "lastpass.share-deleted");
    assert_eq!(deleted.len(), 1);
    assert_eq!(
        (deleted[0]["line"].as_u64(), deleted[0]["field"].as_str()),
        (Some(11), Some("101.users[4]"))
    );
    assert!(findings(&v, "lastpass.folder-without-sharing").is_empty());
    assert!(v["shares"]
        .as_array()
        .is_some_and(|s| s.iter().all(|s| s["folder"] != serde_json::json!(["Shared-Legacy"]))));
}

#[test]
fn getsfdata_with_envelope_and_a_folder_missing_from_it() {
    let v = inspect_json(&[
        &sample_path("company.csv"),
        "--sharing",
        &sample_path("sharing-getsfdata.json"),
    ]);
    assert_eq!(
        share(&v, "Shared-Finance", "tom@initech.example")["access"]["edit"],
        false
    );
    let missing = findings(&v, "lastpass.folder-without-sharing");
    assert_eq!(missing.len(), 1);
    assert!(missing[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("'Shared-Vendors'")));
    assert!(codes(&v).contains(&"lastpass.sharing-unknown-folder".to_owned()));
}

#[test]
fn shared_folder_members_json_for_one_folder() {
    let v = inspect_json(&[
        &sample_path("company.csv"),
        "--sharing",
        &sample_path("sharing-members.json"),
    ]);
    assert_eq!(
        share(&v, "Shared-Engineering", "olivia@northwind.example")["access"]["admin"],
        true
    );
    assert_eq!(share(&v, "Shared-Engineering", "Ops")["access"]["edit"], false);
    assert_eq!(
        share(&v, "Shared-Engineering", "Ops")["principal"]["members"],
        serde_json::json!(["lee@northwind.example", "priya@northwind.example"])
    );
    assert!(
        findings(&v, "lastpass.folder-without-sharing").is_empty(),
        "a one-folder file says nothing of the others"
    );
}

#[test]
fn share_getinfo_xml_marks_unaccepted_invitations_pending() {
    let v = inspect_json(&[
        &sample_path("company.csv"),
        "--sharing",
        &sample_path("sharing-share-getinfo.xml"),
    ]);
    let tom = share(&v, "Shared-Finance", "tom@initech.example");
    assert_eq!(tom["status"], "pending");
    assert_eq!(tom["outside_enterprise"], true);
    let pending = findings(&v, "lastpass.share-not-accepted");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["line"], 31);
    let jules = share(&v, "Shared-Finance", "Jules@Studio-Jules.example");
    assert_eq!(jules["principal"]["name"], "Jules Moreau");
    assert_eq!(jules["access"]["hide_passwords"], true);
    assert_eq!(
        share(&v, "Shared-Finance", "Ops")["principal"],
        serde_json::json!({"group": "Ops"})
    );
    assert_eq!(
        share(&v, "Shared-Finance", "sam@northwind.example")["source_access"],
        "readonly=0 canadminister=1 give=1"
    );
}

#[test]
fn bad_sharing_files_name_the_field_and_what_was_expected() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bad_flag = dir.path().join("flags.json");
    std::fs::write(
        &bad_flag,
        r#"{"101": {"sharedfoldername": "Shared-Finance", "users": [{"username": "a@x.example", "readonly": "maybe"}]}}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let run = vaultferry(&[
        "inspect",
        &sample_path("company.csv"),
        "--sharing",
        &bad_flag.display().to_string(),
    ])
    .expect_code(2);
    assert!(
        run.stderr.contains("field '101.users[0].readonly'"),
        "{}",
        run.describe()
    );
    assert!(run.stderr.contains("expected 0 or 1"), "{}", run.describe());

    let failed = dir.path().join("failed.json");
    std::fs::write(&failed, r#"{"status": "FAIL", "errors": ["invalid API key"]}"#).unwrap_or_else(|e| panic!("{e}"));
    let run = vaultferry(&[
        "inspect",
        &sample_path("company.csv"),
        "--sharing",
        &failed.display().to_string(),
    ])
    .expect_code(2);
    assert!(run.stderr.contains("invalid API key"), "{}", run.describe());

    let xml = dir.path().join("broken.xml");
    std::fs::write(&xml, "<xmlresponse>\n<users>\n<item><username>a@x.example</item>\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let run = vaultferry(&[
        "inspect",
        &sample_path("company.csv"),
        "--sharing",
        &xml.display().to_string(),
    ])
    .expect_code(2);
    assert!(run.stderr.contains("broken.xml:line 3"), "{}", run.describe());
}

// ---- secrets never leak -----------------------------------------------------

#[test]
fn no_secret_of_any_lastpass_sample_reaches_output_without_reveal() {
    let mut runs: Vec<Vec<String>> = Vec::new();
    let mut csvs: Vec<PathBuf> = vec![sample("lastpass/company.csv")];
    for entry in std::fs::read_dir(root().join("tests/fixtures/lastpass"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if entry.path().extension().is_some_and(|e| e == "csv") {
            csvs.push(entry.path());
        }
    }
    for csv in &csvs {
        runs.push(vec![csv.display().to_string()]);
    }
    for sharing in [
        "sharing-getdetailedsfdata.json",
        "sharing-getsfdata.json",
        "sharing-members.json",
        "sharing-share-getinfo.xml",
    ] {
        runs.push(vec![
            sample_path("company.csv"),
            "--sharing".into(),
            sample_path(sharing),
        ]);
    }
    assert!(runs.len() >= 9);
    for args in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let secrets = secrets_in_revealed(&inspect_json(&args));
        assert!(
            !secrets.is_empty(),
            "no secrets found in {args:?}: the test would prove nothing"
        );
        for extra in [&[][..], &["--json"][..], &["--strict"][..]] {
            let mut all = vec!["inspect"];
            all.extend_from_slice(&args);
            all.extend_from_slice(extra);
            let run = vaultferry(&all);
            assert_no_secrets(&run.command, &format!("{}\n{}", run.stdout, run.stderr), &secrets);
        }
    }
}

// ---- a real export from another project ------------------------------------

/// The entries of pass-import's `expected-main.yml`: a list of flat maps,
/// strings plain, double-quoted or `|-` blocks. Just enough YAML for it.
fn expected_entries(yaml: &str) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = Vec::new();
    let mut lines = yaml.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let item = match trimmed.strip_prefix("- ") {
            Some(rest) => {
                out.push(Vec::new());
                rest
            }
            None if line.starts_with("  ") && !trimmed.is_empty() => trimmed,
            None => continue,
        };
        let Some((key, value)) = item.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let value = if value == "|-" {
            let mut block = Vec::new();
            while let Some(next) = lines.peek() {
                if !next.starts_with("    ") {
                    break;
                }
                block.push(next.trim_start().to_owned());
                lines.next();
            }
            block.join("\n")
        } else if let Some(q) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            q.replace("\\\\", "\u{0}").replace("\\\"", "\"").replace('\u{0}', "\\")
        } else {
            value.to_owned()
        };
        if let Some(last) = out.last_mut() {
            last.push((key.to_owned(), value));
        }
    }
    out
}

#[test]
fn pass_import_lastpass_fixture_holds_every_expected_entry() {
    let Some(base) = common::pass_import_fixtures() else {
        return;
    };
    let (csv, yml) = (base.join("lastpass.csv"), base.join("expected-main.yml"));
    let yaml = std::fs::read_to_string(&yml).unwrap();
    let v = inspect_json(&[&csv.display().to_string()]);
    let expected = expected_entries(&yaml);
    assert_eq!(expected.len(), 14);
    for want in expected {
        let get = |k: &str| want.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        let title = get("title").unwrap_or_default();
        let found = entries(&v).iter().any(|e| {
            let folder: Vec<&str> = e["folder"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            e["title"] == title
                && get("login").is_none_or(|l| e["username"] == l)
                && get("password").is_none_or(|p| e["password"] == p)
                && get("url").is_none_or(|u| e["urls"].as_array().is_some_and(|us| us.iter().any(|x| x == u)))
                && get("comments").is_none_or(|c| e["notes"] == c)
                && get("group").is_none_or(|g| folder.join("/") == g)
        });
        assert!(found, "no entry matches {want:?}");
    }
}
