//! Docker-only parts of a job's setup: `container:` and `services:` with their expressions
//! evaluated in the leg's scope, each key with the contexts GitHub allows there.

use super::Shared;
use super::job::Leg;
use crate::backend::{ContainerSpec, JobSetup, ServiceSpec};
use crate::expr::Location;
use crate::model::{Container, Job, Text};
use crate::scope::Scope;

/// The keys of one `container:` or service, for the contexts each may read.
struct Keys {
    image: Location,
    env: Location,
    credentials: Location,
    rest: Location,
}

const CONTAINER: Keys = Keys {
    image: Location::JobContainerImage,
    env: Location::JobContainerEnv,
    credentials: Location::JobContainerCredentials,
    rest: Location::JobContainer,
};

const SERVICE: Keys = Keys {
    image: Location::JobServices,
    env: Location::JobServiceEnv,
    credentials: Location::JobServiceCredentials,
    rest: Location::JobServices,
};

pub fn complete(mut setup: JobSetup, job: &Job, shared: &Shared, leg: &Leg) -> Result<JobSetup, String> {
    let mut all_secrets = shared.secrets.clone();
    all_secrets.extend(leg.env_secrets.clone());
    let scope = leg.scope.clone().with("secrets", &crate::scope::object(&all_secrets));
    if let Some(c) = &job.container {
        let image = text(&scope, CONTAINER.image, &c.image, "container image")?;
        // An empty image means no job container: the leg's runs-on image is used.
        if !image.trim().is_empty() {
            setup.container = Some(spec(&scope, &CONTAINER, c)?);
        }
    }
    if setup.image.as_deref().is_none_or(str::is_empty) {
        let labels = crate::plan::platform::labels(job, &leg.scope).unwrap_or_default();
        let label = labels.first().map_or("(none)", String::as_str);
        return Err(format!(
            "no image for runs-on `{label}`: map it with -P {label}=IMAGE or in pipe.toml [platforms], or run with --executor host"
        ));
    }
    // JavaScript actions run with pipe's node, mounted read-only (the image needs none).
    if shared.actions.inventory.node_jobs.contains(&shared.full_id(job.id.as_str()))
        && let Some(node) = &shared.actions.node
    {
        let mount = format!("{}:{}:ro", node.display(), super::actions::node::NODE_IN_CONTAINER);
        setup.container.get_or_insert_with(ContainerSpec::default).volumes.push(mount);
    }
    for (id, c) in &job.services {
        let image = text(&scope, SERVICE.image, &c.image, &format!("service `{}` image", id.value))?;
        // A service whose image evaluates to nothing is not started (as on GitHub).
        if image.trim().is_empty() {
            continue;
        }
        let s = spec(&scope, &SERVICE, c)?;
        setup.services.push(ServiceSpec {
            id: id.value.clone(),
            image: image.trim().to_string(),
            env: s.env,
            ports: s.ports,
            volumes: s.volumes,
            options: s.options,
        });
    }
    Ok(setup)
}

fn text(scope: &Scope, at: Location, t: &Text, what: &str) -> Result<String, String> {
    scope.text(at, t).map_err(|e| e.describe(&format!("{what} cannot be evaluated")))
}

fn spec(scope: &Scope, keys: &Keys, c: &Container) -> Result<ContainerSpec, String> {
    let plain = |s: &String| scope.text_str(keys.rest, s).map_err(String::from);
    Ok(ContainerSpec {
        env: c
            .env
            .iter()
            .map(|(k, v)| Ok((k.value.clone(), text(scope, keys.env, v, &format!("env `{}`", k.value))?)))
            .collect::<Result<_, String>>()?,
        volumes: c.volumes.iter().map(plain).collect::<Result<_, String>>()?,
        options: c.options.as_ref().map(|o| text(scope, keys.rest, o, "options")).transpose()?,
        credentials: match &c.credentials {
            Some((u, p)) => Some((
                text(scope, keys.credentials, u, "credentials")?,
                text(scope, keys.credentials, p, "credentials")?,
            )),
            None => None,
        },
        ports: c.ports.iter().map(plain).collect::<Result<_, String>>()?,
    })
}
