//! gluster: glusterd at boot and running on both nodes, the second node in the first's
//! trusted pool (probed by address), each configured volume created as replica 2 (bricks on
//! the nodes' brick root; `force`, since a brick may sit on the root filesystem, and
//! `--mode=script` to answer the replica-2 split-brain prompt) and started, and mounted on
//! both nodes from the local glusterd through fstab and systemd (again after a reboot).

use super::Env;
use crate::deploy::remote::{self, parse_units, Script, Sections};
use crate::deploy::{files, templates, Action, Change, Problem, StagePlan};
use crate::pair::NodeId;
use crate::probe::gluster;
use crate::probe::node::shell_quote;
use std::time::Duration;

pub fn script(env: &Env, _node: usize) -> String {
    let cfg = env.cfg;
    let mounts: Vec<String> = cfg
        .gluster
        .volumes
        .iter()
        .map(|v| {
            format!(
                "mountpoint -q {} && echo {}",
                shell_quote(&templates::mount_point(cfg, v)),
                shell_quote(v)
            )
        })
        .collect();
    let script = Script::new().section("units", &remote::units_fragment(&["glusterd.service"]));
    pool_sections(script)
        .section(
            "mounts",
            &format!(
                "{}; true",
                if mounts.is_empty() {
                    "true".to_string()
                } else {
                    mounts.join("; ")
                }
            ),
        )
        .section("fstab", "cat /etc/fstab")
        .section(
            "bricks",
            &format!(
                "test -d {} && echo present",
                shell_quote(&cfg.deploy.brick_root)
            ),
        )
        .build()
}

/// The `peers` and `volumes` sections: the trusted pool and every volume, as XML (empty while
/// glusterd is down).
pub fn pool_sections(script: Script) -> Script {
    script
        .section(
            "peers",
            "if systemctl is-active -q glusterd; then gluster --mode=script --xml peer status; fi",
        )
        .section(
            "volumes",
            "if systemctl is-active -q glusterd; then gluster --mode=script --xml volume info; fi",
        )
}

/// One volume as `gluster --xml volume info` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeInfo {
    pub name: String,
    pub started: bool,
    pub bricks: Vec<String>,
    /// The volume's reconfigured options (`volume set`), name and value.
    pub options: Vec<(String, String)>,
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

/// Reads `gluster --xml volume info`: every volume's name, whether it is started and its
/// bricks (`host:/path`). Empty when there are none.
pub fn parse_volume_info(text: &str) -> Result<Vec<VolumeInfo>, crate::probe::ParseError> {
    const WHAT: &str = "gluster volume info";
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.contains("No volumes present") {
        return Ok(Vec::new());
    }
    if !trimmed.starts_with('<') {
        return Err(crate::probe::ParseError::new(
            WHAT,
            trimmed.lines().next().unwrap_or(""),
        ));
    }
    if let Some(ret) = between(trimmed, "<opRet>", "</opRet>") {
        if ret.trim() != "0" {
            let err = between(trimmed, "<opErrstr>", "</opErrstr>").unwrap_or("failed");
            return Err(crate::probe::ParseError::new(WHAT, err));
        }
    }
    let mut out = Vec::new();
    for chunk in trimmed.split("<volume>").skip(1) {
        let chunk = chunk.split("</volume>").next().unwrap_or(chunk);
        let Some(name) = between(chunk, "<name>", "</name>") else {
            continue;
        };
        let started = between(chunk, "<statusStr>", "</statusStr>") == Some("Started");
        let bricks = between(chunk, "<bricks>", "</bricks>")
            .map(|b| {
                b.split("<name>")
                    .skip(1)
                    .filter_map(|x| x.split("</name>").next())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let options = between(chunk, "<options>", "</options>")
            .map(|o| {
                o.split("<option>")
                    .skip(1)
                    .filter_map(|x| {
                        Some((
                            between(x, "<name>", "</name>")?.to_string(),
                            between(x, "<value>", "</value>")?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(VolumeInfo {
            name: name.to_string(),
            started,
            bricks,
            options,
        });
    }
    Ok(out)
}

fn run(
    node: usize,
    phase: u8,
    summary: String,
    shown: String,
    script: String,
    secs: u64,
) -> Change {
    Change::new(
        node,
        phase,
        summary,
        Action::Run {
            shown,
            script,
            limit: Duration::from_secs(secs),
        },
    )
}

pub fn plan(env: &Env, seen: &[Sections]) -> Result<StagePlan, Problem> {
    let mut plan = StagePlan::default();
    let mut started_glusterd = false;
    let mut peers = Vec::new();
    for (i, s) in seen.iter().enumerate() {
        started_glusterd |= plan_daemon(env, i, s, &mut plan)?;
        peers.push(peers_of(env, i, s)?);
    }
    plan_pool(env, &peers, started_glusterd, seen.len(), &mut plan)?;
    plan_volumes(env, seen, &mut plan)?;
    plan_mounts(env, seen, &mut plan)?;
    Ok(plan)
}

/// glusterd enabled and running, the brick directory present; true when glusterd starts.
fn plan_daemon(env: &Env, i: usize, s: &Sections, plan: &mut StagePlan) -> Result<bool, Problem> {
    let cfg = env.cfg;
    let units = parse_units(s.get("units")?);
    const GLUSTERD: &str = "glusterd.service";
    let unit = units.get(GLUSTERD).cloned().unwrap_or_default();
    let change = match (unit.is_enabled(), unit.is_active()) {
        (true, true) => None,
        (false, true) => Some(files::enable(
            i,
            0,
            "enable glusterd (start at boot)".into(),
            GLUSTERD,
            false,
        )),
        (true, false) => Some(files::systemctl(
            i,
            0,
            "start glusterd".into(),
            "start glusterd.service",
            Duration::from_secs(60),
        )),
        (false, false) => Some(files::enable(
            i,
            0,
            "enable and start glusterd".into(),
            GLUSTERD,
            true,
        )),
    };
    let starts = change.is_some() && !unit.is_active();
    plan.extend(change);
    if s.get("bricks")?.trim() != "present" {
        plan.push(run(
            i,
            0,
            format!("create the brick directory {}", cfg.deploy.brick_root),
            format!("install -d {}", cfg.deploy.brick_root),
            format!(
                "install -d -m 0755 {}\n",
                shell_quote(&cfg.deploy.brick_root)
            ),
            10,
        ));
    }
    Ok(starts)
}

/// The peers a node's glusterd lists (none while it is down).
fn peers_of(env: &Env, i: usize, s: &Sections) -> Result<Vec<gluster::Peer>, Problem> {
    let units = parse_units(s.get("units")?);
    if units.get("glusterd.service").map(|u| u.is_active()) != Some(true) {
        return Ok(Vec::new());
    }
    gluster::parse_peer_status(s.get("peers")?)
        .map(|p| p.peers)
        .map_err(|e| Problem::new(Some(i), format!("{}: {e}", env.node_name(i))))
}

/// Whether `host` (a peer's or a brick's host) names `node`, by name or address.
fn names(host: &str, node: &crate::config::Node) -> bool {
    host == node.name || host == node.address.to_string()
}

/// The trusted pool: each node sees exactly its peer (by name or address), and the witness
/// when the config has one (the witness stage adds it).
fn plan_pool(
    env: &Env,
    peers: &[Vec<gluster::Peer>],
    started_glusterd: bool,
    nodes: usize,
    plan: &mut StagePlan,
) -> Result<(), Problem> {
    let cfg = env.cfg;
    let allowed = |p: &gluster::Peer, k: NodeId| {
        names(&p.hostname, &cfg.nodes[k]) || cfg.witness.iter().any(|w| names(&p.hostname, w))
    };
    for (me, p) in NodeId::BOTH.into_iter().zip(peers) {
        if let Some(stranger) = p.iter().find(|p| !allowed(p, me.peer())) {
            return Err(Problem::new(
                Some(me.index()),
                format!(
                    "{} is in a trusted pool with {}, which is not its peer {}",
                    cfg.nodes[me].name,
                    stranger.hostname,
                    cfg.nodes[me.peer()].name
                ),
            )
            .hint("detach it (gluster peer detach) or fix the node list, then re-run deploy"));
        }
    }
    let pooled = peers.len() == 2
        && NodeId::BOTH.into_iter().any(|me| {
            peers[me.index()]
                .iter()
                .any(|p| names(&p.hostname, &cfg.nodes[me.peer()]))
        });
    if !pooled && nodes == 2 {
        let peer = &cfg.nodes[1];
        plan.push(run(
            0,
            1,
            format!(
                "add {} to the trusted pool (gluster peer probe {}), wait until connected",
                peer.name, peer.address
            ),
            format!("gluster --mode=script peer probe {}", peer.address),
            peer_script(&peer.address.to_string(), 30),
            60,
        ));
    }
    if (!pooled || started_glusterd) && nodes == 2 {
        for me in NodeId::BOTH {
            plan.push(run(
                me.index(),
                2,
                format!(
                    "wait until {} sees {} connected",
                    cfg.nodes[me].name,
                    cfg.nodes[me.peer()].name
                ),
                "gluster peer status".into(),
                peer_script("", 60),
                90,
            ));
        }
    }
    Ok(())
}

/// Each volume: created as replica 2 and started (the witness stage adds the arbiter).
fn plan_volumes(env: &Env, seen: &[Sections], plan: &mut StagePlan) -> Result<(), Problem> {
    let cfg = env.cfg;
    // Cluster-wide, so the first node that answered tells.
    let mut known: Option<Vec<VolumeInfo>> = None;
    for (i, s) in seen.iter().enumerate() {
        let units = parse_units(s.get("units")?);
        if units.get("glusterd.service").map(|u| u.is_active()) == Some(true) {
            known = Some(
                parse_volume_info(s.get("volumes")?)
                    .map_err(|e| Problem::new(Some(i), format!("{}: {e}", env.node_name(i))))?,
            );
            break;
        }
    }
    let known = known.unwrap_or_default();
    for v in &cfg.gluster.volumes {
        match known.iter().find(|x| &x.name == v) {
            None => plan.push(create_volume(env, v)),
            Some(info) if !info.started => plan.push(run(
                0,
                3,
                format!("start volume {v}"),
                format!("gluster volume start {v}"),
                volume_script(v, &[]),
                60,
            )),
            Some(info) if !is_ours(env, v, info) => plan.notes.push(format!(
                "volume {v} exists with bricks {}: left as it is",
                info.bricks.join(", ")
            )),
            Some(_) => {}
        }
    }
    Ok(())
}

fn create_volume(env: &Env, v: &str) -> Change {
    let cfg = env.cfg;
    let bricks: Vec<String> = cfg
        .nodes
        .iter()
        .map(|n| format!("{}:{}", n.address, templates::brick_path(cfg, v)))
        .collect();
    run(
        0,
        3,
        format!(
            "create volume {v} (replica 2: {}) and start it",
            bricks.join(", ")
        ),
        format!(
            "gluster volume create {v} replica 2 {} force",
            bricks.join(" ")
        ),
        // Idempotent: when glusterd was down at the check, the volume may exist.
        volume_script(v, &bricks),
        120,
    )
}

/// `gluster-peer.sh`: probe `probe` (none when empty), then wait at most `seconds` until the
/// peer is connected.
fn peer_script(probe: &str, seconds: u32) -> String {
    remote::with_params(
        include_str!("../scripts/gluster-peer.sh"),
        &[("PROBE", probe), ("WAIT_SECONDS", &seconds.to_string())],
    )
}

/// `gluster-volume.sh`: create volume `v` on `bricks` unless it exists, start it unless it is
/// started.
fn volume_script(v: &str, bricks: &[String]) -> String {
    remote::with_params(
        include_str!("../scripts/gluster-volume.sh"),
        &[("VOLUME", v), ("BRICKS", &bricks.join("\n"))],
    )
}

/// The volume is the pair's: a brick on each node (and, with a witness, its arbiter brick
/// third), at the brick path.
fn is_ours(env: &Env, v: &str, info: &VolumeInfo) -> bool {
    let cfg = env.cfg;
    let suffix = format!(":{}", templates::brick_path(cfg, v));
    let on =
        |b: &str, n: &crate::config::Node| b.strip_suffix(&suffix).is_some_and(|h| names(h, n));
    let pair = info.bricks.len() >= 2
        && info.bricks[..2]
            .iter()
            .all(|b| cfg.nodes.iter().any(|n| on(b, n)));
    match (info.bricks.len(), &cfg.witness) {
        (2, _) => pair,
        (3, Some(w)) => pair && on(&info.bricks[2], w),
        _ => false,
    }
}

/// Mounts: through fstab and systemd (the FUSE client then runs in the node's cgroups).
fn plan_mounts(env: &Env, seen: &[Sections], plan: &mut StagePlan) -> Result<(), Problem> {
    let cfg = env.cfg;
    for (i, s) in seen.iter().enumerate() {
        let mounted: Vec<&str> = s.get("mounts")?.lines().map(str::trim).collect();
        let fstab = s.get("fstab")?;
        for v in &cfg.gluster.volumes {
            let mp = templates::mount_point(cfg, v);
            let line = templates::fstab_line(cfg, v);
            let existing = fstab.lines().find(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                !l.trim_start().starts_with('#') && f.get(1) == Some(&mp.as_str())
            });
            let normalized = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
            match existing {
                None => plan.push(Change::new(
                    i,
                    4,
                    format!("add the mount of volume {v} on {mp} to /etc/fstab"),
                    Action::AppendLine {
                        path: "/etc/fstab".into(),
                        line: line.clone(),
                    },
                )),
                Some(l) if normalized(l) != line => plan.notes.push(format!(
                    "{}: /etc/fstab already mounts something on {mp} ({}): left as it is",
                    env.node_name(i),
                    normalized(l)
                )),
                Some(_) => {}
            }
            if !mounted.contains(&v.as_str()) {
                plan.push(run(
                    i,
                    4,
                    format!("mount volume {v} on {mp}"),
                    format!("systemctl start {mp}.mount"),
                    remote::with_params(
                        include_str!("../scripts/gluster-mount.sh"),
                        &[("MOUNT_POINT", &mp)],
                    ),
                    60,
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{env_for, lab_cfg, summaries};
    use super::*;

    const INFO: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cliOutput>
  <opRet>0</opRet>
  <opErrno>0</opErrno>
  <opErrstr/>
  <volInfo>
    <volumes>
      <volume>
        <name>shared</name>
        <id>5f1b</id>
        <status>1</status>
        <statusStr>Started</statusStr>
        <brickCount>2</brickCount>
        <bricks>
          <brick uuid="a">10.213.57.11:/srv/bricks/shared<name>10.213.57.11:/srv/bricks/shared</name><hostUuid>a</hostUuid><isArbiter>0</isArbiter></brick>
          <brick uuid="b">10.213.57.12:/srv/bricks/shared<name>10.213.57.12:/srv/bricks/shared</name><hostUuid>b</hostUuid><isArbiter>0</isArbiter></brick>
        </bricks>
        <options><option><name>cluster.granular-entry-heal</name><value>on</value></option></options>
      </volume>
      <count>1</count>
    </volumes>
  </volInfo>
</cliOutput>"#;

    #[test]
    fn volume_info_parses() {
        let v = parse_volume_info(INFO).unwrap();
        assert_eq!(
            v,
            vec![VolumeInfo {
                name: "shared".into(),
                started: true,
                bricks: vec![
                    "10.213.57.11:/srv/bricks/shared".into(),
                    "10.213.57.12:/srv/bricks/shared".into()
                ],
                options: vec![("cluster.granular-entry-heal".into(), "on".into())],
            }]
        );
        assert_eq!(parse_volume_info("No volumes present\n").unwrap(), vec![]);
        assert!(parse_volume_info(
            "Connection failed. Please check if gluster daemon is operational."
        )
        .is_err());
    }

    fn node(units: &str, peers: &str, volumes: &str, mounts: &str, fstab: &str) -> Sections {
        Sections::parse(&format!(
            "@@pairctl:units\n{units}\n@@pairctl:peers\n{peers}\n@@pairctl:volumes\n{volumes}\n@@pairctl:mounts\n{mounts}\n@@pairctl:fstab\n{fstab}\n@@pairctl:bricks\npresent\n"
        ))
    }

    #[test]
    fn bare_nodes_get_the_whole_sequence() {
        let cfg = lab_cfg();
        let bare = node(
            "glusterd.service inactive disabled",
            "",
            "",
            "",
            "# UNCONFIGURED FSTAB",
        );
        let p = plan(&env_for(&cfg), &[bare.clone(), bare]).unwrap();
        assert_eq!(
            summaries(&p),
            vec![
                "0 n1: enable and start glusterd",
                "0 n2: enable and start glusterd",
                "1 n1: add n2 to the trusted pool (gluster peer probe 10.213.57.12), wait until connected",
                "2 n1: wait until n1 sees n2 connected",
                "2 n2: wait until n2 sees n1 connected",
                "3 n1: create volume shared (replica 2: 10.213.57.11:/srv/bricks/shared, 10.213.57.12:/srv/bricks/shared) and start it",
                "4 n1: add the mount of volume shared on /mnt/shared to /etc/fstab",
                "4 n1: mount volume shared on /mnt/shared",
                "4 n2: add the mount of volume shared on /mnt/shared to /etc/fstab",
                "4 n2: mount volume shared on /mnt/shared",
            ]
        );
    }

    #[test]
    fn a_deployed_pool_needs_nothing_and_the_lab_naming_is_accepted() {
        let cfg = lab_cfg();
        let peer_of = |name: &str, addr: &str| {
            include_str!("../../../fixtures/gluster/peer-status-healthy.xml")
                .replace(
                    "<hostname>n2</hostname>\n      <hostnames>",
                    &format!("<hostname>{name}</hostname>\n      <hostnames>"),
                )
                .replace("10.213.57.12", addr)
        };
        let fstab = templates::fstab_line(&cfg, "shared");
        let lab_info = INFO
            .replace("10.213.57.11:", "n1:")
            .replace("10.213.57.12:", "n2:");
        let p = plan(
            &env_for(&cfg),
            &[
                node(
                    "glusterd.service active enabled",
                    &peer_of("n2", "10.213.57.12"),
                    &lab_info,
                    "shared",
                    &fstab,
                ),
                node(
                    "glusterd.service active enabled",
                    &peer_of("10.213.57.11", "10.213.57.11"),
                    &lab_info,
                    "shared",
                    &fstab,
                ),
            ],
        )
        .unwrap();
        assert!(p.is_empty(), "{:?}", summaries(&p));
        assert!(p.notes.is_empty(), "{:?}", p.notes);
    }

    #[test]
    fn a_stranger_in_the_pool_is_refused() {
        let cfg = lab_cfg();
        let stranger = include_str!("../../../fixtures/gluster/peer-status-healthy.xml").replace(
            "<hostname>n2</hostname>\n      <hostnames>",
            "<hostname>n9</hostname>\n      <hostnames>",
        );
        let e = plan(
            &env_for(&cfg),
            &[
                node("glusterd.service active enabled", &stranger, "", "", ""),
                node(
                    "glusterd.service active enabled",
                    include_str!("../../../fixtures/gluster/peer-status-alone.xml"),
                    "",
                    "",
                    "",
                ),
            ],
        )
        .unwrap_err();
        assert!(
            e.message.contains("n1 is in a trusted pool with n9"),
            "{}",
            e.message
        );
    }
}
