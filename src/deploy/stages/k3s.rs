//! k3s: the offline bundle's k3s and litestream (binaries, units) and the list of enabled
//! services, on both nodes. None of their units start at boot: keepalived's notify script
//! runs them on the active node only. A changed binary or unit restarts the unit where it
//! runs; the services list is read by k3s as it goes.

use super::Env;
use crate::deploy::files::{self, Desired};
use crate::deploy::remote::{self, parse_units, Script, Sections};
use crate::deploy::{templates, Problem, Stage, StagePlan};

const UNITS: &[&str] = &["k3s.service", "litestream.timer", "litestream.service"];

fn desired(env: &Env) -> Vec<Desired> {
    let mut d: Vec<Desired> = env
        .bundle
        .files_of(Stage::K3s)
        .into_iter()
        .map(|(f, content)| Desired::shared(f.target, content, f.mode, f.effects))
        .collect();
    d.push(Desired::file(
        templates::SERVICES_FILE,
        templates::services_file(env.cfg),
        0o644,
        &[],
    ));
    d
}

pub fn script(env: &Env, _node: usize) -> String {
    let d = desired(env);
    let paths: Vec<&str> = d.iter().map(|x| x.path()).collect();
    Script::new()
        .section("units", &remote::units_fragment(UNITS))
        .section("files", &files::check_fragment(&paths))
        .build()
}

pub fn plan(env: &Env, seen: &[Sections]) -> Result<StagePlan, Problem> {
    if env.bundle.get("k3s").is_none() {
        return Err(Problem::new(
            None,
            format!("no k3s in the bundle: {}", env.bundle.problems.join("; ")),
        ));
    }
    let desired = desired(env);
    let mut plan = StagePlan::default();
    for (i, s) in seen.iter().enumerate() {
        let (changes, effects) =
            files::plan_files(i, 0, &desired, &files::parse_states(s.get("files")));
        plan.extend(changes);
        let units = parse_units(s.get("units"));
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

    fn installed(env: &Env, change_k3s: bool) -> String {
        let mut s = String::new();
        for d in desired(env) {
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

    fn node(units: &str, files: &str) -> Sections {
        Sections::parse(&format!(
            "@@pairctl:units\n{units}\n@@pairctl:files\n{files}"
        ))
    }

    #[test]
    fn bare_nodes_get_the_bundle_and_no_restart() {
        let cfg = lab_cfg();
        let env = env_for(&cfg);
        let bare = node(
            "k3s.service inactive \nlitestream.timer inactive \nlitestream.service inactive ",
            "",
        );
        let p = plan(&env, &[bare.clone(), bare]).unwrap();
        let s = summaries(&p);
        assert_eq!(
            s[..6],
            [
                "0 n1: write /usr/local/bin/k3s (new)",
                "0 n1: write /etc/systemd/system/k3s.service (new)",
                "0 n1: write /usr/local/bin/litestream-replicate (new)",
                "0 n1: write /etc/systemd/system/litestream.service (new)",
                "0 n1: write /etc/systemd/system/litestream.timer (new)",
                "0 n1: write /etc/pairctl/services (new)",
            ]
        );
        assert!(s.contains(&"1 n1: reload systemd's unit files (daemon-reload)".to_string()));
        assert!(!s.iter().any(|x| x.contains("restart")), "{s:?}");
    }

    #[test]
    fn a_new_k3s_binary_restarts_k3s_where_it_runs_only() {
        let cfg = lab_cfg();
        let env = env_for(&cfg);
        let active = node("k3s.service active disabled\nlitestream.timer active static\nlitestream.service inactive static", &installed(&env, true));
        let standby = node("k3s.service inactive disabled\nlitestream.timer inactive static\nlitestream.service inactive static", &installed(&env, true));
        let p = plan(&env, &[active, standby]).unwrap();
        assert_eq!(
            summaries(&p),
            vec![
                "0 n1: write /usr/local/bin/k3s (changed)",
                "0 n2: write /usr/local/bin/k3s (changed)",
                "1 n1: restart k3s",
            ]
        );
        let unchanged = node("k3s.service active disabled", &installed(&env, false));
        assert!(plan(&env, &[unchanged.clone(), unchanged])
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_changed_service_list_rewrites_the_list_only() {
        let cfg = lab_cfg();
        let env = env_for(&cfg);
        let before = installed(&env, false);
        let mut cfg2 = cfg.clone();
        cfg2.k3s.services.push("tenant".into());
        let env2 = env_for(&cfg2);
        let n = node("k3s.service active disabled", &before);
        assert_eq!(
            summaries(&plan(&env2, &[n.clone(), n]).unwrap()),
            vec![
                "0 n1: write /etc/pairctl/services (changed)",
                "0 n2: write /etc/pairctl/services (changed)"
            ]
        );
    }
}
