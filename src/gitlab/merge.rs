//! Node-tree merging shared by `include`, YAML merge keys and `extends`: GitLab's deep merge
//! (mappings merge key by key, anything else is replaced by the later value).

use crate::yaml::{Node, Value};

/// Merge `over` onto `base`: keys of `over` win; nested mappings merge recursively.
pub fn deep_merge(base: &Node, over: &Node) -> Node {
    match (&base.value, &over.value) {
        (Value::Map(b), Value::Map(o)) => {
            let mut entries: Vec<(Node, Node)> = b.clone();
            for (k, v) in o {
                match entries.iter_mut().find(|(bk, _)| same_key(bk, k)) {
                    Some((_, bv)) => *bv = deep_merge(bv, v),
                    None => entries.push((k.clone(), v.clone())),
                }
            }
            Node { value: Value::Map(entries), span: over.span, tag: over.tag.clone() }
        }
        _ => over.clone(),
    }
}

pub fn same_key(a: &Node, b: &Node) -> bool {
    matches!((a.as_scalar(), b.as_scalar()), (Some(x), Some(y)) if x.text == y.text)
}

/// Apply YAML merge keys (`<<: *base`, `<<: [*a, *b]`) everywhere in the tree: the merged
/// mappings give keys the mapping does not set itself (the earlier of several wins).
pub fn apply_merge_keys(node: &mut Node) {
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(apply_merge_keys),
        Value::Scalar(_) => {}
        Value::Map(entries) => {
            for (_, v) in entries.iter_mut() {
                apply_merge_keys(v);
            }
            if !entries.iter().any(|(k, _)| is_merge_key(k)) {
                return;
            }
            let mut own = Vec::new();
            let mut sources: Vec<Node> = Vec::new();
            for (k, v) in entries.drain(..) {
                if is_merge_key(&k) {
                    match &v.value {
                        Value::Seq(items) => sources.extend(items.iter().cloned()),
                        _ => sources.push(v),
                    }
                } else {
                    own.push((k, v));
                }
            }
            for source in sources {
                for (k, v) in source.as_map().unwrap_or(&[]) {
                    if !own.iter().any(|(ok, _)| same_key(ok, k)) {
                        own.push((k.clone(), v.clone()));
                    }
                }
            }
            *entries = own;
        }
    }
}

fn is_merge_key(k: &Node) -> bool {
    k.as_scalar().is_some_and(|s| s.text == "<<" && s.style == crate::yaml::Style::Plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        crate::yaml::parse_with(text, crate::yaml::Dialect::Gitlab).0.unwrap()
    }

    #[test]
    fn deep_merge_replaces_lists_and_merges_maps() {
        let a = parse("variables: {A: 1, B: 2}\nscript: [a]\n");
        let b = parse("variables: {B: 3}\nscript: [b]\n");
        let m = deep_merge(&a, &b);
        assert_eq!(m.get("variables").unwrap().get("A").unwrap().as_str(), Some("1"));
        assert_eq!(m.get("variables").unwrap().get("B").unwrap().as_str(), Some("3"));
        assert_eq!(m.get("script").unwrap().as_seq().unwrap()[0].as_str(), Some("b"));
    }

    #[test]
    fn merge_keys_fill_missing_keys_only() {
        let mut n = parse(".a: &a {x: 1, y: 2}\n.b: &b {z: 3}\njob:\n  <<: [*a, *b]\n  y: 9\n");
        apply_merge_keys(&mut n);
        let job = n.get("job").unwrap();
        assert_eq!(job.get("x").unwrap().as_str(), Some("1"));
        assert_eq!(job.get("y").unwrap().as_str(), Some("9"));
        assert_eq!(job.get("z").unwrap().as_str(), Some("3"));
        assert!(job.get("<<").is_none());
    }
}
