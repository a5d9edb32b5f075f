//! One file per subcommand: turn options into work on the transports, the model and the
//! renderers. The context carries what every command needs.

pub mod deploy;
pub mod exporter;
pub mod generate;
pub mod maintenance;
pub mod rejoin;
pub mod role_change;
pub mod snapshot;
pub mod status;

use crate::config::{self, Config, HostKeyPolicy};
use crate::error::{Error, Result};
use crate::render::Style;
use crate::transport::Deadline;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Context {
    pub style: Style,
    pub config_path: Option<PathBuf>,
    /// Every `-c` given (only `exporter` takes more than one).
    pub config_paths: Vec<PathBuf>,
    /// `--timeout`, when given: the hard deadline for the whole command.
    pub timeout: Option<Duration>,
    pub yes: bool,
    pub accept_new_host_keys: bool,
    pub started: Instant,
}

impl Context {
    pub fn load_config(&self) -> Result<Config> {
        self.load_config_from(self.config_path.as_deref())
    }

    /// The configuration at `path` (or discovered), with the command line's overrides.
    pub fn load_config_from(&self, path: Option<&std::path::Path>) -> Result<Config> {
        let mut cfg = config::load(path)?;
        if self.accept_new_host_keys {
            cfg.ssh.host_key_policy = HostKeyPolicy::AcceptNew;
            cfg.ssh.explicit.host_key_policy = true;
        }
        Ok(cfg)
    }

    /// `--timeout`, or the command's own default.
    pub fn timeout_or(&self, default: Duration) -> Duration {
        self.timeout.unwrap_or(default)
    }

    /// The command's deadline (`--timeout`, default 10 s), less a margin to render what was
    /// gathered.
    pub fn deadline(&self) -> Deadline {
        let timeout = self.timeout_or(DEFAULT_TIMEOUT);
        let margin = Duration::from_millis(200).min(timeout / 10);
        Deadline::after(
            timeout
                .saturating_sub(margin)
                .saturating_sub(self.started.elapsed()),
        )
    }
}

/// Asks before a change: `--yes` answers it; without a terminal on stdin it refuses at once
/// (exit 3) instead of hanging; otherwise a y/N prompt on stderr.
pub fn confirm(ctx: &Context, what: &str, question: &str) -> Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if ctx.yes {
        return Ok(true);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::refused(format!(
            "{what} needs confirmation and stdin is not a terminal; nothing changed"
        ))
        .hint("pass --yes to confirm non-interactively (or --dry-run to see the plan)"));
    }
    let mut stderr = std::io::stderr();
    let _ = stderr.write_all(format!("{question} [y/N] ").as_bytes());
    let _ = stderr.flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::failed("cannot read the answer").caused_by(&e))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES"))
}
