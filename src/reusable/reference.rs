//! What a job's `uses:` names: a workflow file of this repository (`./.github/workflows/x.yml`)
//! or of another one (`owner/repo/.github/workflows/x.yml@ref`).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A path from the repository root, as written (starting with `./`).
    Local {
        path: String,
    },
    Remote {
        owner: String,
        repo: String,
        path: String,
        git_ref: String,
    },
}

pub fn parse(uses: &str) -> Result<Reference, String> {
    let uses = uses.trim();
    let workflow_file = |p: &str| p.ends_with(".yml") || p.ends_with(".yaml");
    if let Some(rest) = uses.strip_prefix("./") {
        if uses.contains('@') {
            return Err(format!(
                "`{uses}`: a workflow of this repository takes no `@ref` (it is the working tree's version)"
            ));
        }
        if rest.is_empty() || !workflow_file(rest) {
            return Err(format!("`{uses}`: a reusable workflow is a `.yml` or `.yaml` file"));
        }
        return Ok(Reference::Local { path: uses.to_string() });
    }
    let Some((target, git_ref)) = uses.rsplit_once('@') else {
        return Err(format!(
            "`{uses}`: call a workflow of this repository as `./.github/workflows/FILE.yml`, \
             or of another as `owner/repo/.github/workflows/FILE.yml@ref`"
        ));
    };
    let mut parts = target.splitn(3, '/');
    let (owner, repo, path) = (parts.next(), parts.next(), parts.next());
    match (owner, repo, path) {
        (Some(o), Some(r), Some(p))
            if !o.is_empty() && !r.is_empty() && workflow_file(p) && !git_ref.is_empty() =>
        {
            Ok(Reference::Remote {
                owner: o.to_string(),
                repo: r.to_string(),
                path: p.to_string(),
                git_ref: git_ref.to_string(),
            })
        }
        _ => Err(format!(
            "`{uses}`: a remote reusable workflow is `owner/repo/.github/workflows/FILE.yml@ref`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(p: &str) -> Result<Reference, String> {
        Ok(Reference::Local { path: p.into() })
    }

    fn remote(o: &str, r: &str, p: &str, g: &str) -> Result<Reference, String> {
        Ok(Reference::Remote { owner: o.into(), repo: r.into(), path: p.into(), git_ref: g.into() })
    }

    /// One row per case: the `uses:` value and what it names (or whether it is refused).
    macro_rules! cases {
        ($($name:ident: $uses:expr => $want:expr;)+) => {
            $( #[test] fn $name() { assert_eq!(parse($uses).map_err(|_| ()), $want.map_err(|_: String| ())); } )+
        };
    }

    cases! {
        local_file: "./.github/workflows/build.yml" => local("./.github/workflows/build.yml");
        local_yaml: "./ci/deploy.yaml" => local("./ci/deploy.yaml");
        local_with_ref: "./.github/workflows/build.yml@v1" => Err::<Reference, String>(String::new());
        local_not_yaml: "./.github/workflows/build" => Err::<Reference, String>(String::new());
        remote_full: "octo/tools/.github/workflows/ci.yml@v2" => remote("octo", "tools", ".github/workflows/ci.yml", "v2");
        remote_sha: "o/r/.github/workflows/a.yaml@0123abc" => remote("o", "r", ".github/workflows/a.yaml", "0123abc");
        remote_no_ref: "octo/tools/.github/workflows/ci.yml" => Err::<Reference, String>(String::new());
        remote_empty_ref: "octo/tools/.github/workflows/ci.yml@" => Err::<Reference, String>(String::new());
        remote_no_path: "octo/tools@v1" => Err::<Reference, String>(String::new());
        action_not_workflow: "actions/checkout@v4" => Err::<Reference, String>(String::new());
    }
}
