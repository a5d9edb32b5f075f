//! `pairctl exporter`: the status of one or many clusters as Prometheus metrics, over HTTP
//! (`--listen`) or into node_exporter's textfile directory (`--textfile`). Each cluster keeps
//! its SSH connections between rounds, as `status --watch` does; a cluster runs one round at a
//! time, and scrapes that arrive while it runs share its result. Every round has a deadline,
//! `--timeout` (default 10 s). A scrape waits for the round at most as long as the scraper
//! says it waits (`X-Prometheus-Scrape-Timeout-Seconds`, less a margin); a round still running
//! then (a slow node, a loaded host) is left to finish for the next scrape, and this one is
//! answered from the last finished round, whose age `pairctl_scrape_report_age_seconds` says.

use super::Context;
use crate::cli::exporter::ExporterArgs;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::ClusterReport;
use crate::probe::collect::{connect_all, refresh_links, NodeLink};
use crate::render::diag;
use crate::render::prometheus::{Exposition, ScrapeStats, CONTENT_TYPE};
use crate::transport::https::HttpsClient;
use crate::transport::Deadline;
use futures::future::{BoxFuture, FutureExt, Shared};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Connections served at once; more are closed at accept (a scraper needs one).
const MAX_CONNECTIONS: usize = 64;
/// How long a client may take to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long in-flight requests may finish after SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How long the SSH goodbyes may take at the end.
const CLOSE_LIMIT: Duration = Duration::from_secs(2);
/// The textfile collector reads `*.prom`; the temporary name is not one.
const TEXTFILE: &str = "pairctl.prom";

/// One round's outcome, shared by every scrape that waited for it.
struct RoundOutcome {
    /// None when the round overran its deadline or failed.
    report: Option<ClusterReport>,
    finished: Instant,
}

impl RoundOutcome {
    fn new(report: Option<ClusterReport>) -> Arc<Self> {
        Arc::new(RoundOutcome {
            report,
            finished: Instant::now(),
        })
    }
}

type Round = Shared<BoxFuture<'static, Arc<RoundOutcome>>>;

/// One cluster: its configuration, its warm connections, the round in flight (if any).
struct Cluster {
    cfg: Config,
    https: HttpsClient,
    /// None until the first round connects.
    links: tokio::sync::Mutex<Option<Vec<NodeLink>>>,
    in_flight: Mutex<Option<Round>>,
    /// The last round that finished: what a scrape gets when the one in flight is late.
    last: Mutex<Option<Arc<RoundOutcome>>>,
    rounds: AtomicU64,
    stale: AtomicU64,
    shared: AtomicU64,
    timeouts: AtomicU64,
}

impl Cluster {
    fn new(cfg: Config) -> Result<Self> {
        Ok(Cluster {
            https: HttpsClient::new(&cfg)?,
            cfg,
            links: tokio::sync::Mutex::new(None),
            in_flight: Mutex::new(None),
            last: Mutex::new(None),
            rounds: AtomicU64::new(0),
            stale: AtomicU64::new(0),
            shared: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
        })
    }

    fn name(&self) -> &str {
        &self.cfg.name
    }

    /// The round in flight, or a new one bounded by `limit`; and whether it was shared.
    fn round(self: &Arc<Self>, limit: Duration) -> (Round, bool) {
        let mut slot = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(round) = slot.as_ref() {
            self.shared.fetch_add(1, Ordering::Relaxed);
            return (round.clone(), true);
        }
        self.rounds.fetch_add(1, Ordering::Relaxed);
        let cluster = Arc::clone(self);
        // A task of its own: the round finishes (and frees the slot) even if every scraper
        // waiting for it goes away.
        let task = tokio::spawn(async move {
            let outcome = cluster.run_round(limit).await;
            *cluster.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&outcome));
            *cluster.in_flight.lock().unwrap_or_else(|p| p.into_inner()) = None;
            outcome
        });
        let round = async move { task.await.unwrap_or_else(|_| RoundOutcome::new(None)) }
            .boxed()
            .shared();
        *slot = Some(round.clone());
        (round, false)
    }

    async fn run_round(&self, limit: Duration) -> Arc<RoundOutcome> {
        let started = Instant::now();
        let deadline = Deadline::after(limit);
        let work = async {
            let mut links = self.links.lock().await;
            match links.as_mut() {
                Some(links) => refresh_links(&self.cfg, links, deadline).await,
                None => *links = Some(connect_all(&self.cfg, deadline).await),
            }
            let links = links.as_deref().unwrap_or_default();
            crate::round::report(&self.cfg, links, &self.https, deadline, started).await
        };
        // The probes keep to the deadline; this bounds the round even if one did not.
        let report = tokio::time::timeout(limit + Duration::from_millis(100), work)
            .await
            .ok();
        if report.is_none() || deadline.remaining().is_zero() {
            self.timeouts.fetch_add(1, Ordering::Relaxed);
        }
        RoundOutcome::new(report)
    }

    /// Waits up to `wait` for the cluster's round (its own or the one in flight): its
    /// outcome, or the last finished one when it is late; and this scrape's statistics.
    async fn scrape(
        self: &Arc<Self>,
        limit: Duration,
        wait: Duration,
    ) -> (Arc<RoundOutcome>, ScrapeStats) {
        let started = Instant::now();
        let (round, shared) = self.round(limit);
        let outcome = match tokio::time::timeout(wait, round).await {
            Ok(outcome) => outcome,
            Err(_) => {
                self.stale.fetch_add(1, Ordering::Relaxed);
                self.last
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
                    .unwrap_or_else(|| RoundOutcome::new(None))
            }
        };
        let stats = ScrapeStats {
            duration_seconds: started.elapsed().as_secs_f64(),
            report_age_seconds: outcome.finished.elapsed().as_secs_f64(),
            shared,
            rounds: self.rounds.load(Ordering::Relaxed),
            shared_total: self.shared.load(Ordering::Relaxed),
            stale_total: self.stale.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
        };
        (outcome, stats)
    }

    async fn close(&self) {
        if let Some(links) = self.links.lock().await.as_ref() {
            futures::future::join_all(links.iter().filter_map(|l| l.session()).map(|s| s.close()))
                .await;
        }
    }
}

/// The exposition for `clusters`, each scraped concurrently (rounds bounded by `limit`, each
/// waited for at most `wait`); and the worst exit code.
async fn collect(clusters: &[Arc<Cluster>], limit: Duration, wait: Duration) -> (String, u8) {
    let results = futures::future::join_all(clusters.iter().map(|c| c.scrape(limit, wait))).await;
    let mut exposition = Exposition::new();
    let mut worst = 0;
    for (cluster, (outcome, _)) in clusters.iter().zip(&results) {
        match &outcome.report {
            Some(report) => {
                exposition.report(report);
                worst = worst.max(report.verdict.exit_code());
            }
            None => {
                exposition.no_report(cluster.name());
                worst = 3;
            }
        }
    }
    for (cluster, (_, stats)) in clusters.iter().zip(&results) {
        exposition.scrape(cluster.name(), stats);
    }
    (exposition.render(), worst)
}

pub async fn run(ctx: &Context, args: ExporterArgs) -> Result<u8> {
    let clusters: Vec<Arc<Cluster>> = load_configs(ctx)?
        .into_iter()
        .map(|cfg| Cluster::new(cfg).map(Arc::new))
        .collect::<Result<_>>()?;
    let limit = ctx.timeout_or(super::DEFAULT_TIMEOUT);
    let code = match (args.listen, &args.textfile) {
        (Some(addr), _) => serve(ctx, &clusters, addr, limit).await,
        (None, Some(dir)) => textfile(ctx, &clusters, dir, args.interval, args.once, limit).await,
        (None, None) => Err(Error::usage(
            "exporter needs --listen ADDR or --textfile DIR",
        )),
    };
    // Goodbyes to the nodes, all at once and briefly: a node that went away must not hold
    // up the stop.
    let _ = tokio::time::timeout(
        CLOSE_LIMIT,
        futures::future::join_all(clusters.iter().map(|c| c.close())),
    )
    .await;
    code
}

/// Every `-c` given (a directory stands for its `*.toml` files), or the discovered one.
/// Two files may not name the same cluster: `?cluster=NAME` must mean one.
fn load_configs(ctx: &Context) -> Result<Vec<Config>> {
    let mut files: Vec<Option<PathBuf>> = Vec::new();
    for path in &ctx.config_paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| {
                    Error::config(format!("cannot read directory {}", path.display())).caused_by(&e)
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            if found.is_empty() {
                return Err(Error::config(format!(
                    "{}: no *.toml configuration in this directory",
                    path.display()
                )));
            }
            found.sort();
            files.extend(found.into_iter().map(Some));
        } else {
            files.push(Some(path.clone()));
        }
    }
    if files.is_empty() {
        files.push(None);
    }
    let mut configs: Vec<Config> = Vec::new();
    for file in files {
        let cfg = ctx.load_config_from(file.as_deref())?;
        if configs.iter().any(|c| c.name == cfg.name) {
            return Err(Error::config(format!(
                "two configurations name the cluster {:?}{}",
                cfg.name,
                file.map(|f| format!(" (the second is {})", f.display()))
                    .unwrap_or_default()
            ))
            .hint("each cluster's `name` must be unique: /metrics?cluster=NAME selects by it"));
        }
        configs.push(cfg);
    }
    Ok(configs)
}

/// Resolves on SIGTERM or SIGINT.
async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// How long one request waits for a round: `--timeout`, or less when the scraper waits less
/// (Prometheus says how long in `X-Prometheus-Scrape-Timeout-Seconds`), keeping a margin to
/// render and send.
fn request_wait(limit: Duration, scraper_timeout: Option<&str>) -> Duration {
    let Some(secs) = scraper_timeout
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
    else {
        return limit;
    };
    let theirs = Duration::from_secs_f64(secs.min(3600.0));
    let margin = Duration::from_millis(250).min(theirs / 5);
    limit.min(theirs.saturating_sub(margin))
}

/// `?cluster=NAME`: the clusters a request asks for (all without the parameter), or None
/// when it names one that is not served.
fn select(clusters: &[Arc<Cluster>], query: Option<&str>) -> Option<Vec<Arc<Cluster>>> {
    let wanted: Vec<&str> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.strip_prefix("cluster="))
        .collect();
    if wanted.is_empty() {
        return Some(clusters.to_vec());
    }
    wanted
        .iter()
        .map(|w| clusters.iter().find(|c| c.name() == *w).cloned())
        .collect::<Option<Vec<_>>>()
        .map(|mut v: Vec<Arc<Cluster>>| {
            v.dedup_by(|a, b| Arc::ptr_eq(a, b));
            v
        })
}

type Body = http_body_util::Full<hyper::body::Bytes>;

fn response(status: u16, content_type: &str, body: String) -> hyper::Response<Body> {
    let mut r = hyper::Response::new(Body::new(body.into()));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

async fn handle(
    clusters: Arc<Vec<Arc<Cluster>>>,
    limit: Duration,
    req: hyper::Request<hyper::body::Incoming>,
) -> std::result::Result<hyper::Response<Body>, std::convert::Infallible> {
    const TEXT: &str = "text/plain; charset=utf-8";
    if req.method() != hyper::Method::GET && req.method() != hyper::Method::HEAD {
        return Ok(response(405, TEXT, "only GET and HEAD\n".into()));
    }
    match req.uri().path() {
        "/metrics" => {
            let Some(selected) = select(&clusters, req.uri().query()) else {
                let names: Vec<&str> = clusters.iter().map(|c| c.name()).collect();
                return Ok(response(
                    404,
                    TEXT,
                    format!("no such cluster; this exporter serves: {}\n", names.join(", ")),
                ));
            };
            let scraper = req
                .headers()
                .get("x-prometheus-scrape-timeout-seconds")
                .and_then(|v| v.to_str().ok());
            let (text, _) = collect(&selected, limit, request_wait(limit, scraper)).await;
            Ok(response(200, CONTENT_TYPE, text))
        }
        "/" => Ok(response(
            200,
            TEXT,
            format!(
                "pairctl exporter {}\n/metrics             every cluster\n/metrics?cluster=NAME one of: {}\n",
                env!("CARGO_PKG_VERSION"),
                clusters
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        _ => Ok(response(404, TEXT, "not found; try /metrics\n".into())),
    }
}

async fn serve(
    ctx: &Context,
    clusters: &[Arc<Cluster>],
    addr: std::net::SocketAddr,
    limit: Duration,
) -> Result<u8> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::failed(format!("cannot listen on {addr}")).caused_by(&e))?;
    if !ctx.style.quiet {
        let names: Vec<&str> = clusters.iter().map(|c| c.name()).collect();
        diag(&format!(
            "pairctl exporter: serving {} on http://{}/metrics",
            names.join(", "),
            listener.local_addr().unwrap_or(addr)
        ));
    }
    let clusters = Arc::new(clusters.to_vec());
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let stop = terminated();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!("accept: {e}");
                        continue;
                    }
                };
                let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                    continue; // dropping the stream closes it
                };
                let clusters = Arc::clone(&clusters);
                let service = hyper::service::service_fn(move |req| {
                    handle(Arc::clone(&clusters), limit, req)
                });
                let mut stop_rx = stop_rx.clone();
                connections.spawn(async move {
                    let _slot = slot;
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_TIMEOUT)
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop_rx.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
    if !ctx.style.quiet {
        diag("pairctl exporter: stopped");
    }
    Ok(0)
}

async fn textfile(
    ctx: &Context,
    clusters: &[Arc<Cluster>],
    dir: &Path,
    interval: Duration,
    once: bool,
    limit: Duration,
) -> Result<u8> {
    let path = dir.join(TEXTFILE);
    let stop = terminated();
    tokio::pin!(stop);
    loop {
        let (text, worst) = collect(clusters, limit, limit).await;
        write_atomically(&path, text.as_bytes())?;
        if once {
            return Ok(worst);
        }
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(interval) => {}
        }
    }
    if !ctx.style.quiet {
        diag("pairctl exporter: stopped");
    }
    Ok(0)
}

/// Temporary file in the same directory, flushed to disk, then renamed over `path`: a reader
/// sees the old text or the new, never a part.
fn write_atomically(path: &Path, data: &[u8]) -> Result<()> {
    use std::io::Write;
    let temp = path.with_extension(format!("prom.{}.tmp", std::process::id()));
    let fail = |what: &str, e: std::io::Error| {
        let _ = std::fs::remove_file(&temp);
        Error::failed(format!("cannot {what} {}", temp.display())).caused_by(&e)
    };
    let mut file = std::fs::File::create(&temp).map_err(|e| fail("create", e))?;
    file.write_all(data).map_err(|e| fail("write", e))?;
    file.sync_all().map_err(|e| fail("sync", e))?;
    drop(file);
    std::fs::rename(&temp, path).map_err(|e| fail("rename", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scrapers_timeout_bounds_the_wait() {
        let ten = Duration::from_secs(10);
        assert_eq!(request_wait(ten, None), ten);
        assert_eq!(request_wait(ten, Some("junk")), ten);
        assert_eq!(request_wait(ten, Some("-1")), ten);
        assert_eq!(request_wait(ten, Some("1.9")), Duration::from_millis(1650));
        assert_eq!(request_wait(ten, Some("60")), ten);
        assert_eq!(request_wait(ten, Some("0.5")), Duration::from_millis(400));
    }

    #[test]
    fn textfile_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join(TEXTFILE);
        write_atomically(&path, b"a 1\n").unwrap_or_else(|e| panic!("{e}"));
        write_atomically(&path, b"a 2\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read(&path).unwrap_or_default(), b"a 2\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|e| e.map(|e| e.file_name()).unwrap_or_default())
            .collect();
        assert_eq!(names, [TEXTFILE], "no temporary file is left");
    }
}
