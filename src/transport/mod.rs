//! Remote I/O: SSH to the nodes (russh) behind the `Exec` seam, SQL to Galera (mysql_async),
//! HTTPS to the ingress (reqwest + rustls); `ProbeError` says by kind why a call has no
//! answer; `batch` frames the sections of a command that answers several questions at once.
//! Every call has a deadline.

pub mod batch;
pub mod error;
pub mod exec;
#[cfg(test)]
pub mod fake;
pub mod https;
pub mod known_hosts;
pub mod kubeapi;
pub mod sql;
pub mod ssh;
pub mod ssh_config;
pub mod tunnel;

pub use error::{ProbeError, ProbeErrorKind};
pub use exec::Exec;

use std::time::{Duration, Instant};

/// A point in time by which a piece of work must be done.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn after(d: Duration) -> Self {
        Deadline(Instant::now() + d)
    }
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }
    /// The smaller of `cap` and what is left.
    pub fn cap(&self, cap: Duration) -> Duration {
        self.remaining().min(cap)
    }
    pub fn instant(&self) -> Instant {
        self.0
    }
}
