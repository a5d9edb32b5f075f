//! galera: MariaDB + Galera on both nodes. The config file; no autostart (a node must start
//! in bootstrap order, and socket activation would start it outside it); a new cluster only
//! when none runs: bootstrap the first node with `galera_new_cluster`, then the other joins;
//! a changed config restarts one node at a time, each waiting until Synced again; the
//! monitoring user with the password from the config's secret file (on stdin, in SQL); the
//! epoch row of the quorum arrangement (`pairctl.epoch`), created once and never rewritten
//! (swap and failover own it). The Galera vote follows the role through keepalived's track
//! script (pairctl-quorum.sh), not this config: a role change rewrites no MariaDB file.

use super::{preflight, Env};
use crate::deploy::files::{self, Desired};
use crate::deploy::remote::{self, parse_units, Script, Sections};
use crate::deploy::{templates, Action, Change, Problem, StagePlan};
use crate::probe::galera::{self, ClusterStatus};
use std::time::Duration;

const UNITS: &[&str] = &["mariadb.service", "mariadb.socket"];
const GRASTATE: &str = "/var/lib/mysql/grastate.dat";
pub const EPOCH_SELECT: &str = "SELECT epoch, active FROM pairctl.epoch WHERE id = 1";

/// The epoch table and its one row (`INSERT IGNORE`: an existing row is never rewritten).
pub fn epoch_table_sql(epoch: u64, active: &str) -> String {
    format!(
        "CREATE DATABASE IF NOT EXISTS pairctl;\n\
CREATE TABLE IF NOT EXISTS pairctl.epoch (id TINYINT PRIMARY KEY, epoch BIGINT NOT NULL, active VARCHAR(64) NOT NULL, at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3));\n\
INSERT IGNORE INTO pairctl.epoch (id, epoch, active) VALUES (1, {epoch}, {});\n",
        sql_string(active)
    )
}

pub fn script(env: &Env, _node: usize) -> String {
    let mut s = Script::new()
        .section("units", &remote::units_fragment(UNITS))
        .section("files", &files::check_fragment(&[templates::GALERA_CNF]))
        .section(
            "wsrep",
            "if systemctl is-active -q mariadb; then mariadb -N -B -e \"SHOW GLOBAL STATUS LIKE 'wsrep%'\"; fi",
        )
        .section("grastate", &format!("cat {GRASTATE}"))
        .section(
            "epoch_row",
            &format!("if systemctl is-active -q mariadb; then mariadb -N -B -e {} 2>/dev/null; fi", crate::probe::node::shell_quote(EPOCH_SELECT)),
        );
    s = super::keepalived::role_sections(s, &env.cfg.vip.to_string());
    if let Some(sql) = user_check_sql(env) {
        s = s.raw_section(
            "user",
            &format!(
                "if systemctl is-active -q mariadb 2>/dev/null; then printf '%s\\n' {} | mariadb --force -N -B 2>/dev/null; fi",
                crate::probe::node::shell_quote(&sql)
            ),
        );
    }
    s.build()
}

/// A SQL string literal.
pub fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The hosts the monitoring user is created for: the configured patterns or the nodes'
/// subnet, and the node itself.
pub fn user_hosts(env: &Env) -> Vec<String> {
    let mut hosts = env.cfg.deploy.db_client_hosts.clone();
    if hosts.is_empty() {
        if let Some(p) =
            env.net.first().and_then(|n| n.as_ref()).and_then(|n| {
                preflight::subnet_host_pattern(env.cfg.nodes[0].address, n.prefix_len)
            })
        {
            hosts.push(p);
        }
    }
    for h in ["localhost", "127.0.0.1"] {
        if !hosts.iter().any(|x| x == h) {
            hosts.push(h.to_string());
        }
    }
    hosts
}

fn password<'a>(env: &Env<'a>) -> Option<&'a str> {
    env.cfg
        .galera
        .password
        .as_ref()
        .map(|p| p.expose())
        .filter(|p| !p.contains(['\n', '\r']))
}

/// Every host of the monitoring user, whether its password is the configured one and
/// whether it has PROCESS. It does not depend on which hosts are wanted (the check runs
/// before the preflight says which subnet the nodes are in).
fn user_check_sql(env: &Env) -> Option<String> {
    let pw = password(env)?;
    Some(format!(
        "SELECT CONCAT('user|', Host, '|', IF(authentication_string = PASSWORD({}), 'same', 'other'), '|', Process_priv, '|', IF(ssl_type = 'ANY', 'ssl', 'plain')) \
FROM mysql.user WHERE User = {};\n",
        sql_string(pw),
        sql_string(&env.cfg.galera.user)
    ))
}

fn user_create_sql(env: &Env, pw: &str) -> String {
    let user = sql_string(&env.cfg.galera.user);
    let pw = sql_string(pw);
    // With a CA in the config pairctl only speaks TLS: the server refuses the user plain text.
    let require = if env.cfg.galera.tls.is_some() {
        " REQUIRE SSL"
    } else {
        ""
    };
    let mut sql = String::new();
    for h in user_hosts(env) {
        let who = format!("{user}@{}", sql_string(&h));
        sql.push_str(&format!(
            "CREATE USER IF NOT EXISTS {who} IDENTIFIED BY {pw};\nALTER USER {who} IDENTIFIED BY {pw}{require};\n\
GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO {who};\n"
        ));
    }
    sql
}

/// The wanted hosts of the monitoring user that do not exist with the configured password,
/// the PROCESS privilege and (with a CA in the config) REQUIRE SSL, from the check's `user`
/// section (`user|host|same|Y|ssl` lines).
pub fn users_missing(env: &Env, text: &str) -> Vec<String> {
    let tls = env.cfg.galera.tls.is_some();
    user_hosts(env)
        .into_iter()
        .filter(|h| {
            !text.lines().any(|l| {
                let l = l.trim();
                l == format!("user|{h}|same|Y|ssl")
                    || (!tls && l == format!("user|{h}|same|Y|plain"))
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Db {
    Down,
    /// Running outside a cluster (no Galera provider loaded).
    Standalone,
    Member {
        size: u64,
        uuid: String,
    },
    /// Running, but not in a Primary component.
    NotPrimary(String),
}

fn db_state(i: usize, env: &Env, s: &Sections) -> Result<Db, Problem> {
    let units = parse_units(s.get("units")?);
    let active = units
        .get("mariadb.service")
        .map(|u| u.active.as_str())
        .unwrap_or("");
    match active {
        "active" => {}
        "activating" | "deactivating" | "reloading" => {
            return Err(Problem::new(
                Some(i),
                format!("mariadb on {} is {active}", env.node_name(i)),
            )
            .hint("re-run deploy when it has settled"))
        }
        _ => return Ok(Db::Down),
    }
    let g = galera::parse_wsrep_text(s.get("wsrep")?).map_err(|e| {
        Problem::new(
            Some(i),
            format!("cannot read the Galera state of {}: {e}", env.node_name(i)),
        )
    })?;
    if g.local_state_comment.is_none() || g.cluster_size == 0 {
        return Ok(Db::Standalone);
    }
    if g.cluster_status != ClusterStatus::Primary {
        return Ok(Db::NotPrimary(g.cluster_status.as_str().to_string()));
    }
    Ok(Db::Member {
        size: g.cluster_size,
        uuid: g.cluster_state_uuid,
    })
}

/// `safe_to_bootstrap` from grastate.dat; None when there is no state (a fresh node).
fn safe_to_bootstrap(s: &Sections) -> Result<Option<bool>, Problem> {
    Ok(s.get("grastate")?
        .lines()
        .find_map(|l| l.trim().strip_prefix("safe_to_bootstrap:"))
        .map(|v| v.trim() == "1"))
}

/// `galera-start.sh`: start mariadb as `how` says (`bootstrap`, `join`, `restart`) and wait
/// until it is in the cluster; a `join` with a `donor` address first waits until the donor's
/// Galera port accepts connections (it is being bootstrapped at the same time).
fn start_script(how: &str, donor: Option<std::net::IpAddr>) -> String {
    let donor = donor.map(|a| a.to_string()).unwrap_or_default();
    remote::with_params(
        include_str!("../scripts/galera-start.sh"),
        &[("HOW", how), ("DONOR", &donor)],
    )
}

/// `galera-sql.sh`: `sql` run as root, on mariadb's stdin.
fn sql_script(sql: &str) -> String {
    remote::with_params(include_str!("../scripts/galera-sql.sh"), &[("SQL", sql)])
}

/// A `Run` change: `script` for `bash -s`, `shown` what the operator sees, `secs` its limit.
pub(super) fn run(
    node: usize,
    phase: u8,
    summary: String,
    shown: &str,
    script: String,
    secs: u64,
) -> Change {
    Change::new(
        node,
        phase,
        summary,
        Action::Run {
            shown: shown.to_string(),
            script,
            limit: Duration::from_secs(secs),
        },
    )
}

pub fn plan(env: &Env, seen: &[Sections]) -> Result<StagePlan, Problem> {
    let mut plan = StagePlan::default();
    let Some(pw) = password(env) else {
        return Err(Problem::new(
            None,
            "galera.password_file is not set (or the password has a line break): deploy creates the monitoring user with it",
        ));
    };
    let mut states = Vec::new();
    let mut config_changed = Vec::new();
    for (i, s) in seen.iter().enumerate() {
        let (state, changed) = plan_node(env, i, s, &mut plan)?;
        states.push(state);
        config_changed.push(changed);
    }
    let members: Vec<usize> = (0..states.len())
        .filter(|i| matches!(states[*i], Db::Member { .. }))
        .collect();
    let cluster_node = plan_cluster(env, seen, &states, &members, &mut plan)?;
    // After a bootstrap, on the new cluster's node right away (the other node is joining
    // meanwhile); else once a joining node is in.
    let sql_phase = if members.is_empty() { 1 } else { 2 };
    plan_user_and_epoch(env, seen, &members, cluster_node, pw, sql_phase, &mut plan)?;
    plan_rolling_restart(&members, &config_changed, &mut plan);
    Ok(plan)
}

/// One node: its config file, no autostart, a standalone server stopped; its database state
/// and whether its config changes. A node outside a Primary component refuses the stage.
fn plan_node(
    env: &Env,
    i: usize,
    s: &Sections,
    plan: &mut StagePlan,
) -> Result<(Db, bool), Problem> {
    let desired = [Desired::file(
        templates::GALERA_CNF,
        templates::galera_cnf(env.cfg, i),
        0o644,
        &[],
    )];
    let (changes, _) = files::plan_files(i, 0, &desired, &files::parse_states(s.get("files")?));
    let changed = !changes.is_empty();
    plan.extend(changes);

    let units = parse_units(s.get("units")?);
    plan.extend(files::disable_autostart(
        i,
        0,
        &units,
        UNITS,
        "Galera starts in bootstrap order",
    ));

    let mut state = db_state(i, env, s)?;
    if state == Db::Standalone {
        plan.push(files::systemctl(
            i,
            0,
            "stop mariadb (it runs outside a Galera cluster)".into(),
            "stop mariadb.service",
            Duration::from_secs(120),
        ));
        state = Db::Down;
    }
    if let Db::NotPrimary(status) = &state {
        return Err(Problem::new(
            Some(i),
            format!(
                "mariadb on {} is in a {status} component: the cluster has lost quorum",
                env.node_name(i)
            ),
        )
        .hint("recover the cluster first (pairctl failover, or bootstrap the most advanced node by hand), then re-run deploy"));
    }
    Ok((state, changed))
}

/// `joiner` starts mariadb and joins the cluster running on `host` (in `phase` 1: the
/// cluster `host` is bootstrapping at the same time; the joiner waits for its Galera port).
fn join(env: &Env, plan: &mut StagePlan, joiner: usize, host: usize, phase: u8) {
    let donor = (phase == 1).then(|| env.cfg.nodes[host].address);
    plan.push(run(
        joiner,
        phase,
        format!(
            "start mariadb: {} joins the cluster on {} (state transfer), wait until Synced",
            env.node_name(joiner),
            env.node_name(host)
        ),
        "systemctl start mariadb",
        start_script("join", donor),
        300,
    ));
}

/// The cluster: kept when both nodes are members of one, joined when one runs, bootstrapped
/// when none does. Returns the node the cluster runs on (or is bootstrapped on).
fn plan_cluster(
    env: &Env,
    seen: &[Sections],
    states: &[Db],
    members: &[usize],
    plan: &mut StagePlan,
) -> Result<usize, Problem> {
    match members {
        [a, b] => {
            if let (Db::Member { size: sa, uuid: ua }, Db::Member { size: sb, uuid: ub }) =
                (&states[*a], &states[*b])
            {
                if ua != ub || *sa < 2 || *sb < 2 {
                    return Err(Problem::new(
                    None,
                    format!(
                        "{} and {} run separate Galera clusters (sizes {sa} and {sb})",
                        env.node_name(*a),
                        env.node_name(*b)
                    ),
                )
                .hint("keep the node with the data you want, stop mariadb on the other and remove its /var/lib/mysql/grastate.dat, then re-run deploy"));
                }
            }
            Ok(*a)
        }
        [m] => {
            join(env, plan, 1 - m, *m, 3);
            Ok(*m)
        }
        _ => bootstrap(env, seen, plan),
    }
}

/// No cluster runs: bootstrap from a node that may (a fresh node, or the last one to leave:
/// safe_to_bootstrap: 1), the first node when both may; the other joins.
fn bootstrap(env: &Env, seen: &[Sections], plan: &mut StagePlan) -> Result<usize, Problem> {
    let mut may = Vec::new();
    for (i, s) in seen.iter().enumerate() {
        if safe_to_bootstrap(s)? != Some(false) {
            may.push(i);
        }
    }
    let Some(&boot) = may.first() else {
        return Err(Problem::new(
            None,
            "mariadb is down on both nodes and neither may bootstrap (safe_to_bootstrap: 0 in grastate.dat: both stopped uncleanly)",
        )
        .hint("find the node with the highest seqno (galera_recovery), set safe_to_bootstrap: 1 there, then re-run deploy"));
    };
    plan.push(run(
        boot,
        1,
        format!(
            "bootstrap a new Galera cluster on {} (galera_new_cluster), wait until ready",
            env.node_name(boot)
        ),
        "galera_new_cluster",
        start_script("bootstrap", None),
        180,
    ));
    if seen.len() == 2 {
        // Started beside the bootstrap: its own start (galera_recovery, the provider) overlaps
        // the bootstrap's, and it joins as soon as the new cluster listens.
        join(env, plan, 1 - boot, boot, 1);
    }
    Ok(boot)
}

/// The monitoring user (checked where a cluster already runs; created after a bootstrap) and
/// the epoch row, on the node the cluster runs on.
fn plan_user_and_epoch(
    env: &Env,
    seen: &[Sections],
    members: &[usize],
    cluster_node: usize,
    pw: &str,
    phase: u8,
    plan: &mut StagePlan,
) -> Result<(), Problem> {
    let cfg = env.cfg;
    let first = members.first().map(|m| &seen[*m]);
    let user_ok = match first {
        Some(s) => users_missing(env, s.get("user")?).is_empty(),
        None => false,
    };
    if !user_ok {
        let hosts = user_hosts(env);
        plan.push(run(
            cluster_node,
            phase,
            format!(
                "create or update the monitoring user {} for {} (password from {})",
                cfg.galera.user,
                hosts.join(", "),
                cfg.galera
                    .password_source
                    .as_deref()
                    .unwrap_or("the config")
            ),
            "mariadb < CREATE USER … (SQL on stdin)",
            sql_script(&user_create_sql(env, pw)),
            60,
        ));
    }
    let row_ok = match first {
        Some(s) => !s.get("epoch_row")?.trim().is_empty(),
        None => false,
    };
    if !row_ok {
        let (roles, _) = super::keepalived::roles(seen)?;
        let active = roles.iter().position(|r| r == "active").unwrap_or(0);
        let mut newest = None;
        for s in seen {
            newest = newest.max(s.get("epoch")?.trim().parse::<u64>().ok());
        }
        let epoch = newest.unwrap_or(1);
        plan.push(run(
            cluster_node,
            phase,
            format!(
                "create the epoch row: epoch {epoch}, active {}",
                env.node_name(active)
            ),
            "mariadb < CREATE TABLE pairctl.epoch … (SQL on stdin)",
            sql_script(&epoch_table_sql(epoch, env.node_name(active))),
            60,
        ));
    }
    Ok(())
}

/// A changed config on a running member: restart one node at a time (the second node
/// first), each waiting until it is Synced with its peer again.
fn plan_rolling_restart(members: &[usize], config_changed: &[bool], plan: &mut StagePlan) {
    let mut order: Vec<usize> = members.to_vec();
    order.sort_by_key(|i| std::cmp::Reverse(*i));
    for (k, i) in order.into_iter().enumerate() {
        if config_changed[i] {
            plan.push(run(
                i,
                4 + k as u8,
                "restart mariadb (new config), wait until Synced with its peer".into(),
                "systemctl restart mariadb",
                start_script("restart", None),
                300,
            ));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{cfg_with_password, env_for, lab_cfg, summaries};
    use super::*;

    const SYNCED: &str = include_str!("../../../fixtures/galera/synced-primary.tsv");

    fn node(units: &str, files: &str, wsrep: &str, grastate: &str, user: &str) -> Sections {
        Sections::parse(&format!(
            "@@pairctl:units\n{units}\n@@pairctl:files\n{files}\n@@pairctl:wsrep\n{wsrep}@@pairctl:grastate\n{grastate}\n@@pairctl:epoch_row\n{}\n@@pairctl:vip\n@@pairctl:role\n@@pairctl:epoch\n@@pairctl:fenced\n@@pairctl:user\n{user}",
            if wsrep.is_empty() { "" } else { "1\tn1" }
        ))
    }

    const BARE_UNITS: &str = "mariadb.service inactive disabled\nmariadb.socket inactive disabled";

    #[test]
    fn bare_nodes_bootstrap_the_first_then_join_the_second() {
        let cfg = cfg_with_password();
        let env = env_for(&cfg);
        let plan = plan(
            &env,
            &[
                node(BARE_UNITS, "", "", "", ""),
                node(BARE_UNITS, "", "", "", ""),
            ],
        )
        .unwrap();
        let s = summaries(&plan);
        assert_eq!(s.len(), 6, "{s:?}");
        assert_eq!(
            s[..3],
            [
                "0 n1: write /etc/mysql/mariadb.conf.d/90-pairctl-galera.cnf (new)",
                "0 n2: write /etc/mysql/mariadb.conf.d/90-pairctl-galera.cnf (new)",
                "1 n1: bootstrap a new Galera cluster on n1 (galera_new_cluster), wait until ready",
            ]
        );
        // n2 starts beside n1's bootstrap (its script waits for n1's Galera port); the user
        // and the epoch row follow the bootstrap on n1.
        assert_eq!(
            s[3],
            "1 n2: start mariadb: n2 joins the cluster on n1 (state transfer), wait until Synced"
        );
        assert!(s[4].starts_with("1 n1: create or update the monitoring user pairctl for 10.213.57.0/255.255.255.240, localhost, 127.0.0.1 (password from file "), "{s:?}");
        assert_eq!(s[5], "1 n1: create the epoch row: epoch 1, active n1");
        let join = plan
            .changes
            .iter()
            .find(|c| c.summary.contains("joins"))
            .unwrap();
        let Action::Run { script, .. } = &join.action else {
            panic!()
        };
        assert!(
            script
                .lines()
                .any(|l| l.starts_with("DONOR=") && l.contains("10.213.57.11")),
            "{script}"
        );
        // The password is in the script (stdin), never in what is shown.
        let create = plan
            .changes
            .iter()
            .find(|c| c.summary.contains("monitoring user"))
            .unwrap();
        let Action::Run { shown, script, .. } = &create.action else {
            panic!()
        };
        // As galera-sql.sh's quoted SQL parameter.
        let sql = user_create_sql(&env, "s3cr'et");
        assert!(sql.contains("IDENTIFIED BY 's3cr\\'et'"), "{sql}");
        assert_eq!(*script, sql_script(&sql));
        assert!(!shown.contains("s3cr"));
        assert!(!create.summary.contains("s3cr"));
    }

    #[test]
    fn autostart_is_removed() {
        let cfg = cfg_with_password();
        let env = env_for(&cfg);
        let units = "mariadb.service inactive enabled\nmariadb.socket inactive enabled";
        let p = plan(
            &env,
            &[
                node(units, "", "", "", ""),
                node(BARE_UNITS, "", "", "", ""),
            ],
        )
        .unwrap();
        assert!(summaries(&p).contains(
            &"0 n1: disable the autostart of mariadb.service and mariadb.socket (Galera starts in bootstrap order)".to_string()
        ));
    }

    fn deployed(env: &Env, i: usize, grants: bool) -> Sections {
        let cnf = templates::galera_cnf(env.cfg, i);
        let files = format!(
            "S|{0}|root:root|644|regular file\n{1}  {0}",
            templates::GALERA_CNF,
            files::sha256_hex(cnf.as_bytes())
        );
        let mut user = String::new();
        for h in user_hosts(env) {
            let pw = if grants { "same" } else { "other" };
            user.push_str(&format!("user|{h}|{pw}|Y|plain\n"));
        }
        node(
            "mariadb.service active disabled\nmariadb.socket inactive disabled",
            &files,
            SYNCED,
            "safe_to_bootstrap: 0",
            &user,
        )
    }

    #[test]
    fn a_deployed_cluster_needs_nothing() {
        let cfg = cfg_with_password();
        let env = env_for(&cfg);
        let p = plan(&env, &[deployed(&env, 0, true), deployed(&env, 1, true)]).unwrap();
        assert!(p.is_empty(), "{:?}", summaries(&p));
    }

    #[test]
    fn a_missing_user_is_created_on_the_running_cluster() {
        let cfg = cfg_with_password();
        let env = env_for(&cfg);
        let p = plan(&env, &[deployed(&env, 0, false), deployed(&env, 1, true)]).unwrap();
        let s = summaries(&p);
        assert_eq!(s.len(), 1, "{s:?}");
        assert!(
            s[0].starts_with("2 n1: create or update the monitoring user"),
            "{s:?}"
        );
    }

    #[test]
    fn with_a_ca_the_monitoring_user_must_require_tls() {
        let mut cfg = cfg_with_password();
        cfg.galera.tls = Some(crate::config::GaleraTls {
            ca_file: "/ca.pem".into(),
            client: None,
        });
        let env = env_for(&cfg);
        // The user exists with its password but accepts plain text: altered, REQUIRE SSL.
        let p = plan(&env, &[deployed(&env, 0, true), deployed(&env, 1, true)]).unwrap();
        let s = summaries(&p);
        assert_eq!(s.len(), 1, "{s:?}");
        let Action::Run { script, .. } = &p.changes[0].action else {
            panic!("{s:?}")
        };
        assert!(script.contains("REQUIRE SSL;"), "{script}");
        assert!(user_check_sql(&env).unwrap().contains("ssl_type"));
        assert!(users_missing(&env, "user|localhost|same|Y|ssl").len() < user_hosts(&env).len());
    }

    #[test]
    fn a_node_that_is_down_joins_the_running_one_without_a_bootstrap() {
        let cfg = cfg_with_password();
        let env = env_for(&cfg);
        let files = deployed(&env, 0, true).get("files").unwrap().to_string();
        let down = node(
            "mariadb.service inactive disabled",
            &files,
            "",
            "safe_to_bootstrap: 0",
            "",
        );
        let p = plan(&env, &[down, deployed(&env, 1, true)]).unwrap();
        assert_eq!(
            summaries(&p),
            vec!["3 n1: start mariadb: n1 joins the cluster on n2 (state transfer), wait until Synced"]
        );
    }

    #[test]
    fn a_changed_config_restarts_one_node_at_a_time() {
        let mut cfg = cfg_with_password();
        cfg.deploy.innodb_buffer_pool_size = Some("64M".into());
        let env = env_for(&cfg);
        let mut cfg_old = cfg.clone();
        cfg_old.deploy.innodb_buffer_pool_size = None;
        let env_old = env_for(&cfg_old);
        let p = plan(
            &env,
            &[deployed(&env_old, 0, true), deployed(&env_old, 1, true)],
        )
        .unwrap();
        assert_eq!(
            summaries(&p),
            vec![
                "0 n1: write /etc/mysql/mariadb.conf.d/90-pairctl-galera.cnf (changed)",
                "0 n2: write /etc/mysql/mariadb.conf.d/90-pairctl-galera.cnf (changed)",
                "4 n2: restart mariadb (new config), wait until Synced with its peer",
                "5 n1: restart mariadb (new config), wait until Synced with its peer",
            ]
        );
    }

    #[test]
    fn both_down_after_a_crash_is_refused() {
        let cfg = cfg_with_password();
        let env = env_for(&cfg);
        let crashed = node(BARE_UNITS, "", "", "safe_to_bootstrap: 0", "");
        let e = plan(&env, &[crashed.clone(), crashed]).unwrap_err();
        assert!(e.message.contains("neither may bootstrap"), "{}", e.message);
        // The last node to leave is the one to bootstrap.
        let last = node(BARE_UNITS, "", "", "safe_to_bootstrap: 1", "");
        let crashed = node(BARE_UNITS, "", "", "safe_to_bootstrap: 0", "");
        let p = plan(&env, &[crashed, last]).unwrap();
        assert!(summaries(&p)
            .iter()
            .any(|s| s.starts_with("1 n2: bootstrap")));
    }

    #[test]
    fn no_password_is_a_problem() {
        let cfg = lab_cfg();
        let env = env_for(&cfg);
        assert!(plan(
            &env,
            &[
                node(BARE_UNITS, "", "", "", ""),
                node(BARE_UNITS, "", "", "", "")
            ]
        )
        .unwrap_err()
        .message
        .contains("galera.password_file"));
    }
}
