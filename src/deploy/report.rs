//! What a deploy planned and did (`-o json`: `pairctl.deploy/1`): the plan per stage and
//! node, the outcome per stage, the failure with stage, node, command and stderr. Its text is
//! rendered in `render::deploy`.

use super::stages::preflight::PreflightCheck;
use super::{Change, Stage, StagePlan, SCHEMA};
use crate::config::Config;
use crate::model::ClusterReport;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Dry run: nothing changed.
    Planned,
    /// Nothing to change; the cluster is healthy.
    Unchanged,
    /// Changes made; the cluster is healthy.
    Deployed,
    /// A precondition failed, the plan needs a decision, or the operator said no: nothing
    /// changed.
    Refused,
    /// A step failed before anything was changed.
    Failed,
    /// A step failed after others had changed the nodes: re-run to resume.
    FailedPartway,
    /// Everything ran but the cluster did not become healthy in time.
    NotConverged,
}

impl Outcome {
    pub fn exit_status(self) -> crate::error::ExitStatus {
        use crate::error::ExitStatus;
        match self {
            Outcome::Planned | Outcome::Unchanged | Outcome::Deployed => ExitStatus::Ok,
            Outcome::Failed => ExitStatus::DegradedOrFailed,
            Outcome::FailedPartway | Outcome::NotConverged => ExitStatus::CriticalOrNotConverged,
            Outcome::Refused => ExitStatus::UnknownOrRefused,
        }
    }
    pub fn exit_code(self) -> u8 {
        self.exit_status().code()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StageState {
    /// Dry run: these changes would be made.
    Planned,
    Unchanged,
    Changed,
    Failed,
    /// Its plan needs a decision (see the summary): nothing was changed.
    Refused,
    /// Not selected (`--only`, `--from`).
    Skipped,
    /// Selected, but an earlier failure stopped the run.
    NotRun,
}

impl StageState {
    pub fn as_str(self) -> &'static str {
        match self {
            StageState::Planned => "planned",
            StageState::Unchanged => "unchanged",
            StageState::Changed => "changed",
            StageState::Failed => "FAILED",
            StageState::Refused => "REFUSED",
            StageState::Skipped => "skipped",
            StageState::NotRun => "not run",
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChangeReport {
    pub node: String,
    pub phase: u8,
    pub action: &'static str,
    pub summary: String,
    /// The command as it may be shown (never a secret).
    pub command: String,
    /// None: not attempted (a plan, or stopped before).
    pub done: Option<bool>,
    pub detail: String,
    pub elapsed_ms: u64,
}

impl ChangeReport {
    pub fn planned(cfg: &Config, c: &Change) -> Self {
        ChangeReport {
            node: crate::deploy::host(cfg, c.node).name.clone(),
            phase: c.phase,
            action: c.action.kind(),
            summary: c.summary.clone(),
            command: c.action.shown(),
            done: None,
            detail: String::new(),
            elapsed_ms: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StageReport {
    pub stage: Stage,
    pub state: StageState,
    pub changes: Vec<ChangeReport>,
    pub notes: Vec<String>,
    pub elapsed_ms: u64,
}

impl StageReport {
    /// The changes and notes a stage's plan holds, as the report shows them.
    pub fn record_plan(&mut self, cfg: &Config, plan: &StagePlan) {
        self.changes = plan
            .changes
            .iter()
            .map(|c| ChangeReport::planned(cfg, c))
            .collect();
        self.notes = plan.notes.clone();
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NodeRef {
    pub name: String,
    pub address: String,
}

/// The first failure: where and what.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FailureReport {
    pub stage: Stage,
    pub node: Option<String>,
    /// The change being made ("start mariadb: n2 joins …"), or what failed otherwise.
    pub step: String,
    pub command: String,
    pub reason: String,
    pub stderr: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DeployReport {
    pub schema: &'static str,
    pub cluster: String,
    pub vip: String,
    pub nodes: Vec<NodeRef>,
    pub dry_run: bool,
    pub stages_selected: Vec<Stage>,
    pub preflight: Vec<PreflightCheck>,
    pub stages: Vec<StageReport>,
    pub notes: Vec<String>,
    pub outcome: Outcome,
    /// One sentence: what happened, or why not.
    pub summary: String,
    pub hint: Option<String>,
    pub failure: Option<FailureReport>,
    /// The status report of the verification round, when it ran.
    pub status: Option<ClusterReport>,
    pub elapsed_ms: u64,
}

impl DeployReport {
    pub fn new(cfg: &Config, dry_run: bool, selected: &[Stage]) -> Self {
        DeployReport {
            schema: SCHEMA,
            cluster: cfg.name.clone(),
            vip: cfg.vip.to_string(),
            nodes: cfg
                .nodes
                .iter()
                .map(|n| NodeRef {
                    name: n.name.clone(),
                    address: n.address.to_string(),
                })
                .collect(),
            dry_run,
            stages_selected: selected.to_vec(),
            preflight: Vec::new(),
            stages: Stage::ALL
                .iter()
                // The witness stage only exists for a config with a `[witness]`.
                .filter(|s| {
                    **s != Stage::Preflight && (**s != Stage::Witness || cfg.witness.is_some())
                })
                .map(|s| StageReport {
                    stage: *s,
                    state: if selected.contains(s) {
                        StageState::NotRun
                    } else {
                        StageState::Skipped
                    },
                    changes: Vec::new(),
                    notes: Vec::new(),
                    elapsed_ms: 0,
                })
                .collect(),
            notes: Vec::new(),
            outcome: Outcome::Planned,
            summary: String::new(),
            hint: None,
            failure: None,
            status: None,
            elapsed_ms: 0,
        }
    }

    pub fn stage_mut(&mut self, stage: Stage) -> Option<&mut StageReport> {
        self.stages.iter_mut().find(|s| s.stage == stage)
    }

    pub fn change_count(&self) -> usize {
        self.stages.iter().map(|s| s.changes.len()).sum()
    }

    pub fn changed_stages(&self) -> usize {
        self.stages.iter().filter(|s| !s.changes.is_empty()).count()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::deploy::stages::tests::lab_cfg;

    /// A dry run of the keepalived stage with a failed preflight check.
    pub(crate) fn sample() -> DeployReport {
        let cfg = lab_cfg();
        let mut r = DeployReport::new(&cfg, true, &[Stage::Preflight, Stage::Keepalived]);
        r.preflight = vec![
            PreflightCheck::new("n1", "root", true, "root is root"),
            PreflightCheck::new(
                "n2",
                "ports",
                false,
                "443 (the HTTPS ingress) is in use by apache2.service",
            ),
        ];
        let change = |node: &str, summary: &str| ChangeReport {
            node: node.into(),
            phase: 0,
            action: "write",
            summary: summary.into(),
            command: "write".into(),
            done: None,
            detail: String::new(),
            elapsed_ms: 0,
        };
        let k = r.stage_mut(Stage::Keepalived).unwrap();
        k.state = StageState::Planned;
        k.changes = vec![
            change("n1", "write /etc/keepalived/keepalived.conf (new)"),
            change("n1", "restart keepalived"),
            change("n2", "write /etc/keepalived/keepalived.conf (changed)"),
        ];
        r.summary = "dry run: 3 changes in 1 stage; nothing was changed".into();
        r
    }

    #[test]
    fn json_names_plan_and_outcome() {
        let v = serde_json::to_value(sample()).unwrap();
        assert_eq!(v["schema"], "pairctl.deploy/1");
        assert_eq!(v["outcome"], "planned");
        assert_eq!(v["stages"][0]["stage"], "ssh-trust");
        assert_eq!(v["stages"][0]["state"], "skipped");
        assert_eq!(v["stages"][6]["stage"], "keepalived");
        assert_eq!(
            v["stages"][6]["changes"][1]["summary"],
            "restart keepalived"
        );
        assert_eq!(v["preflight"][1]["ok"], false);
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Outcome::Unchanged.exit_code(), 0);
        assert_eq!(Outcome::Failed.exit_code(), 1);
        assert_eq!(Outcome::FailedPartway.exit_code(), 2);
        assert_eq!(Outcome::Refused.exit_code(), 3);
    }
}
