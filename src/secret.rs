//! The one type every secret value lives in.
//!
//! Passwords, TOTP seeds, concealed fields, card numbers, keys and attachment
//! bytes all end up here so that a single place decides how they may leave
//! the process: `Debug` and `Display` print `[redacted]`, serde writes
//! `"[redacted]"`, and only code running inside [`reveal`] (what `--reveal`
//! calls) serializes the real value. The bytes are zeroed when dropped.

use std::cell::Cell;
use std::fmt;

use serde::{Serialize, Serializer};
use zeroize::{Zeroize, Zeroizing};

/// What every secret prints as.
pub const REDACTED: &str = "[redacted]";

thread_local! {
    static REVEAL: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with secrets serialized as their real values on this thread.
///
/// This is the explicit reveal path: nothing else makes serde write a secret.
/// It is scoped (and restored even if `f` panics) so a forgotten flag can
/// never leak values into a later report.
pub fn reveal<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            REVEAL.with(|r| r.set(self.0));
        }
    }
    let _restore = Restore(REVEAL.with(|r| r.replace(true)));
    f()
}

pub(crate) fn revealing() -> bool {
    REVEAL.with(|r| r.get())
}

/// A secret value: text (passwords, seeds, keys) or bytes (attachments).
///
/// Held as bytes so one type serves both; text secrets are valid UTF-8 by
/// construction through [`Secret::text`].
#[derive(Clone, Default)]
pub struct Secret {
    bytes: Zeroizing<Vec<u8>>,
    is_text: bool,
}

impl Secret {
    /// A text secret. The `String` is moved in, not copied, so no stray copy
    /// of the value is left behind un-zeroed.
    pub fn text(value: impl Into<String>) -> Secret {
        let value: String = value.into();
        Secret {
            bytes: Zeroizing::new(value.into_bytes()),
            is_text: true,
        }
    }

    /// An empty text secret: what a value left out of a list stands as.
    pub fn default_text() -> Secret {
        Secret::text(String::new())
    }

    /// A binary secret, such as an attachment's content.
    pub fn bytes(value: Vec<u8>) -> Secret {
        Secret {
            bytes: Zeroizing::new(value),
            is_text: false,
        }
    }

    /// The value as text, for code that must use it (writing to the
    /// workspace, hashing for the diff). Never pass it to a formatter.
    pub fn expose(&self) -> &str {
        // Text secrets are built from `String`; binary ones are shown lossily
        // only where a caller insists on text (it never reaches output).
        std::str::from_utf8(&self.bytes).unwrap_or("")
    }

    pub fn expose_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn is_text(&self) -> bool {
        self.is_text
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Rewrites the value in place (HTML-entity decoding) without leaving the
    /// old value in freed memory.
    pub fn map_text(&mut self, f: impl FnOnce(&str) -> String) {
        let new = f(self.expose());
        let mut old = std::mem::replace(&mut self.bytes, Zeroizing::new(new.into_bytes()));
        old.zeroize();
    }
}

/// Zeroes every secret value a structure holds, in place.
///
/// For the end of a command: a million-entry vault or changeset takes
/// seconds to free one allocation at a time, for memory the process hands
/// back anyway when it exits. [`release_at_exit`] wipes the secrets (what
/// zeroize-on-drop would have done) and skips the freeing.
pub trait Wipe {
    fn wipe(&mut self);
}

impl Wipe for Secret {
    fn wipe(&mut self) {
        self.bytes.zeroize();
    }
}

impl<T: Wipe> Wipe for Option<T> {
    fn wipe(&mut self) {
        if let Some(v) = self {
            v.wipe();
        }
    }
}

impl<T: Wipe> Wipe for Vec<T> {
    fn wipe(&mut self) {
        for v in self {
            v.wipe();
        }
    }
}

/// Zeroes the secrets in `value` and leaves its memory to the process's
/// exit. Only for values a command holds until it returns.
pub fn release_at_exit<T: Wipe>(mut value: T) {
    value.wipe();
    std::mem::forget(value);
}

impl PartialEq for Secret {
    /// Constant time in the contents (length is not secret here): a diff that
    /// compares passwords must not become a timing oracle in the server.
    fn eq(&self, other: &Secret) -> bool {
        if self.bytes.len() != other.bytes.len() || self.is_text != other.is_text {
            return false;
        }
        let diff = self
            .bytes
            .iter()
            .zip(other.bytes.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !revealing() {
            return serializer.serialize_str(REDACTED);
        }
        if self.is_text {
            serializer.serialize_str(self.expose())
        } else {
            use base64::Engine as _;
            let encoded = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*self.bytes));
            serializer.serialize_str(&encoded)
        }
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret::text(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret::text(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_display_and_json_are_redacted() {
        let s = Secret::text("hunter2-marker");
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(format!("{s}"), REDACTED);
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
        let nested = format!("{:?}", Some(vec![s.clone()]));
        assert!(!nested.contains("hunter2"), "{nested}");
    }

    #[test]
    fn reveal_serializes_the_value_and_is_scoped() {
        let s = Secret::text("hunter2");
        let shown = reveal(|| serde_json::to_string(&s).unwrap());
        assert_eq!(shown, "\"hunter2\"");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
    }

    #[test]
    fn reveal_is_restored_after_a_panic() {
        let _ = std::panic::catch_unwind(|| reveal(|| panic!("boom")));
        assert_eq!(serde_json::to_string(&Secret::text("x")).unwrap(), "\"[redacted]\"");
    }

    #[test]
    fn binary_secrets_reveal_as_base64() {
        let s = Secret::bytes(vec![0, 1, 2, 255]);
        assert_eq!(reveal(|| serde_json::to_string(&s).unwrap()), "\"AAEC/w==\"");
    }

    #[test]
    fn equality_compares_contents() {
        assert_eq!(Secret::text("abc"), Secret::text("abc"));
        assert_ne!(Secret::text("abc"), Secret::text("abd"));
        assert_ne!(Secret::text("abc"), Secret::text("abcd"));
    }

    #[test]
    fn map_text_replaces_the_value() {
        let mut s = Secret::text("a&amp;b");
        s.map_text(|v| v.replace("&amp;", "&"));
        assert_eq!(s.expose(), "a&b");
    }
}
