# shellcheck shell=bash
# Starts MariaDB as HOW says and waits until it is in the cluster: `bootstrap` a new cluster
# (galera_new_cluster; at most 60 s until wsrep_ready is ON), `join` the cluster running on
# the peer (start; at most 120 s until Synced with 2 members), `restart` with a new config
# (the same wait). Parameters: HOW.
set -eu
wsrep() { mariadb -N -B -e "SHOW GLOBAL STATUS LIKE '$1'" 2>/dev/null | cut -f2; }
ready() { [ "$(wsrep wsrep_ready)" = ON ]; }
synced() { [ "$(wsrep wsrep_local_state_comment)" = Synced ] && [ "$(wsrep wsrep_cluster_size)" -ge 2 ]; }
case "$HOW" in
  bootstrap) galera_new_cluster; until_ok=ready; seconds=60; what="wsrep_ready ON" ;;
  join) systemctl start mariadb.service; until_ok=synced; seconds=120; what="Synced with 2 members" ;;
  restart) systemctl restart mariadb.service; until_ok=synced; seconds=120; what="Synced with 2 members" ;;
  *) echo "galera-start.sh: unknown HOW=$HOW" >&2; exit 2 ;;
esac
i=0
until "$until_ok"; do
  i=$((i + 1))
  if [ "$i" -ge $((seconds * 5)) ]; then echo "timed out after $seconds s waiting for $what" >&2; exit 1; fi
  sleep 0.2
done
