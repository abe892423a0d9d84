//! Values are compared by digest, so the checker holds no copy of a secret
//! beyond the moment it reads one, and a difference can be named (which
//! field) without ever being shown (what value).

use sha2::{Digest as _, Sha256};

/// The first 16 bytes of a value's SHA-256: 128 bits make an accidental
/// match of two different values of one item out of the question.
pub type Digest = [u8; 16];

pub fn of(bytes: &[u8]) -> Digest {
    let full = Sha256::digest(bytes);
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// An attachment is its name and its bytes together: a file renamed or
/// emptied is not the file that was exported. The bytes come as their
/// SHA-256, because a streamed attachment (1PUX documents of gigabytes) is
/// never held: the source side has the digest read as the archive was
/// read, the store side hashes the stored blob in pieces. `None` (LastPass
/// only flags that a file exists) digests the name alone.
pub fn attachment(name: &str, content: Option<&[u8; 32]>) -> Digest {
    let mut h = Sha256::new();
    h.update(b"attachment\0");
    h.update(name.as_bytes());
    h.update([0u8]);
    match content {
        Some(bytes) => {
            h.update([1u8]);
            h.update(bytes);
        }
        None => h.update([0u8]),
    }
    let full = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// The digests of what a workspace item holds, sorted so that "does it
/// hold this value, this many times" is a binary search.
#[derive(Clone, Debug, Default)]
pub struct Held(Vec<Digest>);

impl Held {
    pub fn new(mut digests: Vec<Digest>) -> Held {
        digests.sort_unstable();
        Held(digests)
    }

    /// How many times the item holds a value with this digest.
    pub fn count(&self, d: &Digest) -> usize {
        let start = self.0.partition_point(|x| x < d);
        self.0[start..].iter().take_while(|x| *x == d).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_values_are_counted_and_an_attachment_is_its_name_and_bytes() {
        let held = Held::new(vec![of(b"a"), of(b"b"), of(b"a")]);
        assert_eq!(held.count(&of(b"a")), 2);
        assert_eq!(held.count(&of(b"b")), 1);
        assert_eq!(held.count(&of(b"c")), 0);
        assert_ne!(attachment("x", Some(&[1; 32])), attachment("x", Some(&[2; 32])));
        assert_ne!(attachment("x", None), attachment("y", None));
        assert_ne!(attachment("x", Some(&[0; 32])), attachment("x", None));
    }
}
