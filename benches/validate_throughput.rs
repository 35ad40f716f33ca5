//! Validation throughput: generates 1,500 realistic workflow files, validates them all through
//! the same code as `pipe validate`, and prints files/second and peak resident memory.
//! Goal on a 2-core machine: ≥ 5,000 files/s and ≤ 50 MB peak RSS.  Run: cargo bench --bench validate_throughput

use std::time::Instant;

fn workflow(i: usize) -> String {
    let mut s = format!(
        "name: service-{i}\non:\n  push:\n    branches: [main, 'release/**']\n  pull_request:\n    paths: ['src/**', '!docs/**']\n\
         env:\n  APP: svc{i}\n  REGISTRY: registry.local\n\njobs:\n"
    );
    for g in ["lint", "test", "scan"] {
        s.push_str(&format!(
            "  {g}:\n    runs-on: ubuntu-latest\n    timeout-minutes: 15\n    steps:\n      - uses: actions/checkout@v4\n      - name: {g}\n        run: |\n          make {g}\n          echo \"done ${{{{ github.sha }}}}\"\n"
        ));
    }
    s.push_str(
        "  test-matrix:\n    runs-on: ubuntu-latest\n    strategy:\n      fail-fast: false\n      matrix:\n        os: [linux, mac]\n        py: ['3.11', '3.12']\n        exclude:\n          - os: mac\n            py: '3.11'\n    steps:\n      - run: make test PY=${{ matrix.py }}\n",
    );
    s.push_str(
        "  build:\n    needs: [lint, test, scan, test-matrix]\n    runs-on: ubuntu-latest\n    outputs:\n      image: ${{ steps.meta.outputs.image }}\n    steps:\n      - id: meta\n        run: echo \"image=$REGISTRY/$APP:$GITHUB_SHA\" >> \"$GITHUB_OUTPUT\"\n      - run: docker build -t ${{ steps.meta.outputs.image }} .\n",
    );
    for (env, needs) in [("staging", "build"), ("production", "build, deploy-staging")] {
        s.push_str(&format!(
            "  deploy-{env}:\n    needs: [{needs}]\n    runs-on: ubuntu-latest\n    environment:\n      name: {env}\n      url: https://{env}.example.com\n    concurrency: deploy-{env}\n    steps:\n      - run: ./deploy.sh {env} ${{{{ needs.build.outputs.image }}}}\n        env:\n          TOKEN: ${{{{ secrets.DEPLOY_TOKEN }}}}\n"
        ));
    }
    s
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    const FILES: usize = 1_500;
    let dir = std::env::temp_dir().join(format!("pipe-bench-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let paths: Vec<_> = (0..FILES)
        .map(|i| {
            let p = dir.join(format!("wf{i:04}.yml"));
            std::fs::write(&p, workflow(i)).expect("write");
            p
        })
        .collect();
    let rss_before = peak_rss_kib().unwrap_or(0);
    let start = Instant::now();
    let mut problems = 0;
    for p in &paths {
        let text = std::fs::read_to_string(p).expect("read");
        let checked = pipe::validate::check_source(pipe::source::Source::new(p.display().to_string(), text));
        problems += checked.errors();
    }
    let elapsed = start.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(problems, 0, "the generated workflows should be valid");
    let rate = FILES as f64 / elapsed.as_secs_f64();
    let rss = peak_rss_kib().unwrap_or(0);
    println!(
        "validate: {FILES} files in {:.1} ms = {rate:.0} files/s (goal >= 5000)",
        elapsed.as_secs_f64() * 1e3
    );
    println!(
        "peak RSS: {:.1} MB (before validating: {:.1} MB; goal <= 50 MB)",
        rss as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
}
