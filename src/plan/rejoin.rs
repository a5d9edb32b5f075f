//! rejoin: a fenced (or superseded) node back as a healthy standby. First a divergence report,
//! gathered before anything changes: the returning node's Galera position against the
//! active's (IST when it shares the history and the active's gcache still holds the gap, SST
//! otherwise), the writes it would discard (committed after the fork recorded by the failover),
//! Gluster's heal backlog and split-brain files, its superseded k3s state. Then, with the
//! fence kept until the last step (a failure leaves the node out, never half in): role standby
//! at the active's epoch, its database joins the active's component, Gluster heals, the old k3s
//! state is archived, the fence goes, vote 1, keepalived running; verified by the status
//! machinery with the same active.

use super::actions::{self, run_ok, StepResult};
use super::swap::check_ok;
use super::{describe, record_with};
use super::{plan, Executor, Interrupt, OperationReport, Outcome, Precondition};
use crate::config::Config;
use crate::model::{CheckId, ClusterReport, Verdict};
use crate::probe::collect::NodeLink;
use crate::probe::galera::{self, ClusterStatus, GaleraFacts, LocalState};
use crate::probe::node::{shell_quote, FENCE_FILE};
use crate::render::progress::Reporter;
use crate::transport::batch;
use crate::transport::https::HttpsClient;
use crate::transport::ssh::SshSession;
use crate::transport::Deadline;
use crate::transport::{Exec, ProbeError};
use serde::Serialize;
use std::time::{Duration, Instant};

pub const SCHEMA: &str = "pairctl.rejoin/1";
pub const GRASTATE: &str = "/var/lib/mysql/grastate.dat";
pub const DATADIR: &str = "/var/lib/mysql";
/// Where superseded state goes (archived, never deleted).
pub const ARCHIVE_DIR: &str = "/var/lib/pairctl/archive";
const CALL: Duration = Duration::from_secs(10);
/// At most this many split-brain file names are kept per volume (a node's text is bounded).
const NAMES_KEPT: usize = 20;

/// A Galera position: the history (state UUID) and the last committed seqno in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Position {
    pub uuid: String,
    /// None: unknown (a crash left -1 and recovery found nothing).
    pub seqno: Option<u64>,
    /// Where it was read: `running` (the live server), `grastate` (the saved state of a
    /// cleanly stopped server), `recovered` (`galera_recovery` after a crash).
    pub source: String,
}

/// How the returning node's database catches up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Transfer {
    /// Already a Synced member of the active's component: nothing to copy.
    None,
    /// Incremental: the write sets it lacks, from the active's gcache.
    Ist { writesets: u64 },
    /// A full copy of the active's data directory.
    Sst { bytes: Option<u64>, reason: String },
}

impl Transfer {
    pub fn describe(&self, donor: &str) -> String {
        match self {
            Transfer::None => format!(
                "no transfer: already a Synced member of {donor}'s component (it caught up by IST/SST when it came back)"
            ),
            Transfer::Ist { writesets } => {
                format!("IST (incremental): {writesets} write set(s) from {donor}'s gcache")
            }
            Transfer::Sst { bytes, reason } => format!(
                "SST (full copy) of {}: {reason}",
                bytes
                    .map(|b| format!("{donor}'s {}", human_bytes(b)))
                    .unwrap_or_else(|| format!("{donor}'s data directory"))
            ),
        }
    }
}

fn human_bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// The Galera half of the divergence report.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GaleraDivergence {
    pub returning: Option<Position>,
    pub active: Option<Position>,
    /// The lowest seqno the active's gcache holds.
    pub cached_downto: Option<u64>,
    /// The active's last seqno when it took over (recorded by the failover): the fork point.
    pub fork_seqno: Option<u64>,
    /// Transactions the returning node committed after the fork: lost by a rejoin.
    pub divergent: u64,
    pub transfer: Option<Transfer>,
    pub detail: String,
}

/// One Gluster volume as the active sees it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VolumeDivergence {
    pub volume: String,
    pub pending: Option<u64>,
    pub split_brain: Vec<String>,
    pub error: Option<String>,
}

/// The returning node's k3s state database, superseded by the active's.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct K3sState {
    pub path: String,
    pub bytes: Option<u64>,
    pub archive: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Divergence {
    pub node: String,
    pub active: String,
    pub galera: GaleraDivergence,
    pub gluster: Vec<VolumeDivergence>,
    pub k3s_state: Option<K3sState>,
}

/// `pairctl rejoin -o json`: the operation record and the divergence report.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RejoinReport {
    #[serde(flatten)]
    pub operation: OperationReport,
    pub divergence: Option<Divergence>,
}

// ------------------------------------------------------------------- pure: parse and decide

/// `grastate.dat`: `uuid:` and `seqno:` lines (seqno -1 after a crash).
pub fn parse_grastate(text: &str) -> Option<(String, Option<u64>)> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    let uuid = field("uuid:")?;
    let seqno = field("seqno:").and_then(|s| s.parse::<i64>().ok());
    Some((uuid, seqno.and_then(|s| u64::try_from(s).ok())))
}

/// `galera_recovery`'s answer: `--wsrep_start_position=UUID:SEQNO`.
pub fn parse_recovered(text: &str) -> Option<(String, Option<u64>)> {
    let pos = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix("--wsrep_start_position="))?;
    let (uuid, seqno) = pos.rsplit_once(':')?;
    let seqno = seqno
        .parse::<i64>()
        .ok()
        .and_then(|s| u64::try_from(s).ok());
    Some((uuid.to_string(), seqno))
}

/// `gluster volume heal V info split-brain` (text): the entries listed under each brick.
pub fn parse_split_brain(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("Brick ")
                && !l.starts_with("Status:")
                && !l.starts_with("Number of entries")
        })
        .map(|l| l.trim_end_matches(" - Is in split-brain").to_string())
        .collect();
    names.sort();
    names.dedup();
    names.truncate(NAMES_KEPT);
    names
}

/// `gluster volume heal V info` (text): the highest `Number of entries` of any brick.
pub fn parse_pending(text: &str) -> Option<u64> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("Number of entries:"))
        .filter_map(|n| n.trim().parse::<u64>().ok())
        .max()
}

/// Writes committed by the returning node that the active never had. With the fork point
/// (the active's seqno when the failover made it take over), everything the returning node
/// has past the fork and the configuration change that dropped its peer (which takes a seqno
/// of its own on the side that kept quorum); without it, whatever is past the active's own
/// position.
pub fn divergent_writes(returning: u64, active: u64, fork: Option<u64>) -> u64 {
    match fork {
        Some(f) => returning.saturating_sub(f + 1),
        None => returning.saturating_sub(active),
    }
}

/// IST or SST, from the two positions and the donor's gcache.
pub fn choose_transfer(
    returning: &Position,
    active: &Position,
    cached_downto: Option<u64>,
    divergent: u64,
    datadir_bytes: Option<u64>,
) -> Transfer {
    let sst = |reason: String| Transfer::Sst {
        bytes: datadir_bytes,
        reason,
    };
    if returning.uuid != active.uuid {
        return sst(format!(
            "another history (state UUID {} against {})",
            short(&returning.uuid),
            short(&active.uuid)
        ));
    }
    let (Some(r), Some(a)) = (returning.seqno, active.seqno) else {
        return sst("its position is unknown".into());
    };
    if divergent > 0 {
        return sst(format!("its {divergent} divergent write(s) are discarded"));
    }
    match cached_downto {
        Some(c) if c <= r + 1 || r >= a => Transfer::Ist {
            writesets: a.saturating_sub(r),
        },
        Some(c) => sst(format!(
            "the donor's gcache starts at seqno {c}, after its seqno {r}"
        )),
        None => sst("the donor's gcache range is unknown".into()),
    }
}

fn short(u: &str) -> &str {
    u.get(..8).unwrap_or(u)
}

// ------------------------------------------------------------------------ gather (remote)

/// What the returning node shows of its database, before anything changes.
#[derive(Debug, Clone, Default)]
pub struct Returning {
    pub mariadb_active: bool,
    pub live: Option<GaleraFacts>,
    pub saved: Option<(String, Option<u64>)>,
    pub k3s_state_bytes: Option<u64>,
}

fn returning_command(state_path: &str) -> String {
    let state = shell_quote(state_path);
    format!(
        "{}; systemctl is-active mariadb; {}; head -c 4096 {GRASTATE} 2>/dev/null; {}; \
if systemctl is-active -q mariadb; then timeout 5 mariadb -N -B -e \"SHOW GLOBAL STATUS LIKE 'wsrep%'\" 2>/dev/null | head -c 65536; fi; \
{}; stat -c %s {state} 2>/dev/null; true",
        batch::mark("mariadb"),
        batch::mark("grastate"),
        batch::mark("wsrep"),
        batch::mark("k3s-state"),
    )
}

fn parse_returning(text: &str) -> std::result::Result<Returning, batch::MissingSection> {
    let s = batch::Sections::parse(text);
    Ok(Returning {
        mariadb_active: s.get("mariadb")?.trim() == "active",
        live: galera::parse_wsrep_text(s.get("wsrep")?).ok(),
        saved: parse_grastate(s.get("grastate")?),
        k3s_state_bytes: s.get("k3s-state")?.trim().parse().ok(),
    })
}

/// The returning node's position: the live server's when it runs, else the saved state, else
/// what `galera_recovery` finds after a crash (read-only: InnoDB's recovery, no join).
async fn returning_position(
    s: &SshSession,
    r: &Returning,
    deadline: Deadline,
) -> std::result::Result<Position, ProbeError> {
    if let Some(g) = &r.live {
        return Ok(Position {
            uuid: g.cluster_state_uuid.clone(),
            seqno: g.last_committed,
            source: "running".into(),
        });
    }
    if let Some((uuid, Some(seqno))) = &r.saved {
        return Ok(Position {
            uuid: uuid.clone(),
            seqno: Some(*seqno),
            source: "grastate".into(),
        });
    }
    if r.mariadb_active {
        return Err(ProbeError::failed(
            "mariadb runs but its wsrep status cannot be read",
        ));
    }
    let out = run_ok(
        s,
        "timeout 60 galera_recovery 2>/dev/null | tail -n 1",
        deadline.cap(Duration::from_secs(65)),
    )
    .await?;
    let (uuid, seqno) = parse_recovered(&out).ok_or_else(|| {
        ProbeError::parse(format!(
            "galera_recovery gave no position: {}",
            out.trim().chars().take(200).collect::<String>()
        ))
    })?;
    Ok(Position {
        uuid,
        seqno,
        source: "recovered".into(),
    })
}

/// The fork point: the seqno the last failover away from `node` recorded for the survivor.
async fn fork_seqno(links: &[NodeLink], node: &str, active: &str) -> Option<u64> {
    let history = actions::read_history(links, CALL).await;
    for problem in &history.unread {
        tracing::warn!("history: {problem}");
    }
    history
        .records
        .into_iter()
        .rev()
        .find(|r| {
            r.kind == "failover"
                && r.from.as_deref() == Some(node)
                && r.to.as_deref() == Some(active)
        })
        .and_then(|r| r.galera_seqno)
}

async fn gluster_on(s: &SshSession, volume: &str) -> VolumeDivergence {
    let v = shell_quote(volume);
    let cmd = format!(
        "{}; timeout -k 1 10 gluster --mode=script volume heal {v} info 2>&1 | head -c 65536; {}; \
timeout -k 1 10 gluster --mode=script volume heal {v} info split-brain 2>&1 | head -c 65536",
        batch::mark("heal"),
        batch::mark("split-brain"),
    );
    match s.exec(&cmd, CALL + Duration::from_secs(12)).await {
        Ok(out) => {
            let text = out.stdout_str();
            let s = batch::Sections::parse(&text);
            // Without its marker (the shell did not get that far) the whole answer is read as
            // heal info, so that its error shows what came back.
            let heal = s.optional("heal").unwrap_or(text.as_str());
            // Without its section the split-brain list is unknown, not empty.
            let split = s.get("split-brain");
            let pending = parse_pending(heal);
            let error = match (pending, &split) {
                (None, _) => Some(format!(
                    "heal info: {}",
                    heal.trim().chars().take(200).collect::<String>()
                )),
                (_, Err(e)) => Some(format!("heal info split-brain: {e}")),
                _ => None,
            };
            VolumeDivergence {
                volume: volume.to_string(),
                pending,
                split_brain: split.map(parse_split_brain).unwrap_or_default(),
                error,
            }
        }
        Err(e) => VolumeDivergence {
            volume: volume.to_string(),
            pending: None,
            split_brain: Vec::new(),
            error: Some(e.into()),
        },
    }
}

/// What the preflight found, beyond the status report.
pub struct Findings {
    pub divergence: Divergence,
    pub returning: Returning,
    pub errors: Vec<(&'static str, String)>,
    /// The status round found the replica on the returning node fresh (litestream on the
    /// active already replicates to it).
    pub replica_ok: bool,
    /// The active's database is Primary and Synced (or donating), and what it said.
    pub active_primary: (bool, String),
}

/// `joined_since`: the node fenced itself on finding the newer epoch, so its database joined
/// the active's component after the fork and its history since is the active's (the fork
/// point no longer measures anything; its position is compared with the active's).
pub async fn gather(
    cfg: &Config,
    links: &[NodeLink],
    node: &str,
    active: &str,
    joined_since: bool,
    deadline: Deadline,
) -> Findings {
    let mut errors = Vec::new();
    let (Some(rs), Some(as_)) = (
        crate::probe::collect::session_of(links, node),
        crate::probe::collect::session_of(links, active),
    ) else {
        errors.push((
            "returning-node",
            format!("{node} or {active} is not connected"),
        ));
        return Findings {
            divergence: empty_divergence(node, active),
            returning: Returning::default(),
            errors,
            replica_ok: false,
            active_primary: (false, "not connected".into()),
        };
    };
    let back = async {
        let text = rs
            .exec(&returning_command(&cfg.k3s.state_path), deadline.cap(CALL))
            .await
            .map(|o| o.stdout_str());
        let r =
            text.and_then(|t| parse_returning(&t).map_err(|e| ProbeError::parse(e.to_string())));
        let pos = match &r {
            Ok(r) => returning_position(rs, r, deadline).await,
            Err(e) => Err(e.clone()),
        };
        (r.unwrap_or_default(), pos)
    };
    let donor = async {
        let g = actions::galera_local(as_, deadline.cap(CALL)).await;
        let du = run_ok(
            as_,
            &format!("du -sb {DATADIR} | cut -f1"),
            deadline.cap(CALL),
        )
        .await
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok());
        (g, du)
    };
    let volumes = futures::future::join_all(cfg.gluster.volumes.iter().map(|v| gluster_on(as_, v)));
    let ((r, pos), (g, du), gluster, fork) =
        tokio::join!(back, donor, volumes, fork_seqno(links, node, active));
    let active_pos = g.as_ref().ok().map(|g| Position {
        uuid: g.cluster_state_uuid.clone(),
        seqno: g.last_committed,
        source: "running".into(),
    });
    let active_primary = match &g {
        Ok(g) => (
            g.cluster_status == ClusterStatus::Primary
                && matches!(
                    g.local_state_comment,
                    Some(LocalState::Synced | LocalState::Donor)
                ),
            format!(
                "Galera {}, {}, size {}",
                g.cluster_status.as_str(),
                g.local_state_comment
                    .as_ref()
                    .map(|s| s.as_str())
                    .unwrap_or("no state"),
                g.cluster_size
            ),
        ),
        Err(e) => (false, format!("Galera: {e}")),
    };
    let fork = if joined_since { None } else { fork };
    let returning_pos = match pos {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(("galera-position", format!("{node}: {e}")));
            None
        }
    };
    let galera = galera_divergence(
        node,
        active,
        &r,
        returning_pos,
        active_pos,
        g.as_ref().ok().and_then(|g| g.cached_downto),
        fork,
        du,
    );
    let k3s_state = r.k3s_state_bytes.map(|bytes| K3sState {
        path: cfg.k3s.state_path.clone(),
        bytes: Some(bytes),
        archive: format!("{ARCHIVE_DIR}/k3s-state-<time>/"),
    });
    Findings {
        divergence: Divergence {
            node: node.to_string(),
            active: active.to_string(),
            galera,
            gluster,
            k3s_state,
        },
        returning: r,
        errors,
        replica_ok: false,
        active_primary,
    }
}

fn empty_divergence(node: &str, active: &str) -> Divergence {
    Divergence {
        node: node.into(),
        active: active.into(),
        galera: GaleraDivergence {
            returning: None,
            active: None,
            cached_downto: None,
            fork_seqno: None,
            divergent: 0,
            transfer: None,
            detail: String::new(),
        },
        gluster: Vec::new(),
        k3s_state: None,
    }
}

/// A running server already Synced in the active's component needs nothing copied.
fn is_member(live: Option<&GaleraFacts>, active_uuid: &str) -> bool {
    live.is_some_and(|g| {
        g.cluster_status == ClusterStatus::Primary
            && g.cluster_size >= 2
            && g.local_state_comment == Some(LocalState::Synced)
            && g.cluster_state_uuid == active_uuid
    })
}

#[allow(clippy::too_many_arguments)]
fn galera_divergence(
    node: &str,
    active: &str,
    r: &Returning,
    returning: Option<Position>,
    active_pos: Option<Position>,
    cached_downto: Option<u64>,
    fork: Option<u64>,
    du: Option<u64>,
) -> GaleraDivergence {
    let (transfer, divergent, detail) = match (&returning, &active_pos) {
        (Some(_), Some(ap)) if is_member(r.live.as_ref(), &ap.uuid) => (
            Some(Transfer::None),
            0,
            format!(
                "{node} is a Synced member of {active}'s component at seqno {}",
                ap.seqno.map(|s| s.to_string()).unwrap_or("?".into())
            ),
        ),
        (Some(rp), Some(ap)) => {
            let divergent = match (rp.seqno, ap.seqno) {
                (Some(r), Some(a)) if rp.uuid == ap.uuid => divergent_writes(r, a, fork),
                _ => 0,
            };
            let t = choose_transfer(rp, ap, cached_downto, divergent, du);
            let at = |p: &Position| {
                format!(
                    "{}:{} ({})",
                    short(&p.uuid),
                    p.seqno.map(|s| s.to_string()).unwrap_or("?".into()),
                    p.source
                )
            };
            let fork_text = match fork {
                Some(f) => format!("fork at seqno {f} (the failover's record)"),
                None => "compared with the active's position (no fork point: no failover record, or it joined the active since)".into(),
            };
            (
                Some(t),
                divergent,
                format!(
                    "{node} at {}, {active} at {}; {active}'s gcache from seqno {}; {fork_text}",
                    at(rp),
                    at(ap),
                    cached_downto.map(|c| c.to_string()).unwrap_or("?".into())
                ),
            )
        }
        _ => (None, 0, "the positions could not be compared".into()),
    };
    GaleraDivergence {
        returning,
        active: active_pos,
        cached_downto,
        fork_seqno: fork,
        divergent,
        transfer,
        detail,
    }
}

// ---------------------------------------------------------------- preflight and the plan

/// What the operator asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub node: Option<String>,
    pub discard_divergent: bool,
    /// Overrides the maintenance freeze and an unreadable heal backlog (and takes the lock).
    pub force: bool,
    pub dry_run: bool,
}

/// Why there is no node to rejoin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("no single active node: rejoin needs a healthy active to join (see `pairctl status`; `pairctl failover` first)")]
    NoActive,
    #[error("{node} is not a node of cluster {cluster} ({known})")]
    UnknownNode {
        node: String,
        cluster: String,
        known: String,
    },
    #[error("{0} is the active: only the other node can rejoin")]
    IsActive(String),
    #[error("no node besides the active {0}")]
    NoOther(String),
}

/// The node to bring back and the active it rejoins: NODE, or the one that is not active.
pub fn target(
    cfg: &Config,
    report: &ClusterReport,
    asked: Option<&str>,
) -> std::result::Result<(String, String), TargetError> {
    let active = report.active.clone().ok_or(TargetError::NoActive)?;
    let node = match asked {
        Some(n) if cfg.node(n).is_none() => {
            return Err(TargetError::UnknownNode {
                node: n.to_string(),
                cluster: cfg.name.clone(),
                known: cfg
                    .nodes
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
        Some(n) if n == active => return Err(TargetError::IsActive(n.to_string())),
        Some(n) => n.to_string(),
        None => match cfg.nodes.iter().find(|n| n.name != active) {
            Some(n) => n.name.clone(),
            None => return Err(TargetError::NoOther(active)),
        },
    };
    Ok((node, active))
}

/// Is there anything to do: a standby at the active's epoch, unfenced, a Synced member.
pub fn already_standby(report: &ClusterReport, d: &Divergence) -> bool {
    let (Some(n), Some(a)) = (report.node(&d.node), report.node(&d.active)) else {
        return false;
    };
    n.fence.is_none()
        && n.role == crate::model::Role::Standby
        && n.epoch == a.epoch
        && d.galera.transfer == Some(Transfer::None)
}

pub fn preflight(report: &ClusterReport, f: &Findings, o: &Options) -> Vec<Precondition> {
    let d = &f.divergence;
    let (node, active) = (d.node.as_str(), d.active.as_str());
    let mut maintenance = super::maintenance_precondition(report);
    maintenance.forced = o.force && !maintenance.ok;
    let mut pre = vec![maintenance];
    let (ok, detail) = check_ok(report, CheckId::Ssh, node);
    pre.push(Precondition::new(
        "returning-node",
        ok,
        format!("{node}: {detail}"),
        false,
    ));
    let (vip_ok, vip) = check_ok(report, CheckId::Vip, "cluster");
    let (db_ok, db) = &f.active_primary;
    pre.push(Precondition::new(
        "active-healthy",
        vip_ok && *db_ok,
        format!("{active}: {vip}; {db}"),
        false,
    ));
    let passive = report.node(node).is_some_and(|n| {
        n.role != crate::model::Role::Active && n.role != crate::model::Role::Unknown
    });
    pre.push(Precondition::new(
        "returning-passive",
        passive,
        match report.node(node) {
            Some(n) if passive => format!("{node} is {}: no VIP, no k3s", role_name(n.role)),
            Some(n) => format!(
                "{node} is {}: it holds the VIP or runs k3s",
                role_name(n.role)
            ),
            None => format!("{node} is not in the report"),
        },
        false,
    ));
    for (name, e) in &f.errors {
        pre.push(Precondition::new(name, false, e.clone(), false));
    }
    if let Some(t) = &d.galera.transfer {
        pre.push(Precondition::new(
            "galera-catch-up",
            true,
            format!("{}: {}", t.describe(active), d.galera.detail),
            false,
        ));
    }
    let mut p = Precondition::new(
        "divergent-writes",
        d.galera.divergent == 0,
        if d.galera.divergent == 0 {
            format!("{node} has no write {active} lacks")
        } else {
            format!(
                "{node} committed {} transaction(s) after the fork that {active} never got (it ran as primary after the split): a rejoin discards them (--discard-divergent)",
                d.galera.divergent
            )
        },
        true,
    );
    p.forced = o.discard_divergent && !p.ok;
    pre.push(p);
    pre.extend(gluster_preconditions(d, o.force));
    pre.push(Precondition::new(
        "k3s-state",
        true,
        match &d.k3s_state {
            Some(k) => format!(
                "{node}'s {} ({}) is superseded by {active}'s: archived to {}, {node} holds {active}'s replica",
                k.path,
                k.bytes.map(human_bytes).unwrap_or_default(),
                k.archive
            ),
            None => format!("{node} holds no k3s state of its own"),
        },
        false,
    ));
    pre
}

fn role_name(r: crate::model::Role) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn gluster_preconditions(d: &Divergence, force: bool) -> Vec<Precondition> {
    let split: Vec<String> = d
        .gluster
        .iter()
        .filter(|v| !v.split_brain.is_empty())
        .map(|v| format!("{}: {}", v.volume, v.split_brain.join(", ")))
        .collect();
    let mut out = vec![Precondition::new(
        "gluster-split-brain",
        split.is_empty(),
        if split.is_empty() {
            "no file in split-brain".to_string()
        } else {
            format!(
                "files in split-brain (resolve them first, e.g. `gluster volume heal VOLUME split-brain latest-mtime FILE`): {}",
                split.join("; ")
            )
        },
        false,
    )];
    let unreadable: Vec<String> = d
        .gluster
        .iter()
        .filter_map(|v| v.error.as_ref().map(|e| format!("{}: {e}", v.volume)))
        .collect();
    let pending: Vec<String> = d
        .gluster
        .iter()
        .filter_map(|v| {
            v.pending
                .map(|p| format!("{}: {p} entr(ies) pending heal", v.volume))
        })
        .collect();
    let mut p = Precondition::new(
        "gluster-heal",
        unreadable.is_empty(),
        if unreadable.is_empty() {
            format!("{}; healed before the fence is cleared", pending.join(", "))
        } else {
            unreadable.join("; ")
        },
        true,
    );
    p.forced = force && !p.ok;
    out.push(p);
    out
}

fn steps(cfg: &Config, d: &Divergence, epoch: u64) -> Vec<super::PlanStep> {
    let (n, a) = (d.node.as_str(), d.active.as_str());
    let mut s: Vec<(&str, String)> =
        vec![(n, format!("role standby, epoch {epoch} (still fenced)"))];
    match &d.galera.transfer {
        Some(Transfer::None) | None => s.push((
            n,
            "database: already Synced in the active's component".into(),
        )),
        Some(t) => {
            s.push((
                n,
                "stop mariadb (when it runs outside the component)".into(),
            ));
            if matches!(t, Transfer::Sst { .. }) {
                s.push((n, format!("remove {GRASTATE}: a full state transfer")));
            }
            s.push((
                n,
                format!(
                    "start mariadb: joins {a}'s component by {}, wait Synced",
                    match t {
                        Transfer::Sst { .. } => "SST",
                        _ => "IST",
                    }
                ),
            ));
        }
    }
    s.push((
        a,
        format!(
            "Gluster: heal {}, wait until nothing is pending",
            cfg.gluster.volumes.join(", ")
        ),
    ));
    if d.k3s_state.is_some() {
        s.push((
            n,
            format!("archive the superseded k3s state to {ARCHIVE_DIR}/"),
        ));
    }
    s.push((n, format!("clear the fence ({FENCE_FILE})")));
    s.push((n, "Galera vote 1 (pc.weight)".into()));
    s.push((
        n,
        "keepalived running, held out of the election as the standby".into(),
    ));
    s.push((a, format!("litestream replicates the k3s state to {n}")));
    s.push((
        "cluster",
        format!("verify: healthy, {a} still active, {n} standby"),
    ));
    s.push(("both", "record the rejoin in the history".into()));
    plan(&s)
}

/// The active's epoch: the rejoined node takes part in the same arrangement.
fn active_epoch(report: &ClusterReport, active: &str) -> u64 {
    report
        .node(active)
        .and_then(|n| n.epoch)
        .unwrap_or_else(|| super::next_epoch(report).saturating_sub(1))
}

pub fn prepare(
    cfg: &Config,
    report: ClusterReport,
    findings: &Findings,
    o: &Options,
) -> OperationReport {
    let d = &findings.divergence;
    let preflight = preflight(&report, findings, o);
    let blocked: Vec<String> = preflight
        .iter()
        .filter(|p| p.blocks())
        .map(|p| format!("{} ({})", p.name, p.detail))
        .collect();
    let nothing = already_standby(&report, d);
    let epoch = active_epoch(&report, &d.active);
    let (outcome, summary) = if !blocked.is_empty() {
        (
            Outcome::Refused,
            format!("refused, nothing changed: {}", blocked.join("; ")),
        )
    } else if nothing {
        (
            Outcome::Verified,
            format!(
                "{} is already a standby of {} at epoch {epoch}: nothing to do",
                d.node, d.active
            ),
        )
    } else if o.dry_run {
        (
            Outcome::Planned,
            format!(
                "dry run: nothing changed; {} would catch up by {}",
                d.node,
                d.galera
                    .transfer
                    .as_ref()
                    .map(|t| t.describe(&d.active))
                    .unwrap_or_default()
            ),
        )
    } else {
        (Outcome::Planned, String::new())
    };
    OperationReport {
        schema: SCHEMA,
        kind: "rejoin",
        cluster: cfg.name.clone(),
        from: Some(d.active.clone()),
        to: Some(d.node.clone()),
        dry_run: o.dry_run,
        preflight,
        plan: if nothing {
            Vec::new()
        } else {
            steps(cfg, d, epoch)
        },
        steps: Vec::new(),
        outcome,
        summary,
        status: Some(report),
        elapsed_ms: 0,
    }
}

/// A refusal before the preflight could look (no active, an unknown node).
pub fn refused(cfg: &Config, name: &'static str, detail: String) -> OperationReport {
    OperationReport {
        schema: SCHEMA,
        kind: "rejoin",
        cluster: cfg.name.clone(),
        from: None,
        to: None,
        dry_run: false,
        preflight: vec![Precondition::new(name, false, detail.clone(), false)],
        plan: Vec::new(),
        steps: Vec::new(),
        outcome: Outcome::Refused,
        summary: format!("refused, nothing changed: {detail}"),
        status: None,
        elapsed_ms: 0,
    }
}

// ------------------------------------------------------------------------------ act

struct Ctx<'a> {
    cfg: &'a Config,
    node: &'a str,
    active: &'a str,
    s: &'a SshSession,
    donor: &'a SshSession,
    deadline: Deadline,
}

#[allow(clippy::too_many_arguments)]
pub async fn execute(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    mut op: OperationReport,
    findings: &Findings,
    reporter: &dyn Reporter,
    interrupt: Interrupt,
) -> OperationReport {
    let started = Instant::now();
    let d = &findings.divergence;
    let mut ex = Executor::with_interrupt(reporter, interrupt);
    let epoch = op
        .status
        .as_ref()
        .map(|r| active_epoch(r, &d.active))
        .unwrap_or(1);
    let sessions = (
        crate::probe::collect::session_of(links, &d.node),
        crate::probe::collect::session_of(links, &d.active),
    );
    let (outcome, summary, status) = match sessions {
        (Some(s), Some(donor)) => {
            let c = Ctx {
                cfg,
                node: &d.node,
                active: &d.active,
                s,
                donor,
                deadline,
            };
            act(&c, links, https, findings, epoch, &mut ex).await
        }
        _ => (
            Outcome::Failed,
            "a node is not connected; nothing changed".into(),
            None,
        ),
    };
    let summary = match ex.interrupt.during() {
        Some(step) => format!(
            "interrupted (Ctrl-C during `{step}`): the step in flight was finished; {summary}"
        ),
        None => summary,
    };
    op.finish(ex.records, outcome, summary, status, started);
    record_with(links, &op, "rejoin", None).await;
    op
}

type Acted = (Outcome, String, Option<ClusterReport>);

/// Until the fence is cleared the node stays out whatever happens, so a failure before that
/// leaves it fenced (acted, not converged: its role or database may have changed).
async fn act(
    c: &Ctx<'_>,
    links: &[NodeLink],
    https: &HttpsClient,
    f: &Findings,
    epoch: u64,
    ex: &mut Executor<'_>,
) -> Acted {
    let (n, a) = (c.node, c.active);
    let stuck = |e: String| {
        (
            Outcome::NotConverged,
            format!("{e}; {n} is still fenced (no VIP, no k3s): fix it and run `pairctl rejoin {n}` again"),
            None,
        )
    };
    if let Err(e) = ex
        .step(
            n,
            "role standby",
            actions::set_role(c.s, "standby", epoch, c.deadline),
        )
        .await
    {
        return (Outcome::Failed, format!("nothing changed: {e}"), None);
    }
    if ex.interrupt.during().is_some() {
        return stuck("stopped by Ctrl-C before its database was touched".into());
    }
    match &f.divergence.galera.transfer {
        Some(Transfer::None) | None => {}
        Some(t) => {
            let sst = matches!(t, Transfer::Sst { .. });
            if let Err(e) = ex
                .step(
                    n,
                    if sst {
                        "database: SST"
                    } else {
                        "database: IST"
                    },
                    join(c, f.returning.mariadb_active, sst),
                )
                .await
            {
                return stuck(format!("its database did not join {a}'s component: {e}"));
            }
        }
    }
    if let Err(e) = ex.step(a, "Gluster healed", gluster_healed(c)).await {
        return stuck(e.to_string());
    }
    if f.divergence.k3s_state.is_some() {
        if let Err(e) = ex.step(n, "archive the k3s state", archive_k3s(c)).await {
            return stuck(e.to_string());
        }
    }
    if let Err(e) = ex
        .step(n, "clear the fence", clear_fence(c.s, c.deadline))
        .await
    {
        return stuck(e.to_string());
    }
    let mut problems = Vec::new();
    if let Err(e) = ex
        .step(n, "Galera vote", actions::set_weight(c.s, 1, c.deadline))
        .await
    {
        problems.push(format!("{n}: {e}"));
    }
    if let Err(e) = ex
        .step(n, "keepalived running", keepalived(c.s, c.deadline))
        .await
    {
        problems.push(format!("{n}: {e}"));
    }
    if let Err(e) = ex
        .step(
            a,
            "litestream replica target",
            replica_target(c, f.replica_ok),
        )
        .await
    {
        problems.push(format!("{a}: {e}"));
    }
    let (node, active) = (n.to_string(), a.to_string());
    let (verified, last) =
        actions::verify_step(ex, c.cfg, links, https, c.deadline, &problems, |r| {
            r.verdict == Verdict::Healthy
                && r.active.as_deref() == Some(active.as_str())
                && r.node(&node)
                    .is_some_and(|x| x.role == crate::model::Role::Standby)
        })
        .await;
    match verified {
        Ok(()) => (
            Outcome::Verified,
            format!(
                "{n} is a healthy standby of {a} at epoch {epoch}; {}",
                last.as_ref().map(describe).unwrap_or_default()
            ),
            last,
        ),
        Err(e) => (
            Outcome::NotConverged,
            format!("acted but did not converge: {e}"),
            last,
        ),
    }
}

/// Stops the server when it runs outside the active's component, forces a full copy when
/// asked (no saved state), starts it (it joins by IST or SST) and waits until it is Synced in
/// the active's history; the detail is what its journal says it received.
async fn join(c: &Ctx<'_>, running: bool, sst: bool) -> StepResult<()> {
    if running {
        run_ok(
            c.s,
            "timeout 120 systemctl stop mariadb",
            c.deadline.cap(Duration::from_secs(125)),
        )
        .await
        .map_err(|e| e.context("cannot stop mariadb"))?;
    }
    if sst {
        run_ok(c.s, &format!("rm -f {GRASTATE}"), c.deadline.cap(CALL)).await?;
    }
    let since = run_ok(c.s, "date +%s", c.deadline.cap(CALL)).await?;
    let since = since.trim().to_string();
    let secs = c
        .deadline
        .remaining()
        .saturating_sub(Duration::from_secs(20))
        .as_secs()
        .max(30);
    run_ok(
        c.s,
        &format!("timeout {secs} systemctl start mariadb"),
        c.deadline.cap(Duration::from_secs(secs + 5)),
    )
    .await
    .map_err(|e| e.context("mariadb did not start"))?;
    let donor = actions::galera_local(c.donor, c.deadline.cap(CALL)).await?;
    let wait_synced = |limit: Duration| {
        let uuid = donor.cluster_state_uuid.clone();
        async move {
            super::poll(limit, actions::POLL * 3, || async {
                actions::galera_local(c.s, c.deadline.cap(CALL))
                    .await
                    .ok()
                    .filter(|g| is_member(Some(g), &uuid))
            })
            .await
        }
    };
    let mut restarted = String::new();
    let mut synced = wait_synced(c.deadline.cap(Duration::from_secs(90))).await;
    if synced.is_none() {
        // Galera can fail a join and leave the server up but out ("Receiving IST failed, node
        // restart required" was seen here after an SST): one restart joins from the new position.
        let failure = join_failure(c, &since).await;
        if failure.contains("restart required") {
            run_ok(
                c.s,
                &format!("timeout {secs} systemctl restart mariadb"),
                c.deadline.cap(Duration::from_secs(secs + 5)),
            )
            .await
            .map_err(|e| e.map_message(|e| format!("{failure}; the restart failed: {e}")))?;
            restarted = format!(" (restarted once after: {failure})");
            synced = wait_synced(c.deadline.remaining()).await;
        }
        if synced.is_none() {
            return Err(ProbeError::timed_out(format!(
                "not Synced in {}'s component at the deadline{restarted}: {}",
                c.active,
                join_failure(c, &since).await
            )));
        }
    }
    let synced = synced.ok_or_else(|| ProbeError::timed_out("not Synced"))?;
    let journal = run_ok(
        c.s,
        &format!("journalctl -u mariadb --since @{} --no-pager -o cat 2>/dev/null | grep -E 'completed on joiner|IST received|SST received|Receiving IST: ' | tail -n 8 | head -c 4000; true", shell_quote(&since)),
        c.deadline.cap(CALL),
    )
    .await
    .unwrap_or_default();
    Ok((
        (),
        format!(
            "Synced at seqno {}, size {}; {}{restarted}",
            synced
                .last_committed
                .map(|s| s.to_string())
                .unwrap_or("?".into()),
            synced.cluster_size,
            transfer_seen(&journal)
        ),
    ))
}

/// The joiner's last errors since `since` (its journal), for a join that did not complete.
async fn join_failure(c: &Ctx<'_>, since: &str) -> String {
    let text = run_ok(
        c.s,
        &format!(
            "journalctl -u mariadb --since @{} --no-pager -o cat 2>/dev/null | grep -E '\\[ERROR\\]|Failed to JOIN' | grep -v 'Set options returned' | tail -n 3 | head -c 1500; true",
            shell_quote(since)
        ),
        c.deadline.cap(CALL),
    )
    .await
    .unwrap_or_default();
    match text.trim() {
        "" => "no error in its journal".into(),
        t => t.lines().collect::<Vec<_>>().join(" / "),
    }
}

/// What the joiner's journal says it received. The SST script runs on every join and says
/// which it did (`rsync IST completed on joiner` when it was bypassed for an IST, `… SST
/// completed on joiner` after a full copy); Galera logs the IST's range.
pub fn transfer_seen(journal: &str) -> String {
    let full = journal.contains("SST completed on joiner");
    let bypassed = journal.contains("IST completed on joiner");
    let ist = journal.lines().find_map(|l| {
        l.split_once("Receiving IST: ")
            .map(|(_, r)| r.trim().to_string())
    });
    match (full, ist) {
        (true, Some(i)) => format!("SST received (full copy), then IST: {i}"),
        (true, None) => "SST received (full copy)".into(),
        (false, Some(i)) => format!("IST received: {i}"),
        (false, None) if bypassed || journal.contains("IST received") => {
            "IST received (nothing to apply)".into()
        }
        (false, None) if journal.contains("SST received") => "SST received (full copy)".into(),
        (false, None) => "no state transfer in its journal".into(),
    }
}

async fn gluster_healed(c: &Ctx<'_>) -> StepResult<()> {
    run_ok(
        c.s,
        "systemctl is-active -q glusterd || systemctl start glusterd",
        c.deadline.cap(Duration::from_secs(30)),
    )
    .await
    .map_err(|e| e.context(format!("glusterd on {}", c.node)))?;
    let started = Instant::now();
    let limit = Deadline::after(c.deadline.cap(Duration::from_secs(90)));
    let mut healed = Vec::new();
    for v in &c.cfg.gluster.volumes {
        let q = shell_quote(v);
        let _ = c
            .donor
            .exec(
                &format!(
                    "timeout -k 1 10 gluster --mode=script volume heal {q} >/dev/null 2>&1; true"
                ),
                limit.cap(Duration::from_secs(12)),
            )
            .await;
        let done = super::poll(limit.remaining(), Duration::from_secs(1), || async {
            let g = gluster_on(c.donor, v).await;
            (g.pending == Some(0)).then_some(())
        })
        .await;
        if done.is_none() {
            let g = gluster_on(c.donor, v).await;
            return Err(ProbeError::timed_out(format!(
                "{v}: {} at the deadline",
                match (g.pending, g.error) {
                    (Some(p), _) => format!("{p} entr(ies) still pending heal"),
                    (None, Some(e)) => e,
                    (None, None) => "heal info unreadable".into(),
                }
            )));
        }
        healed.push(v.clone());
    }
    Ok((
        (),
        format!(
            "{}: nothing pending after {}",
            healed.join(", "),
            crate::format::human_duration(started.elapsed())
        ),
    ))
}

/// Moves the node's superseded k3s state (the database, its WAL, litestream's local state)
/// into a new archive directory; never while k3s runs there.
async fn archive_k3s(c: &Ctx<'_>) -> StepResult<()> {
    let st = shell_quote(&c.cfg.k3s.state_path);
    let script = format!(
        "set -e; st={st}; [ -e \"$st\" ] || {{ echo none; exit 0; }}; \
if systemctl is-active -q k3s; then echo 'k3s runs on this node' >&2; exit 1; fi; \
d={ARCHIVE_DIR}/k3s-state-$(date -u +%Y%m%dT%H%M%SZ); mkdir -p \"$d\"; \
for f in \"$st\" \"$st-wal\" \"$st-shm\" \"$(dirname \"$st\")/.$(basename \"$st\")-litestream\"; do if [ -e \"$f\" ]; then mv -f \"$f\" \"$d/\"; fi; done; sync; echo \"$d\""
    );
    let out = run_ok(c.s, &script, c.deadline.cap(CALL)).await?;
    let out = out.trim();
    Ok((
        (),
        if out == "none" {
            "no k3s state to archive".into()
        } else {
            format!("moved to {out}")
        },
    ))
}

async fn clear_fence(s: &SshSession, deadline: Deadline) -> StepResult<()> {
    run_ok(
        s,
        &format!(
            "rm -f {FENCE_FILE} && sync && {}",
            crate::probe::node::SYNC_ELIGIBLE
        ),
        deadline.cap(CALL),
    )
    .await?;
    if actions::fence_present(s, deadline.cap(CALL)).await? {
        return Err(ProbeError::failed(format!("{FENCE_FILE} is still there")));
    }
    Ok(((), format!("{FENCE_FILE} removed")))
}

async fn keepalived(s: &SshSession, deadline: Deadline) -> StepResult<()> {
    run_ok(
        s,
        "systemctl is-active -q keepalived || systemctl start keepalived",
        deadline.cap(Duration::from_secs(20)),
    )
    .await?;
    let (_, seen) = actions::wait_vrrp(
        s,
        &["FAULT", "BACKUP"],
        Deadline::after(deadline.cap(Duration::from_secs(10))),
    )
    .await?;
    Ok((
        (),
        format!("{seen} (the standby is held out of the election)"),
    ))
}

/// litestream on the active replicates to the returning node's replica directory; when the
/// status round did not find that replica fresh, a restart of litestream there starts a new
/// replica on it (`k3s-state prepare`); k3s keeps running. A failover's note that the
/// returning node was down (`actions::PEER_DOWN_FILE`) is no obstacle: k3s-state trusts it
/// only while that node does not answer, and it answers now.
async fn replica_target(c: &Ctx<'_>, fresh: bool) -> StepResult<()> {
    if fresh {
        return Ok((
            (),
            format!("{}'s replica on {} is fresh already", c.active, c.node),
        ));
    }
    run_ok(
        c.donor,
        "systemctl restart litestream",
        c.deadline.cap(Duration::from_secs(30)),
    )
    .await?;
    Ok((
        (),
        format!(
            "litestream restarted on {}: a new replica on {}",
            c.active, c.node
        ),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const UUID: &str = "7ca8a0e0-ed8a-11f1-a550-56298318d00a";

    fn pos(uuid: &str, seqno: u64) -> Position {
        Position {
            uuid: uuid.into(),
            seqno: Some(seqno),
            source: "grastate".into(),
        }
    }

    #[test]
    fn grastate_and_recovery_positions() {
        let clean = format!("# GALERA saved state\nversion: 2.1\nuuid:    {UUID}\nseqno:   20\nsafe_to_bootstrap: 0\n");
        assert_eq!(parse_grastate(&clean), Some((UUID.into(), Some(20))));
        let crashed = clean.replace("seqno:   20", "seqno:   -1");
        assert_eq!(parse_grastate(&crashed), Some((UUID.into(), None)));
        assert_eq!(parse_grastate("garbage"), None);
        assert_eq!(
            parse_recovered(&format!("--wsrep_start_position={UUID}:1234\n")),
            Some((UUID.into(), Some(1234)))
        );
        assert_eq!(
            parse_recovered(&format!("--wsrep_start_position={UUID}:-1")),
            Some((UUID.into(), None))
        );
        assert_eq!(parse_recovered("WSREP: Failed to recover position"), None);
    }

    #[test]
    fn ist_when_the_gcache_holds_the_gap_sst_otherwise() {
        let active = pos(UUID, 100);
        assert_eq!(
            choose_transfer(&pos(UUID, 90), &active, Some(50), 0, Some(1 << 20)),
            Transfer::Ist { writesets: 10 }
        );
        // The first missing seqno (91) is the oldest the gcache holds: still incremental.
        assert_eq!(
            choose_transfer(&pos(UUID, 90), &active, Some(91), 0, None),
            Transfer::Ist { writesets: 10 }
        );
        let Transfer::Sst { reason, bytes } =
            choose_transfer(&pos(UUID, 90), &active, Some(92), 0, Some(7))
        else {
            panic!("a gap the gcache no longer holds needs a full copy")
        };
        assert!(reason.contains("gcache starts at seqno 92"), "{reason}");
        assert_eq!(bytes, Some(7));
        let other = "11111111-2222-3333-4444-555555555555";
        assert!(matches!(
            choose_transfer(&pos(other, 90), &active, Some(1), 0, None),
            Transfer::Sst { .. }
        ));
        assert!(matches!(
            choose_transfer(&pos(UUID, 95), &active, Some(1), 3, None),
            Transfer::Sst { .. }
        ));
    }

    #[test]
    fn divergence_counts_writes_past_the_fork_and_its_view_change() {
        // Powered off: it has nothing the survivor lacks.
        assert_eq!(divergent_writes(17, 21, Some(17)), 0);
        // Kept quorum in a partition: seqno 18 is the view change that dropped its peer.
        assert_eq!(divergent_writes(18, 30, Some(17)), 0);
        assert_eq!(divergent_writes(25, 30, Some(17)), 7);
        // No fork point: only what is past the active's own position shows.
        assert_eq!(divergent_writes(25, 30, None), 0);
        assert_eq!(divergent_writes(35, 30, None), 5);
    }

    #[test]
    fn gluster_heal_and_split_brain_listings() {
        let info = "Brick n1:/srv/bricks/shared\n/sb-test - Is in split-brain\n/a/b\nStatus: Connected\nNumber of entries: 2\n\nBrick n2:/srv/bricks/shared\n/sb-test - Is in split-brain\nStatus: Connected\nNumber of entries: 1\n";
        assert_eq!(parse_pending(info), Some(2));
        assert_eq!(parse_pending("Volume shared does not exist"), None);
        let split = "Brick n1:/srv/bricks/shared\n/sb-test\nStatus: Connected\nNumber of entries in split-brain: 1\n\nBrick n2:/srv/bricks/shared\n/sb-test\n<gfid:7e461ce5-9a13-458e-af82-80b04cc3ad48>\nStatus: Connected\nNumber of entries in split-brain: 2\n";
        assert_eq!(
            parse_split_brain(split),
            vec![
                "/sb-test".to_string(),
                "<gfid:7e461ce5-9a13-458e-af82-80b04cc3ad48>".to_string()
            ]
        );
        let many: String = (0..100).map(|i| format!("/f{i}\n")).collect();
        assert_eq!(parse_split_brain(&many).len(), NAMES_KEPT);
    }

    #[test]
    fn the_journal_says_which_transfer_happened() {
        // An IST: the SST script ran, bypassed (lines from the lab's journal).
        let ist = "WSREP_SST: [INFO] rsync IST completed on joiner (20261201 14:23:20.137)\nWSREP: SST received\nWSREP: SST received: d5634cd6:2871\nWSREP: Receiving IST: 148 writesets, seqnos 2872-3019\nWSREP: IST received: d5634cd6:3019";
        assert_eq!(
            transfer_seen(ist),
            "IST received: 148 writesets, seqnos 2872-3019"
        );
        let sst = "WSREP_SST: [INFO] rsync SST completed on joiner (20261201 14:01:02.000)\nWSREP: SST received\nWSREP: SST received: x:13";
        assert_eq!(transfer_seen(sst), "SST received (full copy)");
        assert_eq!(transfer_seen(""), "no state transfer in its journal");
    }

    #[test]
    fn the_returning_node_is_read_in_one_command() {
        let text = crate::transport::batch::printed(&[
            ("mariadb", "inactive\n"),
            ("grastate", &format!("uuid: {UUID}\nseqno: 20\n")),
            ("wsrep", ""),
            ("k3s-state", "4096\n"),
        ]);
        let r = parse_returning(&text).unwrap();
        assert!(!r.mariadb_active && r.live.is_none());
        assert_eq!(r.saved, Some((UUID.into(), Some(20))));
        assert_eq!(r.k3s_state_bytes, Some(4096));
        let cut = text.split("@@pairctl:k3s-state").next().unwrap();
        assert_eq!(
            parse_returning(cut).unwrap_err().to_string(),
            "no k3s-state section in the output"
        );
    }
}
