#!/usr/bin/env bash
# Benchmark of `pairctl status` on the lab, beside the shell script an operator would write
# (bench/operator-status.sh), in the same run: median cold wall time, median --watch refresh,
# peak RSS. Run as root from the project root with the lab up (tests/lab/lab.sh up).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-9}
eval "$(tests/lab/lab.sh env)"
# PAIRCTL=path skips the build (e.g. to measure a given binary).
if [ -z "${PAIRCTL:-}" ]; then cargo build --release --quiet; fi
P=${PAIRCTL:-target/release/pairctl}
command -v mysql >/dev/null || { apt-get install -y -qq mariadb-client >/dev/null; }

ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

"$P" -c "$LAB_CONFIG" status -q >/dev/null || { echo "the lab is not healthy: fix it first"; exit 1; }

cold=(); for _ in $(seq "$RUNS"); do t=$(ms); "$P" -c "$LAB_CONFIG" status >/dev/null; cold+=($(( $(ms) - t ))); done
cold_med=$(printf '%s\n' "${cold[@]}" | median)

script=(); for _ in $(seq 3); do t=$(ms); bash bench/operator-status.sh >/dev/null 2>&1 || true; script+=($(( $(ms) - t ))); done
script_med=$(printf '%s\n' "${script[@]}" | median)

# --watch: elapsed_ms of each refresh after the first (same connections); under load fewer
# than 7 refreshes may fit in the window (timeout ends the pipe: not a failure of the bench).
refresh_med=$(timeout 12 "$P" -c "$LAB_CONFIG" status --watch 1 -o json 2>/dev/null | head -n 8 | tail -n +2 \
  | python3 -c 'import json,sys; print("\n".join(str(json.loads(l)["elapsed_ms"]) for l in sys.stdin))' | median || true)

# A degraded round (exit 1) under load still has its peak RSS.
rss_kb=$({ /usr/bin/time -v "$P" -c "$LAB_CONFIG" status || true; } 2>&1 >/dev/null | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}')

ratio=$(awk -v a="$script_med" -v b="$cold_med" 'BEGIN {printf "%.1f", a/b}')
printf '%-38s %10s %10s\n' "what" "measured" "target"
printf '%-38s %8s ms %10s\n' "pairctl status, cold (median of $RUNS)" "$cold_med" "<= 500"
printf '%-38s %8s ms %10s\n' "pairctl status --watch refresh" "$refresh_med" "<= 300"
printf '%-38s %8s MB %10s\n' "pairctl status peak RSS" "$(( rss_kb / 1024 ))" "<= 50"
printf '%-38s %8s ms %10s\n' "operator script (ssh+mysql+curl)" "$script_med" ""
printf '%-38s %9sx %10s\n' "speed-up over the script" "$ratio" ">= 8x"
