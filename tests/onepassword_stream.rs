//! 1PUX and 1PIF are read as they stream (a chunk of items at a time),
//! like a LastPass CSV: these tests hold the streamed read to the whole
//! read (entries, fingerprint ids, findings, folders) on the samples and on
//! generated exports larger than a decoding chunk, and check the items read
//! against `export.data` parsed here with plain serde_json.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use vaultferry::generate::{self, Format};
use vaultferry::model::{Entry, Vault};
use vaultferry::sources::{self, ErrorKind, Limits, Numbering, ParseOptions};

fn whole(path: &Path, options: &ParseOptions) -> Vault {
    sources::read_export(path, options).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The plan's way: chunks of `chunk` entries numbered by one `Numbering`.
fn streamed(path: &Path, options: &ParseOptions, chunk: usize) -> (Vec<Entry>, Vault) {
    let mut numbering = Numbering::for_export(path);
    let mut entries = Vec::new();
    let vault = sources::read_export_chunks(path, options, chunk, &mut |mut got| {
        assert!(
            got.len() <= chunk,
            "a chunk of {} entries for chunks of {chunk}",
            got.len()
        );
        numbering.assign(&mut got);
        entries.append(&mut got);
    })
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (entries, vault)
}

fn assert_streamed_equals_whole(path: &Path) {
    for options in [
        ParseOptions::default(),
        ParseOptions {
            strict: false,
            decode_html_entities: true,
            ..ParseOptions::default()
        },
    ] {
        let want = whole(path, &options);
        assert!(!want.entries.is_empty(), "{}: no entries", path.display());
        for chunk in [1, 3, 2048] {
            let (entries, vault) = streamed(path, &options, chunk);
            let at = format!("{} in chunks of {chunk}", path.display());
            let ids = |e: &[Entry]| e.iter().map(|e| e.source_id.clone()).collect::<Vec<_>>();
            assert_eq!(ids(&entries), ids(&want.entries), "{at}: ids");
            assert!(entries == want.entries, "{at}: entries differ");
            assert_eq!(vault.findings, want.findings, "{at}: findings");
            assert_eq!(vault.folders, want.folders, "{at}: folders");
            assert_eq!(vault.skipped_records, want.skipped_records, "{at}: skipped");
            assert!(vault.entries.is_empty(), "{at}: a streamed read kept entries");
        }
        let mut summaries = Vec::new();
        let summary = sources::read_export_summary(path, &options, &mut |s| summaries.push(s)).unwrap();
        let want_summaries: Vec<_> = want.entries.iter().map(sources::EntrySummary::from).collect();
        assert_eq!(summaries, want_summaries, "{}: summaries", path.display());
        assert_eq!(summary.findings, want.findings, "{}: summary findings", path.display());
    }
}

fn generated(dir: &Path, format: Format, entries: usize) -> PathBuf {
    let name = match format {
        Format::Pux => "gen.1pux",
        Format::Pif => "gen.1pif",
        Format::LastpassCsv => "gen.csv",
    };
    let out = dir.join(name);
    generate::generate(format, entries, 7, &out, &dir.join(format!("{name}.sharing.json"))).unwrap();
    out
}

#[test]
fn streamed_1pux_and_1pif_reads_equal_whole_reads_on_samples() {
    for rel in ["onepassword/company.1pux", "onepassword/company.1pif"] {
        assert_streamed_equals_whole(&common::sample(rel));
    }
}

#[test]
fn streamed_1pux_and_1pif_reads_equal_whole_reads_past_a_decoding_chunk() {
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::Pux, Format::Pif] {
        assert_streamed_equals_whole(&generated(dir.path(), format, 2600));
    }
}

/// The items of `export.data`, vault by vault, as plain serde_json sees them.
fn item_uuids_in(path: &Path) -> Vec<(String, String)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    zip.by_name("export.data").unwrap().read_to_string(&mut text).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for account in doc["accounts"].as_array().unwrap() {
        for vault in account["vaults"].as_array().unwrap() {
            let name = vault["attrs"]["name"].as_str().unwrap().to_owned();
            for item in vault["items"].as_array().unwrap() {
                let item = item.get("item").unwrap_or(item);
                out.push((name.clone(), item["uuid"].as_str().unwrap().to_owned()));
            }
        }
    }
    out
}

#[test]
fn every_1pux_item_is_read_in_its_vault_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    for path in [
        common::sample("onepassword/company.1pux"),
        generated(dir.path(), Format::Pux, 2600),
    ] {
        let want = item_uuids_in(&path);
        let (entries, _) = streamed(&path, &ParseOptions::default(), 2048);
        let got: Vec<(String, String)> = entries
            .iter()
            .map(|e| (e.folder.first().cloned().unwrap_or_default(), e.source_id.clone()))
            .collect();
        assert_eq!(got, want, "{}", path.display());
    }
}

fn write_1pux(path: &Path, data: &str) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("export.attributes", opts).unwrap();
    zip.write_all(br#"{"version":3,"createdAt":1740873600}"#).unwrap();
    zip.start_file("export.data", opts).unwrap();
    zip.write_all(data.as_bytes()).unwrap();
    zip.finish().unwrap();
}

#[test]
fn a_vault_that_lists_its_items_before_its_attrs_keeps_them_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late-attrs.1pux");
    let item = |uuid: &str| format!(r#"{{"uuid":"{uuid}","categoryUuid":"003","overview":{{"title":"{uuid}"}}}}"#);
    write_1pux(
        &path,
        &format!(
            r#"{{"accounts":[{{"vaults":[
                {{"items":[{},{}],"attrs":{{"uuid":"v1","name":"Ops","type":"U"}}}},
                {{"attrs":{{"uuid":"v2","name":"Private","type":"P"}},"items":[{}]}}]}}]}}"#,
            item("a"),
            item("b"),
            item("c")
        ),
    );
    let vault = whole(&path, &ParseOptions::default());
    let got: Vec<(&str, &str)> = vault
        .entries
        .iter()
        .map(|e| (e.folder.first().map(String::as_str).unwrap_or(""), e.source_id.as_str()))
        .collect();
    assert_eq!(got, [("Ops", "a"), ("Ops", "b"), ("Private", "c")]);
    let shared: Vec<(&str, bool)> = vault.folders.iter().map(|f| (f.path[0].as_str(), f.shared)).collect();
    assert_eq!(shared, [("Ops", true), ("Private", false)]);
}

#[test]
fn a_1pux_whose_export_data_passes_the_unpacked_limit_stops_with_a_limit_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.1pux");
    let items: Vec<String> = (0..2000)
        .map(|k| format!(r#"{{"uuid":"u{k}","categoryUuid":"003","overview":{{"title":"note {k}"}}}}"#))
        .collect();
    write_1pux(
        &path,
        &format!(
            r#"{{"accounts":[{{"vaults":[{{"attrs":{{"name":"V"}},"items":[{}]}}]}}]}}"#,
            items.join(",")
        ),
    );
    let options = ParseOptions {
        limits: Limits {
            max_unpacked_bytes: 20_000,
            ..Limits::default()
        },
        ..ParseOptions::default()
    };
    let err = sources::read_export(&path, &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
    assert!(err.to_string().contains("export.data"), "{err}");
}

#[test]
fn a_truncated_export_data_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.1pux");
    write_1pux(
        &path,
        "{\"accounts\":[{\"vaults\":[{\"attrs\":{\"name\":\"V\"},\n\"items\":[{\"uuid\":\"a\"",
    );
    let err = sources::read_export(&path, &ParseOptions::default()).unwrap_err();
    assert_eq!(err.position().line, Some(2), "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
}

const SEP: &str = "***5642bee8-a5ff-11dc-8314-0800200c9a66***";

fn read_pif_text(dir: &Path, name: &str, text: &str) -> Vault {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let options = ParseOptions {
        format: Some(vaultferry::model::SourceKind::Onepassword1pif),
        ..ParseOptions::default()
    };
    let vault = whole(&path, &options);
    let (entries, streamed) = streamed(&path, &options, 1);
    assert!(entries == vault.entries, "{name}: streamed entries differ");
    assert_eq!(streamed.findings, vault.findings, "{name}: streamed findings differ");
    vault
}

fn titles_and_lines(vault: &Vault) -> Vec<(String, Option<u64>)> {
    vault.entries.iter().map(|e| (e.title.clone(), e.line)).collect()
}

#[test]
fn pif_a_separator_line_before_the_first_record_is_not_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "\u{feff}{SEP}\r\n{{\"typeName\":\"securenotes.SecureNote\",\"uuid\":\"n1\",\"title\":\"first\"}}\r\n{SEP}\r\n{{\"typeName\":\"securenotes.SecureNote\",\"uuid\":\"n2\",\"title\":\"second\"}}\r\n"
    );
    let vault = read_pif_text(dir.path(), "lead.1pif", &text);
    assert_eq!(
        titles_and_lines(&vault),
        [("first".to_owned(), Some(2)), ("second".to_owned(), Some(4))]
    );
    assert_eq!(vault.skipped_records, 0);
    assert!(vault.findings.is_empty(), "{:?}", vault.findings);
}

#[test]
fn pif_one_pretty_printed_record_without_any_separator_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = "{\n  \"typeName\": \"webforms.WebForm\",\n  \"uuid\": \"w1\",\n  \"title\": \"Mail\",\n  \"secureContents\": {\n    \"fields\": [\n      {\"designation\": \"username\", \"value\": \"ann\"}\n    ]\n  }\n}\n";
    let vault = read_pif_text(dir.path(), "one.1pif", text);
    assert_eq!(titles_and_lines(&vault), [("Mail".to_owned(), Some(1))]);
    assert_eq!(vault.entries[0].username.as_deref(), Some("ann"));
    assert!(vault.findings.is_empty(), "{:?}", vault.findings);
}

#[test]
fn pif_records_on_consecutive_lines_without_separators_are_each_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = "{\"typeName\":\"securenotes.SecureNote\",\"uuid\":\"a\",\"title\":\"a\"}\n{\"typeName\":\"securenotes.SecureNote\",\"uuid\":\"b\",\"title\":\"b\"}\n";
    let vault = read_pif_text(dir.path(), "lines.1pif", text);
    assert_eq!(
        titles_and_lines(&vault),
        [("a".to_owned(), Some(1)), ("b".to_owned(), Some(2))]
    );
}

#[test]
fn pif_a_broken_record_in_a_multi_line_record_names_the_line_of_the_fault() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{{\"typeName\":\"securenotes.SecureNote\",\"title\":\"ok\"}}\n{SEP}\n{{\n  \"typeName\": \"securenotes.SecureNote\",\n  \"title\": oops\n}}\n{SEP}\n"
    );
    let vault = read_pif_text(dir.path(), "broken.1pif", &text);
    assert_eq!(vault.entries.len(), 1);
    assert_eq!(vault.skipped_records, 1);
    assert_eq!(vault.findings[0].position.line, Some(5), "{:?}", vault.findings);
}

#[test]
fn pif_folders_written_after_their_items_still_file_them() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{{\"typeName\":\"securenotes.SecureNote\",\"uuid\":\"n\",\"title\":\"n\",\"folderUuid\":\"F2\"}}\n{SEP}\n{{\"typeName\":\"system.folder.Regular\",\"uuid\":\"F2\",\"title\":\"Inner\",\"folderUuid\":\"F1\"}}\n{SEP}\n{{\"typeName\":\"system.folder.Regular\",\"uuid\":\"F1\",\"title\":\"Outer\"}}\n{SEP}\n"
    );
    let vault = read_pif_text(dir.path(), "late-folders.1pif", &text);
    assert_eq!(vault.entries[0].folder, ["Outer", "Inner"]);
}
