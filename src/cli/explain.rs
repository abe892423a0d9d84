//! `vaultferry explain`: the format and policy pages, and what a finding
//! code means, from the binary itself (like `ruff rule CODE`).

use std::process::ExitCode;

use clap::Args;

use super::Output;
use crate::docs;
use crate::Error;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A page (`policy`, a format such as `lastpass-csv` or `1pux`, a
    /// sharing file such as `lastpass-sharing`) or a finding code such as
    /// `mapper.guest-role-lowered`. Without it, the list of pages.
    pub topic: Option<String>,
}

pub fn run(args: &ExplainArgs, out: &mut Output) -> Result<ExitCode, Error> {
    let Some(topic) = args.topic.as_deref().map(str::trim) else {
        list(out)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    };
    if let Some(page) = docs::page(topic) {
        out.line(page.text.trim_end())?;
    } else if let Some(doc) = docs::finding(topic) {
        out.line(format!("{} ({})", doc.code, doc.severity))?;
        out.line(format!("  {}", doc.meaning))?;
        out.line(format!("More: `vaultferry explain {}`.", doc.page))?;
    } else {
        let hint = if docs::is_code(topic) {
            "no finding has this code"
        } else {
            "no page or finding code of this name"
        };
        let pages: Vec<&str> = docs::PAGES.iter().map(|p| p.name).collect();
        return Err(Error::Usage(format!(
            "explain {topic}: {hint}; expected one of {}, or a finding code as printed in brackets (warning[mapper.edit-lowered])",
            pages.join(", ")
        )));
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn list(out: &mut Output) -> Result<(), Error> {
    out.line("Pages (`vaultferry explain NAME`):")?;
    let width = docs::PAGES.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for p in docs::PAGES {
        out.line(format!("  {:width$}  {}", p.name, p.about))?;
    }
    out.line("")?;
    out.line(format!(
        "Finding codes (`vaultferry explain CODE`): {} of them, e.g. {}",
        docs::codes().len(),
        "mapper.guest-role-lowered, lastpass.row-skipped"
    ))
}
