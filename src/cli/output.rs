use std::io::{self, Write};
use std::sync::atomic::{AtomicU8, Ordering};

use crate::Error;

/// How much the terminal shows: set once from `--quiet`/`--verbose`
/// before a command runs, read where the summaries and progress are drawn
/// (deep in `plan`'s stages too, which take no flags of their own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors only: no summary, no progress (cron jobs, scripts).
    Quiet,
    /// Counts and examples: nothing that grows with the export.
    Normal,
    /// Every collection, person, finding and item that changes.
    Verbose,
}

static VERBOSITY: AtomicU8 = AtomicU8::new(1);

pub fn set_verbosity(v: Verbosity) {
    VERBOSITY.store(v as u8, Ordering::Relaxed);
}

pub fn verbosity() -> Verbosity {
    match VERBOSITY.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// Where a command's result goes: stdout, or a buffer in tests. Human
/// messages and progress go to stderr elsewhere; only results come here, so
/// `--json` output can be piped.
pub struct Output {
    inner: Box<dyn Write>,
}

impl Output {
    pub fn stdout() -> Output {
        Output {
            inner: Box::new(io::BufWriter::new(io::stdout().lock())),
        }
    }

    pub fn new(w: impl Write + 'static) -> Output {
        Output { inner: Box::new(w) }
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.inner
    }

    pub fn line(&mut self, text: impl AsRef<str>) -> Result<(), Error> {
        writeln!(self.inner, "{}", text.as_ref()).map_err(stdout_error)
    }

    /// Writes `value` as pretty JSON; with `reveal`, secrets show their values.
    pub fn json<T: serde::Serialize>(&mut self, value: &T, reveal: bool) -> Result<(), Error> {
        let write = |w: &mut dyn Write| -> io::Result<()> {
            serde_json::to_writer_pretty(&mut *w, value).map_err(io::Error::from)?;
            writeln!(w)
        };
        let result = if reveal {
            crate::secret::reveal(|| write(&mut self.inner))
        } else {
            write(&mut self.inner)
        };
        result.map_err(stdout_error)
    }

    pub fn flush(&mut self) -> Result<(), Error> {
        self.inner.flush().map_err(stdout_error)
    }
}

pub fn stdout_error(source: io::Error) -> Error {
    Error::Io {
        path: "<stdout>".into(),
        source,
    }
}
