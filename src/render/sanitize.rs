//! Text from the nodes and the network never drives the operator's terminal. Every renderer
//! passes such text through `terminal` (tables, plain text, diagnostics) or writes it with
//! `json` (which escapes what JSON allows raw but a terminal would obey); the Prometheus and
//! Nagios renderers call `terminal` too.

use std::borrow::Cow;

/// Longest text one table cell shows: a node that answers with a megabyte-long line costs
/// the table nothing (the rest is counted, not laid out).
pub const CELL_LIMIT: usize = 2000;

/// Characters a terminal may act on: C0 controls (ESC starts CSI/OSC sequences, BEL, BS,
/// CR that overwrites a line…), DEL, the C1 controls (U+009B is a one-character CSI for
/// some terminals) and the bidirectional overrides and isolates that reorder what is shown
/// ("Trojan Source"). Newline and tab are ordinary text where the caller allows them.
fn is_dangerous(c: char) -> bool {
    matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character a terminal would act on replaced by a visible escape (`\x1b`,
/// `\u{202e}`); newlines stay, tabs become a space. Borrowed when nothing needed replacing.
pub fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_dangerous(c) && c != '\n') {
        return Cow::Borrowed(text);
    }
    let mut s = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => s.push('\n'),
            '\t' => s.push(' '),
            c if (c as u32) < 0x80 && is_dangerous(c) => {
                s.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_dangerous(c) => s.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => s.push(c),
        }
    }
    Cow::Owned(s)
}

/// One table cell: `terminal`, cut to `CELL_LIMIT` characters with the size of the rest.
pub fn cell(text: &str) -> String {
    let clean = terminal(text);
    match clean.char_indices().nth(CELL_LIMIT) {
        None => clean.into_owned(),
        Some((cut, _)) => format!("{}… ({} more bytes)", &clean[..cut], clean.len() - cut),
    }
}

/// A JSON formatter that escapes, besides what JSON requires (serde_json already writes
/// C0 controls as `\u00XX`), DEL, the C1 controls and the bidi controls as `\uXXXX`: still
/// the same JSON string, but inert when the document is shown on a terminal.
struct InertFormatter<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for InertFormatter<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_dangerous(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    // Indentation and separators are the inner formatter's (pretty or compact).
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `value` as JSON, pretty or compact, with terminal controls escaped (see `InertFormatter`).
pub fn json<T: serde::Serialize + ?Sized>(value: &T, pretty: bool) -> serde_json::Result<String> {
    let mut buf = Vec::new();
    if pretty {
        let mut ser = serde_json::Serializer::with_formatter(
            &mut buf,
            InertFormatter(serde_json::ser::PrettyFormatter::new()),
        );
        value.serialize(&mut ser)?;
    } else {
        let mut ser = serde_json::Serializer::with_formatter(
            &mut buf,
            InertFormatter(serde_json::ser::CompactFormatter),
        );
        value.serialize(&mut ser)?;
    }
    // The formatter writes only what it was given and ASCII escapes: still UTF-8.
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible_text() {
        let hostile = "MASTER\x1b]2;owned\x07\x1b[8m\r\u{9b}31m\u{202e}txt\x7f";
        let shown = terminal(hostile);
        assert!(!shown.chars().any(is_dangerous), "{shown:?}");
        assert_eq!(
            shown,
            "MASTER\\x1b]2;owned\\x07\\x1b[8m\\x0d\\u{9b}31m\\u{202e}txt\\x7f"
        );
    }

    #[test]
    fn plain_text_is_borrowed_newlines_kept_tabs_spaced() {
        assert!(matches!(terminal("ok: 2 nodes\nnext"), Cow::Borrowed(_)));
        assert_eq!(terminal("a\tb\nc"), "a b\nc");
        assert_eq!(terminal("grüße"), "grüße");
    }

    #[test]
    fn long_cells_are_cut_with_the_size_of_the_rest() {
        let long = "A".repeat(CELL_LIMIT + 500);
        let c = cell(&long);
        assert!(c.ends_with("… (500 more bytes)"), "{}", &c[c.len() - 30..]);
        assert_eq!(cell("short"), "short");
    }

    #[test]
    fn json_escapes_every_terminal_control_and_stays_the_same_json() {
        let value = serde_json::json!({"detail": "a\x1b[2Jb\u{9b}c\u{202e}d\x7fe\n"});
        for pretty in [true, false] {
            let text = json(&value, pretty).unwrap();
            assert!(
                !text.chars().any(|c| is_dangerous(c) && c != '\n'),
                "{text:?}"
            );
            assert!(
                text.contains("\\u001b") && text.contains("\\u009b"),
                "{text}"
            );
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, value);
        }
        assert_eq!(json(&value, false).unwrap().lines().count(), 1);
    }
}
