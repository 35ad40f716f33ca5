#!/bin/sh
# Lint: every shell script parses, and no line ends in white space or holds a tab.
set -eu
status=0
for f in "$(dirname "$0")"/*.sh; do
  sh -n "$f" || status=1
  if grep -n "$(printf '[ \t]$')" "$f"; then echo "$f: trailing white space"; status=1; fi
done
[ $status -eq 0 ] && echo "lint: all scripts clean"
exit $status
