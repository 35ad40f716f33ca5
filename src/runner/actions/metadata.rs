//! `action.yml` of an action, read with the project's YAML reader: its inputs (defaults),
//! outputs (`value:` expressions of composite actions) and how it runs (`composite` steps, a
//! `docker` image with `entrypoint`, `args` and `env`, or a `node*` script with `pre`/`post`).
//! A folder with only a `Dockerfile` is a docker action without inputs. Problems name the file,
//! line and column.

use std::path::Path;

use crate::model::Step;
use crate::yaml::{self, Node};

pub struct Action {
    pub inputs: Vec<InputDef>,
    pub outputs: Vec<(String, Option<String>)>,
    pub runs: Runs,
}

pub struct InputDef {
    pub name: String,
    pub default: Option<String>,
    pub required: bool,
}

pub enum Runs {
    Composite(Vec<Step>),
    Docker {
        image: String,
        entrypoint: Option<String>,
        args: Vec<String>,
        env: Vec<(String, String)>,
    },
    /// A JavaScript action (`node12` ... `node24`).
    Node(NodeRuns),
    /// Any other `using`, which pipe cannot run.
    Other(String),
}

pub struct NodeRuns {
    pub using: String,
    pub main: String,
    pub pre: Option<String>,
    pub pre_if: Option<String>,
    pub post: Option<String>,
    pub post_if: Option<String>,
}

/// The action in `dir` (`shown` names it in messages): `action.yml`, `action.yaml`, else a lone
/// `Dockerfile`.
pub fn read_dir(dir: &Path, shown: &str) -> Result<Action, String> {
    let shown = shown.trim_end_matches('/');
    for file in ["action.yml", "action.yaml"] {
        if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
            return parse(&text, &format!("{shown}/{file}"));
        }
    }
    if dir.join("Dockerfile").is_file() {
        let runs =
            Runs::Docker { image: "Dockerfile".into(), entrypoint: None, args: Vec::new(), env: Vec::new() };
        return Ok(Action { inputs: Vec::new(), outputs: Vec::new(), runs });
    }
    Err(format!("no action.yml, action.yaml or Dockerfile in `{shown}`"))
}

pub fn parse(text: &str, file: &str) -> Result<Action, String> {
    let (root, diagnostics) = yaml::parse(text);
    if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
        return Err(format!("{file}:{}:{}: {}", d.span.start.line, d.span.start.col, d.message));
    }
    let root =
        root.filter(|r| r.as_map().is_some()).ok_or(format!("{file}: an action is a mapping with `runs`"))?;
    let at = |node: &Node, message: &str| {
        format!("{file}:{}:{}: {message}", node.span.start.line, node.span.start.col)
    };
    let inputs = entries(root.get("inputs"))
        .map(|(name, def)| InputDef {
            name: name.to_string(),
            default: def.get("default").and_then(Node::as_str).map(str::to_string),
            required: def.get("required").and_then(Node::as_str).is_some_and(|r| r == "true"),
        })
        .collect();
    let outputs = entries(root.get("outputs"))
        .map(|(name, def)| (name.to_string(), def.get("value").and_then(Node::as_str).map(str::to_string)))
        .collect();
    let runs = root.get("runs").ok_or(at(&root, "the action has no `runs`"))?;
    let using = runs.get("using").and_then(Node::as_str).ok_or(at(runs, "`runs` needs `using`"))?;
    let runs = match using {
        "composite" => {
            let steps = runs
                .get("steps")
                .and_then(Node::as_seq)
                .ok_or(at(runs, "a composite action needs `steps`"))?;
            let mut parsed = Vec::new();
            for node in steps {
                if node.as_map().is_none() {
                    return Err(at(node, "a step is a mapping"));
                }
                let step = crate::load::step(node);
                match (&step.run, &step.uses, &step.shell) {
                    (Some(_), Some(_), _) => {
                        return Err(at(node, "a step has either `run` or `uses`, not both"));
                    }
                    (None, None, _) => return Err(at(node, "a step needs `run` or `uses`")),
                    (Some(_), None, None) => {
                        return Err(at(node, "a `run` step of a composite action needs `shell`"));
                    }
                    _ => {}
                }
                parsed.push(step);
            }
            Runs::Composite(parsed)
        }
        "docker" => Runs::Docker {
            image: runs
                .get("image")
                .and_then(Node::as_str)
                .ok_or(at(runs, "a docker action needs `image`"))?
                .to_string(),
            entrypoint: runs.get("entrypoint").and_then(Node::as_str).map(str::to_string),
            args: runs
                .get("args")
                .and_then(Node::as_seq)
                .map(|a| a.iter().map(|n| n.as_str().unwrap_or_default().to_string()).collect())
                .unwrap_or_default(),
            env: entries(runs.get("env"))
                .map(|(k, v)| (k.to_string(), v.as_str().unwrap_or_default().to_string()))
                .collect(),
        },
        using if using.starts_with("node") => {
            let text = |key: &str| runs.get(key).and_then(Node::as_str).map(str::to_string);
            Runs::Node(NodeRuns {
                using: using.to_string(),
                main: text("main").ok_or(at(runs, "a JavaScript action needs `main`"))?,
                pre: text("pre"),
                pre_if: text("pre-if"),
                post: text("post"),
                post_if: text("post-if"),
            })
        }
        other => Runs::Other(other.to_string()),
    };
    Ok(Action { inputs, outputs, runs })
}

/// The `name: value` entries of a mapping (none when absent or not a mapping).
fn entries(node: Option<&Node>) -> impl Iterator<Item = (&str, &Node)> {
    node.and_then(Node::as_map).unwrap_or_default().iter().filter_map(|(k, v)| Some((k.as_str()?, v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_and_docker_actions() {
        let a = parse(
            "name: x\ninputs:\n  who:\n    default: world\n  must:\n    required: true\noutputs:\n  greeting:\n    value: ${{ steps.g.outputs.text }}\nruns:\n  using: composite\n  steps:\n    - id: g\n      run: echo hi\n      shell: bash\n    - uses: ./other\n",
            "action.yml",
        )
        .unwrap();
        assert_eq!(a.inputs[0].default.as_deref(), Some("world"));
        assert!(a.inputs[1].required);
        assert_eq!(a.outputs[0].1.as_deref(), Some("${{ steps.g.outputs.text }}"));
        assert!(matches!(&a.runs, Runs::Composite(s) if s.len() == 2));

        let d = parse(
            "runs:\n  using: docker\n  image: Dockerfile\n  args: [a, '${{ inputs.x }}']\n  env: {K: v}\n",
            "a.yml",
        )
        .unwrap();
        assert!(matches!(&d.runs, Runs::Docker { image, args, env, .. }
            if image == "Dockerfile" && args.len() == 2 && env[0] == ("K".to_string(), "v".to_string())));
    }

    #[test]
    fn problems_name_the_place() {
        let e =
            parse("runs:\n  using: composite\n  steps:\n    - run: echo\n", "a/action.yml").err().unwrap();
        assert_eq!(e, "a/action.yml:4:7: a `run` step of a composite action needs `shell`");
        assert!(parse("runs: {}\n", "f").err().unwrap().contains("needs `using`"));
        assert!(parse("a: [\n", "f").err().unwrap().starts_with("f:"));
        assert!(matches!(parse("runs: {using: node20, main: x.js, post: p.js}", "f").unwrap().runs,
                Runs::Node(n) if n.using == "node20" && n.main == "x.js" && n.post.as_deref() == Some("p.js") && n.pre.is_none()));
        assert!(parse("runs: {using: node20}", "f").err().unwrap().contains("needs `main`"));
        assert!(matches!(parse("runs: {using: go}", "f").unwrap().runs, Runs::Other(u) if u == "go"));
    }
}
