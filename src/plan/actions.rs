//! The remote actions role changes are made of, each on the command's SSH connections and
//! bounded: the role and epoch files keepalived's track script obeys, the fence marker, the
//! Galera vote and the epoch row, the maintenance file, wait for the VIP and the VRRP state,
//! make sure k3s runs, wait for the services through the VIP, Galera quorum, the history record.

use super::{poll, Executor};
use crate::config::Config;
use crate::model::ClusterReport;
use crate::probe::collect::NodeLink;
use crate::probe::node::{
    fence_text, shell_quote, Fence, EPOCH_FILE, FENCE_FILE, HISTORY_FILE, MAINTENANCE_FILE,
    ROLE_FILE, SYNC_ELIGIBLE, VRRP_STATE_FILE,
};
use crate::probe::{galera, ip};
use crate::transport::https::HttpsClient;
use crate::transport::Deadline;
use crate::transport::{Exec, ProbeError};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// How often waits look again: short, because every poll is one channel on a live connection.
pub const POLL: Duration = Duration::from_millis(100);
const CALL: Duration = Duration::from_secs(5);

/// A step's outcome: its value and detail, or why it failed (a step fails like the remote
/// calls it is made of: unreachable, timed out, or failed).
pub type StepResult<T> = Result<(T, String), ProbeError>;

/// Runs `cmd`; its stdout, or what the failure looked like.
pub async fn run_ok(s: &impl Exec, cmd: &str, limit: Duration) -> Result<String, ProbeError> {
    let out = s.exec(cmd, limit).await?;
    if out.success() {
        Ok(out.stdout_str())
    } else {
        Err(ProbeError::failed(format!(
            "`{cmd}`: {}",
            out.failure_summary()
        )))
    }
}

/// Demotes a node: keepalived's track script sees the maintenance file, the instance goes to
/// FAULT and sends a priority-0 advert, so the peer takes the VIP at once; the notify script
/// stops k3s and the ingress there.
pub async fn demote(s: &impl Exec, deadline: Deadline) -> StepResult<()> {
    run_ok(
        s,
        &format!("mkdir -p /etc/keepalived && touch {MAINTENANCE_FILE} && {SYNC_ELIGIBLE}"),
        deadline.cap(CALL),
    )
    .await?;
    Ok(((), format!("{MAINTENANCE_FILE} created")))
}

/// Clears the demotion; with `nopreempt` the node settles as BACKUP.
pub async fn undemote(s: &impl Exec, deadline: Deadline) -> StepResult<()> {
    run_ok(
        s,
        &format!("rm -f {MAINTENANCE_FILE} && {SYNC_ELIGIBLE}"),
        deadline.cap(CALL),
    )
    .await?;
    Ok(((), format!("{MAINTENANCE_FILE} removed")))
}

/// Writes the node's role and epoch (each file replaced atomically, then the files and their
/// directory synced: a role must survive a power cut; a whole-system `sync` waited on every
/// other writer's dirty pages, 1.6 s on a loaded node). keepalived acts on the role at once:
/// the quorum script brings its election gate in line (`SYNC_ELIGIBLE`).
pub async fn set_role(s: &impl Exec, role: &str, epoch: u64, deadline: Deadline) -> StepResult<()> {
    let role = match role {
        "active" => "active",
        _ => "standby",
    };
    run_ok(
        s,
        &format!(
            "mkdir -p /etc/pairctl && echo {role} > {ROLE_FILE}.new && echo {epoch} > {EPOCH_FILE}.new && mv -f {ROLE_FILE}.new {ROLE_FILE} && mv -f {EPOCH_FILE}.new {EPOCH_FILE} && sync {ROLE_FILE} {EPOCH_FILE} /etc/pairctl && {SYNC_ELIGIBLE}"
        ),
        deadline.cap(CALL),
    )
    .await?;
    Ok(((), format!("role {role}, epoch {epoch}")))
}

/// Leaves the durable fence marker: the node stays out (no VIP, no k3s, Galera vote 0) until
/// it is rejoined, also after a reboot with its old configuration.
pub async fn fence(s: &impl Exec, fence: &Fence, deadline: Deadline) -> StepResult<()> {
    let out = s
        .exec_with_input(
            &format!("mkdir -p /etc/pairctl && cat > {FENCE_FILE}.new && mv -f {FENCE_FILE}.new {FENCE_FILE} && sync {FENCE_FILE} /etc/pairctl && {SYNC_ELIGIBLE}"),
            Some(fence_text(fence).as_bytes()),
            deadline.cap(CALL),
        )
        .await?;
    if !out.success() {
        return Err(ProbeError::failed(out.failure_summary()));
    }
    Ok(((), format!("{FENCE_FILE} written")))
}

/// Reads back whether the fence marker is there (the summary says what was observed).
pub async fn fence_present(s: &impl Exec, limit: Duration) -> Result<bool, ProbeError> {
    let out = run_ok(
        s,
        &format!("test -e {FENCE_FILE} && echo fenced; true"),
        limit,
    )
    .await?;
    Ok(out.trim() == "fenced")
}

/// Sets the node's Galera vote at runtime and reads it back (the track script applies the
/// role's vote after every restart; this makes the exchange immediate and checked).
pub async fn set_weight(s: &impl Exec, weight: u8, deadline: Deadline) -> StepResult<()> {
    let out = run_ok(
        s,
        &format!(
            "mariadb -e \"SET GLOBAL wsrep_provider_options='pc.weight={weight}'\" && mariadb -N -B -e \"SHOW GLOBAL VARIABLES LIKE 'wsrep_provider_options'\""
        ),
        deadline.cap(CALL),
    )
    .await?;
    let seen = out
        .split(';')
        .find_map(|o| o.trim().strip_prefix("pc.weight = "))
        .map(|w| w.trim().to_string());
    match seen {
        Some(w) if w == weight.to_string() => Ok(((), format!("pc.weight {weight}"))),
        other => Err(ProbeError::failed(format!(
            "pc.weight reads {} after setting {weight}",
            other.unwrap_or_else(|| "nothing".into())
        ))),
    }
}

/// Records the new epoch and active in the cluster's database (replicated to every member:
/// a returning old active that joins finds it and fences itself).
pub async fn write_epoch_row(
    s: &impl Exec,
    epoch: u64,
    active: &str,
    deadline: Deadline,
) -> StepResult<()> {
    let sql = format!(
        "REPLACE INTO pairctl.epoch (id, epoch, active) VALUES (1, {epoch}, {})",
        crate::deploy::stages::galera::sql_string(active)
    );
    run_ok(
        s,
        &format!("mariadb -e {}", shell_quote(&sql)),
        deadline.cap(CALL),
    )
    .await?;
    Ok(((), format!("epoch {epoch}, active {active}")))
}

/// Waits until the VRRP state the notify script records is one of `states`.
pub async fn wait_vrrp(s: &impl Exec, states: &[&str], deadline: Deadline) -> StepResult<String> {
    let started = Instant::now();
    let hit = poll(deadline.remaining(), POLL, || async {
        let out = s
            .exec(&format!("cat {VRRP_STATE_FILE}"), deadline.cap(CALL))
            .await
            .ok()?;
        let state = out.stdout_str().trim().to_string();
        states.contains(&state.as_str()).then_some(state)
    })
    .await;
    match hit {
        Some(state) => Ok((
            state.clone(),
            format!(
                "{state} after {}",
                crate::format::human_duration(started.elapsed())
            ),
        )),
        None => Err(ProbeError::timed_out(format!(
            "keepalived did not reach {} in time",
            states.join(" or ")
        ))),
    }
}

pub async fn holds_vip(s: &impl Exec, vip: &str, limit: Duration) -> Result<bool, ProbeError> {
    let text = run_ok(s, "ip -j addr", limit).await?;
    let ifaces = ip::parse_ip_addr(&text)?;
    Ok(ip::holds_address(&ifaces, vip).is_some())
}

/// Waits until the node holds (`want = true`) or no longer holds the VIP.
pub async fn wait_vip(s: &impl Exec, vip: &str, want: bool, deadline: Deadline) -> StepResult<()> {
    let started = Instant::now();
    let hit = poll(deadline.remaining(), POLL, || async {
        match holds_vip(s, vip, deadline.cap(CALL)).await {
            Ok(h) if h == want => Some(()),
            _ => None,
        }
    })
    .await;
    let verb = if want { "holds" } else { "released" };
    match hit {
        Some(()) => Ok((
            (),
            format!(
                "{verb} {vip} after {}",
                crate::format::human_duration(started.elapsed())
            ),
        )),
        None => Err(ProbeError::timed_out(format!(
            "{} still {} {vip} at the deadline",
            s.node_name(),
            if want { "does not hold" } else { "holds" }
        ))),
    }
}

/// Starts k3s without waiting (its unit pulls in the state restore and litestream).
const START_K3S: &str = "systemctl --no-block start k3s.service";

/// `START_K3S` once the VRRP state file no longer says FAULT and no notify script runs (at
/// most `NOTIFY_WAIT_POLLS` looks 50 ms apart); prints the state it saw last.
fn start_after_notify(state_file: &str, notify_script: &str) -> String {
    // The script's process name as the kernel keeps it (15 bytes).
    let comm: String = notify_script
        .rsplit('/')
        .next()
        .unwrap_or(notify_script)
        .chars()
        .take(15)
        .collect();
    crate::probe::node::in_bash(&format!(
        "k=; for ((i = 0; i < {NOTIFY_WAIT_POLLS}; i++)); do k=; read -r k < {state} 2>/dev/null; \
if [ \"$k\" != FAULT ] && ! pgrep -x {comm} >/dev/null; then break; fi; sleep 0.05; done; \
echo \"${{k:-unknown}}\"; {START_K3S}",
        state = shell_quote(state_file),
        comm = shell_quote(&comm),
    ))
}

/// The early start of a failover waits at most this long for keepalived to leave FAULT.
const NOTIFY_WAIT_POLLS: u32 = 40;

/// Starts k3s on the survivor before it holds the VIP (a failover's early start), once
/// keepalived has left FAULT and its notify script has run: the role change takes the
/// instance from FAULT to BACKUP, and the notify script stops k3s and its state restore on
/// BACKUP. A start issued before that stop was killed by it (the lab's journals: the restore
/// ended by SIGTERM 45 ms after it began), so the restore and k3s's start waited for the
/// MASTER notify instead of running during keepalived's master-down interval: about a second
/// of every failover. After 2 s in FAULT k3s is started anyway (the VIP wait decides).
pub async fn start_k3s(s: &impl Exec, deadline: Deadline) -> StepResult<()> {
    let cmd = start_after_notify(
        crate::probe::node::VRRP_STATE_FILE,
        crate::deploy::templates::NOTIFY_SCRIPT,
    );
    let out = run_ok(s, &cmd, deadline.cap(CALL + Duration::from_secs(2))).await?;
    // The node's text names a state pairctl knows, or it is not repeated.
    let detail = match out.trim() {
        "FAULT" => "k3s.service starting (keepalived still FAULT)".to_string(),
        state @ ("BACKUP" | "MASTER") => {
            format!("k3s.service starting (keepalived {state}, its notify done)")
        }
        _ => "k3s.service starting (keepalived's state unknown)".to_string(),
    };
    Ok(((), detail))
}

/// Stops k3s, litestream and the state restore, as the notify script does on FAULT.
pub async fn stop_k3s(s: &impl Exec, deadline: Deadline) -> StepResult<()> {
    run_ok(
        s,
        "systemctl --no-block stop k3s.service litestream.service k3s-state-restore.service",
        deadline.cap(CALL),
    )
    .await?;
    Ok(((), "k3s.service stopping".into()))
}

/// Makes sure k3s runs (the notify script normally started it) and answers. The node itself
/// waits for it (`systemctl is-active` every 50 ms in one session, not a session per look:
/// the node that starts k3s is the one a look costs); after `K3S_GRACE` without it, pairctl
/// starts k3s itself and waits again.
pub async fn ensure_k3s(s: &impl Exec, deadline: Deadline) -> StepResult<()> {
    let started = Instant::now();
    let wait = |within: Duration| {
        crate::probe::node::in_bash(&format!(
            "for ((i = 0; i < {}; i++)); do systemctl is-active --quiet k3s && exit 0; sleep 0.05; done; exit 1",
            within.as_millis() / 50
        ))
    };
    let mut within = K3S_GRACE;
    loop {
        let within_now = within.min(deadline.remaining());
        let ran = s
            .exec(&wait(within_now), deadline.cap(within_now + CALL))
            .await;
        if ran.as_ref().is_ok_and(|o| o.success()) {
            return Ok((
                (),
                format!(
                    "k3s active after {}",
                    crate::format::human_duration(started.elapsed())
                ),
            ));
        }
        if deadline.remaining() <= POLL {
            return Err(ProbeError::timed_out(match ran {
                Err(e) => format!("k3s.service did not become active ({e})"),
                Ok(_) => "k3s.service did not become active".to_string(),
            }));
        }
        // (Never a busy loop, whatever the node answers.)
        tokio::time::sleep(POLL).await;
        // The notify script had its chance: start it ourselves.
        let _ = s.exec(START_K3S, deadline.cap(CALL)).await;
        within = Duration::from_secs(5);
    }
}

/// How long the notify script is given to start k3s before pairctl does.
const K3S_GRACE: Duration = Duration::from_secs(2);

/// Waits until every enabled service answers 200 through the VIP.
pub async fn wait_services(
    cfg: &Config,
    https: &HttpsClient,
    deadline: Deadline,
) -> StepResult<()> {
    let started = Instant::now();
    let last = std::cell::RefCell::new(String::new());
    let hit = poll(deadline.remaining(), POLL, || {
        let last = &last;
        async move {
            let results = futures::future::join_all(cfg.k3s.services.iter().map(|s| async move {
                (
                    s.clone(),
                    https
                        .get_status(&cfg.health_url(s), deadline.cap(Duration::from_secs(2)))
                        .await,
                )
            }))
            .await;
            let bad: Vec<String> = results
                .iter()
                .filter(|(_, r)| *r != Ok(200))
                .map(|(s, r)| match r {
                    Ok(code) => format!("{s} HTTP {code}"),
                    Err(e) => format!("{s} {e}"),
                })
                .collect();
            if bad.is_empty() {
                Some(())
            } else {
                *last.borrow_mut() = bad.join(", ");
                None
            }
        }
    })
    .await;
    match hit {
        Some(()) => Ok((
            (),
            format!(
                "{} services Ready after {}",
                cfg.k3s.services.len(),
                crate::format::human_duration(started.elapsed())
            ),
        )),
        None => Err(ProbeError::timed_out(format!(
            "not Ready at the deadline: {}",
            last.borrow()
        ))),
    }
}

/// Galera facts read on the node itself (root over the unix socket: no password on argv).
pub async fn galera_local(
    s: &impl Exec,
    limit: Duration,
) -> Result<galera::GaleraFacts, ProbeError> {
    let text = run_ok(
        s,
        "mariadb -N -B -e \"SHOW GLOBAL STATUS LIKE 'wsrep%'\"",
        limit,
    )
    .await?;
    Ok(galera::parse_wsrep_text(&text)?)
}

/// Where a failover tells the survivor that its old active is confirmed down (its address and
/// name, one a line): the k3s state hand-over (`k3s-state` in the bundle) then neither waits
/// for that peer's final sync nor tries to reach it (each costs an SSH connect timeout).
/// Read for a minute after it is written (`/run`: gone at a reboot).
pub const PEER_DOWN_FILE: &str = "/run/pairctl/peer-down";

/// Leaves `PEER_DOWN_FILE` on the survivor, naming the old active.
pub async fn note_peer_down(
    s: &impl Exec,
    address: &str,
    name: &str,
    deadline: Deadline,
) -> StepResult<()> {
    let dir = PEER_DOWN_FILE
        .rsplit_once('/')
        .map(|(d, _)| d)
        .unwrap_or("/run");
    run_ok(
        s,
        &format!(
            "mkdir -p {dir} && printf '%s\\n' {} {} > {PEER_DOWN_FILE}",
            shell_quote(address),
            shell_quote(name)
        ),
        deadline.cap(CALL),
    )
    .await?;
    Ok(((), format!("{PEER_DOWN_FILE}: {name} ({address})")))
}

/// Makes the node's component Primary again after its peer was confirmed gone.
pub async fn galera_bootstrap(s: &impl Exec, deadline: Deadline) -> StepResult<()> {
    run_ok(
        s,
        "mariadb -e \"SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'\"",
        deadline.cap(CALL),
    )
    .await?;
    let hit = poll(deadline.remaining(), POLL, || async {
        match galera_local(s, deadline.cap(CALL)).await {
            Ok(g) if g.cluster_status == galera::ClusterStatus::Primary => Some(g.cluster_size),
            _ => None,
        }
    })
    .await;
    match hit {
        Some(size) => Ok(((), format!("Primary again, size {size}"))),
        None => Err(ProbeError::timed_out(
            "still not Primary after pc.bootstrap",
        )),
    }
}

/// Evicts the member at `address` from the node's Galera view at once (`evs.evict` with its
/// gcomm UUID, read from `mysql.wsrep_cluster_members`), instead of waiting for Galera's
/// suspect timeout: for an old active every side has confirmed down. Ok(false) when it is no
/// member any more (evicted already).
pub async fn galera_evict(s: &impl Exec, address: &str, deadline: Deadline) -> StepResult<bool> {
    let query = format!(
        "SELECT node_uuid FROM mysql.wsrep_cluster_members WHERE node_incoming_address LIKE {}",
        crate::deploy::stages::galera::sql_string(&format!("{address}:%"))
    );
    let out = run_ok(
        s,
        &format!("mariadb -N -B -e {}", shell_quote(&query)),
        deadline.cap(CALL),
    )
    .await?;
    let Some(uuid) = out.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return Ok((false, format!("{address} is no member any more")));
    };
    // The node's answer goes into a command: only a UUID's characters.
    if uuid.len() > 64 || !uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(ProbeError::failed(format!(
            "{address}'s gcomm UUID reads {:?}",
            uuid.chars().take(64).collect::<String>()
        )));
    }
    run_ok(
        s,
        &format!("mariadb -e \"SET GLOBAL wsrep_provider_options='evs.evict={uuid}'\""),
        deadline.cap(CALL),
    )
    .await?;
    Ok((true, format!("evicted {address} (gcomm UUID {uuid})")))
}

/// Clears the node's Galera eviction list (`galera_evict`'s entry would keep the old active
/// out even after a rejoin with the same process).
pub async fn galera_clear_evictions(s: &impl Exec, deadline: Deadline) -> StepResult<()> {
    run_ok(
        s,
        "mariadb -e \"SET GLOBAL wsrep_provider_options='evs.evict='\"",
        deadline.cap(CALL),
    )
    .await?;
    Ok(((), "eviction list cleared".to_string()))
}

/// Asks the survivor whether it can still reach `address` (ICMP and the SSH port, both at
/// once: a dead node costs the longer of the two waits, not their sum). Only an answer of "no"
/// on both counts as confirmed down.
pub async fn confirm_down_from(
    s: &impl Exec,
    address: &str,
    limit: Duration,
) -> Result<bool, ProbeError> {
    let a = shell_quote(address);
    // Both looks end within SILENCE: two echoes 0.2 s apart, the last answer awaited for the
    // rest; the TCP handshake for all of it.
    let silence = super::failover::SILENCE.as_secs_f64();
    let cmd = format!(
        "{{ if ping -c 2 -i 0.2 -W {wait:.1} {a} >/dev/null 2>&1; then echo ping; fi; }} & \
{{ if timeout {silence:.1} bash -c 'exec 3<>/dev/tcp/{address}/22' 2>/dev/null; then echo tcp; fi; }} & \
wait; true",
        wait = silence - 0.2,
    );
    let out = run_ok(s, &cmd, limit).await?;
    Ok(out.trim().is_empty())
}

/// The shape of `pairctl history -o json`.
pub const HISTORY_SCHEMA: &str = "pairctl.history/1";

/// One role change, as kept in the history file on both nodes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct HistoryRecord {
    pub time: String,
    pub kind: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub outcome: String,
    pub duration_ms: u64,
    pub by: String,
    /// What else the record says (a maintenance's reason and expiry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// A failover's fork point: the new active's last committed Galera seqno when it took
    /// over. A returning node with writes past it ran as primary after the split (rejoin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub galera_seqno: Option<u64>,
}

pub fn operator() -> String {
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| user_of_uid().unwrap_or_else(|| "unknown".into()));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!("{user}@{}", host.trim())
}

/// The login name of this process's real uid, from /proc and /etc/passwd (no libc call).
fn user_of_uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid).then(|| name.to_string())
    })
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Appends the record on every reachable node; returns the nodes where it failed.
pub async fn record_history(
    links: &[NodeLink],
    record: &HistoryRecord,
    limit: Duration,
) -> Vec<String> {
    let line = format!("{}\n", serde_json::to_string(record).unwrap_or_default());
    let dir = HISTORY_FILE
        .rsplit_once('/')
        .map(|(d, _)| d)
        .unwrap_or("/var/lib/pairctl");
    let cmd = format!("mkdir -p {dir} && cat >> {HISTORY_FILE}");
    let writes = links.iter().map(|l| {
        let cmd = cmd.clone();
        let line = line.clone();
        async move {
            match l.session() {
                Some(s) => match s.exec_with_input(&cmd, Some(line.as_bytes()), limit).await {
                    Ok(out) if out.success() => None,
                    _ => Some(l.node.name.clone()),
                },
                None => Some(l.node.name.clone()),
            }
        }
    });
    futures::future::join_all(writes)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// The history of the nodes that answered, merged, and why any part of it is missing.
#[derive(Debug, Default)]
pub struct History {
    /// Merged and de-duplicated, oldest first.
    pub records: Vec<HistoryRecord>,
    /// One entry per node whose history could not be read whole: not connected (its
    /// connection error, with the hint), the read failed, or lines that are not records
    /// (skipped).
    pub unread: Vec<String>,
}

/// Reads the history of every node (both hold every record, so one answering is enough for
/// the records; `unread` says what was missed).
pub async fn read_history<S: Exec + Send + Sync>(
    links: &[NodeLink<S>],
    limit: Duration,
) -> History {
    let reads = links.iter().map(|l| async move {
        let name = &l.node.name;
        let s = match &l.session {
            Ok(s) => s,
            Err(e) => {
                let hint = e.hint.as_ref().map(|h| format!("\nHint: {h}"));
                return (
                    Vec::new(),
                    Some(format!("{}{}", e.message, hint.unwrap_or_default())),
                );
            }
        };
        let text = match s
            .exec(&format!("cat {HISTORY_FILE} 2>/dev/null; true"), limit)
            .await
        {
            Ok(o) => o.stdout_str(),
            Err(e) => {
                return (
                    Vec::new(),
                    Some(format!("{name}: {HISTORY_FILE} not read: {e}")),
                )
            }
        };
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let records: Vec<HistoryRecord> = lines
            .iter()
            .filter_map(|l| serde_json::from_str::<HistoryRecord>(l).ok())
            .collect();
        let skipped = lines.len() - records.len();
        let problem = (skipped > 0).then(|| {
            format!("{name}: {skipped} line(s) of {HISTORY_FILE} are not history records (skipped)")
        });
        (records, problem)
    });
    let mut history = History::default();
    for (records, problem) in futures::future::join_all(reads).await {
        history.records.extend(records);
        history.unread.extend(problem);
    }
    history
        .records
        .sort_by(|a, b| a.time.cmp(&b.time).then(a.kind.cmp(&b.kind)));
    history.records.dedup();
    history
}

/// Polls the status machinery until `accept` holds; returns the last report and whether it
/// was accepted.
pub async fn verify(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    accept: impl Fn(&ClusterReport) -> bool,
) -> (bool, Option<ClusterReport>) {
    loop {
        let started = Instant::now();
        let round = Deadline::after(deadline.cap(Duration::from_secs(5)));
        let report = crate::round::report(cfg, links, https, round, started).await;
        let ok = accept(&report);
        tracing::debug!(ok, verdict = report.verdict.as_str(), ms = started.elapsed().as_millis() as u64, failing = ?report.failing().map(|c| format!("{} {} {}", c.name, c.node, c.detail)).collect::<Vec<_>>(), "verify round");
        if ok || deadline.remaining() < POLL * 2 {
            return (ok, Some(report));
        }
        tokio::time::sleep(Duration::from_millis(250).min(deadline.remaining())).await;
    }
}

/// The last step of a role change: verify with the status machinery, also reporting the
/// problems earlier steps met. Returns the step's result and the last status report.
pub async fn verify_step(
    ex: &mut Executor<'_>,
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    problems: &[String],
    accept: impl Fn(&ClusterReport) -> bool,
) -> (Result<(), ProbeError>, Option<ClusterReport>) {
    // The look before the change found no kubeconfig where k3s did not run then: the first
    // verify round reads it again there instead of starting kubectl.
    https.kube_apis().retry_all();
    let mut last = None;
    let verified = ex
        .step("cluster", "verify", async {
            let (ok, report) = verify(
                cfg,
                links,
                https,
                Deadline::after(deadline.remaining().max(POLL * 4)),
                accept,
            )
            .await;
            let detail = report.as_ref().map(super::describe).unwrap_or_default();
            last = report;
            match (ok, problems.is_empty()) {
                (true, true) => Ok(((), detail)),
                (_, true) => Err(ProbeError::failed(detail)),
                (_, false) => Err(ProbeError::failed(format!(
                    "{detail}; {}",
                    problems.join("; ")
                ))),
            }
        })
        .await;
    (verified, last)
}

/// What the hand-over did before k3s started on the node (litestream's restore of the
/// replica, or why not): the record `k3s-state restore` leaves there.
pub async fn state_restored(s: &impl Exec, deadline: Deadline) -> StepResult<()> {
    use crate::probe::litestream::{parse_restore_record, RESTORE_RECORD};
    let text = run_ok(
        s,
        &format!("cat {RESTORE_RECORD} 2>/dev/null; true"),
        deadline.cap(CALL),
    )
    .await?;
    if text.trim().is_empty() {
        return Err(ProbeError::failed(format!(
            "no {RESTORE_RECORD}: k3s started without the litestream hand-over"
        )));
    }
    Ok(((), parse_restore_record(&text)?.summary()))
}

/// On the new active, as soon as its litestream answers: a sync now (`litestream sync -wait`,
/// over the daemon's control socket), so that the standby's new replica starts at once
/// rather than at the daemon's first sync interval (its first snapshot is what the
/// replication check waits for). Until the daemon listens, asked again every `POLL`.
pub async fn sync_replica(s: &impl Exec, db_path: &str, deadline: Deadline) -> StepResult<()> {
    let cmd = format!(
        "litestream sync -json -wait -timeout 5 {} 2>&1",
        crate::probe::node::shell_quote(db_path)
    );
    let last = std::cell::RefCell::new(String::from("no answer"));
    let limit = deadline.cap(Duration::from_secs(15));
    let hit = poll(limit, POLL, || {
        let (cmd, last) = (&cmd, &last);
        async move {
            let answer = match s.exec(cmd, deadline.cap(Duration::from_secs(7))).await {
                Ok(out) if out.success() => parse_sync(&out.stdout_str()),
                Ok(out) => Err(crate::probe::litestream::clip(&format!(
                    "{}\n{}",
                    out.stdout_str(),
                    out.stderr_str()
                ))),
                Err(e) => Err(e.to_string()),
            };
            answer.map_err(|e| *last.borrow_mut() = e).ok()
        }
    })
    .await;
    match hit {
        Some((txid, replica, ms)) => Ok((
            (),
            format!("litestream synced txid {txid:x} to the replica (at {replica:x}) in {ms} ms"),
        )),
        None => Err(ProbeError::timed_out(format!(
            "litestream sync did not succeed: {}",
            last.into_inner()
        ))),
    }
}

/// `litestream sync -json`'s answer: the database's txid, the replica's, the time it took.
fn parse_sync(text: &str) -> Result<(u64, u64, u64), String> {
    #[derive(serde::Deserialize)]
    struct Synced {
        txid: u64,
        replica_txid: u64,
        #[serde(default)]
        duration_ms: u64,
    }
    let s: Synced = serde_json::from_str(text.trim()).map_err(|_| {
        format!(
            "not litestream sync's JSON answer: {}",
            crate::probe::litestream::clip(text)
        )
    })?;
    Ok((s.txid, s.replica_txid, s.duration_ms))
}

/// On the new active: k3s running (its state restored from the replica first), then every
/// service Ready through the VIP.
pub async fn start_services(
    ex: &mut Executor<'_>,
    node: &str,
    s: &impl Exec,
    cfg: &Config,
    https: &HttpsClient,
    deadline: Deadline,
) -> Result<(), ProbeError> {
    ex.step(node, "k3s running", ensure_k3s(s, deadline))
        .await?;
    ex.step(
        node,
        "k3s state from the replica",
        state_restored(s, deadline),
    )
    .await?;
    ex.step(
        "cluster",
        "services Ready via the VIP",
        wait_services(cfg, https, deadline),
    )
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::transport::fake::{stand_in, FakeNode};

    /// The early start runs in bash with `pgrep` and `systemctl` stand-ins on PATH: it waits
    /// while the state file says FAULT or a notify script runs, then starts k3s once.
    #[test]
    fn the_early_k3s_start_waits_for_keepalived_to_leave_fault_and_its_notify() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let state = format!("{d}/keepalived.state");
        // A notify script "runs" while the file notify-running exists.
        stand_in(
            dir.path(),
            "pgrep",
            &format!("echo >> {d}/asked; [ -e {d}/notify-running ]"),
        );
        stand_in(
            dir.path(),
            "systemctl",
            &format!("echo \"$*\" >> {d}/started"),
        );
        let command = || {
            let mut c = std::process::Command::new("bash");
            c.arg("-c")
                .arg(start_after_notify(&state, "/etc/keepalived/notify.sh"))
                .env("PATH", format!("{d}:/usr/bin:/bin"))
                .stdout(std::process::Stdio::piped());
            c
        };
        // Out of FAULT, but the notify still runs: asked again, not started.
        std::fs::write(&state, "BACKUP\n").unwrap();
        std::fs::write(format!("{d}/notify-running"), "").unwrap();
        let child = command().spawn().unwrap();
        let asked = || std::fs::read_to_string(format!("{d}/asked")).map_or(0, |t| t.len());
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while asked() < 2 && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(asked() >= 2);
        assert!(!std::path::Path::new(&format!("{d}/started")).exists());
        std::fs::remove_file(format!("{d}/notify-running")).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), "BACKUP\n");
        assert_eq!(
            std::fs::read_to_string(format!("{d}/started")).unwrap(),
            "--no-block start k3s.service\n"
        );
        // Still FAULT after the last look: started anyway, and said.
        std::fs::remove_file(format!("{d}/started")).unwrap();
        std::fs::write(&state, "FAULT\n").unwrap();
        let out = command().output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "FAULT\n");
        assert!(std::path::Path::new(&format!("{d}/started")).exists());
    }

    fn marker() -> Fence {
        Fence {
            by: "failover".into(),
            time: "2026-12-01T10:00:00Z".into(),
            epoch: Some(9),
            reason: "failover to n2 by ops; with a\nnewline".into(),
        }
    }

    #[tokio::test]
    async fn k3s_is_waited_for_on_the_node_and_started_once_the_notify_script_had_its_chance() {
        let running = FakeNode::new("n2").answer("systemctl is-active --quiet k3s", "");
        let ((), said) = ensure_k3s(&running, Deadline::after(Duration::from_secs(5)))
            .await
            .unwrap();
        assert!(said.starts_with("k3s active after"), "{said}");
        assert_eq!(
            running.commands().len(),
            1,
            "one session waits, not one per look"
        );
        assert!(running.commands()[0].contains("sleep 0.05"));
        // Never active: started by pairctl after the grace, then the deadline says so.
        let stuck = FakeNode::new("n2")
            .exits("systemctl is-active --quiet k3s", 1, "")
            .answer(START_K3S, "");
        let e = ensure_k3s(&stuck, Deadline::after(Duration::from_millis(600)))
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "k3s.service did not become active");
        assert!(
            stuck.commands().iter().any(|c| c == START_K3S),
            "{:?}",
            stuck.commands()
        );
    }

    #[tokio::test]
    async fn the_replica_sync_says_where_both_stand_and_a_failure_says_why() {
        let synced = FakeNode::new("n2").answer(
            "litestream sync -json -wait",
            "{\n  \"db_path\": \"/db/state.db\",\n  \"txid\": 130,\n  \"replica_txid\": 130,\n  \"duration_ms\": 11\n}\n",
        );
        let deadline = Deadline::after(Duration::from_secs(5));
        let ((), said) = sync_replica(&synced, "/db/state.db", deadline)
            .await
            .unwrap();
        assert_eq!(
            said,
            "litestream synced txid 82 to the replica (at 82) in 11 ms"
        );
        assert!(synced.commands()[0].ends_with("/db/state.db 2>&1"));
        // Not listening (yet, or at all): asked again until the deadline, then the last reason,
        // clean of the node's control characters.
        let down = FakeNode::new("n2").exits(
            "litestream sync",
            1,
            "Error: failed to connect to control socket: dial unix /var/run/litestream.sock: \x1b[2Jno such file",
        );
        let fails = |node, ms| async move {
            sync_replica(
                node,
                "/db/state.db",
                Deadline::after(Duration::from_millis(ms)),
            )
            .await
            .unwrap_err()
        };
        let e = fails(&down, 350).await;
        assert!(down.commands().len() >= 2, "{:?}", down.commands());
        assert_eq!(
            e.to_string(),
            "litestream sync did not succeed: failed to connect to control socket: dial unix /var/run/litestream.sock: [2Jno such file"
        );
        let garbled = FakeNode::new("n2").answer("litestream sync", "txid: 130\n");
        let e = fails(&garbled, 150).await;
        assert!(
            e.to_string()
                .contains("not litestream sync's JSON answer: txid: 130"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn the_fence_goes_through_stdin_and_is_read_back() {
        let node = FakeNode::new("n1")
            .answer(&format!("cat > {FENCE_FILE}.new"), "")
            .answer(&format!("test -e {FENCE_FILE}"), "fenced\n");
        let deadline = Deadline::after(Duration::from_secs(5));
        let ((), said) = fence(&node, &marker(), deadline).await.unwrap();
        assert_eq!(said, format!("{FENCE_FILE} written"));
        let input = String::from_utf8(node.input_of(FENCE_FILE).unwrap()).unwrap();
        assert_eq!(input, fence_text(&marker()));
        assert!(
            !node.commands()[0].contains("failover to n2"),
            "the reason is data on stdin, never part of the command"
        );
        assert!(fence_present(&node, Duration::from_secs(1)).await.unwrap());
    }

    #[tokio::test]
    async fn a_fence_the_node_refuses_is_a_failure_with_its_reason() {
        let node = FakeNode::new("n1").exits(FENCE_FILE, 1, "mkdir: Read-only file system");
        let e = fence(&node, &marker(), Deadline::after(Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert_eq!(e, "exit status 1: mkdir: Read-only file system");
        let absent = FakeNode::new("n1").answer(FENCE_FILE, "");
        assert!(!fence_present(&absent, Duration::from_secs(1))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn the_history_says_which_node_it_could_not_read_and_what_it_skipped() {
        let cfg = crate::config::parse(
            std::path::Path::new("/x/pairctl.toml"),
            "name = \"lab\"\nvip = \"10.213.57.10\"\n[[node]]\nname = \"n1\"\naddress = \"10.213.57.11\"\n[[node]]\nname = \"n2\"\naddress = \"10.213.57.12\"\n",
        )
        .unwrap();
        let record = |time: &str| HistoryRecord {
            time: time.into(),
            kind: "swap".into(),
            from: Some("n1".into()),
            to: Some("n2".into()),
            outcome: "verified".into(),
            duration_ms: 2300,
            by: "ops@host".into(),
            detail: None,
            galera_seqno: None,
        };
        let line = |r: &HistoryRecord| serde_json::to_string(r).unwrap();
        let (a, b) = (
            record("2026-12-01T10:00:00Z"),
            record("2026-12-01T11:00:00Z"),
        );
        let link =
            |i: usize, session: Result<FakeNode, crate::transport::ssh::ConnectError>| NodeLink {
                node: cfg.nodes[i].clone(),
                session: session.map(std::sync::Arc::new),
                connect_time: Duration::ZERO,
            };
        // Both hold both records (n1 one garbled line besides); n2's read times out.
        let n1 = FakeNode::new("n1").answer(
            HISTORY_FILE,
            &format!("{}\n{{\"time\": 3\n\n{}\n", line(&b), line(&a)),
        );
        let n2 = FakeNode::new("n2").errs(HISTORY_FILE, ProbeError::timed_out("after 5.0 s"));
        let history =
            read_history(&[link(0, Ok(n1)), link(1, Ok(n2))], Duration::from_secs(5)).await;
        assert_eq!(
            history.records,
            vec![a.clone(), b.clone()],
            "merged, oldest first"
        );
        assert_eq!(history.unread.len(), 2, "{:?}", history.unread);
        assert!(
            history.unread[0].starts_with("n1: 1 line(s) of"),
            "{:?}",
            history.unread
        );
        assert!(history.unread[1].starts_with("n2: ") && history.unread[1].contains("after 5.0 s"));
        // A node that is not connected says why, with its hint; the other's records stand.
        let refused = crate::transport::ssh::ConnectError {
            message: "n2: SSH to 10.213.57.12:22 refused".into(),
            hint: Some("is sshd running on n2?".into()),
            kind: crate::transport::ssh::ConnectErrorKind::Unreachable,
            silent: false,
        };
        let n1 = FakeNode::new("n1").answer(HISTORY_FILE, &line(&a));
        let history = read_history(
            &[link(0, Ok(n1)), link(1, Err(refused))],
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(history.records, vec![a]);
        assert_eq!(
            history.unread,
            vec!["n2: SSH to 10.213.57.12:22 refused\nHint: is sshd running on n2?".to_string()]
        );
    }

    #[tokio::test]
    async fn the_peer_down_note_names_the_old_active_quoted() {
        let node = FakeNode::new("n2").answer(PEER_DOWN_FILE, "");
        let deadline = Deadline::after(Duration::from_secs(5));
        let ((), said) = note_peer_down(&node, "10.213.57.11", "n1", deadline)
            .await
            .unwrap();
        assert_eq!(said, format!("{PEER_DOWN_FILE}: n1 (10.213.57.11)"));
        let cmd = &node.commands()[0];
        assert!(
            cmd.ends_with(&format!(
                "printf '%s\\n' 10.213.57.11 n1 > {PEER_DOWN_FILE}"
            )),
            "{cmd}"
        );
    }

    #[tokio::test]
    async fn releasing_the_vip_is_observed_not_assumed() {
        let without = include_str!("../../fixtures/ip/without-vip.json");
        let node = FakeNode::new("n1").answer("ip -j addr", without);
        let deadline = Deadline::after(Duration::from_secs(5));
        let ((), said) = wait_vip(&node, "10.213.57.10", false, deadline)
            .await
            .unwrap();
        assert!(said.starts_with("released 10.213.57.10 after"), "{said}");
        let unreachable = FakeNode::new("n1").errs(
            "ip -j addr",
            crate::transport::ProbeError::timed_out("n1: `ip -j addr` timed out after 1.0 s"),
        );
        let short = Deadline::after(Duration::from_millis(300));
        let e = wait_vip(&unreachable, "10.213.57.10", false, short)
            .await
            .unwrap_err();
        assert_eq!(e, "n1 still holds 10.213.57.10 at the deadline");
    }
}
