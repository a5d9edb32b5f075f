use clap::Args;

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Print per stage and node exactly what would change; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Run only this stage
    #[arg(long, value_name = "STAGE", conflicts_with = "from")]
    pub only: Option<String>,
    /// Start at this stage (earlier stages are skipped)
    #[arg(long, value_name = "STAGE")]
    pub from: Option<String>,
}
