# shellcheck shell=bash
# Adds PROBE (an address; empty: none) to the trusted pool, then waits at most WAIT_SECONDS
# until this node sees its peer connected. Parameters: PROBE, WAIT_SECONDS.
set -eu
if [ -n "$PROBE" ]; then gluster --mode=script peer probe "$PROBE"; fi
i=0
until gluster --mode=script peer status 2>/dev/null | grep -q 'Peer in Cluster (Connected)'; do
  i=$((i + 1))
  if [ "$i" -ge $((WAIT_SECONDS * 5)) ]; then
    echo "timed out after $WAIT_SECONDS s waiting for the peer to be connected" >&2
    exit 1
  fi
  sleep 0.2
done
