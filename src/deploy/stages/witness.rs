//! witness: the `[witness]` host as the pair's third vote (see `crate::witness` and the quorum
//! script). On the witness: garbd (Debian's galera-arbitrator-4, installed when missing) with
//! `/etc/default/garb` naming both nodes and the cluster, enabled and running, a member of the
//! nodes' Galera cluster (size 3); glusterd enabled and running, in the nodes' trusted pool,
//! holding the arbiter brick of each volume (a replica-2 volume is converted with `add-brick
//! replica 3 arbiter 1`, and the change is done only once heal reports nothing pending on
//! three connected bricks); the nodes' root keys authorized (the standby asks the witness
//! about the active before it steps out). On each node: `/etc/pairctl/witness` (what the
//! quorum script reads: the witness's address, this node's name, its peer's address, the
//! lease) and the witness's host key in root's known_hosts. Without `[witness]` the stage
//! does not run. The checks run on the nodes and on the witness (its index is `nodes.len()`).

use super::galera::run;
use super::Env;
use crate::deploy::files::{self, Desired, Effect};
use crate::deploy::remote::{self, parse_units, Script, Sections};
use crate::deploy::stages::gluster::{self as gluster_stage, VolumeInfo};
use crate::deploy::stages::trust::key_id;
use crate::deploy::{templates, Action, Change, Problem, StagePlan};
use crate::pair::NodeId;
use crate::probe::galera;
use crate::probe::gluster;
use crate::probe::node::shell_quote;
use std::time::Duration;

/// What the quorum script reads on each node (its witness mode).
pub const WITNESS_FILE: &str = "/etc/pairctl/witness";
/// garbd's configuration, read by Debian's garb.service (`garb-systemd` sources it).
pub const GARB_DEFAULTS: &str = "/etc/default/garb";
/// How long a standby waits, after the active left the Primary component, before it takes
/// over (the active's own keepalived has demoted it by then: see the quorum script).
/// With keepalived's master-down interval at 1.1 s (VRRPv3, was 3.6 s) and the active's
/// demotion held 1.5 s past a view change (the quorum script), the lease is 7 s: the standby
/// takes the VIP at least 7.1 s after its view changed, the active has given it up at most
/// about 3 s after its own (the README's timing argument).
pub const LEASE_SECS: u32 = 7;
/// Seconds a Gluster client waits for a dead brick (the volume default is 42).
pub const PING_TIMEOUT: &str = "5";
const PING_OPTION: &str = "network.ping-timeout";
const GARB: &str = "garb.service";
const GLUSTERD: &str = "glusterd.service";

pub fn script(env: &Env, node: usize) -> String {
    if node >= env.cfg.nodes.len() {
        return witness_script(env);
    }
    let mut s = Script::new()
        .section("files", &files::check_fragment(&[WITNESS_FILE]))
        .section("home", "echo \"$HOME\"")
        .section("pubkey", "cat \"$HOME/.ssh/id_ed25519.pub\"")
        .section("known", "cat \"$HOME/.ssh/known_hosts\"")
        .section(
            "wsrep",
            "if systemctl is-active -q mariadb; then mariadb -N -B -e \"SHOW GLOBAL STATUS LIKE 'wsrep%'\"; fi",
        );
    if node == 0 {
        // The pool and the volumes are cluster-wide: the first node tells.
        s = gluster_stage::pool_sections(s);
    }
    s.build()
}

fn witness_script(env: &Env) -> String {
    Script::new()
        .section(
            "packages",
            "command -v garbd >/dev/null && echo garbd; command -v glusterd >/dev/null && echo glusterd; true",
        )
        .section("units", &remote::units_fragment(&[GARB, GLUSTERD]))
        .section("files", &files::check_fragment(&[GARB_DEFAULTS]))
        .section("home", "echo \"$HOME\"")
        .section("authorized", "cat \"$HOME/.ssh/authorized_keys\"")
        .section("hostkeys", "cat /etc/ssh/ssh_host_*_key.pub")
        .section(
            "bricks",
            &format!(
                "test -d {} && echo present",
                shell_quote(&env.cfg.deploy.brick_root)
            ),
        )
        .build()
}

/// `/etc/default/garb`: both nodes' Galera addresses and the cluster's name (values quoted:
/// the file is sourced by a shell).
pub fn garb_defaults(env: &Env) -> String {
    let nodes: Vec<String> = env
        .cfg
        .nodes
        .iter()
        .map(|n| match n.address {
            std::net::IpAddr::V6(a) => format!("[{a}]:4567"),
            a => format!("{a}:4567"),
        })
        .collect();
    format!(
        "# Written by pairctl deploy for cluster {name}: do not edit, re-run deploy.\n\
# garbd, the Galera arbitrator: the pair's third vote (no data, only a vote).\n\
GALERA_NODES={nodes}\n\
GALERA_GROUP={group}\n\
GALERA_OPTIONS={options}\n",
        name = env.cfg.name,
        nodes = shell_quote(&nodes.join(" ")),
        group = shell_quote(&env.cfg.name),
        options = shell_quote(&format!(
            "gmcast.listen_addr=tcp://0.0.0.0:4567;evs.suspect_timeout={}",
            templates::WITNESS_SUSPECT
        )),
    )
}

/// `/etc/pairctl/witness` for node `me` (the quorum script's `witness_value` reads it).
pub fn witness_file(env: &Env, me: NodeId) -> String {
    let w = env.cfg.witness.as_ref().map(|w| w.address.to_string());
    format!(
        "# Written by pairctl deploy for cluster {}: do not edit, re-run deploy.\n\
witness={}\nnode={}\npeer={}\nlease={LEASE_SECS}\n",
        env.cfg.name,
        w.unwrap_or_default(),
        env.cfg.nodes[me].name,
        env.cfg.nodes[me.peer()].address,
    )
}

/// The SSH user's home as a check printed it (root's by default).
fn home_of(s: &Sections) -> Result<&str, Problem> {
    Ok(match s.get("home")?.trim() {
        "" => "/root",
        h => h,
    })
}

pub fn plan(env: &Env, seen: &[Sections]) -> Result<StagePlan, Problem> {
    let mut plan = StagePlan::default();
    let Some(w) = env.cfg.witness.as_ref() else {
        return Ok(plan);
    };
    let wi = env.cfg.nodes.len();
    let Some(ws) = seen.get(wi) else {
        return Err(Problem::new(
            None,
            format!("the witness {} was not checked (no connection)", w.name),
        ));
    };
    let garbd_restarts = plan_witness_host(env, ws, &mut plan)?;
    plan_nodes(env, seen, ws, &mut plan)?;
    plan_garbd_member(env, &seen[0], garbd_restarts, &mut plan)?;
    plan_arbiters(env, &seen[0], &mut plan)?;
    Ok(plan)
}

/// The witness host itself: packages, garbd's config and unit, glusterd, the brick directory,
/// the nodes' keys. True when garbd (re)starts: the nodes then wait for it to join.
fn plan_witness_host(env: &Env, ws: &Sections, plan: &mut StagePlan) -> Result<bool, Problem> {
    let wi = env.cfg.nodes.len();
    let packages: Vec<&str> = ws.get("packages")?.lines().map(str::trim).collect();
    let missing: Vec<&str> = [
        ("garbd", "galera-arbitrator-4"),
        ("glusterd", "glusterfs-server"),
    ]
    .into_iter()
    .filter(|(bin, _)| !packages.contains(bin))
    .map(|(_, pkg)| pkg)
    .collect();
    if !missing.is_empty() {
        plan.push(run(
            wi,
            0,
            format!("install {} (apt-get)", missing.join(" ")),
            &format!("apt-get install -y {}", missing.join(" ")),
            format!(
                "set -e\nexport DEBIAN_FRONTEND=noninteractive\napt-get install -y -q {} </dev/null >/dev/null\n",
                missing.join(" ")
            ),
            600,
        ));
    }
    let desired = [Desired::file(
        GARB_DEFAULTS,
        garb_defaults(env),
        0o644,
        &[Effect::Restart(GARB)],
    )];
    let (changes, effects) =
        files::plan_files(wi, 0, &desired, &files::parse_states(ws.get("files")?));
    plan.extend(changes);
    let units = parse_units(ws.get("units")?);
    let garb = units.get(GARB).cloned().unwrap_or_default();
    let mut restarts = !effects.is_empty() || !garb.is_active();
    let glusterd = units.get(GLUSTERD).cloned().unwrap_or_default();
    if let Some((summary, args)) = enable_start("glusterd", GLUSTERD, &glusterd, false) {
        plan.push(files::systemctl(
            wi,
            0,
            summary,
            &args,
            Duration::from_secs(60),
        ));
    }
    if ws.get("bricks")?.trim() != "present" {
        let root = &env.cfg.deploy.brick_root;
        plan.push(run(
            wi,
            0,
            format!("create the brick directory {root}"),
            &format!("install -d {root}"),
            format!("install -d -m 0755 {}\n", shell_quote(root)),
            10,
        ));
    }
    // garbd after its config; a running garbd with a changed config restarts.
    if let Some((summary, args)) = enable_start("garbd", GARB, &garb, !effects.is_empty()) {
        plan.push(files::systemctl(
            wi,
            1,
            summary,
            &args,
            Duration::from_secs(60),
        ));
    } else {
        restarts = false;
    }
    Ok(restarts)
}

/// The systemctl change that makes `unit` enabled and running (restarted when `restart` and
/// it runs), or None.
fn enable_start(
    name: &str,
    unit: &str,
    state: &remote::UnitState,
    restart: bool,
) -> Option<(String, String)> {
    let (summary, verb) = match (state.is_enabled(), state.is_active(), restart) {
        (true, true, false) => return None,
        (true, true, true) => (format!("restart {name} (new config)"), "restart"),
        (false, true, true) => (
            format!("enable {name} (start at boot) and restart it (new config)"),
            "enable --now",
        ),
        (false, true, false) => (format!("enable {name} (start at boot)"), "enable"),
        (true, false, _) => (format!("start {name}"), "start"),
        (false, false, _) => (format!("enable and start {name}"), "enable --now"),
    };
    let args = if verb == "enable --now" && state.is_active() {
        format!("enable {unit} && systemctl restart {unit}")
    } else {
        format!("{verb} {unit}")
    };
    Some((summary, args))
}

/// Each node: the witness file and the witness's host key in known_hosts.
fn plan_nodes(
    env: &Env,
    seen: &[Sections],
    ws: &Sections,
    plan: &mut StagePlan,
) -> Result<(), Problem> {
    let Some(w) = env.cfg.witness.as_ref() else {
        return Ok(());
    };
    let wi = env.cfg.nodes.len();
    let host_keys: Vec<(String, String)> = ws.get("hostkeys")?.lines().filter_map(key_id).collect();
    if host_keys.is_empty() {
        return Err(Problem::new(
            Some(wi),
            format!(
                "cannot read the SSH host keys of the witness {} (/etc/ssh/ssh_host_*_key.pub)",
                w.name
            ),
        ));
    }
    let authorized: Vec<(String, String)> =
        ws.get("authorized")?.lines().filter_map(key_id).collect();
    let home = home_of(ws)?;
    let address = w.address.to_string();
    for (me, s) in NodeId::BOTH.into_iter().zip(seen) {
        let i = me.index();
        let desired = [Desired::file(
            WITNESS_FILE,
            witness_file(env, me),
            0o644,
            &[],
        )];
        let (changes, _) = files::plan_files(i, 0, &desired, &files::parse_states(s.get("files")?));
        plan.extend(changes);
        // The witness's host keys under its address (what the quorum script's ssh names).
        let known: Vec<(Vec<&str>, (String, String))> = s
            .get("known")?
            .lines()
            .filter(|l| !l.trim_start().starts_with(['#', '@', '|']))
            .filter_map(|l| {
                let hosts = l.split_whitespace().next()?.split(',').collect();
                Some((hosts, key_id(l)?))
            })
            .collect();
        for key in &host_keys {
            let present = known
                .iter()
                .any(|(hosts, k)| k == key && hosts.contains(&address.as_str()));
            if !present {
                plan.push(Change::new(
                    i,
                    0,
                    format!(
                        "add the witness {}'s {} host key to {}'s known_hosts",
                        w.name, key.0, env.cfg.ssh.user
                    ),
                    Action::AppendLine {
                        path: format!("{}/.ssh/known_hosts", home_of(s)?),
                        line: format!("{},{} {} {}", w.name, address, key.0, key.1),
                    },
                ));
            }
        }
        let key = s.get("pubkey")?.lines().find_map(key_id);
        if key.map(|k| authorized.contains(&k)) != Some(true) {
            plan.push(Change::new(
                wi,
                1,
                format!(
                    "authorize {}'s key in {home}/.ssh/authorized_keys",
                    env.node_name(i)
                ),
                Action::AuthorizeKeyOf { source: i },
            ));
        }
    }
    Ok(())
}

/// garbd a member of the nodes' cluster: waited for on the first node after garbd (re)starts,
/// or when the check found the cluster without it.
fn plan_garbd_member(
    env: &Env,
    first: &Sections,
    restarts: bool,
    plan: &mut StagePlan,
) -> Result<(), Problem> {
    let member = galera::parse_wsrep_text(first.get("wsrep")?)
        .map(|g| g.cluster_size > g.incoming_addresses.len() as u64)
        .unwrap_or(false);
    if member && !restarts {
        return Ok(());
    }
    let size = "[ \"$(mariadb -N -B -e \"SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'\" 2>/dev/null | cut -f2)\" -ge 3 ] 2>/dev/null";
    plan.push(run(
        0,
        2,
        format!(
            "wait until garbd on {} is a member of the Galera cluster (size 3)",
            env.node_name(env.cfg.nodes.len())
        ),
        "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'",
        format!(
            "{}\n",
            remote::wait_until(size, 60, "garbd to join (Galera size 3)")
        ),
        90,
    ));
    Ok(())
}

/// The witness in the trusted pool, and the arbiter brick of each volume (with heal checked).
fn plan_arbiters(env: &Env, first: &Sections, plan: &mut StagePlan) -> Result<(), Problem> {
    let cfg = env.cfg;
    let Some(w) = cfg.witness.as_ref() else {
        return Ok(());
    };
    let address = w.address.to_string();
    let is_witness = |h: &str| h == address || h == w.name;
    let peers = match first.get("peers")?.trim() {
        "" => Vec::new(),
        text => gluster::parse_peer_status(text)
            .map(|p| p.peers)
            .map_err(|e| Problem::new(Some(0), format!("{}: {e}", env.node_name(0))))?,
    };
    if !peers.iter().any(|p| is_witness(&p.hostname) && p.connected) {
        let connected = format!(
            "gluster --mode=script peer status 2>/dev/null | grep -A2 -x {} | grep -q 'Peer in Cluster (Connected)'",
            shell_quote(&format!("Hostname: {address}"))
        );
        plan.push(run(
            0,
            2,
            format!(
                "add the witness {} to the trusted pool (gluster peer probe {address}), wait until connected",
                w.name
            ),
            &format!("gluster --mode=script peer probe {address}"),
            format!(
                "set -e\ngluster --mode=script peer probe {address} >/dev/null\n{}\n",
                remote::wait_until(&connected, 60, "the witness to be connected")
            ),
            90,
        ));
    }
    let volumes: Vec<VolumeInfo> = gluster_stage::parse_volume_info(first.get("volumes")?)
        .map_err(|e| Problem::new(Some(0), format!("{}: {e}", env.node_name(0))))?;
    for v in &cfg.gluster.volumes {
        plan_arbiter(env, v, volumes.iter().find(|x| &x.name == v), plan);
    }
    Ok(())
}

/// One volume: its arbiter brick on the witness (added to a replica-2 volume, or to one the
/// gluster stage creates in this run), and the clients' ping timeout.
fn plan_arbiter(env: &Env, v: &str, info: Option<&VolumeInfo>, plan: &mut StagePlan) {
    let cfg = env.cfg;
    let Some(w) = cfg.witness.as_ref() else {
        return;
    };
    let brick = format!("{}:{}", w.address, templates::brick_path(cfg, v));
    let q = shell_quote(v);
    let has_arbiter = info.is_some_and(|i| {
        i.bricks.len() == 3
            && i.bricks.last().is_some_and(|b| {
                b.strip_suffix(&format!(":{}", templates::brick_path(cfg, v)))
                    .is_some_and(|h| h == w.name || h == w.address.to_string())
            })
    });
    match info {
        Some(i) if !has_arbiter && i.bricks.len() != 2 => {
            plan.notes.push(format!(
                "volume {v} has bricks {} (not replica 2 on the nodes): no arbiter brick added",
                i.bricks.join(", ")
            ));
            return;
        }
        _ => {}
    }
    if !has_arbiter {
        plan.push(run(
            0,
            3,
            format!(
                "convert volume {v} to replica 3 arbiter 1 (arbiter brick {brick}), wait until healed"
            ),
            &format!("gluster volume add-brick {v} replica 3 arbiter 1 {brick} force"),
            format!(
                "set -e\ngluster --mode=script volume add-brick {q} replica 3 arbiter 1 {} force >/dev/null\n\
gluster --mode=script volume heal {q} full >/dev/null 2>&1 || true\n{}\n",
                shell_quote(&brick),
                remote::wait_until(&healed(v), 300, &format!("volume {v} to heal onto the arbiter"))
            ),
            360,
        ));
    }
    let timeout_set = info.is_some_and(|i| {
        i.options
            .iter()
            .any(|(k, val)| k == PING_OPTION && val == PING_TIMEOUT)
    });
    if !timeout_set {
        plan.push(run(
            0,
            3,
            format!("set {PING_OPTION} {PING_TIMEOUT} on volume {v} (a dead brick costs the clients {PING_TIMEOUT} s, not 42)"),
            &format!("gluster volume set {v} {PING_OPTION} {PING_TIMEOUT}"),
            format!("gluster --mode=script volume set {q} {PING_OPTION} {PING_TIMEOUT} >/dev/null\n"),
            60,
        ));
    }
}

/// True on the node once `gluster volume heal V info summary` shows three connected bricks
/// and no entry pending.
fn healed(v: &str) -> String {
    format!(
        "gluster --mode=script volume heal {} info summary 2>/dev/null | awk '/^Status: Connected/ {{c++}} /^Total Number of entries:/ {{t+=$NF}} END {{exit !(c == 3 && t == 0)}}'",
        shell_quote(v)
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::env_for;
    use super::*;
    use crate::config::Config;

    /// `phase host: summary` in the order the runner executes (by phase, stable).
    fn summaries(plan: &StagePlan) -> Vec<String> {
        let cfg = cfg();
        let mut changes: Vec<_> = plan.changes.iter().collect();
        changes.sort_by_key(|c| c.phase);
        changes
            .into_iter()
            .map(|c| {
                format!(
                    "{} {}: {}",
                    c.phase,
                    crate::deploy::host(&cfg, c.node).name,
                    c.summary
                )
            })
            .collect()
    }

    /// What the checks printed on lab instance 1 right after a deploy with its witness.
    const N1: &str = include_str!("../../../fixtures/deploy/witness-check-n1.txt");
    const N2: &str = include_str!("../../../fixtures/deploy/witness-check-n2.txt");
    const W: &str = include_str!("../../../fixtures/deploy/witness-check-w.txt");
    /// A replica-2 volume as `gluster --xml volume info` shows it before the conversion.
    const REPLICA2: &str = include_str!("../../../fixtures/deploy/volume-info-replica2.xml");

    /// Lab instance 1's config with its witness (the fixtures' addresses).
    fn cfg() -> Config {
        crate::config::parse(
            std::path::Path::new("/x/pairctl.toml"),
            "name = \"lab\"\nvip = \"10.213.57.26\"\n[[node]]\nname = \"n1\"\naddress = \"10.213.57.27\"\n[[node]]\nname = \"n2\"\naddress = \"10.213.57.28\"\n[gluster]\nvolumes = [\"shared\"]\n[witness]\nname = \"w\"\naddress = \"10.213.57.30\"\n",
        )
        .unwrap()
    }

    /// The check's text with the sha256 of `path` set to that of `content` (the file as this
    /// version of deploy writes it; the fixture's stat line stays real).
    fn file_as_written(text: &str, path: &str, content: &str) -> String {
        text.lines()
            .map(|l| match l.split_once("  ") {
                Some((_, p)) if p == path => {
                    format!("{}  {path}", files::sha256_hex(content.as_bytes()))
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    }

    /// The three hosts' checks as a deployed cluster prints them.
    fn deployed(env: &Env) -> Vec<Sections> {
        vec![
            Sections::parse(&file_as_written(
                N1,
                WITNESS_FILE,
                &witness_file(env, NodeId::First),
            )),
            Sections::parse(&file_as_written(
                N2,
                WITNESS_FILE,
                &witness_file(env, NodeId::Second),
            )),
            Sections::parse(&file_as_written(W, GARB_DEFAULTS, &garb_defaults(env))),
        ]
    }

    /// `section` of a check's text replaced by `body`.
    fn replace_section(text: &str, section: &str, body: &str) -> String {
        let mark = format!("@@pairctl:{section}\n");
        let start = text.find(&mark).unwrap() + mark.len();
        let end = text[start..]
            .find("@@pairctl:")
            .map(|e| start + e)
            .unwrap_or(text.len());
        // The next marker must start a line, or its section is lost.
        let nl = if body.is_empty() || body.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        format!("{}{body}{nl}{}", &text[..start], &text[end..])
    }

    #[test]
    fn a_deployed_witness_needs_nothing() {
        let cfg = cfg();
        let env = env_for(&cfg);
        let p = plan(&env, &deployed(&env)).unwrap();
        assert!(p.is_empty(), "{:?}", summaries(&p));
        assert!(p.notes.is_empty(), "{:?}", p.notes);
    }

    #[test]
    fn without_a_witness_section_nothing_is_planned() {
        let cfg = super::super::tests::lab_cfg();
        let env = env_for(&cfg);
        let p = plan(&env, &[Sections::default(), Sections::default()]).unwrap();
        assert!(p.is_empty());
    }

    #[test]
    fn an_unreachable_witness_refuses_the_stage() {
        let cfg = cfg();
        let env = env_for(&cfg);
        let seen = deployed(&env);
        let e = plan(&env, &seen[..2]).unwrap_err();
        assert!(
            e.message.contains("the witness w was not checked"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_replica_2_volume_is_converted_and_healed() {
        let cfg = cfg();
        let env = env_for(&cfg);
        let mut seen = deployed(&env);
        seen[0] = Sections::parse(&replace_section(
            &file_as_written(N1, WITNESS_FILE, &witness_file(&env, NodeId::First)),
            "volumes",
            REPLICA2,
        ));
        let p = plan(&env, &seen).unwrap();
        assert_eq!(
            summaries(&p),
            [
                "3 n1: convert volume shared to replica 3 arbiter 1 (arbiter brick 10.213.57.30:/srv/bricks/shared), wait until healed",
                "3 n1: set network.ping-timeout 5 on volume shared (a dead brick costs the clients 5 s, not 42)",
            ]
        );
        let Action::Run { script, .. } = &p.changes[0].action else {
            panic!("{:?}", p.changes[0]);
        };
        assert!(
            script.contains(
                "volume add-brick shared replica 3 arbiter 1 10.213.57.30:/srv/bricks/shared force"
            ),
            "{script}"
        );
        // Done only once heal shows three connected bricks and nothing pending.
        assert!(script.contains("c == 3 && t == 0"), "{script}");
        assert!(script.find("add-brick").unwrap() < script.find("info summary").unwrap());
    }

    #[test]
    fn a_bare_witness_gets_the_whole_sequence() {
        let cfg = cfg();
        let env = env_for(&cfg);
        let mut seen = deployed(&env);
        // What a bare witness printed: the packages installed, garbd failed at its install
        // (unconfigured) and disabled, glusterd off, Debian's garb file, only the lab's key.
        let w = replace_section(
            W,
            "units",
            "garb.service failed disabled\nglusterd.service inactive disabled\n",
        );
        let w = replace_section(&w, "files", "S|/etc/default/garb|root:root|644|regular file\n0c5d1ab1ba1c6b8dcc4bbde3a7cc49bd3a5f1a5d3d1f2b6c3fd9b1f2c7f6d0a1  /etc/default/garb\n");
        let w = replace_section(&w, "authorized", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAnWjaHABSRCxq+UnbI3gI62fi1kwhiM8YKaRewuGsms pairctl-lab\n");
        let w = replace_section(&w, "packages", "");
        seen[2] = Sections::parse(&w);
        // The nodes as the galera and gluster stages leave them before this one: a cluster of
        // two, a replica-2 volume, no witness file, no known_hosts entry for w.
        for (i, text) in [N1, N2].iter().enumerate() {
            let t = replace_section(text, "files", "");
            let t = replace_section(
                &t,
                "known",
                &Sections::parse(text)
                    .get("known")
                    .unwrap()
                    .lines()
                    .filter(|l| !l.starts_with("w,"))
                    .map(|l| format!("{l}\n"))
                    .collect::<String>(),
            );
            let t = replace_section(
                &t,
                "wsrep",
                &Sections::parse(text)
                    .get("wsrep")
                    .unwrap()
                    .replace("wsrep_cluster_size\t3", "wsrep_cluster_size\t2"),
            );
            let t = if i == 0 {
                let t = replace_section(
                    &t,
                    "peers",
                    include_str!("../../../fixtures/gluster/peer-status-healthy.xml"),
                );
                replace_section(&t, "volumes", REPLICA2)
            } else {
                t
            };
            seen[i] = Sections::parse(&t);
        }
        let p = plan(&env, &seen).unwrap();
        assert_eq!(
            summaries(&p),
            [
                "0 w: install galera-arbitrator-4 glusterfs-server (apt-get)",
                "0 w: write /etc/default/garb (changed)",
                "0 w: enable and start glusterd",
                "0 n1: write /etc/pairctl/witness (new)",
                "0 n1: add the witness w's ssh-ed25519 host key to root's known_hosts",
                "0 n2: write /etc/pairctl/witness (new)",
                "0 n2: add the witness w's ssh-ed25519 host key to root's known_hosts",
                "1 w: enable and start garbd",
                "1 w: authorize n1's key in /root/.ssh/authorized_keys",
                "1 w: authorize n2's key in /root/.ssh/authorized_keys",
                "2 n1: wait until garbd on w is a member of the Galera cluster (size 3)",
                "2 n1: add the witness w to the trusted pool (gluster peer probe 10.213.57.30), wait until connected",
                "3 n1: convert volume shared to replica 3 arbiter 1 (arbiter brick 10.213.57.30:/srv/bricks/shared), wait until healed",
                "3 n1: set network.ping-timeout 5 on volume shared (a dead brick costs the clients 5 s, not 42)",
            ]
        );
    }

    #[test]
    fn a_changed_garbd_config_restarts_it_and_waits_for_it() {
        let cfg = cfg();
        let env = env_for(&cfg);
        let mut seen = deployed(&env);
        let mut changed = garb_defaults(&env);
        changed.push('#');
        seen[2] = Sections::parse(&file_as_written(W, GARB_DEFAULTS, &changed));
        let p = plan(&env, &seen).unwrap();
        assert_eq!(
            summaries(&p),
            [
                "0 w: write /etc/default/garb (changed)",
                "1 w: restart garbd (new config)",
                "2 n1: wait until garbd on w is a member of the Galera cluster (size 3)",
            ]
        );
    }

    #[test]
    fn the_files_say_what_the_quorum_script_reads() {
        let cfg = cfg();
        let env = env_for(&cfg);
        let f = witness_file(&env, NodeId::Second);
        for line in [
            "witness=10.213.57.30",
            "node=n2",
            "peer=10.213.57.27",
            "lease=7",
        ] {
            assert!(f.lines().any(|l| l == line), "{line} in {f}");
        }
        let g = garb_defaults(&env);
        assert!(
            g.contains("GALERA_NODES='10.213.57.27:4567 10.213.57.28:4567'\n"),
            "{g}"
        );
        assert!(g.contains("GALERA_GROUP=lab\n"), "{g}");
    }
}
