//! k3s: the offline bundle's k3s and litestream (binaries, units, the state hand-over
//! `k3s-state`), litestream's configuration (the replica on the peer over SFTP, the peer's host
//! key pinned) and the list of enabled services, on both nodes. None of their units start at
//! boot: keepalived's notify script runs them on the active node only. A changed binary, unit
//! or configuration restarts the unit where it runs; the services list is read by k3s as it
//! goes.

use super::Env;
use crate::deploy::bundle::LITESTREAM;
use crate::deploy::files::{self, Desired, Effect};
use crate::deploy::remote::{self, parse_units, Script, Sections};
use crate::deploy::{templates, Problem, Stage, StagePlan};
use crate::pair::NodeId;

const UNITS: &[&str] = &["k3s.service", LITESTREAM, "k3s-state-restore.service"];
/// litestream's SSH client (Go's) takes the first host key type the server has in this order:
/// the key pinned must be that one.
const HOST_KEY_PREFERENCE: &[&str] = &[
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "ssh-ed25519",
];

fn pinned_host_key(host_keys: &str) -> Option<String> {
    let keys: Vec<(String, String)> = host_keys.lines().filter_map(super::trust::key_id).collect();
    HOST_KEY_PREFERENCE.iter().find_map(|want| {
        keys.iter()
            .find(|(t, _)| t == want)
            .map(|(t, k)| format!("{t} {k}"))
    })
}

fn desired(env: &Env, me: NodeId, peer_host_key: &str) -> Vec<Desired> {
    let mut d: Vec<Desired> = env
        .bundle
        .files_of(Stage::K3s)
        .into_iter()
        .map(|(f, content)| Desired::shared(f.target, content, f.mode, f.effects))
        .collect();
    d.push(Desired::file(
        crate::probe::litestream::CONFIG,
        templates::litestream_yml(env.cfg, me, peer_host_key),
        0o644,
        &[Effect::Restart(LITESTREAM)],
    ));
    d.push(Desired::file(
        templates::SERVICES_FILE,
        templates::services_file(env.cfg),
        0o644,
        &[],
    ));
    d
}

pub fn script(env: &Env, node: usize) -> String {
    // The files' paths, the same on either node (none on a host that is not one).
    let d = NodeId::at(node)
        .map(|me| desired(env, me, ""))
        .unwrap_or_default();
    let paths: Vec<&str> = d.iter().map(|x| x.path()).collect();
    Script::new()
        .section("units", &remote::units_fragment(UNITS))
        .section("files", &files::check_fragment(&paths))
        .section("hostkeys", "cat /etc/ssh/ssh_host_*_key.pub")
        .build()
}

pub fn plan(env: &Env, seen: &[Sections]) -> Result<StagePlan, Problem> {
    if env.bundle.get("k3s").is_none() || env.bundle.get("litestream").is_none() {
        return Err(Problem::new(
            None,
            format!(
                "no k3s or litestream in the bundle: {}",
                env.bundle.problems.join("; ")
            ),
        ));
    }
    // Each node's litestream pins the other's host key.
    let host_keys = seen
        .iter()
        .enumerate()
        .map(|(i, s)| {
            pinned_host_key(s.get("hostkeys")?).ok_or_else(|| {
                Problem::new(
                    Some(i),
                    format!(
                        "cannot read {}'s SSH host keys (/etc/ssh/ssh_host_*_key.pub)",
                        env.node_name(i)
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut plan = StagePlan::default();
    for (me, s) in NodeId::BOTH.into_iter().zip(seen) {
        let i = me.index();
        let desired = desired(env, me, &host_keys[me.peer().index()]);
        let (changes, effects) =
            files::plan_files(i, 0, &desired, &files::parse_states(s.get("files")?));
        plan.extend(changes);
        let units = parse_units(s.get("units")?);
        plan.extend(files::disable_autostart(
            i,
            1,
            &units,
            UNITS,
            "keepalived's notify script runs them on the active node",
        ));
        plan.extend(files::effect_changes(i, 1, &effects, &units));
    }
    Ok(plan)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{env_for, lab_cfg, summaries};
    use super::*;

    const KEY1: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn1";
    const KEY2: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn2";

    fn env(cfg: &crate::config::Config) -> Env<'_> {
        env_for(cfg)
    }

    fn installed(env: &Env, node: usize, change_k3s: bool) -> String {
        let mut s = String::new();
        for d in desired(env, NodeId::at(node).unwrap(), [KEY2, KEY1][node]) {
            if let Desired::File {
                path,
                content,
                mode,
                ..
            } = d
            {
                let hash = if change_k3s && path == "/usr/local/bin/k3s" {
                    "0".repeat(64)
                } else {
                    files::sha256_hex(&content)
                };
                s.push_str(&format!(
                    "S|{path}|root:root|{mode:o}|regular file\n{hash}  {path}\n"
                ));
            }
        }
        s
    }

    fn node(i: usize, units: &str, files: &str) -> Sections {
        Sections::parse(&format!(
            "@@pairctl:units\n{units}\n@@pairctl:files\n{files}\n@@pairctl:hostkeys\n{} root@n{}\n",
            [KEY1, KEY2][i],
            i + 1
        ))
    }

    const BARE: &str =
        "k3s.service inactive \nlitestream.service inactive \nk3s-state-restore.service inactive ";

    #[test]
    fn bare_nodes_get_the_bundle_and_no_restart() {
        let cfg = lab_cfg();
        let env = env(&cfg);
        let p = plan(&env, &[node(0, BARE, ""), node(1, BARE, "")]).unwrap();
        let s = summaries(&p);
        assert_eq!(
            s[..8],
            [
                "0 n1: write /usr/local/bin/k3s (new)",
                "0 n1: write /etc/systemd/system/k3s.service (new)",
                "0 n1: write /usr/local/bin/litestream (new)",
                "0 n1: write /etc/systemd/system/litestream.service (new)",
                "0 n1: write /usr/local/bin/k3s-state (new)",
                "0 n1: write /etc/systemd/system/k3s-state-restore.service (new)",
                "0 n1: write /etc/litestream.yml (new)",
                "0 n1: write /etc/pairctl/services (new)",
            ]
        );
        assert!(s.contains(&"1 n1: reload systemd's unit files (daemon-reload)".to_string()));
        assert!(!s.iter().any(|x| x.contains("restart")), "{s:?}");
    }

    #[test]
    fn each_node_replicates_to_the_other_with_its_host_key_pinned() {
        let cfg = lab_cfg();
        let env = env(&cfg);
        let yml = |i: usize| {
            desired(&env, NodeId::at(i).unwrap(), [KEY2, KEY1][i])
                .into_iter()
                .find_map(|d| match d {
                    Desired::File { path, content, .. } if path == "/etc/litestream.yml" => {
                        Some(String::from_utf8(content.to_vec()).unwrap())
                    }
                    _ => None,
                })
                .unwrap()
        };
        let n1 = yml(0);
        assert!(n1.contains("host: \"10.213.57.12:22\""), "{n1}");
        assert!(n1.contains(&format!("host-key: \"{KEY2}\"")), "{n1}");
        assert!(n1.contains("type: sftp") && n1.contains("path: /var/run/litestream.sock"));
        // YAML: every key of the replica at its indentation.
        for key in [
            "type",
            "host",
            "user",
            "key-path",
            "host-key",
            "path",
            "sync-interval",
        ] {
            assert!(n1.contains(&format!("\n      {key}: ")), "{key} in {n1}");
        }
        assert!(yml(1).contains("host: \"10.213.57.11:22\""));
        let no_key =
            Sections::parse("@@pairctl:units\n\n@@pairctl:files\n\n@@pairctl:hostkeys\n\n");
        let err = plan(&env, &[node(0, BARE, ""), no_key]).unwrap_err();
        assert!(err.message.contains("host key"), "{}", err.message);
    }

    #[test]
    fn the_pinned_host_key_is_the_one_litestream_negotiates() {
        let keys = format!(
            "{KEY1} root@n1\necdsa-sha2-nistp256 AAAAE2Vj root@n1\nssh-rsa AAAAB3 root@n1\n"
        );
        assert_eq!(
            pinned_host_key(&keys).as_deref(),
            Some("ecdsa-sha2-nistp256 AAAAE2Vj")
        );
        assert_eq!(pinned_host_key(KEY1).as_deref(), Some(KEY1));
        assert_eq!(pinned_host_key("junk"), None);
    }

    #[test]
    fn a_new_k3s_binary_restarts_k3s_where_it_runs_only() {
        let cfg = lab_cfg();
        let env = env(&cfg);
        let units = |k3s: &str| {
            format!("k3s.service {k3s} disabled\nlitestream.service {k3s} static\nk3s-state-restore.service {k3s} static")
        };
        let active = node(0, &units("active"), &installed(&env, 0, true));
        let standby = node(1, &units("inactive"), &installed(&env, 1, true));
        let p = plan(&env, &[active, standby]).unwrap();
        assert_eq!(
            summaries(&p),
            vec![
                "0 n1: write /usr/local/bin/k3s (changed)",
                "0 n2: write /usr/local/bin/k3s (changed)",
                "1 n1: restart k3s",
            ]
        );
        let unchanged = |i| node(i, &units("active"), &installed(&env, i, false));
        assert!(plan(&env, &[unchanged(0), unchanged(1)])
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_bundle_without_litestream_is_refused() {
        let cfg = lab_cfg();
        let mut bundle = super::super::tests::lab_bundle().clone();
        bundle.files.remove("litestream");
        bundle.problems.push("bundle x lacks litestream".into());
        let env = Env {
            bundle: &bundle,
            ..env_for(&cfg)
        };
        let err = plan(&env, &[node(0, BARE, ""), node(1, BARE, "")]).unwrap_err();
        assert!(err.message.contains("lacks litestream"), "{}", err.message);
    }

    #[test]
    fn a_changed_service_list_rewrites_the_list_only() {
        let cfg = lab_cfg();
        let env1 = env(&cfg);
        let mut cfg2 = cfg.clone();
        cfg2.k3s.services.push("tenant".into());
        let env2 = env(&cfg2);
        let n = |i| {
            node(
                i,
                "k3s.service active disabled",
                &installed(&env1, i, false),
            )
        };
        assert_eq!(
            summaries(&plan(&env2, &[n(0), n(1)]).unwrap()),
            vec![
                "0 n1: write /etc/pairctl/services (changed)",
                "0 n2: write /etc/pairctl/services (changed)"
            ]
        );
    }
}
