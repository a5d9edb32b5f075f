//! Monitoring on the lab: `status -o prometheus` that `promtool check metrics` accepts, the
//! Nagios plugin line, (with a split brain) both telling the truth, and every JSON document
//! holding to its committed schema (checked by python3-jsonschema, not by our own code).

use super::{lab, Lab};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

/// `promtool check metrics` on `text`: its verdict and what it said.
fn promtool_check(text: &[u8]) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is not installed (Debian package prometheus)");
    child.stdin.take().unwrap().write_all(text).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn metric_line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines().find(|l| l.starts_with(prefix))
}

fn prometheus(lab: &Lab) -> (i32, String) {
    let out = lab.pairctl(&["status", "-o", "prometheus"]);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn prometheus_text_passes_promtool_and_nagios_line_parses() {
    let lab = lab();
    let (code, text) = prometheus(&lab);
    assert_eq!(code, 0, "{text}");
    let (ok, lint) = promtool_check(text.as_bytes());
    assert!(ok, "promtool check metrics: {lint}\n{text}");
    assert!(lint.trim().is_empty(), "promtool lint: {lint}");
    for line in [
        "pairctl_verdict{cluster=\"lab\"} 0",
        "pairctl_up{cluster=\"lab\"} 1",
        "pairctl_node_role{cluster=\"lab\",node=\"n1\",role=\"active\"} 1",
        "pairctl_vrrp_state{cluster=\"lab\",node=\"n1\"} 2",
        "pairctl_vrrp_state{cluster=\"lab\",node=\"n2\"} 1",
        "pairctl_galera_cluster_size{cluster=\"lab\",node=\"n2\"} 2",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
    }
    assert!(
        metric_line(
            &text,
            "pairctl_replica_age_seconds{cluster=\"lab\",node=\"n2\"}"
        )
        .is_some(),
        "{text}"
    );

    let out = lab.pairctl(&["status", "-o", "nagios"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("PAIRCTL OK - lab healthy"), "{first}");
    let perf = first.split_once(" | ").unwrap().1;
    assert!(perf.contains("'checks_failed'=0;;;0"), "{perf}");
    assert!(perf.contains("'n2 galera_cluster_size'=2;;;0"), "{perf}");
    assert_eq!(text.lines().count(), 1, "{text}");
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn split_brain_shows_in_prometheus_and_nagios() {
    let lab = lab();
    let _f = lab.fault("n2", &["vip"]);
    let mut last = String::new();
    let seen = crate::common::wait_until(Duration::from_secs(60), || {
        let (code, text) = prometheus(&lab);
        last = text;
        code == 2
            && last
                .lines()
                .any(|l| l == "pairctl_verdict{cluster=\"lab\"} 2")
    });
    assert!(seen, "no verdict 2 after the split brain:\n{last}");
    assert!(
        last.lines()
            .any(|l| l == "pairctl_check{cluster=\"lab\",check=\"vip\",node=\"cluster\"} 2"),
        "{last}"
    );
    let (ok, lint) = promtool_check(last.as_bytes());
    assert!(ok, "promtool check metrics: {lint}");

    let out = lab.pairctl(&["status", "-o", "nagios"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "{text}");
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("PAIRCTL CRITICAL - lab critical: vip: split brain"),
        "{first}"
    );
    assert!(
        text.lines()
            .skip(1)
            .any(|l| l.starts_with("vip cluster fail:")),
        "{text}"
    );
    // A critical report holds to its schema too.
    let doc = json_of(&lab, &["status"]);
    validate("pairctl.status-1.json", &doc).unwrap_or_else(|e| panic!("{e}\n{doc:#}"));
}

/// Validates `doc` against the committed schema `schema/<file>` with python3-jsonschema (an
/// implementation that is not ours); the error text when it does not hold.
fn validate(file: &str, doc: &serde_json::Value) -> Result<(), String> {
    let schema = crate::common::repo_root().join("schema").join(file);
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import json,sys,jsonschema; jsonschema.validate(json.load(sys.stdin), json.load(open(sys.argv[1])))",
        ])
        .arg(&schema)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is not installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(doc.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'jsonschema'"),
        "python3-jsonschema is not installed"
    );
    if out.status.success() {
        Ok(())
    } else {
        Err(stderr.lines().rev().take(3).collect::<Vec<_>>().join(" / "))
    }
}

fn json_of(lab: &Lab, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["-o", "json"];
    all.extend_from_slice(args);
    let out = lab.pairctl(&all);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?} -o json is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn json_output_validates_against_the_committed_schemas() {
    let lab = lab();
    let status = json_of(&lab, &["status"]);
    let documents = [
        ("pairctl.status-1.json", status.clone()),
        ("pairctl.history-1.json", json_of(&lab, &["history"])),
        (
            "pairctl.operation-1.json",
            json_of(&lab, &["swap", "--dry-run"]),
        ),
        (
            "pairctl.operation-1.json",
            json_of(&lab, &["failover", "--dry-run"]),
        ),
        (
            "pairctl.deploy-1.json",
            json_of(&lab, &["deploy", "--dry-run"]),
        ),
    ];
    for (file, doc) in &documents {
        validate(file, doc).unwrap_or_else(|e| panic!("{file}: {e}\n{doc:#}"));
    }
    // The snapshot summary, and the manifest inside the bundle.
    let dir = tempfile::tempdir().unwrap();
    let summary = json_of(&lab, &["snapshot", "-O", dir.path().to_str().unwrap()]);
    validate("pairctl.snapshot-summary-1.json", &summary).unwrap_or_else(|e| panic!("{e}"));
    let bundle = summary["archive"].as_str().unwrap();
    let inspected = json_of(&lab, &["snapshot", "inspect", bundle]);
    validate("pairctl.snapshot-manifest-1.json", &inspected["manifest"])
        .unwrap_or_else(|e| panic!("{e}"));

    // The schemas are not vacuous: a verdict outside the vocabulary, a wrong schema id and a
    // check without a result are refused.
    let mut bad = status.clone();
    bad["verdict"] = "fine".into();
    assert!(validate("pairctl.status-1.json", &bad).is_err());
    let mut bad = status.clone();
    bad["schema"] = "pairctl.status/2".into();
    assert!(validate("pairctl.status-1.json", &bad).is_err());
    let mut bad = status;
    bad["checks"][0].as_object_mut().unwrap().remove("result");
    assert!(validate("pairctl.status-1.json", &bad).is_err());
}
