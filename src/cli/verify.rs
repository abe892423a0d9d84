//! `vaultferry verify`: flags into a [`verify::Input`], the outcome
//! rendered as text or JSON.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{Output, SourceArgs};
use crate::policy::Policy;
use crate::verify::{self, Outcome};
use crate::Error;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The import policy the migration ran with (its rules explain the
    /// expected differences); without it, the defaults.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The workspace database.
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "target",
        conflicts_with = "target"
    )]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub key: super::key_file::KeyFileArg,
    /// Instead of --db: a `vaultferry serve` to read (`http://HOST:PORT`), with --api-key.
    #[arg(long, value_name = "URL", requires = "api_key")]
    pub target: Option<String>,
    /// The API key for --target.
    #[arg(long, value_name = "KEY", requires = "target")]
    pub api_key: Option<String>,
    /// The member who ran the import, whose personal items the export
    /// holds (default: the policy's personal_items_owner, else the
    /// workspace owner).
    #[arg(long = "as", value_name = "EMAIL")]
    pub importer: Option<String>,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the outcome to FILE (`.json`: JSON; otherwise text).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// The store a check reads, from `--db` or `--target` with `--api-key`.
pub fn store(
    db: Option<&std::path::Path>,
    key_file: &super::key_file::KeyFileArg,
    target: Option<&str>,
    key: Option<&str>,
) -> Result<verify::Store, Error> {
    match (db, target, key) {
        (Some(db), _, _) => Ok(verify::Store::Sqlite {
            path: db.to_owned(),
            key: key_file.location(),
        }),
        (None, Some(url), Some(key)) => Ok(verify::Store::Http {
            url: url.to_owned(),
            api_key: key.to_owned(),
        }),
        _ => Err(Error::Usage(
            "give the workspace: --db PATH, or --target URL with --api-key KEY".into(),
        )),
    }
}

pub fn run(args: &VerifyArgs, out: &mut Output) -> Result<ExitCode, Error> {
    let policy = match &args.policy {
        Some(path) => Policy::load(path)?,
        None => Policy::default(),
    };
    let input = verify::Input {
        export: args.source.export.clone(),
        sharing: args.source.sharing.clone(),
        options: args.source.options(),
        policy,
        store: store(
            args.db.as_deref(),
            &args.key,
            args.target.as_deref(),
            args.api_key.as_deref(),
        )?,
        importer: args.importer.clone(),
        owner: args.source.owner.clone(),
    };
    let outcome = verify::run(&input)?;
    if args.json {
        out.json(&outcome, false)?;
    } else {
        text(&outcome, out.writer()).map_err(super::output::stdout_error)?;
    }
    out.flush()?;
    if let Some(path) = &args.report {
        write_report(&outcome, path)?;
    }
    Ok(exit(&outcome))
}

pub fn exit(outcome: &Outcome) -> ExitCode {
    if outcome.holds() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn write_report(outcome: &Outcome, path: &std::path::Path) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let mut buf = Vec::new();
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        serde_json::to_writer_pretty(&mut buf, outcome).map_err(|e| io(e.into()))?;
        buf.push(b'\n');
    } else {
        text(outcome, &mut buf).map_err(io)?;
    }
    std::fs::write(path, buf).map_err(io)
}

/// The unexpected differences one per line, the expected ones counted by
/// rule, and the one-line result last.
pub fn text(o: &Outcome, w: &mut dyn Write) -> std::io::Result<()> {
    writeln!(w, "verify: {} against workspace '{}'", o.export, o.workspace)?;
    if !o.unexpected.is_empty() {
        writeln!(w, "unexpected differences ({}):", o.unexpected.len())?;
        for d in &o.unexpected {
            let at = match d.line {
                Some(line) => format!("{}, line {line}", d.source_id),
                None => d.source_id.clone(),
            };
            let person = d.person.as_deref().unwrap_or("-");
            writeln!(
                w,
                "  UNEXPECTED {}: {person} on '{}' ({at}): source {}, workspace {}: {}",
                d.what.code(),
                d.item,
                d.source_right.as_deref().unwrap_or("none"),
                d.workspace_role.as_deref().unwrap_or("none"),
                d.detail
            )?;
        }
    }
    if !o.expected.is_empty() {
        writeln!(w, "expected differences (a mapping rule explains each):")?;
        for e in &o.expected {
            let person = e.person.as_deref().unwrap_or("-");
            writeln!(
                w,
                "  {}: {person} on {} item{} (source {}, workspace {}): {}",
                e.rule,
                e.items,
                if e.items == 1 { "" } else { "s" },
                e.source_right.as_deref().unwrap_or("-"),
                e.workspace_role.as_deref().unwrap_or("none"),
                e.why
            )?;
        }
    }
    writeln!(w, "{}", o.one_line())
}
