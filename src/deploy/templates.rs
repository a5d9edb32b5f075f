//! The files deploy writes, rendered from the config: keepalived.conf (unicast VRRP, the
//! quorum track scripts, the notify script), the quorum script itself, the Galera config, the built-in
//! nginx ingress, the fstab line of a Gluster volume, the services list, the deployment
//! record. Pure functions: the same config renders the same bytes, which is what makes a
//! re-run find nothing to write.

use crate::config::Config;
use crate::pair::NodeId;
use crate::probe::node::Deployment;
use std::net::IpAddr;

pub const GALERA_CNF: &str = "/etc/mysql/mariadb.conf.d/90-pairctl-galera.cnf";
pub const KEEPALIVED_CONF: &str = "/etc/keepalived/keepalived.conf";
pub const NOTIFY_SCRIPT: &str = "/etc/keepalived/notify.sh";
/// keepalived's track script: only the active node with a Primary Galera may hold the VIP.
pub use crate::probe::node::QUORUM_SCRIPT;
/// Its text (the lab installs the same file).
pub const QUORUM_SCRIPT_TEXT: &str = include_str!("pairctl-quorum.sh");
pub const TLS_DIR: &str = "/etc/pairctl/tls";
pub const INGRESS_CERT: &str = "/etc/pairctl/tls/ingress.crt";
pub const INGRESS_KEY: &str = "/etc/pairctl/tls/ingress.key";
pub const CA_CERT: &str = "/etc/pairctl/tls/ca.crt";
pub const CA_KEY: &str = "/etc/pairctl/tls/ca.key";
/// MariaDB's copy of the ingress certificate and key (the server runs as `mysql`, the ingress
/// key is root's): installed by the ingress stage, named by the Galera config.
pub const DB_TLS_CERT: &str = "/etc/mysql/ssl/pairctl-server.crt";
pub const DB_TLS_KEY: &str = "/etc/mysql/ssl/pairctl-server.key";
pub const NGINX_SITE: &str = "/etc/nginx/sites-available/pairctl-ingress";
pub const NGINX_ENABLED: &str = "/etc/nginx/sites-enabled/pairctl-ingress";
pub const NGINX_DEFAULT: &str = "/etc/nginx/sites-enabled/default";
pub const SERVICES_FILE: &str = "/etc/pairctl/services";
pub const GALERA_PROVIDER: &str = "/usr/lib/galera/libgalera_smm.so";

/// The same VRRP priority on both nodes: the role decides who may be the active, not the node
/// (pairctl-quorum.sh holds every node but the active in FAULT). At 100 the skew time is 0.18 s
/// of the 0.3 s advert interval: after a demoted active's priority-0 advert the new one waits
/// that long before it takes the VIP, and keepalived sends that advert before it removes the
/// address, so the hand-over breaks before it makes (at 254 the 2 ms skew let a sample of both
/// nodes see the VIP on each).
pub const PRIORITY: u8 = 100;
/// VRRPv3's advert interval (seconds, in hundredths): a BACKUP takes the VIP after three missed
/// adverts and the skew, 1.1 s (VRRPv2's whole seconds made it 3.6 s). Only the active is ever eligible
/// outside a swap's hand-over (the role check holds the other in FAULT), so this interval is
/// what a survivor waits after its promotion when the old active is gone (failover, the
/// witness's takeover, whose lease covers it); in a swap both are eligible for the few hundred
/// milliseconds between the promotion and the demotion, and three adverts in a row would have
/// to be lost for a second holder.
pub const ADVERT_INT: &str = "0.3";
/// keepalived's election gate, written by the quorum script (`pairctl-quorum.sh eligible`):
/// "1" while the node may hold the VIP. Watched with inotify, so a role change acts at once.
/// Beside keepalived's own config: keepalived drops a track file whose directory does not
/// exist when it starts (and the gate with it), and this directory always does.
pub const ELIGIBLE_FILE: &str = "/etc/keepalived/pairctl-eligible";

/// The Galera vote of a role (`pc.weight`): the active alone keeps quorum (2 of 3), the standby
/// alone does not (1 of 3), a fenced node never counts.
pub fn galera_weight(role: &str) -> u8 {
    match role {
        "active" => 2,
        "standby" => 1,
        _ => 0,
    }
}

/// keepalived.conf for node `me` on interface `interface`.
pub fn keepalived_conf(cfg: &Config, me: NodeId, interface: &str) -> String {
    let this = &cfg.nodes[me];
    let peer = &cfg.nodes[me.peer()];
    format!(
        "# Written by pairctl deploy for cluster {cluster}: do not edit, re-run deploy.
global_defs {{
    router_id {name}
    script_user root
    enable_script_security
}}

# Only the node whose role is active (not fenced, not demoted) may hold the VIP: every other
# node is held in FAULT, so the pair never changes roles by itself (pairctl swap and failover
# rewrite the role file): the file {eligible} says so, and keepalived acts on a change at
# once (inotify). The role check brings the file in line every second, whatever changed the
# role, and fails while the node is fenced, demoted or without quorum. File tests only.
track_file pairctl_eligible {{
    file {eligible}
}}

vrrp_script chk_role {{
    script \"{quorum} role\"
    interval 1
    fall 1
    rise 1
    weight 0
    init_fail
}}

# ...and only while its own Galera is in the Primary component: the VIP follows the database
# quorum. It also applies the role's Galera vote and fences a returning old active.
vrrp_script chk_galera {{
    script \"{quorum} galera\"
    interval 1
    timeout 8
    fall 3
    rise 1
    weight 0
    init_fail
}}

# Both nodes start as BACKUP with nopreempt and the same priority; the notify script starts
# k3s, the ingress and the replication on the MASTER. VRRPv3: sub-second adverts.
vrrp_instance VI_1 {{
    state BACKUP
    nopreempt
    version 3
    interface {interface}
    virtual_router_id {router_id}
    priority {priority}
    advert_int {advert_int}
    unicast_src_ip {address}
    unicast_peer {{
        {peer}
    }}
    virtual_ipaddress {{
        {vip}/{vip_prefix} dev {interface}
    }}
    track_script {{
        chk_role
        chk_galera
    }}
    # 1: eligible; 0, anything else or no file: FAULT (weight 0 reverse).
    track_file {{
        pairctl_eligible weight 0 reverse
    }}
    notify {notify}
}}
",
        cluster = cfg.name,
        name = this.name,
        quorum = QUORUM_SCRIPT,
        interface = interface,
        router_id = cfg.deploy.vrrp_router_id,
        priority = PRIORITY,
        advert_int = ADVERT_INT,
        eligible = ELIGIBLE_FILE,
        address = this.address,
        peer = peer.address,
        vip = cfg.vip,
        vip_prefix = if cfg.vip.is_ipv4() { 32 } else { 128 },
        notify = NOTIFY_SCRIPT,
    )
}

/// The Galera part of MariaDB's config for node `me`.
pub fn galera_cnf(cfg: &Config, me: usize) -> String {
    let this = &cfg.nodes[me];
    // With a witness, garbd is a member too: a restarting node finds the cluster through it.
    let members: Vec<String> = cfg
        .nodes
        .iter()
        .chain(cfg.witness.iter())
        .map(|n| host(n.address))
        .collect();
    let mut s = format!(
        "# Written by pairctl deploy for cluster {cluster}: do not edit, re-run deploy.
[mysqld]
bind-address = 0.0.0.0
# No DNS on the cluster network: grants are by address.
skip-name-resolve
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
# A joining node's state transfer (rsync SST) copies the redo log whole: MariaDB's default of
# 96M is most of what a new pair sends. 16M is plenty for the cluster's small databases.
innodb_log_file_size = 16M
# Clients over the network get TLS with the ingress certificate (it names every node).
ssl_cert = {DB_TLS_CERT}
ssl_key = {DB_TLS_KEY}
",
        cluster = cfg.name
    );
    if cfg.galera.port != 3306 {
        s.push_str(&format!("port = {}\n", cfg.galera.port));
    }
    if let Some(size) = &cfg.deploy.innodb_buffer_pool_size {
        s.push_str(&format!("innodb_buffer_pool_size = {size}\n"));
    }
    s.push_str(&format!(
        "
[galera]
wsrep_on = ON
wsrep_provider = {GALERA_PROVIDER}
wsrep_cluster_name = {cluster}
wsrep_cluster_address = gcomm://{members}
wsrep_node_address = {address}
wsrep_node_name = {name}
wsrep_sst_method = rsync
",
        cluster = cfg.name,
        members = members.join(","),
        address = host(this.address),
        name = this.name,
    ));
    if cfg.witness.is_some() {
        s.push_str(&format!(
            "# With the witness: a dead member is evicted after {WITNESS_SUSPECT} without news (the\n\
# automatic takeover waits for that; garbd has the same setting).\n\
wsrep_provider_options = \"evs.suspect_timeout={WITNESS_SUSPECT}\"\n"
        ));
    }
    s
}

/// With a witness, how long Galera's members wait without news of one before they evict it
/// (Galera's default is PT5S). The eviction starts the automatic takeover's lease.
pub const WITNESS_SUSPECT: &str = "PT3S";

fn host(a: IpAddr) -> String {
    match a {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// The built-in ingress (used when the bundle has no `ingress.nginx.conf`): HTTPS on 443 on
/// every address, so it answers on the VIP wherever keepalived puts it.
pub fn nginx_site(cfg: &Config) -> String {
    format!(
        "# Written by pairctl deploy for cluster {cluster}: do not edit, re-run deploy.
# The ingress: HTTPS on 443 on every address (it answers on the VIP wherever it lives),
# proxied to the services. Runs on the active node only (keepalived's notify script).
server {{
    listen 443 ssl default_server;
    server_name _;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    access_log off;

    location / {{
        proxy_pass {upstream};
        proxy_connect_timeout 2s;
        proxy_read_timeout 5s;
    }}
}}
",
        cluster = cfg.name,
        cert = INGRESS_CERT,
        key = INGRESS_KEY,
        upstream = cfg.deploy.ingress_upstream,
    )
}

pub fn mount_point(cfg: &Config, volume: &str) -> String {
    format!("{}/{volume}", cfg.deploy.mount_root)
}

pub fn brick_path(cfg: &Config, volume: &str) -> String {
    format!("{}/{volume}", cfg.deploy.brick_root)
}

/// The fstab line that mounts a volume from the local glusterd (again after a reboot).
pub fn fstab_line(cfg: &Config, volume: &str) -> String {
    format!(
        "localhost:/{volume} {} glusterfs defaults,_netdev,nofail,x-systemd.requires=glusterd.service 0 0",
        mount_point(cfg, volume)
    )
}

/// The enabled services, one per line (what k3s runs and the ingress serves).
pub fn services_file(cfg: &Config) -> String {
    let mut s = String::new();
    for service in &cfg.k3s.services {
        s.push_str(service);
        s.push('\n');
    }
    s
}

/// The deployment record (`status` shows it as its header). `time_stamp` is the time of the
/// deploy that last changed the record, so that a re-run leaves it as it is.
pub fn deployment(cfg: &Config, time_stamp: &str) -> Deployment {
    Deployment {
        version: cfg.deploy.version.clone(),
        build: cfg.deploy.build.clone(),
        time_stamp: time_stamp.to_string(),
        mode: cfg.deploy.mode.clone(),
        deployment_type: cfg.deploy.deployment_type.clone(),
        deployment_platform: cfg.deploy.platform.clone(),
        deployment_suite: cfg.deploy.suite.clone(),
        virtual_ip: cfg.vip.to_string(),
        node_ips: cfg.nodes.iter().map(|n| n.address.to_string()).collect(),
    }
}

/// litestream's configuration on node `me`: the k3s state database replicated over SFTP to
/// `k3s.replica_path` on the other node, as the SSH user with the inter-node key (the
/// ssh-trust stage's), the peer's host key pinned (`peer_host_key`: `type base64`). The control
/// socket is on, at litestream's default path: `status` asks the daemon there.
pub fn litestream_yml(cfg: &Config, me: NodeId, peer_host_key: &str) -> String {
    let peer = &cfg.nodes[me.peer()];
    let user = &cfg.ssh.user;
    let home = if user == "root" {
        "/root".to_string()
    } else {
        format!("/home/{user}")
    };
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    [
        format!(
            "# litestream: the k3s state database replicated to the standby {} over SFTP (pairctl deploy).",
            peer.name
        ),
        "socket:".into(),
        "  enabled: true".into(),
        "  path: /var/run/litestream.sock".into(),
        "dbs:".into(),
        format!("  - path: {}", q(&cfg.k3s.state_path)),
        "    replica:".into(),
        "      type: sftp".into(),
        format!("      host: {}", q(&format!("{}:{}", peer.address, cfg.ssh.port))),
        format!("      user: {}", q(user)),
        format!("      key-path: {}", q(&format!("{home}/.ssh/id_ed25519"))),
        format!("      host-key: {}", q(peer_host_key)),
        format!("      path: {}", q(&cfg.k3s.replica_path)),
        "      sync-interval: 1s".into(),
        String::new(),
    ]
    .join("\n")
}

/// One line of JSON, as the lab writes it: shell tools on the nodes read it line by line.
pub fn deployment_json(record: &Deployment) -> String {
    let mut s = serde_json::to_string(record).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    pub fn lab() -> Config {
        crate::config::parse(
            std::path::Path::new("/x/pairctl.toml"),
            "name = \"lab\"\nvip = \"10.213.57.10\"\n[[node]]\nname = \"n1\"\naddress = \"10.213.57.11\"\n[[node]]\nname = \"n2\"\naddress = \"10.213.57.12\"\n[gluster]\nvolumes = [\"shared\"]\n[k3s]\nservices = [\"auth\", \"rbac\"]\n[deploy]\nvrrp_router_id = 57\n",
        )
        .unwrap()
    }

    #[test]
    fn keepalived_conf_for_both_nodes() {
        let cfg = lab();
        let n1 = keepalived_conf(&cfg, NodeId::First, "eth0");
        let n2 = keepalived_conf(&cfg, NodeId::Second, "eth0");
        for (conf, me, peer, prio) in [
            (&n1, "10.213.57.11", "10.213.57.12", 100),
            (&n2, "10.213.57.12", "10.213.57.11", 100),
        ] {
            assert!(conf.contains(&format!("unicast_src_ip {me}\n")), "{conf}");
            assert!(
                conf.contains(&format!("unicast_peer {{\n        {peer}\n    }}")),
                "{conf}"
            );
            assert!(conf.contains(&format!("priority {prio}\n")), "{conf}");
            assert!(
                conf.contains("state BACKUP\n    nopreempt\n    version 3\n"),
                "{conf}"
            );
            assert!(conf.contains("    advert_int 0.3\n"), "{conf}");
            assert!(
                conf.contains("track_file {\n        pairctl_eligible weight 0 reverse\n    }"),
                "{conf}"
            );
            assert!(
                conf.contains("    file /etc/keepalived/pairctl-eligible\n"),
                "{conf}"
            );
            assert!(conf.contains("virtual_router_id 57\n"), "{conf}");
            assert!(conf.contains("10.213.57.10/32 dev eth0"), "{conf}");
            assert!(
                conf.contains("script \"/etc/keepalived/pairctl-quorum.sh role\""),
                "{conf}"
            );
            assert!(
                conf.contains("script \"/etc/keepalived/pairctl-quorum.sh galera\""),
                "{conf}"
            );
            assert!(conf.contains("    weight 0\n    init_fail\n"), "{conf}");
            assert!(conf.contains("track_script {\n        chk_role\n        chk_galera\n    }"));
            assert!(
                conf.contains("notify /etc/keepalived/notify.sh\n"),
                "{conf}"
            );
        }
        assert!(n1.contains("router_id n1\n") && n2.contains("router_id n2\n"));
        // Rendering is deterministic: a re-run writes nothing.
        assert_eq!(n1, keepalived_conf(&cfg, NodeId::First, "eth0"));
    }

    /// pairctl-quorum.sh against a stub `mariadb` (what the node's server would answer).
    struct Node {
        root: tempfile::TempDir,
    }

    impl Node {
        fn new(role: &str, epoch: u64, cluster: &str, state: &str, row: &str) -> Node {
            let root = tempfile::tempdir().unwrap();
            let r = root.path();
            for d in ["etc/pairctl", "etc/keepalived", "bin", "db"] {
                std::fs::create_dir_all(r.join(d)).unwrap();
            }
            std::fs::write(r.join("etc/pairctl/role"), format!("{role}\n")).unwrap();
            std::fs::write(r.join("etc/pairctl/epoch"), format!("{epoch}\n")).unwrap();
            std::fs::write(
                r.join("db/status"),
                format!("wsrep_cluster_status\t{cluster}\nwsrep_local_state_comment\t{state}\n"),
            )
            .unwrap();
            std::fs::write(r.join("db/weight"), "1").unwrap();
            std::fs::write(r.join("db/row"), row).unwrap();
            let stub = format!(
                "#!/bin/sh\nd={}\nq=\"$5\"\ncase $q in *pc.weight=*) echo \"$q\" | sed -n \"s/.*pc.weight=\\([0-9]*\\).*/\\1/p\" > $d/weight; exit 0 ;; esac\ncase $q in *GLOBAL\\ STATUS*) cat $d/status ;; esac\ncase $q in *provider_options\\'*) echo \"wsrep_provider_options\tbase_port = 4567; pc.weight = $(cat $d/weight); pc.wait_prim = true\" ;; esac\ncase $q in REPLACE*) echo \"$q\" | sed -n \"s/.*VALUES (1, \\([0-9]*\\), '\\([^']*\\)').*/\\1\\t\\2/p\" > $d/row; exit 0 ;; esac\ncase $q in 'SELECT epoch FROM'*) cut -f1 $d/row; exit 0 ;; esac\ncase $q in *pairctl.epoch*) [ -s $d/row ] && printf 'epoch\\t%s' \"$(cat $d/row)\" ;; esac\nexit 0\n",
                r.join("db").display()
            );
            std::fs::write(r.join("bin/mariadb"), stub).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                r.join("bin/mariadb"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
            Node { root }
        }
        fn run(&self, mode: &str) -> bool {
            let r = self.root.path();
            std::process::Command::new("sh")
                .arg("-c")
                .arg(QUORUM_SCRIPT_TEXT)
                .arg("pairctl-quorum.sh")
                .arg(mode)
                .env("PAIRCTL_QUORUM_ROOT", r)
                .env("PATH", format!("{}:/usr/bin:/bin", r.join("bin").display()))
                .status()
                .unwrap()
                .success()
        }
        fn file(&self, f: &str) -> Option<String> {
            std::fs::read_to_string(self.root.path().join(f)).ok()
        }
        /// keepalived's verdict: the role check passes and the file it watches says 1.
        fn eligible(&self) -> bool {
            self.run("role")
                && self.file("etc/keepalived/pairctl-eligible").as_deref() == Some("1\n")
        }
    }

    #[test]
    fn the_quorum_script_lets_only_the_active_with_quorum_hold_the_vip() {
        // The active, Primary and Synced, same epoch as the cluster: eligible, vote 2.
        let a = Node::new("active", 3, "Primary", "Synced", "3\tn1\n");
        assert!(a.eligible() && a.run("galera"));
        assert_eq!(a.file("db/weight").unwrap().trim(), "2");
        // A Donor keeps serving; a Joiner does not yet.
        assert!(Node::new("active", 3, "Primary", "Donor/Desynced", "3\tn1\n").run("galera"));
        assert!(!Node::new("active", 3, "Primary", "Joined", "3\tn1\n").run("galera"));
        // The standby never (its vote: 1), whatever its database says.
        let s = Node::new("standby", 3, "Primary", "Synced", "3\tn1\n");
        assert!(!s.eligible());
        // ...held out by the file alone: its role check passes, so that a promotion waits
        // for nothing but the file (the eligible mode, run by pairctl after the role file).
        assert!(s.run("role"));
        std::fs::write(s.root.path().join("etc/pairctl/role"), "active\n").unwrap();
        assert!(s.run("eligible"));
        assert_eq!(
            s.file("etc/keepalived/pairctl-eligible").as_deref(),
            Some("1\n")
        );
        std::fs::write(s.root.path().join("etc/pairctl/role"), "standby\n").unwrap();
        assert!(s.run("eligible"));
        assert_eq!(
            s.file("etc/keepalived/pairctl-eligible").as_deref(),
            Some("0\n")
        );
        assert!(s.run("galera"));
        assert_eq!(s.file("db/weight").unwrap().trim(), "1");
        // No quorum: not eligible, and the vote of the role is not pushed.
        let n = Node::new("active", 3, "non-Primary", "Initialized", "3\tn1\n");
        assert!(n.eligible() && !n.run("galera"));
        assert_eq!(n.file("db/weight").unwrap().trim(), "1");
        // Demoted by the maintenance file.
        std::fs::write(a.root.path().join("etc/keepalived/maintenance"), "").unwrap();
        assert!(!a.eligible());
    }

    #[test]
    fn the_quorum_script_fences_an_old_active_that_finds_a_newer_epoch() {
        let old = Node::new("active", 2, "Primary", "Synced", "3\tn2\n");
        assert!(!old.run("galera"));
        let fence = old.file("etc/pairctl/fenced").expect("a fence marker");
        let f = crate::probe::node::parse_fence(&fence);
        assert_eq!((f.by.as_str(), f.epoch), ("self", Some(3)));
        assert!(
            f.reason.contains("epoch 3") && f.reason.contains("active n2"),
            "{fence}"
        );
        assert_eq!(old.file("db/weight").unwrap().trim(), "0");
        // Fenced: held out by the role check, and it stays so (its vote stays 0).
        assert!(!old.eligible());
        old.run("galera");
        assert!(!old.eligible());
        assert_eq!(old.file("db/weight").unwrap().trim(), "0");
        // No epoch row (an older deploy): no fence, the quorum alone decides.
        let plain = Node::new("active", 2, "Primary", "Synced", "");
        assert!(plain.run("galera") && plain.file("etc/pairctl/fenced").is_none());
    }

    /// With a witness: equal votes, and the standby whose Primary component is itself and garbd
    /// (size 2, one incoming address) takes over once the lease has run out — not without
    /// garbd in the component, not under a maintenance record.
    #[test]
    fn with_a_witness_the_standby_takes_over_after_the_lease() {
        let witness = |n: &Node, lease: u32| {
            std::fs::write(
                n.root.path().join("etc/pairctl/witness"),
                format!("witness=10.0.0.3\nnode=n2\npeer=10.0.0.1\nlease={lease}\n"),
            )
            .unwrap();
        };
        let members = |n: &Node, size: u32, incoming: &str| {
            let status = n.root.path().join("db/status");
            let mut text = std::fs::read_to_string(&status).unwrap();
            text.push_str(&format!(
                "wsrep_cluster_size\t{size}\nwsrep_incoming_addresses\t{incoming}\n"
            ));
            std::fs::write(status, text).unwrap();
        };
        // The active: vote 1 while garbd is a member (size 3), 2 while it is not.
        let a = Node::new("active", 1, "Primary", "Synced", "1\tn1\n");
        witness(&a, 5);
        members(&a, 3, "10.0.0.1:0,10.0.0.2:0,");
        assert!(a.run("galera"));
        assert_eq!(a.file("db/weight").unwrap().trim(), "1");
        let a2 = Node::new("active", 1, "Primary", "Synced", "1\tn1\n");
        witness(&a2, 5);
        members(&a2, 2, "10.0.0.1:0,10.0.0.2:0,");
        assert!(a2.run("galera"));
        assert_eq!(a2.file("db/weight").unwrap().trim(), "2");

        // The standby with garbd only: the first check records it, the next one after the
        // lease (0 here) promotes: the epoch row, the epoch and role files, the history.
        let s = Node::new("standby", 1, "Primary", "Synced", "1\tn1\n");
        witness(&s, 0);
        members(&s, 2, "10.0.0.2:0,");
        s.run("galera");
        assert_eq!(s.file("etc/pairctl/role").unwrap().trim(), "standby");
        assert!(s.file("run/pairctl/takeover-since").is_some());
        s.run("galera");
        assert_eq!(s.file("etc/pairctl/role").unwrap().trim(), "active");
        assert_eq!(s.file("etc/pairctl/epoch").unwrap().trim(), "2");
        assert_eq!(s.file("db/row").unwrap().trim(), "2\tn2");
        let history = s.file("var/lib/pairctl/history.jsonl").unwrap();
        let record: crate::plan::actions::HistoryRecord =
            serde_json::from_str(history.trim()).unwrap();
        assert_eq!(
            (
                record.kind.as_str(),
                record.from.as_deref(),
                record.to.as_deref()
            ),
            ("takeover", Some("n1"), Some("n2"))
        );

        // Both nodes in the component, garbd not (size 2, two addresses): never.
        let both = Node::new("standby", 1, "Primary", "Synced", "1\tn1\n");
        witness(&both, 0);
        members(&both, 2, "10.0.0.1:0,10.0.0.2:0,");
        both.run("galera");
        both.run("galera");
        assert_eq!(both.file("etc/pairctl/role").unwrap().trim(), "standby");
        // A live maintenance record freezes it; without a witness file nothing of this runs.
        let frozen = Node::new("standby", 1, "Primary", "Synced", "1\tn1\n");
        witness(&frozen, 0);
        members(&frozen, 2, "10.0.0.2:0,");
        let record = frozen.root.path().join("var/lib/pairctl/maintenance.json");
        std::fs::create_dir_all(record.parent().unwrap()).unwrap();
        std::fs::write(&record, "{}").unwrap();
        let until = std::time::SystemTime::now() + std::time::Duration::from_secs(600);
        std::fs::File::options()
            .write(true)
            .open(&record)
            .unwrap()
            .set_modified(until)
            .unwrap();
        frozen.run("galera");
        frozen.run("galera");
        assert_eq!(frozen.file("etc/pairctl/role").unwrap().trim(), "standby");
        let plain = Node::new("standby", 1, "Primary", "Synced", "1\tn1\n");
        members(&plain, 2, "10.0.0.2:0,");
        plain.run("galera");
        plain.run("galera");
        assert_eq!(plain.file("etc/pairctl/role").unwrap().trim(), "standby");
        assert!(plain.file("run/pairctl/takeover-since").is_none());
    }

    /// With a witness, an active whose Galera says it is out of the Primary component, and
    /// still says so once the hold has passed, fails the role check (its lease ends:
    /// keepalived's fall 1, not the galera check's fall 3); one answer alone does not (a view
    /// change passes through non-Primary), nor does a check that gets no answer; Primary
    /// again clears it. Without a witness file the role check never depends on the database.
    #[test]
    fn with_a_witness_an_active_without_quorum_demotes_once_it_holds() {
        let with_hold = |hold: u32| {
            let a = Node::new("active", 1, "non-Primary", "Initialized", "");
            std::fs::write(
                a.root.path().join("etc/pairctl/witness"),
                format!("witness=10.0.0.3\nnode=n1\npeer=10.0.0.2\nlease=3\nhold={hold}\n"),
            )
            .unwrap();
            a
        };
        // The hold not yet over (an hour): every answer so far could be a view change.
        let flap = with_hold(3_600_000);
        assert!(!flap.run("galera") && !flap.run("galera"));
        assert!(flap.eligible(), "demoted within the hold");
        assert!(flap.file("run/pairctl/nonprimary-since").is_some());

        let a = with_hold(0);
        assert!(a.eligible());
        assert!(!a.run("galera"));
        assert!(a.eligible(), "demoted on the first answer");
        assert!(!a.run("galera"));
        assert!(!a.eligible(), "the role check still passes without quorum");
        std::fs::write(
            a.root.path().join("db/status"),
            "wsrep_cluster_status\tPrimary\nwsrep_local_state_comment\tSynced\n",
        )
        .unwrap();
        assert!(a.run("galera"));
        assert!(a.eligible());
        assert!(
            a.file("run/pairctl/nonprimary-since").is_none(),
            "Primary ends the hold"
        );
        // No answer (mariadb down): keepalived's fall 3 decides, not the marker.
        std::fs::write(a.root.path().join("db/status"), "").unwrap();
        assert!(!a.run("galera"));
        assert!(a.eligible());
        let plain = Node::new("active", 1, "non-Primary", "Initialized", "");
        assert!(!plain.run("galera"));
        assert!(plain.eligible());
    }

    #[test]
    fn galera_cnf_names_both_members_and_this_node() {
        let cfg = lab();
        let c = galera_cnf(&cfg, 1);
        assert!(c.contains("wsrep_cluster_address = gcomm://10.213.57.11,10.213.57.12\n"));
        assert!(c.contains("wsrep_node_address = 10.213.57.12\n"));
        assert!(c.contains("wsrep_node_name = n2\n"));
        assert!(c.contains("wsrep_cluster_name = lab\n"));
        assert!(c.contains("skip-name-resolve\n"));
        assert!(c.contains("wsrep_provider = /usr/lib/galera/libgalera_smm.so\n"));
        assert!(!c.contains("port ="), "the default port is not written");
        assert!(!c.contains("innodb_buffer_pool_size"));
    }

    #[test]
    fn nginx_site_serves_the_ingress_certificate() {
        let s = nginx_site(&lab());
        assert!(s.contains("listen 443 ssl default_server;"));
        assert!(s.contains("ssl_certificate /etc/pairctl/tls/ingress.crt;"));
        assert!(s.contains("ssl_certificate_key /etc/pairctl/tls/ingress.key;"));
        assert!(s.contains("proxy_pass http://127.0.0.1:18080;"));
    }

    #[test]
    fn record_and_small_files() {
        let cfg = lab();
        let r = deployment(&cfg, "2024-05-02T10:00:00Z");
        assert_eq!(r.virtual_ip, "10.213.57.10");
        assert_eq!(r.node_ips, vec!["10.213.57.11", "10.213.57.12"]);
        let json = deployment_json(&r);
        let back: Deployment = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert!(json.ends_with("}\n"));
        assert_eq!(json.lines().count(), 1);
        assert!(json.contains(r#""node_ips":["10.213.57.11","10.213.57.12"]"#));
        assert_eq!(services_file(&cfg), "auth\nrbac\n");
        assert_eq!(
            fstab_line(&cfg, "shared"),
            "localhost:/shared /mnt/shared glusterfs defaults,_netdev,nofail,x-systemd.requires=glusterd.service 0 0"
        );
        assert_eq!(brick_path(&cfg, "shared"), "/srv/bricks/shared");
    }
}
