//! `--secret`, `--secret-file` and `--env-file`: NAME=VALUE sources. Values are never stored.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::Error;
use crate::cli::SecretArgs;

pub fn load(args: &SecretArgs) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for f in &args.secret_files {
        out.extend(read_pairs(f)?);
    }
    for s in &args.secrets {
        match s.split_once('=') {
            Some((k, v)) => {
                check_name(k, "--secret")?;
                out.insert(k.to_string(), v.to_string());
            }
            None => {
                check_name(s, "--secret")?;
                let v = std::env::var(s).map_err(|_| Error::Usage {
                    message: format!("--secret {s}: the environment variable `{s}` is not set"),
                    hint: Some(format!("export {s}=... or give --secret {s}=VALUE")),
                })?;
                out.insert(s.clone(), v);
            }
        }
    }
    Ok(out)
}

/// The secrets the workflow refers to that nothing gives (no `--secret`, `--secret-file`, nor
/// an environment's `secrets_file`): they are empty in the run, which is rarely what was meant.
pub fn missing(
    pipeline: &crate::model::Pipeline,
    given: &BTreeMap<String, String>,
    config: Option<&crate::gate::Config>,
) -> Vec<String> {
    let mut known: std::collections::BTreeSet<String> =
        given.keys().map(|k| k.to_ascii_uppercase()).collect();
    // GitHub gives every run a token; pipe's runs have none, and that is documented.
    known.insert("GITHUB_TOKEN".into());
    for policy in config.into_iter().flat_map(|c| c.environments.values()) {
        let Some(path) = &policy.secrets_file else { continue };
        let pairs = std::fs::read_to_string(path).ok().and_then(|t| crate::gate::secrets::parse(&t).ok());
        known.extend(pairs.unwrap_or_default().into_iter().map(|(k, _)| k.to_ascii_uppercase()));
    }
    crate::validate::referenced_secrets(pipeline).into_iter().filter(|n| !known.contains(n)).collect()
}

/// One warning per secret the workflow uses and nobody gave.
pub fn warn_missing(ui: &crate::output::Ui, names: &[String]) {
    for name in names {
        ui.notice(&format!(
            "warning: the workflow uses secret `{name}`, which is not given: it is empty in this run \
             (give it with --secret {name}=VALUE, --secret {name} or --secret-file FILE)"
        ));
    }
}

pub fn env_files(files: &[PathBuf]) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for f in files {
        out.extend(read_pairs(f)?);
    }
    Ok(out)
}

/// `NAME=VALUE` lines; blank lines and `#` comments skipped; optional matching quotes removed.
pub fn read_pairs(path: &PathBuf) -> Result<Vec<(String, String)>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.clone(), source })?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            return Err(Error::Usage {
                message: format!("{}:{}: expected NAME=VALUE", path.display(), n + 1),
                hint: None,
            });
        };
        let k = k.trim();
        check_name(k, &path.display().to_string())?;
        let v = v.trim();
        let v = if v.len() >= 2
            && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
        {
            &v[1..v.len() - 1]
        } else {
            v
        };
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

fn check_name(name: &str, source: &str) -> Result<(), Error> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok { Ok(()) } else { Err(Error::usage(format!("{source}: invalid name `{name}`"))) }
}
