//! The command line as an operator meets it: help, usage errors, config errors, exit codes,
//! and a pair that cannot be reached (the command still answers, in time, with one document).
#![allow(clippy::unwrap_used)]

use crate::common::{pairctl, write};
use std::os::unix::fs::PermissionsExt;

fn config(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    // 127.0.0.2/3 on ports nobody listens on: every probe is refused at once.
    let path = dir.join("pairctl.toml");
    write(&dir.join("known_hosts"), "");
    write(
        &path,
        &format!(
            r#"name = "unreachable"
vip = "127.0.0.4"
[[node]]
name = "a"
address = "127.0.0.2"
[[node]]
name = "b"
address = "127.0.0.3"
[ssh]
port = 1
known_hosts = "known_hosts"
[galera]
port = 1
[gluster]
volumes = ["shared"]
[k3s]
services = ["auth", "tenant"]
[ingress]
url = "https://127.0.0.4:1"
{extra}"#
        ),
    );
    path
}

#[test]
fn help_lists_commands_and_exit_codes() {
    let out = pairctl()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for word in [
        "status",
        "failover",
        "swap",
        "snapshot",
        "deploy",
        "completions",
        "Exit codes",
        "78",
    ] {
        assert!(text.contains(word), "help lacks {word}");
    }
}

#[test]
fn unknown_flag_is_a_usage_error() {
    pairctl().args(["status", "--bogus"]).assert().code(64);
}

#[test]
fn missing_config_is_a_config_error_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let out = pairctl()
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .arg("status")
        .assert()
        .code(78)
        .get_output()
        .stderr
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("no configuration file found"), "{text}");
    assert!(text.contains("Hint:"), "{text}");
}

#[test]
fn bad_key_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "[galera.tls]\nca = 1\n");
    let out = pairctl()
        .arg("-c")
        .arg(&path)
        .arg("status")
        .assert()
        .code(78)
        .get_output()
        .stderr
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(&format!("{}:", path.display())), "{text}");
    assert!(
        text.contains(":20:") && text.contains("[galera.tls]"),
        "{text}"
    );
}

#[test]
fn loose_password_file_is_refused_without_printing_it() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    write(&pw, "sekrit-value\n");
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o640)).unwrap();
    let path = config(dir.path(), "").to_string_lossy().to_string();
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "[galera]\nport = 1",
        "[galera]\nport = 1\npassword_file = \"pw\"",
    );
    write(std::path::Path::new(&path), &text);
    let out = pairctl()
        .args(["-c", &path, "status"])
        .assert()
        .code(78)
        .get_output()
        .stderr
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("galera.password_file") && text.contains("chmod 600"),
        "{text}"
    );
    assert!(!text.contains("sekrit-value"));
}

#[test]
fn deploy_to_an_unreachable_pair_fails_naming_stage_and_node() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "");
    let out = pairctl()
        .arg("-c")
        .arg(&path)
        .args(["deploy", "--yes"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("failed in stage preflight on a: connect"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    pairctl()
        .arg("-c")
        .arg(&path)
        .args(["deploy", "--only", "nosuch"])
        .assert()
        .code(64);
}

#[test]
fn unreachable_pair_still_answers_with_one_json_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "");
    let out = pairctl()
        .arg("-c")
        .arg(&path)
        .args(["status", "-o", "json", "--timeout", "5s"])
        .output()
        .unwrap();
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["schema"], "pairctl.status/1");
    assert_eq!(doc["nodes"][0]["status"], "down");
    assert_eq!(doc["nodes"][1]["status"], "down");
    assert_ne!(doc["verdict"], "healthy");
    let code = out.status.code().unwrap();
    assert!(code == 2 || code == 3, "exit {code}");
    let ssh = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ssh")
        .unwrap();
    assert_eq!(ssh["result"], "fail");
    assert!(
        ssh["detail"].as_str().unwrap().contains("127.0.0.2"),
        "{ssh}"
    );
}

#[test]
fn table_fits_80_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "");
    let out = pairctl()
        .arg("-c")
        .arg(&path)
        .args(["status", "--timeout", "5s"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Node Name") && text.contains("Time Elapsed"),
        "{text}"
    );
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "line longer than 80 columns: {line}"
        );
    }
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = pairctl()
            .args(["completions", shell])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        assert!(String::from_utf8(out).unwrap().contains("pairctl"));
    }
}

#[test]
fn monitoring_formats_and_several_configs_are_refused_where_they_mean_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let cfg = cfg.to_str().unwrap();
    for args in [
        vec!["-c", cfg, "-o", "nagios", "history"],
        vec!["-c", cfg, "-o", "prometheus", "swap", "--dry-run"],
        vec!["-c", cfg, "-c", cfg, "status"],
        vec!["-c", cfg, "exporter"],
        vec![
            "-c",
            cfg,
            "exporter",
            "--listen",
            "127.0.0.1:0",
            "--textfile",
            "/tmp",
        ],
    ] {
        pairctl().args(&args).assert().code(64);
    }
    // Two files naming one cluster: `?cluster=NAME` could not choose.
    let out = pairctl()
        .args([
            "-c",
            cfg,
            "-c",
            cfg,
            "exporter",
            "--textfile",
            "/tmp",
            "--once",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("two configurations name the cluster"));
}

#[test]
fn unreachable_pair_in_the_monitoring_formats() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let out = pairctl()
        .args([
            "-c",
            cfg.to_str().unwrap(),
            "--timeout",
            "3s",
            "status",
            "-o",
            "nagios",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // Nothing answers, the services through the VIP included: critical, as the table says.
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.starts_with("PAIRCTL CRITICAL - unreachable critical: "),
        "{text}"
    );
    assert!(text.contains("\nssh a fail: "), "{text}");
    let out = pairctl()
        .args([
            "-c",
            cfg.to_str().unwrap(),
            "--timeout",
            "3s",
            "status",
            "-o",
            "prometheus",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("pairctl_up{cluster=\"unreachable\"} 0\n"),
        "{text}"
    );
    assert!(
        text.contains("pairctl_verdict{cluster=\"unreachable\"} 2\n"),
        "{text}"
    );
}

#[test]
fn watch_ends_on_ctrl_c_even_in_the_middle_of_a_round() {
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;
    // Nodes that accept TCP and never send an SSH banner: every round lasts its connect
    // deadline, and each round's connection attempt shows on the listeners.
    let a = TcpListener::bind("127.0.0.2:0").unwrap();
    let port = a.local_addr().unwrap().port();
    let b = TcpListener::bind(("127.0.0.3", port)).unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    for l in [a, b] {
        let accepted = accepted.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in l.incoming().flatten() {
                held.push(s);
                accepted.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "[ssh]\nport = 1",
        &format!("[ssh]\nport = {port}\nconnect_timeout = \"8s\""),
    );
    write(&path, &text);
    let mut child = crate::common::pairctl_process()
        .arg("-c")
        .arg(&path)
        .args(["status", "--watch", "0.1", "-o", "json", "--timeout", "60s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The first round connects twice, each attempt waits its 8 s deadline; the document
    // comes after it. Then the second round is under way once both nodes see a new attempt.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("pairctl.status/1"), "{first}");
    assert!(
        crate::common::wait_until(Duration::from_secs(20), || accepted.load(Ordering::SeqCst)
            >= 4),
        "no second round"
    );
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    // The round in flight would last up to 8 s more: Ctrl-C ends the watch now.
    let ended = crate::common::wait_until(Duration::from_secs(5), || {
        child.try_wait().unwrap().is_some()
    });
    if !ended {
        let _ = child.kill();
    }
    assert!(
        ended,
        "status --watch ignored Ctrl-C during a refresh round"
    );
}
