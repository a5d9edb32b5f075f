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
    /// ... and neither can the witness: every side has found the old active down.
    pub witness_confirmed_down: bool,
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

/// The witness's look at each node, taken at connect time: per node name, whether it still
/// reaches it; Err when the witness could not be asked.
pub type WitnessLooks = Result<Vec<(String, Result<bool, ProbeError>)>, ProbeError>;

/// The looks at the nodes taken at connect time: each node's at its peer, the witness's at
/// both (None without `[witness]`).
#[derive(Debug, Default)]
pub struct Looks {
    pub peers: Vec<PeerView>,
    pub witness: Option<WitnessLooks>,
}

impl Looks {
    /// What the witness said of `node`: Ok(true) it reaches it; None when it was not asked.
    fn witness_of(&self, node: &str) -> Option<Result<bool, ProbeError>> {
        match self.witness.as_ref()? {
            Ok(looks) => looks
                .iter()
                .find(|(n, _)| n == node)
                .map(|(_, r)| r.clone()),
            Err(e) => Some(Err(e.clone())),
        }
    }
}

/// What failover learns before the lock: the connections, the looks, and the services
/// through the VIP.
pub struct Connected {
    pub links: Vec<NodeLink>,
    pub looks: Looks,
    /// None when the ingress rides the nodes' connections (then the round asks).
    pub services: Option<Vec<crate::probe::ServiceFacts>>,
}

/// How long a look at a node waits for what a live node answers at once (an ICMP echo, the
/// TCP handshake of its SSH port): the survivor's and the witness's looks
/// (`actions::confirm_down_from`) and pairctl's own TCP look each give it this long. A live
/// kernel on the cluster's segment answers within milliseconds, also when its userland is
/// loaded or frozen (the handshake is the kernel's); a second is hundreds of times that.
pub const SILENCE: Duration = Duration::from_secs(1);

/// Who has found which node down so far, at connect time (node names).
#[derive(Debug, Clone, Default)]
struct Sightings {
    /// Its peer found it down (no ICMP, no SSH port).
    by_peer: Vec<String>,
    /// The witness does not reach it either.
    by_witness: Vec<String>,
}

impl Sightings {
    /// Down as the others see it: its peer and, with a witness, the witness found it down.
    fn down(&self, node: &str, with_witness: bool) -> bool {
        self.by_peer.iter().any(|n| n == node)
            && (!with_witness || self.by_witness.iter().any(|n| n == node))
    }
}

/// Connects to both nodes, and looks at the old active from every side at once: as soon as a
/// node's connection is up it is asked whether it still reaches its peer, the witness is asked
/// about both nodes, and the services are asked through the VIP, all while pairctl's own
/// connection to a dead node is still waiting. That connection is not waited for to its
/// timeout when pairctl's own TCP look got no answer for `SILENCE` and the others have found
/// the node down (its peer and, with a witness, the witness too): every side has then looked
/// for as long, and seen nothing. A dead active so costs one look, not a connect timeout
/// after it (nor the VIP it held, nor the witness's look after the round). Reads only: the
/// lock is taken after.
pub async fn connect(cfg: &Config, https: &HttpsClient, deadline: Deadline) -> Connected {
    let (said, heard) = tokio::sync::watch::channel(Sightings::default());
    let with_witness = cfg.witness.is_some();
    let per_node = cfg.nodes.iter().map(|node| {
        let (said, heard) = (&said, heard.clone());
        async move {
            let link = own_link(cfg, node, deadline, heard, with_witness).await;
            let peer = cfg.nodes.iter().find(|p| p.name != node.name);
            let view = match (link.session(), peer) {
                (Some(s), Some(peer)) => {
                    let peer_down = actions::confirm_down_from(
                        s.as_ref(),
                        &peer.address.to_string(),
                        deadline.cap(Duration::from_secs(5)),
                    )
                    .await;
                    if peer_down == Ok(true) {
                        said.send_modify(|s| s.by_peer.push(peer.name.clone()));
                    }
                    Some(PeerView {
                        from: node.name.clone(),
                        peer_down,
                    })
                }
                _ => None,
            };
            (link, view)
        }
    });
    let witness = async {
        let w = cfg.witness.as_ref()?;
        let looks = crate::witness::looks(cfg, w, deadline).await;
        if let Ok(looks) = &looks {
            said.send_modify(|s| {
                s.by_witness.extend(
                    looks
                        .iter()
                        .filter(|(_, reaches)| *reaches == Ok(false))
                        .map(|(n, _)| n.clone()),
                )
            });
        }
        Some(looks)
    };
    let services = async {
        if !crate::probe::collect::ingress_direct(cfg) {
            return None;
        }
        let asked = crate::probe::collect::services(cfg, https, deadline);
        Some(services_unless_down(cfg, asked, heard.clone(), with_witness).await)
    };
    let (per_node, witness, services) =
        tokio::join!(futures::future::join_all(per_node), witness, services);
    let (links, views): (Vec<_>, Vec<_>) = per_node.into_iter().unzip();
    Connected {
        links,
        looks: Looks {
            peers: views.into_iter().flatten().collect(),
            witness,
        },
        services,
    }
}

/// Returns once the sightings satisfy `seen`; never, should the sender go first (the
/// connect's other work ends the wait then).
async fn until(
    heard: &mut tokio::sync::watch::Receiver<Sightings>,
    seen: impl FnMut(&Sightings) -> bool,
) {
    if heard.wait_for(seen).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// How long the services through the VIP are still waited for once a node is down to every
/// side: a live ingress answers within milliseconds, a dead VIP holder never (its requests
/// would wait out the HTTPS connect timeout, 3 s, before the failover could go on).
const SERVICES_GRACE: Duration = Duration::from_millis(250);

/// The services' answers (`asked`), or, when a node is down to every side (see `Sightings`)
/// and they have not all come `SERVICES_GRACE` after that, each service's "not waited for"
/// (the VIP's holder may be the node that is down; the failover's own steps ask again once
/// the survivor holds it).
async fn services_unless_down(
    cfg: &Config,
    asked: impl std::future::Future<Output = Vec<crate::probe::ServiceFacts>>,
    mut heard: tokio::sync::watch::Receiver<Sightings>,
    with_witness: bool,
) -> Vec<crate::probe::ServiceFacts> {
    let down = async {
        let first_down = |s: &Sightings| {
            cfg.nodes
                .iter()
                .find(|n| s.down(&n.name, with_witness))
                .map(|n| n.name.clone())
        };
        until(&mut heard, |s| first_down(s).is_some()).await;
        let node = first_down(&heard.borrow()).unwrap_or_default();
        tokio::time::sleep(SERVICES_GRACE).await;
        node
    };
    tokio::select! {
        answers = asked => answers,
        node = down => cfg
            .k3s
            .services
            .iter()
            .map(|s| crate::probe::ServiceFacts {
                name: s.clone(),
                url: cfg.health_url(s),
                status: Err(ProbeError::timed_out(format!(
                    "no answer through the VIP {} ms after {node} was found down to every side: not waited for",
                    SERVICES_GRACE.as_millis()
                ))),
            })
            .collect(),
    }
}

/// pairctl's connection to one node, given up before its timeout when the node is silent to
/// every side (see `connect`): pairctl's own TCP look at its SSH port got no answer (no
/// handshake, no refusal) within `SILENCE`, and the others found it down. Through a jump host
/// pairctl has no look of its own, and waits for the connection as always.
async fn own_link(
    cfg: &Config,
    node: &crate::config::Node,
    deadline: Deadline,
    mut heard: tokio::sync::watch::Receiver<Sightings>,
    with_witness: bool,
) -> NodeLink {
    let started = Instant::now();
    let connect = crate::probe::collect::connect_one(cfg, node, deadline);
    let route =
        crate::transport::ssh_config::route(&node.name, &node.address.to_string(), &cfg.ssh);
    if !route.jumps.is_empty() {
        return connect.await;
    }
    let silent = async {
        let tcp = tokio::time::timeout(
            SILENCE,
            tokio::net::TcpStream::connect((route.node.host.as_str(), route.node.port)),
        )
        .await;
        match tcp {
            // It answers (a handshake, or a refusal: a live kernel sent it): pairctl
            // reaches it, and waits for the SSH connection.
            Ok(Ok(_)) => std::future::pending::<()>().await,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                std::future::pending::<()>().await
            }
            // No answer within SILENCE, or no route to it at all.
            _ => {}
        }
        tokio::time::sleep_until((started + SILENCE).into()).await;
        until(&mut heard, |s| s.down(&node.name, with_witness)).await;
    };
    tokio::select! {
        link = connect => link,
        () = silent => NodeLink {
            node: node.clone(),
            session: Err(crate::transport::ssh::ConnectError::timed_out(
                format!(
                    "{}: SSH to {} got no TCP answer within {} and its peer{} found it down: not waited for",
                    node.name,
                    route.node.endpoint(),
                    crate::format::human_duration(SILENCE),
                    if with_witness { " and the witness" } else { "" },
                ),
                true,
            )),
            connect_time: started.elapsed(),
        },
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

/// What `prepare` looks with: the connections, the looks taken at connect time, whether the
/// operator forces, the command's deadline.
struct Look<'a> {
    cfg: &'a Config,
    links: &'a [NodeLink],
    looks: &'a Looks,
    force: bool,
    deadline: Deadline,
}

pub async fn prepare(
    cfg: &Config,
    links: &[NodeLink],
    looks: &Looks,
    report: ClusterReport,
    force: bool,
    dry_run: bool,
    deadline: Deadline,
) -> (OperationReport, Option<Situation>) {
    let look = Look {
        cfg,
        links,
        looks,
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
    let down = if from_reachable {
        pre.push(Precondition::new(
            "old-active-fenced",
            true,
            format!("{from} answers: it will be fenced first"),
            false,
        ));
        None
    } else {
        Some(confirm_down(l, survivor, &from, &to, &from_address, pre).await)
    };
    let from_confirmed_down = down.is_some_and(|d| d.by_survivor);
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
        witness_confirmed_down: down.is_some_and(|d| d.by_survivor && d.by_witness),
        needs_bootstrap,
        epoch: next_epoch(report),
        survivor_seqno: galera.as_ref().ok().and_then(|g| g.last_committed),
    }
}

/// How an old active pairctl cannot reach was found: down as the survivor sees it, and as
/// the witness sees it (false without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Down {
    by_survivor: bool,
    by_witness: bool,
}

/// An old active pairctl cannot reach: is it down as the survivor sees it (its look taken at
/// connect time, or now when there is none) and, with a witness, as the witness sees it (its
/// look taken at connect time too, or now)? Pushes both preconditions.
async fn confirm_down(
    l: &Look<'_>,
    survivor: Option<&SshSession>,
    from: &str,
    to: &str,
    from_address: &str,
    pre: &mut Vec<Precondition>,
) -> Down {
    let early = l
        .looks
        .peers
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
        let w = l.cfg.witness.as_ref()?;
        if let Some(early) = l.looks.witness_of(from) {
            return Some(early);
        }
        Some(match crate::witness::looks(l.cfg, w, l.deadline).await {
            Ok(looks) => looks
                .into_iter()
                .find(|(n, _)| n == from)
                .map(|(_, r)| r)
                .unwrap_or_else(|| Err(ProbeError::not_asked("not a node of the config"))),
            Err(e) => Err(e),
        })
    };
    let (seen, witness_view) = tokio::join!(seen, witness_view);
    let confirmed = seen == Ok(true);
    let by_witness = witness_view == Some(Ok(false));
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
    Down {
        by_survivor: confirmed,
        by_witness,
    }
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
    if !s.from_reachable {
        steps.push((
            &s.to,
            if s.witness_confirmed_down {
                "Galera: quorum with garbd without the old active (or evict it and wait)".into()
            } else if s.from_confirmed_down {
                "Galera: evict the old active, wait until it is out of the component".into()
            } else {
                "Galera: wait until the old active is out of the component".into()
            },
        ));
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
    steps.push((&s.to, "keepalived running".into()));
    steps.push((&s.to, "Galera vote 2 (pc.weight)".into()));
    steps.push((
        &s.to,
        format!("record epoch {} in the cluster's database", s.epoch),
    ));
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
    let mut evicted_old = false;
    let needs_bootstrap = match old {
        // Fence the old active first, so that at no moment two nodes hold the VIP.
        Some(old) => match fence_old(links, old, s, &vip, deadline, ex).await {
            Ok(()) => s.needs_bootstrap,
            Err(f) => return f,
        },
        None => match survivor_alone(new, s, deadline, ex).await {
            Ok((non_primary, evicted)) => {
                evicted_old = evicted;
                non_primary
            }
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
    let problems = promote(new, s, &vip, deadline, ex, Some((cfg, https))).await;
    if evicted_old {
        // The eviction list outlives the view change; cleared (once the services are up: it
        // is not on their way), the old active can join again when it returns and fence
        // itself on the newer epoch, as without the eviction.
        if let Err(e) = ex
            .step(
                &s.to,
                "Galera: clear the eviction",
                actions::galera_clear_evictions(new, deadline),
            )
            .await
        {
            tracing::warn!(%e, "evs.evict=");
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

/// Members of a Galera member's component that announce no incoming address (garbd, the
/// witness's arbitrator); 0 when the addresses are not known.
fn garbd_members(g: &crate::probe::galera::GaleraFacts) -> u64 {
    if g.incoming_addresses.is_empty() {
        0
    } else {
        g.cluster_size.saturating_sub(nodes_in_component(g))
    }
}

/// An old active out of reach: the survivor's Galera must be rid of it first. When every side
/// found it down (pairctl, the survivor and the witness) and the survivor is Primary with
/// garbd in its component, nothing is waited for: the component without the old active keeps
/// quorum (the survivor's vote and garbd's, 2 of 3) and Galera evicts the silent member by
/// itself while the VIP moves (a commit waits for that eviction, no longer). Otherwise an old
/// active confirmed down is evicted at once (`evs.evict`) instead of after Galera's suspect
/// timeout (about 5 s, 3 s with a witness), and the survivor's view is waited for: without it
/// the survivor is non-Primary (its vote alone is 1 of 3), or Primary with garbd.
/// Ok(needs_bootstrap, evicted).
async fn survivor_alone<S: Exec>(
    new: &S,
    s: &Situation,
    deadline: Deadline,
    ex: &mut Executor<'_>,
) -> Result<(bool, bool), Failure> {
    if s.witness_confirmed_down {
        let quorum = async {
            let g = actions::galera_local(new, deadline.cap(Duration::from_secs(3))).await?;
            if g.cluster_status == ClusterStatus::Primary && garbd_members(&g) >= 1 {
                Ok((
                    true,
                    format!(
                        "Primary with the witness's garbd (size {}): {} is down to every side, Galera evicts it by itself",
                        g.cluster_size, s.from
                    ),
                ))
            } else {
                Ok((
                    false,
                    format!(
                        "{}, size {}, garbd not in the component: waiting for {} to be evicted",
                        g.cluster_status.as_str(),
                        g.cluster_size,
                        s.from
                    ),
                ))
            }
        };
        if let Ok(true) = ex
            .step(&s.to, "Galera: quorum without the old active", quorum)
            .await
        {
            return Ok((false, false));
        }
    }
    let mut evicted = false;
    if s.from_confirmed_down {
        match ex
            .step(
                &s.to,
                "Galera: evict the old active",
                actions::galera_evict(new, &s.from_address, deadline),
            )
            .await
        {
            Ok(e) => evicted = e,
            // Galera's own suspect timeout evicts it a few seconds later.
            Err(e) => tracing::warn!(%e, "evs.evict"),
        }
    }
    let gone = async {
        let hit = super::poll(
            deadline.cap(Duration::from_secs(20)),
            actions::POLL,
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
        .map(|needs_bootstrap| (needs_bootstrap, evicted))
        .map_err(|e| {
            (
                Outcome::Failed,
                format!("{e}: not taking over; nothing changed"),
                None,
            )
        })
}

/// Makes the survivor the active of the new epoch: the peer-down note (k3s's hand-over reads
/// it), the role (the eligible file lets keepalived take the VIP after its master-down
/// interval) and k3s at once, then the VIP on it and, given `services`, k3s running and the
/// services Ready. Beside all of that keepalived running, vote 2 and the epoch row (a commit:
/// it waits for Galera to be rid of a silent old active): none of the others waits on them,
/// and each costs a round trip and a client start on the node; they are recorded once both
/// sides are done. Returns the problems met (the verify step reports them).
async fn promote<S: Exec>(
    new: &S,
    s: &Situation,
    vip: &str,
    deadline: Deadline,
    ex: &mut Executor<'_>,
    services: Option<(&Config, &HttpsClient)>,
) -> Vec<String> {
    let settle = async {
        let keepalived = super::timed(async {
            let cmd = "systemctl is-active keepalived || systemctl start keepalived";
            actions::run_ok(new, cmd, deadline.cap(Duration::from_secs(15))).await?;
            Ok(((), "active".to_string()))
        });
        let vote = super::timed(actions::set_weight(new, 2, deadline));
        let epoch = super::timed(actions::write_epoch_row(new, s.epoch, &s.to, deadline));
        tokio::join!(keepalived, vote, epoch)
    };
    let serve = async {
        let mut problems = Vec::new();
        if s.from_confirmed_down {
            let note = actions::note_peer_down(new, &s.from_address, &s.from, deadline);
            if let Err(e) = ex.step(&s.to, "note the old active down", note).await {
                // Only a shortcut is lost: k3s's hand-over tries the old active and gives up.
                tracing::warn!(%e, "the peer-down note");
            }
        }
        let promoted = ex
            .step(
                &s.to,
                "promote",
                actions::set_role(new, "active", s.epoch, deadline),
            )
            .await;
        if let Err(e) = &promoted {
            problems.push(e.to_string());
        }
        // The old active is out (confirmed down, or fenced and without the VIP): k3s starts
        // now, while keepalived's master-down interval runs, instead of after it (its state
        // restore still waits for the old active's k3s and litestream to have stopped, or for
        // the peer-down note). Should the VIP not come, it is stopped again: k3s runs only
        // with it.
        let early = promoted.is_ok()
            && ex
                .step(&s.to, "start k3s", actions::start_k3s(new, deadline))
                .await
                .is_ok();
        match ex
            .step(
                &s.to,
                "wait for the VIP",
                actions::wait_vip(new, vip, true, deadline),
            )
            .await
        {
            Err(e) => {
                problems.push(e.to_string());
                if early {
                    if let Err(e) = ex
                        .step(&s.to, "stop k3s (no VIP)", actions::stop_k3s(new, deadline))
                        .await
                    {
                        problems.push(e.to_string());
                    }
                }
            }
            Ok(()) => {
                if let (true, Some((cfg, https))) = (promoted.is_ok(), services) {
                    if let Err(e) =
                        actions::start_services(ex, &s.to, new, cfg, https, deadline).await
                    {
                        problems.push(e.to_string());
                    }
                }
            }
        }
        problems
    };
    let ((keepalived, vote, epoch), served) = tokio::join!(settle, serve);
    let mut problems = served;
    if let Err(e) = ex.record(&s.to, "keepalived running", keepalived) {
        problems.push(e.to_string());
    }
    if let Err(e) = ex.record(&s.to, "Galera vote", vote) {
        problems.push(e.to_string());
    }
    if let Err(e) = ex.record(&s.to, "record the epoch", epoch) {
        problems.push(format!("epoch row: {e}"));
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

#[cfg(test)]
#[path = "survivor_tests.rs"]
mod survivor_tests;
