#!/usr/bin/env bash
# Benchmark of `pairctl snapshot` on the lab beside what an operator does by hand,
# `ssh node tar c … | zstd` with OpenSSH node after node, in the same run: wall time,
# throughput of the planted data, peak RSS (median of RUNS). A SIZE_MB log (default 500) is
# planted on each node as /var/log/pairctl/bench-planted.log and removed at the end.
# Run as root from the project root with the lab up. The lab is held (flock
# /run/pairctl-lab.lock, or pairctl-labID.lock for PAIRLAB_ID, as every lab user does) for the whole run.
# PAIRCTL_BIN=path measures another build (e.g. a variant) instead of target/release/pairctl.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-500}
RUNS=${RUNS:-3}
eval "$(tests/lab/lab.sh env)"
if [ -z "${PAIRCTL_BIN:-}" ]; then cargo build --release --quiet; fi
P=${PAIRCTL_BIN:-$PWD/target/release/pairctl}
command -v zstd >/dev/null || apt-get install -y -qq zstd >/dev/null
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null

exec 9> /run/pairctl-lab$(t=${PAIRLAB_ID:-0}; echo ${t#0}).lock
flock 9

D=$(mktemp -d)
SRC=/var/tmp/pairctl-bench-${SIZE_MB}MiB.log
LOG=/var/log/pairctl/bench-planted.log
S() { ssh -F "$LAB_SSH_CONFIG" "$@"; }
cleanup() {
  for n in n1 n2; do S "$n" "rm -f $LOG" 2> /dev/null || true; done
  rm -rf "$D"
}
trap cleanup EXIT

"$P" -c "$LAB_CONFIG" status -q > /dev/null || { echo "the lab is not healthy: fix it first"; exit 1; }

# Log lines of the kinds the cluster writes (nginx, Galera, Gluster, k3s), with request ids,
# sequence numbers and timings so that zstd sees realistic text: a 16 MiB block repeated,
# which is far beyond the 2 MiB window zstd -3 matches within. About 1 line in 100 carries a
# word that sends it through the redactor's slow path.
if [ "$(stat -c %s "$SRC" 2> /dev/null || echo 0)" != $((SIZE_MB << 20)) ]; then
  python3 - "$SRC" "$SIZE_MB" << 'PY'
import random, sys, time
path, mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
svcs = ["auth", "rbac", "tenant", "fabric", "inventory", "raslog", "notification", "system"]
lines, size, i = [], 0, 0
while size < 16 << 20:
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1714557600 + i // 40))
    k = rnd.random()
    if k < 0.35:
        l = (f'{t}+0000 n1 nginx: 10.213.57.{rnd.randint(1, 14)} - - "GET /v1/{rnd.choice(svcs)}/health '
             f'HTTP/1.1" {rnd.choice((200, 200, 200, 503))} {rnd.randint(10, 900)} "-" "pairctl/0.1" '
             f'rt={rnd.random():.3f} req={rnd.getrandbits(64):016x}\n')
    elif k < 0.6:
        l = (f'{t}+0000 n1 mariadbd[811]: [Note] WSREP: Member {rnd.randint(0, 1)}.0 (n{rnd.randint(1, 2)}) '
             f'synced with group; seqno {i * 3 + rnd.randint(0, 2)} gcache {rnd.randint(1, 1 << 27)}\n')
    elif k < 0.85:
        l = (f'[{t}.{rnd.randint(0, 999999):06d}] I [MSGID: {rnd.randint(100000, 199999)}] '
             f'[afr-self-heal-common.c:{rnd.randint(100, 3000)}:afr_log_selfheal] 0-shared-replicate-0: '
             f'Completed data selfheal on {rnd.getrandbits(128):032x}. sources=[0]  sinks=1\n')
    elif k < 0.99:
        l = (f'{t}Z n1 k3s[90]: time="{t}Z" level=info msg="Slow SQL (started: {t}) (total time: '
             f'{rnd.randint(1, 999)}ms): SELECT kv.id FROM kine WHERE name LIKE ? LIMIT {rnd.randint(1, 500)}"\n')
    else:
        l = f'{t}Z n1 k3s[90]: level=info msg="node password verified, token rotated for n{rnd.randint(1, 2)}"\n'
    lines.append(l)
    size += len(l)
    i += 1
block = "".join(lines).encode()
block = block[: block.rindex(b"\n", 0, 16 << 20) + 1]
target = mb << 20
with open(path, "wb") as f:
    written = 0
    while written + len(block) <= target:
        f.write(block)
        written += len(block)
    rest = block[: target - written]
    f.write(rest[:-1] + b"\n" if rest else b"")
PY
fi
echo "planting $SIZE_MB MiB on n1 and n2 ..." >&2
for n in n1 n2; do S "$n" "mkdir -p /var/log/pairctl && cat > $LOG" < "$SRC"; done
# Both contenders read from the nodes' page cache.
for n in n1 n2; do S "$n" "cat $LOG > /dev/null"; done

ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
rss_mb() { awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print int($2 / 1024)}' "$1"; }

# What the operator tars: the cluster's logs (with the planted one) and configs.
TAR_PATHS="var/log/pairctl var/log/glusterfs var/log/mysql var/log/nginx etc/keepalived etc/mysql etc/nginx"
base_run() {
  local t n
  t=$(ms)
  for n in n1 n2; do
    S "$n" "tar c -C / --ignore-failed-read $TAR_PATHS 2> /dev/null; true" | zstd -3 -q -c > "$D/base-$n.tar.zst"
  done
  echo $(($(ms) - t))
}
snap_run() {
  local t dt
  rm -f "$D"/pairctl-snapshot-*
  t=$(ms)
  /usr/bin/time -v -o "$D/time.txt" "$P" -c "$LAB_CONFIG" -o json snapshot -O "$D" --since 1h > "$D/summary.json" ||
    echo "warning: pairctl snapshot exited $? (partial bundle)" >&2
  dt=$(($(ms) - t))
  echo "$dt $(rss_mb "$D/time.txt")"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
base=(); snap=(); rss=()
for _ in $(seq "$RUNS"); do
  base+=("$(base_run)")
  read -r dt r < <(snap_run)
  snap+=("$dt"); rss+=("$r")
done
base_med=$(printf '%s\n' "${base[@]}" | median)
snap_med=$(printf '%s\n' "${snap[@]}" | median)
rss_max=$(printf '%s\n' "${rss[@]}" | sort -n | tail -n 1)
base_size=$(( ($(stat -c %s "$D/base-n1.tar.zst") + $(stat -c %s "$D/base-n2.tar.zst")) >> 20 ))
snap_size=$(( $(stat -c %s "$D"/pairctl-snapshot-*.tar.zst) >> 20 ))
collected=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["collected_bytes"] >> 20)' "$D/summary.json")
planted=$((2 * SIZE_MB))
mbps() { awk -v mb="$planted" -v ms="$1" 'BEGIN {printf "%.0f", mb / (ms / 1000)}'; }
ratio=$(awk -v a="$base_med" -v b="$snap_med" 'BEGIN {printf "%.2f", a / b}')

printf '%s MiB planted on each node; median of %s runs; throughput = planted MiB / wall time\n' "$SIZE_MB" "$RUNS"
printf '%-44s %9s %8s %9s %8s\n' "what" "wall" "MiB/s" "archive" "peak RSS"
printf '%-44s %6s ms %8s %6s MiB %5s MiB\n' "pairctl snapshot (both nodes at once)" "$snap_med" "$(mbps "$snap_med")" "$snap_size" "$rss_max"
printf '%-44s %6s ms %8s %6s MiB %9s\n' "ssh node tar c | zstd -3 (n1, then n2)" "$base_med" "$(mbps "$base_med")" "$base_size" "-"
printf '%-44s %8sx %s\n' "speed-up over the pipes (target >= 2.0x)" "$ratio" ""
printf '%-44s %6s MiB %s\n' "pairctl peak RSS (target <= 100 MiB)" "$rss_max" ""
printf '%-44s %6s MiB %s\n' "pairctl: bytes collected (after redaction)" "$collected" ""
printf 'runs (ms): pairctl %s; pipes %s\n' "${snap[*]}" "${base[*]}"
# The machine's other work takes its share of the cores from both contenders: say how much.
printf 'load average before/after: %s / %s\n' "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
