//! One well-formed row → one entry (or a folder), with everything that
//! depends only on the row: its fields, note type, timestamps, HTML-entity
//! columns and findings. Rows of a batch are converted in parallel; what
//! depends on earlier rows (folders, the order of findings) is left to the
//! builder, which takes the results in file order.

use std::borrow::Cow;

use zeroize::Zeroize;

use super::{folder_path, parse_time, Columns, GROUP_URL, SECURE_NOTE_URL};
use crate::model::{Attachment, Entry, EntryKind, Field, Finding, Timestamp};
use crate::secret::Secret;
use crate::sources::lastpass::{entities, notes};
use crate::sources::{at, ParseOptions};

/// What a row turned into, for the builder to take in file order. Owns
/// everything, so one buffer of these serves every batch. `E` is what an
/// entry row gives: the [`Entry`], or only its [`EntrySummary`].
pub(super) struct Converted<E = Entry> {
    pub line: u64,
    /// Bytes that are not UTF-8 were replaced (a recovery: `--strict` stops).
    pub bad_utf8: bool,
    /// Columns holding HTML entities.
    pub entities: Vec<&'static str>,
    /// What the folder is known by, when it is not the row's `grouping`
    /// as written (which the builder reads from the batch rather than
    /// copying it for every row); its path; the shared-folder prefix of its
    /// top segment.
    pub folder_key: Option<String>,
    pub path: Vec<String>,
    pub shared_prefix: Option<String>,
    /// `path` and `shared_prefix` were left for the builder to work out
    /// from the folder's key, which it only does for a key it has not seen
    /// (a summary keeps no path per entry).
    pub path_from_key: bool,
    /// `None` for a row that only records a folder.
    pub entry: Option<E>,
    /// The row's findings, in order, after any for its UTF-8.
    pub findings: Vec<Finding>,
}

/// What converting a row needs to know; shared by the threads converting.
pub(super) struct RowReader<'a> {
    pub columns: &'a Columns,
    pub options: &'a ParseOptions,
    pub file: &'a str,
}

/// The fields of a record as text, borrowed where they are UTF-8.
pub(super) fn fields_of<'a>(bytes: impl Iterator<Item = &'a [u8]>) -> (Vec<Cow<'a, str>>, bool) {
    let mut bad = false;
    let fields = bytes
        .map(|b| match std::str::from_utf8(b) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                bad = true;
                String::from_utf8_lossy(b)
            }
        })
        .collect();
    (fields, bad)
}

/// Drops a value that may hold a secret, zeroing it if it was copied out
/// of the (zeroized) batch.
fn wipe(value: Cow<'_, str>) {
    if let Cow::Owned(mut s) = value {
        s.zeroize();
    }
}

/// The value if it is not the text of the batch as written.
fn owned(value: Cow<'_, str>) -> Option<String> {
    match value {
        Cow::Borrowed(_) => None,
        Cow::Owned(s) => Some(s),
    }
}

fn take<'a>(fields: &mut [Cow<'a, str>], i: Option<usize>) -> Cow<'a, str> {
    i.and_then(|i| fields.get_mut(i))
        .map(std::mem::take)
        .unwrap_or_default()
}

impl RowReader<'_> {
    pub fn convert(&self, mut fields: Vec<Cow<'_, str>>, line: u64, bad_utf8: bool) -> Converted {
        let c = self.columns;
        let mut url = take(&mut fields, Some(c.url));
        let mut username = take(&mut fields, Some(c.username));
        let mut password = Secret::text(take(&mut fields, Some(c.password)).into_owned());
        let mut extra = take(&mut fields, Some(c.extra));
        let mut name = take(&mut fields, Some(c.name));
        let mut grouping = take(&mut fields, Some(c.grouping));
        let totp = take(&mut fields, c.totp);
        let fav = take(&mut fields, c.fav);
        let id = take(&mut fields, c.id);
        let fullname = take(&mut fields, c.fullname);
        let last_modified = take(&mut fields, c.last_modified);
        let last_touch = take(&mut fields, c.last_touch);
        let attachpresent = take(&mut fields, c.attachpresent);

        let mut with_entities = Vec::new();
        for (column, value) in [
            ("url", &*url),
            ("username", &*username),
            ("password", password.expose()),
            ("extra", &*extra),
            ("name", &*name),
            ("grouping", &*grouping),
        ] {
            // Most values hold no `&`: a block scan says so before the
            // entity search, which walks the value a character at a time.
            if super::records::has_byte(value.as_bytes(), b'&') && entities::contains(value) {
                with_entities.push(column);
            }
        }
        if self.options.decode_html_entities {
            for column in &with_entities {
                match *column {
                    "url" => url = Cow::Owned(entities::decode(&url)),
                    "username" => username = Cow::Owned(entities::decode(&username)),
                    "password" => password.map_text(entities::decode),
                    "extra" => {
                        let decoded = entities::decode(&extra);
                        wipe(std::mem::replace(&mut extra, Cow::Owned(decoded)));
                    }
                    "name" => name = Cow::Owned(entities::decode(&name)),
                    _ => grouping = Cow::Owned(entities::decode(&grouping)),
                }
            }
        }

        let mut out = Converted {
            line,
            bad_utf8,
            entities: with_entities,
            folder_key: None,
            path: Vec::new(),
            shared_prefix: None,
            path_from_key: false,
            entry: None,
            findings: Vec::new(),
        };
        if url == GROUP_URL {
            // An empty folder LastPass keeps as a pseudo-row; older exports
            // put its name in `name` with no `grouping`.
            let (path, shared_prefix) = folder_path(&grouping);
            if path.is_empty() {
                let (path, shared_prefix) = folder_path(&name);
                out.folder_key = Some(format!("\u{1f}{name}"));
                out.path = path;
                out.shared_prefix = shared_prefix;
            } else {
                out.folder_key = owned(grouping);
                out.path = path;
                out.shared_prefix = shared_prefix;
            }
            wipe(extra);
            return out;
        }

        let title = if !name.trim().is_empty() {
            name.into_owned()
        } else if let Some(tail) = fullname.rsplit(['/', '\\']).next().filter(|t| !t.trim().is_empty()) {
            tail.to_owned()
        } else if !url.is_empty() && url != SECURE_NOTE_URL {
            url.to_string()
        } else {
            "(untitled)".to_owned()
        };

        let mut note = None;
        let mut entry = if url == SECURE_NOTE_URL {
            let mut e = Entry::new(EntryKind::SecureNote, title);
            if extra.starts_with(notes::NOTE_TYPE_PREFIX) {
                // Applied last, so the note's fields come before those of
                // extra columns, as LastPass shows them.
                note = notes::parse(&extra);
                wipe(extra);
            } else if !extra.is_empty() {
                e.notes = Some(extra.into_owned());
            }
            e
        } else {
            let mut e = Entry::new(EntryKind::Login, title);
            if !url.is_empty() {
                e.urls.push(url.into_owned());
            }
            if !extra.is_empty() {
                e.notes = Some(extra.into_owned());
            }
            e
        };
        if !username.is_empty() {
            entry.username = Some(username.into_owned());
        }
        if !password.is_empty() {
            entry.password = Some(password);
        }
        if !totp.trim().is_empty() {
            entry.totp = Some(Secret::text(totp.into_owned()));
        }
        entry.favorite = fav.trim() == "1";
        entry.source_id = id.trim().to_owned();
        entry.line = Some(line);
        entry.updated = self.updated(&last_modified, &last_touch, line, &mut out.findings);
        if attachpresent.trim() == "1" {
            entry.attachments.push(Attachment {
                name: "(not in export)".to_owned(),
                size: 0,
                content: None,
                source_id: None,
                digest: None,
                origin: None,
            });
            out.findings.push(self.attachment_finding(line));
        }
        let words = notes::concealed_words();
        for (i, column) in &c.other {
            let value = take(&mut fields, Some(*i));
            if value.is_empty() {
                continue;
            }
            let field = if notes::looks_sensitive(column, words) {
                Field::concealed(column.clone(), value)
            } else {
                Field::plain(column.clone(), value)
            };
            entry.fields.push(field);
        }
        if let Some(parsed) = note {
            out.findings
                .extend(self.note_findings(&parsed.source_type, &parsed.problems, line));
            entry.kind = parsed.kind;
            entry.source_type = Some(parsed.source_type);
            let mut note_fields = parsed.fields;
            note_fields.append(&mut entry.fields);
            entry.fields = note_fields;
            entry.notes = parsed.notes;
            // A `username`/`password` column wins over the note's.
            if entry.username.is_none() {
                entry.username = parsed.username;
            }
            if entry.password.is_none() {
                entry.password = parsed.password;
            }
        }
        // The builder works the path out once per grouping, and every
        // entry of the folder shares it.
        out.path_from_key = true;
        out.folder_key = owned(grouping);
        out.entry = Some(entry);
        out
    }

    /// The first of the row's two timestamps that is set and readable; a
    /// set one that is not readable is a finding.
    pub(super) fn updated(
        &self,
        last_modified: &str,
        last_touch: &str,
        line: u64,
        findings: &mut Vec<Finding>,
    ) -> Option<Timestamp> {
        for (column, value) in [("last_modified_gmt", last_modified), ("last_touch", last_touch)] {
            if value.trim().is_empty() {
                continue;
            }
            match parse_time(value) {
                Some(t) => return Some(t),
                None => findings.push(
                    Finding::info(
                        "lastpass.bad-timestamp",
                        format!("'{column}' is neither unix seconds nor YYYY-MM-DD HH:MM:SS; ignored"),
                    )
                    .at(at(self.file, line).field(column)),
                ),
            }
        }
        None
    }

    pub(super) fn attachment_finding(&self, line: u64) -> Finding {
        Finding::warning(
            "lastpass.attachment-not-exported",
            "the entry has attachments, which LastPass CSV exports never contain; they are not migrated",
        )
        .at(at(self.file, line).field("attachpresent"))
        .help("download the attachments from LastPass (lpass show --attach) and add them by hand")
    }

    pub(super) fn note_findings(&self, source_type: &str, problems: &[notes::NoteProblem], line: u64) -> Vec<Finding> {
        problems
            .iter()
            .map(|problem| match problem {
                notes::NoteProblem::UnknownType => Finding::info(
                    "lastpass.unknown-note-type",
                    format!(
                        "NoteType '{source_type}' is not a LastPass type vaultferry knows; its lines are kept as fields of a generic secret"
                    ),
                )
                .at(at(self.file, line).field("extra")),
                notes::NoteProblem::UnparsedDate { label } => Finding::warning(
                    "lastpass.note-date-unparsed",
                    format!("'{label}' is not a LastPass date (Month,Day,Year or Month,Year); kept as text"),
                )
                .at(at(self.file, line).field(format!("extra: {label}"))),
            })
            .collect()
    }
}
