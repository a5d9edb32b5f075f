//! `pairctl snapshot` on the lab: a full bundle from a healthy pair, secrets planted on the
//! nodes never reach the archive, a powered-off standby gives a partial bundle, and a
//! collector that hangs (a stuck FUSE mount under `df`) times out while the rest is intact.

use super::{lab, lab_sh, Lab};
use pairctl::snapshot::collectors::static_items;
use pairctl::snapshot::{parse_time, Window};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Runs `pairctl snapshot` into a fresh directory; returns the exit code, stdout and the
/// bundle's path (if one was written).
fn snapshot(lab: &Lab, dir: &Path, extra: &[&str]) -> (i32, String, Option<PathBuf>) {
    let mut args = vec!["snapshot", "-O", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = lab.pairctl(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    let bundle = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".tar.zst"));
    (out.status.code().unwrap_or(-1), stdout, bundle)
}

/// Every file in the bundle, decompressed (the lab's bundles are a few MB).
fn contents(bundle: &Path) -> HashMap<String, Vec<u8>> {
    let file = std::fs::File::open(bundle).unwrap();
    let mut tar = tar::Archive::new(zstd::Decoder::new(file).unwrap());
    let mut all = HashMap::new();
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        all.insert(name, data);
    }
    all
}

fn manifest(files: &HashMap<String, Vec<u8>>) -> serde_json::Value {
    serde_json::from_slice(&files["manifest.json"]).unwrap()
}

fn item<'a>(m: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    m["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == path)
        .unwrap_or_else(|| panic!("no item {path} in the manifest"))
}

fn inspect_ok(bundle: &Path) -> serde_json::Value {
    let out = crate::common::pairctl()
        .args(["-o", "json", "snapshot", "inspect"])
        .arg(bundle)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{:#}", doc["verification"]);
    doc
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn healthy_pair_gives_a_complete_verified_bundle() {
    let lab = lab();
    // The auth container restarted once (on whichever node is active).
    const RESTARTED: &str = "/etc/pairctl-lab/restarted/auth";
    let _restarted = Planted(vec![("n1", RESTARTED.into()), ("n2", RESTARTED.into())]);
    for node in ["n1", "n2"] {
        on_node(
            node,
            &format!("mkdir -p /etc/pairctl-lab/restarted && touch {RESTARTED}"),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, bundle) = snapshot(&lab, dir.path(), &["--since", "2h"]);
    assert_eq!(code, 0, "{stdout}");
    let bundle = bundle.expect("a bundle is written");
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some(bundle.to_str().unwrap()));
    let sha = lines
        .next()
        .unwrap()
        .strip_prefix("sha256: ")
        .unwrap()
        .to_string();
    let sidecar = std::fs::read_to_string(format!("{}.sha256", bundle.display())).unwrap();
    assert!(
        sidecar.starts_with(&format!("{sha}  pairctl-snapshot-lab-")),
        "{sidecar}"
    );

    let files = contents(&bundle);
    let m = manifest(&files);
    assert_eq!(m["schema"], "pairctl.snapshot/1");
    assert_eq!(m["cluster"], "lab");
    assert_eq!(m["partial"], false);
    assert_eq!(m["redacted"], true);
    // One active, one standby (whichever holds the VIP now), both reachable.
    let nodes = m["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert!(nodes.iter().all(|n| n["reachable"] == true), "{nodes:?}");
    let mut roles: Vec<&str> = nodes.iter().map(|n| n["role"].as_str().unwrap()).collect();
    roles.sort();
    assert_eq!(roles, ["active", "standby"]);
    let standby = nodes
        .iter()
        .find(|n| n["role"] == "standby")
        .and_then(|n| n["name"].as_str())
        .unwrap()
        .to_string();
    let active = if standby == "n1" { "n2" } else { "n1" };

    // Every planned item of both nodes is in the manifest and stored.
    let cfg = pairctl::config::load(Some(Path::new(&lab.config))).unwrap();
    let now = SystemTime::now();
    let window = Window {
        since: parse_time("2h", now).unwrap(),
        until: now,
    };
    for node in ["n1", "n2"] {
        for (spec, name) in static_items(&cfg, &window)
            .into_iter()
            .flat_map(|s| s.stored_names().into_iter().map(move |n| (s.clone(), n)))
        {
            let path = format!("{node}/{}/{name}", spec.collector);
            let i = item(&m, &path);
            assert!(files.contains_key(&path), "{path} is not in the archive");
            let outcome = i["outcome"].as_str().unwrap();
            // litestream's daemon runs, and a restore record exists, on the active only; a
            // replica is held on the standby (the active has one if it was standby before).
            let litestream_na = spec.collector == "litestream"
                && if node == standby {
                    name == "daemon.json" || name == "state-restore.json"
                } else {
                    name == "replica-ltx.txt" && outcome == "not_applicable"
                };
            let expected_na = (node == standby && spec.collector == "k3s")
                || spec.collector == "history" && outcome == "not_applicable"
                || litestream_na;
            if expected_na {
                assert_eq!(outcome, "not_applicable", "{i}");
            } else {
                assert_eq!(outcome, "ok", "{i}");
            }
        }
    }
    for i in m["items"].as_array().unwrap() {
        assert!(!i["sha256"].is_null(), "not stored: {i}");
        assert_eq!(i["timed_out"], false, "{i}");
    }
    // Discovered items: configs, logs, pods.
    for path in [
        "n1/configs/etc/keepalived/keepalived.conf",
        "n2/configs/etc/keepalived/keepalived.conf",
        "n1/configs/etc/pairctl/deployment.json",
        "n1/logs/var/log/glusterfs/glusterd.log",
    ] {
        assert_eq!(item(&m, path)["outcome"], "ok");
    }
    let pod_logs = format!("{active}/k3s/logs/efa/");
    assert!(
        m["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["path"].as_str().unwrap().starts_with(&pod_logs)),
        "no pod logs from the active node"
    );
    // Previous logs of the restarted container only.
    let previous: Vec<&str> = m["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .filter(|p| p.ends_with(".previous.log"))
        .collect();
    assert_eq!(previous.len(), 1, "{previous:?}");
    assert!(
        previous[0].starts_with(&format!("{pod_logs}auth-")),
        "{previous:?}"
    );
    assert_eq!(item(&m, previous[0])["outcome"], "ok");
    let text = String::from_utf8_lossy(&files[previous[0]]).into_owned();
    assert!(text.contains("out of memory"), "{text}");
    let status: serde_json::Value = serde_json::from_slice(&files["cluster/status.json"]).unwrap();
    assert_eq!(status["verdict"], "healthy");
    let galera = String::from_utf8_lossy(&files["n2/galera/global-status.txt"]).into_owned();
    assert!(galera.contains("wsrep_cluster_size\t2"), "{galera}");
    let peers = String::from_utf8_lossy(&files["n1/gluster/peer-status.xml"]).into_owned();
    assert!(peers.contains("<peerStatus>"), "{peers}");
    assert!(!files["n1/journal/mariadb.log"].is_empty());
    // litestream: its configuration, its own status and the daemon's on the active, the
    // replica on the standby, the takeover's restore record, and its journal.
    assert_eq!(item(&m, "n1/configs/etc/litestream.yml")["outcome"], "ok");
    let yml = String::from_utf8_lossy(&files["n1/configs/etc/litestream.yml"]).into_owned();
    assert!(yml.contains("type: sftp"), "{yml}");
    let daemon =
        String::from_utf8_lossy(&files[&format!("{active}/litestream/daemon.json")]).into_owned();
    assert!(daemon.contains("\"replicating\""), "{daemon}");
    let ltx = String::from_utf8_lossy(&files[&format!("{standby}/litestream/replica-ltx.txt")])
        .into_owned();
    assert!(ltx.starts_with("level") && ltx.lines().count() > 1, "{ltx}");
    assert!(files.contains_key(&format!("{active}/litestream/status.json")));
    assert!(
        String::from_utf8_lossy(&files[&format!("{active}/journal/litestream.log")])
            .contains("litestream"),
        "no litestream journal"
    );

    let doc = inspect_ok(&bundle);
    assert_eq!(doc["verification"]["archive_sha256"], sha.as_str());
    assert_eq!(doc["verification"]["sidecar_matches"], true);
}

/// Removes what a test planted on the nodes, also when it fails.
struct Planted(Vec<(&'static str, String)>);

impl Drop for Planted {
    fn drop(&mut self) {
        for (node, path) in &self.0 {
            lab_sh(&["ssh", node, &format!("rm -f {path}")]);
        }
    }
}

fn on_node(node: &str, command: &str) {
    let out = lab_sh(&["ssh", node, command]);
    assert!(
        out.status.success(),
        "{node}: {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn planted_secrets_are_nowhere_in_the_bundle() {
    let lab = lab();
    let tag = format!(
        "{}",
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let cnf_pw = format!("cnf-pw-{tag}");
    let bearer = format!("bearer-tok-{tag}");
    let sql_pw = format!("sql-pw-{tag}");
    let pem_body = format!("MIIEpQIBAAKCAQEA{tag}Zm9vYmFy");
    // The shapes credential scanners know, each in another collector's items.
    let glued_pw = format!("glued{tag}");
    let url_pw = format!("urlpw{tag}");
    let aws_key = format!("AKIA{}", &tag[tag.len() - 16..]);
    let gh_token = format!("ghp_{tag}abcdefghijklmnopq");
    let db_password = std::fs::read_to_string(std::env::var("LAB_DB_PASSWORD_FILE").unwrap())
        .unwrap()
        .trim()
        .to_string();
    let _planted = Planted(vec![
        ("n1", "/etc/mysql/conf.d/zz-snapshot-test.cnf".into()),
        ("n2", "/etc/keepalived/zz-snapshot-test.conf".into()),
        ("n1", "/var/log/mysql/zz-snapshot-test.log".into()),
        ("n2", "/var/log/nginx/zz-snapshot-test.log".into()),
    ]);
    on_node(
        "n1",
        &format!(
            "printf '[client]\\npassword = {cnf_pw}\\n# mirror https://sync:{url_pw}@10.0.0.9/x\\n' > /etc/mysql/conf.d/zz-snapshot-test.cnf"
        ),
    );
    on_node(
        "n2",
        &format!("printf 'vrrp_instance X {{\\n  authentication {{\\n    auth_pass {cnf_pw}x\\n  }}\\n}}\\n' > /etc/keepalived/zz-snapshot-test.conf"),
    );
    on_node(
        "n2",
        &format!("logger -t keepalived 'auth token Bearer {bearer}'"),
    );
    on_node(
        "n1",
        &format!("mkdir -p /var/log/mysql && printf \"240501 10:00:00 12 Query\\tCREATE USER 'x'@'%%' IDENTIFIED BY '{sql_pw}'\\nbackup to s3 as {aws_key} with {gh_token}\\n\" > /var/log/mysql/zz-snapshot-test.log"),
    );
    on_node(
        "n2",
        &format!("mkdir -p /var/log/nginx && printf -- '-----BEGIN PRIVATE KEY-----\\n{pem_body}\\n-----END PRIVATE KEY-----\\nmonitor login with {db_password} ok\\n' > /var/log/nginx/zz-snapshot-test.log"),
    );
    on_node(
        "n1",
        &format!("logger -t mariadbd 'monitor connected using {db_password}'"),
    );
    on_node(
        "n1",
        &format!("logger -t mariadbd 'backup: mysqldump -u root -p{glued_pw} --all-databases'"),
    );
    on_node(
        "n2",
        &format!("logger -t keepalived 'notify: replica sftp://backup:{url_pw}@10.0.0.5/r'"),
    );
    // journald writes what logger sent a moment later (longer right after a boot).
    for (node, ident, needle) in [
        ("n2", "keepalived", &bearer),
        ("n1", "mariadbd", &db_password),
        ("n1", "mariadbd", &glued_pw),
        ("n2", "keepalived", &url_pw),
    ] {
        let seen = crate::common::wait_until(std::time::Duration::from_secs(20), || {
            let out = lab_sh(&[
                "ssh",
                node,
                &format!("journalctl --no-pager -q -t {ident} --since -10min"),
            ]);
            String::from_utf8_lossy(&out.stdout).contains(needle.as_str())
        });
        assert!(
            seen,
            "{node}: the planted {ident} journal line never appeared"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, bundle) = snapshot(&lab, dir.path(), &["--since", "1h"]);
    assert_eq!(code, 0, "{stdout}");
    let files = contents(&bundle.unwrap());
    for secret in [
        &cnf_pw,
        &bearer,
        &sql_pw,
        &pem_body,
        &db_password,
        &glued_pw,
        &url_pw,
        &aws_key,
        &gh_token,
    ] {
        for (name, data) in &files {
            assert!(
                !String::from_utf8_lossy(data).contains(secret.as_str()),
                "{secret} is in {name}"
            );
        }
    }
    let m = manifest(&files);
    for path in [
        "n1/configs/etc/mysql/conf.d/zz-snapshot-test.cnf",
        "n2/configs/etc/keepalived/zz-snapshot-test.conf",
        "n2/journal/keepalived.log",
        "n1/logs/var/log/mysql/zz-snapshot-test.log",
        "n1/journal/mariadb.log",
    ] {
        assert!(
            item(&m, path)["redactions"].as_u64().unwrap() >= 1,
            "{path}"
        );
    }
    assert_eq!(
        item(&m, "n2/logs/var/log/nginx/zz-snapshot-test.log")["redactions"],
        2
    );
    let log =
        String::from_utf8_lossy(&files["n1/logs/var/log/mysql/zz-snapshot-test.log"]).into_owned();
    assert!(log.contains("IDENTIFIED BY '[redacted]'"), "{log}");
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn powered_off_standby_gives_a_partial_bundle() {
    let lab = lab();
    super::restore_n1(&lab);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, bundle) = {
        let _off = lab.fault("n2", &["power"]);
        snapshot(&lab, dir.path(), &["--since", "1h"])
    };
    assert_eq!(code, 1, "{stdout}");
    let bundle = bundle.expect("a bundle is written without n2");
    let files = contents(&bundle);
    let m = manifest(&files);
    assert_eq!(m["partial"], true);
    let n2 = m["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "n2")
        .unwrap();
    assert_eq!(n2["reachable"], false, "{n2}");
    assert!(!n2["error"].is_null());
    for i in m["items"].as_array().unwrap() {
        if i["node"] == "n2" {
            assert_eq!(i["outcome"], "failed", "{i}");
            assert!(i["sha256"].is_null());
        }
    }
    assert_eq!(item(&m, "n1/system/uname.txt")["outcome"], "ok");
    assert_eq!(item(&m, "n1/k3s/resources.json")["outcome"], "ok");
    inspect_ok(&bundle);
}

#[test]
#[ignore = "needs the lab: tests/run.sh"]
fn hanging_collector_times_out_and_the_rest_is_intact() {
    let lab = lab();
    // A FUSE client that stops answering makes `df` hang, as a dead NFS server does.
    const FUSE: &str = "pgrep -f '[p]rocess-name fuse'";
    struct Thaw;
    impl Drop for Thaw {
        fn drop(&mut self) {
            lab_sh(&["ssh", "n2", &format!("kill -CONT $({FUSE})")]);
        }
    }
    on_node("n2", &format!("kill -STOP $({FUSE})"));
    let thaw = Thaw;
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let (code, stdout, bundle) = snapshot(&lab, dir.path(), &["--since", "1h"]);
    let took = started.elapsed();
    drop(thaw);
    assert_eq!(code, 1, "{stdout}");
    assert!(took.as_secs() < 60, "took {took:?}");
    let bundle = bundle.unwrap();
    let files = contents(&bundle);
    let m = manifest(&files);
    let df = item(&m, "n2/system/df.txt");
    assert_eq!(df["timed_out"], true, "{df}");
    assert_eq!(df["outcome"], "timed_out");
    assert!(
        df["error"]
            .as_str()
            .unwrap()
            .contains("timed out after 20 s"),
        "{df}"
    );
    let others: Vec<&serde_json::Value> = m["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["path"] != "n2/system/df.txt" && i["outcome"] != "not_applicable")
        .collect();
    for i in others {
        assert_eq!(i["outcome"], "ok", "{i}");
    }
    assert_eq!(item(&m, "n1/system/df.txt")["outcome"], "ok");
    inspect_ok(&bundle);
    lab.wait_healthy();
}
