# shellcheck shell=bash
# Starts MariaDB as HOW says and waits until it is in the cluster: `bootstrap` a new cluster
# (galera_new_cluster; at most 60 s until wsrep_ready is ON), `join` the cluster running on
# the peer (start; at most 120 s until Synced with 2 members), `restart` with a new config
# (the same wait). A join with DONOR (an address; empty: none) is started beside DONOR's
# bootstrap: it first waits (at most 60 s) until DONOR's Galera port (4567) accepts
# connections, which it does once the new cluster is about to be Primary. (So a bootstrap that
# fails on DONOR is reported only once this wait ends, up to 60 s later.)
# Parameters: HOW, DONOR.
set -eu
wsrep() { mariadb -N -B -e "SHOW GLOBAL STATUS LIKE '$1'" 2>/dev/null | cut -f2; }
ready() { [ "$(wsrep wsrep_ready)" = ON ]; }
synced() { [ "$(wsrep wsrep_local_state_comment)" = Synced ] && [ "$(wsrep wsrep_cluster_size)" -ge 2 ]; }
listens() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/4567"' _ "$DONOR" 2>/dev/null; }
# Polls the function $1 every 0.1 s for at most $2 seconds; $3 says what, on timeout.
poll() {
  local i=0
  until "$1"; do
    i=$((i + 1))
    if [ "$i" -ge $(($2 * 10)) ]; then echo "timed out after $2 s waiting for $3" >&2; exit 1; fi
    sleep 0.1
  done
}
case "$HOW" in
  bootstrap) galera_new_cluster; poll ready 60 "wsrep_ready ON" ;;
  join)
    if [ -n "$DONOR" ]; then poll listens 60 "the Galera port of $DONOR (its bootstrap)"; fi
    systemctl start mariadb.service
    poll synced 120 "Synced with 2 members"
    ;;
  restart) systemctl restart mariadb.service; poll synced 120 "Synced with 2 members" ;;
  *) echo "galera-start.sh: unknown HOW=$HOW" >&2; exit 2 ;;
esac
