//! Kubernetes state from `k3s kubectl get … -o json` on the active node: nodes, workloads,
//! pods, and what kubectl's stderr means when it fails.

use serde::{Deserialize, Serialize};

use super::ParseError;

/// One node and its `Ready` condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KubeNode {
    pub name: String,
    /// The `Ready` condition is `True`.
    pub ready: bool,
    /// The `Ready` condition's status when not ready: `False`, `Unknown`, or `missing`.
    pub ready_status: String,
    /// Reason and message of the `Ready` condition when not ready
    /// (`NodeStatusUnknown`, "Kubelet stopped posting node status.").
    pub reason: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

/// Desired against ready replicas (pods, for a DaemonSet).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    pub desired: u32,
    pub ready: u32,
}

/// One pod, reduced to what says whether it is healthy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    /// `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    pub phase: String,
    /// The pod's `Ready` condition is `True`.
    pub ready: bool,
    /// Restarts of all its containers.
    pub restarts: u32,
    /// The first container waiting with a reason (`CrashLoopBackOff`, `ImagePullBackOff`…).
    pub waiting_reason: Option<String>,
}

/// What a failed kubectl said on stderr.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum KubectlError {
    /// Nothing listens on the API server port: k3s is not running there.
    #[error("the Kubernetes API server at {server} refused the connection (is k3s running?)")]
    ConnectionRefused { server: String },
    /// The API server could not be reached in time (timeout, no route, TLS handshake).
    #[error("{message}")]
    Unreachable { message: String },
    /// The credentials were refused.
    #[error("the Kubernetes API server refused the credentials (Unauthorized)")]
    Unauthorized,
    /// Anything else: the last meaningful line.
    #[error("kubectl failed: {message}")]
    Other { message: String },
}

// ---- raw JSON shapes ----

#[derive(Deserialize)]
struct RawList<T> {
    kind: String,
    items: Vec<T>,
}

#[derive(Deserialize)]
struct RawMetadata {
    name: String,
    #[serde(default)]
    namespace: String,
}

#[derive(Deserialize, Default)]
struct RawCondition {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct RawNode {
    metadata: RawMetadata,
    #[serde(default)]
    status: RawNodeStatus,
}

#[derive(Deserialize, Default)]
struct RawNodeStatus {
    #[serde(default)]
    conditions: Vec<RawCondition>,
}

#[derive(Deserialize)]
struct RawWorkload {
    kind: String,
    metadata: RawMetadata,
    #[serde(default)]
    spec: RawWorkloadSpec,
    #[serde(default)]
    status: RawWorkloadStatus,
}

#[derive(Deserialize, Default)]
struct RawWorkloadSpec {
    replicas: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawWorkloadStatus {
    ready_replicas: Option<u32>,
    desired_number_scheduled: Option<u32>,
    number_ready: Option<u32>,
}

#[derive(Deserialize)]
struct RawPod {
    metadata: RawMetadata,
    #[serde(default)]
    status: RawPodStatus,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawPodStatus {
    #[serde(default)]
    phase: String,
    #[serde(default)]
    conditions: Vec<RawCondition>,
    #[serde(default)]
    container_statuses: Vec<RawContainerStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContainerStatus {
    #[serde(default)]
    restart_count: u32,
    #[serde(default)]
    state: RawContainerState,
}

#[derive(Deserialize, Default)]
struct RawContainerState {
    waiting: Option<RawWaiting>,
}

#[derive(Deserialize)]
struct RawWaiting {
    reason: Option<String>,
}

/// Parses `kubectl get nodes -o json`.
pub fn parse_nodes(text: &str) -> Result<Vec<KubeNode>, ParseError> {
    const WHAT: &str = "kubectl get nodes";
    let list: Vec<RawNode> = parse_list(WHAT, text)?;
    Ok(list
        .into_iter()
        .map(|node| {
            let condition = node
                .status
                .conditions
                .into_iter()
                .find(|condition| condition.kind == "Ready");
            match condition {
                Some(condition) if condition.status == "True" => KubeNode {
                    name: node.metadata.name,
                    ready: true,
                    ready_status: condition.status,
                    reason: None,
                    message: None,
                },
                Some(condition) => KubeNode {
                    name: node.metadata.name,
                    ready: false,
                    ready_status: condition.status,
                    reason: condition.reason,
                    message: condition.message,
                },
                None => KubeNode {
                    name: node.metadata.name,
                    ready: false,
                    ready_status: "missing".to_owned(),
                    reason: None,
                    message: Some("the node reports no Ready condition".to_owned()),
                },
            }
        })
        .collect())
}

/// Parses `kubectl get deployments,statefulsets,daemonsets -A -o json`.
pub fn parse_workloads(text: &str) -> Result<Vec<Workload>, ParseError> {
    const WHAT: &str = "kubectl get workloads";
    let list: Vec<RawWorkload> = parse_list(WHAT, text)?;
    list.into_iter()
        .map(|item| {
            let (kind, desired, ready) = match item.kind.as_str() {
                // An absent spec.replicas defaults to 1; an absent readyReplicas means none.
                "Deployment" => (
                    WorkloadKind::Deployment,
                    item.spec.replicas.unwrap_or(1),
                    item.status.ready_replicas.unwrap_or(0),
                ),
                "StatefulSet" => (
                    WorkloadKind::StatefulSet,
                    item.spec.replicas.unwrap_or(1),
                    item.status.ready_replicas.unwrap_or(0),
                ),
                "DaemonSet" => (
                    WorkloadKind::DaemonSet,
                    item.status.desired_number_scheduled.unwrap_or(0),
                    item.status.number_ready.unwrap_or(0),
                ),
                other => {
                    return Err(ParseError::new(
                        WHAT,
                        format!(
                            "unexpected kind {other:?} ({}/{})",
                            item.metadata.namespace, item.metadata.name
                        ),
                    ))
                }
            };
            Ok(Workload {
                kind,
                namespace: item.metadata.namespace,
                name: item.metadata.name,
                desired,
                ready,
            })
        })
        .collect()
}

/// Parses `kubectl get nodes,deployments,statefulsets,daemonsets -A -o json`: the nodes and
/// the workloads from one kubectl run instead of two.
pub fn parse_nodes_and_workloads(text: &str) -> Result<(Vec<KubeNode>, Vec<Workload>), ParseError> {
    let items: Vec<serde_json::Value> = parse_list("kubectl get nodes and workloads", text)?;
    let (nodes, workloads): (Vec<_>, Vec<_>) = items
        .into_iter()
        .partition(|item| item.get("kind").and_then(|k| k.as_str()) == Some("Node"));
    let list = |items: Vec<serde_json::Value>| {
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
    };
    Ok((
        parse_nodes(&list(nodes))?,
        parse_workloads(&list(workloads))?,
    ))
}

/// Parses the API server's answers to `transport::kubeapi::LIST_PATHS` (in that order: the
/// NodeList, DeploymentList, StatefulSetList and DaemonSetList): what `kubectl get
/// nodes,deployments,statefulsets,daemonsets -A -o json` prints from the same answers (kubectl
/// only adds each item's kind and apiVersion, from its list's), so the same facts.
pub fn parse_api_lists(bodies: &[String]) -> Result<(Vec<KubeNode>, Vec<Workload>), ParseError> {
    const WHAT: &str = "Kubernetes API lists";
    const KINDS: [&str; 4] = [
        "NodeList",
        "DeploymentList",
        "StatefulSetList",
        "DaemonSetList",
    ];
    if bodies.len() != KINDS.len() {
        return Err(ParseError::new(WHAT, format!("{} answers", bodies.len())));
    }
    let mut lists = Vec::new();
    for (body, list_kind) in bodies.iter().zip(KINDS) {
        let mut list: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(body.trim()).map_err(|e| ParseError::new(WHAT, e.to_string()))?;
        let kind = list.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        if kind != list_kind {
            return Err(ParseError::new(
                WHAT,
                format!("expected a {list_kind}, got kind {kind:?}"),
            ));
        }
        let item_kind = serde_json::Value::from(list_kind.trim_end_matches("List"));
        let mut items = match list.remove("items") {
            Some(serde_json::Value::Array(items)) => items,
            Some(serde_json::Value::Null) | None => Vec::new(),
            Some(_) => {
                return Err(ParseError::new(
                    WHAT,
                    format!("{list_kind}: items is not a list"),
                ))
            }
        };
        for item in &mut items {
            if let Some(item) = item.as_object_mut() {
                item.insert("kind".into(), item_kind.clone());
            }
        }
        lists.push(items);
    }
    let list = |items: Vec<serde_json::Value>| {
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
    };
    let mut lists = lists.into_iter();
    let nodes = parse_nodes(&list(lists.next().unwrap_or_default()))?;
    let workloads = parse_workloads(&list(lists.flatten().collect()))?;
    Ok((nodes, workloads))
}

/// Parses `kubectl get pods -A -o json`.
pub fn parse_pods(text: &str) -> Result<Vec<Pod>, ParseError> {
    const WHAT: &str = "kubectl get pods";
    let list: Vec<RawPod> = parse_list(WHAT, text)?;
    Ok(list
        .into_iter()
        .map(|pod| {
            let status = pod.status;
            let ready = status
                .conditions
                .iter()
                .any(|condition| condition.kind == "Ready" && condition.status == "True");
            let restarts = status
                .container_statuses
                .iter()
                .fold(0u32, |sum, container| {
                    sum.saturating_add(container.restart_count)
                });
            let waiting_reason = status
                .container_statuses
                .into_iter()
                .find_map(|container| container.state.waiting.and_then(|w| w.reason));
            Pod {
                namespace: pod.metadata.namespace,
                name: pod.metadata.name,
                phase: status.phase,
                ready,
                restarts,
                waiting_reason,
            }
        })
        .collect())
}

/// Classifies kubectl's stderr after a failure.
pub fn classify_kubectl_error(stderr: &str) -> KubectlError {
    const REFUSED_PREFIX: &str = "The connection to the server ";
    const REFUSED_SUFFIX: &str = " was refused - did you specify the right host or port?";
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    for line in &lines {
        if let Some(rest) = line.strip_prefix(REFUSED_PREFIX) {
            if let Some(server) = rest.strip_suffix(REFUSED_SUFFIX) {
                return KubectlError::ConnectionRefused {
                    server: server.to_owned(),
                };
            }
        }
    }
    if lines
        .iter()
        .any(|line| line.contains("(Unauthorized)") || line.ends_with("Unauthorized"))
    {
        return KubectlError::Unauthorized;
    }
    if let Some(line) = lines
        .iter()
        .find(|line| line.starts_with("Unable to connect to the server:"))
    {
        return KubectlError::Unreachable {
            message: (*line).to_owned(),
        };
    }
    KubectlError::Other {
        message: lines
            .last()
            .map(|line| (*line).to_owned())
            .unwrap_or_default(),
    }
}

/// Reads a kubectl `List` (`kind: List`, or `…List` for a single resource type).
fn parse_list<T: for<'de> Deserialize<'de>>(
    what: &'static str,
    text: &str,
) -> Result<Vec<T>, ParseError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ParseError::new(what, "empty output"));
    }
    let list: RawList<T> =
        serde_json::from_str(trimmed).map_err(|error| ParseError::new(what, error.to_string()))?;
    if !list.kind.ends_with("List") {
        return Err(ParseError::new(
            what,
            format!("expected a List, got kind {:?}", list.kind),
        ));
    }
    Ok(list.items)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn nodes_and_workloads_from_one_list() {
        let mut nodes: serde_json::Value = serde_json::from_str(NODES_NOT_READY).unwrap();
        let workloads: serde_json::Value =
            serde_json::from_str(include_str!("../../fixtures/kube/workloads-healthy.json"))
                .unwrap();
        let items = nodes["items"].as_array_mut().unwrap();
        let node_count = items.len();
        items.extend(workloads["items"].as_array().unwrap().iter().cloned());
        let (n, w) = parse_nodes_and_workloads(&nodes.to_string()).unwrap();
        assert_eq!(n.len(), node_count);
        assert!(n.iter().any(|x| !x.ready));
        assert_eq!(w.len(), workloads["items"].as_array().unwrap().len());
        assert!(w.iter().any(|x| x.namespace == "efa" && x.name == "tenant"));
    }

    /// What the API server answers for `LIST_PATHS` from the objects of a kubectl List (as
    /// kubectl got them: it adds each item's kind and apiVersion from its typed list).
    fn api_answers(kubectl: &str) -> Vec<String> {
        let list: serde_json::Value = serde_json::from_str(kubectl).unwrap();
        [
            ("Node", "v1"),
            ("Deployment", "apps/v1"),
            ("StatefulSet", "apps/v1"),
            ("DaemonSet", "apps/v1"),
        ]
        .iter()
        .map(|(kind, version)| {
            let items: Vec<serde_json::Value> = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["kind"] == *kind)
                .map(|i| {
                    let mut i = i.clone();
                    let o = i.as_object_mut().unwrap();
                    o.remove("kind");
                    o.remove("apiVersion");
                    i
                })
                .collect();
            serde_json::json!({"kind": format!("{kind}List"), "apiVersion": version,
                "metadata": {"resourceVersion": "1"}, "items": items})
            .to_string()
        })
        .collect()
    }

    /// The kubectl fixtures as one `get nodes,deployments,statefulsets,daemonsets` List.
    fn kubectl_list(nodes: &str, workloads: &str) -> String {
        let mut list: serde_json::Value = serde_json::from_str(nodes).unwrap();
        let w: serde_json::Value = serde_json::from_str(workloads).unwrap();
        let items = list["items"].as_array_mut().unwrap();
        items.extend(w["items"].as_array().unwrap().iter().cloned());
        list.to_string()
    }

    /// The verdict and the Kubernetes checks status gives with these objects on the active.
    fn judged(objects: &(Vec<KubeNode>, Vec<Workload>)) -> (String, serde_json::Value) {
        let mut facts = crate::model::tests::healthy();
        facts.nodes[0].kube_nodes = Ok(objects.0.clone());
        facts.nodes[0].workloads = Ok(objects.1.clone());
        // Every service the fixtures run in the namespace is enabled.
        let mut exp = crate::model::tests::exp();
        exp.services = parse_workloads(WORKLOADS_HEALTHY)
            .unwrap()
            .into_iter()
            .filter(|w| w.namespace == exp.namespace)
            .map(|w| w.name)
            .collect();
        let r = crate::model::judge(&facts, &exp, std::time::Duration::from_millis(1));
        (
            format!("{:?}", r.verdict),
            serde_json::to_value(&r.checks).unwrap(),
        )
    }

    #[test]
    fn the_api_server_and_kubectl_give_the_same_facts_and_verdict_on_every_fixture() {
        let mut verdicts = std::collections::BTreeSet::new();
        for nodes in [NODES_HEALTHY, NODES_NOT_READY] {
            for workloads in [
                WORKLOADS_HEALTHY,
                WORKLOADS_UNAVAILABLE,
                WORKLOADS_STATEFULSETS,
            ] {
                let kubectl = kubectl_list(nodes, workloads);
                let by_kubectl = parse_nodes_and_workloads(&kubectl).unwrap();
                let by_api = parse_api_lists(&api_answers(&kubectl)).unwrap();
                assert_eq!(by_api, by_kubectl);
                let verdict = judged(&by_api);
                assert_eq!(verdict, judged(&by_kubectl));
                verdicts.insert(verdict.1.to_string());
            }
        }
        // The fixtures are not all alike: the comparison covers different judgements.
        assert!(verdicts.len() > 2, "{verdicts:?}");
        // A truncated answer is no answer either way (kubectl is asked then, and says so).
        assert!(parse_nodes(NODES_TRUNCATED).is_err());
        let mut answers = api_answers(&kubectl_list(NODES_HEALTHY, WORKLOADS_HEALTHY));
        answers[0] = NODES_TRUNCATED.to_string();
        assert!(parse_api_lists(&answers).is_err());
    }

    #[test]
    fn the_lab_api_servers_answers_are_what_its_kubectl_printed_in_the_same_moment() {
        for state in ["healthy", "tenant-notready"] {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/kube");
            let api = std::fs::read_to_string(format!("{dir}/api-{state}.jsonl")).unwrap();
            let kubectl =
                std::fs::read_to_string(format!("{dir}/api-{state}-kubectl.json")).unwrap();
            let answers: Vec<String> = api.lines().map(str::to_string).collect();
            let by_api = parse_api_lists(&answers).unwrap();
            assert_eq!(
                by_api,
                parse_nodes_and_workloads(&kubectl).unwrap(),
                "{state}"
            );
            let tenant = by_api.1.iter().find(|w| w.name == "tenant").unwrap();
            assert_eq!(tenant.ready, u32::from(state == "healthy"), "{state}");
        }
        // Lists in the wrong order, or of the wrong kind, are refused.
        let healthy = api_answers(&kubectl_list(NODES_HEALTHY, WORKLOADS_HEALTHY));
        let mut swapped = healthy.clone();
        swapped.swap(0, 1);
        assert!(parse_api_lists(&swapped).is_err());
        assert!(parse_api_lists(&healthy[..3]).is_err());
        let status = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","code":401}"#;
        let mut unauthorized = healthy;
        unauthorized[1] = status.to_string();
        assert!(parse_api_lists(&unauthorized).is_err());
    }

    const NODES_HEALTHY: &str = include_str!("../../fixtures/kube/nodes-healthy.json");
    const NODES_NOT_READY: &str = include_str!("../../fixtures/kube/nodes-notready.json");
    const NODES_TRUNCATED: &str = include_str!("../../fixtures/kube/nodes-truncated.json");
    const WORKLOADS_HEALTHY: &str = include_str!("../../fixtures/kube/workloads-healthy.json");
    const WORKLOADS_UNAVAILABLE: &str =
        include_str!("../../fixtures/kube/workloads-deployment-unavailable.json");
    const WORKLOADS_STATEFULSETS: &str =
        include_str!("../../fixtures/kube/workloads-statefulsets.json");
    const PODS_CRASHLOOP: &str = include_str!("../../fixtures/kube/pods-crashloop.json");
    const STDERR_REFUSED: &str = include_str!("../../fixtures/kube/stderr-connection-refused.txt");
    const STDERR_TIMEOUT: &str = include_str!("../../fixtures/kube/stderr-timeout.txt");
    const STDERR_UNAUTHORIZED: &str = include_str!("../../fixtures/kube/stderr-unauthorized.txt");
    const STDERR_OTHER: &str = include_str!("../../fixtures/kube/stderr-other.txt");

    #[test]
    fn healthy_node() {
        let nodes = parse_nodes(NODES_HEALTHY).expect("parses");
        assert_eq!(
            nodes,
            [KubeNode {
                name: "tpvm".to_owned(),
                ready: true,
                ready_status: "True".to_owned(),
                reason: None,
                message: None,
            }]
        );
    }

    #[test]
    fn not_ready_node_after_failover() {
        let nodes = parse_nodes(NODES_NOT_READY).expect("parses");
        assert_eq!(nodes.len(), 2);
        assert_eq!(
            nodes[0],
            KubeNode {
                name: "tpvm".to_owned(),
                ready: false,
                ready_status: "Unknown".to_owned(),
                reason: Some("NodeStatusUnknown".to_owned()),
                message: Some("Kubelet stopped posting node status.".to_owned()),
            }
        );
        assert_eq!(nodes[1].name, "tpvm2");
        assert!(nodes[1].ready);
    }

    #[test]
    fn node_without_ready_condition_is_not_ready() {
        let text = r#"{"apiVersion":"v1","items":[{"apiVersion":"v1","kind":"Node","metadata":{"name":"fresh"},"status":{}}],"kind":"List","metadata":{"resourceVersion":""}}"#;
        let nodes = parse_nodes(text).expect("parses");
        assert!(!nodes[0].ready);
        assert_eq!(nodes[0].ready_status, "missing");
    }

    #[test]
    fn truncated_and_wrong_json_are_errors() {
        let error = parse_nodes(NODES_TRUNCATED).expect_err("truncated");
        assert_eq!(error.what, "kubectl get nodes");
        assert!(error.reason.contains("EOF"), "{}", error.reason);
        assert_eq!(parse_nodes("").expect_err("empty").reason, "empty output");
        let single = r#"{"apiVersion":"v1","kind":"Node","items":[]}"#;
        assert!(parse_nodes(single)
            .expect_err("not a list")
            .reason
            .contains("expected a List"));
        assert!(parse_workloads(STDERR_REFUSED).is_err());
    }

    #[test]
    fn healthy_workloads() {
        let workloads = parse_workloads(WORKLOADS_HEALTHY).expect("parses");
        assert_eq!(workloads.len(), 14);
        let efa: Vec<&str> = workloads
            .iter()
            .filter(|w| w.namespace == "efa")
            .map(|w| w.name.as_str())
            .collect();
        assert_eq!(
            efa,
            [
                "api-docs",
                "auth",
                "fabric",
                "inventory",
                "notification",
                "raslog",
                "rbac",
                "system",
                "tenant"
            ]
        );
        assert!(workloads.iter().all(|w| w.desired == 1 && w.ready == 1));
        assert_eq!(
            workloads[13],
            Workload {
                kind: WorkloadKind::DaemonSet,
                namespace: "kube-system".to_owned(),
                name: "svclb-traefik-4f0b5d2c".to_owned(),
                desired: 1,
                ready: 1,
            }
        );
        assert_eq!(workloads[12].name, "traefik");
        assert_eq!(workloads[12].kind, WorkloadKind::Deployment);
    }

    #[test]
    fn deployment_at_zero_of_one() {
        let workloads = parse_workloads(WORKLOADS_UNAVAILABLE).expect("parses");
        let not_ready: Vec<&Workload> = workloads.iter().filter(|w| w.ready < w.desired).collect();
        assert_eq!(
            not_ready,
            [&Workload {
                kind: WorkloadKind::Deployment,
                namespace: "efa".to_owned(),
                name: "inventory".to_owned(),
                desired: 1,
                ready: 0,
            }]
        );
    }

    #[test]
    fn statefulsets_count_ready_replicas() {
        let workloads = parse_workloads(WORKLOADS_STATEFULSETS).expect("parses");
        let sets: Vec<(&str, u32, u32)> = workloads
            .iter()
            .filter(|w| w.kind == WorkloadKind::StatefulSet)
            .map(|w| (w.name.as_str(), w.desired, w.ready))
            .collect();
        assert_eq!(sets, [("goredis", 1, 1), ("rabbitmq", 2, 1)]);
    }

    #[test]
    fn deployment_without_replicas_defaults_to_one() {
        let text = r#"{"apiVersion":"v1","items":[{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x","namespace":"efa"},"spec":{},"status":{}}],"kind":"List","metadata":{"resourceVersion":""}}"#;
        let workloads = parse_workloads(text).expect("parses");
        assert_eq!((workloads[0].desired, workloads[0].ready), (1, 0));
    }

    #[test]
    fn unexpected_kind_is_an_error() {
        let text = r#"{"apiVersion":"v1","items":[{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"x-1","namespace":"efa"}}],"kind":"List","metadata":{"resourceVersion":""}}"#;
        assert!(parse_workloads(text)
            .expect_err("replicaset")
            .reason
            .contains("ReplicaSet"));
    }

    #[test]
    fn pod_in_crashloop() {
        let pods = parse_pods(PODS_CRASHLOOP).expect("parses");
        assert_eq!(pods.len(), 3);
        assert_eq!(
            pods[1],
            Pod {
                namespace: "efa".to_owned(),
                name: "inventory-5f8b7c6d9b-4mz7t".to_owned(),
                phase: "Running".to_owned(),
                ready: false,
                restarts: 7,
                waiting_reason: Some("CrashLoopBackOff".to_owned()),
            }
        );
        assert!(pods[0].ready);
        assert_eq!(pods[0].waiting_reason, None);
        assert_eq!(pods[2].restarts, 1);
    }

    #[test]
    fn connection_refused() {
        let error = classify_kubectl_error(STDERR_REFUSED);
        assert_eq!(
            error,
            KubectlError::ConnectionRefused {
                server: "127.0.0.1:6443".to_owned()
            }
        );
        assert_eq!(
            error.to_string(),
            "the Kubernetes API server at 127.0.0.1:6443 refused the connection (is k3s running?)"
        );
    }

    #[test]
    fn timeout_unauthorized_and_other() {
        assert_eq!(
            classify_kubectl_error(STDERR_TIMEOUT),
            KubectlError::Unreachable {
                message:
                    "Unable to connect to the server: dial tcp 10.20.246.103:6443: i/o timeout"
                        .to_owned()
            }
        );
        assert_eq!(
            classify_kubectl_error(STDERR_UNAUTHORIZED),
            KubectlError::Unauthorized
        );
        assert_eq!(
            classify_kubectl_error(STDERR_OTHER),
            KubectlError::Other {
                message: "error: error loading config file \"/etc/rancher/k3s/k3s.yaml\": open /etc/rancher/k3s/k3s.yaml: permission denied".to_owned()
            }
        );
        assert_eq!(
            classify_kubectl_error(""),
            KubectlError::Other {
                message: String::new()
            }
        );
    }
}
