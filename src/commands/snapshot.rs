//! `pairctl snapshot`: one redacted support bundle from both nodes; `snapshot inspect FILE`
//! prints a bundle's manifest and verifies it. The work is in `crate::snapshot`; this file
//! maps the arguments, shows progress (`render::progress`'s monitor) and prints the result
//! (rendered in `render::snapshot`).

use super::Context;
use crate::cli::snapshot::{SnapshotAction, SnapshotArgs};
use crate::error::{Error, ExitStatus, Result};
use crate::format::human_duration;
use crate::probe::collect::connect_all;
use crate::render::progress::{Layout, Monitor};
use crate::render::Format;
use crate::render::{self, diag, out};
use crate::snapshot::archive;
use crate::snapshot::{self as snap, Options, Window};
use crate::transport::https::HttpsClient;
use crate::transport::Deadline;
use std::path::PathBuf;
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
    let bars = Arc::new(Monitor::new(&ctx.style, Layout::Items));
    let work = snap::create(&cfg, &opts, &links, witness.as_ref(), status, bars.clone());
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
    bars.finish();

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
            out(&render::snapshot::written(&path, &bundle.sha256));
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
        diag(&render::snapshot::verification_failed(&file, &verification));
    }
    Ok(if verification.ok() { 0 } else { 1 })
}
