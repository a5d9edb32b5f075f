//! Rendering: the only layer that writes to stdout (data) or stderr (diagnostics).
//! Renderers turn a finished report into text; they decide nothing.

pub mod deploy;
pub mod maintenance;
pub mod nagios;
pub mod operation;
pub mod progress;
pub mod prometheus;
pub mod sanitize;
pub mod snapshot;
#[cfg(test)]
mod snapshot_tests;
pub mod status;

use std::io::{IsTerminal, Write};

/// The output format of this run (mapped from the command line at the edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    /// Prometheus text exposition (status only).
    Prometheus,
    /// A Nagios/Icinga plugin line with perfdata (status only).
    Nagios,
}

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    Auto,
    Always,
    Never,
}

/// How output looks for this run.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub format: Format,
    pub color: bool,
    /// Table width budget.
    pub width: u16,
    pub quiet: bool,
    pub verbose: u8,
    /// Where data goes (stdout) is a terminal: only then may it get screen control.
    pub stdout_tty: bool,
    pub stderr_tty: bool,
}

impl Style {
    pub fn new(format: Format, color: ColorMode, quiet: bool, verbose: u8) -> Self {
        let stdout_tty = std::io::stdout().is_terminal();
        let color = match color {
            ColorMode::Always => true,
            ColorMode::Never => false,
            ColorMode::Auto => {
                stdout_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        colored::control::set_override(color);
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|w| *w >= 40)
            .unwrap_or(80);
        Style {
            format,
            color,
            width,
            quiet,
            verbose,
            stdout_tty,
            stderr_tty: std::io::stderr().is_terminal(),
        }
    }
}

/// Writes data to stdout. A closed pipe (`pairctl status | head`) is a clean exit, not an
/// error: the reader has what it wanted.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

/// Writes one diagnostic line to stderr. Diagnostics carry node text (stderr lines, error
/// messages): no terminal control gets through.
pub fn diag(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{}", sanitize::terminal(text));
}

/// `value` as one pretty JSON document (terminal controls in strings escaped).
pub fn json<T: serde::Serialize>(value: &T) -> String {
    let mut s = sanitize::json(value, true).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
