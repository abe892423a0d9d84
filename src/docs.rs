//! The documentation a user needs at the terminal, compiled into the
//! binary: an installed `vaultferry` has no `formats/` folder beside it, so
//! help and messages name a page of `vaultferry explain` instead of a file
//! of the repository. The pages are the `formats/` files themselves, so
//! there is one text to keep right; a finding code is explained by its row
//! in the findings table of the page that owns it.

/// One page `vaultferry explain NAME` prints.
pub struct Page {
    /// What the user types: a `--from` format name where there is one.
    pub name: &'static str,
    /// Other names the page answers to (the file's own name).
    pub aliases: &'static [&'static str],
    /// One line for the list of pages.
    pub about: &'static str,
    pub text: &'static str,
}

macro_rules! page {
    ($name:literal, [$($alias:literal),*], $file:literal, $about:literal) => {
        Page {
            name: $name,
            aliases: &[$($alias),*],
            about: $about,
            text: include_str!(concat!("../formats/", $file)),
        }
    };
}

/// Every page, in the order a new user needs them.
pub const PAGES: &[Page] = &[
    page!(
        "policy",
        ["vaultferry.toml"],
        "policy.md",
        "the import policy file (--policy): every key and its default"
    ),
    page!(
        "lastpass-csv",
        ["lastpass"],
        "lastpass-csv.md",
        "the LastPass CSV export: columns, quirks, findings"
    ),
    page!(
        "lastpass-sharing",
        [],
        "lastpass-sharing.md",
        "who had access in LastPass (--sharing): how to fetch it, the shapes read"
    ),
    page!(
        "1pux",
        ["onepassword-1pux"],
        "onepassword-1pux.md",
        "the 1Password 8 export (1PUX)"
    ),
    page!(
        "1pif",
        ["onepassword-1pif"],
        "onepassword-1pif.md",
        "the 1Password 7 export (1PIF, or its export folder)"
    ),
    page!(
        "1password-csv",
        ["onepassword-csv"],
        "onepassword-csv.md",
        "the 1Password CSV exports (8, 7, 6, 4)"
    ),
    page!(
        "1password-sharing",
        ["onepassword-sharing"],
        "onepassword-sharing.md",
        "who had access in 1Password (--sharing): the vault permissions bundle and how to make it with `op`"
    ),
    page!(
        "cxf",
        ["credential-exchange-format"],
        "cxf.md",
        "CXF, the FIDO Credential Exchange Format, in and out: every key, the `shared` permissions table, export and convert"
    ),
    page!(
        "workspace-seed",
        ["seed"],
        "workspace-seed.md",
        "the workspace seed file (workspace init --seed)"
    ),
    page!(
        "plan",
        [],
        "plan.md",
        "the plan (plan --json): import keys, whose personal folder, mapper findings"
    ),
    page!(
        "report",
        [],
        "report.md",
        "the report (--report FILE.json, migrate --json)"
    ),
    page!(
        "normalized",
        [],
        "normalized.md",
        "the normalized vault (inspect --json)"
    ),
    page!(
        "errors",
        ["bad-input"],
        "errors.md",
        "bad input: what each malformed export prints and why"
    ),
    page!(
        "lastpass-note-types",
        [],
        "lastpass-note-types.toml",
        "the table of LastPass note types and their fields"
    ),
    page!(
        "1password-categories",
        ["onepassword-categories"],
        "onepassword-categories.toml",
        "the table of 1Password categories and what they become"
    ),
    page!(
        "api",
        ["openapi"],
        "openapi.json",
        "the HTTP API of `vaultferry serve` (OpenAPI 3)"
    ),
];

/// The page called `name` (or one of its aliases), case-insensitively.
pub fn page(name: &str) -> Option<&'static Page> {
    PAGES
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name) || p.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)))
}

/// A finding code as its page's findings table explains it.
#[derive(Debug, PartialEq, Eq)]
pub struct CodeDoc {
    pub code: String,
    /// As the table gives it ("warning", "warning (info when decoded)").
    pub severity: String,
    pub meaning: String,
    /// The page holding the row, for the rest of the story.
    pub page: &'static str,
}

/// `code`'s row in a findings table: a Markdown row whose first cell is
/// the code in backquotes, then its severity and its meaning.
pub fn finding(code: &str) -> Option<CodeDoc> {
    let start = format!("| `{code}` |");
    PAGES.iter().find_map(|p| {
        let row = p.text.lines().find(|l| l.starts_with(&start))?;
        let cells: Vec<&str> = row.trim().trim_matches('|').split(" | ").map(str::trim).collect();
        let [_, severity, meaning @ ..] = cells.as_slice() else {
            return None;
        };
        Some(CodeDoc {
            code: code.to_owned(),
            severity: (*severity).to_owned(),
            meaning: meaning.join(" | "),
            page: p.name,
        })
    })
}

/// Every code some findings table explains, in page order.
pub fn codes() -> Vec<&'static str> {
    PAGES
        .iter()
        .flat_map(|p| p.text.lines())
        .filter_map(|l| {
            let rest = l.strip_prefix("| `")?;
            let (code, after) = rest.split_once('`')?;
            (after.starts_with(" |") && is_code(code)).then_some(code)
        })
        .collect()
}

/// `stage.what`: a finding code's shape, as opposed to a JSON key or a
/// column name in the same kind of table.
pub fn is_code(s: &str) -> bool {
    let Some((stage, what)) = s.split_once('.') else {
        return false;
    };
    const STAGES: [&str; 4] = ["lastpass", "onepassword", "mapper", "cxf"];
    // `cxf.md` is the page's file, not a code.
    const FILE_EXTENSIONS: [&str; 3] = ["md", "toml", "json"];
    STAGES.contains(&stage)
        && !what.is_empty()
        && !FILE_EXTENSIONS.contains(&what)
        && what
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_found_by_name_and_alias_whatever_the_case() {
        assert_eq!(page("POLICY").map(|p| p.name), Some("policy"));
        assert_eq!(page("onepassword-1pux").map(|p| p.name), Some("1pux"));
        assert!(page("policy").unwrap().text.contains("personal_items_owner"));
        assert!(page("nothing-of-the-kind").is_none());
    }

    #[test]
    fn a_code_is_explained_by_its_row_with_severity_and_page() {
        let doc = finding("lastpass.row-skipped").unwrap();
        assert_eq!(doc.severity, "error");
        assert_eq!(doc.page, "lastpass-csv");
        assert!(doc.meaning.contains("could not be read"), "{doc:?}");
        assert!(finding(&format!("lastpass.{}", "never-emitted")).is_none());
        // A JSON key in a table of the same shape is no code.
        assert!(!codes().contains(&"source.file"));
        assert!(codes().contains(&"mapper.edit-lowered"));
        assert!(!is_code("cxf.md"), "a page's file name is no code");
        assert!(is_code("cxf.bad-id"));
    }
}
