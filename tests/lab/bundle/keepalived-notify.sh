#!/bin/sh
# keepalived notify script (installed from the offline bundle as /etc/keepalived/notify.sh).
# keepalived calls it as: notify.sh INSTANCE|GROUP NAME STATE PRIORITY, STATE one of
# MASTER, BACKUP, FAULT, STOP. It records the state in /run/pairctl/keepalived.state and, as
# the XCO design does, runs k3s, the ingress and the state replication on the MASTER only.
# Starting k3s first restores its state database from the litestream replica
# (k3s-state-restore.service), then starts litestream, then k3s; stopping stops k3s first,
# then litestream (its final sync), and clears the restore for the next takeover.
state=$3
mkdir -p /run/pairctl
echo "$state" > /run/pairctl/keepalived.state.new && mv -f /run/pairctl/keepalived.state.new /run/pairctl/keepalived.state
logger -t keepalived-notify "$1 $2 is now $state (priority ${4:-?})"
case $state in
MASTER) systemctl --no-block start k3s.service nginx.service litestream.service ;;
BACKUP | FAULT | STOP) systemctl --no-block stop nginx.service k3s.service litestream.service k3s-state-restore.service ;;
esac
exit 0
