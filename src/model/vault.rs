use serde::Serialize;

use super::{Entry, Finding, Share};

/// Which export a `Vault` was read from. Part of every import key, so the
/// same id in two formats never collides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    LastpassCsv,
    Onepassword1pux,
    Onepassword1pif,
    OnepasswordCsv,
    /// FIDO Credential Exchange Format 1.0 (`formats/cxf.md`).
    Cxf,
}

impl SourceKind {
    /// The name used by `--from` and in import keys.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::LastpassCsv => "lastpass-csv",
            SourceKind::Onepassword1pux => "1pux",
            SourceKind::Onepassword1pif => "1pif",
            SourceKind::OnepasswordCsv => "1password-csv",
            SourceKind::Cxf => "cxf",
        }
    }

    /// The format as a person calls it, for reports and the terminal.
    pub fn display_name(self) -> &'static str {
        match self {
            SourceKind::LastpassCsv => "LastPass CSV",
            SourceKind::Onepassword1pux => "1Password 1PUX",
            SourceKind::Onepassword1pif => "1Password 1PIF",
            SourceKind::OnepasswordCsv => "1Password CSV",
            SourceKind::Cxf => "CXF",
        }
    }

    /// The vendor, for import keys: a LastPass entry keeps its key whatever
    /// LastPass format it was read from next time.
    pub fn vendor(self) -> &'static str {
        match self {
            SourceKind::LastpassCsv => "lastpass",
            SourceKind::Cxf => "cxf",
            _ => "1password",
        }
    }
}

/// One export, normalized.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Vault {
    pub source: SourceKind,
    /// The export file as the user named it, for messages and reports.
    pub file: String,
    pub folders: Vec<Folder>,
    pub entries: Vec<Entry>,
    pub shares: Vec<Share>,
    pub findings: Vec<Finding>,
    /// Source records that did not become an entry (broken rows, refused
    /// archive members), each also named by a finding. Kept as a count so the
    /// report's reconciliation (source records = entries + skipped) can be
    /// checked without re-reading the file.
    pub skipped_records: usize,
    /// Whose export this is, when the file says (a 1PUX names its
    /// account's email): their personal folders are keyed by it
    /// (`formats/plan.md`, "Whose personal folder").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The sharing file read into it (`--sharing`), if any: an export never
    /// says who had access to its shared folders, so without one the
    /// mapper warns that nobody will (`mapper.sharing-not-given`). Not part
    /// of the normalized vault's JSON: the shares themselves are.
    #[serde(skip)]
    pub sharing_file: Option<String>,
}

impl Vault {
    pub fn new(source: SourceKind, file: impl Into<String>) -> Vault {
        Vault {
            source,
            file: file.into(),
            folders: Vec::new(),
            entries: Vec::new(),
            shares: Vec::new(),
            findings: Vec::new(),
            skipped_records: 0,
            owner: None,
            sharing_file: None,
        }
    }

    /// Adds a folder and all of its ancestors, once each, keeping the order
    /// in which they were first seen (parents before children).
    pub fn ensure_folder(&mut self, path: &[String], shared: bool) {
        for depth in 1..=path.len() {
            let prefix = &path[..depth];
            match self.folders.iter_mut().find(|f| f.path == prefix) {
                Some(existing) => {
                    if depth == path.len() && shared {
                        existing.shared = true;
                    }
                }
                None => self.folders.push(Folder {
                    path: prefix.to_vec(),
                    shared: shared && depth == path.len(),
                    source_id: None,
                    description: None,
                }),
            }
        }
    }

    pub fn folder(&self, path: &[String]) -> Option<&Folder> {
        self.folders.iter().find(|f| f.path == path)
    }
}

/// A folder, a LastPass shared folder or a 1Password vault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Folder {
    /// Path from the root, one element per level; never empty.
    pub path: Vec<String>,
    /// A LastPass shared folder or a 1Password vault shared with others:
    /// sharing data may attach to it.
    pub shared: bool,
    /// The source's id (1Password vault or folder uuid, LastPass shared
    /// folder id), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl crate::secret::Wipe for Vault {
    fn wipe(&mut self) {
        self.entries.wipe();
    }
}
