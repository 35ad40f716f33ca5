#!/bin/sh
# Unit tests of the demo service: each case compares the output with what is expected.
set -eu
here=$(dirname "$0")
fail=0
check() {
  expected="$1"; shift
  actual=$(HELLO_VERSION=1.0 sh "$here/hello.sh" "$@")
  if [ "$actual" = "$expected" ]; then echo "ok   - $*"; else echo "FAIL - $*: got '$actual', want '$expected'"; fail=1; fi
}
check "Hello from 1.0, world!"
check "Hello from 1.0, lab!" greet lab
check "ok 1.0" --health
check "1.0" --version
exit $fail
