use clap::Args;

#[derive(Debug, Args)]
pub struct FailoverArgs {
    /// Print the preflight and the plan, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Proceed even when the old active cannot be confirmed down or fenced
    /// (risk of split brain: you must know it is dead), or during a maintenance
    #[arg(long)]
    pub force: bool,
}
