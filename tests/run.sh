#!/usr/bin/env bash
# The whole test suite, as root: unit, transport and CLI tests, then the two-node lab (brought
# up once) for its self-test and the end-to-end tests, then the lab with its witness for the
# witness's end-to-end tests. The lab is always brought down.
set -uo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "tests/run.sh needs root (the lab runs systemd-nspawn nodes)" >&2; exit 1; }

need=""
for p in ssh-keygen:openssh-client sshd:openssh-server zstd:zstd curl:curl mysql:mariadb-client; do
  command -v "${p%%:*}" >/dev/null || [ -x "/usr/sbin/${p%%:*}" ] || need="$need ${p#*:}"
done
if [ -n "$need" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null || exit 1
fi

LAB=tests/lab/lab.sh
cleanup() { "$LAB" down >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM

cargo build --all-targets --quiet || exit 1

rc=0
echo "== lab up"
t0=$(date +%s)
if ! "$LAB" up; then
  echo "lab up failed" >&2
  exit 1
fi
echo "== lab up in $(( $(date +%s) - t0 )) s"
eval "$("$LAB" env)"
export LAB_CONFIG LAB_VIP LAB_N1 LAB_N2 LAB_SSH_CONFIG LAB_CA LAB_DB_USER LAB_DB_PASSWORD_FILE

echo "== lab self-test (every fault kind, checked without pairctl)"
bash tests/lab/selftest.sh || rc=1

echo "== cargo test (unit, transport, CLI and end-to-end on the lab)"
cargo test --no-fail-fast -- --include-ignored --skip e2e::witness:: || rc=1

# Second phase: the same lab again with its witness (a third container w: garbd and the
# Gluster arbiter bricks) for the tests of the automatic takeover.
echo "== lab up --witness"
t0=$(date +%s)
if "$LAB" up --witness; then
  echo "== lab up --witness in $(( $(date +%s) - t0 )) s"
  eval "$("$LAB" env)"
  export LAB_CONFIG LAB_VIP LAB_N1 LAB_N2 LAB_SSH_CONFIG LAB_CA LAB_DB_USER LAB_DB_PASSWORD_FILE LAB_W LAB_CONFIG_WITNESS
  echo "== cargo test e2e::witness (end-to-end on the witness lab)"
  cargo test --no-fail-fast --test main e2e::witness:: -- --include-ignored || rc=1
else
  echo "lab up --witness failed" >&2
  rc=1
fi
exit $rc
