//! `pairctl maintenance on|off`: record (or end) a maintenance on both nodes, verified by
//! reading it back before the command returns, and keep it in the history.

use super::Context;
use crate::cli::maintenance::MaintenanceAction;
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::maintenance::{
    self, Maintenance, MaintenanceReport, NodeResult, Outcome, Scope, REPORT_SCHEMA,
};
use crate::plan::actions::{self, HistoryRecord};
use crate::probe::collect::{connect_all, NodeLink};
use crate::render::Format;
use crate::render::{self, out};
use crate::transport::https::HttpsClient;
use crate::transport::Exec;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Each node's write and read-back: small, local work.
const NODE_LIMIT: Duration = Duration::from_secs(8);

pub enum Action {
    On {
        node: Option<String>,
        reason: String,
        duration: Duration,
        force: bool,
        dry_run: bool,
    },
    Off {
        dry_run: bool,
    },
}

impl From<MaintenanceAction> for Action {
    fn from(a: MaintenanceAction) -> Self {
        match a {
            MaintenanceAction::On(a) => Action::On {
                node: a.node,
                reason: a.reason,
                duration: a.duration,
                force: a.force,
                dry_run: a.dry_run,
            },
            MaintenanceAction::Off(a) => Action::Off { dry_run: a.dry_run },
        }
    }
}

pub async fn run(ctx: &Context, action: Action) -> Result<u8> {
    let cfg = ctx.load_config()?;
    let report = match action {
        Action::On {
            node,
            reason,
            duration,
            force,
            dry_run,
        } => {
            let node = match node {
                Some(n) if cfg.node(&n).is_none() => {
                    return Err(Error::usage(format!(
                        "--node {n}: no such node in cluster {} (nodes: {})",
                        cfg.name,
                        node_names(&cfg)
                    )))
                }
                n => n,
            };
            let reason =
                maintenance::validate_reason(&reason).map_err(|e| Error::usage(e.to_string()))?;
            let duration = maintenance::validate_duration(duration)
                .map_err(|e| Error::usage(e.to_string()))?;
            on(ctx, &cfg, node, reason, duration, force, dry_run).await?
        }
        Action::Off { dry_run } => off(ctx, &cfg, dry_run).await?,
    };
    match ctx.style.format {
        Format::Json => out(&render::json(&report)),
        _ => out(&render::maintenance::result(&report, &ctx.style)),
    }
    Ok(report.outcome.exit_code())
}

fn node_names(cfg: &Config) -> String {
    cfg.nodes
        .iter()
        .map(|n| n.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn reachable(links: &[NodeLink]) -> Result<()> {
    if links.iter().all(|l| l.session().is_none()) {
        return Err(Error::new(
            ErrorKind::Unknown,
            "no node reachable: nothing recorded or ended",
        ));
    }
    Ok(())
}

fn unreachable_results(links: &[NodeLink]) -> Vec<NodeResult> {
    links
        .iter()
        .filter_map(|l| {
            l.session
                .as_ref()
                .err()
                .map(|e| NodeResult::new(&l.node.name, "unreachable", e.message.clone()))
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn on(
    ctx: &Context,
    cfg: &Config,
    node: Option<String>,
    reason: String,
    duration: Duration,
    force: bool,
    dry_run: bool,
) -> Result<MaintenanceReport> {
    let started = Instant::now();
    let deadline = ctx.deadline();
    let links = connect_all(cfg, deadline).await;
    super::status::warn_connect_problems(ctx, &links);
    reachable(&links)?;
    let https = HttpsClient::new(cfg)?;
    let status = crate::round::report(cfg, &links, &https, deadline, started).await;
    let record = Maintenance::new(
        node.clone(),
        reason,
        actions::operator(),
        now_epoch(),
        duration,
    );
    let mut report = planned(cfg, "on", Some(record.clone()));
    if let Some(n) = &node {
        if status.active.as_deref() == Some(n.as_str()) {
            let meaning = format!(
                "{n} is the active: it holds the VIP and runs the services, and they stop \
                 with it (no automatic takeover moves them while it is in maintenance)"
            );
            if !force {
                report.outcome = Outcome::Refused;
                report.summary = format!(
                    "refused: {meaning}; move them first with `pairctl swap`, or pass --force"
                );
                return Ok(report);
            }
            report.warnings.push(format!("--force: {meaning}"));
        }
    }
    for l in links.iter().filter(|l| l.session().is_none()) {
        report.warnings.push(format!(
            "{} does not answer: the record is kept on the other node only",
            l.node.name
        ));
    }
    if dry_run {
        report.nodes = links
            .iter()
            .filter(|l| l.session().is_some())
            .map(|l| {
                NodeResult::new(
                    &l.node.name,
                    "would-record",
                    format!("{}, expiry timer armed", maintenance::RECORD_FILE),
                )
            })
            .chain(unreachable_results(&links))
            .collect();
        report.summary = format!("dry run: would record {}", record.describe());
        return Ok(report);
    }
    if !super::confirm(
        ctx,
        "maintenance on",
        &format!("{} on cluster {}: proceed?", record.describe(), cfg.name),
    )? {
        report.outcome = Outcome::Refused;
        report.summary = "not confirmed: nothing changed".into();
        return Ok(report);
    }
    let json = serde_json::to_string(&record).unwrap_or_default();
    let command = maintenance::set_command(duration.as_secs(), record.until_epoch);
    let results = record_everywhere(&links, &command, &json, &record).await;
    report.nodes = results
        .into_iter()
        .chain(unreachable_results(&links))
        .collect();
    let recorded = report
        .nodes
        .iter()
        .filter(|n| n.result == "recorded")
        .count();
    let failed = report.nodes.iter().any(|n| n.result == "failed");
    report.outcome = match (recorded, failed) {
        (0, _) => Outcome::Failed,
        (_, true) => Outcome::Partial,
        _ => Outcome::Done,
    };
    report.summary = match report.outcome {
        Outcome::Done => format!("in force: {}", record.describe()),
        Outcome::Partial => format!("recorded on some nodes only: {}", record.describe()),
        _ => "recorded nowhere: nothing changed".into(),
    };
    let scope = match record.scope {
        Scope::Cluster => None,
        Scope::Node => record.node.clone(),
    };
    if recorded > 0 {
        history(
            &links,
            "maintenance-on",
            scope,
            format!("until {}: {}", record.until, record.reason),
            started,
        )
        .await;
    }
    Ok(report)
}

async fn off(ctx: &Context, cfg: &Config, dry_run: bool) -> Result<MaintenanceReport> {
    let started = Instant::now();
    let deadline = ctx.deadline();
    let links = connect_all(cfg, deadline).await;
    super::status::warn_connect_problems(ctx, &links);
    reachable(&links)?;
    let mut report = planned(cfg, "off", None);
    // What each node holds now: the newest record decides what is ended where.
    let held = records(&links).await;
    let newest = maintenance::newest(held.iter().flat_map(|(_, m)| m.clone()));
    for l in links.iter().filter(|l| l.session().is_none()) {
        report.warnings.push(format!(
            "{} does not answer: the ended record on the others outvotes its copy when it returns",
            l.node.name
        ));
    }
    // A live maintenance is ended everywhere; an ended one is copied to the nodes that still
    // hold a live copy of it (they were away when it ended).
    let (ended, targets): (Option<Maintenance>, Vec<&NodeLink>) = match &newest {
        Some(m) if m.ended.is_none() => (
            Some(m.ended_at(now_epoch())),
            links.iter().filter(|l| l.session().is_some()).collect(),
        ),
        Some(m) => (
            Some(m.clone()),
            held.iter()
                .filter(|(_, r)| r.as_ref().is_some_and(|r| r.ended.is_none()))
                .map(|(l, _)| *l)
                .collect(),
        ),
        None => (None, Vec::new()),
    };
    let stale = newest.as_ref().is_some_and(|m| m.ended.is_some());
    report.maintenance = newest.filter(|_| !targets.is_empty());
    let Some(ended) = ended.filter(|_| !targets.is_empty()) else {
        report.outcome = if dry_run {
            Outcome::Planned
        } else {
            Outcome::Done
        };
        report.summary = "no maintenance in force".into();
        report.nodes = links
            .iter()
            .filter(|l| l.session().is_some())
            .map(|l| NodeResult::new(&l.node.name, "none", String::new()))
            .chain(unreachable_results(&links))
            .collect();
        return Ok(report);
    };
    let names: Vec<&str> = targets.iter().map(|l| l.node.name.as_str()).collect();
    if dry_run {
        report.summary = match (stale, report.maintenance.as_ref()) {
            (true, _) => format!(
                "dry run: would clear the stale copy on {} (ended elsewhere)",
                names.join(", ")
            ),
            (false, Some(m)) => format!("dry run: would end {}", m.describe()),
            (false, None) => "dry run: no maintenance in force".into(),
        };
        return Ok(report);
    }
    // Every target gets the ended record, also one that had none: a node that was away and
    // returns with its live copy is outvoted by the newer end.
    let command = maintenance::end_command(ended.until_epoch);
    let json = serde_json::to_string(&ended).unwrap_or_default();
    let results = end_on(&targets, &command, &json).await;
    let untouched = links
        .iter()
        .filter(|l| l.session().is_some() && !names.contains(&l.node.name.as_str()))
        .map(|l| NodeResult::new(&l.node.name, "none", "holds the ended record already"));
    let results: Vec<NodeResult> = results.into_iter().chain(untouched).collect();
    report.nodes = results
        .into_iter()
        .chain(unreachable_results(&links))
        .collect();
    let failed = report.nodes.iter().any(|n| n.result == "failed");
    let ended = report.nodes.iter().any(|n| n.result == "ended");
    report.outcome = if failed {
        Outcome::Partial
    } else {
        Outcome::Done
    };
    report.summary = match (failed, ended, stale) {
        (true, _, _) => "not ended on every node that answers".into(),
        (false, true, true) => format!(
            "cleared the stale copy on {} (the maintenance had ended elsewhere)",
            names.join(", ")
        ),
        (false, true, false) => "maintenance ended".into(),
        (false, false, _) => "no maintenance was in force".into(),
    };
    if ended {
        let scope = report.maintenance.as_ref().and_then(|m| m.node.clone());
        history(&links, "maintenance-off", scope, "ended".into(), started).await;
    }
    Ok(report)
}

/// The report of `action` before anything is done.
fn planned(cfg: &Config, action: &'static str, record: Option<Maintenance>) -> MaintenanceReport {
    MaintenanceReport {
        schema: REPORT_SCHEMA,
        cluster: cfg.name.clone(),
        action,
        outcome: Outcome::Planned,
        maintenance: record,
        nodes: Vec::new(),
        warnings: Vec::new(),
        summary: String::new(),
    }
}

/// Writes the record on every connected node and reads it back: what each node holds.
async fn record_everywhere(
    links: &[NodeLink],
    command: &str,
    json: &str,
    record: &Maintenance,
) -> Vec<NodeResult> {
    let writes = links.iter().filter_map(|l| l.session().map(|s| (l, s)));
    futures::future::join_all(writes.map(|(l, s)| async move {
        let read_back = match s
            .exec_with_input(command, Some(json.as_bytes()), NODE_LIMIT)
            .await
        {
            Ok(o) if o.success() => {
                maintenance::parse_probe(&o.stdout_str()).map_err(|e| e.to_string())
            }
            Ok(o) => Err(format!(
                "exit status {}: {}",
                o.status.map_or("none".into(), |c| c.to_string()),
                o.stderr_str().trim()
            )),
            Err(e) => Err(e.into()),
        };
        match read_back {
            Ok(Some(m)) if m == *record => NodeResult::new(
                &l.node.name,
                "recorded",
                format!("read back; the node ends it at {}", m.until),
            ),
            Ok(other) => NodeResult::new(
                &l.node.name,
                "failed",
                format!("read back {other:?} instead of the record written"),
            ),
            Err(e) => NodeResult::new(&l.node.name, "failed", e),
        }
    }))
    .await
}

/// Writes the ended record on each target node.
async fn end_on(targets: &[&NodeLink], command: &str, json: &str) -> Vec<NodeResult> {
    futures::future::join_all(targets.iter().filter_map(|l| {
        l.session().map(|s| async move {
            match s
                .exec_with_input(command, Some(json.as_bytes()), NODE_LIMIT)
                .await
            {
                Ok(o) if o.success() => NodeResult::new(&l.node.name, "ended", String::new()),
                Ok(o) => NodeResult::new(&l.node.name, "failed", o.stderr_str().trim().to_string()),
                Err(e) => NodeResult::new(&l.node.name, "failed", e),
            }
        })
    }))
    .await
}

fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Each reachable node's record (ended or not; an unreadable one counts as in force, as in
/// `status`, so that `off` ends it).
async fn records(links: &[NodeLink]) -> Vec<(&NodeLink, Option<Maintenance>)> {
    let probe = maintenance::probe_command();
    futures::future::join_all(
        links
            .iter()
            .filter_map(|l| l.session().map(|s| (l, s)))
            .map(|(l, s)| {
                let probe = &probe;
                async move {
                    let m = s.exec(probe, NODE_LIMIT).await.ok().and_then(|o| {
                        maintenance::parse_probe(&o.stdout_str())
                            .unwrap_or_else(|e| Some(Maintenance::unreadable(&e.to_string())))
                    });
                    (l, m)
                }
            }),
    )
    .await
}

/// The maintenance in force by the records the reachable nodes hold.
pub async fn in_force(links: &[NodeLink]) -> Option<Maintenance> {
    maintenance::newest_in_force(records(links).await.into_iter().filter_map(|(_, m)| m))
}

/// deploy refuses during a cluster maintenance unless forced; a node maintenance is what a
/// deploy onto that node is for.
pub async fn refuse_deploy(links: &[NodeLink], force: bool) -> Result<Option<String>> {
    match in_force(links).await {
        Some(m) if m.scope == Scope::Cluster && !force => Err(Error::refused(format!(
            "deploy refused: {}; nothing changed",
            m.describe()
        ))
        .hint("end it with `pairctl maintenance off`, or pass --force")),
        Some(m) => Ok(Some(format!("note: {}", m.describe()))),
        None => Ok(None),
    }
}

async fn history(
    links: &[NodeLink],
    kind: &str,
    node: Option<String>,
    detail: String,
    started: Instant,
) {
    let record = HistoryRecord {
        time: actions::now_rfc3339(),
        kind: kind.into(),
        from: None,
        to: node,
        outcome: kind.trim_start_matches("maintenance-").into(),
        duration_ms: started.elapsed().as_millis() as u64,
        by: actions::operator(),
        detail: Some(detail),
        galera_seqno: None,
    };
    let _ = actions::record_history(links, &record, NODE_LIMIT).await;
}
