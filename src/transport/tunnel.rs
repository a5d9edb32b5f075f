//! HTTPS to the VIP through the nodes' SSH connections (a jump host, or `ssh.tunnel`): the
//! HTTPS client talks to a Unix socket in a private directory, and every connection to it
//! becomes a direct-tcpip channel from a node to the ingress's address and port. TLS is end
//! to end, verified exactly as on a direct connection.

use super::ssh::SshSession;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub struct HttpsTunnel {
    dir: PathBuf,
    pub socket: PathBuf,
    sessions: Arc<Mutex<Vec<Arc<SshSession>>>>,
    task: tokio::task::AbortHandle,
}

impl Drop for HttpsTunnel {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A directory only this user can enter, for the socket.
fn private_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = std::env::temp_dir();
    let mut last = None;
    for attempt in 0..16u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = base.join(format!(
            "pairctl-tunnel-{}-{nanos:x}-{attempt}",
            std::process::id()
        ));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no directory")))
}

impl HttpsTunnel {
    /// Listens for the HTTPS client; connections go to `host:port` from a node.
    pub fn start(host: String, port: u16) -> std::io::Result<Self> {
        let dir = private_dir()?;
        let socket = dir.join("https.sock");
        let listener = tokio::net::UnixListener::bind(&socket)?;
        let sessions: Arc<Mutex<Vec<Arc<SshSession>>>> = Arc::default();
        let routes = sessions.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut local, _)) = listener.accept().await {
                let candidates = routes.lock().map(|s| s.clone()).unwrap_or_default();
                let host = host.clone();
                tokio::spawn(async move {
                    // Any node reaches the VIP on its segment; the first that opens the
                    // channel carries the connection.
                    for session in candidates {
                        match session.open_direct(&host, port).await {
                            Ok(mut remote) => {
                                let _ =
                                    tokio::io::copy_bidirectional(&mut local, &mut remote).await;
                                return;
                            }
                            Err(e) => tracing::debug!("{e}"),
                        }
                    }
                });
            }
        });
        Ok(HttpsTunnel {
            dir,
            socket,
            sessions,
            task: task.abort_handle(),
        })
    }

    /// The connections to carry the HTTPS through (the command's, once connected).
    pub fn route_via(&self, sessions: Vec<Arc<SshSession>>) {
        if let Ok(mut s) = self.sessions.lock() {
            *s = sessions;
        }
    }

    pub fn has_route(&self) -> bool {
        self.sessions.lock().map(|s| !s.is_empty()).unwrap_or(false)
    }
}
