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
    pub collection: Option<std::borrow::Cow<'a, str>>,
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
            content: a.sha256().map(hex::encode),
            source_id: a.source_id.as_deref(),
        })
        .collect()
}

pub(crate) fn secret_str(s: Option<&Secret>) -> Option<&str> {
    s.map(Secret::expose)
}

impl<'a> Canon<'a> {
    /// The item without its secret values (password, one-time password,
    /// notes, concealed field values): what can be compared with an item
    /// a store sent without them.
    pub fn without_secrets(&self) -> Canon<'a> {
        Canon {
            kind: self.kind,
            collection: self.collection.clone(),
            name: self.name,
            url: self.url,
            urls: self.urls,
            username: self.username,
            password: None,
            totp: None,
            notes: None,
            fields: self
                .fields
                .iter()
                .map(|f| CanonField {
                    label: f.label,
                    value: if f.concealed { "" } else { f.value },
                    concealed: f.concealed,
                    kind: f.kind,
                    group: f.group,
                })
                .collect(),
            tags: self.tags,
            attachments: self
                .attachments
                .iter()
                .map(|a| CanonAttachment {
                    name: a.name,
                    size: a.size,
                    content: a.content.clone(),
                    source_id: a.source_id,
                })
                .collect(),
        }
    }
}

impl Canon<'_> {
    /// `sha256:` + hex of the canonical JSON. Serializing plain structs of
    /// strings cannot fail; if it ever did, the hash of nothing would make
    /// every item look changed (an update, never a silent skip).
    ///
    /// The JSON is written straight into the digest through a small
    /// buffer on the stack, never into a heap buffer: no copy of the
    /// revealed values is left in freed memory, and a million items cost no
    /// million allocations.
    pub fn hash(&self) -> String {
        let mut digest = Digest256::new();
        let digest = match secret::reveal(|| serde_json::to_writer(&mut digest, self)) {
            Ok(()) => digest.finish(),
            Err(_) => Digest256::new().finish(),
        };
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = String::with_capacity(7 + 64);
        text.push_str("sha256:");
        for b in digest {
            text.push(char::from(HEX[usize::from(b >> 4)]));
            text.push(char::from(HEX[usize::from(b & 15)]));
        }
        text
    }
}

/// Feeds written bytes to SHA-256 a buffer at a time: serde_json writes a
/// token per call, and a digest update per token cost more than the
/// hashing. The buffer holds revealed values, so it is zeroed when the
/// digest is finished or dropped.
struct Digest256 {
    sha: Sha256,
    buf: [u8; 512],
    len: usize,
}

impl Digest256 {
    fn new() -> Digest256 {
        Digest256 {
            sha: Sha256::new(),
            buf: [0; 512],
            len: 0,
        }
    }

    fn drain(&mut self) {
        self.sha.update(&self.buf[..self.len]);
        self.len = 0;
    }

    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        match self.buf.get_mut(self.len..self.len + bytes.len()) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            None => self.put_past_end(bytes),
        }
    }

    #[cold]
    #[inline(never)]
    fn put_past_end(&mut self, bytes: &[u8]) {
        self.drain();
        if bytes.len() >= self.buf.len() {
            self.sha.update(bytes);
        } else {
            self.buf[..bytes.len()].copy_from_slice(bytes);
            self.len = bytes.len();
        }
    }

    fn finish(mut self) -> [u8; 32] {
        self.drain();
        std::mem::take(&mut self.sha).finalize().into()
    }
}

impl Drop for Digest256 {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.buf);
    }
}

/// Inlined into serde_json's writer: most writes are a token of a byte
/// or two (`"`, `:`, `,`), which then cost a store, not two calls.
impl std::io::Write for Digest256 {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.put(bytes);
        Ok(bytes.len())
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.put(bytes);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash is the SHA-256 of the canonical JSON, however the writes
    /// fall across the buffer: a stored `imported_hash` must keep matching.
    #[test]
    fn the_hash_is_sha256_of_the_canonical_json_at_any_length() {
        for n in [0, 1, 100, 511, 512, 513, 5000] {
            let notes = "n".repeat(n);
            let urls = vec!["https://a.example".to_owned(); n % 7];
            let canon = Canon {
                kind: "account",
                collection: Some("collection:lastpass:Ops".into()),
                name: "Mail",
                url: Some("https://mail.example"),
                urls: &urls,
                username: Some("sam"),
                password: Some("Pw-1"),
                totp: None,
                notes: Some(&notes),
                fields: Vec::new(),
                tags: &[],
                attachments: Vec::new(),
            };
            let json = serde_json::to_vec(&canon).unwrap();
            let want = format!("sha256:{}", hex::encode(Sha256::digest(&json)));
            assert_eq!(canon.hash(), want, "notes of {n} bytes");
        }
    }
}
