//! Findings on the terminal: grouped by code, each group with its count and
//! one example, or (verbose) every finding once. Both print a location in
//! the one shape errors use too (`file:line N: field 'x'`, from
//! [`Position`]'s `Display`), before the message.

use std::collections::BTreeMap;

use crate::model::{Finding, Position};
use crate::report::json::FindingRow;

/// Most codes shown; past this, the rest are counted.
const GROUPS_SHOWN: usize = 15;
/// An example's message is cut here, so a group stays one line.
const MESSAGE_CHARS: usize = 160;
/// A warning's or error's help line is cut here: it is what to do, and
/// (like `--sharing`'s) may name a command to fetch a file.
const HELP_CHARS: usize = 240;

/// One finding as the terminal shows it, from the plan's or the report's.
pub struct Line<'a> {
    pub severity: &'a str,
    pub code: &'a str,
    pub message: &'a str,
    pub position: Position,
    /// What the admin can do about it.
    pub help: Option<&'a str>,
}

impl<'a> Line<'a> {
    pub fn of(f: &'a Finding) -> Line<'a> {
        Line {
            severity: match f.severity {
                crate::model::Severity::Error => "error",
                crate::model::Severity::Warning => "warning",
                crate::model::Severity::Info => "info",
            },
            code: &f.code,
            message: &f.message,
            position: f.position.clone(),
            help: f.help.as_deref(),
        }
    }

    pub fn of_row(f: &'a FindingRow) -> Line<'a> {
        Line {
            severity: &f.severity,
            code: &f.code,
            message: &f.message,
            position: Position {
                file: f.file.clone(),
                line: f.line,
                record: None,
                field: f.field.clone(),
            },
            help: f.help.as_deref(),
        }
    }

    /// `file:line N: field 'x': message`, or the message alone.
    fn located(&self, max: Option<usize>) -> String {
        let message = match max {
            Some(max) => super::clip(self.message, max),
            None => self.message.to_owned(),
        };
        let at = self.position.to_string();
        if at.is_empty() {
            message
        } else {
            format!("{at}: {message}")
        }
    }
}

fn rank(severity: &str) -> u8 {
    match severity {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    }
}

/// "findings: 1 errors, …" then a line per code, errors first, the most
/// frequent first within a severity.
pub fn grouped(findings: &[Line<'_>]) -> Vec<String> {
    let mut lines = vec![totals(findings)];
    let mut groups: BTreeMap<(u8, &str), (usize, &Line<'_>)> = BTreeMap::new();
    for f in findings {
        groups.entry((rank(f.severity), f.code)).or_insert((0, f)).0 += 1;
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by_key(|((rank, code), (n, _))| (*rank, std::cmp::Reverse(*n), *code));
    for ((_, code), (n, example)) in groups.iter().take(GROUPS_SHOWN) {
        let eg = if *n == 1 { "" } else { "e.g. " };
        lines.push(format!(
            "  {}[{code}] ×{n}: {eg}{}",
            example.severity,
            example.located(Some(MESSAGE_CHARS))
        ));
        // Info needs no action; a warning or error says what to do, once
        // per code (the line count stays bounded by the codes shown).
        if let (Some(help), true) = (example.help, rank(example.severity) < 2) {
            lines.push(format!("      help: {}", super::clip(help, HELP_CHARS)));
        }
    }
    if groups.len() > GROUPS_SHOWN {
        let rest: usize = groups.iter().skip(GROUPS_SHOWN).map(|(_, (n, _))| n).sum();
        lines.push(format!(
            "  … {} more codes ({rest} findings): --verbose, --json or --report list every one",
            groups.len() - GROUPS_SHOWN
        ));
    }
    lines
}

/// Every finding, once each, errors first.
pub fn every(findings: &[Line<'_>]) -> Vec<String> {
    let mut sorted: Vec<&Line<'_>> = findings.iter().collect();
    sorted.sort_by_key(|f| rank(f.severity));
    let mut lines = vec![totals(findings)];
    lines.extend(
        sorted
            .into_iter()
            .map(|f| format!("  {}[{}]: {}", f.severity, f.code, f.located(None))),
    );
    lines
}

pub fn totals(findings: &[Line<'_>]) -> String {
    let by = |s: &str| findings.iter().filter(|f| f.severity == s).count();
    format!(
        "findings: {} errors, {} warnings, {} info",
        by("error"),
        by("warning"),
        by("info")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_grouped_by_code_with_a_count_and_one_located_example() {
        let findings: Vec<Finding> = (0..40)
            .map(|i| {
                Finding::warning("mapper.internal-not-member", format!("user{i} is not a member"))
                    .at(Position::file("e.csv").line(i + 2))
            })
            .chain([Finding::error("lastpass.row-skipped", "found 3 fields, expected 7")
                .at(Position::file("e.csv").line(9).field("extra"))])
            .collect();
        let lines: Vec<Line<'_>> = findings.iter().map(Line::of).collect();
        let out = grouped(&lines);
        assert_eq!(out.len(), 3, "{out:#?}");
        assert_eq!(out[0], "findings: 1 errors, 40 warnings, 0 info");
        assert_eq!(
            out[1],
            "  error[lastpass.row-skipped] ×1: e.csv:line 9: field 'extra': found 3 fields, expected 7"
        );
        assert_eq!(
            out[2],
            "  warning[mapper.internal-not-member] ×40: e.g. e.csv:line 2: user0 is not a member"
        );
    }

    #[test]
    fn more_codes_than_shown_are_counted() {
        let findings: Vec<Finding> = (0..30).map(|i| Finding::info(format!("code.{i}"), "m")).collect();
        let lines: Vec<Line<'_>> = findings.iter().map(Line::of).collect();
        let out = grouped(&lines);
        assert_eq!(out.len(), 1 + GROUPS_SHOWN + 1);
        assert!(
            out[GROUPS_SHOWN + 1].contains("15 more codes (15 findings)"),
            "{out:#?}"
        );
    }
}
