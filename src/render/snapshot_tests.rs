//! Snapshots of what an operator reads (the status table and the JSON report), from the
//! model's fixtures, each with the exit code it ends in: a change of output shows in review.
#![allow(clippy::unwrap_used)]

use super::Style;
use crate::model::tests::{down, healthy, run};
use crate::model::ClusterReport;
use crate::render::Format;

fn style() -> Style {
    Style {
        format: Format::Table,
        color: false,
        width: 100,
        quiet: false,
        verbose: 0,
        stdout_tty: false,
        stderr_tty: false,
    }
}

fn table(report: &ClusterReport) -> String {
    format!(
        "exit: {}\n{}",
        report.verdict.exit_code(),
        super::status::table(report, &style())
    )
}

#[test]
fn status_table_healthy() {
    insta::assert_snapshot!(table(&run(&healthy())));
}

#[test]
fn status_table_degraded_standby_down() {
    let mut facts = healthy();
    down(&mut facts, 1);
    insta::assert_snapshot!(table(&run(&facts)));
}

#[test]
fn status_table_split_brain() {
    let mut facts = healthy();
    facts.nodes[1].basics.as_mut().unwrap().holds_vip = true;
    insta::assert_snapshot!(table(&run(&facts)));
}

#[test]
fn status_json_report() {
    let report = run(&healthy());
    let text = super::json(&report);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["schema"], "pairctl.status/1");
    assert_eq!(v["verdict"], "healthy");
    assert_eq!(v["nodes"][0]["role"], "active");
    assert_eq!(v["nodes"][1]["status"], "up");
    assert_eq!(v["checks"].as_array().unwrap().len(), report.checks.len());
    insta::assert_snapshot!(format!("exit: {}\n{text}", report.verdict.exit_code()));
}

#[test]
fn status_json_report_degraded() {
    let mut facts = healthy();
    down(&mut facts, 1);
    let report = run(&facts);
    insta::assert_snapshot!(format!(
        "exit: {}\n{}",
        report.verdict.exit_code(),
        super::json(&report)
    ));
}
