//! The synthetic export generator: its writers are faithful to the formats
//! as our parsers read them (a generated vault parses back to the same
//! entries), its output is deterministic, and it has the mix of a real
//! company's export.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use common::vaultferry_in;
use vaultferry::generate::{self, Format, Synth};
use vaultferry::model::{Entry, Principal, Share, Vault};
use vaultferry::sources::{self, lastpass, onepassword, ParseOptions};

/// Compares what a format can carry, naming the entry and the part that
/// differs (never a secret value).
fn assert_same_entry(format: &str, want: &Entry, got: &Entry) {
    let who = format!("{format}: entry '{}'", want.title);
    assert_eq!(got.kind, want.kind, "{who}: kind");
    assert_eq!(got.title, want.title, "{who}: title");
    assert_eq!(got.folder, want.folder, "{who}: folder");
    assert_eq!(got.urls, want.urls, "{who}: urls");
    assert_eq!(got.username, want.username, "{who}: username");
    let reveal = |s: &Option<vaultferry::Secret>| s.as_ref().map(|s| s.expose().to_owned());
    assert!(
        reveal(&got.password) == reveal(&want.password),
        "{who}: password differs"
    );
    assert!(reveal(&got.totp) == reveal(&want.totp), "{who}: totp differs");
    assert_eq!(got.notes, want.notes, "{who}: notes");
    assert_eq!(got.fields.len(), want.fields.len(), "{who}: number of fields");
    for (g, w) in got.fields.iter().zip(&want.fields) {
        assert_eq!(g.label, w.label, "{who}: field label");
        assert_eq!(
            g.is_concealed(),
            w.is_concealed(),
            "{who}: field '{}' concealed",
            w.label
        );
        assert!(
            g.value.expose() == w.value.expose(),
            "{who}: field '{}' value differs",
            w.label
        );
    }
    assert_eq!(got.tags, want.tags, "{who}: tags");
    assert_eq!(got.favorite, want.favorite, "{who}: favorite");
    assert_eq!(got.archived, want.archived, "{who}: archived");
}

/// Shares as comparable keys: folder, principal, access, status and the
/// outside-enterprise flag (every format here carries them).
fn share_keys(shares: &[Share]) -> BTreeSet<String> {
    shares
        .iter()
        .map(|s| {
            let principal = match &s.principal {
                Principal::User { email, name } => format!("user {email} {name:?}"),
                Principal::Group { group, members } => {
                    let mut m = members.clone();
                    m.sort();
                    format!("group {group} {m:?}")
                }
            };
            format!(
                "{:?} {principal} {:?} {:?} {:?}",
                s.folder, s.access, s.status, s.outside_enterprise
            )
        })
        .collect()
}

fn folder_keys(vault: &Vault) -> BTreeSet<(Vec<String>, bool)> {
    vault.folders.iter().map(|f| (f.path.clone(), f.shared)).collect()
}

#[test]
fn a_generated_lastpass_vault_parses_back_to_the_same_vault() {
    let synth = Synth::new(Format::LastpassCsv, 1500, 42);
    let want = synth.vault();
    let mut csv = Vec::new();
    generate::lastpass::write_csv(&want, &mut csv).unwrap();
    let options = ParseOptions::default();
    let mut got = lastpass::read_csv(Cursor::new(&csv), "gen.csv", &options).unwrap();
    assert!(got.findings.is_empty(), "findings: {:?}", got.findings);
    assert_eq!(got.skipped_records, 0);
    assert_eq!(got.entries.len(), want.entries.len());
    for (w, g) in want.entries.iter().zip(&got.entries) {
        assert_same_entry("lastpass", w, g);
        assert_eq!(g.source_type, w.source_type, "note type of '{}'", w.title);
    }
    assert_eq!(folder_keys(&got), folder_keys(&want));

    let mut sharing = Vec::new();
    generate::lastpass::write_sharing(&synth.sharing_folders(), &synth.sharing(), &mut sharing).unwrap();
    lastpass::read_sharing(&mut got, &sharing, "gen.sharing.json", &options).unwrap();
    assert!(!want.shares.is_empty());
    assert_eq!(share_keys(&got.shares), share_keys(&want.shares));
}

fn by_id(entries: &[Entry]) -> BTreeMap<&str, &Entry> {
    entries.iter().map(|e| (e.source_id.as_str(), e)).collect()
}

fn read_onepassword(format: Format, bytes: &[u8], sharing: &[u8]) -> Vault {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gen.export");
    std::fs::write(&path, bytes).unwrap();
    let options = ParseOptions::default();
    let mut vault = match format {
        Format::Pux => onepassword::read_1pux(&path, "gen.1pux", &options).unwrap(),
        _ => onepassword::read_1pif(&path, "gen.1pif", &options).unwrap(),
    };
    assert!(vault.findings.is_empty(), "findings: {:?}", vault.findings);
    onepassword::read_sharing(&mut vault, sharing, "gen.sharing.json", &options).unwrap();
    vault
}

#[test]
fn a_generated_1pux_vault_parses_back_to_the_same_vault() {
    let synth = Synth::new(Format::Pux, 1200, 9);
    let want = synth.vault();
    let mut bytes = Cursor::new(Vec::new());
    generate::pux::write(&want, &mut bytes).unwrap();
    let mut sharing = Vec::new();
    generate::permissions::write(&synth.sharing_folders(), &synth.sharing(), &mut sharing).unwrap();
    let got = read_onepassword(Format::Pux, bytes.get_ref(), &sharing);
    let (w, g) = (by_id(&want.entries), by_id(&got.entries));
    assert_eq!(g.len(), w.len());
    let mut attachments = 0;
    for (id, want) in &w {
        let got = g.get(id).unwrap_or_else(|| panic!("item {id} is missing"));
        assert_same_entry("1pux", want, got);
        assert_eq!(
            got.attachments.len(),
            want.attachments.len(),
            "attachments of '{}'",
            want.title
        );
        for (a, b) in got.attachments.iter().zip(&want.attachments) {
            assert_eq!(a.name, b.name);
            // The reader streams attachments past: it keeps their digest.
            assert_eq!(a.size, b.size, "attachment '{}' size", b.name);
            assert!(a.sha256() == b.sha256(), "attachment '{}' bytes differ", b.name);
            attachments += 1;
        }
    }
    assert!(attachments > 10, "the 1PUX export should carry attachments");
    assert_eq!(folder_keys(&got), folder_keys(&want));
    assert_eq!(share_keys(&got.shares), share_keys(&want.shares));
}

#[test]
fn a_generated_1pif_vault_parses_back_to_the_same_vault() {
    let synth = Synth::new(Format::Pif, 1200, 5);
    let want = synth.vault();
    let mut bytes = Vec::new();
    generate::pif::write(&want, &mut bytes).unwrap();
    let mut sharing = Vec::new();
    let shares = synth.sharing();
    generate::permissions::write(&synth.sharing_folders(), &shares, &mut sharing).unwrap();
    let got = read_onepassword(Format::Pif, &bytes, &sharing);
    let (w, g) = (by_id(&want.entries), by_id(&got.entries));
    assert_eq!(g.len(), w.len());
    for (id, want) in &w {
        let got = g.get(id).unwrap_or_else(|| panic!("item {id} is missing"));
        assert_same_entry("1pif", want, got);
    }
    // 1PIF has no sharing of its own: the bundle marks the team folders shared.
    let paths = |v: &Vault| v.folders.iter().map(|f| f.path.clone()).collect::<BTreeSet<_>>();
    assert_eq!(paths(&got), paths(&want));
    assert!(!shares.is_empty());
    assert_eq!(share_keys(&got.shares), share_keys(&shares));
}

#[test]
fn streamed_output_is_the_same_as_writing_the_whole_vault() {
    // More entries than one batch (`generate::CHUNK`, 8192), so batch
    // boundaries are crossed.
    for format in [Format::LastpassCsv, Format::Pif, Format::Pux] {
        let synth = Synth::new(format, 9000, 11);
        let vault = synth.vault();
        let (mut whole, mut streamed) = (Cursor::new(Vec::new()), Cursor::new(Vec::new()));
        match format {
            Format::LastpassCsv => {
                generate::lastpass::write_csv(&vault, &mut whole).unwrap();
                generate::lastpass::write_synth(&synth, &mut streamed).unwrap();
            }
            Format::Pif => {
                generate::pif::write(&vault, &mut whole).unwrap();
                generate::pif::write_synth(&synth, &mut streamed).unwrap();
            }
            Format::Pux => {
                generate::pux::write(&vault, &mut whole).unwrap();
                generate::pux::write_synth(&synth, &mut streamed).unwrap();
            }
        }
        assert!(
            whole.get_ref() == streamed.get_ref(),
            "{format:?}: streamed bytes differ"
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["lastpass-csv", "1pux", "1pif"] {
        let run = |seed: &str, out: &str| {
            vaultferry_in(
                dir.path(),
                &[
                    "generate",
                    "--format",
                    format,
                    "--entries",
                    "3000",
                    "--seed",
                    seed,
                    "--out",
                    out,
                ],
            )
            .success();
            let read = |p: String| std::fs::read(dir.path().join(p)).unwrap();
            (read(out.to_owned()), read(format!("{out}.sharing.json")))
        };
        let a = run("7", "a");
        let b = run("7", "b");
        let c = run("8", "c");
        assert!(a == b, "{format}: same seed, different files");
        assert!(a.0 != c.0, "{format}: another seed gave the same export");
    }
}

#[test]
fn a_generated_lastpass_export_has_a_real_mix() {
    let dir = tempfile::tempdir().unwrap();
    vaultferry_in(
        dir.path(),
        &[
            "generate",
            "--format",
            "lastpass-csv",
            "--entries",
            "6000",
            "--seed",
            "1",
            "--out",
            "lp.csv",
        ],
    )
    .success();
    let run = vaultferry_in(
        dir.path(),
        &["inspect", "lp.csv", "--sharing", "lp.csv.sharing.json", "--json"],
    )
    .success();
    let v = run.json();
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 6000);
    let logins = entries.iter().filter(|e| e["kind"] == "login").count();
    assert!(
        (3900..=4500).contains(&logins),
        "{logins} logins of 6000, expected about 70%"
    );
    let types: BTreeSet<&str> = entries.iter().filter_map(|e| e["source_type"].as_str()).collect();
    for t in lastpass::known_note_types() {
        assert!(types.contains(t), "no note of type {t}");
    }
    assert!(
        types.iter().any(|t| t.starts_with("Custom_")),
        "no user-defined note type"
    );
    assert!(entries
        .iter()
        .any(|e| e["kind"] == "secure_note" && e["notes"].as_str().is_some_and(|n| n.contains('\n'))));
    assert!(entries
        .iter()
        .any(|e| e["title"].as_str().is_some_and(|t| !t.is_ascii())));
    let folders = v["folders"].as_array().unwrap();
    assert!(
        folders.iter().any(|f| f["path"].as_array().unwrap().len() >= 3),
        "no nested folders"
    );
    assert!(folders.iter().filter(|f| f["shared"] == true).count() >= 3);

    let shares = v["shares"].as_array().unwrap();
    let users: Vec<&str> = shares.iter().filter_map(|s| s["principal"]["email"].as_str()).collect();
    let outside = users.iter().filter(|e| !e.ends_with("@northwind.example")).count();
    assert!(
        outside >= 1 && outside * 100 <= users.len() * 12,
        "{outside} of {} sharers outside",
        users.len()
    );
    assert!(shares
        .iter()
        .any(|s| s["principal"]["members"].as_array().is_some_and(|m| !m.is_empty())));
    let findings = v["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .all(|f| f["severity"] != "error" && f["severity"] != "warning"),
        "generated exports are clean: {findings:?}"
    );
}

#[test]
fn generated_files_read_as_their_format_and_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    vaultferry_in(
        dir.path(),
        &[
            "generate",
            "--format",
            "1pux",
            "--entries",
            "500",
            "--out",
            "x.1pux",
            "--sharing-out",
            "perm.json",
        ],
    )
    .success();
    let vault = sources::read_export(&dir.path().join("x.1pux"), &ParseOptions::default()).unwrap();
    assert_eq!(vault.entries.len(), 500);
    assert!(vault.entries.iter().any(|e| !e.attachments.is_empty()));
    assert!(vault.entries.iter().any(|e| e.archived));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["x.1pux", "perm.json"] {
            let mode = std::fs::metadata(dir.path().join(f)).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{f} is readable by others");
        }
    }
}
