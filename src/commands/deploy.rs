//! `pairctl deploy`: connect to both nodes once, check and plan every stage, print the plan,
//! confirm (prompt on a TTY, `--yes` otherwise — never a hang), act, verify with `status`.

use super::Context;
use crate::cli::deploy::DeployArgs;
use crate::deploy::report::{DeployReport, Outcome};
use crate::deploy::run::{Deploy, Options};
use crate::deploy::Stage;
use crate::error::{Error, Result};
use crate::probe::collect::{connect_all, connect_one};
use crate::render::progress::{Layout, Monitor, Silent};
use crate::render::Format;
use crate::render::{self, diag, out};
use crate::transport::Deadline;
use std::time::Duration;

/// A cold deploy waits for Galera state transfers and the first elections: a long default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

pub async fn run(ctx: &Context, args: DeployArgs) -> Result<u8> {
    let mut stages = crate::deploy::select(args.only.as_deref(), args.from.as_deref())
        .map_err(|e| Error::usage(e.to_string()))?;
    let cfg = ctx.load_config()?;
    if cfg.witness.is_none() {
        if args.only.as_deref() == Some(Stage::Witness.name()) {
            return Err(Error::usage(
                "--only witness: the config has no [witness] section".to_string(),
            ));
        }
        stages.retain(|s| *s != Stage::Witness);
    }
    let deadline = Deadline::after(
        ctx.timeout_or(DEFAULT_TIMEOUT)
            .saturating_sub(ctx.started.elapsed()),
    );
    // The witness stage works on the witness too: its connection follows the nodes'.
    let witness = cfg
        .witness
        .as_ref()
        .filter(|_| stages.contains(&Stage::Witness));
    let (mut links, witness_link) = tokio::join!(connect_all(&cfg, deadline), async {
        match witness {
            Some(w) => Some(connect_one(&cfg, w, deadline).await),
            None => None,
        }
    });
    links.extend(witness_link);
    let hosts = links;
    let links = &hosts[..cfg.nodes.len()];
    if let Some(note) = super::maintenance::refuse_deploy(links, args.force).await? {
        if !ctx.style.quiet {
            diag(&note);
        }
    }
    // One operation that changes the pair at a time (see plan::lock).
    let lock = if args.dry_run {
        None
    } else {
        let ttl = ctx.timeout_or(DEFAULT_TIMEOUT);
        match super::role_change::take_lock(ctx, links, "deploy", args.force, ttl).await {
            Ok(l) => l,
            Err(detail) => {
                return Err(Error::new(
                    crate::error::ErrorKind::Refused,
                    detail.to_string(),
                ));
            }
        }
    };
    let opts = Options {
        dry_run: args.dry_run,
        stages: stages.clone(),
        // A partial run (--only) leaves the rest as it is: no verdict on the whole.
        verify: args.only.is_none(),
    };
    let deploy = Deploy::prepare(&cfg, &hosts, opts, deadline, &Silent).await;
    // The bars count the stages that act (the preflight only checks).
    let acting = stages.iter().filter(|s| **s != Stage::Preflight).count();
    let report = if !deploy.can_act() {
        deploy.report
    } else if deploy.report.change_count() == 0 {
        // Nothing to change, nothing to confirm: check that the cluster is healthy.
        let progress = monitor(ctx, &hosts, acting);
        let r = deploy.execute(&progress).await;
        progress.finish();
        r
    } else {
        if ctx.style.format == Format::Table {
            out(&render::sanitize::terminal(&render::deploy::plan(
                &deploy.report,
                ctx.style.verbose > 0,
            )));
        }
        let confirmed = match confirm(ctx, &deploy.report) {
            Ok(c) => c,
            Err(e) => {
                // Refused at the prompt: the lock goes back at once, not when it expires.
                if let Some(l) = &lock {
                    l.release(links, Duration::from_secs(5)).await;
                }
                return Err(e);
            }
        };
        if confirmed {
            let progress = monitor(ctx, &hosts, acting);
            let r = deploy.execute(&progress).await;
            progress.finish();
            r
        } else {
            deploy.decline()
        }
    };
    print(ctx, &report);
    if let Some(l) = lock {
        l.release(links, Duration::from_secs(5)).await;
    }
    for link in &hosts {
        if let Some(s) = link.session() {
            s.close().await;
        }
    }
    Ok(report.outcome.exit_code())
}

/// A bar per host, counting the stages that act.
fn monitor(ctx: &Context, hosts: &[crate::probe::collect::NodeLink], stages: usize) -> Monitor {
    let names: Vec<String> = hosts.iter().map(|l| l.node.name.clone()).collect();
    Monitor::new(&ctx.style, Layout::Stages).with_nodes(&names, stages)
}

fn confirm(ctx: &Context, r: &DeployReport) -> Result<bool> {
    super::confirm(
        ctx,
        &format!("deploy would make {} changes and", r.change_count()),
        &format!(
            "deploy: make {} changes in {} stages on cluster {}?",
            r.change_count(),
            r.changed_stages(),
            r.cluster
        ),
    )
}

fn print(ctx: &Context, r: &DeployReport) {
    match ctx.style.format {
        Format::Json => out(&render::json(r)),
        // Table, and the status-only formats (refused before any command runs).
        _ => out(&render::sanitize::terminal(&render::deploy::result(
            r,
            ctx.style.verbose > 0,
        ))),
    }
    if matches!(
        r.outcome,
        Outcome::Planned | Outcome::Unchanged | Outcome::Deployed
    ) || ctx.style.quiet && r.failure.is_none()
    {
        return;
    }
    // The failure, as an error report on stderr: where, what, the command, its stderr.
    let mut e = Error::failed(format!("deploy {}", r.summary));
    if let Some(f) = &r.failure {
        e = e.cause(format!("command: {}", f.command));
        for line in f.stderr.lines() {
            e = e.cause(format!("stderr: {line}"));
        }
    }
    if let Some(h) = &r.hint {
        e = e.hint(h.clone());
    }
    diag(&e.to_string());
}
