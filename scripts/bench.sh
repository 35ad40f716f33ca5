#!/usr/bin/env bash
# Every performance figure of pipe in one table, each with its goal.
#
#   scripts/bench.sh            # all benchmarks (release build), then the table on stdout
#
# Runs the benchmarks of benches/ in one `cargo bench` (their own text goes to stderr as they
# run) and collects the `@figure | name | value | goal | verdict` lines they print. The Docker
# rows say `skipped` (with the reason) when no daemon or test image is there
# (scripts/test-images.sh loads the images); the Podman rows likewise when Podman's API socket
# does not answer. About 3 minutes on 2 cores once built.
set -euo pipefail
cd "$(dirname "$0")/.."

benches=(validate_throughput expr_throughput plan_10k large_graph run_overhead output_throughput docker_overhead)
args=()
for b in "${benches[@]}"; do
    args+=(--bench "$b")
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
started=$(date +%s)
cargo bench "${args[@]}" | tee "$log" >&2
# The Docker figures again against Podman's Docker-compatible API, when its socket answers
# (scripts/podman-service.sh ensure && scripts/podman-service.sh load-images).
if [ "$(id -u)" -eq 0 ]; then
    podman_socket=/run/podman/podman.sock
else
    podman_socket="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/podman/podman.sock"
fi
if curl -fsS --max-time 2 --unix-socket "$podman_socket" http://podman/_ping >/dev/null 2>&1; then
    DOCKER_HOST="unix://$podman_socket" cargo bench --bench docker_overhead | tee -a "$log" >&2
else
    echo "@figure | podman step exec and job setup | skipped: no Podman API on $podman_socket | <= 1.3x / 1.2x | skipped" >>"$log"
fi
took=$(($(date +%s) - started))

grep '^@figure' "$log" | awk -F' [|] ' -v took="$took" '
    { # A long value (an error message) is cut: the whole of it is in the benchmark text above.
      if (length($3) > 60) $3 = substr($3, 1, 57) "..."
      name[NR] = $2; value[NR] = $3; goal[NR] = $4; verdict[NR] = $5
      for (i = 2; i <= 5; i++) if (length($i) > w[i]) w[i] = length($i) }
    END {
        if (w[2] < 6) w[2] = 6; if (w[3] < 5) w[3] = 5; if (w[4] < 4) w[4] = 4
        fmt = "%-" w[2] "s  %-" w[3] "s  %-" w[4] "s  %s\n"
        printf fmt, "figure", "value", "goal", "verdict"
        rule = ""; for (i = 0; i < w[2] + w[3] + w[4] + 13; i++) rule = rule "-"
        print rule
        for (i = 1; i <= NR; i++) printf fmt, name[i], value[i], goal[i], verdict[i]
        printf "\n%d figures; benchmarks (with the build) took %d s\n", NR, took
    }'
