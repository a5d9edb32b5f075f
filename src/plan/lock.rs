//! The cluster-wide lock: one operation that changes the pair at a time (swap, failover,
//! deploy; maintenance mode can take it the same way). It is held on the nodes, not on the
//! machine pairctl runs on, so two operators on two laptops exclude each other too.
//!
//! On each reachable node, in the config's order, one small script takes a `flock` on a guard
//! file and then reads, writes or refuses `/var/lib/pairctl/lock`: one line
//! `token|by|pid|what|since|expires` whose expiry is the node's own clock plus a TTL (the
//! operation's deadline and a margin), so a lock left by a pairctl that died runs out by itself
//! and no clock skew between machines matters. `force` takes a live lock over (the caller warns).
//! Acquiring stops at the first node that refuses and gives back what it took.

use crate::probe::collect::NodeLink;
use crate::probe::node::shell_quote;
use crate::transport::{Exec, ProbeError};
use serde::Serialize;
use std::time::Duration;

pub const LOCK_FILE: &str = "/var/lib/pairctl/lock";

/// Who holds a lock, as the node reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub node: String,
    pub by: String,
    pub pid: u32,
    pub what: String,
    pub since: String,
    /// Seconds until it expires by itself (the node's clock).
    pub expires_in_s: i64,
}

impl Holder {
    pub fn describe(&self) -> String {
        format!(
            "{} by {} (pid {}) since {}, expires by itself in {} s (on {})",
            self.what, self.by, self.pid, self.since, self.expires_in_s, self.node
        )
    }
}

/// One node's answer to the acquire script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Acquired,
    /// Acquired by taking over a live lock (`force`).
    TakenOver(Holder),
    Held(Holder),
    /// The guard stayed locked (another pairctl is acquiring right now).
    Busy,
}

/// What an operation asks for.
#[derive(Debug, Clone)]
pub struct Request {
    /// e.g. "swap n1 -> n2"
    pub what: String,
    /// user@host of the operator
    pub by: String,
    pub ttl: Duration,
    pub force: bool,
}

/// A held lock: release it when the operation ends (it expires by itself otherwise).
#[derive(Debug, Clone)]
pub struct ClusterLock {
    token: String,
    pub nodes: Vec<String>,
    /// Live locks this one took over (`force`), for the caller's warning.
    pub taken_over: Vec<Holder>,
}

/// Why the lock was not acquired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Held(Holder),
    Busy(String),
    /// No node could be asked.
    Unreachable,
    Failed(String),
}

impl Refusal {
    pub fn describe(&self) -> String {
        match self {
            Refusal::Held(h) => {
                format!("another operation holds the cluster lock: {}", h.describe())
            }
            Refusal::Busy(n) => {
                format!("another pairctl is taking the cluster lock on {n} right now")
            }
            Refusal::Unreachable => "no node answers: the cluster lock cannot be taken".into(),
            Refusal::Failed(e) => format!("cannot take the cluster lock: {e}"),
        }
    }
}

/// Only characters that need no quoting anywhere (the fields are `|`-separated on the node).
fn field(s: &str) -> String {
    let f: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@._-:>+ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    if f.is_empty() {
        "-".into()
    } else {
        f
    }
}

fn new_token() -> String {
    let mut b = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut b);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}{:x}{:x}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>(),
        std::process::id(),
        nanos as u64
    )
}

/// The node-side script: prints `acquired`, `taken|…`, `held|…` or `busy`. `path` is the lock
/// file (a test runs it against a temporary directory).
pub fn acquire_script(path: &str, token: &str, req: &Request, pid: u32) -> String {
    let line = format!(
        "{}|{}|{pid}|{}",
        field(token),
        field(&req.by),
        field(&req.what)
    );
    format!(
        r#"f={path}
mkdir -p "$(dirname "$f")" || exit 1
exec 9>"$f.guard"
flock -w 3 9 || {{ echo busy; exit 0; }}
now=$(date +%s)
if [ -s "$f" ]; then
    IFS='|' read -r t by pid what since exp < "$f"
    if [ "$t" != {token} ] && [ "${{exp:-0}}" -gt "$now" ] 2>/dev/null; then
        if [ {force} != 1 ]; then echo "held|$by|$pid|$what|$since|$((exp - now))"; exit 0; fi
        echo "taken|$by|$pid|$what|$since|$((exp - now))"
    fi
fi
printf '%s|%s|%s\n' {line} "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((now + {ttl}))" > "$f.new" && mv -f "$f.new" "$f" || exit 1
echo acquired
"#,
        path = shell_quote(path),
        token = shell_quote(&field(token)),
        force = u8::from(req.force),
        line = shell_quote(&line),
        ttl = req.ttl.as_secs().max(1),
    )
}

/// Removes the lock if it is still ours.
pub fn release_script(path: &str, token: &str) -> String {
    format!(
        r#"f={path}
exec 9>"$f.guard"
flock -w 3 9 || exit 1
[ -s "$f" ] && IFS='|' read -r t _ < "$f" && [ "$t" = {token} ] && rm -f "$f"
exit 0
"#,
        path = shell_quote(path),
        token = shell_quote(&field(token)),
    )
}

fn holder(node: &str, rest: &str) -> Holder {
    let f: Vec<&str> = rest.splitn(5, '|').collect();
    let get = |i: usize| f.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
    Holder {
        node: node.to_string(),
        by: get(0),
        pid: get(1).parse().unwrap_or(0),
        what: get(2),
        since: get(3),
        expires_in_s: get(4).parse().unwrap_or(0),
    }
}

/// Reads the script's output (its last line counts; a take-over line comes first).
pub fn parse_answer(node: &str, text: &str) -> Result<Answer, ProbeError> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let taken = lines
        .iter()
        .find_map(|l| l.strip_prefix("taken|"))
        .map(|r| holder(node, r));
    match lines.last() {
        Some(&"acquired") => Ok(match taken {
            Some(h) => Answer::TakenOver(h),
            None => Answer::Acquired,
        }),
        Some(&"busy") => Ok(Answer::Busy),
        Some(l) if l.starts_with("held|") => Ok(Answer::Held(holder(node, &l[5..]))),
        _ => Err(ProbeError::parse(format!(
            "unexpected answer from {node}: {:?}",
            text.chars().take(200).collect::<String>()
        ))),
    }
}

/// Takes the lock on every reachable node, in order; on a refusal gives back what it took.
pub async fn acquire(
    links: &[NodeLink],
    req: &Request,
    limit: Duration,
) -> Result<ClusterLock, Refusal> {
    let token = new_token();
    let script = acquire_script(LOCK_FILE, &token, req, std::process::id());
    let mut lock = ClusterLock {
        token,
        nodes: Vec::new(),
        taken_over: Vec::new(),
    };
    for link in links {
        let Some(s) = link.session() else { continue };
        let name = &link.node.name;
        let answer = match s
            .exec_with_input("bash -s", Some(script.as_bytes()), limit)
            .await
        {
            Ok(out) if out.success() => parse_answer(name, &out.stdout_str()),
            Ok(out) => Err(ProbeError::failed(format!(
                "{name}: {}",
                out.failure_summary()
            ))),
            Err(e) => Err(e.context(name)),
        };
        let refusal = match answer {
            Ok(Answer::Acquired) => None,
            Ok(Answer::TakenOver(h)) => {
                lock.taken_over.push(h);
                None
            }
            Ok(Answer::Held(h)) => Some(Refusal::Held(h)),
            Ok(Answer::Busy) => Some(Refusal::Busy(name.clone())),
            Err(e) => Some(Refusal::Failed(e.message)),
        };
        if let Some(r) = refusal {
            lock.release(links, limit).await;
            return Err(r);
        }
        lock.nodes.push(name.clone());
    }
    if lock.nodes.is_empty() {
        return Err(Refusal::Unreachable);
    }
    Ok(lock)
}

impl ClusterLock {
    /// Gives the lock back on the nodes that hold it (best effort: it expires anyway).
    pub async fn release(&self, links: &[NodeLink], limit: Duration) {
        let script = release_script(LOCK_FILE, &self.token);
        let releases = links
            .iter()
            .filter(|l| self.nodes.contains(&l.node.name))
            .filter_map(|l| l.session())
            .map(|s| {
                let script = script.clone();
                async move {
                    let _ = s
                        .exec_with_input("bash -s", Some(script.as_bytes()), limit)
                        .await;
                }
            });
        futures::future::join_all(releases).await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    fn req(what: &str, force: bool, ttl: u64) -> Request {
        Request {
            what: what.into(),
            by: "op@laptop".into(),
            ttl: Duration::from_secs(ttl),
            force,
        }
    }

    /// Runs a script with bash, as the node would.
    fn bash(script: &str) -> String {
        let mut bash = Command::new("bash");
        bash.arg("-s").stdout(Stdio::piped());
        let out = crate::deploy::stages::script_tests::bash_with_script(&mut bash, script);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn one_holder_at_a_time_with_expiry_and_takeover() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/lock").display().to_string();
        let a = acquire_script(&path, "tokA", &req("swap n1 -> n2", false, 60), 11);
        assert_eq!(parse_answer("n1", &bash(&a)).unwrap(), Answer::Acquired);
        // Again by the same holder: still ours.
        assert_eq!(parse_answer("n1", &bash(&a)).unwrap(), Answer::Acquired);
        // Someone else: refused, naming holder, pid, what and since.
        let b = acquire_script(&path, "tokB", &req("deploy", false, 60), 22);
        let Answer::Held(h) = parse_answer("n1", &bash(&b)).unwrap() else {
            panic!()
        };
        assert_eq!(
            (h.by.as_str(), h.pid, h.what.as_str()),
            ("op@laptop", 11, "swap n1 -> n2")
        );
        assert!(
            h.since.ends_with('Z') && (55..=60).contains(&h.expires_in_s),
            "{h:?}"
        );
        assert!(Refusal::Held(h.clone())
            .describe()
            .contains("swap n1 -> n2 by op@laptop (pid 11) since"));
        // The other's release does not free it; the holder's does.
        bash(&release_script(&path, "tokB"));
        assert!(matches!(
            parse_answer("n1", &bash(&b)).unwrap(),
            Answer::Held(_)
        ));
        bash(&release_script(&path, "tokA"));
        assert_eq!(parse_answer("n1", &bash(&b)).unwrap(), Answer::Acquired);
        // --force takes a live lock over and says whose it was.
        let c = acquire_script(&path, "tokC", &req("failover", true, 60), 33);
        let Answer::TakenOver(h) = parse_answer("n1", &bash(&c)).unwrap() else {
            panic!()
        };
        assert_eq!((h.what.as_str(), h.pid), ("deploy", 22));
        // A lock whose holder died expires by itself.
        let d = acquire_script(&path, "tokD", &req("swap", false, 1), 44);
        bash(&release_script(&path, "tokC"));
        assert_eq!(parse_answer("n1", &bash(&d)).unwrap(), Answer::Acquired);
        std::thread::sleep(Duration::from_millis(2100));
        assert_eq!(parse_answer("n1", &bash(&b)).unwrap(), Answer::Acquired);
    }

    #[test]
    fn hostile_fields_cannot_break_the_line_or_the_shell() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock").display().to_string();
        let mut r = req("swap|x'; rm -rf / #\n", false, 60);
        r.by = "$(reboot)|`id`".into();
        let out = bash(&acquire_script(&path, "t'1", &r, 5));
        assert_eq!(parse_answer("n1", &out).unwrap(), Answer::Acquired);
        let line = std::fs::read_to_string(&path).unwrap();
        assert_eq!(line.matches('|').count(), 5, "{line}");
        assert!(line.contains("_reboot__"), "{line}");
    }

    #[test]
    fn answers_parse() {
        assert_eq!(parse_answer("n2", "busy\n").unwrap(), Answer::Busy);
        assert!(parse_answer("n2", "").is_err());
        assert!(parse_answer("n2", "garbage").is_err());
    }
}
