//! `export.data` read as it unpacks: `accounts → vaults → items`, with the
//! items of a vault decoded a chunk at a time (in parallel) and handed on
//! in file order. The document is never a tree in memory: a 300k-item
//! export as one `serde_json::Value` was 1.9 GB.
//!
//! Two threads: one unpacks and scans the JSON ([`scan`]), cutting each
//! item out as raw text, and sends what it finds over a channel of a few
//! chunks; the calling thread ([`Reading`]) decodes each chunk on the pool
//! while the next is scanned. Scanning alone costs about what the floor
//! (`benches/onepassword_floor.rs`) does, so done in turn with decoding the
//! two added up; side by side the slower one sets the pace.

use std::fmt;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use rayon::prelude::*;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use zeroize::Zeroize;

use super::{decode_item, Files, VaultAttrs};
use crate::model::{Finding, Folder, Position, Vault};
use crate::sources::onepassword::{non_empty, record};
use crate::sources::{EntrySummary, ParseOptions, Sink, SourceError};

/// Items decoded together: enough to keep the pool busy, few enough that
/// a chunk's raw JSON stays a few megabytes.
const CHUNK: usize = 1024;

/// Chunks scanned ahead of the decoding.
const CHUNKS_AHEAD: usize = 2;

/// What the scan finds, in document order.
pub(super) enum Event {
    /// An account's `attrs.email`.
    Account(String),
    /// A vault begins (its `attrs`; default when it has none).
    Vault(VaultAttrs),
    /// Items of the current vault, as raw JSON.
    Items(Vec<Box<RawValue>>),
    EndVault,
}

/// A channel for [`scan`] and [`Reading::run`].
pub(super) fn channel() -> (SyncSender<Event>, Receiver<Event>) {
    sync_channel(CHUNKS_AHEAD)
}

/// The reader's state while the document streams.
pub(super) struct Reading<'r, 's> {
    pub(super) vault: Vault,
    files: &'r Files,
    file: &'r str,
    options: &'r ParseOptions,
    sink: Sink<'s>,
    /// The current vault's name, once its `attrs` are read.
    vault_name: Option<String>,
    /// The current vault is one others share (not of type `P`).
    vault_shared: bool,
    /// Emails of the accounts read so far, first to last.
    accounts: Vec<String>,
    /// Position in its vault of the next chunk's first item.
    next_index: usize,
}

impl<'r, 's> Reading<'r, 's> {
    pub(super) fn new(
        vault: Vault,
        files: &'r Files,
        file: &'r str,
        options: &'r ParseOptions,
        sink: Sink<'s>,
    ) -> Self {
        Reading {
            vault,
            files,
            file,
            options,
            sink,
            vault_name: None,
            vault_shared: false,
            accounts: Vec::new(),
            next_index: 0,
        }
    }

    /// Takes what the scan sends until it ends. An error (a `--strict`
    /// finding) returns at once; dropping `events` then stops the scan.
    pub(super) fn run(&mut self, events: Receiver<Event>) -> Result<(), SourceError> {
        for event in events {
            match event {
                Event::Account(email) => self.account(email)?,
                Event::Vault(attrs) => self.begin_vault(attrs),
                Event::Items(raws) => self.decode(raws)?,
                Event::EndVault => self.vault_name = None,
            }
        }
        Ok(())
    }

    fn begin_vault(&mut self, attrs: VaultAttrs) {
        let name = non_empty(&attrs.name).unwrap_or_else(|| format!("Vault {}", attrs.uuid));
        let path = vec![name.clone()];
        if !self.vault.folders.iter().any(|f| f.path == path) {
            self.vault.folders.push(Folder {
                path,
                shared: attrs.kind != "P",
                source_id: non_empty(&attrs.uuid),
                description: non_empty(&attrs.desc),
            });
        }
        self.vault_name = Some(name);
        self.vault_shared = attrs.kind != "P";
        self.next_index = 0;
    }

    /// An account's `attrs.email`: the first names whose export it is
    /// (its personal vaults are keyed by it). A second account's personal
    /// vaults keep their own name but are keyed as the first's, which the
    /// finding says.
    fn account(&mut self, email: String) -> Result<(), SourceError> {
        let email = email.trim().to_lowercase();
        if email.is_empty() || self.accounts.contains(&email) {
            return Ok(());
        }
        if let Some(first) = self.accounts.first() {
            let finding = Finding::warning(
                "onepassword.several-accounts",
                format!(
                    "export.data holds the accounts of {first} and {email}; the personal vaults of both are keyed as {first}'s, so two personal vaults of one name become one collection; export each account on its own to keep them apart"
                ),
            )
            .at(Position::file(self.file).field("export.data accounts"));
            record(&mut self.vault, finding, self.options)?;
        } else {
            self.vault.owner = Some(email.clone());
        }
        self.accounts.push(email);
        Ok(())
    }

    /// Decodes a chunk (items are independent; `collect` keeps their
    /// order) and hands its entries and findings on in file order. When
    /// only a summary is wanted, each entry is summarized and dropped on
    /// the pool too: freeing (and zeroing) a million entries one by one on
    /// this thread was a visible share of `inspect`.
    fn decode(&mut self, raws: Vec<Box<RawValue>>) -> Result<(), SourceError> {
        let base = self.next_index;
        self.next_index += raws.len();
        let name = self.vault_name.as_deref().unwrap_or_default();
        let (files, file, shared) = (self.files, self.file, self.vault_shared);
        let summarize = matches!(self.sink, Sink::Summary(_));
        let decoded: Vec<_> = raws
            .into_par_iter()
            .enumerate()
            .map(|(k, raw)| {
                let (entry, findings) = decode_item(raw.get(), base + k, name, files, file);
                // The raw text holds the item's secrets.
                let mut text: Box<str> = raw.into();
                text.zeroize();
                let entry = entry.map(|mut entry| {
                    entry.in_shared_vault = shared;
                    if summarize {
                        Decoded::Summary(EntrySummary::from(&entry))
                    } else {
                        Decoded::Entry(Box::new(entry))
                    }
                });
                (entry, findings)
            })
            .collect();
        for (entry, findings) in decoded {
            for finding in findings {
                record(&mut self.vault, finding, self.options)?;
            }
            match entry {
                Some(Decoded::Entry(entry)) => {
                    if let Some(entry) = self.sink.give(*entry) {
                        self.vault.entries.push(entry);
                    }
                }
                Some(Decoded::Summary(summary)) => {
                    if let Sink::Summary(each) = &mut self.sink {
                        each(summary);
                    }
                }
                None => self.vault.skipped_records += 1,
            }
        }
        Ok(())
    }
}

/// An item as the pool hands it back.
enum Decoded {
    /// Boxed: an entry is many times the size of a summary.
    Entry(Box<crate::model::Entry>),
    Summary(EntrySummary),
}

/// Scans the document from `json`, sending what it finds to `events`.
/// `Ok(false)` when the receiving side stopped first (its error is the one
/// to report).
/// `item_done` is called after each item is read (the reader's
/// per-item bound starts again).
pub(super) fn scan<'de, D>(json: D, events: SyncSender<Event>, item_done: &dyn Fn()) -> Result<bool, D::Error>
where
    D: de::Deserializer<'de>,
{
    let mut feed = Feed {
        events,
        chunk: Vec::with_capacity(CHUNK),
        stopped: false,
        item_done,
    };
    match Document(&mut feed).deserialize(json) {
        Ok(()) => Ok(true),
        Err(_) if feed.stopped => Ok(false),
        Err(e) => Err(e),
    }
}

/// The scanning side's state: the chunk being filled.
struct Feed<'m> {
    events: SyncSender<Event>,
    chunk: Vec<Box<RawValue>>,
    /// The receiving side is gone.
    stopped: bool,
    item_done: &'m dyn Fn(),
}

impl Feed<'_> {
    fn send<E: de::Error>(&mut self, event: Event) -> Result<(), E> {
        if self.events.send(event).is_err() {
            self.stopped = true;
            return Err(E::custom("the reading stopped"));
        }
        Ok(())
    }

    fn push<E: de::Error>(&mut self, raw: Box<RawValue>) -> Result<(), E> {
        self.chunk.push(raw);
        if self.chunk.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush<E: de::Error>(&mut self) -> Result<(), E> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
        self.send(Event::Items(chunk))
    }
}

/// `{"accounts": [...]}`; other keys are skipped.
struct Document<'a, 'm>(&'a mut Feed<'m>);

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the 1PUX document {\"accounts\": [...]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "accounts" {
                map.next_value_seed(Each(&mut *self.0, Level::Accounts))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Level {
    Accounts,
    Vaults,
}

/// A list of accounts or of vaults, each read as it comes.
struct Each<'a, 'm>(&'a mut Feed<'m>, Level);

impl<'de> DeserializeSeed<'de> for Each<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Each<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.1 {
            Level::Accounts => f.write_str("a list of accounts"),
            Level::Vaults => f.write_str("a list of vaults"),
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let more = match self.1 {
                Level::Accounts => seq.next_element_seed(Account(&mut *self.0))?,
                Level::Vaults => seq.next_element_seed(PuxVault(&mut *self.0))?,
            };
            if more.is_none() {
                return Ok(());
            }
        }
    }
}

/// An account's `attrs`; only whose account it is matters here.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct AccountAttrs {
    #[serde(deserialize_with = "crate::sources::onepassword::values::lenient_string")]
    email: String,
}

/// `{"attrs": …, "vaults": [...]}`.
struct Account<'a, 'm>(&'a mut Feed<'m>);

impl<'de> DeserializeSeed<'de> for Account<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Account<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an account {\"vaults\": [...]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "vaults" {
                map.next_value_seed(Each(&mut *self.0, Level::Vaults))?;
            } else if key == "attrs" {
                let attrs = map.next_value::<AccountAttrs>()?;
                self.0.send(Event::Account(attrs.email))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// `{"attrs": {...}, "items": [...]}`. Items are sent as they stream
/// when `attrs` comes first, as 1Password writes it; a vault that lists
/// its items first has them held until its name is known.
struct PuxVault<'a, 'm>(&'a mut Feed<'m>);

impl<'de> DeserializeSeed<'de> for PuxVault<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PuxVault<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a vault {\"attrs\": {...}, \"items\": [...]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let feed = self.0;
        let mut named = false;
        let mut held: Vec<Box<RawValue>> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "attrs" if !named => {
                    let attrs = map.next_value::<VaultAttrs>()?;
                    feed.send(Event::Vault(attrs))?;
                    named = true;
                    for raw in std::mem::take(&mut held) {
                        feed.push(raw)?;
                    }
                }
                "items" if named => map.next_value_seed(Items(&mut *feed))?,
                "items" => map.next_value_seed(Held(&mut held, feed.item_done))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !named {
            feed.send(Event::Vault(VaultAttrs::default()))?;
            for raw in held {
                feed.push(raw)?;
            }
        }
        feed.flush()?;
        feed.send(Event::EndVault)
    }
}

/// A vault's `items` that came before its `attrs`, kept until the vault
/// is named; each one restarts the reader's per-item bound like any item.
struct Held<'a, 'm>(&'a mut Vec<Box<RawValue>>, &'m dyn Fn());

impl<'de> DeserializeSeed<'de> for Held<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Held<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of items")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            (self.1)();
            self.0.push(raw);
        }
        Ok(())
    }
}

/// A vault's `items`, each kept as its raw JSON until its chunk is full.
struct Items<'a, 'm>(&'a mut Feed<'m>);

impl<'de> DeserializeSeed<'de> for Items<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of items")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            (self.0.item_done)();
            self.0.push(raw)?;
        }
        Ok(())
    }
}

/// The first account's `attrs.email`, read without the vaults: 1Password
/// writes an account's `attrs` before its `vaults`, so this stops a few
/// hundred bytes in. An account that lists its vaults first names nobody
/// here (reading on would cost a whole second pass); the full read still
/// finds the email.
pub(super) fn first_account_email<R: std::io::Read>(reader: R) -> Option<String> {
    let mut found = None;
    let mut json = serde_json::Deserializer::from_reader(reader);
    // Stopping is an error by design: the rest is never read.
    let _ = FirstEmail(&mut found, 0).deserialize(&mut json);
    found.filter(|e: &String| !e.is_empty())
}

/// Depth 0: the document; 1: the accounts; 2: the first account.
struct FirstEmail<'a>(&'a mut Option<String>, u8);

impl<'de> DeserializeSeed<'de> for FirstEmail<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.1 == 1 {
            d.deserialize_seq(self)
        } else {
            d.deserialize_map(self)
        }
    }
}

impl<'de> Visitor<'de> for FirstEmail<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the 1PUX document")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        seq.next_element_seed(FirstEmail(self.0, 2))?;
        Err(de::Error::custom("first account read"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match (self.1, key.as_str()) {
                (0, "accounts") => return map.next_value_seed(FirstEmail(self.0, 1)),
                (2, "attrs") => {
                    *self.0 = Some(map.next_value::<AccountAttrs>()?.email.trim().to_lowercase());
                    return Err(de::Error::custom("found"));
                }
                (2, "vaults") => return Err(de::Error::custom("vaults before attrs")),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}
