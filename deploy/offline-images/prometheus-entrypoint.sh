#!/bin/sh
# Debian's prometheus keeps its data in /var/lib/prometheus by default; the official binary in
# `data/` under the working directory (/prometheus, the volume). Same default here.
for arg in "$@"; do
  case "$arg" in --storage.tsdb.path*) exec /usr/bin/prometheus "$@" ;; esac
done
exec /usr/bin/prometheus --storage.tsdb.path=data/ "$@"
