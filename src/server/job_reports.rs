//! A job's reports in the store, in pieces of at most
//! [`REPORT_PIECE_BYTES`]: written as each report renders (a writer that
//! saves a piece whenever one fills) and served as a stream of pieces, so
//! neither side ever holds a whole report of a 300k-entry plan in one
//! string.

use std::io;
use std::sync::Arc;

use axum::body::{Body, Bytes};

use crate::report::{self, Report};
use crate::workspace::service::{ServiceStore, StoredReport, REPORT_PIECE_BYTES};

/// The formats a job keeps, by their name in the store and the URL.
pub const FORMATS: [(&str, report::Format); 3] = [
    ("json", report::Format::Json),
    ("html", report::Format::Html),
    ("csv", report::Format::Csv),
];

/// An `io::Write` that saves what it is given as numbered pieces.
pub struct PieceWriter<'a> {
    store: &'a dyn ServiceStore,
    job: &'a str,
    format: &'a str,
    generation: i64,
    seq: i64,
    bytes: i64,
    piece: Vec<u8>,
}

impl<'a> PieceWriter<'a> {
    pub fn begin(store: &'a dyn ServiceStore, job: &'a str, format: &'a str) -> io::Result<PieceWriter<'a>> {
        let generation = store.begin_report(job, format).map_err(io::Error::other)?;
        Ok(PieceWriter {
            store,
            job,
            format,
            generation,
            seq: 0,
            bytes: 0,
            piece: Vec::with_capacity(REPORT_PIECE_BYTES),
        })
    }

    fn save_piece(&mut self) -> io::Result<()> {
        if self.piece.is_empty() {
            return Ok(());
        }
        self.store
            .save_report_piece(self.job, self.format, self.generation, self.seq, &self.piece)
            .map_err(io::Error::other)?;
        self.seq += 1;
        self.piece.clear();
        Ok(())
    }

    /// Saves the last piece and makes this version the one served.
    pub fn finish(mut self) -> io::Result<StoredReport> {
        self.save_piece()?;
        let stored = StoredReport {
            generation: self.generation,
            pieces: self.seq,
            bytes: self.bytes,
        };
        self.store
            .finish_report(self.job, self.format, stored)
            .map_err(io::Error::other)?;
        Ok(stored)
    }
}

impl io::Write for PieceWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = REPORT_PIECE_BYTES - self.piece.len();
        let n = buf.len().min(room);
        self.piece.extend_from_slice(&buf[..n]);
        self.bytes += n as i64;
        if self.piece.len() >= REPORT_PIECE_BYTES {
            self.save_piece()?;
        }
        Ok(n)
    }

    /// Pieces are saved when full or at [`PieceWriter::finish`]; a flush
    /// in between would only make more, smaller pieces.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Renders and stores every format of a job's report. A format that
/// fails is logged and left as it was (the earlier version, or none).
pub fn store_all(store: &dyn ServiceStore, job: &str, r: &Report) {
    for (name, format) in FORMATS {
        let written = PieceWriter::begin(store, job, name).and_then(|mut w| {
            report::write(r, format, &mut w)?;
            w.finish()
        });
        if let Err(e) = written {
            eprintln!("vaultferry serve: job {job}: the {name} report was not stored: {e}");
        }
    }
}

/// The body of a stored report: its pieces, read from the store one at a
/// time as the client takes them. A version replaced while it is read
/// (the job was applied meanwhile) ends the body with an error rather
/// than with a silently shorter report; the Content-Length says so too.
pub fn body(store: Arc<dyn ServiceStore>, job: String, format: &'static str, stored: StoredReport) -> Body {
    let stream = futures_util::stream::try_unfold(0i64, move |seq| {
        let (store, job) = (store.clone(), job.clone());
        async move {
            if seq >= stored.pieces {
                return Ok(None);
            }
            let piece = tokio::task::spawn_blocking(move || store.report_piece(&job, format, stored.generation, seq))
                .await
                .map_err(io::Error::other)?
                .map_err(io::Error::other)?;
            match piece {
                Some(bytes) => Ok(Some((Bytes::from(bytes), seq + 1))),
                None => Err(io::Error::other(
                    "the report was replaced while it was read; ask for it again",
                )),
            }
        }
    });
    Body::from_stream(stream)
}
