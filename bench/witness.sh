#!/usr/bin/env bash
# Benchmark of the witness on the lab: the automatic takeover (the active powered off → every
# service answering 200 through the VIP from the new active, no pairctl command run), split
# into Galera's eviction (the standby's component becomes itself + garbd), the lease, and the
# VIP + k3s start; then failover with the witness (the active powered off while the witness
# is up: the operator runs it at once, and with the witness down, so that nothing takes over
# by itself: start → services Ready). Also the witness's
# cost: memory (PSS of w's processes) and what `up --witness` adds to `up`.
# Run as root from the project root; brings the witness lab up itself (RUNS times, default 3)
# and leaves a witness lab up. PAIRLAB_ID selects the lab instance as everywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
LAB=tests/lab/lab.sh
if [ -z "${PAIRCTL:-}" ]; then cargo build --release --quiet; fi
P=${PAIRCTL:-target/release/pairctl}
exec 9>/run/pairctl-lab$(t=${PAIRLAB_ID:-0}; echo ${t#0}).lock; flock 9

ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
m() { printf '%s\n' "$@" | median; }
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 --cacert "$LAB_CA" "https://$LAB_VIP/v1/tenant/health")" = 200 ]; }
on() { "$LAB" ssh "$@" 2> /dev/null; }
# up [ARGS]: the lab up, its environment in this shell; UP_MS: how long it took.
up() {
  local t0; t0=$(ms)
  "$LAB" up "$@" > "/tmp/witness-bench-up$$.log" 2>&1 || { tail -n 3 "/tmp/witness-bench-up$$.log" >&2; exit 1; }
  UP_MS=$(( $(ms) - t0 ))
  eval "$("$LAB" env)"
}
up; plain_up=$UP_MS
witness_up=(); take=(); evict=(); lease=(); start=(); fo=(); fw=()
for i in $(seq "$RUNS"); do
  up --witness; witness_up+=("$UP_MS")
  if [ "$i" = 1 ]; then
    # w's memory: the PSS of every process in its PID namespace (garbd, glusterd, sshd, systemd).
    w_pss=$(on w "cat /proc/[0-9]*/smaps_rollup 2>/dev/null" | awk '/^Pss:/ {s += $2} END {printf "%d", s / 1024}')
    garbd_rss=$(on w "ps -C garbd -o rss=" | awk '{printf "%d", $1 / 1024}')
  fi
  t0=$(ms)
  "$LAB" fault n1 power > /dev/null 2>&1
  end=$(( $(date +%s) + 120 ))
  until ready && [ "$(on n2 "cat /etc/pairctl/role")" = active ]; do
    [ "$(date +%s)" -lt "$end" ] || { echo "no automatic takeover within 120 s" >&2; exit 1; }
    sleep 0.2
  done
  t1=$(ms)
  # From the takeover's history record (keepalived's scripts cannot reach the journal's
  # socket): when the role was written (to the second) and how long the lease was held.
  rec=$(on n2 "grep '\"kind\":\"takeover\"' /var/lib/pairctl/history.jsonl | tail -n 1")
  promoted=$(python3 -c 'import json, sys, datetime; r = json.loads(sys.argv[1]); print(int(datetime.datetime.fromisoformat(r["time"].replace("Z", "+00:00")).timestamp() * 1000) + 500)' "$rec")
  seen=$(( promoted - $(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["duration_ms"])' "$rec") ))
  take+=($(( t1 - t0 ))); evict+=($(( seen - t0 ))); lease+=($(( promoted - seen ))); start+=($(( t1 - promoted )))
done

# failover with the witness up: the active powered off, the operator runs failover at once
# (the witness confirms the old active down: no guessing; before the automatic takeover).
for _ in $(seq "$RUNS"); do
  up --witness
  "$LAB" fault n1 power > /dev/null 2>&1
  t0=$(ms)
  if "$P" -c "$LAB_CONFIG_WITNESS" failover --yes -q > "/tmp/witness-bench-failover$$.log" 2>&1; then
    until ready; do sleep 0.2; done
    fw+=($(( $(ms) - t0 )))
  else
    echo "failover (witness up) failed after $(( $(ms) - t0 )) ms: $(tail -n 2 "/tmp/witness-bench-failover$$.log")" >&2
    fw+=(FAILED)
  fi
done

# failover with the witness down first (no automatic takeover), then the active.
for _ in $(seq "$RUNS"); do
  up --witness
  "$LAB" fault w power > /dev/null 2>&1
  # (status exits 1, degraded, with the witness down: not a failure of the pipeline)
  until { "$P" -c "$LAB_CONFIG_WITNESS" status -o json 2> /dev/null || true; } | grep -q '"member": 0'; do sleep 0.5; done
  "$LAB" fault n1 power > /dev/null 2>&1
  t0=$(ms)
  "$P" -c "$LAB_CONFIG_WITNESS" failover --yes -q > /dev/null 2>&1 || { echo "failover failed" >&2; exit 1; }
  until ready; do sleep 0.2; done
  fo+=($(( $(ms) - t0 )))
done

printf '%-70s %s\n' "what (median of $RUNS; 2 shared cores)" "ms"
printf '%-70s %s\n' "automatic takeover: n1 powered off -> services 200 via the VIP on n2" "$(m "${take[@]}")"
printf '%-70s %s\n' "  of which: power off -> n2 sees itself + garbd Primary (eviction; +-1 s)" "$(m "${evict[@]}")"
printf '%-70s %s\n' "  of which: the lease (the standby waits for the active's demotion)" "$(m "${lease[@]}")"
printf '%-70s %s\n' "  of which: role written -> VIP, k3s restored from the replica, services" "$(m "${start[@]}")"
printf '%-70s %s\n' "failover with the witness, n1 powered off: command start -> services 200" "$(m "${fw[@]}")"
printf '%-70s %s\n' "failover, witness down + n1 powered off: command start -> services 200" "$(m "${fo[@]}")"
printf '%-70s %s\n' "lab up (plain) / lab up --witness" "$plain_up / $(m "${witness_up[@]}")"
printf '%-70s %s\n' "witness w: memory (PSS of all its processes, MiB) / garbd RSS (MiB)" "${w_pss:-?} / ${garbd_rss:-?}"
echo "target: automatic takeover <= 10000 ms; failover with the active powered off <= 5000 ms"
