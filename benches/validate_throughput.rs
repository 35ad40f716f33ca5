//! Validation throughput: validates 1,500 workflow files through the same code as
//! `pipe validate` (all cores, action metadata looked up once per action), and prints
//! files/second and peak resident memory. The files are the folder named by
//! `PIPE_BENCH_CORPUS` (e.g. made by `scripts/validate-corpus.sh`: real-world workflows), else
//! generated ones. Goal: ≥ 5 × actionlint's speed on the same files (its 1.17.0 checks 1,500
//! real-world workflows in about 0.33 s on 2 cores, so ≥ 22,000 files/s) and ≤ 30 MiB peak RSS.
//! Uses the CLI's allocator. Run: cargo bench --bench validate_throughput

use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    let corpus = std::env::var_os("PIPE_BENCH_CORPUS").map(std::path::PathBuf::from);
    let generated = corpus.is_none();
    let dir = corpus
        .unwrap_or_else(|| std::env::temp_dir().join(format!("pipe-bench-validate-{}", std::process::id())));
    let paths: Vec<_> = if generated {
        std::fs::create_dir_all(&dir).expect("temp dir");
        (0..1_500)
            .map(|i| {
                let p = dir.join(format!("wf{i:04}.yml"));
                std::fs::write(&p, workflow(i)).expect("write");
                p
            })
            .collect()
    } else {
        let mut v: Vec<_> =
            std::fs::read_dir(&dir).expect("corpus").map(|e| e.expect("entry").path()).collect();
        v.sort();
        v
    };
    const FILES_GOAL: f64 = 22_000.0;
    let files = paths.len();
    let rss_before = peak_rss_kib().unwrap_or(0);
    let start = Instant::now();
    let fetcher =
        pipe::fetch::Fetcher::new(pipe::fetch::Sources { source: None, local: Vec::new(), offline: true });
    let catalog = pipe::validate::actions::Catalog::new(dir.clone(), &fetcher);
    let batch = pipe::validate::batch::Batch {
        config: None,
        syntax: pipe::gitlab::Syntax::Auto,
        calls: pipe::reusable::Lookup { base: &dir, fetcher: Some(&fetcher), fetch: false },
        catalog: &catalog,
        shellcheck: None,
        want_shellcheck: false,
    };
    let (results, _) = batch.check(&paths);
    let problems: usize = results.iter().map(|r| r.as_ref().map_or(1, |c| c.errors())).sum();
    let elapsed = start.elapsed();
    if generated {
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(problems, 0, "the generated workflows should be valid");
    }
    let rate = files as f64 / elapsed.as_secs_f64();
    let rss = peak_rss_kib().unwrap_or(0);
    println!(
        "validate: {files} files in {:.1} ms = {rate:.0} files/s (goal >= {FILES_GOAL}), {problems} error(s)",
        elapsed.as_secs_f64() * 1e3
    );
    println!(
        "peak RSS: {:.1} MiB (before validating: {:.1} MiB; goal <= 30 MiB)",
        rss as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
    // For scripts/bench.sh: one table line each.
    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!(
        "@figure | validate throughput | {rate:.0} files/s | >= {FILES_GOAL} files/s | {}",
        verdict(rate >= FILES_GOAL)
    );
    let mb = rss as f64 / 1024.0;
    println!(
        "@figure | validate peak RSS ({files} files) | {mb:.1} MiB | <= 30 MiB | {}",
        verdict(mb <= 30.0)
    );
}
