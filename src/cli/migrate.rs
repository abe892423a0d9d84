//! `vaultferry migrate`: the plan's summary, a confirmation, then the
//! writes, with progress per phase and the report at the end.

use std::io::{self, BufRead, IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::plan::{changes, report_formats, summary, write_reports};
use super::{ImportArgs, Output};
use crate::apply::{self, ApplyError, ApplyOptions, Mailer, Reporter};
use crate::import::KeyMoves;
use crate::report;
use crate::workspace::http::HttpWorkspace;
use crate::workspace::Workspace;
use crate::Error;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub import: ImportArgs,
    /// The workspace database (created by `workspace init`).
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "target",
        conflicts_with = "target"
    )]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub key: super::key_file::KeyFileArg,
    /// Instead of --db: a `vaultferry serve` to write through
    /// (`http://HOST:PORT`), with --api-key.
    #[arg(long, value_name = "URL", requires = "api_key")]
    pub target: Option<String>,
    /// The API key for --target (`vaultferry apikey create`).
    #[arg(long, value_name = "KEY", requires = "target")]
    pub api_key: Option<String>,
    /// Print the final report as JSON (`vaultferry explain report`) on stdout; the
    /// summary and progress go to stderr.
    #[arg(long)]
    pub json: bool,
    /// Apply without asking. Required when there is no terminal to ask on.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Write over items edited in the workspace since the last import
    /// (conflicts); without it they are left as edited and reported.
    #[arg(long)]
    pub overwrite: bool,
    /// Folder for the guest invitation emails (.eml, owner-only).
    /// Default: `<db>.outbox/` next to the database.
    #[arg(long, value_name = "DIR")]
    pub outbox: Option<PathBuf>,
    /// Send the invitation emails through this SMTP relay instead
    /// (`smtp://host:port`, no TLS: a local relay).
    #[arg(long, value_name = "URL", conflicts_with = "outbox")]
    pub smtp: Option<String>,
    /// The address guests reach `vaultferry serve` on
    /// (`https://vault.example.com`): the invitation email links to its
    /// `/join` page.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Skip the check at the end (`vaultferry verify` runs it on its own).
    #[arg(long)]
    pub no_verify: bool,
}

fn default_outbox(db: Option<&Path>) -> PathBuf {
    // Through --target the emails are still written here, by this process:
    // next to the current directory's workspace name.
    let mut p = db.unwrap_or(Path::new("vaultferry")).as_os_str().to_owned();
    p.push(".outbox");
    PathBuf::from(p)
}

/// The store `migrate` writes to: the database, or the server.
fn open_target(args: &MigrateArgs) -> Result<Box<dyn Workspace>, Error> {
    match (&args.db, &args.target, &args.api_key) {
        (Some(db), _, _) => Ok(crate::workspace::open_sqlite_keyed(db, &args.key.location())?),
        (None, Some(url), Some(key)) => Ok(Box::new(HttpWorkspace::new(url, key)?)),
        _ => Err(Error::Usage(
            "give the workspace: --db PATH, or --target URL with --api-key KEY".into(),
        )),
    }
}

pub fn run(args: &MigrateArgs, out: &mut Output) -> Result<ExitCode, Error> {
    let reports = report_formats(&args.import.report)?;
    let mut import = args.import.import(args.overwrite)?;
    import.keep_source = !args.no_verify;
    let mailer = match &args.smtp {
        Some(url) => {
            apply::invitations::parse_smtp_url(url).map_err(Error::Usage)?;
            Mailer::Smtp(url.clone())
        }
        None => Mailer::Outbox(
            args.outbox
                .clone()
                .unwrap_or_else(|| default_outbox(args.db.as_deref())),
        ),
    };
    let mut stages = super::stages::Stages::new();
    let mut prepared = crate::import::prepare(&import, || open_target(args), &mut stages, KeyMoves::Write)?;
    drop(stages);
    let source = prepared.source.take();
    let cs = &prepared.changeset;

    // The summary: on stdout, or stderr when stdout carries JSON.
    let mut side = if args.json {
        Output::new(io::stderr())
    } else {
        Output::stdout()
    };
    summary(&cs.plan, &crate::mapper::ItemCounts::of(&cs.plan), &mut side)?;
    changes(&cs.summary(), &mut side)?;
    side.flush()?;
    drop(side);

    let n = cs.to_write();
    if n > 0 && !args.yes {
        if !io::stdin().is_terminal() || !io::stderr().is_terminal() {
            return Err(Error::Usage(
                "refusing to write without confirmation: there is no terminal to ask on; \
                 review the summary (or `vaultferry plan --report plan.html`) and pass --yes"
                    .into(),
            ));
        }
        eprint!("Apply {n} changes to {}? [y/N] ", cs.plan.workspace);
        let _ = io::stderr().flush();
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer).map_err(|source| Error::Io {
            path: "<stdin>".into(),
            source,
        })?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            eprintln!("Nothing written.");
            return Ok(ExitCode::SUCCESS);
        }
    }

    let mut options = ApplyOptions::new(
        cs.plan.importer.clone(),
        args.outbox
            .clone()
            .unwrap_or_else(|| default_outbox(args.db.as_deref())),
    );
    options.mailer = mailer;
    options.base_url = args.base_url.clone();
    // Ctrl-C or SIGTERM from here on stops after the batch in flight, and
    // the report below is printed whole.
    options.stop = Some(apply::stop_on_signals().map_err(|source| Error::Io {
        path: "<signal handler>".into(),
        source,
    })?);
    let mut reporter: Box<dyn Reporter> = if super::verbosity() == super::Verbosity::Quiet {
        Box::new(apply::Silent)
    } else if io::stderr().is_terminal() {
        Box::new(Bars::default())
    } else {
        Box::new(Lines::default())
    };
    let mut stages = super::stages::Stages::timings_only();
    stages.start("writing to the workspace");
    // The terminal alone needs no row per unchanged item; files and
    // `--json` list every one.
    let detail = if args.json || !reports.is_empty() {
        report::json::Detail::Full
    } else {
        report::json::Detail::Terminal
    };
    let (outcome, planned_report) = prepared.apply_with_report(&options, reporter.as_mut(), detail);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(ApplyError::Stopped { run_id, written }) => {
            out.line(format!(
                "stopped on request: run {run_id} wrote {written} objects (every batch committed before the stop is kept) and is marked interrupted"
            ))?;
            out.line("to continue, run the same command again: it writes only what is missing")?;
            out.flush()?;
            prepared.release();
            return Ok(ExitCode::from(130));
        }
        Err(ApplyError::Workspace(w)) => return Err(Error::Workspace(w)),
        Err(other) => return Err(Error::Usage(other.to_string())),
    };
    for id in &outcome.interrupted_runs {
        eprintln!("note: run {id} had stopped before finishing (crash, kill or Ctrl-C); this run continued its work");
    }

    stages.start("writing the report");
    let mut r = planned_report.applied(&outcome);
    let store = args
        .db
        .as_ref()
        .map_or_else(|| args.target.clone().unwrap_or_default(), |d| d.display().to_string());
    super::render::files::stamp(&mut r, &args.import.source, &store);
    if args.json {
        report::json::write(&r, out.writer()).map_err(super::output::stdout_error)?;
    } else if super::verbosity() == super::Verbosity::Verbose {
        report::text::write(&r, out.writer()).map_err(super::output::stdout_error)?;
        for sent in &outcome.invitations {
            if let apply::Delivery::Outbox { file } = &sent.delivery {
                out.line(format!("invitation for {} written to {file}", sent.email))?;
            }
        }
        out.line(format!("run id: {}", outcome.run_id))?;
    } else if super::verbosity() == super::Verbosity::Normal {
        for line in super::render::run::end(&r, &outcome) {
            out.line(line)?;
        }
    }
    out.flush()?;
    write_reports(&r, &reports)?;
    // Read back from the store after the writes: a store that did not keep
    // what the run wrote makes the run fail, whatever the plan said.
    let holds = r.reconciliation.holds;
    if !holds {
        eprintln!(
            "error: the workspace does not hold what this run wrote (reconciliation MISMATCH, {} items named in the report); run id {}",
            r.reconciliation_mismatches.len(),
            outcome.run_id
        );
    }
    // Names and counts only, no secret: left to the exit like the rest.
    std::mem::forget(r);
    prepared.release();
    let verified = args.no_verify || verify_after(args, source.as_ref())?;
    // Ids, titles and digests, no value: left to the exit like the report.
    std::mem::forget(source);
    Ok(if holds && verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `verify` over what the run left in the store (the readers' entries as
/// the run digested them before mapping, else its own reading of the
/// export, against its own reading of the store, not this run's plan): one
/// line, on stdout unless stdout carries JSON; the differences themselves
/// are `verify`'s to show.
fn verify_after(args: &MigrateArgs, source: Option<&crate::verify::Source>) -> Result<bool, Error> {
    let policy = args.import.policy()?;
    let input = crate::verify::Input {
        export: args.import.source.export.clone(),
        sharing: args.import.source.sharing.clone(),
        options: args.import.source.options(),
        policy,
        store: super::verify::store(
            args.db.as_deref(),
            &args.key,
            args.target.as_deref(),
            args.api_key.as_deref(),
        )?,
        importer: args.import.importer.clone(),
        owner: args.import.source.owner.clone(),
    };
    let outcome = match source {
        Some(source) => crate::verify::run_with_source(&input, source)?,
        None => crate::verify::run(&input)?,
    };
    let line = outcome.one_line();
    match (super::verbosity(), args.json) {
        (super::Verbosity::Quiet, _) => {}
        (_, true) => eprintln!("{line}"),
        (_, false) => println!("{line}"),
    }
    if !outcome.holds() {
        eprintln!("error: the workspace differs from the export in unexpected ways; run `vaultferry verify` with the same arguments to see each difference");
    }
    Ok(outcome.holds())
}

/// Plain lines for logs and pipes: "collections: 6/6", one per phase, on
/// stderr; with `VAULTFERRY_TIMINGS` each line also gives the phase's wall
/// time, which is how the benchmark splits the writes.
#[derive(Default)]
struct Lines {
    total: usize,
    done: usize,
    started: Option<std::time::Instant>,
}

impl Reporter for Lines {
    fn phase_started(&mut self, _: &str, total: usize) {
        self.total = total;
        self.done = 0;
        self.started = std::env::var_os("VAULTFERRY_TIMINGS")
            .is_some_and(|v| v != "0" && !v.is_empty())
            .then(std::time::Instant::now);
    }

    fn item_done(&mut self, _: &str, done: usize) {
        self.done = done;
    }

    fn phase_finished(&mut self, phase: &str) {
        match self.started.take() {
            Some(t) => eprintln!(
                "{phase}: {}/{} in {:.2} s",
                self.done,
                self.total,
                t.elapsed().as_secs_f64()
            ),
            None => eprintln!("{phase}: {}/{}", self.done, self.total),
        }
    }
}

/// A progress bar per phase on a terminal.
#[derive(Default)]
struct Bars {
    bar: Option<ProgressBar>,
}

impl Reporter for Bars {
    fn phase_started(&mut self, phase: &str, total: usize) {
        let style = ProgressStyle::with_template("{prefix:>20} [{bar:30}] {pos}/{len} {rate}/s ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key("rate", super::stages::rate)
            .progress_chars("=> ");
        let bar = ProgressBar::new(total as u64)
            .with_style(style)
            .with_prefix(phase.to_owned());
        self.bar = Some(bar);
    }

    fn item_done(&mut self, _: &str, done: usize) {
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
        }
    }

    fn phase_finished(&mut self, _: &str) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}
