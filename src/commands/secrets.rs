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
