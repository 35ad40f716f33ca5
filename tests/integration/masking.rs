//! Secrets never reach a file of the state dir, its file names, the events or the terminal: not
//! split across the 64 KiB piece boundary of a long line, not in a cache key, not as an artifact
//! name.

use std::path::{Path, PathBuf};

use crate::run_host::{Exec, both_backends, run_pipeline};

const SECRET: &str = "Sec-r3t-Value-77";

/// Every file and folder under `root`.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root).into_iter().flatten().flatten() {
        out.push(e.path());
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        }
    }
    out
}

/// Fails when any part of the secret longer than 5 bytes is in a name or a file under `state`.
fn assert_nowhere(state: &Path, also: &str) {
    let pieces: Vec<&str> = (0..=SECRET.len() - 6).map(|i| &SECRET[i..i + 6]).collect();
    let files = walk(state);
    assert!(!files.is_empty(), "no state in {}", state.display());
    for path in files {
        let name = path.to_string_lossy().to_string();
        let text = if path.is_file() {
            String::from_utf8_lossy(&std::fs::read(&path).unwrap()).to_string()
        } else {
            String::new()
        };
        for p in &pieces {
            assert!(!name.contains(p), "`{p}` in the file name {name}");
            assert!(!text.contains(p), "`{p}` in {name}");
        }
    }
    for p in &pieces {
        assert!(!also.contains(p), "`{p}` in the output");
    }
}

both_backends! {
    fn a_secret_across_the_64k_piece_boundary_is_masked(exec) {
        // 65,533 bytes, then the secret: the first 64 KiB piece would end 3 bytes into it.
        let r = run_pipeline(exec, r#"
on: push
jobs:
  long:
    runs-on: x
    steps:
      - run: |
          head -c 65533 /dev/zero | tr '\0' a
          printf '%s\n' "$S"
        env:
          S: ${{ secrets.S }}
"#, &["--secret", &format!("S={SECRET}")]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_nowhere(&r.dir.path().join(".pipe"), &format!("{}{}", r.stdout, r.stderr));
        let lines = r.output_lines("long").concat();
        assert_eq!(lines, format!("{}***", "a".repeat(65533)));
    }
}

#[test]
fn a_secret_in_a_cache_key_or_an_artifact_name_is_never_written() {
    let r = run_pipeline(
        Exec::Host,
        r#"
on: push
jobs:
  cache:
    runs-on: x
    steps:
      - uses: actions/cache@v4
        with:
          path: deps
          key: deps-${{ secrets.S }}-1
      - run: mkdir -p deps && echo x > deps/file
  artifact:
    runs-on: x
    steps:
      - run: echo x > out.txt
      - uses: actions/upload-artifact@v4
        with:
          name: build-${{ secrets.S }}
          path: out.txt
"#,
        &["--secret", &format!("S={SECRET}")],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.job("cache")["result"], "success");
    assert_eq!(r.job("artifact")["result"], "failure");
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("holds a secret; artifact names become folder names"), "{all}");
    let state = r.dir.path().join(".pipe");
    let entries: Vec<PathBuf> = walk(&state).into_iter().filter(|p| p.ends_with("entry.json")).collect();
    assert_eq!(entries.len(), 1, "one cache entry");
    let entry: serde_json::Value = serde_json::from_slice(&std::fs::read(&entries[0]).unwrap()).unwrap();
    assert_eq!(entry["key"], "deps-***-1");
    assert_nowhere(&state, &all);
}
