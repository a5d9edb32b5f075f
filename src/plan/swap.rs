//! swap: planned role exchange with both nodes healthy. Demote the active through
//! keepalived's maintenance file so the VIP moves gracefully, wait for the VIP, k3s and every
//! service on the new active, clear the demotion so the old active settles as a healthy
//! standby (no preemption back), verify with the status machinery.

use super::actions;
use super::{apply_force, plan, Executor, OperationReport, Outcome, Precondition};
use crate::config::Config;
use crate::model::{CheckResult, ClusterReport, Verdict};
use crate::probe::collect::NodeLink;
use crate::render::progress::Reporter;
use crate::transport::https::HttpsClient;
use crate::transport::Deadline;
use std::time::{Duration, Instant};

pub const SCHEMA: &str = "pairctl.operation/1";

/// The preconditions `--force` may override by name.
pub const FORCEABLE: &[&str] = &[
    "standby-galera",
    "replica-fresh",
    "gluster-healed",
    "services-ready",
    "keepalived",
];

fn check_ok(report: &ClusterReport, name: &str, node: &str) -> (bool, String) {
    match report
        .checks
        .iter()
        .find(|c| c.name == name && c.node == node)
    {
        Some(c) => (c.result == CheckResult::Ok, c.detail.clone()),
        None => (false, format!("no {name} check for {node}")),
    }
}

fn all_ok(report: &ClusterReport, pred: impl Fn(&str) -> bool) -> (bool, String) {
    let bad: Vec<String> = report
        .checks
        .iter()
        .filter(|c| pred(&c.name) && c.result != CheckResult::Ok)
        .map(|c| format!("{} {}: {}", c.name, c.node, c.detail))
        .collect();
    let n = report.checks.iter().filter(|c| pred(&c.name)).count();
    if bad.is_empty() {
        (
            n > 0,
            if n > 0 {
                format!("{n} checks ok")
            } else {
                "no such checks".into()
            },
        )
    } else {
        (false, bad.join("; "))
    }
}

/// Preconditions from the status report: which node is active, and whether the standby is
/// fit to take over.
pub fn preflight(
    report: &ClusterReport,
    forced: &[String],
) -> (Vec<Precondition>, Option<(String, String)>) {
    let mut pre = vec![super::maintenance_precondition(report)];
    let unreachable: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.name == "ssh" && c.result != CheckResult::Ok)
        .map(|c| c.node.as_str())
        .collect();
    pre.push(Precondition::new(
        "both-reachable",
        unreachable.is_empty(),
        if unreachable.is_empty() {
            "both nodes answer over SSH".to_string()
        } else {
            format!("unreachable: {}", unreachable.join(", "))
        },
        false,
    ));
    let (ok, detail) = check_ok(report, "vip", "cluster");
    pre.push(Precondition::new("single-vip-holder", ok, detail, false));
    let pair = report.active.as_ref().and_then(|a| {
        report
            .nodes
            .iter()
            .find(|n| &n.name != a)
            .map(|s| (a.clone(), s.name.clone()))
    });
    pre.push(Precondition::new(
        "active-known",
        pair.is_some(),
        match &pair {
            Some((a, _)) => format!("{a} is active (holds the VIP, runs k3s)"),
            None => "no single active node".to_string(),
        },
        false,
    ));
    if let Some((_, standby)) = &pair {
        let (ok, detail) = check_ok(report, "galera", standby);
        pre.push(Precondition::new(
            "standby-galera",
            ok,
            format!("{standby}: {detail}"),
            true,
        ));
        let (ok, detail) = check_ok(report, "replica", standby);
        pre.push(Precondition::new(
            "replica-fresh",
            ok,
            format!("{standby}: {detail}"),
            true,
        ));
    }
    let (ok, detail) = all_ok(report, |n| {
        n == "gluster-peers" || n.starts_with("gluster-volume")
    });
    pre.push(Precondition::new("gluster-healed", ok, detail, true));
    let (ok, detail) = all_ok(report, |n| n.starts_with("service:") || n == "workloads");
    pre.push(Precondition::new("services-ready", ok, detail, true));
    let (ok, detail) = all_ok(report, |n| n == "keepalived");
    pre.push(Precondition::new("keepalived", ok, detail, true));
    let unknown = apply_force(&mut pre, forced);
    for name in unknown {
        pre.push(Precondition::new(
            "force",
            false,
            format!(
                "--force {name}: not an overridable precondition here (overridable: {})",
                FORCEABLE.join(", ")
            ),
            false,
        ));
    }
    (pre, pair)
}

pub fn prepare(
    cfg: &Config,
    report: ClusterReport,
    forced: &[String],
    dry_run: bool,
) -> OperationReport {
    let (preflight, pair) = preflight(&report, forced);
    let blocked: Vec<String> = preflight
        .iter()
        .filter(|p| p.blocks())
        .map(|p| format!("{} ({})", p.name, p.detail))
        .collect();
    let (from, to) = pair.clone().unzip();
    let steps = match &pair {
        Some((a, s)) => plan(&[
            (
                a,
                "demote: create the maintenance file; keepalived releases the VIP".to_string(),
            ),
            (s, format!("wait until it holds the VIP {}", cfg.vip)),
            (a, "wait until it no longer holds the VIP".to_string()),
            (s, "wait until k3s is running".to_string()),
            (
                "cluster",
                format!(
                    "wait until {} services are Ready via the VIP",
                    cfg.k3s.services.len()
                ),
            ),
            (
                a,
                "clear the demotion: settles as standby (no preemption)".to_string(),
            ),
            ("cluster", format!("verify: healthy, {s} active")),
            ("both", "record the role change in the history".to_string()),
        ]),
        None => Vec::new(),
    };
    let (outcome, summary) = if !blocked.is_empty() {
        (
            Outcome::Refused,
            format!("refused, nothing changed: {}", blocked.join("; ")),
        )
    } else if dry_run {
        (Outcome::Planned, "dry run: nothing changed".to_string())
    } else {
        (Outcome::Planned, String::new())
    };
    OperationReport {
        schema: SCHEMA,
        kind: "swap",
        cluster: cfg.name.clone(),
        from,
        to,
        dry_run,
        preflight,
        plan: steps,
        steps: Vec::new(),
        outcome,
        summary,
        status: Some(report),
        elapsed_ms: 0,
    }
}

fn session<'a>(
    links: &'a [NodeLink],
    name: &str,
) -> Result<&'a crate::transport::ssh::SshSession, String> {
    crate::probe::collect::session_of(links, name).ok_or_else(|| format!("{name} is not connected"))
}

pub async fn execute(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    mut op: OperationReport,
    reporter: &dyn Reporter,
) -> OperationReport {
    let started = Instant::now();
    let (Some(from), Some(to)) = (op.from.clone(), op.to.clone()) else {
        op.outcome = Outcome::Refused;
        return op;
    };
    let vip = cfg.vip.to_string();
    let mut ex = Executor::new(reporter);
    let (outcome, summary) = match act(cfg, links, https, deadline, &from, &to, &vip, &mut ex).await
    {
        Ok(report) => {
            op.status = Some(report);
            (
                Outcome::Verified,
                format!("{to} is active, {from} is a healthy standby"),
            )
        }
        Err((outcome, summary, report)) => {
            if report.is_some() {
                op.status = report;
            }
            (outcome, summary)
        }
    };
    op.steps = ex.records;
    op.outcome = outcome;
    op.summary = summary;
    op.elapsed_ms = started.elapsed().as_millis() as u64;
    record(links, &op, "swap").await;
    op
}

pub async fn record(links: &[NodeLink], op: &OperationReport, kind: &str) {
    let rec = actions::HistoryRecord {
        time: actions::now_rfc3339(),
        kind: kind.to_string(),
        from: op.from.clone(),
        to: op.to.clone(),
        outcome: serde_json::to_value(op.outcome)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        duration_ms: op.elapsed_ms,
        by: actions::operator(),
        detail: None,
    };
    let _ = actions::record_history(links, &rec, Duration::from_secs(5)).await;
}

type Failure = (Outcome, String, Option<ClusterReport>);

#[allow(clippy::too_many_arguments)]
async fn act(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    from: &str,
    to: &str,
    vip: &str,
    ex: &mut Executor<'_>,
) -> Result<ClusterReport, Failure> {
    let old = session(links, from).map_err(|e| (Outcome::Failed, e, None))?;
    let new = session(links, to).map_err(|e| (Outcome::Failed, e, None))?;

    ex.step(from, "demote", actions::demote(old, deadline))
        .await
        .map_err(|e| (Outcome::Failed, format!("nothing changed: {e}"), None))?;

    // Until the VIP is on the new node, everything can still be put back.
    if let Err(e) = ex
        .step(
            to,
            "wait for the VIP",
            actions::wait_vip(new, vip, true, deadline),
        )
        .await
    {
        let back = Deadline::after(Duration::from_secs(10));
        let undone = ex
            .step(
                from,
                "put back: clear the demotion",
                actions::undemote(old, back),
            )
            .await;
        let vip_back = ex
            .step(
                from,
                "put back: wait for the VIP",
                actions::wait_vip(old, vip, true, back),
            )
            .await;
        return Err(match (undone, vip_back) {
            (Ok(()), Ok(())) => (Outcome::Failed, format!("the VIP did not move ({e}); demotion cleared, {from} is still active"), None),
            _ => (
                Outcome::NotConverged,
                format!("the VIP did not move ({e}) and putting {from} back did not complete: check the maintenance file {} on {from}", crate::probe::node::MAINTENANCE_FILE),
                None,
            ),
        });
    }
    let mut problems = Vec::new();
    if let Err(e) = ex
        .step(
            from,
            "wait until the VIP is released",
            actions::wait_vip(old, vip, false, deadline),
        )
        .await
    {
        problems.push(format!("split brain risk: {e}"));
    }
    // Cleared as soon as the VIP has moved (and whatever happens next): keepalived leaves
    // FAULT for BACKUP (nopreempt: no move back) while k3s and the services start.
    let clear_deadline = Deadline::after(deadline.remaining().max(Duration::from_secs(5)));
    if let Err(e) = ex
        .step(
            from,
            "clear the demotion",
            actions::undemote(old, clear_deadline),
        )
        .await
    {
        problems.push(format!("{from} is still demoted: {e}"));
    }
    if let Err(e) = actions::start_services(ex, to, new, cfg, https, deadline).await {
        problems.push(e);
    }
    let to_owned = to.to_string();
    let (verified, last) = actions::verify_step(ex, cfg, links, https, deadline, &problems, |r| {
        r.verdict == Verdict::Healthy && r.active.as_deref() == Some(to_owned.as_str())
    })
    .await;
    match (verified, last) {
        (Ok(()), Some(report)) => Ok(report),
        (Ok(()), None) => Err((Outcome::NotConverged, "no status report".into(), None)),
        (Err(e), last) => Err((
            Outcome::NotConverged,
            format!("the VIP moved to {to} but the cluster did not converge: {e}"),
            last,
        )),
    }
}

/// One line for an operator: verdict, active, what is not ok.
pub fn describe(r: &ClusterReport) -> String {
    let bad: Vec<String> = r
        .failing()
        .map(|c| format!("{} {}: {}", c.name, c.node, c.detail))
        .collect();
    format!(
        "{}, active {}{}",
        r.verdict.as_str(),
        r.active.as_deref().unwrap_or("none"),
        if bad.is_empty() {
            String::new()
        } else {
            format!(" ({})", bad.join("; "))
        }
    )
}
