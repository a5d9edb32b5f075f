//! swap: planned role exchange with both nodes healthy. The roles are files keepalived's track
//! script obeys: promote the standby (role active, the next epoch) and wait until it may take
//! the VIP, then demote the active (role standby), which goes to FAULT and hands the VIP over
//! at once; exchange the Galera votes, record the epoch in the cluster's database, wait for
//! k3s and every service on the new active, verify with the status machinery. Until the
//! demotion everything is put back on a failure or a Ctrl-C; after it the swap is finished.

use super::actions;
use super::{
    apply_force, next_epoch, plan, record, Executor, Failure, Interrupt, OperationReport, Outcome,
    Precondition, SCHEMA,
};
use crate::config::Config;
use crate::model::{CheckId, CheckResult, ClusterReport, Verdict};
use crate::probe::collect::NodeLink;
use crate::render::progress::Reporter;
use crate::transport::https::HttpsClient;
use crate::transport::ssh::SshSession;
use crate::transport::{Deadline, Exec, ProbeError};
use std::time::{Duration, Instant};

/// The preconditions `--force` may override by name.
pub const FORCEABLE: &[&str] = &[
    "standby-galera",
    "replica-fresh",
    "gluster-healed",
    "services-ready",
    "keepalived",
];

/// A check's result (ok or not) and detail; a missing check is not ok.
pub fn check_ok(report: &ClusterReport, id: CheckId, node: &str) -> (bool, String) {
    match report
        .checks
        .iter()
        .find(|c| c.name == id && c.node == node)
    {
        Some(c) => (c.result == CheckResult::Ok, c.detail.clone()),
        None => (false, format!("no {id} check for {node}")),
    }
}

fn all_ok(report: &ClusterReport, pred: impl Fn(CheckId) -> bool) -> (bool, String) {
    let bad: Vec<String> = report
        .checks
        .iter()
        .filter(|c| pred(c.name.id) && c.result != CheckResult::Ok)
        .map(|c| format!("{} {}: {}", c.name, c.node, c.detail))
        .collect();
    let n = report.checks.iter().filter(|c| pred(c.name.id)).count();
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
        .filter(|c| c.name == CheckId::Ssh && c.result != CheckResult::Ok)
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
    let (ok, detail) = check_ok(report, CheckId::Vip, "cluster");
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
        let (ok, detail) = check_ok(report, CheckId::Galera, standby);
        pre.push(Precondition::new(
            "standby-galera",
            ok,
            format!("{standby}: {detail}"),
            true,
        ));
        let (ok, detail) = check_ok(report, CheckId::Replica, standby);
        pre.push(Precondition::new(
            "replica-fresh",
            ok,
            format!("{standby}: {detail}"),
            true,
        ));
    }
    let (ok, detail) = all_ok(report, |id| {
        matches!(id, CheckId::GlusterPeers | CheckId::GlusterVolume)
    });
    pre.push(Precondition::new("gluster-healed", ok, detail, true));
    let (ok, detail) = all_ok(report, |id| {
        matches!(id, CheckId::Service | CheckId::Workloads)
    });
    pre.push(Precondition::new("services-ready", ok, detail, true));
    let (ok, detail) = all_ok(report, |id| id == CheckId::Keepalived);
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
    let (from, to) = pair.clone().unzip();
    let epoch = next_epoch(&report);
    let steps = match &pair {
        Some((a, s)) => plan(&[
            (s, format!("promote: role active, epoch {epoch}")),
            (
                s,
                "wait until keepalived may take the VIP (BACKUP)".to_string(),
            ),
            (
                a,
                format!("demote: role standby, epoch {epoch}; keepalived releases the VIP"),
            ),
            (s, format!("wait until it holds the VIP {}", cfg.vip)),
            (a, "wait until it no longer holds the VIP".to_string()),
            (s, "Galera vote 2 (pc.weight)".to_string()),
            (a, "Galera vote 1 (pc.weight)".to_string()),
            (s, format!("record epoch {epoch} in the cluster's database")),
            (s, "wait until k3s is running".to_string()),
            (
                s,
                "start the replica on the standby (litestream sync)".to_string(),
            ),
            (
                "cluster",
                format!(
                    "wait until {} services are Ready via the VIP",
                    cfg.k3s.services.len()
                ),
            ),
            ("cluster", format!("verify: healthy, {s} active")),
            ("both", "record the role change in the history".to_string()),
        ]),
        None => Vec::new(),
    };
    let (outcome, summary) = super::decide(&preflight, dry_run, "");
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

fn session<'a>(links: &'a [NodeLink], name: &str) -> Result<&'a SshSession, ProbeError> {
    crate::probe::collect::session_of(links, name)
        .ok_or_else(|| ProbeError::unreachable(format!("{name} is not connected")))
}

pub async fn execute(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    mut op: OperationReport,
    reporter: &dyn Reporter,
    interrupt: Interrupt,
) -> OperationReport {
    let started = Instant::now();
    let (Some(from), Some(to)) = (op.from.clone(), op.to.clone()) else {
        op.outcome = Outcome::Refused;
        return op;
    };
    let epoch = op.status.as_ref().map(next_epoch).unwrap_or(1);
    let vip = cfg.vip.to_string();
    let mut ex = Executor::with_interrupt(reporter, interrupt);
    let pair = Pair {
        from: &from,
        to: &to,
        epoch,
        vip: &vip,
    };
    let (outcome, summary) = match act(cfg, links, https, deadline, &pair, &mut ex).await {
        Ok(report) => {
            let summary = format!(
                "{} is active (holds the VIP, runs k3s), {from} is a healthy standby; epoch {epoch}",
                report.active.as_deref().unwrap_or("?"),
            );
            op.status = Some(report);
            (Outcome::Verified, summary)
        }
        Err((outcome, summary, report)) => {
            if report.is_some() {
                op.status = report;
            }
            (outcome, summary)
        }
    };
    let summary = match ex.interrupt.during() {
        Some(step) if outcome == Outcome::Failed => {
            format!("interrupted (Ctrl-C during `{step}`): put back. {summary}")
        }
        Some(step) => format!(
            "interrupted (Ctrl-C during `{step}`): the VIP was already moving, so the swap was finished. {summary}"
        ),
        None => summary,
    };
    op.finish(ex.records, outcome, summary, None, started);
    record(links, &op, "swap").await;
    op
}

struct Pair<'a> {
    from: &'a str,
    to: &'a str,
    /// The epoch this swap writes (the one before it is `epoch - 1`).
    epoch: u64,
    vip: &'a str,
}

/// Gives the roles back as they were (the VIP has not moved): `to` standby, `from` active.
async fn put_back(
    ex: &mut Executor<'_>,
    p: &Pair<'_>,
    old: &impl Exec,
    new: &impl Exec,
    demoted: bool,
) -> Result<(), ProbeError> {
    let back = Deadline::after(Duration::from_secs(10));
    let before = p.epoch - 1;
    if demoted {
        ex.step(
            p.from,
            "put back: role active",
            actions::set_role(old, "active", before, back),
        )
        .await?;
    }
    ex.step(
        p.to,
        "put back: role standby",
        actions::set_role(new, "standby", before, back),
    )
    .await?;
    ex.step(
        p.from,
        "put back: wait for the VIP",
        actions::wait_vip(old, p.vip, true, back),
    )
    .await
}

async fn act(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    p: &Pair<'_>,
    ex: &mut Executor<'_>,
) -> Result<ClusterReport, Failure> {
    let to = p.to;
    let old = session(links, p.from).map_err(|e| (Outcome::Failed, e.to_string(), None))?;
    let new = session(links, to).map_err(|e| (Outcome::Failed, e.to_string(), None))?;
    hand_over(p, old, new, deadline, ex).await?;
    let mut problems = released(p, old, deadline, ex).await;
    // The votes and the epoch row are written while k3s starts and the services come up
    // (nothing there waits on them): their steps are recorded once both are done.
    // So is the first sync of the new replica, as soon as litestream runs there.
    let (records, synced, started) = tokio::join!(
        settle(p, old, new, deadline),
        super::timed(actions::sync_replica(new, &cfg.k3s.state_path, deadline)),
        actions::start_services(ex, to, new, cfg, https, deadline)
    );
    let (votes, epoch) = records;
    if let Err(e) = ex.record("both", "Galera votes", votes) {
        problems.push(e.to_string());
    }
    if let Err(e) = ex.record(to, "record the epoch", epoch) {
        problems.push(format!("epoch row: {e}"));
    }
    if let Err(e) = ex.record(to, "start the replica", synced) {
        problems.push(format!("replica: {e}"));
    }
    if let Err(e) = started {
        problems.push(e.to_string());
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

fn put_back_failed(e: ProbeError) -> Failure {
    (
        Outcome::NotConverged,
        format!(
            "putting the roles back did not complete ({e}): check {} on both nodes",
            crate::probe::node::ROLE_FILE
        ),
        None,
    )
}

/// Moves the VIP: promote the standby, wait until keepalived there may take it, demote the
/// active, wait until the new one holds it. Until the VIP has moved, a failure or a Ctrl-C
/// puts the roles back (an error is how the swap ends).
async fn hand_over(
    p: &Pair<'_>,
    old: &SshSession,
    new: &SshSession,
    deadline: Deadline,
    ex: &mut Executor<'_>,
) -> Result<(), Failure> {
    let (from, to, vip) = (p.from, p.to, p.vip);
    ex.step(
        to,
        "promote",
        actions::set_role(new, "active", p.epoch, deadline),
    )
    .await
    .map_err(|e| (Outcome::Failed, format!("nothing changed: {e}"), None))?;
    let eligible = Deadline::after(deadline.cap(Duration::from_secs(10)));
    let ready = ex
        .step(
            to,
            "wait until it may take the VIP",
            actions::wait_vrrp(new, &["BACKUP", "MASTER"], eligible),
        )
        .await;
    // Until the demotion, a failure or a Ctrl-C puts everything back.
    if ready.is_err() || ex.interrupt.during().is_some() {
        let why = match ready {
            Err(e) => format!("{to} did not become eligible for the VIP ({e})"),
            Ok(_) => "stopped before the demotion".to_string(),
        };
        put_back(ex, p, old, new, false)
            .await
            .map_err(put_back_failed)?;
        return Err((
            Outcome::Failed,
            format!("{why}; roles put back, {from} is still active"),
            None,
        ));
    }
    if let Err(e) = ex
        .step(
            from,
            "demote",
            actions::set_role(old, "standby", p.epoch, deadline),
        )
        .await
    {
        put_back(ex, p, old, new, false)
            .await
            .map_err(put_back_failed)?;
        return Err((
            Outcome::Failed,
            format!("could not demote {from} ({e}); roles put back, {from} is still active"),
            None,
        ));
    }
    if let Err(e) = ex
        .step(
            to,
            "wait for the VIP",
            actions::wait_vip(new, vip, true, deadline),
        )
        .await
    {
        return Err(match put_back(ex, p, old, new, true).await {
            Ok(()) => (
                Outcome::Failed,
                format!("the VIP did not move ({e}); roles put back, {from} is still active"),
                None,
            ),
            Err(b) => {
                put_back_failed(b.map_message(|b| format!("the VIP did not move ({e}); {b}")))
            }
        });
    }
    Ok(())
}

/// After the VIP moved: the old active has released it. Returns the problems met (the verify
/// step reports them).
async fn released(
    p: &Pair<'_>,
    old: &SshSession,
    deadline: Deadline,
    ex: &mut Executor<'_>,
) -> Vec<String> {
    match ex
        .step(
            p.from,
            "wait until the VIP is released",
            actions::wait_vip(old, p.vip, false, deadline),
        )
        .await
    {
        Ok(()) => Vec::new(),
        Err(e) => vec![format!("split brain risk: {e}")],
    }
}

/// The votes follow the roles (the track scripts would apply them within a second too), both
/// at once, each node's result in the detail; then the epoch row. Each with the time it took,
/// for `Executor::record`.
async fn settle(
    p: &Pair<'_>,
    old: &SshSession,
    new: &SshSession,
    deadline: Deadline,
) -> (
    (actions::StepResult<()>, Duration),
    (actions::StepResult<()>, Duration),
) {
    let (from, to) = (p.from, p.to);
    let votes = super::timed(async {
        let (a, b) = tokio::join!(
            actions::set_weight(new, 2, deadline),
            actions::set_weight(old, 1, deadline)
        );
        match (a, b) {
            (Ok((_, a)), Ok((_, b))) => Ok(((), format!("{to} {a}, {from} {b}"))),
            (Err(e), _) => Err(e.map_message(|m| format!("{to}: {m}"))),
            (_, Err(e)) => Err(e.map_message(|m| format!("{from}: {m}"))),
        }
    })
    .await;
    let epoch = super::timed(actions::write_epoch_row(new, p.epoch, to, deadline)).await;
    (votes, epoch)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::probe::node::{EPOCH_FILE, ROLE_FILE};
    use crate::render::progress::Silent;
    use crate::transport::fake::FakeNode;
    use crate::transport::ProbeError;

    const VIP: &str = "10.213.57.10";
    const WITH_VIP: &str = include_str!("../../fixtures/ip/with-vip.json");

    fn pair() -> Pair<'static> {
        Pair {
            from: "n1",
            to: "n2",
            epoch: 8,
            vip: VIP,
        }
    }

    fn role_writes(node: &FakeNode) -> Vec<String> {
        node.commands()
            .into_iter()
            .filter(|c| c.contains(ROLE_FILE))
            .collect()
    }

    #[tokio::test]
    async fn put_back_after_the_demotion_restores_both_roles_at_the_old_epoch() {
        let old = FakeNode::new("n1")
            .answer(ROLE_FILE, "")
            .answer("ip -j addr", WITH_VIP);
        let new = FakeNode::new("n2").answer(ROLE_FILE, "");
        let reporter = Silent;
        let mut ex = Executor::new(&reporter);
        put_back(&mut ex, &pair(), &old, &new, true).await.unwrap();
        let old_writes = role_writes(&old);
        assert_eq!(old_writes.len(), 1, "{old_writes:?}");
        assert!(old_writes[0].contains(&format!("echo active > {ROLE_FILE}.new")));
        assert!(old_writes[0].contains(&format!("echo 7 > {EPOCH_FILE}.new")));
        let new_writes = role_writes(&new);
        assert_eq!(new_writes.len(), 1, "{new_writes:?}");
        assert!(new_writes[0].contains(&format!("echo standby > {ROLE_FILE}.new")));
        assert!(new_writes[0].contains(&format!("echo 7 > {EPOCH_FILE}.new")));
        let steps: Vec<(&str, &str, bool)> = ex
            .records
            .iter()
            .map(|r| (r.node.as_str(), r.action.as_str(), r.ok))
            .collect();
        assert_eq!(
            steps,
            [
                ("n1", "put back: role active", true),
                ("n2", "put back: role standby", true),
                ("n1", "put back: wait for the VIP", true),
            ]
        );
    }

    #[tokio::test]
    async fn put_back_before_the_demotion_leaves_the_old_active_alone() {
        let old = FakeNode::new("n1").answer("ip -j addr", WITH_VIP);
        let new = FakeNode::new("n2").answer(ROLE_FILE, "");
        let reporter = Silent;
        let mut ex = Executor::new(&reporter);
        put_back(&mut ex, &pair(), &old, &new, false).await.unwrap();
        assert!(role_writes(&old).is_empty(), "{:?}", old.commands());
        assert_eq!(role_writes(&new).len(), 1);
    }

    #[tokio::test]
    async fn a_failed_put_back_stops_and_says_which_node_and_why() {
        let old = FakeNode::new("n1")
            .answer(ROLE_FILE, "")
            .answer("ip -j addr", WITH_VIP);
        let new = FakeNode::new("n2").errs(
            ROLE_FILE,
            ProbeError::unreachable("n2: `mkdir -p /etc/pairctl`: cannot open a channel: closed"),
        );
        let reporter = Silent;
        let mut ex = Executor::new(&reporter);
        let e = put_back(&mut ex, &pair(), &old, &new, true)
            .await
            .unwrap_err();
        assert!(e.message.contains("cannot open a channel"), "{e}");
        let last = ex.records.last().unwrap();
        assert_eq!((last.node.as_str(), last.ok), ("n2", false));
        // The VIP wait is not attempted once a role could not be put back.
        assert!(
            !old.commands().iter().any(|c| c.contains("ip -j addr")),
            "{:?}",
            old.commands()
        );
    }
}
