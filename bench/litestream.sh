#!/usr/bin/env bash
# Benchmark of the k3s state replication on the lab (the real litestream):
#  - the replica lag while healthy: SAMPLES status rounds, the replica check's age_seconds
#    (how old the newest transaction missing from the replica may be) and behind_transactions;
#  - the hand-over inside swap and failover (active powered off): the restore time and the
#    wait for the old active's final sync, from the "k3s state from the replica" step.
# Run as root from the project root with the lab up; leaves n1 active.
set -euo pipefail
cd "$(dirname "$0")/.."
SAMPLES=${SAMPLES:-20}
RUNS=${RUNS:-3}
eval "$(tests/lab/lab.sh env)"
if [ -z "${PAIRCTL:-}" ]; then cargo build --release --quiet; fi
P=${PAIRCTL:-target/release/pairctl}
LAB=tests/lab/lab.sh
exec 9>/run/pairctl-lab$(t=${PAIRLAB_ID:-0}; echo ${t#0}).lock; flock 9

stats() { sort -n | awk '{a[NR]=$1} END {printf "min %s  median %s  max %s  (n=%d)", a[1], (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2, a[NR], NR}'; }
settle() {
  local end=$(( $(date +%s) + 180 ))
  until "$P" -c "$LAB_CONFIG" status >/dev/null 2>&1; do
    [ "$(date +%s)" -lt $end ] || { echo "the lab did not become healthy" >&2; exit 1; }; sleep 1
  done
  [ "$("$P" -c "$LAB_CONFIG" status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["active"])')" = n1 ] \
    || "$P" -c "$LAB_CONFIG" swap --yes -q >/dev/null
}
# "restore_ms wait_ms step_ms" of one role change's hand-over (from its JSON document).
handover() {
  python3 -c '
import json, re, sys
d = json.loads(sys.argv[1])
s = next(s for s in d["steps"] if s["action"] == "k3s state from the replica")
r = re.search(r"in (\d+) ms \(.*waited (\d+) ms\)$", s["detail"])
print(r.group(1), r.group(2), s["elapsed_ms"]) if r else print("? ? ?")' "$1"
}

settle
lags=(); behind=()
for _ in $(seq "$SAMPLES"); do
  read -r a b < <("$P" -c "$LAB_CONFIG" status -o json | python3 -c '
import json, sys
c = next(c for c in json.load(sys.stdin)["checks"] if c["name"] == "replica")
v = c.get("values", {})
print(int(v.get("age_seconds", -1) * 1000), int(v.get("behind_transactions", -1)))')
  lags+=("$a"); behind+=("$b")
  sleep 0.5
done
echo "replica lag while healthy (ms):        $(printf '%s\n' "${lags[@]}" | stats)"
echo "replica behind (transactions):         $(printf '%s\n' "${behind[@]}" | stats)"

sr=(); sw=()
for _ in $(seq "$RUNS"); do
  settle
  out=$("$P" -c "$LAB_CONFIG" swap --yes -o json) || { echo "swap failed: $out" >&2; exit 1; }
  read -r r w _ < <(handover "$out"); sr+=("$r"); sw+=("$w")
done
echo "swap: restore (ms):                    $(printf '%s\n' "${sr[@]}" | stats)"
echo "swap: wait for the final sync (ms):    $(printf '%s\n' "${sw[@]}" | stats)"

fr=(); fw=()
for _ in $(seq "$RUNS"); do
  settle
  "$LAB" fault n1 power >/dev/null 2>&1
  out=$("$P" -c "$LAB_CONFIG" failover --yes -o json) || { echo "failover failed: $out" >&2; "$LAB" heal n1 power >/dev/null 2>&1; exit 1; }
  read -r r w _ < <(handover "$out"); fr+=("$r"); fw+=("$w")
  "$LAB" heal n1 power >/dev/null 2>&1
done
echo "failover (power off): restore (ms):    $(printf '%s\n' "${fr[@]}" | stats)"
echo "failover (power off): wait (ms):       $(printf '%s\n' "${fw[@]}" | stats)"
settle
