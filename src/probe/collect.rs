//! One gathering round: every probe of both nodes at once, on the command's connections,
//! each bounded by the round's deadline. A node that is down or hangs costs its probes only.
//! The probes over SSH run on any `Exec` (the tests below replay fixtures on a fake node).

use super::{
    galera, gluster, kube, node, ClusterFacts, NodeFacts, Probe, ServiceFacts, VolumeFacts,
};
use crate::config::{Config, Node};
use crate::transport::https::HttpsClient;
use crate::transport::kubeapi::{ApiError, KubeApis, LIST_PATHS};
use crate::transport::sql::{query_pairs, SqlTarget};
use crate::transport::ssh::{ConnectError, SshSession, SshTarget};
use crate::transport::Deadline;
use crate::transport::{Exec, ProbeError};
use futures::future::join_all;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The command's SSH connection to one node (or why there is none); the session is any
/// `Exec` in tests.
pub struct NodeLink<S = SshSession> {
    pub node: Node,
    pub session: Result<Arc<S>, ConnectError>,
    pub connect_time: Duration,
}

impl<S> NodeLink<S> {
    pub fn session(&self) -> Option<&Arc<S>> {
        self.session.as_ref().ok()
    }
}

/// The connected session to the node called `name`, if any.
pub fn session_of<'a, S>(links: &'a [NodeLink<S>], name: &str) -> Option<&'a S> {
    links
        .iter()
        .find(|l| l.node.name == name)
        .and_then(|l| l.session())
        .map(|s| s.as_ref())
}

pub fn ssh_target(cfg: &Config, node: &Node) -> SshTarget {
    SshTarget {
        name: node.name.clone(),
        addr: SocketAddr::new(node.address, cfg.ssh.port),
    }
}

/// Connects to both nodes concurrently.
pub async fn connect_all(cfg: &Config, deadline: Deadline) -> Vec<NodeLink> {
    join_all(cfg.nodes.iter().map(|n| connect_one(cfg, n, deadline))).await
}

pub async fn connect_one(cfg: &Config, node: &Node, deadline: Deadline) -> NodeLink {
    let started = Instant::now();
    // The connect timeout (pairctl's, or ssh_config's ConnectTimeout per hop) is applied
    // inside, over the whole path through any jump host.
    let session = SshSession::connect(&ssh_target(cfg, node), &cfg.ssh, deadline.remaining())
        .await
        .map(Arc::new);
    NodeLink {
        node: node.clone(),
        session,
        connect_time: started.elapsed(),
    }
}

/// Re-connects links that are down or were closed (for `--watch` after a node came back).
pub async fn refresh_links(cfg: &Config, links: &mut [NodeLink], deadline: Deadline) {
    let stale: Vec<usize> = links
        .iter()
        .enumerate()
        .filter(|(_, l)| l.session.as_ref().map(|s| s.is_closed()).unwrap_or(true))
        .map(|(i, _)| i)
        .collect();
    let fresh = join_all(
        stale
            .iter()
            .map(|i| connect_one(cfg, &links[*i].node, deadline)),
    )
    .await;
    for (i, link) in stale.into_iter().zip(fresh) {
        links[i] = link;
    }
}

pub async fn gather(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
) -> ClusterFacts {
    gather_with(cfg, links, https, None, deadline).await
}

/// Whether the ingress is reached directly (not through the nodes' SSH connections): then
/// its probes need no connection and can start before them (`services`).
pub fn ingress_direct(cfg: &Config) -> bool {
    !cfg.nodes
        .iter()
        .any(|n| crate::transport::ssh_config::tunnels(&cfg.ssh, n))
}

/// One health request per enabled service through the VIP, at once.
pub async fn services(cfg: &Config, https: &HttpsClient, deadline: Deadline) -> Vec<ServiceFacts> {
    join_all(cfg.k3s.services.iter().map(|s| async move {
        let url = cfg.health_url(s);
        let status = https.get_status(&url, deadline.remaining()).await;
        ServiceFacts {
            name: s.clone(),
            url,
            status,
        }
    }))
    .await
}

/// `gather`, with the services' answers already in hand when `services` is given (asked at
/// connect time by a command that cannot wait for a dead VIP holder twice: failover).
pub async fn gather_with(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    services: Option<Vec<ServiceFacts>>,
    deadline: Deadline,
) -> ClusterFacts {
    https.route_via(links.iter().filter_map(|l| l.session().cloned()).collect());
    let password = cfg.galera.password.as_ref().map(|p| p.expose().to_string());
    let galeras = join_all(
        links
            .iter()
            .map(|link| gather_galera(cfg, link, password.clone(), deadline)),
    );
    let services = async {
        match services {
            Some(given) => given,
            None => self::services(cfg, https, deadline).await,
        }
    };
    let apis = https.kube_apis();
    let asked = links
        .iter()
        .map(|link| kube_api(apis, link, deadline))
        .collect();
    let facts = gather_on(cfg, links, galeras, services, asked, deadline).await;
    // Where k3s runs but had no kubeconfig when last read (it writes one on its first start),
    // the next round reads it again.
    for n in &facts.nodes {
        if n.basics.as_ref().is_ok_and(|b| b.k3s_active) {
            apis.retry(&n.name);
        }
    }
    facts
}

/// The API server's answer for the node's Kubernetes objects (see `transport::kubeapi`), or
/// why there is none: then kubectl is asked where k3s runs (`gather_rest`).
async fn kube_api(apis: &KubeApis, link: &NodeLink, deadline: Deadline) -> KubeAnswer {
    let Ok(session) = &link.session else {
        return Err("no connection".into());
    };
    let name = &link.node.name;
    let api = apis.get(name, session, deadline).await?;
    let started = Instant::now();
    let bodies = api
        .get_all(
            &LIST_PATHS,
            deadline.cap(KUBE_API_LIMIT),
            KUBECTL_OUTPUT_LIMIT,
        )
        .await;
    tracing::debug!(node = %name, ms = started.elapsed().as_millis() as u64, ok = bodies.is_ok(), "kube api");
    match bodies {
        Ok(bodies) => kube::parse_api_lists(&bodies).map_err(|e| {
            apis.forget(name);
            e.to_string()
        }),
        // Nothing listens (k3s is not running there): the credentials stay for later.
        Err(ApiError::Unreachable(why)) => Err(why),
        Err(ApiError::Failed(why)) => {
            apis.forget(name);
            Err(why)
        }
    }
}

/// The API server's objects, or why the fast path has none (never shown: kubectl's answer
/// or error is what the round reports then).
type KubeAnswer = Result<(Vec<kube::KubeNode>, Vec<kube::Workload>), String>;

/// The API server is asked for at most this long before kubectl is.
const KUBE_API_LIMIT: Duration = Duration::from_secs(3);

/// The round on any connections: the probes over each node's `Exec`, at the same time as
/// `galeras` (one answer per link, over SQL) and `services` (over HTTPS) are awaited.
async fn gather_on<S: Exec + Send>(
    cfg: &Config,
    links: &[NodeLink<S>],
    galeras: impl std::future::Future<Output = Vec<Probe<galera::GaleraFacts>>>,
    services: impl std::future::Future<Output = Vec<ServiceFacts>>,
    apis: Vec<impl std::future::Future<Output = KubeAnswer> + Send>,
    deadline: Deadline,
) -> ClusterFacts {
    // The basics first (with Gluster as the node's own files show it, and the API server
    // asked at the same time), then what they call for: kubectl where k3s runs and its API
    // server did not answer, the peer SSH from the VIP holder, the gluster CLI only where the
    // local reports do not answer (see `gluster_local`).
    let rest = async {
        let basics = join_all(
            links
                .iter()
                .zip(apis)
                .map(|(link, api)| gather_basics(cfg, links, link, api, deadline)),
        )
        .await;
        let plan = gluster_plan(cfg, links, &basics);
        join_all(
            links
                .iter()
                .zip(basics)
                .zip(plan)
                .map(|((link, basics), plan)| {
                    gather_rest(cfg, links, link, basics, plan, deadline)
                }),
        )
        .await
    };
    let ((galeras, rest), services) = tokio::join!(async { tokio::join!(galeras, rest) }, services);
    let mut nodes: Vec<NodeFacts> = links
        .iter()
        .zip(galeras)
        .zip(rest)
        .map(|((link, galera), rest)| rest.into_facts(link, galera))
        .collect();
    // Volume status and heal info are cluster-wide: when the node asked could not answer,
    // another reachable one is.
    let answered = |n: &NodeFacts| {
        !n.volumes.is_empty() && n.volumes.iter().all(|v| v.status.is_ok() && v.heal.is_ok())
    };
    if !cfg.gluster.volumes.is_empty() && !nodes.iter().any(answered) {
        let asked: Vec<bool> = nodes.iter().map(|n| !n.volumes.is_empty()).collect();
        if let Some(i) = (0..links.len()).find(|i| !asked[*i] && links[*i].session().is_some()) {
            if let Some(session) = links[i].session() {
                nodes[i].volumes = gather_gluster(
                    cfg,
                    session.as_ref(),
                    false,
                    VolumeQuestions::Yes,
                    true,
                    deadline,
                )
                .await
                .1;
            }
        }
    }
    ClusterFacts { nodes, services }
}

/// The peer that did not answer pairctl on the network (powered off, link cut), if any:
/// asking this node to reach it would only wait out timeouts.
fn silent_peer<S>(links: &[NodeLink<S>], link: &NodeLink<S>) -> Option<String> {
    links
        .iter()
        .filter(|l| l.node.name != link.node.name)
        .find_map(|l| l.session.as_ref().err().filter(|e| e.silent))
        .map(|e| e.message.clone())
}

/// What a node's gluster CLI run is asked in phase two, or the answers the local reports gave.
struct GlusterPlan {
    peers: Option<gluster::PeerFacts>,
    volumes: Option<Vec<VolumeFacts>>,
    /// Which volume questions the CLI asks when `volumes` is None.
    ask: VolumeQuestions,
}

/// Decides per node from the basics: the local reports' peer status where they answer, the
/// volumes from all reports together where they answer (see `gluster_local::volume`), and
/// otherwise what the CLI is asked, as before: the volumes of the node that does not hold the
/// VIP (the active is busy serving) or of the only reachable one, nothing while the peer is
/// silent.
fn gluster_plan<S>(cfg: &Config, links: &[NodeLink<S>], basics: &[Basics]) -> Vec<GlusterPlan> {
    let reports: Vec<Option<&super::gluster_local::LocalGluster>> =
        basics.iter().map(|b| b.gluster.as_ref()).collect();
    let all: Option<Vec<&super::gluster_local::LocalGluster>> = reports.iter().copied().collect();
    let witness = super::gluster_local::witness_hosts(cfg);
    let fast_volumes: Option<Vec<VolumeFacts>> = all.and_then(|all| {
        cfg.gluster
            .volumes
            .iter()
            .map(|v| {
                super::gluster_local::volume(v, &all, &witness).map(|(status, heal)| VolumeFacts {
                    name: v.clone(),
                    status: Ok(status),
                    heal: Ok(heal),
                })
            })
            .collect()
    });
    let holder = |i: usize| basics[i].facts.as_ref().ok().map(|b| b.holds_vip);
    // Where the local answer goes: the node that does not hold the VIP, as the CLI's would.
    let home = (0..links.len())
        .find(|i| holder(*i) == Some(false))
        .unwrap_or(0);
    let reachable = links.iter().filter(|l| l.session().is_some()).count();
    (0..links.len())
        .map(|i| {
            let peers = reports[i].and_then(|r| super::gluster_local::peers(r, &witness));
            let ask = if silent_peer(links, &links[i]).is_some() {
                VolumeQuestions::NotWhilePeerSilent
            } else if reachable == 1 {
                VolumeQuestions::Yes
            } else {
                match holder(i) {
                    Some(true) => VolumeQuestions::No,
                    Some(false) => VolumeQuestions::Yes,
                    None => VolumeQuestions::UnlessVipHere,
                }
            };
            let volumes = match &fast_volumes {
                Some(v) if i == home && !cfg.gluster.volumes.is_empty() => Some(v.clone()),
                Some(_) => Some(Vec::new()),
                None => None,
            };
            GlusterPlan {
                peers,
                volumes,
                ask,
            }
        })
        .collect()
}

/// kubectl's JSON lists every workload with its full spec: more room than the other probes.
const KUBECTL_OUTPUT_LIMIT: usize = 4 * 1024 * 1024;

fn not_collected(why: &str) -> ProbeError {
    ProbeError::not_asked(format!("not collected: {why}"))
}

/// Which volume questions a node's gluster run asks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum VolumeQuestions {
    Yes,
    /// None (the local reports answered them, or another node is asked).
    No,
    /// When the node does not hold the VIP (it decides: `gluster::batch_command_unless_vip`).
    UnlessVipHere,
    /// Not asked: the peer is silent, and `volume status` is a cluster-wide transaction that
    /// would wait on its glusterd and then leave the volume lock behind for minutes (every
    /// later round would read "Another transaction is in progress"). Each volume says so.
    NotWhilePeerSilent,
}

/// One gluster CLI run on a node (see `gluster::batch_command`): its peer status when
/// `peers`, and every volume's status (and heal summary, when `heal`) as `volumes` says.
async fn gather_gluster(
    cfg: &Config,
    s: &impl Exec,
    peers: bool,
    volumes: VolumeQuestions,
    heal: bool,
    deadline: Deadline,
) -> (Probe<gluster::PeerFacts>, Vec<VolumeFacts>) {
    let mut questions = Vec::new();
    if peers {
        questions.push("peer status".to_string());
    }
    let mut volume_questions = Vec::new();
    let ask_volumes = !matches!(
        volumes,
        VolumeQuestions::NotWhilePeerSilent | VolumeQuestions::No
    );
    for v in cfg.gluster.volumes.iter().filter(|_| ask_volumes) {
        volume_questions.push(format!("volume status {v}"));
        if heal {
            volume_questions.push(format!("volume heal {v} info summary"));
        }
    }
    if questions.is_empty() && volume_questions.is_empty() {
        // Each volume still says why it was not asked: a node that answered nothing would be
        // asked again below (`gather_with`), the very question a silent peer forbids.
        let volume_facts = if volumes == VolumeQuestions::NotWhilePeerSilent {
            volumes_not_while_peer_silent(cfg)
        } else {
            Vec::new()
        };
        return (Err(not_collected("not asked")), volume_facts);
    }
    let limit = deadline.remaining();
    let command = match volumes {
        VolumeQuestions::Yes | VolumeQuestions::NotWhilePeerSilent | VolumeQuestions::No => {
            questions.append(&mut volume_questions);
            gluster::batch_command(&questions, limit)
        }
        VolumeQuestions::UnlessVipHere => gluster::batch_command_unless_vip(
            &questions,
            &volume_questions,
            &cfg.vip.to_string(),
            limit,
        ),
    };
    let answers: Probe<Vec<String>> = async {
        let out = s.exec(&command, limit).await?;
        let stdout = out.stdout_str();
        let mut text = stdout.as_str();
        if volumes == VolumeQuestions::UnlessVipHere {
            if let Some((n, rest)) = gluster::asked(text) {
                if n > questions.len() {
                    questions.append(&mut volume_questions);
                }
                text = rest;
            }
        }
        if text.contains("<?xml") || !text.trim().is_empty() {
            Ok(gluster::split_batch(text, questions.len()))
        } else {
            // Nothing on stdout: the shell's or the CLI's complaint is on stderr.
            gluster_result(&out).map(|_| Vec::new())
        }
    }
    .await;
    let volumes_asked = questions.len() > usize::from(peers);
    let mut answers = match answers {
        Ok(a) => a.into_iter().map(Ok).collect::<Vec<_>>().into_iter(),
        Err(e) => vec![Err(e); questions.len()].into_iter(),
    };
    let mut next = || {
        answers
            .next()
            .unwrap_or_else(|| Err(ProbeError::failed("no answer")))
    };
    let peer_facts = if peers {
        next().and_then(|t| Ok(gluster::parse_peer_status(&t)?))
    } else {
        Err(not_collected("not asked"))
    };
    let mut volume_facts = Vec::new();
    if volumes_asked {
        for v in &cfg.gluster.volumes {
            let status = next()
                .and_then(|t| Ok(gluster::parse_volume_status(&t)?))
                .and_then(|all| {
                    all.into_iter().find(|x| &x.volume == v).ok_or_else(|| {
                        ProbeError::parse(format!("volume {v} not in the status output"))
                    })
                });
            let heal = if heal {
                next().and_then(|t| Ok(gluster::parse_heal_summary(&t)?))
            } else {
                Err(not_collected(
                    "the peer does not answer (heal info would wait on its brick)",
                ))
            };
            volume_facts.push(VolumeFacts {
                name: v.clone(),
                status,
                heal,
            });
        }
    }
    if volumes == VolumeQuestions::NotWhilePeerSilent {
        volume_facts = volumes_not_while_peer_silent(cfg);
    }
    (peer_facts, volume_facts)
}

/// Every volume, not asked because the peer is silent (see `VolumeQuestions`).
fn volumes_not_while_peer_silent(cfg: &Config) -> Vec<VolumeFacts> {
    let why = not_collected(
        "the peer does not answer (volume status would wait on its glusterd and leave the volume lock behind)",
    );
    cfg.gluster
        .volumes
        .iter()
        .map(|v| VolumeFacts {
            name: v.clone(),
            status: Err(why.clone()),
            heal: Err(why.clone()),
        })
        .collect()
}

/// The node's Galera status over SQL (through its SSH connection when tunnelled).
async fn gather_galera(
    cfg: &Config,
    link: &NodeLink,
    password: Option<String>,
    deadline: Deadline,
) -> Probe<galera::GaleraFacts> {
    // A node that did not answer TCP would make the SQL connection wait as long.
    if let Err(e) = &link.session {
        if e.silent {
            return Err(ProbeError::not_asked(format!("not asked: {}", e.message)));
        }
    }
    let mut sql_target = SqlTarget {
        name: link.node.name.clone(),
        address: link.node.address,
        port: cfg.galera.port,
        user: cfg.galera.user.clone(),
        tls: cfg.galera.tls.clone(),
        via: None,
    };
    // Through a jump host (or with ssh.tunnel) the SQL rides the node's SSH connection to its
    // own MariaDB: without that connection there is no way to it.
    if crate::transport::ssh_config::tunnels(&cfg.ssh, &link.node) {
        let Ok(session) = &link.session else {
            return Err(ProbeError::not_asked(
                "not asked: MariaDB is reached through the node's SSH connection, which failed",
            ));
        };
        sql_target.via = Some(session.forward("127.0.0.1", cfg.galera.port).await?);
    }
    let rows = query_pairs(
        &sql_target,
        password.as_deref(),
        "SHOW GLOBAL STATUS LIKE 'wsrep%'",
        // A powered-off node drops the SYN: bound the connect like SSH's.
        deadline.cap(cfg.ssh.connect_timeout),
    )
    .await?;
    Ok(galera::parse_wsrep_rows(&rows)?)
}

/// Phase one on a node: the basics command, with the node's own Gluster report appended,
/// and its Kubernetes API server, asked at the same time (not after the basics: one round
/// trip less on the active).
struct Basics {
    facts: Probe<node::BasicFacts>,
    gluster: Option<super::gluster_local::LocalGluster>,
    api: KubeAnswer,
    /// The peer SSH check, run at the same time by the node if it holds the VIP then (None:
    /// it did not, or the check is not for now: see `gather_rest`).
    peer_ssh: Option<Probe<()>>,
}

/// kubectl (where the API server did not answer) only while k3s.service is active (the exit
/// status says when it is not); the basics' own `systemctl is-active` decides what the round
/// reports.
const KUBECTL: &str = "systemctl is-active --quiet k3s || exit 3; \
exec k3s kubectl get nodes,deployments,statefulsets,daemonsets -A -o json";
const K3S_NOT_RUNNING: &str = "k3s is not running on this node";

/// The section of the basics command's output that holds the node's own Gluster report.
const GLUSTER_LOCAL_SECTION: &str = "gluster_local";

async fn gather_basics<S: Exec + Send>(
    cfg: &Config,
    links: &[NodeLink<S>],
    link: &NodeLink<S>,
    api: impl std::future::Future<Output = KubeAnswer>,
    deadline: Deadline,
) -> Basics {
    let Ok(s) = &link.session else {
        return Basics {
            facts: Err(ProbeError::not_asked("no connection")),
            gluster: None,
            api: Err("no connection".into()),
            peer_ssh: None,
        };
    };
    // Not after the basics on the VIP holder (a round trip more on the active): the basics
    // command itself runs it beside the rest where the node holds the VIP. Never towards a
    // silent peer.
    let peer = cfg
        .nodes
        .iter()
        .find(|n| n.name != link.node.name)
        .filter(|_| silent_peer(links, link).is_none());
    let (basics, api) = tokio::join!(basics_and_gluster(cfg, s, peer, deadline), api);
    let (facts, gluster, peer_ssh) = basics;
    Basics {
        facts,
        gluster,
        api,
        peer_ssh,
    }
}

/// The node's objects from kubectl.
async fn kubectl(
    s: &impl Exec,
    deadline: Deadline,
) -> Probe<(Vec<kube::KubeNode>, Vec<kube::Workload>)> {
    let out = s
        .exec_limited(KUBECTL, None, deadline.remaining(), KUBECTL_OUTPUT_LIMIT)
        .await?;
    if out.status == Some(3) {
        return Err(not_collected(K3S_NOT_RUNNING));
    }
    kubectl_result(&out).and_then(|t| Ok(kube::parse_nodes_and_workloads(&t)?))
}

/// The basics, the node's own Gluster report and, given `peer`, the peer SSH check where the
/// node holds the VIP (None where it does not: see `PeerCheck`).
async fn basics_and_gluster(
    cfg: &Config,
    s: &impl Exec,
    peer: Option<&Node>,
    deadline: Deadline,
) -> (
    Probe<node::BasicFacts>,
    Option<super::gluster_local::LocalGluster>,
    Option<Probe<()>>,
) {
    let check = peer.and_then(|peer| PeerCheck::new(cfg, peer, deadline));
    let command = node::in_bash(&format!(
        "{}{}; {}; {}{}",
        check.as_ref().map(PeerCheck::start).unwrap_or_default(),
        node::basics_command(&cfg.k3s.state_path, &cfg.k3s.replica_path),
        crate::transport::batch::mark(GLUSTER_LOCAL_SECTION),
        super::gluster_local::command(),
        check.as_ref().map(PeerCheck::report).unwrap_or_default(),
    ));
    // litestream's daemon over its control socket, while the command runs.
    let daemon = super::litestream::ask_daemon(s, &cfg.k3s.state_path, deadline.remaining());
    let (out, daemon) = tokio::join!(s.exec(&command, deadline.remaining()), daemon);
    let out = match out {
        Ok(out) => out.stdout_str(),
        // (Without the basics the round does not know who holds the VIP: no check either.)
        Err(e) => return (Err(e), None, None),
    };
    let sections = crate::transport::batch::Sections::parse(&out);
    (
        node::basics_from(&sections, &cfg.vip.to_string(), daemon).map_err(ProbeError::from),
        sections
            .optional(GLUSTER_LOCAL_SECTION)
            .and_then(|text| super::gluster_local::parse(text).ok()),
        check.and_then(|c| c.parse(sections.optional(PEER_SSH_SECTION))),
    )
}

/// The section of the basics command's output that holds the peer SSH check's answer.
const PEER_SSH_SECTION: &str = "peer_ssh";

/// The peer SSH check as part of the basics command (one session on the node instead of
/// two, where a session costs sshd a process and the node its CPU in every round): started
/// first, in the background, where the node holds the VIP; its answer read last. Its own
/// `timeout` ends it well before the basics command's deadline.
struct PeerCheck {
    address: String,
    limit: Duration,
    vip: String,
    ssh: String,
}

impl PeerCheck {
    /// None when too little of the deadline is left to run it inside the basics command.
    fn new(cfg: &Config, peer: &Node, deadline: Deadline) -> Option<Self> {
        let limit = (cfg.ssh.connect_timeout + Duration::from_secs(1))
            .min(deadline.remaining().saturating_sub(PEER_CHECK_MARGIN));
        (limit >= Duration::from_millis(500)).then(|| Self {
            address: peer.address.to_string(),
            limit,
            vip: cfg.vip.to_string(),
            ssh: peer_ssh_command(cfg, peer, limit),
        })
    }

    fn start(&self) -> String {
        let vip = node::shell_quote(&self.vip);
        format!(
            "if case \" $(ip -o addr show) \" in *\" inet \"{vip}/*|*\" inet6 \"{vip}/*) true ;; *) false ;; esac; \
then exec 9< <(exec < /dev/null 2>&1; timeout -k 1 {secs:.1} {ssh}; echo \"rc=$?\"); \
else exec 9< <(echo {NOT_VIP_HOLDER}); fi; ",
            secs = self.limit.as_secs_f64(),
            ssh = self.ssh,
        )
    }

    /// The check's lines (ssh's messages, then `rc=N`), at most 4 KiB of them.
    fn report(&self) -> String {
        format!(
            "; {}; pc=; while IFS= read -r l <&9; do pc+=\"$l\"$'\\n'; done; printf '%s' \"${{pc:0:4096}}\"",
            crate::transport::batch::mark(PEER_SSH_SECTION)
        )
    }

    /// None: the node did not hold the VIP (or printed nothing of the check).
    fn parse(&self, text: Option<&str>) -> Option<Probe<()>> {
        let text = text?;
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.first() == Some(&NOT_VIP_HOLDER) {
            return None;
        }
        // What a session of its own would have given: the exit status, ssh's messages.
        let (rc, said): (Vec<&str>, Vec<&str>) = lines.iter().partition(|l| l.starts_with("rc="));
        let status = rc
            .last()
            .and_then(|l| l["rc=".len()..].trim().parse::<u32>().ok());
        // timeout(1)'s own exit statuses: the limit, then its KILL.
        if matches!(status, Some(124 | 137)) {
            return Some(Err(ProbeError::timed_out(format!(
                "ssh {}: no answer within {}",
                self.address,
                crate::format::human_duration(self.limit)
            ))));
        }
        let out = crate::transport::ssh::Output {
            status,
            stderr: said.join("\n").into_bytes(),
            ..Default::default()
        };
        Some(peer_ssh_result(&self.address, &out))
    }
}

/// What the basics command prints for the check where the node does not hold the VIP.
const NOT_VIP_HOLDER: &str = "not-the-vip-holder";
/// Left of the deadline after the check's own limit, for the basics command to end in.
const PEER_CHECK_MARGIN: Duration = Duration::from_millis(1500);

/// Phase two on a node: everything but Galera.
struct Rest {
    basics: Probe<node::BasicFacts>,
    gluster_peers: Probe<gluster::PeerFacts>,
    volumes: Vec<VolumeFacts>,
    kube_nodes: Probe<Vec<kube::KubeNode>>,
    workloads: Probe<Vec<kube::Workload>>,
    peer_ssh: Probe<()>,
}

impl Rest {
    fn into_facts<S>(self, link: &NodeLink<S>, galera: Probe<galera::GaleraFacts>) -> NodeFacts {
        NodeFacts {
            name: link.node.name.clone(),
            address: link.node.address.to_string(),
            ssh: match &link.session {
                Ok(_) => Ok(link.connect_time),
                Err(e) => Err(e.error()),
            },
            basics: self.basics,
            galera,
            gluster_peers: self.gluster_peers,
            volumes: self.volumes,
            kube_nodes: self.kube_nodes,
            workloads: self.workloads,
            peer_ssh: self.peer_ssh,
        }
    }
}

/// What k3s and the inter-node SSH cost is spent only where it tells something (k3s where it
/// runs, the peer SSH from the VIP holder); the gluster CLI only as `plan` says.
async fn gather_rest<S: Exec + Send>(
    cfg: &Config,
    links: &[NodeLink<S>],
    link: &NodeLink<S>,
    basics: Basics,
    plan: GlusterPlan,
    deadline: Deadline,
) -> Rest {
    let s = match &link.session {
        Ok(s) => s.as_ref(),
        Err(e) => {
            let reason = ProbeError::unreachable(format!("unreachable: {e}"));
            return Rest {
                basics: Err(reason.clone()),
                gluster_peers: Err(reason.clone()),
                volumes: Vec::new(),
                kube_nodes: Err(reason.clone()),
                workloads: Err(reason.clone()),
                peer_ssh: Err(reason),
            };
        }
    };
    let peer_silent = silent_peer(links, link);
    let Basics {
        facts: basics,
        api,
        peer_ssh: early_peer_ssh,
        ..
    } = basics;
    let (k3s_here, vip_here) = match &basics {
        Ok(b) => (b.k3s_active, b.holds_vip),
        Err(_) => (false, false),
    };
    let kube = async {
        match api {
            _ if !k3s_here => Err(not_collected(K3S_NOT_RUNNING)),
            Ok(objects) => Ok(objects),
            Err(why) => {
                tracing::debug!(node = %link.node.name, "kube API: {why}; asking kubectl");
                kubectl(s, deadline).await
            }
        }
    };
    let peer_ssh = async {
        if !vip_here {
            return Err(not_collected("asked from the VIP holder only"));
        }
        let peer = cfg.nodes.iter().find(|n| n.name != link.node.name);
        match (peer, &peer_silent) {
            (None, _) => Err(ProbeError::not_asked("no peer configured")),
            (_, Some(why)) => Err(not_collected(why)),
            // Asked in phase one where the node held the VIP then; else now.
            (Some(peer), None) => match early_peer_ssh {
                Some(answer) => answer,
                None => peer_ssh(cfg, s, peer, deadline).await,
            },
        }
    };
    // The CLI only for what the local reports did not answer: the peer status, and the
    // volumes when this node is the one asked. Heal info waits on every brick: not asked
    // while the peer (and its brick) is silent.
    let GlusterPlan {
        peers,
        volumes,
        ask,
    } = plan;
    let ask = if volumes.is_some() {
        VolumeQuestions::No
    } else {
        ask
    };
    let gluster = gather_gluster(
        cfg,
        s,
        peers.is_none(),
        ask,
        peer_silent.is_none(),
        deadline,
    );
    let (peer_ssh, (cli_peers, cli_volumes), kube) = tokio::join!(peer_ssh, gluster, kube);
    let (kube_nodes, workloads) = match kube {
        Ok((nodes, workloads)) => (Ok(nodes), Ok(workloads)),
        Err(e) => (Err(e.clone()), Err(e)),
    };
    Rest {
        basics,
        gluster_peers: peers.map(Ok).unwrap_or(cli_peers),
        volumes: volumes.unwrap_or(cli_volumes),
        kube_nodes,
        workloads,
        peer_ssh,
    }
}

/// SSH from this node to its peer. A multiplexed master (kept 2 minutes under /run/pairctl)
/// makes the check a new session on an authenticated connection: milliseconds instead of a
/// full OpenSSH handshake on every status or --watch refresh. A dead or frozen peer hangs the
/// session request, so the check has its own short limit. Asked on its own only where the
/// basics command did not (`PeerCheck`): the node took the VIP meanwhile.
async fn peer_ssh(cfg: &Config, s: &impl Exec, peer: &Node, deadline: Deadline) -> Probe<()> {
    let limit = deadline.cap(cfg.ssh.connect_timeout + Duration::from_secs(1));
    let out = s.exec(&peer_ssh_command(cfg, peer, limit), limit).await?;
    peer_ssh_result(&peer.address.to_string(), &out)
}

/// The check's verdict on how the node's `ssh` to `address` ended.
fn peer_ssh_result(address: &str, out: &crate::transport::ssh::Output) -> Probe<()> {
    if out.success() {
        Ok(())
    } else {
        Err(ProbeError::failed(format!(
            "ssh {address}: {}",
            out.failure_summary()
        )))
    }
}

/// The node's `ssh` to its peer as the peer check runs it: through the multiplexed master
/// under /run/pairctl, which the hand-over's wait for the old active's final sync
/// (`k3s-state restore`, its `on_peer`) goes through too.
pub fn peer_ssh_command(cfg: &Config, peer: &Node, limit: Duration) -> String {
    format!(
        "mkdir -p /run/pairctl && ssh -o BatchMode=yes -o StrictHostKeyChecking=yes \
-o ConnectTimeout={} -o KexAlgorithms=curve25519-sha256 -o GSSAPIAuthentication=no \
-o ControlMaster=auto -o ControlPath=/run/pairctl/peer-ssh-%C -o ControlPersist=120 \
-o ServerAliveInterval=2 -o ServerAliveCountMax=1 {}@{} true",
        limit.as_secs().max(1),
        node::shell_quote(&cfg.ssh.user),
        peer.address
    )
}

/// gluster prints XML on success and on most failures, plain text when glusterd is down.
fn gluster_result(out: &crate::transport::ssh::Output) -> Probe<String> {
    let text = out.stdout_str();
    if text.trim_start().starts_with('<') {
        Ok(text)
    } else if !out.stderr_str().is_empty() || !text.trim().is_empty() {
        Err(ProbeError::failed(format!(
            "gluster: {}",
            first_line(&format!("{}{}", text.trim(), out.stderr_str()))
        )))
    } else {
        Err(ProbeError::failed(format!(
            "gluster: {}",
            out.failure_summary()
        )))
    }
}

fn kubectl_result(out: &crate::transport::ssh::Output) -> Probe<String> {
    if out.success() {
        Ok(out.stdout_str())
    } else {
        let err = out.stderr_str();
        Err(ProbeError::failed(
            kube::classify_kubectl_error(&err).to_string(),
        ))
    }
}

fn first_line(s: &str) -> &str {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{judge, CheckId, CheckResult, ClusterReport, Verdict};
    use crate::transport::fake::FakeNode;
    use crate::transport::ssh::ConnectErrorKind;
    use crate::transport::ProbeErrorKind as Kind;

    fn cfg() -> Config {
        crate::config::parse(
            std::path::Path::new("/x/pairctl.toml"),
            "name = \"lab\"\nvip = \"10.213.57.10\"\n[[node]]\nname = \"n1\"\naddress = \"10.213.57.11\"\n[[node]]\nname = \"n2\"\naddress = \"10.213.57.12\"\n[gluster]\nvolumes = [\"shared\"]\n",
        )
        .unwrap()
    }

    // What each probe's command contains (the fake answers the first rule that matches).
    const BASICS: &str = GLUSTER_LOCAL_SECTION;
    const KUBE: &str = "kubectl get nodes,deployments";
    const GLUSTER_CLI: &str = "gluster --xml";
    const PEER_SSH: &str = "BatchMode=yes";
    /// litestream's daemon, asked with the CLI where the transport opens no Unix socket.
    const LITESTREAM_LIST: &str = "litestream list -json";

    /// The node's clock just after the last sync (active) or the replica's newest file
    /// (standby) of `model::tests::litestream_output`.
    fn clock_text(active: bool) -> String {
        let now = crate::model::tests::litestream(active).now.ceil() as u64;
        format!("{now}\n")
    }

    /// The node's answer to the basics command: its addresses, units, VRRP state, litestream,
    /// role and epoch, then its own Gluster report (captured on the lab).
    fn basics_text(active: bool) -> String {
        basics_with_peer_check(active, if active { "rc=0\n" } else { "" })
    }

    /// `basics_text` whose peer SSH check printed `peer` (the standby: it does not hold the
    /// VIP, whatever `peer` says).
    fn basics_with_peer_check(active: bool, peer: &str) -> String {
        let peer = if active {
            peer.to_string()
        } else {
            format!("{NOT_VIP_HOLDER}\n")
        };
        let (ip, units, vrrp, role) = if active {
            (
                include_str!("../../fixtures/ip/with-vip.json"),
                "active\nactive\n",
                "MASTER\n",
                "active\n",
            )
        } else {
            (
                include_str!("../../fixtures/ip/without-vip.json"),
                "active\ninactive\n",
                "BACKUP\n",
                "standby\n",
            )
        };
        let local = if active {
            include_str!("../../fixtures/gluster/local/healthy-n1.txt")
        } else {
            include_str!("../../fixtures/gluster/local/healthy-n2.txt")
        };
        let litestream = crate::model::tests::litestream_output(active);
        let clock = clock_text(active);
        let bodies = [
            ip,
            units,
            vrrp,
            "",
            &litestream,
            "",
            "",
            "",
            role,
            "1\n",
            "",
            &clock,
        ];
        let mut sections: Vec<(&str, &str)> = node::SECTIONS.into_iter().zip(bodies).collect();
        sections.push((GLUSTER_LOCAL_SECTION, local));
        sections.push((PEER_SSH_SECTION, &peer));
        crate::transport::batch::printed(&sections)
    }

    /// kubectl's one list of the node and the workloads, from the lab's fixtures.
    fn kube_json() -> String {
        let mut list: serde_json::Value =
            serde_json::from_str(include_str!("../../fixtures/kube/nodes-healthy.json")).unwrap();
        let workloads: serde_json::Value =
            serde_json::from_str(include_str!("../../fixtures/kube/workloads-healthy.json"))
                .unwrap();
        let items = list["items"].as_array_mut().unwrap();
        items.extend(workloads["items"].as_array().unwrap().iter().cloned());
        list.to_string()
    }

    /// A healthy node (n1 active, n2 standby) whose answers `first` may replace: its rules
    /// come before the healthy ones.
    fn fake(name: &str, first: impl FnOnce(FakeNode) -> FakeNode) -> FakeNode {
        let active = name == "n1";
        let node = first(FakeNode::new(name))
            .answer(BASICS, &basics_text(active))
            .answer(
                LITESTREAM_LIST,
                &crate::model::tests::litestream_list_output(active),
            );
        let node = if active {
            node.answer(KUBE, &kube_json())
        } else {
            node.exits(KUBE, 3, "")
        };
        node.answer(PEER_SSH, "")
    }

    fn link(cfg: &Config, i: usize, session: Result<FakeNode, ConnectError>) -> NodeLink<FakeNode> {
        NodeLink {
            node: cfg.nodes[i].clone(),
            session: session.map(Arc::new),
            connect_time: Duration::from_millis(12),
        }
    }

    fn powered_off() -> ConnectError {
        ConnectError {
            message: "SSH to 10.213.57.12:22 timed out after 3.0 s (no answer to TCP)".into(),
            hint: None,
            kind: ConnectErrorKind::TimedOut,
            silent: true,
        }
    }

    /// One round on `links` (Galera synced and Primary on both, every service answering 200),
    /// and its judgement.
    async fn round(cfg: &Config, links: &[NodeLink<FakeNode>]) -> (ClusterFacts, ClusterReport) {
        let apis = links.iter().map(|_| Err("no kubeconfig".into())).collect();
        round_with(cfg, links, apis).await
    }

    /// `round`, with what each node's API server answered (`kube_api`).
    async fn round_with(
        cfg: &Config,
        links: &[NodeLink<FakeNode>],
        apis: Vec<KubeAnswer>,
    ) -> (ClusterFacts, ClusterReport) {
        let synced =
            galera::parse_wsrep_text(include_str!("../../fixtures/galera/synced-primary.tsv"))
                .unwrap();
        let galeras = async { links.iter().map(|_| Ok(synced.clone())).collect() };
        let services = async {
            cfg.k3s
                .services
                .iter()
                .map(|s| ServiceFacts {
                    name: s.clone(),
                    url: cfg.health_url(s),
                    status: Ok(200),
                })
                .collect()
        };
        let deadline = Deadline::after(Duration::from_secs(5));
        let apis = apis.into_iter().map(|a| async { a }).collect();
        let facts = gather_on(cfg, links, galeras, services, apis, deadline).await;
        let report = judge(&facts, &crate::round::expectations(cfg), Duration::ZERO);
        (facts, report)
    }

    fn kind<T: std::fmt::Debug>(p: &Probe<T>) -> Kind {
        p.as_ref().unwrap_err().kind
    }

    fn result(r: &ClusterReport, name: CheckId, node: &str) -> CheckResult {
        r.checks
            .iter()
            .find(|c| c.name == name && c.node == node)
            .unwrap_or_else(|| panic!("no check {name} on {node}: {:#?}", r.checks))
            .result
    }

    fn ran(node: &NodeLink<FakeNode>, text: &str) -> bool {
        let s = node.session().unwrap();
        s.commands().iter().any(|c| c.contains(text))
    }

    /// The check's shell, in bash, with `ip` and `ssh` stand-ins on PATH: started only where
    /// the node holds the VIP, ended by its own limit, and read back as the round reads it.
    #[test]
    fn the_peer_check_inside_the_basics_command_answers_as_a_session_of_its_own_did() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let stand_in =
            |name: &str, body: &str| crate::transport::fake::stand_in(dir.path(), name, body);
        let check = PeerCheck {
            address: "10.213.57.12".into(),
            limit: Duration::from_millis(500),
            vip: "10.213.57.10".into(),
            ssh: "ssh -o BatchMode=yes root@10.213.57.12 true".into(),
        };
        let run = |addr: &str, ssh: &str| {
            stand_in(
                "ip",
                &format!("echo '2: eth0    inet {addr}/24 brd 10.213.57.255 scope global eth0'"),
            );
            stand_in("ssh", ssh);
            let script = format!("{}echo basics{}", check.start(), check.report());
            let out = std::process::Command::new("bash")
                .arg("-c")
                .arg(script)
                .env("PATH", format!("{d}:/usr/bin:/bin"))
                .output()
                .unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            assert!(
                text.starts_with("basics\n"),
                "{text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let sections = crate::transport::batch::Sections::parse(&text);
            check.parse(sections.optional(PEER_SSH_SECTION))
        };
        assert_eq!(run("10.213.57.10", "exit 0"), Some(Ok(())));
        assert_eq!(run("10.213.57.11", "exit 0"), None, "not the VIP holder");
        let refused = run(
            "10.213.57.10",
            "echo 'ssh: connect to host 10.213.57.12 port 22: Connection refused' >&2; exit 255",
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(refused.kind, Kind::Failed);
        assert!(
            refused.message.ends_with(
                "exit status 255: ssh: connect to host 10.213.57.12 port 22: Connection refused"
            ),
            "{refused:?}"
        );
        let hung = run("10.213.57.10", "exec sleep 30").unwrap().unwrap_err();
        assert_eq!(hung.kind, Kind::TimedOut, "{hung:?}");
        assert_eq!(
            check.parse(Some("garbage\n")).unwrap().unwrap_err().kind,
            Kind::Failed
        );
    }

    #[tokio::test]
    async fn a_healthy_pair_is_healthy_and_each_probe_runs_where_it_tells_something() {
        let cfg = cfg();
        let links = [
            link(&cfg, 0, Ok(fake("n1", |n| n))),
            link(&cfg, 1, Ok(fake("n2", |n| n))),
        ];
        let (facts, report) = round(&cfg, &links).await;
        let failing: Vec<_> = report.failing().collect();
        assert_eq!(report.verdict, Verdict::Healthy, "{failing:#?}");
        assert_eq!(report.active.as_deref(), Some("n1"));
        assert!(facts.nodes[0].workloads.as_ref().unwrap().len() >= 9);
        // The local reports answered Gluster: no CLI run; the peer SSH from the VIP holder
        // only; kubectl where k3s runs (the standby's exit 3 says it does not).
        assert!(!ran(&links[0], GLUSTER_CLI) && !ran(&links[1], GLUSTER_CLI));
        // Each node's basics command asks itself whether it holds the VIP and runs the check
        // if so: no session of its own.
        for l in &links {
            let commands = l.session().unwrap().commands();
            let checks: Vec<_> = commands.iter().filter(|c| c.contains(PEER_SSH)).collect();
            assert_eq!(checks.len(), 1, "{commands:?}");
            assert!(checks[0].contains(GLUSTER_LOCAL_SECTION), "{commands:?}");
        }
        assert_eq!(kind(&facts.nodes[1].peer_ssh), Kind::NotAsked);
        assert!(facts.nodes[0].peer_ssh.is_ok());
        assert_eq!(kind(&facts.nodes[1].kube_nodes), Kind::NotAsked);
        // The pool's volumes are answered on the node that does not hold the VIP.
        assert_eq!(facts.nodes[1].volumes.len(), 1);
        assert!(facts.nodes[1].volumes[0].status.is_ok());
    }

    #[tokio::test]
    async fn where_the_api_server_answers_no_kubectl_starts_and_the_round_says_the_same() {
        let cfg = cfg();
        let pair = || {
            [
                link(&cfg, 0, Ok(fake("n1", |n| n))),
                link(&cfg, 1, Ok(fake("n2", |n| n))),
            ]
        };
        let by_kubectl = pair();
        let (kubectl_facts, kubectl_report) = round(&cfg, &by_kubectl).await;
        assert!(ran(&by_kubectl[0], KUBE) && !ran(&by_kubectl[1], KUBE));
        let objects = kube::parse_nodes_and_workloads(&kube_json()).unwrap();
        // n2's API server answers too (stale credentials of an old active, say), but k3s is
        // not running there: what it says is not the round's.
        let by_api = pair();
        let (api_facts, api_report) =
            round_with(&cfg, &by_api, vec![Ok(objects.clone()), Ok(objects)]).await;
        assert!(!ran(&by_api[0], KUBE) && !ran(&by_api[1], KUBE));
        assert_eq!(
            api_facts.nodes[0].kube_nodes,
            kubectl_facts.nodes[0].kube_nodes
        );
        assert_eq!(
            api_facts.nodes[0].workloads,
            kubectl_facts.nodes[0].workloads
        );
        assert_eq!(kind(&api_facts.nodes[1].kube_nodes), Kind::NotAsked);
        assert_eq!(api_report.verdict, Verdict::Healthy);
        assert_eq!(
            serde_json::to_value(&api_report.checks).unwrap(),
            serde_json::to_value(&kubectl_report.checks).unwrap()
        );
        // An API server that fails leaves the answer to kubectl, whose error is reported.
        let failing = [
            link(
                &cfg,
                0,
                Ok(fake("n1", |n| {
                    n.exits(
                        KUBE,
                        1,
                        include_str!("../../fixtures/kube/stderr-unauthorized.txt"),
                    )
                })),
            ),
            link(&cfg, 1, Ok(fake("n2", |n| n))),
        ];
        let apis = vec![Err("401 Unauthorized".into()), Err("refused".into())];
        let (facts, report) = round_with(&cfg, &failing, apis).await;
        assert!(ran(&failing[0], KUBE));
        let why = facts.nodes[0].kube_nodes.as_ref().unwrap_err();
        assert!(why.message.contains("refused the credentials"), "{why}");
        assert_ne!(result(&report, CheckId::Workloads, "n1"), CheckResult::Ok);
    }

    #[tokio::test]
    async fn a_powered_off_standby_costs_its_probes_and_nothing_waits_on_it() {
        let cfg = cfg();
        let links = [
            link(&cfg, 0, Ok(fake("n1", |n| n))),
            link(&cfg, 1, Err(powered_off())),
        ];
        let (facts, report) = round(&cfg, &links).await;
        let n2 = &facts.nodes[1];
        assert_eq!(kind(&n2.ssh), Kind::TimedOut);
        assert_eq!(kind(&n2.basics), Kind::Unreachable);
        assert_eq!(kind(&n2.kube_nodes), Kind::Unreachable);
        // Not asked of n1 while its peer is silent: the peer SSH, and Gluster's cluster-wide
        // volume status (it would wait on the peer's glusterd).
        let n1 = &facts.nodes[0];
        assert_eq!(kind(&n1.peer_ssh), Kind::NotAsked);
        assert_eq!(kind(&n1.volumes[0].status), Kind::NotAsked);
        assert!(!ran(&links[0], GLUSTER_CLI) && !ran(&links[0], PEER_SSH));
        assert_eq!(report.verdict, Verdict::Degraded);
        assert_eq!(result(&report, CheckId::Ssh, "n2"), CheckResult::Fail);
        assert_eq!(report.active.as_deref(), Some("n1"));
    }

    #[tokio::test]
    async fn timeouts_and_a_refused_channel_fail_only_their_probes() {
        let cfg = cfg();
        let links = [
            link(
                &cfg,
                0,
                Ok(fake("n1", |n| {
                    n.errs(KUBE, ProbeError::timed_out("kubectl timed out after 5.0 s"))
                        .answer(BASICS, &basics_with_peer_check(true, "rc=124\n"))
                })),
            ),
            link(
                &cfg,
                1,
                Ok(fake("n2", |n| {
                    n.errs(BASICS, ProbeError::timed_out("timed out after 5.0 s"))
                        .answer(
                            GLUSTER_CLI,
                            &format!(
                                "{}3\n{}",
                                gluster::ASKED_PREFIX,
                                include_str!("../../fixtures/gluster/batch-peer-volume-heal.xml")
                            ),
                        )
                })),
            ),
        ];
        let (facts, report) = round(&cfg, &links).await;
        let (n1, n2) = (&facts.nodes[0], &facts.nodes[1]);
        assert_eq!(kind(&n1.kube_nodes), Kind::TimedOut);
        assert_eq!(kind(&n1.workloads), Kind::TimedOut);
        assert_eq!(kind(&n1.peer_ssh), Kind::TimedOut);
        assert_eq!(kind(&n2.basics), Kind::TimedOut);
        // Without n2's own report (nor whether it holds the VIP) its CLI answers the peer
        // status and, as it does not hold the VIP, the volume's; n1 is not asked.
        assert!(ran(&links[1], GLUSTER_CLI) && !ran(&links[0], GLUSTER_CLI));
        assert!(n2.gluster_peers.is_ok());
        assert!(n2.volumes[0].status.is_ok() && n2.volumes[0].heal.is_ok());
        assert_ne!(result(&report, CheckId::Workloads, "n1"), CheckResult::Ok);
        assert_eq!(
            result(&report, CheckId::StandbySsh, "n2"),
            CheckResult::Fail
        );
        assert_ne!(report.verdict, Verdict::Healthy);
    }

    #[tokio::test]
    async fn failed_commands_are_failures_and_garbled_answers_parse_errors() {
        let cfg = cfg();
        let links = [
            link(
                &cfg,
                0,
                Ok(fake("n1", |n| {
                    n.exits(
                        KUBE,
                        1,
                        include_str!("../../fixtures/kube/stderr-connection-refused.txt"),
                    )
                    .answer(
                        BASICS,
                        &basics_with_peer_check(
                            true,
                            "ssh: connect to host 10.213.57.12 port 22: Connection refused\nrc=255\n",
                        ),
                    )
                    .exits(
                        GLUSTER_CLI,
                        1,
                        "Connection failed. Please check if gluster daemon is operational.",
                    )
                })),
            ),
            link(
                &cfg,
                1,
                Ok(fake("n2", |n| {
                    n.answer(BASICS, "junk\n").answer(
                        GLUSTER_CLI,
                        include_str!("../../fixtures/gluster/volume-status-truncated.xml"),
                    )
                })),
            ),
        ];
        let (facts, report) = round(&cfg, &links).await;
        let (n1, n2) = (&facts.nodes[0], &facts.nodes[1]);
        assert_eq!(kind(&n1.kube_nodes), Kind::Failed);
        assert!(
            n1.kube_nodes
                .as_ref()
                .unwrap_err()
                .message
                .contains("refused"),
            "{:?}",
            n1.kube_nodes
        );
        assert_eq!(kind(&n1.peer_ssh), Kind::Failed);
        assert_eq!(
            n1.peer_ssh.as_ref().unwrap_err().message,
            "ssh 10.213.57.12: exit status 255: ssh: connect to host 10.213.57.12 port 22: Connection refused"
        );
        assert_eq!(kind(&n2.basics), Kind::Parse);
        assert_eq!(kind(&n2.gluster_peers), Kind::Parse);
        // n2 gave no volume answer: n1 is asked, and its CLI fails.
        assert_eq!(kind(&n1.volumes[0].status), Kind::Failed);
        assert_eq!(
            result(&report, CheckId::StandbySsh, "n2"),
            CheckResult::Fail
        );
        assert_ne!(
            result(&report, CheckId::GlusterPeers, "n2"),
            CheckResult::Ok
        );
        assert_ne!(report.verdict, Verdict::Healthy);
    }

    #[tokio::test]
    async fn with_the_peer_silent_only_the_peer_status_is_asked_and_each_volume_says_why() {
        let node = FakeNode::new("n2").answer(
            "gluster --xml",
            include_str!("../../fixtures/gluster/peer-status-disconnected.xml"),
        );
        let deadline = Deadline::after(Duration::from_secs(5));
        let (peers, volumes) = gather_gluster(
            &cfg(),
            &node,
            true,
            VolumeQuestions::NotWhilePeerSilent,
            false,
            deadline,
        )
        .await;
        assert!(!peers.unwrap().peers[0].connected);
        let ran = node.commands().join("\n");
        assert!(ran.contains("'peer status'"), "{ran}");
        assert!(!ran.contains("volume"), "{ran}");
        assert_eq!(volumes.len(), 1);
        for why in [
            &volumes[0].status.as_ref().unwrap_err(),
            &volumes[0].heal.as_ref().unwrap_err(),
        ] {
            assert!(
                why.to_string().contains("the peer does not answer"),
                "{why}"
            );
        }
    }
}
