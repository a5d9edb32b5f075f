//! `pairctl swap` and `pairctl failover`: connect, preflight and plan from a status round,
//! print the plan, confirm (prompt on a TTY, `--yes` otherwise — never a hang), act, verify.

use super::Context;
use crate::cli::OutputFormat;
use crate::error::{Error, Result};
use crate::plan::{self, failover, swap, OperationReport, Outcome};
use crate::probe::collect::connect_all;
use crate::render::progress::StepReporter;
use crate::render::{self, diag, out};
use crate::transport::https::HttpsClient;
use crate::transport::Deadline;
use std::time::{Duration, Instant};

/// Role changes wait for keepalived, k3s and Galera: a longer default than status's.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

pub enum Kind {
    Swap { force: Vec<String> },
    Failover { force: bool },
}

pub async fn run(ctx: &Context, kind: Kind, dry_run: bool) -> Result<u8> {
    let cfg = ctx.load_config()?;
    let https = HttpsClient::new(&cfg)?;
    let started = Instant::now();
    let timeout = ctx.timeout_or(DEFAULT_TIMEOUT);
    let deadline = Deadline::after(timeout.saturating_sub(Duration::from_millis(200)));
    // The preflight gets a short share: a dead node must not eat the time to act.
    let look = Deadline::after(deadline.cap(Duration::from_secs(8)));
    let links = connect_all(&cfg, look).await;
    super::status::warn_connect_problems(ctx, &links);
    let report = super::status::report(&cfg, &links, &https, look, started).await;
    let reporter = StepReporter::new(&ctx.style);

    let (op, situation) = match &kind {
        Kind::Swap { force } => {
            let report = with_restore_trial(&cfg, &links, report, look).await;
            (swap::prepare(&cfg, report, force, dry_run), None)
        }
        Kind::Failover { force } => {
            let (op, s) = failover::prepare(&cfg, &links, report, *force, dry_run, deadline).await;
            (op, s)
        }
    };
    if op.outcome == Outcome::Refused || dry_run {
        print(ctx, &op);
        return Ok(op.outcome.exit_code());
    }
    if ctx.style.format == OutputFormat::Table {
        out(&render::operation::plan(&op, &ctx.style));
    }
    if !confirm(ctx, &op)? {
        let mut op = op;
        op.outcome = Outcome::Refused;
        op.summary = "not confirmed: nothing changed".into();
        print(ctx, &op);
        return Ok(op.outcome.exit_code());
    }
    let op = match kind {
        Kind::Swap { .. } => swap::execute(&cfg, &links, &https, deadline, op, &reporter).await,
        Kind::Failover { .. } => match situation {
            Some(s) => failover::execute(&cfg, &links, &https, deadline, op, s, &reporter).await,
            None => op,
        },
    };
    print(ctx, &op);
    for link in &links {
        if let Some(s) = link.session() {
            s.close().await;
        }
    }
    Ok(op.outcome.exit_code())
}

/// swap hands the k3s state over through the replica: beyond the status round's `replica`
/// check (litestream replicating, the replica close behind), the standby must be able to
/// restore it. A trial `litestream restore` there (quick integrity check, scratch copy
/// removed) joins the check, so `replica-fresh` refuses a corrupt or incomplete replica.
async fn with_restore_trial(
    cfg: &crate::config::Config,
    links: &[crate::probe::collect::NodeLink],
    mut report: crate::model::ClusterReport,
    deadline: Deadline,
) -> crate::model::ClusterReport {
    use crate::probe::litestream;
    let Some(active) = report.active.clone() else {
        return report;
    };
    let Some(standby) = report.nodes.iter().find(|n| n.name != active) else {
        return report;
    };
    let standby = standby.name.clone();
    let Some(s) = crate::probe::collect::session_of(links, &standby) else {
        return report;
    };
    let trial = s
        .exec(
            &litestream::restore_trial_command(&cfg.k3s.replica_path),
            deadline.remaining(),
        )
        .await
        .and_then(|out| litestream::parse_restore(&out.stdout_str()))
        .map(|r| format!("trial restore to txid {:x} in {} ms", r.txid, r.duration_ms))
        .map_err(|e| format!("the replica on {standby} cannot be restored: {e}"));
    report.amend_replica(&standby, trial);
    report
}

fn confirm(ctx: &Context, op: &OperationReport) -> Result<bool> {
    super::confirm(
        ctx,
        op.kind,
        &format!(
            "{} {} -> {} on cluster {}: proceed?",
            op.kind,
            op.from.as_deref().unwrap_or("?"),
            op.to.as_deref().unwrap_or("?"),
            op.cluster
        ),
    )
}

fn print(ctx: &Context, op: &OperationReport) {
    match ctx.style.format {
        OutputFormat::Json => out(&render::json(op)),
        // Table, and the status-only formats (refused before any command runs).
        _ => {
            out(&render::operation::result(op, &ctx.style));
            if op.outcome != Outcome::Verified && op.outcome != Outcome::Planned && !ctx.style.quiet
            {
                diag(&format!("{}: {}", op.kind, op.summary));
            }
        }
    }
}

/// `pairctl history`: the role changes recorded on the nodes.
pub async fn history(ctx: &Context) -> Result<u8> {
    let cfg = ctx.load_config()?;
    let deadline = ctx.deadline();
    let links = connect_all(&cfg, deadline).await;
    super::status::warn_connect_problems(ctx, &links);
    if links.iter().all(|l| l.session().is_none()) {
        return Err(Error::new(
            crate::error::ErrorKind::Unknown,
            "no node reachable: cannot read the history",
        ));
    }
    let records = plan::actions::read_history(&links, deadline.remaining()).await;
    match ctx.style.format {
        OutputFormat::Json => out(&render::json(
            &serde_json::json!({"schema": plan::actions::HISTORY_SCHEMA, "changes": records}),
        )),
        // Table, and the status-only formats (refused before any command runs).
        _ => out(&render::operation::history(&records, &ctx.style)),
    }
    Ok(0)
}
