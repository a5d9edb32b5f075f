#!/usr/bin/env bash
# Benchmark of `pairctl exporter` on the lab: the median time a scrape waits for its round on
# warm connections (pairctl_scrape_duration_seconds, and the round's own
# pairctl_round_duration_seconds), and the exporter's RSS after a warm-up and after 200 more
# scrapes. Run as root from the project root with the lab up (tests/lab/lab.sh up).
set -euo pipefail
cd "$(dirname "$0")/.."
SCRAPES=${SCRAPES:-200}
eval "$(tests/lab/lab.sh env)"
# PAIRCTL=path skips the build (e.g. to measure a given binary).
if [ -z "${PAIRCTL:-}" ]; then cargo build --release --quiet; fi
P=${PAIRCTL:-target/release/pairctl}
# The lab is one shared thing: hold its lock, as every lab user does.
exec 9>/run/pairctl-lab$(t=${PAIRLAB_ID:-0}; echo ${t#0}).lock; flock 9

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
log=$(mktemp); "$P" -c "$LAB_CONFIG" exporter --listen 127.0.0.1:0 2>"$log" & EXP=$!
trap 'kill $EXP 2>/dev/null; rm -f "$log"' EXIT
addr=; for _ in $(seq 100); do addr=$(grep -o 'http://[0-9.:]*' "$log" | head -1 | cut -c8-) && [ -n "$addr" ] && break; sleep 0.1; done
[ -n "$addr" ] || { echo "the exporter did not start: $(cat "$log")"; exit 1; }
value() { awk -v m="$1" '$1 ~ "^"m"[{]" {print $2}'; }
scrape=(); round=()
for _ in $(seq 20); do
  text=$(curl -sf "http://$addr/metrics")
  scrape+=("$(value pairctl_scrape_duration_seconds <<<"$text")")
  round+=("$(value pairctl_round_duration_seconds <<<"$text")")
done
rss() { awk '/VmRSS/ {print $2}' /proc/$EXP/status; }
warm=$(rss)
for _ in $(seq "$SCRAPES"); do curl -sf "http://$addr/metrics" >/dev/null; done
after=$(rss)
echo "scrape (warm connections), median of 20: $(printf '%s\n' "${scrape[@]}" | median) s; round $(printf '%s\n' "${round[@]}" | median) s"
echo "exporter RSS: ${warm} KiB after 20 scrapes, ${after} KiB after $SCRAPES more"
