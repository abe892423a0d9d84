//! The five HTML entities LastPass's browser-extension export writes into
//! values (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#39;`): a password typed as
//! `a&b` comes out as `a&amp;b`. Whether to undo that is the user's call
//! (`--decode-html-entities`), because a value may hold the text `&amp;` on
//! purpose; these helpers only find and decode them.

const ENTITIES: [(&str, char); 5] = [
    ("&amp;", '&'),
    ("&lt;", '<'),
    ("&gt;", '>'),
    ("&quot;", '"'),
    ("&#39;", '\''),
];

/// Whether `value` holds one of the five entities. Each starts with `&`,
/// so only the text after each `&` is looked at (a value with a plain `&`
/// is then not searched five more times).
pub(crate) fn contains(value: &str) -> bool {
    value.match_indices('&').any(|(at, _)| {
        value
            .get(at..)
            .is_some_and(|tail| ENTITIES.iter().any(|(e, _)| tail.starts_with(e)))
    })
}

/// Decodes the five entities in one pass, so `&amp;lt;` becomes `&lt;` (the
/// text the user typed) and not `<`. Anything else after `&` is kept.
pub(crate) fn decode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match ENTITIES.iter().find(|(e, _)| tail.starts_with(e)) {
            Some((e, c)) => {
                out.push(*c);
                rest = &tail[e.len()..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_five_entities_once() {
        assert_eq!(decode("a&amp;b&lt;c&gt;d&quot;e&#39;f"), "a&b<c>d\"e'f");
        assert_eq!(decode("&amp;lt;"), "&lt;");
        assert_eq!(decode("R&D &copy; &"), "R&D &copy; &");
    }

    #[test]
    fn finds_only_the_five_entities() {
        assert!(contains("Pw&amp;x"));
        assert!(contains("it&#39;s"));
        assert!(!contains("R&D"));
        assert!(!contains("&nbsp;"));
        assert!(contains("R&D &amp; co"));
        assert!(contains("&&lt;"));
        assert!(!contains("&am;p &"));
    }
}
