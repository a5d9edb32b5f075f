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
        // The standby is held in FAULT by its role (the quorum model).
        "pairctl_vrrp_state{cluster=\"lab\",node=\"n2\"} 3",
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

/// A GET over plain HTTP/1.0 on loopback (the exporter and Prometheus): status and body.
fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A process killed (and reaped) when dropped, also when the test fails.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `pairctl exporter --listen 127.0.0.1:0`; returns it and the address it serves on
/// (from its first line on stderr).
fn start_exporter(configs: &[&str]) -> (Running, String) {
    use std::io::BufRead;
    let mut cmd = crate::common::pairctl_process();
    for c in configs {
        cmd.args(["-c", c]);
    }
    let mut child = cmd
        .args(["exporter", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("the exporter did not say where it listens: {line:?}"))
        .to_string();
    // Keep reading stderr so that the exporter never blocks on a full pipe.
    std::thread::spawn(move || for _ in stderr.lines() {});
    (Running(child), addr)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

fn free_loopback_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn prometheus_scrapes_the_exporter_and_sees_the_split_brain() {
    let lab = lab();
    let (exporter, addr) = start_exporter(&[&lab.config]);
    let dir = tempfile::tempdir().unwrap();
    let web = format!("127.0.0.1:{}", free_loopback_port());
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global: {{scrape_interval: 2s, scrape_timeout: 1900ms}}\n\
             scrape_configs: [{{job_name: pairctl, static_configs: [{{targets: ['{addr}']}}]}}]\n"
        ),
    )
    .unwrap();
    let _prometheus = Running(
        Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus is not installed (Debian package prometheus)"),
    );
    let query = |q: &str| -> Option<String> {
        let (status, body) = http_get(&web, &format!("/api/v1/query?query={}", url_encode(q)))?;
        let doc: serde_json::Value = serde_json::from_str(&body).ok()?;
        (status == 200).then(|| {
            doc["data"]["result"][0]["value"][1]
                .as_str()
                .map(String::from)
        })?
    };
    let verdict = "pairctl_verdict{cluster=\"lab\",job=\"pairctl\"}";
    let mut last = None;
    let saw = |want: &str, last: &mut Option<String>| {
        crate::common::wait_until(Duration::from_secs(60), || {
            *last = query(verdict);
            last.as_deref() == Some(want)
        })
    };
    assert!(
        saw("0", &mut last),
        "Prometheus never saw verdict 0: {last:?}"
    );
    assert_eq!(query("up{job=\"pairctl\"}").as_deref(), Some("1"));
    {
        let _f = lab.fault("n2", &["vip"]);
        assert!(
            saw("2", &mut last),
            "Prometheus never saw the split brain: {last:?}"
        );
        assert_eq!(
            query("pairctl_check{cluster=\"lab\",check=\"vip\"}").as_deref(),
            Some("2")
        );
    }
    // Healed (the guard waited for health): the next scrapes say so.
    assert!(
        saw("0", &mut last),
        "Prometheus never saw the heal: {last:?}"
    );
    drop(exporter);
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn exporter_serves_many_clusters_shares_rounds_keeps_memory_flat_and_stops_on_sigterm() {
    let lab = lab();
    // A second cluster: the same nodes under another name, from a directory of configs.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&lab.config).unwrap();
    std::fs::write(dir.path().join("a.toml"), &text).unwrap();
    std::fs::write(
        dir.path().join("b.toml"),
        text.replacen("name = \"lab\"", "name = \"lab-b\"", 1),
    )
    .unwrap();
    std::fs::write(dir.path().join("ignored.txt"), "not a config").unwrap();
    let (mut exporter, addr) = start_exporter(&[dir.path().to_str().unwrap()]);

    let (status, both) = http_get(&addr, "/metrics").unwrap();
    assert_eq!(status, 200, "{both}");
    let (ok, lint) = promtool_check(both.as_bytes());
    assert!(ok && lint.trim().is_empty(), "promtool: {lint}\n{both}");
    for c in ["lab", "lab-b"] {
        let line = format!("pairctl_verdict{{cluster=\"{c}\"}} 0");
        assert!(both.lines().any(|l| l == line), "no {line}:\n{both}");
    }
    let (_, one) = http_get(&addr, "/metrics?cluster=lab-b").unwrap();
    assert!(
        one.contains("pairctl_verdict{cluster=\"lab-b\"} 0"),
        "{one}"
    );
    assert!(!one.contains("cluster=\"lab\""), "{one}");
    assert_eq!(http_get(&addr, "/metrics?cluster=nope").unwrap().0, 404);
    assert_eq!(http_get(&addr, "/nothing").unwrap().0, 404);

    // Concurrent scrapes share the round in flight: eight at once, fewer rounds than scrapes.
    let rounds = |text: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix("pairctl_scrape_rounds_total{cluster=\"lab\"} "))
            .unwrap()
            .parse()
            .unwrap()
    };
    let before = rounds(&http_get(&addr, "/metrics?cluster=lab").unwrap().1);
    let answers: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| http_get(&addr, "/metrics?cluster=lab").unwrap().1))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let after = answers.iter().map(|a| rounds(a)).max().unwrap();
    assert!(
        after - before < 8,
        "8 concurrent scrapes ran {} rounds",
        after - before
    );
    assert!(answers
        .iter()
        .any(|a| a.contains("pairctl_scrape_shared{cluster=\"lab\"} 1")));

    // Memory: steady after a warm-up, flat over 200 more scrapes (4 at a time).
    let pid = exporter.0.id();
    let scrape_many = |n: usize| {
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..n / 4 {
                        let (status, body) = http_get(&addr, "/metrics").unwrap();
                        assert_eq!(status, 200, "{body}");
                    }
                });
            }
        })
    };
    scrape_many(40);
    let warm = rss_kib(pid);
    scrape_many(200);
    let end = rss_kib(pid);
    eprintln!("exporter RSS: {warm} KiB after 40 scrapes, {end} KiB after 200 more");
    assert!(
        end <= warm + warm / 10 + 1024,
        "the exporter's memory grew from {warm} KiB to {end} KiB over 200 scrapes"
    );

    // SIGTERM: a clean stop, exit 0.
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut code = None;
    let stopped = crate::common::wait_until(Duration::from_secs(15), || {
        code = exporter.0.try_wait().unwrap().map(|s| s.code());
        code.is_some()
    });
    assert!(stopped, "the exporter did not stop on SIGTERM");
    assert_eq!(code, Some(Some(0)));
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "still listening"
    );
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn textfile_mode_writes_a_whole_file_promtool_accepts() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let out = lab.pairctl(&[
        "exporter",
        "--textfile",
        dir.path().to_str().unwrap(),
        "--once",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["pairctl.prom"], "no temporary file is left");
    let text = std::fs::read(dir.path().join("pairctl.prom")).unwrap();
    let (ok, lint) = promtool_check(&text);
    assert!(ok && lint.trim().is_empty(), "promtool: {lint}");
    assert!(String::from_utf8_lossy(&text).contains("pairctl_verdict{cluster=\"lab\"} 0"));
}
