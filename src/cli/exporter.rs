use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("mode").required(true).args(["listen", "textfile"]))]
pub struct ExporterArgs {
    /// Serve Prometheus metrics on ADDR (GET /metrics; /metrics?cluster=NAME for one cluster),
    /// e.g. 127.0.0.1:9181
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Instead of serving: write DIR/pairctl.prom every --interval (temporary file, then
    /// rename) for node_exporter's textfile collector
    #[arg(long, value_name = "DIR", conflicts_with = "listen")]
    pub textfile: Option<PathBuf>,
    /// With --textfile: the time between rounds
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = super::parse_duration,
          requires = "textfile")]
    pub interval: std::time::Duration,
    /// With --textfile: write once and exit with the worst verdict's code (for cron or a timer)
    #[arg(long, requires = "textfile")]
    pub once: bool,
}
