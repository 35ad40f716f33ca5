//! `--job ID` (repeatable): those jobs plus everything they transitively need.

use std::collections::HashMap;

use crate::Error;
use crate::diagnostic::did_you_mean;
use crate::model::Pipeline;

/// Which jobs (by position in the file) are kept; every job when `wanted` is empty.
pub fn select(p: &Pipeline, wanted: &[String]) -> Result<Vec<bool>, Error> {
    if wanted.is_empty() {
        return Ok(vec![true; p.jobs.len()]);
    }
    // The first job of an id wins (duplicates are a validation error anyway).
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(p.jobs.len());
    for (i, j) in p.jobs.iter().enumerate() {
        index.entry(j.id.as_str()).or_insert(i);
    }
    let mut keep = vec![false; p.jobs.len()];
    let mut stack = Vec::new();
    for id in wanted {
        match index.get(id.as_str()) {
            Some(&i) => stack.push(i),
            None => return Err(unknown(p, id)),
        }
    }
    // Iterative walk: no recursion depth to worry about, and a cycle just stops at seen jobs.
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut keep[i], true) {
            continue;
        }
        stack.extend(p.jobs[i].needs_ids().filter_map(|n| index.get(n).copied()));
    }
    Ok(keep)
}

fn unknown(p: &Pipeline, id: &str) -> Error {
    let ids = p.jobs.iter().map(|j| j.id.as_str());
    let hint = match did_you_mean(id, ids) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("jobs: {}", p.jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>().join(", ")),
    };
    Error::Usage { message: format!("--job {id}: no such job"), hint: Some(hint) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    fn pipeline() -> Pipeline {
        let yaml = "on: push\njobs:\n  lint:\n    runs-on: x\n    steps: [{run: x}]\n  test:\n    runs-on: x\n    steps: [{run: x}]\n  build:\n    needs: [lint, test]\n    runs-on: x\n    steps: [{run: x}]\n  deploy:\n    needs: build\n    runs-on: x\n    steps: [{run: x}]\n  docs:\n    runs-on: x\n    steps: [{run: x}]\n";
        crate::load::load(&Source::new("t.yml", yaml)).pipeline.expect("pipeline")
    }

    fn kept(wanted: &[&str]) -> Result<Vec<String>, String> {
        let p = pipeline();
        let wanted: Vec<String> = wanted.iter().map(|s| s.to_string()).collect();
        let keep = select(&p, &wanted).map_err(|e| format!("{e} ({})", e.hint().unwrap_or("")))?;
        Ok(p.jobs.iter().zip(keep).filter(|(_, k)| *k).map(|(j, _)| j.id.value.clone()).collect())
    }

    /// One row per case: `--job` values, kept jobs in file order (or the error).
    macro_rules! cases {
        ($($name:ident: [$($w:expr),*] => $want:expr;)+) => {
            $( #[test] fn $name() { assert_eq!(kept(&[$($w),*]), $want); } )+
        };
    }

    fn ids(v: &[&str]) -> Result<Vec<String>, String> {
        Ok(v.iter().map(|s| s.to_string()).collect())
    }

    cases! {
        all: [] => ids(&["lint", "test", "build", "deploy", "docs"]);
        leaf: ["lint"] => ids(&["lint"]);
        transitive: ["deploy"] => ids(&["lint", "test", "build", "deploy"]);
        several: ["docs", "build"] => ids(&["lint", "test", "build", "docs"]);
        repeated: ["docs", "docs"] => ids(&["docs"]);
        typo: ["biuld"] => Err("--job biuld: no such job (did you mean `build`?)".into());
        far_off: ["zzzzzz"] => Err("--job zzzzzz: no such job (jobs: lint, test, build, deploy, docs)".into());
    }
}
