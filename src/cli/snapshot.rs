use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
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
