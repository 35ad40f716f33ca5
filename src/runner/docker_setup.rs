//! Docker-only parts of a job's setup: `container:` and `services:` with their expressions
//! evaluated.

use serde_json::{Value as Json, json};

use super::job::Leg;
use super::{Shared, contexts, eval};
use crate::backend::{ContainerSpec, JobSetup, ServiceSpec};
use crate::expr::Status;
use crate::model::{Container, Job};

pub fn complete(mut setup: JobSetup, job: &Job, shared: &Shared, leg: &Leg) -> Result<JobSetup, String> {
    let matrix = leg.matrix.clone().map_or(json!({}), Json::Object);
    let inputs = Json::Object(shared.facts.inputs.clone());
    let secrets = contexts::object(&shared.secrets);
    let github = shared.facts.github(&leg.job_id, "");
    let vars = contexts::object(&shared.facts.vars);
    let ctx = contexts::build(
        &[
            ("github", &github),
            ("matrix", &matrix),
            ("needs", &leg.needs),
            ("strategy", &leg.strategy),
            ("inputs", &inputs),
            ("secrets", &secrets),
            ("vars", &vars),
        ],
        Status::Success,
        None,
    );
    let text = |s: &str| eval::text(s, &ctx);
    let spec = |c: &Container| -> Result<ContainerSpec, String> {
        Ok(ContainerSpec {
            env: c
                .env
                .iter()
                .map(|(k, v)| Ok((k.value.clone(), text(&v.value)?)))
                .collect::<Result<_, String>>()?,
            volumes: c.volumes.iter().map(|v| text(v)).collect::<Result<_, String>>()?,
            options: c.options.as_ref().map(|o| text(&o.value)).transpose()?,
            credentials: match &c.credentials {
                Some((u, p)) => Some((text(&u.value)?, text(&p.value)?)),
                None => None,
            },
            ports: c.ports.iter().map(|p| text(p)).collect::<Result<_, String>>()?,
        })
    };
    if let Some(c) = &job.container {
        setup.image = Some(text(&c.image.value)?);
        setup.container = Some(spec(c)?);
    }
    if setup.image.as_deref().is_none_or(str::is_empty) {
        let label = job.runs_on.first().map_or("(none)", |l| l.value.as_str());
        return Err(format!(
            "no image for runs-on `{label}`: map it with -P {label}=IMAGE or in pipe.toml [platforms], or run with --executor host"
        ));
    }
    // JavaScript actions run with pipe's node, mounted read-only (the image needs none).
    if shared.actions.inventory.node_jobs.contains(job.id.as_str())
        && let Some(node) = &shared.actions.node
    {
        let mount = format!("{}:{}:ro", node.display(), super::actions::node::NODE_IN_CONTAINER);
        setup.container.get_or_insert_with(ContainerSpec::default).volumes.push(mount);
    }
    for (id, c) in &job.services {
        let s = spec(c)?;
        setup.services.push(ServiceSpec {
            id: id.value.clone(),
            image: text(&c.image.value)?,
            env: s.env,
            ports: s.ports,
            volumes: s.volumes,
            options: s.options,
        });
    }
    Ok(setup)
}
