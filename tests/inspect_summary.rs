//! `inspect`'s summary reads entries through `sources::read_export_summary`,
//! which for a LastPass CSV never builds an entry. These tests hold it to
//! what the full read says, so the two cannot drift: for every export here
//! (samples, fixtures, broken rows written below, a generated export) and
//! every option that changes parsing, the summaries, folders, findings and
//! skipped count must be those of the entries `read_export_each` builds, and
//! an input one path refuses the other must refuse with the same error.

mod common;

use std::path::{Path, PathBuf};

use vaultferry::generate::{self, Format};
use vaultferry::model::Vault;
use vaultferry::sources::{self, EntrySummary, ParseOptions};

fn option_sets() -> Vec<ParseOptions> {
    let mut sets = Vec::new();
    for strict in [false, true] {
        for decode_html_entities in [false, true] {
            sets.push(ParseOptions {
                strict,
                decode_html_entities,
                ..ParseOptions::default()
            });
        }
    }
    sets
}

type Outcome = Result<(Vec<EntrySummary>, Vault), String>;

fn full(path: &Path, options: &ParseOptions) -> Outcome {
    let mut seen = Vec::new();
    let vault = sources::read_export_each(path, options, &mut |e| seen.push(EntrySummary::from(&e)));
    vault.map(|v| (seen, v)).map_err(|e| e.to_string())
}

fn summary(path: &Path, options: &ParseOptions) -> Outcome {
    let mut seen = Vec::new();
    let vault = sources::read_export_summary(path, options, &mut |e| seen.push(e));
    vault.map(|v| (seen, v)).map_err(|e| e.to_string())
}

fn check(path: &Path) {
    for options in option_sets() {
        let (want, got) = (full(path, &options), summary(path, &options));
        assert_eq!(
            got,
            want,
            "{} (strict {}, decode {})",
            path.display(),
            options.strict,
            options.decode_html_entities
        );
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| {
        p.is_file()
            && !matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("md" | "yml" | "toml" | "py" | "json" | "xml")
            )
    });
    files.sort();
    files
}

#[test]
fn summaries_match_full_entries_on_samples_and_fixtures() {
    let root = common::root();
    let mut checked = 0;
    for dir in [
        "samples/lastpass",
        "samples/onepassword",
        "tests/fixtures/lastpass",
        "tests/fixtures/bad",
        "../shared/fixtures/pass-import",
    ] {
        for file in files_in(&root.join(dir)) {
            check(&file);
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} files found");
}

/// Every kind of row the LastPass reader treats specially, in one file.
const TRICKY: &str = "url,username,password,totp,extra,name,grouping,fav,id,last_modified_gmt,last_touch,attachpresent,custom pin\n\
http://group,,,,,,Personal\\Archive,0,,,,,\n\
http://group,,,,,Old &amp; new,,0,,,,,\n\
https://a.example?x=1&amp;y=2,u,Pw&amp;Q&lt;1,,,R&amp;D,Shared-R&amp;D\\Sub,0,7,1710408600,,1,\n\
https://b.example,u,pw,,,Plain,Shared-Eng\\DB,1,,yesterday,2024-03-14 09:30:00,0,1234\n\
https://b.example,u,pw,,,Bad times,(none),1,,yesterday,later,1,\n\
http://sn,,,,\"NoteType:Passport\nExpiration Date:sometime in 2030\nIssued Date:March,14,2020\",Passport,Travel,0,,,,,\n\
http://sn,,,,\"NoteType:Recipe\nFlour:1kg\",Cake,Travel,0,,,,,\n\
http://sn,,,,\"NoteType:Credit Card\nStart Date:March\n2029\nNotes:Expiration Date:x\",Card,Shared-Eng\\Cards,0,,,,,\n\
http://sn,,,,\"NoteType:Custom_12\nBirthday:whenever\",Custom,,0,,,,,\n\
http://sn,,,,\"NoteType:Server\nHostname:x &amp; y\",Srv &lt;1&gt;,Ops,0,,,,,\n\
http://sn,,,,Just text,Memo,(none),0,,,,,\n\
https://w.example,lee,Pw-W,,one\ntwo\nthree,Wiki,Personal,1,,,,,\n\
https://a.example,u,Pw-Skip-1,,,A,B,C,D,0,,,,,,\n\
stray line\n\
https://n.example,u,Pw-Next,,,Next,Ops\\Sub,0,,,,,\n\
,dpbx,pw1,,For finance only,Bank,  Ops \\ Sub ,0,,,,,\n\
https://l.example,u,caf\u{e9},,,Latin,Ops,0,,,,,\n";

#[test]
fn summaries_match_full_entries_on_tricky_rows() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut bytes = TRICKY.as_bytes().to_vec();
    // A row with bytes that are not UTF-8 (one in `grouping`, one in `extra`).
    bytes.extend_from_slice(b"https://x.example,u,pw,,note \xff,Bad bytes,Caf\xe9,0,,,,,\n");
    // The same row split inside a character between two fields.
    bytes.extend_from_slice(b"https://y.example,u,\xc3,\xa9,,Split,(none),0,,,,,\n");
    // A stray quote runs on to the end of the file: the rows are re-read.
    bytes.extend_from_slice(b"https://s.example,u,\"Pw-Stray,,,Stray,(none),0,,,,,\n");
    bytes.extend_from_slice(b"https://t.example,u,Pw-T,,,After,(none),0,,,,,\n");
    let path = dir.path().join("tricky.csv");
    std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
    check(&path);
    let (entries, vault) = summary(&path, &ParseOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(entries.len() >= 12, "{entries:?}");
    assert!(vault.findings.len() >= 10, "{:?}", vault.findings);
}

#[test]
fn summaries_match_full_entries_on_a_generated_export() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (csv, sharing) = (dir.path().join("gen.csv"), dir.path().join("gen.json"));
    generate::generate(Format::LastpassCsv, 3000, 11, &csv, &sharing).unwrap_or_else(|e| panic!("{e}"));
    check(&csv);
}

/// Issue 20: the 1Password readers summarize on the pool, and a 1PIF
/// export folder's attachments are counted as the entry is handed on; the
/// summaries still say what the full entries say.
#[test]
fn bug20_summaries_match_full_entries_on_generated_1password_exports() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (format, name) in [(Format::Pux, "gen.1pux"), (Format::Pif, "gen.1pif")] {
        let (export, sharing) = (dir.path().join(name), dir.path().join(format!("{name}.json")));
        generate::generate(format, 3000, 11, &export, &sharing).unwrap_or_else(|e| panic!("{e}"));
        check(&export);
    }
    let folder = dir.path().join("folder-1pif");
    common::vaultferry(&[
        "generate",
        "--format",
        "1pif",
        "--entries",
        "2000",
        "--attachment-bytes",
        "1000",
        "--out",
        folder.to_str().unwrap_or_default(),
    ])
    .success();
    check(&folder);
    let (entries, _) = summary(&folder, &ParseOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let attachments: usize = entries.iter().map(|e| e.attachments).sum();
    assert!(attachments >= 3, "only {attachments} attachments counted");
}
