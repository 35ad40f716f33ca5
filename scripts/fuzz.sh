#!/usr/bin/env bash
# Fuzz the YAML loader + validator (`workflow`) and the expression parser + evaluator
# (`expression`) with libFuzzer. Needs the nightly toolchain (`rustup toolchain install nightly`).
#
#   scripts/fuzz.sh            # 60 s per target (what CI runs)
#   scripts/fuzz.sh 3600       # a long run: one hour per target
#   scripts/fuzz.sh 600 expression
#
# The targets live in fuzz/ in cargo-fuzz's layout, so `cargo fuzz run workflow` works too for
# those who have cargo-fuzz; this script builds them with the same instrumentation without it.
# The corpus starts from the repository's own pipelines and fixtures and grows in
# fuzz/corpus/ (kept between runs). A finding stops the run with its input saved under
# fuzz/artifacts/ and a non-zero exit; each target's last line says how many inputs it tried.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(workflow expression)

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: the nightly toolchain is missing: rustup toolchain install nightly" >&2
    exit 2
fi

# The coverage instrumentation libFuzzer needs (what cargo-fuzz passes, without a sanitizer:
# pipe has no unsafe code of its own). An explicit --target keeps build scripts uninstrumented.
host=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
echo "fuzz: building the targets (release, nightly; the first build takes several minutes)"
started=$(date +%s)
cargo +nightly build --locked --release --manifest-path fuzz/Cargo.toml --target "$host" --bins
echo "fuzz: built in $(( $(date +%s) - started )) s"
bin="fuzz/target/$host/release"

corpus=fuzz/corpus
seed() {
    local dir="$corpus/workflow" n=0 f
    mkdir -p "$dir" "$corpus/expression"
    # One byte in front picks the front end: 0 GitHub, 1 GitLab.
    while IFS= read -r -d '' f; do
        n=$((n + 1))
        case "$f" in
            *gitlab*) { printf '\001'; cat "$f"; } > "$dir/seed-$n" ;;
            *) { printf '\000'; cat "$f"; } > "$dir/seed-$n" ;;
        esac
    done < <(find pipelines tests/fixtures -name '*.yml' -print0 2>/dev/null)
    # Every `${{ }}` of those files, one per seed.
    find pipelines tests/fixtures -name '*.yml' -print0 2>/dev/null \
        | xargs -0 grep -ohE '\$\{\{[^}]*\}\}' | sort -u | head -2000 \
        | { n=0; while IFS= read -r e; do
            n=$((n + 1))
            printf '%s' "${e:3:${#e}-5}" > "$corpus/expression/seed-$n"
        done; }
}
[ -d "$corpus/workflow" ] || seed

status=0
mkdir -p fuzz/artifacts
for t in "${targets[@]}"; do
    echo "fuzz: $t for ${seconds} s"
    log="fuzz/target/fuzz-$t.log"
    mkdir -p "fuzz/artifacts/$t"
    # -rss_limit_mb: an input that needs more memory than this is a finding too.
    if "$bin/$t" "$corpus/$t" -artifact_prefix="fuzz/artifacts/$t/" \
        -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
        >"$log" 2>&1; then
        runs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1)
        echo "fuzz: $t: no finding; ${runs:-see $log}"
    else
        echo "fuzz: $t: FINDING; the last lines of $log:"
        tail -40 "$log"
        status=1
    fi
done
exit $status
