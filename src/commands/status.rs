//! `pairctl status`: connect to both nodes once, gather every probe concurrently, judge,
//! render; with `--watch`, repeat on the same connections.

use super::Context;
use crate::error::Result;
use crate::model::ClusterReport;
use crate::probe::collect::{connect_all, refresh_links, NodeLink};
use crate::render::Format;
use crate::render::{self, diag, out};
use crate::round::report_with_witness;
use crate::transport::https::HttpsClient;
use crate::transport::Deadline;
use std::time::{Duration, Instant};

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

    // One listener for the whole watch: a Ctrl-C during a refresh round is not lost (a
    // listener created after the signal would never see it, and the handler keeps the
    // default action from ending the process).
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    let mut last = first;
    loop {
        // The screen is redrawn only where the table is drawn, and only on a terminal:
        // `status --watch > file` gets the tables, never the screen control.
        if ctx.style.format == Format::Table && ctx.style.stdout_tty {
            out("\x1b[H\x1b[2J");
        }
        print(ctx, &last, true);
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = interrupted(&mut sigint) => return Ok(last.verdict.exit_code()),
        }
        let round_started = Instant::now();
        let deadline = Deadline::after(ctx.timeout_or(super::DEFAULT_TIMEOUT));
        let round = async {
            refresh_links(&cfg, &mut links, deadline).await;
            report_with_witness(&cfg, &links, &https, deadline, round_started).await
        };
        tokio::select! {
            report = round => last = report,
            _ = interrupted(&mut sigint) => return Ok(last.verdict.exit_code()),
        }
    }
}

/// Resolves at the next SIGINT (never, when no listener could be installed).
async fn interrupted(sigint: &mut Option<tokio::signal::unix::Signal>) {
    match sigint {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

fn print(ctx: &Context, report: &ClusterReport, watching: bool) {
    match ctx.style.format {
        // --watch -o json: one compact document per line (JSON Lines), one per refresh.
        Format::Json if watching => out(&format!(
            "{}\n",
            render::sanitize::json(report, false).unwrap_or_default()
        )),
        Format::Json => out(&render::json(report)),
        Format::Table => out(&render::status::table(report, &ctx.style)),
        Format::Prometheus => {
            let mut exposition = render::prometheus::Exposition::new();
            exposition.report(report);
            out(&exposition.render())
        }
        Format::Nagios => out(&render::nagios::render(report)),
    }
}
