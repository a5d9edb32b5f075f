//! ssh_config(5) as OpenSSH reads it, for the keywords pairctl acts on: `Host` blocks with
//! wildcard and `!` patterns, `Include` (globs, nested, inside Host blocks too), the first
//! value obtained wins (IdentityFile accumulates), `Match` blocks skipped with a warning.
//! Every value keeps the file and line it came from, so `-v` can say where a setting came from.
//!
//! Our own parser rather than ssh2-config or russh-config: neither reports where a value came
//! from, russh-config has no Include, and ssh2-config rejects or drops what it does not model;
//! pairctl needs a dozen keywords and their provenance, which is a small, well-tested parser.

use super::known_hosts::wildcard_match;
use std::path::{Path, PathBuf};

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
            let err = |reason: String| ParseError {
                origin: origin.clone(),
                reason,
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
                        return Err(err("Host needs at least one pattern".into()));
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
                        return Err(err(format!(
                            "Include nested deeper than {MAX_INCLUDE_DEPTH} levels"
                        )));
                    }
                    if args.is_empty() {
                        return Err(err("Include needs a file".into()));
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
                        return Err(err(format!("{k} needs a value")));
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

/// One line: keyword (lowercased) and arguments, `Keyword value`, `Keyword=value` or
/// `Keyword = value`, double quotes around arguments with spaces, `#` comments.
fn split_line(raw: &str) -> Result<Option<(String, Vec<String>)>, String> {
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
                    None => return Err("unterminated quote".into()),
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

fn validate(keyword: &str, args: &[String]) -> Result<(), String> {
    let value = args[0].as_str();
    let yes_no = |allowed: &[&str]| {
        if allowed.contains(&value.to_ascii_lowercase().as_str()) {
            Ok(())
        } else {
            Err(format!(
                "{keyword} `{value}`: expected one of {}",
                allowed.join(", ")
            ))
        }
    };
    match keyword {
        "port" => match value.parse::<u16>() {
            Ok(p) if p > 0 => Ok(()),
            _ => Err(format!("Port `{value}` is not a port number")),
        },
        "connecttimeout" => value
            .parse::<u64>()
            .map(|_| ())
            .map_err(|_| format!("ConnectTimeout `{value}` is not a number of seconds")),
        "identitiesonly" => yes_no(&["yes", "no"]),
        "stricthostkeychecking" => yes_no(&["yes", "no", "ask", "accept-new", "off"]),
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
pub fn parse_jump_list(value: &str) -> Result<Vec<JumpHost>, String> {
    if value.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    value.split(',').map(|hop| parse_jump(hop.trim())).collect()
}

fn parse_jump(hop: &str) -> Result<JumpHost, String> {
    let bad = || format!("`{hop}` is not [user@]host[:port]");
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
}
