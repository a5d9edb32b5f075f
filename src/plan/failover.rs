//! failover: the standby takes over now, for when the active is sick or gone (the pair never
//! does it by itself). Fences what it can reach of the old active with a durable marker (no
//! VIP, no k3s, Galera vote 0; its database stopped when it is a primary of its own), restores
//! Galera quorum on the survivor only when the peer is confirmed down or fenced, makes the
//! survivor the active of the next epoch (role file, vote 2, the epoch row in the cluster's
//! database, which a returning old active reads and fences itself by), then verifies
//! convergence within the deadline. The fence stays until the node is rejoined.

use super::actions;
use super::{describe, next_epoch, record_with, SCHEMA};
use super::{plan, Executor, Failure, Interrupt, OperationReport, Outcome, Precondition};
use crate::config::Config;
use crate::model::{CheckId, ClusterReport, Impact};
use crate::probe::collect::NodeLink;
use crate::probe::galera::ClusterStatus;
use crate::probe::node::Fence;
use crate::render::progress::Reporter;
use crate::transport::https::HttpsClient;
use crate::transport::ssh::SshSession;
use crate::transport::Deadline;
use crate::transport::{Exec, ProbeError};
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
    /// The epoch the failover writes.
    pub epoch: u64,
    /// The survivor's last committed seqno before it takes over: the fork point a rejoin
    /// measures the returning node's divergence from.
    pub survivor_seqno: Option<u64>,
}

/// What one node said about its peer when asked at connect time (`connect`).
#[derive(Debug, Clone)]
pub struct PeerView {
    /// The node that looked.
    pub from: String,
    /// Its peer is down as it sees it (no ICMP answer, no SSH port), or why it cannot say.
    pub peer_down: Result<bool, crate::transport::ProbeError>,
}

/// What failover learns before the lock: the connections, each node's look at its peer, and
/// the services through the VIP.
pub struct Connected {
    pub links: Vec<NodeLink>,
    pub views: Vec<PeerView>,
    /// None when the ingress rides the nodes' connections (then the round asks).
    pub services: Option<Vec<crate::probe::ServiceFacts>>,
}

/// Connects to both nodes, and looks at the old active from every side at once: as soon as a
/// node's connection is up it is asked whether it still reaches its peer, while pairctl's own
/// connection to a dead node is still waiting, and the services are asked through the VIP at
/// the same time. A dead active so costs one connect timeout, not three (connect, then the
/// VIP it held, then the survivor's look). Reads only: the lock is taken after.
pub async fn connect(cfg: &Config, https: &HttpsClient, deadline: Deadline) -> Connected {
    let per_node = cfg.nodes.iter().map(|node| async move {
        let link = crate::probe::collect::connect_one(cfg, node, deadline).await;
        let peer = cfg.nodes.iter().find(|p| p.name != node.name);
        let view = match (link.session(), peer) {
            (Some(s), Some(peer)) => Some(PeerView {
                from: node.name.clone(),
                peer_down: actions::confirm_down_from(
                    s.as_ref(),
                    &peer.address.to_string(),
                    deadline.cap(Duration::from_secs(5)),
                )
                .await,
            }),
            _ => None,
        };
        (link, view)
    });
    let services = async {
        if crate::probe::collect::ingress_direct(cfg) {
            Some(crate::probe::collect::services(cfg, https, deadline).await)
        } else {
            None
        }
    };
    let (per_node, services) = tokio::join!(futures::future::join_all(per_node), services);
    let (links, views): (Vec<_>, Vec<_>) = per_node.into_iter().unzip();
    Connected {
        links,
        views: views.into_iter().flatten().collect(),
        services,
    }
}

fn reachable(report: &ClusterReport, node: &str) -> bool {
    super::swap::check_ok(report, CheckId::Ssh, node).0
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

/// What `prepare` looks with: the connections, the views taken at connect time, whether the
/// operator forces, the command's deadline.
struct Look<'a> {
    cfg: &'a Config,
    links: &'a [NodeLink],
    views: &'a [PeerView],
    force: bool,
    deadline: Deadline,
}

pub async fn prepare(
    cfg: &Config,
    links: &[NodeLink],
    views: &[PeerView],
    report: ClusterReport,
    force: bool,
    dry_run: bool,
    deadline: Deadline,
) -> (OperationReport, Option<Situation>) {
    let look = Look {
        cfg,
        links,
        views,
        force,
        deadline,
    };
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
    let situation = match chosen {
        Some((from, to)) => Some(situate(&look, &report, from, to, &mut pre).await),
        None => None,
    };
    let steps = situation
        .as_ref()
        .map(|s| plan_steps(cfg, s))
        .unwrap_or_default();
    let hint = if pre
        .iter()
        .any(|p| p.name == "old-active-down" && p.blocks())
    {
        "; if you know the old active is dead (powered off, fenced out of band), re-run with --force"
    } else {
        ""
    };
    let (outcome, summary) = super::decide(&pre, dry_run, hint);
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

/// The situation of a failover from `from` to `to`, and its preconditions: the old active
/// fenced (it answers) or confirmed down, the writes it may hold, the survivor's Galera.
async fn situate(
    l: &Look<'_>,
    report: &ClusterReport,
    from: String,
    to: String,
    pre: &mut Vec<Precondition>,
) -> Situation {
    let from_address = l
        .cfg
        .node(&from)
        .map(|n| n.address.to_string())
        .unwrap_or_default();
    let from_reachable = reachable(report, &from);
    let survivor = crate::probe::collect::session_of(l.links, &to);
    let from_confirmed_down = if from_reachable {
        pre.push(Precondition::new(
            "old-active-fenced",
            true,
            format!("{from} answers: it will be fenced first"),
            false,
        ));
        false
    } else {
        confirm_down(l, survivor, &from, &to, &from_address, pre).await
    };
    let galera = match survivor {
        Some(s) => actions::galera_local(s, l.deadline.cap(Duration::from_secs(5))).await,
        None => Err(ProbeError::not_asked("no session")),
    };
    let needs_bootstrap = matches!(&galera, Ok(g) if g.cluster_status != ClusterStatus::Primary);
    // A reachable old active that kept quorum alone (a partition) may hold writes the
    // survivor never got: taking over would discard them.
    if from_reachable && needs_bootstrap {
        pre.push(writes_kept(l, &from, &to, &galera).await);
    }
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
    Situation {
        from,
        to,
        from_address,
        from_reachable,
        from_confirmed_down,
        needs_bootstrap,
        epoch: next_epoch(report),
        survivor_seqno: galera.as_ref().ok().and_then(|g| g.last_committed),
    }
}

/// An old active pairctl cannot reach: is it down as the survivor sees it (its look taken at
/// connect time, or now when there is none) and, with a witness, as the witness sees it (asked
/// at the same time)? Pushes both preconditions; true when the survivor confirms it down.
async fn confirm_down(
    l: &Look<'_>,
    survivor: Option<&SshSession>,
    from: &str,
    to: &str,
    from_address: &str,
    pre: &mut Vec<Precondition>,
) -> bool {
    let early = l
        .views
        .iter()
        .find(|v| v.from == to)
        .map(|v| v.peer_down.clone());
    let seen = async {
        match (early, survivor) {
            (Some(seen), _) => seen,
            (None, Some(s)) => {
                actions::confirm_down_from(s, from_address, l.deadline.cap(Duration::from_secs(5)))
                    .await
            }
            (None, None) => Err(ProbeError::not_asked("no session")),
        }
    };
    // A live old active the witness still reaches is a partition, and bootstrapping the
    // survivor would make a second primary.
    let witness_view = async {
        match &l.cfg.witness {
            Some(w) => Some(crate::witness::reaches(l.cfg, w, from_address, l.deadline).await),
            None => None,
        }
    };
    let (seen, witness_view) = tokio::join!(seen, witness_view);
    let confirmed = seen == Ok(true);
    if let (Some(w), Some(view)) = (&l.cfg.witness, witness_view) {
        let mut p = Precondition::new(
            "witness-view",
            view != Ok(true),
            match &view {
                Ok(true) => format!("the witness {} still reaches {from}: it is alive (a partition), a failover would make a second primary", w.name),
                Ok(false) => format!("the witness {} cannot reach {from} either", w.name),
                Err(e) => format!("the witness {} cannot be asked ({e}): its view is not part of the decision", w.name),
            },
            true,
        );
        p.forced = l.force && !p.ok;
        pre.push(p);
    }
    let mut p = Precondition::new(
        "old-active-down",
        confirmed,
        match &seen {
            Ok(true) => format!("{from} is unreachable from pairctl and from {to}: confirmed down"),
            Ok(false) => format!("{from} does not answer pairctl but {to} still reaches it: not confirmed down (would risk two actives)"),
            Err(e) => format!("cannot ask {to} whether {from} is down: {e}"),
        },
        true,
    );
    p.forced = l.force && !p.ok;
    pre.push(p);
    confirmed
}

/// `no-writes-lost`: a reachable old active whose Galera is ahead of the survivor's (it kept
/// quorum alone in a partition) holds writes a failover would discard.
async fn writes_kept(
    l: &Look<'_>,
    from: &str,
    to: &str,
    galera: &Result<crate::probe::galera::GaleraFacts, ProbeError>,
) -> Precondition {
    let old_galera = match crate::probe::collect::session_of(l.links, from) {
        Some(o) => actions::galera_local(o, l.deadline.cap(Duration::from_secs(5)))
            .await
            .ok(),
        None => None,
    };
    let (ahead, detail) = match (&old_galera, galera) {
        (Some(o), Ok(n)) => match (o.last_committed, n.last_committed) {
            // Galera 4 gives the configuration change that dropped the peer a seqno of
            // its own on the side that kept quorum: one step ahead is that, not data.
            (Some(a), Some(b)) if a > b + 1 => (
                true,
                format!("{from} committed {} transaction(s) {to} does not have (seqno {a} against {b}, less the view change that dropped {to}): a failover discards them", a - b - 1),
            ),
            (Some(a), Some(b)) => (false, format!("{to} has every transaction {from} committed (seqno {b}, {from} {a})")),
            _ => (false, "the seqnos could not be compared".to_string()),
        },
        _ => (false, format!("{from}'s Galera could not be asked")),
    };
    let mut p = Precondition::new("no-writes-lost", !ahead, detail, true);
    p.forced = l.force && ahead;
    p
}

/// The plan shown before acting.
fn plan_steps(cfg: &Config, s: &Situation) -> Vec<super::PlanStep> {
    let mut steps: Vec<(&str, String)> = Vec::new();
    if s.from_reachable {
        steps.push((
            &s.from,
            format!("fence: the durable marker (epoch {}): keepalived releases the VIP, k3s and ingress stop, until rejoined", s.epoch),
        ));
        if s.needs_bootstrap {
            steps.push((
                &s.from,
                "fence: stop mariadb (so it cannot form a second primary)".into(),
            ));
        } else {
            steps.push((&s.from, "fence: Galera vote 0 (pc.weight)".into()));
        }
        steps.push((&s.from, "wait until it no longer holds the VIP".into()));
    }
    if s.needs_bootstrap {
        steps.push((
            &s.to,
            "bootstrap Galera as the primary component (pc.bootstrap)".into(),
        ));
    }
    if s.from_confirmed_down {
        steps.push((
            &s.to,
            "note the old active down (k3s's state hand-over does not wait for it)".into(),
        ));
    }
    steps.push((&s.to, format!("promote: role active, epoch {}", s.epoch)));
    steps.push((&s.to, "Galera vote 2 (pc.weight)".into()));
    steps.push((
        &s.to,
        format!("record epoch {} in the cluster's database", s.epoch),
    ));
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
    steps.push((
        "cluster",
        format!("verify: {} active, services Ready, Galera Primary", s.to),
    ));
    steps.push(("both", "record the role change in the history".into()));
    plan(&steps)
}

#[allow(clippy::too_many_arguments)]
pub async fn execute(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    mut op: OperationReport,
    situation: Situation,
    reporter: &dyn Reporter,
    interrupt: Interrupt,
) -> OperationReport {
    let started = Instant::now();
    let mut ex = Executor::with_interrupt(reporter, interrupt);
    let (outcome, summary, status) = act(cfg, links, https, deadline, &situation, &mut ex).await;
    // A failover is not put back: once the old active is fenced the survivor must take over.
    let summary = match ex.interrupt.during() {
        Some(step) => format!(
            "interrupted (Ctrl-C during `{step}`): a failover is finished, not put back. {summary}"
        ),
        None => summary,
    };
    op.finish(ex.records, outcome, summary, status, started);
    record_with(links, &op, "failover", situation.survivor_seqno).await;
    op
}

/// The nodes in a Galera member's component: its members with an incoming address (garbd,
/// a witness's arbitrator, announces none), or the size when the addresses are not known.
fn nodes_in_component(g: &crate::probe::galera::GaleraFacts) -> u64 {
    if g.incoming_addresses.is_empty() {
        g.cluster_size
    } else {
        g.incoming_addresses.len() as u64
    }
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
    let needs_bootstrap = match old {
        // Fence the old active first, so that at no moment two nodes hold the VIP.
        Some(old) => match fence_old(links, old, s, &vip, deadline, ex).await {
            Ok(()) => s.needs_bootstrap,
            Err(f) => return f,
        },
        None => match survivor_alone(new, s, deadline, ex).await {
            Ok(non_primary) => non_primary,
            Err(f) => return f,
        },
    };
    if needs_bootstrap {
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
                format!(
                    "acted but did not converge: Galera bootstrap failed: {e}. {}",
                    observed(links, s, &vip).await
                ),
                None,
            );
        }
    }
    let mut problems = promote(new, s, &vip, deadline, ex).await;
    if problems.is_empty() {
        if let Err(e) = actions::start_services(ex, &s.to, new, cfg, https, deadline).await {
            problems.push(e.to_string());
        }
    }
    let to = s.to.clone();
    let (verified, last) = actions::verify_step(ex, cfg, links, https, deadline, &problems, |r| {
        r.active.as_deref() == Some(to.as_str())
            && !r.checks.iter().any(|c| c.impact == Some(Impact::Critical))
    })
    .await;
    let seen = observed(links, s, &vip).await;
    match verified {
        Ok(()) => (
            Outcome::Verified,
            format!(
                "{} is active; {}. {seen}",
                s.to,
                last.as_ref().map(describe).unwrap_or_default()
            ),
            last,
        ),
        Err(e) => (
            Outcome::NotConverged,
            format!("acted but did not converge: {e}. {seen}"),
            last,
        ),
    }
}

/// Fences the reachable old active: the durable marker, then its database stopped (the
/// survivor is to be bootstrapped: two primaries otherwise) or its vote 0, then waits until it
/// no longer holds the VIP. An error is how the failover ends.
async fn fence_old<S: Exec>(
    links: &[NodeLink<S>],
    old: &S,
    s: &Situation,
    vip: &str,
    deadline: Deadline,
    ex: &mut Executor<'_>,
) -> Result<(), Failure> {
    let marker = Fence {
        by: "failover".into(),
        time: actions::now_rfc3339(),
        epoch: Some(s.epoch),
        reason: format!("failover to {} by {}", s.to, actions::operator()),
    };
    if let Err(e) = ex
        .step(&s.from, "fence", actions::fence(old, &marker, deadline))
        .await
    {
        return Err((
            Outcome::Failed,
            format!("could not fence {}: {e}; nothing changed", s.from),
            None,
        ));
    }
    if s.needs_bootstrap {
        let stop = async {
            let limit = deadline.cap(Duration::from_secs(30));
            actions::run_ok(old, "systemctl stop mariadb", limit).await?;
            Ok(((), "mariadb stopped".to_string()))
        };
        if let Err(e) = ex.step(&s.from, "fence: stop mariadb", stop).await {
            // Bootstrapping the survivor now would make two primaries.
            return Err((
                Outcome::NotConverged,
                format!(
                    "{} is fenced but its database could not be stopped ({e}), so {} was not bootstrapped (two primaries). {}",
                    s.from, s.to, observed(links, s, vip).await
                ),
                None,
            ));
        }
    } else if let Err(e) = ex
        .step(
            &s.from,
            "fence: Galera vote 0",
            actions::set_weight(old, 0, deadline),
        )
        .await
    {
        tracing::warn!(%e, "vote 0 on the fenced node");
    }
    if let Err(e) = ex
        .step(
            &s.from,
            "wait until the VIP is released",
            actions::wait_vip(old, vip, false, deadline),
        )
        .await
    {
        return Err((
            Outcome::NotConverged,
            format!(
                "{} is fenced but did not release the VIP ({e}). {}",
                s.from,
                observed(links, s, vip).await
            ),
            None,
        ));
    }
    Ok(())
}

/// An old active out of reach: waits until the survivor's Galera has noticed the loss (it
/// suspects a silent peer after about 5 s, 3 s with a witness); then it is non-Primary (its
/// vote alone is 1 of 3), or Primary with garbd (a witness: 2 of 3). Ok(true): it must be
/// bootstrapped.
async fn survivor_alone(
    new: &SshSession,
    s: &Situation,
    deadline: Deadline,
    ex: &mut Executor<'_>,
) -> Result<bool, Failure> {
    let gone = async {
        let hit = super::poll(
            deadline.cap(Duration::from_secs(20)),
            actions::POLL * 3,
            || async {
                actions::galera_local(new, deadline.cap(Duration::from_secs(3)))
                    .await
                    .ok()
                    .filter(|g| {
                        nodes_in_component(g) < 2 || g.cluster_status != ClusterStatus::Primary
                    })
            },
        )
        .await;
        match hit {
            Some(g) => Ok((
                g.cluster_status != ClusterStatus::Primary,
                format!("{}, size {}", g.cluster_status.as_str(), g.cluster_size),
            )),
            None => Err(ProbeError::timed_out(format!(
                "{}'s Galera still counts {} as a member",
                s.to, s.from
            ))),
        }
    };
    ex.step(&s.to, "Galera: the old active is gone", gone)
        .await
        .map_err(|e| {
            (
                Outcome::Failed,
                format!("{e}: not taking over; nothing changed"),
                None,
            )
        })
}

/// Makes the survivor the active of the new epoch: role, vote 2, the epoch row, keepalived
/// running, the VIP on it. Returns the problems met (the verify step reports them).
async fn promote(
    new: &SshSession,
    s: &Situation,
    vip: &str,
    deadline: Deadline,
    ex: &mut Executor<'_>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if s.from_confirmed_down {
        let note = actions::note_peer_down(new, &s.from_address, &s.from, deadline);
        if let Err(e) = ex.step(&s.to, "note the old active down", note).await {
            // Only a shortcut is lost: k3s's hand-over tries the old active and gives up.
            tracing::warn!(%e, "the peer-down note");
        }
    }
    if let Err(e) = ex
        .step(
            &s.to,
            "promote",
            actions::set_role(new, "active", s.epoch, deadline),
        )
        .await
    {
        problems.push(e.to_string());
    }
    if let Err(e) = ex
        .step(&s.to, "Galera vote", actions::set_weight(new, 2, deadline))
        .await
    {
        problems.push(e.to_string());
    }
    if let Err(e) = ex
        .step(
            &s.to,
            "record the epoch",
            actions::write_epoch_row(new, s.epoch, &s.to, deadline),
        )
        .await
    {
        problems.push(format!("epoch row: {e}"));
    }
    let keepalived = async {
        let cmd = "systemctl is-active keepalived || systemctl start keepalived";
        actions::run_ok(new, cmd, deadline.cap(Duration::from_secs(15))).await?;
        Ok(((), "active".to_string()))
    };
    if let Err(e) = ex.step(&s.to, "keepalived running", keepalived).await {
        problems.push(e.to_string());
    }
    if let Err(e) = ex
        .step(
            &s.to,
            "wait for the VIP",
            actions::wait_vip(new, vip, true, deadline),
        )
        .await
    {
        problems.push(e.to_string());
    }
    problems
}

/// The state left, as observed now: who holds the VIP, whether the old active's marker is
/// there (or that it is out of reach and fences itself when it returns).
async fn observed<S: Exec>(links: &[NodeLink<S>], s: &Situation, vip: &str) -> String {
    let vip_of = |name: &str| {
        let name = name.to_string();
        async move {
            match crate::probe::collect::session_of(links, &name) {
                Some(sess) => actions::holds_vip(sess, vip, Duration::from_secs(3))
                    .await
                    .ok(),
                None => None,
            }
        }
    };
    let mut parts = Vec::new();
    for name in [&s.to, &s.from] {
        match vip_of(name).await {
            Some(true) => parts.push(format!("{name} holds the VIP")),
            Some(false) => parts.push(format!("{name} does not hold the VIP")),
            None => parts.push(format!("{name} cannot be asked")),
        }
    }
    let fence = match crate::probe::collect::session_of(links, &s.from) {
        Some(old) if s.from_reachable => {
            match actions::fence_present(old, Duration::from_secs(3)).await {
                Ok(true) => format!("{} fenced (marker present)", s.from),
                Ok(false) => format!("{} NOT fenced (no marker)", s.from),
                Err(e) => format!("{} fence marker unknown ({e})", s.from),
            }
        }
        _ => format!(
            "{} out of reach: it fences itself when it returns and finds epoch {}",
            s.from, s.epoch
        ),
    };
    format!("State seen: {}; {fence}", parts.join(", "))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::nodes_in_component;
    use crate::probe::galera::parse_wsrep_text;

    /// The old active is gone from the survivor's component when one node is left in it:
    /// with a witness that component is Primary with garbd (size 2, one incoming address).
    #[test]
    fn garbd_is_not_a_node_of_the_component() {
        let both = include_str!("../../fixtures/galera/synced-primary.tsv");
        assert_eq!(nodes_in_component(&parse_wsrep_text(both).unwrap()), 2);
        // n1 evicted, garbd in: the size stays 2, one address is left.
        let with_garbd = both.replace("10.213.57.11:3306,10.213.57.12:3306", "10.213.57.12:3306,");
        let g = parse_wsrep_text(&with_garbd).unwrap();
        assert_eq!(g.cluster_size, 2);
        assert_eq!(nodes_in_component(&g), 1);
    }
}

#[cfg(test)]
#[path = "fence_tests.rs"]
mod fence_tests;
