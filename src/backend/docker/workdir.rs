//! Whether the job container's `/github` and `/github/workspace` can be left to the engine
//! instead of an upload of the (empty) workspace.
//!
//! A job's copied workspace is empty when its container is made (`actions/checkout` fills it
//! later, as a step), so the upload only makes the two directories; the daemon's extraction of
//! it costs about a third of a raw create + start. The engine makes them too: `/github/workspace`
//! is the working directory, which Docker and Podman create when it is missing, and `/github`
//! is its parent and that of the runner dir's mount point. Docker makes them owned by root,
//! Podman by the container's user; both with mode 0755. An upload would make the workspace with
//! the owner and mode of the host's directory instead, which only matters to a container user
//! other than root (it may not be able to write into a root-owned 0755 directory). So the upload
//! is left out when the container runs as root, its working directory is `/github/workspace`,
//! the workspace is empty, and no volume or tmpfs of the job is mounted on `/github` or beneath
//! it (the runner dir apart). A remote engine gets the runner dir by upload anyway, and keeps it.
//!
//! For a container user other than root, a local engine that maps user ids one to one can bind
//! the empty host workspace instead: the container then sees the host directory itself, with the
//! owner and mode the upload would have copied, at the cost of a mount instead of an extraction.
//! That is done only when pipe can remove whatever that user writes there: the directory is
//! root's (pipe runs as root), or the user is the directory's owner, by number.

use std::path::Path;

use bollard::models::ContainerCreateBody;

use crate::backend::{RUNNER_DIR_IN_CONTAINER, WORKSPACE_IN_CONTAINER};

/// Whether the container of `config` gets from the engine the same `/github` and
/// `/github/workspace` an upload of `workspace` would give it. `image_user` is the user the
/// image's configuration names.
pub(crate) fn engine_makes_them(
    workspace: &Path,
    config: &ContainerCreateBody,
    image_user: Option<&str>,
) -> bool {
    config.working_dir.as_deref() == Some(WORKSPACE_IN_CONTAINER)
        && is_root(config.user.as_deref().or(image_user))
        && !mounts_under_github(config)
        && is_empty_dir(workspace)
}

/// Whether a bind of the host `workspace` gives the container of `config` the `/github/workspace`
/// an upload would, for a container user other than root (see the module's comment). The engine
/// must map user ids one to one as well; that is the caller's to ask.
pub(crate) fn bind_gives_the_same(
    workspace: &Path,
    config: &ContainerCreateBody,
    image_user: Option<&str>,
) -> bool {
    use std::os::unix::fs::MetadataExt;
    let user = config.user.as_deref().or(image_user);
    let Ok(meta) = std::fs::symlink_metadata(workspace) else { return false };
    let owner = meta.uid();
    let removable = owner == 0 || uid_of(user) == Some(owner);
    config.working_dir.as_deref() == Some(WORKSPACE_IN_CONTAINER)
        && !is_root(user)
        && removable
        && !mounts_under_github(config)
        && is_empty_dir(workspace)
}

/// The user id of `USER[:GROUP]` when it is given as a number.
fn uid_of(user: Option<&str>) -> Option<u32> {
    let user = user?.trim();
    user.split_once(':').map_or(user, |(u, _)| u).parse().ok()
}

/// Whether the Docker engine behind `docker` runs containers with the user ids of this machine
/// (no user namespace: neither rootless nor `userns-remap`), so a host directory bound into a
/// container shows the owner it has here. Podman counts as no (its rootless mode maps ids, and
/// it makes a missing working directory its user's). Asked once per engine address: the answer
/// is the daemon's configuration, which a run does not change.
pub async fn keeps_host_user_ids(docker: &bollard::Docker) -> bool {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static KNOWN: OnceLock<Mutex<HashMap<String, bool>>> = OnceLock::new();
    let address = super::endpoint::resolve().map(|e| format!("{e:?}")).unwrap_or_default();
    let known = KNOWN.get_or_init(Mutex::default);
    if let Some(answer) = known.lock().ok().and_then(|k| k.get(&address).copied()) {
        return answer;
    }
    let (info, podman) =
        futures_util::future::join(docker.info(), crate::backend::engine::is_podman(docker)).await;
    let Ok(info) = info else { return false };
    let mapped = info
        .security_options
        .unwrap_or_default()
        .iter()
        .any(|o| o.split(',').any(|part| part == "name=rootless" || part == "name=userns"));
    let answer = !podman && !mapped;
    if let Ok(mut k) = known.lock() {
        k.insert(address, answer);
    }
    answer
}

/// `USER[:GROUP]` names root (no user is root too).
fn is_root(user: Option<&str>) -> bool {
    let Some(user) = user.map(str::trim).filter(|u| !u.is_empty()) else { return true };
    let (user, group) = user.split_once(':').map_or((user, None), |(u, g)| (u, Some(g)));
    let root = |name: &str| name == "root" || name == "0";
    root(user) && group.is_none_or(root)
}

/// A bind, volume or tmpfs on `/github` or beneath it, other than the runner dir's.
fn mounts_under_github(config: &ContainerCreateBody) -> bool {
    let host = config.host_config.clone().unwrap_or_default();
    let binds = host.binds.unwrap_or_default();
    let bind_targets = binds.iter().filter_map(|b| b.split(':').nth(1).map(str::to_string));
    let anonymous = config.volumes.clone().unwrap_or_default().into_iter();
    let tmpfs = host.tmpfs.unwrap_or_default().into_keys();
    bind_targets.chain(anonymous).chain(tmpfs).any(|target| {
        let target = target.trim_end_matches('/');
        target != RUNNER_DIR_IN_CONTAINER && (target == "/github" || target.starts_with("/github/"))
    })
}

/// An empty directory (what an upload would fill is nothing).
fn is_empty_dir(workspace: &Path) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(workspace) else { return false };
    meta.is_dir() && std::fs::read_dir(workspace).is_ok_and(|mut entries| entries.next().is_none())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::os::unix::fs::PermissionsExt;

    use bollard::models::HostConfig;

    use super::*;

    fn config(binds: &[&str]) -> ContainerCreateBody {
        ContainerCreateBody {
            working_dir: Some(WORKSPACE_IN_CONTAINER.to_string()),
            host_config: Some(HostConfig {
                binds: Some(binds.iter().map(|b| b.to_string()).collect()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn root_users() {
        for root in [None, Some(""), Some("root"), Some("0"), Some("0:0"), Some("root:root")] {
            assert!(is_root(root), "{root:?}");
        }
        for other in [Some("1000"), Some("nobody"), Some("0:1000"), Some("root:users")] {
            assert!(!is_root(other), "{other:?}");
        }
    }

    #[test]
    fn mounts_on_github_other_than_the_runner_dir() {
        assert!(!mounts_under_github(&config(&["/tmp/r:/github/runner", "/data:/data:ro"])));
        assert!(mounts_under_github(&config(&["/tmp/r:/github/runner", "/w:/github/workspace"])));
        assert!(mounts_under_github(&config(&["cache:/github/workspace/cache:ro"])));
        assert!(mounts_under_github(&config(&["/x:/github/"])));
        assert!(!mounts_under_github(&config(&["/x:/githubx"])));
        let mut anonymous = config(&[]);
        anonymous.volumes = Some(vec!["/github/home".to_string()]);
        assert!(mounts_under_github(&anonymous));
        let mut tmpfs = config(&[]);
        tmpfs.host_config.as_mut().unwrap().tmpfs =
            Some(HashMap::from([("/github".to_string(), String::new())]));
        assert!(mounts_under_github(&tmpfs));
    }

    #[test]
    fn a_bind_for_a_user_pipe_can_clean_up_after() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("workspace");
        std::fs::create_dir(&workspace).unwrap();
        let owner = std::fs::metadata(&workspace).unwrap().uid();
        let mut plain = config(&["/tmp/r:/github/runner"]);
        // Root is the engine's case, not the bind's.
        assert!(!bind_gives_the_same(&workspace, &plain, None));
        plain.user = Some(if owner == 0 { "1000".to_string() } else { format!("{owner}:{owner}") });
        assert!(bind_gives_the_same(&workspace, &plain, None), "{:?}", plain.user);
        if owner != 0 {
            assert!(
                !bind_gives_the_same(&workspace, &config(&[]), Some("someone")),
                "a name other than root"
            );
            assert!(!bind_gives_the_same(&workspace, &config(&[]), Some(&(owner + 1).to_string())));
        } else {
            for user in ["1000", "1000:1000", "someone"] {
                assert!(bind_gives_the_same(&workspace, &config(&[]), Some(user)), "pipe as root: {user}");
            }
        }
        assert!(uid_of(Some(" 1000:50")) == Some(1000) && uid_of(Some("node")).is_none());
        let mut mounted = plain.clone();
        mounted.host_config.as_mut().unwrap().binds.as_mut().unwrap().push("/c:/github/workspace/c".into());
        assert!(!bind_gives_the_same(&workspace, &mounted, None));
        let mut elsewhere = plain.clone();
        elsewhere.working_dir = Some("/src".to_string());
        assert!(!bind_gives_the_same(&workspace, &elsewhere, None));
        std::fs::write(workspace.join("a.txt"), "a").unwrap();
        assert!(!bind_gives_the_same(&workspace, &plain, None), "a workspace with files");
    }

    #[test]
    fn only_an_empty_workspace_as_root_in_the_container() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("workspace");
        std::fs::create_dir(&workspace).unwrap();
        let plain = config(&["/tmp/r:/github/runner"]);
        // Whoever owns it and whatever its mode: the container's root writes into what the
        // engine makes.
        for mode in [0o755, 0o775, 0o700] {
            std::fs::set_permissions(&workspace, std::fs::Permissions::from_mode(mode)).unwrap();
            assert!(engine_makes_them(&workspace, &plain, None), "{mode:o}");
        }
        assert!(!engine_makes_them(&workspace, &plain, Some("1000")));
        let mut elsewhere = plain.clone();
        elsewhere.working_dir = Some("/src".to_string());
        assert!(!engine_makes_them(&workspace, &elsewhere, None));
        std::fs::write(workspace.join("a.txt"), "a").unwrap();
        assert!(!engine_makes_them(&workspace, &plain, None));
        assert!(!engine_makes_them(&dir.path().join("missing"), &plain, None));
    }
}
