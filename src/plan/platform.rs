//! Where each job runs: the executor (a backend, see [`Executor`]) and the image.
//!
//! Order: `--executor host` (any backend that runs no images) puts everything there; a job's
//! `container:` image wins; then the `runs-on` labels: a `-P`/`pipe.toml` mapping for any of them
//! (mappings are tried before built-in defaults, labels in order), then the built-in defaults.
//! Images run on the backend `--executor` names, else on [`Executor::IMAGES`] (Docker). A label
//! nobody maps is planned there without an image and a note telling the user to map it with `-P`.
//!
//! `--executor auto` plans like `docker`: whether the daemon answers is only known when running,
//! and the runner falls back to the host then, with a notice.

use serde_json::Value as Json;

use crate::backend::{Executor, ExecutorChoice};
use crate::expr::Location;
use crate::model::Job;
use crate::scope::{EvalFailure, Scope};

/// A label mapped to this "image" runs on this machine.
const HOST: &str = "host";

/// Built-in label → image defaults (`host` means run on this machine).
const DEFAULTS: &[(&str, &str)] = &[
    ("ubuntu-latest", "ubuntu:24.04"),
    ("ubuntu-24.04", "ubuntu:24.04"),
    ("ubuntu-22.04", "ubuntu:22.04"),
    ("self-hosted", HOST),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub executor: Executor,
    pub image: Option<String>,
    /// Why there is no image, or what is decided at run time.
    pub note: Option<String>,
}

impl Placement {
    /// In `image` (when known), on the backend `on` that runs images.
    pub fn image(on: Executor, image: Option<String>, note: Option<String>) -> Self {
        Placement { executor: on, image, note }
    }

    /// On a backend that runs no images.
    pub fn without_image(on: Executor, note: Option<String>) -> Self {
        Placement { executor: on, image: None, note }
    }
}

/// Where a job (or one matrix leg of it, when `scope` holds its `matrix`) runs. `container:` and
/// `runs-on` are evaluated in `scope` at their keys; an error means they depend on something not
/// known yet (at plan time: `needs`), or are wrong.
pub fn place(
    job: &Job,
    scope: &Scope,
    platforms: &[(String, String)],
    executor: ExecutorChoice,
) -> Result<Placement, EvalFailure> {
    let images = match executor {
        ExecutorChoice::Only(e) if !e.runs_images() => {
            let note = (job.container.is_some() || !job.services.is_empty())
                .then(|| format!("container: and services: are not used with --executor {e}"));
            return Ok(Placement::without_image(e, note));
        }
        ExecutorChoice::Only(e) => e,
        ExecutorChoice::Auto => Executor::IMAGES,
    };
    if let Some(c) = &job.container {
        // An image that evaluates to nothing means no container (GitHub runs the job on the runner).
        let image = scope.text(Location::JobContainerImage, &c.image)?;
        if !image.trim().is_empty() {
            return Ok(Placement::image(images, Some(image.trim().to_string()), None));
        }
    }
    if job.uses.is_some() {
        return Ok(Placement::image(images, None, Some("calls a reusable workflow".into())));
    }
    let labels = labels(job, scope)?;
    let Some(first) = labels.first() else {
        return Ok(Placement::image(images, None, Some("no runs-on label".into())));
    };
    let user = platforms.iter().map(|(l, i)| (l.as_str(), i.as_str()));
    for table in [user.collect::<Vec<_>>(), DEFAULTS.to_vec()] {
        for label in &labels {
            if let Some((_, image)) = table.iter().find(|(l, _)| l.eq_ignore_ascii_case(label)) {
                return Ok(if *image == HOST {
                    Placement::without_image(Executor::Host, None)
                } else {
                    Placement::image(images, Some(image.to_string()), None)
                });
            }
        }
    }
    Ok(Placement::image(
        images,
        None,
        Some(format!("no image for runs-on `{first}`: map it with -P {first}=IMAGE (or -P {first}=host)")),
    ))
}

/// The `runs-on` labels, evaluated: an expression may give one label or a list of them.
pub fn labels(job: &Job, scope: &Scope) -> Result<Vec<String>, EvalFailure> {
    let mut out = Vec::new();
    for label in &job.runs_on {
        match scope.value(Location::JobRunsOn, label)? {
            Json::Array(items) => out.extend(items.iter().map(as_label)),
            other => out.push(as_label(&other)),
        }
    }
    out.retain(|l| !l.is_empty());
    Ok(out)
}

fn as_label(v: &Json) -> String {
    match v {
        Json::String(s) => s.trim().to_string(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// The placement `pipe plan` shows for a job whose `runs-on` or `container:` is only known when
/// it runs.
pub fn at_run_time(job: &Job, executor: ExecutorChoice) -> Placement {
    let what = match &job.container {
        Some(c) if c.image.value.contains("${{") => format!("container image `{}`", c.image.value),
        _ => {
            let dynamic = job.runs_on.iter().find(|l| l.value.contains("${{"));
            format!("runs-on `{}`", dynamic.map_or("", |l| l.value.as_str()))
        }
    };
    let on = match executor {
        ExecutorChoice::Only(e) => e,
        ExecutorChoice::Auto => Executor::IMAGES,
    };
    Placement::image(on, None, Some(format!("{what} is chosen at run time")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    fn job(body: &str) -> Job {
        let yaml = format!("on: push\njobs:\n  j:\n{body}\n    steps: [{{run: x}}]\n");
        let p = crate::load::load(&Source::new("t.yml", yaml)).pipeline.expect("pipeline");
        p.jobs.into_iter().next().expect("job")
    }

    fn maps(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    /// One row per case: job body, -P mappings, executor choice → executor, image, has a note.
    macro_rules! cases {
        ($($name:ident: $body:expr, $maps:expr, $exec:expr => $executor:expr, $image:expr, $note:expr;)+) => {
            $(
                #[test]
                fn $name() {
                    let j = job($body);
                    let p = place(&j, &Scope::default(), &maps($maps), $exec).unwrap_or_else(|_| at_run_time(&j, $exec));
                    assert_eq!((p.executor.name(), p.image.as_deref(), p.note.is_some()), ($executor, $image, $note), "{p:?}");
                }
            )+
        };
    }

    use ExecutorChoice::Auto;
    const DOCKER: ExecutorChoice = ExecutorChoice::DOCKER;
    const HOST: ExecutorChoice = ExecutorChoice::HOST;

    cases! {
        latest: "    runs-on: ubuntu-latest", &[], Auto => "docker", Some("ubuntu:24.04"), false;
        u2404: "    runs-on: ubuntu-24.04", &[], DOCKER => "docker", Some("ubuntu:24.04"), false;
        u2204: "    runs-on: ubuntu-22.04", &[], Auto => "docker", Some("ubuntu:22.04"), false;
        self_hosted: "    runs-on: [self-hosted, linux]", &[], Auto => "host", None, false;
        mapped: "    runs-on: ubuntu-latest", &[("ubuntu-latest", "debian:12")], Auto => "docker", Some("debian:12"), false;
        mapped_host: "    runs-on: macos-latest", &[("macos-latest", "host")], Auto => "host", None, false;
        mapping_beats_default_of_earlier_label: "    runs-on: [self-hosted, gpu]", &[("gpu", "cuda:12")], Auto
            => "docker", Some("cuda:12"), false;
        label_case: "    runs-on: Ubuntu-Latest", &[], Auto => "docker", Some("ubuntu:24.04"), false;
        unmapped: "    runs-on: macos-latest", &[], Auto => "docker", None, true;
        container_wins: "    runs-on: ubuntu-latest\n    container: node:20", &[], Auto => "docker", Some("node:20"), false;
        container_map: "    runs-on: ubuntu-latest\n    container:\n      image: alpine:3", &[], Auto
            => "docker", Some("alpine:3"), false;
        host_everything: "    runs-on: ubuntu-latest\n    container: node:20", &[], HOST => "host", None, true;
        dynamic_label: "    runs-on: ${{ matrix.os }}", &[], Auto => "docker", None, true;
        dynamic_image: "    runs-on: x\n    container: ${{ matrix.img }}", &[], Auto => "docker", None, true;
        empty_image_means_no_container: "    runs-on: ubuntu-latest\n    container: ${{ '' }}", &[], Auto
            => "docker", Some("ubuntu:24.04"), false;
        label_list_from_an_expression: "    runs-on: ${{ fromJSON('[\"self-hosted\", \"gpu\"]') }}", &[], Auto
            => "host", None, false;
    }

    #[test]
    fn unmapped_note_says_how() {
        let p = place(&job("    runs-on: macos-latest"), &Scope::default(), &[], Auto).expect("placed");
        assert_eq!(
            p.note.as_deref(),
            Some(
                "no image for runs-on `macos-latest`: map it with -P macos-latest=IMAGE (or -P macos-latest=host)"
            )
        );
    }
}
