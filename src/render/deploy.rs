//! Deploy output: the plan per stage and node (what `--dry-run` prints and what is
//! confirmed), and after a run each stage's outcome, the failure with its command and stderr,
//! the verification and the time.

use crate::deploy::report::{DeployReport, Outcome, StageState};
use crate::deploy::stages::preflight::PreflightCheck;
use crate::format::human_duration;
use std::time::Duration;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The plan: per stage, per node, what would change (what `--dry-run` prints and what is
/// confirmed).
pub fn plan(r: &DeployReport, verbose: bool) -> String {
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
    s.push_str(&preflight(&r.preflight, verbose));
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

fn preflight(checks: &[PreflightCheck], verbose: bool) -> String {
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
pub fn result(r: &DeployReport, verbose: bool) -> String {
    if r.dry_run || (r.outcome == Outcome::Refused && r.failure.is_none()) {
        let mut s = plan(r, verbose);
        s.push('\n');
        s.push_str(&format!("deploy: {}\n", r.summary));
        return s;
    }
    let mut s = preflight(&r.preflight, verbose);
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
            human_duration(Duration::from_millis(st.elapsed_ms))
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
    use crate::deploy::report::tests::sample;
    use crate::deploy::report::FailureReport;
    use crate::deploy::Stage;

    #[test]
    fn dry_run_text_lists_changes_per_stage_and_node() {
        let text = result(&sample(), false);
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
        let text = result(&r, false);
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
}
