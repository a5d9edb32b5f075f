//! Why a remote call (or a probe built on one) has no answer, by kind: what a retry can hope
//! for is decided by the kind, never by matching the words of a message.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeErrorKind {
    /// A prerequisite was missing, so the question was not put (no connection, not the
    /// active node, skipped after an earlier failure).
    NotAsked,
    /// The node or the service could not be reached, or would not open a channel.
    Unreachable,
    /// No answer within the deadline.
    TimedOut,
    /// The command or request ran and failed (exit status, HTTP error, SQL error, too much
    /// output).
    Failed,
    /// An answer came but could not be understood.
    Parse,
}

/// A kind and the sentence an operator reads (exactly the text shown before the kinds
/// existed: its `Display` is the message alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeError {
    pub kind: ProbeErrorKind,
    pub message: String,
}

impl ProbeError {
    pub fn new(kind: ProbeErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    pub fn not_asked(message: impl Into<String>) -> Self {
        Self::new(ProbeErrorKind::NotAsked, message)
    }
    pub fn unreachable(message: impl Into<String>) -> Self {
        Self::new(ProbeErrorKind::Unreachable, message)
    }
    pub fn timed_out(message: impl Into<String>) -> Self {
        Self::new(ProbeErrorKind::TimedOut, message)
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ProbeErrorKind::Failed, message)
    }
    pub fn parse(message: impl Into<String>) -> Self {
        Self::new(ProbeErrorKind::Parse, message)
    }
    /// The same kind, the message put in context: `"{prefix}: {message}"`.
    pub fn context(self, prefix: impl fmt::Display) -> Self {
        Self {
            kind: self.kind,
            message: format!("{prefix}: {}", self.message),
        }
    }
    /// The same kind with another message built from the old one.
    pub fn map_message(self, f: impl FnOnce(String) -> String) -> Self {
        Self {
            kind: self.kind,
            message: f(self.message),
        }
    }
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProbeError {}

/// Code that still speaks in sentences takes the message as it always read.
impl From<ProbeError> for String {
    fn from(e: ProbeError) -> Self {
        e.message
    }
}

/// An answer its parser could not read.
impl From<crate::probe::ParseError> for ProbeError {
    fn from(e: crate::probe::ParseError) -> Self {
        Self::parse(e.to_string())
    }
}

/// Tests and callers compare the sentence an operator reads.
impl PartialEq<&str> for ProbeError {
    fn eq(&self, other: &&str) -> bool {
        self.message == *other
    }
}

/// Serialised as the sentence, exactly as the `String` it replaced.
impl serde::Serialize for ProbeError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.message)
    }
}
