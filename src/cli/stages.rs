//! What `plan` and `migrate` are doing before the first write: a spinner
//! naming the stage on a terminal (a million-entry export takes seconds to
//! read and compare, and a silent terminal looks hung), which becomes a bar
//! with an ETA while the export is read (by lines of the file, the one
//! total known before the end; for a 1PUX, which has none, by the bytes of
//! its `export.data` as they unpack), one plain line per stage when stderr is piped. `VAULTFERRY_TIMINGS=1` prints each stage's wall time to
//! stderr instead, which is how the whole-process benchmark's figures are
//! split into stages.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub struct Stages {
    current: Option<(&'static str, Instant, Option<f64>)>,
    spinner: Option<ProgressBar>,
    /// The spinner is drawn as a bar of the file's lines.
    as_bar: bool,
    timings: bool,
    /// stderr is a pipe or a log: each stage is one plain line as it
    /// starts, as the write phases are ("collections: 6/6"), so a log shows
    /// how far a run got before an error.
    lines: bool,
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} ({elapsed})").unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg} [{bar:30}] {percent}% of export.data, {binary_bytes_per_sec}, ETA {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg} [{bar:30}] {percent}% of the lines, {rate} lines/s, ETA {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rate", rate)
        .progress_chars("=> ")
}

/// Items (or lines) a second, whole: "51577", not indicatif's
/// "51,577.2572/s".
pub fn rate(state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = write!(w, "{:.0}", state.per_sec());
}

impl Stages {
    pub fn new() -> Stages {
        let timings = std::env::var_os("VAULTFERRY_TIMINGS").is_some_and(|v| v != "0" && !v.is_empty());
        let quiet = super::verbosity() == super::Verbosity::Quiet;
        let terminal = std::io::stderr().is_terminal();
        let spinner = (!timings && !quiet && terminal).then(|| {
            let bar = ProgressBar::new_spinner().with_style(spinner_style());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Stages {
            current: None,
            spinner,
            as_bar: false,
            timings,
            lines: !timings && !quiet && !terminal,
        }
    }

    /// Timings only, no spinner: for stages that draw their own progress
    /// bars (`migrate`'s writes). No spinner is made at all, so none is
    /// left drawn above the first bar.
    pub fn timings_only() -> Stages {
        Stages {
            current: None,
            spinner: None,
            as_bar: false,
            timings: std::env::var_os("VAULTFERRY_TIMINGS").is_some_and(|v| v != "0" && !v.is_empty()),
            lines: false,
        }
    }

    /// At `line` of the export's `lines`: the spinner becomes a bar.
    pub fn reading(&mut self, line: u64, lines: u64) {
        self.bar(line, lines, bar_style);
    }

    fn bar(&mut self, line: u64, lines: u64, style: fn() -> ProgressStyle) {
        let Some(bar) = &self.spinner else { return };
        if lines == 0 {
            return;
        }
        if !self.as_bar {
            bar.set_style(style());
            bar.set_length(lines);
            bar.reset_eta();
            self.as_bar = true;
        }
        bar.set_position(line.min(lines));
    }

    /// Ends the current stage and starts `name` ("reading the export").
    pub fn start(&mut self, name: &'static str) {
        self.end();
        if let Some(bar) = &self.spinner {
            if std::mem::take(&mut self.as_bar) {
                bar.set_style(spinner_style());
                bar.unset_length();
                bar.set_position(0);
            }
            bar.set_message(name);
        }
        if self.lines {
            eprintln!("{name}…");
        }
        self.current = Some((name, Instant::now(), self.timings.then(cpu_seconds).flatten()));
    }

    /// Ends the current stage; the spinner goes away when the last one ends.
    pub fn end(&mut self) {
        if let Some((name, started, cpu)) = self.current.take() {
            if self.timings {
                let cpu = match (cpu, cpu_seconds()) {
                    (Some(before), Some(now)) => format!(" (CPU {:.2} s)", now - before),
                    _ => String::new(),
                };
                eprintln!(
                    "timing: {name}: {:.2} s{cpu}{}",
                    started.elapsed().as_secs_f64(),
                    memory().unwrap_or_default()
                );
            }
        }
    }
}

/// CPU seconds (user + system, all threads) the process has used, from
/// /proc (Linux): on a busy machine wall time also counts waiting for a
/// core, and a stage's CPU time is what tells whether a change sped it up.
fn cpu_seconds() -> Option<f64> {
    crate::import::cpu_seconds_of("/proc/self/stat")
}

/// ", RSS 812 MB, peak 1430 MB" from /proc (Linux): which stage holds
/// the memory `plan`'s peak-RSS target is about.
fn memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = |field: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(field))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some(format!(
        ", RSS {} MB, peak {} MB",
        kb("VmRSS:")? / 1024,
        kb("VmHWM:")? / 1024
    ))
}

impl crate::import::Stages for Stages {
    fn start(&mut self, name: &'static str) {
        Stages::start(self, name);
    }

    fn wants_progress(&self) -> bool {
        self.spinner.is_some()
    }

    fn reading(&mut self, line: u64, lines: u64) {
        Stages::reading(self, line, lines);
    }

    fn unpacking(&mut self, done: u64, total: u64) {
        self.bar(done, total, bytes_style);
    }
}

impl Drop for Stages {
    fn drop(&mut self) {
        self.end();
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
        }
    }
}
