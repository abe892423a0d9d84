//! `vaultferry verify`: the independent proof of a migration.
//!
//! It reads the export with the source readers and the workspace with its
//! own queries, and compares, per person, what the source let them open
//! with what the workspace lets them open now. It never calls the mapper:
//! a mapper bug would otherwise explain itself away. Every difference is
//! either expected (a rule of the mapping says so: [`expect::Rule`]) or
//! unexpected ([`What`]); values are compared by digest and never held or
//! shown.

mod compare;
pub mod digest;
pub mod expect;
pub mod holdings;
mod lastpass;
pub mod reach;
pub mod source;
pub mod store;

use serde::Serialize;

use crate::policy::{PersonalOwner, Policy};
use crate::workspace::Role;

pub use holdings::Holdings;
pub use source::Source;

/// An unexpected difference: what the migration got wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum What {
    /// Someone reaches an item the source never let them open.
    GainedItem,
    /// Someone the source let open an item cannot reach it.
    LostItem,
    /// Someone holds a role above what the source gave them.
    RoleAbove,
    /// Someone holds a role below what the rules give for their source right.
    RoleBelow,
    /// An entry of the export has no item in the workspace.
    ItemMissing,
    /// An item lacks a value its entry holds (compared by digest).
    ValueNotCarried,
}

impl What {
    pub fn code(self) -> &'static str {
        match self {
            What::GainedItem => "gained-item",
            What::LostItem => "lost-item",
            What::RoleAbove => "role-above-source",
            What::RoleBelow => "role-below-source",
            What::ItemMissing => "item-missing",
            What::ValueNotCarried => "value-not-carried",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            What::GainedItem => "reaches an item the source never let them open",
            What::LostItem => "cannot reach an item the source let them open",
            What::RoleAbove => "holds a role above what the source gave them",
            What::RoleBelow => "holds a role below what the rules give for their source right",
            What::ItemMissing => "the entry has no item in the workspace",
            What::ValueNotCarried => "a value of the entry is not in the item",
        }
    }
}

impl Serialize for What {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// One unexpected difference. Names, ids and roles only: never a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub what: What,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// The entry's title.
    pub item: String,
    pub source_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The source's right ("admin", "read-only, hide passwords"), if any.
    pub source_right: Option<String>,
    /// The workspace role, if any.
    pub workspace_role: Option<String>,
    pub detail: String,
}

/// Expected differences, counted by rule, person and roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expected {
    pub rule: &'static str,
    pub why: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    pub source_right: Option<String>,
    pub workspace_role: Option<String>,
    pub items: usize,
}

/// The result of a check.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub workspace: String,
    pub export: String,
    /// People compared: everyone the source names on an item and everyone
    /// the workspace lets reach one.
    pub people: usize,
    /// Entries the workspace should hold (the export's, less the skipped).
    pub items: usize,
    /// Entries the policy leaves out (archived, skipped folders).
    pub skipped: usize,
    pub unexpected: Vec<Difference>,
    pub expected: Vec<Expected>,
}

impl Outcome {
    pub fn holds(&self) -> bool {
        self.unexpected.is_empty()
    }

    /// `verified: 41 people, 34 items — 0 unexpected differences`.
    pub fn one_line(&self) -> String {
        let n = self.unexpected.len();
        format!(
            "verified: {} people, {} items — {n} unexpected difference{}",
            self.people,
            self.items,
            if n == 1 { "" } else { "s" }
        )
    }
}

/// Why a check cannot run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct VerifyError(pub String);

/// Who is expected to own the export's personal items: the person whose
/// export it is (`--owner`, else what the export names: a 1PUX's account)
/// when they are an active member who may own items; else the policy's
/// owner of personal items, or the importer (`--as`, else the workspace
/// owner).
pub fn export_owner(
    h: &Holdings,
    policy: &Policy,
    importer: Option<&str>,
    named: Option<&str>,
) -> Result<String, VerifyError> {
    if let Some(named) = named.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()) {
        let may_own = h.members.iter().any(|m| {
            m.email == named
                && m.state == crate::workspace::MemberState::Active
                && !matches!(m.role, Role::Guest | Role::LoginOnly)
        });
        if may_own {
            return Ok(named);
        }
    }
    if let PersonalOwner::Member(email) = &policy.personal_items_owner {
        return Ok(email.trim().to_lowercase());
    }
    match importer {
        Some(email) => Ok(email.trim().to_lowercase()),
        None => h
            .members
            .iter()
            .find(|m| m.role == Role::Owner)
            .map(|m| m.email.clone())
            .ok_or_else(|| VerifyError("the workspace has no owner; name the importer with --as EMAIL".into())),
    }
}

/// Compares the export with the workspace. `owner` is the export's person
/// ([`export_owner`]).
pub fn check(source: &Source, holdings: &Holdings, policy: &Policy, owner: &str) -> Outcome {
    compare::run(source, holdings, policy, owner)
}

/// Where the workspace is read from.
#[derive(Clone, Debug)]
pub enum Store {
    /// The SQLite file, read with the checker's own queries, opened with
    /// the workspace key found at `key`.
    Sqlite {
        path: std::path::PathBuf,
        key: crate::workspace::key::KeyLocation,
    },
    /// A `vaultferry serve`, read through its API.
    Http { url: String, api_key: String },
}

/// Everything a check reads: built by the CLI from flags (and by
/// `migrate` from its own).
#[derive(Clone, Debug)]
pub struct Input {
    pub export: std::path::PathBuf,
    pub sharing: Option<std::path::PathBuf>,
    pub options: crate::sources::ParseOptions,
    pub policy: Policy,
    pub store: Store,
    /// `--as`: the importer.
    pub importer: Option<String>,
    /// `--owner`: whose export it is, where the export does not say.
    pub owner: Option<String>,
}

/// Reads the workspace and the export and compares them. The store is
/// read on a thread of its own while the export is read and digested.
pub fn run(input: &Input) -> Result<Outcome, crate::Error> {
    let mut options = input.options.clone();
    options.decode_html_entities |= input.policy.decode_html_entities;
    let (holdings, source) = std::thread::scope(|scope| {
        let holdings = scope.spawn(|| read_store(&input.store));
        let source = source::read(&input.export, input.sharing.as_deref(), &options);
        (holdings.join(), source)
    });
    let holdings = holdings.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    compare_with(input, &source?, &holdings)
}

/// [`run`] with the export already read and digested: `migrate`'s own
/// check takes the digests its import pipeline made of each entry as the
/// readers gave it, before the mapper saw it ([`Source::of`]), so only
/// the store is read here. What is proved is the same: the readers' entries
/// against the store, read with this module's own queries after the run.
pub fn run_with_source(input: &Input, source: &Source) -> Result<Outcome, crate::Error> {
    let holdings = read_store(&input.store)?;
    compare_with(input, source, &holdings)
}

fn compare_with(input: &Input, source: &Source, holdings: &Holdings) -> Result<Outcome, crate::Error> {
    let mut options = input.options.clone();
    options.decode_html_entities |= input.policy.decode_html_entities;
    let named = input
        .owner
        .clone()
        .or_else(|| crate::sources::export_owner(&input.export, &options));
    let owner = export_owner(holdings, &input.policy, input.importer.as_deref(), named.as_deref())
        .map_err(|e| crate::Error::Usage(e.0))?;
    Ok(check(source, holdings, &input.policy, &owner))
}

fn read_store(store: &Store) -> Result<Holdings, crate::Error> {
    Ok(match store {
        Store::Sqlite { path, key } => store::read(path, key)?,
        Store::Http { url, api_key } => {
            use crate::workspace::Workspace as _;
            let ws = crate::workspace::http::HttpWorkspace::new(url, api_key)?;
            let snapshot = ws.snapshot()?;
            let h = Holdings::from_snapshot(&snapshot);
            crate::secret::release_at_exit(snapshot);
            h
        }
    })
}
