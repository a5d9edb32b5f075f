#!/bin/sh
# pairctl-quorum: keepalived's track script on a node of a pairctl pair (written by pairctl
# deploy as /etc/keepalived/pairctl-quorum.sh; the lab installs this same file). keepalived runs
# it every second in two modes, and either failing puts the VRRP instance into FAULT: no VIP,
# and the notify script stops k3s; so does the file ELIGIBLE (below) not saying 1. So the VIP
# follows the role and the database quorum, and the pair never changes roles by itself: only
# pairctl swap and failover rewrite the role file (and, with a witness, the takeover below).
#
#   role    brings ELIGIBLE in line with the role file; exit 0 unless the node is fenced,
#           demoted (the maintenance file) or without quorum. File tests only.
#   eligible  brings ELIGIBLE in line now (after a change of the role, fence or maintenance
#           file: the change acts at once).
#   galera  exit 0 while this node's Galera is in the Primary component (and not still
#           joining). On the way it applies the node's Galera vote (pc.weight: active 2,
#           standby 1, fenced 0), and it fences an active node that finds a newer epoch in the
#           cluster's database than its own: its peer took over by a failover while it was away.
#
# With a witness (/etc/pairctl/witness exists: garbd is the cluster's third member) the votes
# are equal (each node 1, garbd 1; the active 2 only while garbd is not a member, so that the
# active keeps quorum alone as without a witness), and the galera mode of a standby also
# decides the automatic takeover (see takeover below). An active that its Galera answers is
# not in the Primary component (it lost the peer and the witness), and still is 1.5 s later
# (not one view change passing through), demotes: the galera mode leaves LOST_FILE, which
# makes ELIGIBLE 0 at once and fails the role mode (fall 1), instead of keepalived's fall 3
# of the galera mode. That bounds the active's demotion, which the standby's lease must
# outlast: see the README's quorum section for the timing argument.
set -u
ROOT=${PAIRCTL_QUORUM_ROOT:-} # a test runs it under a temporary root; keepalived never sets it

# keepalived's election gate is the file ELIGIBLE ("1": this node may hold the VIP; anything
# else or no file: FAULT), watched with inotify (vrrp_track_file, weight 0 reverse), so a
# promotion or a demotion acts at once instead of at the next one-second run of a check. It is
# derived from the files that decide (want below); whoever changes one of them brings it in
# line at once (`pairctl-quorum.sh eligible`: pairctl's role, fence and demote steps, and this
# script's own takeover, fence and quorum marker), and the role check does so every second
# whatever wrote what.
# (Beside keepalived.conf: keepalived drops a track file whose directory is missing when it
# starts, and the gate with it; its own config directory always exists.)
ELIGIBLE=$ROOT/etc/keepalived/pairctl-eligible
# held_out: true while the node is fenced, demoted (the maintenance file) or without quorum
# (the lost-quorum marker).
held_out() {
    [ -e "$ROOT/etc/pairctl/fenced" ] || [ -e "$ROOT/etc/keepalived/maintenance" ] || [ -e "$ROOT/run/pairctl/quorum-lost" ]
}
# want: WANT=1 while the role file says active and the node is not fenced, not demoted (the
# maintenance file) and has not lost quorum (the lost-quorum marker); else WANT=0.
want() {
    WANT=0
    held_out && return 0
    r=
    read -r r 2> /dev/null < "$ROOT/etc/pairctl/role"
    [ "$r" = active ] && WANT=1
    return 0
}
# sync_eligible [always]: the file in line with want. Builtins only while it already is; a
# write is made under a lock, from the inputs read again under it, so that of two writers at
# once the later never puts back what the earlier read before a change.
sync_eligible() {
    want
    have=
    read -r have 2> /dev/null < "$ELIGIBLE"
    [ "$have" = "$WANT" ] && [ -z "${1:-}" ] && return 0
    mkdir -p "${ELIGIBLE%/*}" || return 1
    (
        flock 9 2> /dev/null
        want
        have=
        read -r have 2> /dev/null < "$ELIGIBLE"
        [ "$have" = "$WANT" ] || { echo "$WANT" > "$ELIGIBLE.new" && mv -f "$ELIGIBLE.new" "$ELIGIBLE"; }
    ) 9> "$ELIGIBLE.lock"
}

# The role and eligible modes first, before the shell reads the rest of this file: keepalived
# runs the role check every second, and with builtins only (no fork) it answers in about a
# millisecond. The role check fails while the node is fenced, demoted or without quorum (the
# same conditions ELIGIBLE carries: a second gate, should the file be stale or unwritable);
# whether it is the active is ELIGIBLE's to say, so that a standby passes this check and a
# promotion waits for nothing but the file.
case ${1:-} in
role)
    sync_eligible
    held_out && exit 1
    exit 0
    ;;
eligible)
    sync_eligible always
    exit
    ;;
esac

DIR=$ROOT/etc/pairctl
ROLE_FILE=$DIR/role
EPOCH_FILE=$DIR/epoch
FENCE_FILE=$DIR/fenced
MAINTENANCE_FILE=$ROOT/etc/keepalived/maintenance
WITNESS_FILE=$DIR/witness
MAINTENANCE_RECORD=$ROOT/var/lib/pairctl/maintenance.json
HISTORY_FILE=$ROOT/var/lib/pairctl/history.jsonl
TAKEOVER_FILE=$ROOT/run/pairctl/takeover-since
STEPOUT_FILE=$ROOT/run/pairctl/stepout-since
LOST_FILE=$ROOT/run/pairctl/quorum-lost
NONPRIMARY_FILE=$ROOT/run/pairctl/nonprimary-since

role() {
    if [ -e "$FENCE_FILE" ]; then echo fenced; else r=$(cat "$ROLE_FILE" 2>/dev/null) && echo "${r:-unset}" || echo unset; fi
}
# weight ROLE CLUSTER_SIZE
weight() {
    case $1 in
    active) if [ -e "$WITNESS_FILE" ] && [ "${2:-0}" -ge 3 ] 2> /dev/null; then echo 1; else echo 2; fi ;;
    standby) echo 1 ;;
    *) echo 0 ;;
    esac
}
# One client run per check (the lab's nodes share two loaded cores: every start counts).
sql() { timeout 5 mariadb --force -N -B -e "$1" 2>/dev/null; }

# witness_value KEY: a line KEY=VALUE of the witness file.
witness_value() { sed -n "s/^$1=//p" "$WITNESS_FILE" 2> /dev/null | head -n 1; }

# fence REASON: the durable marker that keeps this node from being the active until a rejoin.
fence() {
    {
        echo "by=self"
        echo "time=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "epoch=$2"
        echo "reason=$1"
    } > "$FENCE_FILE.new" && mv -f "$FENCE_FILE.new" "$FENCE_FILE"
    sync_eligible always
    logger -t pairctl-quorum "fenced: $1" 2>/dev/null
    sql "SET GLOBAL wsrep_provider_options = 'pc.weight=0'" > /dev/null
}

# A live maintenance record (pairctl maintenance on) freezes every role change.
frozen() {
    [ -e "$MAINTENANCE_RECORD" ] || return 1
    grep -q '"ended"' "$MAINTENANCE_RECORD" && return 1
    [ "$(stat -c %Y "$MAINTENANCE_RECORD" 2> /dev/null || echo 0)" -gt "$(date +%s)" ]
}

# held FILE MS MESSAGE — a condition seen now: the first time, FILE records when (in ms; and
# MESSAGE goes to the journal); true once it has held MS milliseconds (held_for: for how
# many). The caller removes FILE when the condition ends.
held() {
    now=$(date +%s%3N)
    since=
    read -r since 2> /dev/null < "$1"
    case $since in
    '' | *[!0-9]*)
        mkdir -p "${1%/*}" && echo "$now" > "$1"
        logger -t pairctl-quorum "$3" 2> /dev/null
        return 1
        ;;
    esac
    held_for=$((now - since))
    [ "$held_for" -ge "$2" ]
}

# takeover SIZE INCOMING_ADDRESSES STATUS_OUTPUT — a standby with a witness, its Galera Primary
# and Synced. The standby takes over by itself when its Primary component is itself and garbd
# only (size 2, one incoming address: garbd has none): the active is out of the component, and
# with equal votes a component without it is the only one that can be Primary, so the active
# cannot keep or regain quorum (and its own keepalived drops the VIP and stops k3s when its
# Galera leaves the Primary component: its lease). It waits LEASE seconds after first seeing
# that (the active demotes within about three seconds; LEASE also makes up for keepalived's
# short master-down interval, 1.1 s: see the README's timing argument), then writes the next
# epoch into the cluster's database and its epoch and role files: chk_role lets keepalived take
# the VIP, and the notify script starts k3s from the litestream replica.
takeover() {
    lease=$(witness_value lease)
    case $lease in '' | *[!0-9]*) lease=7 ;; esac
    members=$(echo "$2" | tr ',' '\n' | grep -c ':')
    if [ "$1" = 3 ] && [ "$members" = 2 ]; then
        rm -f "$TAKEOVER_FILE"
        stepout 6
        return 0
    fi
    rm -f "$STEPOUT_FILE"
    if [ "$1" != 2 ] || [ "$members" != 1 ] || [ -e "$MAINTENANCE_FILE" ] || frozen; then
        rm -f "$TAKEOVER_FILE"
        return 0
    fi
    held "$TAKEOVER_FILE" "$((lease * 1000))" "takeover: the active is out of the Primary component (this node and the witness only); taking over in ${lease}s" || return 0
    name=$(witness_value node)
    name=${name:-$(hostname)}
    case $name in *[!A-Za-z0-9._-]*) return 0 ;; esac
    mine=$(cat "$EPOCH_FILE" 2> /dev/null) || mine=0
    db=$(echo "$3" | awk -F '\t' '$1 == "epoch" {print $2}')
    from=$(echo "$3" | awk -F '\t' '$1 == "epoch" {print $3}')
    case $from in '' | *[!A-Za-z0-9._-]*) from=null ;; *) from="\"$from\"" ;; esac
    [ "${db:-0}" -gt "${mine:-0}" ] 2> /dev/null && mine=$db
    next=$((${mine:-0} + 1))
    sql "REPLACE INTO pairctl.epoch (id, epoch, active) VALUES (1, $next, '$name')" > /dev/null
    [ "$(sql "SELECT epoch FROM pairctl.epoch WHERE id = 1")" = "$next" ] || return 0
    echo "$next" > "$EPOCH_FILE.new" && echo active > "$ROLE_FILE.new" &&
        mv -f "$EPOCH_FILE.new" "$EPOCH_FILE" && mv -f "$ROLE_FILE.new" "$ROLE_FILE" && sync
    sync_eligible always
    rm -f "$TAKEOVER_FILE"
    mkdir -p "${HISTORY_FILE%/*}"
    printf '{"time":"%s","kind":"takeover","from":%s,"to":"%s","outcome":"promoted","duration_ms":%d,"by":"pairctl-quorum@%s","detail":"automatic takeover with the witness: epoch %s, the active out of the Primary component for %ss"}\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$from" "$name" "$held_for" "$name" "$next" "$((held_for / 1000))" >> "$HISTORY_FILE"
    logger -t pairctl-quorum "takeover: this node ($name) is the active of epoch $next" 2> /dev/null
}

# reaches HOST PORT: a TCP connection within a second (bash's /dev/tcp).
reaches() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2> /dev/null; }

# stepout SECONDS — a standby with a witness in a whole cluster (size 3) that cannot reach the
# active directly: garbd relays between the two, so Galera stays one Primary component, but
# this node no longer gets the k3s state replica and is no safe takeover target. When the
# witness still reaches the active (it is alive: a partition, not a death, which Galera would
# turn into an eviction and a takeover), the standby steps out after SECONDS (6: a short
# glitch of the link costs nothing; a partition is not a death, so the lease plays no part):
# it fences itself and stops its database, so that the active and garbd are the cluster. A rejoin brings
# it back.
stepout() {
    peer=$(witness_value peer)
    witness=$(witness_value witness)
    case $peer$witness in '' | *[!0-9.:a-fA-F]*) return 0 ;; esac
    if reaches "$peer" 4567; then
        rm -f "$STEPOUT_FILE"
        return 0
    fi
    # The witness's view: does it reach the active? (root's inter-node key; w's host key pinned)
    if ! timeout 4 ssh -o BatchMode=yes -o ConnectTimeout=2 -o StrictHostKeyChecking=yes -o LogLevel=ERROR \
        "root@$witness" "timeout 1 bash -c 'exec 3<>/dev/tcp/$peer/4567'" > /dev/null 2>&1; then
        rm -f "$STEPOUT_FILE"
        return 0
    fi
    held "$STEPOUT_FILE" "$(($1 * 1000))" "step-out: the active $peer is cut off from this node but the witness reaches it; stepping out in $1s" || return 0
    rm -f "$STEPOUT_FILE"
    fence "partitioned from the active ($peer), which the witness still reaches: stepped out of the cluster (database stopped)" "$(cat "$EPOCH_FILE" 2> /dev/null || echo 0)"
    systemctl --no-block stop mariadb 2> /dev/null
}

case ${1:-} in
galera)
    # The epoch row is refused while the node is not Primary: --force goes on without it.
    out=$(sql "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_status', 'wsrep_local_state_comment', 'wsrep_cluster_size', 'wsrep_incoming_addresses'); SHOW GLOBAL VARIABLES LIKE 'wsrep_provider_options'; SELECT 'epoch', epoch, active FROM pairctl.epoch WHERE id = 1")
    cluster=$(echo "$out" | awk -F '\t' '$1 == "wsrep_cluster_status" {print $2}')
    state=$(echo "$out" | awk -F '\t' '$1 == "wsrep_local_state_comment" {print $2}')
    size=$(echo "$out" | awk -F '\t' '$1 == "wsrep_cluster_size" {print $2}')
    r=$(role)
    want=$(weight "$r" "$size")
    have=$(echo "$out" | awk -F '\t' '$1 == "wsrep_provider_options"' | sed -n 's/.*pc\.weight = \([0-9]*\).*/\1/p')
    if [ -n "$have" ] && [ "$have" != "$want" ] && { [ "$cluster" = Primary ] || [ "$want" = 0 ]; }; then
        sql "SET GLOBAL wsrep_provider_options = 'pc.weight=$want'" > /dev/null
    fi
    if [ "$cluster" != Primary ] || [ "$state" != Synced ] || [ "$r" != standby ]; then rm -f "$TAKEOVER_FILE" "$STEPOUT_FILE"; fi
    if [ "$cluster" = Primary ]; then
        rm -f "$LOST_FILE" "$NONPRIMARY_FILE"
    elif [ -n "$cluster" ] && [ "$r" = active ] && [ -e "$WITNESS_FILE" ] && [ ! -e "$LOST_FILE" ]; then
        # A definite answer (not a timeout): this active is out of the Primary component.
        # Galera passes through non-Primary for a second or so while it re-forms a view with
        # the same members (the witness lost, or a partition between the nodes, which garbd
        # bridges): that is no loss of quorum, and demoting on it cost the VIP and a restart
        # of k3s for seconds. So the lease ends once non-Primary has held HOLD ms (default
        # 1500: the third one-second answer in a row); cut off from the peer and the witness,
        # it stays non-Primary, and this bounds the demotion at about 3 s after the view
        # change, which the standby's lease outlasts (the README's timing argument).
        hold=$(witness_value hold)
        case $hold in '' | *[!0-9]*) hold=1500 ;; esac
        if held "$NONPRIMARY_FILE" "$hold" "Galera is $cluster: demoting unless it is Primary again within ${hold} ms"; then
            mkdir -p "${LOST_FILE%/*}" && date +%s > "$LOST_FILE"
            logger -t pairctl-quorum "demoted: Galera is $cluster for $held_for ms (no quorum with the witness): the VIP goes" 2> /dev/null
        fi
    fi
    sync_eligible
    [ "$cluster" = Primary ] || exit 1
    case $state in Synced | Donor* | Desynced) ;; *) exit 1 ;; esac
    if [ "$r" = standby ] && [ -e "$WITNESS_FILE" ]; then
        takeover "$size" "$(echo "$out" | awk -F '\t' '$1 == "wsrep_incoming_addresses" {print $2}')" "$out"
    fi
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
    echo "usage: pairctl-quorum.sh role|galera|eligible" >&2
    exit 64
    ;;
esac
