use clap::Args;

#[derive(Debug, Args)]
pub struct FailoverArgs {
    /// Print the preflight and the plan, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Proceed even when the old active cannot be confirmed down or fenced (risk of split
    /// brain: you must know it is dead), when it holds writes the survivor lacks, or during a
    /// maintenance; also takes over the cluster lock of another operation
    #[arg(long)]
    pub force: bool,
}
