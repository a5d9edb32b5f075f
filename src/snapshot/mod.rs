//! Support bundles (`pairctl snapshot`): collect from both nodes at once over the command's SSH
//! connections, redact on the stream, and write one `.tar.zst` with a manifest.
//!
//! `collectors` says what to run, `redact` removes secrets, `archive` spools and writes the
//! bundle, `manifest` describes it. This file runs them: per node a bounded number of items
//! in flight, each with its own timeout; a node that is down costs its items only.

pub mod archive;
pub mod collectors;
pub mod manifest;
pub mod redact;

use crate::config::Config;
use crate::model::{ClusterReport, Role};
use crate::probe::collect::NodeLink;
use crate::render::progress::{Event, Reporter};
use crate::transport::ssh::{Output, SshSession};
use crate::transport::{Deadline, ProbeErrorKind};
use archive::{ArchiveWriter, Body, Entry, ItemSink, OutputPaths, SpoolDir, TempArchive};
use collectors::{Discovery, ItemSpec};
use manifest::{Item, Manifest, NodeEntry, Outcome};
use redact::Rules;
use std::collections::VecDeque;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Items in flight per node. The SSH transport allows 8 channels per connection; the status
/// report taken at the same time needs some of them.
pub const PER_NODE: usize = 6;
/// Remote commands get this much longer than our own deadline, then `timeout(1)` kills them
/// on the node (a channel we dropped does not stop the process).
const REMOTE_GRACE: Duration = Duration::from_secs(5);
/// What one item may send: generous (a week of a busy journal), but a node that streams
/// without end fills neither the disk nor the bundle.
const ITEM_OUTPUT_LIMIT: u64 = 1 << 30;
/// An item is not started with less time than this left before the deadline.
const MIN_ITEM_TIME: Duration = Duration::from_millis(500);

/// The log window, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: SystemTime,
    pub until: SystemTime,
}

impl Window {
    pub fn since_epoch(&self) -> u64 {
        epoch(self.since)
    }
    pub fn until_epoch(&self) -> u64 {
        epoch(self.until)
    }
}

fn epoch(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `2h`, `90m`, `1d` (back from `now`), or a UTC time: `2024-05-01`, `2024-05-01 10:00`,
/// `2024-05-01T10:00:00Z`, `@1714557600`.
pub fn parse_time(s: &str, now: SystemTime) -> Result<SystemTime, TimeError> {
    let s = s.trim();
    if let Ok(d) = humantime::parse_duration(s) {
        return now
            .checked_sub(d)
            .ok_or_else(|| TimeError::BeforeEpoch(s.to_string()));
    }
    if let Some(secs) = s.strip_prefix('@') {
        return secs
            .parse::<u64>()
            .map(|n| SystemTime::UNIX_EPOCH + Duration::from_secs(n))
            .map_err(|_| TimeError::BadSeconds(s.to_string()));
    }
    let full = match s.len() {
        10 => format!("{s}T00:00:00Z"),
        16 => format!("{s}:00Z"),
        _ => s.to_string(),
    };
    humantime::parse_rfc3339_weak(&full).map_err(|_| TimeError::Unreadable(s.to_string()))
}

/// A `--since`/`--until` that names no time (the text given).
#[derive(Debug, thiserror::Error)]
pub enum TimeError {
    #[error("`{0}` goes back before 1970")]
    BeforeEpoch(String),
    #[error("`{0}` is not @<seconds since 1970>")]
    BadSeconds(String),
    #[error(
        "`{0}` is neither a duration (2h, 30m, 1d) nor a UTC time \
(2024-05-01, 2024-05-01 10:00, 2024-05-01T10:00:00Z, @1714557600)"
    )]
    Unreadable(String),
}

pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// What a run does: plain options, no clap types.
#[derive(Debug, Clone)]
pub struct Options {
    /// File, directory, or None for the current directory.
    pub output: Option<PathBuf>,
    pub window: Window,
    /// Collect from this node only.
    pub node: Option<String>,
    pub redact: bool,
    /// Collect until then; items are cut off at it (and recorded as timed out).
    pub deadline: Deadline,
}

/// A written bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub path: PathBuf,
    pub sha256_file: PathBuf,
    pub sha256: String,
    pub bytes: u64,
    pub manifest: Manifest,
}

/// What went wrong with the bundle itself (as opposed to an item): cannot write the output.
#[derive(Debug)]
pub struct BundleError(pub String);

impl std::fmt::Display for BundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn io_error(what: &str) -> impl Fn(std::io::Error) -> BundleError + '_ {
    move |e| BundleError(format!("{what}: {e}"))
}

/// The redaction rules for a configuration: the patterns plus its own secrets.
pub fn rules_for(cfg: &Config) -> Arc<Rules> {
    let mut secrets: Vec<String> = Vec::new();
    if let Some(p) = &cfg.galera.password {
        secrets.push(p.expose().to_string());
    }
    if let Some(t) = &cfg.ingress.token {
        secrets.push(t.expose().to_string());
    }
    for file in cfg.secret_files() {
        if let Ok(text) = std::fs::read_to_string(&file) {
            secrets.push(text.trim_end_matches(['\n', '\r']).to_string());
        }
    }
    Rules::new(secrets)
}

/// Collects and writes the bundle. `status` yields the status report taken on the same
/// connections at the same time (it becomes `cluster/status.json` and gives each node's role).
pub async fn create(
    cfg: &Config,
    opts: &Options,
    links: &[NodeLink],
    witness: Option<&NodeLink>,
    status: impl Future<Output = ClusterReport>,
    progress: Arc<dyn Reporter>,
) -> Result<Bundle, BundleError> {
    let started = Instant::now();
    let created = SystemTime::now();
    let rules = opts.redact.then(|| rules_for(cfg));
    let open = OpenBundle::open(opts, cfg, created)?;
    let run = Run {
        rules: rules.clone(),
        spool: open.spool.clone(),
        writer: open.writer.clone(),
        window: opts.window,
        deadline: opts.deadline,
        cfg: Arc::new(cfg.clone()),
        started,
    };
    let selected = select_nodes(cfg, opts, links, witness);
    let nodes = futures::future::join_all(
        selected
            .iter()
            .map(|(link, items)| collect_node(&run, link, items.clone(), progress.clone())),
    );
    let ((report, status_item), nodes) = tokio::join!(status_item(&run, status), nodes);
    // Every item task has ended: the writer is ours alone again.
    drop(run);

    let mut items = vec![match status_item {
        Ok(item) => item,
        Err(e) => return Err(writer_failure(open.writer, e).await),
    }];
    let mut node_entries = Vec::new();
    for ((link, _), collected) in selected.iter().zip(nodes) {
        let role = node_role(&report, witness, link);
        let collected = match collected {
            Ok(c) => c,
            Err(e) => return Err(writer_failure(open.writer, e).await),
        };
        node_entries.push(node_entry(link, role, rules.as_ref()));
        items.extend(collected.into_iter().map(|c| c.into_item(role)));
    }
    items.sort_by(|a, b| (&a.node, &a.collector, &a.path).cmp(&(&b.node, &b.collector, &b.path)));
    let partial = node_entries.iter().any(|n| !n.reachable)
        || items.iter().any(|i| i.outcome.makes_partial());
    let manifest = Manifest {
        schema: manifest::SCHEMA.into(),
        tool: "pairctl".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        cluster: cfg.name.clone(),
        window: manifest::Window {
            since: rfc3339(opts.window.since),
            until: rfc3339(opts.window.until),
        },
        created: rfc3339(created),
        duration_ms: started.elapsed().as_millis() as u64,
        redacted: rules.is_some(),
        partial,
        nodes: node_entries,
        items,
    };
    open.finish(manifest).await
}

/// The bundle being written: where it goes, the spool for items, the archive writer, and
/// the temporary file that is removed unless published.
struct OpenBundle {
    paths: OutputPaths,
    spool: Arc<SpoolDir>,
    writer: Arc<ArchiveWriter>,
    temp: TempArchive,
}

impl OpenBundle {
    fn open(opts: &Options, cfg: &Config, created: SystemTime) -> Result<Self, BundleError> {
        let paths = OutputPaths::new(opts.output.as_deref(), &cfg.name, created)
            .map_err(|e| BundleError(e.to_string()))?;
        let spool = Arc::new(
            SpoolDir::create(&paths.spool_dir).map_err(io_error(&format!(
                "cannot create {}",
                paths.spool_dir.display()
            )))?,
        );
        let writer = Arc::new(
            ArchiveWriter::create(&paths.temp, created)
                .map_err(io_error(&format!("cannot create {}", paths.temp.display())))?,
        );
        let temp = TempArchive::new(&paths.temp);
        Ok(OpenBundle {
            paths,
            spool,
            writer,
            temp,
        })
    }

    /// Appends the manifest, finishes the archive and publishes it with its checksum file.
    async fn finish(self, manifest: Manifest) -> Result<Bundle, BundleError> {
        let OpenBundle {
            paths,
            spool,
            writer,
            temp,
        } = self;
        let manifest_entry = Entry {
            path: manifest::FILE_NAME.into(),
            body: Body::Memory(crate::render::json(&manifest).into_bytes()),
        };
        if let Err(e) = writer.append(manifest_entry).await {
            return Err(writer_failure(writer, BundleError(e.to_string())).await);
        }
        let writer = Arc::try_unwrap(writer)
            .map_err(|_| BundleError("internal: the archive writer is still shared".into()))?;
        let written = writer
            .finish()
            .await
            .map_err(io_error(&format!("cannot write {}", paths.temp.display())))?;
        let sha256_file = temp
            .publish(&paths.archive, &written.sha256)
            .map_err(io_error(&format!(
                "cannot publish {}",
                paths.archive.display()
            )))?;
        drop(spool);
        Ok(Bundle {
            path: paths.archive,
            sha256_file,
            sha256: written.sha256,
            bytes: written.bytes,
            manifest,
        })
    }
}

/// The nodes to collect from, each with its item list (the witness's is its own: it runs no
/// database, no k3s); `--node` keeps one.
fn select_nodes<'a>(
    cfg: &Config,
    opts: &Options,
    links: &'a [NodeLink],
    witness: Option<&'a NodeLink>,
) -> Vec<(&'a NodeLink, Vec<ItemSpec>)> {
    links
        .iter()
        .map(|l| (l, collectors::static_items(cfg, &opts.window)))
        .chain(witness.map(|l| (l, collectors::witness_items(cfg, &opts.window))))
        .filter(|(l, _)| opts.node.as_deref().is_none_or(|n| n == l.node.name))
        .collect()
}

/// Awaits the status report and stores it as `cluster/status.json`.
async fn status_item(
    run: &Run,
    status: impl Future<Output = ClusterReport>,
) -> (ClusterReport, Result<Item, BundleError>) {
    let t0 = Instant::now();
    let report = status.await;
    let text = crate::render::json(&report);
    let took = t0.elapsed();
    let path = "cluster/status.json";
    let item = run
        .store_text(path, text.as_bytes())
        .await
        .map(|(bytes, sha256, redactions)| Item {
            node: "cluster".into(),
            collector: "status".into(),
            path: path.into(),
            bytes,
            sha256: Some(sha256),
            exit_status: None,
            started_ms: run.started.elapsed().saturating_sub(took).as_millis() as u64,
            duration_ms: took.as_millis() as u64,
            timed_out: false,
            error: None,
            redactions,
            outcome: Outcome::Ok,
        });
    (report, item)
}

/// A node's role as the status report saw it (the witness is not in its node list).
fn node_role(report: &ClusterReport, witness: Option<&NodeLink>, link: &NodeLink) -> &'static str {
    match report.node(&link.node.name) {
        Some(n) => role_name(n.role),
        None if witness.is_some_and(|w| w.node.name == link.node.name) => "witness",
        None => "unknown",
    }
}

fn node_entry(link: &NodeLink, role: &str, rules: Option<&Arc<Rules>>) -> NodeEntry {
    NodeEntry {
        name: link.node.name.clone(),
        address: link.node.address.to_string(),
        reachable: link.session.is_ok(),
        role: role.to_string(),
        error: link
            .session
            .as_ref()
            .err()
            .map(|e| redact_message(rules, &e.message)),
    }
}

/// When an append failed, the writer thread's own error says why (disk full…).
async fn writer_failure(writer: Arc<ArchiveWriter>, e: BundleError) -> BundleError {
    let Ok(writer) = Arc::try_unwrap(writer) else {
        return e;
    };
    match writer.failure().await {
        Some(cause) => BundleError(format!("cannot write the archive: {cause}")),
        None => e,
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Active => "active",
        Role::Standby => "standby",
        Role::Fenced => "fenced",
        Role::Witness => "witness",
        Role::Unknown => "unknown",
    }
}

fn redact_message(rules: Option<&Arc<Rules>>, text: &str) -> String {
    match rules {
        Some(r) => r.redact_text(text).0,
        None => text.to_string(),
    }
}

/// What one run shares between its nodes and items; each item task holds a clone.
#[derive(Clone)]
pub struct Run {
    pub rules: Option<Arc<Rules>>,
    pub spool: Arc<SpoolDir>,
    pub writer: Arc<ArchiveWriter>,
    pub window: Window,
    pub deadline: Deadline,
    pub cfg: Arc<Config>,
    /// When the run started (items record their start from it).
    pub started: Instant,
}

/// One item's result before it is judged (the judgement needs the node's role).
#[derive(Debug)]
pub struct Collected {
    pub spec: ItemSpec,
    pub node: String,
    pub path: String,
    pub stored: Option<(u64, String, u64)>,
    pub output: Option<Output>,
    pub timed_out: bool,
    pub error: Option<String>,
    /// From the start of the run.
    pub started: Duration,
    pub duration: Duration,
}

impl Collected {
    pub fn into_item(self, role: &str) -> Item {
        let exit_status = self.output.as_ref().and_then(|o| o.status);
        let stderr = self
            .output
            .as_ref()
            .map(|o| o.stderr_str())
            .unwrap_or_default();
        let ran_ok = self.output.as_ref().is_some_and(|o| o.success()) && !self.timed_out;
        let outcome = if ran_ok {
            Outcome::Ok
        } else if self.timed_out {
            Outcome::TimedOut
        } else if self.output.is_some()
            && collectors::failure_expected(self.spec.applicability, role, exit_status, &stderr)
        {
            Outcome::NotApplicable
        } else {
            Outcome::Failed
        };
        let (bytes, sha256, redactions) = match self.stored {
            Some((b, s, r)) => (b, Some(s), r),
            None => (0, None, 0),
        };
        Item {
            node: self.node,
            collector: self.spec.collector.to_string(),
            path: self.path,
            bytes,
            sha256,
            exit_status,
            started_ms: self.started.as_millis() as u64,
            duration_ms: self.duration.as_millis() as u64,
            timed_out: self.timed_out,
            error: self.error,
            redactions,
            outcome,
        }
    }
}

impl Run {
    /// Stores a text produced here (the status report, the parts of a split item) through
    /// the same redaction: (bytes, sha256, redactions).
    async fn store_text(&self, path: &str, text: &[u8]) -> Result<(u64, String, u64), BundleError> {
        let mut sink = ItemSink::new(self.rules.as_ref(), self.spool.next_file());
        sink.write_chunk(text).map_err(io_error("cannot spool"))?;
        let stored = sink.finish().map_err(io_error("cannot spool"))?;
        self.writer
            .append(Entry {
                path: path.into(),
                body: stored.body,
            })
            .await
            .map_err(io_error("cannot append"))?;
        Ok((stored.bytes, stored.sha256, stored.redactions))
    }

    /// Runs one item on a node: streams its output through the sink into the archive.
    /// Returns the results (several for an item split into parts) and, for discovery items,
    /// the raw output to parse.
    pub async fn run_item(
        &self,
        session: &SshSession,
        node: &str,
        spec: ItemSpec,
        progress: &Arc<dyn Reporter>,
    ) -> Result<(Vec<Collected>, Option<Vec<u8>>), BundleError> {
        let path = format!("{node}/{}/{}", spec.collector, spec.name);
        let started = Instant::now();
        let limit = self.deadline.cap(spec.timeout);
        if limit < MIN_ITEM_TIME {
            let error = "not started: the command's deadline was reached";
            return Ok((not_collected(node, spec, error, true), None));
        }
        progress.event(Event::StepStarted {
            stage: None,
            node,
            step: &path,
        });
        let mut sink = self.item_sink(node, &spec, progress);
        let command = remote_command(&spec, limit);
        let result =
            tokio::time::timeout(limit, exec_retrying(session, &command, &mut sink, limit)).await;
        let duration = started.elapsed();
        let (output, timed_out, error) = judge(result, limit);
        let error = error.map(|e| redact_message(self.rules.as_ref(), &e));
        // Waits for the compressor's last frame: off the async threads.
        let stored = tokio::task::spawn_blocking(move || sink.finish())
            .await
            .map_err(|e| BundleError(format!("cannot spool {path}: {e}")))?
            .map_err(io_error(&format!("cannot spool {path}")))?;
        progress.event(Event::StepFinished {
            stage: None,
            node,
            step: &path,
            ok: error.is_none(),
            detail: error.as_deref().unwrap_or(""),
            took: duration,
        });
        let ran = Ran {
            output,
            timed_out,
            error,
            started: started.duration_since(self.started),
            duration,
        };
        if !spec.parts.is_empty() {
            let collected = self.store_parts(node, &spec, stored, ran).await?;
            return Ok((collected, None));
        }
        let captured = stored.captured;
        let summary = (stored.bytes, stored.sha256, stored.redactions);
        self.writer
            .append(Entry {
                path: path.clone(),
                body: stored.body,
            })
            .await
            .map_err(io_error(&format!("cannot append {path}")))?;
        Ok((vec![ran.collected(spec, node, path, summary)], captured))
    }

    /// The sink of one item: it counts what arrives, and keeps a copy of what is split into
    /// parts (only that) or parsed for discovery.
    fn item_sink(&self, node: &str, spec: &ItemSpec, progress: &Arc<dyn Reporter>) -> ItemSink {
        let (counter, node) = (progress.clone(), node.to_string());
        let sink = ItemSink::new(self.rules.as_ref(), self.spool.next_file()).on_received(
            Arc::new(move |bytes| counter.event(Event::Received { node: &node, bytes })),
        );
        if !spec.parts.is_empty() {
            sink.capture_only()
        } else if spec.discovers != Discovery::None {
            sink.capturing()
        } else {
            sink
        }
    }

    /// Stores each part of a split item as its own entry (a part the node did not answer is
    /// stored empty).
    async fn store_parts(
        &self,
        node: &str,
        spec: &ItemSpec,
        stored: archive::Stored,
        ran: Ran,
    ) -> Result<Vec<Collected>, BundleError> {
        let raw = stored.captured.unwrap_or_default();
        let answers = spec.answers.split(&raw, &spec.parts);
        let ran_ok = ran.output.as_ref().is_some_and(|o| o.success()) && !ran.timed_out;
        let mut collected = Vec::new();
        for (name, answer) in spec.parts.iter().zip(answers) {
            let path = format!("{node}/{}/{name}", spec.collector);
            let part = match answer {
                // A file listed but gone when read: not applicable, as a lone `cat` says.
                None if ran_ok => Ran {
                    output: Some(Output {
                        status: Some(collectors::ABSENT_EXIT),
                        stderr: format!("/{name}: absent when read").into_bytes(),
                        ..Default::default()
                    }),
                    error: Some(format!("/{name}: absent when read")),
                    ..ran.clone()
                },
                _ => ran.clone(),
            };
            let stored = self.store_text(&path, &answer.unwrap_or_default()).await?;
            collected.push(part.collected(spec.clone(), node, path, stored));
        }
        Ok(collected)
    }
}

/// How one item's command went, before it is stored.
#[derive(Clone)]
struct Ran {
    output: Option<Output>,
    timed_out: bool,
    error: Option<String>,
    /// From the start of the run.
    started: Duration,
    duration: Duration,
}

impl Ran {
    fn collected(
        self,
        spec: ItemSpec,
        node: &str,
        path: String,
        stored: (u64, String, u64),
    ) -> Collected {
        Collected {
            spec,
            node: node.into(),
            path,
            stored: Some(stored),
            output: self.output,
            timed_out: self.timed_out,
            error: self.error,
            started: self.started,
            duration: self.duration,
        }
    }
}

/// The item's command as the node runs it: C locale, killed by `timeout(1)` a little after
/// our own limit.
fn remote_command(spec: &ItemSpec, limit: Duration) -> String {
    let remote_limit = (limit + REMOTE_GRACE).as_secs().max(1);
    format!(
        "LC_ALL=C timeout -k 5 {remote_limit} sh -c {}",
        crate::probe::node::shell_quote(&spec.command)
    )
}

/// Runs the command, streaming into the sink; a channel sshd refused is asked for again.
async fn exec_retrying(
    session: &SshSession,
    command: &str,
    sink: &mut ItemSink,
    limit: Duration,
) -> Result<Output, crate::transport::ProbeError> {
    let mut attempt = 0;
    loop {
        let r = session
            .exec_streaming(
                command,
                sink,
                limit + Duration::from_secs(1),
                ITEM_OUTPUT_LIMIT,
            )
            .await;
        // sshd refuses a channel beyond its MaxSessions, counting channels whose
        // close is still in flight and commands cut off by a timeout: nothing ran,
        // so try again shortly — for as long as the item's own limit allows (a
        // loaded node frees its sessions late; a count of tries would give up early).
        match r {
            Err(e) if e.kind == ProbeErrorKind::Unreachable && sink.is_untouched() => {
                attempt += 1;
                let backoff = Duration::from_millis(100 * attempt.min(5));
                tokio::time::sleep(backoff).await;
            }
            r => break r,
        }
    }
}

/// (output, timed out, error) of a command run under `limit`.
fn judge(
    result: Result<Result<Output, crate::transport::ProbeError>, tokio::time::error::Elapsed>,
    limit: Duration,
) -> (Option<Output>, bool, Option<String>) {
    match result {
        Err(_) => (
            None,
            true,
            Some(format!(
                "timed out after {}",
                crate::format::human_duration(limit)
            )),
        ),
        Ok(Err(e)) => (None, false, Some(e.message)),
        Ok(Ok(out)) if out.success() => (Some(out), false, None),
        Ok(Ok(out)) => {
            let summary = out.failure_summary();
            (Some(out), false, Some(summary))
        }
    }
}

/// An item that did not run (the node unreachable, no time left): one entry per stored name.
fn not_collected(node: &str, spec: ItemSpec, error: &str, timed_out: bool) -> Vec<Collected> {
    spec.stored_names()
        .into_iter()
        .map(|name| Collected {
            path: format!("{node}/{}/{name}", spec.collector),
            spec: spec.clone(),
            node: node.into(),
            stored: None,
            output: None,
            timed_out,
            error: Some(error.to_string()),
            started: Duration::ZERO,
            duration: Duration::ZERO,
        })
        .collect()
}

/// Every item of one node, `PER_NODE` at a time, each on its own task: the CPU work on the
/// streams (redaction, hashing, compression) then runs on every core, not on the one that
/// polls the command. Discovery items add follow-ups as they end. Dropping this future (the
/// command interrupted or out of time) aborts the node's tasks.
async fn collect_node(
    run: &Run,
    link: &NodeLink,
    items: Vec<ItemSpec>,
    progress: Arc<dyn Reporter>,
) -> Result<Vec<Collected>, BundleError> {
    let node = link.node.name.as_str();
    let mut queue: VecDeque<ItemSpec> = items.into();
    progress.event(Event::StepsPlanned {
        node,
        steps: queue.len(),
    });
    let session = match &link.session {
        Ok(s) => s.clone(),
        Err(e) => {
            let reason = redact_message(run.rules.as_ref(), &format!("unreachable: {}", e.message));
            progress.event(Event::NodeDone {
                node,
                error: Some(&reason),
            });
            return Ok(queue
                .into_iter()
                .flat_map(|spec| not_collected(node, spec, &reason, false))
                .collect());
        }
    };
    let mut done = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        while tasks.len() < PER_NODE {
            let Some(spec) = queue.pop_front() else { break };
            let (run, session, node, progress) = (
                run.clone(),
                session.clone(),
                node.to_string(),
                progress.clone(),
            );
            tasks.spawn(async move { run.run_item(&session, &node, spec, &progress).await });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let (mut results, captured) =
            joined.map_err(|e| BundleError(format!("{node}: a collector task failed: {e}")))??;
        let Some(mut collected) = results.pop() else {
            continue;
        };
        done.append(&mut results);
        if let (Some(raw), true) = (
            captured,
            collected.output.as_ref().is_some_and(|o| o.success()),
        ) {
            let (more, note) = collectors::follow_ups(collected.spec.discovers, &raw, &run.window);
            progress.event(Event::StepsPlanned {
                node,
                steps: more.len(),
            });
            // Discovered files (largest first) go before the quick commands still queued:
            // a big log is the long pole, and it should not wait behind them.
            for spec in more.into_iter().rev() {
                queue.push_front(spec);
            }
            if let Some(note) = note {
                collected.error = Some(note);
            }
        }
        done.push(collected);
    }
    progress.event(Event::NodeDone { node, error: None });
    Ok(done)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_644_000);
        assert_eq!(
            parse_time("2h", now).unwrap(),
            now - Duration::from_secs(7200)
        );
        assert_eq!(
            parse_time("1d", now).unwrap(),
            now - Duration::from_secs(86_400)
        );
        let may1 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_521_600);
        assert_eq!(parse_time("2024-05-01", now).unwrap(), may1);
        assert_eq!(
            parse_time("2024-05-01 10:00", now).unwrap(),
            may1 + Duration::from_secs(36_000)
        );
        assert_eq!(
            parse_time("2024-05-01T10:00:00Z", now).unwrap(),
            may1 + Duration::from_secs(36_000)
        );
        assert_eq!(parse_time("@1714521600", now).unwrap(), may1);
        let e = parse_time("yesterday-ish", now).unwrap_err().to_string();
        assert!(e.contains("neither a duration"), "{e}");
        assert_eq!(rfc3339(may1), "2024-05-01T00:00:00Z");
    }

    #[test]
    fn judged_outcomes() {
        let spec = collectors::static_items(
            &crate::config::parse(
                std::path::Path::new("/x.toml"),
                "name = \"l\"\nvip = \"10.0.0.1\"\n[[node]]\nname = \"a\"\naddress = \"10.0.0.2\"\n[[node]]\nname = \"b\"\naddress = \"10.0.0.3\"\n",
            )
            .unwrap(),
            &Window {
                since: SystemTime::UNIX_EPOCH,
                until: SystemTime::UNIX_EPOCH,
            },
        )
        .into_iter()
        .find(|s| s.name == "resources.txt")
        .unwrap();
        let refused = Output {
            status: Some(1),
            stderr: b"The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n".to_vec(),
            ..Default::default()
        };
        let c = |output: Option<Output>, timed_out: bool| Collected {
            spec: spec.clone(),
            node: "b".into(),
            path: "b/k3s/resources.txt".into(),
            stored: Some((0, "e3b0".into(), 0)),
            output,
            timed_out,
            error: Some("x".into()),
            started: Duration::ZERO,
            duration: Duration::from_millis(5),
        };
        assert_eq!(
            c(Some(refused.clone()), false).into_item("standby").outcome,
            Outcome::NotApplicable
        );
        assert_eq!(
            c(Some(refused.clone()), false).into_item("active").outcome,
            Outcome::Failed
        );
        assert_eq!(
            c(None, true).into_item("standby").outcome,
            Outcome::TimedOut
        );
        assert_eq!(
            c(None, false).into_item("standby").outcome,
            Outcome::Failed,
            "never ran: unreachable"
        );
        let ok = Output {
            status: Some(0),
            ..Default::default()
        };
        let item = c(Some(ok), false).into_item("active");
        assert_eq!(
            (item.outcome, item.exit_status, item.duration_ms),
            (Outcome::Ok, Some(0), 5)
        );
    }
}
