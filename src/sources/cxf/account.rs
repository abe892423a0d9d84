//! One CXF account: its collections become folders (placing the items they
//! link), then its items become entries.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{credentials, ids, record, sharing, Lines};
use crate::model::{EntryRef, Finding, FolderPath, Position, Vault};
use crate::sources::{ParseOptions, Sink, SourceError};

/// What reads every account of one document.
pub(crate) struct Reader<'r> {
    pub file: &'r str,
    pub lines: &'r Lines<'r>,
    pub options: &'r ParseOptions,
    pub documents: Option<&'r Path>,
}

/// An account's keys, its collections and items still raw.
pub(crate) struct Account<'a> {
    line: u64,
    pub id: String,
    pub email: Option<String>,
    username: Option<String>,
    collections: Vec<&'a RawValue>,
    items: Vec<&'a RawValue>,
    pub extensions: Vec<Value>,
}

/// Who the accounts of the document are, for the accessors of `shared`.
#[derive(Default)]
pub(crate) struct Directory {
    /// Account id → email.
    pub emails: HashMap<String, String>,
    /// Group name → member emails (our `vaultferry-groups` extension).
    pub groups: HashMap<String, Vec<String>>,
}

impl Directory {
    pub(crate) fn of(accounts: &[Account<'_>]) -> Directory {
        let mut d = Directory::default();
        for acc in accounts {
            if let Some(email) = acc.email.as_ref().filter(|e| !e.trim().is_empty()) {
                d.emails.insert(acc.id.clone(), email.trim().to_owned());
            }
            for ext in &acc.extensions {
                if ext.get("name").and_then(Value::as_str) != Some(sharing::GROUPS_EXTENSION) {
                    continue;
                }
                for group in ext.get("groups").and_then(Value::as_array).into_iter().flatten() {
                    let Some(name) = group.get("name").and_then(Value::as_str) else {
                        continue;
                    };
                    let members = group.get("members").and_then(Value::as_array).into_iter().flatten();
                    d.groups
                        .entry(name.to_owned())
                        .or_default()
                        .extend(members.filter_map(Value::as_str).map(str::to_owned));
                }
            }
        }
        d
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CollectionDoc<'a> {
    id: Option<String>,
    title: Option<String>,
    subtitle: Option<String>,
    creation_at: Option<Value>,
    modified_at: Option<Value>,
    #[serde(default)]
    items: Vec<LinkDoc>,
    #[serde(default, borrow)]
    sub_collections: Vec<&'a RawValue>,
    #[serde(default)]
    extensions: Vec<Value>,
}

#[derive(Deserialize)]
struct LinkDoc {
    item: String,
}

/// What walking one account's collections gathers.
struct Walk<'w> {
    directory: &'w Directory,
    /// The exporting account's email: CXF exports a shared entity only to
    /// its owners and admins, so the exporter administers every shared
    /// collection of its own export.
    exporter: Option<&'w str>,
    placed: HashMap<String, Placement>,
    placed_paths: HashMap<String, Vec<String>>,
}

/// Where a linked item goes.
struct Placement {
    folder: FolderPath,
    shared: bool,
}

impl Reader<'_> {
    pub(crate) fn parse<'a>(&self, raw: &'a RawValue) -> Result<Account<'a>, SourceError> {
        let line = self.lines.line_of(raw.get());
        let map: super::Keys<'a> = serde_json::from_str(raw.get()).map_err(|e| {
            SourceError::malformed(
                Position::file(self.file).line(line + e.line() as u64 - 1),
                format!(
                    "an account {}; expected an object with id, username, email, collections and items",
                    super::problem(&e)
                ),
            )
        })?;
        self.parse_map(map, line)
    }

    pub(crate) fn parse_map<'a>(&self, map: super::Keys<'a>, line: u64) -> Result<Account<'a>, SourceError> {
        let at = |key: &str| {
            let l = map.get(key).map_or(line, |raw| self.lines.line_of(raw.get()));
            Position::file(self.file).line(l).field(key)
        };
        let string = |key: &str| -> Option<String> {
            map.get(key)
                .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
        };
        let id = string("id").unwrap_or_default();
        if ids::decode_b64url(&id).is_none() {
            return Err(SourceError::malformed(
                at("id"),
                if id.is_empty() {
                    "the account has no 'id'; expected a base64url id".to_owned()
                } else {
                    format!("the account 'id' '{id}' is not base64url; expected A–Z a–z 0–9 - _")
                },
            ));
        }
        let email = string("email");
        let username = string("username");
        let extensions = map
            .get("extensions")
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .unwrap_or_default();
        Ok(Account {
            line,
            email,
            username,
            collections: map.collections,
            items: map.items,
            extensions,
            id,
        })
    }

    /// Reads one account's collections and items into the vault.
    pub(crate) fn read(
        &self,
        acc: &Account<'_>,
        several: bool,
        directory: &Directory,
        vault: &mut Vault,
        sink: &mut Sink<'_>,
    ) -> Result<(), SourceError> {
        let email = acc.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
        if vault.owner.is_none() {
            vault.owner = email.map(str::to_owned);
        }
        for ext in &acc.extensions {
            let name = ext.get("name").and_then(Value::as_str).unwrap_or("");
            if name != sharing::GROUPS_EXTENSION {
                vault.findings.push(
                    Finding::info(
                        "cxf.unknown-extension",
                        format!("the account has extension '{name}', which this version does not read; it is left out"),
                    )
                    .at(Position::file(self.file).line(acc.line).field("extensions")),
                );
            }
        }
        let prefix: Vec<String> = if several {
            let name = email.or(acc.username.as_deref()).unwrap_or(&acc.id);
            vec![name.to_owned()]
        } else {
            Vec::new()
        };
        let mut walk = Walk {
            directory,
            exporter: email,
            placed: HashMap::new(),
            placed_paths: HashMap::new(),
        };
        for raw in &acc.collections {
            self.collection(raw, &prefix, false, &mut walk, vault, 0)?;
        }
        let Walk {
            placed, placed_paths, ..
        } = walk;
        let root = FolderPath::from(prefix.clone());
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        for raw in &acc.items {
            let line = self.lines.line_of(raw.get());
            let input = credentials::ItemInput {
                file: self.file,
                line,
                options: self.options,
                documents: self.documents,
            };
            let value: Value = match serde_json::from_str(raw.get()) {
                Ok(v) => v,
                Err(e) => {
                    vault.skipped_records += 1;
                    record(
                        vault,
                        Finding::error(
                            "cxf.bad-item",
                            format!(
                                "an item {}; expected a CXF item object; it is skipped",
                                super::problem(&e)
                            ),
                        )
                        .at(Position::file(self.file).line(line)),
                        self.options,
                    )?;
                    continue;
                }
            };
            let mut shared = Vec::new();
            let Some(mut entry) = credentials::entry(value, &input, vault, &mut shared)? else {
                continue;
            };
            seen.insert(entry.source_id.clone());
            match placed.get(&entry.source_id) {
                Some(p) => {
                    entry.folder = p.folder.clone();
                    entry.in_shared_vault = p.shared;
                }
                None => entry.folder = root.clone(),
            }
            for ext in &shared {
                let item = EntryRef {
                    source_id: entry.source_id.clone(),
                    title: entry.title.clone(),
                    folder: entry.folder.to_vec(),
                };
                let at = Position::file(self.file).line(line).field("extensions");
                sharing::item_shares(ext, &item, directory, at, vault, self.options)?;
            }
            if let Some(entry) = sink.give(entry) {
                vault.entries.push(entry);
            }
        }
        let mut missing: Vec<&String> = placed.keys().filter(|id| !seen.contains(*id)).collect();
        missing.sort();
        for id in missing {
            let path = placed_paths.get(id).map(|p| p.join("/")).unwrap_or_default();
            vault.findings.push(
                Finding::warning(
                    "cxf.linked-item-missing",
                    format!(
                        "collection '{path}' links item '{id}', which the account does not hold (or which was skipped)"
                    ),
                )
                .at(Position::file(self.file).line(acc.line).field("collections")),
            );
        }
        Ok(())
    }

    fn collection(
        &self,
        raw: &RawValue,
        parent: &[String],
        parent_shared: bool,
        walk: &mut Walk<'_>,
        vault: &mut Vault,
        depth: usize,
    ) -> Result<(), SourceError> {
        let line = self.lines.line_of(raw.get());
        let at = |field: &str| Position::file(self.file).line(line).field(field);
        let doc: CollectionDoc<'_> = match serde_json::from_str(raw.get()) {
            Ok(doc) => doc,
            Err(e) => {
                return record(
                    vault,
                    Finding::error(
                        "cxf.bad-collection",
                        format!(
                            "a collection {}; expected title, items and subCollections; it and its items' placement are skipped",
                            super::problem(&e)
                        ),
                    )
                    .at(Position::file(self.file).line(line)),
                    self.options,
                );
            }
        };
        if depth > 64 {
            return record(
                vault,
                Finding::error(
                    "cxf.collections-too-deep",
                    "collections nest more than 64 deep; the deeper ones are skipped",
                )
                .at(at("subCollections")),
                self.options,
            );
        }
        let title = match doc.title.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => t.to_owned(),
            _ => {
                vault.findings.push(
                    Finding::info(
                        "cxf.collection-untitled",
                        "a collection has no title; it is named '(untitled)'",
                    )
                    .at(at("title")),
                );
                "(untitled)".to_owned()
            }
        };
        let mut path = parent.to_vec();
        path.push(title);
        let shares_here = doc
            .extensions
            .iter()
            .any(|e| e.get("name").and_then(Value::as_str) == Some(sharing::SHARED_EXTENSION));
        let shared = parent_shared || shares_here;
        vault.ensure_folder(&path, shares_here);
        let id = doc.id.filter(|id| {
            let ok = ids::decode_b64url(id).is_some();
            if !ok {
                vault.findings.push(
                    Finding::warning(
                        "cxf.bad-id",
                        format!(
                            "collection '{}' has id '{id}', which is not base64url; the folder is kept without it",
                            path.join("/")
                        ),
                    )
                    .at(at("id")),
                );
            }
            ok
        });
        if let Some(folder) = vault.folders.iter_mut().find(|f| f.path == path) {
            folder.source_id = folder.source_id.take().or(id);
            folder.description = folder.description.take().or(doc.subtitle.filter(|s| !s.is_empty()));
        }
        for (key, v) in [("creationAt", &doc.creation_at), ("modifiedAt", &doc.modified_at)] {
            if let Some(v) = v {
                if ids::timestamp(v).is_err() {
                    record(vault, super::bad_timestamp(at(key)), self.options)?;
                }
            }
        }
        for ext in &doc.extensions {
            let name = ext.get("name").and_then(Value::as_str).unwrap_or("");
            if name == sharing::SHARED_EXTENSION {
                sharing::folder_shares(
                    ext,
                    &path,
                    walk.directory,
                    walk.exporter,
                    at("extensions"),
                    vault,
                    self.options,
                )?;
            } else {
                vault.findings.push(
                    Finding::info(
                        "cxf.unknown-extension",
                        format!(
                            "collection '{}' has extension '{name}', which this version does not read; it is left out",
                            path.join("/")
                        ),
                    )
                    .at(at("extensions")),
                );
            }
        }
        let folder = FolderPath::from(path.clone());
        for link in doc.items {
            if let Some(first) = walk.placed_paths.get(&link.item) {
                vault.findings.push(
                    Finding::info(
                        "cxf.item-in-several-collections",
                        format!(
                            "item '{}' is linked from '{}' and from '{}'; it is placed once, in '{}'",
                            link.item,
                            first.join("/"),
                            path.join("/"),
                            first.join("/")
                        ),
                    )
                    .at(at("items"))
                    .help("share the other collection's people on the item, or move it, after the import"),
                );
                continue;
            }
            walk.placed_paths.insert(link.item.clone(), path.clone());
            walk.placed.insert(
                link.item,
                Placement {
                    folder: folder.clone(),
                    shared,
                },
            );
        }
        for sub in doc.sub_collections {
            self.collection(sub, &path, shared, walk, vault, depth + 1)?;
        }
        Ok(())
    }
}
