//! The one error type that reaches the edge: a kind that decides the exit code, a message,
//! a chain of causes and an optional hint for the operator.

use std::fmt;

/// Exit codes (the table in README.md and the man page).
pub mod exit {
    pub const OK: u8 = 0;
    /// status: degraded; operation: failed, cluster left as it was.
    pub const DEGRADED_OR_FAILED: u8 = 1;
    /// status: critical; operation: acted but did not converge.
    pub const CRITICAL_OR_NOT_CONVERGED: u8 = 2;
    /// status: unknown; operation: refused by a safety precondition.
    pub const UNKNOWN_OR_REFUSED: u8 = 3;
    pub const USAGE: u8 = 64;
    pub const CONFIG: u8 = 78;
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
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Usage => exit::USAGE,
            ErrorKind::Config => exit::CONFIG,
            ErrorKind::Refused | ErrorKind::Unknown => exit::UNKNOWN_OR_REFUSED,
            ErrorKind::Failed => exit::DEGRADED_OR_FAILED,
            ErrorKind::NotConverged => exit::CRITICAL_OR_NOT_CONVERGED,
        }
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
