//! The reader on the samples under `samples/cxf/`, one credential type at
//! a time, and on broken documents.

use std::path::{Path, PathBuf};

use super::*;
use crate::model::{Entry, EntryKind, FieldKind, Principal};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/cxf").join(name)
}

fn read_sample(name: &str) -> Vault {
    read(&sample(name), name, &ParseOptions::default()).unwrap()
}

fn from_text(text: &str) -> Result<Vault, SourceError> {
    read_text(text, "t.cxf.json", None, &ParseOptions::default(), Sink::Keep)
}

fn titled<'v>(vault: &'v Vault, title: &str) -> &'v Entry {
    vault
        .entries
        .iter()
        .find(|e| e.title == title)
        .unwrap_or_else(|| panic!("no entry '{title}'"))
}

/// (group, label, value, concealed, kind) of every field.
fn fields(e: &Entry) -> Vec<(Option<&str>, &str, &str, bool, FieldKind)> {
    e.fields
        .iter()
        .map(|f| {
            (
                f.group.as_deref(),
                f.label.as_str(),
                f.value.expose(),
                f.is_concealed(),
                f.kind,
            )
        })
        .collect()
}

fn codes(vault: &Vault) -> Vec<&str> {
    vault.findings.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn a_header_and_a_bare_account_are_detected_without_from() {
    for name in ["company.cxf.json", "every-type.cxf.json"] {
        assert_eq!(
            crate::sources::detect::detect_path(&sample(name)).unwrap(),
            SourceKind::Cxf,
            "{name}"
        );
    }
    assert!(!looks_like_cxf("{\"category\":\"books\",\"items\":[]}"));
    assert!(!looks_like_cxf("url,username,password,extra,name,grouping,fav"));
}

#[test]
fn the_header_account_becomes_the_owner_and_collections_nest_as_folders() {
    let v = read_sample("company.cxf.json");
    assert_eq!(v.source, SourceKind::Cxf);
    assert_eq!(v.owner.as_deref(), Some("ann@acme.test"));
    let paths: Vec<String> = v.folders.iter().map(|f| f.path.join("/")).collect();
    assert_eq!(paths, ["Engineering", "Engineering/Databases", "Ann's things"]);
    let eng = v.folder(&["Engineering".to_owned()]).unwrap();
    assert!(eng.shared);
    assert_eq!(eng.source_id.as_deref(), Some("Y29sLWVuZw"));
    assert_eq!(eng.description.as_deref(), Some("build and deploy"));
    let db = titled(&v, "Orders DB");
    assert_eq!(db.folder, ["Engineering", "Databases"]);
    assert!(db.in_shared_vault, "inside a shared collection");
    let card = titled(&v, "Travel card");
    assert_eq!(card.folder, ["Ann's things"]);
    assert!(!card.in_shared_vault, "a collection nobody shares is its owner's");
    assert!(titled(&v, "Loose password").folder.is_empty());
    assert!(codes(&v).contains(&"cxf.exporter"));
}

#[test]
fn an_item_in_two_collections_is_one_entry_placed_in_the_first_with_a_finding() {
    let v = read_sample("company.cxf.json");
    let logins: Vec<&Entry> = v.entries.iter().filter(|e| e.title == "Deploy console").collect();
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].folder, ["Engineering"]);
    let f = v
        .findings
        .iter()
        .find(|f| f.code == "cxf.item-in-several-collections")
        .unwrap();
    assert!(f.message.contains("Engineering/Databases"), "{}", f.message);
}

#[test]
fn a_login_keeps_username_password_totp_urls_tags_dates_and_android_apps() {
    let v = read_sample("company.cxf.json");
    let e = titled(&v, "Deploy console");
    assert_eq!(e.kind, EntryKind::Login);
    assert_eq!(e.source_id, "aXRlbS1sb2dpbg");
    assert_eq!(e.source_type.as_deref(), Some("basic-auth+totp"));
    assert_eq!(e.username.as_deref(), Some("ann@acme.test"));
    assert_eq!(e.password.as_ref().unwrap().expose(), "Dpl-Secret-9!");
    assert_eq!(
        e.totp.as_ref().unwrap().expose(),
        "JBSWY3DPEHPK3PXP",
        "defaults: the bare seed"
    );
    assert_eq!(
        e.urls,
        ["https://deploy.acme.test/login", "https://deploy-eu.acme.test"]
    );
    assert_eq!(e.tags, ["ops", "prod"]);
    assert!(e.favorite);
    assert_eq!(e.subtitle.as_deref(), Some("ann@acme.test"));
    assert_eq!(e.created.unwrap().to_rfc3339(), "2023-11-14T22:13:20Z");
    assert_eq!(e.updated.unwrap().to_rfc3339(), "2024-03-14T09:30:00Z");
    assert_eq!(
        fields(e),
        [(Some("Scope"), "Android app", "test.acme.deploy", false, FieldKind::Text)]
    );
    assert!(e.line.is_some_and(|l| l > 1));
}

#[test]
fn the_collection_shares_map_permissions_and_group_members() {
    let v = read_sample("company.cxf.json");
    let shares: Vec<(&Principal, String)> = v.shares.iter().map(|s| (&s.principal, s.access.describe())).collect();
    assert_eq!(shares.len(), 4, "the robot accessor is ignored: {shares:?}");
    assert!(v.shares.iter().all(|s| s.folder == ["Engineering"]));
    assert_eq!(
        shares[0],
        (
            &Principal::User {
                email: "carl@acme.test".into(),
                name: None
            },
            "admin".to_owned()
        )
    );
    assert_eq!(shares[1].1, "read-only, hide passwords", "read without readSecret");
    assert_eq!(
        shares[2],
        (
            &Principal::Group {
                group: "Ops".into(),
                members: vec!["bob@acme.test".into(), "eve@partner.test".into()]
            },
            "edit".to_owned()
        )
    );
    assert_eq!(v.shares[2].source_access.as_deref(), Some("read, readSecret, update"));
    assert!(codes(&v).contains(&"cxf.unknown-accessor-type"));
    assert_eq!(
        shares[3],
        (&Principal::user("ann@acme.test"), "admin".to_owned()),
        "the exporter administers what it exports shared"
    );
}

#[test]
fn every_credential_type_maps_into_the_model() {
    let v = read_sample("every-type.cxf.json");
    let kind = |t: &str| titled(&v, t).kind;
    let expect = [
        ("basic", EntryKind::Login),
        ("totp", EntryKind::Login),
        ("note", EntryKind::SecureNote),
        ("card", EntryKind::CreditCard),
        ("address", EntryKind::Address),
        ("api", EntryKind::ApiCredential),
        ("custom", EntryKind::Custom),
        ("licence", EntryKind::DriversLicense),
        ("identity", EntryKind::Identity),
        ("passport", EntryKind::Passport),
        ("name", EntryKind::Identity),
        ("ssh", EntryKind::SshKey),
        ("wifi", EntryKind::Wifi),
        ("generated", EntryKind::Password),
        ("reference", EntryKind::Custom),
        ("file", EntryKind::Document),
        ("passkey", EntryKind::Custom),
        ("unknown", EntryKind::Unknown),
    ];
    for (title, want) in expect {
        assert_eq!(kind(title), want, "{title}");
    }
    assert_eq!(v.entries.len(), expect.len() + 1, "file missing too");

    let basic = titled(&v, "basic");
    assert_eq!(
        (basic.username.as_deref(), basic.password.as_ref().map(|p| p.expose())),
        (Some("u1"), Some("Basic-Secret-1"))
    );
    assert_eq!(
        titled(&v, "totp").totp.as_ref().unwrap().expose(),
        "otpauth://totp/Acme%20Co:ann%40acme.test?secret=GEZDGNBVGY3TQOJQ&issuer=Acme%20Co&algorithm=SHA256&digits=8&period=60"
    );
    assert_eq!(titled(&v, "note").notes.as_deref(), Some("Note text, plain"));
    assert_eq!(
        fields(titled(&v, "card")),
        [
            (
                Some("Credit card"),
                "Number",
                "5500000000000004",
                true,
                FieldKind::CardNumber
            ),
            (Some("Credit card"), "PIN", "Pin-9911", true, FieldKind::Concealed),
            (
                Some("Credit card"),
                "Valid from",
                "2024-01",
                false,
                FieldKind::MonthYear
            ),
        ]
    );
    assert_eq!(
        fields(titled(&v, "address")),
        [
            (Some("Address"), "Street", "1 Main St", false, FieldKind::Multiline),
            (Some("Address"), "Postal code", "8000", false, FieldKind::Text),
            (Some("Address"), "City", "Zürich", false, FieldKind::Text),
            (Some("Address"), "Territory", "CH-ZH", false, FieldKind::Text),
            (Some("Address"), "Country", "CH", false, FieldKind::Text),
            (Some("Address"), "Phone", "+41 44 000 00 00", false, FieldKind::Phone),
        ]
    );
    let api = fields(titled(&v, "api"));
    assert_eq!(
        api[0],
        (Some("API key"), "Key", "Api-Secret-key", true, FieldKind::Concealed)
    );
    assert_eq!(
        api[3],
        (Some("API key"), "URL", "https://api.acme.test", false, FieldKind::Url)
    );
    assert_eq!(
        fields(titled(&v, "custom")),
        [
            (Some("Extra"), "Contact", "ops@acme.test", false, FieldKind::Email),
            (Some("Extra"), "Active", "true", false, FieldKind::Text),
            (Some("Extra"), "Field 3", "Custom-Secret-x", true, FieldKind::Concealed),
        ]
    );
    let licence = fields(titled(&v, "licence"));
    assert!(
        licence.contains(&(
            Some("Driver's licence"),
            "Licence number",
            "Dl-Secret-123",
            true,
            FieldKind::Concealed
        )),
        "concealed even when written as string"
    );
    assert!(licence.contains(&(
        Some("Driver's licence"),
        "Birth date",
        "1990-02-03",
        false,
        FieldKind::Date
    )));
    assert!(fields(titled(&v, "identity")).contains(&(
        Some("Identity document"),
        "Document number",
        "Id-Secret-456",
        true,
        FieldKind::Concealed
    )));
    assert!(fields(titled(&v, "passport")).contains(&(
        Some("Passport"),
        "Passport number",
        "Pp-Secret-789",
        true,
        FieldKind::Concealed
    )));
    assert_eq!(
        fields(titled(&v, "name")),
        [
            (Some("Name"), "Given name", "Ann", false, FieldKind::Text),
            (Some("Name"), "Surname", "Admin", false, FieldKind::Text),
            (Some("Name"), "Generation", "II", false, FieldKind::Text),
        ]
    );
    let ssh = fields(titled(&v, "ssh"));
    assert!(ssh.contains(&(
        Some("SSH key"),
        "Private key",
        "U3NoLVNlY3JldC1rZXk",
        true,
        FieldKind::PrivateKey
    )));
    assert!(ssh.contains(&(Some("SSH key"), "Key type", "ssh-ed25519", false, FieldKind::KeyType)));
    let wifi = fields(titled(&v, "wifi"));
    assert!(wifi.contains(&(Some("Wi-Fi"), "SSID", "acme-office", false, FieldKind::Text)));
    assert!(wifi.contains(&(
        Some("Wi-Fi"),
        "Passphrase",
        "Wifi-Secret-pass",
        true,
        FieldKind::Concealed
    )));
    assert!(wifi.contains(&(Some("Wi-Fi"), "Security", "wpa3-personal", false, FieldKind::Menu)));
    assert_eq!(
        titled(&v, "generated").password.as_ref().unwrap().expose(),
        "Gen-Secret-pw"
    );
    assert_eq!(
        fields(titled(&v, "reference")),
        [
            (Some("Reference"), "Item", "dC1iYXNpYw", false, FieldKind::Reference),
            (Some("Reference"), "Account", "YWNjb3VudC1hbm4", false, FieldKind::Text),
        ]
    );
}

#[test]
fn a_file_carried_beside_the_document_is_an_attachment_with_its_bytes_else_a_finding() {
    let v = read_sample("every-type.cxf.json");
    let file = titled(&v, "file");
    let a = &file.attachments[0];
    assert_eq!(
        (a.name.as_str(), a.size, a.source_id.as_deref()),
        ("deploy.pem", 17, Some("ZmlsZS0x"))
    );
    assert_eq!(a.content.as_ref().unwrap().expose_bytes(), b"File-Secret-bytes");
    let missing = &titled(&v, "file missing").attachments[0];
    assert!(missing.content.is_none());
    let f = v.findings.iter().find(|f| f.code == "cxf.file-without-bytes").unwrap();
    assert!(f.message.contains("gone.pdf"));
    assert!(
        !codes(&v).contains(&"cxf.file-integrity"),
        "the carried file matches its hash"
    );
}

#[test]
fn a_passkey_is_kept_whole_with_its_private_key_concealed_and_a_finding() {
    let v = read_sample("every-type.cxf.json");
    let p = fields(titled(&v, "passkey"));
    assert!(p.contains(&(Some("Passkey"), "Relying party", "acme.test", false, FieldKind::Text)));
    assert!(p.contains(&(Some("Passkey"), "Credential id", "Y3JlZC0x", false, FieldKind::Text)));
    assert!(p.contains(&(Some("Passkey"), "User handle", "dXNlci0x", false, FieldKind::Text)));
    assert!(p.contains(&(
        Some("Passkey"),
        "Private key",
        "UGFzc2tleS1TZWNyZXQtcGtjczg",
        true,
        FieldKind::PrivateKey
    )));
    let ext = p.iter().find(|f| f.1 == "FIDO2 extensions").unwrap();
    assert!(ext.3 && ext.2.contains("SG1hYy1TZWNyZXQ"), "kept whole, concealed");
    assert!(codes(&v).contains(&"cxf.passkey-not-usable"));
}

#[test]
fn unknown_types_and_extensions_are_kept_as_concealed_fields_with_findings() {
    let v = read_sample("every-type.cxf.json");
    let u = titled(&v, "unknown");
    assert_eq!(u.source_type.as_deref(), Some("x-loyalty-card"));
    let f = fields(u);
    assert!(f.contains(&(
        Some("x-loyalty-card"),
        "member",
        "Loyal-Secret-1",
        true,
        FieldKind::Concealed
    )));
    assert!(f.contains(&(Some("x-loyalty-card"), "points", "1200", true, FieldKind::Concealed)));
    let ext = f.iter().find(|f| f.1 == "x-colour").unwrap();
    assert_eq!((ext.0, ext.3), (Some("Extension"), true));
    assert!(ext.2.contains("teal"));
    assert!(codes(&v).contains(&"cxf.unknown-credential-type"));
    assert!(codes(&v).contains(&"cxf.unknown-extension"));
}

#[test]
fn a_bad_item_id_is_a_positioned_finding_and_strict_stops_on_it() {
    let text = "{\"id\":\"QQ\",\"email\":\"a@b.test\",\"items\":[\n{\"id\":\"QQ\",\"title\":\"ok\"},\n{\"id\":\"not b64!\",\"title\":\"bad\"}]}";
    let v = from_text(text).unwrap();
    assert_eq!(v.entries.len(), 1);
    assert_eq!(v.skipped_records, 1);
    let f = v.findings.iter().find(|f| f.code == "cxf.bad-id").unwrap();
    assert_eq!((f.position.line, f.position.field.as_deref()), (Some(3), Some("id")));
    assert!(
        f.message.contains("'not b64!'") && f.message.contains("base64url"),
        "{}",
        f.message
    );
    let strict = ParseOptions {
        strict: true,
        ..ParseOptions::default()
    };
    let e = read_text(text, "t.cxf.json", None, &strict, Sink::Keep).unwrap_err();
    assert_eq!(e.position().line, Some(3));
}

#[test]
fn bad_timestamps_never_panic_and_are_named() {
    let text = r#"{"id":"QQ","email":"a@b.test","items":[
      {"id":"QQ","title":"far","creationAt":99999999999999999999,"modifiedAt":-5},
      {"id":"Qg","title":"odd","creationAt":1.5,"modifiedAt":"yesterday"}]}"#;
    let v = from_text(text).unwrap();
    let far = titled(&v, "far");
    assert_eq!(far.created, None);
    assert_eq!(far.updated.unwrap().to_rfc3339(), "1969-12-31T23:59:55Z");
    assert_eq!(titled(&v, "odd").created, None);
    assert_eq!(codes(&v).iter().filter(|c| **c == "cxf.bad-timestamp").count(), 3);
}

#[test]
fn broken_documents_are_positioned_errors_that_quote_no_value() {
    let cases = [
        ("{\"id\":\"QQ\",\n\"items\":[{\"id\":\"QQ\",\"credentials\":[{\"type\":\"basic-auth\",\"password\":\"Leak-Secret-1\"", Some(2)),
        ("[1,2]", Some(1)),
        ("{\"version\":{\"major\":2,\"minor\":0},\"accounts\":[]}", Some(1)),
        ("{\"id\":\"%%\",\"email\":\"a@b.test\",\"items\":[]}", Some(1)),
        ("{\"id\":\"QQ\",\"items\":{\"Leak-Secret-2\":1}}", Some(1)),
    ];
    for (text, line) in cases {
        let e = from_text(text).unwrap_err();
        assert_eq!(e.position().line, line, "{text}: {e}");
        assert!(e.position().file.as_deref() == Some("t.cxf.json"));
        assert!(e.message().contains("expected"), "{e}");
        assert!(!e.to_string().contains("Leak-Secret"), "{e}");
    }
}

#[test]
fn several_accounts_keep_their_folders_apart_and_user_accessors_find_their_email() {
    let text = r#"{"version":{"major":1,"minor":0},"exporterRpId":"x.test","exporterDisplayName":"X","timestamp":0,"accounts":[
      {"id":"QQ","username":"ann","email":"ann@acme.test","collections":[{"id":"Yw","title":"Ops","items":[{"item":"aTE"}],
        "extensions":[{"name":"shared","accessors":[{"type":"user","accountId":"Qg","name":"Bob","permissions":["readSecret"]},
                                                     {"type":"user","accountId":"Zz","name":"nobody","permissions":["read"]}]}]}],
       "items":[{"id":"aTE","title":"one"}]},
      {"id":"Qg","username":"bob","email":"bob@acme.test","collections":[{"id":"Yw","title":"Ops","items":[{"item":"aTI"}]}],
       "items":[{"id":"aTI","title":"two"}]}]}"#;
    let v = from_text(text).unwrap();
    assert_eq!(titled(&v, "one").folder, ["ann@acme.test", "Ops"]);
    assert_eq!(titled(&v, "two").folder, ["bob@acme.test", "Ops"]);
    assert_eq!(v.shares.len(), 2, "bob, and ann who exported it");
    assert_eq!(v.shares[1].principal, Principal::user("ann@acme.test"));
    assert_eq!(
        v.shares[0].principal,
        Principal::User {
            email: "bob@acme.test".into(),
            name: Some("Bob".into())
        }
    );
    assert!(codes(&v).contains(&"cxf.accessor-without-email"));
    assert!(codes(&v).contains(&"cxf.several-accounts"));
}

#[test]
fn an_items_own_share_names_that_entry_only_and_missing_links_are_named() {
    let text = r#"{"id":"QQ","email":"a@b.test","collections":[{"id":"Yw","title":"C","items":[{"item":"bm9uZQ"},{"item":"aTI"}]}],
      "items":[{"id":"aTE","title":"solo","extensions":[{"name":"shared","accessors":[{"type":"user","accountId":"Qg","name":"bob@b.test","permissions":["read"]},
                                                                                   {"type":"group","accountId":"Rw","name":"Ops","permissions":["read","readSecret","manage"]}]}]},
               {"id":"aTI","title":"placed","extensions":[{"name":"shared","accessors":[{"type":"user","accountId":"Qg","name":"bob@b.test","permissions":["readSecret"]}]}]}]}"#;
    let v = from_text(text).unwrap();
    assert_eq!(v.shares.len(), 3, "{:?}", v.shares);
    let solo = &v.shares[0];
    assert!(solo.folder.is_empty(), "an item share names no folder");
    let item = solo.item.as_ref().unwrap();
    assert_eq!((item.source_id.as_str(), item.title.as_str()), ("aTE", "solo"));
    assert_eq!(solo.principal, Principal::user("bob@b.test"));
    assert!(solo.access.hide_passwords, "read without readSecret hides passwords");
    assert!(v.shares[1].access.admin);
    assert!(matches!(&v.shares[1].principal, Principal::Group { group, .. } if group == "Ops"));
    let placed = v.shares[2].item.as_ref().unwrap();
    assert_eq!(placed.folder, ["C"], "the item share knows where its item is");
    assert_eq!(v.shares[2].place(), "C › placed");
    assert!(
        !v.folder(&["C".to_owned()]).unwrap().shared,
        "an item share does not make its collection shared"
    );
    assert!(codes(&v).contains(&"cxf.linked-item-missing"));
}

#[test]
fn a_credential_that_is_not_an_object_is_kept_concealed_as_its_json_text() {
    let text = r#"{"id":"QQ","email":"a@b.test","items":[{"id":"aTE","title":"odd",
      "credentials":["Odd-Secret-1",{"type":"note","content":{"fieldType":"string","value":"kept"}},[1,{"k":"Odd-Secret-2"}]]}]}"#;
    let v = from_text(text).unwrap();
    let odd = titled(&v, "odd");
    assert_eq!(odd.notes.as_deref(), Some("kept"));
    assert_eq!(
        fields(odd),
        [
            (None, "Credential 1", "\"Odd-Secret-1\"", true, FieldKind::Concealed),
            (
                None,
                "Credential 3",
                "[1,{\"k\":\"Odd-Secret-2\"}]",
                true,
                FieldKind::Concealed
            ),
        ]
    );
    let bad: Vec<_> = v.findings.iter().filter(|f| f.code == "cxf.bad-credential").collect();
    assert_eq!(bad.len(), 2);
    assert!(
        bad[0].message.contains("kept as the concealed field 'Credential 1'"),
        "{}",
        bad[0].message
    );
    assert!(bad.iter().all(|f| !f.message.contains("Odd-Secret")));
}

#[test]
fn secrets_never_reach_findings() {
    for name in ["company.cxf.json", "every-type.cxf.json"] {
        let v = read_sample(name);
        let all = serde_json::to_string(&v).unwrap();
        for f in &v.findings {
            assert!(!f.message.contains("Secret"), "{}", f.message);
        }
        assert!(
            !all.contains("-Secret-"),
            "{name}: a secret value in the serialized vault"
        );
    }
}

/// The shape 1Password hands over today (public examples read, not
/// copied): account keys after the items, blank labels, the one-time
/// password as an `otpauth://` custom field of type `string`, an empty
/// credential, labels on typed fields.
#[test]
fn a_1password_shaped_bare_account_imports_with_nothing_lost() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cxf/onepassword-shaped.cxf.json");
    assert_eq!(crate::sources::detect::detect_path(&path).unwrap(), SourceKind::Cxf);
    let v = read(&path, "op.cxf.json", &ParseOptions::default()).unwrap();
    assert_eq!(v.owner.as_deref(), Some("Sam@Example.test"));
    let chat = titled(&v, "Chat service");
    assert_eq!(chat.kind, EntryKind::Login);
    assert_eq!(chat.password.as_ref().unwrap().expose(), "Op-Pw-Chat-1");
    assert_eq!(
        chat.totp.as_ref().unwrap().expose(),
        "otpauth://totp/sam?secret=KRSXG5CTMVRXEZLU&issuer=Chat",
        "a one-time password in a string field is the TOTP, a secret"
    );
    assert_eq!(chat.created.unwrap().to_date(), "2056-09-01");
    assert_eq!(
        fields(chat),
        [
            (Some("Recovery"), "Field 1", "first pet", false, FieldKind::Text),
            (Some("Recovery"), "answer", "Op-Answer-2", true, FieldKind::Concealed),
        ],
        "a blank label gets a name; an empty value is no field"
    );
    let tax = titled(&v, "Tax id");
    assert_eq!(tax.kind, EntryKind::Identity);
    assert_eq!(
        fields(tax),
        [(
            Some("Identity document"),
            "number",
            "Op-Tax-3",
            true,
            FieldKind::Concealed
        )]
    );
    assert!(
        v.findings.iter().all(|f| f.severity == crate::model::Severity::Info),
        "{:?}",
        v.findings
    );
}

#[test]
fn an_accessor_without_a_known_permission_is_ignored_as_the_spec_says() {
    let text = r#"{"id":"QQ","email":"a@b.test","collections":[{"id":"Yw","title":"C","items":[{"item":"aTE"}],
      "extensions":[{"name":"shared","accessors":[
        {"type":"user","accountId":"Qg","name":"none@b.test","permissions":[]},
        {"type":"user","accountId":"Qw","name":"odd@b.test","permissions":["fly"]},
        {"type":"user","accountId":"RA","name":"kept@b.test","permissions":["fly","readSecret"]}]}]}],
      "items":[{"id":"aTE","title":"one"}]}"#;
    let v = from_text(text).unwrap();
    let who: Vec<&Principal> = v.shares.iter().map(|s| &s.principal).collect();
    assert_eq!(
        who,
        [&Principal::user("kept@b.test"), &Principal::user("a@b.test")],
        "the exporter, and the one with a known word"
    );
    let ignored = v
        .findings
        .iter()
        .filter(|f| f.code == "cxf.accessor-no-permissions")
        .count();
    assert_eq!(ignored, 2);
}
