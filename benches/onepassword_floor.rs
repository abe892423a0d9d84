//! The floors for `vaultferry inspect` on 1Password exports: no reader can
//! do less and still look at every byte.
//!
//! - a 1PUX: unzip `export.data` and parse it with serde_json into
//!   `IgnoredAny` (streamed from the zip member), then read every `files/`
//!   member to its end;
//! - a 1PIF: a bare serde_json pass (`IgnoredAny`) over each record between
//!   the separator lines.
//!
//!     cargo bench --bench onepassword_floor -- FILE
//!
//! Prints one line: `records=<n> seconds=<s> bytes=<b> unpacked=<u>`
//! (records: the JSON values parsed, for a 1PUX the one document plus its
//! files; unpacked: the size of `export.data`, or of the 1PIF file).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::time::Instant;

use serde::de::IgnoredAny;
use serde::Deserialize;

fn fail(file: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{file}: {e}");
    std::process::exit(2);
}

/// Counts what passes through: the unpacked size of `export.data`.
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

fn pux(file: &str) -> (u64, u64) {
    let mut zip =
        zip::ZipArchive::new(File::open(file).unwrap_or_else(|e| fail(file, e))).unwrap_or_else(|e| fail(file, e));
    let mut records = 0;
    let unpacked;
    {
        let data = zip.by_name("export.data").unwrap_or_else(|e| fail(file, e));
        let mut counted = Counted { inner: data, bytes: 0 };
        let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, &mut counted));
        IgnoredAny::deserialize(&mut de).unwrap_or_else(|e| fail(file, e));
        records += 1;
        unpacked = counted.bytes;
    }
    let mut buf = vec![0u8; 1 << 16];
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).unwrap_or_else(|e| fail(file, e));
        if !member.name().starts_with("files/") {
            continue;
        }
        while member.read(&mut buf).unwrap_or_else(|e| fail(file, e)) > 0 {}
        records += 1;
    }
    (records, unpacked)
}

fn pif(file: &str) -> u64 {
    let reader = BufReader::with_capacity(1 << 16, File::open(file).unwrap_or_else(|e| fail(file, e)));
    let mut records = 0;
    for line in reader.split(b'\n') {
        let line = line.unwrap_or_else(|e| fail(file, e));
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b"***") {
            continue;
        }
        let mut de = serde_json::Deserializer::from_slice(line);
        IgnoredAny::deserialize(&mut de).unwrap_or_else(|e| fail(file, e));
        records += 1;
    }
    records
}

fn main() {
    // `cargo bench` passes `--bench` to every bench binary; the file is the
    // one argument that is not a flag.
    let Some(file) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: cargo bench --bench onepassword_floor -- FILE");
        std::process::exit(2);
    };
    let start = Instant::now();
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let (records, unpacked) = if file.ends_with(".1pux") {
        pux(&file)
    } else {
        (pif(&file), bytes)
    };
    let seconds = start.elapsed().as_secs_f64();
    println!("records={records} seconds={seconds:.3} bytes={bytes} unpacked={unpacked}");
}
