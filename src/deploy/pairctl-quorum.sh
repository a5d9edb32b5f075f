#!/bin/sh
# pairctl-quorum: keepalived's track script on a node of a pairctl pair (written by pairctl
# deploy as /etc/keepalived/pairctl-quorum.sh; the lab installs this same file). keepalived runs
# it every second in two modes, and either failing puts the VRRP instance into FAULT: no VIP,
# and the notify script stops k3s. So the VIP follows the role and the database quorum, and
# the pair never changes roles by itself: only pairctl swap and failover rewrite the role file.
#
#   role    exit 0 while this node may be the active one: its role file says "active", it is
#           not fenced and not demoted (the maintenance file). File tests only: it answers at
#           once, so a swap or a fence acts within a second.
#   galera  exit 0 while this node's Galera is in the Primary component (and not still
#           joining). On the way it applies the node's Galera vote (pc.weight: active 2,
#           standby 1, fenced 0), and it fences an active node that finds a newer epoch in the
#           cluster's database than its own: its peer took over by a failover while it was away.
set -u
ROOT=${PAIRCTL_QUORUM_ROOT:-} # a test runs it under a temporary root; keepalived never sets it
DIR=$ROOT/etc/pairctl
ROLE_FILE=$DIR/role
EPOCH_FILE=$DIR/epoch
FENCE_FILE=$DIR/fenced
MAINTENANCE_FILE=$ROOT/etc/keepalived/maintenance

role() {
    if [ -e "$FENCE_FILE" ]; then echo fenced; else r=$(cat "$ROLE_FILE" 2>/dev/null) && echo "${r:-unset}" || echo unset; fi
}
weight() { case $1 in active) echo 2 ;; standby) echo 1 ;; *) echo 0 ;; esac; }
# One client run per check (the lab's nodes share two loaded cores: every start counts).
sql() { timeout 5 mariadb --force -N -B -e "$1" 2>/dev/null; }

# fence REASON: the durable marker that keeps this node from being the active until a rejoin.
fence() {
    {
        echo "by=self"
        echo "time=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "epoch=$2"
        echo "reason=$1"
    } > "$FENCE_FILE.new" && mv -f "$FENCE_FILE.new" "$FENCE_FILE"
    logger -t pairctl-quorum "fenced: $1" 2>/dev/null
    sql "SET GLOBAL wsrep_provider_options = 'pc.weight=0'" > /dev/null
}

case ${1:-} in
role)
    [ "$(role)" = active ] && [ ! -e "$MAINTENANCE_FILE" ]
    ;;
galera)
    # The epoch row is refused while the node is not Primary: --force goes on without it.
    out=$(sql "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_status', 'wsrep_local_state_comment'); SHOW GLOBAL VARIABLES LIKE 'wsrep_provider_options'; SELECT 'epoch', epoch, active FROM pairctl.epoch WHERE id = 1")
    cluster=$(echo "$out" | awk -F '\t' '$1 == "wsrep_cluster_status" {print $2}')
    state=$(echo "$out" | awk -F '\t' '$1 == "wsrep_local_state_comment" {print $2}')
    r=$(role)
    want=$(weight "$r")
    have=$(echo "$out" | awk -F '\t' '$1 == "wsrep_provider_options"' | sed -n 's/.*pc\.weight = \([0-9]*\).*/\1/p')
    if [ -n "$have" ] && [ "$have" != "$want" ] && { [ "$cluster" = Primary ] || [ "$want" = 0 ]; }; then
        sql "SET GLOBAL wsrep_provider_options = 'pc.weight=$want'" > /dev/null
    fi
    [ "$cluster" = Primary ] || exit 1
    case $state in Synced | Donor* | Desynced) ;; *) exit 1 ;; esac
    if [ "$r" = active ]; then
        mine=$(cat "$EPOCH_FILE" 2>/dev/null) || mine=0
        # shellcheck disable=SC2046
        set -- $(echo "$out" | awk -F '\t' '$1 == "epoch" {print $2, $3}')
        if [ $# -eq 2 ] && [ "$1" -gt "${mine:-0}" ] 2>/dev/null; then
            fence "epoch $1 in the cluster's database (active $2) is newer than this node's epoch ${mine:-0}: its peer took over while it was away" "$1"
            exit 1
        fi
    fi
    exit 0
    ;;
*)
    echo "usage: pairctl-quorum.sh role|galera" >&2
    exit 64
    ;;
esac
