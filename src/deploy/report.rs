//! What a deploy planned and did, for `-o json` (`pairctl.deploy/1`) and as text: the plan
//! per stage and node, the outcome per stage, the failure with stage, node, command and
//! stderr.

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

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The plan: per stage, per node, what would change (what `--dry-run` prints and what is
/// confirmed).
pub fn plan_text(r: &DeployReport, verbose: bool) -> String {
    let mut s = format!(
        "deploy plan for cluster {}: {}, VIP {}\n\n",
        r.cluster,
        r.nodes
            .iter()
            .map(|n| format!("{} {}", n.name, n.address))
            .collect::<Vec<_>>()
            .join(", "),
        r.vip
    );
    s.push_str(&preflight_text(&r.preflight, verbose));
    for st in &r.stages {
        match st.state {
            StageState::Skipped => {
                if verbose {
                    s.push_str(&format!("{:<11} skipped\n", st.stage.name()));
                }
                continue;
            }
            StageState::Refused | StageState::NotRun | StageState::Failed
                if st.changes.is_empty() =>
            {
                s.push_str(&format!("{:<11} {}\n", st.stage.name(), st.state.as_str()));
            }
            _ if st.changes.is_empty() => {
                s.push_str(&format!("{:<11} unchanged\n", st.stage.name()));
            }
            _ => {
                s.push_str(&format!(
                    "{:<11} {}\n",
                    st.stage.name(),
                    plural(st.changes.len(), "change", "changes")
                ));
                // In the order they run: phases across both nodes, so that "n2 joins,
                // then n1 restarts" reads as it will happen.
                for c in &st.changes {
                    s.push_str(&format!("  {:<6} {}\n", format!("{}:", c.node), c.summary));
                }
            }
        }
        for n in &st.notes {
            s.push_str(&format!("  note: {n}\n"));
        }
    }
    s
}

pub fn preflight_text(checks: &[PreflightCheck], verbose: bool) -> String {
    if checks.is_empty() {
        return String::new();
    }
    let failed: Vec<&PreflightCheck> = checks.iter().filter(|c| !c.ok).collect();
    let mut s = if failed.is_empty() {
        format!(
            "{:<11} ok ({})\n",
            "preflight",
            plural(checks.len(), "check", "checks")
        )
    } else {
        format!(
            "{:<11} {} of {} FAILED\n",
            "preflight",
            failed.len(),
            plural(checks.len(), "check", "checks")
        )
    };
    for c in checks {
        if !c.ok || verbose {
            s.push_str(&format!(
                "  {:<6} {:<9} {:<6} {}\n",
                format!("{}:", c.node),
                c.name,
                if c.ok { "ok" } else { "FAIL" },
                c.detail
            ));
        }
    }
    s
}

/// After a run: each stage's outcome, the failure, the verification, the time.
pub fn result_text(r: &DeployReport, verbose: bool) -> String {
    if r.dry_run || (r.outcome == Outcome::Refused && r.failure.is_none()) {
        let mut s = plan_text(r, verbose);
        s.push('\n');
        s.push_str(&format!("deploy: {}\n", r.summary));
        return s;
    }
    let mut s = preflight_text(&r.preflight, verbose);
    for st in &r.stages {
        if st.state == StageState::Skipped && !verbose {
            continue;
        }
        let done = st.changes.iter().filter(|c| c.done == Some(true)).count();
        let count = match st.state {
            StageState::Changed | StageState::Failed => plural(done, "change", "changes"),
            _ => String::new(),
        };
        let took = if st.elapsed_ms > 0 {
            crate::format::human_duration(std::time::Duration::from_millis(st.elapsed_ms))
        } else {
            String::new()
        };
        s.push_str(
            format!(
                "{:<11} {:<9} {:<11} {took}\n",
                st.stage.name(),
                st.state.as_str(),
                count
            )
            .trim_end(),
        );
        s.push('\n');
        if verbose || st.state == StageState::Failed {
            for c in &st.changes {
                let mark = match c.done {
                    Some(true) => "ok",
                    Some(false) => "FAIL",
                    None => "-",
                };
                s.push_str(&format!(
                    "  {:<6} {mark:<4} {}\n",
                    format!("{}:", c.node),
                    c.summary
                ));
            }
        }
        for n in &st.notes {
            s.push_str(&format!("  note: {n}\n"));
        }
    }
    if let Some(f) = &r.failure {
        s.push_str(&format!(
            "\nfailed in stage {}{}: {}\n  command: {}\n  {}\n",
            f.stage.name(),
            f.node
                .as_deref()
                .map(|n| format!(" on {n}"))
                .unwrap_or_default(),
            f.step,
            f.command,
            f.reason
        ));
        for l in f.stderr.lines() {
            s.push_str(&format!("  stderr: {l}\n"));
        }
    }
    if let Some(status) = &r.status {
        s.push_str(&format!(
            "status      {}{}\n",
            status.verdict.as_str(),
            status
                .active
                .as_deref()
                .map(|a| format!(", active {a}"))
                .unwrap_or_default()
        ));
        for c in status.failing() {
            s.push_str(&format!("  {} {}: {}\n", c.name, c.node, c.detail));
        }
    }
    for n in &r.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s.push_str(&format!("\ndeploy: {}\n", r.summary));
    s.push_str(&format!(
        "--- Time Elapsed: {:.2} seconds ---\n",
        r.elapsed_ms as f64 / 1000.0
    ));
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::deploy::stages::tests::lab_cfg;

    fn sample() -> DeployReport {
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
    fn dry_run_text_lists_changes_per_stage_and_node() {
        let text = result_text(&sample(), false);
        assert_eq!(
            text,
            "deploy plan for cluster lab: n1 10.213.57.11, n2 10.213.57.12, VIP 10.213.57.10

preflight   1 of 2 checks FAILED
  n2:    ports     FAIL   443 (the HTTPS ingress) is in use by apache2.service
keepalived  3 changes
  n1:    write /etc/keepalived/keepalived.conf (new)
  n1:    restart keepalived
  n2:    write /etc/keepalived/keepalived.conf (changed)

deploy: dry run: 3 changes in 1 stage; nothing was changed
"
        );
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
    fn a_failure_names_stage_node_command_and_stderr() {
        let mut r = sample();
        r.dry_run = false;
        r.preflight.retain(|c| c.ok);
        let k = r.stage_mut(Stage::Keepalived).unwrap();
        k.state = StageState::Failed;
        k.changes[0].done = Some(true);
        k.changes[1].done = Some(false);
        r.outcome = Outcome::FailedPartway;
        r.summary = "failed in stage keepalived on n1: restart keepalived: exit status 1".into();
        r.failure = Some(FailureReport {
            stage: Stage::Keepalived,
            node: Some("n1".into()),
            step: "restart keepalived".into(),
            command: "systemctl restart keepalived.service".into(),
            reason: "exit status 1".into(),
            stderr: "Job for keepalived.service failed.\nSee journalctl -xeu keepalived".into(),
        });
        let text = result_text(&r, false);
        assert!(
            text.contains(
                "keepalived  FAILED    1 change
  n1:    ok   write /etc/keepalived/keepalived.conf (new)
  n1:    FAIL restart keepalived
  n2:    -    write /etc/keepalived/keepalived.conf (changed)
"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "failed in stage keepalived on n1: restart keepalived
  command: systemctl restart keepalived.service
  exit status 1
  stderr: Job for keepalived.service failed.
  stderr: See journalctl -xeu keepalived
"
            ),
            "{text}"
        );
        assert_eq!(r.outcome.exit_code(), 2);
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Outcome::Unchanged.exit_code(), 0);
        assert_eq!(Outcome::Failed.exit_code(), 1);
        assert_eq!(Outcome::FailedPartway.exit_code(), 2);
        assert_eq!(Outcome::Refused.exit_code(), 3);
    }
}
