//! What the terminal shows by default: counts, a few examples and where
//! the full lists are. An export of a million entries must not scroll a
//! million lines past the question `migrate` asks, so every list here is
//! cut to a fixed length; `--verbose`, `--json` and `--report` have them all.

pub mod files;
pub mod findings;
pub mod plan;
pub mod run;

/// How many names a list shows before "… and N more".
pub const EXAMPLES: usize = 3;

/// "a, b, c and 12 more" from the first [`EXAMPLES`] of `names`.
pub fn some_of<S: AsRef<str>>(names: &[S], total: usize) -> String {
    let shown: Vec<&str> = names.iter().take(EXAMPLES).map(AsRef::as_ref).collect();
    let rest = total.saturating_sub(shown.len());
    match rest {
        0 => shown.join(", "),
        _ => format!("{} and {rest} more", shown.join(", ")),
    }
}

/// `text` cut to `max` characters (on a character boundary) with "…":
/// one finding's message stays one line of a terminal.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn some_of_names_three_and_counts_the_rest() {
        assert_eq!(some_of(&["a", "b"], 2), "a, b");
        assert_eq!(some_of(&["a", "b", "c", "d", "e"], 5), "a, b, c and 2 more");
        assert_eq!(some_of(&["a"], 40), "a and 39 more");
    }

    #[test]
    fn clip_cuts_on_a_character_boundary() {
        assert_eq!(clip("Ærøskøbing", 3), "Ærø…");
        assert_eq!(clip("short", 10), "short");
    }
}
