//! The one error type that reaches the edge: a kind that decides the exit code, a message,
//! a chain of causes and an optional hint for the operator.

use std::fmt;

/// The exit statuses (the table in README.md, `--help` and the man page): every outcome of
/// every command converts into one of these, and the help text is generated from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Ok,
    /// status: degraded; operation: failed, cluster left as it was.
    DegradedOrFailed,
    /// status: critical; operation: acted but did not converge.
    CriticalOrNotConverged,
    /// status: unknown; operation: refused by a safety precondition.
    UnknownOrRefused,
    Usage,
    Config,
}

impl ExitStatus {
    pub const ALL: [ExitStatus; 6] = [
        ExitStatus::Ok,
        ExitStatus::DegradedOrFailed,
        ExitStatus::CriticalOrNotConverged,
        ExitStatus::UnknownOrRefused,
        ExitStatus::Usage,
        ExitStatus::Config,
    ];

    pub const fn code(self) -> u8 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::DegradedOrFailed => 1,
            ExitStatus::CriticalOrNotConverged => 2,
            ExitStatus::UnknownOrRefused => 3,
            ExitStatus::Usage => 64,
            ExitStatus::Config => 78,
        }
    }

    /// The line `--help` shows.
    pub const fn meaning(self) -> &'static str {
        match self {
            ExitStatus::Ok => "ok / healthy / operation verified",
            ExitStatus::DegradedOrFailed => {
                "degraded (status) / operation failed, cluster left as it was"
            }
            ExitStatus::CriticalOrNotConverged => {
                "critical (status) / operation acted but did not converge"
            }
            ExitStatus::UnknownOrRefused => "unknown (status) / refused by a safety precondition",
            ExitStatus::Usage => "usage error",
            ExitStatus::Config => "configuration error",
        }
    }

    /// The `Exit codes:` block at the end of `pairctl --help`.
    pub fn help_text() -> String {
        let mut text = String::from("Exit codes:");
        for status in Self::ALL {
            text.push_str(&format!("\n  {:<3} {}", status.code(), status.meaning()));
        }
        text
    }
}

impl From<ExitStatus> for u8 {
    fn from(status: ExitStatus) -> u8 {
        status.code()
    }
}

/// The codes as numbers, for code that returns them.
pub mod exit {
    use super::ExitStatus;
    pub const OK: u8 = ExitStatus::Ok.code();
    pub const DEGRADED_OR_FAILED: u8 = ExitStatus::DegradedOrFailed.code();
    pub const CRITICAL_OR_NOT_CONVERGED: u8 = ExitStatus::CriticalOrNotConverged.code();
    pub const UNKNOWN_OR_REFUSED: u8 = ExitStatus::UnknownOrRefused.code();
    pub const USAGE: u8 = ExitStatus::Usage.code();
    pub const CONFIG: u8 = ExitStatus::Config.code();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad flags or arguments.
    Usage,
    /// Bad or unreadable configuration, secret files with loose permissions.
    Config,
    /// A safety precondition refused the operation; nothing was changed.
    Refused,
    /// The operation failed and the cluster was left as it was (or nothing was attempted).
    Failed,
    /// The operation acted but the cluster did not converge in time.
    NotConverged,
    /// The truth could not be established (e.g. no node reachable).
    Unknown,
}

impl ErrorKind {
    pub fn exit_status(self) -> ExitStatus {
        match self {
            ErrorKind::Usage => ExitStatus::Usage,
            ErrorKind::Config => ExitStatus::Config,
            ErrorKind::Refused | ErrorKind::Unknown => ExitStatus::UnknownOrRefused,
            ErrorKind::Failed => ExitStatus::DegradedOrFailed,
            ErrorKind::NotConverged => ExitStatus::CriticalOrNotConverged,
        }
    }
    pub fn exit_code(self) -> u8 {
        self.exit_status().code()
    }
}

#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub causes: Vec<String>,
    pub hint: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            causes: Vec::new(),
            hint: None,
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failed, message)
    }
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Refused, message)
    }
    /// Adds a cause; the whole `source()` chain of `cause` is recorded, outermost first.
    pub fn caused_by(mut self, cause: &dyn std::error::Error) -> Self {
        self.causes.push(cause.to_string());
        let mut source = cause.source();
        while let Some(inner) = source {
            let text = inner.to_string();
            if self.causes.last() != Some(&text) {
                self.causes.push(text);
            }
            source = inner.source();
        }
        self
    }
    pub fn cause(mut self, cause: impl Into<String>) -> Self {
        self.causes.push(cause.into());
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }
}

impl fmt::Display for Error {
    /// The report the operator sees: message, "Caused by:" lines, then the hint.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        if !self.causes.is_empty() {
            write!(f, "\nCaused by:")?;
            for cause in &self.causes {
                write!(f, "\n  {cause}")?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nHint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_the_exit_code_table() {
        assert_eq!(ErrorKind::Usage.exit_code(), 64);
        assert_eq!(ErrorKind::Config.exit_code(), 78);
        assert_eq!(ErrorKind::Refused.exit_code(), 3);
        assert_eq!(ErrorKind::Failed.exit_code(), 1);
        assert_eq!(ErrorKind::NotConverged.exit_code(), 2);
    }

    #[test]
    fn report_has_causes_and_hint() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = Error::config("cannot read /x.toml")
            .caused_by(&io)
            .hint("pass -c FILE");
        assert_eq!(
            e.to_string(),
            "error: cannot read /x.toml\nCaused by:\n  no such file\nHint: pass -c FILE"
        );
    }
}
