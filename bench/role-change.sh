#!/usr/bin/env bash
# Benchmark of role changes on the lab: time from command start to every service Ready on the
# new active (and the whole command), for swap (both healthy) and for failover with the active
# powered off. Run as root from the project root with the lab up; leaves n1 active.
# WITNESS=1 (on a lab up with --witness): pairctl runs with the witness's config, so failover
# asks the witness too; SKIP_SWAP=1 measures failover only.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
eval "$(tests/lab/lab.sh env)"
CONFIG=$LAB_CONFIG
if [ "${WITNESS:-0}" = 1 ]; then CONFIG=${LAB_CONFIG_WITNESS:?the lab is not up with --witness}; fi
echo "load: $(uptime)"
if [ -z "${PAIRCTL:-}" ]; then cargo build --release --quiet; fi
P=${PAIRCTL:-target/release/pairctl}
exec 9>/run/pairctl-lab$(t=${PAIRLAB_ID:-0}; echo ${t#0}).lock; flock 9

ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
STEPS=$(mktemp -d /tmp/role-change-bench.XXXXXX)
# Prints "ready_ms total_ms" for one role change: ready = start → the "services Ready" step done.
# Keeps the steps and the total of each run (for the per-step breakdown printed at the end).
run() {
  local t0 out t1
  t0=$(ms); out=$("$P" -c "$CONFIG" "$@" --yes -o json) || { echo "$* failed: $out" >&2; exit 1; }; t1=$(ms)
  printf '%s\n' "$out" > "$STEPS/$1.$(( t1 - t0 )).$t0.json"
  python3 -c '
import json, sys
d = json.loads(sys.argv[1]); total = int(sys.argv[2]); steps = d["steps"]
i = next(k for k, s in enumerate(steps) if s["action"].startswith("services Ready"))
after = sum(s["elapsed_ms"] for s in steps[i + 1:])
print(total - after, total)' "$out" $(( t1 - t0 ))
}

# Healthy, with n1 active: where every measurement starts.
settle() {
  local end=$(( $(date +%s) + 180 ))
  until "$P" -c "$CONFIG" status >/dev/null 2>&1; do
    [ "$(date +%s)" -lt $end ] || { echo "the lab did not become healthy" >&2; exit 1; }; sleep 1
  done
  [ "$("$P" -c "$CONFIG" status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["active"])')" = n1 ] \
    || "$P" -c "$CONFIG" swap --yes -q >/dev/null
}

settle
swap_ready=(); swap_total=()
for _ in $(seq "$([ "${SKIP_SWAP:-0}" = 1 ] && echo 0 || echo "$RUNS")"); do
  read -r r t < <(run swap); swap_ready+=("$r"); swap_total+=("$t")
  settle
done
fo_ready=(); fo_total=()
for _ in $(seq "$RUNS"); do
  tests/lab/lab.sh fault n1 power >/dev/null 2>&1
  read -r r t < <(run failover); fo_ready+=("$r"); fo_total+=("$t")
  tests/lab/lab.sh heal n1 power >/dev/null 2>&1
  tests/lab/lab.sh rejoin n1 >/dev/null 2>&1 # it came back fenced (the quorum model)
  settle
done
m() { printf '%s\n' "$@" | median; }
printf '%-52s %9s %9s\n' "what (median of $RUNS)" "ready" "command"
[ ${#swap_ready[@]} = 0 ] || printf '%-52s %6s ms %6s ms\n' "swap: start -> every service Ready on the new active" "$(m "${swap_ready[@]}")" "$(m "${swap_total[@]}")"
printf '%-52s %6s ms %6s ms\n' "failover, n1 powered off$([ "${WITNESS:-0}" = 1 ] && echo ", witness"): start -> services Ready" "$(m "${fo_ready[@]}")" "$(m "${fo_total[@]}")"
# Where the seconds go: each step's median over the runs, and what comes before the first
# step (connect, the status round, the preflight, the lock) and after the steps (the history
# record, closing), as the whole command less the steps.
python3 - "$STEPS" <<'PY'
import glob, json, os, statistics, sys
for kind in ("swap", "failover"):
    runs = []
    for f in sorted(glob.glob(os.path.join(sys.argv[1], kind + ".*.json"))):
        total = int(os.path.basename(f).split(".")[1])
        d = json.load(open(f))
        runs.append((total, d["elapsed_ms"], d["steps"]))
    if not runs:
        continue
    print(f"{kind}: per step (median of {len(runs)}, ms)")
    rows = {}
    for total, acting, steps in runs:
        rows.setdefault(("", "before and after the act (connect, round, preflight, lock; record)"), []).append(
            total - acting)
        for s in steps:
            rows.setdefault((s["node"], s["action"]), []).append(s["elapsed_ms"])
    for (node, action), v in rows.items():
        print(f"  {node + ': ' if node else ''}{action:<58} {int(statistics.median(v)):>6}")
PY
rm -rf "$STEPS"
echo "target: swap <= 2000 ms, failover (active powered off) <= 5000 ms, whole command"
