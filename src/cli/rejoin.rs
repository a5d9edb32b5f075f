use clap::Args;

#[derive(Debug, Args)]
pub struct RejoinArgs {
    /// The node to bring back [default: the node that is not active]
    #[arg(value_name = "NODE")]
    pub node: Option<String>,
    /// Print the divergence report and the plan, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Rejoin even though the node committed writes the active never got (it ran as primary
    /// after the split): they are discarded and the node gets a full copy (SST)
    #[arg(long)]
    pub discard_divergent: bool,
    /// Proceed during a maintenance or with an unreadable Gluster heal backlog; also takes
    /// over the cluster lock of another operation. Split-brain files are never overridden.
    #[arg(long)]
    pub force: bool,
}
