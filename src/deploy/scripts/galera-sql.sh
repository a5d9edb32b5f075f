# shellcheck shell=bash
# Runs SQL as root through the unix socket. The SQL (it may hold the monitoring user's
# password) goes to mariadb's stdin through printf, a builtin: it is in no process's argv.
# Parameters: SQL.
set -eu
printf '%s\n' "$SQL" | mariadb
