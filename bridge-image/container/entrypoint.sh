#!/bin/sh
# The container's only root step, and the smallest one: when /dev/fuse was passed in, let the
# bridge's user (uid 1000, `node`) open it; then become that user for good. The bridge and its
# FUSE daemon never run as root; the mount itself goes through the setuid fusermount.
set -eu
if [ "$(id -u)" = 0 ]; then
  if [ -c /dev/fuse ]; then
    chgrp node /dev/fuse && chmod g+rw /dev/fuse ||
      echo "lighthouse: cannot give uid 1000 access to /dev/fuse; FUSE will be disabled" >&2
  fi
  exec setpriv --reuid=node --regid=node --init-groups node /opt/lighthouse/dist/bridge.js "$@"
fi
exec node /opt/lighthouse/dist/bridge.js "$@"
