#!/bin/sh
# Unit tests of the demo service: each case compares the output with what is expected.
set -eu
here=$(dirname "$0")
fail=0
check() {
  expected="$1"; shift
  actual=$(HELLO_VERSION=1.0 sh "$here/hello.sh" "$@")
  if [ "$actual" = "$expected" ]; then echo "ok   - hello.sh $*"; else echo "FAIL - hello.sh $*: got '$actual', want '$expected'"; fail=1; fi
}
check "Hello from 1.0, world!"
check "Hello from 1.0, lab!" greet lab
check "ok 1.0" --health
check "1.0" --version

# Deploy: a healthy release becomes current; a broken one is rolled back to the previous one.
root=$(mktemp -d)
mkdir -p "$root/good" "$root/broken"
cp "$here/hello.sh" "$root/good/"
printf '#!/bin/sh\necho "not ok"\n' > "$root/broken/hello.sh"
if DEPLOY_ROOT="$root/t" sh "$here/deploy.sh" qa "$root/good" v1 >/dev/null && [ "$(cat "$root/t/qa/current")" = v1 ]; then
  echo "ok   - deploy v1"
else
  echo "FAIL - deploy v1"; fail=1
fi
if ! DEPLOY_ROOT="$root/t" sh "$here/deploy.sh" qa "$root/broken" v2 >/dev/null && [ "$(cat "$root/t/qa/current")" = v1 ]; then
  echo "ok   - a failed health check rolls back to v1"
else
  echo "FAIL - rollback"; fail=1
fi
rm -rf "$root"
exit $fail
