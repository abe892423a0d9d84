//! 1Password end to end: the real binary over the samples in
//! `samples/onepassword/` and over hostile archives built at test time.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::{assert_no_secrets, sample, secrets_in_revealed, vaultferry};
use serde_json::Value;

fn inspect_json(path: &Path, extra: &[&str]) -> Value {
    let p = path.to_str().unwrap();
    let mut args = vec!["inspect", "--json", "--reveal", p];
    args.extend_from_slice(extra);
    vaultferry(&args).success().json()
}

fn entry<'a>(v: &'a Value, title: &str) -> &'a Value {
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["title"] == title)
        .unwrap_or_else(|| panic!("no entry titled {title:?}"))
}

fn field<'a>(e: &'a Value, label: &str) -> &'a Value {
    e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["label"] == label)
        .unwrap_or_else(|| panic!("no field {label:?} in {}", e["title"]))
}

fn codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

/// Writes a zip with these members (deflated) and returns its path.
fn build_zip(dir: &Path, name: &str, members: &[(&str, &[u8])]) -> PathBuf {
    let path = dir.join(name);
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in members {
        z.start_file(*name, opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
    path
}

fn minimal_data(items: &str) -> String {
    format!(
        r#"{{"accounts":[{{"attrs":{{"name":"T"}},"vaults":[{{"attrs":{{"uuid":"v1","name":"Ops","type":"E","desc":""}},"items":[{items}]}}]}}]}}"#
    )
}

const V3_ATTRS: &[u8] = br#"{"version":3,"description":"1Password Unencrypted Export","createdAt":1735689600}"#;

// ---------------------------------------------------------------- 1PUX

#[test]
fn pux_sample_maps_every_category_to_its_kind() {
    let v = inspect_json(&sample("onepassword/company.1pux"), &[]);
    let kinds: BTreeSet<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "login",
        "credit_card",
        "secure_note",
        "identity",
        "password",
        "document",
        "software_license",
        "bank_account",
        "database",
        "drivers_license",
        "outdoor_license",
        "membership",
        "passport",
        "rewards_program",
        "social_security",
        "wifi",
        "server",
        "email_account",
        "api_credential",
        "medical_record",
        "ssh_key",
        "crypto_wallet",
    ] {
        assert!(kinds.contains(k), "kind {k} missing: {kinds:?}");
    }
    assert_eq!(v["source"], "onepassword1pux");
    assert_eq!(entry(&v, "Prod Postgres")["source_type"], "102");
}

#[test]
fn pux_vaults_become_top_level_folders_shared_unless_personal() {
    let v = inspect_json(&sample("onepassword/company.1pux"), &[]);
    let folders = v["folders"].as_array().unwrap();
    let get = |n: &str| folders.iter().find(|f| f["path"][0] == n).unwrap();
    assert_eq!(get("Private")["shared"], false);
    assert_eq!(get("Engineering")["shared"], true);
    assert_eq!(get("Finance")["shared"], true);
    assert_eq!(get("Engineering")["source_id"], "nwrengineeringvault000001");
    assert_eq!(get("Engineering")["description"], "Shared with the Engineering team");
    let gh = entry(&v, "GitHub");
    assert_eq!(gh["folder"], serde_json::json!(["Engineering"]));
    assert_eq!(gh["source_id"], "x2bq7mzkt3wrd6yn4phc5lfgja");
}

#[test]
fn pux_login_overview_and_details() {
    let v = inspect_json(&sample("onepassword/company.1pux"), &[]);
    let gh = entry(&v, "GitHub");
    assert_eq!(gh["username"], "nwr-admin");
    assert_eq!(gh["password"], "Pw-Eng-7fQ2!x");
    assert_eq!(gh["totp"], "JBSWY3DPEHPK3PXP");
    assert_eq!(gh["subtitle"], "nwr-admin");
    assert_eq!(
        gh["urls"],
        serde_json::json!([
            "https://github.com/login",
            "https://github.com/organizations/northwind/settings",
            "https://github.com"
        ])
    );
    // A labelled URL keeps its label; "website" is the default label, not kept.
    assert_eq!(field(gh, "admin console")["kind"], "url");
    assert!(gh["fields"].as_array().unwrap().iter().all(|f| f["label"] != "website"));
    assert_eq!(field(gh, "remember me")["value"], "✓");
    assert_eq!(gh["tags"], serde_json::json!(["engineering", "source"]));
    assert_eq!(gh["favorite"], true);
    assert_eq!(gh["notes"], "Org owner account. Use the TOTP below.");
    assert_eq!(gh["password_history"][0]["value"], "Pw-Eng-Old-1aZ9");
    assert_eq!(gh["created"], "2025-01-21T00:00:00Z");

    let aws = entry(&v, "AWS root");
    assert!(aws["totp"].as_str().unwrap().starts_with("otpauth://totp/AWS:root"));
    let backup = field(aws, "backup one-time password");
    assert_eq!(backup["kind"], "totp");
    assert_eq!(backup["concealed"], true);

    assert_eq!(entry(&v, "Shared printer admin")["password"], "Pw-Printer-2wE!");
    assert_eq!(entry(&v, "Old CI server")["archived"], true);
    assert_eq!(entry(&v, "AWS root")["archived"], false);
    assert_eq!(entry(&v, "AWS root")["favorite"], false);
}

#[test]
fn pux_every_value_kind_lands_in_a_typed_field() {
    let v = inspect_json(&sample("onepassword/company.1pux"), &[]);
    let visa = entry(&v, "Company Visa");
    let number = field(visa, "number");
    assert_eq!(
        (number["kind"].as_str(), number["concealed"].as_bool()),
        (Some("card_number"), Some(true))
    );
    assert_eq!(field(visa, "type")["kind"], "card_type");
    assert_eq!(field(visa, "expiry date")["value"], "2028-11");
    assert_eq!(field(visa, "expiry date")["kind"], "month_year");
    assert_eq!(field(visa, "verification number")["concealed"], true);
    assert_eq!(field(visa, "phone (local)")["kind"], "phone");
    assert_eq!(field(visa, "phone (local)")["group"], "Contact Information");

    let me = entry(&v, "Sam Patel");
    assert_eq!(field(me, "gender")["kind"], "menu");
    assert_eq!(field(me, "birth date")["kind"], "date");
    assert_eq!(field(me, "birth date")["value"], "1992-02-24");
    assert_eq!(field(me, "email")["value"], "sam@northwind.example");
    assert_eq!(field(me, "email")["kind"], "email");
    assert_eq!(field(me, "address (street)")["value"], "12 Harbour Road");
    assert_eq!(field(me, "address (country)")["kind"], "address");
    assert_eq!(field(me, "address (city)")["group"], "Address");

    let key = entry(&v, "deploy key");
    let private = field(key, "private key");
    assert_eq!(
        (private["kind"].as_str(), private["concealed"].as_bool()),
        (Some("private_key"), Some(true))
    );
    assert_eq!(field(key, "public key")["kind"], "public_key");
    assert_eq!(field(key, "fingerprint")["value"], "SHA256:nwrDeployFingerprint0001");
    assert_eq!(field(key, "key type")["value"], "ed25519");

    let api = entry(&v, "Stripe API");
    assert_eq!(field(api, "billing login")["kind"], "reference");
    assert_eq!(field(api, "billing login")["value"], "x2bq7mzkt3wrd6yn4phc5lfgja");
    assert_eq!(field(api, "type")["kind"], "menu");
    assert_eq!(field(api, "credential")["concealed"], true);

    let server = entry(&v, "Build server");
    assert_eq!(field(server, "URL")["kind"], "url");
    assert_eq!(field(server, "runbook")["kind"], "file");
    assert_eq!(field(server, "runbook")["value"], "build-server-notes.txt");

    let note = entry(&v, "Allergy record");
    assert_eq!(field(note, "notes")["kind"], "multiline");
}

#[test]
fn pux_attachments_are_read_with_their_real_size_and_missing_ones_are_findings() {
    let v = inspect_json(&sample("onepassword/company.1pux"), &[]);
    let doc = entry(&v, "Passport scan");
    let att = &doc["attachments"][0];
    let bytes = std::fs::read(sample(
        "onepassword/company-1pux/files/k3v7xq2mdbh5ldp2wzqk4tcy3e__passport-scan.pdf",
    ))
    .unwrap();
    assert_eq!(att["name"], "passport-scan.pdf");
    // The item declares 999999 bytes; the size is what was read.
    assert_eq!(att["size"], bytes.len());
    assert_eq!(att["source_id"], "k3v7xq2mdbh5ldp2wzqk4tcy3e");
    let content = base64::engine::general_purpose::STANDARD
        .decode(att["content"].as_str().unwrap())
        .unwrap();
    assert_eq!(content, bytes);

    let server = entry(&v, "Build server");
    let names: Vec<&str> = server["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["build-server-notes.txt", "vendor-manual.pdf"]);
    assert_eq!(server["attachments"][1]["content"], Value::Null);
    let missing = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "onepassword.attachment-missing")
        .expect("missing attachment finding");
    assert!(missing["field"]
        .as_str()
        .unwrap()
        .contains("h2kt7zmqx3wrb6dn4pyc5lfgva"));

    // Under --strict the recovered attachment stops the run.
    let run = vaultferry(&[
        "inspect",
        "--strict",
        sample("onepassword/company.1pux").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.describe());
    assert!(run.stderr.contains("attachment-missing"), "{}", run.describe());
}

#[test]
fn pux_version_2_timestamp_and_trashed_flag_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = minimal_data(
        r#"{"uuid":"a1","categoryUuid":"001","trashed":true,"favIndex":1.0,"createdAt":1614298956.5,
            "overview":{"title":"Legacy login","url":"https://old.example"},
            "details":{"loginFields":[{"value":"ops","designation":"username"},{"value":"Pw-V2-Old-4471","designation":"password"}]}}"#,
    );
    let path = build_zip(
        dir.path(),
        "v2.1pux",
        &[
            (
                "export.attributes",
                br#"{"version":2,"description":"1Password Unencrypted Export","timestamp":1614299088}"#,
            ),
            ("export.data", data.as_bytes()),
        ],
    );
    let v = inspect_json(&path, &[]);
    let e = entry(&v, "Legacy login");
    assert_eq!(e["archived"], true);
    assert_eq!(e["password"], "Pw-V2-Old-4471");
    // Numbers written as floats are still read.
    assert_eq!(e["favorite"], true);
    assert_eq!(e["created"], "2021-02-26T00:22:36Z");
    assert!(!codes(&v).contains(&"onepassword.pux-version".to_owned()), "{v}");
}

#[test]
fn pux_unknown_category_and_value_kind_are_kept_with_findings() {
    let dir = tempfile::tempdir().unwrap();
    let data = minimal_data(
        r#"{"uuid":"a1","categoryUuid":"999","overview":{"title":"Hologram"},
            "details":{"sections":[{"title":"S","fields":[{"title":"beam","id":"b","value":{"hologram":"blue"}}]}]}}"#,
    );
    let path = build_zip(
        dir.path(),
        "x.1pux",
        &[("export.attributes", V3_ATTRS), ("export.data", data.as_bytes())],
    );
    let v = inspect_json(&path, &[]);
    let e = entry(&v, "Hologram");
    assert_eq!(e["kind"], "unknown");
    assert_eq!(field(e, "beam")["value"], "blue");
    assert_eq!(field(e, "beam")["group"], "S");
    let c = codes(&v);
    assert!(c.contains(&"onepassword.unknown-category".to_owned()), "{c:?}");
    assert!(c.contains(&"onepassword.unknown-field-kind".to_owned()), "{c:?}");
}

#[test]
fn pux_members_leaving_the_archive_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for evil in ["../evil", "/etc/evil", "files/../../evil", "C:\\evil"] {
        let path = build_zip(
            dir.path(),
            "evil.1pux",
            &[
                ("export.attributes", V3_ATTRS),
                ("export.data", minimal_data("").as_bytes()),
                (evil, b"x"),
            ],
        );
        let run = vaultferry(&["inspect", path.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{}", run.describe());
        assert!(run.stderr.contains(evil), "member not named: {}", run.describe());
        assert!(run.stderr.contains("outside the archive"), "{}", run.describe());
    }
}

#[test]
fn pux_unpacked_size_and_member_count_are_capped_and_can_be_raised() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 4 << 20];
    let path = build_zip(
        dir.path(),
        "bomb.1pux",
        &[
            ("export.attributes", V3_ATTRS),
            ("export.data", minimal_data("").as_bytes()),
            ("files/doc__zeros.bin", &zeros),
        ],
    );
    assert!(
        std::fs::metadata(&path).unwrap().len() < 100_000,
        "test archive should compress well"
    );
    let p = path.to_str().unwrap();
    let run = vaultferry(&["inspect", p, "--max-unpacked-bytes", "1000000"]);
    assert_eq!(run.code, 2, "{}", run.describe());
    assert!(run.stderr.contains("--max-unpacked-bytes"), "{}", run.describe());
    vaultferry(&["inspect", p, "--max-unpacked-bytes", "5000000"]).success();

    // The same archive with headers that claim the member is 10 bytes.
    let mut bytes = std::fs::read(&path).unwrap();
    let name = b"files/doc__zeros.bin";
    let mut patched = 0;
    for (sig, name_at, size_at) in [(b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)] {
        let mut i = 0;
        while let Some(off) = bytes[i..].windows(4).position(|w| w == sig) {
            let at = i + off;
            if bytes.get(at + name_at..at + name_at + name.len()) == Some(&name[..]) {
                bytes[at + size_at..at + size_at + 4].copy_from_slice(&10u32.to_le_bytes());
                patched += 1;
            }
            i = at + 4;
        }
    }
    assert_eq!(patched, 2, "local and central headers patched");
    let liar = dir.path().join("liar.1pux");
    std::fs::write(&liar, &bytes).unwrap();
    let run = vaultferry(&["inspect", liar.to_str().unwrap(), "--max-unpacked-bytes", "1000000"]);
    assert_eq!(run.code, 2, "{}", run.describe());
    assert!(run.stderr.contains("--max-unpacked-bytes"), "{}", run.describe());

    let run = vaultferry(&["inspect", p, "--max-entries", "2"]);
    assert_eq!(run.code, 2, "{}", run.describe());
    assert!(run.stderr.contains("--max-entries"), "{}", run.describe());
}

#[test]
fn pux_truncated_or_incomplete_archives_are_errors_that_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let full = minimal_data(
        r#"{"uuid":"a1","categoryUuid":"001","overview":{"title":"t"},
            "details":{"loginFields":[{"value":"Pw-Truncated-9911","designation":"password"}]}}"#,
    );
    let cut = &full.as_bytes()[..full.len() - 20];
    let path = build_zip(
        dir.path(),
        "cut.1pux",
        &[("export.attributes", V3_ATTRS), ("export.data", cut)],
    );
    let run = vaultferry(&["inspect", path.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.describe());
    assert!(run.stderr.contains("export.data"), "{}", run.describe());
    assert!(run.stderr.contains("truncated"), "{}", run.describe());
    assert!(!run.stderr.contains("Pw-Truncated-9911"));

    let path = build_zip(dir.path(), "nodata.1pux", &[("export.attributes", V3_ATTRS)]);
    let run = vaultferry(&["inspect", path.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.describe());
    assert!(run.stderr.contains("no export.data"), "{}", run.describe());

    // A mistyped item is skipped with a finding; its value is not quoted.
    let data = minimal_data(
        r#"{"uuid":"bad1","categoryUuid":"001","favIndex":"1","createdAt":1.6e9,"overview":"Pw-Mistyped-5521"},
           {"uuid":"ok1","categoryUuid":"003","overview":{"title":"fine"}}"#,
    );
    let path = build_zip(
        dir.path(),
        "mistyped.1pux",
        &[("export.attributes", V3_ATTRS), ("export.data", data.as_bytes())],
    );
    let run = vaultferry(&["inspect", "--json", path.to_str().unwrap()]).success();
    let v = run.json();
    assert_eq!(v["entries"].as_array().unwrap().len(), 1);
    assert_eq!(v["skipped_records"], 1);
    assert!(codes(&v).contains(&"onepassword.item-malformed".to_owned()));
    assert!(!run.stdout.contains("Pw-Mistyped-5521"));
}

// ---------------------------------------------------------------- 1PIF

#[test]
fn pif_sample_nests_folders_and_keeps_item_details() {
    let v = inspect_json(&sample("onepassword/company.1pif"), &[]);
    assert_eq!(v["source"], "onepassword1pif");
    let paths: Vec<String> = v["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    for p in [
        "Engineering",
        "Engineering/Databases",
        "Finance",
        "Vendors",
        "Personal",
        "Personal/Travel",
    ] {
        assert!(paths.contains(&p.to_owned()), "{p} missing from {paths:?}");
    }
    // Saved searches and tombstones are not items.
    assert_eq!(v["entries"].as_array().unwrap().len(), 17);
    assert!(v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["title"] != "Weak passwords"));

    let gh = entry(&v, "GitHub");
    assert_eq!(gh["username"], "nwr-admin");
    assert_eq!(gh["password"], "Pw-Eng-7fQ2!x");
    assert_eq!(gh["totp"], "JBSWY3DPEHPK3PXP");
    assert_eq!(gh["favorite"], true);
    assert_eq!(gh["tags"], serde_json::json!(["engineering", "source"]));
    assert_eq!(gh["password_history"][0]["value"], "Pw-Eng-Old-1aZ9");
    assert_eq!(field(gh, "admin console")["kind"], "url");
    assert_eq!(gh["line"], 13);
    assert_eq!(gh["source_type"], "webforms.WebForm");

    assert_eq!(
        entry(&v, "Prod Postgres")["folder"],
        serde_json::json!(["Engineering", "Databases"])
    );
    assert_eq!(
        entry(&v, "Sam's passport")["folder"],
        serde_json::json!(["Personal", "Travel"])
    );
    assert_eq!(entry(&v, "Old CI server")["archived"], true);
    assert_eq!(entry(&v, "Shared printer admin")["password"], "Pw-Printer-2wE!");
    assert_eq!(entry(&v, "Shared printer admin")["kind"], "password");
    let visa = entry(&v, "Company Visa");
    assert_eq!(field(visa, "number")["concealed"], true);
    assert_eq!(field(visa, "expiry date")["value"], "2028-11");
    assert_eq!(field(visa, "issuing bank")["group"], "Contact Information");
    let bank = entry(&v, "Operating account");
    assert_eq!(field(bank, "accountNo")["concealed"], true);
    assert_eq!(field(bank, "address (city)")["value"], "Wellington");
    assert_eq!(entry(&v, "Ops mailbox")["kind"], "email_account");
}

#[test]
fn pif_export_folder_reads_attachments_beside_data_1pif() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("Northwind.1pif");
    std::fs::create_dir_all(export.join("attachments/I0NOTE")).unwrap();
    std::fs::create_dir_all(export.join("attachments/I0GONE")).unwrap();
    std::fs::write(
        export.join("data.1pif"),
        "{\"uuid\":\"I0NOTE\",\"typeName\":\"securenotes.SecureNote\",\"title\":\"Floor plan\",\"secureContents\":{\"notesPlain\":\"see file\"}}\n***5642bee8-a5ff-11dc-8314-0800200c9a66***\n",
    )
    .unwrap();
    std::fs::write(
        export.join("attachments/I0NOTE/A1B2__floor-plan.txt"),
        b"NWR-FLOORPLAN-ATTACH-3391",
    )
    .unwrap();
    std::fs::write(export.join("attachments/I0GONE/orphan.txt"), b"x").unwrap();
    let v = inspect_json(&export, &[]);
    let e = entry(&v, "Floor plan");
    assert_eq!(e["attachments"][0]["name"], "floor-plan.txt");
    assert_eq!(e["attachments"][0]["size"], 25);
    assert!(codes(&v).contains(&"onepassword.attachment-orphan".to_owned()));

    let run = vaultferry(&["inspect", export.to_str().unwrap(), "--max-unpacked-bytes", "10"]);
    assert_eq!(run.code, 2, "{}", run.describe());
}

#[test]
fn pif_broken_record_is_skipped_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.1pif");
    std::fs::write(
        &path,
        "\u{feff}{\"uuid\":\"A\",\"typeName\":\"webforms.WebForm\",\"title\":\"ok\"}\r\n***5642bee8-a5ff-11dc-8314-0800200c9a66***\r\n{\"uuid\":\"B\",\"typeName\":\"webforms.WebForm\",\"title\":\"Pw-Broken-\r\n***5642bee8-a5ff-11dc-8314-0800200c9a66***\r\n",
    )
    .unwrap();
    let v = inspect_json(&path, &[]);
    assert_eq!(v["entries"].as_array().unwrap().len(), 1);
    assert_eq!(v["skipped_records"], 1);
    let f = &v["findings"][0];
    assert_eq!(f["code"], "onepassword.pif-record-malformed");
    assert_eq!(f["line"], 3);
    let run = vaultferry(&["inspect", "--strict", path.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("line 3"), "{}", run.describe());
    assert!(!run.stderr.contains("Pw-Broken"), "{}", run.describe());
}

#[test]
fn pif_is_detected_when_its_first_record_is_longer_than_the_sniffed_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.txt");
    let long_note = "n".repeat(20_000);
    std::fs::write(
        &path,
        format!(
            "{{\"uuid\":\"A\",\"securityLevel\":\"SL5\",\"title\":\"long\",\"secureContents\":{{\"notesPlain\":\"{long_note}\"}},\"typeName\":\"securenotes.SecureNote\"}}\n***5642bee8-a5ff-11dc-8314-0800200c9a66***\n"
        ),
    )
    .unwrap();
    let v = inspect_json(&path, &[]);
    assert_eq!(v["source"], "onepassword1pif");
    assert_eq!(entry(&v, "long")["notes"].as_str().unwrap().len(), 20_000);
}

// ---------------------------------------------------------------- CSV

#[test]
fn csv_1password_8_layout() {
    let v = inspect_json(&sample("onepassword/company-1p8.csv"), &[]);
    assert_eq!(v["source"], "onepassword_csv");
    let gh = entry(&v, "GitHub");
    assert!(gh["totp"].as_str().unwrap().starts_with("otpauth://"));
    assert_eq!(gh["favorite"], true);
    assert_eq!(gh["tags"], serde_json::json!(["engineering", "source"]));
    assert!(gh["source_id"].as_str().unwrap().starts_with("fp:"));
    assert_eq!(entry(&v, "Old CI server")["archived"], true);
    let note = entry(&v, "Globex contract notes");
    assert_eq!(note["kind"], "secure_note");
    assert_eq!(
        note["notes"],
        "Contract renewal every March;\ncontact kim@globex.example."
    );
}

#[test]
fn csv_1password_7_mac_layout_with_zero_width_spaces() {
    let v = inspect_json(&sample("onepassword/company-1p7-mac.csv"), &[]);
    let gh = entry(&v, "GitHub");
    assert_eq!(gh["password"], "Pw-Eng-7fQ2!x");
    assert_eq!(gh["urls"][0], "https://github.com/login");
    assert_eq!(gh["notes"], "Org owner account.");
    let visa = entry(&v, "Company Visa");
    assert_eq!(visa["kind"], "credit_card");
    assert_eq!(field(visa, "number")["concealed"], true);
    let wifi = entry(&v, "Office Wi-Fi");
    assert_eq!(wifi["kind"], "wifi");
    assert_eq!(field(wifi, "wireless network password")["concealed"], true);
    let robot = entry(&v, "Warehouse robot console");
    assert_eq!(robot["kind"], "unknown");
    assert_eq!(robot["source_type"], "Robot Controller");
    assert_eq!(field(robot, "server")["value"], "robots.nwr.example");
    assert!(codes(&v).contains(&"onepassword.unknown-category".to_owned()));
}

#[test]
fn csv_1password_7_windows_layout_keeps_uuid_and_sections() {
    let v = inspect_json(&sample("onepassword/company-1p7-win.csv"), &[]);
    let gh = entry(&v, "GitHub");
    assert_eq!(gh["source_id"], "x2bq7mzkt3wrd6yn4phc5lfgja");
    assert!(gh["totp"].as_str().unwrap().contains("JBSWY3DPEHPK3PXP"));
    assert_eq!(gh["urls"].as_array().unwrap().len(), 2);
    let rc = field(gh, "RECOVERY CODE");
    assert_eq!(rc["concealed"], true);
    assert_eq!(rc["group"], "3EKPT2MQ");
    assert_eq!(
        field(entry(&v, "Acme Partners portal"), "ACCOUNT MANAGER")["value"],
        "Ravi Shah"
    );
}

#[test]
fn csv_1password_6_type_column_holds_the_folder() {
    let v = inspect_json(&sample("onepassword/company-1p6.csv"), &[]);
    assert_eq!(
        entry(&v, "Prod Postgres")["folder"],
        serde_json::json!(["Engineering", "Databases"])
    );
    assert_eq!(
        entry(&v, "Airline account")["folder"],
        serde_json::json!(["Personal", "Travel"])
    );
    assert_eq!(
        field(entry(&v, "Prod Postgres"), "support phone")["value"],
        "+64 9 555 0190"
    );
    // A real category name in Type is a category, not a folder.
    let printer = entry(&v, "Shared printer admin");
    assert_eq!(printer["kind"], "password");
    assert_eq!(printer["folder"], serde_json::json!([]));
}

#[test]
fn csv_short_long_and_empty_rows_are_recovered_with_findings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.csv");
    std::fs::write(
        &path,
        "title,notes,username,password,url\nA,,ann,Pw-Split,Tail-9912,https://a.example\n,,,,\nB,,bob\n",
    )
    .unwrap();
    let v = inspect_json(&path, &[]);
    assert_eq!(v["entries"].as_array().unwrap().len(), 2);
    assert_eq!(v["skipped_records"], 1);
    let a = entry(&v, "A");
    assert_eq!(field(a, "column 6")["concealed"], true);
    let lines: Vec<u64> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3, 4]);
    let run = vaultferry(&["inspect", "--strict", path.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.describe());
    assert!(run.stderr.contains("line 2"), "{}", run.describe());
    assert!(!run.stderr.contains("Tail-9912"), "{}", run.describe());
}

#[test]
fn csv_1password_4_layout() {
    let v = inspect_json(&sample("onepassword/company-1p4.csv"), &[]);
    assert_eq!(v["entries"].as_array().unwrap().len(), 3);
    assert_eq!(entry(&v, "GitHub")["notes"], "Org owner account.");
    assert_eq!(entry(&v, "Bank portal")["username"], "finance@northwind.example");
}

// ---------------------------------------------------------------- permissions

#[test]
fn permissions_bundle_becomes_shares() {
    let v = inspect_json(
        &sample("onepassword/company.1pux"),
        &["--sharing", sample("onepassword/permissions.json").to_str().unwrap()],
    );
    let shares = v["shares"].as_array().unwrap();
    let find = |vault: &str, email: &str| {
        shares
            .iter()
            .find(|s| s["folder"][0] == vault && s["principal"]["email"] == email)
            .unwrap_or_else(|| panic!("no share {vault} {email}"))
    };
    let lee = find("Engineering", "lee@northwind.example");
    assert_eq!(
        lee["access"],
        serde_json::json!({"admin": false, "edit": true, "hide_passwords": false})
    );
    assert!(lee["source_access"].as_str().unwrap().contains("edit_items"));
    assert_eq!(find("Engineering", "sam@northwind.example")["access"]["admin"], true);
    // Keyed by vault uuid in the bundle.
    let priya = find("Finance", "priya@northwind.example");
    assert_eq!(
        priya["access"],
        serde_json::json!({"admin": false, "edit": false, "hide_passwords": false})
    );
    assert_eq!(find("Finance", "tom@initech.example")["status"], "pending");
    assert_eq!(find("Engineering", "felix@northwind.example")["status"], "suspended");
    assert_eq!(
        find("Vendors", "jules@studio-jules.example")["access"]["hide_passwords"],
        true
    );
    assert_eq!(find("Vendors", "kim@globex.example")["access"]["edit"], true);
    assert_eq!(find("Vendors", "ravi@acme-partners.example")["access"]["admin"], true);
    assert_eq!(
        find("Vendors", "ravi@acme-partners.example")["outside_enterprise"],
        true
    );
    assert_eq!(lee["outside_enterprise"], false);

    let ops = shares.iter().find(|s| s["principal"]["group"] == "Ops").unwrap();
    assert_eq!(
        ops["principal"]["members"],
        serde_json::json!(["lee@northwind.example", "priya@northwind.example"])
    );
    let c = codes(&v);
    assert!(c.contains(&"onepassword.sharing-unknown-vault".to_owned()), "{c:?}");
    assert_eq!(c.iter().filter(|c| *c == "onepassword.share-inactive").count(), 2);
    assert!(!c.contains(&"onepassword.sharing-missing-vault".to_owned()));
}

#[test]
fn shared_vault_missing_from_the_bundle_is_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("only-eng.json");
    std::fs::write(&bundle, r#"{"engineering": {"users": [{"email": "lee@northwind.example", "state": "ACTIVE", "permissions": ["allow_viewing"]}]}}"#).unwrap();
    let v = inspect_json(
        &sample("onepassword/company.1pux"),
        &["--sharing", bundle.to_str().unwrap()],
    );
    let missing: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "onepassword.sharing-missing-vault")
        .collect();
    assert_eq!(missing.len(), 2, "Finance and Vendors: {missing:?}");
    // Broad permissions have no hide-passwords notion.
    assert_eq!(v["shares"][0]["access"]["hide_passwords"], false);

    std::fs::write(&bundle, "[1, 2").unwrap();
    let run = vaultferry(&[
        "inspect",
        sample("onepassword/company.1pux").to_str().unwrap(),
        "--sharing",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.describe());
    assert!(run.stderr.contains("only-eng.json"), "{}", run.describe());
}

// ---------------------------------------------------------------- secrets

/// Every sample, read every way a user can print it: no secret value may
/// appear unless `--reveal` asked for it.
#[test]
fn no_secret_appears_in_any_output_without_reveal() {
    let sharing = sample("onepassword/permissions.json");
    let sharing = sharing.to_str().unwrap();
    let mut total = 0;
    for name in [
        "company.1pux",
        "company.1pif",
        "company-1p8.csv",
        "company-1p7-mac.csv",
        "company-1p7-win.csv",
        "company-1p6.csv",
        "company-1p4.csv",
    ] {
        let path = sample(&format!("onepassword/{name}"));
        let p = path.to_str().unwrap();
        let revealed = inspect_json(&path, &["--sharing", sharing]);
        let secrets = secrets_in_revealed(&revealed);
        assert!(!secrets.is_empty(), "{name}: no secrets found to check");
        total += secrets.len();
        let json = vaultferry(&["inspect", "--json", p, "--sharing", sharing]).success();
        assert_no_secrets(&format!("{name} --json"), &json.stdout, &secrets);
        assert_no_secrets(&format!("{name} --json stderr"), &json.stderr, &secrets);
        let summary = vaultferry(&["inspect", p, "--sharing", sharing]).success();
        assert_no_secrets(&format!("{name} summary"), &summary.stdout, &secrets);
        let strict = vaultferry(&["inspect", "--strict", p, "--sharing", sharing]);
        assert_no_secrets(&format!("{name} --strict"), &strict.stdout, &secrets);
        assert_no_secrets(&format!("{name} --strict stderr"), &strict.stderr, &secrets);
    }
    // Distinctive sample secrets are among those checked.
    assert!(total > 60, "{total}");
}

// ---------------------------------------------------------------- robustness

/// Damaged exports end in findings or errors, never in a panic: byte flips,
/// truncations and inserted separators over every sample.
#[test]
fn mutated_exports_never_panic() {
    use rand::{Rng, SeedableRng};
    use vaultferry::sources::{self, ParseOptions};

    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x1_9A55);
    let options = ParseOptions::default();
    let data = std::fs::read(sample("onepassword/company-1pux/export.data")).unwrap();
    for name in [
        "company.1pux",
        "company.1pif",
        "company-1p8.csv",
        "company-1p7-mac.csv",
        "company-1p7-win.csv",
        "company-1p6.csv",
        "company-1p4.csv",
    ] {
        let original = std::fs::read(sample(&format!("onepassword/{name}"))).unwrap();
        for round in 0..60 {
            let mut bytes = original.clone();
            match round % 4 {
                0 => bytes.truncate(rng.gen_range(0..bytes.len())),
                1 => {
                    for _ in 0..rng.gen_range(1..8) {
                        let i = rng.gen_range(0..bytes.len());
                        bytes[i] = rng.gen();
                    }
                }
                2 => {
                    let i = rng.gen_range(0..bytes.len());
                    let junk: &[u8] =
                        [&b"\"\r\n"[..], b"***", b"{\"k\":", b",,,", b"\xff\xfe", b"\\"][rng.gen_range(0..6)];
                    bytes.splice(i..i, junk.iter().copied());
                }
                _ => {
                    let i = rng.gen_range(0..bytes.len());
                    let j = rng.gen_range(i..bytes.len());
                    bytes.drain(i..j);
                }
            }
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            let forced = ParseOptions {
                format: Some(match name {
                    "company.1pux" => vaultferry::model::SourceKind::Onepassword1pux,
                    "company.1pif" => vaultferry::model::SourceKind::Onepassword1pif,
                    _ => vaultferry::model::SourceKind::OnepasswordCsv,
                }),
                ..ParseOptions::default()
            };
            let _ = sources::read_export(&path, &options);
            let _ = sources::read_export(&path, &forced);
        }
    }
    // Damaged JSON inside a well-formed archive.
    for round in 0..120 {
        let mut bytes = data.clone();
        let i = rng.gen_range(0..bytes.len());
        if round % 2 == 0 {
            bytes.truncate(i);
        } else {
            let j = rng.gen_range(i..bytes.len().min(i + 40));
            bytes.drain(i..j);
        }
        let path = build_zip(
            dir.path(),
            "m.1pux",
            &[("export.attributes", V3_ATTRS), ("export.data", &bytes)],
        );
        let _ = sources::read_export(&path, &options);
    }
}

// ---------------------------------------------------------------- real-world CSV layouts (issue 20)

/// A real `migrate` of `export` into a fresh sample workspace; returns the
/// store, after checking no revealed secret of the export reached stdout,
/// stderr or the report.
fn migrate_into_store(dir: &Path, export: &Path) -> rusqlite::Connection {
    let secrets = secrets_in_revealed(&inspect_json(export, &[]));
    let db = common::northwind_db(dir);
    let report = dir.join("report.md");
    let run = vaultferry(&[
        "migrate",
        export.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--yes",
        "--json",
        "--report",
        report.to_str().unwrap(),
        "--outbox",
        dir.join("outbox").to_str().unwrap(),
    ])
    .success();
    assert_no_secrets("stdout", &run.stdout, &secrets);
    assert_no_secrets("stderr", &run.stderr, &secrets);
    assert_no_secrets("report", &std::fs::read_to_string(&report).unwrap(), &secrets);
    rusqlite::Connection::open(&db).unwrap()
}

/// Every item in the store as `(table, type, name, tags)`, read with plain SQL.
fn stored_items(conn: &rusqlite::Connection) -> BTreeSet<(String, String, String, String)> {
    let mut stmt = conn
        .prepare(
            "SELECT 'account', 'login', name, tags FROM accounts
             UNION ALL SELECT 'secret', type, title, tags FROM secrets",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn bug1_mac_csv_backslash_quotes_read_as_one_entry_per_item() {
    let path = sample("onepassword/company-1p7-mac-all.csv");
    let v = inspect_json(&path, &[]);
    let titles: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["Welcome kit", "Sam Patel", "Company Visa", "GitHub", "Prod Postgres"]
    );
    assert!(
        !codes(&v).contains(&"onepassword.csv-column-count".to_owned()),
        "{:?}",
        codes(&v)
    );
    let note = entry(&v, "Welcome kit");
    assert_eq!(
        note["notes"],
        "Starter kit for new staff.\nAsk IT for the \"welcome\" pack."
    );
    let gh = entry(&v, "GitHub");
    assert_eq!(
        gh["notes"],
        "Org owner account; run \"gh auth login\" from C:\\tools\\gh."
    );
    assert_eq!(gh["password"], "Pw-Eng-7fQ2!x");

    let dir = tempfile::tempdir().unwrap();
    let conn = migrate_into_store(dir.path(), &path);
    let names: Vec<String> = stored_items(&conn).into_iter().map(|(_, _, n, _)| n).collect();
    assert_eq!(names.len(), 5, "{names:?}");
}

#[test]
fn bug2_mac_csv_tag_lists_become_tags() {
    let v = inspect_json(&sample("onepassword/company-1p7-mac-all.csv"), &[]);
    assert_eq!(entry(&v, "Welcome kit")["tags"], serde_json::json!(["Starter Kit"]));
    assert_eq!(
        entry(&v, "Sam Patel")["tags"],
        serde_json::json!(["hr", "Staff records"])
    );
    assert_eq!(
        entry(&v, "GitHub")["tags"],
        serde_json::json!(["engineering", "source"])
    );
    assert_eq!(entry(&v, "Company Visa")["tags"], serde_json::json!([]));

    let dir = tempfile::tempdir().unwrap();
    let conn = migrate_into_store(dir.path(), &sample("onepassword/company-1p7-mac-all.csv"));
    let items = stored_items(&conn);
    let tags_of = |name: &str| -> Value {
        let (_, _, _, t) = items.iter().find(|i| i.2 == name).unwrap();
        serde_json::from_str(t).unwrap()
    };
    assert_eq!(tags_of("GitHub"), serde_json::json!(["engineering", "source"]));
    assert_eq!(tags_of("Welcome kit"), serde_json::json!(["Starter Kit"]));
}

#[test]
fn bug3_mac_csv_each_rows_category_decides_its_kind() {
    let path = sample("onepassword/company-1p7-mac-all.csv");
    let v = inspect_json(&path, &[]);
    let kind = |t: &str| entry(&v, t)["kind"].as_str().unwrap().to_owned();
    assert_eq!(kind("Welcome kit"), "secure_note");
    assert_eq!(kind("Sam Patel"), "identity");
    assert_eq!(kind("Company Visa"), "credit_card");
    assert_eq!(kind("GitHub"), "login");
    assert_eq!(kind("Prod Postgres"), "database");
    // The card's `type(type)` column is the card type, not the item's category.
    assert_eq!(entry(&v, "Company Visa")["source_type"], "Credit Card");

    let dir = tempfile::tempdir().unwrap();
    let items = stored_items(&migrate_into_store(dir.path(), &path));
    let typed: BTreeSet<(String, String)> = items.into_iter().map(|(_, t, n, _)| (n, t)).collect();
    for want in [
        ("GitHub", "login"),
        ("Prod Postgres", "database"),
        ("Welcome kit", "secret"),
        ("Company Visa", "custom"),
        ("Sam Patel", "custom"),
    ] {
        assert!(
            typed.contains(&(want.0.to_owned(), want.1.to_owned())),
            "{want:?} not in {typed:?}"
        );
    }
}

#[test]
fn bug4_mac_csv_every_filled_column_is_kept() {
    let v = inspect_json(&sample("onepassword/company-1p7-mac-all.csv"), &[]);
    let sam = entry(&v, "Sam Patel");
    assert_eq!(
        field(sam, "address")["value"],
        "12 Harbour Road\nAuckland 1010\nNew Zealand"
    );
    assert_eq!(field(sam, "first name")["value"], "Sam");
    assert_eq!(field(sam, "last name")["value"], "Patel");
    assert_eq!(field(sam, "email")["value"], "sam@northwind.example");
    assert_eq!(field(sam, "default phone")["value"], "+64 9 555 0101");
    assert_eq!(field(sam, "birth date")["value"], "2/24/92");
    assert_eq!(field(sam, "reminder answer")["concealed"], true);
    assert_eq!(sam["created"], "2025-01-01T00:00:00Z");
    assert_eq!(sam["updated"], "2025-01-03T00:00:00Z");
    let visa = entry(&v, "Company Visa");
    assert_eq!(field(visa, "number")["value"], "4000056655665556");
    assert_eq!(field(visa, "number")["concealed"], true);
    assert_eq!(field(visa, "type")["value"], "visa");
    assert_eq!(field(visa, "PIN")["concealed"], true);
    assert_eq!(field(visa, "expiry date")["value"], "2028-11");
    assert_eq!(field(visa, "expiry date")["kind"], "month_year");
    let db = entry(&v, "Prod Postgres");
    assert_eq!(db["username"], "nwr_app");
    assert_eq!(db["password"], "Pw-Db-Prod-9kL!");
    assert_eq!(field(db, "server")["value"], "db.nwr.example");
    assert_eq!(field(db, "support phone")["value"], "+64 9 555 0190");
    assert_eq!(field(db, "type")["value"], "postgresql");
    // Nothing is lost: every filled cell of the file is in the entries.
    let secrets = secrets_in_revealed(&v);
    for s in [
        "Pw-Db-Prod-9kL!",
        "CVV-8264",
        "PIN-6612",
        "Ans-Robo-4471",
        "4000056655665556",
    ] {
        assert!(secrets.iter().any(|x| x == s), "{s} not read");
    }
}

#[test]
fn bug5_windows_csv_cards_and_identities_never_read_as_logins() {
    let path = sample("onepassword/company-1p7-win-all.csv");
    let v = inspect_json(&path, &[]);
    let kind = |t: &str| entry(&v, t)["kind"].as_str().unwrap().to_owned();
    assert_eq!(kind("Company Visa"), "credit_card");
    assert_eq!(kind("Sam Patel"), "identity");
    assert_eq!(kind("GitHub"), "login");
    assert_eq!(kind("Acme Partners portal"), "login");
    assert_eq!(kind("1Password Account"), "login");
    assert_eq!(kind("Globex contract notes"), "secure_note");
    let visa = entry(&v, "Company Visa");
    assert_eq!(field(visa, "NUMBER")["concealed"], true);
    assert_eq!(field(visa, "NUMBER")["kind"], "card_number");
    assert_eq!(field(visa, "VERIFICATION NUMBER")["concealed"], true);
    assert_eq!(
        field(entry(&v, "1Password Account"), "MASTER-PASSWORD")["concealed"],
        true
    );
    assert_eq!(field(entry(&v, "1Password Account"), "ACCOUNT-KEY")["concealed"], true);

    // In the store: the card and the identity are custom secrets, not accounts.
    let dir = tempfile::tempdir().unwrap();
    let items = stored_items(&migrate_into_store(dir.path(), &path));
    let accounts: BTreeSet<&str> = items
        .iter()
        .filter(|i| i.0 == "account")
        .map(|i| i.2.as_str())
        .collect();
    assert_eq!(
        accounts,
        BTreeSet::from(["GitHub", "Acme Partners portal", "1Password Account"])
    );
    let secret_type = |name: &str| items.iter().find(|i| i.2 == name).map(|i| i.1.clone());
    assert_eq!(secret_type("Company Visa").as_deref(), Some("custom"));
    assert_eq!(secret_type("Sam Patel").as_deref(), Some("custom"));
    assert_eq!(secret_type("Globex contract notes").as_deref(), Some("secret"));
}

#[test]
fn bug6_windows_csv_custom_sections_keep_their_titles() {
    let v = inspect_json(&sample("onepassword/company-1p7-win-all.csv"), &[]);
    let gh = entry(&v, "GitHub");
    let rc = field(gh, "RECOVERY CODE");
    assert_eq!(
        (rc["group"].as_str(), rc["concealed"].as_bool()),
        (Some("Recovery"), Some(true))
    );
    assert_eq!(rc["value"], "RC-GH-7781-NWR");
    // One section column, another row's title for it.
    assert_eq!(
        field(entry(&v, "Acme Partners portal"), "ACCOUNT MANAGER")["group"],
        "Vendor"
    );
    let sam = entry(&v, "Sam Patel");
    assert_eq!(field(sam, "FIRST NAME")["group"], "Identification");
    assert_eq!(field(sam, "DEFAULT PHONE")["group"], "Address");
    assert_eq!(field(sam, "USERNAME")["group"], "Internet Details");
    assert_eq!(field(sam, "USERNAME")["value"], "spatel");
    // A section the row left untitled keeps its id.
    assert_eq!(
        field(entry(&v, "Company Visa"), "ISSUED ON")["group"],
        "M3XRT8VBQ2KZ7WPD4NYC6LHGJA"
    );
    assert_eq!(gh["notes"], "Org owner account.\nUse the recovery code below.");
    assert_eq!(gh["urls"].as_array().unwrap().len(), 2);
    assert_eq!(gh["source_id"], "x2bq7mzkt3wrd6yn4phc5lfgja");
    assert!(codes(&v).contains(&"onepassword.csv-kind-inferred".to_owned()));
}

#[test]
fn bug7_windows_csv_dates_are_dates() {
    let v = inspect_json(&sample("onepassword/company-1p7-win-all.csv"), &[]);
    let birth = field(entry(&v, "Sam Patel"), "BIRTH DATE");
    assert_eq!(
        (birth["value"].as_str(), birth["kind"].as_str()),
        (Some("1992-02-24"), Some("date"))
    );
    let visa = entry(&v, "Company Visa");
    assert_eq!(field(visa, "ISSUED ON")["value"], "1970-01-03");
    assert_eq!(field(visa, "EXPIRY DATE")["value"], "2028-11-01");
    assert_eq!(field(visa, "EXPIRY DATE")["kind"], "date");
}

#[test]
fn bug8_windows_csv_of_cards_alone_is_detected_without_from() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cards.csv");
    std::fs::write(
        &path,
        "\"UUID\",\"TITLE\",\"SCOPE\",\"AUTOSUBMIT\",\"1: CARDHOLDER NAME\",\"2: NUMBER\",\"3: VERIFICATION NUMBER\",\"4: EXPIRY DATE\"\r\n\
         \"c7vn2qxkz5wtb8rm3hyd4lpfga\",\"Fuel card\",\"Default\",\"Default\",\"Northwind Robotics Ltd\",\"5555341244441115\",\"CVV-0412\",\"3/1/2027 12:00 AM\"\r\n",
    )
    .unwrap();
    let v = inspect_json(&path, &[]);
    assert_eq!(v["source"], "onepassword_csv");
    let card = entry(&v, "Fuel card");
    assert_eq!(card["kind"], "credit_card");
    assert_eq!(field(card, "CARDHOLDER NAME")["value"], "Northwind Robotics Ltd");
    assert_eq!(field(card, "NUMBER")["concealed"], true);
    assert_eq!(card["source_id"], "c7vn2qxkz5wtb8rm3hyd4lpfga");
}

// ---------------------------------------------------------------- 1PUX values of unexpected shape (issue 20)

/// Items whose values take shapes 1Password 8 writes for masked-email
/// aliases, and worse.
const ODD_VALUES: &str = r#"
{"uuid":"m1","categoryUuid":"001","overview":{"title":"Shop alias","url":"https://shop.example","tags":["shopping",2026]},
 "details":{"loginFields":[
    {"value":{"email_address":"nwr.shop.7q2@alias.example","provider":{"name":"Fastmail","id":"fastmail"}},
     "id":"username","name":"username","fieldType":"E","designation":"username"},
    {"value":"Pw-Shop-Alias-5rT!","id":"password","name":"password","fieldType":"P","designation":"password"},
    {"value":["Odd-Part-1","Odd-Part-2"],"id":"weird","name":"weird","fieldType":"T","designation":""}],
  "sections":[{"title":"Contact","fields":[
    {"title":"email","id":"email","value":{"email":{"email_address":"ops@alias.example","provider":"SimpleLogin"}}}]}]}},
{"uuid":"m2","categoryUuid":"001","overview":{"title":null,"subtitle":7},
 "details":{"loginFields":[
    {"value":{"email_address":"null.title@alias.example","provider":null,"alias_token":"Tok-Alias-8812"},
     "id":"username","name":"username","fieldType":"E","designation":"username"}],
  "sections":[{"title":"S","fields":[{"title":"count","id":"c","value":{"string":"3"},"multiline":"no"}]}]}}
"#;

fn odd_values_archive(dir: &Path) -> PathBuf {
    let data = minimal_data(ODD_VALUES);
    build_zip(
        dir,
        "odd.1pux",
        &[("export.attributes", V3_ATTRS), ("export.data", data.as_bytes())],
    )
}

#[test]
fn bug9_pux_login_field_with_an_object_value_keeps_its_item() {
    let dir = tempfile::tempdir().unwrap();
    let path = odd_values_archive(dir.path());
    let v = inspect_json(&path, &[]);
    assert_eq!(v["entries"].as_array().unwrap().len(), 2, "{v}");
    assert!(!codes(&v).contains(&"onepassword.item-malformed".to_owned()));
    let shop = entry(&v, "Shop alias");
    assert_eq!(shop["username"], "nwr.shop.7q2@alias.example");
    assert_eq!(shop["password"], "Pw-Shop-Alias-5rT!");
    assert_eq!(field(shop, "username provider")["value"], "Fastmail");
    assert_eq!(shop["tags"], serde_json::json!(["shopping", "2026"]));
    // A value of no known shape is kept, concealed, and named.
    let weird = field(shop, "weird");
    assert_eq!(weird["concealed"], true);
    assert!(weird["value"].as_str().unwrap().contains("Odd-Part-2"));
    let odd: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "onepassword.odd-value")
        .collect();
    assert_eq!(odd.len(), 2, "{odd:?}");
    let untitled = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["source_id"] == "m2")
        .unwrap();
    assert_eq!(untitled["username"], "null.title@alias.example");
    assert_eq!(field(untitled, "username (alias_token)")["concealed"], true);
    assert_eq!(field(untitled, "count")["value"], "3");

    // Both land in the store as accounts with their usernames.
    let conn = migrate_into_store(dir.path(), &path);
    let mut users: Vec<String> = conn
        .prepare("SELECT username FROM accounts ORDER BY username")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    users.sort();
    assert_eq!(users, ["null.title@alias.example", "nwr.shop.7q2@alias.example"]);
}

#[test]
fn bug10_pux_email_value_keeps_its_provider() {
    let dir = tempfile::tempdir().unwrap();
    let v = inspect_json(&odd_values_archive(dir.path()), &[]);
    let shop = entry(&v, "Shop alias");
    let email = field(shop, "email");
    assert_eq!(
        (email["value"].as_str(), email["kind"].as_str()),
        (Some("ops@alias.example"), Some("email"))
    );
    let provider = field(shop, "email provider");
    assert_eq!(
        (provider["value"].as_str(), provider["group"].as_str()),
        (Some("SimpleLogin"), Some("Contact"))
    );
}

// ---------------------------------------------------------------- 1PIF record shapes (issue 20)

#[test]
fn bug11_opvault_shaped_1pif_records_are_read_not_skipped() {
    let path = sample("onepassword/company-opvault.1pif");
    let v = inspect_json(&path, &[]);
    assert_eq!(v["source"], "onepassword1pif");
    let titles: BTreeSet<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    // The `099` tombstone is not an item.
    assert_eq!(
        titles,
        BTreeSet::from([
            "GitHub",
            "Company Visa",
            "Globex contract notes",
            "Shared printer admin"
        ])
    );
    let gh = entry(&v, "GitHub");
    assert_eq!(gh["kind"], "login");
    assert_eq!(gh["source_type"], "001");
    assert_eq!(gh["username"], "nwr-admin");
    assert_eq!(gh["password"], "Pw-Eng-7fQ2!x");
    assert_eq!(gh["totp"], "otpauth://totp/GitHub:nwr-admin?secret=JBSWY3DPEHPK3PXP");
    assert_eq!(gh["urls"][1], "https://github.com/organizations/northwind/settings");
    assert_eq!(field(gh, "admin console")["kind"], "url");
    assert_eq!(field(gh, "recovery code")["group"], "Security");
    assert_eq!(gh["notes"], "Org owner account.\nUse the TOTP below.");
    assert_eq!(gh["password_history"][0]["value"], "Pw-Eng-Old-1aZ9");
    assert_eq!(gh["tags"], serde_json::json!(["engineering", "source"]));
    assert_eq!(gh["favorite"], true);
    assert_eq!(gh["created"], "2025-01-01T00:00:00Z");
    assert_eq!(gh["updated"], "2025-01-05T00:00:00Z");
    let visa = entry(&v, "Company Visa");
    assert_eq!(visa["kind"], "credit_card");
    assert_eq!(field(visa, "number")["concealed"], true);
    assert_eq!(field(visa, "expiry date")["value"], "2028-11");
    assert_eq!(entry(&v, "Globex contract notes")["kind"], "secure_note");
    assert_eq!(entry(&v, "Shared printer admin")["password"], "Pw-Printer-2wE!");
    assert!(!codes(&v).contains(&"onepassword.pif-unknown-record".to_owned()));

    let dir = tempfile::tempdir().unwrap();
    let items = stored_items(&migrate_into_store(dir.path(), &path));
    let names: BTreeSet<&str> = items.iter().map(|i| i.2.as_str()).collect();
    assert_eq!(names, titles);
}

#[test]
fn bug12_flat_secure_contents_keys_beside_sections_read_into_fields() {
    let v = inspect_json(&sample("onepassword/company-flat-keys.1pif"), &[]);
    let sam = entry(&v, "Sam Patel");
    let birth = field(sam, "birth date");
    assert_eq!(
        (birth["value"].as_str(), birth["kind"].as_str()),
        (Some("1992-02-24"), Some("date"))
    );
    let labels: Vec<&str> = sam["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["label"].as_str().unwrap())
        .collect();
    assert!(!labels.iter().any(|l| l.starts_with("birthdate_")), "{labels:?}");
    // A flat key that repeats a section's value is kept once, in its section.
    let sams = sam["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["value"] == "Sam")
        .count();
    assert_eq!(sams, 1, "{labels:?}");
    assert_eq!(field(sam, "default phone")["group"], "Address");
    assert_eq!(field(sam, "company")["value"], "Northwind Robotics");
    let card = entry(&v, "Fuel card");
    let expiry = field(card, "expiry date");
    assert_eq!(
        (expiry["value"].as_str(), expiry["kind"].as_str()),
        (Some("2027-03"), Some("month_year"))
    );
    assert_eq!(field(card, "ccnum")["concealed"], true);
    assert_eq!(field(card, "cvv")["concealed"], true);
}

#[test]
fn bug13_a_lone_opvault_record_is_detected_as_1pif() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.1pif");
    std::fs::write(
        &path,
        r#"{"uuid":"D1","category":"001","overview":{"title":"Wiki","URLs":[{"u":"https://wiki.nwr.example"}]},"details":{"fields":[{"designation":"password","name":"password","type":"P","value":"Pw-Wiki-3qZ!"}]}}"#,
    )
    .unwrap();
    let v = inspect_json(&path, &[]);
    assert_eq!(v["source"], "onepassword1pif");
    let wiki = entry(&v, "Wiki");
    assert_eq!(wiki["password"], "Pw-Wiki-3qZ!");
    assert_eq!(wiki["urls"][0], "https://wiki.nwr.example");
}

#[test]
fn bug14_section_values_of_odd_shape_are_kept_concealed_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = minimal_data(
        r#"{"uuid":"s1","categoryUuid":"001","overview":{"title":"Door panel"},
            "details":{"sections":[{"title":"Codes","fields":[
              {"title":"door pin","id":"pin","value":{"concealed":4471}},
              {"title":"layout","id":"layout","value":{"string":{"zone":"Odd-Nested-Zone-1"}}},
              {"title":"backup","id":"b","value":{"concealed":["Odd-List-Secret-2"]}}]}]}}"#,
    );
    let path = build_zip(
        dir.path(),
        "odd-sections.1pux",
        &[("export.attributes", V3_ATTRS), ("export.data", data.as_bytes())],
    );
    let v = inspect_json(&path, &[]);
    let door = entry(&v, "Door panel");
    let pin = field(door, "door pin");
    assert_eq!(
        (pin["value"].as_str(), pin["concealed"].as_bool()),
        (Some("4471"), Some(true))
    );
    let layout = field(door, "layout");
    assert_eq!(layout["concealed"], true);
    assert!(layout["value"].as_str().unwrap().contains("Odd-Nested-Zone-1"));
    assert_eq!(field(door, "layout")["group"], "Codes");
    assert!(field(door, "backup")["value"]
        .as_str()
        .unwrap()
        .contains("Odd-List-Secret-2"));
    assert_eq!(
        codes(&v).iter().filter(|c| *c == "onepassword.odd-value").count(),
        2,
        "{:?}",
        codes(&v)
    );

    // The same in 1PIF: a section value and a form field value of odd shape.
    let pif = dir.path().join("odd.1pif");
    std::fs::write(
        &pif,
        r#"{"uuid":"P1","typeName":"webforms.WebForm","title":"Door web","secureContents":{"fields":[{"name":"code","type":"T","value":{"v":"Odd-Form-Value-3"}}],"sections":[{"title":"Codes","fields":[{"k":"string","n":"zone","t":"zone","v":{"z":"Odd-Pif-Zone-4"}}]}]}}
***5642bee8-a5ff-11dc-8314-0800200c9a66***
"#,
    )
    .unwrap();
    let v = inspect_json(&pif, &[]);
    let door = entry(&v, "Door web");
    assert!(field(door, "code")["value"]
        .as_str()
        .unwrap()
        .contains("Odd-Form-Value-3"));
    assert_eq!(field(door, "code")["concealed"], true);
    assert!(field(door, "zone")["value"]
        .as_str()
        .unwrap()
        .contains("Odd-Pif-Zone-4"));
    assert_eq!(field(door, "zone")["group"], "Codes");
    assert!(codes(&v).contains(&"onepassword.odd-value".to_owned()));
}

#[test]
fn bug15_mac_csv_without_a_type_column_infers_each_rows_kind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mac-no-type.csv");
    std::fs::write(
        &path,
        "\"cardholder name(cardholder)\",\"number(ccnum)\",\"verification number(cvv)\",\"first name(firstname)\",\"last name(lastname)\",\"Password\",\"Title\",\"Username\",\n\
         \"Northwind Robotics Ltd\",\"4000056655665556\",\"CVV-8264\",,,,\"Company Visa\",,\n\
         ,,,\"Sam\",\"Patel\",,\"Sam Patel\",,\n\
         ,,,,,\"Pw-Eng-7fQ2!x\",\"GitHub\",\"nwr-admin\",\n",
    )
    .unwrap();
    let v = inspect_json(&path, &[]);
    assert_eq!(v["source"], "onepassword_csv");
    assert_eq!(entry(&v, "Company Visa")["kind"], "credit_card");
    assert_eq!(entry(&v, "Sam Patel")["kind"], "identity");
    assert_eq!(entry(&v, "GitHub")["kind"], "login");
    assert_eq!(field(entry(&v, "Company Visa"), "number")["concealed"], true);
}

#[test]
fn bug20_a_pretty_printed_1pif_record_is_detected_without_from() {
    let v = inspect_json(&sample("onepassword/pretty-one-record.1pif"), &[]);
    assert_eq!(v["source"], "onepassword1pif", "{v}");
    let e = entry(&v, "Build server");
    assert_eq!(e["username"], "ci-admin");
    assert_eq!(e["password"], "Pw-Pretty-1pif-9Lk!");
}
