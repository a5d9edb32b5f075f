//! Role-change output: the preflight and plan before acting, the steps with their timings and
//! the outcome after; the history of role changes.

use super::sanitize::{cell, terminal};
use super::status::new_table;
use super::Style;
use crate::plan::actions::HistoryRecord;
use crate::plan::{OperationReport, Outcome};
use colored::Colorize;

fn preflight_table(op: &OperationReport, style: &Style) -> String {
    let mut t = new_table(style);
    t.set_header(vec!["Precondition", "Result", "Detail"]);
    for p in &op.preflight {
        let result = match (p.ok, p.forced) {
            (true, _) => "ok".green().to_string(),
            (false, true) => "FORCED".yellow().bold().to_string(),
            (false, false) => "FAIL".red().bold().to_string(),
        };
        t.add_row(vec![cell(p.name), result, cell(&p.detail)]);
    }
    t.to_string()
}

/// The outcome in one line (stderr, after the result of an operation that did not verify).
pub fn summary(op: &OperationReport) -> String {
    format!("{}: {}", op.kind, op.summary)
}

/// Preflight and plan: what `--dry-run` prints and what is confirmed.
pub fn plan(op: &OperationReport, style: &Style) -> String {
    let mut s = format!(
        "{} on cluster {}: {} -> {}\n\n{}\n",
        op.kind,
        terminal(&op.cluster),
        terminal(op.from.as_deref().unwrap_or("?")),
        terminal(op.to.as_deref().unwrap_or("?")),
        preflight_table(op, style)
    );
    if !op.plan.is_empty() {
        let mut t = new_table(style);
        t.set_header(vec!["Step", "Node", "Action"]);
        for p in &op.plan {
            t.add_row(vec![p.step.to_string(), cell(&p.node), cell(&p.action)]);
        }
        s.push_str(&format!("\n{t}\n"));
    }
    s
}

pub fn result(op: &OperationReport, style: &Style) -> String {
    let mut s = String::new();
    if op.steps.is_empty() {
        s.push_str(&plan(op, style));
    } else {
        let mut t = new_table(style);
        t.set_header(vec!["Node", "Step", "Result", "Time", "Detail"]);
        for r in &op.steps {
            t.add_row(vec![
                cell(&r.node),
                cell(&r.action),
                if r.ok {
                    "ok".green().to_string()
                } else {
                    "FAIL".red().bold().to_string()
                },
                crate::format::human_duration(std::time::Duration::from_millis(r.elapsed_ms)),
                cell(&r.detail),
            ]);
        }
        s.push_str(&format!("{t}\n"));
    }
    let outcome = match op.outcome {
        Outcome::Verified => "verified".green().bold().to_string(),
        Outcome::Planned => "planned (dry run)".to_string(),
        Outcome::Refused => "refused".red().bold().to_string(),
        Outcome::Failed => "failed, put back".red().bold().to_string(),
        Outcome::NotConverged => "NOT CONVERGED".red().bold().to_string(),
    };
    s.push_str(&format!("\n{}: {outcome}", op.kind));
    if !op.summary.is_empty() {
        s.push_str(&format!(" — {}", terminal(&op.summary)));
    }
    if !op.dry_run && op.outcome != Outcome::Refused {
        s.push_str(&format!(
            "\n--- Time Elapsed: {:.2} seconds ---",
            op.elapsed_ms as f64 / 1000.0
        ));
    }
    s.push('\n');
    s
}

pub fn history(records: &[HistoryRecord], style: &Style) -> String {
    if records.is_empty() {
        return "no role changes recorded\n".to_string();
    }
    let mut t = new_table(style);
    let details = records.iter().any(|r| r.detail.is_some());
    let mut header = vec!["Time", "Kind", "From", "To", "Outcome", "Took", "By"];
    if details {
        header.push("Detail");
    }
    t.set_header(header);
    for r in records {
        let mut row = vec![
            cell(&r.time),
            cell(&r.kind),
            cell(r.from.as_deref().unwrap_or_default()),
            cell(r.to.as_deref().unwrap_or_default()),
            cell(&r.outcome),
            crate::format::human_duration(std::time::Duration::from_millis(r.duration_ms)),
            cell(&r.by),
        ];
        if details {
            row.push(cell(r.detail.as_deref().unwrap_or_default()));
        }
        t.add_row(row);
    }
    format!("{t}\n")
}
