//! `pairctl status`: connect to both nodes once, gather every probe concurrently, judge,
//! render; with `--watch`, repeat on the same connections.

use super::Context;
use crate::cli::OutputFormat;
use crate::config::Config;
use crate::error::Result;
use crate::model::{judge, ClusterReport, Expectations};
use crate::probe::collect::{connect_all, gather, refresh_links, NodeLink};
use crate::render::{self, diag, out};
use crate::transport::https::HttpsClient;
use crate::transport::Deadline;
use std::time::{Duration, Instant};

pub fn expectations(cfg: &Config) -> Expectations {
    Expectations {
        cluster: cfg.name.clone(),
        vip: cfg.vip.to_string(),
        services: cfg.k3s.services.clone(),
        namespace: cfg.k3s.namespace.clone(),
        volumes: cfg.gluster.volumes.clone(),
        replica_max_age: cfg.k3s.replica_max_age,
    }
}

/// One round on existing connections: gather and judge.
pub async fn report(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    started: Instant,
) -> ClusterReport {
    let facts = gather(cfg, links, https, deadline).await;
    judge(&facts, &expectations(cfg), started.elapsed())
}

/// `report`, plus the witness's row and checks when the config has a `[witness]` (asked of
/// the nodes on the same connections, concurrently with the round). Only status shows the
/// witness as a row: the role changes read `report`, whose nodes are the pair.
pub async fn report_with_witness(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    started: Instant,
) -> ClusterReport {
    let round = gather(cfg, links, https, deadline);
    let witness = crate::witness::gather(cfg, links, deadline);
    let (facts, witness) = tokio::join!(round, witness);
    let mut report = judge(&facts, &expectations(cfg), started.elapsed());
    if let Some(w) = witness {
        crate::witness::amend(&mut report, &facts, &w);
        report.elapsed_ms = started.elapsed().as_millis() as u64;
    }
    report
}

/// Warns once about connections refused for host-key reasons: they need the operator.
pub fn warn_connect_problems(ctx: &Context, links: &[NodeLink]) {
    if ctx.style.quiet {
        return;
    }
    for link in links {
        if let Err(e) = &link.session {
            if let Some(hint) = &e.hint {
                diag(&format!("warning: {}\nHint: {hint}", e.message));
            }
        }
    }
}

pub async fn run(ctx: &Context, watch: Option<Duration>) -> Result<u8> {
    let cfg = ctx.load_config()?;
    let https = HttpsClient::new(&cfg)?;
    let started = ctx.started;
    let deadline = ctx.deadline();
    let mut links = connect_all(&cfg, deadline).await;
    warn_connect_problems(ctx, &links);
    let first = report_with_witness(&cfg, &links, &https, deadline, started).await;
    let Some(interval) = watch else {
        print(ctx, &first, false);
        return Ok(first.verdict.exit_code());
    };

    let mut last = first;
    loop {
        // The screen is redrawn only where the table is drawn, and only on a terminal:
        // `status --watch > file` gets the tables, never the screen control.
        if ctx.style.format == OutputFormat::Table && ctx.style.stdout_tty {
            out("\x1b[H\x1b[2J");
        }
        print(ctx, &last, true);
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = tokio::signal::ctrl_c() => return Ok(last.verdict.exit_code()),
        }
        let round_started = Instant::now();
        let deadline = Deadline::after(ctx.timeout_or(super::DEFAULT_TIMEOUT));
        refresh_links(&cfg, &mut links, deadline).await;
        last = report_with_witness(&cfg, &links, &https, deadline, round_started).await;
    }
}

fn print(ctx: &Context, report: &ClusterReport, watching: bool) {
    match ctx.style.format {
        // --watch -o json: one compact document per line (JSON Lines), one per refresh.
        OutputFormat::Json if watching => out(&format!(
            "{}\n",
            render::sanitize::json(report, false).unwrap_or_default()
        )),
        OutputFormat::Json => out(&render::json(report)),
        OutputFormat::Table => out(&render::status::table(report, &ctx.style)),
        OutputFormat::Prometheus => {
            let mut exposition = render::prometheus::Exposition::new();
            exposition.report(report);
            out(&exposition.render())
        }
        OutputFormat::Nagios => out(&render::nagios::render(report)),
    }
}
