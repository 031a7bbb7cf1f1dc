#!/usr/bin/env bash
# Installs the real Python peers into target/py-peers (cached); see python-peers.mjs,
# which does the work so that `npm test` runs it on any platform.
exec node "$(dirname "$0")/python-peers.mjs" "$@"
