//! The floor for `vaultferry inspect` on a LastPass CSV: the `csv` crate
//! reading every record of the file and doing nothing with it. No parser can
//! read the file faster than this, so `inspect` is measured against it.
//!
//!     cargo bench --bench csv_floor -- FILE
//!
//! Prints one line: `records=<n> seconds=<s> bytes=<b>`.

use std::time::Instant;

fn main() {
    // `cargo bench` passes `--bench` to every bench binary; the file is the
    // one argument that is not a flag.
    let Some(file) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: cargo bench --bench csv_floor -- FILE");
        std::process::exit(2);
    };
    let start = Instant::now();
    let mut reader = match csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(&file)
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{file}: {e}");
            std::process::exit(2);
        }
    };
    let mut record = csv::ByteRecord::new();
    let mut records: u64 = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => records += 1,
            Ok(false) => break,
            Err(e) => {
                eprintln!("{file}: {e}");
                std::process::exit(2);
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    println!("records={records} seconds={seconds:.3} bytes={bytes}");
}
