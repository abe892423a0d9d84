//! Line numbers for pieces of the document: a raw JSON value borrowed from
//! the text knows where it starts, and the line is found from the offsets
//! of the newlines, counted once.

/// The newline offsets of one text.
pub(crate) struct Lines<'t> {
    text: &'t str,
    newlines: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub(crate) fn new(text: &'t str) -> Lines<'t> {
        let newlines = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Lines { text, newlines }
    }

    /// The line (from 1) on which `piece` starts, when `piece` is a slice
    /// of the text; 1 otherwise (a value decoded into its own string).
    pub(crate) fn line_of(&self, piece: &str) -> u64 {
        let start = self.text.as_ptr() as usize;
        let at = piece.as_ptr() as usize;
        if at < start || at > start + self.text.len() {
            return 1;
        }
        let offset = at - start;
        (self.newlines.partition_point(|&n| n < offset) + 1) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_of_the_text_knows_its_line_and_a_stranger_gets_line_one() {
        let text = "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}";
        let lines = Lines::new(text);
        let b = text.find("[").unwrap();
        assert_eq!(lines.line_of(&text[b..]), 3);
        assert_eq!(lines.line_of(text), 1);
        assert_eq!(lines.line_of(&text[text.len()..]), 6);
        assert_eq!(lines.line_of("elsewhere"), 1);
    }
}
