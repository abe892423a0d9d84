//! An attachment's bytes as a request body read in bounded pieces, for
//! `PUT /api/v1/blobs/{sha256}` (see `server::blobs`).
//!
//! The bytes come from wherever the export keeps them ([`ContentOrigin`]:
//! an archive member, a file), and a source writes while an HTTP body
//! reads, so a thread writes them into a channel of at most
//! [`PIECES_IN_FLIGHT`] pieces of at most [`PIECE`] bytes that the body
//! drains. However large the attachment, the upload holds that much of it.
//! The copy is checked against the size and digest read the first time, so
//! bytes changed since are never sent as the ones the plan named.

use std::io::{self, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use zeroize::Zeroizing;

use crate::model::Attachment;

/// Bytes per piece handed from the source to the body.
pub const PIECE: usize = 64 * 1024;
/// Pieces waiting for the body at most.
pub const PIECES_IN_FLIGHT: usize = 4;

type Piece = io::Result<Zeroizing<Vec<u8>>>;

/// The body side: reads the pieces in order; an error of the source ends
/// the body with that error (the request then fails, and is retried with
/// a fresh copy).
pub struct Pieces {
    rx: Receiver<Piece>,
    current: Zeroizing<Vec<u8>>,
    at: usize,
}

/// Starts copying `a`'s bytes; `None` when it has none to send.
pub fn pieces(a: &Attachment) -> Option<Pieces> {
    let (tx, rx) = sync_channel::<Piece>(PIECES_IN_FLIGHT);
    if let Some(content) = &a.content {
        let content = content.clone();
        std::thread::spawn(move || {
            let mut out = Sender { tx: &tx };
            let result = out.write_all(content.expose_bytes());
            finish(&tx, result);
        });
    } else {
        let (origin, digest, size) = (a.origin.clone()?, a.digest?, a.size);
        std::thread::spawn(move || {
            let mut out = Sender { tx: &tx };
            let result = origin.copy_checked(&mut out, size, &digest);
            finish(&tx, result);
        });
    }
    Some(Pieces {
        rx,
        current: Zeroizing::new(Vec::new()),
        at: 0,
    })
}

/// Passes a failed copy on to the body (a finished one just closes the
/// channel). The body may be gone already: a failed request drops it.
fn finish(tx: &SyncSender<Piece>, result: io::Result<()>) {
    if let Err(e) = result {
        let _ = tx.send(Err(e));
    }
}

/// The source side: cuts what it is given into pieces of at most
/// [`PIECE`] bytes, blocking while [`PIECES_IN_FLIGHT`] wait unread.
struct Sender<'a> {
    tx: &'a SyncSender<Piece>,
}

impl Write for Sender<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(PIECE);
        let piece = Zeroizing::new(buf.get(..n).unwrap_or_default().to_vec());
        self.tx
            .send(Ok(piece))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload was abandoned"))?;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.current.len() {
            match self.rx.recv() {
                Ok(Ok(piece)) => {
                    self.current = piece;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The source is done.
                Err(_) => return Ok(0),
            }
        }
        let rest = self.current.get(self.at..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{measure, ContentOrigin, ContentSource};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    /// A source of `len` bytes that counts how many its writer took.
    struct Counted {
        len: u64,
        taken: Arc<AtomicU64>,
    }

    impl ContentSource for Counted {
        fn write_to(&self, out: &mut dyn Write) -> io::Result<u64> {
            let block = vec![7u8; 10_000];
            let mut left = self.len;
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                out.write_all(&block[..n])?;
                self.taken.fetch_add(n as u64, Ordering::SeqCst);
                left -= n as u64;
            }
            Ok(self.len)
        }
        fn describe(&self) -> String {
            "counted".into()
        }
    }

    fn attachment(len: u64, taken: &Arc<AtomicU64>) -> Attachment {
        let (_, digest) = measure(&mut io::repeat(7).take(len)).unwrap();
        Attachment {
            name: "big.bin".into(),
            size: len,
            content: None,
            source_id: None,
            digest: Some(digest),
            origin: Some(ContentOrigin::new(Counted {
                len,
                taken: Arc::clone(taken),
            })),
        }
    }

    #[test]
    fn an_unread_upload_holds_a_few_pieces_not_the_attachment() {
        let len = 40 * PIECE as u64;
        let taken = Arc::new(AtomicU64::new(0));
        let a = attachment(len, &taken);
        let mut body = pieces(&a).unwrap();
        // Nobody reads for a while: the source must stop after the pieces
        // the channel holds (plus the one it is blocked sending, and one
        // write of its own being cut).
        std::thread::sleep(std::time::Duration::from_millis(300));
        let held = taken.load(Ordering::SeqCst);
        let bound = ((PIECES_IN_FLIGHT + 2) * PIECE) as u64;
        assert!(
            held <= bound,
            "{held} bytes taken from the source before any was read (bound {bound})"
        );
        let (size, digest) = measure(&mut body).unwrap();
        assert_eq!(size, len);
        assert_eq!(Some(digest), a.digest);
        assert_eq!(taken.load(Ordering::SeqCst), len);
    }

    #[test]
    fn bytes_changed_since_the_export_was_read_end_the_body_with_an_error() {
        let taken = Arc::new(AtomicU64::new(0));
        let mut a = attachment(3 * PIECE as u64 + 5, &taken);
        a.digest = Some([0u8; 32]);
        let mut body = pieces(&a).unwrap();
        let err = io::copy(&mut body, &mut io::sink()).unwrap_err();
        assert!(err.to_string().contains("not what it was"), "{err}");
    }
}
