#!/usr/bin/env bash
# The lab's own test: every fault kind has the effect it claims, checked independently of
# pairctl (SQL, ip, curl, ping, TCP, systemctl inside the nodes), and `heal` restores health.
# Runs against a lab that is already up in full mode (it does not bring it up or down) and
# leaves it healthy with the VIP on n1. One line per case, then "N passed, N failed".
set -u
LAB=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)/lab.sh
eval "$("$LAB" env)"

passed=0 failed=0 WHY=""
on() { "$LAB" ssh "$@" 2> /dev/null; }

# until_true SECONDS CMD… — poll every 0.3 s until CMD succeeds, or fail after SECONDS.
until_true() {
    local end=$((SECONDS + $1)); shift
    until "$@" > /dev/null 2>&1; do
        ((SECONDS < end)) || return 1
        sleep 0.3
    done
}
expect() {  # expect SECONDS DESCRIPTION CMD… — sets WHY on timeout
    local limit=$1 what=$2; shift 2
    until_true "$limit" "$@" || { WHY="not within ${limit}s: $what"; return 1; }
}
run() {  # run NAME FUNCTION
    local t0=$SECONDS
    WHY=""
    if "$2"; then
        printf 'ok    %-40s (%ds)\n' "$1" $((SECONDS - t0)); passed=$((passed + 1))
    else
        printf 'FAIL  %-40s (%ds) %s\n' "$1" $((SECONDS - t0)) "$WHY"; failed=$((failed + 1))
    fi
}
fault() { "$LAB" fault "$@" > /dev/null 2>&1 || { WHY="lab.sh fault $* failed"; return 1; }; }
heal() { "$LAB" heal "$@" > /dev/null 2> /tmp/pairlab-selftest-heal.log || { WHY="lab.sh heal $* failed: $(tail -n 1 /tmp/pairlab-selftest-heal.log)"; return 1; }; }

# --- independent observations
wsrep() { on "$1" "mariadb -N -B -e \"SHOW GLOBAL STATUS LIKE '$2'\"" | awk '{print $2}'; }
size_is() { [ "$(wsrep "$1" wsrep_cluster_size)" = "$2" ]; }
holders() { local n out=""; for n in n1 n2; do on "$n" "ip -4 -o addr show" | grep -q " $LAB_VIP/" && out+=" $n"; done; echo "${out# }"; }
holders_are() { [ "$(holders)" = "$1" ]; }
code() { curl -s -o /dev/null --max-time 3 --cacert "$LAB_CA" -w '%{http_code}' "https://$LAB_VIP/v1/$1/health"; }
code_is() { [ "$(code "$1")" = "$2" ]; }
unit_is() { [ "$(on "$1" "systemctl is-active $2")" = "$3" ]; }
ready_replicas() {  # NODE SERVICE: readyReplicas of the deployment as k3s kubectl reports it (0 when absent)
    on "$1" "k3s kubectl get deployments -n efa -o json" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(next(i["status"].get("readyReplicas", 0) for i in d["items"] if i["metadata"]["name"]==sys.argv[1]))' "$2"
}
ready_is() { [ "$(ready_replicas "$1" "$2")" = "$3" ]; }
rtt_ms() { on "$1" "ping -c 3 -i 0.2 -q $2" | awk -F/ '/^rtt/ {printf "%d", $5}'; }
rtt_at_least() { local r; r=$(rtt_ms "$1" "$2"); [ -n "$r" ] && [ "$r" -ge "$3" ]; }
rtt_below() { local r; r=$(rtt_ms "$1" "$2"); [ -n "$r" ] && [ "$r" -lt "$3" ]; }
banner() { timeout 3 bash -c "exec 3<>/dev/tcp/$1/22 && head -c 4 <&3" 2> /dev/null | grep -q SSH-; }
tcp_open() { timeout 4 bash -c "exec 3<>/dev/tcp/$1/22" 2> /dev/null; }
peer_connected() { on "$1" "gluster --mode=script peer status" | grep -q 'Peer in Cluster (Connected)'; }
peer_disconnected() { on "$1" "gluster --mode=script peer status" | grep -q 'Peer in Cluster (Disconnected)'; }
replica_age() {  # NODE: seconds since the newest LTX file of the replica it holds (litestream ltx)
    on "$1" 'c=$(litestream ltx file:///var/lib/litestream/replica | tail -n 1 | awk "{print \$NF}"); echo $(( $(date +%s) - $(date -d "$c" +%s) ))'
}
replica_older_than() { local a; a=$(replica_age "$1"); [ -n "$a" ] && [ "$a" -gt "$2" ]; }
replica_fresher_than() { local a; a=$(replica_age "$1"); [ -n "$a" ] && [ "$a" -lt "$2" ]; }
kubectl_refused() {
    local err
    err=$(on "$1" "k3s kubectl get nodes -o json 2>&1 >/dev/null; exit \${PIPESTATUS[0]}")
    [ $? = 1 ] && [ "$err" = "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?" ]
}
kstate_is() { [ "$(on "$1" "cat /run/pairctl/keepalived.state")" = "$2" ]; }

# --- cases

case_baseline() {
    expect 60 "healthy lab (lab.sh wait)" "$LAB" wait 5 || return 1
    holders_are n1 || { WHY="VIP holders '$(holders)' (want n1)"; return 1; }
    size_is n1 2 && size_is n2 2 || { WHY="wsrep_cluster_size is not 2 on both"; return 1; }
    unit_is n1 k3s active && unit_is n2 k3s inactive || { WHY="k3s is not active on n1 only"; return 1; }
}

case_link() {
    fault n2 link || return 1
    expect 30 "n1 wsrep_cluster_size 1 after n2's link is cut" size_is n1 1 || return 1
    expect 10 "replica on n2 ages (older than 5 s)" replica_older_than n2 5 || return 1
    heal n2 link || return 1
    expect 60 "wsrep_cluster_size 2 on n1 and n2" eval 'size_is n1 2 && size_is n2 2' || return 1
    # litestream backs off between failed syncs (doubling, up to 5 min): it resumes within a minute here.
    expect 60 "replica on n2 fresh again" replica_fresher_than n2 5
}

case_vip() {
    fault n2 vip || return 1
    holders_are "n1 n2" || { WHY="after fault n2 vip holders are '$(holders)' (want n1 n2)"; return 1; }
    heal n2 vip || return 1
    holders_are n1 || { WHY="after heal holders are '$(holders)'"; return 1; }
}

case_service() {
    fault n1 service tenant || return 1
    code_is tenant 503 || { WHY="tenant health answers $(code tenant) (want 503)"; return 1; }
    code_is auth 200 || { WHY="auth health answers $(code auth) (want 200)"; return 1; }
    ready_is n1 tenant 0 || { WHY="stand-in shows tenant readyReplicas $(ready_replicas n1 tenant) (want 0)"; return 1; }
    on n1 "k3s kubectl get deployments -n efa" | grep -Eq '^tenant +0/1 ' || { WHY="kubectl table does not show tenant 0/1"; return 1; }
    heal n1 service tenant || return 1
    code_is tenant 200 && ready_is n1 tenant 1 || { WHY="after heal tenant answers $(code tenant), ready $(ready_replicas n1 tenant)"; return 1; }
}

case_unit_mariadb() {
    fault n2 unit mariadb || return 1
    unit_is n2 mariadb inactive || { WHY="mariadb on n2 is not inactive"; return 1; }
    expect 15 "n1 wsrep_cluster_size 1 (n2 left gracefully)" size_is n1 1 || return 1
    [ "$(wsrep n1 wsrep_cluster_status)" = Primary ] || { WHY="n1 is not Primary after a graceful leave"; return 1; }
    heal n2 unit mariadb || return 1
    size_is n1 2 && size_is n2 2 || { WHY="wsrep_cluster_size not 2 after heal"; return 1; }
}

case_unit_glusterd() {
    fault n2 unit glusterd || return 1
    unit_is n2 glusterd inactive || { WHY="glusterd on n2 is not inactive"; return 1; }
    expect 15 "n1 sees its gluster peer disconnected" peer_disconnected n1 || return 1
    heal n2 unit glusterd || return 1
    peer_connected n1 && peer_connected n2 || { WHY="gluster peers not connected after heal"; return 1; }
}

case_unit_nginx() {
    fault n1 unit nginx || return 1
    unit_is n1 nginx inactive || { WHY="nginx on n1 is not inactive"; return 1; }
    code_is tenant 000 || { WHY="the VIP still answers HTTPS ($(code tenant))"; return 1; }
    heal n1 unit nginx || return 1
    code_is tenant 200 || { WHY="after heal tenant answers $(code tenant)"; return 1; }
}

case_unit_k3s() {
    fault n1 unit k3s || return 1
    unit_is n1 k3s inactive || { WHY="k3s on n1 is not inactive"; return 1; }
    kubectl_refused n1 || { WHY="k3s kubectl does not fail with kubectl's connection-refused message and exit 1"; return 1; }
    code_is tenant 502 || { WHY="ingress answers $(code tenant) with k3s stopped (want 502)"; return 1; }
    heal n1 unit k3s || return 1
    ready_is n1 tenant 1 || { WHY="k3s kubectl does not answer after heal"; return 1; }
}

case_latency() {
    fault n2 latency 200 || return 1
    rtt_at_least n1 "$LAB_N2" 200 || { WHY="ping n1 -> n2 average $(rtt_ms n1 "$LAB_N2") ms (want >= 200)"; return 1; }
    heal n2 latency || return 1
    rtt_below n1 "$LAB_N2" 50 || { WHY="ping n1 -> n2 average $(rtt_ms n1 "$LAB_N2") ms after heal"; return 1; }
}

case_sshd() {
    fault n2 sshd || return 1
    tcp_open "$LAB_N2" || { WHY="TCP connect to n2:22 fails (a frozen sshd still accepts)"; return 1; }
    ! banner "$LAB_N2" || { WHY="n2's sshd still sends its banner"; return 1; }
    on n2 true || { WHY="lab.sh ssh n2 does not work with sshd frozen"; return 1; }
    heal n2 sshd || return 1
    banner "$LAB_N2" || { WHY="no banner after heal"; return 1; }
    ssh -F "$LAB_SSH_CONFIG" n2 true || { WHY="ssh with the lab config fails after heal"; return 1; }
}

# The pair never changes roles by itself: keepalived stopped on the active releases the VIP
# and the standby (held in FAULT by its role) does not take it.
case_unit_keepalived() {
    fault n1 unit keepalived || return 1
    unit_is n1 keepalived inactive || { WHY="keepalived on n1 is not inactive"; return 1; }
    expect 10 "no VIP holder (n2 is a standby)" holders_are "" || return 1
    kstate_is n2 FAULT && unit_is n2 k3s inactive || { WHY="n2 left FAULT or runs k3s"; return 1; }
    heal n1 unit keepalived || return 1
    unit_is n1 keepalived active && kstate_is n1 MASTER && holders_are n1 || { WHY="n1 not back as MASTER with the VIP"; return 1; }
}

role_is() { [ "$(on "$1" "cat /etc/pairctl/role")" = "$2" ]; }
case_demote() {  # the role-file switch pairctl swap uses, by hand; moves the VIP to the other node
    local from to e
    from=$(holders); to=n1; [ "$from" = n1 ] && to=n2
    e=$(( $(on "$from" "cat /etc/pairctl/epoch") + 1 ))
    on "$to" "echo active > /etc/pairctl/role; echo $e > /etc/pairctl/epoch; /etc/keepalived/pairctl-quorum.sh eligible" || { WHY="cannot write $to's role"; return 1; }
    expect 5 "$to eligible (BACKUP)" kstate_is "$to" BACKUP || return 1
    on "$from" "echo standby > /etc/pairctl/role; echo $e > /etc/pairctl/epoch; /etc/keepalived/pairctl-quorum.sh eligible" || { WHY="cannot write $from's role"; return 1; }
    expect 5 "VIP moves from $from to $to" holders_are "$to" || return 1
    expect 5 "$from held in FAULT (standby)" kstate_is "$from" FAULT || return 1
    expect 30 "healthy with the VIP on $to" "$LAB" wait 5
}

pings() { on "$1" "ping -c 1 -W 1 $2" > /dev/null; }
carrier_up() { [ "$(on "$1" "cat /sys/class/net/eth0/carrier")" = 1 ]; }
case_partition() {
    fault n1 partition || return 1
    ! pings n1 "$LAB_N2" && ! pings n2 "$LAB_N1" || { WHY="the nodes still reach each other"; return 1; }
    banner "$LAB_N1" && banner "$LAB_N2" || { WHY="the host does not reach both nodes' sshd"; return 1; }
    carrier_up n1 && carrier_up n2 || { WHY="a carrier is down (a partition keeps both links up)"; return 1; }
    expect 30 "n1 wsrep_cluster_size 1 (n2 cut off)" size_is n1 1 || return 1
    heal n1 partition || return 1
    pings n1 "$LAB_N2" || { WHY="n1 does not reach n2 after heal"; return 1; }
    size_is n1 2 && size_is n2 2 || { WHY="wsrep_cluster_size not 2 after heal"; return 1; }
}

case_power_standby() {
    fault n2 power || return 1
    ! on n2 true || { WHY="lab.sh ssh n2 still works"; return 1; }
    ! tcp_open "$LAB_N2" || { WHY="n2:22 still accepts TCP"; return 1; }
    expect 30 "n1 wsrep_cluster_size 1" size_is n1 1 || return 1
    [ "$(wsrep n1 wsrep_cluster_status)" = Primary ] && holders_are n1 || { WHY="n1 lost quorum or the VIP with its standby gone (its vote is 2 of 3)"; return 1; }
    heal n2 power || return 1
    size_is n1 2 && size_is n2 2 && holders_are n1 || { WHY="not back to size 2 with the VIP on n1"; return 1; }
}

case_power_active() {  # no automatic takeover: the standby stays out (pairctl failover decides)
    fault n1 power || return 1
    expect 15 "n2 non-Primary (its vote alone is 1 of 3)" eval '[ "$(wsrep n2 wsrep_cluster_status)" = non-Primary ]' || return 1
    holders_are "" && kstate_is n2 FAULT || { WHY="n2 took the VIP by itself ($(holders))"; return 1; }
    heal n1 power || return 1
    holders_are n1 || { WHY="n1 is not back with the VIP ($(holders))"; return 1; }
}

case_partition_is_one_writer() {  # with the quorum arrangement: one holder, the active Primary
    fault n1 partition || return 1
    expect 30 "n2 non-Primary" eval '[ "$(wsrep n2 wsrep_cluster_status)" = non-Primary ]' || return 1
    [ "$(wsrep n1 wsrep_cluster_status)" = Primary ] && holders_are n1 && kstate_is n2 FAULT || { WHY="n1 lost quorum or the VIP, or n2 left FAULT"; return 1; }
    unit_is n2 k3s inactive || { WHY="k3s runs on n2 too"; return 1; }
    heal n1 partition || return 1
}

run "baseline: healthy, VIP on n1" case_baseline
run "link: cut n2, restore" case_link
run "vip: split brain on n2" case_vip
run "service: tenant not ready on n1" case_service
run "unit mariadb on n2" case_unit_mariadb
run "unit glusterd on n2" case_unit_glusterd
run "unit nginx on n1" case_unit_nginx
run "unit k3s on n1" case_unit_k3s
run "latency 200 ms on n2" case_latency
run "sshd frozen on n2" case_sshd
run "unit keepalived on n1 (no takeover)" case_unit_keepalived
run "role switch by hand (VIP to n2)" case_demote
run "role switch by hand (VIP back to n1)" case_demote
run "partition n1 | n2, carriers up" case_partition
run "power n2 (standby) off/on" case_power_standby
run "partition: one writer, the active Primary" case_partition_is_one_writer
run "power n1 (active) off/on (no takeover)" case_power_active
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
