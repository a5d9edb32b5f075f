//! `pairctl swap` and `pairctl failover`: connect, preflight and plan from a status round,
//! print the plan, confirm (prompt on a TTY, `--yes` otherwise — never a hang), act, verify.

use super::Context;
use crate::error::{Error, Result};
use crate::plan::{self, failover, lock, swap, OperationReport, Outcome};
use crate::probe::collect::connect_all;
use crate::render::progress::{Layout, Monitor};
use crate::render::Format;
use crate::render::{self, diag, out};
use crate::transport::https::HttpsClient;
use crate::transport::Deadline;
use crate::transport::Exec;
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
    // The preflight gets a short share: a dead node must not eat the time to act. A swap with
    // a witness gets more: with the witness down, Gluster's heal info waits about 10 s for its
    // arbiter brick, and the swap needs that answer (the standby's brick healed).
    let look_share = match (&kind, &cfg.witness) {
        (Kind::Swap { .. }, Some(_)) => Duration::from_secs(16),
        _ => Duration::from_secs(8),
    };
    let look = Deadline::after(deadline.cap(look_share));
    // A failover looks at the old active from every side while connecting (see
    // `failover::connect`).
    let (links, views, services) = match &kind {
        Kind::Failover { .. } => {
            let c = failover::connect(&cfg, &https, look).await;
            (c.links, c.looks, c.services)
        }
        Kind::Swap { .. } => (
            connect_all(&cfg, look).await,
            failover::Looks::default(),
            None,
        ),
    };
    tracing::debug!("connected, the looks taken");
    super::status::warn_connect_problems(ctx, &links);
    // One role change at a time, cluster-wide: nothing is done before the lock is taken. The
    // cluster is looked at while it is being taken (the round only reads; a refusal discards
    // what it saw, and a holder that still acts keeps the lock until its own verify is done).
    let taking = async {
        if dry_run {
            return Ok(None);
        }
        let (what, force) = match &kind {
            Kind::Swap { force } => ("swap", force.iter().any(|f| f == "lock")),
            Kind::Failover { force } => ("failover", *force),
        };
        take_lock(ctx, &links, what, force, timeout)
            .await
            .map_err(|detail| refused(&cfg, what, detail.to_string()))
    };
    let (lock, seen) = tokio::join!(
        taking,
        look_at(&cfg, &links, &https, &kind, services, look, started)
    );
    let lock = match lock {
        Ok(l) => l,
        Err(op) => {
            print(ctx, &op);
            return Ok(op.outcome.exit_code());
        }
    };
    tracing::debug!("cluster lock taken");
    let code = act(
        ctx, &cfg, &links, &https, kind, &views, seen, dry_run, deadline, look,
    )
    .await;
    if let Some(l) = lock {
        l.release(&links, Duration::from_secs(5)).await;
    }
    for link in &links {
        if let Some(s) = link.session() {
            s.close().await;
        }
    }
    code
}

/// Takes the cluster lock (see `plan::lock`); a refusal is one sentence naming the holder.
/// `None` when no node answers (there is nothing to lock, and nothing can be changed).
pub async fn take_lock(
    ctx: &Context,
    links: &[crate::probe::collect::NodeLink],
    what: &str,
    force: bool,
    timeout: Duration,
) -> std::result::Result<Option<lock::ClusterLock>, LockRefused> {
    let req = lock::Request {
        what: what.to_string(),
        by: plan::actions::operator(),
        // Expires by itself when this pairctl dies: the command's own deadline and a margin.
        ttl: timeout + Duration::from_secs(30),
        force,
    };
    match lock::acquire(links, &req, Duration::from_secs(10)).await {
        Ok(l) => {
            for h in &l.taken_over {
                if !ctx.style.quiet {
                    diag(&format!(
                        "warning: took over the cluster lock (--force): {}",
                        h.describe()
                    ));
                }
            }
            Ok(Some(l))
        }
        // No node answers: nothing can be changed either, and the preflight says why.
        Err(lock::Refusal::Unreachable) => Ok(None),
        Err(refusal) => Err(LockRefused {
            refusal,
            force_flag: if what == "swap" {
                "--force lock"
            } else {
                "--force"
            },
        }),
    }
}

/// The cluster lock was not taken: who holds it, and the flag that takes it over.
#[derive(Debug, thiserror::Error)]
#[error(
    "refused, nothing changed: {}; wait until it is done, or take the lock over with {force_flag}",
    refusal.describe()
)]
pub struct LockRefused {
    refusal: lock::Refusal,
    force_flag: &'static str,
}

fn refused(cfg: &crate::config::Config, kind: &'static str, detail: String) -> OperationReport {
    OperationReport {
        schema: plan::SCHEMA,
        kind,
        cluster: cfg.name.clone(),
        from: None,
        to: None,
        dry_run: false,
        preflight: vec![plan::Precondition::new(
            "cluster-lock",
            false,
            detail.clone(),
            true,
        )],
        plan: Vec::new(),
        steps: Vec::new(),
        outcome: Outcome::Refused,
        summary: detail,
        status: None,
        elapsed_ms: 0,
    }
}

/// The status round, and for a swap the trial restores beside it (see `early_trials`).
async fn look_at(
    cfg: &crate::config::Config,
    links: &[crate::probe::collect::NodeLink],
    https: &HttpsClient,
    kind: &Kind,
    services: Option<Vec<crate::probe::ServiceFacts>>,
    look: Deadline,
    started: Instant,
) -> (crate::model::ClusterReport, Trials) {
    let round = crate::round::report_with_services(cfg, links, https, services, look, started);
    // A swap's trial restore of the standby's replica runs beside the round, on the node
    // whose role file says standby (the round then says whether that is the standby).
    let seen = match kind {
        Kind::Swap { .. } => tokio::join!(round, early_trials(cfg, links, look)),
        Kind::Failover { .. } => (round.await, Vec::new()),
    };
    tracing::debug!("status round done");
    seen
}

#[allow(clippy::too_many_arguments)]
async fn act(
    ctx: &Context,
    cfg: &crate::config::Config,
    links: &[crate::probe::collect::NodeLink],
    https: &HttpsClient,
    kind: Kind,
    views: &failover::Looks,
    (report, trials): (crate::model::ClusterReport, Trials),
    dry_run: bool,
    deadline: Deadline,
    look: Deadline,
) -> Result<u8> {
    let (cfg, links, https) = (cfg, links, https);
    let reporter = Monitor::new(&ctx.style, Layout::Steps);

    let (op, situation) = match &kind {
        Kind::Swap { force } => {
            let report = with_restore_trial(cfg, links, report, trials, look).await;
            let force: Vec<String> = force.iter().filter(|f| *f != "lock").cloned().collect();
            (swap::prepare(cfg, report, &force, dry_run), None)
        }
        Kind::Failover { force } => {
            let (op, s) =
                failover::prepare(cfg, links, views, report, *force, dry_run, deadline).await;
            (op, s)
        }
    };
    tracing::debug!("preflight done");
    if op.outcome == Outcome::Refused || dry_run {
        print(ctx, &op);
        return Ok(op.outcome.exit_code());
    }
    if ctx.style.format == Format::Table {
        out(&render::operation::plan(&op, &ctx.style));
    }
    if !confirm(ctx, &op)? {
        let mut op = op;
        op.outcome = Outcome::Refused;
        op.summary = "not confirmed: nothing changed".into();
        print(ctx, &op);
        return Ok(op.outcome.exit_code());
    }
    let interrupt = plan::Interrupt::default();
    // Registered now (not when the task first runs): a Ctrl-C from here on is noted.
    let sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| {
            Error::new(
                crate::error::ErrorKind::Failed,
                format!("cannot watch for Ctrl-C: {e}"),
            )
        })?;
    let listener = tokio::spawn(listen_for_ctrl_c(
        sigint,
        interrupt.clone(),
        ctx.style.quiet,
    ));
    let op = match kind {
        Kind::Swap { .. } => {
            swap::execute(cfg, links, https, deadline, op, &reporter, interrupt).await
        }
        Kind::Failover { .. } => match situation {
            Some(s) => {
                failover::execute(cfg, links, https, deadline, op, s, &reporter, interrupt).await
            }
            None => op,
        },
    };
    listener.abort();
    print(ctx, &op);
    Ok(op.outcome.exit_code())
}

/// The first Ctrl-C is noted (the plan finishes or puts back the step in flight and says
/// which); a second one leaves at once, saying what was in flight.
pub async fn listen_for_ctrl_c(
    mut sigint: tokio::signal::unix::Signal,
    interrupt: plan::Interrupt,
    quiet: bool,
) {
    while sigint.recv().await.is_some() {
        if interrupt.signal() {
            if !quiet {
                diag(&format!(
                    "Ctrl-C: finishing or putting back `{}` (Ctrl-C again to leave at once)",
                    interrupt.during().unwrap_or_default()
                ));
            }
        } else {
            diag("second Ctrl-C: leaving now; run `pairctl status` to see the state left");
            std::process::exit(2);
        }
    }
}

/// Trial restores run ahead: (node, its output).
type Trials = Vec<(
    String,
    std::result::Result<String, crate::transport::ProbeError>,
)>;

/// Printed instead of a trial restore by a node whose role file does not say standby.
const NOT_STANDBY: &str = "@@pairctl-not-standby";

/// The trial restore (see `with_restore_trial`) on every connected node whose role file says
/// standby, all at once: (node, its output), the others leaving theirs out.
async fn early_trials(
    cfg: &crate::config::Config,
    links: &[crate::probe::collect::NodeLink],
    deadline: Deadline,
) -> Trials {
    // The standby also opens its SSH master to the active, in the background: the hand-over
    // waits through it for the old active's final sync (`k3s-state restore`), and a fresh
    // OpenSSH handshake there is most of that wait.
    let command = |l: &crate::probe::collect::NodeLink| {
        let warm = cfg
            .nodes
            .iter()
            .find(|n| n.name != l.node.name)
            .map(|peer| {
                let ssh =
                    crate::probe::collect::peer_ssh_command(cfg, peer, cfg.ssh.connect_timeout);
                format!("{{ {ssh}; }} < /dev/null > /dev/null 2>&1 & ")
            })
            .unwrap_or_default();
        format!(
            "r=; read -r r < {} 2>/dev/null; [ \"$r\" = standby ] || {{ echo {NOT_STANDBY}; exit 0; }}; {warm}{}",
            crate::probe::node::ROLE_FILE,
            crate::probe::litestream::restore_trial_command(&cfg.k3s.replica_path)
        )
    };
    let asked = links.iter().filter_map(|l| {
        let s = l.session()?;
        let command = command(l);
        Some(async move {
            let out = s
                .exec(&command, deadline.remaining())
                .await
                .map(|o| o.stdout_str());
            (l.node.name.clone(), out)
        })
    });
    futures::future::join_all(asked)
        .await
        .into_iter()
        .filter(|(_, out)| !matches!(out, Ok(text) if text.trim() == NOT_STANDBY))
        .collect()
}

/// swap hands the k3s state over through the replica: beyond the status round's `replica`
/// check (litestream replicating, the replica close behind), the standby must be able to
/// restore it. A trial `litestream restore` there (quick integrity check, scratch copy
/// removed) joins the check, so `replica-fresh` refuses a corrupt or incomplete replica: the
/// trial `early_trials` ran there beside the round, or one now.
async fn with_restore_trial(
    cfg: &crate::config::Config,
    links: &[crate::probe::collect::NodeLink],
    mut report: crate::model::ClusterReport,
    trials: Trials,
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
    let early = trials
        .into_iter()
        .find(|(n, _)| *n == standby)
        .map(|(_, out)| out);
    let out = match early {
        Some(out) => out,
        None => s
            .exec(
                &litestream::restore_trial_command(&cfg.k3s.replica_path),
                deadline.remaining(),
            )
            .await
            .map(|o| o.stdout_str()),
    };
    let trial = out
        .and_then(|text| litestream::parse_restore(&text))
        .map(|r| format!("trial restore to txid {:x} in {} ms", r.txid, r.duration_ms))
        .map_err(|e| e.context(format!("the replica on {standby} cannot be restored")));
    report.amend_replica(&standby, trial);
    report
}

pub fn confirm(ctx: &Context, op: &OperationReport) -> Result<bool> {
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

pub fn print(ctx: &Context, op: &OperationReport) {
    match ctx.style.format {
        Format::Json => out(&render::json(op)),
        // Table, and the status-only formats (refused before any command runs).
        _ => {
            out(&render::operation::result(op, &ctx.style));
            if op.outcome != Outcome::Verified && op.outcome != Outcome::Planned && !ctx.style.quiet
            {
                diag(&render::operation::summary(op));
            }
        }
    }
}

/// `pairctl history`: the role changes recorded on the nodes.
pub async fn history(ctx: &Context) -> Result<u8> {
    let cfg = ctx.load_config()?;
    let deadline = ctx.deadline();
    let links = connect_all(&cfg, deadline).await;
    if links.iter().all(|l| l.session().is_none()) {
        super::status::warn_connect_problems(ctx, &links);
        return Err(Error::new(
            crate::error::ErrorKind::Unknown,
            "no node reachable: cannot read the history",
        ));
    }
    let history = plan::actions::read_history(&links, deadline.remaining()).await;
    if !ctx.style.quiet {
        for problem in &history.unread {
            diag(&format!("warning: history incomplete: {problem}"));
        }
    }
    let records = history.records;
    match ctx.style.format {
        Format::Json => out(&render::json(
            &serde_json::json!({"schema": plan::actions::HISTORY_SCHEMA, "changes": records}),
        )),
        // Table, and the status-only formats (refused before any command runs).
        _ => out(&render::operation::history(&records, &ctx.style)),
    }
    Ok(0)
}
