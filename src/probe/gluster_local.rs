//! Gluster's state as the node's own files and sockets show it, read without the gluster CLI
//! (whose every run starts a Python `gsyncd --version`): part of the node basics command.
//!
//! - peers: glusterd's peer files (`/var/lib/glusterd/peers/*`: uuid, state, hostname) and
//!   whether glusterd holds an established connection to the peer's glusterd (port 24007),
//!   which is what the CLI's `connected` reports;
//! - the node's own bricks: the brick file (path, port), the pid file and whether that pid is
//!   a `glusterfsd`, and whether the brick's heal indices (`.glusterfs/indices/xattrop`,
//!   `dirty`, `entry-changes`: what `heal info` walks) hold any entry besides their base file.
//!
//! It answers only the healthy case, and never more than the CLI would: a peer not "in
//! cluster" or not connected, a brick down, not signed in or with anything in its indices, a
//! volume not started, a node that did not report — then `answer` gives None and the round
//! asks the CLI as before, which says exactly what is wrong. So both paths give the same
//! verdict (tests below, on output captured on the lab in the same moment).

use super::gluster::{BrickHeal, HealFacts, Peer, PeerFacts, VolumeStatusFacts};
use super::ParseError;

/// The peer state glusterd writes for a member of the pool (`state=3`): the CLI's stateStr.
const IN_CLUSTER: (&str, &str) = ("3", "Peer in Cluster");

/// Bash (it is part of the basics command: `node::in_bash`), bounded output (at most 64 KiB,
/// cut where a line would pass it); the only processes it starts are `find` (glusterd's
/// sockets, and per own brick its indices), `ss` and `getent` per peer: files are read with
/// `read`, values kept in variables (a command substitution costs a fork), the output gathered
/// in one variable instead of a pipe. glusterd's connections are the established ones whose
/// inode is among its open files (`ss -p` walks every process's files for that: tens of ms on
/// a loaded node).
pub fn command() -> String {
    r#"{ d=/var/lib/glusterd; o=; kv() { local k x; KV=; while IFS='=' read -r k x; do if [ "$k" = "$2" ]; then KV=$x; return 0; fi; done < "$1"; }; out() { [ $(( ${#o} + ${#1} )) -lt 65536 ] && o+="$1"$'\n'; }; gd=; c=; read -r gd < /run/glusterd.pid; [ -n "$gd" ] && read -r c < "/proc/$gd/comm"; if [ "$c" != glusterd ]; then out 'glusterd down'; else kv $d/glusterd.info UUID; self=$KV; out "self $self"; socks=" $(find "/proc/$gd/fd" -lname 'socket:*' -printf '%l ')"; all=$(ss -tneH state established '( dport = :24007 )'); est=; while IFS= read -r l; do i=${l##* ino:}; i=${i%% *}; case $socks in *" socket:[$i] "*) est+="$l"$'\n' ;; esac; done <<< "$all"; for f in $d/peers/*; do [ -f "$f" ] || continue; kv "$f" hostname1; h=$KV; a=$(getent hosts "$h"); a=${a%%[[:space:]]*}; conn=-; if [ -n "$a" ]; then conn=0; case "$est" in *" $a:24007 "*) conn=1 ;; esac; fi; kv "$f" uuid; u=$KV; kv "$f" state; out "peer $u $KV $conn $h"; done; for v in $d/vols/*; do [ -f "$v/info" ] || continue; n=${v##*/}; kv "$v/info" status; out "volume $KV $n"; for b in "$v"/bricks/*; do [ -f "$b" ] || continue; kv "$b" uuid; u=$KV; kv "$b" hostname; h=$KV; kv "$b" path; p=$KV; out "vbrick $n $u $h:$p"; [ "$u" = "$self" ] || continue; pid=; c=; read -r pid < "/run/gluster/vols/$n/$h${p//\//-}.pid"; [ -n "$pid" ] && read -r c < "/proc/$pid/comm"; [ "$c" = glusterfsd ] || pid=-; q=$(find "$p/.glusterfs/indices/xattrop" "$p/.glusterfs/indices/dirty" "$p/.glusterfs/indices/entry-changes" -mindepth 1 -maxdepth 1 ! -name 'xattrop-*' ! -name 'dirty-*' ! -name 'entry-changes-*' -print -quit 2>&1); [ -z "$q" ] && q=0 || q=1; kv "$b" listen-port; out "brick $n ${pid:--} $KV $q $h:$p"; done; done; fi; printf '%s' "$o"; } 2>/dev/null"#
        .to_string()
}

/// One node's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalGluster {
    /// glusterd's process runs (its pid file names a live `glusterd`).
    pub glusterd: bool,
    pub uuid: String,
    pub peers: Vec<LocalPeer>,
    pub volumes: Vec<LocalVolume>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPeer {
    pub uuid: String,
    pub state: String,
    /// None when the peer's name did not resolve (no address to look for).
    pub connected: Option<bool>,
    pub hostname: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalVolume {
    pub name: String,
    /// `status=1` in the volume's info: started.
    pub started: bool,
    /// Every brick of the volume: (owner uuid, `host:path`).
    pub bricks: Vec<(String, String)>,
    /// The bricks this node owns.
    pub own: Vec<LocalBrick>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalBrick {
    /// `host:path`.
    pub name: String,
    /// The live `glusterfsd`'s pid.
    pub pid: Option<u32>,
    /// The port it listens on (0 until it has signed in with glusterd).
    pub port: Option<u16>,
    /// Something in its heal indices (pending, dirty or entry changes).
    pub index_entries: bool,
}

pub fn parse(text: &str) -> Result<LocalGluster, ParseError> {
    const WHAT: &str = "gluster (local)";
    let mut g = LocalGluster {
        glusterd: false,
        uuid: String::new(),
        peers: Vec::new(),
        volumes: Vec::new(),
    };
    let bad = |line: &str| ParseError::new(WHAT, format!("unexpected line {:?}", clip(line)));
    for line in text.lines() {
        let mut words = line.splitn(2, ' ');
        let (kind, rest) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        match kind {
            "" => {}
            "glusterd" if rest == "down" => return Ok(g),
            "self" => {
                g.glusterd = true;
                g.uuid = rest.trim().to_string();
            }
            "peer" => {
                let f: Vec<&str> = rest.splitn(4, ' ').collect();
                let [uuid, state, conn, host] = f[..] else {
                    return Err(bad(line));
                };
                g.peers.push(LocalPeer {
                    uuid: uuid.to_string(),
                    state: state.to_string(),
                    connected: match conn {
                        "1" => Some(true),
                        "0" => Some(false),
                        _ => None,
                    },
                    hostname: host.to_string(),
                });
            }
            "volume" => {
                let (status, name) = rest.split_once(' ').ok_or_else(|| bad(line))?;
                g.volumes.push(LocalVolume {
                    name: name.to_string(),
                    started: status == "1",
                    bricks: Vec::new(),
                    own: Vec::new(),
                });
            }
            "vbrick" | "brick" => {
                let n = if kind == "vbrick" { 3 } else { 5 };
                let f: Vec<&str> = rest.splitn(n, ' ').collect();
                if f.len() != n {
                    return Err(bad(line));
                }
                let v = g
                    .volumes
                    .iter_mut()
                    .find(|v| v.name == f[0])
                    .ok_or_else(|| bad(line))?;
                if kind == "vbrick" {
                    v.bricks.push((f[1].to_string(), f[2].to_string()));
                } else {
                    v.own.push(LocalBrick {
                        pid: f[1].parse().ok(),
                        port: f[2].parse().ok().filter(|p| *p != 0),
                        index_entries: f[3] != "0",
                        name: f[4].to_string(),
                    });
                }
            }
            _ => return Err(bad(line)),
        }
    }
    if !g.glusterd {
        return Err(ParseError::new(WHAT, "no answer"));
    }
    Ok(g)
}

fn clip(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(80).collect()
}

/// The witness's names as the pool knows its peer (its `[witness]` name and address): its peer
/// entry may be disconnected and its arbiter bricks are not the nodes' to report.
pub fn witness_hosts(cfg: &crate::config::Config) -> Vec<String> {
    cfg.witness
        .iter()
        .flat_map(|w| [w.name.clone(), w.address.to_string()])
        .collect()
}

/// The node's peer status, when its report shows every peer in the pool and connected — or,
/// for the witness (`witness`: its names), in the pool and disconnected, as the CLI lists a
/// peer that is down: the witness's checks judge it.
pub fn peers(g: &LocalGluster, witness: &[String]) -> Option<PeerFacts> {
    if !g.glusterd {
        return None;
    }
    let peers = g
        .peers
        .iter()
        .map(|p| {
            let down_witness = p.connected == Some(false) && witness.contains(&p.hostname);
            (p.state == IN_CLUSTER.0 && (p.connected == Some(true) || down_witness)).then(|| Peer {
                hostname: p.hostname.clone(),
                uuid: p.uuid.clone(),
                connected: !down_witness,
                state: IN_CLUSTER.1.to_string(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    (!peers.is_empty()).then_some(PeerFacts { peers })
}

/// `volume`'s status and heal summary from every node's report (`reports`: one per node of
/// the pool, each with its peers connected), when together they show it started, every brick
/// reported by its owner, online, signed in and with nothing to heal. A witness that is down
/// (`witness`: its names; disconnected from every reporter) reports nothing: its arbiter bricks
/// are left out, as the CLI's volume status leaves out the bricks of a peer it cannot reach,
/// and the witness's checks say so. A witness that is up is the CLI's to judge (None).
pub fn volume(
    volume: &str,
    reports: &[&LocalGluster],
    witness: &[String],
) -> Option<(VolumeStatusFacts, HealFacts)> {
    if reports.is_empty() || reports.iter().any(|r| peers(r, witness).is_none()) {
        return None;
    }
    let down_witness: Vec<&str> = reports
        .iter()
        .flat_map(|r| r.peers.iter())
        .filter(|p| witness.contains(&p.hostname))
        .map(|p| p.uuid.as_str())
        .collect();
    let witness_connected = reports
        .iter()
        .flat_map(|r| r.peers.iter())
        .any(|p| witness.contains(&p.hostname) && p.connected != Some(false));
    if witness_connected {
        return None;
    }
    // Every member of the pool reported (but a witness that is down): the reporters' uuids
    // are the pool.
    let pool: Vec<&str> = reports
        .iter()
        .map(|r| r.uuid.as_str())
        .chain(down_witness.iter().copied())
        .collect();
    if reports.iter().any(|r| {
        r.peers
            .iter()
            .filter(|p| !down_witness.contains(&p.uuid.as_str()))
            .count()
            + 1
            != reports.len()
            || r.peers.iter().any(|p| !pool.contains(&p.uuid.as_str()))
    }) {
        return None;
    }
    let first = reports[0].volumes.iter().find(|v| v.name == volume)?;
    if first.bricks.is_empty() {
        return None;
    }
    let mut bricks = Vec::new();
    let mut heal = Vec::new();
    for (owner, name) in &first.bricks {
        if down_witness.contains(&owner.as_str()) {
            continue;
        }
        let report = reports.iter().find(|r| &r.uuid == owner)?;
        let v = report.volumes.iter().find(|v| v.name == volume)?;
        if !v.started || v.bricks != first.bricks {
            return None;
        }
        let b = v.own.iter().find(|b| &b.name == name)?;
        let (Some(pid), Some(port), false) = (b.pid, b.port, b.index_entries) else {
            return None;
        };
        let (host, path) = name.split_once(':')?;
        bricks.push(super::gluster::Brick {
            host: host.to_string(),
            path: path.to_string(),
            peer_id: owner.clone(),
            online: true,
            port: Some(port),
            pid: Some(pid),
        });
        heal.push(BrickHeal {
            name: name.clone(),
            connected: true,
            status: "Connected".to_string(),
            total: Some(0),
            pending: Some(0),
            split_brain: Some(0),
            possibly_healing: Some(0),
        });
    }
    Some((
        VolumeStatusFacts {
            volume: volume.to_string(),
            bricks,
            // Not read from files: no check judges them.
            self_heal_daemons: Vec::new(),
        },
        HealFacts { bricks: heal },
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::probe::{gluster, ClusterFacts, Probe, VolumeFacts};

    /// What was captured on lab 2 in one moment per state: each node's local report and its
    /// CLI peer status, and the standby's CLI volume status and heal summary.
    fn fixture(state: &str, file: &str) -> String {
        let path = format!(
            "{}/fixtures/gluster/local/{state}-{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// `healed`: after a heal, with the base files every index directory then keeps.
    const STATES: [&str; 5] = [
        "healthy",
        "healed",
        "n2-glusterd-stopped",
        "n2-brick-down",
        "heal-pending",
    ];

    fn cli_volume(state: &str) -> VolumeFacts {
        let status: Probe<_> = gluster::parse_volume_status(&fixture(state, "n2-volume.xml"))
            .map_err(Into::into)
            .map(|mut v| v.remove(0));
        let heal: Probe<_> =
            gluster::parse_heal_summary(&fixture(state, "n2-heal.xml")).map_err(Into::into);
        VolumeFacts {
            name: "shared".into(),
            status,
            heal,
        }
    }

    /// The round's facts as the CLI gave them, and as the local reports give them where they
    /// answer (the CLI's elsewhere): what `collect::gather_plan` does.
    fn both_ways(state: &str) -> (ClusterFacts, ClusterFacts, [bool; 3]) {
        both_ways_with(state, &[])
    }

    fn both_ways_with(state: &str, witness: &[String]) -> (ClusterFacts, ClusterFacts, [bool; 3]) {
        let mut cli = crate::model::tests::healthy();
        for (i, n) in ["n1", "n2"].iter().enumerate() {
            cli.nodes[i].gluster_peers =
                gluster::parse_peer_status(&fixture(state, &format!("{n}-peer.xml")))
                    .map_err(Into::into);
            cli.nodes[i].volumes = Vec::new();
        }
        cli.nodes[1].volumes = vec![cli_volume(state)];
        let reports: Vec<LocalGluster> = ["n1", "n2"]
            .iter()
            .map(|n| parse(&fixture(state, &format!("{n}.txt"))))
            .filter_map(Result::ok)
            .collect();
        let mut local = cli.clone();
        let mut answered = [false; 3];
        for (i, r) in reports.iter().enumerate().filter(|_| reports.len() == 2) {
            if let Some(p) = peers(r, witness) {
                local.nodes[i].gluster_peers = Ok(p);
                answered[i] = true;
            }
        }
        let all: Vec<&LocalGluster> = reports.iter().collect();
        if let Some((status, heal)) = volume("shared", &all, witness).filter(|_| all.len() == 2) {
            local.nodes[1].volumes = vec![VolumeFacts {
                name: "shared".into(),
                status: Ok(status),
                heal: Ok(heal),
            }];
            answered[2] = true;
        }
        (cli, local, answered)
    }

    fn gluster_checks(f: &ClusterFacts) -> (String, serde_json::Value) {
        let r = crate::model::judge(
            f,
            &crate::model::tests::exp(),
            std::time::Duration::from_millis(1),
        );
        gluster_part(&r)
    }

    /// The verdict and the gluster checks of a report.
    fn gluster_part(r: &crate::model::ClusterReport) -> (String, serde_json::Value) {
        let checks: Vec<_> = r
            .checks
            .iter()
            .filter(|c| {
                use crate::model::CheckId;
                matches!(
                    c.name.id,
                    CheckId::GlusterPeers | CheckId::GlusterVolume | CheckId::GlusterArbiter
                )
            })
            .collect();
        (
            format!("{:?}", r.verdict),
            serde_json::to_value(checks).unwrap(),
        )
    }

    #[test]
    fn both_paths_give_the_same_verdict_and_checks_in_every_captured_state() {
        for state in STATES {
            let (cli, local, _) = both_ways(state);
            assert_eq!(gluster_checks(&cli), gluster_checks(&local), "{state}");
        }
    }

    #[test]
    fn the_local_path_answers_the_healthy_state_and_nothing_that_is_wrong() {
        let answered = |s| both_ways(s).2;
        assert_eq!(answered("healthy"), [true, true, true]);
        assert_eq!(answered("healed"), [true, true, true]);
        // glusterd down on n2: n2 cannot say, n1 sees it disconnected: the CLI says it all.
        assert_eq!(answered("n2-glusterd-stopped"), [false, false, false]);
        // A brick process gone, entries to heal: the peers answer, the volume is the CLI's.
        assert_eq!(answered("n2-brick-down"), [true, true, false]);
        assert_eq!(answered("heal-pending"), [true, true, false]);
        // And where it answers, it says what the CLI says, field by field.
        let (cli, local, _) = both_ways("healthy");
        for i in 0..2 {
            assert_eq!(
                cli.nodes[i].gluster_peers.as_ref().unwrap(),
                local.nodes[i].gluster_peers.as_ref().unwrap()
            );
        }
        let (c, l) = (&cli.nodes[1].volumes[0], &local.nodes[1].volumes[0]);
        assert_eq!(c.heal.as_ref().unwrap(), l.heal.as_ref().unwrap());
        let (c, l) = (c.status.as_ref().unwrap(), l.status.as_ref().unwrap());
        assert_eq!(c.bricks, l.bricks);
    }

    #[test]
    fn reports_are_read_and_odd_lines_refused() {
        let r = parse(&fixture("n2-brick-down", "n2.txt")).unwrap();
        assert_eq!(r.peers[0].hostname, "n1");
        assert_eq!(r.volumes[0].bricks.len(), 2);
        assert_eq!(r.volumes[0].own[0].pid, None);
        let down = parse("glusterd down\n").unwrap();
        assert!(!down.glusterd);
        assert_eq!(peers(&down, &[]), None);
        assert!(parse("").is_err());
        assert!(parse("self x\n\u{1b}[31mjunk\n").is_err());
        // A peer whose name did not resolve cannot be called connected.
        let unresolved = parse("self a\npeer b 3 - n9\n").unwrap();
        assert_eq!(unresolved.peers[0].connected, None);
        assert_eq!(peers(&unresolved, &[]), None);
        // Only in-cluster peers.
        assert_eq!(peers(&parse("self a\npeer b 6 1 n9\n").unwrap(), &[]), None);
    }

    fn witness() -> crate::config::Node {
        crate::config::Node {
            name: "w".into(),
            address: "10.213.57.46".parse().unwrap(),
        }
    }

    /// The gluster checks as status gives them with a witness: the pair's judged without the
    /// witness's parts, the witness's (its arbiter brick) from all the facts.
    fn witness_checks(f: &ClusterFacts) -> (String, serde_json::Value) {
        let w = witness();
        let mut r = crate::model::judge(
            &crate::witness::without_witness(f, &w),
            &crate::model::tests::exp(),
            std::time::Duration::from_millis(1),
        );
        let facts = crate::witness::WitnessFacts {
            witness: w,
            ssh_port: 22,
            reach: Vec::new(),
        };
        crate::witness::amend(&mut r, f, &facts);
        gluster_part(&r)
    }

    #[test]
    fn with_the_witness_down_the_files_judge_the_nodes_bricks_and_the_arbiter_is_the_witness_checks(
    ) {
        let names = vec!["w".to_string(), "10.213.57.46".to_string()];
        let (cli, local, answered) = both_ways_with("witness-down", &names);
        // The CLI's heal info waited 10 s on the arbiter's brick (captured: it answered then).
        assert_eq!(answered, [true, true, true]);
        assert_eq!(witness_checks(&cli), witness_checks(&local));
        let (_, checks) = witness_checks(&local);
        let text = checks.to_string();
        assert!(text.contains("2 bricks online, nothing to heal"), "{text}");
        assert!(
            text.contains("no brick of w in the volume status"),
            "{text}"
        );
        // The witness's peer entry is there, disconnected, as the CLI lists it.
        let p = local.nodes[0].gluster_peers.as_ref().unwrap();
        assert_eq!(p, cli.nodes[0].gluster_peers.as_ref().unwrap());
        assert!(p.peers.iter().any(|p| p.hostname == "w" && !p.connected));
        // Without the witness configured, a disconnected peer is the CLI's to judge.
        assert_eq!(both_ways("witness-down").2, [false, false, false]);
    }

    #[test]
    fn with_the_witness_up_its_arbiter_brick_is_the_clis_to_judge() {
        let names = vec!["w".to_string()];
        let (cli, local, answered) = both_ways_with("witness-up", &names);
        assert_eq!(answered, [true, true, false]);
        assert_eq!(witness_checks(&cli), witness_checks(&local));
        assert!(witness_checks(&cli)
            .1
            .to_string()
            .contains("arbiter brick w:/srv/bricks/shared online"));
    }
}
