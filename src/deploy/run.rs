//! The deploy runner: observe (the preflight, then every selected stage at once: one remote
//! script per node and stage, all on the command's two connections), judge the preflight,
//! plan every stage, then — confirmed — execute each stage once the stages it waits for are
//! done (`Stage::after`: independent stages at the same time), phase by phase, both nodes at
//! once within a phase; a stage that starts after a change it reads (`Stage::observes_after`)
//! is observed again before it acts.
//! Ends with the status machinery: the cluster must be healthy. Progress goes out as
//! `render::progress::Event`s (stages, changes per node, notes).

use super::bundle::Bundle;
use super::exec::{self, Failure};
use super::remote::Sections;
use super::report::{DeployReport, FailureReport, Outcome, StageState};
use super::stages::preflight::{self, PreflightCheck};
use super::stages::{self, Env, NodeNet};
use super::{Change, Problem, Stage, StagePlan};
use crate::config::Config;
use crate::probe::collect::NodeLink;
use crate::render::progress::{Event, Reporter};
use crate::transport::batch;
use crate::transport::https::HttpsClient;
use crate::transport::ssh::SshSession;
use crate::transport::Deadline;
use crate::transport::Exec;
use futures::FutureExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a check script may take (the gluster CLI and mariadb answer in well under 1 s).
const OBSERVE_LIMIT: Duration = Duration::from_secs(30);
/// How long the cluster gets to become healthy after the last stage.
pub const VERIFY_LIMIT: Duration = Duration::from_secs(90);

pub struct Options {
    pub dry_run: bool,
    /// The selected stages (`--only`, `--from`); the preflight's checks run regardless.
    pub stages: Vec<Stage>,
    /// Wait for `status` to call the cluster healthy at the end.
    pub verify: bool,
}

impl Options {
    /// The selected stages that act (the preflight only checks).
    fn acting_stages(&self) -> Vec<Stage> {
        self.stages
            .iter()
            .copied()
            .filter(|s| *s != Stage::Preflight)
            .collect()
    }
}

/// A deploy between planning and acting.
pub struct Deploy<'a> {
    cfg: &'a Config,
    /// The nodes' connections, then the witness's when the witness stage runs (its index is
    /// `nodes.len()`: see `deploy::host`).
    links: &'a [NodeLink],
    sessions: Vec<Arc<SshSession>>,
    bundle: Bundle,
    ca_pem: Option<String>,
    nets: Vec<Option<NodeNet>>,
    now: String,
    observed: BTreeMap<Stage, Vec<Sections>>,
    plans: BTreeMap<Stage, StagePlan>,
    opts: Options,
    deadline: Deadline,
    started: Instant,
    /// A status round taken alongside the checks (see `prepare`).
    early_status: Option<crate::model::ClusterReport>,
    pub report: DeployReport,
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Runs a stage's check on every node at once.
async fn observe(
    sessions: &[Arc<SshSession>],
    scripts: Vec<String>,
    deadline: Deadline,
) -> Result<Vec<(Sections, f64)>, (usize, Failure)> {
    Ok(observe_raw(sessions, scripts, deadline)
        .await?
        .into_iter()
        .map(|(text, t)| (Sections::parse(&text), t))
        .collect())
}

/// Runs one script per node at once: what each printed, and the local time in the middle of
/// its round trip.
async fn observe_raw(
    sessions: &[Arc<SshSession>],
    scripts: Vec<String>,
    deadline: Deadline,
) -> Result<Vec<(String, f64)>, (usize, Failure)> {
    let runs = sessions.iter().zip(scripts).map(|(s, script)| async move {
        let before = unix_now();
        let out = s
            .exec_with_input(
                "bash -s",
                Some(script.as_bytes()),
                deadline.cap(OBSERVE_LIMIT),
            )
            .await;
        let mid = (before + unix_now()) / 2.0;
        (out, mid)
    });
    let mut result = Vec::new();
    for (i, (out, mid)) in futures::future::join_all(runs)
        .await
        .into_iter()
        .enumerate()
    {
        match out {
            Ok(o) if o.success() => result.push((o.stdout_str(), mid)),
            Ok(o) => {
                return Err((
                    i,
                    Failure {
                        command: "bash -s (the stage's check)".into(),
                        reason: o.failure_summary(),
                        stderr: o.stderr_str(),
                    },
                ))
            }
            Err(e) => {
                return Err((
                    i,
                    Failure {
                        command: "bash -s (the stage's check)".into(),
                        reason: e.into(),
                        stderr: String::new(),
                    },
                ))
            }
        }
    }
    Ok(result)
}

/// Runs the checks of several stages in one remote command per node: each stage's script in
/// its own background subshell (they run at once on the node), their outputs then printed
/// one after the other under a stage marker. One shell start per node instead of one per
/// stage: on a loaded two-core machine that is most of a re-run's cost.
async fn observe_many(
    sessions: &[Arc<SshSession>],
    stages: &[(Stage, Vec<String>)],
    deadline: Deadline,
) -> Result<BTreeMap<Stage, Vec<(Sections, f64)>>, (Stage, usize, Failure)> {
    let combined: Vec<String> = (0..sessions.len())
        .map(|node| combine(stages, node))
        .collect();
    let seen = observe_raw(sessions, combined, deadline)
        .await
        .map_err(|(i, f)| {
            (
                stages.first().map(|s| s.0).unwrap_or(Stage::Preflight),
                i,
                f,
            )
        })?;
    let mut out: BTreeMap<Stage, Vec<(Sections, f64)>> = BTreeMap::new();
    for (text, time) in seen {
        for (stage, sections) in split(&text, stages) {
            out.entry(stage).or_default().push((sections, time));
        }
    }
    Ok(out)
}

/// The sections that hold each stage's output in `combine` (`transport::batch`): a group of
/// the stage's own sections.
const STAGE_GROUP: &str = "stage:";

/// One script for `node` that runs every stage's check at once and prints their outputs in
/// order, each in a section of its own.
pub fn combine(stages: &[(Stage, Vec<String>)], node: usize) -> String {
    let mut s = String::from(
        "d=$(mktemp -d /tmp/pairctl-check.XXXXXX) || exit 1\ntrap 'rm -rf \"$d\"' EXIT\n",
    );
    for (stage, scripts) in stages {
        // In a non-interactive shell a background job's stdin is /dev/null: it cannot read
        // the rest of this script.
        s.push_str(&format!(
            "(\n{}\n) > \"$d/{}\" 2>/dev/null &\n",
            scripts[node],
            stage.name()
        ));
    }
    s.push_str("wait\n");
    for (stage, _) in stages {
        s.push_str(&format!(
            "{}; cat \"$d/{}\"\n",
            batch::mark(&format!("{STAGE_GROUP}{}", stage.name())),
            stage.name()
        ));
    }
    s
}

/// Splits `combine`'s output into each stage's sections.
pub fn split(text: &str, stages: &[(Stage, Vec<String>)]) -> Vec<(Stage, Sections)> {
    let parts: BTreeMap<Stage, &str> = batch::split(text, STAGE_GROUP)
        .into_iter()
        .filter_map(|(name, body)| Some((Stage::parse(name)?, body)))
        .collect();
    stages
        .iter()
        .map(|(stage, _)| {
            (
                *stage,
                Sections::parse(parts.get(stage).copied().unwrap_or("")),
            )
        })
        .collect()
}

/// A stage's check script for each of `hosts` hosts (the nodes, then the witness when it is
/// connected): only the witness stage checks the witness; for the others it runs `true`.
fn host_scripts(env: &Env, stage: Stage, hosts: usize) -> Vec<String> {
    (0..hosts)
        .map(|i| {
            if i < env.cfg.nodes.len() || stage == Stage::Witness {
                stages::script(stage, env, i)
            } else {
                "true".to_string()
            }
        })
        .collect()
}

fn sorted(mut plan: StagePlan) -> StagePlan {
    plan.changes.sort_by_key(|c| c.phase);
    plan
}

impl<'a> Deploy<'a> {
    fn env(&self) -> Env<'_> {
        Env {
            cfg: self.cfg,
            bundle: &self.bundle,
            net: self.nets.clone(),
            ca_pem: self.ca_pem.clone(),
            now: self.now.clone(),
        }
    }

    fn fail(&mut self, stage: Stage, node: Option<usize>, step: &str, f: Failure) {
        let acted = self
            .report
            .stages
            .iter()
            .any(|s| s.changes.iter().any(|c| c.done == Some(true)));
        let node_name = node.map(|i| super::host(self.cfg, i).name.clone());
        self.report.outcome = if acted {
            Outcome::FailedPartway
        } else {
            Outcome::Failed
        };
        self.report.summary = format!(
            "failed in stage {}{}: {step}: {}",
            stage.name(),
            node_name
                .as_deref()
                .map(|n| format!(" on {n}"))
                .unwrap_or_default(),
            f.reason
        );
        // Stages run at the same time: the first that is not done may come before this one.
        let resume = self
            .opts
            .acting_stages()
            .into_iter()
            .find(|s| {
                *s == stage
                    || !self.report.stages.iter().any(|st| {
                        st.stage == *s
                            && st.changes.iter().all(|c| c.done == Some(true))
                            && matches!(st.state, StageState::Changed | StageState::Unchanged)
                    })
            })
            .unwrap_or(stage);
        self.report.hint = Some(if acted {
            format!(
                "fix the cause, then run `pairctl deploy` again: it resumes (stages that are done report unchanged), or start here with --from {}",
                resume.name()
            )
        } else {
            "fix the cause, then run `pairctl deploy` again; nothing was changed".to_string()
        });
        if let Some(st) = self.report.stage_mut(stage) {
            st.state = StageState::Failed;
        }
        self.report.failure = Some(FailureReport {
            stage,
            node: node_name,
            step: step.to_string(),
            command: f.command,
            reason: f.reason,
            stderr: f.stderr,
        });
    }

    fn refuse(&mut self, stage: Stage, p: Problem) {
        if let Some(st) = self.report.stage_mut(stage) {
            st.state = StageState::Refused;
        }
        self.report.outcome = Outcome::Refused;
        self.report.summary = format!(
            "refused: {}{}: {}; nothing was changed",
            stage.name(),
            p.node
                .map(|i| format!(" on {}", super::host(self.cfg, i).name))
                .unwrap_or_default(),
            p.message
        );
        self.report.hint = p.hint;
    }

    /// Connects nothing (the links are given), observes and plans. The report then holds the
    /// preflight and the plan; the outcome is Planned unless something refused.
    pub async fn prepare(
        cfg: &'a Config,
        links: &'a [NodeLink],
        opts: Options,
        deadline: Deadline,
        progress: &dyn Reporter,
    ) -> Deploy<'a> {
        let mut d = Deploy::new(cfg, links, opts, deadline);
        if d.take_sessions() {
            d.observe_and_plan(progress).await;
        }
        d.finish();
        d
    }

    /// A deploy that has observed nothing yet.
    fn new(cfg: &'a Config, links: &'a [NodeLink], opts: Options, deadline: Deadline) -> Self {
        let started = Instant::now();
        let report = DeployReport::new(cfg, opts.dry_run, &opts.stages);
        let ca_pem = cfg
            .ingress
            .ca_file
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok());
        Deploy {
            cfg,
            links,
            sessions: Vec::new(),
            bundle: Bundle::load(cfg.k3s.bundle_dir.as_deref()),
            ca_pem,
            nets: vec![None; cfg.nodes.len()],
            now: crate::plan::actions::now_rfc3339(),
            observed: BTreeMap::new(),
            plans: BTreeMap::new(),
            opts,
            deadline,
            started,
            early_status: None,
            report,
        }
    }

    /// Takes every link's session; a node that cannot be reached fails the first selected
    /// stage (the preflight's SSH check in a full run), and a host-key problem refuses.
    /// Whether every node is connected.
    fn take_sessions(&mut self) -> bool {
        let first = self
            .opts
            .stages
            .first()
            .copied()
            .unwrap_or(Stage::Preflight);
        let (cfg, links) = (self.cfg, self.links);
        for (i, link) in links.iter().enumerate() {
            match &link.session {
                Ok(s) => self.sessions.push(s.clone()),
                Err(e) => {
                    self.fail(
                        first,
                        Some(i),
                        "connect",
                        Failure {
                            command: format!(
                                "ssh {}@{} -p {}",
                                cfg.ssh.user, link.node.address, cfg.ssh.port
                            ),
                            reason: e.message.clone(),
                            stderr: String::new(),
                        },
                    );
                    if e.host_key() {
                        self.report.outcome = Outcome::Refused;
                        self.report.hint = e.hint.clone();
                    }
                    return false;
                }
            }
        }
        true
    }

    /// Local checks: what pairctl itself needs (the bundle, the database secret, the CA file).
    fn local_checks(&self) -> Vec<PreflightCheck> {
        let cfg = self.cfg;
        let mut local = Vec::new();
        local.push(if self.bundle.problems.is_empty() {
            PreflightCheck::new(
                "local",
                "bundle",
                true,
                format!(
                    "{} ({} files)",
                    self.bundle
                        .dir
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    self.bundle.files.len()
                ),
            )
        } else {
            PreflightCheck::new("local", "bundle", false, self.bundle.problems.join("; "))
        });
        local.push(match (&cfg.galera.password, &cfg.galera.password_source) {
            (Some(_), source) => PreflightCheck::new(
                "local",
                "db-secret",
                true,
                format!(
                    "monitoring user {} (password from {})",
                    cfg.galera.user,
                    source.as_deref().unwrap_or("the config")
                ),
            ),
            (None, _) => PreflightCheck::new(
                "local",
                "db-secret",
                false,
                "galera.password_file is not set: deploy creates the monitoring user with it",
            ),
        });
        if let Some(p) = &cfg.ingress.ca_file {
            if self.ca_pem.is_none() {
                local.push(PreflightCheck::new(
                    "local",
                    "ca-file",
                    false,
                    format!("cannot read ingress.ca_file {}", p.display()),
                ));
            }
        }
        local
    }

    /// Every check at once, the preflight's with the selected stages': one round of one
    /// remote script per node and stage (the checks do not depend on each other; the plans
    /// use the preflight's network facts). Then plans every selected stage and judges the
    /// whole: refused when the preflight failed, Planned otherwise.
    async fn observe_and_plan(&mut self, progress: &dyn Reporter) {
        let (cfg, links, deadline) = (self.cfg, self.links, self.deadline);
        let local = self.local_checks();
        progress.event(Event::Note("checking the nodes"));
        let selected: Vec<Stage> = self.opts.acting_stages();
        let all_scripts: Vec<(Stage, Vec<String>)> = {
            let env = self.env();
            std::iter::once(Stage::Preflight)
                .chain(selected.iter().copied())
                .map(|s| (s, host_scripts(&env, s, self.sessions.len())))
                .collect()
        };
        // The status round of a re-run that finds nothing to change: run it alongside the
        // checks (nothing changes in between), not after them.
        let early = self.opts.verify && !self.opts.dry_run && cfg.ingress.ca_file.is_some();
        let https = if early {
            HttpsClient::new(cfg).ok()
        } else {
            None
        };
        let sessions = self.sessions.clone();
        let node_links = &links[..links.len().min(cfg.nodes.len())];
        let status = async {
            match &https {
                Some(h) => {
                    let t = Instant::now();
                    let round = Deadline::after(deadline.cap(Duration::from_secs(8)));
                    Some(crate::round::report_with_witness(cfg, node_links, h, round, t).await)
                }
                None => None,
            }
        };
        // The status round only counts when nothing is to change: poll it while the checks
        // run, wait for the rest of it only then, and drop it otherwise (on bare nodes it
        // would wait for requests to a VIP nobody holds).
        let status = status.fuse();
        let observing = observe_many(&sessions, &all_scripts, deadline).fuse();
        futures::pin_mut!(status, observing);
        let mut early_status = None;
        let mut status_pending = true;
        let results = loop {
            futures::select! {
                r = observing => break r,
                s = status => {
                    early_status = s;
                    status_pending = false;
                }
            }
        };
        let results = match results {
            Ok(r) => r,
            Err((stage, i, f)) => {
                self.report.preflight = local;
                self.fail(stage, Some(i), "check the node", f);
                return;
            }
        };
        self.record_observed(results, local);
        if !self.plan_stages(&selected) {
            return;
        }
        if self.report.change_count() == 0 {
            self.early_status = if status_pending {
                status.await
            } else {
                early_status
            };
        }
        self.judge_plan();
    }

    /// Keeps what the checks saw: the preflight judged into the report (after the `local`
    /// checks) with the nodes' network facts, every other stage's sections for its plan.
    fn record_observed(
        &mut self,
        results: BTreeMap<Stage, Vec<(Sections, f64)>>,
        mut local: Vec<PreflightCheck>,
    ) {
        for (stage, mut seen) in results {
            if stage != Stage::Witness {
                // The witness ran no check of this stage (see host_scripts).
                seen.truncate(self.cfg.nodes.len());
            }
            if stage == Stage::Preflight {
                let sections: Vec<Sections> = seen.iter().map(|(s, _)| s.clone()).collect();
                let judged: Vec<preflight::Seen> = seen
                    .iter()
                    .zip(&sections)
                    .map(|((_, t), s)| preflight::Seen {
                        sections: s,
                        local_time: *t,
                    })
                    .collect();
                let (checks, nets) = preflight::judge(&self.env(), &judged);
                self.nets = nets;
                local.extend(checks);
                self.report.preflight = std::mem::take(&mut local);
            } else {
                self.observed
                    .insert(stage, seen.into_iter().map(|(s, _)| s).collect());
            }
        }
    }

    /// Plans every selected stage from what it observed. Whether none refused (a refusal is
    /// in the report).
    fn plan_stages(&mut self, selected: &[Stage]) -> bool {
        let cfg = self.cfg;
        for &stage in selected {
            match stages::plan(stage, &self.env(), &self.observed[&stage]) {
                Ok(plan) => {
                    let plan = sorted(plan);
                    if let Some(st) = self.report.stage_mut(stage) {
                        st.record_plan(cfg, &plan);
                        st.state = if plan.is_empty() {
                            StageState::Unchanged
                        } else {
                            StageState::Planned
                        };
                    }
                    self.plans.insert(stage, plan);
                }
                Err(p) => {
                    self.refuse(stage, p);
                    return false;
                }
            }
        }
        true
    }

    /// The planned deploy's outcome: refused when a preflight check failed, a dry run's
    /// summary of what it would change; otherwise it stays Planned.
    fn judge_plan(&mut self) {
        let failed: Vec<String> = self
            .report
            .preflight
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{} {}: {}", c.node, c.name, c.detail))
            .collect();
        let changes = self.report.change_count();
        let stages_changing = self.report.changed_stages();
        if !failed.is_empty() {
            self.report.outcome = Outcome::Refused;
            self.report.summary = format!(
                "refused: the preflight failed ({}); nothing was changed",
                failed.join("; ")
            );
            self.report.hint = Some("fix what the preflight names, then run deploy again".into());
        } else if self.opts.dry_run {
            self.report.outcome = Outcome::Planned;
            self.report.summary = if changes == 0 {
                "dry run: nothing to change".to_string()
            } else {
                format!(
                    "dry run: {changes} change{} in {stages_changing} stage{} would be made; nothing was changed",
                    if changes == 1 { "" } else { "s" },
                    if stages_changing == 1 { "" } else { "s" }
                )
            };
        }
    }

    fn finish(&mut self) {
        self.report.elapsed_ms = self.started.elapsed().as_millis() as u64;
    }

    /// Whether acting is possible (preflight passed, nothing refused or failed, not a dry
    /// run).
    pub fn can_act(&self) -> bool {
        !self.opts.dry_run
            && self.report.failure.is_none()
            && self.report.outcome == Outcome::Planned
    }

    /// The operator declined.
    pub fn decline(mut self) -> DeployReport {
        self.report.outcome = Outcome::Refused;
        self.report.summary = "not confirmed: nothing was changed".into();
        self.finish();
        self.report
    }

    /// Acts on the plan: every stage as soon as the stages it waits for (`Stage::after`) are
    /// done, those that do not depend on each other at the same time; then verifies. A stage
    /// that starts after one whose changes it reads (`Stage::observes_after`) changed
    /// something is observed again first. After a failure
    /// no stage starts; those running finish (a change is never cut off halfway).
    pub async fn execute(mut self, progress: &dyn Reporter) -> DeployReport {
        let selected: Vec<Stage> = self.opts.acting_stages();
        let runs = {
            let env = self.env();
            let work = StageWork {
                cfg: self.cfg,
                sessions: &self.sessions,
                env: &env,
                deadline: self.deadline,
                progress,
            };
            schedule(&selected, &self.plans, &work).await
        };
        let ran: Vec<Stage> = runs.iter().map(|r| r.stage).collect();
        let mut first_failure = None;
        for run in runs {
            let failure = self.record_run(run);
            if first_failure.is_none() {
                first_failure = failure;
            }
        }
        if let Some((stage, node, step, f)) = first_failure {
            // The stages a failure kept from starting say so (not what they had planned).
            for st in self.report.stages.iter_mut() {
                if selected.contains(&st.stage) && !ran.contains(&st.stage) {
                    st.state = StageState::NotRun;
                }
            }
            self.fail(stage, node, &step, f);
        } else {
            let changed = self.report.change_count();
            if self.opts.verify {
                self.verify(progress).await;
            } else {
                self.report.outcome = if changed == 0 {
                    Outcome::Unchanged
                } else {
                    Outcome::Deployed
                };
                self.report.summary = summary_of(changed, &self.report, None);
            }
        }
        self.finish();
        self.report
    }

    /// Puts what a stage did into the report: its plan when it was observed again, each
    /// change it attempted, its state and time. Its failure, if any: stage, node, step, why.
    fn record_run(&mut self, run: StageRun) -> Option<(Stage, Option<usize>, String, Failure)> {
        let cfg = self.cfg;
        let StageRun {
            stage,
            replanned,
            done,
            failure,
            took,
        } = run;
        if let Some(plan) = replanned {
            if let Some(st) = self.report.stage_mut(stage) {
                st.record_plan(cfg, &plan);
            }
            self.plans.insert(stage, plan);
        }
        let plan = self.plans.get(&stage).cloned().unwrap_or_default();
        if let Some(st) = self.report.stage_mut(stage) {
            for (index, r, took) in &done {
                if let Some(c) = st.changes.get_mut(*index) {
                    c.elapsed_ms = took.as_millis() as u64;
                    match r {
                        Ok(detail) => {
                            c.done = Some(true);
                            c.detail = detail.clone();
                        }
                        Err(f) => {
                            c.done = Some(false);
                            c.detail = f.reason.clone();
                        }
                    }
                }
            }
            st.elapsed_ms = took.as_millis() as u64;
            st.state = ended(failure.is_some(), &plan);
        }
        failure.map(|f| match f {
            StageFailure::Check(node, f) => (stage, Some(node), "check the node".to_string(), f),
            StageFailure::Plan(p) => {
                let reason = match &p.hint {
                    Some(h) => format!("{} (hint: {h})", p.message),
                    None => p.message.clone(),
                };
                let f = Failure {
                    command: "(planning)".into(),
                    reason,
                    stderr: String::new(),
                };
                (stage, p.node, "plan".to_string(), f)
            }
            StageFailure::Change(index, node, f) => {
                let step = plan
                    .changes
                    .get(index)
                    .map(|c| c.summary.clone())
                    .unwrap_or_default();
                (stage, Some(node), step, f)
            }
        })
    }

    /// The status machinery until it calls the cluster healthy, or the limit.
    async fn verify(&mut self, progress: &dyn Reporter) {
        let changed = self.report.change_count();
        if changed == 0 {
            if let Some(early) = self.early_status.take() {
                if early.verdict == crate::model::Verdict::Healthy {
                    self.report.outcome = Outcome::Unchanged;
                    self.report.summary = summary_of(0, &self.report, Some(&early));
                    self.report.status = Some(early);
                    return;
                }
            }
        }
        let mut cfg = self.cfg.clone();
        let mut temp_ca = None;
        if cfg.ingress.ca_file.is_none() {
            // The cluster CA lives on the first node: trust it for this check, and tell the
            // operator where it is.
            if let Ok(out) = self.sessions[0]
                .exec(
                    &format!("cat {}", super::templates::CA_CERT),
                    self.deadline.cap(Duration::from_secs(10)),
                )
                .await
            {
                if out.success() && !out.stdout.is_empty() {
                    let path = std::env::temp_dir()
                        .join(format!("pairctl-deploy-ca-{}.pem", std::process::id()));
                    if std::fs::write(&path, &out.stdout).is_ok() {
                        cfg.ingress.ca_file = Some(path.clone());
                        temp_ca = Some(path);
                    }
                    self.report.notes.push(format!(
                        "the ingress certificate is issued by the cluster CA {}:{}: copy it here and set ingress.ca_file, so that status trusts the ingress",
                        self.cfg.nodes[0].name,
                        super::templates::CA_CERT
                    ));
                }
            }
        }
        let https = match HttpsClient::new(&cfg) {
            Ok(h) => h,
            Err(e) => {
                self.report.outcome = Outcome::NotConverged;
                self.report.summary = format!("cannot check the ingress: {}", e.message);
                return;
            }
        };
        progress.event(Event::Note(
            "verifying: waiting for status to call the cluster healthy",
        ));
        let limit = Deadline::after(self.deadline.cap(VERIFY_LIMIT));
        let mut said = String::new();
        let last = loop {
            let round_started = Instant::now();
            let round = Deadline::after(limit.cap(Duration::from_secs(8)));
            let node_links = &self.links[..self.links.len().min(cfg.nodes.len())];
            let report =
                crate::round::report_with_witness(&cfg, node_links, &https, round, round_started)
                    .await;
            let healthy = report.verdict == crate::model::Verdict::Healthy;
            if !healthy {
                let failing: Vec<String> = report
                    .failing()
                    .map(|c| format!("{} {}", c.name, c.node))
                    .collect();
                let text = failing.join(", ");
                if text != said {
                    progress.event(Event::Note(&format!("not healthy yet: {text}")));
                    said = text;
                }
            }
            if healthy || limit.remaining() < Duration::from_millis(600) {
                break Some(report);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        if let Some(p) = temp_ca {
            let _ = std::fs::remove_file(p);
        }
        let healthy = last
            .as_ref()
            .map(|r| r.verdict == crate::model::Verdict::Healthy)
            .unwrap_or(false);
        self.report.outcome = match (healthy, changed) {
            (true, 0) => Outcome::Unchanged,
            (true, _) => Outcome::Deployed,
            (false, _) => Outcome::NotConverged,
        };
        self.report.summary = summary_of(changed, &self.report, last.as_ref());
        if !healthy {
            self.report.hint = Some(
                "see the failing checks above (pairctl status); re-running deploy repairs what it manages".into(),
            );
        }
        self.report.status = last;
    }
}

/// What a stage needs to act, shared by the stages that run at the same time.
struct StageWork<'w> {
    cfg: &'w Config,
    sessions: &'w [Arc<SshSession>],
    env: &'w Env<'w>,
    deadline: Deadline,
    progress: &'w dyn Reporter,
}

/// Why a stage stopped.
enum StageFailure {
    /// Its check failed on a node (it was observed again).
    Check(usize, Failure),
    /// What it saw again cannot be planned.
    Plan(Problem),
    /// A change failed: its index in the plan, the node.
    Change(usize, usize, Failure),
}

/// What one stage did.
struct StageRun {
    stage: Stage,
    /// The plan made from a new observation (a change came before the stage started).
    replanned: Option<StagePlan>,
    /// Each change attempted: index in the plan, result, time.
    done: Vec<(usize, Result<String, Failure>, Duration)>,
    failure: Option<StageFailure>,
    took: Duration,
}

/// Runs the `selected` stages, each as soon as the selected stages it waits for are done
/// (unchanged or changed); stops starting stages after a failure. What every stage that ran
/// did, in the order they finished.
async fn schedule(
    selected: &[Stage],
    plans: &BTreeMap<Stage, StagePlan>,
    work: &StageWork<'_>,
) -> Vec<StageRun> {
    use futures::stream::{FuturesUnordered, StreamExt};
    let mut waiting: Vec<Stage> = selected.to_vec();
    let mut finished: Vec<StageRun> = Vec::new();
    let mut running = FuturesUnordered::new();
    loop {
        let failed = finished.iter().any(|r| r.failure.is_some());
        if !failed {
            let is_done = |s: &Stage| finished.iter().any(|r| r.stage == *s);
            let ready: Vec<Stage> = waiting
                .iter()
                .copied()
                .filter(|s| {
                    s.after()
                        .iter()
                        .all(|d| !selected.contains(d) || is_done(d))
                })
                .collect();
            for stage in ready {
                waiting.retain(|s| *s != stage);
                // What the first check saw still holds unless a stage whose changes it reads
                // changed something since.
                let stale = finished
                    .iter()
                    .any(|r| !r.done.is_empty() && stage.observes_after().contains(&r.stage));
                let plan = if stale { None } else { plans.get(&stage) };
                running.push(run_stage(stage, plan, work));
            }
        }
        match running.next().await {
            Some(run) => finished.push(run),
            None => break,
        }
    }
    finished
}

/// One stage: observed again when `plan` is None, then its changes, phase by phase.
async fn run_stage(stage: Stage, plan: Option<&StagePlan>, work: &StageWork<'_>) -> StageRun {
    let started = Instant::now();
    let progress = work.progress;
    let mut run = StageRun {
        stage,
        replanned: None,
        done: Vec::new(),
        failure: None,
        took: Duration::ZERO,
    };
    let plan = match plan {
        Some(p) => p.clone(),
        None => match replan(stage, work).await {
            Ok(p) => {
                run.replanned = Some(p.clone());
                p
            }
            Err(f) => {
                run.failure = Some(f);
                run.took = started.elapsed();
                return run;
            }
        },
    };
    progress.event(Event::StageStarted {
        stage: stage.name(),
        changes: plan.changes.len(),
    });
    let (done, failure) = act(work, stage, &plan).await;
    run.done = done;
    run.failure = failure.map(|(index, node, f)| StageFailure::Change(index, node, f));
    run.took = started.elapsed();
    progress.event(Event::StageFinished {
        stage: stage.name(),
        state: ended(run.failure.is_some(), &plan).as_str(),
        took: run.took,
    });
    run
}

/// How a stage that ran ended: failed, or changed what its plan held (unchanged when empty).
fn ended(failed: bool, plan: &StagePlan) -> StageState {
    match (failed, plan.is_empty()) {
        (true, _) => StageState::Failed,
        (false, true) => StageState::Unchanged,
        (false, false) => StageState::Changed,
    }
}

/// A stage's check on its hosts again, and the plan from what it saw.
async fn replan(stage: Stage, work: &StageWork<'_>) -> Result<StagePlan, StageFailure> {
    let mut scripts = host_scripts(work.env, stage, work.sessions.len());
    if stage != Stage::Witness {
        scripts.truncate(work.cfg.nodes.len());
    }
    let seen = observe(work.sessions, scripts, work.deadline)
        .await
        .map_err(|(i, f)| StageFailure::Check(i, f))?;
    let seen: Vec<Sections> = seen.into_iter().map(|(s, _)| s).collect();
    stages::plan(stage, work.env, &seen)
        .map(sorted)
        .map_err(StageFailure::Plan)
}

/// What `act` did: each change attempted (index in the plan, result, time), and the first
/// failure (index, node, why).
type Acted = (
    Vec<(usize, Result<String, Failure>, Duration)>,
    Option<(usize, usize, Failure)>,
);

/// Executes one stage's plan, phase by phase; both nodes at once within a phase, each node's
/// changes in order. Stops after the phase in which a change failed. Each step's progress
/// names its stage (others may run at the same time).
async fn act(work: &StageWork<'_>, stage: Stage, plan: &StagePlan) -> Acted {
    let (sessions, cfg, deadline, progress) =
        (work.sessions, work.cfg, work.deadline, work.progress);
    let stage = Some(stage.name());
    let mut done = Vec::new();
    for phase in plan.phases() {
        let per_node: Vec<Vec<(usize, &Change)>> = (0..sessions.len())
            .map(|n| {
                plan.changes
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.phase == phase && c.node == n)
                    .collect()
            })
            .collect();
        let runs = per_node.into_iter().map(|changes| async move {
            let mut done = Vec::new();
            for (index, change) in changes {
                let node = &super::host(cfg, change.node).name;
                progress.event(Event::StepStarted {
                    stage,
                    node,
                    step: &change.summary,
                });
                let t = Instant::now();
                let r = exec::apply(sessions, change, deadline).await;
                progress.event(Event::StepFinished {
                    stage,
                    node,
                    step: &change.summary,
                    ok: r.is_ok(),
                    detail: match &r {
                        Ok(detail) => detail,
                        Err(f) => &f.reason,
                    },
                    took: t.elapsed(),
                });
                let failed = r.is_err();
                done.push((index, change.node, r, t.elapsed()));
                if failed {
                    break;
                }
            }
            done
        });
        let mut first_failure = None;
        for (index, node, r, took) in futures::future::join_all(runs).await.into_iter().flatten() {
            if let (Err(f), None) = (&r, &first_failure) {
                first_failure = Some((index, node, f.clone()));
            }
            done.push((index, r, took));
        }
        if first_failure.is_some() {
            return (done, first_failure);
        }
    }
    (done, None)
}

fn summary_of(
    changed: usize,
    r: &DeployReport,
    status: Option<&crate::model::ClusterReport>,
) -> String {
    let health = match status {
        Some(s) if s.verdict == crate::model::Verdict::Healthy => {
            format!(", cluster {} healthy", r.cluster)
        }
        Some(s) => format!(
            ", but the cluster is {} after {}: {}",
            s.verdict.as_str(),
            crate::format::human_duration(VERIFY_LIMIT),
            s.failing()
                .map(|c| format!("{} {}: {}", c.name, c.node, c.detail))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        None => String::new(),
    };
    let acting = r.stages_selected.iter().any(|s| *s != Stage::Preflight);
    if !acting {
        format!(
            "preflight: {} checks ok; nothing else was selected",
            r.preflight.len()
        )
    } else if changed == 0 {
        format!("every stage unchanged, nothing restarted{health}")
    } else {
        format!(
            "{changed} change{} in {} stage{}{health}",
            if changed == 1 { "" } else { "s" },
            r.changed_stages(),
            if r.changed_stages() == 1 { "" } else { "s" }
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::deploy::stages::tests::{cfg_with_password, env_for};

    #[test]
    fn combined_checks_run_at_once_and_split_back() {
        // Each part waits (bounded) for the other to have started: run one after the other,
        // the first would give up and say so.
        let d = tempfile::tempdir().unwrap();
        let d = d.path().display();
        let meet = |me: &str, other: &str, said: &str| {
            format!(
                "echo '@@pairctl:a'; touch {d}/{me}; i=0; until [ -e {d}/{other} ]; do i=$((i+1)); [ $i -gt 200 ] && break; sleep 0.05; done; \
if [ -e {d}/{other} ]; then echo {said}; else echo alone; fi"
            )
        };
        let stages = vec![
            (Stage::Galera, vec![meet("g", "r", "one")]),
            (
                Stage::Record,
                vec![format!("{}; cat <<'X'\nheredoc\nX", meet("r", "g", "two"))],
            ),
        ];
        let script = combine(&stages, 0);
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("bash -s <<'SCRIPT_END'\n{script}\nSCRIPT_END"))
            .output()
            .unwrap();
        let parts = split(&String::from_utf8_lossy(&out.stdout), &stages);
        assert_eq!(parts[0].0, Stage::Galera);
        assert_eq!(parts[0].1.get("a"), Ok("one\n"));
        assert_eq!(parts[1].1.get("a"), Ok("two\nheredoc\n"));
    }

    #[test]
    fn the_real_combined_check_is_valid_shell() {
        let cfg = cfg_with_password();
        let env = env_for(&cfg);
        let stages: Vec<(Stage, Vec<String>)> = Stage::ALL
            .iter()
            .map(|s| (*s, vec![crate::deploy::stages::script(*s, &env, 0)]))
            .collect();
        let out = std::process::Command::new("bash")
            .arg("-n")
            .arg("-c")
            .arg(combine(&stages, 0))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
