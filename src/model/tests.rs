//! Judgement on facts built from the real-format fixtures.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::probe::node::BasicFacts;
use crate::probe::{galera, gluster, kube, ClusterFacts, NodeFacts, ServiceFacts, VolumeFacts};

const VIP: &str = "10.213.57.10";
const SERVICES: [&str; 3] = ["auth", "tenant", "api-docs"];

pub(crate) fn exp() -> Expectations {
    Expectations {
        cluster: "lab".into(),
        vip: VIP.into(),
        services: SERVICES.iter().map(|s| s.to_string()).collect(),
        namespace: "efa".into(),
        volumes: vec!["shared".into()],
        replica_max_age: Duration::from_secs(30),
    }
}

fn basics(active: bool) -> BasicFacts {
    BasicFacts {
        holds_vip: active,
        vip_interface: active.then(|| "host0".into()),
        keepalived_unit: "active".into(),
        k3s_active: active,
        vrrp_state: Some(if active { "MASTER" } else { "BACKUP" }.into()),
        maintenance: false,
        litestream: Ok(litestream(active)),
        deployment: None,
        last_change: None,
        maintenance_mode: None,
        role: Some(if active { "active" } else { "standby" }.into()),
        epoch: Some(1),
        fence: None,
    }
}

/// litestream's section of a node's basics output, as the files
/// show it: the database at txid 2f on the active, a replica at txid 2f on the standby (its
/// newest file written at 2026-12-01T08:58:53Z), as in the fixtures captured on the lab.
pub(crate) fn litestream_output(active: bool) -> String {
    if active {
        "installed\ndb\nwal 1600000\nlocal 000000000000002f-000000000000002f.ltx\nreplica none\n"
            .into()
    } else {
        "installed\nreplica 000000000000002f-000000000000002f.ltx 1796115533\n".into()
    }
}

/// What `litestream list -json` answers on the node (the daemon replicating on the active,
/// none on the standby), in the shape `litestream::ask_daemon`'s CLI way reads.
pub(crate) fn litestream_list_output(active: bool) -> String {
    if active {
        format!(
            "{}\nrc=0\n",
            include_str!("../../fixtures/litestream/list-replicating.json")
        )
    } else {
        format!(
            "{}\nrc=1\n",
            include_str!("../../fixtures/litestream/list-no-daemon.txt")
        )
    }
}

/// `litestream_output` and `litestream_list_output` as judged: the node's clock a second
/// after the last sync (active) or the replica's newest file (standby).
pub(crate) fn litestream(active: bool) -> crate::probe::litestream::LitestreamFacts {
    use crate::probe::litestream::{daemon_from_cli, facts, parse_files};
    const DB: &str = "/var/lib/rancher/k3s/server/db/state.db";
    let files = parse_files("0\n", &litestream_output(active)).unwrap();
    let mut f = facts(files, daemon_from_cli(&litestream_list_output(active), DB));
    f.now = if active {
        f.daemon.as_ref().unwrap().last_sync_at.unwrap() + 1.0
    } else {
        f.replica.clone().unwrap().unwrap().newest.unwrap() as f64 + 1.0
    };
    f
}

fn litestream_of(f: &mut ClusterFacts, i: usize) -> &mut crate::probe::litestream::LitestreamFacts {
    f.nodes[i]
        .basics
        .as_mut()
        .unwrap()
        .litestream
        .as_mut()
        .unwrap()
}

fn workloads_for(services: &[&str], not_ready: &[&str]) -> Vec<kube::Workload> {
    services
        .iter()
        .map(|s| kube::Workload {
            kind: kube::WorkloadKind::Deployment,
            namespace: "efa".into(),
            name: s.to_string(),
            desired: 1,
            ready: if not_ready.contains(s) { 0 } else { 1 },
        })
        .collect()
}

fn node(name: &str, ip: &str, active: bool) -> NodeFacts {
    let wsrep =
        galera::parse_wsrep_text(include_str!("../../fixtures/galera/synced-primary.tsv")).unwrap();
    let refused =
        crate::transport::ProbeError::failed("the Kubernetes API server refused the connection");
    NodeFacts {
        name: name.into(),
        address: ip.into(),
        ssh: Ok(Duration::from_millis(12)),
        basics: Ok(basics(active)),
        galera: Ok(wsrep),
        gluster_peers: Ok(gluster::parse_peer_status(include_str!(
            "../../fixtures/gluster/peer-status-healthy.xml"
        ))
        .unwrap()),
        volumes: vec![VolumeFacts {
            name: "shared".into(),
            status: Ok(gluster::parse_volume_status(include_str!(
                "../../fixtures/gluster/volume-status-healthy.xml"
            ))
            .unwrap()
            .remove(0)),
            heal: Ok(gluster::parse_heal_summary(include_str!(
                "../../fixtures/gluster/heal-summary-healthy.xml"
            ))
            .unwrap()),
        }],
        kube_nodes: if active {
            Ok(kube::parse_nodes(include_str!("../../fixtures/kube/nodes-healthy.json")).unwrap())
        } else {
            Err(refused.clone())
        },
        workloads: if active {
            Ok(workloads_for(&SERVICES, &[]))
        } else {
            Err(refused)
        },
        peer_ssh: Ok(()),
    }
}

pub(crate) fn healthy() -> ClusterFacts {
    ClusterFacts {
        nodes: vec![
            node("n1", "10.213.57.11", true),
            node("n2", "10.213.57.12", false),
        ],
        services: SERVICES
            .iter()
            .map(|s| ServiceFacts {
                name: s.to_string(),
                url: format!("https://{VIP}/v1/{s}/health"),
                status: Ok(200),
            })
            .collect(),
    }
}

pub(crate) fn run(f: &ClusterFacts) -> ClusterReport {
    judge(f, &exp(), Duration::from_millis(100))
}

fn check<'a>(r: &'a ClusterReport, name: impl Into<CheckName>, node: &str) -> &'a Check {
    let name = name.into();
    r.checks
        .iter()
        .find(|c| c.name == name && c.node == node)
        .unwrap_or_else(|| panic!("no check {name} on {node} in {:#?}", r.checks))
}

pub(crate) fn down(f: &mut ClusterFacts, i: usize) {
    let reason =
        crate::transport::ProbeError::unreachable("SSH to 10.213.57.12:22 timed out after 3.0 s");
    let n = &mut f.nodes[i];
    n.ssh = Err(reason.clone());
    n.basics = Err(reason.clone());
    n.galera = Err(reason.clone());
    n.gluster_peers = Err(reason.clone());
    n.kube_nodes = Err(reason.clone());
    n.workloads = Err(reason.clone());
    n.peer_ssh = Err(reason.clone());
    for v in &mut n.volumes {
        v.status = Err(reason.clone());
        v.heal = Err(reason.clone());
    }
}

#[test]
fn healthy_pair() {
    let r = run(&healthy());
    assert_eq!(
        r.verdict,
        Verdict::Healthy,
        "{:#?}",
        r.failing().collect::<Vec<_>>()
    );
    assert_eq!(r.active.as_deref(), Some("n1"));
    assert_eq!(r.nodes[0].role, Role::Active);
    assert_eq!(r.nodes[1].role, Role::Standby);
    assert!(r.nodes.iter().all(|n| n.status == NodeStatus::Up));
    assert!(r.checks.iter().all(|c| c.result == CheckResult::Ok));
    assert_eq!(check(&r, CheckId::StandbySsh, "n2").result, CheckResult::Ok);
    assert_eq!(check(&r, CheckId::Replica, "n2").result, CheckResult::Ok);
    assert_eq!(Verdict::Healthy.exit_code(), 0);
}

#[test]
fn split_brain_is_critical() {
    let mut f = healthy();
    f.nodes[1].basics.as_mut().unwrap().holds_vip = true;
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Critical);
    let vip = check(&r, CheckId::Vip, "cluster");
    assert_eq!(vip.result, CheckResult::Fail);
    assert!(vip.detail.contains("split brain"), "{}", vip.detail);
    assert_eq!(r.nodes[1].role, Role::Unknown);
}

#[test]
fn no_vip_holder_is_critical() {
    let mut f = healthy();
    f.nodes[0].basics.as_mut().unwrap().holds_vip = false;
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Critical);
    assert!(check(&r, CheckId::Vip, "cluster")
        .detail
        .contains("no node holds"));
}

#[test]
fn standby_down_is_degraded_and_size_one_accepted() {
    let mut f = healthy();
    down(&mut f, 1);
    f.nodes[0].peer_ssh = Err(crate::transport::ProbeError::failed(
        "ssh 10.213.57.12: exit status 255: Connection timed out",
    ));
    f.nodes[0].galera = Ok(galera::parse_wsrep_text(
        &include_str!("../../fixtures/galera/synced-primary.tsv")
            .replace("wsrep_cluster_size\t2", "wsrep_cluster_size\t1"),
    )
    .unwrap());
    let r = run(&f);
    assert_eq!(
        r.verdict,
        Verdict::Degraded,
        "{:#?}",
        r.failing().collect::<Vec<_>>()
    );
    assert_eq!(r.nodes[1].status, NodeStatus::Down);
    assert_eq!(r.nodes[1].role, Role::Unknown);
    assert_eq!(r.nodes[0].role, Role::Active);
    assert_eq!(check(&r, CheckId::Galera, "n1").result, CheckResult::Warn);
    assert_eq!(
        check(&r, CheckId::StandbySsh, "n2").result,
        CheckResult::Fail
    );
}

#[test]
fn standby_database_stopped_is_degraded() {
    let mut f = healthy();
    f.nodes[1].galera = Err(crate::transport::ProbeError::failed(
        "n2: MariaDB 10.213.57.12:3306: cannot connect: Connection refused",
    ));
    f.nodes[0].galera = Ok(galera::parse_wsrep_text(
        &include_str!("../../fixtures/galera/synced-primary.tsv")
            .replace("wsrep_cluster_size\t2", "wsrep_cluster_size\t1"),
    )
    .unwrap());
    let r = run(&f);
    assert_eq!(
        r.verdict,
        Verdict::Degraded,
        "{:#?}",
        r.failing().collect::<Vec<_>>()
    );
    assert_eq!(check(&r, CheckId::Galera, "n2").result, CheckResult::Fail);
    assert_eq!(r.nodes[1].status, NodeStatus::Degraded);
}

#[test]
fn non_primary_is_critical() {
    let mut f = healthy();
    f.nodes[0].galera = Ok(galera::parse_wsrep_text(include_str!(
        "../../fixtures/galera/non-primary.tsv"
    ))
    .unwrap());
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Critical);
    assert!(check(&r, CheckId::Galera, "n1")
        .detail
        .contains("non-Primary"));
}

#[test]
fn donor_desynced_is_degraded() {
    let mut f = healthy();
    f.nodes[1].galera = Ok(galera::parse_wsrep_text(include_str!(
        "../../fixtures/galera/donor-desynced.tsv"
    ))
    .unwrap());
    f.nodes[1].galera.as_mut().unwrap().cluster_state_uuid = f.nodes[0]
        .galera
        .as_ref()
        .unwrap()
        .cluster_state_uuid
        .clone();
    let r = run(&f);
    assert_eq!(
        r.verdict,
        Verdict::Degraded,
        "{:#?}",
        r.failing().collect::<Vec<_>>()
    );
    assert_eq!(check(&r, CheckId::Galera, "n2").result, CheckResult::Warn);
}

#[test]
fn differing_state_uuids_are_critical() {
    let mut f = healthy();
    f.nodes[1].galera.as_mut().unwrap().cluster_state_uuid =
        "00000000-1111-2222-3333-444444444444".into();
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Critical);
    assert_eq!(
        check(&r, CheckId::GaleraState, "cluster").result,
        CheckResult::Fail
    );
}

#[test]
fn service_not_ready_is_critical_in_both_views() {
    let mut f = healthy();
    f.services[1].status = Ok(503);
    f.nodes[0].workloads = Ok(workloads_for(&SERVICES, &["tenant"]));
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Critical);
    assert_eq!(
        check(&r, CheckId::Service.of("tenant"), "cluster").detail,
        "HTTP 503 via VIP"
    );
    assert!(check(&r, CheckId::Workloads, "n1")
        .detail
        .contains("tenant 0/1"));
}

#[test]
fn kubernetes_inconsistent_with_enabled_services_is_critical() {
    let mut f = healthy();
    f.nodes[0].workloads = Ok(workloads_for(
        &["auth", "tenant", "api-docs", "legacy"],
        &[],
    ));
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Critical);
    assert!(check(&r, CheckId::Workloads, "n1")
        .detail
        .contains("legacy"));
    f.nodes[0].workloads = Ok(workloads_for(&["auth"], &[]));
    let r = run(&f);
    assert!(check(&r, CheckId::Workloads, "n1")
        .detail
        .contains("tenant not deployed"));
}

#[test]
fn k3s_stopped_on_active_is_critical() {
    let mut f = healthy();
    f.nodes[0].basics.as_mut().unwrap().k3s_active = false;
    f.nodes[0].kube_nodes = Err(crate::transport::ProbeError::failed("refused"));
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Critical);
    assert_eq!(check(&r, CheckId::K3s, "n1").result, CheckResult::Fail);
}

#[test]
fn heal_pending_warns_and_split_brain_entries_are_critical() {
    let mut f = healthy();
    f.nodes[0].volumes[0].heal = Ok(gluster::parse_heal_summary(include_str!(
        "../../fixtures/gluster/heal-summary-pending.xml"
    ))
    .unwrap());
    let r = run(&f);
    assert_eq!(
        check(&r, CheckId::GlusterVolume.of("shared"), "cluster").result,
        CheckResult::Warn
    );
    assert_eq!(r.verdict, Verdict::Degraded);
    f.nodes[0].volumes[0].heal = Ok(gluster::parse_heal_summary(include_str!(
        "../../fixtures/gluster/heal-summary-split-brain.xml"
    ))
    .unwrap());
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Critical);
}

#[test]
fn disconnected_peer_is_degraded() {
    let mut f = healthy();
    f.nodes[0].gluster_peers = Ok(gluster::parse_peer_status(include_str!(
        "../../fixtures/gluster/peer-status-disconnected.xml"
    ))
    .unwrap());
    let r = run(&f);
    assert_eq!(
        check(&r, CheckId::GlusterPeers, "n1").result,
        CheckResult::Fail
    );
    assert_eq!(r.verdict, Verdict::Degraded);
}

#[test]
fn the_replica_is_judged_by_litestream() {
    let r = run(&healthy());
    let c = check(&r, CheckId::Replica, "n2");
    assert_eq!(c.result, CheckResult::Ok, "{}", c.detail);
    assert!(
        c.detail.contains("replica at txid 2f like the database"),
        "{}",
        c.detail
    );
}

#[test]
fn a_stopped_daemon_fails_the_replica_check() {
    let mut f = healthy();
    litestream_of(&mut f, 0).daemon = crate::probe::litestream::parse_list(
        include_str!("../../fixtures/litestream/list-stopped.txt"),
        Some(1),
        "/var/lib/rancher/k3s/server/db/state.db",
    );
    let r = run(&f);
    let c = check(&r, CheckId::Replica, "n2");
    assert_eq!(c.result, CheckResult::Fail);
    assert!(c.detail.contains("not answering"), "{}", c.detail);
    assert_eq!(r.verdict, Verdict::Degraded);
}

#[test]
fn a_replica_behind_for_longer_than_the_max_age_fails() {
    let mut f = healthy();
    // The database moved on, the replica did not advance for 45 s, the last sync is old.
    let a = litestream_of(&mut f, 0);
    a.now += 40.0;
    if let Some(Ok(l)) = a.local.as_mut() {
        l.txid = Some(0x40);
    }
    litestream_of(&mut f, 1).now += 44.0;
    let c = check(&run(&f), CheckId::Replica, "n2").clone();
    assert_eq!(c.result, CheckResult::Fail);
    assert!(
        c.detail.contains("17 behind the database's 40"),
        "{}",
        c.detail
    );
    assert!(
        c.detail.contains("replica last advanced 45 s ago"),
        "{}",
        c.detail
    );
    // Behind by a few transactions but within the max age: fine.
    let mut f = healthy();
    if let Some(Ok(l)) = litestream_of(&mut f, 0).local.as_mut() {
        l.txid = Some(0x30);
    }
    assert_eq!(
        check(&run(&f), CheckId::Replica, "n2").result,
        CheckResult::Ok
    );
}

#[test]
fn a_missing_or_unreadable_replica_fails() {
    let mut f = healthy();
    litestream_of(&mut f, 1).replica = Some(crate::probe::litestream::parse_ltx(
        include_str!("../../fixtures/litestream/ltx-missing.txt"),
        Some(0),
    ));
    let c = check(&run(&f), CheckId::Replica, "n2").clone();
    assert_eq!(c.result, CheckResult::Fail);
    assert!(c.detail.contains("no replica"), "{}", c.detail);
    litestream_of(&mut f, 1).replica = Some(Err(crate::transport::ProbeError::failed(
        "readdirent x: input/output error",
    )));
    let c = check(&run(&f), CheckId::Replica, "n2").clone();
    assert!(
        c.detail.contains("replica unreadable: readdirent"),
        "{}",
        c.detail
    );
}

#[test]
fn nothing_reachable_is_unknown() {
    let mut f = healthy();
    down(&mut f, 0);
    down(&mut f, 1);
    for s in &mut f.services {
        s.status = Ok(200);
    }
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Unknown);
    assert_eq!(r.verdict.exit_code(), 3);
}

#[test]
fn active_unreachable_and_vip_dead_is_critical() {
    let mut f = healthy();
    down(&mut f, 0);
    for s in &mut f.services {
        s.status = Err(crate::transport::ProbeError::failed(
            "cannot connect: Connection refused",
        ));
    }
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Critical);
    assert!(r.active.is_none());
}

fn in_maintenance(f: &mut ClusterFacts, node: Option<&str>) {
    let m = crate::maintenance::Maintenance::new(
        node.map(str::to_string),
        "disk swap".into(),
        "ops@laptop".into(),
        1_700_000_000,
        Duration::from_secs(600),
    );
    // The record lives on the active (n1): the maintained node may be down.
    if let Ok(b) = &mut f.nodes[0].basics {
        b.maintenance_mode = Some(m);
    }
}

#[test]
fn cluster_maintenance_degrades_with_its_reason() {
    let mut f = healthy();
    in_maintenance(&mut f, None);
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Degraded);
    let c = check(&r, CheckId::Maintenance, "cluster");
    assert_eq!(c.result, CheckResult::Warn);
    assert!(c.detail.contains("disk swap"), "{}", c.detail);
    assert_eq!(r.maintenance.as_ref().unwrap().reason, "disk swap");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["maintenance"]["scope"], "cluster");
    assert!(serde_json::to_value(run(&healthy())).unwrap()["maintenance"].is_null());
}

#[test]
fn a_stopped_node_under_node_maintenance_only_degrades_and_says_why() {
    let mut f = healthy();
    down(&mut f, 1);
    in_maintenance(&mut f, Some("n2"));
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Degraded, "{:#?}", r.checks);
    for c in r.failing() {
        assert_ne!(c.impact, Some(Impact::Critical), "{c:?}");
    }
    let ssh = check(&r, CheckId::Ssh, "n2");
    assert_eq!(ssh.result, CheckResult::Warn);
    assert!(
        ssh.detail.starts_with("in maintenance (disk swap): "),
        "{}",
        ssh.detail
    );
    assert!(check(&r, CheckId::Maintenance, "n2")
        .detail
        .contains("node maintenance of n2"));
}

#[test]
fn node_maintenance_never_hides_a_critical_finding() {
    let mut f = healthy();
    // n2 holds the VIP too: split brain, whatever the maintenance says.
    if let Ok(b) = &mut f.nodes[1].basics {
        b.holds_vip = true;
    }
    in_maintenance(&mut f, Some("n2"));
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Critical);
    assert_eq!(check(&r, CheckId::Vip, "cluster").result, CheckResult::Fail);
}

#[test]
fn node_names_are_matched_as_whole_words() {
    assert!(super::mentions("disconnected: n2", "n2"));
    assert!(super::mentions(
        "SSH to 10.213.57.12:22 timed out",
        "10.213.57.12"
    ));
    assert!(!super::mentions("disconnected: n12", "n2"));
    assert!(!super::mentions("10.213.57.120", "10.213.57.12"));
}

#[test]
fn checks_carry_typed_values() {
    let r = run(&healthy());
    let value = |name: CheckName, node: &str, key: &str| {
        check(&r, name.clone(), node)
            .values
            .get(key)
            .copied()
            .unwrap_or_else(|| panic!("{name} on {node} has no {key}"))
    };
    assert_eq!(value(CheckId::Replica.into(), "n2", "age_seconds"), 1.0);
    assert_eq!(
        value(CheckId::Replica.into(), "n2", "behind_transactions"),
        0.0
    );
    assert_eq!(
        value(CheckId::Replica.into(), "n2", "max_age_seconds"),
        30.0
    );
    assert_eq!(value(CheckId::Galera.into(), "n1", "cluster_size"), 2.0);
    assert_eq!(value(CheckId::Galera.into(), "n1", "primary"), 1.0);
    assert_eq!(value(CheckId::Keepalived.into(), "n1", "vrrp_state"), 2.0);
    assert_eq!(value(CheckId::Keepalived.into(), "n2", "vrrp_state"), 1.0);
    assert_eq!(value(CheckId::Ssh.into(), "n1", "connect_seconds"), 0.012);
    assert_eq!(
        value(CheckId::Service.of("auth"), "cluster", "http_status"),
        200.0
    );
    assert_eq!(
        value(CheckId::Workloads.into(), "n1", "services_ready"),
        3.0
    );
    assert_eq!(
        value(
            CheckId::GlusterVolume.of("shared"),
            "cluster",
            "heal_pending_entries"
        ),
        0.0
    );
    // Counts are JSON integers, fractions stay numbers; no values, no key.
    let doc = serde_json::to_value(&r).unwrap();
    let galera = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "galera")
        .unwrap();
    assert_eq!(galera["values"]["cluster_size"], serde_json::json!(2));
    let vip = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "vip")
        .unwrap();
    assert!(vip.get("values").is_none());
}

#[test]
fn last_change_time_is_typed() {
    let mut f = healthy();
    f.nodes[0].basics.as_mut().unwrap().last_change =
        Some(serde_json::json!({"time": "2026-12-01T08:00:00Z", "kind": "swap"}));
    assert_eq!(run(&f).last_change_timestamp, Some(1_796_112_000));
    assert_eq!(run(&healthy()).last_change_timestamp, None);
}

fn wsrep(fixture: &str, size: u64) -> galera::GaleraFacts {
    galera::parse_wsrep_text(&fixture.replace(
        "wsrep_cluster_size\t2",
        &format!("wsrep_cluster_size\t{size}"),
    ))
    .unwrap()
}

/// The standby partitioned from the active (both reachable from pairctl): the active keeps
/// quorum with its weight, the standby is non-Primary and held in FAULT. Degraded, not critical.
#[test]
fn a_partitioned_standby_is_degraded_not_critical() {
    let mut f = healthy();
    f.nodes[0].galera = Ok(wsrep(
        include_str!("../../fixtures/galera/synced-primary.tsv"),
        1,
    ));
    f.nodes[1].galera = Ok(wsrep(
        include_str!("../../fixtures/galera/non-primary.tsv"),
        1,
    ));
    f.nodes[1].basics.as_mut().unwrap().vrrp_state = Some("FAULT".into());
    f.nodes[0].peer_ssh = Err(crate::transport::ProbeError::failed(
        "ssh n2: connect timed out",
    ));
    let r = run(&f);
    assert_eq!(
        r.verdict,
        Verdict::Degraded,
        "{:#?}",
        r.failing().collect::<Vec<_>>()
    );
    assert_eq!(r.active.as_deref(), Some("n1"));
    let g2 = check(&r, CheckId::Galera, "n2");
    assert_eq!(
        (g2.result, g2.impact),
        (CheckResult::Fail, Some(Impact::Degraded))
    );
    assert!(
        g2.detail.contains("cut off from the active"),
        "{}",
        g2.detail
    );
    assert_eq!(check(&r, CheckId::Galera, "n1").result, CheckResult::Warn);
    assert_eq!(check(&r, CheckId::Keepalived, "n2").result, CheckResult::Ok);
}

/// Both Primary but alone: two primary components, the database's split brain.
#[test]
fn two_lone_primaries_are_critical() {
    let mut f = healthy();
    for n in &mut f.nodes {
        n.galera = Ok(wsrep(
            include_str!("../../fixtures/galera/synced-primary.tsv"),
            1,
        ));
    }
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Critical);
    assert!(check(&r, CheckId::Galera, "n1")
        .detail
        .contains("two primaries"));
}

/// The active non-Primary is critical whatever the standby does.
#[test]
fn the_active_without_quorum_is_critical() {
    let mut f = healthy();
    f.nodes[0].galera = Ok(wsrep(
        include_str!("../../fixtures/galera/non-primary.tsv"),
        1,
    ));
    let r = run(&f);
    assert_eq!(r.verdict, Verdict::Critical);
    assert_eq!(
        check(&r, CheckId::Galera, "n1").impact,
        Some(Impact::Critical)
    );
}

/// A fenced old active: role fenced, a degraded fence check saying when, why and how back.
#[test]
fn a_fenced_node_says_so_with_the_way_back() {
    let mut f = healthy();
    // n2 took over; n1 came back fenced.
    f.nodes[0].basics = Ok(basics(false));
    f.nodes[1].basics = Ok(basics(true));
    f.nodes[1].kube_nodes = f.nodes[0].kube_nodes.clone();
    f.nodes[1].workloads = f.nodes[0].workloads.clone();
    let b = f.nodes[0].basics.as_mut().unwrap();
    b.vrrp_state = Some("FAULT".into());
    b.role = Some("active".into());
    b.fence = Some(crate::probe::node::Fence {
        by: "failover".into(),
        time: "2026-12-01T09:00:00Z".into(),
        epoch: Some(2),
        reason: "failover to n2".into(),
    });
    let r = run(&f);
    assert_eq!(r.nodes[0].role, Role::Fenced);
    assert_eq!(r.active.as_deref(), Some("n2"));
    let c = check(&r, CheckId::Fence, "n1");
    assert_eq!(
        (c.result, c.impact),
        (CheckResult::Fail, Some(Impact::Degraded))
    );
    for part in [
        "fenced by failover at 2026-12-01T09:00:00Z, epoch 2",
        "pairctl rejoin n1",
        "standby of n2",
    ] {
        assert!(c.detail.contains(part), "{part}: {}", c.detail);
    }
    assert_eq!(check(&r, CheckId::Keepalived, "n1").result, CheckResult::Ok);
    assert_eq!(
        r.verdict,
        Verdict::Degraded,
        "{:#?}",
        r.failing().collect::<Vec<_>>()
    );
}
