# shellcheck shell=bash
# Checks that this node reaches its peer over SSH with the host key checked.
# Parameters: PEER_USER, PEER_ADDRESS.
ssh -n -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=5 "$PEER_USER@$PEER_ADDRESS" true
