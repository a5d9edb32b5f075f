//! `pairctl status` on the lab: healthy, and every fault kind → the right check, verdict and
//! exit code. The oracle for the fault itself is the lab (tests/lab/selftest.sh).

use super::{check, lab, status_until};
use std::time::Duration;

const SETTLE: Duration = Duration::from_secs(60);

fn failing(doc: &serde_json::Value) -> Vec<String> {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] != "ok")
        .map(|c| format!("{} {} {}", c["name"], c["node"], c["detail"]))
        .collect()
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn healthy_lab_table_and_json_agree() {
    let lab = lab();
    let (code, doc) = lab.status_json(&[]);
    assert_eq!(code, 0, "{:#?}", failing(&doc));
    assert_eq!(doc["verdict"], "healthy");
    assert_eq!(doc["nodes"][0]["name"], "n1");
    assert_eq!(doc["nodes"][0]["role"], "active");
    assert_eq!(doc["nodes"][1]["role"], "standby");
    for n in doc["nodes"].as_array().unwrap() {
        assert_eq!(n["status"], "up");
    }
    assert!(doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["result"] == "ok"));
    assert_eq!(doc["deployment"]["virtual_ip"], lab.vip.as_str());

    let out = lab.pairctl(&["status", "--color", "never"]);
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    for word in [
        "Node Name",
        "Virtual IP",
        "Time Elapsed",
        "Verdict: healthy",
        "active",
        "standby",
    ] {
        assert!(table.contains(word), "table lacks {word}:\n{table}");
    }
    for c in doc["checks"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        assert!(
            table.contains(name),
            "check {name} is in JSON but not in the table"
        );
    }
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn standby_database_stopped_is_degraded() {
    let lab = lab();
    let _f = lab.fault("n2", &["unit", "mariadb"]);
    let (code, doc) = status_until(&lab, SETTLE, |_, d| {
        check(d, "galera", "n2")["result"] == "fail"
    });
    assert_eq!(code, 1, "{:#?}", failing(&doc));
    assert_eq!(doc["verdict"], "degraded");
    assert_eq!(doc["nodes"][1]["status"], "degraded");
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn standby_glusterd_stopped_is_degraded() {
    let lab = lab();
    let _f = lab.fault("n2", &["unit", "glusterd"]);
    let (code, doc) = status_until(&lab, SETTLE, |_, d| {
        check(d, "gluster-peers", "n1")["result"] == "fail"
    });
    assert_eq!(code, 1, "{:#?}", failing(&doc));
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn standby_keepalived_stopped_is_degraded() {
    let lab = lab();
    let _f = lab.fault("n2", &["unit", "keepalived"]);
    let (code, doc) = status_until(&lab, SETTLE, |_, d| {
        check(d, "keepalived", "n2")["result"] == "fail"
    });
    assert_eq!(code, 1, "{:#?}", failing(&doc));
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn k3s_stopped_on_the_active_is_critical() {
    let lab = lab();
    let _f = lab.fault("n1", &["unit", "k3s"]);
    let (code, doc) = status_until(&lab, SETTLE, |_, d| {
        d["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "k3s" && c["node"] == "n1" && c["result"] == "fail")
    });
    assert_eq!(code, 2, "{:#?}", failing(&doc));
    assert_eq!(doc["verdict"], "critical");
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn ingress_stopped_is_critical() {
    let lab = lab();
    let _f = lab.fault("n1", &["unit", "nginx"]);
    let (code, doc) = status_until(&lab, SETTLE, |_, d| {
        check(d, "service:tenant", "cluster")["result"] == "fail"
    });
    assert_eq!(code, 2, "{:#?}", failing(&doc));
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn split_brain_is_critical() {
    let lab = lab();
    let _f = lab.fault("n2", &["vip"]);
    let (code, doc) = lab.status_json(&[]);
    assert_eq!(code, 2, "{:#?}", failing(&doc));
    let vip = check(&doc, "vip", "cluster");
    assert_eq!(vip["result"], "fail");
    assert!(
        vip["detail"].as_str().unwrap().contains("split brain"),
        "{vip}"
    );
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn service_not_ready_is_critical_through_ingress_and_kubernetes() {
    let lab = lab();
    let _f = lab.fault("n1", &["service", "tenant"]);
    let (code, doc) = lab.status_json(&[]);
    assert_eq!(code, 2, "{:#?}", failing(&doc));
    assert_eq!(
        check(&doc, "service:tenant", "cluster")["detail"],
        "HTTP 503 via VIP"
    );
    assert!(check(&doc, "workloads", "n1")["detail"]
        .as_str()
        .unwrap()
        .contains("tenant 0/1"));
    assert_eq!(check(&doc, "service:auth", "cluster")["result"], "ok");
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn frozen_sshd_costs_only_that_node() {
    let lab = lab();
    let _f = lab.fault("n2", &["sshd"]);
    let (code, doc) = lab.status_json(&["--timeout", "5s"]);
    assert_eq!(code, 1, "{:#?}", failing(&doc));
    let ssh = check(&doc, "ssh", "n2");
    assert_eq!(ssh["result"], "fail");
    assert!(
        ssh["detail"].as_str().unwrap().contains("timed out"),
        "{ssh}"
    );
    assert_eq!(doc["nodes"][1]["status"], "down");
    assert_eq!(doc["nodes"][0]["role"], "active");
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn slow_link_still_answers_within_the_deadline() {
    let lab = lab();
    let _f = lab.fault("n2", &["latency", "3000"]);
    let (code, doc) = lab.status_json(&["--timeout", "4s"]);
    assert_ne!(code, 0, "{:#?}", failing(&doc));
    assert!(
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["node"] == "n2" && c["detail"].as_str().unwrap().contains("timed out")),
        "{:#?}",
        failing(&doc)
    );
    assert_eq!(check(&doc, "ssh", "n1")["result"], "ok");
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn standby_powered_off_is_seen_down() {
    let lab = lab();
    let _f = lab.fault("n2", &["power"]);
    let (code, doc) = status_until(&lab, SETTLE, |_, d| d["nodes"][1]["status"] == "down");
    assert_ne!(code, 0, "{:#?}", failing(&doc));
    assert_eq!(check(&doc, "ssh", "n2")["result"], "fail");
    assert_eq!(doc["nodes"][0]["role"], "active");
    // No TCP answer from n2: its SQL connection is not tried (it would wait as long).
    let galera = check(&doc, "galera", "n2");
    assert_eq!(galera["result"], "fail");
    assert!(
        galera["detail"].as_str().unwrap().contains("not asked"),
        "{galera}"
    );
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn watch_redraws_on_the_same_connections() {
    use std::io::BufRead;
    let lab = lab();
    let mut child = crate::common::pairctl_process()
        .args(["-c", &lab.config, "status", "--watch", "1", "-o", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    for round in 0..3 {
        let line = lines.next().unwrap().unwrap();
        let doc: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("round {round}: {e}: {line}"));
        assert_eq!(doc["verdict"], "healthy", "round {round}");
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The lab's monitoring user must use TLS (REQUIRE SSL) and pairctl verifies the server's
/// certificate against `[galera] ca_file`: another CA fails the check, no CA (plain text)
/// is refused by the server.
#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn galera_is_queried_over_verified_tls_only() {
    let lab = lab();
    let (code, doc) = lab.status_json(&[]);
    assert_eq!(code, 0, "{:#?}", failing(&doc));
    let text = std::fs::read_to_string(&lab.config).unwrap();
    let ca = std::env::var("LAB_CA").unwrap();
    // The `ca_file` line of [galera], whatever follows it on the line.
    let galera_ca = text
        .split("\n[")
        .find(|section| section.starts_with("galera]"))
        .and_then(|section| {
            section
                .lines()
                .find(|l| l.starts_with(&format!("ca_file = \"{ca}\"")))
        })
        .map(|l| format!("{l}\n"))
        .unwrap_or_else(|| panic!("the lab config has no [galera] ca_file:\n{text}"));
    let dir = tempfile::tempdir().unwrap();
    let other_ca = dir.path().join("other-ca.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=not the lab CA",
        ])
        .arg("-keyout")
        .arg(dir.path().join("other-ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let without_ca = String::new();
    let with_other = format!("ca_file = \"{}\"\n", other_ca.display());
    for (name, replacement, expect) in [
        ("other-ca.toml", with_other, "certificate"),
        ("plain.toml", without_ca, "Access denied"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text.replace(&galera_ca, &replacement)).unwrap();
        let out = crate::common::pairctl()
            .args(["-c", path.to_str().unwrap(), "status", "-o", "json"])
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for node in ["n1", "n2"] {
            let c = check(&doc, "galera", node);
            assert_eq!(c["result"], "fail", "{name}: {c}");
            assert!(
                c["detail"].as_str().unwrap().contains(expect),
                "{name}: {c}"
            );
        }
        assert_ne!(out.status.code(), Some(0), "{name}");
    }
}
