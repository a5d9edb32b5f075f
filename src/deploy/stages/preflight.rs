//! preflight: checks only, never a change. Root over SSH, a Debian-family OS, systemd up,
//! the packages' commands present, clocks that agree, free disk, the nodes and the VIP in
//! one subnet (and the interface keepalived will use), the cluster's ports free — or held
//! by the cluster's own units, as on a re-run.

use super::{Env, NodeNet};
use crate::deploy::remote::{Script, Sections};
use crate::deploy::templates;
use crate::pair::NodeId;
use crate::probe::ip;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What a failed check needs: the package that provides a missing command.
const COMMANDS: &[(&str, &str)] = &[
    ("mariadbd", "mariadb-server"),
    ("mariadb", "mariadb-client"),
    ("galera_new_cluster", "mariadb-server"),
    ("rsync", "rsync"),
    ("gluster", "glusterfs-server"),
    ("glusterd", "glusterfs-server"),
    ("mount.glusterfs", "glusterfs-client"),
    ("keepalived", "keepalived"),
    ("nginx", "nginx"),
    ("openssl", "openssl"),
    ("ssh", "openssh-client"),
    ("ssh-keygen", "openssh-client"),
    ("ss", "iproute2"),
    ("ip", "iproute2"),
    ("sha256sum", "coreutils"),
];

/// At least this much free space where the databases, bricks and binaries go.
pub const MIN_FREE_KIB: u64 = 1024 * 1024;
/// Largest clock difference between the nodes (TLS validity, Galera and Gluster logs).
pub const MAX_SKEW_SECS: f64 = 2.0;

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct PreflightCheck {
    /// A node name, or "local" for what is checked where pairctl runs.
    pub node: String,
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

impl PreflightCheck {
    pub fn new(node: &str, name: &'static str, ok: bool, detail: impl Into<String>) -> Self {
        PreflightCheck {
            node: node.to_string(),
            name,
            ok,
            detail: detail.into(),
        }
    }
}

/// The ports the cluster listens on, and the unit allowed to hold each.
pub fn ports(env: &Env) -> Vec<(u16, &'static str, &'static str)> {
    vec![
        (env.cfg.galera.port, "MariaDB", "mariadb.service"),
        (4567, "Galera replication", "mariadb.service"),
        (4568, "Galera IST", "mariadb.service"),
        (4444, "Galera SST", "mariadb.service"),
        (24007, "glusterd", "glusterd.service"),
        (443, "the HTTPS ingress", "nginx.service"),
        (6443, "the k3s API", "k3s.service"),
    ]
}

pub fn script(env: &Env, _node: usize) -> String {
    let commands: Vec<&str> = COMMANDS.iter().map(|(c, _)| *c).collect();
    Script::new()
        .section("id", "id -u")
        .section(
            "os",
            ". /etc/os-release; echo \"$ID\"; echo \"$VERSION_ID\"; echo \"$PRETTY_NAME\"",
        )
        .section(
            "systemd",
            "if [ -d /run/systemd/system ]; then systemctl is-system-running; else echo no-systemd; fi",
        )
        .section(
            "missing",
            &format!(
                "for c in {}; do command -v \"$c\" >/dev/null || echo \"$c\"; done; \
test -e {} || echo libgalera_smm.so",
                commands.join(" "),
                templates::GALERA_PROVIDER
            ),
        )
        .section("clock", "date +%s.%N")
        .section(
            "disk",
            &format!(
                "for d in / /var/lib {}; do while [ ! -e \"$d\" ]; do d=$(dirname \"$d\"); done; \
printf '%s %s\\n' \"$d\" \"$(df -Pk \"$d\" | awk 'NR==2 {{print $4}}')\"; done",
                crate::probe::node::shell_quote(&env.cfg.deploy.brick_root)
            ),
        )
        .section("ip", "ip -j addr")
        .section(
            "ports",
            "ss -Hltnp; for p in $(ss -Hltnp | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -un); do \
printf 'P|%s|%s\\n' \"$p\" \"$(grep -o '[^/]*\\.service' /proc/$p/cgroup 2>/dev/null | head -n 1)\"; done",
        )
        .build()
}

/// One listening socket: its port and the processes and units behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listener {
    pub port: u16,
    pub processes: Vec<String>,
    pub units: Vec<String>,
}

pub fn parse_listeners(text: &str) -> Vec<Listener> {
    let mut unit_of: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("P|") {
            if let Some((pid, unit)) = rest.split_once('|') {
                unit_of.insert(pid.to_string(), unit.trim().to_string());
            }
        }
    }
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with("P|")) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 4 {
            continue;
        }
        let Some(port) = fields[3]
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
        else {
            continue;
        };
        let mut processes = Vec::new();
        let mut units = Vec::new();
        let users = fields[4..].join(" ");
        for part in users.split("((").skip(1).flat_map(|s| s.split("),(")) {
            if let Some(name) = part.split('"').nth(1) {
                processes.push(name.to_string());
            }
            if let Some(pid) = part
                .split(',')
                .find_map(|f| f.trim().strip_prefix("pid="))
                .map(|p| p.trim_end_matches(')').to_string())
            {
                if let Some(u) = unit_of.get(&pid).filter(|u| !u.is_empty()) {
                    units.push(u.clone());
                }
            }
        }
        processes.dedup();
        units.dedup();
        out.push(Listener {
            port,
            processes,
            units,
        });
    }
    out
}

/// What the preflight saw on one node, and when (for the clock).
pub struct Seen<'a> {
    pub sections: &'a Sections,
    /// Local Unix time in the middle of the round trip of the check.
    pub local_time: f64,
}

/// Judges the preflight; returns the checks and, per node, the network facts later stages
/// need (None where they could not be established).
pub fn judge(env: &Env, seen: &[Seen]) -> (Vec<PreflightCheck>, Vec<Option<NodeNet>>) {
    let cfg = env.cfg;
    let mut checks = Vec::new();
    let mut nets = Vec::new();
    let mut offsets = Vec::new();
    for (me, s) in NodeId::BOTH.into_iter().zip(seen) {
        let name = cfg.nodes[me].name.as_str();
        let sec = s.sections;
        // A check whose section the output does not hold fails, naming the section.
        let of =
            |check: &'static str, section: &str, judge: &dyn Fn(&str) -> PreflightCheck| match sec
                .get(section)
            {
                Ok(text) => judge(text),
                Err(e) => PreflightCheck::new(name, check, false, e.to_string()),
            };
        checks.push(of("root", "id", &|t| root_check(env, name, t)));
        checks.push(of("os", "os", &|t| os_check(name, t)));
        checks.push(of("systemd", "systemd", &|t| systemd_check(name, t)));
        checks.push(of("packages", "missing", &|t| packages_check(name, t)));
        // No clock section reads as no answer, which the clock check reports.
        offsets.push(
            sec.optional("clock")
                .and_then(|t| t.trim().parse::<f64>().ok())
                .map(|remote| remote - s.local_time),
        );
        checks.push(of("disk", "disk", &|t| disk_check(name, t)));
        let (net_check, net) = match sec.get("ip") {
            Ok(ip_json) => network(env, me, ip_json),
            Err(e) => (
                PreflightCheck::new(name, "network", false, e.to_string()),
                None,
            ),
        };
        checks.push(net_check);
        nets.push(net);
        checks.push(of("ports", "ports", &|t| ports_check(env, name, t)));
    }
    checks.extend(clock_check(env, &offsets, seen.len()));
    (checks, nets)
}

fn root_check(env: &Env, name: &str, id: &str) -> PreflightCheck {
    let cfg = env.cfg;
    let uid = id.trim();
    if uid == "0" {
        PreflightCheck::new(name, "root", true, format!("{} is root", cfg.ssh.user))
    } else {
        PreflightCheck::new(
            name,
            "root",
            false,
            format!(
                "deploy needs root on the nodes; ssh.user {} has uid {}",
                cfg.ssh.user,
                if uid.is_empty() { "?" } else { uid }
            ),
        )
    }
}

fn os_check(name: &str, os_release: &str) -> PreflightCheck {
    let mut os = os_release.lines();
    let (id, version, pretty) = (
        os.next().unwrap_or("").trim(),
        os.next().unwrap_or("").trim(),
        os.next().unwrap_or("").trim(),
    );
    let debian_family = matches!(id, "debian" | "ubuntu");
    PreflightCheck::new(
        name,
        "os",
        debian_family,
        if debian_family {
            pretty.to_string()
        } else {
            format!(
                "{} {version}: deploy knows the Debian-family layout only (/etc/mysql/mariadb.conf.d, /etc/nginx/sites-available)",
                if pretty.is_empty() { "unknown OS" } else { pretty }
            )
        },
    )
}

fn systemd_check(name: &str, systemd: &str) -> PreflightCheck {
    let state = systemd.trim();
    let systemd_ok = matches!(state, "running" | "degraded");
    PreflightCheck::new(
        name,
        "systemd",
        systemd_ok,
        match state {
            "no-systemd" => "systemd is not the init system".to_string(),
            s if systemd_ok => format!("systemd {s}"),
            "" => "systemctl gave no answer".to_string(),
            s => format!("systemd is {s}; wait until it is running"),
        },
    )
}

fn packages_check(name: &str, missing: &str) -> PreflightCheck {
    let missing: Vec<&str> = missing
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if missing.is_empty() {
        PreflightCheck::new(
            name,
            "packages",
            true,
            "every command deploy uses is present",
        )
    } else {
        let mut packages: Vec<&str> = missing
            .iter()
            .map(|m| {
                COMMANDS
                    .iter()
                    .find(|(c, _)| c == m)
                    .map(|(_, p)| *p)
                    .unwrap_or("galera-4")
            })
            .collect();
        packages.sort_unstable();
        packages.dedup();
        PreflightCheck::new(
            name,
            "packages",
            false,
            format!(
                "missing {}: install {}",
                missing.join(", "),
                packages.join(" ")
            ),
        )
    }
}

/// The free space of every directory deploy writes to.
fn disk_check(name: &str, df: &str) -> PreflightCheck {
    let mut low = Vec::new();
    let mut lowest: Option<u64> = None;
    for line in df.lines() {
        let mut f = line.split_whitespace();
        if let (Some(dir), Some(Ok(kib))) = (f.next(), f.next().map(str::parse::<u64>)) {
            lowest = Some(lowest.map_or(kib, |l| l.min(kib)));
            if kib < MIN_FREE_KIB {
                low.push(format!("{dir} has {}", human_kib(kib)));
            }
        }
    }
    match (lowest, low.is_empty()) {
        (None, _) => PreflightCheck::new(name, "disk", false, "df gave no answer"),
        (Some(l), true) => PreflightCheck::new(
            name,
            "disk",
            true,
            format!("at least {} free", human_kib(l)),
        ),
        (Some(_), false) => PreflightCheck::new(
            name,
            "disk",
            false,
            format!("{} free (need {})", low.join(", "), human_kib(MIN_FREE_KIB)),
        ),
    }
}

/// The cluster's ports free, or held by the cluster's own units.
fn ports_check(env: &Env, name: &str, ss: &str) -> PreflightCheck {
    let listeners = parse_listeners(ss);
    let mut busy = Vec::new();
    let mut ours = Vec::new();
    for (port, what, unit) in ports(env) {
        for l in listeners.iter().filter(|l| l.port == port) {
            if l.units.iter().any(|u| u == unit) {
                ours.push(format!("{port}"));
            } else {
                let by = if !l.units.is_empty() {
                    l.units.join(", ")
                } else if !l.processes.is_empty() {
                    l.processes.join(", ")
                } else {
                    "an unknown process".to_string()
                };
                busy.push(format!("{port} ({what}) is in use by {by}"));
            }
        }
    }
    ours.dedup();
    if busy.is_empty() {
        PreflightCheck::new(
            name,
            "ports",
            true,
            if ours.is_empty() {
                "the cluster's ports are free".to_string()
            } else {
                format!(
                    "free, or held by the cluster's own units ({})",
                    ours.join(", ")
                )
            },
        )
    } else {
        PreflightCheck::new(name, "ports", false, busy.join("; "))
    }
}

/// Clocks: each node against this machine is informative; the nodes against each other
/// is what matters.
fn clock_check(env: &Env, offsets: &[Option<f64>], nodes: usize) -> Option<PreflightCheck> {
    let cfg = env.cfg;
    if let [Some(a), Some(b)] = offsets {
        let skew = (a - b).abs();
        Some(PreflightCheck::new(
            "cluster",
            "clock",
            skew <= MAX_SKEW_SECS,
            format!(
                "the nodes' clocks differ by {skew:.1} s{} ({} {:+.1} s, {} {:+.1} s against this machine)",
                if skew <= MAX_SKEW_SECS {
                    String::new()
                } else {
                    format!(" (more than {MAX_SKEW_SECS} s): synchronise them (NTP)")
                },
                cfg.nodes[0].name,
                a,
                cfg.nodes[1].name,
                b
            ),
        ))
    } else if nodes == 2 {
        Some(PreflightCheck::new(
            "cluster",
            "clock",
            false,
            "a node did not tell its time",
        ))
    } else {
        None
    }
}

fn human_kib(kib: u64) -> String {
    if kib >= 1024 * 1024 {
        format!("{:.1} GiB", kib as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} MiB", kib / 1024)
    }
}

fn network(env: &Env, me: NodeId, ip_json: &str) -> (PreflightCheck, Option<NodeNet>) {
    let cfg = env.cfg;
    let name = cfg.nodes[me].name.as_str();
    let address = cfg.nodes[me].address;
    let peer = cfg.nodes[me.peer()].address;
    let fail = |detail: String| (PreflightCheck::new(name, "network", false, detail), None);
    let ifaces = match ip::parse_ip_addr(ip_json) {
        Ok(i) => i,
        Err(e) => return fail(e.to_string()),
    };
    let Some((iface, prefix_len)) = ifaces.iter().find_map(|i| {
        i.addresses
            .iter()
            .find(|a| a.address == address)
            .map(|a| (i, a.prefix_len))
    }) else {
        return fail(format!(
            "no interface has the node's address {address}: is it the right node?"
        ));
    };
    let mut outside = Vec::new();
    if !same_subnet(address, peer, prefix_len) {
        outside.push(format!("the peer {peer}"));
    }
    if !same_subnet(address, cfg.vip, prefix_len) {
        outside.push(format!("the VIP {}", cfg.vip));
    }
    if !outside.is_empty() {
        return fail(format!(
            "{} outside {address}/{prefix_len} on {}: VRRP needs the nodes and the VIP in one subnet",
            outside.join(" and "),
            iface.name
        ));
    }
    if !iface.up {
        return fail(format!("{} is {}", iface.name, iface.operstate));
    }
    (
        PreflightCheck::new(
            name,
            "network",
            true,
            format!(
                "{} {address}/{prefix_len}; peer and VIP in the same subnet",
                iface.name
            ),
        ),
        Some(NodeNet {
            interface: iface.name.clone(),
            prefix_len,
        }),
    )
}

pub fn same_subnet(a: IpAddr, b: IpAddr, prefix_len: u8) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let bits = u32::from(prefix_len.min(32));
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let bits = u32::from(prefix_len.min(128));
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// `10.213.57.0/255.255.255.240`: the subnet in the form MariaDB accepts as a user's host.
pub fn subnet_host_pattern(address: IpAddr, prefix_len: u8) -> Option<String> {
    let IpAddr::V4(a) = address else {
        return None;
    };
    let bits = u32::from(prefix_len.min(32));
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    Some(format!(
        "{}/{}",
        std::net::Ipv4Addr::from(u32::from(a) & mask),
        std::net::Ipv4Addr::from(mask)
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{env_for, lab_cfg};
    use super::*;

    const SS: &str = "LISTEN 0      4096         0.0.0.0:22         0.0.0.0:*    users:((\"sshd\",pid=88,fd=3))
LISTEN 0      80           0.0.0.0:3306       0.0.0.0:*    users:((\"mariadbd\",pid=412,fd=21))
LISTEN 0      511          0.0.0.0:443        0.0.0.0:*    users:((\"nginx\",pid=901,fd=6),(\"nginx\",pid=900,fd=6))
LISTEN 0      5          127.0.0.1:6443       0.0.0.0:*    users:((\"socat\",pid=77,fd=5))
P|77|k3s.service
P|88|ssh.service
P|412|mariadb.service
P|900|apache2.service
P|901|apache2.service
";

    #[test]
    fn listeners_and_their_units() {
        let l = parse_listeners(SS);
        assert_eq!(l.len(), 4);
        assert_eq!(l[1].port, 3306);
        assert_eq!(l[1].units, vec!["mariadb.service"]);
        assert_eq!(l[2].processes, vec!["nginx"]);
        assert_eq!(l[2].units, vec!["apache2.service"]);
        assert_eq!(l[3].units, vec!["k3s.service"]);
    }

    fn node_output(addr: &str, ss: &str) -> String {
        format!(
            "@@pairctl:id\n0\n@@pairctl:os\ndebian\n12\nDebian GNU/Linux 12 (bookworm)\n@@pairctl:systemd\ndegraded\n\
@@pairctl:missing\n@@pairctl:clock\n1000.5\n@@pairctl:disk\n/ 20000000\n/var/lib 20000000\n/srv/bricks 900000\n\
@@pairctl:ip\n[{{\"ifname\":\"lo\",\"operstate\":\"UNKNOWN\",\"flags\":[\"UP\"],\"addr_info\":[{{\"local\":\"127.0.0.1\",\"prefixlen\":8}}]}},\
{{\"ifname\":\"eth0\",\"operstate\":\"UP\",\"flags\":[\"UP\"],\"addr_info\":[{{\"local\":\"{addr}\",\"prefixlen\":28}}]}}]\n\
@@pairctl:ports\n{ss}"
        )
    }

    #[test]
    fn a_deployed_node_passes_and_a_foreign_port_fails() {
        let cfg = lab_cfg();
        let env = env_for(&cfg);
        let n1 = Sections::parse(&node_output("10.213.57.11", SS));
        let n2 = Sections::parse(&node_output("10.213.57.12", ""));
        let (checks, nets) = judge(
            &env,
            &[
                Seen {
                    sections: &n1,
                    local_time: 1000.0,
                },
                Seen {
                    sections: &n2,
                    local_time: 1000.3,
                },
            ],
        );
        let failed: Vec<String> = checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{} {}: {}", c.node, c.name, c.detail))
            .collect();
        assert_eq!(
            failed,
            vec![
                "n1 disk: /srv/bricks has 878 MiB free (need 1.0 GiB)",
                "n1 ports: 443 (the HTTPS ingress) is in use by apache2.service",
                "n2 disk: /srv/bricks has 878 MiB free (need 1.0 GiB)",
            ]
        );
        let clock = checks.iter().find(|c| c.name == "clock").unwrap();
        assert!(clock.ok, "{}", clock.detail);
        assert!(clock
            .detail
            .starts_with("the nodes' clocks differ by 0.3 s"));
        assert_eq!(
            nets,
            vec![
                Some(NodeNet {
                    interface: "eth0".into(),
                    prefix_len: 28
                });
                2
            ]
        );
        let ports_n1 = checks
            .iter()
            .find(|c| c.name == "ports" && c.node == "n1")
            .unwrap();
        assert!(ports_n1.detail.contains("443"));
    }

    #[test]
    fn a_vip_outside_the_subnet_is_refused() {
        let mut cfg = lab_cfg();
        cfg.vip = "10.213.58.10".parse().unwrap();
        let env = env_for(&cfg);
        let s = Sections::parse(&node_output("10.213.57.11", ""));
        let (check, net) = network(&env, NodeId::First, s.get("ip").unwrap());
        assert!(!check.ok);
        assert!(
            check
                .detail
                .contains("the VIP 10.213.58.10 outside 10.213.57.11/28 on eth0"),
            "{}",
            check.detail
        );
        assert!(net.is_none());
    }

    #[test]
    fn missing_commands_name_their_packages() {
        let cfg = lab_cfg();
        let env = env_for(&cfg);
        let text = node_output("10.213.57.11", "")
            .replace(
                "@@pairctl:missing\n",
                "@@pairctl:missing\ngluster\nglusterd\nlibgalera_smm.so\n",
            )
            .replace("0\n@@pairctl:os", "1000\n@@pairctl:os");
        let s = Sections::parse(&text);
        let (checks, _) = judge(
            &env,
            &[Seen {
                sections: &s,
                local_time: 1000.5,
            }],
        );
        let p = checks.iter().find(|c| c.name == "packages").unwrap();
        assert_eq!(
            p.detail,
            "missing gluster, glusterd, libgalera_smm.so: install galera-4 glusterfs-server"
        );
        assert!(!checks.iter().find(|c| c.name == "root").unwrap().ok);
    }

    #[test]
    fn subnets() {
        let a: IpAddr = "10.213.57.11".parse().unwrap();
        assert!(same_subnet(a, "10.213.57.1".parse().unwrap(), 28));
        assert!(!same_subnet(a, "10.213.57.17".parse().unwrap(), 28));
        assert_eq!(
            subnet_host_pattern(a, 28).as_deref(),
            Some("10.213.57.0/255.255.255.240")
        );
    }
}
