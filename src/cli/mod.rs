//! The clap model: argument types only. Commands map these into plain options; nothing
//! below `commands/` sees a clap type.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub mod deploy;
pub mod exporter;
pub mod failover;
pub mod maintenance;
pub mod rejoin;
pub mod snapshot;
pub mod status;
pub mod swap;

#[derive(Debug, Parser)]
#[command(
    name = "pairctl",
    version,
    about = "Operate a two-node active/standby HA cluster (keepalived VIP, Galera, GlusterFS, k3s)",
    long_about = "Operate a two-node active/standby HA cluster: keepalived holding a virtual IP, \
MariaDB + Galera, GlusterFS, k3s on the active node with its state replicated to the standby, \
and services behind an HTTPS ingress on the VIP.",
    after_help = crate::error::ExitStatus::help_text(),
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml,
    /// ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several,
    /// or a directory of *.toml files
    #[arg(short = 'c', long, global = true, value_name = "FILE", action = clap::ArgAction::Append)]
    pub config: Vec<PathBuf>,
    /// Output format
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status,
    /// 60s for swap and failover]
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// More diagnostics on stderr (repeat for more)
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
    /// When to use colour (NO_COLOR is honoured with auto)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Answer yes to the confirmation prompt (required without a TTY)
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// Learn the host key of a node seen for the first time (writes known_hosts);
    /// a changed key is still refused
    #[arg(long, global = true)]
    pub accept_new_host_keys: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    /// Prometheus text exposition (status only)
    Prometheus,
    /// A Nagios/Icinga plugin line with perfdata (status only)
    Nagios,
}

impl OutputFormat {
    /// The formats every command prints; the monitoring formats are for `status`.
    pub fn for_every_command(self) -> bool {
        matches!(self, OutputFormat::Table | OutputFormat::Json)
    }
}

/// The command line's format, as the renderers know it.
impl From<OutputFormat> for crate::render::Format {
    fn from(format: OutputFormat) -> Self {
        match format {
            OutputFormat::Table => Self::Table,
            OutputFormat::Json => Self::Json,
            OutputFormat::Prometheus => Self::Prometheus,
            OutputFormat::Nagios => Self::Nagios,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl From<ColorChoice> for crate::render::ColorMode {
    fn from(color: ColorChoice) -> Self {
        match color {
            ColorChoice::Auto => Self::Auto,
            ColorChoice::Always => Self::Always,
            ColorChoice::Never => Self::Never,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the cluster: version details, node roles, every check, a verdict
    Status(status::StatusArgs),
    /// The standby takes over now (the active is sick or gone)
    Failover(failover::FailoverArgs),
    /// Planned role exchange with both nodes healthy
    Swap(swap::SwapArgs),
    /// Bring a fenced node back as a healthy standby (after a failover)
    Rejoin(rejoin::RejoinArgs),
    /// List the role changes (swap, failover, rejoin) recorded on the nodes
    History,
    /// Collect one redacted support bundle from both nodes
    Snapshot(snapshot::SnapshotArgs),
    /// Serve Prometheus metrics for one or many clusters on warm connections
    Exporter(exporter::ExporterArgs),
    /// Install the cluster onto two prepared nodes (idempotent)
    Deploy(deploy::DeployArgs),
    /// Freeze role changes for planned work, with a reason and an expiry
    Maintenance(maintenance::MaintenanceArgs),
    /// Print a shell completion script
    Completions {
        /// Shell to generate completions for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write all pages into a directory
    Man {
        /// Write pairctl.1 and one page per subcommand into DIR
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// A duration flag's value that is not one (the text given, and humantime's reason).
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a duration ({1}); e.g. 10s, 500ms, 2m")]
pub struct DurationError(String, humantime::DurationError);

pub fn parse_duration(s: &str) -> Result<std::time::Duration, DurationError> {
    let s = s.trim();
    // A bare number means seconds, as in `--watch 2`.
    if let Ok(secs) = s.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(std::time::Duration::from_secs_f64(secs));
        }
    }
    humantime::parse_duration(s).map_err(|e| DurationError(s.to_string(), e))
}
