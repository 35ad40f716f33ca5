//! Matrix expansion with GitHub's documented semantics ("Running variations of jobs in a
//! workflow"):
//!
//! 1. the cartesian product of the axes, first axis outermost (the docs' job order);
//! 2. `exclude` removes every combination it matches, partially (its keys only);
//! 3. each `include` entry is merged into every *original* combination where it overwrites no
//!    original axis value (values added by earlier includes may be overwritten); an entry that fits
//!    no original combination becomes a new combination of its own.
//!
//! Keys compare case-insensitively (the docs: `OS` and `os` are one variable); numbers compare by
//! value (`16` equals `16.0`). At most 256 combinations.

use serde_json::{Map, Value as Json};

/// GitHub's cap on the jobs of one matrix.
pub const MAX_JOBS: usize = 256;

/// Combinations the raw product may have before `exclude`: above this, expanding is refused
/// outright instead of allocating millions of maps that `exclude` would mostly remove.
const MAX_PRODUCT: usize = 65_536;

pub fn expand(
    axes: &[(String, Vec<Json>)],
    include: &[Map<String, Json>],
    exclude: &[Map<String, Json>],
) -> Result<Vec<Map<String, Json>>, String> {
    let product =
        axes.iter().try_fold(1usize, |acc, (_, values)| acc.checked_mul(values.len())).unwrap_or(usize::MAX);
    let has_axes = !axes.is_empty();
    if has_axes && product > MAX_PRODUCT {
        return Err(format!(
            "a matrix may have at most {MAX_JOBS} jobs (the axes make {product} combinations)"
        ));
    }
    let mut combos: Vec<Map<String, Json>> = if has_axes { vec![Map::new()] } else { Vec::new() };
    for (name, values) in axes {
        let mut next = Vec::with_capacity(combos.len() * values.len());
        for combo in &combos {
            for v in values {
                let mut c = combo.clone();
                c.insert(name.clone(), v.clone());
                next.push(c);
            }
        }
        combos = next;
    }
    combos.retain(|c| !exclude.iter().any(|ex| partial_match(c, ex)));

    let originals = combos.len();
    let axis_names: Vec<&str> = axes.iter().map(|(n, _)| n.as_str()).collect();
    for entry in include {
        let mut added = false;
        for combo in combos.iter_mut().take(originals) {
            if fits(combo, entry, &axis_names) {
                merge(combo, entry, &axis_names);
                added = true;
            }
        }
        if !added {
            combos.push(entry.clone());
        }
    }
    if combos.len() > MAX_JOBS {
        return Err(format!("a matrix may have at most {MAX_JOBS} jobs (this one has {})", combos.len()));
    }
    if combos.is_empty() {
        return Err("the matrix has no combinations (every one is excluded, or an axis is empty)".into());
    }
    Ok(combos)
}

/// Every key of `pattern` is in `combo` with an equal value.
fn partial_match(combo: &Map<String, Json>, pattern: &Map<String, Json>) -> bool {
    pattern.iter().all(|(k, v)| get(combo, k).is_some_and(|cv| same(cv, v)))
}

/// The include entry overwrites none of the combination's original axis values.
fn fits(combo: &Map<String, Json>, entry: &Map<String, Json>, axes: &[&str]) -> bool {
    entry.iter().all(|(k, v)| {
        let is_axis = axes.iter().any(|a| a.eq_ignore_ascii_case(k));
        !is_axis || get(combo, k).is_none_or(|cv| same(cv, v))
    })
}

/// Add or overwrite the entry's keys, keeping an existing key's spelling and position. Original
/// axis values stay as they are (they are equal anyway, but may be spelt `16` vs `16.0`).
fn merge(combo: &mut Map<String, Json>, entry: &Map<String, Json>, axes: &[&str]) {
    for (k, v) in entry.iter().filter(|(k, _)| !axes.iter().any(|a| a.eq_ignore_ascii_case(k))) {
        match combo.keys().find(|ck| ck.eq_ignore_ascii_case(k)).cloned() {
            Some(existing) => {
                combo.insert(existing, v.clone());
            }
            None => {
                combo.insert(k.clone(), v.clone());
            }
        }
    }
}

fn get<'a>(map: &'a Map<String, Json>, key: &str) -> Option<&'a Json> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// JSON equality where numbers compare by value.
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// The display name of a leg as GitHub shows it: `test (linux, 3.12)`. The values come in the
/// combination's order (axes, then included keys); objects and arrays contribute their values in
/// order. A `name:` with an expression is left alone: it names each leg itself at run time.
pub fn leg_name(job_name: &str, combo: &Map<String, Json>) -> String {
    if job_name.contains("${{") || combo.is_empty() {
        return job_name.to_string();
    }
    let mut values = Vec::new();
    for v in combo.values() {
        flatten(v, &mut values);
    }
    format!("{job_name} ({})", values.join(", "))
}

fn flatten(v: &Json, out: &mut Vec<String>) {
    match v {
        Json::Null => out.push(String::new()),
        Json::String(s) => out.push(s.clone()),
        Json::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        Json::Object(m) => m.values().for_each(|i| flatten(i, out)),
        other => out.push(other.to_string()),
    }
}

/// A matrix computed by an expression (`matrix: ${{ fromJSON(needs.setup.outputs.matrix) }}`):
/// split into axes, `include` and `exclude`, then expanded like a written one.
pub fn expand_value(value: &Json) -> Result<Vec<Map<String, Json>>, String> {
    let Json::Object(m) = value else {
        return Err(format!("a matrix must evaluate to a mapping, got {value}"));
    };
    let field = |key: &str| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v);
    let mut axes = Vec::new();
    for (k, v) in m {
        if k.eq_ignore_ascii_case("include") || k.eq_ignore_ascii_case("exclude") {
            continue;
        }
        match v {
            Json::Array(values) => axes.push((k.clone(), values.clone())),
            other => return Err(format!("matrix axis `{k}` must be a list, got {other}")),
        }
    }
    let include = field("include").map_or(Ok(Vec::new()), |v| rows_of(v, "include"))?;
    let exclude = field("exclude").map_or(Ok(Vec::new()), |v| rows_of(v, "exclude"))?;
    expand(&axes, &include, &exclude)
}

/// An evaluated `include`/`exclude`: a list of mappings (null: none).
pub fn rows_of(value: &Json, key: &str) -> Result<Vec<Map<String, Json>>, String> {
    match value {
        Json::Null => Ok(Vec::new()),
        Json::Array(items) => items
            .iter()
            .map(|i| i.as_object().cloned().ok_or_else(|| format!("matrix `{key}` entries must be mappings")))
            .collect(),
        other => Err(format!("matrix `{key}` must be a list, got {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Json) -> Map<String, Json> {
        match v {
            Json::Object(m) => m,
            _ => Map::new(),
        }
    }

    /// Parse `{axes: {..}, include: [..], exclude: [..]}` and expand it.
    fn run(spec: Json) -> Result<Vec<Json>, String> {
        let axes: Vec<(String, Vec<Json>)> = spec["axes"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_array().cloned().unwrap_or_default())).collect())
            .unwrap_or_default();
        let rows = |key: &str| -> Vec<Map<String, Json>> {
            spec[key].as_array().map(|a| a.iter().cloned().map(map).collect()).unwrap_or_default()
        };
        expand(&axes, &rows("include"), &rows("exclude")).map(|v| v.into_iter().map(Json::Object).collect())
    }

    /// One row per case: the matrix, then the expected combinations in order (or an error).
    macro_rules! cases {
        ($($name:ident: $spec:expr => $want:expr;)+) => {
            $(
                #[test]
                fn $name() {
                    let got = run($spec);
                    let want: Result<Json, String> = $want;
                    assert_eq!(got.map(Json::Array), want);
                }
            )+
        };
    }

    cases! {
        // The docs: "version: [10, 12, 14], os: [ubuntu-latest, windows-latest]" and its job order.
        docs_order: json!({"axes": {"version": [10, 12, 14], "os": ["ubuntu-latest", "windows-latest"]}})
            => Ok(json!([
                {"version": 10, "os": "ubuntu-latest"}, {"version": 10, "os": "windows-latest"},
                {"version": 12, "os": "ubuntu-latest"}, {"version": 12, "os": "windows-latest"},
                {"version": 14, "os": "ubuntu-latest"}, {"version": 14, "os": "windows-latest"},
            ]));
        single_axis: json!({"axes": {"version": [10, 12, 14]}})
            => Ok(json!([{"version": 10}, {"version": 12}, {"version": 14}]));
        // The docs' fruit/animal example: six jobs.
        docs_fruit: json!({
            "axes": {"fruit": ["apple", "pear"], "animal": ["cat", "dog"]},
            "include": [
                {"color": "green"},
                {"color": "pink", "animal": "cat"},
                {"fruit": "apple", "shape": "circle"},
                {"fruit": "banana"},
                {"fruit": "banana", "animal": "cat"},
            ]})
            => Ok(json!([
                {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
                {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
                {"fruit": "pear", "animal": "cat", "color": "pink"},
                {"fruit": "pear", "animal": "dog", "color": "green"},
                {"fruit": "banana"},
                {"fruit": "banana", "animal": "cat"},
            ]));
        // The docs: os × node with an extra `npm` on one combination.
        docs_expand_npm: json!({
            "axes": {"os": ["windows-latest", "ubuntu-latest"], "node": [12, 14, 16]},
            "include": [{"os": "windows-latest", "node": 16, "npm": 6}]})
            => Ok(json!([
                {"os": "windows-latest", "node": 12}, {"os": "windows-latest", "node": 14},
                {"os": "windows-latest", "node": 16, "npm": 6},
                {"os": "ubuntu-latest", "node": 12}, {"os": "ubuntu-latest", "node": 14},
                {"os": "ubuntu-latest", "node": 16},
            ]));
        // The docs: 9 combinations plus windows/17.
        docs_add_combination: json!({
            "axes": {"os": ["macos-latest", "windows-latest", "ubuntu-latest"], "version": [12, 14, 16]},
            "include": [{"os": "windows-latest", "version": 17}]})
            => Ok(json!([
                {"os": "macos-latest", "version": 12}, {"os": "macos-latest", "version": 14},
                {"os": "macos-latest", "version": 16}, {"os": "windows-latest", "version": 12},
                {"os": "windows-latest", "version": 14}, {"os": "windows-latest", "version": 16},
                {"os": "ubuntu-latest", "version": 12}, {"os": "ubuntu-latest", "version": 14},
                {"os": "ubuntu-latest", "version": 16}, {"os": "windows-latest", "version": 17},
            ]));
        // The docs: include only.
        docs_include_only: json!({"include": [
                {"site": "production", "datacenter": "site-a"},
                {"site": "staging", "datacenter": "site-b"}]})
            => Ok(json!([
                {"site": "production", "datacenter": "site-a"},
                {"site": "staging", "datacenter": "site-b"},
            ]));
        // The docs' perl example: five ubuntu jobs and two macos.
        docs_perl: json!({
            "axes": {"os": ["ubuntu-latest"], "perl": ["5.16", "5.20", "5.26", "5.30", "latest"]},
            "include": [{"os": "macos-latest", "perl": "5.26"}, {"os": "macos-latest", "perl": "latest"}]})
            => Ok(json!([
                {"os": "ubuntu-latest", "perl": "5.16"}, {"os": "ubuntu-latest", "perl": "5.20"},
                {"os": "ubuntu-latest", "perl": "5.26"}, {"os": "ubuntu-latest", "perl": "5.30"},
                {"os": "ubuntu-latest", "perl": "latest"},
                {"os": "macos-latest", "perl": "5.26"}, {"os": "macos-latest", "perl": "latest"},
            ]));
        // The docs' exclude example: 12 - 1 - 2 = 9 jobs.
        docs_exclude: json!({
            "axes": {"os": ["macos-latest", "windows-latest"], "version": [12, 14, 16],
                     "environment": ["staging", "production"]},
            "exclude": [{"os": "macos-latest", "version": 12, "environment": "production"},
                        {"os": "windows-latest", "version": 16}]})
            => Ok(json!([
                {"os": "macos-latest", "version": 12, "environment": "staging"},
                {"os": "macos-latest", "version": 14, "environment": "staging"},
                {"os": "macos-latest", "version": 14, "environment": "production"},
                {"os": "macos-latest", "version": 16, "environment": "staging"},
                {"os": "macos-latest", "version": 16, "environment": "production"},
                {"os": "windows-latest", "version": 12, "environment": "staging"},
                {"os": "windows-latest", "version": 12, "environment": "production"},
                {"os": "windows-latest", "version": 14, "environment": "staging"},
                {"os": "windows-latest", "version": 14, "environment": "production"},
            ]));
        // The docs: include runs after exclude, so it can add back an excluded combination.
        include_adds_back_excluded: json!({
            "axes": {"os": ["a", "b"], "v": [1, 2]},
            "exclude": [{"os": "b", "v": 2}],
            "include": [{"os": "b", "v": 2}]})
            => Ok(json!([{"os": "a", "v": 1}, {"os": "a", "v": 2}, {"os": "b", "v": 1}, {"os": "b", "v": 2}]));
        exclude_partial_single_key: json!({"axes": {"os": ["a", "b"], "v": [1, 2]}, "exclude": [{"os": "a"}]})
            => Ok(json!([{"os": "b", "v": 1}, {"os": "b", "v": 2}]));
        exclude_unknown_key_matches_nothing: json!({"axes": {"os": ["a"]}, "exclude": [{"arch": "x"}]})
            => Ok(json!([{"os": "a"}]));
        // Later includes may overwrite values added by earlier ones, never original ones.
        include_overwrites_added_only: json!({
            "axes": {"os": ["a"]},
            "include": [{"extra": 1}, {"extra": 2}, {"os": "b", "extra": 3}]})
            => Ok(json!([{"os": "a", "extra": 2}, {"os": "b", "extra": 3}]));
        // A new combination from include is not extended by later includes.
        include_new_not_extended: json!({
            "axes": {"os": ["a"]},
            "include": [{"os": "z"}, {"os": "z", "x": 1}]})
            => Ok(json!([{"os": "a"}, {"os": "z"}, {"os": "z", "x": 1}]));
        object_values: json!({
            "axes": {"cfg": [{"cc": "gcc", "v": 12}, {"cc": "clang", "v": 17}]},
            "exclude": [{"cfg": {"cc": "clang", "v": 17}}]})
            => Ok(json!([{"cfg": {"cc": "gcc", "v": 12}}]));
        keys_case_insensitive: json!({
            "axes": {"os": ["a", "b"]},
            "include": [{"OS": "a", "x": 1}],
            "exclude": [{"Os": "b"}]})
            => Ok(json!([{"os": "a", "x": 1}]));
        numbers_by_value: json!({"axes": {"v": [16]}, "include": [{"v": 16.0, "x": 1}]})
            => Ok(json!([{"v": 16, "x": 1}]));
        all_excluded: json!({"axes": {"os": ["a"]}, "exclude": [{"os": "a"}]})
            => Err("the matrix has no combinations (every one is excluded, or an axis is empty)".into());
        empty_axis: json!({"axes": {"os": []}})
            => Err("the matrix has no combinations (every one is excluded, or an axis is empty)".into());
        empty_axis_with_include: json!({"axes": {"os": []}, "include": [{"os": "x"}]})
            => Ok(json!([{"os": "x"}]));
        too_many: json!({"axes": {"a": (0..16).collect::<Vec<_>>(), "b": (0..17).collect::<Vec<_>>()}})
            => Err("a matrix may have at most 256 jobs (this one has 272)".into());
        huge_product_refused: json!({"axes": {
            "a": (0..100).collect::<Vec<_>>(), "b": (0..100).collect::<Vec<_>>(), "c": (0..100).collect::<Vec<_>>()}})
            => Err("a matrix may have at most 256 jobs (the axes make 1000000 combinations)".into());
    }

    #[test]
    fn cap_counts_jobs_after_exclude_and_include() {
        let sixteen: Vec<u32> = (0..16).collect();
        let seventeen: Vec<u32> = (0..17).collect();
        let count = |spec: Json| run(spec).map(|v| v.len());
        assert_eq!(count(json!({"axes": {"a": sixteen, "b": sixteen}})), Ok(256));
        assert_eq!(count(json!({"axes": {"a": sixteen, "b": seventeen}, "exclude": [{"b": 16}]})), Ok(256));
        assert!(count(json!({"axes": {"a": sixteen, "b": sixteen}, "include": [{"a": 99}]})).is_err());
    }

    #[test]
    fn leg_names() {
        assert_eq!(leg_name("test", &map(json!({"os": "linux", "py": "3.12"}))), "test (linux, 3.12)");
        assert_eq!(leg_name("test", &map(json!({"v": 3.1, "ok": true}))), "test (3.1, true)");
        assert_eq!(
            leg_name("build", &map(json!({"cfg": {"cc": "gcc", "v": 12}, "x": [1, 2]}))),
            "build (gcc, 12, 1, 2)"
        );
        assert_eq!(leg_name("T ${{ matrix.os }}", &map(json!({"os": "a"}))), "T ${{ matrix.os }}");
        assert_eq!(leg_name("t", &Map::new()), "t");
    }
}
