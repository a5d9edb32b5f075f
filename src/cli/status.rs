use clap::Args;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Redraw every SECONDS (default 2) on the same connections until interrupted
    #[arg(short = 'w', long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "2",
          value_parser = super::parse_duration)]
    pub watch: Option<std::time::Duration>,
}
