use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct MaintenanceArgs {
    #[command(subcommand)]
    pub action: MaintenanceAction,
}

#[derive(Debug, Subcommand)]
pub enum MaintenanceAction {
    /// Freeze role changes — the whole pair, or one node that may then be stopped — with a
    /// reason, until an expiry the nodes enforce themselves
    On(MaintenanceOnArgs),
    /// End the maintenance now, on both nodes
    Off(MaintenanceOffArgs),
}

#[derive(Debug, Args)]
pub struct MaintenanceOnArgs {
    /// Put only this node into maintenance (it may be stopped, rebooted, upgraded); without
    /// it the whole pair is frozen
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// Why: shown in status and kept in the history
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// How long until it expires by itself, e.g. 30m, 2h
    #[arg(long = "for", value_name = "DURATION", default_value = "1h", value_parser = super::parse_duration)]
    pub duration: std::time::Duration,
    /// Allow node maintenance of the active node (its services stop with it)
    #[arg(long)]
    pub force: bool,
    /// Print what would be recorded, change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct MaintenanceOffArgs {
    /// Print what would be ended, change nothing
    #[arg(long)]
    pub dry_run: bool,
}
