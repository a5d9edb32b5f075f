//! A real OpenSSH sshd on loopback for the transport and snapshot tests: its own host key,
//! accepting a fresh client key for the current user.
#![allow(dead_code, clippy::unwrap_used)]

use pairctl::config::{HostKeyPolicy, SshConfig};
use pairctl::transport::ssh::{SshSession, SshTarget};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Sshd {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen (openssh-client) is needed for the transport tests")
        .success();
    assert!(ok, "ssh-keygen failed");
}

/// Starts `sshd -D` on 127.0.0.1 with its own host key, accepting the test's client key for
/// the current user.
pub fn sshd() -> Sshd {
    sshd_with_max_sessions(10)
}

/// The same with another `MaxSessions` (sshd's limit of channels per connection).
pub fn sshd_with_max_sessions(max_sessions: u32) -> Sshd {
    let sshd = ["/usr/sbin/sshd", "/usr/bin/sshd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("OpenSSH sshd is needed for the transport tests (apt-get install openssh-server)");
    std::fs::create_dir_all("/run/sshd").ok();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(&d.join("host_key"));
    keygen(&d.join("client_key"));
    std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        d.join("sshd_config"),
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nAuthorizedKeysFile {ak}\nPidFile none\n\
StrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n\
KbdInteractiveAuthentication no\nMaxSessions {max_sessions}\nLogLevel ERROR\n",
            hk = d.join("host_key").display(),
            ak = d.join("authorized_keys").display()
        ),
    )
    .unwrap();
    let child = Command::new(sshd)
        .arg("-D")
        .arg("-e")
        .arg("-f")
        .arg(d.join("sshd_config"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let up = crate::common::wait_until(Duration::from_secs(10), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "sshd did not start listening on 127.0.0.1:{port}");
    Sshd { child, dir, port }
}

impl Sshd {
    pub fn target(&self) -> SshTarget {
        SshTarget {
            name: "testnode".into(),
            addr: SocketAddr::from(([127, 0, 0, 1], self.port)),
        }
    }
    pub fn user() -> String {
        std::env::var("USER").unwrap_or_else(|_| "root".into())
    }
    pub fn config(&self, known_hosts: PathBuf, policy: HostKeyPolicy) -> SshConfig {
        SshConfig {
            user: Self::user(),
            port: self.port,
            identity_file: Some(self.client_key()),
            known_hosts,
            host_key_policy: policy,
            connect_timeout: Duration::from_secs(5),
        }
    }
    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_key")
    }
    pub fn known_hosts_line(&self) -> String {
        let pubkey = std::fs::read_to_string(self.dir.path().join("host_key.pub")).unwrap();
        let mut parts = pubkey.split_whitespace();
        format!(
            "[127.0.0.1]:{} {} {}\n",
            self.port,
            parts.next().unwrap(),
            parts.next().unwrap()
        )
    }
    /// A known_hosts file that trusts this sshd.
    pub fn known_hosts(&self) -> PathBuf {
        let kh = self.dir.path().join("known_hosts.trusted");
        std::fs::write(&kh, self.known_hosts_line()).unwrap();
        kh
    }
    /// A connected session with strict host-key checking.
    pub async fn session(&self) -> SshSession {
        let cfg = self.config(self.known_hosts(), HostKeyPolicy::Strict);
        SshSession::connect(&self.target(), &cfg, Duration::from_secs(10))
            .await
            .unwrap()
    }
}
