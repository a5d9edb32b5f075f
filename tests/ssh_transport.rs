//! The SSH transport against a real OpenSSH sshd on loopback: strict host-key checking,
//! accept-new, a changed key refused, known_hosts as OpenSSH writes it (hashed, bracketed,
//! wildcards, @cert-authority host certificates signed with ssh-keygen -s, @revoked), keys
//! from a real ssh-agent, many channels on one connection, deadlines, exit statuses and
//! signals.
#![allow(clippy::unwrap_used)]

use crate::common::sshd::{keygen, public_key_of, sshd, sshd_custom, Agent, Sshd};
use pairctl::config::{HostKeyPolicy, SshConfig};
use pairctl::transport::ssh::{ConnectErrorKind, SshSession, SshTarget};
use pairctl::transport::Exec;
use pairctl::transport::ProbeErrorKind;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

async fn connect(
    s: &Sshd,
    kh: PathBuf,
    policy: HostKeyPolicy,
) -> Result<SshSession, pairctl::transport::ssh::ConnectError> {
    SshSession::connect(&s.target(), &s.config(kh, policy), Duration::from_secs(10)).await
}

#[tokio::test]
async fn unknown_host_key_is_refused_when_strict() {
    let s = sshd();
    let kh = s.dir.path().join("known_hosts");
    let e = connect(&s, kh.clone(), HostKeyPolicy::Strict)
        .await
        .err()
        .expect("strict must refuse an unknown key");
    assert!(e.host_key());
    assert!(
        e.message.contains("not in") && e.message.contains(&kh.display().to_string()),
        "{}",
        e.message
    );
    assert!(e.hint.unwrap().contains("--accept-new-host-keys"));
    assert!(
        !kh.exists() || std::fs::read_to_string(&kh).unwrap().is_empty(),
        "strict must not write known_hosts"
    );
}

#[tokio::test]
async fn accept_new_writes_known_hosts_then_strict_connects() {
    let s = sshd();
    let kh = s.dir.path().join("sub/known_hosts");
    let session = connect(&s, kh.clone(), HostKeyPolicy::AcceptNew)
        .await
        .unwrap();
    session.close().await;
    let written = std::fs::read_to_string(&kh).unwrap();
    assert!(
        written.contains(&format!("[127.0.0.1]:{}", s.port)),
        "{written}"
    );
    let session = connect(&s, kh, HostKeyPolicy::Strict).await.unwrap();
    echo_ok(&session).await;
}

#[tokio::test]
async fn changed_host_key_is_refused_naming_file_and_line() {
    let s = sshd();
    let other = s.dir.path().join("other_key");
    keygen(&other);
    let pubkey = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let mut parts = pubkey.split_whitespace();
    let kh = s.dir.path().join("known_hosts");
    std::fs::write(
        &kh,
        format!(
            "# pairctl test\n[127.0.0.1]:{} {} {}\n",
            s.port,
            parts.next().unwrap(),
            parts.next().unwrap()
        ),
    )
    .unwrap();
    for policy in [HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew] {
        let e = connect(&s, kh.clone(), policy)
            .await
            .err()
            .expect("a changed key must be refused");
        assert!(e.message.contains("HOST KEY CHANGED"), "{}", e.message);
        assert!(
            e.message.contains(&format!("{} line 2", kh.display())),
            "{}",
            e.message
        );
        assert!(e.hint.as_deref().unwrap().contains("ssh-keygen -R"));
    }
}

#[tokio::test]
async fn many_channels_on_one_connection_at_once() {
    let s = sshd();
    let kh = s.dir.path().join("known_hosts");
    std::fs::write(&kh, s.known_hosts_line()).unwrap();
    let session = connect(&s, kh, HostKeyPolicy::Strict).await.unwrap();
    // More than sshd's MaxSessions (10): the transport must queue, not fail.
    let runs = (0..24).map(|i| {
        let session = &session;
        async move {
            (
                i,
                session
                    .exec(&format!("sleep 0.3; echo {i}"), Duration::from_secs(30))
                    .await,
            )
        }
    });
    for (i, out) in futures::future::join_all(runs).await {
        let out = out.unwrap();
        assert!(out.success(), "channel {i}: {:?}", out);
        assert_eq!(out.stdout_str().trim(), i.to_string());
    }
}

#[tokio::test]
async fn status_stderr_signal_input_and_deadline() {
    let s = sshd();
    let kh = s.dir.path().join("known_hosts");
    std::fs::write(&kh, s.known_hosts_line()).unwrap();
    let session = connect(&s, kh, HostKeyPolicy::Strict).await.unwrap();
    let out = session
        .exec("echo oops >&2; exit 3", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(out.status, Some(3));
    assert_eq!(out.stderr_str(), "oops");
    assert_eq!(out.failure_summary(), "exit status 3: oops");

    let out = session
        .exec("kill -TERM $$", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(out.status, None);
    assert!(out.signal.is_some(), "{out:?}");

    let out = session
        .exec_with_input("cat", Some(b"secret via stdin"), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "secret via stdin");

    let e = session
        .exec("sleep 5", Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(e.kind, pairctl::transport::ProbeErrorKind::TimedOut, "{e}");
    assert!(e.message.contains("timed out"), "{e}");
    // The connection survives a timed-out channel.
    assert!(session
        .exec("true", Duration::from_secs(10))
        .await
        .unwrap()
        .success());
}

#[tokio::test]
async fn frozen_server_costs_only_the_connect_deadline() {
    // A listener that accepts and never speaks: like a SIGSTOPped sshd.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let target = SshTarget {
        name: "frozen".into(),
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    let cfg = SshConfig {
        user: "root".into(),
        port,
        identity_file: None,
        known_hosts: PathBuf::from("/nonexistent/known_hosts"),
        host_key_policy: HostKeyPolicy::Strict,
        connect_timeout: Duration::from_secs(1),
        ..SshConfig::default()
    };
    let e = SshSession::connect(&target, &cfg, Duration::from_millis(500))
        .await
        .err()
        .unwrap();
    assert!(e.message.contains("timed out"), "{}", e.message);
    // Said by kind: the node's SSH check reads a timeout, not an unreachable node.
    assert_eq!(e.kind, ConnectErrorKind::TimedOut);
    assert_eq!(e.error().kind, ProbeErrorKind::TimedOut);
    // TCP answered: the node is up, other connections to it are worth trying.
    assert!(!e.silent, "{}", e.message);
    drop(listener);

    // Nothing listening: refused at once, not silent either.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = SshTarget {
        name: "closed".into(),
        addr: closed.local_addr().unwrap(),
    };
    drop(closed);
    let e = SshSession::connect(&target, &cfg, Duration::from_millis(500))
        .await
        .err()
        .unwrap();
    assert!(e.message.contains("cannot connect"), "{}", e.message);
    assert_eq!(e.error().kind, ProbeErrorKind::Unreachable);
    assert!(!e.silent, "{}", e.message);
}

#[tokio::test]
async fn an_endless_answer_is_cut_at_the_limit_of_the_call() {
    let s = sshd();
    let kh = s.dir.path().join("known_hosts");
    let session = connect(&s, kh, HostKeyPolicy::AcceptNew).await.unwrap();
    // An endless stream: only the limit, never the deadline, can end the call.
    let e = session
        .exec(
            "yes AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            Duration::from_secs(20),
        )
        .await
        .unwrap_err();
    assert!(
        e.message
            .contains("output too large (more than 1048576 bytes"),
        "{e}"
    );
    let e = session
        .exec_limited(
            "head -c 5000 /dev/zero",
            None,
            Duration::from_secs(10),
            4096,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, pairctl::transport::ProbeErrorKind::Failed, "{e}");
    assert!(
        e.message.contains("output too large (more than 4096 bytes"),
        "{e}"
    );
    let out = session
        .exec_limited(
            "head -c 4096 /dev/zero",
            None,
            Duration::from_secs(10),
            4096,
        )
        .await
        .unwrap();
    assert_eq!(out.stdout.len(), 4096);
    // The connection is still good for the next command.
    let out = session
        .exec("echo ok", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "ok\n");
}

async fn echo_ok(session: &SshSession) {
    let out = session
        .exec("echo hello", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "hello\n");
}

#[tokio::test]
async fn hashed_bracketed_tabbed_and_wildcard_known_hosts() {
    let s = sshd();
    let kh = s.dir.path().join("known_hosts");
    // As `ssh-keygen -H` leaves it: every name hashed, the port inside the hash.
    std::fs::write(&kh, s.known_hosts_line()).unwrap();
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-H", "-f"])
        .arg(&kh)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen -H failed");
    let hashed = std::fs::read_to_string(&kh).unwrap();
    assert!(hashed.starts_with("|1|"), "{hashed}");
    connect(&s, kh.clone(), HostKeyPolicy::Strict)
        .await
        .map(|_| ())
        .unwrap();
    // A tab between fields and a wildcard in the bracketed name, as people write by hand.
    std::fs::write(
        &kh,
        format!("[127.0.0.?]:{}\t{}\n", s.port, s.host_public_key()),
    )
    .unwrap();
    let session = connect(&s, kh.clone(), HostKeyPolicy::Strict)
        .await
        .unwrap();
    echo_ok(&session).await;
    // The same key recorded for port 22 only does not vouch for this port.
    std::fs::write(&kh, format!("127.0.0.1 {}\n", s.host_public_key())).unwrap();
    let e = connect(&s, kh, HostKeyPolicy::Strict).await.err().unwrap();
    assert!(e.message.contains("is not in"), "{}", e.message);
}

#[tokio::test]
async fn revoked_key_is_refused_even_when_listed_and_accept_new() {
    let s = sshd();
    let kh = s.dir.path().join("known_hosts");
    std::fs::write(
        &kh,
        format!(
            "{}@revoked * {}\n",
            s.known_hosts_line(),
            s.host_public_key()
        ),
    )
    .unwrap();
    for policy in [HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew] {
        let e = connect(&s, kh.clone(), policy).await.err().unwrap();
        assert!(e.host_key());
        assert!(
            e.message.contains("REVOKED") && e.message.contains("line 2"),
            "{}",
            e.message
        );
    }
}

/// An sshd presenting a host certificate signed by a fresh CA with `ssh-keygen -s`; the CA's
/// key pair is `ca` in its directory.
fn sshd_with_host_certificate(keygen_args: &'static [&'static str]) -> Sshd {
    sshd_custom(10, |d: &Path| {
        keygen(&d.join("ca"));
        let ok = Command::new("ssh-keygen")
            .arg("-q")
            .arg("-s")
            .arg(d.join("ca"))
            .args(["-I", "pairctl-test-host", "-h"])
            .args(keygen_args)
            .arg(d.join("host_key.pub"))
            .status()
            .unwrap()
            .success();
        assert!(ok, "ssh-keygen -s failed");
        format!(
            "HostCertificate {}\n",
            d.join("host_key-cert.pub").display()
        )
    })
}

fn authority_line(s: &Sshd, marker: &str) -> String {
    format!(
        "{marker} [127.0.0.1]:{} {}\n",
        s.port,
        public_key_of(&s.dir.path().join("ca"))
    )
}

#[tokio::test]
async fn host_certificate_from_a_trusted_authority() {
    let s = sshd_with_host_certificate(&["-n", "127.0.0.1"]);
    let kh = s.dir.path().join("known_hosts");
    // Only the authority is known: the host's own key is in no line.
    std::fs::write(&kh, authority_line(&s, "@cert-authority")).unwrap();
    let session = connect(&s, kh.clone(), HostKeyPolicy::Strict)
        .await
        .unwrap();
    echo_ok(&session).await;
    // The authority revoked: refused, whatever the policy.
    std::fs::write(
        &kh,
        format!(
            "{}{}",
            authority_line(&s, "@cert-authority"),
            authority_line(&s, "@revoked")
        ),
    )
    .unwrap();
    let e = connect(&s, kh, HostKeyPolicy::AcceptNew)
        .await
        .err()
        .unwrap();
    assert!(e.message.contains("REVOKED"), "{}", e.message);
}

#[tokio::test]
async fn host_certificate_for_another_host_or_expired_is_refused() {
    for (args, why) in [
        (&["-n", "other.example"][..], "is for other.example"),
        (
            &["-n", "127.0.0.1", "-V", "20200101:20200102"][..],
            "expired",
        ),
    ] {
        let s = sshd_with_host_certificate(args);
        let kh = s.dir.path().join("known_hosts");
        std::fs::write(&kh, authority_line(&s, "@cert-authority")).unwrap();
        for policy in [HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew] {
            let e = connect(&s, kh.clone(), policy).await.err().unwrap();
            assert!(e.host_key(), "{}", e.message);
            assert!(
                e.message.contains("host certificate") && e.message.contains(why),
                "{}",
                e.message
            );
        }
    }
}

#[tokio::test]
async fn certificate_with_an_unknown_authority_falls_back_to_the_plain_key() {
    let s = sshd_with_host_certificate(&["-n", "127.0.0.1"]);
    let kh = s.dir.path().join("known_hosts");
    // An authority for other hosts makes pairctl ask for certificates; this host's line is
    // its plain key, which the certificate holds.
    std::fs::write(
        &kh,
        format!(
            "{}@cert-authority *.example {}\n",
            s.known_hosts_line(),
            public_key_of(&s.dir.path().join("client_key"))
        ),
    )
    .unwrap();
    let session = connect(&s, kh, HostKeyPolicy::Strict).await.unwrap();
    echo_ok(&session).await;
}

fn agent_only_config(s: &Sshd, agent: &Agent) -> SshConfig {
    let mut cfg = s.config(s.known_hosts(), HostKeyPolicy::Strict);
    cfg.identity_file = None;
    cfg.agent_socket = Some(agent.socket.clone());
    cfg
}

#[tokio::test]
async fn key_from_the_agent_only() {
    let s = sshd();
    let agent = Agent::start();
    // A key the node does not know first, then the right one: both offered, in order.
    let stranger = s.dir.path().join("stranger");
    keygen(&stranger);
    agent.add(&stranger);
    agent.add(&s.client_key());
    let cfg = agent_only_config(&s, &agent);
    let session = SshSession::connect(&s.target(), &cfg, Duration::from_secs(10))
        .await
        .unwrap();
    echo_ok(&session).await;
}

#[tokio::test]
async fn agent_without_an_acceptable_key_says_so() {
    let s = sshd();
    let agent = Agent::start();
    let cfg = agent_only_config(&s, &agent);
    let e = SshSession::connect(&s.target(), &cfg, Duration::from_secs(10))
        .await
        .err()
        .unwrap();
    assert!(
        e.message.contains("permission denied") && e.message.contains("holds no keys"),
        "{}",
        e.message
    );
    let stranger = s.dir.path().join("stranger");
    keygen(&stranger);
    agent.add(&stranger);
    let e = SshSession::connect(&s.target(), &cfg, Duration::from_secs(10))
        .await
        .err()
        .unwrap();
    let fingerprint = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(stranger.with_extension("pub"))
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&fingerprint.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    assert!(
        e.message.contains("no acceptable key") && e.message.contains(&fingerprint),
        "{}",
        e.message
    );
    assert!(e.hint.unwrap().contains("ssh-add"));
}

/// Established TCP connections this process holds to `port` on 127.0.0.1 (its sockets'
/// inodes in /proc/net/tcp).
fn connections_to(port: u16) -> usize {
    let mine: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 9
                && f[2] == format!("0100007F:{port:04X}")
                && f[3] == "01"
                && mine.iter().any(|inode| inode == f[9])
        })
        .count()
}

/// pairctl's config for a node reached through `bastion`: both host keys known, one key.
fn jump_config(node: &Sshd, bastion: &Sshd) -> SshConfig {
    let kh = node.dir.path().join("known_hosts.both");
    std::fs::write(
        &kh,
        format!("{}{}", node.known_hosts_line(), bastion.known_hosts_line()),
    )
    .unwrap();
    // The bastion authorizes the node's client key too.
    std::fs::copy(
        node.client_key().with_extension("pub"),
        bastion.dir.path().join("authorized_keys"),
    )
    .unwrap();
    let mut cfg = node.config(kh, HostKeyPolicy::Strict);
    cfg.jump = Some(
        pairctl::transport::ssh_config::parse_jump_list(&format!(
            "{}@127.0.0.1:{}",
            Sshd::user(),
            bastion.port
        ))
        .unwrap(),
    );
    cfg
}

#[tokio::test]
async fn through_a_jump_host_one_connection_for_every_session() {
    let node = sshd();
    let bastion = sshd();
    let cfg = jump_config(&node, &bastion);
    let target = node.target();
    let (a, b) = tokio::join!(
        SshSession::connect(&target, &cfg, Duration::from_secs(10)),
        SshSession::connect(&target, &cfg, Duration::from_secs(10)),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.tunnels(), "a jump host means SQL and HTTPS ride SSH");
    echo_ok(&a).await;
    echo_ok(&b).await;
    // Two sessions to the node, one connection to the bastion.
    assert_eq!(connections_to(bastion.port), 1);
    assert_eq!(
        connections_to(node.port),
        0,
        "the node is reached only through the bastion"
    );
}

#[tokio::test]
async fn the_jump_hosts_key_is_checked_too() {
    let node = sshd();
    let bastion = sshd();
    let mut cfg = jump_config(&node, &bastion);
    // Only the node's key is known: the bastion is refused before the node is tried.
    let kh = node.dir.path().join("known_hosts.node-only");
    std::fs::write(&kh, node.known_hosts_line()).unwrap();
    cfg.known_hosts = kh;
    let e = SshSession::connect(&node.target(), &cfg, Duration::from_secs(10))
        .await
        .err()
        .unwrap();
    assert!(e.host_key(), "{}", e.message);
    assert!(
        e.message.starts_with("testnode: jump host ")
            && e.message
                .contains(&format!("[127.0.0.1]:{} is not in", bastion.port)),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_node_the_jump_host_cannot_reach_fails_within_the_deadline() {
    let node = sshd();
    let bastion = sshd();
    let cfg = jump_config(&node, &bastion);
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = SshTarget {
        name: "gone".into(),
        addr: closed.local_addr().unwrap(),
    };
    drop(closed);
    let mut cfg = cfg;
    cfg.port = target.addr.port();
    let e = SshSession::connect(&target, &cfg, Duration::from_secs(10))
        .await
        .err()
        .unwrap();
    assert!(
        e.message.contains("cannot reach") && e.message.contains("jump host"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn ssh_config_names_port_key_and_known_hosts() {
    let s = sshd();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    std::fs::write(
        &file,
        format!(
            "Host 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  StrictHostKeyChecking yes\nMatch all\n  Port 1\n",
            s.port,
            Sshd::user(),
            s.client_key().display(),
            s.known_hosts().display()
        ),
    )
    .unwrap();
    let parsed = pairctl::transport::ssh_config::SshConfigFile::load(&file).unwrap();
    assert_eq!(parsed.warnings.len(), 1, "Match is ignored with a warning");
    // pairctl's own [ssh] says nothing of port, key or known_hosts.
    let cfg = SshConfig {
        ssh_config: Some(std::sync::Arc::new(parsed)),
        known_hosts: PathBuf::from("/nonexistent/known_hosts"),
        ..SshConfig::default()
    };
    let target = SshTarget {
        name: "testnode".into(),
        addr: SocketAddr::from(([127, 0, 0, 1], 22)),
    };
    let session = SshSession::connect(&target, &cfg, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(!session.tunnels());
    echo_ok(&session).await;
}
