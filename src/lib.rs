//! pairctl: operate a two-node active/standby HA cluster.
//!
//! Layers: `cli` (clap types) → `commands` (wiring) → `round` (one status round: `probe`
//! gathers, `model` judges), `plan` (role changes), `deploy`, `snapshot` → `render` (print);
//! `transport` holds SSH, SQL and HTTPS with deadlines; `format` formats values for people.
//! Nothing below `commands` imports `commands` or `cli`.

pub mod cli;
pub mod commands;
pub mod config;
pub mod deploy;
pub mod error;
pub mod format;
pub mod maintenance;
pub mod model;
pub mod pair;
pub mod plan;
pub mod probe;
pub mod render;
pub mod round;
pub mod snapshot;
pub mod transport;
pub mod witness;

use clap::Parser;
use cli::{Cli, Command};
use commands::Context;
use error::{exit, Error};
use std::time::Instant;

/// Parses arguments, runs the command, and returns the exit code. Never panics on input.
pub fn run() -> u8 {
    let started = Instant::now();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    let g = &cli.global;
    if !g.output.for_every_command() && !matches!(cli.command, Command::Status(_)) {
        render::diag("error: -o prometheus and -o nagios are formats of `pairctl status`");
        return exit::USAGE;
    }
    if g.config.len() > 1 && !matches!(cli.command, Command::Exporter(_)) {
        render::diag("error: several -c files are for `pairctl exporter`; give one");
        return exit::USAGE;
    }
    let style = render::Style::new(g.output.into(), g.color.into(), g.quiet, g.verbose);
    init_tracing(g.verbose, g.quiet);
    let ctx = Context {
        style,
        config_path: g.config.first().cloned(),
        config_paths: g.config.clone(),
        timeout: g.timeout,
        yes: g.yes,
        accept_new_host_keys: g.accept_new_host_keys,
        started,
    };
    let result = match cli.command {
        Command::Completions { shell } => {
            render::out(&String::from_utf8_lossy(&commands::generate::completion(
                shell,
            )));
            Ok(0)
        }
        Command::Man { dir } => write_man(dir),
        command => match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(dispatch(&ctx, command)),
            Err(e) => Err(Error::failed("cannot start the async runtime").caused_by(&e)),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            render::diag(&e.to_string());
            e.exit_code()
        }
    }
}

async fn dispatch(ctx: &Context, command: Command) -> error::Result<u8> {
    match command {
        Command::Status(args) => commands::status::run(ctx, args.watch).await,
        Command::Failover(a) => {
            commands::role_change::run(
                ctx,
                commands::role_change::Kind::Failover { force: a.force },
                a.dry_run,
            )
            .await
        }
        Command::Swap(a) => {
            commands::role_change::run(
                ctx,
                commands::role_change::Kind::Swap { force: a.force },
                a.dry_run,
            )
            .await
        }
        Command::Rejoin(a) => commands::rejoin::run(ctx, a.into()).await,
        Command::History => commands::role_change::history(ctx).await,
        Command::Snapshot(args) => commands::snapshot::run(ctx, args).await,
        Command::Deploy(args) => commands::deploy::run(ctx, args).await,
        Command::Maintenance(args) => commands::maintenance::run(ctx, args.action.into()).await,
        Command::Exporter(args) => commands::exporter::run(ctx, args).await,
        Command::Completions { .. } | Command::Man { .. } => Ok(0),
    }
}

fn write_man(dir: Option<std::path::PathBuf>) -> error::Result<u8> {
    let pages = commands::generate::man_pages();
    match dir {
        None => {
            if let Some((_, page)) = pages.first() {
                render::out(&String::from_utf8_lossy(page));
            }
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| {
                Error::failed(format!("cannot create {}", dir.display())).caused_by(&e)
            })?;
            for (name, page) in pages {
                let path = dir.join(name);
                std::fs::write(&path, page).map_err(|e| {
                    Error::failed(format!("cannot write {}", path.display())).caused_by(&e)
                })?;
            }
        }
    }
    Ok(0)
}

fn init_tracing(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAIRCTL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("pairctl={level},warn")));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    // At -vv each line carries the seconds since the start: where a slow command spends its
    // time is then on the screen.
    let _ = if level == "debug" {
        fmt.with_timer(tracing_subscriber::fmt::time::uptime())
            .try_init()
    } else {
        fmt.without_time().try_init()
    };
}
