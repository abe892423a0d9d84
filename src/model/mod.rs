//! The normalized vocabulary every source produces and every later stage reads.
//!
//! It is deliberately independent of any export format and of the workspace's
//! storage: a format quirk stops at `sources/`, a workspace rule starts at
//! `mapper/`. `inspect --json` prints these types; their serialized keys are
//! a public format documented in `formats/normalized.md`, so renames here are
//! breaking changes.

pub mod address;
mod content;
mod entry;
mod finding;
mod folder_path;
mod share;
mod vault;

pub use content::{measure, ContentOrigin, ContentSource, FileContent};
pub use entry::{Attachment, Entry, EntryKind, Field, FieldKind, FieldValue, PasswordChange, Timestamp};
pub use finding::{Finding, Position, Severity};
pub use folder_path::FolderPath;
pub use share::{Access, EntryRef, Principal, Share, ShareStatus};
pub use vault::{Folder, SourceKind, Vault};
