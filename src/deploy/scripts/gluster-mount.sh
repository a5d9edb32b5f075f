# shellcheck shell=bash
# Mounts MOUNT_POINT through its systemd mount unit (generated from /etc/fstab), so that the
# FUSE client runs in the node's cgroups. Parameters: MOUNT_POINT.
set -eu
mkdir -p "$MOUNT_POINT"
systemctl daemon-reload
systemctl start "$(systemd-escape -p --suffix=mount "$MOUNT_POINT")"
mountpoint -q "$MOUNT_POINT"
