//! `scripts/known-actions.py`, which generates pipe's table of popular actions, reads real-shaped
//! `action.yml` files (folded descriptions with colons, comments, quoted names, required inputs
//! with and without defaults) into the table's line format.

use std::path::Path;
use std::process::Command;

#[test]
fn the_generator_turns_action_yml_files_into_table_lines() {
    let dir = tempfile::tempdir().unwrap();
    let action = dir.path().join("from/acme/tool/sub");
    std::fs::create_dir_all(&action).unwrap();
    std::fs::write(
        action.join("action.yml"),
        "name: 'Tool'\ndescription: 'Does: things'\ninputs:\n  token:\n    description: >\n      A token. See: https://example.com/docs\n      default: not a key\n    default: ${{ github.token }}\n  'path':\n    description: 'Where'\n    required: true\n  key:\n    required: true\n    default: 'k' # has a default\n  empty: {}\n# a comment at the top level\noutputs:\n  result:\n    description: The result\nruns:\n  using: node20\n  main: index.js\n",
    )
    .unwrap();
    let list = dir.path().join("list");
    std::fs::write(&list, "# comment\nacme/tool/sub@v2   v1,v2\n").unwrap();
    let out = dir.path().join("table.tsv");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/known-actions.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg("--list")
        .arg(&list)
        .arg("--from")
        .arg(dir.path().join("from"))
        .arg("--out")
        .arg(&out)
        .status();
    match status {
        Ok(s) => assert!(s.success()),
        Err(e) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but no python3: {e}");
            eprintln!("skipping: no python3 ({e})");
            return;
        }
    }
    let table = std::fs::read_to_string(&out).unwrap();
    let line = table.lines().find(|l| !l.starts_with('#')).unwrap();
    assert_eq!(line, "acme/tool/sub\tv1,v2\ttoken !path key empty\tresult");
}

/// The committed table is what the generator writes for its list (one line per entry).
#[test]
fn the_committed_table_has_a_line_per_listed_action() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let list = std::fs::read_to_string(root.join("scripts/known-actions.list")).unwrap();
    let table = std::fs::read_to_string(root.join("src/validate/known_actions.tsv")).unwrap();
    let listed: Vec<String> = list
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next().unwrap().split('@').next().unwrap().to_ascii_lowercase();
            format!("{name}\t{}", w.next().unwrap())
        })
        .collect();
    let lines: Vec<String> = table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.splitn(3, '\t').take(2).collect::<Vec<_>>().join("\t"))
        .collect();
    assert_eq!(lines, listed);
}
