use clap::Args;

#[derive(Debug, Args)]
pub struct SwapArgs {
    /// Print the preflight and the plan, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Override a named precondition (repeatable): replica-fresh, gluster-healed,
    /// services-ready, maintenance; `lock` takes over the cluster lock of another operation.
    /// Split brain and an unreachable standby are never overridden.
    #[arg(long, value_name = "PRECONDITION")]
    pub force: Vec<String>,
}
