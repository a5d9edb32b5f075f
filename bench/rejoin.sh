#!/usr/bin/env bash
# Benchmark of `pairctl rejoin` on the lab (the full lab must be up: tests/lab/lab.sh up):
# RUNS times (default 3) each of
#   IST  failover with n1 powered off, power back, n1's database stopped as at a real boot,
#        rejoin n1 (incremental: the write sets it missed), swap back;
#   SST  n1 partitioned away while it keeps quorum and takes a few writes n2 never gets, a
#        forced failover, the partition healed; rejoin n1 --discard-divergent (a full copy: rsync
#        of the donor's data directory), swap back;
# and prints the median of the whole `pairctl rejoin --yes` command and of its database step.
# Run as root from the project root; it holds the lab lock (pairctl-labID.lock for PAIRLAB_ID).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
LAB=tests/lab/lab.sh
cargo build --release --quiet
P=$PWD/target/release/pairctl
exec 8> /run/pairctl-lab$(t=${PAIRLAB_ID:-0}; echo ${t#0}).lock
flock 8
eval "$("$LAB" env)"
ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
pc() { "$P" -c "$LAB_CONFIG" "$@" 8>&-; }

wsrep_status() { "$LAB" ssh "$1" "mariadb -N -B -e \"SHOW STATUS LIKE 'wsrep_cluster_status'\" | cut -f2" 8>&-; }

one() {  # one ist|sst: prints "WHOLE_MS DB_STEP_MS"
  local extra=()
  if [ "$1" = ist ]; then
    "$LAB" fault n1 power > /dev/null 2>&1 8>&-
    pc failover --yes > /tmp/pairctl-bench-rejoin.log 2>&1 || { echo "failover failed: $(tail -n 2 /tmp/pairctl-bench-rejoin.log)" >&2; exit 1; }
    timeout 120 "$LAB" heal n1 power > /dev/null 2>&1 8>&- || true
    "$LAB" ssh n1 "systemctl stop mariadb" 8>&-
  else
    "$LAB" fault n1 partition > /dev/null 2>&1 8>&-
    for _ in $(seq 60); do [ "$(wsrep_status n2)" = non-Primary ] && break; sleep 0.5; done
    for i in $(seq 10); do "$LAB" ssh n1 "mariadb app -e 'INSERT INTO writes VALUES ($(date +%s%N | cut -c1-16)$i, NOW(3))'" 8>&- || true; done
    pc failover --yes --force > /tmp/pairctl-bench-rejoin.log 2>&1 || { echo "failover failed: $(tail -n 2 /tmp/pairctl-bench-rejoin.log)" >&2; exit 1; }
    "$LAB" heal n1 partition > /dev/null 2>&1 8>&- || true
    extra=(--discard-divergent)
  fi
  local t out
  t=$(ms)
  out=$(pc rejoin n1 --yes "${extra[@]}" -o json) || { echo "rejoin failed: $out" | tail -c 600 >&2; exit 1; }
  local whole=$(( $(ms) - t ))
  local db
  db=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(next(s["elapsed_ms"] for s in d["steps"] if s["action"].startswith("database:")))' <<< "$out")
  pc swap --yes > /dev/null 2>&1 || { echo "swap back failed" >&2; exit 1; }
  echo "$whole $db"
}

for kind in ist sst; do
  rows=()
  for _ in $(seq "$RUNS"); do rows+=("$(one $kind)"); done
  whole=$(printf '%s\n' "${rows[@]}" | cut -d' ' -f1 | median)
  db=$(printf '%s\n' "${rows[@]}" | cut -d' ' -f2 | median)
  echo "rejoin $kind: whole command ${whole} ms, database step ${db} ms (median of $RUNS)"
done
