//! Preflight and target choice from status reports.
#![allow(clippy::unwrap_used)]

use super::failover::choose;
use super::swap::preflight;
use crate::model::*;

fn check(name: &CheckName, node: &str, ok: bool) -> Check {
    Check {
        name: name.clone(),
        node: node.into(),
        result: if ok {
            CheckResult::Ok
        } else {
            CheckResult::Fail
        },
        detail: if ok { "fine".into() } else { "broken".into() },
        impact: if ok { None } else { Some(Impact::Degraded) },
        values: Default::default(),
    }
}

fn report(active: Option<&str>, failing: &[(CheckId, &str)]) -> ClusterReport {
    let names: [(CheckName, &str); 13] = [
        (CheckId::Ssh.into(), "n1"),
        (CheckId::Ssh.into(), "n2"),
        (CheckId::Vip.into(), "cluster"),
        (CheckId::Keepalived.into(), "n1"),
        (CheckId::Keepalived.into(), "n2"),
        (CheckId::Galera.into(), "n1"),
        (CheckId::Galera.into(), "n2"),
        (CheckId::GlusterPeers.into(), "n1"),
        (CheckId::GlusterPeers.into(), "n2"),
        (CheckId::GlusterVolume.of("shared"), "cluster"),
        (CheckId::Replica.into(), "n2"),
        (CheckId::Workloads.into(), "n1"),
        (CheckId::Service.of("tenant"), "cluster"),
    ];
    let checks = names
        .iter()
        .map(|(n, node)| {
            let failed = failing.iter().any(|(id, on)| n == id && on == node);
            check(n, node, !failed)
        })
        .collect();
    let role = |n: &str| match active {
        Some(a) if a == n => Role::Active,
        Some(_) => Role::Standby,
        None => Role::Unknown,
    };
    ClusterReport {
        schema: STATUS_SCHEMA,
        cluster: "lab".into(),
        verdict: Verdict::Healthy,
        vip: "10.213.57.10".into(),
        active: active.map(String::from),
        nodes: ["n1", "n2"]
            .iter()
            .map(|n| NodeReport {
                name: n.to_string(),
                role: role(n),
                status: NodeStatus::Up,
                ip: String::new(),
                epoch: Some(1),
                fence: None,
            })
            .collect(),
        checks,
        deployment: None,
        last_change: None,
        maintenance: None,
        last_change_timestamp: None,
        elapsed_ms: 0,
    }
}

fn blocking(pre: &[super::Precondition]) -> Vec<&str> {
    pre.iter().filter(|p| p.blocks()).map(|p| p.name).collect()
}

#[test]
fn healthy_pair_may_swap_n1_to_n2() {
    let (pre, pair) = preflight(&report(Some("n1"), &[]), &[]);
    assert!(blocking(&pre).is_empty(), "{pre:#?}");
    assert_eq!(pair, Some(("n1".into(), "n2".into())));
}

#[test]
fn unfit_standby_is_named_and_can_be_forced() {
    let r = report(
        Some("n1"),
        &[(CheckId::Galera, "n2"), (CheckId::Replica, "n2")],
    );
    let (pre, _) = preflight(&r, &[]);
    assert_eq!(blocking(&pre), ["standby-galera", "replica-fresh"]);
    let (pre, _) = preflight(&r, &["replica-fresh".into()]);
    assert_eq!(blocking(&pre), ["standby-galera"]);
}

#[test]
fn split_brain_and_unreachable_standby_are_never_forced() {
    let r = report(
        Some("n1"),
        &[(CheckId::Vip, "cluster"), (CheckId::Ssh, "n2")],
    );
    let (pre, _) = preflight(&r, &["single-vip-holder".into(), "both-reachable".into()]);
    let b = blocking(&pre);
    assert!(
        b.contains(&"single-vip-holder") && b.contains(&"both-reachable"),
        "{b:?}"
    );
    assert!(
        b.contains(&"force"),
        "unknown --force names are reported: {b:?}"
    );
}

#[test]
fn no_active_refuses_swap() {
    let (pre, pair) = preflight(&report(None, &[]), &[]);
    assert!(blocking(&pre).contains(&"active-known"));
    assert!(pair.is_none());
}

#[test]
fn failover_targets_the_standby_or_the_only_survivor() {
    assert_eq!(
        choose(&report(Some("n1"), &[])),
        Some(("n1".into(), "n2".into()))
    );
    // n1 is gone and keepalived already moved the VIP: complete the takeover on n2.
    assert_eq!(
        choose(&report(Some("n2"), &[(CheckId::Ssh, "n1")])),
        Some(("n1".into(), "n2".into()))
    );
    assert_eq!(
        choose(&report(None, &[(CheckId::Ssh, "n2")])),
        Some(("n2".into(), "n1".into()))
    );
    assert_eq!(
        choose(&report(None, &[(CheckId::Ssh, "n1"), (CheckId::Ssh, "n2")])),
        None
    );
}
