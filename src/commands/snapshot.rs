//! `pairctl snapshot`: one redacted support bundle from both nodes; `snapshot inspect FILE`
//! prints a bundle's manifest and verifies it. The work is in `crate::snapshot`; this file
//! maps the arguments, draws progress (indicatif, on a TTY) and prints the result (rendered in
//! `render::snapshot`).

use super::Context;
use crate::cli::snapshot::{SnapshotAction, SnapshotArgs};
use crate::error::{Error, ExitStatus, Result};
use crate::format::human_duration;
use crate::probe::collect::connect_all;
use crate::render::Format;
use crate::render::{self, diag, out, Style};
use crate::snapshot::archive;
use crate::snapshot::{self as snap, NodeProgress, Options, Progress, Window};
use crate::transport::https::HttpsClient;
use crate::transport::Deadline;
use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A bundle takes longer than a status round: the default deadline for the whole command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// The status report inside the bundle keeps status's own budget.
const STATUS_BUDGET: Duration = super::DEFAULT_TIMEOUT;

pub async fn run(ctx: &Context, args: SnapshotArgs) -> Result<u8> {
    match args.action {
        Some(SnapshotAction::Inspect { file }) => inspect(ctx, file).await,
        None => create(ctx, args).await,
    }
}

async fn create(ctx: &Context, args: SnapshotArgs) -> Result<u8> {
    let cfg = ctx.load_config()?;
    let now = SystemTime::now();
    let since =
        snap::parse_time(&args.since, now).map_err(|e| Error::usage(format!("--since: {e}")))?;
    let until = match &args.until {
        Some(u) => snap::parse_time(u, now).map_err(|e| Error::usage(format!("--until: {e}")))?,
        // The window is passed to journalctl in whole seconds: round "now" up, or a line
        // logged in the current second falls outside it.
        None => now + std::time::Duration::from_secs(1),
    };
    if since >= until {
        return Err(Error::usage(format!(
            "the window is empty: --since {} is not before --until {}",
            snap::rfc3339(since),
            snap::rfc3339(until)
        )));
    }
    if let Some(name) = &args.node {
        if cfg.node(name).is_none() {
            let names: Vec<&str> = cfg.nodes.iter().map(|n| n.name.as_str()).collect();
            return Err(Error::usage(format!(
                "--node {name}: {} has no such node (nodes: {})",
                cfg.path.display(),
                names.join(", ")
            )));
        }
    }
    if args.no_redact {
        // Said even with -q: the bundle holds secrets and the operator must know it.
        diag("warning: --no-redact: the bundle will contain passwords, tokens and keys as found on the nodes");
    }

    // A wrong -O is found before anything is collected.
    archive::OutputPaths::new(args.output_file.as_deref(), &cfg.name, now)
        .map_err(|e| Error::usage(format!("-O: {e}")))?;
    let total = ctx
        .timeout_or(DEFAULT_TIMEOUT)
        .saturating_sub(ctx.started.elapsed());
    // Leave time to write what was collected once items are cut off.
    let deadline = Deadline::after(total.saturating_sub((total / 10).min(Duration::from_secs(15))));
    let https = HttpsClient::new(&cfg)?;
    let (links, witness) = tokio::join!(connect_all(&cfg, deadline), async {
        match &cfg.witness {
            Some(w) => Some(crate::probe::collect::connect_one(&cfg, w, deadline).await),
            None => None,
        }
    });
    super::status::warn_connect_problems(ctx, &links);
    let status_deadline = Deadline::after(deadline.cap(STATUS_BUDGET));
    let status =
        crate::round::report_with_witness(&cfg, &links, &https, status_deadline, Instant::now());

    let opts = Options {
        output: args.output_file.clone(),
        window: Window { since, until },
        node: args.node.clone(),
        redact: !args.no_redact,
        deadline,
    };
    let bars = Bars::new(&ctx.style);
    let work = snap::create(&cfg, &opts, &links, witness.as_ref(), status, &bars);
    let bundle = tokio::select! {
        r = tokio::time::timeout(total, work) => match r {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => return Err(Error::failed(format!("no bundle written: {e}"))),
            Err(_) => return Err(Error::failed(format!(
                "no bundle written: the command's deadline ({}) passed while writing",
                human_duration(total)
            )).hint("give more time with --timeout, or a shorter window with --since")),
        },
        _ = tokio::signal::ctrl_c() => {
            return Err(Error::failed("interrupted; no bundle written (temporary files removed)"));
        }
    };
    for link in links.iter().chain(witness.iter()) {
        if let Ok(s) = &link.session {
            s.close().await;
        }
    }
    bars.clear();

    let m = &bundle.manifest;
    let path = bundle.path.display().to_string();
    match ctx.style.format {
        Format::Json => out(&render::json(&m.summary(
            &path,
            &bundle.sha256,
            bundle.bytes,
        ))),
        // Table, and the status-only formats (refused before any command runs).
        _ => {
            out(&format!("{path}\nsha256: {}\n", bundle.sha256));
            if !ctx.style.quiet {
                diag(&render::snapshot::summary(m, bundle.bytes));
            }
        }
    }
    // A bundle missing parts is a failed collection (exit 1), never 0.
    Ok(if m.partial {
        ExitStatus::DegradedOrFailed
    } else {
        ExitStatus::Ok
    }
    .code())
}

async fn inspect(ctx: &Context, file: PathBuf) -> Result<u8> {
    let path = file.clone();
    let (manifest, verification) = tokio::task::spawn_blocking(move || archive::verify(&path))
        .await
        .map_err(|e| Error::failed(format!("cannot read {}", file.display())).cause(e.to_string()))?
        .map_err(|e| Error::failed(e.to_string()))?;
    match ctx.style.format {
        Format::Json => out(&render::json(&serde_json::json!({
            "manifest": manifest,
            "verification": {
                "ok": verification.ok(),
                "archive_sha256": verification.archive_sha256,
                "sidecar_matches": verification.sidecar_matches,
                "problems": verification.problems,
            }
        }))),
        // Table, and the status-only formats (refused before any command runs).
        _ => out(&render::sanitize::terminal(&render::snapshot::inspect(
            &file,
            &manifest,
            &verification,
            &ctx.style,
        ))),
    }
    if !verification.ok() && ctx.style.format == Format::Json && !ctx.style.quiet {
        diag(&format!(
            "error: {} failed verification: {}",
            file.display(),
            verification.problems.join("; ")
        ));
    }
    Ok(if verification.ok() { 0 } else { 1 })
}

/// Progress per node: a bar with items done/planned and bytes received on a TTY; one line
/// per node at the end otherwise; nothing with `-q` or `-o json`.
struct Bars {
    multi: MultiProgress,
    tty: bool,
    enabled: bool,
}

impl Bars {
    fn new(style: &Style) -> Self {
        let enabled = !style.quiet && style.format != Format::Json;
        let tty = enabled && style.stderr_tty;
        let target = if tty {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Bars {
            multi: MultiProgress::with_draw_target(target),
            tty,
            enabled,
        }
    }
    fn clear(&self) {
        let _ = self.multi.clear();
    }
}

impl Progress for Bars {
    fn node(&self, name: &str) -> Arc<dyn NodeProgress> {
        let received = Arc::new(AtomicU64::new(0));
        let bar = self.multi.add(ProgressBar::new(0));
        let shown = received.clone();
        if let Ok(style) = ProgressStyle::with_template(
            "{prefix:>8} {spinner} {pos}/{len} items {received:>11} {elapsed:>4} {wide_msg}",
        ) {
            bar.set_style(style.with_key(
                "received",
                move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}", HumanBytes(shown.load(Ordering::Relaxed)));
                },
            ));
        }
        bar.set_prefix(name.to_string());
        if self.tty {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        Arc::new(NodeBar {
            name: name.to_string(),
            bar,
            received,
            failed: AtomicUsize::new(0),
            started: Instant::now(),
            line_at_end: self.enabled && !self.tty,
        })
    }
}

struct NodeBar {
    name: String,
    bar: ProgressBar,
    received: Arc<AtomicU64>,
    failed: AtomicUsize,
    started: Instant,
    line_at_end: bool,
}

impl NodeProgress for NodeBar {
    fn planned(&self, items: usize) {
        self.bar.inc_length(items as u64);
    }
    fn started(&self, path: &str) {
        self.bar.set_message(path.to_string());
    }
    fn received(&self, bytes: u64) {
        self.received.fetch_add(bytes, Ordering::Relaxed);
    }
    fn finished(&self, _path: &str, success: bool) {
        if !success {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.bar.inc(1);
    }
    fn done(&self, error: Option<&str>) {
        let bytes = HumanBytes(self.received.load(Ordering::Relaxed));
        let took = human_duration(self.started.elapsed());
        let failed = self.failed.load(Ordering::Relaxed);
        let text = match error {
            Some(e) => format!("{}: {e}", self.name),
            None if failed > 0 => format!(
                "{}: {} items ({failed} did not succeed), {bytes} in {took}",
                self.name,
                self.bar.position()
            ),
            None => format!(
                "{}: {} items, {bytes} in {took}",
                self.name,
                self.bar.position()
            ),
        };
        self.bar.finish_with_message(match error {
            Some(e) => e.to_string(),
            None => "done".to_string(),
        });
        if self.line_at_end {
            diag(&text);
        }
    }
}
