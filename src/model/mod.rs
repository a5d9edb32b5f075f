//! Judgement: pure functions from gathered facts to checks, node roles and a verdict.
//! Nothing here does I/O; everything is `Serialize` for the JSON output.

use crate::probe::node::{BasicFacts, Deployment};
use crate::probe::{ClusterFacts, NodeFacts};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

mod check_id;
pub use check_id::{CheckId, CheckName};

pub const STATUS_SCHEMA: &str = "pairctl.status/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Active,
    Standby,
    /// Fenced after a failover away from it: no VIP, no k3s, its database not primary, until
    /// it is rejoined.
    Fenced,
    /// The `[witness]` host: garbd and the Gluster arbiter bricks, no application data.
    Witness,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NodeStatus {
    Up,
    Degraded,
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckResult {
    Ok,
    Warn,
    Fail,
}

/// How much a check that is not ok weighs in the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    /// The cluster still serves but has lost redundancy or a guarantee.
    Degraded,
    /// No service, split brain, or data at risk.
    Critical,
    /// The fact could not be established.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Healthy,
    Degraded,
    Critical,
    Unknown,
}

impl Verdict {
    /// Monitoring-plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    pub fn exit_status(self) -> crate::error::ExitStatus {
        use crate::error::ExitStatus;
        match self {
            Verdict::Healthy => ExitStatus::Ok,
            Verdict::Degraded => ExitStatus::DegradedOrFailed,
            Verdict::Critical => ExitStatus::CriticalOrNotConverged,
            Verdict::Unknown => ExitStatus::UnknownOrRefused,
        }
    }
    pub fn exit_code(self) -> u8 {
        self.exit_status().code()
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Healthy => "healthy",
            Verdict::Degraded => "degraded",
            Verdict::Critical => "critical",
            Verdict::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Check {
    #[schemars(with = "String")]
    pub name: CheckName,
    /// A node name, or "cluster" for checks of the pair as a whole.
    pub node: String,
    pub result: CheckResult,
    pub detail: String,
    /// Set when the result is not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
    /// The typed measurements behind `detail`, in base units (seconds, counts, states as
    /// numbers): what monitoring reads, so that nothing is parsed back out of the text.
    /// The keys per check are listed in the README.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        serialize_with = "serialize_values"
    )]
    pub values: BTreeMap<String, f64>,
}

/// Whole numbers as JSON integers (`2`, not `2.0`): counts read as counts.
fn serialize_values<S: serde::Serializer>(
    values: &BTreeMap<String, f64>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(values.len()))?;
    for (k, v) in values {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            map.serialize_entry(k, &(*v as i64))?;
        } else {
            map.serialize_entry(k, v)?;
        }
    }
    map.end()
}

impl Check {
    pub(crate) fn ok(name: impl Into<CheckName>, node: &str, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            node: node.into(),
            result: CheckResult::Ok,
            detail: detail.into(),
            impact: None,
            values: BTreeMap::new(),
        }
    }
    pub(crate) fn warn(name: impl Into<CheckName>, node: &str, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            node: node.into(),
            result: CheckResult::Warn,
            detail: detail.into(),
            impact: Some(Impact::Degraded),
            values: BTreeMap::new(),
        }
    }
    fn fail(
        name: impl Into<CheckName>,
        node: &str,
        impact: Impact,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            node: node.into(),
            result: CheckResult::Fail,
            detail: detail.into(),
            impact: Some(impact),
            values: BTreeMap::new(),
        }
    }
    /// Adds a typed measurement (see `values`).
    pub fn with(mut self, key: &str, value: impl Into<f64>) -> Self {
        self.values.insert(key.to_string(), value.into());
        self
    }
    fn with_count(self, key: &str, count: usize) -> Self {
        self.with(key, count as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct NodeReport {
    pub name: String,
    pub role: Role,
    pub status: NodeStatus,
    pub ip: String,
    /// The node's epoch file (every role change bumps it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
    /// The fence marker, when the node is fenced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fence: Option<crate::probe::node::Fence>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ClusterReport {
    pub schema: &'static str,
    pub cluster: String,
    pub verdict: Verdict,
    pub vip: String,
    /// The node that is active, when exactly one is.
    pub active: Option<String>,
    pub nodes: Vec<NodeReport>,
    pub checks: Vec<Check>,
    pub deployment: Option<Deployment>,
    /// The last recorded role change, if any.
    pub last_change: Option<serde_json::Value>,
    /// The maintenance in force (`pairctl maintenance on`), null when none.
    pub maintenance: Option<crate::maintenance::Maintenance>,
    /// When the last role change happened, in seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_change_timestamp: Option<u64>,
    pub elapsed_ms: u64,
}

impl ClusterReport {
    pub fn node(&self, name: &str) -> Option<&NodeReport> {
        self.nodes.iter().find(|n| n.name == name)
    }
    pub fn failing(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.result != CheckResult::Ok)
    }
}

/// What the judgement needs to know besides the facts.
#[derive(Debug, Clone)]
pub struct Expectations {
    pub cluster: String,
    pub vip: String,
    pub services: Vec<String>,
    pub namespace: String,
    pub volumes: Vec<String>,
    pub replica_max_age: Duration,
}

const CLUSTER: &str = "cluster";

/// Turns the facts of both nodes into the report. Pure: same facts, same report.
pub fn judge(facts: &ClusterFacts, exp: &Expectations, elapsed: Duration) -> ClusterReport {
    let roles = roles_of(facts);
    let mut checks = ssh_checks(facts);
    checks.push(vip_check(facts, exp, &roles.holders));
    checks.extend(node_checks(facts, roles.k3s));
    checks.extend(galera_checks(facts, roles.k3s));
    checks.extend(gluster_peer_checks(facts));
    for vol in &exp.volumes {
        checks.push(volume_check(facts, vol));
    }
    if let Some(a) = roles.active {
        checks.extend(standby_checks(facts, a, exp.replica_max_age));
    }
    // Kubernetes state consistent with the enabled services (on the active).
    if let Some(k) = roles.k3s {
        checks.push(workloads_check(&facts.nodes[k], exp));
    }
    checks.extend(facts.services.iter().map(service_check));

    let nodes = node_reports(facts, &roles.roles, &checks);
    let maintenance = maintenance_in_force(facts);
    if let Some(m) = &maintenance {
        explain_by_maintenance(&mut checks, m, facts);
    }
    let nothing_reachable = facts.nodes.iter().all(|n| n.ssh.is_err());
    let verdict = verdict_of(&checks, nothing_reachable);
    let last_change = last_change_of(facts);
    let last_change_timestamp = last_change
        .as_ref()
        .and_then(|c| c.get("time")?.as_str())
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());

    ClusterReport {
        schema: STATUS_SCHEMA,
        cluster: exp.cluster.clone(),
        verdict,
        vip: exp.vip.clone(),
        active: roles.active.map(|a| facts.nodes[a].name.clone()),
        nodes,
        checks,
        deployment: deployment_of(facts, roles.active),
        last_change,
        maintenance,
        last_change_timestamp,
        elapsed_ms: elapsed.as_millis() as u64,
    }
}

/// Who plays which part, as far as the facts tell.
struct Roles<'a> {
    /// Per node, in config order.
    roles: Vec<Role>,
    /// The nodes that hold the VIP, among those that could be asked.
    holders: Vec<&'a NodeFacts>,
    /// The one active (holds the VIP and runs k3s), if there is exactly one.
    active: Option<usize>,
    /// Where to look for k3s: the active, else the only VIP holder.
    k3s: Option<usize>,
}

/// Roles: fenced = the fence marker; active = holds the VIP and runs k3s; standby = neither;
/// otherwise unknown.
fn roles_of(facts: &ClusterFacts) -> Roles<'_> {
    let holders: Vec<&NodeFacts> = facts
        .nodes
        .iter()
        .filter(|n| n.basics.as_ref().map(|b| b.holds_vip).unwrap_or(false))
        .collect();
    let roles: Vec<Role> = facts
        .nodes
        .iter()
        .map(|n| match &n.basics {
            Ok(b) if b.fence.is_some() => Role::Fenced,
            Ok(b) if b.holds_vip && b.k3s_active => Role::Active,
            Ok(b) if !b.holds_vip && !b.k3s_active => Role::Standby,
            _ => Role::Unknown,
        })
        .collect();
    let actives: Vec<usize> = roles
        .iter()
        .enumerate()
        .filter(|(_, r)| **r == Role::Active)
        .map(|(i, _)| i)
        .collect();
    let active = match actives.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    let k3s = active.or_else(|| {
        facts
            .nodes
            .iter()
            .position(|n| holders.len() == 1 && n.name == holders[0].name)
    });
    Roles {
        roles,
        holders,
        active,
        k3s,
    }
}

fn ssh_checks(facts: &ClusterFacts) -> Vec<Check> {
    facts
        .nodes
        .iter()
        .map(|node| match &node.ssh {
            Ok(took) => Check::ok(
                CheckId::Ssh,
                &node.name,
                format!("connected in {} ms", took.as_millis()),
            )
            .with("connect_seconds", took.as_millis() as f64 / 1000.0),
            Err(e) => Check::fail(CheckId::Ssh, &node.name, Impact::Degraded, e.clone()),
        })
        .collect()
}

/// Exactly one holder of the VIP among the nodes; with some not asked, what can be said.
fn vip_check(facts: &ClusterFacts, exp: &Expectations, holders: &[&NodeFacts]) -> Check {
    let unasked: Vec<&NodeFacts> = facts.nodes.iter().filter(|n| n.basics.is_err()).collect();
    let services_ok =
        !facts.services.is_empty() && facts.services.iter().all(|s| s.status == Ok(200));
    let vip = &exp.vip;
    match (holders.len(), unasked.len()) {
        (2, _) => Check::fail(
            CheckId::Vip,
            CLUSTER,
            Impact::Critical,
            format!(
                "split brain: {vip} is held by {} and {}",
                holders[0].name, holders[1].name
            ),
        ),
        (1, 0) => Check::ok(
            CheckId::Vip,
            CLUSTER,
            format!("{vip} on {}", holders[0].name),
        ),
        (1, _) => Check::warn(
            CheckId::Vip,
            CLUSTER,
            format!(
                "{vip} on {}; {} cannot be asked, a second holder is not ruled out",
                holders[0].name,
                names(&unasked)
            ),
        ),
        (_, 0) => Check::fail(
            CheckId::Vip,
            CLUSTER,
            Impact::Critical,
            format!("no node holds {vip}"),
        ),
        (_, n) if n == facts.nodes.len() => Check::fail(
            CheckId::Vip,
            CLUSTER,
            Impact::Unknown,
            "no node could be asked".to_string(),
        ),
        _ if services_ok => Check::fail(
            CheckId::Vip,
            CLUSTER,
            Impact::Unknown,
            format!(
                "no reachable node holds {vip} but it answers: presumably {}",
                names(&unasked)
            ),
        ),
        _ => Check::fail(
            CheckId::Vip,
            CLUSTER,
            Impact::Critical,
            format!("no reachable node holds {vip} and it does not answer"),
        ),
    }
}

/// Per node: why its facts are missing, its fence, keepalived, and k3s where it should (or
/// must not) run.
fn node_checks(facts: &ClusterFacts, k3s_index: Option<usize>) -> Vec<Check> {
    let mut checks = Vec::new();
    for (i, node) in facts.nodes.iter().enumerate() {
        let is_active = Some(i) == k3s_index;
        let Ok(basics) = &node.basics else {
            if let (Ok(_), Err(e)) = (&node.ssh, &node.basics) {
                checks.push(Check::fail(
                    CheckId::NodeFacts,
                    &node.name,
                    Impact::Degraded,
                    e.clone(),
                ));
            }
            continue;
        };
        if let Some(f) = &basics.fence {
            checks.push(fence_check(&node.name, &facts.nodes, f));
        }
        let keepalived = keepalived_check(node, basics, is_active);
        checks.push(match vrrp_state_number(basics) {
            Some(n) => keepalived.with("vrrp_state", n),
            None => keepalived,
        });
        if is_active {
            checks.push(k3s_check(node, basics));
        } else if basics.k3s_active {
            checks.push(Check::fail(
                CheckId::K3s,
                &node.name,
                Impact::Critical,
                "k3s runs on a node that is not the active: two writers",
            ));
        }
    }
    checks
}

/// Galera: every node a synced member of one Primary component. Whether each node is in a
/// Primary component decides whether a lone Primary is the active keeping quorum (the
/// standby cut off) or one of two primaries.
fn galera_checks(facts: &ClusterFacts, k3s_index: Option<usize>) -> Vec<Check> {
    use crate::probe::galera::ClusterStatus;
    let both_up = facts.nodes.iter().all(|n| n.ssh.is_ok());
    let primary: Vec<bool> = facts
        .nodes
        .iter()
        .map(|n| matches!(&n.galera, Ok(g) if g.cluster_status == ClusterStatus::Primary))
        .collect();
    let mut checks = Vec::new();
    let mut uuids: Vec<(&str, &str)> = Vec::new();
    for (i, node) in facts.nodes.iter().enumerate() {
        let impact_if_down = if Some(i) == k3s_index {
            Impact::Critical
        } else {
            Impact::Degraded
        };
        match &node.galera {
            Err(e) => checks.push(Check::fail(
                CheckId::Galera,
                &node.name,
                impact_if_down,
                e.clone(),
            )),
            Ok(g) => {
                uuids.push((&node.name, &g.cluster_state_uuid));
                let peer_primary = primary.iter().enumerate().any(|(j, p)| j != i && *p);
                let active_primary = k3s_index.is_some_and(|k| k != i && primary[k]);
                checks.push(
                    galera_check(&node.name, g, peer_primary, active_primary, both_up)
                        .with("cluster_size", g.cluster_size as f64)
                        .with(
                            "primary",
                            u8::from(g.cluster_status == ClusterStatus::Primary),
                        ),
                );
            }
        }
    }
    if let [a, b] = uuids[..] {
        checks.push(galera_state_check(a, b));
    }
    checks
}

/// Both nodes' Galera state UUIDs (name, UUID): one history, or two.
fn galera_state_check(a: (&str, &str), b: (&str, &str)) -> Check {
    if a.1 == b.1 {
        Check::ok(
            CheckId::GaleraState,
            CLUSTER,
            format!("state UUID {} on both", short_uuid(a.1)),
        )
    } else {
        Check::fail(
            CheckId::GaleraState,
            CLUSTER,
            Impact::Critical,
            format!(
                "state UUIDs differ: {} {} / {} {}",
                a.0,
                short_uuid(a.1),
                b.0,
                short_uuid(b.1)
            ),
        )
    }
}

/// Gluster: the trusted pool as each reachable node sees it.
fn gluster_peer_checks(facts: &ClusterFacts) -> Vec<Check> {
    facts
        .nodes
        .iter()
        .filter(|node| node.ssh.is_ok())
        .map(|node| {
            let check = gluster_peers_check(node);
            match &node.gluster_peers {
                Ok(p) => check.with_count("peers", p.peers.len()).with_count(
                    "peers_connected",
                    p.peers.iter().filter(|x| x.connected).count(),
                ),
                Err(_) => check,
            }
        })
        .collect()
}

fn gluster_peers_check(node: &NodeFacts) -> Check {
    let p = match &node.gluster_peers {
        Err(e) => {
            return Check::fail(
                CheckId::GlusterPeers,
                &node.name,
                Impact::Degraded,
                e.clone(),
            )
        }
        Ok(p) => p,
    };
    if p.peers.is_empty() {
        return Check::fail(
            CheckId::GlusterPeers,
            &node.name,
            Impact::Degraded,
            "no peers in the trusted pool",
        );
    }
    let down: Vec<&str> = p
        .peers
        .iter()
        .filter(|x| !x.connected)
        .map(|x| x.hostname.as_str())
        .collect();
    if down.is_empty() {
        let all: Vec<&str> = p.peers.iter().map(|x| x.hostname.as_str()).collect();
        Check::ok(
            CheckId::GlusterPeers,
            &node.name,
            format!("{} connected", all.join(", ")),
        )
    } else {
        Check::fail(
            CheckId::GlusterPeers,
            &node.name,
            Impact::Degraded,
            format!("disconnected: {}", down.join(", ")),
        )
    }
}

/// The standby reachable over SSH from the active; the state replica fresh on the standby.
fn standby_checks(facts: &ClusterFacts, a: usize, replica_max_age: Duration) -> Vec<Check> {
    let active = &facts.nodes[a];
    let mut checks = Vec::new();
    for (i, other) in facts.nodes.iter().enumerate() {
        if i == a {
            continue;
        }
        checks.push(match &active.peer_ssh {
            Ok(()) => Check::ok(
                CheckId::StandbySsh,
                &other.name,
                format!("reachable over SSH from {}", active.name),
            ),
            Err(e) => Check::fail(
                CheckId::StandbySsh,
                &other.name,
                Impact::Degraded,
                format!("from {}: {e}", active.name),
            ),
        });
        if other.basics.is_ok() {
            checks.push(replica_check(active, other, replica_max_age));
        }
    }
    checks
}

/// An enabled service answering through the VIP.
fn service_check(s: &crate::probe::ServiceFacts) -> Check {
    let name = CheckId::Service.of(&s.name);
    let code = match &s.status {
        Err(e) => return Check::fail(&name, CLUSTER, Impact::Critical, e.clone()),
        Ok(code) => *code,
    };
    let check = if code == 200 {
        Check::ok(&name, CLUSTER, "ready (HTTP 200 via VIP)")
    } else {
        Check::fail(
            &name,
            CLUSTER,
            Impact::Critical,
            format!("HTTP {code} via VIP"),
        )
    };
    check.with("http_status", code)
}

/// Each node's row: its role, and down, degraded (a check about it is not ok) or up.
fn node_reports(facts: &ClusterFacts, roles: &[Role], checks: &[Check]) -> Vec<NodeReport> {
    facts
        .nodes
        .iter()
        .zip(roles)
        .map(|(n, role)| {
            let status = if n.ssh.is_err() {
                NodeStatus::Down
            } else if checks
                .iter()
                .any(|c| c.node == n.name && c.result != CheckResult::Ok)
            {
                NodeStatus::Degraded
            } else {
                NodeStatus::Up
            };
            let basics = n.basics.as_ref().ok();
            NodeReport {
                name: n.name.clone(),
                role: *role,
                status,
                ip: n.address.clone(),
                epoch: basics.and_then(|b| b.epoch),
                fence: basics.and_then(|b| b.fence.clone()),
            }
        })
        .collect()
}

/// The deployment record of the active, else of any node that has one.
fn deployment_of(facts: &ClusterFacts, active: Option<usize>) -> Option<Deployment> {
    active
        .and_then(|a| facts.nodes[a].basics.as_ref().ok())
        .and_then(|b| b.deployment.clone())
        .or_else(|| {
            facts
                .nodes
                .iter()
                .find_map(|n| n.basics.as_ref().ok().and_then(|b| b.deployment.clone()))
        })
}

/// The newest role change either node recorded.
fn last_change_of(facts: &ClusterFacts) -> Option<serde_json::Value> {
    facts
        .nodes
        .iter()
        .filter_map(|n| n.basics.as_ref().ok().and_then(|b| b.last_change.clone()))
        .max_by(|a, b| {
            a.get("time")
                .map(|v| v.to_string())
                .cmp(&b.get("time").map(|v| v.to_string()))
        })
}

/// The maintenance in force, by the newest record any node holds (each keeps its own copy).
fn maintenance_in_force(facts: &ClusterFacts) -> Option<crate::maintenance::Maintenance> {
    crate::maintenance::newest_in_force(
        facts
            .nodes
            .iter()
            .filter_map(|n| n.basics.as_ref().ok()?.maintenance_mode.clone()),
    )
}

/// While a maintenance lasts the verdict is degraded (monitoring sees it, with the reason),
/// and what a node maintenance explains — that node's absence — is marked so and weighs as
/// degraded. A critical finding keeps its severity: maintenance never hides two writers or a
/// pair without service.
fn explain_by_maintenance(
    checks: &mut Vec<Check>,
    m: &crate::maintenance::Maintenance,
    facts: &ClusterFacts,
) {
    if let Some(node) = m.node.as_deref() {
        let address = facts
            .nodes
            .iter()
            .find(|n| n.name == node)
            .map(|n| n.address.as_str());
        for c in checks.iter_mut() {
            let concerns = c.node == node
                || mentions(&c.detail, node)
                || address.is_some_and(|a| mentions(&c.detail, a));
            if concerns && c.result != CheckResult::Ok && c.impact != Some(Impact::Critical) {
                c.result = CheckResult::Warn;
                c.impact = Some(Impact::Degraded);
                c.detail = format!("in maintenance ({}): {}", m.reason, c.detail);
            }
        }
    }
    checks.push(Check::warn(
        CheckId::Maintenance,
        m.node.as_deref().unwrap_or(CLUSTER),
        m.describe(),
    ));
}

/// `word` appears in `text` as a whole token (so `n1` is not found in `n12`).
fn mentions(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let boundary = |c: Option<char>| {
            c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        };
        boundary(before) && boundary(after)
    })
}

impl ClusterReport {
    /// Joins what a role change learned beyond the status round to the `replica` check of
    /// `node` (litestream's trial restore of the replica there): appended to an ok check's
    /// detail, or the check fails with it (and the verdict follows).
    pub fn amend_replica(
        &mut self,
        node: &str,
        outcome: Result<String, crate::transport::ProbeError>,
    ) {
        let Some(c) = self
            .checks
            .iter_mut()
            .find(|c| c.name == CheckId::Replica && c.node == node)
        else {
            return;
        };
        match outcome {
            Ok(more) if c.result == CheckResult::Ok => c.detail = format!("{}; {more}", c.detail),
            Ok(_) => {}
            Err(why) => {
                *c = Check::fail(
                    CheckId::Replica,
                    node,
                    Impact::Degraded,
                    if c.result == CheckResult::Ok {
                        why.message
                    } else {
                        format!("{}; {why}", c.detail)
                    },
                )
            }
        }
        let nothing_reachable = self.nodes.iter().all(|n| n.status == NodeStatus::Down);
        self.verdict = verdict_of(&self.checks, nothing_reachable);
    }
}

/// Critical beats unknown beats degraded; all ok is healthy. With no node reachable the
/// truth is unknown.
pub fn verdict_of(checks: &[Check], nothing_reachable: bool) -> Verdict {
    if checks.iter().any(|c| c.impact == Some(Impact::Critical)) {
        return Verdict::Critical;
    }
    if nothing_reachable || checks.iter().any(|c| c.impact == Some(Impact::Unknown)) {
        return Verdict::Unknown;
    }
    if checks.iter().any(|c| c.result != CheckResult::Ok) {
        return Verdict::Degraded;
    }
    Verdict::Healthy
}

fn names(nodes: &[&NodeFacts]) -> String {
    nodes
        .iter()
        .map(|n| n.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn short_uuid(u: &str) -> &str {
    u.get(..8).unwrap_or(u)
}

/// keepalived's own numbering of VRRP states (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT), as its
/// exporters use; `None` when the unit is not running (the recorded state is then stale) or the
/// notify script recorded nothing known.
fn vrrp_state_number(b: &BasicFacts) -> Option<u8> {
    if b.keepalived_unit != "active" {
        return None;
    }
    match b.vrrp_state.as_deref()? {
        "INIT" => Some(0),
        "BACKUP" => Some(1),
        "MASTER" => Some(2),
        "FAULT" => Some(3),
        _ => None,
    }
}

/// A fenced node: degraded (the pair has lost its standby), with when, why and the way back.
fn fence_check(node: &str, nodes: &[NodeFacts], f: &crate::probe::node::Fence) -> Check {
    let peer = nodes
        .iter()
        .find(|n| n.name != node)
        .map(|n| n.name.as_str())
        .unwrap_or("the peer");
    let by = match f.by.as_str() {
        "failover" => "by failover".to_string(),
        "self" => "by itself".to_string(),
        "" => "".to_string(),
        other => format!("by {other}"),
    };
    let epoch = f.epoch.map(|e| format!(", epoch {e}")).unwrap_or_default();
    Check::fail(
        CheckId::Fence,
        node,
        Impact::Degraded,
        format!(
            "fenced {by} at {time}{epoch}: {reason}; no VIP, no k3s, its database not primary until rejoined. Next: `pairctl rejoin {node} --dry-run` (the divergence report), then `pairctl rejoin {node}` to bring it back as the standby of {peer}",
            time = if f.time.is_empty() { "an unknown time" } else { &f.time },
            reason = if f.reason.is_empty() { "no reason recorded" } else { &f.reason },
        ),
    )
}

fn keepalived_check(node: &NodeFacts, b: &BasicFacts, is_active: bool) -> Check {
    let state = b.vrrp_state.as_deref().unwrap_or("unknown state");
    if b.keepalived_unit != "active" {
        return Check::fail(
            CheckId::Keepalived,
            &node.name,
            Impact::Degraded,
            format!("keepalived.service is {}", b.keepalived_unit),
        );
    }
    if b.maintenance {
        return Check::warn(
            CheckId::Keepalived,
            &node.name,
            format!("{state}, demoted (maintenance file present)"),
        );
    }
    // pairctl-quorum.sh holds every node but the active in FAULT (the pair never changes
    // roles by itself): a standby or a fenced node in FAULT is as it should be.
    if state == "FAULT" && !b.holds_vip {
        if b.fence.is_some() {
            return Check::ok(
                CheckId::Keepalived,
                &node.name,
                "FAULT: fenced (held out of the election)",
            );
        }
        if b.role.as_deref() == Some("standby") && !is_active {
            return Check::ok(
                CheckId::Keepalived,
                &node.name,
                "FAULT: standby (held out of the election by its role)",
            );
        }
    }
    match (state, b.holds_vip, is_active) {
        ("MASTER", true, _) | ("BACKUP", false, false) => {
            Check::ok(CheckId::Keepalived, &node.name, state.to_string())
        }
        ("FAULT", _, _) => Check::fail(
            CheckId::Keepalived,
            &node.name,
            Impact::Degraded,
            "FAULT state",
        ),
        _ => Check::warn(
            CheckId::Keepalived,
            &node.name,
            format!(
                "{state} while {} the VIP",
                if b.holds_vip {
                    "holding"
                } else {
                    "not holding"
                }
            ),
        ),
    }
}

fn k3s_check(node: &NodeFacts, b: &BasicFacts) -> Check {
    if !b.k3s_active {
        return Check::fail(
            CheckId::K3s,
            &node.name,
            Impact::Critical,
            "k3s.service is not running on the VIP holder",
        );
    }
    match &node.kube_nodes {
        Err(e) => Check::fail(CheckId::K3s, &node.name, Impact::Critical, e.clone()),
        Ok(list) if list.is_empty() => Check::fail(
            CheckId::K3s,
            &node.name,
            Impact::Critical,
            "no Kubernetes node registered",
        ),
        Ok(list) => {
            let not_ready: Vec<String> = list
                .iter()
                .filter(|n| !n.ready)
                .map(|n| {
                    format!(
                        "{} NotReady{}",
                        n.name,
                        n.reason
                            .as_deref()
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default()
                    )
                })
                .collect();
            let check = if not_ready.is_empty() {
                Check::ok(
                    CheckId::K3s,
                    &node.name,
                    format!("running, {} node(s) Ready", list.len()),
                )
            } else {
                Check::fail(
                    CheckId::K3s,
                    &node.name,
                    Impact::Critical,
                    not_ready.join("; "),
                )
            };
            check
                .with_count("nodes", list.len())
                .with_count("nodes_ready", list.len() - not_ready.len())
        }
    }
}

/// `peer_primary`: the other node is in a Primary component too; `active_primary`: the other
/// node is the active one and Primary (so this node being cut off costs redundancy only).
fn galera_check(
    node: &str,
    g: &crate::probe::galera::GaleraFacts,
    peer_primary: bool,
    active_primary: bool,
    both_up: bool,
) -> Check {
    use crate::probe::galera::{ClusterStatus, LocalState};
    if g.cluster_status != ClusterStatus::Primary {
        let summary = format!(
            "{} component, size {}",
            g.cluster_status.as_str(),
            g.cluster_size
        );
        if active_primary {
            return Check::fail(
                CheckId::Galera,
                node,
                Impact::Degraded,
                format!("{summary}: cut off from the active, which keeps quorum"),
            );
        }
        return Check::fail(
            CheckId::Galera,
            node,
            Impact::Critical,
            format!("{summary}: no quorum, writes refused"),
        );
    }
    if !g.ready || !g.connected {
        return Check::fail(
            CheckId::Galera,
            node,
            Impact::Critical,
            format!(
                "wsrep_ready={} wsrep_connected={}",
                on_off(g.ready),
                on_off(g.connected)
            ),
        );
    }
    let state = g
        .local_state_comment
        .as_ref()
        .map(LocalState::as_str)
        .unwrap_or("no provider");
    let summary = format!("Primary, {state}, size {}", g.cluster_size);
    if g.local_state_comment != Some(LocalState::Synced) {
        return Check::warn(CheckId::Galera, node, summary);
    }
    if g.cluster_size >= 2 {
        Check::ok(CheckId::Galera, node, summary)
    } else if both_up && peer_primary {
        Check::fail(
            CheckId::Galera,
            node,
            Impact::Critical,
            format!("{summary}: both nodes Primary but not one cluster (two primaries)"),
        )
    } else {
        Check::warn(
            CheckId::Galera,
            node,
            format!("{summary} (peer not a member)"),
        )
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "ON"
    } else {
        "OFF"
    }
}

fn volume_check(facts: &ClusterFacts, vol: &str) -> Check {
    let name = CheckId::GlusterVolume.of(vol);
    let mut last_err = None;
    for node in &facts.nodes {
        let Some(v) = node.volumes.iter().find(|v| v.name == vol) else {
            continue;
        };
        let status = match &v.status {
            Ok(s) => s,
            Err(e) => {
                last_err = Some(e.clone());
                continue;
            }
        };
        let mut check = volume_judgement(facts, &name, v, status)
            .with_count("bricks", status.bricks.len())
            .with_count(
                "bricks_online",
                status.bricks.iter().filter(|b| b.online).count(),
            );
        if let Ok(heal) = &v.heal {
            let sum = |f: fn(&crate::probe::gluster::BrickHeal) -> Option<u64>| {
                heal.bricks.iter().filter_map(f).sum::<u64>() as f64
            };
            check = check
                .with("heal_pending_entries", sum(|b| b.pending))
                .with("split_brain_entries", sum(|b| b.split_brain));
        }
        return check;
    }
    Check::fail(
        &name,
        CLUSTER,
        Impact::Degraded,
        last_err.unwrap_or_else(|| {
            crate::transport::ProbeError::failed("no node could report the volume")
        }),
    )
}

/// One volume as the first node that could report it sees it.
fn volume_judgement(
    facts: &ClusterFacts,
    name: &CheckName,
    v: &crate::probe::VolumeFacts,
    status: &crate::probe::gluster::VolumeStatusFacts,
) -> Check {
    {
        let offline: Vec<String> = status
            .bricks
            .iter()
            .filter(|b| !b.online)
            .map(|b| format!("{}:{}", b.host, b.path))
            .collect();
        if status.bricks.is_empty() {
            return Check::fail(name, CLUSTER, Impact::Degraded, "no bricks online");
        }
        if let Ok(heal) = &v.heal {
            let split: u64 = heal.bricks.iter().filter_map(|b| b.split_brain).sum();
            if split > 0 {
                return Check::fail(
                    name,
                    CLUSTER,
                    Impact::Critical,
                    format!("{split} entries in split-brain"),
                );
            }
        }
        if status.bricks.len() < facts.nodes.len() {
            // glusterd leaves out the bricks of a peer it cannot reach.
            let seen: Vec<&str> = status.bricks.iter().map(|b| b.host.as_str()).collect();
            return Check::fail(
                name,
                CLUSTER,
                Impact::Degraded,
                format!(
                    "only {} of {} bricks reported ({})",
                    status.bricks.len(),
                    facts.nodes.len(),
                    seen.join(", ")
                ),
            );
        }
        if !offline.is_empty() {
            return Check::fail(
                name,
                CLUSTER,
                Impact::Degraded,
                format!("brick offline: {}", offline.join(", ")),
            );
        }
        let heal = match &v.heal {
            Ok(h) => h,
            Err(e) => {
                return Check::fail(name, CLUSTER, Impact::Degraded, format!("heal info: {e}"))
            }
        };
        let pending: u64 = heal.bricks.iter().filter_map(|b| b.pending).sum();
        let disconnected: Vec<&str> = heal
            .bricks
            .iter()
            .filter(|b| !b.connected)
            .map(|b| b.name.as_str())
            .collect();
        if !disconnected.is_empty() {
            return Check::fail(
                name,
                CLUSTER,
                Impact::Degraded,
                format!("brick not connected: {}", disconnected.join(", ")),
            );
        }
        if pending > 0 {
            return Check::warn(name, CLUSTER, format!("{pending} entries pending heal"));
        }
        Check::ok(
            name,
            CLUSTER,
            format!("{} bricks online, nothing to heal", status.bricks.len()),
        )
    }
}

/// The k3s state replication as litestream sees it, with its typed values: the lag (how old
/// the newest transaction missing from the replica may be), the max age, the TXIDs behind.
fn replica_check(active: &NodeFacts, standby: &NodeFacts, max_age: Duration) -> Check {
    let (check, lag) = replica_judgement(active, standby, max_age);
    let check = check.with("max_age_seconds", max_age.as_secs_f64());
    match lag {
        Some(lag) => check
            .with("age_seconds", lag.age().as_secs_f64())
            .with("behind_transactions", lag.behind() as f64),
        None => check,
    }
}

/// The active's daemon replicating, its last sync and the replica on the standby no further
/// behind than `max_age`.
fn replica_judgement(
    active: &NodeFacts,
    standby: &NodeFacts,
    max_age: Duration,
) -> (Check, Option<crate::probe::litestream::Lag>) {
    use crate::probe::litestream;
    let human = crate::format::human_duration;
    let fail = |why: String| {
        Check::fail(
            CheckId::Replica,
            &standby.name,
            Impact::Degraded,
            format!(
                "k3s state replication {} → {}: {why}",
                active.name, standby.name
            ),
        )
    };
    let facts = |n: &NodeFacts| {
        n.basics
            .as_ref()
            .map_err(|e| e.clone())
            .and_then(|b| b.litestream.clone())
            .map_err(|e| format!("{}: {e}", n.name))
    };
    let (a, s) = match (facts(active), facts(standby)) {
        (Ok(a), Ok(s)) => (a, s),
        (Err(e), _) | (_, Err(e)) => return (fail(e), None),
    };
    let lag = match litestream::lag(&a, &s) {
        Ok(lag) => lag,
        Err(e) => return (fail(e.to_string()), None),
    };
    let position = if lag.behind() == 0 {
        format!("replica at txid {:x} like the database", lag.replica_txid)
    } else {
        format!(
            "replica at txid {:x}, {} behind the database's {:x}",
            lag.replica_txid,
            lag.behind(),
            lag.local_txid
        )
    };
    let age = lag.age();
    if age > max_age {
        let why = format!(
            "{position}; last sync {} ago{} (max {})",
            human(lag.since_sync),
            match lag.replica_age {
                Some(r) if lag.behind() > 0 => format!(", replica last advanced {} ago", human(r)),
                None if lag.behind() > 0 => ", replica time unknown".to_string(),
                _ => String::new(),
            },
            human(max_age)
        );
        return (fail(why), Some(lag));
    }
    let ok = Check::ok(
        CheckId::Replica,
        &standby.name,
        format!(
            "litestream: {position}; last sync {} ago (lag ≤ {})",
            human(lag.since_sync),
            human(age)
        ),
    );
    (ok, Some(lag))
}

fn workloads_check(node: &NodeFacts, exp: &Expectations) -> Check {
    use crate::probe::kube::WorkloadKind;
    let workloads = match &node.workloads {
        Ok(w) => w,
        Err(e) => return Check::fail(CheckId::Workloads, &node.name, Impact::Critical, e.clone()),
    };
    let ours: Vec<_> = workloads
        .iter()
        .filter(|w| w.namespace == exp.namespace)
        .collect();
    let mut problems = Vec::new();
    for service in &exp.services {
        match ours.iter().find(|w| &w.name == service) {
            None => problems.push(format!("{service} not deployed")),
            Some(w) if w.desired == 0 || w.ready < w.desired => {
                problems.push(format!("{service} {}/{}", w.ready, w.desired))
            }
            Some(_) => {}
        }
    }
    let extra: Vec<&str> = ours
        .iter()
        .filter(|w| w.kind == WorkloadKind::Deployment && !exp.services.contains(&w.name))
        .map(|w| w.name.as_str())
        .collect();
    if !extra.is_empty() {
        problems.push(format!("not in the enabled services: {}", extra.join(", ")));
    }
    let ready = exp
        .services
        .iter()
        .filter(|s| {
            ours.iter()
                .any(|w| &w.name == *s && w.desired > 0 && w.ready >= w.desired)
        })
        .count();
    let counted = |c: Check| {
        c.with_count("services", exp.services.len())
            .with_count("services_ready", ready)
    };
    counted(if problems.is_empty() {
        let system_not_ready: Vec<String> = workloads
            .iter()
            .filter(|w| w.namespace != exp.namespace && w.ready < w.desired)
            .map(|w| format!("{}/{} {}/{}", w.namespace, w.name, w.ready, w.desired))
            .collect();
        if system_not_ready.is_empty() {
            Check::ok(
                CheckId::Workloads,
                &node.name,
                format!("{} services Ready in {}", exp.services.len(), exp.namespace),
            )
        } else {
            Check::warn(
                CheckId::Workloads,
                &node.name,
                format!(
                    "system workloads not ready: {}",
                    system_not_ready.join(", ")
                ),
            )
        }
    } else {
        Check::fail(
            CheckId::Workloads,
            &node.name,
            Impact::Critical,
            problems.join("; "),
        )
    })
}

#[cfg(test)]
pub(crate) mod tests;
