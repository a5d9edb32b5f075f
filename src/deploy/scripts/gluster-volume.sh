# shellcheck shell=bash
# Creates VOLUME as replica 2 on BRICKS (host:path, one a line) unless it exists (glusterd may
# have been down at the check), then starts it unless it is started (a volume just created
# is not: no second look, each gluster CLI call costs a few hundred ms).
# Parameters: VOLUME, BRICKS (may be empty when the volume exists).
set -eu
if ! gluster --mode=script volume info "$VOLUME" >/dev/null 2>&1; then
  mapfile -t brick_list <<<"$BRICKS"
  gluster --mode=script volume create "$VOLUME" replica 2 "${brick_list[@]}" force
  exec gluster --mode=script volume start "$VOLUME"
fi
gluster --mode=script volume info "$VOLUME" | grep -q '^Status: Started' || gluster --mode=script volume start "$VOLUME"
