//! The remote-execution seam: what the probes, the role changes and deploy need from a node
//! (run a command with a deadline, with or without input). `SshSession` implements it over
//! russh; tests implement it with a node that replays fixtures and records what was run.

use super::ssh::{Output, PROBE_OUTPUT_LIMIT};
use super::ProbeError;
use std::future::Future;
use std::time::Duration;

/// Why a request to a Unix socket on the node got no answer (`Exec::unix_get`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketError {
    /// Nothing listens there (no such socket, or connection refused).
    NotListening,
    /// This transport (or the node's sshd) opens no channel to a Unix socket: ask another way.
    Unsupported,
    /// The exchange failed midway.
    Failed(String),
}

pub trait Exec: Sync {
    /// The node's name, for messages.
    fn node_name(&self) -> &str;

    /// Runs `command` with `input` on its stdin (then EOF), waiting at most `limit`; its
    /// stdout may hold at most `max_output` bytes.
    fn exec_limited(
        &self,
        command: &str,
        input: Option<&[u8]>,
        limit: Duration,
        max_output: usize,
    ) -> impl Future<Output = Result<Output, ProbeError>> + Send;

    /// Runs `command`, waiting at most `limit`, its stdout bounded by `PROBE_OUTPUT_LIMIT`.
    fn exec(
        &self,
        command: &str,
        limit: Duration,
    ) -> impl Future<Output = Result<Output, ProbeError>> + Send {
        self.exec_limited(command, None, limit, PROBE_OUTPUT_LIMIT)
    }

    /// Like `exec`, with `input` written to stdin. Secrets go this way, never in argv.
    fn exec_with_input(
        &self,
        command: &str,
        input: Option<&[u8]>,
        limit: Duration,
    ) -> impl Future<Output = Result<Output, ProbeError>> + Send {
        self.exec_limited(command, input, limit, PROBE_OUTPUT_LIMIT)
    }

    /// `GET path` (HTTP/1.0) from the server on the node's Unix socket `socket` (a daemon's
    /// control socket, asked without starting a process on the node): the raw answer, at most
    /// `max` bytes (more is an error). The caller bounds the time. By default: unsupported.
    fn unix_get(
        &self,
        socket: &str,
        path: &str,
        max: usize,
    ) -> impl Future<Output = Result<Vec<u8>, SocketError>> + Send {
        let _ = (socket, path, max);
        std::future::ready(Err(SocketError::Unsupported))
    }
}

/// Sessions are shared between concurrent work as `Arc`s.
impl<T: Exec + Send> Exec for std::sync::Arc<T> {
    fn node_name(&self) -> &str {
        (**self).node_name()
    }
    fn exec_limited(
        &self,
        command: &str,
        input: Option<&[u8]>,
        limit: Duration,
        max_output: usize,
    ) -> impl Future<Output = Result<Output, ProbeError>> + Send {
        (**self).exec_limited(command, input, limit, max_output)
    }
    fn unix_get(
        &self,
        socket: &str,
        path: &str,
        max: usize,
    ) -> impl Future<Output = Result<Vec<u8>, SocketError>> + Send {
        (**self).unix_get(socket, path, max)
    }
}
