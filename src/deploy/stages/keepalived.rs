//! keepalived: unicast VRRP holding the VIP, with the maintenance track script `swap` uses
//! and the notify script that runs k3s, the ingress and the replication on the MASTER only.
//! Started at boot; at the first start the first node goes first and takes the VIP, then the
//! second joins as BACKUP. A changed config is reloaded (the VIP stays where it is). Last:
//! the services run where the VIP is, and nowhere else.

use super::Env;
use crate::deploy::files::{self, Desired, Effect};
use crate::deploy::remote::{self, parse_units, Script, Sections};
use crate::deploy::{templates, Action, Change, Problem, Stage, StagePlan};
use crate::probe::node::{MAINTENANCE_FILE, VRRP_STATE_FILE};
use std::time::Duration;

const KEEPALIVED: &str = "keepalived.service";

/// The units that run on the VIP holder only (litestream when the bundle has it).
pub fn role_units(env: &Env) -> Vec<&'static str> {
    let mut u = vec!["k3s.service", "nginx.service"];
    if env.bundle.get("litestream").is_some() {
        u.push("litestream.service");
    }
    u
}

pub fn script(env: &Env, _node: usize) -> String {
    let mut units = vec![KEEPALIVED];
    units.extend(role_units(env));
    Script::new()
        .section("units", &remote::units_fragment(&units))
        .section(
            "files",
            &files::check_fragment(&[templates::KEEPALIVED_CONF, templates::NOTIFY_SCRIPT]),
        )
        .section(
            "vip",
            &format!(
                "ip -o addr show | grep -q ' {}/' && echo holds",
                env.cfg.vip
            ),
        )
        .section("vrrp", &format!("cat {VRRP_STATE_FILE}"))
        .section(
            "maintenance",
            &format!("test -e {MAINTENANCE_FILE} && echo present"),
        )
        .build()
}

fn desired(env: &Env, node: usize) -> Result<Vec<Desired>, Problem> {
    let mut d = vec![Desired::file(
        templates::KEEPALIVED_CONF,
        templates::keepalived_conf(env.cfg, node, env.interface(node)?),
        0o644,
        &[Effect::Reload(KEEPALIVED)],
    )];
    for (f, content) in env.bundle.files_of(Stage::Keepalived) {
        d.push(Desired::shared(f.target, content, f.mode, f.effects));
    }
    if d.len() < 2 {
        return Err(Problem::new(
            None,
            "the bundle has no keepalived-notify.sh (the notify script that starts k3s on the active node)",
        ));
    }
    Ok(d)
}

fn start(node: usize, phase: u8, summary: String, condition: &str, what: &str) -> Change {
    Change::new(
        node,
        phase,
        summary,
        Action::Run {
            shown: "systemctl start keepalived".into(),
            script: format!(
                "set -e\nsystemctl start {KEEPALIVED}\n{}\n",
                remote::wait_until(condition, 30, what)
            ),
            limit: Duration::from_secs(60),
        },
    )
}

pub fn plan(env: &Env, seen: &[Sections]) -> Result<StagePlan, Problem> {
    let cfg = env.cfg;
    let mut plan = StagePlan::default();
    let roles = role_units(env);
    let mut active = Vec::new();
    let mut holds = Vec::new();
    let mut consistent = true;
    let mut reloads = Vec::new();
    for (i, s) in seen.iter().enumerate() {
        let (changes, effects) = files::plan_files(
            i,
            0,
            &desired(env, i)?,
            &files::parse_states(s.get("files")),
        );
        plan.extend(changes);
        let units = parse_units(s.get("units"));
        let k = units.get(KEEPALIVED).cloned().unwrap_or_default();
        if !k.is_enabled() {
            plan.push(files::systemctl(
                i,
                0,
                "enable keepalived (start at boot)".into(),
                "enable keepalived.service",
                Duration::from_secs(30),
            ));
        }
        active.push(k.is_active());
        let holder = s.get("vip").trim() == "holds";
        holds.push(holder);
        let running: Vec<bool> = roles
            .iter()
            .map(|u| units.get(*u).map(|x| x.is_active()).unwrap_or(false))
            .collect();
        if holder != running.iter().all(|r| *r) || (!holder && running.iter().any(|r| *r)) {
            consistent = false;
        }
        if s.get("maintenance").trim() == "present" {
            plan.notes.push(format!(
                "{} is demoted ({MAINTENANCE_FILE} exists): left as it is",
                env.node_name(i)
            ));
        }
        reloads.push(files::effect_changes(i, 3, &effects, &units));
    }
    let vip_cond = format!("ip -o addr show | grep -q ' {}/'", cfg.vip);
    let settled = format!("grep -qxE 'BACKUP|MASTER' {VRRP_STATE_FILE} 2>/dev/null");
    let mut started = false;
    match (active.first(), active.get(1)) {
        (Some(false), Some(false)) => {
            plan.push(start(
                0,
                1,
                format!(
                    "start keepalived, wait until {} holds the VIP {}",
                    env.node_name(0),
                    cfg.vip
                ),
                &vip_cond,
                "the VIP",
            ));
            plan.push(start(
                1,
                2,
                "start keepalived, wait until it is BACKUP".into(),
                &settled,
                "a VRRP state",
            ));
            started = true;
        }
        _ => {
            for (i, a) in active.iter().enumerate() {
                if !a {
                    plan.push(start(
                        i,
                        2,
                        "start keepalived, wait until it has a VRRP state".into(),
                        &settled,
                        "a VRRP state",
                    ));
                    started = true;
                }
            }
        }
    }
    // Running keepalived reads a changed config on reload (the VIP stays where it is).
    for r in reloads {
        plan.extend(r);
    }
    if started || !consistent || holds.iter().filter(|h| **h).count() != 1 {
        plan.push(Change::new(
            0,
            4,
            format!(
                "make sure {} run on the VIP holder only",
                roles
                    .iter()
                    .map(|u| u.strip_suffix(".service").unwrap_or(u))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Action::EnsureRoles {
                vip: cfg.vip.to_string(),
                units: roles,
            },
        ));
    }
    Ok(plan)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{env_for, lab_cfg, summaries};
    use super::*;

    fn node(units: &str, files: &str, vip: bool) -> Sections {
        Sections::parse(&format!(
            "@@pairctl:units\n{units}\n@@pairctl:files\n{files}@@pairctl:vip\n{}\n@@pairctl:vrrp\n@@pairctl:maintenance\n",
            if vip { "holds" } else { "" }
        ))
    }

    fn installed(env: &Env, i: usize) -> String {
        let mut s = String::new();
        for d in desired(env, i).unwrap() {
            if let Desired::File {
                path,
                content,
                mode,
                ..
            } = d
            {
                s.push_str(&format!(
                    "S|{path}|root:root|{mode:o}|regular file\n{}  {path}\n",
                    files::sha256_hex(&content)
                ));
            }
        }
        s
    }

    #[test]
    fn bare_nodes_start_the_first_node_first() {
        let cfg = lab_cfg();
        let env = env_for(&cfg);
        let bare = node("keepalived.service inactive disabled", "", false);
        assert_eq!(
            summaries(&plan(&env, &[bare.clone(), bare]).unwrap()),
            vec![
                "0 n1: write /etc/keepalived/keepalived.conf (new)",
                "0 n1: write /etc/keepalived/notify.sh (new)",
                "0 n1: enable keepalived (start at boot)",
                "0 n2: write /etc/keepalived/keepalived.conf (new)",
                "0 n2: write /etc/keepalived/notify.sh (new)",
                "0 n2: enable keepalived (start at boot)",
                "1 n1: start keepalived, wait until n1 holds the VIP 10.213.57.10",
                "2 n2: start keepalived, wait until it is BACKUP",
                "4 n1: make sure k3s, nginx, litestream run on the VIP holder only",
            ]
        );
    }

    #[test]
    fn a_deployed_pair_needs_nothing_wherever_the_vip_is() {
        let cfg = lab_cfg();
        let env = env_for(&cfg);
        let active = "keepalived.service active enabled\nk3s.service active disabled\nnginx.service active disabled\nlitestream.service active static";
        let standby = "keepalived.service active enabled\nk3s.service inactive disabled\nnginx.service inactive disabled\nlitestream.service inactive static";
        for (a, b) in [(true, false), (false, true)] {
            let p = plan(
                &env,
                &[
                    node(if a { active } else { standby }, &installed(&env, 0), a),
                    node(if b { active } else { standby }, &installed(&env, 1), b),
                ],
            )
            .unwrap();
            assert!(p.is_empty(), "{:?}", summaries(&p));
        }
        // k3s on the standby too: fixed.
        let p = plan(
            &env,
            &[
                node(active, &installed(&env, 0), true),
                node(active, &installed(&env, 1), false),
            ],
        )
        .unwrap();
        assert_eq!(
            summaries(&p),
            vec!["4 n1: make sure k3s, nginx, litestream run on the VIP holder only"]
        );
    }

    #[test]
    fn a_new_vip_reloads_running_keepalived() {
        let cfg = lab_cfg();
        let env = env_for(&cfg);
        let mut cfg2 = cfg.clone();
        cfg2.vip = "10.213.57.13".parse().unwrap();
        let env2 = env_for(&cfg2);
        let active = "keepalived.service active enabled\nk3s.service active disabled\nnginx.service active disabled\nlitestream.service active static";
        let standby = "keepalived.service active enabled\nk3s.service inactive disabled\nnginx.service inactive disabled\nlitestream.service inactive static";
        // Nobody holds the new VIP yet.
        let p = plan(
            &env2,
            &[
                node(active, &installed(&env, 0), false),
                node(standby, &installed(&env, 1), false),
            ],
        )
        .unwrap();
        assert_eq!(
            summaries(&p),
            vec![
                "0 n1: write /etc/keepalived/keepalived.conf (changed)",
                "0 n2: write /etc/keepalived/keepalived.conf (changed)",
                "3 n1: reload keepalived",
                "3 n2: reload keepalived",
                "4 n1: make sure k3s, nginx, litestream run on the VIP holder only",
            ]
        );
    }
}
