//! swap and failover on the lab. The VIP holder is read independently of pairctl (through
//! `lab.sh ssh`). Every test leaves n1 active again.

use super::{json, lab, lab_sh, rejoin_by_hand, restore_n1, vip_holders};
use std::time::{Duration, Instant};

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn dry_run_changes_nothing() {
    let lab = lab();
    for cmd in ["swap", "failover"] {
        let out = lab.pairctl(&[cmd, "--dry-run", "-o", "json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{cmd} --dry-run: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let doc = json(&out);
        assert_eq!(doc["outcome"], "planned");
        assert_eq!(doc["from"], "n1");
        assert_eq!(doc["to"], "n2");
        assert!(!doc["plan"].as_array().unwrap().is_empty());
        assert!(doc["steps"].as_array().unwrap().is_empty());
        assert_eq!(vip_holders(&lab), ["n1"], "{cmd} --dry-run moved the VIP");
    }
    assert_eq!(lab.pairctl(&["status", "-q"]).status.code(), Some(0));
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn without_a_tty_and_without_yes_it_refuses_at_once() {
    let lab = lab();
    let out = crate::common::pairctl()
        .args(["-c", &lab.config, "swap"])
        .write_stdin("y\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(vip_holders(&lab), ["n1"]);
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn swap_and_swap_back() {
    let lab = lab();
    let out = lab.pairctl(&["swap", "--yes", "-o", "json"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["outcome"], "verified");
    assert_eq!(doc["status"]["verdict"], "healthy");
    assert_eq!(doc["status"]["active"], "n2");
    assert!(doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["ok"] == true));
    assert_eq!(vip_holders(&lab), ["n2"]);
    let (code, status) = lab.status_json(&[]);
    assert_eq!(code, 0);
    assert_eq!(status["nodes"][1]["role"], "active");
    assert_eq!(status["last_change"]["kind"], "swap");
    assert_eq!(status["last_change"]["to"], "n2");

    let out = lab.pairctl(&["swap", "--yes"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(vip_holders(&lab), ["n1"]);
    let history = json(&lab.pairctl(&["history", "-o", "json"]));
    let changes = history["changes"].as_array().unwrap();
    assert!(changes.len() >= 2);
    assert_eq!(changes.last().unwrap()["to"], "n1");
    restore_n1(&lab);
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn swap_refused_when_the_standby_database_is_down() {
    let lab = lab();
    {
        let _f = lab.fault("n2", &["unit", "mariadb"]);
        let out = lab.pairctl(&["swap", "--yes", "-o", "json"]);
        assert_eq!(out.status.code(), Some(3));
        let doc = json(&out);
        assert_eq!(doc["outcome"], "refused");
        let galera = doc["preflight"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "standby-galera")
            .unwrap();
        assert_eq!(galera["ok"], false);
        assert!(doc["steps"].as_array().unwrap().is_empty());
        assert_eq!(vip_holders(&lab), ["n1"]);
    }
    restore_n1(&lab);
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn swap_refused_on_split_brain_even_with_force() {
    let lab = lab();
    {
        let _f = lab.fault("n2", &["vip"]);
        let out = lab.pairctl(&[
            "swap",
            "--yes",
            "--force",
            "single-vip-holder",
            "-o",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(3));
        let doc = json(&out);
        let vip = doc["preflight"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "single-vip-holder")
            .unwrap();
        assert_eq!(vip["ok"], false);
        assert_eq!(vip["forced"], false);
    }
    restore_n1(&lab);
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn failover_with_the_active_powered_off() {
    let lab = lab();
    let out = lab_sh(&["fault", "n1", "power"]);
    assert!(out.status.success());
    let out = lab.pairctl(&["failover", "--yes", "-o", "json"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["to"], "n2");
    assert_eq!(vip_holders(&lab), ["n2"]);
    let (code, status) = lab.status_json(&[]);
    assert_eq!(code, 1, "{status:#}");
    assert_eq!(status["verdict"], "degraded");
    assert_eq!(status["nodes"][1]["role"], "active");
    assert_eq!(status["nodes"][0]["status"], "down");
    for c in status["checks"].as_array().unwrap() {
        if c["name"].as_str().unwrap().starts_with("service:") {
            assert_eq!(c["result"], "ok", "{c}");
        }
    }
    // It comes back fenced (the quorum tests look at that): rejoin it by hand.
    assert!(lab_sh(&["heal", "n1", "power"]).status.success());
    rejoin_by_hand(&lab, "n1");
    restore_n1(&lab);
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn failover_with_the_active_reachable_never_shows_two_vip_holders() {
    let lab = lab();
    let mut child = crate::common::pairctl_process()
        .args(["-c", &lab.config, "failover", "--yes", "-q"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut samples = 0;
    let status = loop {
        let holders = vip_holders(&lab);
        samples += 1;
        assert!(
            holders.len() <= 1,
            "two VIP holders during failover: {holders:?}"
        );
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "failover did not finish"
        );
    };
    assert_eq!(status.code(), Some(0));
    assert!(samples > 3, "too few samples to mean anything: {samples}");
    assert_eq!(vip_holders(&lab), ["n2"]);
    rejoin_by_hand(&lab, "n1");
    restore_n1(&lab);
}
