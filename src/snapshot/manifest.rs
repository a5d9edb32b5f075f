//! `manifest.json`: what a bundle holds and how each item was collected, and the summary
//! `-o json` prints. Fields are added, never renamed (`schema` says which shape this is).

use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "pairctl.snapshot/1";
pub const FILE_NAME: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Manifest {
    pub schema: String,
    pub tool: String,
    pub tool_version: String,
    pub cluster: String,
    pub window: Window,
    /// When collection started (RFC 3339, UTC).
    pub created: String,
    pub duration_ms: u64,
    /// False when the bundle was made with `--no-redact`.
    pub redacted: bool,
    /// True when something that should have been collected was not (see `Outcome`).
    pub partial: bool,
    pub nodes: Vec<NodeEntry>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Window {
    pub since: String,
    pub until: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NodeEntry {
    pub name: String,
    pub address: String,
    pub reachable: bool,
    /// The node's role in the status report taken at collection time.
    pub role: String,
    pub error: Option<String>,
}

/// How an item ended. `not_applicable` is a failure that is expected where it happened (k3s
/// runs on the active node only; a file that is absent is absent) and does not make the
/// bundle partial; `failed` and `timed_out` do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    NotApplicable,
    Failed,
    TimedOut,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotApplicable => "not applicable",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed out",
        }
    }
    pub fn makes_partial(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::TimedOut)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Item {
    /// A node name, or "cluster" for what concerns the pair.
    pub node: String,
    pub collector: String,
    /// Path inside the archive.
    pub path: String,
    /// Bytes stored (after redaction).
    pub bytes: u64,
    /// Of the stored bytes; None when nothing was stored (the command never ran).
    pub sha256: Option<String>,
    pub exit_status: Option<u32>,
    /// When the item started, from the start of the run (a timeline for support).
    #[serde(default)]
    pub started_ms: u64,
    pub duration_ms: u64,
    pub timed_out: bool,
    pub error: Option<String>,
    pub redactions: u64,
    pub outcome: Outcome,
}

impl Item {
    pub fn stored(&self) -> bool {
        self.sha256.is_some()
    }
}

impl Manifest {
    pub fn summary(&self, archive: &str, sha256: &str, archive_bytes: u64) -> Summary {
        let count = |o: Outcome| self.items.iter().filter(|i| i.outcome == o).count();
        Summary {
            schema: self.schema.clone(),
            archive: archive.to_string(),
            sha256: sha256.to_string(),
            archive_bytes,
            cluster: self.cluster.clone(),
            window: self.window.clone(),
            created: self.created.clone(),
            duration_ms: self.duration_ms,
            redacted: self.redacted,
            partial: self.partial,
            nodes: self.nodes.clone(),
            items: Counts {
                total: self.items.len(),
                ok: count(Outcome::Ok),
                not_applicable: count(Outcome::NotApplicable),
                failed: count(Outcome::Failed),
                timed_out: count(Outcome::TimedOut),
            },
            collected_bytes: self.items.iter().map(|i| i.bytes).sum(),
            redactions: self.items.iter().map(|i| i.redactions).sum(),
            problems: self
                .items
                .iter()
                .filter(|i| i.outcome.makes_partial())
                .map(|i| Problem {
                    node: i.node.clone(),
                    path: i.path.clone(),
                    outcome: i.outcome,
                    error: i.error.clone(),
                })
                .collect(),
        }
    }
}

/// What `pairctl snapshot -o json` prints: the manifest without the item list, plus the
/// archive's name and checksum and the items that make it partial.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    pub schema: String,
    pub archive: String,
    pub sha256: String,
    pub archive_bytes: u64,
    pub cluster: String,
    pub window: Window,
    pub created: String,
    pub duration_ms: u64,
    pub redacted: bool,
    pub partial: bool,
    pub nodes: Vec<NodeEntry>,
    pub items: Counts,
    pub collected_bytes: u64,
    pub redactions: u64,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Counts {
    pub total: usize,
    pub ok: usize,
    pub not_applicable: usize,
    pub failed: usize,
    pub timed_out: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Problem {
    pub node: String,
    pub path: String,
    pub outcome: Outcome,
    pub error: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    pub fn sample() -> Manifest {
        Manifest {
            schema: SCHEMA.into(),
            tool: "pairctl".into(),
            tool_version: "0.1.0".into(),
            cluster: "fabric-a".into(),
            window: Window {
                since: "2024-05-01T10:00:00Z".into(),
                until: "2024-05-02T10:00:00Z".into(),
            },
            created: "2024-05-02T10:00:00Z".into(),
            duration_ms: 3200,
            redacted: true,
            partial: true,
            nodes: vec![
                NodeEntry {
                    name: "n1".into(),
                    address: "10.213.57.11".into(),
                    reachable: true,
                    role: "active".into(),
                    error: None,
                },
                NodeEntry {
                    name: "n2".into(),
                    address: "10.213.57.12".into(),
                    reachable: false,
                    role: "unknown".into(),
                    error: Some("n2: SSH to 10.213.57.12:22 timed out after 5.0 s".into()),
                },
            ],
            items: vec![
                Item {
                    node: "n1".into(),
                    collector: "system".into(),
                    path: "n1/system/uname.txt".into(),
                    bytes: 96,
                    sha256: Some("ab".repeat(32)),
                    exit_status: Some(0),
                    started_ms: 15,
                    duration_ms: 120,
                    timed_out: false,
                    error: None,
                    redactions: 0,
                    outcome: Outcome::Ok,
                },
                Item {
                    node: "n2".into(),
                    collector: "system".into(),
                    path: "n2/system/uname.txt".into(),
                    bytes: 0,
                    sha256: None,
                    exit_status: None,
                    started_ms: 0,
                    duration_ms: 0,
                    timed_out: false,
                    error: Some("unreachable".into()),
                    redactions: 0,
                    outcome: Outcome::Failed,
                },
            ],
        }
    }

    #[test]
    fn round_trips_and_has_the_documented_shape() {
        let m = sample();
        let text = serde_json::to_string_pretty(&m).unwrap();
        let back: Manifest = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema"], "pairctl.snapshot/1");
        assert_eq!(v["window"]["since"], "2024-05-01T10:00:00Z");
        assert_eq!(v["nodes"][1]["reachable"], false);
        let item = &v["items"][0];
        for key in [
            "node",
            "collector",
            "path",
            "bytes",
            "sha256",
            "exit_status",
            "duration_ms",
            "timed_out",
            "error",
            "redactions",
            "outcome",
        ] {
            assert!(item.get(key).is_some(), "item lacks {key}: {item}");
        }
        assert_eq!(v["items"][1]["outcome"], "failed");
        assert_eq!(v["items"][1]["sha256"], serde_json::Value::Null);
    }

    #[test]
    fn summary_counts_and_names_the_problems() {
        let s = sample().summary("/tmp/x.tar.zst", &"cd".repeat(32), 1234);
        assert_eq!(s.items.total, 2);
        assert_eq!(s.items.ok, 1);
        assert_eq!(s.items.failed, 1);
        assert_eq!(s.collected_bytes, 96);
        assert_eq!(s.problems.len(), 1);
        assert_eq!(s.problems[0].path, "n2/system/uname.txt");
        let v = serde_json::to_value(&s).unwrap();
        assert!(v.get("items").unwrap().get("not_applicable").is_some());
        assert!(v.get("partial").unwrap().as_bool().unwrap());
    }

    #[test]
    fn outcomes_that_make_a_bundle_partial() {
        assert!(!Outcome::Ok.makes_partial());
        assert!(!Outcome::NotApplicable.makes_partial());
        assert!(Outcome::Failed.makes_partial());
        assert!(Outcome::TimedOut.makes_partial());
    }
}
