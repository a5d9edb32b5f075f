//! record: the deployment record `status` shows as its header (version, build, mode, type,
//! VIP, node addresses), the same on both nodes. Its time stamp is the time of the deploy
//! that last changed it: a re-run keeps it, and so writes nothing.

use super::Env;
use crate::deploy::files::{self, Desired};
use crate::deploy::remote::{Script, Sections};
use crate::deploy::{templates, Problem, StagePlan};
use crate::probe::node::{Deployment, DEPLOYMENT_RECORD};

pub fn script(_env: &Env, _node: usize) -> String {
    Script::new()
        .section("files", &files::check_fragment(&[DEPLOYMENT_RECORD]))
        .section("record", &format!("cat {DEPLOYMENT_RECORD}"))
        .build()
}

fn same_but_time(a: &Deployment, b: &Deployment) -> bool {
    Deployment {
        time_stamp: String::new(),
        ..a.clone()
    } == Deployment {
        time_stamp: String::new(),
        ..b.clone()
    }
}

/// The time stamp to write: kept from a record (this node's first, then the other's) that
/// says the same otherwise; now when the record changes.
pub fn time_stamp(env: &Env, seen: &[Sections], node: usize) -> Result<String, Problem> {
    let wanted = templates::deployment(env.cfg, "");
    let mut order = vec![node];
    order.extend((0..seen.len()).filter(|i| *i != node));
    let mut records = Vec::new();
    for i in order {
        records.push(seen[i].get("record")?);
    }
    Ok(records
        .into_iter()
        .filter_map(|text| serde_json::from_str::<Deployment>(text).ok())
        .find(|r| same_but_time(r, &wanted) && !r.time_stamp.is_empty())
        .map(|r| r.time_stamp)
        .unwrap_or_else(|| env.now.clone()))
}

pub fn plan(env: &Env, seen: &[Sections]) -> Result<StagePlan, Problem> {
    let mut plan = StagePlan::default();
    for (i, s) in seen.iter().enumerate() {
        let record = templates::deployment(env.cfg, &time_stamp(env, seen, i)?);
        let desired = [Desired::file(
            DEPLOYMENT_RECORD,
            templates::deployment_json(&record),
            0o644,
            &[],
        )];
        let (changes, _) = files::plan_files(i, 0, &desired, &files::parse_states(s.get("files")?));
        plan.extend(changes);
    }
    Ok(plan)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{env_for, lab_cfg, summaries};
    use super::*;

    fn node(record: &str) -> Sections {
        let files = if record.is_empty() {
            String::new()
        } else {
            format!(
                "S|{DEPLOYMENT_RECORD}|root:root|644|regular file\n{}  {DEPLOYMENT_RECORD}\n",
                files::sha256_hex(record.as_bytes())
            )
        };
        Sections::parse(&format!(
            "@@pairctl:files\n{files}@@pairctl:record\n{record}"
        ))
    }

    #[test]
    fn the_time_stamp_survives_a_rerun_and_changes_with_the_record() {
        let cfg = lab_cfg();
        let env = env_for(&cfg);
        let p = plan(&env, &[node(""), node("")]).unwrap();
        assert_eq!(
            summaries(&p),
            vec![
                "0 n1: write /etc/pairctl/deployment.json (new)",
                "0 n2: write /etc/pairctl/deployment.json (new)"
            ]
        );
        let old = templates::deployment_json(&templates::deployment(&cfg, "2023-01-01T00:00:00Z"));
        let p = plan(&env, &[node(&old), node(&old)]).unwrap();
        assert!(p.is_empty(), "{:?}", summaries(&p));
        // n2 lost its record: it gets the same one back, time stamp included.
        let p = plan(&env, &[node(&old), node("")]).unwrap();
        let crate::deploy::Action::Write { content, .. } = &p.changes[0].action else {
            panic!()
        };
        assert_eq!(String::from_utf8_lossy(content), old);
        // A new VIP: a new record, stamped now.
        let mut cfg2 = cfg.clone();
        cfg2.vip = "10.213.57.13".parse().unwrap();
        let env2 = env_for(&cfg2);
        let p = plan(&env2, &[node(&old), node(&old)]).unwrap();
        assert_eq!(p.changes.len(), 2);
        assert_eq!(
            time_stamp(&env2, &[node(&old), node(&old)], 0).unwrap(),
            "2024-05-02T10:00:00Z"
        );
    }
}
