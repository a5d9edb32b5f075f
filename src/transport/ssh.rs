//! SSH transport (russh): one connection per node for the whole command; every remote command
//! is a channel on it, run concurrently (bounded below sshd's MaxSessions); host keys checked
//! against known_hosts, strict by default.

use super::known_hosts::{self, KnownHosts, Verdict};
use super::ssh_config;
use super::{Deadline, Exec, ProbeError};
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

/// Everything needed to reach and trust one host: what pairctl's config says, completed from
/// ssh_config (see `ssh_config.rs`).
#[derive(Debug, Clone)]
pub struct HostSpec {
    /// Who this is in messages: the node's name, or the jump host as written.
    pub label: String,
    /// What to connect to (ssh_config's HostName) and look up in known_hosts.
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Identity files, tried in order after the agent.
    pub identities: Vec<PathBuf>,
    /// Only the identities above (and agent keys matching them), not every agent key.
    pub identities_only: bool,
    pub known_hosts: PathBuf,
    pub policy: HostKeyPolicy,
    /// The ssh-agent's socket, if any.
    pub agent: Option<PathBuf>,
}

impl HostSpec {
    /// `host:port` for messages (brackets around IPv6 addresses).
    pub fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

#[derive(Debug)]
enum HostKeyProblem {
    Unknown { fingerprint: String },
    Changed { line: usize, fingerprint: String },
    Revoked { line: usize, fingerprint: String },
    BadCertificate { reason: String, fingerprint: String },
    LearnFailed(String),
}

struct ClientHandler {
    host: String,
    port: u16,
    known: KnownHosts,
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
        presented: &keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key: PublicKey = presented.public_key();
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let verdict = match presented {
            keys::PublicKeyOrCertificate::Certificate(cert) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                self.known
                    .check_certificate(&self.host, self.port, cert, now)
            }
            keys::PublicKeyOrCertificate::PublicKey { key, .. } => {
                self.known.check_key(&self.host, self.port, key)
            }
        };
        match verdict {
            Verdict::Known => Ok(true),
            Verdict::Unknown => match self.policy {
                HostKeyPolicy::Strict => {
                    self.record(HostKeyProblem::Unknown { fingerprint });
                    Ok(false)
                }
                HostKeyPolicy::AcceptNew => {
                    match known_hosts::append(&self.known_hosts, &self.host, self.port, &key) {
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
            Verdict::Changed { line } => {
                self.record(HostKeyProblem::Changed { line, fingerprint });
                Ok(false)
            }
            Verdict::Revoked { line } => {
                self.record(HostKeyProblem::Revoked { line, fingerprint });
                Ok(false)
            }
            Verdict::BadCertificate { reason } => {
                self.record(HostKeyProblem::BadCertificate {
                    reason,
                    fingerprint,
                });
                Ok(false)
            }
        }
    }
}

/// One authenticated connection to one node.
pub struct SshSession {
    target: SshTarget,
    handle: Arc<Handle<ClientHandler>>,
    slots: Arc<Semaphore>,
    /// The jump host this connection runs through: kept open as long as this session.
    _via: Option<Arc<Hop>>,
    /// SQL and HTTPS go through this connection (see `Route::tunnel`).
    tunnel: bool,
    /// Loopback ends of tunnels through this connection, by destination.
    forwards: tokio::sync::Mutex<Vec<((String, u16), SocketAddr)>>,
    /// Their accept loops, ended with the session.
    forward_tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

impl Drop for SshSession {
    fn drop(&mut self) {
        if let Ok(tasks) = self.forward_tasks.lock() {
            for t in tasks.iter() {
                t.abort();
            }
        }
    }
}

/// Why a connection could not be made, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectErrorKind {
    /// The node (or a jump host) refused or broke the connection, or would not let pairctl
    /// in (TCP error, handshake or authentication failed).
    Unreachable,
    /// No answer within the connect limit (TCP or the handshake).
    TimedOut,
    /// A host-key problem: a configuration/security error, not reachability.
    HostKey,
}

/// Why a connection could not be made, as an operator reads it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    pub message: String,
    pub hint: Option<String>,
    pub kind: ConnectErrorKind,
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
            kind: ConnectErrorKind::Unreachable,
            silent: false,
        }
    }
    /// A connect that got no answer within its limit.
    pub fn timed_out(message: String, silent: bool) -> Self {
        Self {
            kind: ConnectErrorKind::TimedOut,
            silent,
            ..Self::plain(message)
        }
    }
    pub fn host_key(&self) -> bool {
        self.kind == ConnectErrorKind::HostKey
    }
    /// The probe error a node's SSH check reports: a host-key problem is a refusal of the
    /// answer, a timeout a timeout, anything else a node not reached.
    pub fn error(&self) -> ProbeError {
        let message = self.message.clone();
        match self.kind {
            ConnectErrorKind::HostKey => ProbeError::failed(message),
            ConnectErrorKind::TimedOut => ProbeError::timed_out(message),
            ConnectErrorKind::Unreachable => ProbeError::unreachable(message),
        }
    }
    pub fn into_error(self) -> Error {
        let kind = if self.host_key() {
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

fn client_config(ask_for_certificates: bool) -> Arc<client::Config> {
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
            // A host certificate is asked for only where an @cert-authority line could
            // vouch for it; elsewhere the plain key is what known_hosts knows.
            host_key_certificates: if ask_for_certificates {
                russh::Preferred::DEFAULT.key.clone()
            } else {
                std::borrow::Cow::Borrowed(&[])
            },
            ..Default::default()
        },
        ..Default::default()
    })
}

/// Key exchange, host-key check and authentication on an open stream (a TCP connection or
/// a direct-tcpip channel through a jump host).
async fn handshake<S>(stream: S, spec: &HostSpec) -> Result<Handle<ClientHandler>, ConnectError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let known = KnownHosts::load(&spec.known_hosts).map_err(|e| ConnectError {
        message: format!(
            "{}: cannot read known_hosts {}: {e}",
            spec.label,
            spec.known_hosts.display()
        ),
        hint: Some("check ssh.known_hosts in the configuration".into()),
        kind: ConnectErrorKind::HostKey,
        silent: false,
    })?;
    let problem = Arc::new(Mutex::new(None));
    let handler = ClientHandler {
        host: spec.host.clone(),
        port: spec.port,
        known_hosts: spec.known_hosts.clone(),
        policy: spec.policy,
        problem: problem.clone(),
        known: known.clone(),
    };
    let config = client_config(known.has_authority_for(&spec.host, spec.port));
    let mut handle = match client::connect_stream(config, stream, handler).await {
        Ok(h) => h,
        Err(e) => {
            let recorded = problem.lock().ok().and_then(|mut p| p.take());
            return Err(match recorded {
                Some(p) => host_key_error(spec, p),
                None => ConnectError::plain(format!(
                    "{}: cannot connect to {}: {e}",
                    spec.label,
                    spec.endpoint()
                )),
            });
        }
    };
    authenticate(&mut handle, spec).await?;
    Ok(handle)
}

impl SshSession {
    /// Connects, checks the host key, authenticates, all within `limit`.
    pub async fn connect(
        target: &SshTarget,
        cfg: &SshConfig,
        limit: Duration,
    ) -> Result<Self, ConnectError> {
        let route = ssh_config::route(&target.name, &target.addr.ip().to_string(), cfg);
        for line in &route.provenance {
            tracing::info!("{line}");
        }
        // Each hop has ConnectTimeout; the whole path has no more than all of them together
        // (and never more than the caller's limit).
        let hops = route.jumps.len() as u32 + 1;
        let deadline = Deadline::after(limit.min(route.connect_timeout * hops));
        let via = connect_jumps(&route.jumps, route.connect_timeout, deadline)
            .await
            .map_err(|mut e| {
                e.message = format!("{}: {}", target.name, e.message);
                e
            })?;
        let per_hop = deadline.cap(route.connect_timeout);
        let handle = match &via {
            None => connect_direct(&route.node, per_hop).await?,
            Some(hop) => connect_through(hop, &route.node, per_hop, deadline).await?,
        };
        Ok(SshSession {
            target: target.clone(),
            handle: Arc::new(handle),
            slots: Arc::new(Semaphore::new(MAX_CHANNELS)),
            _via: via,
            tunnel: route.tunnel,
            forwards: tokio::sync::Mutex::new(Vec::new()),
            forward_tasks: Mutex::new(Vec::new()),
        })
    }

    /// A direct-tcpip channel from the node to `host:port` (the node connects), as a stream.
    pub async fn open_direct(
        &self,
        host: &str,
        port: u16,
    ) -> Result<russh::ChannelStream<client::Msg>, ProbeError> {
        self.handle
            .channel_open_direct_tcpip(host, u32::from(port), "127.0.0.1", 0)
            .await
            .map(|c| c.into_stream())
            .map_err(|e| {
                ProbeError::unreachable(format!(
                    "{}: cannot open a tunnel to {host}:{port}: {e}",
                    self.target.name
                ))
            })
    }

    /// A loopback TCP port whose every connection becomes a direct-tcpip channel from the
    /// node to `host:port` (for clients that only speak TCP, like the MariaDB driver). One per
    /// destination, for as long as the session; connections from other local users are
    /// refused, so the port opens the node to nobody else on this machine.
    pub async fn forward(&self, host: &str, port: u16) -> Result<SocketAddr, ProbeError> {
        let key = (host.to_string(), port);
        let mut forwards = self.forwards.lock().await;
        if let Some((_, addr)) = forwards.iter().find(|(k, _)| *k == key) {
            return Ok(*addr);
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| {
                ProbeError::failed(format!("cannot listen on loopback for a tunnel: {e}"))
            })?;
        let local = listener.local_addr().map_err(|e| {
            ProbeError::failed(format!("cannot listen on loopback for a tunnel: {e}"))
        })?;
        let handle = self.handle.clone();
        let name = self.target.name.clone();
        let host = host.to_string();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, peer)) = listener.accept().await {
                if !same_user(peer, local) {
                    tracing::warn!(%peer, "{name}: tunnel connection from another user refused");
                    continue;
                }
                let handle = handle.clone();
                let (host, name) = (host.clone(), name.clone());
                tokio::spawn(async move {
                    let opened = handle
                        .channel_open_direct_tcpip(host.as_str(), u32::from(port), "127.0.0.1", 0)
                        .await;
                    match opened {
                        Ok(channel) => {
                            let mut remote = channel.into_stream();
                            let _ = tokio::io::copy_bidirectional(&mut stream, &mut remote).await;
                        }
                        Err(e) => tracing::debug!("{name}: tunnel to {host}:{port}: {e}"),
                    }
                });
            }
        });
        if let Ok(mut tasks) = self.forward_tasks.lock() {
            tasks.push(task.abort_handle());
        }
        forwards.push((key, local));
        Ok(local)
    }

    /// Whether SQL and HTTPS should ride this connection.
    pub fn tunnels(&self) -> bool {
        self.tunnel
    }

    pub fn target(&self) -> &SshTarget {
        &self.target
    }

    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// Like `exec_with_input`, with its own bound on stdout: past `max_output` bytes the
    /// channel is closed and the call fails with "output too large".
    pub async fn exec_limited(
        &self,
        command: &str,
        input: Option<&[u8]>,
        limit: Duration,
        max_output: usize,
    ) -> Result<Output, ProbeError> {
        let name = self.target.name.clone();
        let short = short_command(command);
        let started = std::time::Instant::now();
        let result = tokio::time::timeout(limit, self.exec_inner(command, input, max_output)).await;
        tracing::debug!(node = %name, command = %short, ms = started.elapsed().as_millis() as u64, "exec");
        match result {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(e.context(format_args!("{name}: `{short}`"))),
            Err(_) => Err(ProbeError::timed_out(format!(
                "{name}: `{short}` timed out after {}",
                crate::format::human_duration(limit)
            ))),
        }
    }

    async fn exec_inner(
        &self,
        command: &str,
        input: Option<&[u8]>,
        max_output: usize,
    ) -> Result<Output, ProbeError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| ProbeError::failed(e.to_string()))?;
        let mut channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| ProbeError::unreachable(format!("cannot open a channel: {e}")))?;
        channel
            .exec(true, command)
            .await
            .map_err(|e| ProbeError::failed(format!("exec failed: {e}")))?;
        if let Some(data) = input {
            channel
                .data(data)
                .await
                .map_err(|e| ProbeError::failed(format!("cannot send input: {e}")))?;
        }
        channel
            .eof()
            .await
            .map_err(|e| ProbeError::failed(format!("cannot send EOF: {e}")))?;
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
                        return Err(ProbeError::failed(too_large(max_output)));
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
    ) -> Result<Output, ProbeError> {
        let name = self.target.name.clone();
        let short = short_command(command);
        let run = async {
            let _slot = self
                .slots
                .acquire()
                .await
                .map_err(|e| ProbeError::failed(e.to_string()))?;
            let mut channel = self
                .handle
                .channel_open_session()
                .await
                .map_err(|e| ProbeError::unreachable(format!("cannot open a channel: {e}")))?;
            channel
                .exec(true, command)
                .await
                .map_err(|e| ProbeError::failed(format!("exec failed: {e}")))?;
            channel
                .eof()
                .await
                .map_err(|e| ProbeError::failed(format!("cannot send EOF: {e}")))?;
            let mut out = Output::default();
            let mut received: u64 = 0;
            while let Some(msg) = channel.wait().await {
                match msg {
                    ChannelMsg::Data { data } => {
                        received += data.len() as u64;
                        if received > max_output {
                            let _ = channel.close().await;
                            let _ = sink.flush().await;
                            return Err(ProbeError::failed(too_large(max_output as usize)));
                        }
                        sink.write_all(&data)
                            .await
                            .map_err(|e| ProbeError::failed(format!("write failed: {e}")))?
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
                .map_err(|e| ProbeError::failed(format!("write failed: {e}")))?;
            Ok::<_, ProbeError>(out)
        };
        match tokio::time::timeout(limit, run).await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(e.context(format_args!("{name}: `{short}`"))),
            Err(_) => Err(ProbeError::timed_out(format!(
                "{name}: `{short}` timed out after {}",
                crate::format::human_duration(limit)
            ))),
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

impl Exec for SshSession {
    fn node_name(&self) -> &str {
        &self.target.name
    }
    fn exec_limited(
        &self,
        command: &str,
        input: Option<&[u8]>,
        limit: Duration,
        max_output: usize,
    ) -> impl std::future::Future<Output = Result<Output, ProbeError>> + Send {
        SshSession::exec_limited(self, command, input, limit, max_output)
    }
    /// Over a direct-streamlocal channel (no process on the node): sshd connects to the
    /// socket as the login user, as a CLI run there would.
    fn unix_get(
        &self,
        socket: &str,
        path: &str,
        max: usize,
    ) -> impl std::future::Future<Output = Result<Vec<u8>, super::exec::SocketError>> + Send {
        use super::exec::SocketError;
        use tokio::io::AsyncReadExt;
        let request = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n");
        let name = self.target.name.clone();
        let socket = socket.to_string();
        async move {
            let mut stream = match self
                .handle
                .channel_open_direct_streamlocal(socket.as_str())
                .await
            {
                Ok(channel) => channel.into_stream(),
                Err(russh::Error::ChannelOpenFailure(russh::ChannelOpenFailure::ConnectFailed)) => {
                    return Err(SocketError::NotListening)
                }
                Err(e) => {
                    tracing::debug!("{name}: no channel to {socket}: {e}");
                    return Err(SocketError::Unsupported);
                }
            };
            let mut raw = Vec::new();
            let io = async {
                stream.write_all(request.as_bytes()).await?;
                (&mut stream)
                    .take(max as u64 + 1)
                    .read_to_end(&mut raw)
                    .await
            };
            match io.await {
                Err(e) => Err(SocketError::Failed(e.to_string())),
                Ok(_) if raw.len() > max => {
                    Err(SocketError::Failed(format!("answer over {max} bytes")))
                }
                // Connected, then closed without a word: nothing serves the socket.
                Ok(_) if raw.is_empty() => Err(SocketError::NotListening),
                Ok(_) => Ok(raw),
            }
        }
    }
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

fn host_key_error(spec: &HostSpec, problem: HostKeyProblem) -> ConnectError {
    let file_s = spec.known_hosts.display();
    let host = known_hosts::host_port_name(&spec.host, spec.port);
    let label = &spec.label;
    let (message, hint) = match problem {
        HostKeyProblem::Unknown { fingerprint } => (
            format!("{label}: host key of {host} is not in {file_s} ({fingerprint}); connection refused"),
            format!(
                "verify the fingerprint out of band, then run once with --accept-new-host-keys \
(or set ssh.host_key_policy = \"accept-new\") to record it in {file_s}"
            ),
        ),
        HostKeyProblem::Changed { line, fingerprint } => (
            format!(
                "{label}: HOST KEY CHANGED for {host}: the server offers {fingerprint}, which does not match \
{file_s} line {line}; connection refused (possible man-in-the-middle)"
            ),
            format!(
                "if the node was reinstalled on purpose, remove the old entry with \
`ssh-keygen -R {host} -f {file_s}` (line {line}) and reconnect with --accept-new-host-keys"
            ),
        ),
        HostKeyProblem::Revoked { line, fingerprint } => (
            format!(
                "{label}: the host key of {host} ({fingerprint}) is REVOKED by {file_s} line {line}; connection refused"
            ),
            "a revoked key is never accepted: find out why it was revoked before touching that line".to_string(),
        ),
        HostKeyProblem::BadCertificate { reason, fingerprint } => (
            format!(
                "{label}: the host certificate of {host} ({fingerprint}) is signed by an authority {file_s} trusts, but {reason}; connection refused"
            ),
            "re-issue the host certificate (ssh-keygen -s CA -h -n HOST) or check the node's clock".to_string(),
        ),
        HostKeyProblem::LearnFailed(e) => (
            format!("{label}: cannot record the host key of {host} in {file_s}: {e}"),
            "check that the known_hosts directory is writable".to_string(),
        ),
    };
    ConnectError {
        message,
        hint: Some(hint),
        kind: ConnectErrorKind::HostKey,
        silent: false,
    }
}

/// What authentication tried, for the message when nothing worked.
#[derive(Default)]
struct Attempts {
    tried: Vec<String>,
    agent_note: Option<String>,
}

/// The agent's keys (all of them, or with IdentitiesOnly those of the identity files), then
/// the identity files (or, when none is configured, ~/.ssh/id_ed25519, id_ecdsa, id_rsa), as
/// OpenSSH orders them.
async fn authenticate(
    handle: &mut Handle<ClientHandler>,
    spec: &HostSpec,
) -> Result<(), ConnectError> {
    let mut attempts = Attempts::default();
    let files: Vec<PathBuf> = if spec.identities.is_empty() {
        default_identities()
    } else {
        spec.identities.clone()
    };
    if let Some(socket) = &spec.agent {
        let wanted: Option<Vec<PublicKey>> = spec
            .identities_only
            .then(|| files.iter().filter_map(|f| public_half(f)).collect());
        match try_agent(handle, socket, &spec.user, wanted.as_deref(), &mut attempts).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => attempts.agent_note = Some(format!("ssh-agent: {e}")),
        }
    } else if spec.identities.is_empty() {
        attempts.agent_note = Some("no ssh-agent (SSH_AUTH_SOCK is not set)".into());
    }
    for file in files {
        let key = match keys::load_secret_key(&file, None) {
            Ok(k) => k,
            Err(e) => {
                attempts
                    .tried
                    .push(format!("{} (cannot load: {e})", file.display()));
                continue;
            }
        };
        let hash = rsa_hash(handle, key.algorithm().is_rsa()).await;
        let result = handle
            .authenticate_publickey(&spec.user, PrivateKeyWithHashAlg::new(Arc::new(key), hash))
            .await
            .map_err(|e| {
                ConnectError::plain(format!("{}: authentication failed: {e}", spec.label))
            })?;
        if result.success() {
            return Ok(());
        }
        attempts.tried.push(file.display().to_string());
    }
    let mut what = attempts.tried;
    if let Some(note) = attempts.agent_note {
        what.insert(0, note);
    }
    Err(ConnectError {
        message: format!(
            "{}: permission denied for {}@{} (tried: {})",
            spec.label,
            spec.user,
            spec.endpoint(),
            if what.is_empty() {
                "no keys found".to_string()
            } else {
                what.join(", ")
            }
        ),
        hint: Some(
            "add the key the node authorizes to the agent (ssh-add KEY), or set ssh.identity_file \
(or IdentityFile in ssh_config)"
                .into(),
        ),
        kind: ConnectErrorKind::Unreachable,
        silent: false,
    })
}

fn default_identities() -> Vec<PathBuf> {
    let Some(home) = std::env::var_os("HOME") else {
        return Vec::new();
    };
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|name| Path::new(&home).join(".ssh").join(name))
        .filter(|p| p.is_file())
        .collect()
}

/// The public key of an identity file: its `.pub` beside it (readable even when the private
/// key is encrypted), else the private key itself when it is not.
fn public_half(file: &Path) -> Option<PublicKey> {
    let mut pub_path = file.as_os_str().to_owned();
    pub_path.push(".pub");
    if let Ok(text) = std::fs::read_to_string(&pub_path) {
        if let Ok(key) = PublicKey::from_openssh(text.trim()) {
            return Some(key);
        }
    }
    keys::load_secret_key(file, None)
        .ok()
        .map(|k| k.public_key().clone())
}

async fn rsa_hash(handle: &Handle<ClientHandler>, is_rsa: bool) -> Option<HashAlg> {
    if !is_rsa {
        return None;
    }
    handle
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten()
}

/// Why the agent could not be asked for a signature (the socket, the cause).
#[derive(Debug, thiserror::Error)]
enum AgentError {
    #[error("cannot reach the agent at {0}: {1}")]
    Unreachable(String, String),
    #[error("the agent at {0} does not answer: {1}")]
    Silent(String, String),
}

/// Tries the agent's keys (only those in `wanted` when given); Ok(false) when none was
/// accepted, with what happened recorded in `attempts`.
async fn try_agent(
    handle: &mut Handle<ClientHandler>,
    socket_path: &Path,
    user: &str,
    wanted: Option<&[PublicKey]>,
    attempts: &mut Attempts,
) -> Result<bool, AgentError> {
    let socket = socket_path.display();
    let mut agent = keys::agent::client::AgentClient::connect_uds(socket_path)
        .await
        .map_err(|e| AgentError::Unreachable(socket.to_string(), e.to_string()))?;
    let identities = agent
        .request_identities()
        .await
        .map_err(|e| AgentError::Silent(socket.to_string(), e.to_string()))?;
    if identities.is_empty() {
        attempts.agent_note = Some(format!("ssh-agent at {socket} holds no keys"));
        return Ok(false);
    }
    // Keys added with `ssh-add -h` (destination constraints) sign only for a bound session.
    if let Some(binding) = handle.agent_session_binding() {
        if let Err(e) = agent.bind_session(binding, false).await {
            tracing::debug!("ssh-agent session binding: {e}");
        }
    }
    let mut refused = Vec::new();
    let mut skipped = 0;
    for identity in identities {
        let key = identity.public_key().into_owned();
        if let Some(wanted) = wanted {
            if !wanted.iter().any(|w| w.key_data() == key.key_data()) {
                skipped += 1;
                continue;
            }
        }
        let hash = rsa_hash(handle, key.algorithm().is_rsa()).await;
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        match handle
            .authenticate_publickey_with(user, key, hash, &mut agent)
            .await
        {
            Ok(r) if r.success() => return Ok(true),
            Ok(_) => refused.push(fingerprint),
            Err(e) => refused.push(format!("{fingerprint} (the agent did not sign: {e})")),
        }
    }
    attempts.agent_note = Some(match (refused.is_empty(), skipped) {
        (true, n) => format!(
            "ssh-agent at {socket}: none of its {n} keys is an identity file (IdentitiesOnly)"
        ),
        (false, 0) => format!(
            "ssh-agent at {socket}: no acceptable key (the node refused {})",
            refused.join(", ")
        ),
        (false, n) => format!(
            "ssh-agent at {socket}: no acceptable key (the node refused {}; {n} more not offered: IdentitiesOnly)",
            refused.join(", ")
        ),
    });
    Ok(false)
}

/// TCP to the host itself, then the handshake, all within `limit`.
async fn connect_direct(
    spec: &HostSpec,
    limit: Duration,
) -> Result<Handle<ClientHandler>, ConnectError> {
    let started = std::time::Instant::now();
    let timed_out = |silent: bool| {
        ConnectError::timed_out(
            format!(
                "{}: SSH to {} timed out after {}{}",
                spec.label,
                spec.endpoint(),
                crate::format::human_duration(limit),
                if silent { " (no answer to TCP)" } else { "" }
            ),
            silent,
        )
    };
    let connecting = tokio::net::TcpStream::connect((spec.host.as_str(), spec.port));
    let tcp = match tokio::time::timeout(limit, connecting).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => {
            let mut error = ConnectError::plain(format!(
                "{}: cannot connect to {}: {e}",
                spec.label,
                spec.endpoint()
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
    match tokio::time::timeout(rest, handshake(tcp, spec)).await {
        Ok(r) => r,
        Err(_) => Err(timed_out(false)),
    }
}

/// A jump host's connection, shared by every node reached through it (one per command).
struct Hop {
    handle: Arc<Handle<ClientHandler>>,
    label: String,
    /// The jump host before this one, kept open while this one is.
    _via: Option<Arc<Hop>>,
}

/// The jump connections of this process by path, so that both nodes (and a `--watch`
/// refresh) share one; weak, so that a connection lives exactly as long as a session uses it.
#[derive(Default)]
struct HopState {
    hop: std::sync::Weak<Hop>,
    /// A failure is remembered briefly: the other node, waiting on the same jump host, gets
    /// it at once instead of waiting out the same timeout again.
    failed: Option<(std::time::Instant, ConnectError)>,
}

static HOPS: Mutex<Vec<(String, Arc<tokio::sync::Mutex<HopState>>)>> = Mutex::new(Vec::new());

const FAILURE_MEMORY: Duration = Duration::from_secs(2);

fn hop_slot(key: &str) -> Arc<tokio::sync::Mutex<HopState>> {
    let mut hops = HOPS.lock().unwrap_or_else(|p| p.into_inner());
    hops.retain(|(k, slot)| {
        k == key
            || Arc::strong_count(slot) > 1
            || slot
                .try_lock()
                .map(|s| s.hop.strong_count() > 0)
                .unwrap_or(true)
    });
    if let Some((_, slot)) = hops.iter().find(|(k, _)| k == key) {
        return slot.clone();
    }
    let slot = Arc::new(tokio::sync::Mutex::new(HopState::default()));
    hops.push((key.to_string(), slot.clone()));
    slot
}

/// Connects (or reuses) the chain of jump hosts; None without jump hosts.
async fn connect_jumps(
    jumps: &[HostSpec],
    per_hop: Duration,
    deadline: Deadline,
) -> Result<Option<Arc<Hop>>, ConnectError> {
    let mut via: Option<Arc<Hop>> = None;
    let mut key = String::new();
    for spec in jumps {
        key.push_str(&format!(
            " > {}@{} {} {:?}",
            spec.user,
            spec.endpoint(),
            spec.known_hosts.display(),
            spec.policy
        ));
        let slot = hop_slot(&key);
        let Ok(mut state) = tokio::time::timeout(deadline.remaining(), slot.lock()).await else {
            return Err(ConnectError::timed_out(
                format!("{}: SSH to {} timed out", spec.label, spec.endpoint()),
                false,
            ));
        };
        if let Some(hop) = state.hop.upgrade().filter(|h| !h.handle.is_closed()) {
            via = Some(hop);
            continue;
        }
        if let Some((at, e)) = &state.failed {
            if at.elapsed() < FAILURE_MEMORY {
                return Err(e.clone());
            }
        }
        let limit = deadline.cap(per_hop);
        let result = match &via {
            None => connect_direct(spec, limit).await,
            Some(v) => connect_through(v, spec, limit, deadline).await,
        };
        match result {
            Ok(handle) => {
                tracing::debug!("{}: connected", spec.label);
                let hop = Arc::new(Hop {
                    handle: Arc::new(handle),
                    label: spec.label.clone(),
                    _via: via.take(),
                });
                state.hop = Arc::downgrade(&hop);
                state.failed = None;
                via = Some(hop);
            }
            Err(e) => {
                state.failed = Some((std::time::Instant::now(), e.clone()));
                return Err(e);
            }
        }
    }
    Ok(via)
}

/// A direct-tcpip channel from the jump host to `spec`, then the handshake over it: the
/// node's host key is checked as if connected directly.
async fn connect_through(
    via: &Hop,
    spec: &HostSpec,
    limit: Duration,
    deadline: Deadline,
) -> Result<Handle<ClientHandler>, ConnectError> {
    let limit = limit.min(deadline.remaining());
    let started = std::time::Instant::now();
    let timed_out = |silent: bool| {
        ConnectError::timed_out(
            format!(
                "{}: SSH to {} through {} timed out after {}",
                spec.label,
                spec.endpoint(),
                via.label,
                crate::format::human_duration(limit)
            ),
            silent,
        )
    };
    let open = via.handle.channel_open_direct_tcpip(
        spec.host.clone(),
        u32::from(spec.port),
        "127.0.0.1",
        0,
    );
    let channel = match tokio::time::timeout(limit, open).await {
        Ok(Ok(channel)) => channel,
        Ok(Err(e)) => {
            return Err(ConnectError::plain(format!(
                "{}: {} cannot reach {}: {e}",
                spec.label,
                via.label,
                spec.endpoint()
            )))
        }
        // The jump host's own connect did not finish: the node does not answer it.
        Err(_) => return Err(timed_out(true)),
    };
    let rest = limit.saturating_sub(started.elapsed());
    match tokio::time::timeout(rest, handshake(channel.into_stream(), spec)).await {
        Ok(r) => r,
        Err(_) => Err(timed_out(false)),
    }
}

/// Whether the TCP connection from `peer` to our `local` listener belongs to this process's
/// user: its socket's owner in /proc/net/tcp (IPv4 loopback only, which is all `forward` binds).
fn same_user(peer: SocketAddr, local: SocketAddr) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (SocketAddr::V4(peer), SocketAddr::V4(local)) = (peer, local) else {
        return false;
    };
    let Ok(me) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
        return false;
    };
    let hex = |a: std::net::SocketAddrV4| {
        format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(a.ip().octets()),
            a.port()
        )
    };
    let (peer, local) = (hex(peer), hex(local));
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    table.lines().skip(1).any(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        f.len() > 7 && f[1] == peer && f[2] == local && f[7].parse::<u32>() == Ok(me)
    })
}
