//! SSH as operators have it, on the lab brought up with `--bastion`: the nodes accept
//! nothing from this machine, the operator's ~/.ssh/config (a copy of LAB_BASTION_SSH_CONFIG)
//! is all that names the bastion, and status, swap and snapshot work through it (SQL and
//! HTTPS riding the SSH connections). The test brings that lab up itself and puts the plain
//! lab back when it ends, also when it fails.

use super::{lab_failure, lab_sh, lock_lab};
use crate::common::{pairctl, wait_until};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

/// Puts the plain lab back (what every other lab test expects).
struct PlainLabAgain;

impl Drop for PlainLabAgain {
    fn drop(&mut self) {
        let out = lab_sh(&["up"]);
        if !out.status.success() {
            eprintln!("restoring the plain lab: {}", lab_failure(&["up"], &out));
        }
    }
}

/// `export NAME='value'` lines of `lab.sh env`.
fn lab_env(name: &str) -> Option<String> {
    let out = lab_sh(&["env"]);
    String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
        l.strip_prefix(&format!("export {name}='"))
            .and_then(|v| v.strip_suffix('\''))
            .map(str::to_string)
    })
}

/// pairctl with `home` as $HOME (its ~/.ssh/config is the only one read).
fn run(home: &Path, config: &str, args: &[&str]) -> std::process::Output {
    pairctl()
        .env("HOME", home)
        .args(["-c", config])
        .args(args)
        .output()
        .unwrap()
}

fn checks_ok(doc: &serde_json::Value, name: &str) -> usize {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"].as_str().unwrap_or("").starts_with(name) && c["result"] == "ok")
        .count()
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn status_swap_and_snapshot_through_a_bastion_named_only_in_ssh_config() {
    let _lock = lock_lab();
    let _restore = PlainLabAgain;
    let up = lab_sh(&["up", "--bastion"]);
    assert!(
        up.status.success(),
        "{}",
        lab_failure(&["up", "--bastion"], &up)
    );
    let config = lab_env("LAB_CONFIG").unwrap();
    let ssh_config =
        lab_env("LAB_BASTION_SSH_CONFIG").expect("lab env names the bastion's ssh_config");
    let n1: SocketAddr = format!("{}:22", lab_env("LAB_N1").unwrap())
        .parse()
        .unwrap();
    // The path is the bastion's or none: this machine does not reach the nodes.
    assert!(
        TcpStream::connect_timeout(&n1, Duration::from_secs(2)).is_err(),
        "with --bastion this machine still reaches {n1}"
    );
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".ssh")).unwrap();
    std::fs::copy(&ssh_config, home.path().join(".ssh/config")).unwrap();
    let status = |extra: &[&str]| {
        let mut args = vec!["status", "-o", "json"];
        args.extend_from_slice(extra);
        let out = run(home.path(), &config, &args);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not one JSON document ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (
            out.status.code(),
            doc,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let healthy = || status(&[]).0 == Some(0);
    assert!(
        wait_until(Duration::from_secs(60), healthy),
        "status through the bastion: {:#}",
        status(&[]).1["checks"]
    );
    let (_, doc, said) = status(&["-v"]);
    // SQL (both nodes' Galera) and HTTPS (every service through the VIP) went through SSH.
    assert_eq!(checks_ok(&doc, "galera"), 3, "{:#}", doc["checks"]);
    assert_eq!(checks_ok(&doc, "service:"), 9, "{:#}", doc["checks"]);
    assert_eq!(doc["active"], "n1");
    assert!(
        said.contains("n1: jump bastion (ssh_config ")
            && said.contains("jump host bastion: host ")
            && said.contains("n1: identity"),
        "-v says where each setting came from:\n{said}"
    );

    let out = run(home.path(), &config, &["swap", "--yes"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "swap through the bastion: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(status(&[]).1["active"], "n2");

    let dir = tempfile::tempdir().unwrap();
    let out = run(
        home.path(),
        &config,
        &["snapshot", "-O", dir.path().to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "snapshot through the bastion: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".tar.zst"))
        .expect("a bundle");
    let inspect = run(
        home.path(),
        &config,
        &["snapshot", "inspect", bundle.to_str().unwrap()],
    );
    assert_eq!(inspect.status.code(), Some(0));

    let out = run(home.path(), &config, &["swap", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "swap back through the bastion");
    assert_eq!(status(&[]).1["active"], "n1");
}
