//! Node basics gathered in one remote command: VIP holding (`ip -j addr`), keepalived and k3s
//! unit states, the VRRP state the notify script records, the maintenance (demote) file,
//! litestream's view of the k3s state replication (`litestream`), the deployment record, the
//! last role change, and the quorum arrangement's facts: the node's role, epoch and fence marker.

use super::ParseError;
use crate::transport::batch::{self, Sections};
use crate::transport::ProbeError;
use serde::{Deserialize, Serialize};

pub const DEPLOYMENT_RECORD: &str = "/etc/pairctl/deployment.json";
pub const VRRP_STATE_FILE: &str = "/run/pairctl/keepalived.state";
pub const MAINTENANCE_FILE: &str = "/etc/keepalived/maintenance";
pub const HISTORY_FILE: &str = "/var/lib/pairctl/history.jsonl";
/// `active` or `standby`: what keepalived's track script lets this node be (pairctl-quorum.sh).
pub const ROLE_FILE: &str = "/etc/pairctl/role";
/// The generation of the arrangement this node last took part in; every role change bumps it.
pub const EPOCH_FILE: &str = "/etc/pairctl/epoch";
/// Present while the node is fenced (after a failover away from it): `key=value` lines.
pub const FENCE_FILE: &str = "/etc/pairctl/fenced";
/// keepalived's track script (`src/deploy/pairctl-quorum.sh`).
pub const QUORUM_SCRIPT: &str = "/etc/keepalived/pairctl-quorum.sh";
/// Run after a change of the role, fence or maintenance file: keepalived's election gate (the
/// file it watches) follows at once, not at the role check's next run a second later.
pub const SYNC_ELIGIBLE: &str = "/etc/keepalived/pairctl-quorum.sh eligible";

/// The basics command's sections (`transport::batch`), in the order it prints them.
pub(crate) const SECTIONS: [&str; 12] = [
    "ip",
    "units",
    "vrrp_state",
    "maintenance",
    "litestream",
    "deployment",
    "last_change",
    "maintenance_mode",
    "role",
    "epoch",
    "fence",
    // The node's clock (Unix seconds), that litestream's replica age is measured by.
    "clock",
];
/// The node reads at most one byte more of each file than its parser accepts: a huge or
/// endless file costs a line in the report, not the other facts of the node.
const STATE_LIMIT: usize = 4096;
const RECORD_LIMIT: usize = 64 * 1024;

fn too_large(what: &str, limit: usize) -> String {
    format!("too large ({what}: more than {limit} bytes)")
}

/// The deployment record `deploy` leaves on each node (the `show efa status` header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(default)]
pub struct Deployment {
    pub version: String,
    pub build: String,
    pub time_stamp: String,
    pub mode: String,
    pub deployment_type: String,
    pub deployment_platform: String,
    pub deployment_suite: String,
    pub virtual_ip: String,
    pub node_ips: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BasicFacts {
    pub holds_vip: bool,
    pub vip_interface: Option<String>,
    /// `systemctl is-active keepalived`: active, inactive, failed…
    pub keepalived_unit: String,
    pub k3s_active: bool,
    /// MASTER / BACKUP / FAULT as last written by the notify script.
    pub vrrp_state: Option<String>,
    pub maintenance: bool,
    /// litestream's view from this node: its daemon, or the replica it holds.
    pub litestream: super::Probe<super::litestream::LitestreamFacts>,
    pub deployment: Option<Deployment>,
    pub last_change: Option<serde_json::Value>,
    /// The live maintenance record (`pairctl maintenance on`), if any.
    pub maintenance_mode: Option<crate::maintenance::Maintenance>,
    /// The role file's content (`active`, `standby`); None when absent.
    pub role: Option<String>,
    pub epoch: Option<u64>,
    pub fence: Option<Fence>,
}

/// The fence marker a failover (or the node itself, on finding a newer epoch) leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default, schemars::JsonSchema)]
pub struct Fence {
    /// `failover` (pairctl fenced it) or `self` (it found a newer epoch in the cluster).
    pub by: String,
    pub time: String,
    pub epoch: Option<u64>,
    pub reason: String,
}

/// Reads the fence file's `key=value` lines; unknown keys are ignored, values are cut short.
pub fn parse_fence(text: &str) -> Fence {
    let mut f = Fence::default();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v: String = v.trim().chars().take(300).collect();
        match k.trim() {
            "by" => f.by = v,
            "time" => f.time = v,
            "epoch" => f.epoch = v.parse().ok(),
            "reason" => f.reason = v,
            _ => {}
        }
    }
    f
}

/// The fence file's content as a failover writes it.
pub fn fence_text(fence: &Fence) -> String {
    let one_line = |s: &str| s.replace(['\n', '\r'], " ");
    format!(
        "by={}\ntime={}\nepoch={}\nreason={}\n",
        one_line(&fence.by),
        one_line(&fence.time),
        fence.epoch.map(|e| e.to_string()).unwrap_or_default(),
        one_line(&fence.reason)
    )
}

/// The shell command whose output `parse_basics` reads. Paths are quoted by the caller's
/// config (they come from the operator's file, not from the network).
///
/// Bash (run it through `in_bash`): files are read with the `read` builtin, the clock is
/// `$EPOCHREALTIME`, so that the processes it starts are only those no builtin can replace
/// (`ip`, `systemctl`, `stat`, `sed`): on a loaded node every
/// process start costs milliseconds, and a round runs this on both nodes.
pub fn basics_command(state_path: &str, replica_path: &str) -> String {
    let commands = [
        "ip -j addr".to_string(),
        "systemctl is-active keepalived k3s".to_string(),
        format!("rd {} {VRRP_STATE_FILE}", STATE_LIMIT + 1),
        format!("test -e {MAINTENANCE_FILE} && echo maintenance"),
        super::litestream::command(state_path, replica_path),
        format!("rd {} {DEPLOYMENT_RECORD}", RECORD_LIMIT + 1),
        // The last role change (maintenance on/off/expiry are in the history too): the last
        // matching line as `grep | tail -n 1 | head -c` printed it, newline included.
        format!(
            "l=$(sed -n -E '/\"kind\":\"(swap|failover|rejoin)\"/h; ${{x;p;}}' {HISTORY_FILE} 2>/dev/null); \
[ -n \"$l\" ] && l+=$'\\n' && printf '%s' \"${{l:0:{}}}\"; true",
            RECORD_LIMIT + 1
        ),
        // The record only: the clock section dates it (`maintenance::probe_command`'s `date`
        // and `head` are two processes more).
        format!(
            "rd {} {}",
            crate::maintenance::RECORD_LIMIT + 1,
            crate::maintenance::RECORD_FILE
        ),
        format!("rd 64 {ROLE_FILE}"),
        format!("rd 32 {EPOCH_FILE}"),
        format!("rd 2048 {FENCE_FILE}"),
        "printf '%s\\n' \"$EPOCHREALTIME\"".to_string(),
    ];
    let sections = SECTIONS
        .iter()
        .zip(commands)
        .map(|(name, command)| format!("{}; {command}", batch::mark(name)))
        .collect::<Vec<_>>()
        .join("; ");
    format!("{READ_FILE}; {sections}")
}

/// Bash's byte-wise locale, and `rd N FILE`: the first N bytes of FILE, nothing when it cannot
/// be read (`head -c N FILE 2>/dev/null` without a process).
const READ_FILE: &str =
    "LC_ALL=C; rd() { local v=; IFS= read -r -N \"$1\" v 2>/dev/null < \"$2\"; printf '%s' \"$v\"; }";

/// `command` run by bash whatever the login shell of the node's user is.
pub fn in_bash(command: &str) -> String {
    format!("exec bash -c {}", shell_quote(command))
}

pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `daemon`: litestream's daemon as its control socket answered (`litestream::ask_daemon`).
pub fn parse_basics(
    text: &str,
    vip: &str,
    daemon: super::litestream::DaemonAnswer,
) -> Result<BasicFacts, ParseError> {
    basics_from(&Sections::parse(text), vip, daemon)
}

/// `parse_basics` on output already split into sections (it may hold more sections than the
/// basics'); a missing section is an error, not an empty answer.
pub fn basics_from(
    out: &Sections,
    vip: &str,
    daemon: super::litestream::DaemonAnswer,
) -> Result<BasicFacts, ParseError> {
    let mut sections = [""; SECTIONS.len()];
    for (body, name) in sections.iter_mut().zip(SECTIONS) {
        *body = out
            .get(name)
            .map_err(|e| ParseError::new("node basics", e.to_string()))?;
    }
    let interfaces = super::ip::parse_ip_addr(sections[0])?;
    let vip_interface = super::ip::holds_address(&interfaces, vip);
    let mut units = sections[1].lines().map(str::trim);
    let keepalived_unit = units.next().unwrap_or("unknown").to_string();
    let k3s_active = units.next() == Some("active");
    let vrrp_state = if sections[2].len() > STATE_LIMIT {
        Some(too_large(VRRP_STATE_FILE, STATE_LIMIT))
    } else {
        Some(sections[2].trim().to_string()).filter(|s| !s.is_empty())
    };
    let maintenance = sections[3].trim() == "maintenance";
    let litestream = super::litestream::parse_files(sections[11], sections[4])
        .map(|files| super::litestream::facts(files, daemon))
        .map_err(ProbeError::from);
    if sections[5].len() > RECORD_LIMIT {
        return Err(ParseError::new(
            "deployment record",
            too_large(DEPLOYMENT_RECORD, RECORD_LIMIT),
        ));
    }
    let deployment = match sections[5].trim() {
        "" => None,
        json => Some(serde_json::from_str(json).map_err(|e| {
            ParseError::new("deployment record", format!("{DEPLOYMENT_RECORD}: {e}"))
        })?),
    };
    let last_change = serde_json::from_str(sections[6].trim())
        .ok()
        .filter(|_| sections[6].len() <= RECORD_LIMIT);
    // A record that cannot be read freezes, as a live one would: the safe side, and said.
    let maintenance_mode = super::litestream::clock(sections[11], "maintenance record")
        .ok()
        .filter(|now| *now >= 0.0)
        .ok_or_else(|| ParseError::new("maintenance record", "no node clock"))
        .and_then(|now| crate::maintenance::parse_record(sections[7], now as u64))
        .unwrap_or_else(|e| Some(crate::maintenance::Maintenance::unreadable(&e.to_string())));
    let role = Some(sections[8].trim().to_string()).filter(|s| !s.is_empty());
    let epoch = sections[9].trim().parse().ok();
    let fence = Some(sections[10])
        .filter(|s| !s.trim().is_empty())
        .map(parse_fence);
    Ok(BasicFacts {
        holds_vip: vip_interface.is_some(),
        vip_interface,
        keepalived_unit,
        k3s_active,
        vrrp_state,
        maintenance,
        litestream,
        deployment,
        last_change,
        maintenance_mode,
        role,
        epoch,
        fence,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const DB: &str = "/var/lib/rancher/k3s/server/db/state.db";

    fn no_daemon() -> super::super::litestream::DaemonAnswer {
        super::super::litestream::DaemonAnswer {
            daemon: Err(crate::transport::ProbeError::failed(
                "not running (no control socket)",
            )),
            answered: false,
        }
    }

    /// `litestream`: the node's litestream and clock sections (a captured `*-files.txt`).
    fn sample(ip: &str, units: &str, litestream: &str) -> String {
        let deployment = r#"{"version":"3.1.0","build":"7","virtual_ip":"10.213.57.10","node_ips":["10.213.57.11","10.213.57.12"]}"#;
        let units = format!("{units}\n");
        let bodies = [
            ip, &units, "MASTER\n", "", deployment, "", "", "active\n", "4\n", "",
        ];
        let others = SECTIONS
            .into_iter()
            .filter(|name| !matches!(*name, "litestream" | "clock"));
        let sections: Vec<(&str, &str)> = others.zip(bodies).collect();
        format!("{}{litestream}", batch::printed(&sections))
    }

    #[test]
    fn active_node_basics() {
        let ip = include_str!("../../fixtures/ip/with-vip.json");
        let litestream = include_str!("../../fixtures/litestream/healthy-n1-files.txt");
        let b = parse_basics(
            &sample(ip, "active\nactive", litestream),
            "10.213.57.10",
            super::super::litestream::parse_list_response(
                include_bytes!("../../fixtures/litestream/healthy-n1-socket.txt"),
                DB,
            ),
        )
        .unwrap();
        assert!(b.holds_vip);
        assert!(b.k3s_active);
        assert_eq!(b.keepalived_unit, "active");
        assert_eq!(b.vrrp_state.as_deref(), Some("MASTER"));
        assert!(!b.maintenance);
        let l = b.litestream.unwrap();
        assert_eq!(l.daemon.unwrap().status, "replicating");
        assert!(l.local.unwrap().unwrap().txid.unwrap() > 0);
        assert_eq!(b.deployment.unwrap().version, "3.1.0");
        assert!(b.last_change.is_none());
        assert_eq!(b.role.as_deref(), Some("active"));
        assert_eq!(b.epoch, Some(4));
        assert_eq!(b.fence, None);
    }

    #[test]
    fn a_fence_marker_is_read_back() {
        let f = Fence {
            by: "failover".into(),
            time: "2026-12-01T09:00:00Z".into(),
            epoch: Some(3),
            reason: "failover to n2\nby op".into(),
        };
        let text = fence_text(&f);
        assert_eq!(text.lines().count(), 4, "{text}");
        let back = parse_fence(&text);
        assert_eq!(back.reason, "failover to n2 by op");
        assert_eq!(back.epoch, Some(3));
        assert_eq!(back.by, "failover");
        // What the node's own script writes, and garbage.
        let own = parse_fence("by=self\ntime=T\nepoch=x\nreason=epoch 5 is newer\njunk\n");
        assert_eq!((own.by.as_str(), own.epoch), ("self", None));
        assert_eq!(own.reason, "epoch 5 is newer");
    }

    /// The maintenance record is dated by the basics' own clock section: in force before its
    /// end, gone after it, and unreadable (in force, said) when the node printed no clock.
    #[test]
    fn the_maintenance_record_is_judged_by_the_node_clock() {
        let ip = include_str!("../../fixtures/ip/with-vip.json");
        let record = serde_json::to_string(&crate::maintenance::Maintenance::new(
            None,
            "kernel update".into(),
            "ops@laptop".into(),
            1_700_000_000,
            std::time::Duration::from_secs(600),
        ))
        .unwrap();
        let at = |clock: &str| {
            let litestream = batch::printed(&[("litestream", ""), ("clock", clock)]);
            let text = sample(ip, "active\nactive", &litestream).replace(
                &batch::printed(&[("maintenance_mode", "")]),
                &batch::printed(&[("maintenance_mode", &record)]),
            );
            parse_basics(&text, "10.213.57.10", no_daemon())
                .unwrap()
                .maintenance_mode
        };
        let live = at("1700000100.5\n").unwrap();
        assert_eq!(live.reason, "kernel update");
        assert_eq!(at("1700000600.0\n"), None);
        let unreadable = at("garbage\n").unwrap();
        assert!(
            unreadable.reason.contains("no node clock"),
            "{}",
            unreadable.reason
        );
        assert_eq!(unreadable.until_epoch, u64::MAX);
    }

    #[test]
    fn standby_without_replica() {
        let ip = include_str!("../../fixtures/ip/without-vip.json");
        let litestream = batch::printed(&[
            ("litestream", "installed\nreplica none\n"),
            ("clock", "1796115600\n"),
        ]);
        let b = parse_basics(
            &sample(ip, "active\ninactive", &litestream),
            "10.213.57.10",
            no_daemon(),
        )
        .unwrap();
        assert!(!b.holds_vip);
        assert!(!b.k3s_active);
        let l = b.litestream.unwrap();
        assert!(l.daemon.is_err());
        assert_eq!(l.replica.unwrap().unwrap().max_txid, None);
    }

    #[test]
    fn a_huge_state_file_is_reported_too_large_and_the_rest_kept() {
        let ip = include_str!("../../fixtures/ip/with-vip.json");
        let garbled = batch::printed(&[("litestream", "1700000004\n"), ("clock", "1700000000\n")]);
        let text =
            sample(ip, "active\nactive", &garbled).replace("MASTER", &"A".repeat(STATE_LIMIT + 1));
        let b = parse_basics(&text, "10.213.57.10", no_daemon()).unwrap();
        assert!(b.holds_vip);
        assert_eq!(
            b.vrrp_state.as_deref(),
            Some("too large (/run/pairctl/keepalived.state: more than 4096 bytes)")
        );
    }

    #[test]
    fn truncated_output_is_an_error() {
        assert!(parse_basics("[]\n", "10.213.57.10", no_daemon()).is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("/var/lib/x.db"), "/var/lib/x.db");
        assert_eq!(shell_quote("a b'c"), "'a b'\\''c'");
    }
}
