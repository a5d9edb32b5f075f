//! HTTPS to the ingress (reqwest + rustls with the ring provider): TLS always verified,
//! against the configured CA only when one is given. The client also keeps the nodes'
//! Kubernetes API servers (`kubeapi`) for as long as the command runs.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::transport::kubeapi::KubeApis;
use crate::transport::ssh::SshSession;
use crate::transport::tunnel::HttpsTunnel;
use crate::transport::ProbeError;
use std::sync::Arc;
use std::time::Duration;

/// rustls needs a process-wide crypto provider before any client is built; ring, because
/// aws-lc's first random-number call costs 30-100 ms.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[derive(Clone)]
pub struct HttpsClient {
    client: reqwest::Client,
    token: Option<String>,
    /// Through the nodes' SSH connections (a jump host, or `ssh.tunnel`).
    tunnel: Option<Arc<HttpsTunnel>>,
    /// The nodes' Kubernetes API servers, kept across the command's rounds.
    kube: Arc<KubeApis>,
}

impl HttpsClient {
    pub fn new(cfg: &Config) -> Result<Self> {
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("pairctl/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(3))
            // No keep-alive: after a failover a pooled connection points at the old active.
            .pool_max_idle_per_host(0);
        if let Some(ca) = &cfg.ingress.ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                Error::config(format!("cannot read ingress.ca_file {}", ca.display())).caused_by(&e)
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                Error::config(format!(
                    "ingress.ca_file {} is not a PEM certificate",
                    ca.display()
                ))
                .caused_by(&e)
            })?;
            if certs.is_empty() {
                return Err(Error::config(format!(
                    "ingress.ca_file {} holds no certificate",
                    ca.display()
                )));
            }
            builder = builder.tls_certs_only(certs);
        }
        let tunnel = if cfg
            .nodes
            .iter()
            .any(|n| crate::transport::ssh_config::tunnels(&cfg.ssh, n))
        {
            let tunnel = start_tunnel(&cfg.ingress.url)?;
            builder = builder.unix_socket(tunnel.socket.clone());
            Some(Arc::new(tunnel))
        } else {
            None
        };
        let client = builder
            .build()
            .map_err(|e| Error::config("cannot build the HTTPS client").caused_by(&e))?;
        Ok(Self {
            client,
            token: cfg.ingress.token.as_ref().map(|t| t.expose().to_string()),
            tunnel,
            kube: Arc::default(),
        })
    }

    /// The nodes' Kubernetes API servers (`transport::kubeapi`).
    pub fn kube_apis(&self) -> &KubeApis {
        &self.kube
    }

    /// The SSH connections HTTPS rides when tunnelled (no effect otherwise).
    pub fn route_via(&self, sessions: Vec<Arc<SshSession>>) {
        if let Some(t) = &self.tunnel {
            t.route_via(sessions);
        }
    }

    /// GET `url` within `limit`: the status code, or the reason there is none.
    pub async fn get_status(
        &self,
        url: &str,
        limit: Duration,
    ) -> std::result::Result<u16, ProbeError> {
        if self.tunnel.as_ref().is_some_and(|t| !t.has_route()) {
            return Err(ProbeError::not_asked(
                "not asked: the ingress is reached through the nodes' SSH connections, and none is up",
            ));
        }
        let mut req = self.client.get(url).timeout(limit);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let started = std::time::Instant::now();
        let result = req.send().await;
        tracing::debug!(url, ms = started.elapsed().as_millis() as u64, "https");
        match result {
            Ok(resp) => Ok(resp.status().as_u16()),
            Err(e) if e.is_timeout() => Err(ProbeError::timed_out(describe(&e))),
            Err(e) if e.is_connect() => Err(ProbeError::unreachable(describe(&e))),
            Err(e) => Err(ProbeError::failed(describe(&e))),
        }
    }
}

/// The tunnel to the ingress URL's host and port.
fn start_tunnel(url: &str) -> Result<HttpsTunnel> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::config(format!("ingress.url {url}")).caused_by(&e))?;
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = parsed.port_or_known_default().unwrap_or(443);
    HttpsTunnel::start(host, port)
        .map_err(|e| Error::failed("cannot open the local end of the HTTPS tunnel").caused_by(&e))
}

/// Turns a reqwest error into one sentence: the innermost cause says what really happened
/// (certificate unknown, connection refused, timed out).
pub fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut inner: &dyn std::error::Error = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    let text = inner.to_string();
    if e.is_connect() {
        format!("cannot connect: {text}")
    } else {
        text
    }
}
