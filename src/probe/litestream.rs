//! litestream's own view of the k3s state replication, read with the real CLI on each node
//! (part of the node basics command, `node::basics_command`):
//!
//! - where the daemon runs (the active): `litestream list -json` over its control socket —
//!   whether it replicates and when its last successful sync to the replica was — and
//!   `litestream status -json` — the database's local transaction id (TXID);
//! - where it does not (the standby, which holds the replica): `litestream ltx` of the replica
//!   directory — the replica's highest TXID and the time of its newest LTX file. Only the header
//!   and the last line are sent back (the listing grows with every transaction).
//!
//! Times are the node's own clock (`now` comes from the same node), so no clock skew between
//! the nodes enters an age.

use super::{ParseError, Probe};
use crate::transport::ProbeError;
use serde::{Deserialize, Serialize};
use std::time::{Duration, UNIX_EPOCH};

/// litestream's configuration file on the nodes (what deploy writes).
pub const CONFIG: &str = "/etc/litestream.yml";

const LIST: &str = "@@litestream:list";
const STATUS: &str = "@@litestream:status";
const LTX: &str = "@@litestream:ltx";
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

/// The shell fragment for one node: POSIX sh, bounded output, every path quoted.
pub fn command(db_path: &str, replica_path: &str) -> String {
    let q = super::node::shell_quote;
    let db = q(db_path);
    let replica = q(&format!("file://{replica_path}"));
    format!(
        "date +%s.%N; echo {LIST}; out=$(litestream list -json -timeout 1 2>&1); rc=$?; \
printf '%s\\n' \"$out\" | head -c 8192; echo; echo \"rc=$rc\"; \
if [ $rc = 0 ]; then echo {STATUS}; litestream status -json -config {CONFIG} {db} 2>&1 | head -c 8192; echo; \
else echo {LTX}; {{ litestream ltx {replica} 2>&1; echo \"rc=$?\"; }} | \
awk 'NR == 1 {{ print substr($0, 1, 512); next }} /^rc=/ {{ rc = $0; next }} {{ last = $0 }} \
END {{ if (last != \"\") print substr(last, 1, 512); print rc }}'; fi"
    )
}

fn clip(s: &str) -> String {
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

/// `litestream ltx` of a replica, reduced to its header and last line (see `command`).
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

/// The output of `command`.
pub fn parse(text: &str, db_path: &str) -> Result<LitestreamFacts, ParseError> {
    let (head, rest) = text
        .split_once(&format!("{LIST}\n"))
        .ok_or_else(|| ParseError::new("litestream", "no list section"))?;
    let now = head
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or(())
        .map_err(|_| ParseError::new("litestream", format!("bad clock {:?}", clip(head))))?;
    let (list, after) = match rest.split_once(&format!("{STATUS}\n")) {
        Some((l, s)) => (l, Some((true, s))),
        None => match rest.split_once(&format!("{LTX}\n")) {
            Some((l, s)) => (l, Some((false, s))),
            None => (rest, None),
        },
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

    const DB: &str = "/var/lib/rancher/k3s/server/db/state.db";

    fn list(rc: i32, body: &str) -> Probe<Daemon> {
        parse_list(body, Some(rc), DB)
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

    fn section_output(list_rc: i32, list: &str, tail: &str) -> String {
        format!("1796115600.25\n{LIST}\n{list}\nrc={list_rc}\n{tail}")
    }

    #[test]
    fn the_command_output_on_each_role() {
        let active = parse(
            &section_output(
                0,
                include_str!("../../fixtures/litestream/list-replicating.json"),
                &format!(
                    "{STATUS}\n{}",
                    include_str!("../../fixtures/litestream/status-ok.json")
                ),
            ),
            DB,
        )
        .unwrap();
        assert_eq!(active.now, 1796115600.25);
        assert!(active.daemon.is_ok() && active.replica.is_none());
        assert_eq!(active.local.clone().unwrap().unwrap().txid, Some(0x2f));
        let full = include_str!("../../fixtures/litestream/ltx-replica-full.txt");
        let standby = parse(
            &section_output(
                1,
                include_str!("../../fixtures/litestream/list-no-daemon.txt"),
                &format!("{LTX}\n{}rc=0\n", reduced(full)),
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
        assert!(parse("garbage", DB).is_err());
        assert!(parse(&format!("inf\n{LIST}\nrc=1\n"), DB).is_err());
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
            daemon: Err("not running (no control socket)".into()),
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
                &active(Err("not running (no control socket)".into()), 1),
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
                &standby(Err("readdirent x: EIO".into()))
            )
            .unwrap_err()
            .to_string(),
            "replica unreadable: readdirent x: EIO"
        );
    }
}
