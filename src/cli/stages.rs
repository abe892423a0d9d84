//! What `plan` and `migrate` are doing before the first write: a spinner
//! naming the stage on a terminal (a million-entry export takes seconds to
//! read and compare, and a silent terminal looks hung), nothing when
//! stderr is piped. `VAULTFERRY_TIMINGS=1` prints each stage's wall time to
//! stderr instead, which is how the whole-process benchmark's figures are
//! split into stages.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub struct Stages {
    current: Option<(&'static str, Instant, Option<f64>)>,
    spinner: Option<ProgressBar>,
    timings: bool,
}

impl Stages {
    pub fn new() -> Stages {
        let timings = std::env::var_os("VAULTFERRY_TIMINGS").is_some_and(|v| v != "0" && !v.is_empty());
        let quiet = super::verbosity() == super::Verbosity::Quiet;
        let spinner = (!timings && !quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Stages {
            current: None,
            spinner,
            timings,
        }
    }

    /// Timings only, no spinner: for stages that draw their own progress
    /// bars (`migrate`'s writes).
    pub fn timings_only() -> Stages {
        let mut stages = Stages::new();
        if let Some(bar) = stages.spinner.take() {
            bar.finish_and_clear();
        }
        stages
    }

    /// Ends the current stage and starts `name` ("reading the export").
    pub fn start(&mut self, name: &'static str) {
        self.end();
        if let Some(bar) = &self.spinner {
            bar.set_message(name);
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
}

impl Drop for Stages {
    fn drop(&mut self) {
        self.end();
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
        }
    }
}
