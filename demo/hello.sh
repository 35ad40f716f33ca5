#!/bin/sh
# The demo service of the lab pipeline: prints a greeting, or answers a health check.
set -eu
VERSION="${HELLO_VERSION:-dev}"
case "${1:-}" in
  --health) echo "ok ${VERSION}" ;;
  --version) echo "${VERSION}" ;;
  *) echo "Hello from ${VERSION}, ${2:-world}!" ;;
esac
