//! deploy on the lab, from bare nodes (`lab.sh up --bare`: OS, packages, sshd, the root key):
//! deploy → status healthy; a re-run changes and restarts nothing; a dry run on a deployed
//! cluster shows nothing; a changed service list and a changed VIP show exactly their changes
//! and are applied; a node whose sshd is frozen fails the stage naming stage and node, and a
//! re-run after healing resumes. The lab lock is held throughout, and the full lab is put
//! back (`lab.sh up`) when the test ends, also when it fails.

use super::{json, lab_failure, lab_sh, lock_lab};
use crate::common::{pairctl, wait_until};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

pub(super) struct BareLab {
    env: BTreeMap<String, String>,
    _lock: File,
    /// What `lab.sh up` gets when the test ends (the witness tests' lab: `--witness`).
    restore: &'static [&'static str],
}

impl BareLab {
    pub(super) fn get(&self, key: &str) -> &str {
        self.env
            .get(key)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("lab.sh env has no {key}"))
    }
    pub(super) fn config(&self) -> &str {
        self.get("LAB_CONFIG")
    }
    pub(super) fn pairctl(&self, config: &str, args: &[&str]) -> Output {
        pairctl().args(["-c", config]).args(args).output().unwrap()
    }
}

impl Drop for BareLab {
    /// Leaves the full lab for the others (the lock is released after this).
    fn drop(&mut self) {
        let _ = lab_sh(&["heal", "n2", "sshd"]);
        let mut up = vec!["up"];
        up.extend_from_slice(self.restore);
        let out = lab_sh(&up);
        if !out.status.success() {
            eprintln!("restoring the full lab: {}", lab_failure(&up, &out));
        }
    }
}

fn bare_lab() -> BareLab {
    bare_lab_with(&[])
}

/// `lab.sh up --bare` plus `extra` (e.g. `--witness`); `lab.sh up` plus `extra` at the end.
pub(super) fn bare_lab_with(extra: &'static [&'static str]) -> BareLab {
    let lock = lock_lab();
    // From here on the guard puts the full lab back, whatever happens.
    let mut lab = BareLab {
        env: BTreeMap::new(),
        _lock: lock,
        restore: extra,
    };
    let mut up = vec!["up", "--bare"];
    up.extend_from_slice(extra);
    let out = lab_sh(&up);
    assert!(out.status.success(), "{}", lab_failure(&up, &out));
    let env = lab_sh(&["env"]);
    for line in String::from_utf8_lossy(&env.stdout).lines() {
        if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            lab.env
                .insert(k.to_string(), v.trim_matches('\'').to_string());
        }
    }
    lab
}

/// `stage node: summary` of every change in a deploy report.
pub(super) fn changes(doc: &serde_json::Value) -> Vec<String> {
    doc["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|st| {
            st["changes"].as_array().unwrap().iter().map(move |c| {
                format!(
                    "{} {}: {}",
                    st["stage"].as_str().unwrap(),
                    c["node"].as_str().unwrap(),
                    c["summary"].as_str().unwrap()
                )
            })
        })
        .collect()
}

fn start_times() -> String {
    ["n1", "n2"]
        .iter()
        .map(|n| {
            let out = lab_sh(&[
                "ssh",
                n,
                "systemctl show -p ActiveEnterTimestampMonotonic keepalived mariadb glusterd",
            ]);
            assert!(out.status.success());
            format!(
                "{n}: {}",
                String::from_utf8_lossy(&out.stdout).replace('\n', " ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn assert_healthy(lab: &BareLab, config: &str) {
    let mut last = None;
    let ok = wait_until(Duration::from_secs(30), || {
        let out = lab.pairctl(config, &["status", "-o", "json"]);
        let code = out.status.code();
        last = Some(json(&out));
        code == Some(0)
    });
    let doc = last.unwrap();
    assert!(ok, "status is not healthy: {doc:#}");
    let bad: Vec<&serde_json::Value> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] != "ok")
        .collect();
    assert!(bad.is_empty(), "checks not ok: {bad:#?}");
}

/// A copy of the config `base` with `edit` applied, next to it (relative paths still work).
fn edited_config(base: &str, name: &str, edit: impl Fn(String) -> String) -> String {
    let original = Path::new(base);
    let text = std::fs::read_to_string(original).unwrap();
    let path: PathBuf = original.with_file_name(name);
    std::fs::write(&path, edit(text)).unwrap();
    path.display().to_string()
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn deploy_from_bare_nodes() {
    let lab = bare_lab();
    let cfg = lab.config().to_string();
    let status = lab.pairctl(&cfg, &["status", "-q"]);
    assert_ne!(
        status.status.code(),
        Some(0),
        "bare nodes are not a cluster"
    );

    // A dry run on bare nodes: every stage has work, nothing is changed.
    let out = lab.pairctl(&cfg, &["deploy", "--dry-run", "-o", "json"]);
    let plan = json(&out);
    assert_eq!(out.status.code(), Some(0), "{plan:#}");
    assert_eq!(plan["outcome"], "planned");
    for st in plan["stages"].as_array().unwrap() {
        assert_eq!(st["state"], "planned", "{st:#}");
    }
    let all = changes(&plan);
    assert!(all.contains(&"galera n1: bootstrap a new Galera cluster on n1 (galera_new_cluster), wait until ready".to_string()), "{all:#?}");
    assert!(all.contains(&"keepalived n1: write /etc/keepalived/keepalived.conf (new)".to_string()));
    let probe = lab_sh(&["ssh", "n1", "test -e /etc/keepalived/keepalived.conf"]);
    assert!(!probe.status.success(), "the dry run wrote a file");

    // Without a TTY and without --yes: refused before anything changes.
    let out = pairctl()
        .args(["-c", &cfg, "deploy"])
        .write_stdin("y\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));

    // Cold deploy.
    let t = Instant::now();
    let out = lab.pairctl(&cfg, &["deploy", "--yes", "-o", "json"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["outcome"], "deployed");
    assert_eq!(doc["status"]["verdict"], "healthy");
    eprintln!("cold deploy: {} ms", t.elapsed().as_millis());
    assert_healthy(&lab, &cfg);
    // pairctl's status spoke TLS (the config has a CA); plain text is refused by the server.
    let password = std::fs::read_to_string(lab.get("LAB_DB_PASSWORD_FILE")).unwrap();
    for (flag, ok) in [("--skip-ssl", false), ("--ssl", true)] {
        let out = std::process::Command::new("mysql")
            .args(["-h", lab.get("LAB_N1"), "-u", lab.get("LAB_DB_USER"), flag])
            .args(["--connect-timeout=5", "-N", "-e", "SELECT 1"])
            .env("MYSQL_PWD", password.trim())
            .output()
            .unwrap();
        assert_eq!(
            out.status.success(),
            ok,
            "mysql {flag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // A re-run: every stage unchanged, nothing restarted.
    let before = start_times();
    let t = Instant::now();
    let out = lab.pairctl(&cfg, &["deploy", "--yes", "-o", "json"]);
    let doc = json(&out);
    eprintln!("re-run: {} ms", t.elapsed().as_millis());
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["outcome"], "unchanged", "{doc:#}");
    assert!(changes(&doc).is_empty(), "{:#?}", changes(&doc));
    for st in doc["stages"].as_array().unwrap() {
        assert_eq!(st["state"], "unchanged", "{st:#}");
    }
    assert_eq!(before, start_times(), "the re-run restarted a unit");

    // A dry run on the deployed cluster: nothing to change (the table says so too).
    let out = lab.pairctl(&cfg, &["deploy", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("dry run: nothing to change"), "{text}");

    // One service fewer: exactly the services list changes, on both nodes; then applied.
    let fewer = edited_config(&cfg, "fewer-services.toml", |t| {
        t.replace("\"api-docs\", ", "")
            .replace(", \"api-docs\"", "")
    });
    let out = lab.pairctl(&fewer, &["deploy", "--dry-run", "-o", "json"]);
    assert_eq!(
        changes(&json(&out)),
        vec![
            "k3s n1: write /etc/pairctl/services (changed)",
            "k3s n2: write /etc/pairctl/services (changed)"
        ]
    );
    let out = lab.pairctl(&fewer, &["deploy", "--yes", "-o", "json"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["outcome"], "deployed");
    assert_healthy(&lab, &fewer);
    assert_eq!(before, start_times(), "a new service list restarted a unit");

    // A new VIP (with the lab CA's key, so that a certificate for it can be issued).
    let ca_key = Path::new(lab.get("LAB_CA")).with_file_name("ca.key");
    // The lab's /28 has the VIP at .10 of its block and nothing at .13.
    let old_vip = lab.get("LAB_VIP").to_string();
    let new_vip = {
        let ip: std::net::Ipv4Addr = old_vip.parse().unwrap();
        let [a, b, c, d] = ip.octets();
        std::net::Ipv4Addr::new(a, b, c, d + 3).to_string()
    };
    let moved = edited_config(&fewer, "new-vip.toml", |t| {
        format!(
            "{}\n[deploy]\nca_key_file = \"{}\"\n",
            t.replace(&old_vip, &new_vip),
            ca_key.display()
        )
    });
    let out = lab.pairctl(&moved, &["deploy", "--dry-run", "-o", "json"]);
    let got = changes(&json(&out));
    for expected in [
        "ingress n2: copy the new ingress certificate and key from n1",
        "record n1: write /etc/pairctl/deployment.json (changed)",
        "record n2: write /etc/pairctl/deployment.json (changed)",
        "keepalived n1: write /etc/keepalived/keepalived.conf (changed)",
        "keepalived n2: write /etc/keepalived/keepalived.conf (changed)",
        "keepalived n1: reload keepalived",
        "keepalived n2: reload keepalived",
    ] {
        assert!(
            got.contains(&expected.to_string()),
            "no {expected:?} in {got:#?}"
        );
    }
    assert!(
        got.iter().all(|c| c.starts_with("ingress ")
            || c.starts_with("record ")
            || c.starts_with("keepalived ")),
        "{got:#?}"
    );
    let out = lab.pairctl(&moved, &["deploy", "--yes", "-o", "json"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_healthy(&lab, &moved);
    for n in ["n1", "n2"] {
        let out = lab_sh(&["ssh", n, "ip -4 -o addr show"]);
        let addrs = String::from_utf8_lossy(&out.stdout);
        assert!(
            !addrs.contains(&format!(" {old_vip}/")),
            "{n} still holds the old VIP: {addrs}"
        );
    }
    let out = lab.pairctl(&moved, &["deploy", "--yes", "-o", "json"]);
    assert_eq!(json(&out)["outcome"], "unchanged");

    // sshd frozen on n2: the stage fails naming stage and node; healed, a re-run resumes
    // (the volume unmounted on n2 meanwhile is mounted again).
    let out = lab_sh(&["ssh", "n2", "umount /mnt/shared"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = lab_sh(&["fault", "n2", "sshd"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = lab.pairctl(&moved, &["deploy", "--yes", "--only", "gluster"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("failed in stage gluster on n2"), "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
    let out = lab_sh(&["heal", "n2", "sshd"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = lab.pairctl(&moved, &["deploy", "--yes", "-o", "json"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(
        changes(&doc),
        vec!["gluster n2: mount volume shared on /mnt/shared"]
    );
    assert_healthy(&lab, &moved);
}
