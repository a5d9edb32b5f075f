//! failover: the standby takes over now, for when the active is sick or gone. Fences what it
//! can reach of the old active (releases the VIP, stops k3s) so that at no moment two nodes
//! hold the VIP, restores Galera quorum on the survivor only when the peer is confirmed down
//! or fenced, then verifies convergence within the deadline.

use super::actions;
use super::swap::{describe, record, SCHEMA};
use super::{plan, Executor, OperationReport, Outcome, Precondition};
use crate::config::Config;
use crate::model::{CheckResult, ClusterReport, Impact};
use crate::probe::collect::NodeLink;
use crate::probe::galera::ClusterStatus;
use crate::render::progress::Reporter;
use crate::transport::https::HttpsClient;
use crate::transport::Deadline;
use std::time::{Duration, Instant};

/// What failover found before acting.
#[derive(Debug, Clone)]
pub struct Situation {
    pub from: String,
    pub to: String,
    pub from_address: String,
    /// The old active answers over SSH: it will be fenced.
    pub from_reachable: bool,
    /// The survivor cannot reach the old active either (ICMP and SSH port).
    pub from_confirmed_down: bool,
    /// The survivor's Galera is not Primary: it must be re-bootstrapped.
    pub needs_bootstrap: bool,
}

fn reachable(report: &ClusterReport, node: &str) -> bool {
    report
        .checks
        .iter()
        .any(|c| c.name == "ssh" && c.node == node && c.result == CheckResult::Ok)
}

/// Chooses who takes over: the reachable node that is not the active; if only one node is
/// reachable, that one (it may already hold the VIP after keepalived's own failover).
pub fn choose(report: &ClusterReport) -> Option<(String, String)> {
    let names: Vec<&str> = report.nodes.iter().map(|n| n.name.as_str()).collect();
    let up: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| reachable(report, n))
        .collect();
    let other = |n: &str| names.iter().copied().find(|m| *m != n).map(String::from);
    match up.as_slice() {
        [one] => other(one).map(|from| (from, one.to_string())),
        [_, _] => {
            let active = report.active.clone().or_else(|| {
                report
                    .nodes
                    .iter()
                    .find(|n| n.role == crate::model::Role::Unknown)
                    .map(|n| n.name.clone())
            });
            match active {
                Some(a) => other(&a).map(|to| (a, to)),
                None => Some((names[0].to_string(), names[1].to_string())),
            }
        }
        _ => None,
    }
}

pub async fn prepare(
    cfg: &Config,
    links: &[NodeLink],
    report: ClusterReport,
    force: bool,
    dry_run: bool,
    deadline: Deadline,
) -> (OperationReport, Option<Situation>) {
    let mut maintenance = super::maintenance_precondition(&report);
    maintenance.forced = force && !maintenance.ok;
    let mut pre = vec![maintenance];
    let chosen = choose(&report);
    pre.push(Precondition::new(
        "target-reachable",
        chosen.is_some(),
        match &chosen {
            Some((_, to)) => format!("{to} answers over SSH and takes over"),
            None => "no node answers over SSH".to_string(),
        },
        false,
    ));
    let mut situation = None;
    if let Some((from, to)) = chosen {
        let from_address = cfg
            .node(&from)
            .map(|n| n.address.to_string())
            .unwrap_or_default();
        let from_reachable = reachable(&report, &from);
        let survivor = links
            .iter()
            .find(|l| l.node.name == to)
            .and_then(|l| l.session())
            .cloned();
        let mut from_confirmed_down = false;
        if from_reachable {
            pre.push(Precondition::new(
                "old-active-fenced",
                true,
                format!("{from} answers: it will be fenced first"),
                false,
            ));
        } else {
            let seen = match &survivor {
                Some(s) => {
                    actions::confirm_down_from(
                        s,
                        &from_address,
                        deadline.cap(Duration::from_secs(5)),
                    )
                    .await
                }
                None => Err("no session".into()),
            };
            from_confirmed_down = seen == Ok(true);
            let mut p = Precondition::new(
                "old-active-down",
                from_confirmed_down,
                match &seen {
                    Ok(true) => format!("{from} is unreachable from pairctl and from {to}: confirmed down"),
                    Ok(false) => format!("{from} does not answer pairctl but {to} still reaches it: not confirmed down (would risk two actives)"),
                    Err(e) => format!("cannot ask {to} whether {from} is down: {e}"),
                },
                true,
            );
            p.forced = force && !p.ok;
            pre.push(p);
        }
        let galera = match &survivor {
            Some(s) => actions::galera_local(s, deadline.cap(Duration::from_secs(5))).await,
            None => Err("no session".into()),
        };
        let needs_bootstrap =
            matches!(&galera, Ok(g) if g.cluster_status != ClusterStatus::Primary);
        pre.push(Precondition::new(
            "survivor-galera",
            galera.is_ok(),
            match &galera {
                Ok(g) if needs_bootstrap => format!(
                    "{to}: {} (size {}): will be re-bootstrapped as the primary component",
                    g.cluster_status.as_str(),
                    g.cluster_size
                ),
                Ok(g) => format!(
                    "{to}: {}, size {}",
                    g.cluster_status.as_str(),
                    g.cluster_size
                ),
                Err(e) => format!("{to}: {e}"),
            },
            false,
        ));
        situation = Some(Situation {
            from,
            to,
            from_address,
            from_reachable,
            from_confirmed_down,
            needs_bootstrap,
        });
    }

    let mut steps: Vec<(&str, String)> = Vec::new();
    if let Some(s) = &situation {
        if s.from_reachable {
            steps.push((
                &s.from,
                "fence: demote (keepalived releases the VIP, k3s and ingress stop)".into(),
            ));
            if s.needs_bootstrap {
                steps.push((
                    &s.from,
                    "fence: stop mariadb (so it cannot form a second primary)".into(),
                ));
            }
            steps.push((&s.from, "wait until it no longer holds the VIP".into()));
        }
        if s.needs_bootstrap {
            steps.push((
                &s.to,
                "bootstrap Galera as the primary component (pc.bootstrap)".into(),
            ));
        }
        steps.push((&s.to, "keepalived running".into()));
        steps.push((&s.to, format!("wait until it holds the VIP {}", cfg.vip)));
        steps.push((&s.to, "wait until k3s is running".into()));
        steps.push((
            "cluster",
            format!(
                "wait until {} services are Ready via the VIP",
                cfg.k3s.services.len()
            ),
        ));
        if s.from_reachable {
            steps.push((&s.from, "clear the fence: rejoin as standby".into()));
        }
        steps.push((
            "cluster",
            format!("verify: {} active, services Ready, Galera Primary", s.to),
        ));
        steps.push(("both", "record the role change in the history".into()));
    }
    let steps = plan(&steps);
    let blocked: Vec<String> = pre
        .iter()
        .filter(|p| p.blocks())
        .map(|p| format!("{} ({})", p.name, p.detail))
        .collect();
    let (outcome, summary) = if !blocked.is_empty() {
        let hint = if pre
            .iter()
            .any(|p| p.name == "old-active-down" && p.blocks())
        {
            "; if you know the old active is dead (powered off, fenced out of band), re-run with --force"
        } else {
            ""
        };
        (
            Outcome::Refused,
            format!("refused, nothing changed: {}{hint}", blocked.join("; ")),
        )
    } else if dry_run {
        (Outcome::Planned, "dry run: nothing changed".to_string())
    } else {
        (Outcome::Planned, String::new())
    };
    let op = OperationReport {
        schema: SCHEMA,
        kind: "failover",
        cluster: cfg.name.clone(),
        from: situation.as_ref().map(|s| s.from.clone()),
        to: situation.as_ref().map(|s| s.to.clone()),
        dry_run,
        preflight: pre,
        plan: steps,
        steps: Vec::new(),
        outcome,
        summary,
        status: Some(report),
        elapsed_ms: 0,
    };
    (op, situation)
}

pub async fn execute(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    mut op: OperationReport,
    situation: Situation,
    reporter: &dyn Reporter,
) -> OperationReport {
    let started = Instant::now();
    let mut ex = Executor::new(reporter);
    let (outcome, summary, status) = act(cfg, links, https, deadline, &situation, &mut ex).await;
    if status.is_some() {
        op.status = status;
    }
    op.steps = ex.records;
    op.outcome = outcome;
    op.summary = summary;
    op.elapsed_ms = started.elapsed().as_millis() as u64;
    record(links, &op, "failover").await;
    op
}

async fn act(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    s: &Situation,
    ex: &mut Executor<'_>,
) -> (Outcome, String, Option<ClusterReport>) {
    let vip = cfg.vip.to_string();
    let Some(new) = crate::probe::collect::session_of(links, &s.to) else {
        return (
            Outcome::Failed,
            format!("{} is not connected; nothing changed", s.to),
            None,
        );
    };
    let old = if s.from_reachable {
        crate::probe::collect::session_of(links, &s.from)
    } else {
        None
    };
    let mut stopped_mariadb = false;

    // Fence the old active first, so that at no moment two nodes hold the VIP.
    if let Some(old) = old {
        if let Err(e) = ex
            .step(&s.from, "fence: demote", actions::demote(old, deadline))
            .await
        {
            return (
                Outcome::Failed,
                format!("could not fence {}: {e}; nothing changed", s.from),
                None,
            );
        }
        if s.needs_bootstrap {
            let stop = async {
                let out = old
                    .exec(
                        "systemctl stop mariadb",
                        deadline.cap(Duration::from_secs(30)),
                    )
                    .await?;
                if out.success() {
                    Ok(((), "mariadb stopped".to_string()))
                } else {
                    Err(out.failure_summary())
                }
            };
            if let Err(e) = ex.step(&s.from, "fence: stop mariadb", stop).await {
                let _ = actions::undemote(old, Deadline::after(Duration::from_secs(5))).await;
                return (
                    Outcome::Failed,
                    format!(
                        "could not stop mariadb on {}: {e}; fence cleared, nothing else changed",
                        s.from
                    ),
                    None,
                );
            }
            stopped_mariadb = true;
        }
        if let Err(e) = ex
            .step(
                &s.from,
                "wait until the VIP is released",
                actions::wait_vip(old, &vip, false, deadline),
            )
            .await
        {
            let _ = actions::undemote(old, Deadline::after(Duration::from_secs(5))).await;
            return (
                Outcome::Failed,
                format!("{} did not release the VIP ({e}); fence cleared", s.from),
                None,
            );
        }
    }
    if s.needs_bootstrap {
        if let Err(e) = ex
            .step(
                &s.to,
                "bootstrap Galera",
                actions::galera_bootstrap(new, deadline),
            )
            .await
        {
            return (
                Outcome::NotConverged,
                state_left(s, &format!("Galera bootstrap failed: {e}"), stopped_mariadb),
                None,
            );
        }
    }
    let keepalived = async {
        let out = new
            .exec(
                "systemctl is-active keepalived || systemctl start keepalived",
                deadline.cap(Duration::from_secs(15)),
            )
            .await?;
        if out.success() {
            Ok(((), "active".to_string()))
        } else {
            Err(out.failure_summary())
        }
    };
    let mut problems = Vec::new();
    if let Err(e) = ex.step(&s.to, "keepalived running", keepalived).await {
        problems.push(e);
    }
    if let Err(e) = ex
        .step(
            &s.to,
            "wait for the VIP",
            actions::wait_vip(new, &vip, true, deadline),
        )
        .await
    {
        problems.push(e);
    }
    if problems.is_empty() {
        if let Err(e) = actions::start_services(ex, &s.to, new, cfg, https, deadline).await {
            problems.push(e);
        }
    }
    if let Some(old) = old {
        let rejoin = Deadline::after(deadline.remaining().max(Duration::from_secs(5)));
        let clear = async {
            actions::undemote(old, rejoin).await?;
            if stopped_mariadb {
                // Joins the survivor's primary component by state transfer: no need to wait.
                let _ = old
                    .exec(
                        "systemctl --no-block start mariadb",
                        rejoin.cap(Duration::from_secs(5)),
                    )
                    .await;
            }
            Ok(((), "rejoins as standby".to_string()))
        };
        if let Err(e) = ex.step(&s.from, "clear the fence", clear).await {
            problems.push(format!("{} is still fenced: {e}", s.from));
        }
    }
    let to = s.to.clone();
    // A fenced old active has rejoined once its keepalived left FAULT (the maintenance file
    // is gone and the track script said so): until then a swap back would be refused.
    let fenced = old.is_some().then(|| s.from.clone());
    let (verified, last) = actions::verify_step(ex, cfg, links, https, deadline, &problems, |r| {
        r.active.as_deref() == Some(to.as_str())
            && !r.checks.iter().any(|c| c.impact == Some(Impact::Critical))
            && fenced.as_ref().is_none_or(|from| {
                r.checks
                    .iter()
                    .filter(|c| c.name == "keepalived" && &c.node == from)
                    .all(|c| c.result == CheckResult::Ok)
            })
    })
    .await;
    match verified {
        Ok(()) => (
            Outcome::Verified,
            format!(
                "{} is active; {}",
                s.to,
                last.as_ref().map(describe).unwrap_or_default()
            ),
            last,
        ),
        Err(e) => (
            Outcome::NotConverged,
            state_left(s, &e, stopped_mariadb),
            last,
        ),
    }
}

fn state_left(s: &Situation, why: &str, stopped_mariadb: bool) -> String {
    let mut text = format!("acted but did not converge: {why}. State left: ");
    if s.from_reachable {
        text.push_str(&format!("{} fenced (maintenance file)", s.from));
        if stopped_mariadb {
            text.push_str(" with mariadb stopped");
        }
    } else {
        text.push_str(&format!("{} unreachable", s.from));
    }
    text.push_str(&format!(
        "; {} is meant to take over — run `pairctl status` for the details",
        s.to
    ));
    text
}
