#!/bin/sh
# Scan: refuse anything that looks like a committed credential.
set -eu
if grep -rnE '(AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|password *= *[^ $])' "$(dirname "$0")"; then
  echo "scan: possible secret found"; exit 1
fi
echo "scan: no secrets found"
