//! One status round: gather every probe on existing connections, then judge. Used by
//! `status`, the exporter, the role changes (plan), deploy's verification and snapshot.

use crate::config::Config;
use crate::model::{judge, ClusterReport, Expectations};
use crate::probe::collect::{gather, gather_with, NodeLink};
use crate::probe::ServiceFacts;
use crate::transport::https::HttpsClient;
use crate::transport::Deadline;
use std::time::Instant;

/// What the configuration says a healthy cluster looks like.
pub fn expectations(cfg: &Config) -> Expectations {
    Expectations {
        cluster: cfg.name.clone(),
        vip: cfg.vip.to_string(),
        services: cfg.k3s.services.clone(),
        namespace: cfg.k3s.namespace.clone(),
        volumes: cfg.gluster.volumes.clone(),
        replica_max_age: cfg.k3s.replica_max_age,
    }
}

/// One round on existing connections: gather and judge.
pub async fn report(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    started: Instant,
) -> ClusterReport {
    let facts = gather(cfg, links, https, deadline).await;
    judge_pair(cfg, &facts, started)
}

/// `report`, with the services' answers asked before the connections were up (see
/// `collect::gather_with`).
pub async fn report_with_services(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    services: Option<Vec<ServiceFacts>>,
    deadline: Deadline,
    started: Instant,
) -> ClusterReport {
    let facts = gather_with(cfg, links, https, services, deadline).await;
    judge_pair(cfg, &facts, started)
}

/// The pair's judgement; with a witness, of the facts without its Gluster parts (its own
/// checks judge those: see `crate::witness::without_witness`).
fn judge_pair(cfg: &Config, facts: &crate::probe::ClusterFacts, started: Instant) -> ClusterReport {
    match &cfg.witness {
        Some(w) => judge(
            &crate::witness::without_witness(facts, w),
            &expectations(cfg),
            started.elapsed(),
        ),
        None => judge(facts, &expectations(cfg), started.elapsed()),
    }
}

/// `report`, plus the witness's row and checks when the config has a `[witness]` (asked of
/// the nodes on the same connections, concurrently with the round). Only status shows the
/// witness as a row: the role changes read `report`, whose nodes are the pair.
pub async fn report_with_witness(
    cfg: &Config,
    links: &[NodeLink],
    https: &HttpsClient,
    deadline: Deadline,
    started: Instant,
) -> ClusterReport {
    let round = gather(cfg, links, https, deadline);
    let witness = crate::witness::gather(cfg, links, deadline);
    let (facts, witness) = tokio::join!(round, witness);
    let mut report = judge_pair(cfg, &facts, started);
    if let Some(w) = witness {
        crate::witness::amend(&mut report, &facts, &w);
        report.elapsed_ms = started.elapsed().as_millis() as u64;
    }
    report
}
