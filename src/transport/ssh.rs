//! SSH transport (russh): one connection per node for the whole command; every remote command
//! is a channel on it, run concurrently (bounded below sshd's MaxSessions); host keys checked
//! against known_hosts, strict by default.

use crate::config::{HostKeyPolicy, SshConfig};
use crate::error::{Error, ErrorKind};
use russh::client::{self, Handle};
use russh::keys::{self, HashAlg, PrivateKeyWithHashAlg, PublicKey};
use russh::ChannelMsg;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

/// OpenSSH's sshd allows 10 sessions per connection (MaxSessions); stay below it.
const MAX_CHANNELS: usize = 8;

#[derive(Debug, Clone)]
pub struct SshTarget {
    /// Node name, for messages.
    pub name: String,
    pub addr: SocketAddr,
}

/// What a remote command produced.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// None when the command died from a signal or the server sent no status.
    pub status: Option<u32>,
    pub signal: Option<String>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }
    /// A one-line account of a failure: exit status and the last stderr line.
    pub fn failure_summary(&self) -> String {
        let how = match (&self.status, &self.signal) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            (None, None) => "no exit status".to_string(),
        };
        let err = self.stderr_str();
        let last = err.lines().last().unwrap_or("").trim();
        if last.is_empty() {
            how
        } else {
            format!("{how}: {last}")
        }
    }
}

#[derive(Debug)]
enum HostKeyProblem {
    Unknown { fingerprint: String },
    Changed { line: usize, fingerprint: String },
    Unreadable(String),
    LearnFailed(String),
}

struct ClientHandler {
    host: String,
    port: u16,
    known_hosts: PathBuf,
    policy: HostKeyPolicy,
    problem: Arc<Mutex<Option<HostKeyProblem>>>,
}

impl ClientHandler {
    fn record(&self, p: HostKeyProblem) {
        if let Ok(mut slot) = self.problem.lock() {
            *slot = Some(p);
        }
    }
}

impl client::Handler for ClientHandler {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key: PublicKey = key.public_key();
        let key = &key;
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        match keys::check_known_hosts_path(&self.host, self.port, key, &self.known_hosts) {
            Ok(true) => Ok(true),
            Ok(false) => match self.policy {
                HostKeyPolicy::Strict => {
                    self.record(HostKeyProblem::Unknown { fingerprint });
                    Ok(false)
                }
                HostKeyPolicy::AcceptNew => {
                    match keys::known_hosts::learn_known_hosts_path(
                        &self.host,
                        self.port,
                        key,
                        &self.known_hosts,
                    ) {
                        Ok(()) => {
                            tracing::info!(host = %self.host, %fingerprint, file = %self.known_hosts.display(), "learned new host key");
                            Ok(true)
                        }
                        Err(e) => {
                            self.record(HostKeyProblem::LearnFailed(e.to_string()));
                            Ok(false)
                        }
                    }
                }
            },
            Err(keys::Error::KeyChanged { line }) => {
                let line = file_line_of_entry(&self.known_hosts, line);
                self.record(HostKeyProblem::Changed { line, fingerprint });
                Ok(false)
            }
            Err(e) => {
                self.record(HostKeyProblem::Unreadable(e.to_string()));
                Ok(false)
            }
        }
    }
}

/// russh numbers known_hosts entries without counting comment lines; operators need the
/// line as their editor shows it.
fn file_line_of_entry(path: &Path, entry: usize) -> usize {
    let Ok(text) = std::fs::read_to_string(path) else {
        return entry;
    };
    let mut seen = 0;
    for (i, line) in text.lines().enumerate() {
        if !line.starts_with('#') {
            seen += 1;
            if seen == entry {
                return i + 1;
            }
        }
    }
    entry
}

/// One authenticated connection to one node.
pub struct SshSession {
    target: SshTarget,
    handle: Handle<ClientHandler>,
    slots: Arc<Semaphore>,
}

/// Why a connection could not be made, as an operator reads it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    pub message: String,
    pub hint: Option<String>,
    /// Host-key problems are configuration/security errors, not reachability.
    pub host_key: bool,
    /// Not even TCP answered within the limit, or there is no route to the node (powered
    /// off, link cut): other connections to it would wait or fail the same way, and need
    /// not be tried.
    pub silent: bool,
}

impl ConnectError {
    fn plain(message: String) -> Self {
        Self {
            message,
            hint: None,
            host_key: false,
            silent: false,
        }
    }
    pub fn into_error(self) -> Error {
        let kind = if self.host_key {
            ErrorKind::Refused
        } else {
            ErrorKind::Failed
        };
        let mut e = Error::new(kind, self.message);
        if let Some(h) = self.hint {
            e = e.hint(h);
        }
        e
    }
}

fn ssh_config() -> Arc<client::Config> {
    Arc::new(client::Config {
        keepalive_interval: Some(Duration::from_secs(5)),
        keepalive_max: 3,
        // AES-GCM runs on the CPU's AES instructions (ring): on a snapshot stream it costs
        // both ends well under half of chacha20-poly1305.
        preferred: russh::Preferred {
            cipher: std::borrow::Cow::Borrowed(&[
                russh::cipher::AES_256_GCM,
                russh::cipher::AES_128_GCM,
                russh::cipher::CHACHA20_POLY1305,
            ]),
            ..Default::default()
        },
        ..Default::default()
    })
}

impl SshSession {
    /// Connects, checks the host key, authenticates, all within `limit`.
    pub async fn connect(
        target: &SshTarget,
        cfg: &SshConfig,
        limit: Duration,
    ) -> Result<Self, ConnectError> {
        let started = std::time::Instant::now();
        let timed_out = |silent: bool| {
            let mut e = ConnectError::plain(format!(
                "{}: SSH to {} timed out after {}{}",
                target.name,
                target.addr,
                crate::render::human_duration(limit),
                if silent { " (no answer to TCP)" } else { "" }
            ));
            e.silent = silent;
            e
        };
        let tcp = match tokio::time::timeout(limit, tokio::net::TcpStream::connect(target.addr))
            .await
        {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => {
                let mut error = ConnectError::plain(format!(
                    "{}: cannot connect to {}: {e}",
                    target.name, target.addr
                ));
                error.silent = matches!(
                    e.kind(),
                    std::io::ErrorKind::HostUnreachable | std::io::ErrorKind::NetworkUnreachable
                );
                return Err(error);
            }
            Err(_) => return Err(timed_out(true)),
        };
        // Without TCP_NODELAY every round trip waits on Nagle: ~40 ms per command.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("set_nodelay: {e}");
        }
        let rest = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(rest, Self::connect_inner(tcp, target, cfg)).await {
            Ok(r) => r,
            Err(_) => Err(timed_out(false)),
        }
    }

    async fn connect_inner(
        tcp: tokio::net::TcpStream,
        target: &SshTarget,
        cfg: &SshConfig,
    ) -> Result<Self, ConnectError> {
        let host = target.addr.ip().to_string();
        let problem = Arc::new(Mutex::new(None));
        let handler = ClientHandler {
            host: host.clone(),
            port: target.addr.port(),
            known_hosts: cfg.known_hosts.clone(),
            policy: cfg.host_key_policy,
            problem: problem.clone(),
        };
        let connected = client::connect_stream(ssh_config(), tcp, handler).await;
        let mut handle = match connected {
            Ok(h) => h,
            Err(e) => {
                let recorded = problem.lock().ok().and_then(|mut p| p.take());
                return Err(match recorded {
                    Some(p) => host_key_error(target, &host, &cfg.known_hosts, p),
                    None => ConnectError::plain(format!(
                        "{}: cannot connect to {}: {e}",
                        target.name, target.addr
                    )),
                });
            }
        };
        authenticate(&mut handle, target, cfg).await?;
        Ok(SshSession {
            target: target.clone(),
            handle,
            slots: Arc::new(Semaphore::new(MAX_CHANNELS)),
        })
    }

    pub fn target(&self) -> &SshTarget {
        &self.target
    }

    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// Runs `command` on a new channel, waiting at most `limit` (queueing for a channel slot
    /// counts against it); its stdout may hold at most `PROBE_OUTPUT_LIMIT` bytes.
    pub async fn exec(&self, command: &str, limit: Duration) -> Result<Output, String> {
        self.exec_with_input(command, None, limit).await
    }

    /// Like `exec`, with `input` written to the command's stdin (then EOF). Secrets go this
    /// way, never in the command line.
    pub async fn exec_with_input(
        &self,
        command: &str,
        input: Option<&[u8]>,
        limit: Duration,
    ) -> Result<Output, String> {
        self.exec_limited(command, input, limit, PROBE_OUTPUT_LIMIT)
            .await
    }

    /// Like `exec_with_input`, with its own bound on stdout: past `max_output` bytes the
    /// channel is closed and the call fails with "output too large".
    pub async fn exec_limited(
        &self,
        command: &str,
        input: Option<&[u8]>,
        limit: Duration,
        max_output: usize,
    ) -> Result<Output, String> {
        let name = self.target.name.clone();
        let short = short_command(command);
        let started = std::time::Instant::now();
        let result = tokio::time::timeout(limit, self.exec_inner(command, input, max_output)).await;
        tracing::debug!(node = %name, command = %short, ms = started.elapsed().as_millis() as u64, "exec");
        match result {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(format!("{name}: `{short}`: {e}")),
            Err(_) => Err(format!(
                "{name}: `{short}` timed out after {}",
                crate::render::human_duration(limit)
            )),
        }
    }

    async fn exec_inner(
        &self,
        command: &str,
        input: Option<&[u8]>,
        max_output: usize,
    ) -> Result<Output, String> {
        let _slot = self.slots.acquire().await.map_err(|e| e.to_string())?;
        let mut channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| format!("cannot open a channel: {e}"))?;
        channel
            .exec(true, command)
            .await
            .map_err(|e| format!("exec failed: {e}"))?;
        if let Some(data) = input {
            channel
                .data(data)
                .await
                .map_err(|e| format!("cannot send input: {e}"))?;
        }
        channel
            .eof()
            .await
            .map_err(|e| format!("cannot send EOF: {e}"))?;
        let mut out = Output::default();
        // Keep reading until the channel closes: a command killed by a signal sends
        // ExitSignal and no ExitStatus, and data may arrive after the status.
        // Nothing a node sends is held beyond the bounds: past `max_output` the channel is
        // closed (the remote command gets SIGPIPE), stderr keeps its first STDERR_LIMIT bytes.
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => {
                    if out.stdout.len() + data.len() > max_output {
                        let _ = channel.close().await;
                        return Err(too_large(max_output));
                    }
                    out.stdout.extend_from_slice(&data)
                }
                ChannelMsg::ExtendedData { data, ext: 1 } => keep_stderr(&mut out.stderr, &data),
                ChannelMsg::ExitStatus { exit_status } => out.status = Some(exit_status),
                ChannelMsg::ExitSignal { signal_name, .. } => {
                    out.signal = Some(format!("{signal_name:?}"))
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Runs `command` and hands its stdout to `sink` chunk by chunk as it arrives (nothing is
    /// held whole); returns the exit status and stderr.
    /// At most `max_output` bytes reach the sink; past them the call fails with "output too
    /// large" (the sink keeps what came before).
    pub async fn exec_streaming<W: tokio::io::AsyncWrite + Unpin>(
        &self,
        command: &str,
        sink: &mut W,
        limit: Duration,
        max_output: u64,
    ) -> Result<Output, String> {
        let name = self.target.name.clone();
        let short = short_command(command);
        let run = async {
            let _slot = self.slots.acquire().await.map_err(|e| e.to_string())?;
            let mut channel = self
                .handle
                .channel_open_session()
                .await
                .map_err(|e| format!("cannot open a channel: {e}"))?;
            channel
                .exec(true, command)
                .await
                .map_err(|e| format!("exec failed: {e}"))?;
            channel
                .eof()
                .await
                .map_err(|e| format!("cannot send EOF: {e}"))?;
            let mut out = Output::default();
            let mut received: u64 = 0;
            while let Some(msg) = channel.wait().await {
                match msg {
                    ChannelMsg::Data { data } => {
                        received += data.len() as u64;
                        if received > max_output {
                            let _ = channel.close().await;
                            let _ = sink.flush().await;
                            return Err(too_large(max_output as usize));
                        }
                        sink.write_all(&data)
                            .await
                            .map_err(|e| format!("write failed: {e}"))?
                    }
                    // stderr is kept for the error message only: bounded.
                    ChannelMsg::ExtendedData { data, ext: 1 } => {
                        keep_stderr(&mut out.stderr, &data)
                    }
                    ChannelMsg::ExitStatus { exit_status } => out.status = Some(exit_status),
                    ChannelMsg::ExitSignal { signal_name, .. } => {
                        out.signal = Some(format!("{signal_name:?}"))
                    }
                    _ => {}
                }
            }
            sink.flush()
                .await
                .map_err(|e| format!("write failed: {e}"))?;
            Ok::<_, String>(out)
        };
        match tokio::time::timeout(limit, run).await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(format!("{name}: `{short}`: {e}")),
            Err(_) => Err(format!(
                "{name}: `{short}` timed out after {}",
                crate::render::human_duration(limit)
            )),
        }
    }

    pub async fn close(&self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "bye", "en")
            .await;
    }
}

/// What a probe's command may print: far beyond any healthy answer (a node's `ip -j addr`,
/// gluster's XML), small enough that two nodes answering garbage cost little memory.
pub const PROBE_OUTPUT_LIMIT: usize = 1024 * 1024;
/// What is kept of a command's stderr: enough for any error message.
const STDERR_LIMIT: usize = 64 * 1024;

fn keep_stderr(stderr: &mut Vec<u8>, data: &[u8]) {
    let room = STDERR_LIMIT.saturating_sub(stderr.len());
    stderr.extend_from_slice(&data[..data.len().min(room)]);
}

fn too_large(limit: usize) -> String {
    format!("output too large (more than {limit} bytes, the limit of this call)")
}

fn short_command(command: &str) -> String {
    let first = command.lines().next().unwrap_or("").trim();
    if first.len() > 60 {
        format!(
            "{}…",
            &first[..first
                .char_indices()
                .nth(57)
                .map(|(i, _)| i)
                .unwrap_or(first.len())]
        )
    } else {
        first.to_string()
    }
}

fn host_key_error(
    target: &SshTarget,
    host: &str,
    file: &Path,
    problem: HostKeyProblem,
) -> ConnectError {
    let file_s = file.display();
    let (message, hint) = match problem {
        HostKeyProblem::Unknown { fingerprint } => (
            format!("{}: host key of {host} is not in {file_s} ({fingerprint}); connection refused", target.name),
            format!(
                "verify the fingerprint out of band, then run once with --accept-new-host-keys \
(or set ssh.host_key_policy = \"accept-new\") to record it in {file_s}"
            ),
        ),
        HostKeyProblem::Changed { line, fingerprint } => (
            format!(
                "{}: HOST KEY CHANGED for {host}: the server offers {fingerprint}, which does not match \
{file_s} line {line}; connection refused (possible man-in-the-middle)",
                target.name
            ),
            format!(
                "if the node was reinstalled on purpose, remove the old entry with \
`ssh-keygen -R {host} -f {file_s}` (line {line}) and reconnect with --accept-new-host-keys"
            ),
        ),
        HostKeyProblem::Unreadable(e) => (
            format!("{}: cannot read known_hosts {file_s}: {e}", target.name),
            "check ssh.known_hosts in the configuration".to_string(),
        ),
        HostKeyProblem::LearnFailed(e) => (
            format!("{}: cannot record the host key of {host} in {file_s}: {e}", target.name),
            "check that the known_hosts directory is writable".to_string(),
        ),
    };
    ConnectError {
        message,
        hint: Some(hint),
        host_key: true,
        silent: false,
    }
}

async fn authenticate(
    handle: &mut Handle<ClientHandler>,
    target: &SshTarget,
    cfg: &SshConfig,
) -> Result<(), ConnectError> {
    let fail = |m: String| ConnectError::plain(format!("{}: {m}", target.name));
    let mut tried = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(f) = &cfg.identity_file {
        files.push(f.clone());
    } else {
        // The agent first, as OpenSSH does when no identity is configured.
        if std::env::var_os("SSH_AUTH_SOCK").is_some() {
            match try_agent(handle, &cfg.user).await {
                Ok(true) => return Ok(()),
                Ok(false) => tried.push("ssh-agent keys".to_string()),
                Err(e) => tried.push(format!("ssh-agent ({e})")),
            }
        }
        if let Some(home) = std::env::var_os("HOME") {
            for name in ["id_ed25519", "id_ecdsa", "id_rsa"] {
                let p = Path::new(&home).join(".ssh").join(name);
                if p.is_file() {
                    files.push(p);
                }
            }
        }
    }
    for file in files {
        let key = keys::load_secret_key(&file, None)
            .map_err(|e| fail(format!("cannot load identity {}: {e}", file.display())))?;
        let hash = if key.algorithm().is_rsa() {
            handle
                .best_supported_rsa_hash()
                .await
                .ok()
                .flatten()
                .flatten()
        } else {
            None
        };
        let result = handle
            .authenticate_publickey(&cfg.user, PrivateKeyWithHashAlg::new(Arc::new(key), hash))
            .await
            .map_err(|e| fail(format!("authentication failed: {e}")))?;
        if result.success() {
            return Ok(());
        }
        tried.push(file.display().to_string());
    }
    Err(ConnectError {
        message: format!(
            "{}: permission denied for {}@{} (tried: {})",
            target.name,
            cfg.user,
            target.addr,
            if tried.is_empty() {
                "no keys found".to_string()
            } else {
                tried.join(", ")
            }
        ),
        hint: Some("set ssh.identity_file, or add the key to ssh-agent".into()),
        host_key: false,
        silent: false,
    })
}

async fn try_agent(handle: &mut Handle<ClientHandler>, user: &str) -> Result<bool, String> {
    let mut agent = keys::agent::client::AgentClient::connect_env()
        .await
        .map_err(|e| e.to_string())?;
    let identities = agent
        .request_identities()
        .await
        .map_err(|e| e.to_string())?;
    for identity in identities {
        let key = identity.public_key().into_owned();
        let hash = if key.algorithm().is_rsa() {
            handle
                .best_supported_rsa_hash()
                .await
                .ok()
                .flatten()
                .flatten()
        } else {
            None
        };
        match handle
            .authenticate_publickey_with(user, key, hash, &mut agent)
            .await
        {
            Ok(r) if r.success() => return Ok(true),
            Ok(_) => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(false)
}
