//! Maintenance mode: a record kept on the nodes that freezes role changes — for the whole pair,
//! or for one node that may then be stopped, rebooted or upgraded — with who, why and until when.
//!
//! The nodes enforce the expiry themselves, whether or not pairctl ever runs again: the
//! record's mtime *is* its expiry (so a shell test on the node — keepalived's track script —
//! can tell a live record from a stale one with `stat`), every reader ignores an expired
//! record, and a transient systemd timer armed with the record removes it at the end and
//! appends the expiry to the history.

use crate::probe::node::HISTORY_FILE;
use crate::probe::ParseError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const RECORD_FILE: &str = "/var/lib/pairctl/maintenance.json";
/// The transient unit (timer + service) that ends the maintenance on the node.
pub const EXPIRY_UNIT: &str = "pairctl-maintenance-expiry";
const EXPIRY_SCRIPT: &str = "/var/lib/pairctl/maintenance-expiry.sh";
pub const DEFAULT_DURATION: Duration = Duration::from_secs(3600);
/// A maintenance longer than this is a decommission, not a maintenance window.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);
const MAX_REASON: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// No role change of any kind; the services keep running on the active.
    Cluster,
    /// One node may be taken down: never a target, its absence only degrades.
    Node,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Maintenance {
    pub scope: Scope,
    /// The node under maintenance (scope `node`).
    #[serde(default)]
    pub node: Option<String>,
    pub reason: String,
    pub by: String,
    /// RFC 3339, UTC.
    pub since: String,
    pub until: String,
    /// `until` as Unix seconds: what the node's clock is compared with.
    pub until_epoch: u64,
    /// Set by `maintenance off` (RFC 3339, UTC): the record is kept, ended, so that a node that
    /// was away and still holds the live copy is outvoted by this newer one when it returns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
}

impl Maintenance {
    pub fn new(
        node: Option<String>,
        reason: String,
        by: String,
        now_epoch: u64,
        duration: Duration,
    ) -> Self {
        let until_epoch = now_epoch + duration.as_secs();
        Self {
            scope: if node.is_some() {
                Scope::Node
            } else {
                Scope::Cluster
            },
            node,
            reason,
            by,
            since: rfc3339(now_epoch),
            until: rfc3339(until_epoch),
            until_epoch,
            ended: None,
        }
    }

    /// The record `maintenance off` leaves on the nodes: this one, ended at `now_epoch`. It
    /// lasts as long as the record it ends (a week at most), so it outlives every copy.
    pub fn ended_at(&self, now_epoch: u64) -> Self {
        Self {
            ended: Some(rfc3339(now_epoch)),
            until_epoch: self
                .until_epoch
                .clamp(now_epoch + 1, now_epoch + MAX_DURATION.as_secs()),
            ..self.clone()
        }
    }

    /// When this record was last written: its start, or its end for an ended one. RFC 3339
    /// in UTC sorts as text; an unreadable record (`unknown`) sorts after every date.
    fn written(&self) -> &str {
        self.ended.as_deref().unwrap_or(&self.since)
    }

    /// What a record the node holds but nobody can read stands for: a cluster freeze that says
    /// so, until an operator ends it.
    pub fn unreadable(why: &str) -> Self {
        Self {
            scope: Scope::Cluster,
            node: None,
            reason: format!("unreadable record ({why}); end it with `pairctl maintenance off`"),
            by: "unknown".into(),
            since: "unknown".into(),
            until: "unknown".into(),
            until_epoch: u64::MAX,
            ended: None,
        }
    }

    /// Does this maintenance explain what is wrong with `node`?
    pub fn covers(&self, node: &str) -> bool {
        match self.scope {
            Scope::Cluster => false,
            Scope::Node => self.node.as_deref() == Some(node),
        }
    }

    /// One line for the status header, a refusal or a warning.
    pub fn describe(&self) -> String {
        let what = match (&self.scope, &self.node) {
            (Scope::Node, Some(n)) => format!("node maintenance of {n}"),
            _ => "cluster maintenance".to_string(),
        };
        format!(
            "{what} by {} since {} until {}: {}",
            self.by, self.since, self.until, self.reason
        )
    }
}

/// The maintenance in force given every node's record: the newest one decides, and an ended
/// one means none (each node keeps its own copy; one that was down missed the latest change).
pub fn newest_in_force(records: impl IntoIterator<Item = Maintenance>) -> Option<Maintenance> {
    newest(records).filter(|m| m.ended.is_none())
}

/// The newest record, ended or not (an end written in the same second as a start wins).
pub fn newest(records: impl IntoIterator<Item = Maintenance>) -> Option<Maintenance> {
    records.into_iter().max_by(|a, b| {
        a.written()
            .cmp(b.written())
            .then(a.ended.is_some().cmp(&b.ended.is_some()))
    })
}

pub const REPORT_SCHEMA: &str = "pairctl.maintenance/1";

/// What `pairctl maintenance on|off` did, node by node: what is printed and what `-o json` is.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MaintenanceReport {
    pub schema: &'static str,
    pub cluster: String,
    /// `on` or `off`.
    pub action: &'static str,
    pub outcome: Outcome,
    /// The record written (`on`), or the one that was in force (`off`).
    pub maintenance: Option<Maintenance>,
    pub nodes: Vec<NodeResult>,
    pub warnings: Vec<String>,
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Verified on every node that answers.
    Done,
    /// `--dry-run`: nothing changed.
    Planned,
    /// Refused by a safety rule or not confirmed: nothing changed.
    Refused,
    /// Verified on some nodes only.
    Partial,
    /// Recorded nowhere.
    Failed,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        use crate::error::exit;
        match self {
            Outcome::Done | Outcome::Planned => exit::OK,
            Outcome::Failed => exit::DEGRADED_OR_FAILED,
            Outcome::Partial => exit::CRITICAL_OR_NOT_CONVERGED,
            Outcome::Refused => exit::UNKNOWN_OR_REFUSED,
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NodeResult {
    pub name: String,
    /// recorded, ended, none, unreachable, failed; would-record / would-end in a dry run.
    pub result: &'static str,
    pub detail: String,
}

impl NodeResult {
    pub fn new(name: &str, result: &'static str, detail: impl Into<String>) -> Self {
        Self {
            name: name.to_string(),
            result,
            detail: detail.into(),
        }
    }
}

/// The reason an operator gives: required, one line, short, printable.
pub fn validate_reason(reason: &str) -> Result<String, Invalid> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Invalid::NoReason);
    }
    if reason.chars().count() > MAX_REASON {
        return Err(Invalid::ReasonTooLong);
    }
    if reason.chars().any(char::is_control) {
        return Err(Invalid::ReasonNotOneLine);
    }
    Ok(reason.to_string())
}

pub fn validate_duration(d: Duration) -> Result<Duration, Invalid> {
    if d < Duration::from_secs(1) {
        return Err(Invalid::TooShort);
    }
    if d > MAX_DURATION {
        return Err(Invalid::TooLong);
    }
    Ok(d)
}

/// A `--reason` or `--for` that maintenance does not accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("--reason must say why (it is shown in status and kept in the history)")]
    NoReason,
    #[error("--reason is longer than {} characters", MAX_REASON)]
    ReasonTooLong,
    #[error("--reason must be one line of printable text")]
    ReasonNotOneLine,
    #[error("--for must be at least 1s")]
    TooShort,
    #[error(
        "--for is longer than {} (a maintenance window expires; this would disable HA for weeks)",
        humantime::format_duration(MAX_DURATION)
    )]
    TooLong,
}

fn rfc3339(epoch: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_secs(epoch))
        .to_string()
}

/// A record is a few hundred bytes; a node that holds more is not read further.
pub const RECORD_LIMIT: usize = 4096;

/// What the node prints for the status round: its clock, then the record if any.
pub fn probe_command() -> String {
    format!(
        "date +%s; head -c {} {RECORD_FILE} 2>/dev/null; true",
        RECORD_LIMIT + 1
    )
}

/// The node's record, if it has not expired (whatever the node still holds); it may be an
/// ended one, which only `newest_in_force` can weigh.
pub fn parse_probe(text: &str) -> Result<Option<Maintenance>, ParseError> {
    let (clock, record) = text.split_once('\n').unwrap_or((text, ""));
    let now: u64 = clock
        .trim()
        .parse()
        .map_err(|_| ParseError::new("maintenance record", "no node clock"))?;
    parse_record(record, now)
}

/// A record as read from the node, judged against the node's clock `now`.
pub fn parse_record(record: &str, now: u64) -> Result<Option<Maintenance>, ParseError> {
    if record.trim().is_empty() {
        return Ok(None);
    }
    if record.len() > RECORD_LIMIT {
        return Err(ParseError::new(
            "maintenance record",
            format!("{RECORD_FILE}: output too large (over {RECORD_LIMIT} bytes)"),
        ));
    }
    let m: Maintenance = serde_json::from_str(record.trim())
        .map_err(|e| ParseError::new("maintenance record", format!("{RECORD_FILE}: {e}")))?;
    Ok((now < m.until_epoch).then_some(m))
}

/// Writes the record read from stdin atomically, dates it to its expiry, and arms the node's
/// own timer that ends it; prints the node's clock and the record back (for verification).
/// `seconds` and `until_epoch` are numbers pairctl computed: nothing from the operator reaches
/// the script text (the record, reason included, travels on stdin).
pub fn set_command(seconds: u64, until_epoch: u64) -> String {
    let dir = record_dir();
    format!(
        "set -e; umask 022; mkdir -p {dir}; cat > {RECORD_FILE}.tmp; \
touch -d @{until_epoch} {RECORD_FILE}.tmp; mv -f {RECORD_FILE}.tmp {RECORD_FILE}; \
cat > {EXPIRY_SCRIPT} <<'PAIRCTL_EOF'\n{script}PAIRCTL_EOF\n{disarm}; \
systemd-run --quiet --unit={EXPIRY_UNIT} --on-active={seconds}s --timer-property=AccuracySec=1s \
/bin/sh {EXPIRY_SCRIPT}; {probe}",
        script = expiry_script(),
        disarm = disarm(),
        probe = probe_command(),
    )
}

/// Ends the maintenance on the node now: disarms its timer and replaces its record with the
/// ended one read from stdin, dated to that record's expiry. `until_epoch` is a number pairctl
/// computed; the record travels on stdin.
pub fn end_command(until_epoch: u64) -> String {
    let dir = record_dir();
    format!(
        "set -e; {disarm}; umask 022; mkdir -p {dir}; cat > {RECORD_FILE}.tmp; \
touch -d @{until_epoch} {RECORD_FILE}.tmp; mv -f {RECORD_FILE}.tmp {RECORD_FILE}",
        disarm = disarm()
    )
}

fn disarm() -> String {
    format!(
        "systemctl stop {EXPIRY_UNIT}.timer {EXPIRY_UNIT}.service 2>/dev/null || true; \
systemctl reset-failed {EXPIRY_UNIT}.timer {EXPIRY_UNIT}.service 2>/dev/null || true"
    )
}

/// Run by the node's timer at the expiry: removes the record and says so in the history. A
/// file, not a command line: systemd would expand the `%` specifiers of an ExecStart.
fn expiry_script() -> String {
    format!(
        "#!/bin/sh\n# pairctl: ends the maintenance recorded in {RECORD_FILE} (armed by `pairctl maintenance on`)\n\
[ -e {RECORD_FILE} ] || exit 0\n\
rm -f {RECORD_FILE}\n\
printf '{{\"time\":\"%s\",\"kind\":\"maintenance-expired\",\"from\":null,\"to\":null,\"outcome\":\"expired\",\"duration_ms\":0,\"by\":\"expiry timer on %s\"}}\\n' \
\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\" \"$(hostname)\" >> {HISTORY_FILE}\n"
    )
}

fn record_dir() -> &'static str {
    RECORD_FILE
        .rsplit_once('/')
        .map(|(d, _)| d)
        .unwrap_or("/var/lib/pairctl")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample(node: Option<&str>) -> Maintenance {
        Maintenance::new(
            node.map(str::to_string),
            "kernel update".into(),
            "ops@laptop".into(),
            1_700_000_000,
            Duration::from_secs(600),
        )
    }

    #[test]
    fn a_live_record_is_read_an_expired_one_ignored() {
        let json = serde_json::to_string(&sample(None)).unwrap();
        let live = parse_probe(&format!("1700000100\n{json}\n"))
            .unwrap()
            .unwrap();
        assert_eq!(live.scope, Scope::Cluster);
        assert_eq!(live.reason, "kernel update");
        assert_eq!(live.until, "2023-11-14T22:23:20Z");
        assert_eq!(parse_probe(&format!("1700000600\n{json}\n")).unwrap(), None);
        assert_eq!(parse_probe("1700000600\n").unwrap(), None);
    }

    #[test]
    fn a_garbled_record_is_an_error_not_silence() {
        assert!(parse_probe("1700000100\n{\"scope\": \"cluster\"\n").is_err());
        assert!(parse_probe("no clock\n").is_err());
    }

    #[test]
    fn node_maintenance_covers_only_its_node() {
        let m = sample(Some("n2"));
        assert_eq!(m.scope, Scope::Node);
        assert!(m.covers("n2"));
        assert!(!m.covers("n1"));
        assert!(!sample(None).covers("n2"));
        assert!(m
            .describe()
            .starts_with("node maintenance of n2 by ops@laptop since"));
    }

    #[test]
    fn reasons_and_durations_are_checked() {
        assert!(validate_reason("  ").is_err());
        assert!(validate_reason("a\u{1b}[2Jb").is_err());
        assert!(validate_reason(&"x".repeat(201)).is_err());
        assert_eq!(validate_reason(" disk swap ").unwrap(), "disk swap");
        assert!(validate_duration(Duration::ZERO).is_err());
        assert!(validate_duration(Duration::from_secs(30 * 24 * 3600)).is_err());
        assert!(validate_duration(Duration::from_secs(20)).is_ok());
    }

    #[test]
    fn the_node_scripts_hold_no_operator_text() {
        let cmd = set_command(20, 1_700_000_020);
        assert!(cmd.contains("--on-active=20s"));
        assert!(cmd.contains("touch -d @1700000020"));
        // The expiry script is a quoted here-document: its terminator appears once, alone.
        assert_eq!(cmd.matches("\nPAIRCTL_EOF\n").count(), 1);
        let end = end_command(1_700_000_020);
        assert!(end.contains("touch -d @1700000020"));
        assert!(end.contains("pairctl-maintenance-expiry.timer"));
    }

    #[test]
    fn the_newest_record_decides_and_an_ended_one_means_none() {
        let old = sample(Some("n2"));
        let later = Maintenance::new(
            None,
            "upgrade".into(),
            "ops".into(),
            1_700_000_300,
            Duration::from_secs(600),
        );
        assert_eq!(
            newest_in_force([old.clone(), later.clone()]),
            Some(later.clone())
        );
        // n2 was down when the maintenance ended: its live copy is older than the end.
        let ended = old.ended_at(1_700_000_200);
        assert_eq!(newest_in_force([old.clone(), ended.clone()]), None);
        assert_eq!(newest_in_force([ended.clone(), old.clone()]), None);
        // The end outlives the copy it outvotes, and a new maintenance outvotes the end.
        assert_eq!(ended.until_epoch, old.until_epoch);
        assert_eq!(newest_in_force([ended.clone(), later.clone()]), Some(later));
        // An end written in the same second as the start still ends it.
        assert_eq!(
            newest_in_force([old.clone(), old.ended_at(1_700_000_000)]),
            None
        );
        // An unreadable record is in force until it is ended (which overwrites it).
        let garbled = Maintenance::unreadable("bad json");
        assert_eq!(
            newest_in_force([ended, garbled.clone()]),
            Some(garbled.clone())
        );
        assert_eq!(
            garbled.ended_at(1_700_000_000).until_epoch,
            1_700_000_000 + 7 * 24 * 3600
        );
    }

    #[test]
    fn the_expiry_script_removes_the_record_and_writes_a_history_line() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("maintenance.json");
        let history = dir.path().join("history.jsonl");
        std::fs::write(&record, "{}").unwrap();
        let script = expiry_script()
            .replace(RECORD_FILE, record.to_str().unwrap())
            .replace(HISTORY_FILE, history.to_str().unwrap());
        let status = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&script)
            .status()
            .unwrap();
        assert!(status.success());
        assert!(!record.exists());
        let line = std::fs::read_to_string(&history).unwrap();
        let r: crate::plan::actions::HistoryRecord = serde_json::from_str(line.trim()).unwrap();
        assert_eq!(r.kind, "maintenance-expired");
        assert_eq!(r.outcome, "expired");
    }
}
