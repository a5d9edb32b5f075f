# shellcheck shell=bash
# Gives MariaDB its copy of this node's ingress certificate and key; a running server reloads
# it (FLUSH SSL, no restart). Parameters: INGRESS_CERT, INGRESS_KEY, DB_TLS_CERT, DB_TLS_KEY.
set -eu
[ -s "$INGRESS_CERT" ] && [ -s "$INGRESS_KEY" ] || { echo 'no ingress certificate on this node' >&2; exit 1; }
install -d -m 0755 "$(dirname "$DB_TLS_CERT")"
install -m 0644 "$INGRESS_CERT" "$DB_TLS_CERT"
if getent group mysql >/dev/null; then install -m 0640 -g mysql "$INGRESS_KEY" "$DB_TLS_KEY"; else install -m 0600 "$INGRESS_KEY" "$DB_TLS_KEY"; fi
if systemctl is-active -q mariadb; then mariadb -e 'FLUSH SSL'; fi
