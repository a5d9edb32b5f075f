//! `pairctl maintenance on|off` output: what was recorded or ended on which node, the
//! warnings, one outcome line.

use super::sanitize::{cell, terminal};
use super::status::new_table;
use super::Style;
use crate::maintenance::{MaintenanceReport, Outcome};
use colored::Colorize;

pub fn result(r: &MaintenanceReport, style: &Style) -> String {
    let mut s = String::new();
    if !r.nodes.is_empty() {
        let mut t = new_table(style);
        t.set_header(vec!["Node", "Result", "Detail"]);
        for n in &r.nodes {
            let result = match n.result {
                "recorded" | "ended" => n.result.green().to_string(),
                "failed" | "unreachable" => n.result.red().bold().to_string(),
                other => other.to_string(),
            };
            t.add_row(vec![cell(&n.name), result, cell(&n.detail)]);
        }
        s.push_str(&format!("{t}\n"));
    }
    for w in &r.warnings {
        s.push_str(&format!("{} {}\n", "warning:".yellow().bold(), terminal(w)));
    }
    let outcome = match r.outcome {
        Outcome::Done => "done".green().bold().to_string(),
        Outcome::Planned => "planned (dry run)".to_string(),
        Outcome::Refused => "refused".red().bold().to_string(),
        Outcome::Partial => "PARTIAL".red().bold().to_string(),
        Outcome::Failed => "failed".red().bold().to_string(),
    };
    s.push_str(&format!(
        "maintenance {}: {outcome} — {}\n",
        r.action,
        terminal(&r.summary)
    ));
    s
}
