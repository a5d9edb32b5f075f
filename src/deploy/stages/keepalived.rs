//! keepalived: unicast VRRP holding the VIP, with the quorum track scripts (only the node whose
//! role is active, with a Primary Galera, may hold it) and the notify script that runs k3s, the
//! ingress and the replication on the MASTER only. The role and epoch files are written only
//! where they are missing, from what the nodes show (the VIP holder is the active): a re-run
//! after a swap or failover never moves the roles back. Started at boot; at the first start the
//! active goes first and takes the VIP, then the standby joins (held in FAULT by its role). A
//! changed config is reloaded (the VIP stays where it is). Last: the services run where the
//! VIP is, and nowhere else.

use super::Env;
use crate::deploy::bundle::LITESTREAM;
use crate::deploy::files::{self, Desired, Effect};
use crate::deploy::remote::{self, parse_units, Script, Sections};
use crate::deploy::{templates, Action, Change, Problem, Stage, StagePlan};
use crate::pair::NodeId;
use crate::probe::node::{EPOCH_FILE, FENCE_FILE, MAINTENANCE_FILE, ROLE_FILE, VRRP_STATE_FILE};
use std::sync::Arc;
use std::time::Duration;

const KEEPALIVED: &str = "keepalived.service";
/// The phase that waits for the services on the VIP holder (after the starts and reloads).
const ROLES_PHASE: u8 = 4;

/// The units that run on the VIP holder only (litestream when the bundle has it).
pub fn role_units(env: &Env) -> Vec<&'static str> {
    let mut u = vec!["k3s.service", "nginx.service"];
    if env.bundle.get("litestream").is_some() {
        u.push(LITESTREAM);
    }
    u
}

/// The sections `roles` reads (the galera stage asks them too, for the epoch row).
pub fn role_sections(s: Script, vip: &str) -> Script {
    s.section(
        "vip",
        &format!("ip -o addr show | grep -q ' {vip}/' && echo holds"),
    )
    .section("role", &format!("head -c 64 {ROLE_FILE}"))
    .section("epoch", &format!("head -c 32 {EPOCH_FILE}"))
    .section("fenced", &format!("test -e {FENCE_FILE} && echo fenced"))
}

pub fn script(env: &Env, _node: usize) -> String {
    let mut units = vec![KEEPALIVED];
    units.extend(role_units(env));
    let s = Script::new()
        .section("units", &remote::units_fragment(&units))
        .section(
            "files",
            &files::check_fragment(&[
                templates::KEEPALIVED_CONF,
                templates::QUORUM_SCRIPT,
                templates::NOTIFY_SCRIPT,
            ]),
        )
        .section("vrrp", &format!("cat {VRRP_STATE_FILE}"))
        .section(
            "maintenance",
            &format!("test -e {MAINTENANCE_FILE} && echo present"),
        );
    role_sections(s, &env.cfg.vip.to_string()).build()
}

fn desired(env: &Env, me: NodeId) -> Result<Vec<Desired>, Problem> {
    let mut d = vec![
        Desired::file(
            templates::KEEPALIVED_CONF,
            templates::keepalived_conf(env.cfg, me, env.interface(me.index())?),
            0o644,
            &[Effect::Reload(KEEPALIVED)],
        ),
        // keepalived runs it every second: a new version needs no reload.
        Desired::file(
            templates::QUORUM_SCRIPT,
            templates::QUORUM_SCRIPT_TEXT,
            0o755,
            &[],
        ),
    ];
    for (f, content) in env.bundle.files_of(Stage::Keepalived) {
        d.push(Desired::shared(f.target, content, f.mode, f.effects));
    }
    if d.len() < 3 {
        return Err(Problem::new(
            None,
            "the bundle has no keepalived-notify.sh (the notify script that starts k3s on the active node)",
        ));
    }
    Ok(d)
}

/// What a start of keepalived waits for.
#[derive(Clone, Copy)]
enum Until {
    /// The node holds the VIP.
    Vip,
    /// keepalived wrote a VRRP state (a standby settles in FAULT, held out by its role).
    State,
}

fn start(env: &Env, node: usize, phase: u8, summary: String, until: Until) -> Change {
    let (wait_for, what) = match until {
        Until::Vip => ("vip", "the VIP"),
        Until::State => ("state", "a VRRP state"),
    };
    Change::new(
        node,
        phase,
        summary,
        Action::Run {
            shown: "systemctl start keepalived".into(),
            script: remote::with_params(
                include_str!("../scripts/keepalived-start.sh"),
                &[
                    ("WAIT_FOR", wait_for),
                    ("VIP", &env.cfg.vip.to_string()),
                    ("STATE_FILE", VRRP_STATE_FILE),
                    ("WHAT", what),
                ],
            ),
            limit: Duration::from_secs(60),
        },
    )
}

/// A file to write on a node: (node, path, content).
pub type FileWrite = (usize, &'static str, String);

/// The role each node has, and the role and epoch files to write where they are missing. A
/// role on a node is never changed here (swap and failover own it); a pair with no role yet
/// makes the VIP holder the active, else the first node.
pub fn roles(seen: &[Sections]) -> Result<(Vec<String>, Vec<FileWrite>), Problem> {
    /// What `role_sections` printed on one node (trimmed).
    struct Marks<'a> {
        vip: &'a str,
        role: &'a str,
        epoch: Option<u64>,
        fenced: bool,
    }
    let mut marks = Vec::new();
    for s in seen {
        marks.push(Marks {
            vip: s.get("vip")?.trim(),
            role: s.get("role")?.trim(),
            epoch: s.get("epoch")?.trim().parse::<u64>().ok(),
            fenced: s.get("fenced")?.trim() == "fenced",
        });
    }
    let have: Vec<Option<String>> = marks
        .iter()
        .map(|m| Some(m.role.to_string()).filter(|r| !r.is_empty()))
        .collect();
    let holder = marks.iter().position(|m| m.vip == "holds");
    let claimed =
        (0..marks.len()).find(|i| have[*i].as_deref() == Some("active") && !marks[*i].fenced);
    let active = claimed.or(holder).unwrap_or(0);
    let epoch = marks.iter().filter_map(|m| m.epoch).max().unwrap_or(1);
    let mut writes = Vec::new();
    let mut out = Vec::new();
    for (i, m) in marks.iter().enumerate() {
        let role = have[i].clone().unwrap_or_else(|| {
            let r = if i == active { "active" } else { "standby" };
            writes.push((i, ROLE_FILE, format!("{r}\n")));
            r.to_string()
        });
        if m.epoch.is_none() {
            writes.push((i, EPOCH_FILE, format!("{epoch}\n")));
        }
        out.push(role);
    }
    Ok((out, writes))
}

/// keepalived started where it is stopped: with both stopped, the active first (until it
/// holds the VIP), then the other while the services start on the active; the changes, and
/// whether any starts.
fn start_changes(env: &Env, active: &[bool], first: usize) -> (Vec<Change>, bool) {
    let cfg = env.cfg;
    let mut plan = Vec::new();
    let mut started = false;
    match (active.first(), active.get(1)) {
        (Some(false), Some(false)) => {
            plan.push(start(
                env,
                first,
                1,
                format!(
                    "start keepalived, wait until {} (the active) holds the VIP {}",
                    env.node_name(first),
                    cfg.vip
                ),
                Until::Vip,
            ));
            // Once the active holds the VIP, beside the wait for the services there (the
            // standby's role holds it in FAULT: it takes nothing from the active).
            plan.push(start(
                env,
                1 - first,
                ROLES_PHASE,
                "start keepalived, wait until it has a VRRP state (a standby is held in FAULT)"
                    .into(),
                Until::State,
            ));
            started = true;
        }
        _ => {
            for (i, a) in active.iter().enumerate() {
                if !a {
                    plan.push(start(
                        env,
                        i,
                        2,
                        "start keepalived, wait until it has a VRRP state".into(),
                        Until::State,
                    ));
                    started = true;
                }
            }
        }
    }
    (plan, started)
}

pub fn plan(env: &Env, seen: &[Sections]) -> Result<StagePlan, Problem> {
    let cfg = env.cfg;
    let mut plan = StagePlan::default();
    let (role, writes) = roles(seen)?;
    for (i, path, content) in writes {
        plan.push(Change::new(
            i,
            0,
            format!("write {path} (new): {}", content.trim()),
            Action::Write {
                path: path.to_string(),
                content: Arc::new(content.into_bytes()),
                owner: files::ROOT,
                mode: 0o644,
            },
        ));
    }
    let first = role.iter().position(|r| r == "active").unwrap_or(0);
    let roles = role_units(env);
    let mut active = Vec::new();
    let mut holds = Vec::new();
    let mut consistent = true;
    let mut reloads = Vec::new();
    for (me, s) in NodeId::BOTH.into_iter().zip(seen) {
        let i = me.index();
        let (changes, effects) = files::plan_files(
            i,
            0,
            &desired(env, me)?,
            &files::parse_states(s.get("files")?),
        );
        plan.extend(changes);
        let units = parse_units(s.get("units")?);
        let k = units.get(KEEPALIVED).cloned().unwrap_or_default();
        if !k.is_enabled() {
            plan.push(files::enable(
                i,
                0,
                "enable keepalived (start at boot)".into(),
                KEEPALIVED,
                false,
            ));
        }
        active.push(k.is_active());
        let holder = s.get("vip")?.trim() == "holds";
        holds.push(holder);
        let running: Vec<bool> = roles
            .iter()
            .map(|u| units.get(*u).map(|x| x.is_active()).unwrap_or(false))
            .collect();
        if holder != running.iter().all(|r| *r) || (!holder && running.iter().any(|r| *r)) {
            consistent = false;
        }
        if s.get("fenced")?.trim() == "fenced" {
            plan.notes.push(format!(
                "{} is fenced ({FENCE_FILE} exists): left as it is until it is rejoined",
                env.node_name(i)
            ));
        }
        if s.get("maintenance")?.trim() == "present" {
            plan.notes.push(format!(
                "{} is demoted ({MAINTENANCE_FILE} exists): left as it is",
                env.node_name(i)
            ));
        }
        reloads.push(files::effect_changes(i, 3, &effects, &units));
    }
    let (starts, started) = start_changes(env, &active, first);
    plan.extend(starts);
    // Running keepalived reads a changed config on reload (the VIP stays where it is).
    for r in reloads {
        plan.extend(r);
    }
    if started || !consistent || holds.iter().filter(|h| **h).count() != 1 {
        // On the active's row: a standby started in the same phase runs beside it.
        plan.push(Change::new(
            first,
            ROLES_PHASE,
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
                replica_db: roles
                    .contains(&LITESTREAM)
                    .then(|| cfg.k3s.state_path.clone()),
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

    /// A file the check does not look at would be "new" on every run.
    #[test]
    fn the_check_looks_at_every_file_it_writes() {
        let cfg = lab_cfg();
        let env = env_for(&cfg);
        let check = script(&env, 0);
        for d in desired(&env, NodeId::First).unwrap() {
            assert!(check.contains(d.path()), "{} is not checked", d.path());
        }
    }

    /// A re-run after a swap (n2 active, epoch 3) keeps the roles; an old pair without role
    /// files makes the VIP holder the active, never "repairs" it back to the first node.
    #[test]
    fn roles_are_read_from_the_nodes_never_repaired() {
        let sec = |vip: bool, role: &str, epoch: &str| {
            Sections::parse(&format!(
                "@@pairctl:vip\n{}\n@@pairctl:role\n{role}\n@@pairctl:epoch\n{epoch}\n@@pairctl:fenced\n",
                if vip { "holds" } else { "" }
            ))
        };
        let (r, w) = roles(&[sec(false, "standby", "3"), sec(true, "active", "3")]).unwrap();
        assert_eq!(
            (r, w.len()),
            (vec!["standby".to_string(), "active".into()], 0)
        );
        let (r, w) = roles(&[sec(false, "", ""), sec(true, "", "")]).unwrap();
        assert_eq!(r, vec!["standby".to_string(), "active".into()]);
        assert_eq!(
            w,
            vec![
                (0, ROLE_FILE, "standby\n".to_string()),
                (0, EPOCH_FILE, "1\n".to_string()),
                (1, ROLE_FILE, "active\n".to_string()),
                (1, EPOCH_FILE, "1\n".to_string()),
            ]
        );
        // A fenced old active that still says "active" keeps its file; so does the new one.
        let (r, w) = roles(&[sec(false, "active", "2"), sec(true, "active", "3")]).unwrap();
        assert_eq!((r.len(), w.len()), (2, 0));
    }

    fn node(units: &str, files: &str, vip: bool) -> Sections {
        Sections::parse(&format!(
            "@@pairctl:units\n{units}\n@@pairctl:files\n{files}@@pairctl:vip\n{}\n@@pairctl:vrrp\n@@pairctl:maintenance\n@@pairctl:role\n{}\n@@pairctl:epoch\n{}\n@@pairctl:fenced\n",
            if vip { "holds" } else { "" },
            if files.is_empty() { "" } else if vip { "active" } else { "standby" },
            if files.is_empty() { "" } else { "3" },
        ))
    }

    fn installed(env: &Env, i: usize) -> String {
        let mut s = String::new();
        for d in desired(env, NodeId::at(i).unwrap()).unwrap() {
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
            summaries(&plan(&env, &[bare.clone(), bare.clone()]).unwrap()),
            vec![
                "0 n1: write /etc/pairctl/role (new): active",
                "0 n1: write /etc/pairctl/epoch (new): 1",
                "0 n2: write /etc/pairctl/role (new): standby",
                "0 n2: write /etc/pairctl/epoch (new): 1",
                "0 n1: write /etc/keepalived/keepalived.conf (new)",
                "0 n1: write /etc/keepalived/pairctl-quorum.sh (new)",
                "0 n1: write /etc/keepalived/notify.sh (new)",
                "0 n1: enable keepalived (start at boot)",
                "0 n2: write /etc/keepalived/keepalived.conf (new)",
                "0 n2: write /etc/keepalived/pairctl-quorum.sh (new)",
                "0 n2: write /etc/keepalived/notify.sh (new)",
                "0 n2: enable keepalived (start at boot)",
                "1 n1: start keepalived, wait until n1 (the active) holds the VIP 10.213.57.10",
                "4 n2: start keepalived, wait until it has a VRRP state (a standby is held in FAULT)",
                "4 n1: make sure k3s, nginx, litestream run on the VIP holder only",
            ]
        );
        // The first sync of the replica litestream starts on the standby, once k3s runs.
        let p = plan(&env, &[bare.clone(), bare]).unwrap();
        let ensure = p
            .changes
            .iter()
            .find(|c| c.action.kind() == "ensure-roles")
            .unwrap();
        let Action::EnsureRoles { replica_db, .. } = &ensure.action else {
            panic!("{:?}", ensure.action)
        };
        assert_eq!(replica_db.as_deref(), Some(cfg.k3s.state_path.as_str()));
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
