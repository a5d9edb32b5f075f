#!/usr/bin/env bash
# What an operator would write for the same checks as `pairctl status`, with OpenSSH, the
# mysql client and curl, one after the other. The benchmark's baseline; not used by pairctl.
# Needs the lab's environment: eval "$(tests/lab/lab.sh env)".
set -u
S="ssh -F $LAB_SSH_CONFIG -o BatchMode=yes -o ConnectTimeout=5"
export MYSQL_PWD; MYSQL_PWD=$(cat "$LAB_DB_PASSWORD_FILE")
services="auth rbac tenant fabric inventory raslog notification system api-docs"
bad=0
for n in n1 n2; do
  ip=$([ $n = n1 ] && echo "$LAB_N1" || echo "$LAB_N2")
  $S $n "ip -j addr" | grep -q "\"$LAB_VIP\"" && echo "$n holds the VIP"
  $S $n "systemctl is-active keepalived k3s" || true
  mysql -h "$ip" -u "$LAB_DB_USER" --ssl-ca="$LAB_CA" -N -B -e "SHOW GLOBAL STATUS LIKE 'wsrep%'" | grep -E 'cluster_size|cluster_status|local_state_comment|wsrep_ready|wsrep_connected|state_uuid' || bad=1
  $S $n "gluster --xml peer status" >/dev/null || bad=1
  $S $n "gluster --xml volume status shared" >/dev/null || bad=1
  $S $n "gluster --xml volume heal shared info summary" >/dev/null || bad=1
  $S $n "k3s kubectl get nodes -o json" >/dev/null 2>&1
  $S $n "k3s kubectl get deployments,statefulsets,daemonsets -A -o json" >/dev/null 2>&1
  $S $n "stat -c %Y /var/lib/litestream/replica/state.db; cat /etc/pairctl/deployment.json" >/dev/null 2>&1
done
$S n1 "ssh -o BatchMode=yes $LAB_N2 true" || bad=1
for s in $services; do
  curl -sf -o /dev/null --cacert "$LAB_CA" "https://$LAB_VIP/v1/$s/health" || bad=1
done
exit $bad
