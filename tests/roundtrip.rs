//! Round trips by property: a `Vault` that proptest makes up, written by
//! our generator's writer (LastPass CSV, 1PUX), parses back with our
//! parser to the same `Vault`, save for what the format cannot carry.
//!
//! Each thing a format cannot carry is named where the strategy or the
//! comparison leaves it out (and in `formats/<format>.md` where it is a
//! real loss for a user). 64 cases per property by default; set
//! `PROPTEST_CASES` to run more.

mod common;

use std::collections::BTreeSet;
use std::io::Cursor;

use proptest::prelude::*;
use vaultferry::generate;
use vaultferry::model::{Entry, EntryKind, Field, FieldKind, FieldValue, Folder, SourceKind, Vault};
use vaultferry::sources::{lastpass, onepassword, ParseOptions};
use vaultferry::Secret;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        // Shrunk cases are kept as named tests below, not in files.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text with the characters that break naive writers: CSV's comma, quote
/// and line breaks, LastPass's folder separator `\`, JSON escapes, spaces
/// at either end, HTML entity look-alikes, and any printable unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z0-9 ,\"\\\\\n\r\t&;:'/#éß€😀-]{0,16}", "\\PC{0,12}",]
}

/// Non-empty text with no spaces at either end.
fn trimmed(s: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    s.prop_map(|s| s.trim().to_owned())
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn some_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text()).prop_map(|o| o.filter(|s| !s.is_empty()))
}

fn secret() -> impl Strategy<Value = Option<String>> {
    some_text()
}

/// A folder name: LastPass trims each level and splits on `\`; a top level
/// starting `Shared-` is read as a shared folder (left out: a real
/// LastPass folder cannot be called that without being one).
fn folder_name() -> impl Strategy<Value = String> {
    trimmed("[a-zA-Z0-9 ,\"&;:'/#éß€😀-]{1,10}|\\PC{1,8}").prop_filter("LastPass folder names", |s| {
        !s.contains('\\') && !s.to_ascii_lowercase().starts_with("shared-") && s != "(none)"
    })
}

/// Top folders (some shared), each with up to two subfolders.
fn folders() -> impl Strategy<Value = Vec<Folder>> {
    proptest::collection::vec(
        (
            folder_name(),
            any::<bool>(),
            proptest::collection::vec(folder_name(), 0..3),
        ),
        0..4,
    )
    .prop_map(|tops| {
        let mut out: Vec<Folder> = Vec::new();
        let mut seen = BTreeSet::new();
        for (name, shared, subs) in tops {
            if !seen.insert(vec![name.clone()]) {
                continue;
            }
            out.push(Folder {
                path: vec![name.clone()],
                shared,
                source_id: None,
                description: None,
            });
            for sub in subs {
                let path = vec![name.clone(), sub];
                if seen.insert(path.clone()) {
                    out.push(Folder {
                        path,
                        shared: false,
                        source_id: None,
                        description: None,
                    });
                }
            }
        }
        out
    })
}

fn reveal(s: &Option<Secret>) -> Option<String> {
    s.as_ref().map(|s| s.expose().to_owned())
}

/// Compares what both formats carry, naming the entry and the part that
/// differs (the values are made up, so they may be shown).
fn assert_same(format: &str, want: &Entry, got: &Entry) -> Result<(), TestCaseError> {
    let who = format!("{format}: entry {:?}", want.title);
    prop_assert_eq!(got.kind, want.kind, "{}: kind", who);
    prop_assert_eq!(&got.title, &want.title, "{}: title", who);
    prop_assert_eq!(&got.folder, &want.folder, "{}: folder", who);
    prop_assert_eq!(&got.urls, &want.urls, "{}: urls", who);
    prop_assert_eq!(&got.username, &want.username, "{}: username", who);
    prop_assert_eq!(reveal(&got.password), reveal(&want.password), "{}: password", who);
    prop_assert_eq!(reveal(&got.totp), reveal(&want.totp), "{}: totp", who);
    prop_assert_eq!(&got.notes, &want.notes, "{}: notes", who);
    let fields = |e: &Entry| -> Vec<(String, String, bool)> {
        e.fields
            .iter()
            .map(|f| (f.label.clone(), f.value.expose().to_owned(), f.is_concealed()))
            .collect()
    };
    prop_assert_eq!(fields(got), fields(want), "{}: fields", who);
    prop_assert_eq!(got.favorite, want.favorite, "{}: favorite", who);
    Ok(())
}

fn folder_keys(vault: &Vault) -> BTreeSet<(Vec<String>, bool)> {
    vault.folders.iter().map(|f| (f.path.clone(), f.shared)).collect()
}

// ---------------------------------------------------------------- LastPass

/// One LastPass note type of `formats/lastpass-note-types.toml`.
#[derive(Clone, Debug)]
struct NoteType {
    name: String,
    kind: EntryKind,
    username: Option<String>,
    password: Option<String>,
    /// (label, concealed) of the fields a value can round-trip in.
    fields: Vec<(String, bool)>,
}

fn note_types() -> Vec<NoteType> {
    let path = common::root().join("formats/lastpass-note-types.toml");
    let table: toml::Value = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let label = |v: &toml::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    table["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| NoteType {
            name: label(t, "name").unwrap(),
            kind: EntryKind::from_name(t["kind"].as_str().unwrap()).unwrap(),
            username: label(t, "username"),
            password: label(t, "password"),
            fields: t["fields"]
                .as_array()
                .unwrap()
                .iter()
                // Dates are re-spelled (`Month,Day,Year` ↔ ISO) and keys
                // are multi-line by nature: other tests cover both.
                .filter(|f| f.get("kind").and_then(|k| k.as_str()) != Some("date"))
                .filter(|f| !label(f, "label").unwrap().ends_with(" Key"))
                .map(|f| {
                    (
                        label(f, "label").unwrap(),
                        f.get("concealed").and_then(|c| c.as_bool()) == Some(true),
                    )
                })
                .collect(),
        })
        .collect()
}

/// A field value a typed note can hold: one line, no spaces at either end
/// (LastPass writes `Label:value` lines, which we trim), not empty (an
/// empty value is how LastPass writes "not filled in").
fn note_field_value() -> impl Strategy<Value = String> {
    trimmed("[a-zA-Z0-9 ,\"\\\\&;:'/#éß€😀-]{1,16}|[^\\p{C}\n\r]{1,10}")
}

fn lastpass_entry(folders: Vec<Vec<String>>, types: Vec<NoteType>) -> impl Strategy<Value = Entry> {
    let folder = proptest::sample::select(folders);
    let login = (
        trimmed(text()),
        proptest::option::of("https://[a-z]{1,8}\\.example/[a-z0-9?=&]{0,6}"),
        some_text(),
        secret(),
        proptest::option::of(trimmed(text())),
        some_text(),
    )
        .prop_map(|(title, url, username, password, totp, notes)| {
            let mut e = Entry::new(EntryKind::Login, title);
            e.urls = url.into_iter().collect();
            e.username = username;
            e.password = password.map(Secret::text);
            e.totp = totp.map(Secret::text);
            e.notes = notes;
            e
        });
    // A plain note's text must not start with `NoteType:`, or it is a typed
    // note: LastPass has no other marker.
    let note = (
        trimmed(text()),
        some_text().prop_filter("plain note", |n| !n.as_deref().unwrap_or("").starts_with("NoteType:")),
    )
        .prop_map(|(title, notes)| {
            let mut e = Entry::new(EntryKind::SecureNote, title);
            e.notes = notes;
            e
        });
    let typed = (
        proptest::sample::select(types),
        trimmed(text()),
        proptest::collection::vec(proptest::option::of(note_field_value()), 0..24),
        proptest::option::of(trimmed(text())),
    )
        .prop_map(|(ty, title, values, notes)| {
            let mut e = Entry::new(ty.kind, title);
            e.source_type = Some(ty.name.clone());
            for ((label, concealed), value) in ty.fields.iter().zip(values) {
                let Some(value) = value else { continue };
                if ty.username.as_deref() == Some(label.as_str()) {
                    e.username = Some(value.clone());
                }
                if ty.password.as_deref() == Some(label.as_str()) {
                    e.password = Some(Secret::text(value.clone()));
                }
                e.fields.push(Field {
                    label: label.clone(),
                    value: if *concealed {
                        FieldValue::Concealed(Secret::text(value))
                    } else {
                        FieldValue::Plain(value)
                    },
                    kind: if *concealed {
                        FieldKind::Concealed
                    } else {
                        FieldKind::Text
                    },
                    group: None,
                });
            }
            // `Notes:` takes every line after it, trimmed as a whole; the
            // note is read line by line, so a CRLF in it comes back as LF.
            e.notes = notes.map(|n| crlf_to_lf(&n)).filter(|n| !n.trim().is_empty());
            e
        });
    (prop_oneof![3 => login, 1 => note, 2 => typed], folder, any::<bool>()).prop_map(|(mut e, folder, fav)| {
        e.folder = folder.into();
        e.favorite = fav;
        e
    })
}

/// Note text the note reader gives back as is: it drops one `\r` before
/// each `\n`, so no `\r` may stand there (repeated: `\r\r\n` → `\r\n`).
fn crlf_to_lf(text: &str) -> String {
    let mut text = text.to_owned();
    while text.contains("\r\n") {
        text = text.replace("\r\n", "\n");
    }
    text
}

fn lastpass_vault() -> impl Strategy<Value = Vault> {
    let types = note_types();
    folders().prop_map(shared_prefixed).prop_flat_map(move |folders| {
        let mut paths: Vec<Vec<String>> = vec![Vec::new()];
        paths.extend(folders.iter().map(|f| f.path.clone()));
        proptest::collection::vec(lastpass_entry(paths, types.clone()), 0..12).prop_map(move |entries| {
            let mut v = Vault::new(SourceKind::LastpassCsv, "prop.csv");
            v.folders = folders.clone();
            v.entries = entries;
            v
        })
    })
}

/// LastPass's reader keeps the `Shared-` prefix of a shared top folder in
/// the path (it tells `Shared-X` from a personal `X`): the vault to write
/// names shared folders, and the folders under them, that way.
fn shared_prefixed(folders: Vec<Folder>) -> Vec<Folder> {
    let shared: BTreeSet<String> = folders
        .iter()
        .filter(|f| f.shared && f.path.len() == 1)
        .filter_map(|f| f.path.first().cloned())
        .collect();
    folders
        .into_iter()
        .map(|mut f| {
            if let Some(first) = f.path.first_mut().filter(|n| shared.contains(n.as_str())) {
                *first = format!("Shared-{first}");
            }
            f
        })
        .collect()
}

/// Writes `want` as LastPass CSV and reads it back.
fn lastpass_round_trip(want: &Vault) -> Result<Vault, TestCaseError> {
    let mut csv = Vec::new();
    generate::lastpass::write_csv(want, &mut csv).unwrap();
    let got = lastpass::read_csv(Cursor::new(&csv), "prop.csv", &ParseOptions::default())
        .map_err(|e| TestCaseError::fail(format!("parse error: {e}\n{}", String::from_utf8_lossy(&csv))))?;
    Ok(got)
}

fn assert_lastpass_same(want: &Vault, got: &Vault) -> Result<(), TestCaseError> {
    // Text that looks like an HTML entity is kept as written and named in
    // one finding (formats/lastpass-csv.md); nothing else may be found.
    let findings: Vec<_> = got
        .findings
        .iter()
        .filter(|f| f.code != "lastpass.html-entities")
        .map(|f| f.message.clone())
        .collect();
    prop_assert!(findings.is_empty(), "findings: {:?}", findings);
    prop_assert_eq!(got.skipped_records, 0);
    prop_assert_eq!(got.entries.len(), want.entries.len());
    for (w, g) in want.entries.iter().zip(&got.entries) {
        assert_same("lastpass", w, g)?;
        prop_assert_eq!(&g.source_type, &w.source_type, "note type of {:?}", w.title);
    }
    // A subfolder of a shared folder is read back as part of it (LastPass
    // shares whole top folders), and folders appear in order of first use.
    prop_assert_eq!(folder_keys(got), folder_keys(want));
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_vault_written_as_lastpass_csv_parses_back_to_itself(want in lastpass_vault()) {
        let got = lastpass_round_trip(&want)?;
        assert_lastpass_same(&want, &got)?;
    }
}

// -------------------------------------------------------------------- 1PUX

/// Kinds with a 1Password category of their own; any other kind is written
/// as a secure note's category and so read back as one.
const PUX_KINDS: [EntryKind; 8] = [
    EntryKind::Login,
    EntryKind::SecureNote,
    EntryKind::Password,
    EntryKind::CreditCard,
    EntryKind::Server,
    EntryKind::Database,
    EntryKind::Wifi,
    EntryKind::SoftwareLicense,
];

/// A section field. One with an empty value is left out on reading
/// (1Password writes every field of an item's template, filled or not).
fn pux_field() -> impl Strategy<Value = Field> {
    (
        trimmed(text()),
        text().prop_filter("a filled-in value", |v| !v.is_empty()),
        any::<bool>(),
        proptest::option::of(trimmed(text())),
    )
        .prop_map(|(label, value, concealed, group)| Field {
            label,
            kind: if concealed {
                FieldKind::Concealed
            } else {
                FieldKind::Text
            },
            value: if concealed {
                FieldValue::Concealed(Secret::text(value))
            } else {
                FieldValue::Plain(value)
            },
            group,
        })
}

fn pux_entry(folders: Vec<Vec<String>>) -> impl Strategy<Value = Entry> {
    (
        proptest::sample::select(PUX_KINDS.to_vec()),
        proptest::sample::select(folders),
        (
            trimmed(text()),
            some_text(),
            secret(),
            proptest::option::of(trimmed(text())),
            some_text(),
        ),
        proptest::collection::vec("https://[a-z]{1,8}\\.example/[a-z0-9?=&]{0,6}", 0..3),
        proptest::collection::vec(pux_field(), 0..4),
        proptest::collection::vec(trimmed(text()), 0..3),
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(kind, folder, (title, username, password, totp, notes), urls, fields, tags, (favorite, archived))| {
                let mut e = Entry::new(kind, title);
                e.folder = folder.into();
                // A blank username is read as none, like blank notes.
                e.username = username.filter(|u| !u.trim().is_empty());
                e.password = password.map(Secret::text);
                e.totp = totp.map(Secret::text);
                // Blank notes are read as none (1Password writes `""`).
                e.notes = notes.filter(|n| !n.trim().is_empty());
                e.urls = urls;
                e.fields = fields;
                e.tags = tags;
                e.favorite = favorite;
                e.archived = archived;
                e
            },
        )
}

/// 1PUX has one level of folders, the vaults: entries go in top folders.
fn pux_vault() -> impl Strategy<Value = Vault> {
    folders()
        .prop_map(|f| f.into_iter().filter(|f| f.path.len() == 1).collect::<Vec<_>>())
        .prop_filter("a vault to file entries in", |f| !f.is_empty())
        .prop_flat_map(|folders| {
            let paths: Vec<Vec<String>> = folders.iter().map(|f| f.path.clone()).collect();
            proptest::collection::vec(pux_entry(paths), 0..10).prop_map(move |mut entries| {
                for (n, e) in entries.iter_mut().enumerate() {
                    e.source_id = format!("item{n:022}");
                }
                let mut v = Vault::new(SourceKind::Onepassword1pux, "prop.1pux");
                v.folders = folders.clone();
                v.entries = entries;
                v
            })
        })
}

fn pux_round_trip(want: &Vault) -> Result<Vault, TestCaseError> {
    let mut bytes = Cursor::new(Vec::new());
    generate::pux::write(want, &mut bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prop.1pux");
    std::fs::write(&path, bytes.get_ref()).unwrap();
    onepassword::read_1pux(&path, "prop.1pux", &ParseOptions::default())
        .map_err(|e| TestCaseError::fail(format!("parse error: {e}")))
}

fn assert_pux_same(want: &Vault, got: &Vault) -> Result<(), TestCaseError> {
    let findings: Vec<_> = got.findings.iter().map(|f| f.message.clone()).collect();
    prop_assert!(findings.is_empty(), "findings: {:?}", findings);
    prop_assert_eq!(got.entries.len(), want.entries.len());
    for w in &want.entries {
        let g = got.entries.iter().find(|g| g.source_id == w.source_id);
        prop_assert!(g.is_some(), "item {} is missing", w.source_id);
        let g = g.unwrap();
        assert_same("1pux", w, g)?;
        prop_assert_eq!(&g.tags, &w.tags, "tags of {:?}", w.title);
        prop_assert_eq!(g.archived, w.archived, "archived of {:?}", w.title);
        let groups = |e: &Entry| e.fields.iter().map(|f| f.group.clone()).collect::<Vec<_>>();
        prop_assert_eq!(groups(g), groups(w), "sections of {:?}", w.title);
    }
    prop_assert_eq!(folder_keys(got), folder_keys(want));
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_vault_written_as_1pux_parses_back_to_itself(want in pux_vault()) {
        let got = pux_round_trip(&want)?;
        assert_pux_same(&want, &got)?;
    }
}

// Shrunk cases the properties found, kept as examples. None was a bug in a
// writer or a parser: each is a normalization of the format, documented in
// `formats/lastpass-csv.md` / `formats/onepassword-1pux.md`, and the
// strategies above generate only what survives it.

fn one_entry(source: SourceKind, e: Entry) -> Vault {
    let mut v = Vault::new(source, "example");
    v.folders.push(Folder {
        path: vec!["0".into()],
        shared: false,
        source_id: None,
        description: None,
    });
    v.entries.push(e);
    v
}

#[test]
fn shrunk_typed_lastpass_note_text_loses_the_cr_before_each_lf() {
    let mut e = Entry::new(EntryKind::Address, "€");
    e.source_type = Some("Address".into());
    e.folder = vec!["0".into()].into();
    e.notes = Some("/\r\na".into());
    let got = lastpass_round_trip(&one_entry(SourceKind::LastpassCsv, e)).unwrap();
    assert_eq!(got.entries[0].notes.as_deref(), Some("/\na"));
}

#[test]
fn shrunk_1pux_blank_username_and_notes_and_empty_field_read_as_none() {
    let mut e = Entry::new(EntryKind::Login, "A");
    e.source_id = "item0000000000000000000000".into();
    e.folder = vec!["0".into()].into();
    e.username = Some("\t".into());
    e.notes = Some(" ".into());
    e.fields.push(Field::concealed("PIN", ""));
    e.fields.push(Field::plain("Bank", "w"));
    let got = pux_round_trip(&one_entry(SourceKind::Onepassword1pux, e)).unwrap();
    let g = &got.entries[0];
    assert_eq!(g.username, None);
    assert_eq!(g.notes, None);
    let labels: Vec<&str> = g.fields.iter().map(|f| f.label.as_str()).collect();
    assert_eq!(labels, ["Bank"]);
}
