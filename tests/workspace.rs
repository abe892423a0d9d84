//! `vaultferry workspace init|show`, end to end through the real binary.

mod common;

use common::{northwind_db, sample, vaultferry, vaultferry_in};

fn sample_seed() -> String {
    std::fs::read_to_string(sample("workspace.toml")).unwrap()
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the seed"));
    text[..at].matches('\n').count() + 1
}

#[test]
fn init_then_show_lists_the_sample_company() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let run = vaultferry(&["workspace", "show", "--db", db.to_str().unwrap()]).success();
    let out = &run.stdout;
    assert!(out.contains("workspace Northwind Robotics (ws-northwind)"), "{out}");
    assert!(out.contains("domains: northwind.example, nwr.example"), "{out}");
    assert!(
        out.contains(
            "members: 8 (1 owner, 1 admin, 4 user, 1 login_only, 1 guest; 7 active, 1 suspended; 1 directory-managed)"
        ),
        "{out}"
    );
    assert!(
        out.contains("Engineering: dana@northwind.example, lee@northwind.example"),
        "{out}"
    );
    assert!(out.contains("Acme Partners (acme-partners.example)"), "{out}");
    assert!(
        out.contains("Globex (workspace ws-globex; globex.example): accepted"),
        "{out}"
    );
    assert!(
        out.contains("Initech (workspace ws-initech; initech.example): requested"),
        "{out}"
    );
    assert!(!out.contains("mark@"), "Mark left the company and is no member:\n{out}");
}

#[test]
fn show_json_parses_back_to_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let json = vaultferry(&["workspace", "show", "--db", db.to_str().unwrap(), "--json"])
        .success()
        .json();
    assert_eq!(json["workspace"]["name"], "Northwind Robotics");
    assert_eq!(json["workspace"]["password_policy"]["min_length"], 14);
    let members = json["members"].as_array().unwrap();
    let role = |email: &str| {
        let m = members
            .iter()
            .find(|m| m["email"] == email)
            .unwrap_or_else(|| panic!("{email} missing"));
        (
            m["role"].as_str().unwrap().to_owned(),
            m["state"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(members.len(), 8);
    assert_eq!(role("olivia@northwind.example"), ("owner".into(), "active".into()));
    assert_eq!(role("sam@northwind.example"), ("admin".into(), "active".into()));
    assert_eq!(role("kiosk@northwind.example"), ("login_only".into(), "active".into()));
    assert_eq!(role("felix@northwind.example"), ("user".into(), "suspended".into()));
    assert_eq!(role("mo@freelance.example"), ("guest".into(), "active".into()));
    let dana = members.iter().find(|m| m["email"] == "dana@northwind.example").unwrap();
    assert_eq!(dana["directory_managed"], true);
    assert_eq!(dana["teams"], serde_json::json!(["Engineering"]));

    let teams = json["teams"].as_array().unwrap();
    assert_eq!(teams.len(), 2);
    assert_eq!(teams[0]["name"], "Engineering");
    assert_eq!(
        teams[0]["members"],
        serde_json::json!(["dana@northwind.example", "lee@northwind.example"])
    );
    assert_eq!(teams[1]["members"], serde_json::json!(["priya@northwind.example"]));
    assert_eq!(json["partners"][0]["name"], "Acme Partners");
    assert_eq!(
        json["partners"][0]["domains"],
        serde_json::json!(["acme-partners.example"])
    );
    let ships: Vec<_> = json["partnerships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["workspace_id"].as_str().unwrap(), p["state"].as_str().unwrap()))
        .collect();
    assert_eq!(ships, [("ws-globex", "accepted"), ("ws-initech", "requested")]);
}

#[test]
fn init_with_scim_marks_directory_members() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    let run = vaultferry(&[
        "workspace",
        "init",
        "--db",
        db.to_str().unwrap(),
        "--seed",
        sample("workspace.toml").to_str().unwrap(),
        "--scim",
        sample("scim-users.json").to_str().unwrap(),
    ])
    .success();
    assert!(
        run.stdout.contains("8 members (4 directory-managed)"),
        "{}",
        run.describe()
    );
    let json = vaultferry(&["workspace", "show", "--db", db.to_str().unwrap(), "--json"])
        .success()
        .json();
    let managed: Vec<&str> = json["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["directory_managed"] == true)
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        managed,
        [
            "dana@northwind.example",
            "felix@northwind.example",
            "lee@northwind.example",
            "priya@northwind.example"
        ]
    );
    // The seed's role and state win over the directory's.
    let felix = json["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "felix@northwind.example")
        .unwrap();
    assert_eq!(
        (felix["role"].as_str(), felix["state"].as_str()),
        (Some("user"), Some("suspended"))
    );
}

#[test]
fn scim_users_not_in_the_seed_join_as_users() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.toml");
    std::fs::write(
        &seed,
        "[workspace]\nname = \"Tiny\"\ndomains = [\"northwind.example\"]\n\n[[members]]\nemail = \"olivia@northwind.example\"\nrole = \"owner\"\n",
    )
    .unwrap();
    let db = dir.path().join("t.db");
    let scim = sample("scim-users.json");
    vaultferry_in(
        dir.path(),
        &[
            "workspace",
            "init",
            "--db",
            "t.db",
            "--seed",
            "seed.toml",
            "--scim",
            scim.to_str().unwrap(),
        ],
    )
    .success();
    let json = vaultferry(&["workspace", "show", "--db", db.to_str().unwrap(), "--json"])
        .success()
        .json();
    let id = json["workspace"]["id"].as_str().unwrap();
    assert!(id.starts_with("ws-") && id.len() > 3, "a generated id: {id}");
    let felix = json["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "felix@northwind.example")
        .unwrap();
    assert_eq!(felix["role"], "user");
    assert_eq!(felix["state"], "suspended", "inactive in the directory");
    assert_eq!(felix["name"], "Felix Wu");
    assert_eq!(felix["directory_managed"], true);
}

/// Writes `text` as `seed.toml` in a temp dir and runs `workspace init`
/// there; returns the run and whether a database was left behind.
fn init_with(text: &str) -> (common::Run, bool) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("seed.toml"), text).unwrap();
    let run = vaultferry_in(
        dir.path(),
        &["workspace", "init", "--db", "ws.db", "--seed", "seed.toml"],
    );
    (run, dir.path().join("ws.db").exists())
}

fn assert_seed_error(text: &str, line: usize, key: &str, what: &str) {
    let (run, db_left) = init_with(text);
    let run = run.expect_code(2);
    let want = format!("seed.toml:line {line}: field '{key}'");
    assert!(run.stderr.contains(&want), "expected {want:?} in\n{}", run.describe());
    assert!(run.stderr.contains(what), "expected {what:?} in\n{}", run.describe());
    assert!(!db_left, "a refused seed must not leave a database behind");
}

#[test]
fn unknown_role_names_file_line_key_and_the_choices() {
    let text = sample_seed().replace("role = \"admin\"", "role = \"superadmin\"");
    let line = line_of(&text, "role = \"superadmin\"");
    assert_seed_error(
        &text,
        line,
        "members.role",
        "unknown role `superadmin`: expected one of owner, super_admin, admin, user, login_only, guest",
    );
}

#[test]
fn duplicate_email_is_refused_case_insensitively() {
    let text = sample_seed().replace("\"lee@northwind.example\"\nname", "\"Sam@Northwind.example\"\nname");
    let line = line_of(&text, "\"Sam@Northwind.example\"");
    assert_seed_error(&text, line, "members.email", "duplicate member sam@northwind.example");
}

#[test]
fn two_owners_are_refused() {
    let text = sample_seed().replace("role = \"admin\"", "role = \"owner\"");
    let line = line_of(&text, "\"sam@northwind.example\"");
    assert_seed_error(&text, line, "members.role", "a second owner (sam@northwind.example");
}

#[test]
fn unknown_team_member_is_refused() {
    let text = sample_seed().replace(
        "members = [\"priya@northwind.example\"]",
        "members = [\"priya@northwind.example\", \"mark@northwind.example\"]",
    );
    let line = line_of(&text, "\"mark@northwind.example\"]");
    assert_seed_error(
        &text,
        line,
        "teams.members",
        "team `Finance` lists mark@northwind.example, who is not a member",
    );
}

#[test]
fn unknown_key_and_wrong_type_name_the_key() {
    let text = sample_seed().replace("directory_managed = true", "directory_managed = \"yes\"");
    let line = line_of(&text, "directory_managed = \"yes\"");
    assert_seed_error(&text, line, "members.directory_managed", "expected a boolean");
    let text = sample_seed().replace("name = \"Lee Novak\"", "full_name = \"Lee Novak\"");
    let line = line_of(&text, "full_name");
    assert_seed_error(&text, line, "members.full_name", "unknown field `full_name`");
}

#[test]
fn a_company_address_cannot_be_a_guest() {
    let text = sample_seed().replace("mo@freelance.example", "mo@nwr.example");
    let line = line_of(&text, "\"mo@nwr.example\"");
    assert_seed_error(
        &text,
        line,
        "members.email",
        "is in a company domain and cannot be a guest",
    );
}

#[test]
fn reinit_is_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let seed = sample("workspace.toml");
    let args = [
        "workspace",
        "init",
        "--db",
        db.to_str().unwrap(),
        "--seed",
        seed.to_str().unwrap(),
    ];
    let run = vaultferry(&args).expect_code(2);
    assert!(
        run.stderr
            .contains("holds the workspace \"Northwind Robotics\" already")
            && run.stderr.contains("--force"),
        "{}",
        run.describe()
    );
    let mut forced = args.to_vec();
    forced.push("--force");
    vaultferry(&forced).success();
    vaultferry(&["workspace", "show", "--db", db.to_str().unwrap()]).success();
}

#[test]
fn init_refuses_a_file_that_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("notes.txt");
    std::fs::write(&db, "shopping list").unwrap();
    let seed = sample("workspace.toml");
    let run = vaultferry(&[
        "workspace",
        "init",
        "--db",
        db.to_str().unwrap(),
        "--seed",
        seed.to_str().unwrap(),
    ])
    .expect_code(2);
    assert!(
        run.stderr.contains("is not a vaultferry workspace"),
        "{}",
        run.describe()
    );
    assert_eq!(std::fs::read_to_string(&db).unwrap(), "shopping list");
}

#[test]
fn show_without_a_database_says_how_to_create_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = vaultferry_in(dir.path(), &["workspace", "show", "--db", "missing.db"]).expect_code(2);
    assert!(
        run.stderr.contains("missing.db: no workspace database here"),
        "{}",
        run.describe()
    );
    assert!(run.stderr.contains("workspace init"), "{}", run.describe());
    assert!(
        !dir.path().join("missing.db").exists(),
        "show must not create a database"
    );
}

#[test]
fn scim_needs_a_seed() {
    let scim = sample("scim-users.json");
    let run = vaultferry(&["workspace", "init", "--db", "x.db", "--scim", scim.to_str().unwrap()]).expect_code(2);
    assert!(run.stderr.contains("--seed"), "{}", run.describe());
}

#[test]
fn a_paged_scim_export_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scim = std::fs::read_to_string(sample("scim-users.json"))
        .unwrap()
        .replace("\"totalResults\": 4", "\"totalResults\": 250");
    std::fs::write(dir.path().join("page1.json"), scim).unwrap();
    let seed = sample("workspace.toml");
    let run = vaultferry_in(
        dir.path(),
        &[
            "workspace",
            "init",
            "--db",
            "ws.db",
            "--seed",
            seed.to_str().unwrap(),
            "--scim",
            "page1.json",
        ],
    )
    .expect_code(2);
    assert!(
        run.stderr.contains("page1.json: field 'totalResults'") && run.stderr.contains("4 of 250 users"),
        "{}",
        run.describe()
    );
}

/// Items written the way `apply` will write them, then shown: the tree,
/// counts and grants appear; no secret value does, in text or JSON.
#[test]
fn show_draws_the_collection_tree_with_counts_and_grants() {
    use vaultferry::model::Field;
    use vaultferry::workspace::{
        open_sqlite, Account, Collection, Grant, GrantTarget, Grantee, ImportKey, ItemImport, ItemRole,
    };
    use vaultferry::Secret;

    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let ws = open_sqlite(&db).unwrap();
    let snap = ws.snapshot().unwrap();
    let key = |k: &str| Some(ImportKey(k.into()));
    let coll = |name: &str, parent, k: &str| Collection {
        id: 0,
        name: name.into(),
        parent,
        import_key: key(k),
    };
    let eng = ws
        .create_collection(&coll("Engineering", None, "collection:t:eng"))
        .unwrap();
    let dbs = ws
        .create_collection(&coll("Databases", Some(eng), "collection:t:eng/db"))
        .unwrap();
    ws.create_collection(&coll("Finance", None, "collection:t:fin"))
        .unwrap();
    let acc = ws
        .create_account(&Account {
            id: 0,
            collection: Some(dbs),
            name: "Postgres".into(),
            url: None,
            urls: vec![],
            username: Some("dba".into()),
            password: Some(Secret::text("Pw-Eng-7fQ2!x")),
            totp: Some(Secret::text("JBSWY3DPEHPK3PXP")),
            notes: None,
            fields: vec![Field::concealed("PIN", "Pin-4471-zz")],
            tags: vec![],
            attachments: vec![],
            import: ItemImport {
                import_key: key("account:t:1"),
                imported_hash: None,
                withheld: None,
            },
        })
        .unwrap();
    let team = snap.teams.iter().find(|t| t.name == "Engineering").unwrap().id;
    let lee = snap.member_by_email("lee@northwind.example").unwrap().id;
    let grant = |target, grantee, role, k: &str| Grant {
        id: 0,
        target,
        grantee,
        role,
        import_key: key(k),
    };
    ws.create_grant(&grant(
        GrantTarget::Collection(eng),
        Grantee::Team(team),
        ItemRole::Owner,
        "g:1",
    ))
    .unwrap();
    ws.create_grant(&grant(
        GrantTarget::Account(acc),
        Grantee::Member(lee),
        ItemRole::Collaborator,
        "g:2",
    ))
    .unwrap();
    drop(ws);

    let run = vaultferry(&["workspace", "show", "--db", db.to_str().unwrap()]).success();
    let out = &run.stdout;
    let tree = "collections: 3\n  Engineering (0 accounts, 0 secrets)\n    → team Engineering: owner\n    Databases (1 account, 0 secrets)\n      account Postgres → member lee@northwind.example: collaborator\n  Finance (0 accounts, 0 secrets)\n";
    assert!(out.contains(tree), "expected\n{tree}\nin\n{out}");
    let json = vaultferry(&["workspace", "show", "--db", db.to_str().unwrap(), "--json"]).success();
    let secrets = [
        "Pw-Eng-7fQ2!x".to_owned(),
        "JBSWY3DPEHPK3PXP".to_owned(),
        "Pin-4471-zz".to_owned(),
    ];
    common::assert_no_secrets("workspace show", out, &secrets);
    common::assert_no_secrets("workspace show --json", &json.stdout, &secrets);
    let c = &json.json()["collections"];
    assert_eq!(c[1]["path"], "Engineering/Databases");
    assert_eq!(c[1]["items"]["accounts"], 1);
    assert_eq!(c[0]["grants"][0]["grantee"], "Engineering");
    assert_eq!(c[0]["grants"][0]["role"], "owner");
}
