//! The witness (`[witness]`): the optional third vote — garbd, a member of the Galera cluster,
//! and the arbiter brick of each Gluster volume — that lets the standby take over by itself
//! (see the quorum script, `src/deploy/pairctl-quorum.sh`). What status shows of it is seen
//! from the nodes, on the command's connections: whether each node reaches it (SSH and garbd's
//! port), whether garbd is a member of the Primary component (the nodes' Galera counts a
//! member without an incoming address), and whether each volume has its arbiter brick online
//! on it. A witness that is down costs the automatic takeover, never the service: its checks
//! are degraded at worst.

use crate::config::Node;
use crate::model::{
    Check, CheckId, CheckResult, ClusterReport, Impact, NodeReport, NodeStatus, Role,
};
use crate::probe::collect::NodeLink;
use crate::probe::galera::{ClusterStatus, GaleraFacts};
use crate::probe::{ClusterFacts, ParseError, Probe};
use crate::transport::Exec;
use crate::transport::{Deadline, ProbeError, ProbeErrorKind};
use futures::future::join_all;
use std::time::Duration;

/// garbd's Galera port (and the witness's SSH port) as a node reaches them.
pub const GARBD_PORT: u16 = 4567;
const REACH_LIMIT: Duration = Duration::from_secs(4);

/// What one node sees of the witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub ssh: bool,
    pub garbd: bool,
}

#[derive(Debug, Clone)]
pub struct WitnessFacts {
    pub witness: Node,
    pub ssh_port: u16,
    /// Per node (in config order): its view of the witness, or why it could not be asked.
    pub reach: Vec<(String, Probe<Reach>)>,
}

/// The shell command a node runs to test both ports of the witness at once (bash's
/// /dev/tcp, each bounded to 2 s). The address is an `IpAddr`: nothing to quote.
pub fn reach_command(witness: &Node, ssh_port: u16) -> String {
    format!(
        "c() {{ if timeout 2 bash -c \"exec 3<>/dev/tcp/{a}/$1\" 2>/dev/null; then echo \"$1 open\"; else echo \"$1 closed\"; fi; }}; c {ssh_port} & c {GARBD_PORT} & wait",
        a = witness.address
    )
}

pub fn parse_reach(text: &str, ssh_port: u16) -> Result<Reach, ParseError> {
    let port = |p: u16| {
        text.lines()
            .find_map(|l| match l.trim().split_once(' ') {
                Some((n, state)) if n == p.to_string() => Some(state == "open"),
                _ => None,
            })
            .ok_or_else(|| ParseError::new("witness reach", format!("no line for port {p}")))
    };
    Ok(Reach {
        ssh: port(ssh_port)?,
        garbd: port(GARBD_PORT)?,
    })
}

/// Asks every connected node whether it reaches the witness (None without `[witness]`).
pub async fn gather(
    cfg: &crate::config::Config,
    links: &[NodeLink],
    deadline: Deadline,
) -> Option<WitnessFacts> {
    let witness = cfg.witness.clone()?;
    let port = cfg.ssh.port;
    let command = reach_command(&witness, port);
    let reach = join_all(links.iter().map(|l| {
        let command = command.clone();
        async move {
            let seen = match l.session() {
                None => Err(ProbeError::not_asked("not asked: the node is unreachable")),
                Some(s) => match s.exec(&command, deadline.cap(REACH_LIMIT)).await {
                    Ok(out) => parse_reach(&out.stdout_str(), port).map_err(ProbeError::from),
                    Err(e) => Err(e),
                },
            };
            (l.node.name.clone(), seen)
        }
    }))
    .await;
    Some(WitnessFacts {
        witness,
        ssh_port: port,
        reach,
    })
}

/// The witness's own view of each node (pairctl connects to the witness with the nodes' SSH
/// settings; both nodes are looked at at once, on one connection): per node name, Ok(true)
/// when the witness still reaches it (ping or its SSH port), Ok(false) when it does not; Err
/// when the witness cannot be asked at all.
pub async fn looks(
    cfg: &crate::config::Config,
    witness: &Node,
    deadline: Deadline,
) -> Result<Vec<(String, Result<bool, ProbeError>)>, ProbeError> {
    let link = crate::probe::collect::connect_one(cfg, witness, deadline).await;
    let session = link.session.map_err(|e| e.error())?;
    let looks = join_all(cfg.nodes.iter().map(|n| {
        let session = &session;
        async move {
            let down = crate::plan::actions::confirm_down_from(
                session.as_ref(),
                &n.address.to_string(),
                deadline.cap(Duration::from_secs(5)),
            )
            .await;
            (n.name.clone(), down.map(|down| !down))
        }
    }))
    .await;
    session.close().await;
    Ok(looks)
}

/// The facts of the pair without the witness's Gluster parts (its peer entry, its arbiter
/// bricks): the pair's own checks judge the nodes, and the witness's checks judge the witness,
/// so that a witness that is down degrades through its own checks only (and a swap with the
/// witness down finds the nodes' volumes healed).
pub fn without_witness(facts: &ClusterFacts, witness: &Node) -> ClusterFacts {
    let names = [witness.name.clone(), witness.address.to_string()];
    let is_witness = |host: &str| names.iter().any(|n| n == host);
    let mut facts = facts.clone();
    for node in &mut facts.nodes {
        if let Ok(p) = &mut node.gluster_peers {
            p.peers.retain(|peer| !is_witness(&peer.hostname));
        }
        for v in &mut node.volumes {
            if let Ok(s) = &mut v.status {
                s.bricks.retain(|b| !is_witness(&b.host));
                s.self_heal_daemons.retain(|d| !is_witness(&d.host));
            }
            if let Ok(h) = &mut v.heal {
                h.bricks.retain(|b| {
                    !b.name
                        .split_once(':')
                        .is_some_and(|(host, _)| is_witness(host))
                });
            }
        }
    }
    facts
}

/// Members of the node's component that announce no incoming address: garbd.
fn garbd_members(g: &GaleraFacts) -> u64 {
    g.cluster_size
        .saturating_sub(g.incoming_addresses.len() as u64)
}

/// The witness's row and checks, added to a status report (and the verdict degraded by them).
pub fn amend(report: &mut ClusterReport, facts: &ClusterFacts, w: &WitnessFacts) {
    let name = w.witness.name.as_str();
    let (membership, member) = membership_check(facts, name);
    let (mut checks, reached_by) = reach_checks(w);
    checks.insert(0, membership);
    checks.extend(arbiter_checks(facts, w));

    let any_bad = checks.iter().any(|c| c.result != CheckResult::Ok);
    let status = if !any_bad {
        NodeStatus::Up
    } else if member || reached_by > 0 {
        NodeStatus::Degraded
    } else {
        NodeStatus::Down
    };
    report.nodes.push(NodeReport {
        name: name.to_string(),
        role: Role::Witness,
        status,
        ip: w.witness.address.to_string(),
        epoch: None,
        fence: None,
    });
    report.checks.extend(checks);
    // Degraded at worst: the witness alone never makes the pair critical or unknown.
    if any_bad && report.verdict == crate::model::Verdict::Healthy {
        report.verdict = crate::model::Verdict::Degraded;
    }
    debug_assert!(report
        .checks
        .iter()
        .filter(|c| c.node == name)
        .all(|c| c.impact.is_none() || c.impact == Some(Impact::Degraded)));
}

/// garbd's membership, from the nodes' Galera: in a Primary component, a member without an
/// incoming address. The check, and whether garbd is a member.
fn membership_check(facts: &ClusterFacts, name: &str) -> (Check, bool) {
    let primaries: Vec<&GaleraFacts> = facts
        .nodes
        .iter()
        .filter_map(|n| n.galera.as_ref().ok())
        .filter(|g| g.cluster_status == ClusterStatus::Primary)
        .collect();
    let member = primaries.iter().any(|g| garbd_members(g) >= 1);
    let size = primaries.iter().map(|g| g.cluster_size).max().unwrap_or(0);
    let check = if member {
        Check::ok(
            CheckId::Witness,
            name,
            format!("garbd is a member of the Primary component (Galera size {size})"),
        )
    } else if primaries.is_empty() {
        Check::warn(
            CheckId::Witness,
            name,
            "no node is in a Primary component: garbd's membership is unknown",
        )
    } else {
        Check::warn(
            CheckId::Witness,
            name,
            format!(
                "garbd is not a member of the Primary component (Galera size {size}): no automatic takeover while the witness is down"
            ),
        )
    };
    (check.with("member", u8::from(member)), member)
}

/// The witness as each node sees it; and by how many nodes it is reached at all.
fn reach_checks(w: &WitnessFacts) -> (Vec<Check>, usize) {
    let name = w.witness.name.as_str();
    let mut checks = Vec::new();
    let mut reached_by = 0;
    for (node, seen) in &w.reach {
        checks.push(match seen {
            Ok(Reach { ssh: true, garbd: true }) => {
                reached_by += 1;
                Check::ok(
                    CheckId::WitnessReach,
                    node,
                    format!(
                        "reaches {name} ({}): SSH and garbd ({GARBD_PORT}) answer",
                        w.witness.address
                    ),
                )
                .with("reachable", 1u8)
            }
            Ok(r) => {
                if r.ssh || r.garbd {
                    reached_by += 1;
                }
                let closed: Vec<String> = [(r.ssh, "SSH".to_string()), (r.garbd, format!("garbd ({GARBD_PORT})"))]
                    .into_iter()
                    .filter(|(open, _)| !open)
                    .map(|(_, what)| what)
                    .collect();
                Check::warn(
                    CheckId::WitnessReach,
                    node,
                    format!(
                        "{name} ({}): {} does not answer: no automatic takeover while the witness is down",
                        w.witness.address,
                        closed.join(" and ")
                    ),
                )
                .with("reachable", 0u8)
            }
            Err(e) if e.kind == ProbeErrorKind::NotAsked => continue,
            Err(e) => Check::warn(CheckId::WitnessReach, node, format!("cannot ask: {e}")),
        });
    }
    (checks, reached_by)
}

/// The arbiter brick of each volume: on the witness, online.
fn arbiter_checks(facts: &ClusterFacts, w: &WitnessFacts) -> Vec<Check> {
    let name = w.witness.name.as_str();
    let hosts = [w.witness.name.clone(), w.witness.address.to_string()];
    let mut volumes_seen = std::collections::BTreeSet::new();
    let mut checks = Vec::new();
    for v in facts.nodes.iter().flat_map(|n| n.volumes.iter()) {
        let Ok(status) = &v.status else { continue };
        if !volumes_seen.insert(v.name.clone()) {
            continue;
        }
        let arbiter = status.bricks.iter().find(|b| hosts.contains(&b.host));
        checks.push(match arbiter {
            Some(b) if b.online => Check::ok(
                CheckId::GlusterArbiter,
                name,
                format!("{}: arbiter brick {}:{} online", v.name, b.host, b.path),
            ),
            Some(b) => Check::warn(
                CheckId::GlusterArbiter,
                name,
                format!("{}: arbiter brick {}:{} offline", v.name, b.host, b.path),
            ),
            None => Check::warn(
                CheckId::GlusterArbiter,
                name,
                format!(
                    "{}: no brick of {name} in the volume status ({name} down, or the volume is not replica 3 arbiter 1): the files have no third vote",
                    v.name
                ),
            ),
        });
    }
    checks
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reach_lines_in_any_order() {
        let r = parse_reach("4567 closed\n22 open\n", 22).unwrap();
        assert_eq!(
            r,
            Reach {
                ssh: true,
                garbd: false
            }
        );
        assert!(parse_reach("22 open\n", 22).is_err());
        assert!(parse_reach("", 22).is_err());
    }

    #[test]
    fn reach_command_names_both_ports() {
        let w = Node {
            name: "w".into(),
            address: "10.0.0.3".parse().unwrap(),
        };
        let c = reach_command(&w, 2222);
        assert!(c.contains("/dev/tcp/10.0.0.3/$1"));
        assert!(c.contains("c 2222 & c 4567 & wait"));
    }
}
