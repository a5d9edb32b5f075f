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
    sshd_custom(max_sessions, |_| String::new())
}

/// An sshd whose directory `extra` may prepare (the host key and client key exist by then);
/// the lines it returns are added to sshd_config.
pub fn sshd_custom(max_sessions: u32, extra: impl FnOnce(&Path) -> String) -> Sshd {
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
    let extra = extra(d);
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
KbdInteractiveAuthentication no\nMaxSessions {max_sessions}\nLogLevel ERROR\n{extra}",
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
            ..SshConfig::default()
        }
    }
    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_key")
    }
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}\n", self.port, self.host_public_key())
    }
    /// `type base64` of the host key.
    pub fn host_public_key(&self) -> String {
        public_key_of(&self.dir.path().join("host_key"))
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

/// `type base64` of the key pair at `path` (its `.pub`).
pub fn public_key_of(path: &Path) -> String {
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    let text = std::fs::read_to_string(pub_path).unwrap();
    let mut parts = text.split_whitespace();
    format!("{} {}", parts.next().unwrap(), parts.next().unwrap())
}

/// A real ssh-agent on a socket of its own (killed on drop).
pub struct Agent {
    child: Child,
    pub socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Agent {
    pub fn start() -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent (openssh-client) is needed for the agent tests");
        let up = crate::common::wait_until(Duration::from_secs(10), || socket.exists());
        assert!(up, "ssh-agent did not create {}", socket.display());
        Agent {
            child,
            socket,
            _dir: dir,
        }
    }
    /// `ssh-add KEY` into this agent.
    pub fn add(&self, key: &Path) {
        let ok = Command::new("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &self.socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "ssh-add {} failed", key.display());
    }
}
