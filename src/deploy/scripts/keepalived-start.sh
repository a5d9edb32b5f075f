# shellcheck shell=bash
# Starts keepalived and waits (at most 30 s) until WAIT_FOR holds: `vip` (this node holds
# VIP) or `state` (keepalived wrote a VRRP state to STATE_FILE; a standby settles in FAULT).
# Parameters: WAIT_FOR, VIP, STATE_FILE, WHAT (said on timeout).
set -eu
systemctl start keepalived.service
reached() {
  case "$WAIT_FOR" in
    vip) ip -o addr show | grep -qF " $VIP/" ;;
    *) grep -qxE 'BACKUP|MASTER|FAULT' "$STATE_FILE" 2>/dev/null ;;
  esac
}
i=0
until reached; do
  i=$((i + 1))
  if [ "$i" -ge 150 ]; then echo "timed out after 30 s waiting for $WHAT" >&2; exit 1; fi
  sleep 0.2
done
