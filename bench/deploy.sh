#!/usr/bin/env bash
# Benchmark of `pairctl deploy` on the lab: a cold deploy onto bare nodes
# (tests/lab/lab.sh up --bare: OS, packages, sshd, the root key) and re-runs with nothing to
# change (median of RUNS, default 5). Prints both. Run as root from the project root.
#
# The lab is shared: this holds its lock (/run/pairctl-lab.lock, or pairctl-labID.lock for PAIRLAB_ID) from `up --bare` to the end
# and puts the full lab back (lab.sh up) before releasing it.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
LAB=tests/lab/lab.sh
cargo build --release --quiet
P=$PWD/target/release/pairctl

exec 8> "/run/pairctl-lab$(t=${PAIRLAB_ID:-0}; echo "${t#0}").lock"
flock 8
# fd 8 must not reach the lab's nodes (their daemons would hold the lock forever): 8>&-.
restore() { "$LAB" up > /tmp/pairctl-bench-deploy-restore.log 2>&1 8>&- || echo "warning: lab.sh up failed (see /tmp/pairctl-bench-deploy-restore.log)" >&2; }
trap restore EXIT

ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

"$LAB" up --bare > /tmp/pairctl-bench-deploy-lab.log 2>&1 8>&- || { echo "lab.sh up --bare failed"; exit 1; }
eval "$("$LAB" env)"

t=$(ms)
"$P" -c "$LAB_CONFIG" deploy --yes > /tmp/pairctl-bench-deploy-cold.log 2>&1 8>&- ||
  { echo "cold deploy failed: $(tail -n 3 /tmp/pairctl-bench-deploy-cold.log)"; exit 1; }
cold=$(( $(ms) - t ))

re=()
for _ in $(seq "$RUNS"); do
  t=$(ms)
  "$P" -c "$LAB_CONFIG" deploy --yes > /tmp/pairctl-bench-deploy-rerun.log 2>&1 8>&- ||
    { echo "re-run failed: $(tail -n 3 /tmp/pairctl-bench-deploy-rerun.log)"; exit 1; }
  grep -q "every stage unchanged" /tmp/pairctl-bench-deploy-rerun.log ||
    { echo "re-run changed something: $(grep -v unchanged /tmp/pairctl-bench-deploy-rerun.log | head -n 5)"; exit 1; }
  re+=($(( $(ms) - t )))
done
re_med=$(printf '%s\n' "${re[@]}" | median)

# The cold run's stages with their times (from its summary table; stages that do not depend
# on each other overlap, so the times add up to more than the whole).
echo "cold deploy, per stage (they overlap):"
grep -E '^(ssh-trust|ingress|galera|gluster|witness|k3s|record|keepalived) +(changed|unchanged) ' \
  /tmp/pairctl-bench-deploy-cold.log | sed 's/^/  /' || true
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %10s %10s\n' "what" "measured" "target"
printf '%-44s %8s ms %10s\n' "deploy, bare nodes to healthy (cold)" "$cold" ""
printf '%-44s %8s ms %10s\n' "deploy re-run, nothing to change (median of $RUNS)" "$re_med" "<= 3000"
