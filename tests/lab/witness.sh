# The lab's witness (`lab.sh up --witness`), sourced by lab.sh: a third, small container **w**
# on the bridge (.14 of the instance's /28) with sshd, garbd (Debian's galera-arbitrator-4, the
# Galera cluster's third vote) and glusterd holding the arbiter brick of each volume (replica 3
# arbiter 1). No MariaDB, no k3s, no keepalived: it stores no application data. The nodes get
# /etc/pairctl/witness (its address): the quorum script's witness mode (equal Galera votes and
# the standby's automatic takeover, see src/deploy/pairctl-quorum.sh).
WITNESS=w
WITNESS_IP=$NET.$((BASE_OCTET + 14))
WITNESS_SUSPECT=PT3S # Galera evicts a silent member after this (its default: PT5S); as deploy writes it
WITNESS_LEASE=7 # seconds the standby waits, after the active left the Primary component, before it takes over
GARBD_VERSION=26.4.23-0+deb12u1
GARBD_DEBS=$CACHE/garbd-$GARBD_VERSION # the .debs, fetched once with apt-get download
GARBD_PACKAGES=(galera-arbitrator-4 libboost-program-options1.74.0)

witness_on() { [ -e "$STATE/witness" ]; }
witness_on && NODE_IP[$WITNESS]=$WITNESS_IP

# The debs into the cache (apt-get download: the host is bookworm like the nodes).
ensure_garbd() {
    local p
    for p in "${GARBD_PACKAGES[@]}"; do
        compgen -G "$GARBD_DEBS/${p}_*.deb" > /dev/null || {
            log "fetching ${GARBD_PACKAGES[*]} (apt-get download) into the cache"
            mkdir -p "$GARBD_DEBS.$$" && chmod 0777 "$GARBD_DEBS.$$"
            (cd "$GARBD_DEBS.$$" && apt-get download -qq "galera-arbitrator-4=$GARBD_VERSION" "${GARBD_PACKAGES[1]}") > /dev/null 2>&1 ||
                { rm -rf "$GARBD_DEBS.$$"; die "cannot download ${GARBD_PACKAGES[*]} with apt-get"; }
            rm -rf "$GARBD_DEBS" && mv "$GARBD_DEBS.$$" "$GARBD_DEBS"
            return 0
        }
    done
}

# Before boot: w's network, identity and overlay; the nodes learn its name and address.
witness_prepare() {
    local ns r n m
    ns=$(netns "$WITNESS")
    touch "$STATE/witness"
    NODE_IP[$WITNESS]=$WITNESS_IP
    mkdir -p "$(node_dir "$WITNESS")"
    ssh-keygen -q -t ed25519 -N '' -C "root@$WITNESS" -f "$(node_dir "$WITNESS")/ssh_host_ed25519_key"
    ip netns add "$ns"
    ip link add "$(host_veth "$WITNESS")" type veth peer name eth0 netns "$ns"
    sysctl -qw "net.ipv6.conf.$(host_veth "$WITNESS").disable_ipv6=1"
    ip link set "$(host_veth "$WITNESS")" master "$BRIDGE" multicast off up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0
    node_net_config "$WITNESS"
    prepare_node "$WITNESS" bare
    r=$(node_dir "$WITNESS")/merged
    for m in "${NODES[@]}" "$WITNESS"; do
        echo "$WITNESS_IP $WITNESS" >> "$(node_dir "$m")/merged/etc/hosts"
    done
    mkdir -p "$r/var/cache/pairlab-debs"
    cp "$GARBD_DEBS"/*.deb "$r/var/cache/pairlab-debs/"
    printf '%s %s\n' "$WITNESS_IP" "$(cut -d' ' -f1,2 "$(node_dir "$WITNESS")/ssh_host_ed25519_key.pub")" >> "$STATE/known_hosts"
    {
        printf '\nHost %s %s\n    HostName %s\n' "$WITNESS" "$WITNESS_IP" "$WITNESS_IP"
        printf '    User root\n    Port 22\n    IdentityFile %s\n    IdentitiesOnly yes\n' "$STATE/id_ed25519"
        printf '    UserKnownHostsFile %s\n    GlobalKnownHostsFile /dev/null\n    StrictHostKeyChecking yes\n' "$STATE/known_hosts"
        printf '    BatchMode yes\n    ConnectTimeout 5\n    LogLevel ERROR\n'
    } >> "$STATE/ssh_config"
    {
        echo
        echo "[witness]"
        echo "name = \"$WITNESS\""
        echo "address = \"$WITNESS_IP\""
    } | cat "$STATE/pairctl.toml" - > "$STATE/pairctl-witness.toml"
    # Bare mode (`up --bare --witness`): w has sshd, the root key and the packages (garbd
    # installed, disabled) but nothing configured: pairctl deploy does the rest.
    [ "$(cat "$STATE/mode")" = full ] || return 0
    # garbd: the third member of the cluster the nodes form (Debian's unit reads /etc/default/garb).
    cat > "$r/etc/default/garb" << EOF
# garbd, the Galera arbitrator of the pair (written by the pairctl lab)
GALERA_NODES="${NODE_IP[n1]}:4567 ${NODE_IP[n2]}:4567"
GALERA_GROUP="pairlab"
GALERA_OPTIONS="gmcast.listen_addr=tcp://0.0.0.0:4567;evs.suspect_timeout=$WITNESS_SUSPECT"
LOG_FILE="/var/log/garbd/garbd.log"
EOF
    mkdir -p "$r/var/log/garbd" && chown 65534:65534 "$r/var/log/garbd"
    ln -sf /lib/systemd/system/glusterd.service "$r/etc/systemd/system/multi-user.target.wants/glusterd.service"
    # Full mode: the nodes in witness mode, and Galera knows w's address (a restarted node
    # finds the cluster through it too).
    # glusterd gives up on a dead peer within seconds (its default is never: a powered-off
    # witness would hold every volume command behind "Another transaction is in progress").
    for n in "${NODES[@]}" "$WITNESS"; do
        sed -i 's/option ping-timeout 0/option ping-timeout 5/; /option transport.socket.keepalive-interval/a\    option transport.tcp-user-timeout 5' \
            "$(node_dir "$n")/merged/etc/glusterfs/glusterd.vol"
    done
    for n in "${NODES[@]}"; do
        m=$(node_dir "$n")/merged
        printf 'witness=%s\nnode=%s\npeer=%s\nlease=%s\n' "$WITNESS_IP" "$n" "${NODE_IP[${PEER[$n]}]}" "$WITNESS_LEASE" > "$m/etc/pairctl/witness"
        sed -i "s#^wsrep_cluster_address = .*#wsrep_cluster_address = gcomm://${NODE_IP[n1]},${NODE_IP[n2]},$WITNESS_IP#; s#^wsrep_provider_options = \"\\(.*\\)\"#wsrep_provider_options = \"\\1;evs.suspect_timeout=$WITNESS_SUSPECT\"#" \
            "$m/etc/mysql/mariadb.conf.d/90-pairlab-galera.cnf"
        printf '%s,%s %s\n' "$WITNESS" "$WITNESS_IP" "$(cut -d' ' -f1,2 "$(node_dir "$WITNESS")/ssh_host_ed25519_key.pub")" >> "$m/root/.ssh/known_hosts"
    done
    # The nodes' root may log in on w (what deploy's inter-node trust gives the witness).
    for n in "${NODES[@]}"; do cat "$STATE/nodes/$n/root_id_ed25519.pub" >> "$r/root/.ssh/authorized_keys"; done
    log "witness $WITNESS $WITNESS_IP: garbd and the Gluster arbiter bricks"
}

# After boot: the packages (dpkg with w's real systemd, as apt would install them).
witness_ready() {
    wait_boot "$WITNESS" 90
    node_exec "$WITNESS" "DEBIAN_FRONTEND=noninteractive dpkg --force-confdef --force-confold -i /var/cache/pairlab-debs/*.deb < /dev/null && systemctl disable --now garb.service" \
        > "$STATE/logs/witness-dpkg.log" 2>&1 || die "witness: dpkg -i of garbd failed: $(tail -n 1 "$STATE/logs/witness-dpkg.log")"
}

garbd_member() { wsrep_is "$1" wsrep_cluster_size 3; }

# garbd joins the running cluster (after the nodes: it has no state of its own).
witness_garbd_start() {
    log "galera: garbd on $WITNESS joins"
    node_exec "$WITNESS" "systemctl enable --now garb.service" > /dev/null 2>&1 || die "witness: garbd did not start"
    poll 30 "galera: wsrep_cluster_size 3 on n1 (garbd a member)" garbd_member n1
}

# Gluster: w a peer, each volume replica 3 arbiter 1 (w holds the arbiter brick: names only).
witness_gluster_create() {
    poll 30 "gluster: glusterd active on $WITNESS" unit_active "$WITNESS" glusterd
    poll 30 "gluster peer probe of $WITNESS" node_exec n1 "gluster --mode=script peer probe $WITNESS"
    poll 30 "gluster: $WITNESS sees its peers connected" witness_gluster_peers
    # glusterd's volume create stages on every peer, each of which must see the others
    # connected ("Staging failed on n2. Error: Host w not connected" otherwise).
    poll 30 "gluster: n1 sees both peers connected" gluster_peers_connected n1 2
    poll 30 "gluster: n2 sees both peers connected" gluster_peers_connected n2 2
    node_exec n1 "gluster --mode=script volume create $VOLUME replica 3 arbiter 1 n1:/srv/bricks/$VOLUME n2:/srv/bricks/$VOLUME $WITNESS:/srv/bricks/$VOLUME force" > /dev/null ||
        die "gluster volume create (replica 3 arbiter 1) failed"
    # The clients (the mounts, heal info) give up on a dead brick in 5 s, not 42.
    node_exec n1 "gluster --mode=script volume set $VOLUME network.ping-timeout 5" > /dev/null ||
        die "gluster volume set $VOLUME network.ping-timeout failed"
}
witness_gluster_peers() { gluster_peers_connected "$WITNESS" 2; }
# gluster_peers_connected NODE COUNT: NODE sees COUNT peers in the cluster and connected.
gluster_peers_connected() { [ "$(node_exec "$1" "gluster --mode=script peer status" 2> /dev/null | grep -c 'Peer in Cluster (Connected)')" = "$2" ]; }

# Part of the lab's health with the witness: w up, garbd a member (size 3 is checked with the
# nodes), its peers connected in Gluster.
witness_healthy() {
    node_running "$WITNESS" || { PROBLEM="witness: $WITNESS is powered off"; return 1; }
    unit_active "$WITNESS" garb || { PROBLEM="witness: garbd on $WITNESS is not active"; return 1; }
    witness_gluster_peers || { PROBLEM="witness: $WITNESS does not see both Gluster peers connected"; return 1; }
}

# heal w power: boot it; garbd and glusterd come back by themselves (both enabled).
witness_heal_power() {
    if ! node_running "$WITNESS"; then
        log "power: booting $WITNESS"
        node_net_config "$WITNESS"
        ip link set "$(host_veth "$WITNESS")" up
        start_node "$WITNESS"
        wait_boot "$WITNESS" 90
    fi
    poll 60 "witness: garbd on $WITNESS" unit_active "$WITNESS" garb
}

witness_down() {
    local ns pids
    ns=$(netns "$WITNESS")
    kill_node "$WITNESS"
    pids=$(ip netns pids "$ns" 2> /dev/null || true)
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -KILL $pids 2> /dev/null
    if [ -d "$(node_dir "$WITNESS")/merged" ]; then
        umount "$(node_dir "$WITNESS")/merged" 2> /dev/null || umount -l "$(node_dir "$WITNESS")/merged" 2> /dev/null || true
    fi
    ip netns del "$ns" 2> /dev/null || true
    ip link del "$(host_veth "$WITNESS")" 2> /dev/null || true
    rm -rf "/run/systemd/nspawn/propagate/$(machine "$WITNESS")" "/run/systemd/nspawn/unix-export/$(machine "$WITNESS")"
    return 0
}

witness_env() {
    witness_on || return 0
    printf "export LAB_W='%s'\nexport LAB_CONFIG_WITNESS='%s'\n" "$WITNESS_IP" "$STATE/pairctl-witness.toml"
}
