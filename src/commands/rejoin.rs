//! `pairctl rejoin [NODE]`: connect, take the cluster lock, gather the status round and the
//! divergence report, print the plan, confirm, act, verify (the contract of swap/failover).

use super::role_change::{confirm, listen_for_ctrl_c, take_lock};
use super::Context;
use crate::cli::rejoin::RejoinArgs;
use crate::error::{Error, ErrorKind, Result};
use crate::plan::rejoin::{self, Options, RejoinReport};
use crate::plan::{Interrupt, OperationReport, Outcome};
use crate::probe::collect::{connect_all, NodeLink};
use crate::render::progress::{Layout, Monitor};
use crate::render::Format;
use crate::render::{self, out};
use crate::transport::https::HttpsClient;
use crate::transport::Deadline;
use std::time::{Duration, Instant};

/// A full state transfer takes longer than a role change: a longer default deadline.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

impl From<RejoinArgs> for Options {
    fn from(a: RejoinArgs) -> Self {
        Options {
            node: a.node,
            discard_divergent: a.discard_divergent,
            force: a.force,
            dry_run: a.dry_run,
        }
    }
}

pub async fn run(ctx: &Context, o: Options) -> Result<u8> {
    let cfg = ctx.load_config()?;
    let https = HttpsClient::new(&cfg)?;
    let timeout = ctx.timeout_or(DEFAULT_TIMEOUT);
    let deadline = Deadline::after(timeout.saturating_sub(Duration::from_millis(200)));
    let look = Deadline::after(deadline.cap(Duration::from_secs(8)));
    let links = connect_all(&cfg, look).await;
    super::status::warn_connect_problems(ctx, &links);
    let lock = if o.dry_run {
        None
    } else {
        match take_lock(ctx, &links, "rejoin", o.force, timeout).await {
            Ok(l) => l,
            Err(detail) => {
                let op = rejoin::refused(&cfg, "cluster-lock", detail.to_string());
                print(ctx, &op, None);
                close(lock_none(), &links).await;
                return Ok(op.outcome.exit_code());
            }
        }
    };
    let code = act(ctx, &cfg, &links, &https, &o, deadline).await;
    close(lock, &links).await;
    code
}

fn lock_none() -> Option<crate::plan::lock::ClusterLock> {
    None
}

async fn close(lock: Option<crate::plan::lock::ClusterLock>, links: &[NodeLink]) {
    if let Some(l) = lock {
        l.release(links, Duration::from_secs(5)).await;
    }
    for link in links {
        if let Some(s) = link.session() {
            s.close().await;
        }
    }
}

async fn act(
    ctx: &Context,
    cfg: &crate::config::Config,
    links: &[NodeLink],
    https: &HttpsClient,
    o: &Options,
    deadline: Deadline,
) -> Result<u8> {
    let started = Instant::now();
    let look = Deadline::after(deadline.cap(Duration::from_secs(8)));
    let report = crate::round::report(cfg, links, https, look, started).await;
    let (node, active) = match rejoin::target(cfg, &report, o.node.as_deref()) {
        Ok(t) => t,
        Err(detail) => {
            let mut op = rejoin::refused(cfg, "target", detail.to_string());
            op.status = Some(report);
            print(ctx, &op, None);
            return Ok(op.outcome.exit_code());
        }
    };
    let gather = Deadline::after(deadline.cap(Duration::from_secs(90)));
    let joined_since = report
        .node(&node)
        .and_then(|n| n.fence.as_ref())
        .is_some_and(|f| f.by == "self");
    let mut findings = rejoin::gather(cfg, links, &node, &active, joined_since, gather).await;
    findings.replica_ok =
        crate::plan::swap::check_ok(&report, crate::model::CheckId::Replica, &node).0;
    let op = rejoin::prepare(cfg, report, &findings, o);
    if op.outcome != Outcome::Planned || o.dry_run {
        print(ctx, &op, Some(&findings.divergence));
        return Ok(op.outcome.exit_code());
    }
    if ctx.style.format == Format::Table {
        out(&render::operation::plan(&op, &ctx.style));
    }
    if !confirm(ctx, &op)? {
        let mut op = op;
        op.outcome = Outcome::Refused;
        op.summary = "not confirmed: nothing changed".into();
        print(ctx, &op, Some(&findings.divergence));
        return Ok(op.outcome.exit_code());
    }
    let interrupt = Interrupt::default();
    let sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| Error::new(ErrorKind::Failed, format!("cannot watch for Ctrl-C: {e}")))?;
    let listener = tokio::spawn(listen_for_ctrl_c(
        sigint,
        interrupt.clone(),
        ctx.style.quiet,
    ));
    let reporter = Monitor::new(&ctx.style, Layout::Steps);
    let op = rejoin::execute(
        cfg, links, https, deadline, op, &findings, &reporter, interrupt,
    )
    .await;
    listener.abort();
    print(ctx, &op, Some(&findings.divergence));
    Ok(op.outcome.exit_code())
}

fn print(ctx: &Context, op: &OperationReport, divergence: Option<&rejoin::Divergence>) {
    match ctx.style.format {
        Format::Json => out(&render::json(&RejoinReport {
            operation: op.clone(),
            divergence: divergence.cloned(),
        })),
        _ => super::role_change::print(ctx, op),
    }
}
