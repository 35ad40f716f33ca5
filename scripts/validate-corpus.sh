#!/usr/bin/env bash
# Builds the corpus for timing `pipe validate` against another linter: every real-world
# workflow file found under the given folders (default: the crates in Cargo's registry, which
# ship their repositories' .github/workflows), copied round-robin into OUT until it holds COUNT
# files. Usage: scripts/validate-corpus.sh OUT [COUNT] [FOLDER...]
set -euo pipefail
out=${1:?usage: validate-corpus.sh OUT [COUNT] [FOLDER...]}
count=${2:-1500}
shift $(( $# >= 2 ? 2 : 1 ))
folders=("$@")
[ ${#folders[@]} -gt 0 ] || folders=("${CARGO_HOME:-$HOME/.cargo}/registry/src")
mapfile -t files < <(find "${folders[@]}" -path '*/.github/workflows/*' \( -name '*.yml' -o -name '*.yaml' \) -type f | sort)
[ ${#files[@]} -gt 0 ] || { echo "no workflow files under ${folders[*]}" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
for ((i = 0; i < count; i++)); do
  cp "${files[i % ${#files[@]}]}" "$out/wf$(printf %04d "$i").yml"
done
echo "$out: $count files from ${#files[@]} distinct workflows, $(du -sh "$out" | cut -f1)"
