//! Role-change operations: preflight → plan → confirm → act → verify. This module holds the
//! shared vocabulary (preconditions, plan steps, the record of what was done) and the
//! executor that times each step and reports it (`render::progress::Event`), the operation
//! record and its history entry; `swap`, `failover` and `rejoin` are the plans, `actions` the
//! remote steps they use.

pub mod actions;
pub mod failover;
pub mod lock;
pub mod rejoin;
pub mod swap;

use crate::model::ClusterReport;
use crate::probe::collect::NodeLink;
use crate::render::progress::{Event, Reporter};
use crate::transport::ProbeError;
use serde::Serialize;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Ctrl-C during a role change: the command does not die mid-step. The signal is noted with
/// the step that was in flight; the plan then finishes or puts back that step and says which.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<Mutex<InterruptState>>);

#[derive(Debug, Default)]
struct InterruptState {
    current: String,
    during: Option<String>,
}

impl Interrupt {
    /// Notes a Ctrl-C now; returns false when one was already noted (the second one).
    pub fn signal(&self) -> bool {
        let Ok(mut st) = self.0.lock() else {
            return false;
        };
        if st.during.is_some() {
            return false;
        }
        st.during = Some(if st.current.is_empty() {
            "before the first step".to_string()
        } else {
            st.current.clone()
        });
        true
    }
    /// The step that was in flight when Ctrl-C came, if it came.
    pub fn during(&self) -> Option<String> {
        self.0.lock().ok().and_then(|s| s.during.clone())
    }
    fn set_current(&self, label: &str) {
        if let Ok(mut st) = self.0.lock() {
            st.current = label.to_string();
        }
    }
}

/// A condition checked before acting. `overridable` ones may be forced by name.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Precondition {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
    pub overridable: bool,
    /// Failed, but overridden with `--force NAME`.
    pub forced: bool,
}

impl Precondition {
    pub fn new(name: &'static str, ok: bool, detail: impl Into<String>, overridable: bool) -> Self {
        Self {
            name,
            ok,
            detail: detail.into(),
            overridable,
            forced: false,
        }
    }
    pub fn blocks(&self) -> bool {
        !self.ok && !self.forced
    }
}

/// No role change while a maintenance is in force (`pairctl maintenance on`): the operator who
/// froze the pair meant it. Overridable (`--force`), as a forgotten freeze must not block a
/// failover the on-call engineer needs.
pub fn maintenance_precondition(report: &ClusterReport) -> Precondition {
    match &report.maintenance {
        None => Precondition::new("maintenance", true, "no maintenance in force", true),
        Some(m) => Precondition::new(
            "maintenance",
            false,
            format!("{}; end it with `pairctl maintenance off`", m.describe()),
            true,
        ),
    }
}

/// Applies `--force` names; returns names that match no overridable failed precondition.
pub fn apply_force(pre: &mut [Precondition], forced: &[String]) -> Vec<String> {
    let mut unknown = Vec::new();
    for name in forced {
        match pre.iter_mut().find(|p| p.name == name) {
            Some(p) if p.overridable => p.forced = !p.ok,
            _ => unknown.push(name.clone()),
        }
    }
    unknown
}

/// The outcome a preflight leads to: refused (naming every blocking precondition, then
/// `hint`), a dry run, or planned (the act follows).
pub fn decide(pre: &[Precondition], dry_run: bool, hint: &str) -> (Outcome, String) {
    let blocked: Vec<String> = pre
        .iter()
        .filter(|p| p.blocks())
        .map(|p| format!("{} ({})", p.name, p.detail))
        .collect();
    if !blocked.is_empty() {
        (
            Outcome::Refused,
            format!("refused, nothing changed: {}{hint}", blocked.join("; ")),
        )
    } else if dry_run {
        (Outcome::Planned, "dry run: nothing changed".to_string())
    } else {
        (Outcome::Planned, String::new())
    }
}

/// How an act ends early: its outcome, the summary, the last status report if one was taken.
pub type Failure = (Outcome, String, Option<ClusterReport>);

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlanStep {
    pub step: usize,
    pub node: String,
    pub action: String,
}

pub fn plan(steps: &[(&str, String)]) -> Vec<PlanStep> {
    steps
        .iter()
        .enumerate()
        .map(|(i, (node, action))| PlanStep {
            step: i + 1,
            node: node.to_string(),
            action: action.clone(),
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StepRecord {
    pub node: String,
    pub action: String,
    pub ok: bool,
    pub detail: String,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The new arrangement was verified by the status machinery.
    Verified,
    /// Dry run: nothing changed.
    Planned,
    /// Refused by a precondition or by the operator; nothing changed.
    Refused,
    /// A step failed before the VIP moved and everything was put back.
    Failed,
    /// It acted but did not converge in time.
    NotConverged,
}

impl Outcome {
    pub fn exit_status(self) -> crate::error::ExitStatus {
        use crate::error::ExitStatus;
        match self {
            Outcome::Verified | Outcome::Planned => ExitStatus::Ok,
            Outcome::Failed => ExitStatus::DegradedOrFailed,
            Outcome::NotConverged => ExitStatus::CriticalOrNotConverged,
            Outcome::Refused => ExitStatus::UnknownOrRefused,
        }
    }
    pub fn exit_code(self) -> u8 {
        self.exit_status().code()
    }
}

/// What a role change did, for the renderer and `-o json`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OperationReport {
    pub schema: &'static str,
    pub kind: &'static str,
    pub cluster: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub dry_run: bool,
    pub preflight: Vec<Precondition>,
    pub plan: Vec<PlanStep>,
    pub steps: Vec<StepRecord>,
    pub outcome: Outcome,
    /// One paragraph: why it was refused, or the state it left.
    pub summary: String,
    pub status: Option<ClusterReport>,
    pub elapsed_ms: u64,
}

impl OperationReport {
    /// What the act observed, filled in at its end: the steps run, the outcome and summary,
    /// the last status round (kept from before when the act took none) and the time it took.
    pub fn finish(
        &mut self,
        steps: Vec<StepRecord>,
        outcome: Outcome,
        summary: String,
        status: Option<ClusterReport>,
        started: Instant,
    ) {
        if status.is_some() {
            self.status = status;
        }
        self.steps = steps;
        self.outcome = outcome;
        self.summary = summary;
        self.elapsed_ms = started.elapsed().as_millis() as u64;
    }
}

/// Runs steps in order, timing each and telling the reporter.
pub struct Executor<'a> {
    reporter: &'a dyn Reporter,
    pub records: Vec<StepRecord>,
    pub interrupt: Interrupt,
}

impl<'a> Executor<'a> {
    pub fn new(reporter: &'a dyn Reporter) -> Self {
        Self {
            reporter,
            records: Vec::new(),
            interrupt: Interrupt::default(),
        }
    }

    pub fn with_interrupt(reporter: &'a dyn Reporter, interrupt: Interrupt) -> Self {
        Self {
            reporter,
            records: Vec::new(),
            interrupt,
        }
    }

    /// Runs one step; its `Ok` text or `Err` reason becomes the step's detail.
    pub async fn step<T>(
        &mut self,
        node: &str,
        action: &str,
        fut: impl Future<Output = actions::StepResult<T>>,
    ) -> Result<T, ProbeError> {
        let label = format!("{node}: {action}");
        self.interrupt.set_current(&label);
        self.reporter.event(Event::StepStarted {
            stage: None,
            node,
            step: action,
        });
        let (result, took) = timed(fut).await;
        self.finish(node, action, result, took)
    }

    /// Records a step that ran beside the executor's own (see `timed`), once it is done: its
    /// events and its record, with the time it took itself.
    pub fn record<T>(
        &mut self,
        node: &str,
        action: &str,
        (result, took): (actions::StepResult<T>, Duration),
    ) -> Result<T, ProbeError> {
        self.reporter.event(Event::StepStarted {
            stage: None,
            node,
            step: action,
        });
        self.finish(node, action, result, took)
    }

    fn finish<T>(
        &mut self,
        node: &str,
        action: &str,
        result: actions::StepResult<T>,
        took: Duration,
    ) -> Result<T, ProbeError> {
        let (ok, detail) = match &result {
            Ok((_, d)) => (true, d.clone()),
            Err(e) => (false, e.message.clone()),
        };
        self.reporter.event(Event::StepFinished {
            stage: None,
            node,
            step: action,
            ok,
            detail: &detail,
            took,
        });
        self.records.push(StepRecord {
            node: node.to_string(),
            action: action.to_string(),
            ok,
            detail,
            elapsed_ms: took.as_millis() as u64,
        });
        result.map(|(v, _)| v)
    }
}

/// A step's future and the time it took: one that runs beside the executor's steps, recorded
/// with `Executor::record` when done.
pub async fn timed<T>(fut: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = fut.await;
    (out, started.elapsed())
}

/// Polls `probe` every `every` until it yields `Some`, or `limit` passes.
pub async fn poll<T, F, Fut>(limit: Duration, every: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let end = tokio::time::Instant::now() + limit;
    loop {
        let remaining = end.saturating_duration_since(tokio::time::Instant::now());
        if let Ok(Some(v)) = tokio::time::timeout(remaining, probe()).await {
            return Some(v);
        }
        if tokio::time::Instant::now() + every >= end {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}

/// The schema of the operation report (swap, failover).
pub const SCHEMA: &str = "pairctl.operation/1";

/// The epoch the next role change writes: one above every epoch the nodes showed.
pub fn next_epoch(report: &ClusterReport) -> u64 {
    report
        .nodes
        .iter()
        .filter_map(|n| n.epoch)
        .max()
        .unwrap_or(0)
        + 1
}

/// Appends the operation to the history on the nodes (best effort: the operation is done).
pub async fn record(links: &[NodeLink], op: &OperationReport, kind: &str) {
    record_with(links, op, kind, None).await
}

/// The history record, with a failover's fork point (`HistoryRecord::galera_seqno`).
pub async fn record_with(
    links: &[NodeLink],
    op: &OperationReport,
    kind: &str,
    galera_seqno: Option<u64>,
) {
    let rec = actions::HistoryRecord {
        time: actions::now_rfc3339(),
        kind: kind.to_string(),
        from: op.from.clone(),
        to: op.to.clone(),
        outcome: serde_json::to_value(op.outcome)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        duration_ms: op.elapsed_ms,
        by: actions::operator(),
        detail: None,
        galera_seqno,
    };
    let _ = actions::record_history(links, &rec, Duration::from_secs(5)).await;
}

/// One line for an operator: verdict, active, what is not ok.
pub fn describe(r: &ClusterReport) -> String {
    let bad: Vec<String> = r
        .failing()
        .map(|c| format!("{} {}: {}", c.name, c.node, c.detail))
        .collect();
    format!(
        "{}, active {}{}",
        r.verdict.as_str(),
        r.active.as_deref().unwrap_or("none"),
        if bad.is_empty() {
            String::new()
        } else {
            format!(" ({})", bad.join("; "))
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn force_applies_only_to_overridable_failed_preconditions() {
        let mut pre = vec![
            Precondition::new("single-vip-holder", false, "split brain", false),
            Precondition::new("replica-fresh", false, "95 s old", true),
            Precondition::new("services-ready", true, "9/9", true),
        ];
        let unknown = apply_force(
            &mut pre,
            &[
                "replica-fresh".into(),
                "single-vip-holder".into(),
                "nope".into(),
            ],
        );
        assert_eq!(
            unknown,
            vec!["single-vip-holder".to_string(), "nope".to_string()]
        );
        assert!(pre[0].blocks());
        assert!(!pre[1].blocks() && pre[1].forced);
        assert!(!pre[2].blocks() && !pre[2].forced);
    }

    #[test]
    fn an_interrupt_names_the_step_in_flight_once() {
        let i = Interrupt::default();
        assert_eq!(i.during(), None);
        i.set_current("n1: demote");
        assert!(i.signal());
        i.set_current("n2: wait for the VIP");
        assert!(!i.signal(), "the second Ctrl-C is not the first");
        assert_eq!(i.during().as_deref(), Some("n1: demote"));
    }

    #[test]
    fn outcomes_map_to_exit_codes() {
        assert_eq!(Outcome::Verified.exit_code(), 0);
        assert_eq!(Outcome::Planned.exit_code(), 0);
        assert_eq!(Outcome::Failed.exit_code(), 1);
        assert_eq!(Outcome::NotConverged.exit_code(), 2);
        assert_eq!(Outcome::Refused.exit_code(), 3);
    }

    #[tokio::test]
    async fn poll_stops_at_the_limit() {
        let mut n = 0;
        let got = poll(
            Duration::from_millis(300),
            Duration::from_millis(50),
            || {
                n += 1;
                async { None::<()> }
            },
        )
        .await;
        assert!(got.is_none());
        assert!(n >= 2);
        let got = poll(
            Duration::from_secs(5),
            Duration::from_millis(10),
            || async { Some(7) },
        )
        .await;
        assert_eq!(got, Some(7));
    }
}

#[cfg(test)]
mod preflight_tests;
