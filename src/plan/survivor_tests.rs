//! Failover's steps on the survivor when the old active is out of reach (`survivor_alone`,
//! `promote`) against a fake node: with every side (the witness too) finding the old active
//! down and garbd in the survivor's component nothing is waited for; otherwise the old active
//! is evicted by its gcomm UUID (a hostile answer never reaches a command) and the survivor's
//! view is waited for; a survivor whose Galera still counts the old active does not take over;
//! the promotion writes the role before anything else, so that keepalived's interval runs
//! while the vote and the epoch row are written.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::probe::node::ROLE_FILE;
use crate::render::progress::Silent;
use crate::transport::fake::FakeNode;

const GALERA: &str = "SHOW GLOBAL STATUS LIKE 'wsrep%'";
const MEMBERS: &str = "mysql.wsrep_cluster_members";
const EVICT: &str = "evs.evict=";
const PRIMARY: &str = include_str!("../../fixtures/galera/synced-primary.tsv");
const NON_PRIMARY: &str = include_str!("../../fixtures/galera/non-primary.tsv");
const WITH_VIP: &str = include_str!("../../fixtures/ip/with-vip.json");
const UUID: &str = "e30417c4-edd7-11f1-9e95-764cb3e880da";

/// n1 (10.213.57.11) powered off, confirmed down by the survivor; n2 takes over.
fn situation(witness_confirmed_down: bool) -> Situation {
    Situation {
        from_reachable: false,
        from_confirmed_down: true,
        witness_confirmed_down,
        ..super::fence_tests::situation(false)
    }
}

/// A survivor whose members table names n1 by `UUID` and that accepts the eviction; its
/// Galera then answers `galera`.
fn evictable(galera: &str) -> FakeNode {
    FakeNode::new("n2")
        .answer(MEMBERS, &format!("{UUID}\n"))
        .answer(EVICT, "")
        .answer(GALERA, galera)
}

/// The survivor's Galera with garbd a member: both nodes and garbd (no incoming address).
fn primary_with_garbd() -> String {
    PRIMARY
        .replace(
            "10.213.57.11:3306,10.213.57.12:3306",
            ",10.213.57.11:3306,10.213.57.12:3306",
        )
        .replace("wsrep_cluster_size\t2", "wsrep_cluster_size\t3")
}

type Steps = Vec<(String, bool, String)>;

async fn alone(
    node: &FakeNode,
    s: &Situation,
    deadline: Duration,
) -> (Result<(bool, bool), Failure>, Steps) {
    let reporter = Silent;
    let mut ex = Executor::new(&reporter);
    let r = survivor_alone(node, s, Deadline::after(deadline), &mut ex).await;
    (r, super::fence_tests::steps(&ex))
}

/// The promotion on `n2` (the witness confirmed n1 down): its problems and its steps.
async fn promoted(n2: &FakeNode) -> (Vec<String>, Steps) {
    let reporter = Silent;
    let mut ex = Executor::new(&reporter);
    let problems = promote(
        n2,
        &situation(true),
        "10.213.57.10",
        Deadline::after(Duration::from_secs(5)),
        &mut ex,
        None,
    )
    .await;
    (problems, super::fence_tests::steps(&ex))
}

fn ran(node: &FakeNode, text: &str) -> bool {
    node.commands().iter().any(|c| c.contains(text))
}

#[tokio::test]
async fn down_to_every_side_with_garbd_in_the_component_nothing_is_waited_for() {
    let n2 = FakeNode::new("n2").answer(GALERA, &primary_with_garbd());
    let (r, steps) = alone(&n2, &situation(true), Duration::from_secs(5)).await;
    assert_eq!(r.unwrap(), (false, false), "no bootstrap, no eviction");
    assert_eq!(steps.len(), 1, "{steps:?}");
    let (action, ok, detail) = &steps[0];
    assert_eq!(
        (action.as_str(), *ok),
        ("Galera: quorum without the old active", true)
    );
    assert!(
        detail.starts_with("Primary with the witness's garbd (size 3)"),
        "{detail}"
    );
    assert!(
        !ran(&n2, MEMBERS) && !ran(&n2, EVICT),
        "{:?}",
        n2.commands()
    );
}

#[tokio::test]
async fn without_the_witness_s_word_garbd_alone_is_no_reason_to_skip_the_eviction() {
    // garbd is in the component, but the witness did not (or could not) find n1 down itself.
    let n2 =
        evictable(&PRIMARY.replace("10.213.57.11:3306,10.213.57.12:3306", "10.213.57.12:3306,"));
    let (r, steps) = alone(&n2, &situation(false), Duration::from_secs(5)).await;
    // n1 evicted, garbd keeps the component Primary: no bootstrap.
    assert_eq!(r.unwrap(), (false, true));
    let actions: Vec<&str> = steps.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "Galera: evict the old active",
            "Galera: the old active is gone"
        ]
    );
    assert!(
        ran(&n2, &format!("evs.evict={UUID}")),
        "{:?}",
        n2.commands()
    );
}

#[tokio::test]
async fn a_survivor_alone_is_evicted_clear_of_the_old_active_and_bootstrapped() {
    let n2 = evictable(NON_PRIMARY);
    let (r, steps) = alone(&n2, &situation(false), Duration::from_secs(5)).await;
    assert_eq!(r.unwrap(), (true, true), "non-Primary alone: bootstrap");
    // The UUID is looked up by the old active's address, then evicted, then the view read.
    let cmds = n2.commands();
    let lookup = cmds.iter().position(|c| c.contains(MEMBERS)).unwrap();
    let evict = cmds.iter().position(|c| c.contains(EVICT)).unwrap();
    let view = cmds.iter().position(|c| c.contains(GALERA)).unwrap();
    assert!(lookup < evict && evict < view, "{cmds:?}");
    assert!(
        cmds[lookup].contains("LIKE '\\''10.213.57.11:%'\\''"),
        "{}",
        cmds[lookup]
    );
    assert!(steps[0].2.contains(UUID), "{steps:?}");
}

#[tokio::test]
async fn a_hostile_uuid_never_reaches_a_command_and_galera_s_own_eviction_is_waited_for() {
    let n2 = FakeNode::new("n2")
        .answer(MEMBERS, "x'; touch /tmp/owned; '\n")
        .answer(GALERA, NON_PRIMARY);
    let (r, steps) = alone(&n2, &situation(false), Duration::from_secs(5)).await;
    assert_eq!(
        r.unwrap(),
        (true, false),
        "not evicted by us, gone all the same"
    );
    assert!(!ran(&n2, EVICT), "{:?}", n2.commands());
    assert!(!ran(&n2, "touch"), "{:?}", n2.commands());
    let (action, ok, detail) = &steps[0];
    assert_eq!(
        (action.as_str(), *ok),
        ("Galera: evict the old active", false)
    );
    assert!(detail.contains("gcomm UUID reads"), "{detail}");
}

#[tokio::test]
async fn a_survivor_that_still_counts_the_old_active_does_not_take_over() {
    // Both nodes still in the component, no garbd, no eviction possible: a partition as far
    // as Galera can tell.
    let n2 = FakeNode::new("n2")
        .answer(MEMBERS, "")
        .answer(GALERA, PRIMARY);
    let (r, steps) = alone(&n2, &situation(false), Duration::from_millis(800)).await;
    let (outcome, message) = match r {
        Ok(v) => panic!("took over: {v:?}"),
        Err((outcome, message, _)) => (outcome, message),
    };
    assert_eq!(outcome, Outcome::Failed);
    assert!(
        message.contains("n2's Galera still counts n1 as a member"),
        "{message}"
    );
    assert!(
        message.ends_with("not taking over; nothing changed"),
        "{message}"
    );
    assert!(!steps.last().unwrap().1, "{steps:?}");
    assert!(!ran(&n2, ROLE_FILE), "{:?}", n2.commands());
}

#[tokio::test]
async fn the_witness_s_word_without_garbd_in_the_component_falls_back_to_the_eviction() {
    // The witness found n1 down, but garbd is no member (its arbitrator is down): the
    // survivor alone has 1 of 3 votes and must be rid of n1, then bootstrapped.
    let n2 = evictable(NON_PRIMARY);
    let (r, steps) = alone(&n2, &situation(true), Duration::from_secs(5)).await;
    assert_eq!(r.unwrap(), (true, true));
    let actions: Vec<(&str, bool)> = steps.iter().map(|(a, ok, _)| (a.as_str(), *ok)).collect();
    assert_eq!(
        actions,
        [
            ("Galera: quorum without the old active", true),
            ("Galera: evict the old active", true),
            ("Galera: the old active is gone", true),
        ]
    );
}

/// A survivor on which every promotion step succeeds, whose `ip -j addr` answers `ip`.
fn promotable(ip: &str) -> FakeNode {
    FakeNode::new("n2")
        .answer(crate::plan::actions::PEER_DOWN_FILE, "")
        .answer(ROLE_FILE, "")
        .answer("keepalived", "active\n")
        .answer(
            "pc.weight=2",
            "wsrep_provider_options\tbase_dir = /var/lib/mysql/; pc.weight = 2; pc.wait_prim = yes",
        )
        .answer("pairctl.epoch", "")
        .answer("start k3s.service", "")
        .answer("stop k3s.service", "")
        .answer("ip -j addr", ip)
}

#[tokio::test]
async fn the_promotion_writes_the_role_first_and_waits_for_the_vip_last() {
    let n2 = promotable(WITH_VIP);
    let (problems, steps) = promoted(&n2).await;
    assert!(problems.is_empty(), "{problems:?}");
    let actions: Vec<&str> = steps.iter().map(|(action, _, _)| action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "note the old active down",
            "promote",
            "start k3s",
            "wait for the VIP",
            "keepalived running",
            "Galera vote",
            "record the epoch",
        ]
    );
    // The note before the role (k3s's hand-over reads it), k3s after the role; the rest
    // beside them.
    let at = |what: &str| {
        n2.commands()
            .iter()
            .position(|c| c.contains(what))
            .unwrap_or_else(|| panic!("no {what} in {:?}", n2.commands()))
    };
    let role = at(ROLE_FILE);
    assert!(at(crate::plan::actions::PEER_DOWN_FILE) < role);
    assert!(role < at("start k3s"), "{:?}", n2.commands());
    assert!(n2.commands()[role].contains("echo 9 > /etc/pairctl/epoch.new"));
    assert!(n2.commands()[at("pairctl.epoch")].contains("9"));
}

#[tokio::test]
async fn k3s_started_before_the_vip_is_stopped_again_when_the_vip_does_not_come() {
    let n2 = promotable(include_str!("../../fixtures/ip/without-vip.json"));
    let (problems, steps) = promoted(&n2).await;
    assert_eq!(problems.len(), 1, "{problems:?}");
    let actions: Vec<(&str, bool)> = steps.iter().map(|(a, ok, _)| (a.as_str(), *ok)).collect();
    let at = |a: &str| actions.iter().position(|(x, _)| *x == a).unwrap();
    assert!(actions[at("start k3s")].1, "{actions:?}");
    assert!(!actions[at("wait for the VIP")].1, "{actions:?}");
    assert_eq!(
        at("stop k3s (no VIP)"),
        at("wait for the VIP") + 1,
        "{actions:?}"
    );
    assert!(actions[at("stop k3s (no VIP)")].1, "{actions:?}");
}

#[tokio::test]
async fn a_promotion_step_that_fails_is_a_problem_the_verify_step_reports() {
    let n2 = FakeNode::new("n2")
        .answer(crate::plan::actions::PEER_DOWN_FILE, "")
        .answer(ROLE_FILE, "")
        .answer("keepalived", "active\n")
        .exits("pc.weight=2", 1, "ERROR 2002 (HY000): Can't connect")
        .errs(
            "pairctl.epoch",
            ProbeError::timed_out("n2: no answer within 5.0 s"),
        )
        .answer("ip -j addr", WITH_VIP);
    let (problems, steps) = promoted(&n2).await;
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("Can't connect"), "{problems:?}");
    assert!(problems[1].starts_with("epoch row: "), "{problems:?}");
    // The VIP is still waited for (and here it came).
    let vip = steps.iter().find(|s| s.0 == "wait for the VIP").unwrap();
    assert!(vip.1, "{steps:?}");
}
