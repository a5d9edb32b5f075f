//! `pairctl snapshot` against a real OpenSSH sshd on loopback: a large stream goes through
//! redaction, spooling and the archive in bounded memory (measured in a child process that
//! runs that test alone); a hanging collector times out and the rest is intact; a whole
//! bundle from a pair with one node down is written, inspected, and a tampered copy is
//! caught.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use crate::common::pairctl;
use crate::common::sshd::{sshd, sshd_with_max_sessions, Sshd};
use pairctl::config::Config;
use pairctl::render::progress::{Reporter, Silent};
use pairctl::snapshot::archive::{
    self, ArchiveWriter, Body, Entry, OutputPaths, SpoolDir, TempArchive,
};
use pairctl::snapshot::collectors::ItemSpec;
use pairctl::snapshot::manifest::{self, Outcome};
use pairctl::snapshot::redact::Rules;
use pairctl::snapshot::{Collected, Run, Window};
use pairctl::transport::Deadline;
use pairctl::transport::Exec;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

const SECRET: &str = "Galera-Secret-7f3a9";

fn loop_config(dir: &Path, s: &Sshd) -> (std::path::PathBuf, Config) {
    let path = dir.join("pairctl.toml");
    let text = format!(
        r#"name = "loop"
vip = "127.0.0.4"
[[node]]
name = "n1"
address = "127.0.0.1"
[[node]]
name = "n2"
address = "127.0.0.2"
[ssh]
user = "{user}"
port = {port}
identity_file = "{key}"
known_hosts = "{kh}"
connect_timeout = "3s"
[galera]
port = 1
[gluster]
volumes = ["shared"]
[ingress]
url = "https://127.0.0.4:1"
"#,
        user = Sshd::user(),
        port = s.port,
        key = s.client_key().display(),
        kh = s.known_hosts().display()
    );
    std::fs::write(&path, &text).unwrap();
    let cfg = pairctl::config::parse(&path, &text).unwrap();
    (path, cfg)
}

fn window() -> Window {
    let until = SystemTime::now();
    Window {
        since: until - Duration::from_secs(3600),
        until,
    }
}

fn spec(name: &str, command: &str, timeout: Duration) -> ItemSpec {
    ItemSpec::new("test", name, command, timeout)
}

/// The one result of an item that is not split.
fn only(mut results: Vec<Collected>) -> Collected {
    assert_eq!(results.len(), 1);
    results.remove(0)
}

fn resident_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// Samples VmRSS until stopped; returns the peak seen.
struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl RssSampler {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(resident_kib("VmRSS:"));
                std::thread::sleep(Duration::from_millis(10));
            }
            peak
        });
        RssSampler { stop, thread }
    }
    fn peak_kib(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// Stream size for the memory test, in MiB: 64 by default, enough to show a stream held in
/// memory (a debug build moves about 11 MB/s through redaction, hashing and zstd);
/// PAIRCTL_TEST_STREAM_MB=200 for the full size. bench/snapshot.sh measures 500 MB per node
/// on the release build.
fn stream_mb() -> usize {
    std::env::var("PAIRCTL_TEST_STREAM_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// About 1 MiB of log lines with three secrets, one of them cut by odd line lengths so its
/// position drifts against the SSH packet and chunk boundaries from block to block.
fn log_block(seed: usize) -> String {
    let mut s = String::with_capacity(1 << 20);
    let mut i = 0;
    while s.len() < (1 << 20) - 400 {
        s.push_str(&format!(
            "2024-05-01T10:{:02}:{:02}+0000 n1 mariadbd[811]: [Note] WSREP: seqno {} applied, {}\n",
            (i / 60) % 60,
            i % 60,
            seed * 100_000 + i,
            "x".repeat(i % 37)
        ));
        i += 1;
    }
    s.push_str(&format!("[client]\npassword = cnf-pw-{seed}\n"));
    s.push_str(&format!(
        "n1 keepalived[9]: auth token Bearer eyJ{seed}.abc.def\n"
    ));
    s.push_str(&format!("connecting with {SECRET} as pairctl\n"));
    s
}

/// Set in the child that runs the memory test alone (see below).
const MEMORY_CHILD: &str = "PAIRCTL_TEST_MEMORY_CHILD";
const MEMORY_TEST: &str = "snapshot::large_stream_is_redacted_and_archived_in_bounded_memory";

/// The memory is measured in a child process that runs this test alone (the test binary
/// again, with only it selected): the other tests, running at the same time in this
/// process, never count in its resident set.
#[test]
fn large_stream_is_redacted_and_archived_in_bounded_memory() {
    if std::env::var_os(MEMORY_CHILD).is_some() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        return runtime.block_on(stream_in_bounded_memory());
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([MEMORY_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(MEMORY_CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stderr}");
    assert!(
        out.status.success(),
        "the measured child failed:\n{stdout}\n{stderr}"
    );
    // The child ran the test (a filter that matched nothing would pass with 0 tests).
    assert!(stdout.contains("test result: ok. 1 passed"), "{stdout}");
}

/// The stream through redaction, spooling and the archive, in this process: its resident set
/// grows by buffers only, not by the stream's size.
async fn stream_in_bounded_memory() {
    let s = sshd();
    let dir = tempfile::tempdir().unwrap();
    let (_, cfg) = loop_config(dir.path(), &s);
    let session = s.session().await;

    // The file on the "node": 16 different blocks repeated up to the size.
    let rules = Rules::new([SECRET]);
    let blocks: Vec<String> = (0..16).map(log_block).collect();
    let big = dir.path().join("big.log");
    let mut expected = Sha256::new();
    let mut expected_bytes = 0u64;
    let mut expected_redactions = 0u64;
    let count = stream_mb();
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        let redacted: Vec<(String, u64)> = blocks.iter().map(|b| rules.redact_text(b)).collect();
        for i in 0..count {
            f.write_all(blocks[i % 16].as_bytes()).unwrap();
            let (r, n) = &redacted[i % 16];
            expected.update(r.as_bytes());
            expected_bytes += r.len() as u64;
            expected_redactions += n;
        }
    }
    assert_eq!(expected_redactions, 3 * count as u64);
    let file_bytes = std::fs::metadata(&big).unwrap().len();

    let created = SystemTime::now();
    let paths = OutputPaths::new(Some(dir.path()), "loop", created).unwrap();
    let spool = Arc::new(SpoolDir::create(&paths.spool_dir).unwrap());
    let writer = Arc::new(ArchiveWriter::create(&paths.temp, created).unwrap());
    let temp = TempArchive::new(&paths.temp);
    let run = Run {
        rules: Some(rules.clone()),
        spool: spool.clone(),
        writer: writer.clone(),
        window: window(),
        deadline: Deadline::after(Duration::from_secs(600)),
        cfg: Arc::new(cfg),
        started: Instant::now(),
    };
    let progress: Arc<dyn Reporter> = Arc::new(Silent);

    let baseline = resident_kib("VmRSS:");
    let hwm_before = resident_kib("VmHWM:");
    let sampler = RssSampler::start();
    let started = Instant::now();
    let item = spec(
        "big.log",
        &format!("exec cat -- {}", big.display()),
        Duration::from_secs(600),
    );
    let (collected, _) = run.run_item(&session, "n1", item, &progress).await.unwrap();
    let took = started.elapsed();
    let peak = sampler.peak_kib();
    let hwm_after = resident_kib("VmHWM:");

    let item = only(collected).into_item("active");
    assert_eq!(item.outcome, Outcome::Ok, "{item:?}");
    assert_eq!(item.bytes, expected_bytes);
    assert_eq!(item.redactions, expected_redactions);
    assert_eq!(
        item.sha256.as_deref(),
        Some(hex::encode(expected.finalize()).as_str())
    );
    eprintln!(
        "streamed {} MB in {:.1} s ({:.0} MB/s); RSS {} MiB at start, peak {} MiB (+{} MiB); VmHWM +{} MiB",
        file_bytes / 1_000_000,
        took.as_secs_f64(),
        file_bytes as f64 / 1e6 / took.as_secs_f64(),
        baseline / 1024,
        peak / 1024,
        peak.saturating_sub(baseline) / 1024,
        hwm_after.saturating_sub(hwm_before) / 1024
    );
    // Holding the stream would show as its size; streaming costs buffers only.
    let limit_kib = (32 * 1024).min(file_bytes / 1024 / 2);
    assert!(
        peak.saturating_sub(baseline) < limit_kib,
        "RSS grew by {} MiB while streaming {} MB",
        peak.saturating_sub(baseline) / 1024,
        file_bytes / 1_000_000
    );

    let mut m = manifest_with(vec![item.clone()]);
    m.cluster = "loop".into();
    drop(run);
    publish(writer, temp, &paths.archive, &m).await;
    drop(spool);
    assert!(!paths.spool_dir.exists() && !paths.temp.exists());

    let (_, v) = archive::verify(&paths.archive).unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    // The big item is a zstd frame of its own inside the stream: the usual tools read it.
    if std::process::Command::new("zstd")
        .arg("--version")
        .output()
        .is_ok()
    {
        let listing = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "zstd -dc '{}' | tar -tvf -",
                paths.archive.display()
            ))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&listing.stdout);
        assert!(listing.status.success(), "{text}");
        assert!(
            text.contains(&format!(" {expected_bytes} ")) && text.contains("n1/test/big.log"),
            "{text}"
        );
        assert!(text.contains("manifest.json"), "{text}");
    }
    // No secret anywhere in the stored stream (searched with an overlap across reads).
    let mut tar = tar::Archive::new(
        zstd::Decoder::new(std::fs::File::open(&paths.archive).unwrap()).unwrap(),
    );
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut carry = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = entry.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            carry.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&carry);
            for needle in [SECRET, "cnf-pw-", "Bearer eyJ"] {
                assert!(!text.contains(needle), "{needle} is in the archive");
            }
            let keep = carry.len().saturating_sub(64);
            carry.drain(..keep);
        }
    }
}

/// Ends the archive as `snapshot::create` does: the manifest last, then the temporary file
/// renamed to `archive`. Every item task (and its `Run`) must be gone.
async fn publish(
    writer: Arc<ArchiveWriter>,
    temp: TempArchive,
    archive: &Path,
    m: &manifest::Manifest,
) {
    writer
        .append(Entry {
            path: manifest::FILE_NAME.into(),
            body: Body::Memory(serde_json::to_vec(m).unwrap()),
        })
        .await
        .unwrap();
    let written = Arc::try_unwrap(writer)
        .ok()
        .unwrap()
        .finish()
        .await
        .unwrap();
    temp.publish(archive, &written.sha256).unwrap();
}

fn manifest_with(items: Vec<manifest::Item>) -> manifest::Manifest {
    manifest::Manifest {
        schema: manifest::SCHEMA.into(),
        tool: "pairctl".into(),
        tool_version: "test".into(),
        cluster: "loop".into(),
        window: manifest::Window {
            since: "a".into(),
            until: "b".into(),
        },
        created: "c".into(),
        duration_ms: 0,
        redacted: true,
        partial: items.iter().any(|i| i.outcome.makes_partial()),
        nodes: vec![],
        items,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_collector_times_out_and_the_rest_is_intact() {
    let s = sshd();
    let dir = tempfile::tempdir().unwrap();
    let (_, cfg) = loop_config(dir.path(), &s);
    let session = s.session().await;
    let created = SystemTime::now();
    let paths = OutputPaths::new(Some(dir.path()), "loop", created).unwrap();
    let spool = Arc::new(SpoolDir::create(&paths.spool_dir).unwrap());
    let writer = Arc::new(ArchiveWriter::create(&paths.temp, created).unwrap());
    let temp = TempArchive::new(&paths.temp);
    let run = Run {
        rules: Some(Rules::new([SECRET])),
        spool: spool.clone(),
        writer: writer.clone(),
        window: window(),
        deadline: Deadline::after(Duration::from_secs(60)),
        cfg: Arc::new(cfg),
        started: Instant::now(),
    };
    let progress: Arc<dyn Reporter> = Arc::new(Silent);
    let started = Instant::now();
    let items = [
        spec("before.txt", "echo before", Duration::from_secs(20)),
        spec(
            "hang.txt",
            "echo started; echo password=hung-secret; sleep 600",
            // Long enough for a loaded node's shell to print its first lines, far short of
            // the 600 s the command would take.
            Duration::from_secs(5),
        ),
        spec("after.txt", "sleep 2; echo after", Duration::from_secs(20)),
    ];
    let results = futures::future::join_all(
        items
            .into_iter()
            .map(|i| run.run_item(&session, "n1", i, &progress)),
    )
    .await;
    let took = started.elapsed();
    let items: Vec<manifest::Item> = results
        .into_iter()
        .map(|r| only(r.unwrap().0).into_item("active"))
        .collect();
    // Not a timing assertion: the hung command would hold the batch for 600 s.
    assert!(took < Duration::from_secs(120), "took {took:?}");
    let hang = items.iter().find(|i| i.path == "n1/test/hang.txt").unwrap();
    assert!(hang.timed_out, "{hang:?}");
    assert_eq!(hang.outcome, Outcome::TimedOut);
    assert!(
        hang.error
            .as_deref()
            .unwrap()
            .contains("timed out after 5.0 s"),
        "{hang:?}"
    );
    assert!(
        hang.sha256.is_some(),
        "what arrived before the timeout is kept"
    );
    assert_eq!(hang.redactions, 1);
    for name in ["before", "after"] {
        let i = items
            .iter()
            .find(|i| i.path == format!("n1/test/{name}.txt"))
            .unwrap();
        assert_eq!(
            (i.outcome, i.exit_status, i.timed_out),
            (Outcome::Ok, Some(0), false),
            "{i:?}"
        );
    }
    // The connection is still good after the timed-out channel.
    assert!(session
        .exec("true", Duration::from_secs(10))
        .await
        .unwrap()
        .success());

    let m = manifest_with(items);
    assert!(m.partial);
    drop(run);
    publish(writer, temp, &paths.archive, &m).await;
    let (back, v) = archive::verify(&paths.archive).unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(back.items.len(), 3);
    let mut tar = tar::Archive::new(
        zstd::Decoder::new(std::fs::File::open(&paths.archive).unwrap()).unwrap(),
    );
    let mut contents = std::collections::HashMap::new();
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut text = String::new();
        e.read_to_string(&mut text).unwrap();
        contents.insert(name, text);
    }
    assert_eq!(
        contents["n1/test/hang.txt"],
        "started\npassword=[redacted]\n"
    );
    assert_eq!(contents["n1/test/before.txt"], "before\n");
    assert_eq!(contents["n1/test/after.txt"], "after\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_refused_by_max_sessions_are_retried() {
    let s = sshd_with_max_sessions(2);
    let dir = tempfile::tempdir().unwrap();
    let (_, cfg) = loop_config(dir.path(), &s);
    let session = s.session().await;
    let created = SystemTime::now();
    let paths = OutputPaths::new(Some(dir.path()), "loop", created).unwrap();
    let run = Run {
        rules: None,
        spool: Arc::new(SpoolDir::create(&paths.spool_dir).unwrap()),
        writer: Arc::new(ArchiveWriter::create(&paths.temp, created).unwrap()),
        window: window(),
        deadline: Deadline::after(Duration::from_secs(60)),
        cfg: Arc::new(cfg),
        started: Instant::now(),
    };
    let _temp = TempArchive::new(&paths.temp);
    let progress: Arc<dyn Reporter> = Arc::new(Silent);
    // Six at once against a server that allows two sessions.
    let results = futures::future::join_all((0..6).map(|i| {
        let item = spec(
            &format!("{i}.txt"),
            &format!("sleep 0.3; echo {i}"),
            Duration::from_secs(30),
        );
        run.run_item(&session, "n1", item, &progress)
    }))
    .await;
    for r in results {
        let item = only(r.unwrap().0).into_item("active");
        assert_eq!(item.outcome, Outcome::Ok, "{item:?}");
        assert_eq!(item.bytes, 2);
    }
}

/// The whole command against a pair whose first node is this machine's sshd and whose second
/// node refuses connections: the bundle is written and partial (exit 1), the second node's
/// items are recorded as failed, `inspect` verifies it, and catches a tampered copy.
#[test]
fn bundle_with_one_node_down_then_inspect_and_tamper() {
    let s = sshd();
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = loop_config(dir.path(), &s);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = pairctl()
        .args([
            "-c",
            config.to_str().unwrap(),
            "-o",
            "json",
            "snapshot",
            "--since",
            "10m",
            "-O",
        ])
        .arg(&out_dir)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "partial bundle expected; stderr: {stderr}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "-o json is one document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(summary["schema"], "pairctl.snapshot/1");
    assert_eq!(summary["partial"], true);
    let archive_path = std::path::PathBuf::from(summary["archive"].as_str().unwrap());
    let name = archive_path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("pairctl-snapshot-loop-") && name.ends_with("Z.tar.zst"),
        "{name}"
    );
    let n2 = summary["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "n2")
        .unwrap();
    assert_eq!(n2["reachable"], false);
    let n1 = summary["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "n1")
        .unwrap();
    assert_eq!(n1["reachable"], true);

    // Only the archive and its checksum are left in the directory; the checksum matches.
    let mut left: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [name.clone(), format!("{name}.sha256")]);
    let bytes = std::fs::read(&archive_path).unwrap();
    let sidecar = std::fs::read_to_string(out_dir.join(format!("{name}.sha256"))).unwrap();
    assert_eq!(
        sidecar,
        format!("{}  {name}\n", hex::encode(Sha256::digest(&bytes)))
    );
    assert_eq!(summary["sha256"], hex::encode(Sha256::digest(&bytes)));

    let inspect = pairctl()
        .args(["-o", "json", "snapshot", "inspect"])
        .arg(&archive_path)
        .output()
        .unwrap();
    assert_eq!(
        inspect.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    let items = doc["manifest"]["items"].as_array().unwrap();
    let n2_items: Vec<_> = items.iter().filter(|i| i["node"] == "n2").collect();
    assert!(!n2_items.is_empty());
    for i in &n2_items {
        assert_eq!(i["outcome"], "failed", "{i}");
        assert_eq!(i["sha256"], serde_json::Value::Null);
        assert!(
            i["error"].as_str().unwrap().starts_with("unreachable"),
            "{i}"
        );
    }
    let uname = items
        .iter()
        .find(|i| i["path"] == "n1/system/uname.txt")
        .unwrap();
    assert_eq!(uname["outcome"], "ok", "{uname}");
    assert!(items.iter().any(|i| i["path"] == "cluster/status.json"));
    assert_eq!(doc["verification"]["ok"], true);

    // The table names the nodes and verifies.
    let table = pairctl()
        .args(["snapshot", "inspect"])
        .arg(&archive_path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert_eq!(table.status.code(), Some(0), "{text}");
    assert!(
        text.contains("n2 (") && text.contains("UNREACHABLE"),
        "{text}"
    );
    assert!(text.contains("Verified: all"), "{text}");
    assert!(
        text.lines()
            .filter(|l| l.starts_with(['+', '|']))
            .all(|l| l.chars().count() <= 80),
        "a table wider than 80 columns:\n{text}"
    );
    assert!(text.contains(" items: failed: unreachable: n2:"), "{text}");

    // Change one stored file inside the archive: inspect names it and exits 1.
    let tampered = dir.path().join(&name);
    {
        let out = zstd::Encoder::new(std::fs::File::create(&tampered).unwrap(), 3).unwrap();
        let mut tar = tar::Builder::new(out);
        let mut input = tar::Archive::new(
            zstd::Decoder::new(std::fs::File::open(&archive_path).unwrap()).unwrap(),
        );
        for e in input.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            if path == "n1/system/uname.txt" {
                data = b"Linux tampered\n".to_vec();
            }
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            tar.append_data(&mut h, &path, data.as_slice()).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
    }
    let bad = pairctl()
        .args(["snapshot", "inspect"])
        .arg(&tampered)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(
        text.contains("n1/system/uname.txt: sha256 mismatch"),
        "{text}"
    );

    let not_a_bundle = dir.path().join("plain.txt");
    std::fs::write(&not_a_bundle, "hello").unwrap();
    let e = pairctl()
        .args(["snapshot", "inspect"])
        .arg(&not_a_bundle)
        .output()
        .unwrap();
    assert_eq!(e.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&e.stderr).contains("error:"));
}

#[test]
fn usage_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let s = sshd();
    let (config, _) = loop_config(dir.path(), &s);
    let c = config.to_str().unwrap();
    for (args, want) in [
        (vec!["snapshot", "--since", "soon"], "--since"),
        (
            vec!["snapshot", "--since", "1h", "--until", "2h"],
            "window is empty",
        ),
        (vec!["snapshot", "--node", "n9"], "nodes: n1, n2"),
    ] {
        let out = pairctl().args(["-c", c]).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    let out = pairctl()
        .args(["-c", c, "snapshot", "--no-redact", "-O"])
        .arg(dir.path().join("missing-dir/"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--no-redact"), "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(out.status.code(), Some(64));
}
