//! The status report as Prometheus text exposition (format 0.0.4): one `pairctl_` prefix,
//! base units, `_info` metrics with value 1, label sets bounded by the configuration (cluster,
//! node, check, volume, service names) and by fixed vocabularies (roles, node states). Every
//! family has one HELP and one TYPE line, also when several clusters share one exposition
//! (the exporter). The values come from the report's typed fields, never from its text.

use crate::model::{CheckId, CheckResult, ClusterReport, NodeStatus, Role, Verdict};
use std::fmt::Write;

/// The media type of this format, for the exporter's `Content-Type`.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Longest label value written: a deployment record's fields come from the nodes.
const LABEL_LIMIT: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        }
    }
}

struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

/// Families in first-seen order, each with its samples: rendered once, whatever the number
/// of clusters that contributed.
#[derive(Default)]
pub struct Exposition {
    families: Vec<Family>,
}

impl Exposition {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one sample to the family `name` (created on first use with `help` and `kind`).
    pub fn sample(
        &mut self,
        name: &'static str,
        kind: Kind,
        help: &'static str,
        labels: &[(&'static str, &str)],
        value: f64,
    ) {
        let labels = labels.iter().map(|(k, v)| (*k, v.to_string())).collect();
        match self.families.iter_mut().find(|f| f.name == name) {
            Some(f) => f.samples.push((labels, value)),
            None => self.families.push(Family {
                name,
                help,
                kind,
                samples: vec![(labels, value)],
            }),
        }
    }

    pub fn gauge(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
        value: f64,
    ) {
        self.sample(name, Kind::Gauge, help, labels, value)
    }

    /// Every metric of one status report.
    pub fn report(&mut self, r: &ClusterReport) {
        let cluster = r.cluster.as_str();
        let c = [("cluster", cluster)];
        let reached = r.nodes.iter().any(|n| n.status != NodeStatus::Down);
        self.up_and_verdict(cluster, reached, r.verdict.exit_code());
        self.gauge(
            "pairctl_round_duration_seconds",
            "How long the status round took.",
            &c,
            r.elapsed_ms as f64 / 1000.0,
        );
        if let Some(t) = r.last_change_timestamp {
            self.gauge(
                "pairctl_last_role_change_timestamp_seconds",
                "When the last role change (swap, failover) recorded on the nodes happened.",
                &c,
                t as f64,
            );
        }
        if let Some(m) = &r.maintenance {
            let scope = match m.scope {
                crate::maintenance::Scope::Cluster => "cluster",
                crate::maintenance::Scope::Node => "node",
            };
            self.gauge(
                "pairctl_maintenance_until_timestamp_seconds",
                "While a maintenance is in force: when it expires (absent without one).",
                &[
                    ("cluster", cluster),
                    ("scope", scope),
                    ("node", m.node.as_deref().unwrap_or("")),
                ],
                m.until_epoch as f64,
            );
        }
        if let Some(d) = &r.deployment {
            self.gauge(
                "pairctl_deployment_info",
                "The deployment record on the nodes; always 1.",
                &[
                    ("cluster", cluster),
                    ("version", &d.version),
                    ("build", &d.build),
                    ("mode", &d.mode),
                ],
                1.0,
            );
        }
        for n in &r.nodes {
            let node = n.name.as_str();
            let nl = [("cluster", cluster), ("node", node)];
            self.gauge(
                "pairctl_node_up",
                "1 when pairctl reached the node over SSH, else 0.",
                &nl,
                f64::from(u8::from(n.status != NodeStatus::Down)),
            );
            let role = role_name(n.role);
            for known in ROLES
                .iter()
                .copied()
                .chain((!ROLES.contains(&role)).then_some(role))
            {
                self.gauge(
                    "pairctl_node_role",
                    "1 for the node's current role (active, standby, unknown), 0 for the others.",
                    &[("cluster", cluster), ("node", node), ("role", known)],
                    f64::from(u8::from(known == role)),
                );
            }
            for state in [NodeStatus::Up, NodeStatus::Degraded, NodeStatus::Down] {
                self.gauge(
                    "pairctl_node_status",
                    "1 for the node's current status (up, degraded, down), 0 for the others.",
                    &[
                        ("cluster", cluster),
                        ("node", node),
                        ("status", status_name(state)),
                    ],
                    f64::from(u8::from(state == n.status)),
                );
            }
        }
        for check in &r.checks {
            self.gauge(
                "pairctl_check",
                "Each check's result: 0 ok, 1 warn, 2 fail.",
                &[
                    ("cluster", cluster),
                    ("check", &check.name.to_string()),
                    ("node", &check.node),
                ],
                match check.result {
                    CheckResult::Ok => 0.0,
                    CheckResult::Warn => 1.0,
                    CheckResult::Fail => 2.0,
                },
            );
        }
        for check in &r.checks {
            let subject = check.name.subject.as_deref().unwrap_or(&check.node);
            for (key, value) in &check.values {
                let Some(m) = MEASURES
                    .iter()
                    .find(|m| m.check == check.name.id && m.value == key)
                else {
                    continue;
                };
                self.gauge(
                    m.metric,
                    m.help,
                    &[("cluster", cluster), (m.subject, subject)],
                    *value,
                );
            }
        }
    }

    /// A cluster whose round gave no report (it overran its deadline or failed): not up, and
    /// the truth unknown.
    pub fn no_report(&mut self, cluster: &str) {
        self.up_and_verdict(cluster, false, Verdict::Unknown.exit_code());
    }

    fn up_and_verdict(&mut self, cluster: &str, up: bool, verdict: u8) {
        let c = [("cluster", cluster)];
        self.gauge(
            "pairctl_up",
            "1 when the round reached at least one node over SSH, else 0.",
            &c,
            f64::from(u8::from(up)),
        );
        self.gauge(
            "pairctl_verdict",
            "The verdict as the exit code: 0 healthy, 1 degraded, 2 critical, 3 unknown.",
            &c,
            f64::from(verdict),
        );
    }

    /// The exporter's own metrics for one cluster.
    pub fn scrape(&mut self, cluster: &str, s: &ScrapeStats) {
        let c = [("cluster", cluster)];
        self.gauge(
            "pairctl_scrape_duration_seconds",
            "How long this scrape waited for the cluster's round.",
            &c,
            s.duration_seconds,
        );
        self.gauge(
            "pairctl_scrape_report_age_seconds",
            "Since the round whose report this scrape carries finished (more than a round's time: the round in flight was late, this is the last finished one).",
            &c,
            s.report_age_seconds,
        );
        self.gauge(
            "pairctl_scrape_shared",
            "1 when this scrape was answered by a round already in flight, else 0.",
            &c,
            f64::from(u8::from(s.shared)),
        );
        for (name, help, v) in [
            (
                "pairctl_scrape_rounds_total",
                "Status rounds the exporter ran for the cluster.",
                s.rounds,
            ),
            (
                "pairctl_scrape_shared_total",
                "Scrapes answered by a round already in flight (concurrent scrapes share it).",
                s.shared_total,
            ),
            (
                "pairctl_scrape_stale_total",
                "Scrapes answered from the last finished round because the one in flight outlasted the scraper's timeout.",
                s.stale_total,
            ),
            (
                "pairctl_scrape_timeouts_total",
                "Rounds that reached their deadline (--timeout).",
                s.timeouts,
            ),
        ] {
            self.sample(name, Kind::Counter, help, &c, v as f64);
        }
    }

    /// The exposition text; families in first-seen order.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for f in &self.families {
            let _ = writeln!(s, "# HELP {} {}", f.name, escape_help(f.help));
            let _ = writeln!(s, "# TYPE {} {}", f.name, f.kind.as_str());
            for (labels, value) in &f.samples {
                s.push_str(f.name);
                if !labels.is_empty() {
                    s.push('{');
                    for (i, (k, v)) in labels.iter().enumerate() {
                        if i > 0 {
                            s.push(',');
                        }
                        let _ = write!(s, "{k}=\"{}\"", escape_label(v));
                    }
                    s.push('}');
                }
                let _ = writeln!(s, " {}", number(*value));
            }
        }
        s
    }
}

/// What the exporter knows about one cluster's scrape.
#[derive(Debug, Clone, Default)]
pub struct ScrapeStats {
    pub duration_seconds: f64,
    /// Since the round whose report this scrape carries finished.
    pub report_age_seconds: f64,
    pub shared: bool,
    pub rounds: u64,
    pub shared_total: u64,
    pub stale_total: u64,
    pub timeouts: u64,
}

const ROLES: [&str; 4] = ["active", "standby", "fenced", "unknown"];

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Active => "active",
        Role::Standby => "standby",
        Role::Fenced => "fenced",
        Role::Witness => "witness",
        Role::Unknown => "unknown",
    }
}

fn status_name(s: NodeStatus) -> &'static str {
    match s {
        NodeStatus::Up => "up",
        NodeStatus::Degraded => "degraded",
        NodeStatus::Down => "down",
    }
}

/// A typed check value and the metric it becomes. `subject` names the second label: the
/// check's node, or (for `volume:<v>`-style checks) the part after the colon.
struct Measure {
    check: CheckId,
    value: &'static str,
    metric: &'static str,
    subject: &'static str,
    help: &'static str,
}

const MEASURES: &[Measure] = &[
    Measure {
        check: CheckId::Ssh,
        value: "connect_seconds",
        metric: "pairctl_ssh_connect_seconds",
        subject: "node",
        help: "Time the current SSH connection to the node took to connect and authenticate.",
    },
    Measure {
        check: CheckId::Keepalived,
        value: "vrrp_state",
        metric: "pairctl_vrrp_state",
        subject: "node",
        help: "keepalived's VRRP state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT.",
    },
    Measure {
        check: CheckId::Galera,
        value: "cluster_size",
        metric: "pairctl_galera_cluster_size",
        subject: "node",
        help: "wsrep_cluster_size as the node reports it.",
    },
    Measure {
        check: CheckId::Galera,
        value: "primary",
        metric: "pairctl_galera_primary",
        subject: "node",
        help: "1 when the node's wsrep_cluster_status is Primary, else 0.",
    },
    Measure {
        check: CheckId::GlusterPeers,
        value: "peers",
        metric: "pairctl_gluster_peers",
        subject: "node",
        help: "Peers in the node's trusted pool.",
    },
    Measure {
        check: CheckId::GlusterPeers,
        value: "peers_connected",
        metric: "pairctl_gluster_peers_connected",
        subject: "node",
        help: "Peers in the node's trusted pool that are connected.",
    },
    Measure {
        check: CheckId::GlusterVolume,
        value: "bricks",
        metric: "pairctl_gluster_bricks",
        subject: "volume",
        help: "Bricks the volume status reports.",
    },
    Measure {
        check: CheckId::GlusterVolume,
        value: "bricks_online",
        metric: "pairctl_gluster_bricks_online",
        subject: "volume",
        help: "Bricks of the volume that are online.",
    },
    Measure {
        check: CheckId::GlusterVolume,
        value: "heal_pending_entries",
        metric: "pairctl_gluster_heal_pending_entries",
        subject: "volume",
        help: "Entries pending heal, summed over the volume's bricks.",
    },
    Measure {
        check: CheckId::GlusterVolume,
        value: "split_brain_entries",
        metric: "pairctl_gluster_split_brain_entries",
        subject: "volume",
        help: "Entries in split-brain, summed over the volume's bricks.",
    },
    Measure {
        check: CheckId::Replica,
        value: "age_seconds",
        metric: "pairctl_replica_age_seconds",
        subject: "node",
        help: "Age of the k3s state replica on the standby.",
    },
    Measure {
        check: CheckId::Replica,
        value: "max_age_seconds",
        metric: "pairctl_replica_max_age_seconds",
        subject: "node",
        help: "The configured k3s.replica_max_age.",
    },
    Measure {
        check: CheckId::K3s,
        value: "nodes",
        metric: "pairctl_k3s_nodes",
        subject: "node",
        help: "Kubernetes nodes registered in k3s on the active.",
    },
    Measure {
        check: CheckId::K3s,
        value: "nodes_ready",
        metric: "pairctl_k3s_nodes_ready",
        subject: "node",
        help: "Kubernetes nodes whose Ready condition is True.",
    },
    Measure {
        check: CheckId::Workloads,
        value: "services",
        metric: "pairctl_workloads_services",
        subject: "node",
        help: "Enabled services (k3s.services) expected as Deployments.",
    },
    Measure {
        check: CheckId::Workloads,
        value: "services_ready",
        metric: "pairctl_workloads_services_ready",
        subject: "node",
        help: "Enabled services whose Deployment is fully Ready.",
    },
    Measure {
        check: CheckId::Service,
        value: "http_status",
        metric: "pairctl_service_http_status",
        subject: "service",
        help: "HTTP status of the service's health endpoint through the VIP.",
    },
];

/// Every metric family this module can write, for documentation checks.
pub fn family_names() -> Vec<&'static str> {
    let mut names = vec![
        "pairctl_up",
        "pairctl_verdict",
        "pairctl_round_duration_seconds",
        "pairctl_last_role_change_timestamp_seconds",
        "pairctl_maintenance_until_timestamp_seconds",
        "pairctl_deployment_info",
        "pairctl_node_up",
        "pairctl_node_role",
        "pairctl_node_status",
        "pairctl_check",
        "pairctl_scrape_duration_seconds",
        "pairctl_scrape_report_age_seconds",
        "pairctl_scrape_shared",
        "pairctl_scrape_rounds_total",
        "pairctl_scrape_shared_total",
        "pairctl_scrape_stale_total",
        "pairctl_scrape_timeouts_total",
    ];
    names.extend(MEASURES.iter().map(|m| m.metric));
    names
}

/// Label values escape backslash, double quote and newline (the format's rules), after
/// `sanitize::terminal` made every control character visible text: a label never carries a
/// terminal control sequence. Cut to `LABEL_LIMIT` characters.
pub fn escape_label(v: &str) -> String {
    let clean = super::sanitize::terminal(v);
    let mut s = String::with_capacity(clean.len());
    for (i, c) in clean.chars().enumerate() {
        if i == LABEL_LIMIT {
            s.push('…');
            break;
        }
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// HELP text escapes backslash and newline.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Integers without a fraction; the format's spellings of the special values.
pub(crate) fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{
        Check, CheckName, ClusterReport, Impact, NodeReport, Verdict, STATUS_SCHEMA,
    };

    fn check(
        name: impl Into<CheckName>,
        node: &str,
        result: CheckResult,
        values: &[(&str, f64)],
    ) -> Check {
        Check {
            name: name.into(),
            node: node.into(),
            result,
            detail: "detail".into(),
            impact: (result != CheckResult::Ok).then_some(Impact::Critical),
            values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    /// A split-brain report with every kind of typed value.
    pub(crate) fn sample_report(cluster: &str) -> ClusterReport {
        let node = |name: &str, role| NodeReport {
            name: name.into(),
            role,
            status: NodeStatus::Up,
            ip: "10.0.0.1".into(),
            epoch: None,
            fence: None,
        };
        ClusterReport {
            schema: STATUS_SCHEMA,
            cluster: cluster.into(),
            verdict: Verdict::Critical,
            vip: "10.0.0.10".into(),
            active: None,
            nodes: vec![node("n1", Role::Active), node("n2", Role::Unknown)],
            checks: vec![
                check(
                    CheckId::Ssh,
                    "n1",
                    CheckResult::Ok,
                    &[("connect_seconds", 0.012)],
                ),
                check(CheckId::Vip, "cluster", CheckResult::Fail, &[]),
                check(
                    CheckId::Keepalived,
                    "n2",
                    CheckResult::Warn,
                    &[("vrrp_state", 2.0)],
                ),
                check(
                    CheckId::Galera,
                    "n1",
                    CheckResult::Ok,
                    &[("cluster_size", 2.0), ("primary", 1.0)],
                ),
                check(
                    CheckId::GlusterVolume.of("shared"),
                    "cluster",
                    CheckResult::Ok,
                    &[("heal_pending_entries", 0.0), ("split_brain_entries", 0.0)],
                ),
                check(
                    CheckId::Replica,
                    "n2",
                    CheckResult::Ok,
                    &[("age_seconds", 3.0)],
                ),
                check(
                    CheckId::Service.of("auth"),
                    "cluster",
                    CheckResult::Ok,
                    &[("http_status", 200.0)],
                ),
            ],
            deployment: Some(crate::probe::node::Deployment {
                version: "3.1.0".into(),
                build: "a\"b\\c\nd".into(),
                ..Default::default()
            }),
            last_change: None,
            last_change_timestamp: Some(1_700_000_000),
            maintenance: None,
            elapsed_ms: 250,
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("two\nlines"), "two\\nlines");
        assert_eq!(escape_label("esc\x1b[2J"), "esc\\\\x1b[2J");
        assert_eq!(
            escape_label(&"x".repeat(500)).chars().count(),
            LABEL_LIMIT + 1
        );
    }

    #[test]
    fn one_help_and_type_per_family_across_clusters() {
        let mut e = Exposition::new();
        e.report(&sample_report("a"));
        e.report(&sample_report("b"));
        let text = e.render();
        let mut seen = std::collections::HashSet::new();
        for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
            let name = line.split(' ').nth(2).unwrap();
            assert!(seen.insert(name.to_string()), "two TYPE lines for {name}");
        }
        let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
        assert_eq!(helps, seen.len());
        // Each family's samples follow its TYPE line, with no other family in between.
        let mut current = "";
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                current = rest.split(' ').next().unwrap();
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert_eq!(name, current, "{line} outside its family");
            }
        }
        assert!(text.contains("pairctl_verdict{cluster=\"a\"} 2\n"));
        assert!(text.contains("pairctl_verdict{cluster=\"b\"} 2\n"));
    }

    #[test]
    fn typed_values_become_their_families() {
        let mut e = Exposition::new();
        e.report(&sample_report("lab"));
        let text = e.render();
        for line in [
            "pairctl_up{cluster=\"lab\"} 1",
            "pairctl_round_duration_seconds{cluster=\"lab\"} 0.25",
            "pairctl_last_role_change_timestamp_seconds{cluster=\"lab\"} 1700000000",
            "pairctl_node_role{cluster=\"lab\",node=\"n1\",role=\"active\"} 1",
            "pairctl_node_role{cluster=\"lab\",node=\"n1\",role=\"standby\"} 0",
            "pairctl_check{cluster=\"lab\",check=\"vip\",node=\"cluster\"} 2",
            "pairctl_check{cluster=\"lab\",check=\"keepalived\",node=\"n2\"} 1",
            "pairctl_vrrp_state{cluster=\"lab\",node=\"n2\"} 2",
            "pairctl_galera_cluster_size{cluster=\"lab\",node=\"n1\"} 2",
            "pairctl_gluster_split_brain_entries{cluster=\"lab\",volume=\"shared\"} 0",
            "pairctl_replica_age_seconds{cluster=\"lab\",node=\"n2\"} 3",
            "pairctl_service_http_status{cluster=\"lab\",service=\"auth\"} 200",
            "pairctl_ssh_connect_seconds{cluster=\"lab\",node=\"n1\"} 0.012",
            r#"pairctl_deployment_info{cluster="lab",version="3.1.0",build="a\"b\\c\nd",mode=""} 1"#,
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "no line {line} in:\n{text}"
            );
        }
    }

    #[test]
    fn a_maintenance_in_force_is_a_metric_with_its_expiry() {
        let mut r = sample_report("lab");
        let mut e = Exposition::new();
        e.report(&r);
        assert!(!e.render().contains("pairctl_maintenance_until"));
        r.maintenance = Some(crate::maintenance::Maintenance::new(
            Some("n2".into()),
            "disk swap".into(),
            "ops@laptop".into(),
            1_700_000_000,
            std::time::Duration::from_secs(600),
        ));
        let mut e = Exposition::new();
        e.report(&r);
        let line = r#"pairctl_maintenance_until_timestamp_seconds{cluster="lab",scope="node",node="n2"} 1700000600"#;
        assert!(e.render().lines().any(|l| l == line), "{}", e.render());
    }

    #[test]
    fn every_family_is_documented_in_the_readme() {
        let readme = include_str!("../../README.md");
        for name in family_names() {
            assert!(
                readme.contains(&format!("`{name}`")),
                "README does not document {name}"
            );
        }
    }

    #[test]
    fn a_cluster_without_a_report_is_down_and_unknown() {
        let mut e = Exposition::new();
        e.report(&sample_report("a"));
        e.no_report("b");
        let text = e.render();
        assert!(text.contains("pairctl_up{cluster=\"b\"} 0\n"), "{text}");
        assert!(
            text.contains("pairctl_verdict{cluster=\"b\"} 3\n"),
            "{text}"
        );
        assert_eq!(text.matches("# TYPE pairctl_up ").count(), 1);
    }

    #[test]
    fn numbers_use_the_formats_spellings() {
        assert_eq!(number(2.0), "2");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
    }
}
