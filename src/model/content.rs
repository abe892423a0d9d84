//! Where an attachment's bytes are when they are not held in memory.
//!
//! A 1PUX with gigabytes of documents cannot be read into memory, so its
//! attachments are read once through SHA-256 (the plan keeps their size and
//! digest) and read again, in bounded pieces, by whoever writes them: the
//! store, or the request to the HTTP target. The second read is checked
//! against the first, so an archive changed in between is refused, never
//! stored half old and half new.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// A place the bytes of one attachment can be read from again.
pub trait ContentSource: Send + Sync {
    /// Copies the bytes into `out`, returning how many.
    fn write_to(&self, out: &mut dyn Write) -> io::Result<u64>;
    /// Names the place (an archive member, a file), never the content.
    fn describe(&self) -> String;
}

/// A shared handle on a [`ContentSource`]; two are equal when they name the
/// same place.
#[derive(Clone)]
pub struct ContentOrigin(Arc<dyn ContentSource>);

impl ContentOrigin {
    pub fn new(source: impl ContentSource + 'static) -> ContentOrigin {
        ContentOrigin(Arc::new(source))
    }

    /// Copies the bytes into `out`, failing if they are not the `size`
    /// bytes of digest `digest` that were read the first time.
    pub fn copy_checked(&self, out: &mut dyn Write, size: u64, digest: &[u8; 32]) -> io::Result<()> {
        let mut checked = Checked {
            out,
            left: size,
            digest: Sha256::new(),
        };
        self.0.write_to(&mut checked)?;
        let Checked { left, digest: got, .. } = checked;
        if left != 0 || got.finalize().as_slice() != digest.as_slice() {
            return Err(io::Error::other(format!(
                "{} is not what it was when the export was read (changed since?)",
                self.0.describe()
            )));
        }
        Ok(())
    }

    pub fn describe(&self) -> String {
        self.0.describe()
    }

    /// Copies the bytes into `out` unchecked (the generator's own noise).
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<u64> {
        self.0.write_to(out)
    }
}

/// A file on disk read again when it is written: an attachment of a
/// 1Password 7 export folder, or one uploaded to `serve`'s blob route.
pub struct FileContent {
    pub path: std::path::PathBuf,
    /// How the file is named to the user (never its content).
    pub shown: String,
}

impl ContentSource for FileContent {
    fn write_to(&self, out: &mut dyn Write) -> io::Result<u64> {
        io::copy(&mut std::fs::File::open(&self.path)?, out)
    }
    fn describe(&self) -> String {
        format!("'{}'", self.shown)
    }
}

impl PartialEq for ContentOrigin {
    fn eq(&self, other: &ContentOrigin) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.describe() == other.0.describe()
    }
}

impl Eq for ContentOrigin {}

impl fmt::Debug for ContentOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentOrigin({})", self.0.describe())
    }
}

/// Passes bytes on while counting and hashing them; more than expected is
/// an error before it is written (a store blob has a fixed size).
struct Checked<'a> {
    out: &'a mut dyn Write,
    left: u64,
    digest: Sha256,
}

impl Write for Checked<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() as u64 > self.left {
            return Err(io::Error::other(
                "the attachment is longer than when the export was read",
            ));
        }
        let n = self.out.write(buf)?;
        let done = buf.get(..n).unwrap_or_default();
        self.digest.update(done);
        self.left -= n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Reads `reader` through SHA-256 in 64 KiB pieces: its size and digest,
/// without keeping it.
pub fn measure(reader: &mut dyn io::Read) -> io::Result<(u64, [u8; 32])> {
    let mut digest = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        digest.update(buf.get(..n).unwrap_or_default());
        size += n as u64;
    }
    Ok((size, digest.finalize().into()))
}
