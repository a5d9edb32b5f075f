use clap::{Args, Subcommand};
use std::path::PathBuf;

pub const SNAPSHOT_HELP: &str = "\
Times are UTC. The whole command is bounded by --timeout, whose default for snapshot is
10 minutes (not status's 10 s). Every item has its own timeout (20 s for most commands,
2 minutes for a journal, 5 minutes for a log file); one that runs out is kept as far as it
got and recorded as timed out in manifest.json.

Exit codes: 0 everything collected; 1 partial bundle (a node unreachable, an item failed or
timed out; k3s answering nothing on the standby is expected and does not count), or no
bundle could be written. inspect: 0 every sha256 matches, 1 otherwise.";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, after_help = SNAPSHOT_HELP)]
pub struct SnapshotArgs {
    #[command(subcommand)]
    pub action: Option<SnapshotAction>,
    /// Output file, or directory for the generated name
    #[arg(short = 'O', long = "output-file", value_name = "FILE|DIR")]
    pub output_file: Option<PathBuf>,
    /// Start of the log window: a duration back from now (e.g. 2h) or a time
    #[arg(long, value_name = "DURATION|TIME", default_value = "24h")]
    pub since: String,
    /// End of the log window (a time; default now)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Collect from this node only
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Do not redact secrets (the bundle will contain passwords and keys)
    #[arg(long)]
    pub no_redact: bool,
}

#[derive(Debug, Subcommand)]
pub enum SnapshotAction {
    /// Print a bundle's manifest and verify every sha256
    Inspect {
        /// The .tar.zst bundle
        file: PathBuf,
    },
}
