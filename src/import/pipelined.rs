//! Reading, mapping and consuming an export's chunks on three threads.

use std::path::Path;

use crate::model::{Entry, Vault};
use crate::sources::{self, ParseOptions};
use crate::Error;

/// Reads the export a chunk of entries at a time on this thread, hands
/// each chunk to `map` on a second one and what that makes of it to
/// `consume` on a third: reading the next chunk, mapping this one and
/// consuming the last overlap, and no stage waits for a later one to
/// finish a chunk (two are queued between stages). Reading is the longest
/// stage, so the entries' fingerprint ids are numbered on the second.
/// `stages` hears how far into the file the reader is (the line of the
/// chunk's last entry) after each chunk.
pub(super) fn read<T: Send>(
    export: &Path,
    options: &ParseOptions,
    map: &mut (dyn FnMut(Vec<Entry>) -> T + Send),
    consume: &mut (dyn FnMut(T) + Send),
    stages: &mut dyn super::Stages,
) -> Result<Vault, Error> {
    // Counting the lines is a pass over the file: only for someone who
    // shows them (a terminal), never for a server or a pipe.
    let lines = match stages.wants_progress() {
        true => sources::lines_in(export).unwrap_or(0),
        false => 0,
    };
    // A 1PUX has no lines: its bar counts export.data's bytes as they unpack.
    let unpacked =
        (stages.wants_progress() && lines == 0).then(|| std::sync::Arc::new(sources::ReadProgress::default()));
    let counted;
    let options = match &unpacked {
        Some(p) => {
            counted = ParseOptions {
                progress: Some(std::sync::Arc::clone(p)),
                ..options.clone()
            };
            &counted
        }
        None => options,
    };
    let (chunks, received) = std::sync::mpsc::sync_channel::<Vec<Entry>>(2);
    let (mapped, to_consume) = std::sync::mpsc::sync_channel::<T>(2);
    let (read, done) = std::thread::scope(|scope| {
        let consumer = scope.spawn(move || {
            for item in to_consume {
                consume(item);
            }
            thread_cpu("deciding");
        });
        let mapper = scope.spawn(move || {
            let mut numbering = sources::Numbering::for_export(export);
            for mut entries in received {
                numbering.assign(&mut entries);
                // The consumer only stops early by panicking, re-raised below.
                let _ = mapped.send(map(entries));
            }
            thread_cpu("mapping");
        });
        let read = sources::read_export_chunks(export, options, chunk(), &mut |entries| {
            // The mapper only stops early by panicking, re-raised below.
            let line = entries.last().and_then(|e| e.line);
            let _ = chunks.send(entries);
            if let (Some(line), true) = (line, lines > 0) {
                stages.reading(line, lines);
            } else if let Some((done, total)) = unpacked.as_ref().map(|p| p.get()).filter(|&(_, t)| t > 0) {
                stages.unpacking(done, total);
            }
        });
        drop(chunks);
        thread_cpu("reading");
        (read, [mapper.join(), consumer.join()])
    });
    for result in done {
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }
    Ok(read?)
}

/// Entries per chunk of a plan that keeps no item: a few megabytes, and
/// three chunks in flight (one read, one queued, one decided). 1024 to
/// 8192 took the same CPU time on the 1M benchmark export; the peak RSS
/// went from 197 to 240 MB.
/// `VAULTFERRY_PLAN_CHUNK` sets it (the tests use tiny chunks, so that
/// chunk boundaries fall everywhere).
fn chunk() -> usize {
    std::env::var("VAULTFERRY_PLAN_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(2048)
}

/// With `VAULTFERRY_TIMINGS`, the CPU time the calling thread has used,
/// as "timing: thread NAME: CPU x s": a pipeline runs as fast as its
/// busiest thread, and the process's total does not say which one that is.
pub fn thread_cpu(name: &str) {
    if std::env::var_os("VAULTFERRY_TIMINGS").is_some_and(|v| v != "0" && !v.is_empty()) {
        if let Some(cpu) = cpu_seconds_of("/proc/thread-self/stat") {
            eprintln!("timing: thread {name}: CPU {cpu:.2} s");
        }
    }
}

/// CPU seconds (user + system) of the process or thread whose /proc stat
/// file this is (Linux).
pub fn cpu_seconds_of(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line, in clock ticks (100 per second).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
