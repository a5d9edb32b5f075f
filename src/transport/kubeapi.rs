//! The Kubernetes API server of a node, asked directly: HTTPS to the server of k3s's admin
//! kubeconfig (127.0.0.1:6443 on the node) through the node's SSH connection (a direct-tcpip
//! channel), verified with the kubeconfig's CA and authenticated with its client certificate,
//! instead of starting a `kubectl` process on the node for every round. One connection per
//! node, kept alive across the rounds of `--watch` and the exporter (`KubeApis`).
//!
//! The kubeconfig is a secret: read over the SSH channel's stdout (never in argv), held in
//! memory only, never in a log line, an error or a `Debug` output.

use super::ssh::SshSession;
use super::{Deadline, Exec};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Where k3s writes the admin kubeconfig.
pub const KUBECONFIG_PATH: &str = "/etc/rancher/k3s/k3s.yaml";
const KUBECONFIG_LIMIT: usize = 64 * 1024;

/// What status lists: the objects of `kubectl get nodes,deployments,statefulsets,daemonsets
/// -A`, one API path each.
pub const LIST_PATHS: [&str; 4] = [
    "/api/v1/nodes",
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/statefulsets",
    "/apis/apps/v1/daemonsets",
];

/// The parts of a kubeconfig the client needs: the server, its CA, the client's certificate
/// chain and key (PEM).
pub struct Kubeconfig {
    host: String,
    port: u16,
    ca: Vec<u8>,
    certs: Vec<u8>,
    key: Vec<u8>,
}

impl std::fmt::Debug for Kubeconfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Kubeconfig {{ server: {}:{}, .. }}",
            self.host, self.port
        )
    }
}

/// Reads a kubeconfig as k3s writes it: one cluster with `server` and inline
/// `certificate-authority-data`, one user with inline `client-certificate-data` and
/// `client-key-data`. Anything else (tokens, file paths, several clusters or users) is not
/// this fast path's to answer: kubectl is. Errors name what is missing, never a value.
pub fn parse_kubeconfig(text: &str) -> Result<Kubeconfig, String> {
    let mut found: HashMap<&str, Vec<&str>> = HashMap::new();
    const KEYS: [&str; 4] = [
        "server",
        "certificate-authority-data",
        "client-certificate-data",
        "client-key-data",
    ];
    for line in text.lines() {
        let line = line.trim_start().trim_start_matches("- ");
        if let Some((key, value)) = line.split_once(':') {
            if let Some(k) = KEYS.iter().find(|k| **k == key.trim()) {
                let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
                found.entry(k).or_default().push(value);
            }
        }
    }
    let one = |key: &str| -> Result<&str, String> {
        match found.get(key).map(Vec::as_slice) {
            Some([v]) if !v.is_empty() => Ok(v),
            Some([_, _, ..]) => Err(format!("kubeconfig: more than one {key}")),
            _ => Err(format!("kubeconfig: no {key}")),
        }
    };
    let decode = |key: &str| -> Result<Vec<u8>, String> {
        data_encoding::BASE64
            .decode(one(key)?.as_bytes())
            .map_err(|_| format!("kubeconfig: {key} is not base64"))
    };
    let server = one("server")?;
    let url =
        reqwest::Url::parse(server).map_err(|_| "kubeconfig: server is not a URL".to_string())?;
    if url.scheme() != "https" {
        return Err("kubeconfig: server is not https".into());
    }
    let host = url
        .host_str()
        .ok_or("kubeconfig: server has no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    Ok(Kubeconfig {
        host,
        port: url.port().unwrap_or(443),
        ca: decode("certificate-authority-data")?,
        certs: decode("client-certificate-data")?,
        key: decode("client-key-data")?,
    })
}

/// Why the API server gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No way to it: the channel did not open (nothing listens, k3s is not running there).
    /// The credentials may still be good.
    Unreachable(String),
    /// It did not answer as the API server does (TLS, credentials, status, body, time).
    Failed(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Unreachable(m) | ApiError::Failed(m) => f.write_str(m),
        }
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// TLS as kubectl does it with this kubeconfig: the server verified against the kubeconfig's
/// CA only, for the server's host; the client's certificate chain and key.
fn tls_config(kc: &Kubeconfig) -> Result<(rustls::ClientConfig, ServerName<'static>), String> {
    super::https::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&kc.ca) {
        let cert = cert.map_err(|_| "kubeconfig: the CA is not PEM".to_string())?;
        roots
            .add(cert)
            .map_err(|_| "kubeconfig: the CA is not a certificate".to_string())?;
    }
    if roots.is_empty() {
        return Err("kubeconfig: no CA certificate".into());
    }
    let certs = CertificateDer::pem_slice_iter(&kc.certs)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| "kubeconfig: the client certificate is not PEM".to_string())?;
    if certs.is_empty() {
        return Err("kubeconfig: no client certificate".into());
    }
    let key = PrivateKeyDer::from_pem_slice(&kc.key)
        .map_err(|_| "kubeconfig: the client key is not PEM".to_string())?;
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)
        .map_err(|_| "kubeconfig: the client certificate and key do not fit".to_string())?;
    let name = ServerName::try_from(kc.host.clone())
        .map_err(|_| "kubeconfig: the server's host is not a name".to_string())?;
    Ok((config, name))
}

/// One node's API server, over that node's SSH connection.
pub struct KubeApi {
    session: Arc<SshSession>,
    host: String,
    port: u16,
    name: ServerName<'static>,
    tls: tokio_rustls::TlsConnector,
    conn: tokio::sync::Mutex<Option<Sender>>,
}

impl KubeApi {
    pub fn new(session: Arc<SshSession>, kc: &Kubeconfig) -> Result<Self, String> {
        let (config, name) = tls_config(kc)?;
        Ok(KubeApi {
            session,
            host: kc.host.clone(),
            port: kc.port,
            name,
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            conn: tokio::sync::Mutex::new(None),
        })
    }

    async fn connect(&self) -> Result<Sender, ApiError> {
        let stream = self
            .session
            .open_direct(&self.host, self.port)
            .await
            .map_err(|e| ApiError::Unreachable(e.message))?;
        let tls = self
            .tls
            .connect(self.name.clone(), stream)
            .await
            .map_err(|e| ApiError::Failed(format!("TLS to the API server: {e}")))?;
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
                .await
                .map_err(|e| ApiError::Failed(format!("HTTP to the API server: {e}")))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// GETs `paths` one after the other on the kept connection (a new one when there is none
    /// or it broke before answering), within `limit` and `max_bytes` for all bodies together:
    /// each body, in order.
    pub async fn get_all(
        &self,
        paths: &[&str],
        limit: Duration,
        max_bytes: usize,
    ) -> Result<Vec<String>, ApiError> {
        let run = async {
            let mut conn = self.conn.lock().await;
            let reused = conn.as_ref().is_some_and(|s| !s.is_closed());
            match self.get_on(&mut conn, reused, paths, max_bytes).await {
                Err(ApiError::Failed(_)) if reused => {
                    // The kept connection may have been closed by the server meanwhile.
                    self.get_on(&mut conn, false, paths, max_bytes).await
                }
                other => other,
            }
        };
        match tokio::time::timeout(limit, run).await {
            Ok(r) => r,
            Err(_) => Err(ApiError::Failed(format!(
                "the API server did not answer within {}",
                crate::format::human_duration(limit)
            ))),
        }
    }

    async fn get_on(
        &self,
        conn: &mut Option<Sender>,
        reuse: bool,
        paths: &[&str],
        max_bytes: usize,
    ) -> Result<Vec<String>, ApiError> {
        if !reuse {
            *conn = None;
            *conn = Some(self.connect().await?);
        }
        let Some(sender) = conn.as_mut() else {
            return Err(ApiError::Failed("no connection".into()));
        };
        let mut left = max_bytes;
        let mut bodies = Vec::with_capacity(paths.len());
        let result = async {
            for path in paths {
                sender
                    .ready()
                    .await
                    .map_err(|e| ApiError::Failed(format!("HTTP to the API server: {e}")))?;
                let request = hyper::Request::get(*path)
                    .header(hyper::header::HOST, format!("{}:{}", self.host, self.port))
                    .header(hyper::header::ACCEPT, "application/json")
                    .header(
                        hyper::header::USER_AGENT,
                        concat!("pairctl/", env!("CARGO_PKG_VERSION")),
                    )
                    .body(Empty::<Bytes>::new())
                    .map_err(|e| ApiError::Failed(e.to_string()))?;
                let started = std::time::Instant::now();
                let response = sender
                    .send_request(request)
                    .await
                    .map_err(|e| ApiError::Failed(format!("HTTP to the API server: {e}")))?;
                let status = response.status();
                let body = Limited::new(response.into_body(), left)
                    .collect()
                    .await
                    .map_err(|e| ApiError::Failed(format!("{path}: {e}")))?
                    .to_bytes();
                if !status.is_success() {
                    return Err(ApiError::Failed(format!(
                        "the API server answered {path} with {status}"
                    )));
                }
                tracing::trace!(
                    path,
                    bytes = body.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "kube api get"
                );
                left = left.saturating_sub(body.len());
                bodies.push(String::from_utf8_lossy(&body).into_owned());
            }
            Ok(bodies)
        }
        .await;
        if result.is_err() {
            *conn = None;
        }
        result
    }
}

/// The API servers of the command's nodes, kept across rounds: a client per node while its
/// SSH connection lasts, or the note that the node had no kubeconfig to read (not read again
/// until `retry` says k3s runs there).
#[derive(Default)]
pub struct KubeApis(Mutex<HashMap<String, Entry>>);

enum Entry {
    Ready(Arc<KubeApi>),
    Absent(Weak<SshSession>),
}

impl KubeApis {
    /// The node's API client: the kept one, or one from the kubeconfig read now. Err: why
    /// there is none (no kubeconfig, or not one this path reads).
    pub async fn get(
        &self,
        node: &str,
        session: &Arc<SshSession>,
        deadline: Deadline,
    ) -> Result<Arc<KubeApi>, String> {
        if let Some(known) = self.known(node, session) {
            return known;
        }
        let api = read_kubeconfig(session.as_ref(), deadline)
            .await
            .and_then(|kc| KubeApi::new(session.clone(), &kc))
            .map(Arc::new);
        if let Ok(mut map) = self.0.lock() {
            let entry = match &api {
                Ok(api) => Entry::Ready(api.clone()),
                Err(_) => Entry::Absent(Arc::downgrade(session)),
            };
            map.insert(node.to_string(), entry);
        }
        api
    }

    fn known(&self, node: &str, session: &Arc<SshSession>) -> Option<Result<Arc<KubeApi>, String>> {
        let map = self.0.lock().ok()?;
        match map.get(node)? {
            Entry::Ready(api) if Arc::ptr_eq(&api.session, session) => Some(Ok(api.clone())),
            Entry::Absent(s) if s.as_ptr() == Arc::as_ptr(session) => {
                Some(Err(format!("no kubeconfig at {KUBECONFIG_PATH}")))
            }
            _ => None,
        }
    }

    /// Drops what is known of the node's API server: the next round reads the kubeconfig
    /// again (after credentials that failed, or once k3s runs where there was none).
    pub fn forget(&self, node: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(node);
        }
    }

    /// Every node that had no kubeconfig is asked again (after a role change, which starts
    /// k3s, and with it its kubeconfig, where there was none).
    pub fn retry_all(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.retain(|_, entry| !matches!(entry, Entry::Absent(_)));
        }
    }

    /// k3s runs on `node`: if it had no kubeconfig, read it again next round.
    pub fn retry(&self, node: &str) {
        if let Ok(mut map) = self.0.lock() {
            if matches!(map.get(node), Some(Entry::Absent(_))) {
                map.remove(node);
            }
        }
    }
}

/// The node's kubeconfig, over the channel's stdout (never argv).
async fn read_kubeconfig(s: &impl Exec, deadline: Deadline) -> Result<Kubeconfig, String> {
    let out = s
        .exec_limited(
            &format!("head -c {} {KUBECONFIG_PATH}", KUBECONFIG_LIMIT + 1),
            None,
            deadline.cap(Duration::from_secs(5)),
            KUBECONFIG_LIMIT + 1,
        )
        .await
        .map_err(|e| format!("cannot read {KUBECONFIG_PATH}: {e}"))?;
    if !out.success() {
        return Err(format!("no readable kubeconfig at {KUBECONFIG_PATH}"));
    }
    if out.stdout.len() > KUBECONFIG_LIMIT {
        return Err(format!("{KUBECONFIG_PATH} is too large"));
    }
    parse_kubeconfig(&String::from_utf8_lossy(&out.stdout))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_of_all_forgets_every_node_without_a_kubeconfig() {
        let apis = KubeApis::default();
        if let Ok(mut map) = apis.0.lock() {
            map.insert("n1".into(), Entry::Absent(Weak::new()));
            map.insert("n2".into(), Entry::Absent(Weak::new()));
        }
        apis.retry_all();
        assert!(apis.0.lock().unwrap().is_empty());
    }

    /// A kubeconfig as the lab's k3s stand-in writes it (the layout of k3s's own), with
    /// made-up base64 values.
    fn kubeconfig(ca: &str, cert: &str, key: &str) -> String {
        format!(
            "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n    server: https://127.0.0.1:6443\n  name: default\ncontexts:\n- context:\n    cluster: default\n    user: default\n  name: default\ncurrent-context: default\nkind: Config\npreferences: {{}}\nusers:\n- name: default\n  user:\n    client-certificate-data: {cert}\n    client-key-data: {key}\n"
        )
    }

    #[test]
    fn a_k3s_kubeconfig_is_read_and_never_shown() {
        let b64 = |s: &str| data_encoding::BASE64.encode(s.as_bytes());
        let text = kubeconfig(&b64("CA PEM"), &b64("CERT PEM"), &b64("SECRET KEY PEM"));
        let kc = parse_kubeconfig(&text).unwrap();
        assert_eq!((kc.host.as_str(), kc.port), ("127.0.0.1", 6443));
        assert_eq!(kc.key, b"SECRET KEY PEM");
        assert_eq!(kc.certs, b"CERT PEM");
        let shown = format!("{kc:?}");
        assert!(!shown.contains("SECRET") && !shown.contains(&b64("SECRET KEY PEM")));
        // Not PEM: refused without a word of the value.
        let err = tls_config(&kc).unwrap_err();
        assert!(!err.contains("SECRET"), "{err}");
    }

    #[test]
    fn what_this_path_does_not_read_is_refused_without_the_values() {
        let b64 = data_encoding::BASE64.encode(b"x");
        // A token user (no client certificate), a key that is not base64, two users.
        let token = kubeconfig(&b64, &b64, &b64).replace(
            &format!("    client-key-data: {b64}\n"),
            "    token: SECRET-TOKEN\n",
        );
        assert_eq!(
            parse_kubeconfig(&token).unwrap_err(),
            "kubeconfig: no client-key-data"
        );
        let bad = kubeconfig(&b64, &b64, "SECRET!!");
        let err = parse_kubeconfig(&bad).unwrap_err();
        assert!(
            err.contains("not base64") && !err.contains("SECRET"),
            "{err}"
        );
        let two = format!(
            "{}{}",
            kubeconfig(&b64, &b64, &b64),
            "- name: other\n  user:\n    client-key-data: eA==\n"
        );
        assert_eq!(
            parse_kubeconfig(&two).unwrap_err(),
            "kubeconfig: more than one client-key-data"
        );
        let plain = kubeconfig(&b64, &b64, &b64).replace("https://", "http://");
        assert!(parse_kubeconfig(&plain).is_err());
    }
}
