# shellcheck shell=bash
# Generates the user's SSH key on the node (the private key never leaves it).
# Parameters: COMMENT (user@node).
set -eu
install -d -m 0700 "$HOME/.ssh"
ssh-keygen -q -t ed25519 -N '' -C "$COMMENT" -f "$HOME/.ssh/id_ed25519" </dev/null >/dev/null
