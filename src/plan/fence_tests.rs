//! Failover's fence of a reachable old active (`fence_old`) against a fake node: what it ran
//! on the old active, in which order, and what it reports when a command succeeds, exits
//! non-zero, times out or cannot reach the node. An error is how the failover ends, so
//! every failure here must come back as an outcome that is not verified (never exit 0).
#![allow(clippy::unwrap_used)]

use super::*;
use crate::probe::node::FENCE_FILE;
use crate::transport::fake::FakeNode;

use crate::render::progress::Silent;

const VIP: &str = "10.213.57.10";
const WITH_VIP: &str = include_str!("../../fixtures/ip/with-vip.json");
const WITHOUT_VIP: &str = include_str!("../../fixtures/ip/without-vip.json");
const VOTE_0: &str = "pc.weight=0";
const VOTE_0_READ: &str =
    "wsrep_provider_options\tbase_dir = /var/lib/mysql/; pc.weight = 0; pc.wait_prim = yes";
const STOP_DB: &str = "systemctl stop mariadb";

/// n1 (10.213.57.11) the old active, reachable; n2 takes over (survivor_tests.rs starts from it).
pub(super) fn situation(needs_bootstrap: bool) -> Situation {
    Situation {
        from: "n1".into(),
        to: "n2".into(),
        from_address: "10.213.57.11".into(),
        from_reachable: true,
        from_confirmed_down: false,
        witness_confirmed_down: false,
        needs_bootstrap,
        epoch: 9,
        survivor_seqno: Some(41),
    }
}

/// Runs the fence with no other links (what `observed` adds to a message is then "cannot be
/// asked"), returning its result, the steps it recorded and what ran on the old active.
async fn fence(
    old: &FakeNode,
    needs_bootstrap: bool,
    deadline: Duration,
) -> (Result<(), Failure>, Vec<(String, bool, String)>) {
    let links: [NodeLink<FakeNode>; 0] = [];
    let reporter = Silent;
    let mut ex = Executor::new(&reporter);
    let s = situation(needs_bootstrap);
    let r = fence_old(&links, old, &s, VIP, Deadline::after(deadline), &mut ex).await;
    (r, steps(&ex))
}

/// What an executor recorded: (action, ok, detail) per step (survivor_tests.rs reads it too).
pub(super) fn steps(ex: &Executor) -> Vec<(String, bool, String)> {
    ex.records
        .iter()
        .map(|r| (r.action.clone(), r.ok, r.detail.clone()))
        .collect()
}

fn failure(r: Result<(), Failure>) -> (Outcome, String) {
    match r {
        Ok(()) => panic!("the fence reported success"),
        Err((outcome, message, _)) => {
            assert_ne!(outcome, Outcome::Verified, "{message}");
            (outcome, message)
        }
    }
}

fn ran(node: &FakeNode, text: &str) -> bool {
    node.commands().iter().any(|c| c.contains(text))
}

#[tokio::test]
async fn fence_writes_the_marker_votes_0_and_waits_for_the_vip_to_go() {
    let old = FakeNode::new("n1")
        .answer(FENCE_FILE, "")
        .answer(VOTE_0, VOTE_0_READ)
        .answer("ip -j addr", WITHOUT_VIP);
    let (r, steps) = fence(&old, false, Duration::from_secs(10)).await;
    r.unwrap();
    let marker = String::from_utf8(old.input_of(FENCE_FILE).unwrap()).unwrap();
    assert!(marker.starts_with("by=failover\n"), "{marker}");
    assert!(marker.contains("\nepoch=9\n"), "{marker}");
    assert!(marker.contains("reason=failover to n2 by "), "{marker}");
    let order: Vec<(&str, bool)> = steps.iter().map(|(a, ok, _)| (a.as_str(), *ok)).collect();
    assert_eq!(
        order,
        [
            ("fence", true),
            ("fence: Galera vote 0", true),
            ("wait until the VIP is released", true),
        ]
    );
    assert!(!ran(&old, STOP_DB), "{:?}", old.commands());
    // The marker is written before anything else is touched.
    assert!(
        old.commands()[0].contains(FENCE_FILE),
        "{:?}",
        old.commands()
    );
}

#[tokio::test]
async fn a_survivor_to_bootstrap_stops_the_old_database_instead_of_voting_0() {
    let old = FakeNode::new("n1")
        .answer(FENCE_FILE, "")
        .answer(STOP_DB, "")
        .answer("ip -j addr", WITHOUT_VIP);
    let (r, steps) = fence(&old, true, Duration::from_secs(10)).await;
    r.unwrap();
    assert!(ran(&old, STOP_DB));
    assert!(!ran(&old, VOTE_0), "{:?}", old.commands());
    assert!(steps.contains(&("fence: stop mariadb".into(), true, "mariadb stopped".into())));
}

#[tokio::test]
async fn an_unreachable_old_active_is_not_fenced_and_the_failover_says_so() {
    let old = FakeNode::new("n1").errs(
        FENCE_FILE,
        ProbeError::unreachable("n1: cannot open a channel: connection reset"),
    );
    let (r, steps) = fence(&old, true, Duration::from_secs(10)).await;
    let (outcome, message) = failure(r);
    assert_eq!(outcome, Outcome::Failed);
    assert!(message.starts_with("could not fence n1: "), "{message}");
    assert!(message.contains("cannot open a channel"), "{message}");
    assert!(message.ends_with("nothing changed"), "{message}");
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert!(!steps[0].1, "{steps:?}");
    // Nothing else was tried on it.
    assert_eq!(old.commands().len(), 1, "{:?}", old.commands());
}

#[tokio::test]
async fn a_fence_that_times_out_or_exits_non_zero_fails_the_failover() {
    for old in [
        FakeNode::new("n1").errs(
            FENCE_FILE,
            ProbeError::timed_out("n1: no answer within 10.0 s"),
        ),
        FakeNode::new("n1").exits(
            FENCE_FILE,
            1,
            "mkdir: cannot create directory: Read-only file system",
        ),
    ] {
        let (r, steps) = fence(&old, false, Duration::from_secs(10)).await;
        let (outcome, message) = failure(r);
        assert_eq!(outcome, Outcome::Failed, "{message}");
        assert!(
            message.contains("no answer within") || message.contains("Read-only file system"),
            "{message}"
        );
        assert_eq!(steps.len(), 1, "{steps:?}");
        assert!(!ran(&old, "ip -j addr"), "{:?}", old.commands());
    }
}

#[tokio::test]
async fn a_database_that_will_not_stop_is_not_bootstrapped_over() {
    let old = FakeNode::new("n1")
        .answer(FENCE_FILE, "")
        .exits(STOP_DB, 1, "Job for mariadb.service canceled.")
        .answer("ip -j addr", WITH_VIP);
    let (r, steps) = fence(&old, true, Duration::from_secs(10)).await;
    let (outcome, message) = failure(r);
    assert_eq!(outcome, Outcome::NotConverged);
    assert!(
        message.contains("n1 is fenced but its database could not be stopped"),
        "{message}"
    );
    assert!(message.contains("n2 was not bootstrapped"), "{message}");
    assert!(message.contains("n1 cannot be asked"), "{message}");
    let last = steps.last().unwrap();
    assert_eq!((last.0.as_str(), last.1), ("fence: stop mariadb", false));
    // It stops there: no wait for the VIP.
    assert!(!ran(&old, "ip -j addr"), "{:?}", old.commands());
}

#[tokio::test]
async fn a_failed_vote_0_is_not_fatal_but_a_vip_that_stays_is() {
    let old = FakeNode::new("n1")
        .answer(FENCE_FILE, "")
        .errs(
            VOTE_0,
            ProbeError::failed("ERROR 2002 (HY000): Can't connect"),
        )
        .answer("ip -j addr", WITH_VIP);
    let (r, steps) = fence(&old, false, Duration::from_millis(1500)).await;
    let (outcome, message) = failure(r);
    assert_eq!(outcome, Outcome::NotConverged);
    assert!(
        message.contains("n1 is fenced but did not release the VIP"),
        "{message}"
    );
    let order: Vec<(&str, bool)> = steps.iter().map(|(a, ok, _)| (a.as_str(), *ok)).collect();
    assert_eq!(
        order,
        [
            ("fence", true),
            ("fence: Galera vote 0", false),
            ("wait until the VIP is released", false),
        ]
    );
}
