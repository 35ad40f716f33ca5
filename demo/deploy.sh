#!/bin/sh
# Deploy ARTIFACT to ENV: install it next to the current release, health-check it, switch, and
# roll back to the previous known-good release when the check fails.
# Usage: deploy.sh ENV ARTIFACT_DIR VERSION   (DEPLOY_ROOT, default ./.deploy, holds the targets)
set -eu
env_name="$1"; artifact="$2"; version="$3"
root="${DEPLOY_ROOT:-.deploy}/$env_name"
mkdir -p "$root/releases"
previous=$(cat "$root/current" 2>/dev/null || echo "")
rm -rf "$root/releases/$version"
cp -R "$artifact" "$root/releases/$version"
echo "$version" > "$root/current"
if HELLO_VERSION="$version" sh "$root/releases/$version/hello.sh" --health | grep -q "^ok $version\$"; then
  echo "deployed $version to $env_name (previous: ${previous:-none})"
else
  echo "health check of $version failed on $env_name"
  if [ -n "$previous" ]; then echo "$previous" > "$root/current"; echo "rolled back to $previous"; else rm -f "$root/current"; fi
  exit 1
fi
