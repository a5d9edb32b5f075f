//! ssh-trust: root on each node can reach the other over SSH with the host key checked (the
//! state replication and `status`'s standby check use it). Each node gets its own key
//! (generated there; a private key never travels), the peer's public key in
//! authorized_keys, and both nodes' host keys in known_hosts under name and address.

use super::Env;
use crate::deploy::remote::{self, Script, Sections};
use crate::deploy::{files, Action, Change, Problem, StagePlan};
use crate::pair::NodeId;
use std::time::Duration;

pub fn script(_env: &Env, _node: usize) -> String {
    Script::new()
        .section("home", "echo \"$HOME\"")
        .section("pubkey", "cat \"$HOME/.ssh/id_ed25519.pub\"")
        .section("hostkeys", "cat /etc/ssh/ssh_host_*_key.pub")
        .section("authorized", "cat \"$HOME/.ssh/authorized_keys\"")
        .section("known", "cat \"$HOME/.ssh/known_hosts\"")
        .build()
}

/// `type base64` of an OpenSSH public key line (options and comment dropped).
pub fn key_id(line: &str) -> Option<(String, String)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let at = fields
        .iter()
        .position(|f| f.starts_with("ssh-") || f.starts_with("ecdsa-") || f.starts_with("sk-"))?;
    let key = fields.get(at + 1)?;
    Some((fields[at].to_string(), key.to_string()))
}

struct KnownHost {
    hosts: Vec<String>,
    key: (String, String),
}

fn parse_known(line: &str) -> Option<KnownHost> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with('@') || line.starts_with('|') {
        return None;
    }
    let mut f = line.split_whitespace();
    let hosts = f.next()?.split(',').map(str::to_string).collect();
    let key = (f.next()?.to_string(), f.next()?.to_string());
    Some(KnownHost { hosts, key })
}

pub fn plan(env: &Env, seen: &[Sections]) -> Result<StagePlan, Problem> {
    let cfg = env.cfg;
    let mut plan = StagePlan::default();
    let mut host_keys: Vec<Vec<(String, String)>> = Vec::new();
    let mut pubkeys: Vec<Option<(String, String)>> = Vec::new();
    for s in seen {
        host_keys.push(s.get("hostkeys")?.lines().filter_map(key_id).collect());
        pubkeys.push(s.get("pubkey")?.lines().find_map(key_id));
    }
    for (i, keys) in host_keys.iter().enumerate() {
        if keys.is_empty() {
            return Err(Problem::new(
                Some(i),
                format!(
                    "cannot read {}'s SSH host keys (/etc/ssh/ssh_host_*_key.pub)",
                    env.node_name(i)
                ),
            ));
        }
    }
    for (me, s) in NodeId::BOTH.into_iter().zip(seen) {
        let (i, j) = (me.index(), me.peer().index());
        let home = s.get("home")?.trim();
        let home = if home.is_empty() { "/root" } else { home };
        let name = env.node_name(i);
        if pubkeys[i].is_none() {
            plan.push(Change::new(
                i,
                0,
                format!("generate {}'s SSH key {home}/.ssh/id_ed25519", cfg.ssh.user),
                Action::Run {
                    shown: format!("ssh-keygen -t ed25519 -f {home}/.ssh/id_ed25519"),
                    script: remote::with_params(
                        include_str!("../scripts/trust-keygen.sh"),
                        &[("COMMENT", &format!("{}@{name}", cfg.ssh.user))],
                    ),
                    limit: Duration::from_secs(30),
                },
            ));
        }
        let authorized: Vec<(String, String)> =
            s.get("authorized")?.lines().filter_map(key_id).collect();
        let peer_key_present = pubkeys[j]
            .as_ref()
            .map(|k| authorized.contains(k))
            .unwrap_or(false);
        if !peer_key_present {
            plan.push(Change::new(
                i,
                1,
                format!(
                    "authorize {}'s key in {home}/.ssh/authorized_keys",
                    env.node_name(j)
                ),
                Action::AuthorizeKeyOf { source: j },
            ));
        }

        plan.extend(known_hosts_change(
            env,
            i,
            home,
            s.get("known")?,
            &host_keys,
        ));
    }
    if !plan.is_empty() {
        for me in NodeId::BOTH.into_iter().take(seen.len()) {
            let peer = &cfg.nodes[me.peer()];
            plan.push(Change::new(
                me.index(),
                2,
                format!(
                    "check that {} reaches {} over SSH (host key checked)",
                    cfg.nodes[me].name, peer.name
                ),
                Action::Run {
                    shown: format!(
                        "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes {}@{} true",
                        cfg.ssh.user, peer.address
                    ),
                    script: remote::with_params(
                        include_str!("../scripts/trust-reach.sh"),
                        &[
                            ("PEER_USER", &cfg.ssh.user),
                            ("PEER_ADDRESS", &peer.address.to_string()),
                        ],
                    ),
                    limit: Duration::from_secs(15),
                },
            ));
        }
    }
    Ok(plan)
}

/// known_hosts: both nodes under name and address; a stale key for either is replaced.
/// The new file for node `i` (whose file reads `text`), or None when it is right.
fn known_hosts_change(
    env: &Env,
    i: usize,
    home: &str,
    text: &str,
    host_keys: &[Vec<(String, String)>],
) -> Option<Change> {
    let cfg = env.cfg;
    let mut kept = Vec::new();
    let mut stale = Vec::new();
    let mut present = vec![vec![false; 0]; 2];
    for (k, keys) in host_keys.iter().enumerate() {
        present[k] = vec![false; keys.len()];
    }
    for line in text.lines() {
        let Some(entry) = parse_known(line) else {
            kept.push(line.to_string());
            continue;
        };
        let mut drop = false;
        for (k, keys) in host_keys.iter().enumerate() {
            let node = &cfg.nodes[k];
            let addr = node.address.to_string();
            let names_node = entry.hosts.iter().any(|h| *h == addr || *h == node.name);
            if !names_node {
                continue;
            }
            match keys.iter().position(|key| *key == entry.key) {
                Some(at) if entry.hosts.contains(&addr) => present[k][at] = true,
                Some(_) => {}
                None if keys.iter().any(|key| key.0 == entry.key.0) => {
                    drop = true;
                    stale.push(node.name.clone());
                }
                None => {}
            }
        }
        if !drop {
            kept.push(line.to_string());
        }
    }
    let mut added = Vec::new();
    for (k, keys) in host_keys.iter().enumerate() {
        let node = &cfg.nodes[k];
        for (at, key) in keys.iter().enumerate() {
            if !present[k][at] {
                kept.push(format!(
                    "{},{} {} {}",
                    node.name, node.address, key.0, key.1
                ));
                if !added.contains(&node.name) {
                    added.push(node.name.clone());
                }
            }
        }
    }
    if added.is_empty() && stale.is_empty() {
        return None;
    }
    stale.dedup();
    let mut why = Vec::new();
    if !added.is_empty() {
        why.push(format!("adds the host key of {}", added.join(" and ")));
    }
    if !stale.is_empty() {
        why.push(format!("replaces a stale key of {}", stale.join(" and ")));
    }
    let mut content = kept.join("\n");
    content.push('\n');
    let path = format!("{home}/.ssh/known_hosts");
    Some(Change::new(
        i,
        0,
        format!("write {path} ({})", why.join(", ")),
        Action::Write {
            path,
            content: std::sync::Arc::new(content.into_bytes()),
            owner: files::ROOT,
            mode: 0o644,
        },
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{env_for, lab_cfg, summaries};
    use super::*;

    const K1: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost1 root@n1";
    const K2: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost2 root@n2";
    const U1: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUser1 root@n1";
    const U2: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUser2 root@n2";
    const LAB: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILabKey pairctl-lab";

    fn node(hostkey: &str, pubkey: &str, authorized: &str, known: &str) -> Sections {
        Sections::parse(&format!(
            "@@pairctl:home\n/root\n@@pairctl:pubkey\n{pubkey}\n@@pairctl:hostkeys\n{hostkey}\n\
@@pairctl:authorized\n{authorized}\n@@pairctl:known\n{known}"
        ))
    }

    #[test]
    fn bare_nodes_get_keys_authorization_and_known_hosts() {
        let cfg = lab_cfg();
        let plan = plan(
            &env_for(&cfg),
            &[node(K1, "", LAB, ""), node(K2, "", LAB, "")],
        )
        .unwrap();
        assert_eq!(
            summaries(&plan),
            vec![
                "0 n1: generate root's SSH key /root/.ssh/id_ed25519",
                "0 n1: write /root/.ssh/known_hosts (adds the host key of n1 and n2)",
                "0 n2: generate root's SSH key /root/.ssh/id_ed25519",
                "0 n2: write /root/.ssh/known_hosts (adds the host key of n1 and n2)",
                "1 n1: authorize n2's key in /root/.ssh/authorized_keys",
                "1 n2: authorize n1's key in /root/.ssh/authorized_keys",
                "2 n1: check that n1 reaches n2 over SSH (host key checked)",
                "2 n2: check that n2 reaches n1 over SSH (host key checked)",
            ]
        );
        let Action::Write { content, .. } = &plan.changes[2].action else {
            panic!()
        };
        assert_eq!(
            String::from_utf8_lossy(content),
            "n1,10.213.57.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost1\nn2,10.213.57.12 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost2\n"
        );
    }

    #[test]
    fn trusted_nodes_need_nothing() {
        let cfg = lab_cfg();
        let known = "n1,10.213.57.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost1\nn2,10.213.57.12 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost2\n";
        let plan = plan(
            &env_for(&cfg),
            &[
                node(K1, U1, &format!("{LAB}\n{U2}"), known),
                node(K2, U2, &format!("{LAB}\n{U1}"), known),
            ],
        )
        .unwrap();
        assert!(plan.is_empty(), "{:?}", summaries(&plan));
    }

    #[test]
    fn a_stale_host_key_is_replaced_and_other_lines_kept() {
        let cfg = lab_cfg();
        let known = "# mine\nother.example ssh-rsa AAAAB3x\n10.213.57.12 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOld\nn1,10.213.57.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost1\n";
        let plan = plan(
            &env_for(&cfg),
            &[
                node(K1, U1, &format!("{LAB}\n{U2}"), known),
                node(K2, U2, &format!("{LAB}\n{U1}"), "n1,10.213.57.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost1\nn2,10.213.57.12 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost2\n"),
            ],
        )
        .unwrap();
        assert_eq!(
            summaries(&plan)[0],
            "0 n1: write /root/.ssh/known_hosts (adds the host key of n2, replaces a stale key of n2)"
        );
        let Action::Write { content, .. } = &plan.changes[0].action else {
            panic!()
        };
        let text = String::from_utf8_lossy(content);
        assert!(
            text.starts_with("# mine\nother.example ssh-rsa AAAAB3x\nn1,"),
            "{text}"
        );
        assert!(!text.contains("IOld"));
    }
}
