//! litestream's own view of the k3s state replication, on each node, without starting a
//! litestream process (each costs 35 ms to over a second of a node's CPU):
//!
//! - the daemon (on the active): its control socket's `GET /list` — what `litestream list
//!   -json` asks — over the node's SSH connection (a direct-streamlocal channel; the CLI only
//!   where the node's sshd refuses such channels): whether it replicates and when its last
//!   successful sync to the replica was;
//! - where the daemon answers: the database's local transaction id (TXID), as `litestream
//!   status` reads it: the highest LTX file of level 0 in the database's `-litestream`
//!   directory (and the WAL's size);
//! - where it does not (the standby, which holds the replica): the replica's highest TXID and
//!   the time of its newest LTX file, as `litestream ltx` of the replica's `file://` URL lists
//!   them: the level-0 file names and the newest file's modification time.
//!
//! Both ways give the same facts (tests on output captured on the lab in the same moment).
//! Times are the node's own clock (`now` comes from the same node), so no clock skew between
//! the nodes enters an age.

use super::{ParseError, Probe};
use crate::transport::{Exec, ProbeError};
use serde::{Deserialize, Serialize};
use std::time::{Duration, UNIX_EPOCH};

/// litestream's configuration file on the nodes (what deploy writes).
pub const CONFIG: &str = "/etc/litestream.yml";

/// Longest error text kept from a node (the rest is noise or hostile).
const MAX_ERROR: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LitestreamFacts {
    /// The node's clock, Unix seconds.
    pub now: f64,
    /// The replication daemon on this node (`list -json`), or why it did not answer.
    pub daemon: Probe<Daemon>,
    /// The database as the daemon's node sees it (`status -json`); asked where the daemon answers.
    pub local: Option<Probe<LocalDb>>,
    /// The replica this node holds (`ltx`); asked where no daemon answers.
    pub replica: Option<Probe<ReplicaPos>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Daemon {
    /// `replicating`, or what the daemon says instead.
    pub status: String,
    /// The last successful sync to the replica, Unix seconds.
    pub last_sync_at: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalDb {
    /// `ok`, `not initialized`, `no database`, `error`.
    pub status: String,
    pub txid: Option<u64>,
    pub wal_size: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicaPos {
    /// The highest transaction the replica holds; None when it holds nothing.
    pub max_txid: Option<u64>,
    /// When the newest LTX file was written, Unix seconds.
    pub newest: Option<u64>,
}

/// The CLI way (what the files and the control socket replace; the tests prove both give
/// the same facts): POSIX sh, bounded output, every path quoted.
#[cfg(test)]
pub fn cli_command(db_path: &str, replica_path: &str) -> String {
    let q = super::node::shell_quote;
    let db = q(db_path);
    let replica = q(&format!("file://{replica_path}"));
    let mark = crate::transport::batch::mark;
    format!(
        "{clock}; date +%s.%N; {list}; out=$(litestream list -json -timeout 1 2>&1); rc=$?; \
printf '%s\\n' \"$out\" | head -c 8192; echo; echo \"rc=$rc\"; \
if [ $rc = 0 ]; then {status}; litestream status -json -config {CONFIG} {db} 2>&1 | head -c 8192; echo; \
else {ltx}; {{ litestream ltx {replica} 2>&1; echo \"rc=$?\"; }} | \
awk 'NR == 1 {{ print substr($0, 1, 512); next }} /^rc=/ {{ rc = $0; next }} {{ last = $0 }} \
END {{ if (last != \"\") print substr(last, 1, 512); print rc }}'; fi",
        clock = mark("clock"),
        list = mark("list"),
        status = mark("status"),
        ltx = mark("ltx"),
    )
}

/// litestream's last meaningful line (its `Error: ` prefix and log lines dropped), clipped and
/// without control characters: how its failures are shown.
pub fn clip(s: &str) -> String {
    let line = s
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("time="))
        .unwrap_or("no output");
    let line = line.strip_prefix("Error: ").unwrap_or(line);
    let mut out: String = line
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_ERROR)
        .collect();
    if line.chars().count() > MAX_ERROR {
        out.push('…');
    }
    out
}

/// Splits `text` (after `marker`) at the trailing `rc=N` line: (body, rc).
fn body_and_rc(text: &str) -> (String, Option<i32>) {
    let mut lines: Vec<&str> = text.lines().collect();
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let rc = lines
        .last()
        .and_then(|l| l.trim().strip_prefix("rc="))
        .and_then(|n| n.parse().ok());
    if rc.is_some() {
        lines.pop();
    }
    (lines.join("\n"), rc)
}

fn rfc3339_secs(s: &str) -> Option<f64> {
    let t = humantime::parse_rfc3339_weak(s.trim()).ok()?;
    Some(t.duration_since(UNIX_EPOCH).ok()?.as_secs_f64())
}

fn parse_txid(s: &str) -> Option<u64> {
    u64::from_str_radix(s.trim(), 16).ok()
}

/// `litestream list -json`, for the database at `db_path`.
pub fn parse_list(text: &str, rc: Option<i32>, db_path: &str) -> Probe<Daemon> {
    #[derive(Deserialize)]
    struct List {
        databases: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        path: String,
        status: String,
        last_sync_at: Option<String>,
    }
    if rc != Some(0) {
        let why = clip(text);
        return Err(
            if why.contains("control socket")
                && (why.contains("no such file or directory") || why.contains("connection refused"))
            {
                ProbeError::unreachable("not running (no control socket)")
            } else if why.contains("deadline exceeded") || why.contains("Timeout") {
                ProbeError::timed_out("not answering on its control socket (stopped or hung)")
            } else if why.contains("not found") && why.contains("litestream") {
                ProbeError::failed("litestream is not installed")
            } else {
                ProbeError::failed(why)
            },
        );
    }
    let list: List = serde_json::from_str(text.trim())
        .map_err(|e| ParseError::new("litestream list", e.to_string()))?;
    let entry = list
        .databases
        .into_iter()
        .find(|d| d.path == db_path)
        .ok_or_else(|| ProbeError::failed(format!("does not replicate {db_path}")))?;
    Ok(Daemon {
        status: entry.status,
        last_sync_at: entry.last_sync_at.as_deref().and_then(rfc3339_secs),
    })
}

/// `litestream status -json` for one database.
#[cfg(test)]
pub fn parse_status(text: &str) -> Probe<LocalDb> {
    #[derive(Deserialize)]
    struct Entry {
        status: String,
        local_txid: String,
        wal_size: String,
    }
    // Not JSON: litestream's complaint (no config, no database) in place of the status.
    let entries: Vec<Entry> = serde_json::from_str(text.trim())
        .map_err(|_| ProbeError::failed(format!("status: {}", clip(text))))?;
    let e = entries
        .into_iter()
        .next()
        .ok_or_else(|| ProbeError::parse("status: no database in the output"))?;
    Ok(LocalDb {
        txid: parse_txid(&e.local_txid),
        status: e.status,
        wal_size: e.wal_size,
    })
}

/// `litestream ltx` of a replica, reduced to its header and last line (see `cli_command`).
#[cfg(test)]
pub fn parse_ltx(text: &str, rc: Option<i32>) -> Probe<ReplicaPos> {
    if rc != Some(0) {
        return Err(ProbeError::failed(clip(text)));
    }
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| ProbeError::parse("ltx: no output"))?
        .split_whitespace()
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| ProbeError::parse(format!("ltx: no {name} column in the header")))
    };
    let (max_col, created_col) = (col("max_txid")?, col("created")?);
    let Some(last) = lines.next_back() else {
        return Ok(ReplicaPos {
            max_txid: None,
            newest: None,
        });
    };
    let fields: Vec<&str> = last.split_whitespace().collect();
    let max_txid = fields
        .get(max_col)
        .and_then(|s| parse_txid(s))
        .ok_or_else(|| ProbeError::parse(format!("ltx: unreadable line {:?}", clip(last))))?;
    let newest = fields.get(created_col).and_then(|s| rfc3339_secs(s));
    Ok(ReplicaPos {
        max_txid: Some(max_txid),
        newest: newest.map(|t| t as u64),
    })
}

/// The output of `cli_command`.
#[cfg(test)]
pub fn parse_cli(text: &str, db_path: &str) -> Result<LitestreamFacts, ParseError> {
    let sections = crate::transport::batch::Sections::parse(text);
    let get = |name| {
        sections
            .get(name)
            .map_err(|e| ParseError::new("litestream", e.to_string()))
    };
    let now = clock(get("clock")?, "litestream")?;
    let list = get("list")?;
    let after = match (sections.optional("status"), sections.optional("ltx")) {
        (Some(s), _) => Some((true, s)),
        (None, Some(s)) => Some((false, s)),
        (None, None) => None,
    };
    let (list_body, list_rc) = body_and_rc(list);
    let daemon = parse_list(&list_body, list_rc, db_path);
    let (local, replica) = match after {
        Some((true, s)) => (Some(parse_status(s)), None),
        Some((false, s)) => {
            let (body, rc) = body_and_rc(s);
            (None, Some(parse_ltx(&body, rc)))
        }
        None => (None, None),
    };
    Ok(LitestreamFacts {
        now,
        daemon,
        local,
        replica,
    })
}

/// litestream's control socket (the daemon's default, which `litestream list` dials).
pub const SOCKET: &str = "/var/run/litestream.sock";
/// How long the daemon gets to answer (`litestream list -timeout 1`).
const DAEMON_LIMIT: Duration = Duration::from_secs(1);
/// The control socket's answer is a few hundred bytes per database.
const ANSWER_LIMIT: usize = 64 * 1024;

/// A level-0 LTX file name as litestream writes it (`ltx.FormatFilename`): min and max TXID,
/// 16 lowercase hex digits each. Anything else in the directory litestream skips, and so does
/// the glob.
fn ltx_glob() -> String {
    let hex = "[0-9a-f]".repeat(16);
    format!("{hex}-{hex}.ltx")
}

/// The level-0 directory of the database at `db_path` (`DB.LTXLevelDir(0)`:
/// `<dir>/.<name>-litestream/ltx/0`).
fn local_l0(db_path: &str) -> String {
    let (dir, name) = db_path.rsplit_once('/').unwrap_or((".", db_path));
    format!("{dir}/.{name}-litestream/ltx/0")
}

/// The shell fragment for one node: what `litestream status` and `litestream ltx` read, from
/// the files themselves. POSIX sh, bounded output, every path quoted; the only process it may
/// start is `stat` (the WAL's size, the newest replica file's time), once each, without a
/// subshell around it. The newest LTX file is the glob's last match (names sort by TXID), not
/// a loop over every file: a busy database's level 0 holds hundreds, and a test per file cost
/// 10–15 ms of every round on the lab.
pub fn command(db_path: &str, replica_path: &str) -> String {
    let q = super::node::shell_quote;
    let glob = ltx_glob();
    format!(
        "command -v litestream >/dev/null 2>&1 && echo installed; \
lastltx() {{ if [ ! -e \"$1\" ]; then L=none; elif [ ! -r \"$1\" ] || [ ! -x \"$1\" ]; then L=unreadable; \
else L=-; set -- \"$1\"/{glob}; eval \"f=\\${{$#}}\"; [ -e \"$f\" ] && L=${{f##*/}}; fi; }}; \
db={db}; if [ -e \"$db\" ]; then echo db; if [ -e \"$db-wal\" ]; then w=$(stat -c %s -- \"$db-wal\" 2>/dev/null) || w=-; echo \"wal ${{w:--}}\"; \
else echo 'wal 0'; fi; lastltx {l0}; echo \"local $L\"; fi; \
r={replica}; lastltx \"$r\"; case $L in none|unreadable|-) echo \"replica $L\" ;; \
*) t=$(stat -c %Y -- \"$r/$L\" 2>/dev/null) || t=-; echo \"replica $L ${{t:--}}\" ;; esac",
        db = q(db_path),
        l0 = q(&local_l0(db_path)),
        replica = q(&format!("{replica_path}/ltx/0")),
    )
}

/// What `command` found on one node, before the daemon's answer decides what is reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Files {
    pub now: f64,
    pub installed: bool,
    /// What `litestream status` would say of the database.
    pub local: LocalDb,
    /// What `litestream ltx` of the replica would say.
    pub replica: Probe<ReplicaPos>,
}

/// go-humanize's `Bytes` (SI units), as `litestream status` prints the WAL's size.
fn humanize_bytes(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    if n < 10 {
        return format!("{n} B");
    }
    let e = ((n as f64).ln() / 1000f64.ln()).floor() as usize;
    let e = e.min(UNITS.len() - 1);
    let val = ((n as f64) / 1000f64.powi(e as i32) * 10.0 + 0.5).floor() / 10.0;
    if val < 10.0 {
        format!("{val:.1} {}", UNITS[e])
    } else {
        format!("{val:.0} {}", UNITS[e])
    }
}

/// An LTX file name's (min, max) TXID.
fn ltx_name(name: &str) -> Option<(u64, u64)> {
    let (min, max) = name.strip_suffix(".ltx")?.split_once('-')?;
    let ok = |s: &str| s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit());
    (ok(min) && ok(max)).then(|| Some((parse_txid(min)?, parse_txid(max)?)))?
}

/// The node's clock as `date +%s.%N` printed it.
pub(super) fn clock(text: &str, what: &'static str) -> Result<f64, ParseError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| ParseError::new(what, format!("bad clock {:?}", clip(text))))
}

/// The output of `command`, and the node's clock (`date +%s.%N`, the basics' clock section).
pub fn parse_files(clock_text: &str, rest: &str) -> Result<Files, ParseError> {
    const WHAT: &str = "litestream (files)";
    let now = clock(clock_text, WHAT)?;
    let mut files = Files {
        now,
        installed: false,
        local: LocalDb {
            status: "no database".into(),
            txid: None,
            wal_size: "-".into(),
        },
        replica: Err(ProbeError::parse("ltx: no answer")),
    };
    let bad = |line: &str| ParseError::new(WHAT, format!("unexpected line {:?}", clip(line)));
    for line in rest.lines() {
        let mut words = line.split(' ');
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some(""), None, ..) => {}
            (Some("installed"), None, ..) => files.installed = true,
            (Some("db"), None, ..) => files.local.status = "unknown".into(),
            (Some("wal"), Some(n), None, _) => {
                files.local.wal_size = n.parse().map(humanize_bytes).unwrap_or("-".into())
            }
            // `DB.MaxLTX`: no directory is "not initialized", an unreadable one "error".
            (Some("local"), Some(name), None, _) => {
                let (status, txid) = match name {
                    "none" | "-" => ("not initialized", None),
                    "unreadable" => ("error", None),
                    n => match ltx_name(n) {
                        Some((_, max)) if max > 0 => ("ok", Some(max)),
                        Some(_) => ("not initialized", None),
                        None => return Err(bad(line)),
                    },
                };
                files.local.status = status.into();
                files.local.txid = txid;
            }
            (Some("replica"), Some(name), time, None) => {
                files.replica = match (name, time) {
                    ("none" | "-", None) => Ok(ReplicaPos {
                        max_txid: None,
                        newest: None,
                    }),
                    ("unreadable", None) => Err(ProbeError::failed(
                        "cannot read the replica's LTX directory (permission denied)",
                    )),
                    (n, Some(t)) => {
                        let (_, max) = ltx_name(n).ok_or_else(|| bad(line))?;
                        Ok(ReplicaPos {
                            max_txid: Some(max),
                            newest: t.parse().ok(),
                        })
                    }
                    _ => return Err(bad(line)),
                };
            }
            _ => return Err(bad(line)),
        }
    }
    Ok(files)
}

/// The daemon's answer to `GET /list`, and whether it answered at all (then its node's
/// database is reported; otherwise the replica it may hold) — `litestream list`'s exit status.
#[derive(Debug, Clone, PartialEq)]
pub struct DaemonAnswer {
    pub daemon: Probe<Daemon>,
    pub answered: bool,
}

impl DaemonAnswer {
    /// Nothing listens on the control socket (`litestream list`: "no such file or directory",
    /// "connection refused").
    pub fn not_running() -> Self {
        Self {
            daemon: Err(ProbeError::unreachable("not running (no control socket)")),
            answered: false,
        }
    }

    /// Connected, but no answer within the limit (`litestream list`: "deadline exceeded").
    pub fn hung() -> Self {
        Self {
            daemon: Err(ProbeError::timed_out(
                "not answering on its control socket (stopped or hung)",
            )),
            answered: false,
        }
    }
}

/// The facts from the files and the daemon's answer, as the CLI way reports them.
pub fn facts(files: Files, answer: DaemonAnswer) -> LitestreamFacts {
    if !files.installed {
        let why = ProbeError::failed("litestream is not installed");
        return LitestreamFacts {
            now: files.now,
            daemon: Err(why.clone()),
            local: None,
            replica: Some(Err(why)),
        };
    }
    let (local, replica) = if answer.answered {
        (Some(Ok(files.local)), None)
    } else {
        (None, Some(files.replica))
    };
    LitestreamFacts {
        now: files.now,
        daemon: answer.daemon,
        local,
        replica,
    }
}

/// An HTTP response to `GET /list` read off the control socket: the daemon's answer.
pub fn parse_list_response(raw: &[u8], db_path: &str) -> DaemonAnswer {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse::<u16>().ok());
    match code {
        Some(200) => DaemonAnswer {
            daemon: parse_list(body, Some(0), db_path),
            answered: true,
        },
        Some(_) => {
            #[derive(Deserialize)]
            struct ErrorResponse {
                error: String,
            }
            let why = serde_json::from_str::<ErrorResponse>(body.trim())
                .map(|e| e.error)
                .unwrap_or_else(|_| body.to_string());
            DaemonAnswer {
                daemon: Err(ProbeError::failed(format!("list failed: {}", clip(&why)))),
                answered: false,
            }
        }
        None => DaemonAnswer {
            daemon: Err(ProbeError::failed(format!(
                "control socket: not an HTTP answer {:?}",
                clip(&text)
            ))),
            answered: false,
        },
    }
}

/// The daemon's `GET /list` on its control socket, as `litestream list` asks it, without a
/// process on the node (`Exec::unix_get`); the CLI where the transport cannot.
pub async fn ask_daemon(s: &impl Exec, db_path: &str, limit: Duration) -> DaemonAnswer {
    use crate::transport::exec::SocketError;
    let limit = limit.min(DAEMON_LIMIT);
    match tokio::time::timeout(limit, s.unix_get(SOCKET, "/list", ANSWER_LIMIT)).await {
        Ok(Ok(raw)) => parse_list_response(&raw, db_path),
        Ok(Err(SocketError::NotListening)) => DaemonAnswer::not_running(),
        Ok(Err(SocketError::Failed(why))) => DaemonAnswer {
            daemon: Err(ProbeError::failed(format!(
                "control socket: {}",
                clip(&why)
            ))),
            answered: false,
        },
        Ok(Err(SocketError::Unsupported)) => {
            let cmd = "out=$(litestream list -json -timeout 1 2>&1); rc=$?; \
printf '%s\\n' \"$out\" | head -c 8192; echo; echo \"rc=$rc\"";
            match s.exec(cmd, limit + Duration::from_secs(1)).await {
                Ok(out) => daemon_from_cli(&out.stdout_str(), db_path),
                Err(e) => DaemonAnswer {
                    daemon: Err(e),
                    answered: false,
                },
            }
        }
        Err(_) => DaemonAnswer::hung(),
    }
}

/// `litestream list -json`'s output followed by its `rc=N` line, as the daemon's answer.
pub fn daemon_from_cli(text: &str, db_path: &str) -> DaemonAnswer {
    let (body, rc) = body_and_rc(text);
    DaemonAnswer {
        daemon: parse_list(&body, rc, db_path),
        answered: rc == Some(0),
    }
}

/// How far the replica on the standby trails the active's database, as litestream sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Lag {
    pub local_txid: u64,
    pub replica_txid: u64,
    /// Since the daemon's last successful sync (the active's clock).
    pub since_sync: Duration,
    /// Since the replica's newest LTX file was written (the standby's clock).
    pub replica_age: Option<Duration>,
}

impl Lag {
    pub fn behind(&self) -> u64 {
        self.local_txid.saturating_sub(self.replica_txid)
    }
    /// How old the newest transaction missing from the replica may be: nothing when the
    /// replica holds every transaction (then the time since the last sync), else at most
    /// the time since the replica last advanced.
    pub fn age(&self) -> Duration {
        if self.behind() == 0 {
            self.since_sync
        } else {
            self.replica_age
                .unwrap_or(Duration::MAX)
                .max(self.since_sync)
        }
    }
}

/// A difference of two clock readings (never negative; absurd values saturate).
fn secs(d: f64) -> Duration {
    Duration::try_from_secs_f64(d.max(0.0)).unwrap_or(Duration::MAX)
}

/// Why there is no lag to speak of.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoLag {
    /// The active's daemon (or its status) did not answer.
    #[error("litestream {0}")]
    Daemon(ProbeError),
    /// The active's `litestream status` did not answer.
    #[error("litestream {0}")]
    Status(ProbeError),
    #[error("litestream is {0}, not replicating")]
    NotReplicating(String),
    #[error("litestream status was not asked")]
    StatusNotAsked,
    #[error("the database is {0} (no local TXID)")]
    NoLocalTxid(String),
    #[error("replica unreadable: {0}")]
    ReplicaUnreadable(ProbeError),
    #[error("litestream also runs on the standby")]
    DaemonOnStandby,
    #[error("the replica was not asked")]
    ReplicaNotAsked,
    #[error("no replica: litestream lists no LTX file")]
    EmptyReplica,
    #[error("litestream has not synced to the replica yet")]
    NeverSynced,
}

/// The replication judged from the active's daemon and the standby's replica: the lag, or
/// why there is none to speak of (stopped, never synced, replica empty or unreadable).
pub fn lag(active: &LitestreamFacts, standby: &LitestreamFacts) -> Result<Lag, NoLag> {
    let daemon = active
        .daemon
        .as_ref()
        .map_err(|e| NoLag::Daemon(e.clone()))?;
    if daemon.status != "replicating" {
        return Err(NoLag::NotReplicating(daemon.status.clone()));
    }
    let local = match &active.local {
        Some(Ok(l)) => l,
        Some(Err(e)) => return Err(NoLag::Status(e.clone())),
        None => return Err(NoLag::StatusNotAsked),
    };
    let local_txid = local
        .txid
        .ok_or_else(|| NoLag::NoLocalTxid(local.status.clone()))?;
    let replica = match &standby.replica {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(NoLag::ReplicaUnreadable(e.clone())),
        None => {
            return Err(match &standby.daemon {
                Ok(_) => NoLag::DaemonOnStandby,
                Err(_) => NoLag::ReplicaNotAsked,
            })
        }
    };
    let replica_txid = replica.max_txid.ok_or(NoLag::EmptyReplica)?;
    let since_sync = daemon
        .last_sync_at
        .map(|t| secs(active.now - t))
        .ok_or(NoLag::NeverSynced)?;
    Ok(Lag {
        local_txid,
        replica_txid,
        since_sync,
        replica_age: replica.newest.map(|t| secs(standby.now - t as f64)),
    })
}

/// Where `k3s-state restore` (the bundle's hand-over, run before k3s starts on a new active)
/// records what it did; removed when the node stops being the active.
pub const RESTORE_RECORD: &str = "/run/pairctl/state-restore.json";

/// What the hand-over did on the node that became the active (`RESTORE_RECORD`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RestoreRecord {
    pub time: String,
    /// restored, kept-local, no-replica or failed.
    pub action: String,
    pub detail: String,
    #[serde(default)]
    pub txid: String,
    #[serde(default)]
    pub kine_revision: u64,
    /// What it waited for (the old active's final sync).
    #[serde(default)]
    pub peer: String,
    #[serde(default)]
    pub wait_ms: u64,
    #[serde(default)]
    pub restore_ms: u64,
}

impl RestoreRecord {
    pub fn summary(&self) -> String {
        format!(
            "{} in {} ms ({}, waited {} ms)",
            clip(&self.detail),
            self.restore_ms,
            clip(&self.peer),
            self.wait_ms
        )
    }
}

pub fn parse_restore_record(text: &str) -> Result<RestoreRecord, ParseError> {
    serde_json::from_str(text.trim()).map_err(|e| ParseError::new(RESTORE_RECORD, e.to_string()))
}

/// A trial restore of the replica a node holds, into a scratch directory beside it (removed
/// afterwards): the replica can be restored and passes SQLite's quick integrity check.
pub fn restore_trial_command(replica_path: &str) -> String {
    let q = super::node::shell_quote;
    let parent = replica_path
        .trim_end_matches('/')
        .rsplit_once('/')
        .map(|(p, _)| if p.is_empty() { "/" } else { p })
        .unwrap_or(".");
    format!(
        "t=$(mktemp -d {}/.pairctl-restore-check.XXXXXX) || exit 1; {{ litestream restore -json -integrity-check quick -o \"$t/state.db\" {} 2>&1; rc=$?; echo; echo \"rc=$rc\"; }} | head -c 8192; rm -rf \"$t\"",
        q(parent),
        q(&format!("file://{replica_path}"))
    )
}

/// What a trial restore said: the TXID it restored to and how long it took, or why it failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restored {
    pub txid: u64,
    pub duration_ms: u64,
}

pub fn parse_restore(text: &str) -> Probe<Restored> {
    #[derive(Deserialize)]
    struct Out {
        txid: String,
        duration_ms: u64,
    }
    let (body, rc) = body_and_rc(text);
    let json = body.find('{').and_then(|a| {
        let rest = &body[a..];
        rest.rfind('}').map(|b| &rest[..=b])
    });
    match (rc, json.and_then(|j| serde_json::from_str::<Out>(j).ok())) {
        (Some(0), Some(o)) => Ok(Restored {
            txid: parse_txid(&o.txid)
                .ok_or_else(|| ProbeError::parse(format!("bad txid {:?}", clip(&o.txid))))?,
            duration_ms: o.duration_ms,
        }),
        _ => Err(ProbeError::failed(clip(&body))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::transport::batch::printed;

    const DB: &str = "/var/lib/rancher/k3s/server/db/state.db";

    fn list(rc: i32, body: &str) -> Probe<Daemon> {
        parse_list(body, Some(rc), DB)
    }

    /// The command itself, run by sh and by bash on a tree laid out as litestream lays it out:
    /// the newest LTX file of each side is the one reported, whatever else the directory holds.
    #[test]
    fn the_command_names_the_newest_ltx_file_on_each_side() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        let db = format!("{root}/db dir/state.db");
        let l0 = format!("{root}/db dir/.state.db-litestream/ltx/0");
        let replica = format!("{root}/replica");
        std::fs::create_dir_all(&l0).unwrap();
        std::fs::create_dir_all(format!("{replica}/ltx/0")).unwrap();
        std::fs::write(&db, "").unwrap();
        let name = |a: u64, b: u64| format!("{a:016x}-{b:016x}.ltx");
        for (a, b) in [(1, 1), (2, 0x1f), (0x20, 0x20), (0x21, 0x2f)] {
            std::fs::write(format!("{l0}/{}", name(a, b)), "").unwrap();
        }
        std::fs::write(format!("{l0}/zz-not-ltx.ltx"), "").unwrap();
        std::fs::write(format!("{replica}/ltx/0/{}", name(1, 0x1f)), "").unwrap();
        let run = |shell: &str| {
            let out = std::process::Command::new(shell)
                .arg("-c")
                .arg(command(&db, &replica))
                .env("PATH", "/usr/bin:/bin")
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap()
        };
        for shell in ["sh", "bash"] {
            let text = run(shell);
            let lines: Vec<&str> = text.lines().filter(|l| *l != "installed").collect();
            assert_eq!(
                lines[..3],
                ["db", "wal 0", "local 0000000000000021-000000000000002f.ltx"],
                "{shell}: {text}"
            );
            assert!(
                lines[3].starts_with("replica 0000000000000001-000000000000001f.ltx "),
                "{shell}: {text}"
            );
            let f = parse_files("1796115600\n", &text).unwrap();
            assert_eq!(f.local.txid, Some(0x2f), "{shell}");
            assert_eq!(f.replica.unwrap().max_txid, Some(0x1f), "{shell}");
        }
        // An empty level 0 and replica: nothing, not the glob's text.
        for f in std::fs::read_dir(&l0).unwrap() {
            std::fs::remove_file(f.unwrap().path()).unwrap();
        }
        std::fs::remove_file(format!("{replica}/ltx/0/{}", name(1, 0x1f))).unwrap();
        let text = run("sh");
        assert!(text.ends_with("db\nwal 0\nlocal -\nreplica -\n"), "{text}");
    }

    #[test]
    fn the_daemon_on_the_active() {
        let d = list(
            0,
            include_str!("../../fixtures/litestream/list-replicating.json"),
        )
        .unwrap();
        assert_eq!(d.status, "replicating");
        assert!(d.last_sync_at.unwrap() > 1.7e9);
        assert_eq!(
            list(
                0,
                include_str!("../../fixtures/litestream/list-replicating.json")
            )
            .map(|_| ())
            .map_err(|_| ()),
            Ok(())
        );
        let other = parse_list(
            include_str!("../../fixtures/litestream/list-replicating.json"),
            Some(0),
            "/other.db",
        );
        assert_eq!(other.unwrap_err(), "does not replicate /other.db");
    }

    #[test]
    fn no_daemon_and_a_stopped_daemon_say_so() {
        let none = list(
            1,
            include_str!("../../fixtures/litestream/list-no-daemon.txt"),
        );
        assert_eq!(none.unwrap_err(), "not running (no control socket)");
        let stopped = list(
            1,
            include_str!("../../fixtures/litestream/list-stopped.txt"),
        );
        assert_eq!(
            stopped.unwrap_err(),
            "not answering on its control socket (stopped or hung)"
        );
        assert_eq!(
            list(127, "bash: line 1: litestream: command not found\n").unwrap_err(),
            "litestream is not installed"
        );
        assert!(list(0, "[{")
            .unwrap_err()
            .message
            .contains("litestream list"));
    }

    #[test]
    fn local_status() {
        let ok = parse_status(include_str!("../../fixtures/litestream/status-ok.json")).unwrap();
        assert_eq!(ok.status, "ok");
        assert_eq!(ok.txid, Some(0x2f));
        let none = parse_status(include_str!(
            "../../fixtures/litestream/status-no-database.json"
        ))
        .unwrap();
        assert_eq!((none.status.as_str(), none.txid), ("no database", None));
        assert!(
            parse_status("Error: open /etc/litestream.yml: no such file or directory\n")
                .unwrap_err()
                .message
                .contains("open /etc/litestream.yml")
        );
    }

    /// What `command`'s awk keeps of a listing: the header and the last line.
    fn reduced(full: &str) -> String {
        let lines: Vec<&str> = full.lines().collect();
        if lines.len() > 1 {
            format!("{}\n{}\n", lines[0], lines[lines.len() - 1])
        } else {
            format!("{}\n", lines[0])
        }
    }

    #[test]
    fn the_replica_position() {
        let full = include_str!("../../fixtures/litestream/ltx-replica-full.txt");
        let r = parse_ltx(&reduced(full), Some(0)).unwrap();
        assert_eq!(r.max_txid, Some(0x2f));
        assert_eq!(
            r.newest,
            Some(
                humantime::parse_rfc3339("2026-12-01T08:58:53Z")
                    .unwrap()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
            )
        );
        let empty = parse_ltx(
            include_str!("../../fixtures/litestream/ltx-missing.txt"),
            Some(0),
        )
        .unwrap();
        assert_eq!(empty.max_txid, None);
        assert_eq!(
            parse_ltx(
                "Error: readdirent /tmp/bad/ltx/0: not a directory\n",
                Some(1)
            )
            .unwrap_err(),
            "readdirent /tmp/bad/ltx/0: not a directory"
        );
        assert!(parse_ltx("level  min_txid\n0 1\n", Some(0))
            .unwrap_err()
            .message
            .contains("no max_txid column"));
    }

    fn section_output(list_rc: i32, list: &str, tail: (&str, &str)) -> String {
        printed(&[
            ("clock", "1796115600.25\n"),
            ("list", &format!("{list}\nrc={list_rc}\n")),
            tail,
        ])
    }

    /// What the basics' litestream and clock sections hold (a captured `*-files.txt`).
    fn files(text: &str) -> Result<Files, ParseError> {
        let s = crate::transport::batch::Sections::parse(text);
        parse_files(s.get("clock").unwrap(), s.get("litestream").unwrap())
    }

    #[test]
    fn the_command_output_on_each_role() {
        let active = parse_cli(
            &section_output(
                0,
                include_str!("../../fixtures/litestream/list-replicating.json"),
                (
                    "status",
                    include_str!("../../fixtures/litestream/status-ok.json"),
                ),
            ),
            DB,
        )
        .unwrap();
        assert_eq!(active.now, 1796115600.25);
        assert!(active.daemon.is_ok() && active.replica.is_none());
        assert_eq!(active.local.clone().unwrap().unwrap().txid, Some(0x2f));
        let full = include_str!("../../fixtures/litestream/ltx-replica-full.txt");
        let standby = parse_cli(
            &section_output(
                1,
                include_str!("../../fixtures/litestream/list-no-daemon.txt"),
                ("ltx", &format!("{}rc=0\n", reduced(full))),
            ),
            DB,
        )
        .unwrap();
        assert!(standby.daemon.is_err() && standby.local.is_none());
        assert_eq!(
            standby.replica.clone().unwrap().unwrap().max_txid,
            Some(0x2f)
        );
        let lag = lag(&active, &standby).unwrap();
        assert_eq!(lag.behind(), 0);
        assert!(lag.age() < Duration::from_secs(120), "{lag:?}");
        assert!(lag.age() > Duration::ZERO);
        assert!(parse_cli("garbage", DB).is_err());
        assert!(parse_cli(&printed(&[("clock", "inf\n"), ("list", "rc=1\n")]), DB).is_err());
        assert!(
            parse_cli(&printed(&[("list", "rc=1\n")]), DB).is_err(),
            "no clock"
        );
    }

    #[test]
    fn restores() {
        let ok = parse_restore(include_str!("../../fixtures/litestream/restore-ok.txt")).unwrap();
        assert_eq!(ok.txid, 0xcb);
        assert_eq!(
            parse_restore(include_str!(
                "../../fixtures/litestream/restore-missing.txt"
            ))
            .unwrap_err(),
            "no matching backup files available"
        );
        assert!(parse_restore(include_str!(
            "../../fixtures/litestream/restore-corrupt.txt"
        ))
        .unwrap_err()
        .message
        .contains("decompress block"),);
        let cmd = restore_trial_command("/var/lib/litestream/replica");
        assert!(
            cmd.contains("mktemp -d /var/lib/litestream/.pairctl-restore-check."),
            "{cmd}"
        );
        let r = parse_restore_record(include_str!("../../fixtures/litestream/state-restore.json"))
            .unwrap();
        assert_eq!(r.action, "restored");
        assert!(
            r.summary().contains("kine revision 1119"),
            "{}",
            r.summary()
        );
    }

    #[test]
    fn lag_reasons() {
        let t = 1_800_000_000u64;
        let active = |daemon: Probe<Daemon>, txid: u64| LitestreamFacts {
            now: t as f64,
            daemon,
            local: Some(Ok(LocalDb {
                status: "ok".into(),
                txid: Some(txid),
                wal_size: "1 MB".into(),
            })),
            replica: None,
        };
        let syncing = || {
            Ok(Daemon {
                status: "replicating".into(),
                last_sync_at: Some(t as f64 - 0.5),
            })
        };
        let standby = |replica: Probe<ReplicaPos>| LitestreamFacts {
            now: t as f64 + 2.0, // another clock: ages are taken on each node's own
            daemon: Err(crate::transport::ProbeError::failed(
                "not running (no control socket)",
            )),
            local: None,
            replica: Some(replica),
        };
        let at = |txid: Option<u64>, newest: u64| {
            Ok(ReplicaPos {
                max_txid: txid,
                newest: Some(newest),
            })
        };
        let l = lag(&active(syncing(), 10), &standby(at(Some(10), t))).unwrap();
        assert_eq!((l.behind(), l.age()), (0, Duration::from_millis(500)));
        let l = lag(&active(syncing(), 14), &standby(at(Some(10), t - 40))).unwrap();
        assert_eq!((l.behind(), l.age()), (4, Duration::from_secs(42)));
        assert_eq!(
            lag(
                &active(
                    Err(crate::transport::ProbeError::failed(
                        "not running (no control socket)"
                    )),
                    1
                ),
                &standby(at(Some(1), t))
            )
            .unwrap_err()
            .to_string(),
            "litestream not running (no control socket)"
        );
        assert_eq!(
            lag(&active(syncing(), 1), &standby(at(None, t)))
                .unwrap_err()
                .to_string(),
            "no replica: litestream lists no LTX file"
        );
        assert_eq!(
            lag(
                &active(syncing(), 1),
                &standby(Err(crate::transport::ProbeError::failed(
                    "readdirent x: EIO"
                )))
            )
            .unwrap_err()
            .to_string(),
            "replica unreadable: readdirent x: EIO"
        );
    }

    /// A captured moment on one node: the CLI's output and the files' report.
    fn captured(state: &str, node: &str, what: &str) -> String {
        let path = format!(
            "{}/fixtures/litestream/{state}-{node}-{what}.txt",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The control socket's answer in that moment: its raw HTTP answer where it gave one;
    /// where curl got none, what the channel gets (no socket, or no answer in time).
    fn socket(state: &str, node: &str) -> DaemonAnswer {
        match (state, node) {
            ("healthy", "n1") => {
                parse_list_response(captured(state, node, "socket").as_bytes(), DB)
            }
            ("n1-hung", _) => DaemonAnswer::hung(),
            _ => DaemonAnswer::not_running(),
        }
    }

    const MOMENTS: [(&str, &str); 4] = [
        ("healthy", "n1"),
        ("healthy", "n2"),
        ("n1-stopped", "n1"),
        ("n1-hung", "n1"),
    ];

    #[test]
    fn the_files_and_the_socket_give_what_the_cli_gives_in_every_captured_moment() {
        for (state, node) in MOMENTS {
            let cli = parse_cli(&captured(state, node, "cli"), DB).unwrap();
            let mut fast = facts(
                files(&captured(state, node, "files")).unwrap(),
                socket(state, node),
            );
            // Two runs of `date` apart (by the CLI's 1 s wait on a hung daemon); everything
            // else is the same.
            assert!((fast.now - cli.now).abs() < 3.0, "{state} {node}");
            fast.now = cli.now;
            assert_eq!(cli, fast, "{state} {node}");
        }
        // And the replication judged from both nodes is the same.
        let both =
            |f: fn(&str, &str) -> LitestreamFacts| lag(&f("healthy", "n1"), &f("healthy", "n2"));
        let cli = both(|s, n| parse_cli(&captured(s, n, "cli"), DB).unwrap());
        let fast = both(|s, n| facts(files(&captured(s, n, "files")).unwrap(), socket(s, n)));
        let (cli, fast) = (cli.unwrap(), fast.unwrap());
        assert_eq!(
            (cli.local_txid, cli.replica_txid),
            (fast.local_txid, fast.replica_txid)
        );
        assert_eq!(
            cli.replica_age.map(|a| a.as_secs()),
            fast.replica_age.map(|a| a.as_secs())
        );
    }

    #[test]
    fn odd_file_reports_and_answers() {
        assert_eq!(humanize_bytes(0), "0 B");
        assert_eq!(humanize_bytes(9), "9 B");
        assert_eq!(humanize_bytes(2006472), "2.0 MB");
        assert_eq!(humanize_bytes(32768), "33 kB");
        assert_eq!(humanize_bytes(999_999), "1000 kB");
        let f = |t: &str| parse_files("1.5\n", t);
        assert!(
            parse_files("soon\n", "").is_err(),
            "a clock that is not a number"
        );
        assert!(f("junk\n").is_err());
        assert!(f("replica 1234.ltx 5\n").is_err());
        assert!(f("local \u{1b}[31m\n").is_err());
        let unreadable = f("installed\ndb\nwal 0\nlocal unreadable\nreplica unreadable\n").unwrap();
        assert_eq!(unreadable.local.status, "error");
        assert!(unreadable.replica.is_err());
        let fresh = f("installed\ndb\nwal 0\nlocal none\nreplica -\n").unwrap();
        assert_eq!(
            (fresh.local.status.as_str(), fresh.local.wal_size.as_str()),
            ("not initialized", "0 B")
        );
        assert_eq!(fresh.replica.unwrap().max_txid, None);
        // Not installed: no daemon, no replica, said so.
        let none = facts(f("replica none\n").unwrap(), DaemonAnswer::not_running());
        assert_eq!(none.daemon.unwrap_err(), "litestream is not installed");
        // A refusal from the daemon is its own message, and then the replica is reported.
        let refused = parse_list_response(
            b"HTTP/1.0 500 Internal Server Error\r\n\r\n{\"error\":\"boom\"}",
            DB,
        );
        assert_eq!(refused.daemon.unwrap_err(), "list failed: boom");
        assert!(!refused.answered);
        assert!(parse_list_response(b"garbage", DB).daemon.is_err());
    }
}
