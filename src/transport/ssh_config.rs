//! ssh_config(5) as OpenSSH reads it, for the keywords pairctl acts on: `Host` blocks with
//! wildcard and `!` patterns, `Include` (globs, nested, inside Host blocks too), the first
//! value obtained wins (IdentityFile accumulates), `Match` blocks skipped with a warning.
//! Every value keeps the file and line it came from, so `-v` can say where a setting came from.
//!
//! Our own parser rather than ssh2-config or russh-config: neither reports where a value came
//! from, russh-config has no Include, and ssh2-config rejects or drops what it does not model;
//! pairctl needs a dozen keywords and their provenance, which is a small, well-tested parser.

use super::known_hosts::wildcard_match;
use super::ssh::HostSpec;
use crate::config::{HostKeyPolicy, SshConfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// OpenSSH's own limit on nested Include.
const MAX_INCLUDE_DEPTH: usize = 16;

/// The keywords pairctl acts on (lowercase); everything else is read and ignored.
const KEYWORDS: &[&str] = &[
    "hostname",
    "user",
    "port",
    "identityfile",
    "identitiesonly",
    "identityagent",
    "proxyjump",
    "proxycommand",
    "userknownhostsfile",
    "stricthostkeychecking",
    "connecttimeout",
];

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

#[derive(Debug, Clone)]
struct Directive {
    /// Every Host line in force (the including file's and the included file's): all must match.
    conditions: Vec<Vec<String>>,
    /// False inside a Match block: never applies.
    applies: bool,
    keyword: String,
    args: Vec<String>,
    origin: Origin,
}

/// A parsed ssh_config with its Includes.
#[derive(Debug, Clone, Default)]
pub struct SshConfigFile {
    pub path: PathBuf,
    directives: Vec<Directive>,
    /// Things worth a warning (Match blocks, unsupported keywords), said once at load.
    pub warnings: Vec<String>,
}

/// What ssh_config says for one host: the first value of each keyword (IdentityFile: all).
#[derive(Debug, Clone, Default)]
pub struct HostConfig {
    values: Vec<(String, Vec<String>, Origin)>,
}

impl HostConfig {
    /// The first value obtained for `keyword` (lowercase) and where it came from.
    pub fn get(&self, keyword: &str) -> Option<(&str, &Origin)> {
        self.values
            .iter()
            .find(|(k, _, _)| k == keyword)
            .and_then(|(_, args, origin)| args.first().map(|a| (a.as_str(), origin)))
    }
    /// Every argument of the first `keyword` line (UserKnownHostsFile takes several files).
    pub fn args(&self, keyword: &str) -> Option<(&[String], &Origin)> {
        self.values
            .iter()
            .find(|(k, _, _)| k == keyword)
            .map(|(_, args, origin)| (args.as_slice(), origin))
    }
    /// Every value of an accumulating keyword (IdentityFile), in order.
    pub fn all(&self, keyword: &str) -> Vec<(&str, &Origin)> {
        self.values
            .iter()
            .filter(|(k, _, _)| k == keyword)
            .filter_map(|(_, args, origin)| args.first().map(|a| (a.as_str(), origin)))
            .collect()
    }
}

#[derive(Debug)]
pub struct ParseError {
    pub origin: Origin,
    pub reason: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.origin, self.reason)
    }
}

impl SshConfigFile {
    /// Reads `path` and what it includes. A file that does not exist is an error here: the
    /// caller decides whether a missing default (~/.ssh/config) matters.
    pub fn load(path: &Path) -> Result<Self, ParseError> {
        let mut file = SshConfigFile {
            path: path.to_path_buf(),
            ..Default::default()
        };
        let text = std::fs::read_to_string(path).map_err(|e| ParseError {
            origin: Origin {
                file: path.to_path_buf(),
                line: 0,
            },
            reason: format!("cannot read: {e}"),
        })?;
        file.read(path, &text, &[], 0)?;
        Ok(file)
    }

    /// Parses `text` as if read from `path` (Includes are still read from disk).
    pub fn parse(path: &Path, text: &str) -> Result<Self, ParseError> {
        let mut file = SshConfigFile {
            path: path.to_path_buf(),
            ..Default::default()
        };
        file.read(path, text, &[], 0)?;
        Ok(file)
    }

    fn read(
        &mut self,
        path: &Path,
        text: &str,
        outer: &[Vec<String>],
        depth: usize,
    ) -> Result<(), ParseError> {
        // Lines before the first Host/Match apply to every host (within the includer's block).
        let mut block: Option<Vec<String>> = None;
        let mut in_match = false;
        for (i, raw) in text.lines().enumerate() {
            let origin = Origin {
                file: path.to_path_buf(),
                line: i + 1,
            };
            let err = |reason: LineError| ParseError {
                origin: origin.clone(),
                reason: reason.to_string(),
            };
            let Some((keyword, args)) = split_line(raw).map_err(err)? else {
                continue;
            };
            let conditions = || {
                let mut c = outer.to_vec();
                c.extend(block.clone());
                c
            };
            match keyword.as_str() {
                "host" => {
                    if args.is_empty() {
                        return Err(err(LineError::NoPattern));
                    }
                    block = Some(args);
                    in_match = false;
                }
                "match" => {
                    self.warnings.push(format!(
                        "{origin}: Match blocks are not supported; pairctl ignores this one and the lines under it"
                    ));
                    in_match = true;
                }
                "include" => {
                    if in_match {
                        continue;
                    }
                    if depth >= MAX_INCLUDE_DEPTH {
                        return Err(err(LineError::TooDeep));
                    }
                    if args.is_empty() {
                        return Err(err(LineError::NoFile));
                    }
                    let conditions = conditions();
                    for pattern in &args {
                        for included in expand_include(&self.path, pattern) {
                            // A pattern that matches nothing is fine, as in OpenSSH.
                            let Ok(text) = std::fs::read_to_string(&included) else {
                                continue;
                            };
                            self.read(&included, &text, &conditions, depth + 1)?;
                        }
                    }
                }
                k if KEYWORDS.contains(&k) => {
                    if args.is_empty() {
                        return Err(err(LineError::NoValue(k.to_string())));
                    }
                    validate(k, &args).map_err(err)?;
                    self.directives.push(Directive {
                        conditions: conditions(),
                        applies: !in_match,
                        keyword: k.to_string(),
                        args,
                        origin,
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// What applies to `host` (the name as pairctl's config gives it: the node's address, or
    /// a jump host as written).
    pub fn query(&self, host: &str) -> HostConfig {
        let mut out = HostConfig::default();
        for d in &self.directives {
            if !d.applies || !d.conditions.iter().all(|c| host_matches(c, host)) {
                continue;
            }
            let accumulates = d.keyword == "identityfile";
            if accumulates || !out.values.iter().any(|(k, _, _)| *k == d.keyword) {
                out.values
                    .push((d.keyword.clone(), d.args.clone(), d.origin.clone()));
            }
        }
        out
    }
}

/// `Host` patterns: any positive match, and no negated one.
pub fn host_matches(patterns: &[String], host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let mut positive = false;
    for p in patterns {
        let p = p.to_ascii_lowercase();
        match p.strip_prefix('!') {
            Some(negated) if wildcard_match(negated, &host) => return false,
            Some(_) => {}
            None => positive |= wildcard_match(&p, &host),
        }
    }
    positive
}

/// What is wrong with one line of an ssh_config file (or a ProxyJump value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("unterminated quote")]
    UnterminatedQuote,
    #[error("Host needs at least one pattern")]
    NoPattern,
    #[error("Include nested deeper than {} levels", MAX_INCLUDE_DEPTH)]
    TooDeep,
    #[error("Include needs a file")]
    NoFile,
    /// The keyword (lowercased, as OpenSSH compares it).
    #[error("{0} needs a value")]
    NoValue(String),
    /// The keyword, its value, and the values it takes.
    #[error("{0} `{1}`: expected one of {2}")]
    NotOneOf(String, String, String),
    #[error("Port `{0}` is not a port number")]
    BadPort(String),
    #[error("ConnectTimeout `{0}` is not a number of seconds")]
    BadTimeout(String),
    #[error("`{0}` is not [user@]host[:port]")]
    BadJump(String),
}

/// One line: keyword (lowercased) and arguments, `Keyword value`, `Keyword=value` or
/// `Keyword = value`, double quotes around arguments with spaces, `#` comments.
fn split_line(raw: &str) -> Result<Option<(String, Vec<String>)>, LineError> {
    let line = raw.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let keyword = line[..end].to_ascii_lowercase();
    let mut rest = line[end..].trim_start();
    if let Some(after) = rest.strip_prefix('=') {
        rest = after.trim_start();
    }
    let mut args = Vec::new();
    let mut chars = rest.chars().peekable();
    while chars.peek().is_some() {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };
        if first == '#' {
            break;
        }
        let mut arg = String::new();
        if first == '"' {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(c) => arg.push(c),
                    None => return Err(LineError::UnterminatedQuote),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                arg.push(c);
            }
        }
        args.push(arg);
    }
    Ok(Some((keyword, args)))
}

fn validate(keyword: &str, args: &[String]) -> Result<(), LineError> {
    let value = args[0].as_str();
    let yes_no = |allowed: &[&str]| {
        if allowed.contains(&value.to_ascii_lowercase().as_str()) {
            Ok(())
        } else {
            Err(LineError::NotOneOf(
                keyword.to_string(),
                value.to_string(),
                allowed.join(", "),
            ))
        }
    };
    match keyword {
        "port" => match value.parse::<u16>() {
            Ok(p) if p > 0 => Ok(()),
            _ => Err(LineError::BadPort(value.to_string())),
        },
        "connecttimeout" => value
            .parse::<u64>()
            .map(|_| ())
            .map_err(|_| LineError::BadTimeout(value.to_string())),
        "identitiesonly" => yes_no(&["yes", "no"]),
        "stricthostkeychecking" => yes_no(&["yes", "no", "ask", "accept-new", "off"]),
        "proxyjump" => parse_jump_list(value).map(|_| ()),
        _ => Ok(()),
    }
}

/// Include's argument: `~` is the home directory; a relative path is relative to the
/// directory of the top file (OpenSSH: ~/.ssh for the user's config, which is that
/// directory when the file is ~/.ssh/config). A `*`/`?` in the last component is a glob,
/// in sorted order.
fn expand_include(top: &Path, pattern: &str) -> Vec<PathBuf> {
    let path = expand_tilde(pattern);
    let path = if path.is_absolute() {
        path
    } else {
        top.parent().unwrap_or(Path::new(".")).join(path)
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?']) {
        return vec![path];
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    !n.starts_with('.') && wildcard_match(&name, &n)
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

pub fn expand_tilde(value: &str) -> PathBuf {
    match (value.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ if value == "~" => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default(),
        _ => PathBuf::from(value),
    }
}

/// The `%` tokens of IdentityFile, UserKnownHostsFile and HostName: %h host, %p port,
/// %r remote user, %u local user, %d home, %n the name as given, %% a percent sign.
pub struct Tokens<'a> {
    pub host: &'a str,
    pub original: &'a str,
    pub port: u16,
    pub remote_user: &'a str,
}

impl Tokens<'_> {
    pub fn expand(&self, value: &str) -> String {
        let mut out = String::new();
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('h') => out.push_str(self.host),
                Some('n') => out.push_str(self.original),
                Some('p') => out.push_str(&self.port.to_string()),
                Some('r') => out.push_str(self.remote_user),
                Some('u') => out.push_str(&std::env::var("USER").unwrap_or_default()),
                Some('d') => out.push_str(&std::env::var("HOME").unwrap_or_default()),
                Some('%') => out.push('%'),
                Some(other) => {
                    out.push('%');
                    out.push(other);
                }
                None => out.push('%'),
            }
        }
        out
    }
}

/// One hop of ProxyJump (or `[ssh] jump`): `[user@]host[:port]` or `ssh://[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHost {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl std::fmt::Display for JumpHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            write!(f, "{}", self.host)?;
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// A ProxyJump value: `none`, or hops separated by commas (the first is connected to first).
pub fn parse_jump_list(value: &str) -> Result<Vec<JumpHost>, LineError> {
    if value.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    value.split(',').map(|hop| parse_jump(hop.trim())).collect()
}

fn parse_jump(hop: &str) -> Result<JumpHost, LineError> {
    let bad = || LineError::BadJump(hop.to_string());
    let rest = hop.strip_prefix("ssh://").unwrap_or(hop);
    let (user, rest) = match rest.rsplit_once('@') {
        Some((u, r)) if !u.is_empty() => (Some(u.to_string()), r),
        Some(_) => return Err(bad()),
        None => (None, rest),
    };
    let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
        let (h, after) = inner.split_once(']').ok_or_else(bad)?;
        match after.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if after.is_empty() => (h, None),
            None => return Err(bad()),
        }
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        return Err(bad());
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad)?),
        None => None,
    };
    Ok(JumpHost {
        user,
        host: host.to_string(),
        port,
    })
}

/// How to reach one node: the node itself and the jump hosts before it, every setting
/// resolved (pairctl's config first, then ssh_config, then defaults), with where each came
/// from for `-v`.
#[derive(Debug, Clone)]
pub struct Route {
    pub node: HostSpec,
    /// The first is connected to directly, each next one through the one before.
    pub jumps: Vec<HostSpec>,
    /// Bounds each hop (TCP or channel open, and the handshake).
    pub connect_timeout: Duration,
    /// SQL and HTTPS ride this node's SSH connection (a jump host, or `ssh.tunnel`).
    pub tunnel: bool,
    /// "setting value (source)" lines, said with -v.
    pub provenance: Vec<String>,
}

/// Where a resolved value came from.
enum Source<'a> {
    Pairctl(&'static str),
    SshConfig(&'a Origin),
    /// Written in the jump host's spec (`user@host:port`).
    Jump,
    /// The name itself: the node's address, or the jump host as written.
    Named,
    Default,
}

impl std::fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Pairctl(key) => write!(f, "pairctl config ssh.{key}"),
            Source::SshConfig(origin) => write!(f, "ssh_config {origin}"),
            Source::Jump => f.write_str("the jump host as written"),
            Source::Named => f.write_str("as named"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// StrictHostKeyChecking onto pairctl's policies. pairctl never accepts a changed key, and
/// never prompts: `no`/`off` learn unknown keys like accept-new, `ask` is strict.
fn policy_of(value: &str) -> HostKeyPolicy {
    match value.to_ascii_lowercase().as_str() {
        "accept-new" | "no" | "off" => HostKeyPolicy::AcceptNew,
        _ => HostKeyPolicy::Strict,
    }
}

fn policy_name(p: HostKeyPolicy) -> &'static str {
    match p {
        HostKeyPolicy::Strict => "strict",
        HostKeyPolicy::AcceptNew => "accept-new",
    }
}

/// One host's settings: `alias` is what ssh_config's Host lines are matched against.
struct Resolver<'a> {
    cfg: &'a SshConfig,
    said: Vec<String>,
    label: String,
}

impl Resolver<'_> {
    fn note(&mut self, setting: &str, value: &str, source: Source) {
        self.said
            .push(format!("{}: {setting} {value} ({source})", self.label));
    }

    /// The identity files to offer, and whether only those (IdentitiesOnly).
    fn identities(
        &mut self,
        hc: &HostConfig,
        path: &dyn Fn(&str) -> PathBuf,
    ) -> (Vec<PathBuf>, bool) {
        let cfg = self.cfg;
        match &cfg.identity_file {
            Some(f) => {
                self.note(
                    "identity",
                    &f.display().to_string(),
                    Source::Pairctl("identity_file"),
                );
                (vec![f.clone()], true)
            }
            None => {
                let only = hc
                    .get("identitiesonly")
                    .is_some_and(|(v, _)| v.eq_ignore_ascii_case("yes"));
                let mut files = Vec::new();
                for (v, origin) in hc.all("identityfile") {
                    if v.eq_ignore_ascii_case("none") {
                        continue;
                    }
                    let p = path(v);
                    self.note(
                        "identity",
                        &p.display().to_string(),
                        Source::SshConfig(origin),
                    );
                    files.push(p);
                }
                if files.is_empty() {
                    self.note(
                        "identity",
                        "agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa",
                        Source::Default,
                    );
                }
                (files, only)
            }
        }
    }

    /// The known_hosts file host keys are checked against.
    fn known_hosts(&mut self, hc: &HostConfig, path: &dyn Fn(&str) -> PathBuf) -> PathBuf {
        let cfg = self.cfg;
        match hc.args("userknownhostsfile") {
            Some((files, origin)) if !cfg.explicit.known_hosts => {
                // pairctl checks one file: the first, where OpenSSH also learns keys.
                let p = path(&files[0]);
                self.note(
                    "known_hosts",
                    &p.display().to_string(),
                    Source::SshConfig(origin),
                );
                p
            }
            _ => {
                let source = if cfg.explicit.known_hosts {
                    Source::Pairctl("known_hosts")
                } else {
                    Source::Default
                };
                self.note(
                    "known_hosts",
                    &cfg.known_hosts.display().to_string(),
                    source,
                );
                cfg.known_hosts.clone()
            }
        }
    }

    /// What to do with an unknown host key.
    fn policy(&mut self, hc: &HostConfig) -> HostKeyPolicy {
        let cfg = self.cfg;
        match hc.get("stricthostkeychecking") {
            Some((v, origin)) if !cfg.explicit.host_key_policy => {
                let p = policy_of(v);
                self.note(
                    "host_key_policy",
                    &format!("{} (StrictHostKeyChecking {v})", policy_name(p)),
                    Source::SshConfig(origin),
                );
                p
            }
            _ => {
                let source = if cfg.explicit.host_key_policy {
                    Source::Pairctl("host_key_policy")
                } else {
                    Source::Default
                };
                self.note("host_key_policy", policy_name(cfg.host_key_policy), source);
                cfg.host_key_policy
            }
        }
    }

    /// The settings of one host; `user`/`port` given by the caller (a jump spec) win.
    fn spec(
        &mut self,
        label: String,
        alias: &str,
        user: (String, Source),
        port: (u16, Source),
    ) -> (HostSpec, Duration) {
        let cfg = self.cfg;
        let host_config = cfg
            .ssh_config
            .as_ref()
            .map(|f| f.query(alias))
            .unwrap_or_default();
        let (user, user_source) = user;
        let (port, port_source) = port;
        let tokens = |host: &str, port: u16, user: &str, value: &str| {
            Tokens {
                host,
                original: alias,
                port,
                remote_user: user,
            }
            .expand(value)
        };
        let (host, host_source) = match host_config.get("hostname") {
            Some((v, origin)) => (tokens(alias, port, &user, v), Source::SshConfig(origin)),
            None => (alias.to_string(), Source::Named),
        };
        self.note("host", &host, host_source);
        self.note("port", &port.to_string(), port_source);
        self.note("user", &user, user_source);
        let path = |v: &str| expand_tilde(&tokens(&host, port, &user, v));
        let (identities, identities_only) = self.identities(&host_config, &path);
        let known_hosts = self.known_hosts(&host_config, &path);
        let policy = self.policy(&host_config);
        let connect_timeout = match host_config.get("connecttimeout") {
            Some((v, origin)) if !cfg.explicit.connect_timeout => {
                let secs = v.parse::<u64>().unwrap_or(3).max(1);
                self.note(
                    "connect_timeout",
                    &format!("{secs}s"),
                    Source::SshConfig(origin),
                );
                Duration::from_secs(secs)
            }
            _ => cfg.connect_timeout,
        };
        let agent = match host_config.get("identityagent") {
            Some((v, _)) if v.eq_ignore_ascii_case("none") => None,
            Some((v, _)) if v == "SSH_AUTH_SOCK" || v == "$SSH_AUTH_SOCK" => {
                cfg.agent_socket.clone()
            }
            Some((v, origin)) => {
                let p = path(v);
                self.note("agent", &p.display().to_string(), Source::SshConfig(origin));
                Some(p)
            }
            None => cfg.agent_socket.clone(),
        };
        if host_config.get("proxyjump").is_none() {
            if let Some((_, origin)) = host_config.get("proxycommand") {
                tracing::warn!(
                    "{label}: ProxyCommand ({origin}) is not supported (pairctl runs no commands to connect); use ProxyJump"
                );
            }
        }
        let spec = HostSpec {
            label,
            host,
            port,
            user,
            identities,
            identities_only,
            known_hosts,
            policy,
            agent,
        };
        (spec, connect_timeout)
    }
}

/// Resolves how to reach the node called `name` at `address` (as pairctl's config gives it:
/// the name ssh_config's Host lines are matched against).
pub fn route(name: &str, address: &str, cfg: &SshConfig) -> Route {
    let mut r = Resolver {
        cfg,
        said: Vec::new(),
        label: name.to_string(),
    };
    let node_config = cfg
        .ssh_config
        .as_ref()
        .map(|f| f.query(address))
        .unwrap_or_default();
    let user = match node_config.get("user") {
        _ if cfg.explicit.user => (cfg.user.clone(), Source::Pairctl("user")),
        Some((v, origin)) => (v.to_string(), Source::SshConfig(origin)),
        None => (cfg.user.clone(), Source::Default),
    };
    let port = match node_config.get("port") {
        _ if cfg.explicit.port => (cfg.port, Source::Pairctl("port")),
        Some((v, origin)) => (v.parse().unwrap_or(cfg.port), Source::SshConfig(origin)),
        None => (cfg.port, Source::Default),
    };
    let (node, mut connect_timeout) = r.spec(name.to_string(), address, user, port);
    let hops = match &cfg.jump {
        Some(list) => {
            if !list.is_empty() {
                let text: Vec<String> = list.iter().map(|j| j.to_string()).collect();
                r.note("jump", &text.join(","), Source::Pairctl("jump"));
            }
            list.clone()
        }
        None => match node_config.get("proxyjump") {
            Some((v, origin)) => {
                let list = parse_jump_list(v).unwrap_or_default();
                if !list.is_empty() {
                    r.note("jump", v, Source::SshConfig(origin));
                }
                list
            }
            None => Vec::new(),
        },
    };
    let mut jumps = Vec::new();
    for hop in &hops {
        let hop_config = cfg
            .ssh_config
            .as_ref()
            .map(|f| f.query(&hop.host))
            .unwrap_or_default();
        // A jump host's user and port: as written in the jump, else its own ssh_config
        // entry, else OpenSSH's defaults (the local user, 22). pairctl's [ssh] user and port
        // are the nodes'.
        let user = match (&hop.user, hop_config.get("user")) {
            (Some(u), _) => (u.clone(), Source::Jump),
            (None, Some((u, origin))) => (u.to_string(), Source::SshConfig(origin)),
            (None, None) => (
                std::env::var("USER").unwrap_or_else(|_| "root".into()),
                Source::Default,
            ),
        };
        let port = match (hop.port, hop_config.get("port")) {
            (Some(p), _) => (p, Source::Jump),
            (None, Some((p, origin))) => (p.parse().unwrap_or(22), Source::SshConfig(origin)),
            (None, None) => (22, Source::Default),
        };
        r.label = format!("jump host {hop}");
        let (spec, timeout) = r.spec(r.label.clone(), &hop.host, user, port);
        connect_timeout = connect_timeout.max(timeout);
        jumps.push(spec);
    }
    Route {
        tunnel: cfg.tunnel || !jumps.is_empty(),
        node,
        jumps,
        connect_timeout,
        provenance: r.said,
    }
}

/// Whether SQL and HTTPS to `node` ride its SSH connection (a jump host, or `ssh.tunnel`).
pub fn tunnels(cfg: &SshConfig, node: &crate::config::Node) -> bool {
    route(&node.name, &node.address.to_string(), cfg).tunnel
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> SshConfigFile {
        SshConfigFile::parse(Path::new("/home/op/.ssh/config"), text).unwrap()
    }

    /// A laptop's ~/.ssh/config of the usual shape: global defaults last, an alias, a
    /// wildcard block with a negation, a bastion.
    const OPERATOR: &str = r#"# managed by hand
Host bastion
    HostName bastion.corp.example
    User jump
    Port 2222
    IdentityFile ~/.ssh/id_bastion

Host 10.20.246.* !10.20.246.1
    ProxyJump bastion
    User=admin
    IdentityFile ~/.ssh/id_fabric
    IdentitiesOnly yes
    StrictHostKeyChecking accept-new
    UserKnownHostsFile ~/.ssh/known_hosts.fabric ~/.ssh/known_hosts.old

Host tpvm
    HostName 10.20.246.101

Match host *.corp.example exec "true"
    User matched

Host *
    User everyone
    ServerAliveInterval 30
    IdentityFile "~/.ssh/id with space"
    ConnectTimeout 7
"#;

    #[test]
    fn first_value_wins_identityfile_accumulates() {
        let c = parse(OPERATOR);
        let h = c.query("10.20.246.101");
        assert_eq!(h.get("user").unwrap().0, "admin");
        assert_eq!(h.get("user").unwrap().1.line, 10);
        assert_eq!(h.get("proxyjump").unwrap().0, "bastion");
        assert_eq!(h.get("connecttimeout").unwrap().0, "7");
        assert_eq!(h.get("stricthostkeychecking").unwrap().0, "accept-new");
        let ids: Vec<&str> = h.all("identityfile").iter().map(|(v, _)| *v).collect();
        assert_eq!(ids, ["~/.ssh/id_fabric", "~/.ssh/id with space"]);
        assert_eq!(h.args("userknownhostsfile").unwrap().0.len(), 2);
        assert!(h.get("hostname").is_none());
    }

    #[test]
    fn negation_excludes_and_match_is_skipped_with_a_warning() {
        let c = parse(OPERATOR);
        let h = c.query("10.20.246.1");
        assert!(h.get("proxyjump").is_none());
        assert_eq!(h.get("user").unwrap().0, "everyone");
        let b = c.query("bastion");
        assert_eq!(b.get("user").unwrap().0, "jump");
        assert_eq!(b.get("port").unwrap().0, "2222");
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].contains(":19: Match"), "{}", c.warnings[0]);
        // The Match block's User never applies, whatever the host.
        assert_eq!(c.query("x.corp.example").get("user").unwrap().0, "everyone");
    }

    #[test]
    fn host_patterns() {
        let p = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert!(host_matches(&p("n? 10.0.0.*"), "N1"));
        assert!(host_matches(&p("*"), "anything"));
        assert!(!host_matches(&p("!n1 *"), "n1"));
        assert!(host_matches(&p("!n1 *"), "n2"));
        // Only negations: nothing matches (OpenSSH needs a positive match).
        assert!(!host_matches(&p("!n1"), "n2"));
    }

    #[test]
    fn lines_quotes_equals_and_errors() {
        assert_eq!(
            split_line("  HostName=\"a b\" # comment").unwrap(),
            Some(("hostname".into(), vec!["a b".into()]))
        );
        assert_eq!(
            split_line("Port = 22").unwrap(),
            Some(("port".into(), vec!["22".into()]))
        );
        assert_eq!(split_line("   # only a comment").unwrap(), None);
        assert!(split_line("User \"open").is_err());
        let e = SshConfigFile::parse(Path::new("/c"), "Host a\n  Port twenty\n").unwrap_err();
        assert_eq!(e.origin.line, 2);
        assert!(e.to_string().contains("/c:2: Port `twenty`"), "{e}");
        let e = SshConfigFile::parse(Path::new("/c"), "StrictHostKeyChecking maybe\n").unwrap_err();
        assert!(e.reason.contains("accept-new"), "{e}");
    }

    #[test]
    fn include_globs_inside_a_host_block_and_loops() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("config.d")).unwrap();
        std::fs::write(d.join("config.d/10-lab"), "Host n1\n  HostName 10.0.0.1\n").unwrap();
        std::fs::write(d.join("config.d/20-all"), "User fromglob\n").unwrap();
        std::fs::write(d.join("config.d/.hidden"), "User hidden\n").unwrap();
        std::fs::write(d.join("scoped"), "Port 2200\n").unwrap();
        let main = d.join("config");
        std::fs::write(
            &main,
            "Include config.d/*\nHost only-here\n  Include scoped\nHost *\n  Port 22\n",
        )
        .unwrap();
        let c = SshConfigFile::load(&main).unwrap();
        let n1 = c.query("n1");
        assert_eq!(n1.get("hostname").unwrap().0, "10.0.0.1");
        assert_eq!(n1.get("user").unwrap().0, "fromglob");
        assert!(n1
            .get("hostname")
            .unwrap()
            .1
            .file
            .ends_with("config.d/10-lab"));
        // The included Port applies only inside the Host block that included it.
        assert_eq!(c.query("n1").get("port").unwrap().0, "22");
        assert_eq!(c.query("only-here").get("port").unwrap().0, "2200");
        // A file that includes itself stops at the depth limit with a clear error.
        std::fs::write(d.join("loop"), "Include loop\n").unwrap();
        let e = SshConfigFile::load(&d.join("loop")).unwrap_err();
        assert!(e.reason.contains("deeper than 16"), "{e}");
        // An Include that matches nothing is not an error.
        std::fs::write(d.join("none"), "Include nowhere/*\nUser u\n").unwrap();
        assert_eq!(
            SshConfigFile::load(&d.join("none"))
                .unwrap()
                .query("x")
                .get("user")
                .unwrap()
                .0,
            "u"
        );
    }

    #[test]
    fn jump_lists() {
        assert_eq!(parse_jump_list("none").unwrap(), vec![]);
        assert_eq!(
            parse_jump_list("ops@bastion:2222,inner").unwrap(),
            vec![
                JumpHost {
                    user: Some("ops".into()),
                    host: "bastion".into(),
                    port: Some(2222)
                },
                JumpHost {
                    user: None,
                    host: "inner".into(),
                    port: None
                }
            ]
        );
        let v6 = parse_jump_list("ssh://root@[fd00::1]:22").unwrap();
        assert_eq!(v6[0].host, "fd00::1");
        assert_eq!(v6[0].to_string(), "root@[fd00::1]:22");
        assert!(parse_jump_list("a:notaport").is_err());
        assert!(parse_jump_list("@host").is_err());
    }

    #[test]
    fn tokens() {
        let t = Tokens {
            host: "10.0.0.1",
            original: "n1",
            port: 2222,
            remote_user: "root",
        };
        assert_eq!(t.expand("%h-%n-%p-%r-%%-%x"), "10.0.0.1-n1-2222-root-%-%x");
    }

    fn cfg_with(text: &str) -> SshConfig {
        SshConfig {
            ssh_config: Some(std::sync::Arc::new(parse(text))),
            ..SshConfig::default()
        }
    }

    const LAB: &str = "Host bastion\n  HostName 10.0.0.13\n  User ops\n  Port 2222\n\
Host 10.0.0.11 10.0.0.12\n  ProxyJump bastion,inner:2200\n  User admin\n  Port 2022\n\
  IdentityFile ~/.ssh/id_%h\n  StrictHostKeyChecking no\n  ConnectTimeout 9\n";

    #[test]
    fn route_from_ssh_config_alone() {
        let r = route("n1", "10.0.0.11", &cfg_with(LAB));
        assert_eq!(r.node.host, "10.0.0.11");
        assert_eq!((r.node.user.as_str(), r.node.port), ("admin", 2022));
        assert!(r.node.identities[0].ends_with(".ssh/id_10.0.0.11"));
        // `no` is never weaker than pairctl's weakest: unknown keys learned, changed refused.
        assert_eq!(r.node.policy, HostKeyPolicy::AcceptNew);
        assert_eq!(r.connect_timeout, Duration::from_secs(9));
        assert!(r.tunnel);
        assert_eq!(r.jumps.len(), 2);
        assert_eq!(r.jumps[0].host, "10.0.0.13");
        assert_eq!((r.jumps[0].user.as_str(), r.jumps[0].port), ("ops", 2222));
        assert_eq!((r.jumps[1].host.as_str(), r.jumps[1].port), ("inner", 2200));
        let said = r.provenance.join("\n");
        assert!(
            said.contains("n1: user admin (ssh_config /home/op/.ssh/config:7)"),
            "{said}"
        );
        assert!(said.contains("n1: host 10.0.0.11 (as named)"), "{said}");
        assert!(
            said.contains("jump host bastion: host 10.0.0.13 (ssh_config"),
            "{said}"
        );
        assert!(
            said.contains("jump host inner:2200: port 2200 (the jump host as written)"),
            "{said}"
        );
    }

    #[test]
    fn pairctl_values_win() {
        let mut cfg = cfg_with(LAB);
        cfg.user = "root".into();
        cfg.explicit.user = true;
        cfg.port = 22;
        cfg.explicit.port = true;
        cfg.identity_file = Some(PathBuf::from("/keys/pairctl"));
        cfg.host_key_policy = HostKeyPolicy::Strict;
        cfg.explicit.host_key_policy = true;
        cfg.jump = Some(parse_jump_list("none").unwrap());
        let r = route("n1", "10.0.0.11", &cfg);
        assert_eq!((r.node.user.as_str(), r.node.port), ("root", 22));
        assert_eq!(r.node.identities, vec![PathBuf::from("/keys/pairctl")]);
        assert!(r.node.identities_only);
        assert_eq!(r.node.policy, HostKeyPolicy::Strict);
        assert!(r.jumps.is_empty() && !r.tunnel);
        let said = r.provenance.join("\n");
        assert!(
            said.contains("n1: user root (pairctl config ssh.user)"),
            "{said}"
        );
        assert!(
            said.contains("host_key_policy strict (pairctl config ssh.host_key_policy)"),
            "{said}"
        );
    }

    #[test]
    fn no_ssh_config_is_pairctls_defaults() {
        let r = route("n2", "10.0.0.12", &SshConfig::default());
        assert_eq!((r.node.user.as_str(), r.node.port), ("root", 22));
        assert_eq!(r.node.policy, HostKeyPolicy::Strict);
        assert!(r.node.identities.is_empty() && r.jumps.is_empty() && !r.tunnel);
        // A host outside every Host block of a file gets nothing from it either.
        let r = route("n9", "10.0.0.99", &cfg_with(LAB));
        assert!(r.jumps.is_empty());
        assert_eq!(r.node.user, "root");
    }

    #[test]
    fn an_operators_laptop_config() {
        let c = parse(include_str!("../../fixtures/ssh_config/operator-laptop"));
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        let node = c.query("10.20.246.101");
        assert_eq!(
            node.get("proxyjump").unwrap().0,
            "ops@bastion-1.corp.example.net:2222"
        );
        let ids: Vec<&str> = node.all("identityfile").iter().map(|(v, _)| *v).collect();
        assert_eq!(
            ids,
            [
                "~/.ssh/id_fabric",
                "~/.ssh/id_fabric_old",
                "~/.ssh/id_ed25519"
            ]
        );
        // The negated address is out of the fabric block, and the Match never applies.
        assert!(c.query("10.20.246.254").get("proxyjump").is_none());
        assert_eq!(c.query("github.com").get("user").unwrap().0, "git");
        let r = route(
            "tpvm",
            "10.20.246.101",
            &cfg_with(include_str!("../../fixtures/ssh_config/operator-laptop")),
        );
        assert_eq!(r.node.user, "root");
        assert_eq!(r.node.policy, HostKeyPolicy::AcceptNew);
        assert!(r.node.known_hosts.ends_with(".ssh/known_hosts.d/fabric"));
        assert_eq!(r.connect_timeout, Duration::from_secs(10));
        assert_eq!(r.jumps.len(), 1);
        let jump = &r.jumps[0];
        assert_eq!(
            (jump.host.as_str(), jump.user.as_str(), jump.port),
            ("bastion-1.corp.example.net", "ops", 2222)
        );
        // The bastion's own block: not the fabric's key list.
        assert!(jump
            .identities
            .iter()
            .all(|p| p.ends_with(".ssh/id_ed25519")));
    }
}
