//! The marker protocol of batched command output: a remote command that answers several
//! questions at once prints each answer as a named section, begun by a marker line of its own
//! (`mark`: a newline, `@@pairctl:<name>`, a newline); `Sections` reads them back by name, a
//! section the output does not hold being an error (`MissingSection`), not an answer. The
//! newline a marker starts with is the marker's, so a section's body is exactly what its
//! command printed: an answer without a final newline neither glues the next marker to its
//! last line (losing that section) nor gains a newline.

use std::collections::BTreeMap;

pub const MARK: &str = "@@pairctl:";

/// Shell text that begins section `name` (a fixed identifier, never node or config text).
pub fn mark(name: &str) -> String {
    debug_assert!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-:.".contains(c)),
        "{name} is not a section name"
    );
    format!("printf '\\n{MARK}%s\\n' '{name}'")
}

/// The sections of `text` whose names start with `prefix`, in order: (name without the
/// prefix, body). A body holds everything up to the next such marker, other markers too.
pub fn split<'a>(text: &'a str, prefix: &str) -> Vec<(&'a str, &'a str)> {
    let marker = format!("{MARK}{prefix}");
    let line_start = format!("\n{marker}");
    // (where the marker begins, newline included; where its name begins)
    let mut starts: Vec<(usize, usize)> = Vec::new();
    if text.starts_with(&marker) {
        starts.push((0, marker.len()));
    }
    starts.extend(
        text.match_indices(&line_start)
            .map(|(i, _)| (i, i + line_start.len())),
    );
    starts
        .iter()
        .enumerate()
        .map(|(k, &(_, name_at))| {
            let end = starts.get(k + 1).map(|s| s.0).unwrap_or(text.len());
            let part = &text[name_at..end];
            let (name, body) = part.split_once('\n').unwrap_or((part, ""));
            (name.trim_end(), body)
        })
        .collect()
}

/// The sections of a batched command's output, by name (a name given twice: the last).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Sections(BTreeMap<String, String>);

impl Sections {
    pub fn parse(text: &str) -> Self {
        Sections(
            split(text, "")
                .into_iter()
                .map(|(name, body)| (name.to_string(), body.to_string()))
                .collect(),
        )
    }

    /// The section's text; one the output does not hold is an error (a misspelt name, or a
    /// script that stopped before it), never an empty answer.
    pub fn get(&self, name: &str) -> Result<&str, MissingSection> {
        self.optional(name)
            .ok_or_else(|| MissingSection(name.to_string()))
    }

    /// A section the script prints only sometimes: `None` when absent.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// A section the output does not hold (its name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no {0} section in the output")]
pub struct MissingSection(pub String);

/// What a node prints for sections (name, what its command printed), as tests replay it.
#[cfg(test)]
pub fn printed(parts: &[(&str, &str)]) -> String {
    parts
        .iter()
        .map(|(name, out)| format!("\n{MARK}{name}\n{out}"))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_exactly_what_each_command_printed() {
        let text = printed(&[("a", "x"), ("b", "y\n"), ("c", ""), ("d", "z\n\n")]);
        let s = Sections::parse(&text);
        assert_eq!(
            (s.get("a"), s.get("b"), s.get("c"), s.get("d")),
            (Ok("x"), Ok("y\n"), Ok(""), Ok("z\n\n"))
        );
        assert_eq!(s.optional("c"), Some(""));
        assert_eq!(s.optional("e"), None);
        let missing = s.get("e").unwrap_err();
        assert_eq!(missing.to_string(), "no e section in the output");
    }

    #[test]
    fn a_marker_counts_only_at_the_start_of_a_line() {
        let text = format!("junk before\n{MARK}a\nsays {MARK}b here\n{MARK}c\n1\n");
        let s = Sections::parse(&text);
        assert_eq!(s.get("a").unwrap(), format!("says {MARK}b here"));
        assert!(s.get("b").is_err());
        assert_eq!(s.get("c"), Ok("1\n"));
    }

    #[test]
    fn groups_hold_their_own_sections() {
        let text = printed(&[
            ("stage:one", &printed(&[("x", "1\n")])),
            ("stage:two", &printed(&[("x", "2")])),
        ]);
        let groups = split(&text, "stage:");
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].0, "one");
        assert_eq!(Sections::parse(groups[0].1).get("x"), Ok("1\n"));
        assert_eq!(Sections::parse(groups[1].1).get("x"), Ok("2"));
    }

    #[test]
    fn the_shell_marker_prints_what_the_parser_reads() {
        let script = format!("{}; printf 'no newline'; {}; echo ok", mark("a"), mark("b"));
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        let s = Sections::parse(&String::from_utf8(out.stdout).unwrap());
        assert_eq!((s.get("a"), s.get("b")), (Ok("no newline"), Ok("ok\n")));
    }
}
