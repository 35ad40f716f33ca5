//! Images: make sure one is present (per the pull policy), and build one from a context directory.

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path};
use std::time::Duration;

use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateImageOptionsBuilder, TagImageOptionsBuilder,
};
use futures_util::StreamExt;

use super::tarball::{Item, tar_stream};
use super::{docker_error, is_not_found, one_line};
use crate::Error;
use crate::backend::PullPolicy;

/// The hint of every `ImageUnavailable`.
pub(crate) const IMAGE_HINT: &str = "build or load it locally (docker build / docker load), or map the runs-on label to a local image with -P LABEL=IMAGE";

/// How long a pull or a build may take before pipe gives up.
const LONG_OPERATION: Duration = Duration::from_secs(60 * 60);

fn unavailable(image: &str, message: impl Into<String>) -> Error {
    Error::ImageUnavailable {
        image: image.to_string(),
        message: message.into(),
        hint: IMAGE_HINT.to_string(),
    }
}

/// Make sure `image` is present: `missing` pulls only when it is absent, `never` fails when it is
/// absent, `always` pulls (and fails when the pull fails).
pub async fn ensure_image(
    docker: &Docker,
    image: &str,
    policy: PullPolicy,
    credentials: Option<&(String, String)>,
) -> Result<(), Error> {
    ensure_image_user(docker, image, policy, credentials).await.map(|_| ())
}

/// [`ensure_image`], giving the user the image's configuration names (`None` when it names none).
pub(crate) async fn ensure_image_user(
    docker: &Docker,
    image: &str,
    policy: PullPolicy,
    credentials: Option<&(String, String)>,
) -> Result<Option<String>, Error> {
    if policy != PullPolicy::Always {
        match docker.inspect_image(image).await {
            Ok(inspected) => return Ok(user_of(inspected)),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(docker_error(&format!("inspecting image {image}"), &e)),
        }
        if policy == PullPolicy::Never {
            return Err(unavailable(image, "not present locally, and --pull never forbids pulling it"));
        }
    }
    pull(docker, image, credentials).await
}

fn user_of(inspected: bollard::models::ImageInspect) -> Option<String> {
    inspected.config.and_then(|c| c.user).filter(|u| !u.is_empty())
}

async fn pull(
    docker: &Docker,
    image: &str,
    credentials: Option<&(String, String)>,
) -> Result<Option<String>, Error> {
    let (repository, tag) = split_reference(image);
    let mut options = CreateImageOptionsBuilder::default().from_image(repository);
    if let Some(tag) = tag {
        options = options.tag(tag);
    }
    let credentials = credentials.map(|(username, password)| DockerCredentials {
        username: Some(username.clone()),
        password: Some(password.clone()),
        serveraddress: registry_of(repository).map(str::to_string),
        ..Default::default()
    });
    let docker = docker.clone().with_timeout(LONG_OPERATION);
    let mut progress = docker.create_image(Some(options.build()), None, credentials);
    while let Some(item) = progress.next().await {
        if let Err(e) = item {
            return Err(unavailable(image, format!("pull failed: {}", one_line(&e))));
        }
    }
    // Some daemons end a failed pull without an error item: check that the image is there now.
    match docker.inspect_image(image).await {
        Ok(inspected) => Ok(user_of(inspected)),
        Err(e) => Err(unavailable(image, format!("pull did not produce the image: {}", one_line(&e)))),
    }
}

/// `repo[:tag]` → (repo, tag); a digest reference (`repo@sha256:…`) is pulled as a whole; no tag
/// means `latest` (the API would pull every tag otherwise).
pub(crate) fn split_reference(image: &str) -> (&str, Option<&str>) {
    if image.contains('@') {
        return (image, None);
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(colon) => {
            let at = last_slash + colon;
            (&image[..at], Some(&image[at + 1..]))
        }
        None => (image, Some("latest")),
    }
}

/// The registry host of a repository (`ghcr.io/a/b` → `ghcr.io`), None for Docker Hub.
fn registry_of(repository: &str) -> Option<&str> {
    let (first, rest) = repository.split_once('/')?;
    let is_host = first.contains('.') || first.contains(':') || first == "localhost";
    (is_host && !rest.is_empty()).then_some(first)
}

/// Build an image through the daemon from `context_dir` (sent as a tar stream; symlinks are kept
/// as links, `.dockerignore` is not applied). `dockerfile` is a path relative to the context
/// (default `Dockerfile`), or any path on the host (then it is added to the archive). Every
/// tag of `tags` is applied; `progress` receives the build's output lines as they arrive.
pub async fn build_image(
    docker: &Docker,
    context_dir: &Path,
    dockerfile: Option<&str>,
    tags: &[String],
    build_args: &BTreeMap<String, String>,
    mut progress: impl FnMut(&str) + Send,
) -> Result<(), Error> {
    if !context_dir.is_dir() {
        return Err(Error::usage(format!("build context {} is not a directory", context_dir.display())));
    }
    let mut items = vec![Item::Tree(".".to_string(), context_dir.to_path_buf())];
    let dockerfile_name = match dockerfile {
        None => "Dockerfile".to_string(),
        Some(name) => match inside_context(context_dir, name) {
            Some(relative) => relative,
            None => {
                let host_path = Path::new(name);
                if !host_path.is_file() {
                    return Err(Error::usage(format!("Dockerfile {name} not found")));
                }
                let name = ".pipe-dockerfile".to_string();
                items.push(Item::File(name.clone(), host_path.to_path_buf()));
                name
            }
        },
    };
    let first_tag = tags.first().map(String::as_str).unwrap_or_default();
    let args: HashMap<&str, &str> = build_args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut options = BuildImageOptionsBuilder::default().dockerfile(&dockerfile_name).rm(true).forcerm(true);
    if !first_tag.is_empty() {
        options = options.t(first_tag);
    }
    if !args.is_empty() {
        options = options.buildargs(&args);
    }
    let (stream, task) = tar_stream(items);
    let body = bollard::body_try_stream(stream.map(|chunk| chunk.map(Into::into)));
    let docker = docker.clone().with_timeout(LONG_OPERATION);
    let mut build = docker.build_image(options.build(), None, Some(body));
    let mut failure = None;
    let mut partial = String::new();
    while let Some(item) = build.next().await {
        match item {
            Ok(info) => {
                if let Some(text) = info.stream.as_deref().or(info.status.as_deref()) {
                    partial.push_str(text);
                    while let Some(newline) = partial.find('\n') {
                        let line: String = partial.drain(..=newline).collect();
                        progress(line.trim_end_matches(['\n', '\r']));
                    }
                }
                if let Some(message) = info.error_detail.and_then(|d| d.message) {
                    failure = Some(message);
                }
            }
            Err(e) => {
                failure = Some(one_line(&e));
                break;
            }
        }
    }
    if !partial.trim().is_empty() {
        progress(partial.trim_end());
    }
    let archive = match task.await {
        Ok(result) => result,
        Err(join) => Err(Error::env(format!("building the context archive failed: {join}"))),
    };
    archive?;
    if let Some(message) = failure {
        return Err(Error::docker(format!(
            "building {}: {message}",
            if first_tag.is_empty() { "image" } else { first_tag }
        )));
    }
    for tag in tags.iter().skip(1) {
        let (repo, version) = split_reference(tag);
        let mut options = TagImageOptionsBuilder::default().repo(repo);
        if let Some(version) = version {
            options = options.tag(version);
        }
        docker
            .tag_image(first_tag, Some(options.build()))
            .await
            .map_err(|e| docker_error(&format!("tagging {first_tag} as {tag}"), &e))?;
    }
    Ok(())
}

/// `name` as a relative path inside `context` (None when it points outside).
fn inside_context(context: &Path, name: &str) -> Option<String> {
    let path = Path::new(name);
    let relative = if path.is_absolute() {
        let context = context.canonicalize().ok()?;
        let path = path.canonicalize().ok()?;
        path.strip_prefix(&context).ok()?.to_path_buf()
    } else {
        path.to_path_buf()
    };
    let safe = relative.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    (safe && !relative.as_os_str().is_empty()).then(|| relative.to_string_lossy().replace('\\', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(split_reference("busybox"), ("busybox", Some("latest")));
        assert_eq!(split_reference("pipe-test/debian:bookworm"), ("pipe-test/debian", Some("bookworm")));
        assert_eq!(split_reference("localhost:5000/app"), ("localhost:5000/app", Some("latest")));
        assert_eq!(split_reference("localhost:5000/app:1"), ("localhost:5000/app", Some("1")));
        assert_eq!(split_reference("a@sha256:00"), ("a@sha256:00", None));
        assert_eq!(registry_of("ghcr.io/o/r"), Some("ghcr.io"));
        assert_eq!(registry_of("library/ubuntu"), None);
        assert_eq!(registry_of("ubuntu"), None);
    }
}
