//! One well-formed row → what a summary of the export needs of it (its
//! kind, attachments, folder and findings), read straight from the batch.
//!
//! `inspect` counts a million entries and drops them: building each
//! [`Entry`](crate::model::Entry) (a dozen strings, the fields of its note)
//! only to count it was most of its time. A row is summarized here without
//! copying a value; a row whose values would change before they are read
//! (bytes that are not UTF-8, decoded HTML entities) or that is not an entry
//! (a folder row) goes through the full conversion instead, so the
//! summary never has to repeat those rules. The test
//! `summaries_match_full_entries` keeps the two paths in step.

use super::records::{has_byte, Batch, Text};
use super::row::{fields_of, Converted, RowReader};
use super::Columns;
use super::{GROUP_URL, SECURE_NOTE_URL};
use crate::model::EntryKind;
use crate::sources::lastpass::{entities, notes};
use crate::sources::EntrySummary;

use super::seen::Seen;

/// Where a column is.
type Column = fn(&Columns) -> usize;

/// The columns whose values are checked for HTML entities, in the order a
/// finding names them.
const ENTITY_COLUMNS: [(&str, Column); 6] = [
    ("url", |c| c.url),
    ("username", |c| c.username),
    ("password", |c| c.password),
    ("extra", |c| c.extra),
    ("name", |c| c.name),
    ("grouping", |c| c.grouping),
];

impl RowReader<'_> {
    /// Record `i` of `batch` (at `line`), summarized. `seen` holds the
    /// `grouping` values whose folders earlier batches already added.
    pub fn summarize(&self, batch: &Batch, i: usize, line: u64, seen: &Seen) -> Converted<EntrySummary> {
        match batch.text(i) {
            Some(text) => self.summarize_text(&text, line, seen),
            None => None,
        }
        .unwrap_or_else(|| {
            let (fields, bad_utf8) = fields_of(batch.fields(i));
            let c = self.convert(fields, line, bad_utf8);
            Converted {
                line: c.line,
                bad_utf8: c.bad_utf8,
                entities: c.entities,
                folder_key: c.folder_key,
                path: c.path,
                shared_prefix: c.shared_prefix,
                path_from_key: c.path_from_key,
                entry: c.entry.as_ref().map(EntrySummary::from),
                findings: c.findings,
            }
        })
    }

    /// `None` for a row the full conversion must handle.
    fn summarize_text(&self, text: &Text<'_>, line: u64, seen: &Seen) -> Option<Converted<EntrySummary>> {
        let c = self.columns;
        let url = text.field(Some(c.url));
        let extra = text.field(Some(c.extra));
        let mut with_entities = Vec::new();
        // Most rows hold no `&` at all: one search instead of one per column.
        let columns = if has_byte(text.all().as_bytes(), b'&') {
            &ENTITY_COLUMNS[..]
        } else {
            &[]
        };
        for &(column, k) in columns {
            if entities::contains(text.field(Some(k(c)))) {
                with_entities.push(column);
            }
        }
        if url == GROUP_URL || (self.options.decode_html_entities && !with_entities.is_empty()) {
            return None;
        }
        let mut findings = Vec::new();
        let mut kind = EntryKind::Login;
        let mut note = None;
        if url == SECURE_NOTE_URL {
            kind = EntryKind::SecureNote;
            if extra.starts_with(notes::NOTE_TYPE_PREFIX) {
                note = notes::scan(extra);
            }
        }
        self.updated(
            text.field(c.last_modified),
            text.field(c.last_touch),
            line,
            &mut findings,
        );
        let attachments = usize::from(text.field(c.attachpresent).trim() == "1");
        if attachments > 0 {
            findings.push(self.attachment_finding(line));
        }
        if let Some(note) = note {
            findings.extend(self.note_findings(note.source_type, &note.problems, line));
            kind = note.kind;
        }
        // The folder is worked out by the builder, in file order, only
        // for a `grouping` it has not seen (checked here, in parallel, against
        // the batches before this one) that can name a folder at all.
        let grouping = text.field(Some(c.grouping));
        let root = matches!(grouping.trim(), "" | "(none)");
        let known = root || seen.contains(grouping);
        Some(Converted {
            line,
            bad_utf8: false,
            entities: with_entities,
            folder_key: None,
            path: Vec::new(),
            shared_prefix: None,
            path_from_key: !known,
            entry: Some(EntrySummary {
                kind,
                archived: false,
                attachments,
            }),
            findings,
        })
    }
}
