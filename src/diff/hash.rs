//! The canonical content of an account or secret, computed the same way
//! from a planned item and from the workspace's copy.
//!
//! The store keeps `imported_hash`, the hash of what the importer last
//! wrote; comparing it with the hash of the current workspace copy is how an
//! edit made in the workspace after the import is told apart from a change
//! in the source. The serialization reveals secrets (a changed password must
//! change the hash) but only into the digest: nothing here is ever printed.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{Attachment, Field};
use crate::secret::{self, Secret};

/// One field as hashed: everything the workspace shows of it.
#[derive(Serialize, PartialEq)]
pub(crate) struct CanonField<'a> {
    pub label: &'a str,
    pub value: &'a str,
    pub concealed: bool,
    pub kind: crate::model::FieldKind,
    pub group: Option<&'a str>,
}

/// An attachment as hashed: the bytes only through their digest.
#[derive(Serialize, PartialEq)]
pub(crate) struct CanonAttachment<'a> {
    pub name: &'a str,
    pub size: u64,
    pub content: Option<String>,
    pub source_id: Option<&'a str>,
}

/// An account's or secret's content. `collection` is the collection's
/// import key (or `id:N` for a collection the importer did not create), so
/// moving an item in the workspace counts as an edit.
#[derive(Serialize, PartialEq)]
pub(crate) struct Canon<'a> {
    pub kind: &'static str,
    pub collection: Option<String>,
    pub name: &'a str,
    pub url: Option<&'a str>,
    pub urls: &'a [String],
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
    pub totp: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub fields: Vec<CanonField<'a>>,
    pub tags: &'a [String],
    pub attachments: Vec<CanonAttachment<'a>>,
}

pub(crate) fn fields(fields: &[Field]) -> Vec<CanonField<'_>> {
    fields
        .iter()
        .map(|f| CanonField {
            label: &f.label,
            value: f.value.expose(),
            concealed: f.is_concealed(),
            kind: f.kind,
            group: f.group.as_deref(),
        })
        .collect()
}

pub(crate) fn attachments(files: &[Attachment]) -> Vec<CanonAttachment<'_>> {
    files
        .iter()
        .map(|a| CanonAttachment {
            name: &a.name,
            size: a.size,
            content: a
                .content
                .as_ref()
                .map(|c| hex::encode(Sha256::digest(c.expose_bytes()))),
            source_id: a.source_id.as_deref(),
        })
        .collect()
}

pub(crate) fn secret_str(s: Option<&Secret>) -> Option<&str> {
    s.map(Secret::expose)
}

impl Canon<'_> {
    /// `sha256:` + hex of the canonical JSON. Serializing plain structs of
    /// strings cannot fail; if it ever did, the hash of nothing would make
    /// every item look changed (an update, never a silent skip).
    ///
    /// The JSON is written straight into the digest, never into a buffer:
    /// no copy of the revealed values is left in freed memory, and a
    /// million items cost no million allocations.
    pub fn hash(&self) -> String {
        let mut digest = Digest256(Sha256::new());
        if secret::reveal(|| serde_json::to_writer(&mut digest, self)).is_err() {
            digest = Digest256(Sha256::new());
        }
        format!("sha256:{}", hex::encode(digest.0.finalize()))
    }
}

/// Feeds written bytes to SHA-256.
struct Digest256(Sha256);

impl std::io::Write for Digest256 {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
