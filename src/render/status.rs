//! The status report as the `show efa status` layout (version block, node table, elapsed
//! time) followed by the checks table; or as one JSON document.

use super::sanitize::cell;
use super::Style;
use crate::model::{CheckResult, ClusterReport, NodeStatus, Role, Verdict};
use colored::Colorize;
use comfy_table::{presets, ContentArrangement, Table};

pub fn table(report: &ClusterReport, style: &Style) -> String {
    let mut s = String::new();
    let rule = "=".repeat(51);
    s.push_str(&format!("{rule}\n{:^51}\n{rule}\n", "EFA version details"));
    let d = report.deployment.clone().unwrap_or_default();
    let or_unknown = |v: &str| {
        if v.is_empty() {
            "unknown".to_string()
        } else {
            v.to_string()
        }
    };
    let node_ips = if d.node_ips.is_empty() {
        report
            .nodes
            .iter()
            .map(|n| n.ip.clone())
            .collect::<Vec<_>>()
            .join(",")
    } else {
        d.node_ips.join(",")
    };
    let vip = if d.virtual_ip.is_empty() {
        report.vip.clone()
    } else {
        d.virtual_ip.clone()
    };
    for (k, v) in [
        ("Version", or_unknown(&d.version)),
        ("Build", or_unknown(&d.build)),
        ("Time Stamp", or_unknown(&d.time_stamp)),
        ("Mode", or_unknown(&d.mode)),
        ("Deployment Type", or_unknown(&d.deployment_type)),
        ("Deployment Platform", or_unknown(&d.deployment_platform)),
        ("Deployment Suite", or_unknown(&d.deployment_suite)),
        ("Virtual IP", vip),
        ("Node IPs", node_ips),
    ] {
        s.push_str(&format!("{k}: {}\n", cell(&v)));
    }
    if report.deployment.is_none() {
        s.push_str("(no deployment record on the nodes)\n");
    }
    if let Some(m) = &report.maintenance {
        s.push_str(&format!("Maintenance: {}\n", cell(&m.describe())));
    }
    s.push('\n');

    let mut nodes = new_table(style);
    nodes.set_header(vec!["Node Name", "Role", "Status", "IP"]);
    for n in &report.nodes {
        nodes.add_row(vec![
            cell(&n.name),
            paint_role(n.role),
            paint_node_status(n.status),
            cell(&n.ip),
        ]);
    }
    s.push_str(&nodes.to_string());
    s.push_str("\n\n");

    let mut checks = new_table(style);
    checks.set_header(vec!["Check", "Node", "Result", "Detail"]);
    for c in &report.checks {
        checks.add_row(vec![
            cell(&c.name.to_string()),
            cell(&c.node),
            paint_result(c.result),
            cell(&c.detail),
        ]);
    }
    s.push_str(&checks.to_string());
    s.push('\n');
    if let Some(change) = &report.last_change {
        let get = |k: &str| {
            change
                .get(k)
                .and_then(|v| v.as_str())
                .map(cell)
                .unwrap_or_else(|| "?".to_string())
        };
        s.push_str(&format!(
            "Last role change: {} {} {} -> {} ({})\n",
            get("time"),
            get("kind"),
            get("from"),
            get("to"),
            get("outcome")
        ));
    }
    s.push_str(&format!("Verdict: {}\n", paint_verdict(report.verdict)));
    s.push_str(&format!(
        "--- Time Elapsed: {:.2} seconds ---\n",
        report.elapsed_ms as f64 / 1000.0
    ));
    s
}

pub fn new_table(style: &Style) -> Table {
    let mut t = Table::new();
    t.load_style(presets::ASCII_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width);
    if !style.color {
        t.force_no_tty();
    }
    t
}

fn paint_role(r: Role) -> String {
    match r {
        Role::Active => "active".green().bold().to_string(),
        Role::Standby => "standby".to_string(),
        Role::Fenced => "fenced".red().bold().to_string(),
        Role::Witness => "witness".to_string(),
        Role::Unknown => "unknown".yellow().to_string(),
    }
}

fn paint_node_status(s: NodeStatus) -> String {
    match s {
        NodeStatus::Up => "up".green().to_string(),
        NodeStatus::Degraded => "degraded".yellow().to_string(),
        NodeStatus::Down => "down".red().bold().to_string(),
    }
}

fn paint_result(r: CheckResult) -> String {
    match r {
        CheckResult::Ok => "ok".green().to_string(),
        CheckResult::Warn => "warn".yellow().to_string(),
        CheckResult::Fail => "FAIL".red().bold().to_string(),
    }
}

pub fn paint_verdict(v: Verdict) -> String {
    match v {
        Verdict::Healthy => v.as_str().green().bold().to_string(),
        Verdict::Degraded => v.as_str().yellow().bold().to_string(),
        Verdict::Critical | Verdict::Unknown => v.as_str().red().bold().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Check, CheckResult, ClusterReport, Verdict};
    use crate::render::{ColorMode, Format};

    #[test]
    fn node_text_in_any_field_reaches_the_table_inert() {
        let hostile = "MASTER\x1b]2;owned\x07\x1b[8m\u{9b}2J";
        let deployment = crate::probe::node::Deployment {
            version: hostile.into(),
            ..Default::default()
        };
        let report = ClusterReport {
            schema: "pairctl.status/1",
            cluster: "lab".into(),
            verdict: Verdict::Degraded,
            vip: "10.0.0.10".into(),
            active: None,
            nodes: Vec::new(),
            checks: vec![Check {
                name: crate::model::CheckId::Keepalived.into(),
                node: "n1".into(),
                result: CheckResult::Warn,
                detail: format!("{hostile}{}", "A".repeat(100_000)),
                impact: None,
                values: Default::default(),
            }],
            deployment: Some(deployment),
            last_change: Some(serde_json::json!({ "kind": hostile })),
            maintenance: Some(crate::maintenance::Maintenance::new(
                None,
                hostile.into(),
                hostile.into(),
                0,
                std::time::Duration::from_secs(60),
            )),
            last_change_timestamp: None,
            elapsed_ms: 1,
        };
        let style = Style::new(Format::Table, ColorMode::Never, false, 0);
        let text = table(&report, &style);
        assert!(!text.contains('\x1b') && !text.contains('\u{9b}'), "{text}");
        assert!(text.contains("\\x1b]2;owned"), "{text}");
        assert!(
            text.len() < 20_000,
            "a long detail is cut: {} bytes",
            text.len()
        );
    }
}
