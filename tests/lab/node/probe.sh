#!/bin/bash
# Runs inside a lab node, fed on stdin by lab.sh (`bash -s VIP`): prints key=value facts that
# lab.sh's health check and `status` judge. Independent of pairctl; nothing is installed.
vip=$1
units=(keepalived k3s nginx mariadb glusterd litestream ssh)
mapfile -t states < <(systemctl is-active "${units[@]}" 2>/dev/null)
for i in "${!units[@]}"; do echo "unit.${units[i]%.service}=${states[i]:-unknown}"; done
echo "system=$(systemctl is-system-running 2>/dev/null)"
echo "keepalived_state=$(cat /run/pairctl/keepalived.state 2>/dev/null || echo none)"
if ip -4 -o addr show | grep -q " $vip/"; then echo vip=1; else echo vip=0; fi
if [ "${states[3]}" = active ]; then
    timeout 5 mariadb -N -B -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size','wsrep_cluster_status','wsrep_local_state_comment','wsrep_ready','wsrep_connected','wsrep_cluster_state_uuid')" 2>/dev/null |
        while read -r k v; do echo "$k=$v"; done
fi
if [ "${states[4]}" = active ]; then
    peers=$(timeout 5 gluster --mode=script peer status 2>/dev/null)
    echo "gluster_peers=$(grep -c '^Hostname:' <<< "$peers")"
    echo "gluster_connected=$(grep -c 'Peer in Cluster (Connected)' <<< "$peers")"
fi
if mountpoint -q /mnt/shared 2>/dev/null; then echo shared_mounted=1; else echo shared_mounted=0; fi
now=$(date +%s)
m=$(stat -c %Y /var/lib/rancher/k3s/server/db/state.db-wal /var/lib/rancher/k3s/server/db/state.db 2>/dev/null | sort -n | tail -n 1)
[ -n "$m" ] && echo "state_age=$((now - m))" || echo "state_age=none"
# The replica's age as litestream sees it: the time of the newest LTX file it lists.
last=$(timeout 5 litestream ltx file:///var/lib/litestream/replica 2>/dev/null | tail -n 1)
created=${last##* }
if [[ $created =~ ^[0-9]{4}- ]] && m=$(date -d "$created" +%s 2>/dev/null); then
    echo "replica_age=$((now - m))"
else
    echo "replica_age=none"
fi
echo "role=$(cat /etc/pairctl/role 2>/dev/null || echo none) ($(cat /etc/pairctl/epoch 2>/dev/null || echo -))"
if [ -e /etc/pairctl/fenced ]; then echo fenced=1; echo "fence_reason=$(sed -n 's/^reason=//p' /etc/pairctl/fenced | head -c 200)"; else echo fenced=0; fi
echo "notready=$(ls /etc/pairctl-lab/notready 2>/dev/null | tr '\n' ' ')"
