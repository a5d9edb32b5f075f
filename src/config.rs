//! Configuration: find the file, parse TOML, validate into a `Config` whose errors name file,
//! line and key. Secrets come from files (0600 or stricter) or the environment, never argv.

use crate::error::{Error, Result};
use crate::pair::Pair;
use crate::transport::ssh_config::{parse_jump_list, JumpHost, SshConfigFile};
use serde::Deserialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use toml::Spanned;

pub const ENV_CONFIG: &str = "PAIRCTL_CONFIG";
pub const ENV_DB_PASSWORD: &str = "PAIRCTL_DB_PASSWORD";
pub const ENV_INGRESS_TOKEN: &str = "PAIRCTL_INGRESS_TOKEN";

pub const DEFAULT_SERVICES: &[&str] = &[
    "auth",
    "rbac",
    "tenant",
    "fabric",
    "inventory",
    "raslog",
    "notification",
    "system",
    "api-docs",
];

/// A secret value: never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyPolicy {
    /// Unknown and changed host keys are refused.
    Strict,
    /// Unknown host keys are learned (written to known_hosts); changed keys are still refused.
    AcceptNew,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub name: String,
    pub vip: IpAddr,
    pub nodes: Pair<Node>,
    pub ssh: SshConfig,
    pub galera: GaleraConfig,
    pub gluster: GlusterConfig,
    pub k3s: K3sConfig,
    pub ingress: IngressConfig,
    /// `[deploy]`: what `pairctl deploy` needs beyond the rest (all optional).
    pub deploy: DeployConfig,
    /// `[witness]`: the optional third vote (garbd and the Gluster arbiter bricks), reached
    /// with the `[ssh]` settings of the nodes. None: the pair as the quorum model defines it.
    pub witness: Option<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub address: IpAddr,
}

#[derive(Debug, Clone)]
pub struct SshConfig {
    pub user: String,
    pub port: u16,
    /// None: use the ssh-agent ($SSH_AUTH_SOCK), then ~/.ssh/id_ed25519, ~/.ssh/id_rsa.
    pub identity_file: Option<PathBuf>,
    pub known_hosts: PathBuf,
    pub host_key_policy: HostKeyPolicy,
    pub connect_timeout: Duration,
    /// The ssh-agent's socket: `$SSH_AUTH_SOCK` when the command started.
    pub agent_socket: Option<PathBuf>,
    /// `ssh.config_file` (default ~/.ssh/config when it exists; `none`: not read), parsed.
    pub ssh_config: Option<Arc<SshConfigFile>>,
    /// `ssh.jump`: jump hosts, the first connected to first (an empty list: none, whatever
    /// ssh_config says); None: as ssh_config says.
    pub jump: Option<Vec<JumpHost>>,
    /// `ssh.tunnel`: SQL and HTTPS through the SSH connections even without a jump host.
    pub tunnel: bool,
    /// Which of the values above the file (or a flag) set: those win over ssh_config.
    pub explicit: SshExplicit,
}

/// The `[ssh]` settings given in pairctl's config (or by a flag), not defaulted.
#[derive(Debug, Clone, Copy, Default)]
pub struct SshExplicit {
    pub user: bool,
    pub port: bool,
    pub known_hosts: bool,
    pub host_key_policy: bool,
    pub connect_timeout: bool,
}

impl Default for SshConfig {
    /// pairctl's defaults, reading no ssh_config.
    fn default() -> Self {
        SshConfig {
            user: "root".into(),
            port: 22,
            identity_file: None,
            known_hosts: std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/root"))
                .join(".ssh/known_hosts"),
            host_key_policy: HostKeyPolicy::Strict,
            connect_timeout: Duration::from_secs(3),
            agent_socket: None,
            ssh_config: None,
            jump: None,
            tunnel: false,
            explicit: SshExplicit::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GaleraConfig {
    pub port: u16,
    pub user: String,
    pub password: Option<Secret>,
    /// Where the password came from, for messages ("file /x" or "$PAIRCTL_DB_PASSWORD").
    pub password_source: Option<String>,
    pub password_file: Option<PathBuf>,
    /// TLS to MariaDB: verified against this CA, required (no plain-text fallback) when set.
    pub tls: Option<GaleraTls>,
}

/// `[galera] ca_file` and an optional client certificate (`cert_file` + `key_file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GaleraTls {
    pub ca_file: PathBuf,
    pub client: Option<(PathBuf, PathBuf)>,
}

#[derive(Debug, Clone)]
pub struct GlusterConfig {
    pub volumes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct K3sConfig {
    pub services: Vec<String>,
    pub namespace: String,
    pub state_path: String,
    pub replica_path: String,
    pub replica_max_age: Duration,
    pub bundle_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct IngressConfig {
    pub url: String,
    pub ca_file: Option<PathBuf>,
    pub token: Option<Secret>,
    pub token_file: Option<PathBuf>,
    /// `{service}` is replaced by the service name.
    pub health_path: String,
}

/// `[deploy]`: the deployment record's fields and the install choices of `pairctl deploy`.
#[derive(Debug, Clone)]
pub struct DeployConfig {
    /// Deployment record (`/etc/pairctl/deployment.json`, the `status` header).
    pub version: String,
    pub build: String,
    pub mode: String,
    pub deployment_type: String,
    pub platform: String,
    pub suite: String,
    /// keepalived `virtual_router_id`: unique on the nodes' network segment.
    pub vrrp_router_id: u8,
    /// Gluster bricks live in `<brick_root>/<volume>` (a real filesystem, not an overlay).
    pub brick_root: String,
    /// Volumes are mounted at `<mount_root>/<volume>`.
    pub mount_root: String,
    /// MariaDB host patterns of the monitoring user besides localhost and 127.0.0.1;
    /// empty: the nodes' subnet (`10.1.2.0/255.255.255.0`).
    pub db_client_hosts: Vec<String>,
    /// `innodb_buffer_pool_size` in the Galera config (unset: MariaDB's default).
    pub innodb_buffer_pool_size: Option<String>,
    /// Where the built-in nginx ingress proxies to when the bundle has no ingress.nginx.conf.
    pub ingress_upstream: String,
    /// An ingress certificate and key to install as they are (instead of issuing one).
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key: Option<Secret>,
    pub tls_key_file: Option<PathBuf>,
    /// The private key of `ingress.ca_file`, to issue ingress certificates with it.
    pub ca_key: Option<Secret>,
    pub ca_key_file: Option<PathBuf>,
}

impl Default for DeployConfig {
    fn default() -> Self {
        DeployConfig {
            version: env!("CARGO_PKG_VERSION").to_string(),
            build: format!("pairctl-{}", env!("CARGO_PKG_VERSION")),
            mode: "secure".into(),
            deployment_type: "multi-node".into(),
            platform: "server".into(),
            suite: "fabric-automation".into(),
            vrrp_router_id: 51,
            brick_root: "/srv/bricks".into(),
            mount_root: "/mnt".into(),
            db_client_hosts: Vec::new(),
            innodb_buffer_pool_size: None,
            ingress_upstream: "http://127.0.0.1:18080".into(),
            tls_cert_file: None,
            tls_key: None,
            tls_key_file: None,
            ca_key: None,
            ca_key_file: None,
        }
    }
}

impl Config {
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }
    /// The secret files the config names (redacted from support bundles).
    pub fn secret_files(&self) -> Vec<PathBuf> {
        [
            &self.galera.password_file,
            &self.ingress.token_file,
            &self.deploy.tls_key_file,
            &self.deploy.ca_key_file,
            &self
                .galera
                .tls
                .as_ref()
                .and_then(|t| t.client.as_ref().map(|c| c.1.clone())),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }
    pub fn health_url(&self, service: &str) -> String {
        format!(
            "{}{}",
            self.ingress.url.trim_end_matches('/'),
            self.ingress.health_path.replace("{service}", service)
        )
    }
}

// ---- raw file shape ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    name: Spanned<String>,
    vip: Spanned<String>,
    node: Option<Spanned<Vec<RawNode>>>,
    #[serde(default)]
    ssh: RawSsh,
    #[serde(default)]
    galera: RawGalera,
    #[serde(default)]
    gluster: RawGluster,
    #[serde(default)]
    k3s: RawK3s,
    #[serde(default)]
    ingress: RawIngress,
    #[serde(default)]
    deploy: RawDeploy,
    witness: Option<RawNode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: Spanned<String>,
    address: Spanned<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSsh {
    user: Option<String>,
    port: Option<u16>,
    identity_file: Option<Spanned<String>>,
    known_hosts: Option<String>,
    host_key_policy: Option<HostKeyPolicy>,
    connect_timeout: Option<Spanned<String>>,
    config_file: Option<Spanned<String>>,
    jump: Option<Spanned<String>>,
    tunnel: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGalera {
    port: Option<u16>,
    user: Option<Spanned<String>>,
    password_file: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    cert_file: Option<Spanned<String>>,
    key_file: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGluster {
    volumes: Option<Spanned<Vec<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawK3s {
    services: Option<Spanned<Vec<String>>>,
    namespace: Option<Spanned<String>>,
    state_path: Option<Spanned<String>>,
    replica_path: Option<Spanned<String>>,
    replica_max_age: Option<Spanned<String>>,
    bundle_dir: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawIngress {
    url: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    token_file: Option<Spanned<String>>,
    health_path: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDeploy {
    version: Option<String>,
    build: Option<String>,
    mode: Option<String>,
    #[serde(rename = "type")]
    deployment_type: Option<String>,
    platform: Option<String>,
    suite: Option<String>,
    vrrp_router_id: Option<Spanned<i64>>,
    brick_root: Option<Spanned<String>>,
    mount_root: Option<Spanned<String>>,
    db_client_hosts: Option<Spanned<Vec<String>>>,
    innodb_buffer_pool_size: Option<Spanned<String>>,
    ingress_upstream: Option<Spanned<String>>,
    tls_cert_file: Option<Spanned<String>>,
    tls_key_file: Option<Spanned<String>>,
    ca_key_file: Option<Spanned<String>>,
}

/// Finds the config file: the flag, then $PAIRCTL_CONFIG, ./pairctl.toml,
/// ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml.
pub fn discover(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = flag {
        return Ok(path.to_path_buf());
    }
    if let Some(path) = std::env::var_os(ENV_CONFIG).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let mut candidates = vec![PathBuf::from("pairctl.toml")];
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(Path::new(&home).join(".config/pairctl/pairctl.toml"));
    }
    candidates.push(PathBuf::from("/etc/pairctl/pairctl.toml"));
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            let list: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            Error::config("no configuration file found")
                .cause(format!("looked at ${ENV_CONFIG} and {}", list.join(", ")))
                .hint("pass -c FILE, or for the test lab: eval \"$(tests/lab/lab.sh env)\" and -c \"$LAB_CONFIG\"")
        })
}

pub fn load(flag: Option<&Path>) -> Result<Config> {
    let path = discover(flag)?;
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::config(format!("cannot read configuration file {}", path.display())).caused_by(&e)
    })?;
    parse(&path, &text)
}

// ---- values that reach a shell on the nodes ----
//
// Every config value that a remote command or script uses is checked here, and passed
// quoted as well (`shell_quote`, arguments): either alone would be one mistake away from
// running text from a config file as root on both nodes.

const NAME_RULE: &str =
    "must be 1-63 of a-z, 0-9 and '-', starting with a letter or digit (it reaches shell commands on the nodes)";
const USER_RULE: &str =
    "must be 1-32 of a-z, 0-9, '_' and '-', starting with a letter or '_' (it reaches shell commands on the nodes)";
const PATH_RULE: &str =
    "must be an absolute path without spaces, quotes or control characters (it reaches shell commands on the nodes)";

/// Cluster, node, volume, service and namespace names: `[a-z0-9-]`, as DNS labels are.
pub fn is_name(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && !s.starts_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Unix and MariaDB user names.
pub fn is_user(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Paths on the nodes: absolute, no whitespace, no quotes or shell metacharacters, no
/// control characters, no `..`.
pub fn is_remote_path(s: &str) -> bool {
    s.starts_with('/')
        && s.len() <= 4096
        && !s.split('/').any(|part| part == "..")
        && s.chars().all(|c| {
            !c.is_control() && !c.is_whitespace() && !"'\"`$\\;&|<>(){}*?[]!#~".contains(c)
        })
}

fn remote_path(
    loc: &Locator,
    value: &Option<Spanned<String>>,
    key: &str,
    default: &str,
) -> Result<String> {
    match value {
        Some(v) if !is_remote_path(v.get_ref()) => Err(loc.error(Some(v.span()), key, PATH_RULE)),
        Some(v) => Ok(v.get_ref().clone()),
        None => Ok(default.to_string()),
    }
}

/// What a masked secret shows.
const MASK: &str = "<redacted>";

/// Whether a key's value is a secret: by its words (`password`, `token`, `tls_key`…), so
/// that an unknown key someone invented is masked as well. `*_file` keys hold paths.
fn looks_secret(key: &str) -> bool {
    let key = key.trim().trim_matches(['"', '\'']).to_ascii_lowercase();
    let words: Vec<&str> = key
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let Some(last) = words.last() else {
        return false;
    };
    if matches!(*last, "file" | "path" | "dir" | "policy" | "hosts") {
        return false;
    }
    const ANYWHERE: &[&str] = &[
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "credential",
        "credentials",
        "private",
        "apikey",
        "cookie",
    ];
    const LAST: &[&str] = &["key", "pass", "pwd", "pw", "auth", "psk"];
    words.iter().any(|w| ANYWHERE.contains(w)) || LAST.contains(last)
}

/// A config line as it may be quoted in an error: `key = <redacted>` when the key looks
/// like a secret (with the value that was masked, to mask it in the message too).
fn mask_secret_line(line: &str) -> (String, Option<String>) {
    match line.split_once('=') {
        Some((key, value)) if looks_secret(key) => {
            let value = value.trim();
            let bare = value.trim_matches(['"', '\'']).to_string();
            (format!("{} = {MASK}", key.trim()), Some(bare))
        }
        _ => (line.to_string(), None),
    }
}

/// Where in the file a problem is: renders as `file:line: key: reason`.
struct Locator<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Locator<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .bytes()
            .filter(|b| *b == b'\n')
            .count()
            + 1
    }
    fn error(&self, span: Option<std::ops::Range<usize>>, key: &str, reason: &str) -> Error {
        let location = match span {
            Some(span) => format!("{}:{}", self.path.display(), self.line_of(span.start)),
            None => self.path.display().to_string(),
        };
        let message = if key.is_empty() {
            format!("{location}: {reason}")
        } else {
            format!("{location}: key `{key}`: {reason}")
        };
        Error::config(message)
    }
}

/// A path (relative to the config file's directory) that names an existing file.
fn existing_file(loc: &Locator, base: &Path, v: &Spanned<String>, key: &str) -> Result<PathBuf> {
    let p = resolve(base, v.get_ref());
    if p.is_file() {
        Ok(p)
    } else {
        Err(loc.error(
            Some(v.span()),
            key,
            &format!("{} does not exist", p.display()),
        ))
    }
}

fn ip_address(loc: &Locator, v: &Spanned<String>, key: &str) -> Result<IpAddr> {
    v.get_ref().parse().map_err(|_| {
        loc.error(
            Some(v.span()),
            key,
            &format!("`{}` is not an IP address", v.get_ref()),
        )
    })
}

fn parse_duration(loc: &Locator, value: &Spanned<String>, key: &str) -> Result<Duration> {
    humantime::parse_duration(value.get_ref().trim()).map_err(|e| {
        loc.error(
            Some(value.span()),
            key,
            &format!(
                "`{}` is not a duration ({e}); write e.g. \"5s\"",
                value.get_ref()
            ),
        )
    })
}

/// Relative paths in the file are relative to the file's directory.
fn resolve(base: &Path, value: &str) -> PathBuf {
    let expanded = match (value.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(value),
    };
    if expanded.is_absolute() {
        expanded
    } else {
        base.join(expanded)
    }
}

/// Reads a secret file, refusing one that group or others can read.
fn read_secret_file(
    loc: &Locator,
    value: &Spanned<String>,
    key: &str,
    base: &Path,
) -> Result<(PathBuf, Secret)> {
    use std::os::unix::fs::PermissionsExt;
    let path = resolve(base, value.get_ref());
    let meta = std::fs::metadata(&path).map_err(|e| {
        loc.error(
            Some(value.span()),
            key,
            &format!("cannot read secret file {}", path.display()),
        )
        .caused_by(&e)
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(loc
            .error(
                Some(value.span()),
                key,
                &format!(
                    "secret file {} is readable by group or others (mode {mode:04o})",
                    path.display()
                ),
            )
            .hint(format!("chmod 600 {}", path.display())));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        loc.error(
            Some(value.span()),
            key,
            &format!("cannot read secret file {}", path.display()),
        )
        .caused_by(&e)
    })?;
    let secret = text.trim_end_matches(['\n', '\r']).to_string();
    if secret.is_empty() {
        return Err(loc.error(
            Some(value.span()),
            key,
            &format!("secret file {} is empty", path.display()),
        ));
    }
    Ok((path, Secret(secret)))
}

fn env_secret(name: &str) -> Option<Secret> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Secret)
}

pub fn parse(path: &Path, text: &str) -> Result<Config> {
    let loc = Locator { path, text };
    let raw = parse_toml(&loc)?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();

    let name = raw.name.get_ref().trim().to_string();
    if !is_name(&name) {
        return Err(loc.error(Some(raw.name.span()), "name", NAME_RULE));
    }
    let vip = ip_address(&loc, &raw.vip, "vip")?;
    let nodes = parse_nodes(&loc, raw.node.as_ref(), vip)?;
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"));
    let ssh = parse_ssh(&loc, raw.ssh, &base, &home)?;
    let galera = parse_galera(&loc, &raw.galera, &base)?;
    let gluster = parse_gluster(&loc, &raw.gluster)?;
    let k3s = parse_k3s(&loc, &raw.k3s, &base)?;
    let ingress = parse_ingress(&loc, &raw.ingress, vip, &base)?;
    let deploy = parse_deploy(&loc, raw.deploy, &base, ingress.ca_file.is_some())?;
    let witness = match &raw.witness {
        None => None,
        Some(w) => Some(parse_witness(&loc, w, vip, &nodes)?),
    };

    Ok(Config {
        path: path.to_path_buf(),
        name,
        vip,
        nodes,
        ssh,
        galera,
        gluster,
        k3s,
        ingress,
        deploy,
        witness,
    })
}

/// The file as TOML, or where it is not (the offending line shown, a secret in it masked).
fn parse_toml(loc: &Locator) -> Result<RawConfig> {
    let text = loc.text;
    toml::from_str(text).map_err(|e| {
        let reason = match e.span() {
            // Show the offending line: TOML's own messages do not always name the key. A
            // secret someone wrote into the file is shown masked, in the line and in the
            // message.
            Some(span) => {
                let line = text
                    .lines()
                    .nth(loc.line_of(span.start) - 1)
                    .unwrap_or("")
                    .trim();
                let (line, secret) = mask_secret_line(line);
                let mut message = e.message().trim().to_string();
                // A value of a few characters would mask half the message; the line
                // is masked anyway.
                if let Some(secret) = secret.filter(|s| s.len() >= 4) {
                    message = message.replace(&secret, MASK);
                }
                format!("{message}\n  | {line}")
            }
            None => e.message().trim().to_string(),
        };
        loc.error(e.span(), "", &reason)
            .hint("see the configuration reference in README.md")
    })
}

/// `[[node]]`: exactly two, each name and address unique, no address the VIP's.
fn parse_nodes(
    loc: &Locator,
    node: Option<&Spanned<Vec<RawNode>>>,
    vip: IpAddr,
) -> Result<Pair<Node>> {
    let raw_nodes = node.map(|n| n.get_ref().as_slice()).unwrap_or(&[]);
    let count_error = |n: usize| {
        loc.error(
            node.map(|n| n.span()),
            "node",
            &format!("a pair has exactly 2 [[node]] entries, this file has {n}"),
        )
    };
    if raw_nodes.len() != 2 {
        return Err(count_error(raw_nodes.len()));
    }
    let mut nodes = Vec::new();
    for raw_node in raw_nodes {
        let node_name = raw_node.name.get_ref().trim().to_string();
        if !is_name(&node_name) {
            return Err(loc.error(Some(raw_node.name.span()), "node.name", NAME_RULE));
        }
        if nodes.iter().any(|n: &Node| n.name == node_name) {
            return Err(loc.error(
                Some(raw_node.name.span()),
                "node.name",
                &format!("duplicate node name `{node_name}`"),
            ));
        }
        let address = ip_address(loc, &raw_node.address, "node.address")?;
        if address == vip || nodes.iter().any(|n: &Node| n.address == address) {
            return Err(loc.error(
                Some(raw_node.address.span()),
                "node.address",
                &format!("address {address} is used twice (nodes and VIP must differ)"),
            ));
        }
        nodes.push(Node {
            name: node_name,
            address,
        });
    }
    Pair::try_from(nodes).map_err(|n| count_error(n.len()))
}

fn parse_ssh(loc: &Locator, raw: RawSsh, base: &Path, home: &Path) -> Result<SshConfig> {
    if raw.user.as_deref().is_some_and(|u| !is_user(u)) {
        return Err(loc.error(None, "ssh.user", USER_RULE));
    }
    let explicit = SshExplicit {
        user: raw.user.is_some(),
        port: raw.port.is_some(),
        known_hosts: raw.known_hosts.is_some(),
        host_key_policy: raw.host_key_policy.is_some(),
        connect_timeout: raw.connect_timeout.is_some(),
    };
    let (ssh_config, jump) = parse_ssh_client(loc, &raw, base, home)?;
    Ok(SshConfig {
        ssh_config,
        jump,
        tunnel: raw.tunnel.unwrap_or(false),
        explicit,
        user: raw.user.unwrap_or_else(|| "root".into()),
        port: raw.port.unwrap_or(22),
        identity_file: match &raw.identity_file {
            Some(v) => Some(existing_file(loc, base, v, "ssh.identity_file")?),
            None => None,
        },
        known_hosts: raw
            .known_hosts
            .as_deref()
            .map(|v| resolve(base, v))
            .unwrap_or_else(|| home.join(".ssh/known_hosts")),
        host_key_policy: raw.host_key_policy.unwrap_or(HostKeyPolicy::Strict),
        connect_timeout: match &raw.connect_timeout {
            Some(v) => parse_duration(loc, v, "ssh.connect_timeout")?,
            None => Duration::from_secs(3),
        },
        agent_socket: std::env::var_os("SSH_AUTH_SOCK")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
    })
}

fn parse_galera(loc: &Locator, raw: &RawGalera, base: &Path) -> Result<GaleraConfig> {
    let (password_file, mut password, mut password_source) = match &raw.password_file {
        Some(v) => {
            let (p, s) = read_secret_file(loc, v, "galera.password_file", base)?;
            let source = format!("file {}", p.display());
            (Some(p), Some(s), Some(source))
        }
        None => (None, None, None),
    };
    if let Some(secret) = env_secret(ENV_DB_PASSWORD) {
        password = Some(secret);
        password_source = Some(format!("${ENV_DB_PASSWORD}"));
    }
    let galera_tls = match (&raw.ca_file, &raw.cert_file, &raw.key_file) {
        (None, Some(v), _) | (None, _, Some(v)) => {
            return Err(loc.error(
                Some(v.span()),
                "galera.cert_file",
                "a client certificate needs galera.ca_file (TLS to MariaDB) too",
            ))
        }
        (Some(_), Some(v), None) | (Some(_), None, Some(v)) => {
            return Err(loc.error(
                Some(v.span()),
                "galera.cert_file",
                "galera.cert_file and galera.key_file go together",
            ))
        }
        (Some(ca), cert, key) => {
            let existing = |v: &Spanned<String>, key: &str| existing_file(loc, base, v, key);
            let client = match (cert, key) {
                (Some(c), Some(k)) => {
                    let (key_path, _) = read_secret_file(loc, k, "galera.key_file", base)?;
                    Some((existing(c, "galera.cert_file")?, key_path))
                }
                _ => None,
            };
            Some(GaleraTls {
                ca_file: existing(ca, "galera.ca_file")?,
                client,
            })
        }
        (None, None, None) => None,
    };
    Ok(GaleraConfig {
        tls: galera_tls,
        port: raw.port.unwrap_or(3306),
        user: match &raw.user {
            Some(v) if !is_user(v.get_ref()) => {
                return Err(loc.error(Some(v.span()), "galera.user", USER_RULE))
            }
            Some(v) => v.get_ref().clone(),
            None => "pairctl".into(),
        },
        password,
        password_source,
        password_file,
    })
}

fn parse_gluster(loc: &Locator, raw: &RawGluster) -> Result<GlusterConfig> {
    Ok(GlusterConfig {
        volumes: match &raw.volumes {
            Some(list) => {
                if let Some(bad) = list.get_ref().iter().find(|v| !is_name(v)) {
                    return Err(loc.error(
                        Some(list.span()),
                        "gluster.volumes",
                        &format!("`{}`: {NAME_RULE}", crate::render::sanitize::terminal(bad)),
                    ));
                }
                list.get_ref().clone()
            }
            None => Vec::new(),
        },
    })
}

fn parse_k3s(loc: &Locator, raw: &RawK3s, base: &Path) -> Result<K3sConfig> {
    let services = match &raw.services {
        Some(list) => {
            for s in list.get_ref() {
                if !is_name(s) {
                    return Err(loc.error(
                        Some(list.span()),
                        "k3s.services",
                        &format!(
                            "`{}` is not a service name: {NAME_RULE}",
                            crate::render::sanitize::terminal(s)
                        ),
                    ));
                }
            }
            list.get_ref().clone()
        }
        None => DEFAULT_SERVICES.iter().map(|s| s.to_string()).collect(),
    };
    Ok(K3sConfig {
        services,
        namespace: match &raw.namespace {
            Some(v) if !is_name(v.get_ref()) => {
                return Err(loc.error(Some(v.span()), "k3s.namespace", NAME_RULE))
            }
            Some(v) => v.get_ref().clone(),
            None => "efa".into(),
        },
        state_path: remote_path(
            loc,
            &raw.state_path,
            "k3s.state_path",
            "/var/lib/rancher/k3s/server/db/state.db",
        )?,
        replica_path: remote_path(
            loc,
            &raw.replica_path,
            "k3s.replica_path",
            "/var/lib/litestream/replica",
        )?,
        replica_max_age: match &raw.replica_max_age {
            Some(v) => parse_duration(loc, v, "k3s.replica_max_age")?,
            None => Duration::from_secs(30),
        },
        bundle_dir: raw.bundle_dir.as_deref().map(|v| resolve(base, v)),
    })
}

fn parse_ingress(
    loc: &Locator,
    raw: &RawIngress,
    vip: IpAddr,
    base: &Path,
) -> Result<IngressConfig> {
    let url = match &raw.url {
        Some(v) => {
            let u = v.get_ref().trim_end_matches('/').to_string();
            if !u.starts_with("https://") {
                return Err(loc.error(
                    Some(v.span()),
                    "ingress.url",
                    "must be an https:// URL (TLS verification is not optional)",
                ));
            }
            u
        }
        None => match vip {
            IpAddr::V4(v4) => format!("https://{v4}"),
            IpAddr::V6(v6) => format!("https://[{v6}]"),
        },
    };
    let ca_file = match &raw.ca_file {
        Some(v) => Some(existing_file(loc, base, v, "ingress.ca_file")?),
        None => None,
    };
    let (token_file, mut token) = match &raw.token_file {
        Some(v) => {
            let (p, s) = read_secret_file(loc, v, "ingress.token_file", base)?;
            (Some(p), Some(s))
        }
        None => (None, None),
    };
    if let Some(secret) = env_secret(ENV_INGRESS_TOKEN) {
        token = Some(secret);
    }
    let health_path = match &raw.health_path {
        Some(v) if !v.get_ref().starts_with('/') || !v.get_ref().contains("{service}") => {
            return Err(loc.error(
                Some(v.span()),
                "ingress.health_path",
                "must start with '/' and contain {service}",
            ));
        }
        Some(v) => v.get_ref().clone(),
        None => "/v1/{service}/health".into(),
    };
    Ok(IngressConfig {
        url,
        ca_file,
        token,
        token_file,
        health_path,
    })
}

/// `[witness]`: a name and an address distinct from the nodes' and the VIP.
fn parse_witness(loc: &Locator, raw: &RawNode, vip: IpAddr, nodes: &[Node]) -> Result<Node> {
    let name = raw.name.get_ref().trim().to_string();
    if !is_name(&name) {
        return Err(loc.error(Some(raw.name.span()), "witness.name", NAME_RULE));
    }
    if nodes.iter().any(|n| n.name == name) {
        return Err(loc.error(
            Some(raw.name.span()),
            "witness.name",
            &format!("`{name}` is a node's name: the witness is a third host"),
        ));
    }
    let address = ip_address(loc, &raw.address, "witness.address")?;
    if address == vip || nodes.iter().any(|n| n.address == address) {
        return Err(loc.error(
            Some(raw.address.span()),
            "witness.address",
            &format!("address {address} is used twice (nodes, VIP and witness must differ)"),
        ));
    }
    Ok(Node { name, address })
}

type SshClientSettings = (Option<Arc<SshConfigFile>>, Option<Vec<JumpHost>>);

/// `ssh.config_file` (read and parsed now, so that its errors are configuration errors and
/// its warnings are said once) and `ssh.jump`.
fn parse_ssh_client(
    loc: &Locator,
    raw: &RawSsh,
    base: &Path,
    home: &Path,
) -> Result<SshClientSettings> {
    let path = match &raw.config_file {
        Some(v) if v.get_ref().trim() == "none" => None,
        Some(v) => Some((resolve(base, v.get_ref().trim()), Some(v))),
        None => Some((home.join(".ssh/config"), None)),
    };
    let ssh_config = match path {
        // The default file is read only if it is there.
        Some((p, None)) if !p.is_file() => None,
        Some((p, span)) => {
            let file = SshConfigFile::load(&p).map_err(|e| {
                loc.error(
                    span.map(|v| v.span()),
                    "ssh.config_file",
                    &format!("ssh_config {e}"),
                )
                .hint("set ssh.config_file = \"none\" to ignore ssh_config")
            })?;
            for w in &file.warnings {
                tracing::warn!("ssh_config {w}");
            }
            Some(Arc::new(file))
        }
        None => None,
    };
    let jump = match &raw.jump {
        Some(v) => Some(parse_jump_list(v.get_ref().trim()).map_err(|e| {
            loc.error(
                Some(v.span()),
                "ssh.jump",
                &format!("{e}; write e.g. \"ops@bastion:22\" (or \"none\")"),
            )
        })?),
        None => None,
    };
    Ok((ssh_config, jump))
}

fn parse_deploy(
    loc: &Locator,
    raw: RawDeploy,
    base: &Path,
    has_ca_file: bool,
) -> Result<DeployConfig> {
    let defaults = DeployConfig::default();
    let absolute = |v: &Option<Spanned<String>>, key: &str, default: String| {
        remote_path(loc, v, key, &default).map(|p| match p.trim_end_matches('/') {
            "" => "/".to_string(),
            p => p.to_string(),
        })
    };
    let vrrp_router_id = match &raw.vrrp_router_id {
        Some(v) => vrrp_router_id(loc, v)?,
        None => defaults.vrrp_router_id,
    };
    let db_client_hosts = match &raw.db_client_hosts {
        Some(list) => db_client_hosts(loc, list)?,
        None => Vec::new(),
    };
    let innodb_buffer_pool_size = match &raw.innodb_buffer_pool_size {
        Some(v) => Some(buffer_pool_size(loc, v)?),
        None => None,
    };
    let ingress_upstream = match &raw.ingress_upstream {
        Some(v) => ingress_upstream(loc, v)?,
        None => defaults.ingress_upstream.clone(),
    };
    let (tls_cert_file, tls_key_file, tls_key) = deploy_tls(loc, &raw, base)?;
    let (ca_key_file, ca_key) = match &raw.ca_key_file {
        Some(v) if !has_ca_file => {
            return Err(loc.error(
                Some(v.span()),
                "deploy.ca_key_file",
                "is the key of ingress.ca_file, which is not set",
            ))
        }
        Some(v) => {
            let (p, s) = read_secret_file(loc, v, "deploy.ca_key_file", base)?;
            (Some(p), Some(s))
        }
        None => (None, None),
    };
    Ok(DeployConfig {
        version: raw.version.unwrap_or(defaults.version),
        build: raw.build.unwrap_or(defaults.build),
        mode: raw.mode.unwrap_or(defaults.mode),
        deployment_type: raw.deployment_type.unwrap_or(defaults.deployment_type),
        platform: raw.platform.unwrap_or(defaults.platform),
        suite: raw.suite.unwrap_or(defaults.suite),
        vrrp_router_id,
        brick_root: absolute(&raw.brick_root, "deploy.brick_root", defaults.brick_root)?,
        mount_root: absolute(&raw.mount_root, "deploy.mount_root", defaults.mount_root)?,
        db_client_hosts,
        innodb_buffer_pool_size,
        ingress_upstream,
        tls_cert_file,
        tls_key,
        tls_key_file,
        ca_key,
        ca_key_file,
    })
}

fn vrrp_router_id(loc: &Locator, v: &Spanned<i64>) -> Result<u8> {
    u8::try_from(*v.get_ref())
        .ok()
        .filter(|id| *id >= 1)
        .ok_or_else(|| {
            loc.error(
                Some(v.span()),
                "deploy.vrrp_router_id",
                "must be between 1 and 255",
            )
        })
}

/// MariaDB host patterns, spliced into GRANT statements: nothing that could end the quote.
fn db_client_hosts(loc: &Locator, list: &Spanned<Vec<String>>) -> Result<Vec<String>> {
    for h in list.get_ref() {
        if h.is_empty() || h.contains(['\'', '"', '`', '\\', ' ']) {
            return Err(loc.error(
                Some(list.span()),
                "deploy.db_client_hosts",
                &format!("`{h}` is not a MariaDB host pattern"),
            ));
        }
    }
    Ok(list.get_ref().clone())
}

fn buffer_pool_size(loc: &Locator, v: &Spanned<String>) -> Result<String> {
    let size = v.get_ref().trim();
    let digits = size.trim_end_matches(['K', 'M', 'G', 'k', 'm', 'g']);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(loc.error(
            Some(v.span()),
            "deploy.innodb_buffer_pool_size",
            &format!("`{size}` is not a size; write e.g. \"256M\""),
        ));
    }
    Ok(size.to_string())
}

/// The URL nginx proxies to: written into its configuration, so a plain URL only.
fn ingress_upstream(loc: &Locator, v: &Spanned<String>) -> Result<String> {
    let url = v.get_ref();
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(loc.error(
            Some(v.span()),
            "deploy.ingress_upstream",
            "must be an http:// or https:// URL",
        ));
    }
    if url.contains([';', '{', '}', ' ', '\n']) {
        return Err(loc.error(
            Some(v.span()),
            "deploy.ingress_upstream",
            "must be a plain URL",
        ));
    }
    Ok(url.clone())
}

/// The ingress's own certificate and key (both or neither): cert file, key file, key.
fn deploy_tls(
    loc: &Locator,
    raw: &RawDeploy,
    base: &Path,
) -> Result<(Option<PathBuf>, Option<PathBuf>, Option<Secret>)> {
    let tls_cert_file = match &raw.tls_cert_file {
        Some(v) => Some(existing_file(loc, base, v, "deploy.tls_cert_file")?),
        None => None,
    };
    let (tls_key_file, tls_key) = match &raw.tls_key_file {
        Some(v) => {
            let (p, s) = read_secret_file(loc, v, "deploy.tls_key_file", base)?;
            (Some(p), Some(s))
        }
        None => (None, None),
    };
    match (&raw.tls_cert_file, &raw.tls_key_file) {
        (Some(v), None) => {
            return Err(loc.error(
                Some(v.span()),
                "deploy.tls_cert_file",
                "needs deploy.tls_key_file too",
            ))
        }
        (None, Some(v)) => {
            return Err(loc.error(
                Some(v.span()),
                "deploy.tls_key_file",
                "needs deploy.tls_cert_file too",
            ))
        }
        _ => {}
    }
    Ok((tls_cert_file, tls_key_file, tls_key))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const GOOD: &str = r#"name = "fabric-a"
vip = "10.20.246.103"
[[node]]
name = "tpvm"
address = "10.20.246.101"
[[node]]
name = "tpvm2"
address = "10.20.246.102"
"#;

    fn err(text: &str) -> String {
        parse(Path::new("/etc/p.toml"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn minimal_file_gets_defaults() {
        let c = parse(Path::new("/etc/p.toml"), GOOD).unwrap();
        assert_eq!(c.nodes.len(), 2);
        assert_eq!(c.ingress.url, "https://10.20.246.103");
        assert_eq!(c.ssh.port, 22);
        assert_eq!(c.ssh.host_key_policy, HostKeyPolicy::Strict);
        assert_eq!(c.k3s.services.len(), 9);
        assert_eq!(
            c.health_url("tenant"),
            "https://10.20.246.103/v1/tenant/health"
        );
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let text = format!("{GOOD}[ssh]\nusr = \"root\"\n");
        let e = err(&text);
        assert!(e.contains("/etc/p.toml:10:"), "{e}");
        assert!(e.contains("usr"), "{e}");
    }

    #[test]
    fn node_count_other_than_two_is_refused() {
        let text = GOOD.replace(
            "[[node]]\nname = \"tpvm2\"\naddress = \"10.20.246.102\"\n",
            "",
        );
        let e = err(&text);
        assert!(e.contains("exactly 2 [[node]]"), "{e}");
    }

    #[test]
    fn bad_vip_names_line_and_key() {
        let e = err(&GOOD.replace("10.20.246.103", "10.20.246"));
        assert!(e.contains("/etc/p.toml:2: key `vip`"), "{e}");
    }

    #[test]
    fn bad_duration_names_key() {
        let e = err(&format!("{GOOD}[ssh]\nconnect_timeout = \"soon\"\n"));
        assert!(e.contains("ssh.connect_timeout"), "{e}");
        assert!(e.contains(":10:"), "{e}");
    }

    #[test]
    fn loose_secret_file_is_refused_strict_one_read() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("pw");
        std::fs::write(&secret, "hunter2\n").unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
        let text = format!("{GOOD}[galera]\npassword_file = \"pw\"\n");
        let cfg_path = dir.path().join("p.toml");
        let e = parse(&cfg_path, &text).unwrap_err();
        assert_eq!(e.exit_code(), 78);
        let shown = e.to_string();
        assert!(shown.contains(":10: key `galera.password_file`"), "{shown}");
        assert!(shown.contains("mode 0644"), "{shown}");
        assert!(!shown.contains("hunter2"));
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = parse(&cfg_path, &text).unwrap();
        assert_eq!(c.galera.password.as_ref().unwrap().expose(), "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn plain_http_ingress_is_refused() {
        let e = err(&format!("{GOOD}[ingress]\nurl = \"http://x\"\n"));
        assert!(e.contains("ingress.url"), "{e}");
    }

    #[test]
    fn deploy_section_defaults_and_values() {
        let c = parse(Path::new("/etc/p.toml"), GOOD).unwrap();
        assert_eq!(c.deploy.vrrp_router_id, 51);
        assert_eq!(c.deploy.brick_root, "/srv/bricks");
        assert_eq!(c.deploy.mode, "secure");
        let text = format!(
            "{GOOD}[deploy]\nversion = \"3.1.0\"\ntype = \"single\"\nvrrp_router_id = 57\nmount_root = \"/mnt/\"\n"
        );
        let c = parse(Path::new("/etc/p.toml"), &text).unwrap();
        assert_eq!(c.deploy.version, "3.1.0");
        assert_eq!(c.deploy.deployment_type, "single");
        assert_eq!(c.deploy.vrrp_router_id, 57);
        assert_eq!(c.deploy.mount_root, "/mnt");
    }

    #[test]
    fn deploy_section_errors_name_line_and_key() {
        let e = err(&format!("{GOOD}[deploy]\nvrrp_router_id = 300\n"));
        assert!(e.contains(":10: key `deploy.vrrp_router_id`"), "{e}");
        let e = err(&format!("{GOOD}[deploy]\nbrick_root = \"bricks\"\n"));
        assert!(e.contains(":10: key `deploy.brick_root`"), "{e}");
        let e = err(&format!("{GOOD}[deploy]\nca_key_file = \"/x\"\n"));
        assert!(
            e.contains("deploy.ca_key_file") && e.contains("ingress.ca_file"),
            "{e}"
        );
        let e = err(&format!("{GOOD}[deploy]\nmood = 1\n"));
        assert!(e.contains(":10:") && e.contains("mood"), "{e}");
    }

    #[test]
    fn config_errors_never_show_a_secret() {
        for (section, line) in [
            ("ingress", "token = \"Sx7-acceptance-secret\""),
            ("galera", "password = \"Sx7-acceptance-secret\""),
            ("galera", "db_pass = 'Sx7-acceptance-secret'"),
            ("deploy", "tls_key = \"Sx7-acceptance-secret\""),
            ("ssh", "api_token = \"Sx7-acceptance-secret\""),
            ("ingress", "token = \"Sx7-acceptance-secret"),
        ] {
            let e = parse(
                Path::new("/etc/p.toml"),
                &format!("{GOOD}[{section}]\n{line}\n"),
            )
            .unwrap_err();
            assert_eq!(e.exit_code(), 78);
            let shown = e.to_string();
            assert!(!shown.contains("Sx7-acceptance"), "{line}: {shown}");
            assert!(shown.contains(":10:"), "{shown}");
        }
        // Keys that only sound alike keep their values: they help find the typo.
        let shown = err(&format!("{GOOD}[ssh]\nhost_key_policy = \"strikt\"\n"));
        assert!(shown.contains("strikt"), "{shown}");
        assert!(
            looks_secret("password") && looks_secret("ingress.token") && looks_secret("ca_key")
        );
        assert!(!looks_secret("ca_file") && !looks_secret("known_hosts") && !looks_secret("name"));
    }

    #[test]
    fn values_that_reach_a_remote_shell_are_validated() {
        for (section, line, key) in [
            ("", "name = \"lab$(id)\"", "name"),
            ("", "name = \"lab'x\"", "name"),
            ("", "name = \"Lab\"", "name"),
            (
                "gluster",
                "volumes = [\"shared; reboot\"]",
                "gluster.volumes",
            ),
            ("k3s", "namespace = \"efa`id`\"", "k3s.namespace"),
            (
                "k3s",
                "replica_path = \"/var/lib/x'$(id)\"",
                "k3s.replica_path",
            ),
            (
                "k3s",
                "state_path = \"relative/state.db\"",
                "k3s.state_path",
            ),
            ("k3s", "services = [\"auth\\u001b[2J\"]", "k3s.services"),
            ("galera", "user = \"pairctl' OR 1\"", "galera.user"),
            (
                "deploy",
                "brick_root = \"/srv/bricks\\nrm -rf /\"",
                "deploy.brick_root",
            ),
            (
                "deploy",
                "mount_root = \"/mnt/../etc\"",
                "deploy.mount_root",
            ),
            ("ssh", "user = \"root;id\"", "ssh.user"),
        ] {
            let text = if section.is_empty() {
                GOOD.replacen("name = \"fabric-a\"", line, 1)
            } else {
                format!("{GOOD}[{section}]\n{line}\n")
            };
            let e = parse(Path::new("/etc/p.toml"), &text).unwrap_err();
            assert_eq!(e.exit_code(), 78, "{line}");
            let shown = e.to_string();
            assert!(shown.contains(&format!("`{key}`")), "{line}: {shown}");
            assert!(!shown.contains('\x1b'), "{shown}");
        }
        let c = parse(
            Path::new("/etc/p.toml"),
            &format!("{GOOD}[k3s]\nnamespace = \"efa-2\"\nreplica_path = \"/var/lib/l_s/r.db\"\n"),
        )
        .unwrap();
        assert_eq!(c.k3s.namespace, "efa-2");
    }

    #[test]
    fn galera_tls_needs_an_existing_ca_and_a_cert_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "pem").unwrap();
        let key = dir.path().join("client.key");
        std::fs::write(&key, "key").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let cfg_path = dir.path().join("p.toml");
        let c = parse(
            &cfg_path,
            &format!("{GOOD}[galera]\nca_file = \"ca.pem\"\n"),
        )
        .unwrap();
        assert_eq!(c.galera.tls.unwrap().ca_file, ca);
        let c = parse(
            &cfg_path,
            &format!("{GOOD}[galera]\nca_file = \"ca.pem\"\ncert_file = \"ca.pem\"\nkey_file = \"client.key\"\n"),
        )
        .unwrap();
        assert_eq!(
            c.galera.tls.as_ref().unwrap().client.clone(),
            Some((ca.clone(), key.clone()))
        );
        assert!(c.secret_files().contains(&key));
        for (extra, why) in [
            (
                "cert_file = \"ca.pem\"\nkey_file = \"client.key\"\n",
                "needs galera.ca_file",
            ),
            (
                "ca_file = \"ca.pem\"\ncert_file = \"ca.pem\"\n",
                "go together",
            ),
            ("ca_file = \"nope.pem\"\n", "does not exist"),
        ] {
            let e = parse(&cfg_path, &format!("{GOOD}[galera]\n{extra}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(why) && e.contains("p.toml:1"), "{e}");
        }
        assert!(parse(&cfg_path, GOOD).unwrap().galera.tls.is_none());
    }

    #[test]
    fn duplicate_addresses_are_refused() {
        let e = err(&GOOD.replace("10.20.246.102", "10.20.246.101"));
        assert!(e.contains("used twice"), "{e}");
    }

    #[test]
    fn witness_section_is_optional_and_checked() {
        let path = Path::new("/etc/p.toml");
        assert!(parse(path, GOOD).unwrap().witness.is_none());
        let with = format!("{GOOD}\n[witness]\nname = \"arb\"\naddress = \"10.20.246.104\"\n");
        let w = parse(path, &with).unwrap().witness.unwrap();
        assert_eq!(
            (w.name.as_str(), w.address.to_string().as_str()),
            ("arb", "10.20.246.104")
        );
        let e = err(&with.replace("10.20.246.104", "10.20.246.103"));
        assert!(
            e.contains("witness.address") && e.contains("used twice"),
            "{e}"
        );
        let e = err(&with.replace("\"arb\"", "\"tpvm\""));
        assert!(
            e.contains("witness.name") && e.contains("third host"),
            "{e}"
        );
        let e = err(&format!("{with}port = 22\n"));
        assert!(e.contains("port"), "{e}");
    }

    #[test]
    fn ssh_client_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(dir.path().join("ssh_config"), "Host *\n  User ops\n").unwrap();
        let text = format!(
            "{GOOD}[ssh]\nconfig_file = \"ssh_config\"\njump = \"ops@bastion:2222\"\ntunnel = true\n"
        );
        let c = parse(&path, &text).unwrap();
        assert!(c.ssh.ssh_config.is_some() && c.ssh.tunnel);
        assert_eq!(c.ssh.jump.as_ref().unwrap()[0].port, Some(2222));
        assert!(!c.ssh.explicit.user);
        let c = parse(
            &path,
            &format!("{GOOD}[ssh]\nconfig_file = \"none\"\nuser = \"root\"\n"),
        )
        .unwrap();
        assert!(c.ssh.ssh_config.is_none() && c.ssh.explicit.user);
        let e = parse(&path, &format!("{GOOD}[ssh]\nconfig_file = \"missing\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(":10: key `ssh.config_file`") && e.contains("missing"),
            "{e}"
        );
        std::fs::write(dir.path().join("bad"), "Host *\n  Port many\n").unwrap();
        let e = parse(&path, &format!("{GOOD}[ssh]\nconfig_file = \"bad\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad:2: Port `many`"), "{e}");
        let e = err(&format!("{GOOD}[ssh]\njump = \"bastion:port\"\n"));
        assert!(e.contains(":10: key `ssh.jump`"), "{e}");
    }
}
