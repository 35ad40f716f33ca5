//! Tar streams to and from containers (built with the `tar` crate, never by a shell).

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use bollard::Docker;
use bollard::query_parameters::{DownloadFromContainerOptionsBuilder, UploadToContainerOptionsBuilder};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::{docker_error, is_not_found};
use crate::Error;

/// What goes into an archive.
pub(crate) enum Item {
    /// An empty directory entry (mode 0755, owned by root).
    Dir(String),
    /// A host directory, recursively, stored under this archive path (symlinks kept as links).
    Tree(String, PathBuf),
    /// One host file stored under this archive path.
    File(String, PathBuf),
    /// What a host directory holds (not the directory itself), at the archive's root.
    Contents(PathBuf),
}

/// Writes into the channel in chunks; the receiving end feeds the HTTP body.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Vec<u8>>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 256 * 1024;

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the daemon stopped reading the archive"))
    }
}

fn build(items: &[Item], writer: ChannelWriter) -> Result<(), (PathBuf, io::Error)> {
    let mut builder = tar::Builder::new(writer);
    builder.follow_symlinks(false);
    for item in items {
        match item {
            Item::Dir(name) => {
                let mut header = tar::Header::new_gnu();
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                header.set_mtime(0);
                builder.append_data(&mut header, name, io::empty()).map_err(|e| (PathBuf::from(name), e))?;
            }
            Item::Tree(name, path) => builder.append_dir_all(name, path).map_err(|e| (path.clone(), e))?,
            Item::File(name, path) => {
                builder.append_path_with_name(path, name).map_err(|e| (path.clone(), e))?
            }
            Item::Contents(dir) => {
                let mut children: Vec<_> = std::fs::read_dir(dir)
                    .map_err(|e| (dir.clone(), e))?
                    .collect::<Result<_, _>>()
                    .map_err(|e| (dir.clone(), e))?;
                children.sort_by_key(|entry| entry.file_name());
                for child in children {
                    let path = child.path();
                    let name = child.file_name();
                    let is_dir = child.file_type().map_err(|e| (path.clone(), e))?.is_dir();
                    if is_dir {
                        builder.append_dir_all(&name, &path).map_err(|e| (path.clone(), e))?;
                    } else {
                        builder.append_path_with_name(&path, &name).map_err(|e| (path.clone(), e))?;
                    }
                }
            }
        }
    }
    let mut writer = builder.into_inner().map_err(|e| (PathBuf::new(), e))?;
    writer.flush().map_err(|e| (PathBuf::new(), e))
}

/// A streaming tar of `items` (chunks for an HTTP body), and a task that reports which file could
/// not be read (if any).
pub(crate) fn tar_stream(
    items: Vec<Item>,
) -> (
    impl futures_util::Stream<Item = io::Result<Vec<u8>>> + Send + 'static,
    tokio::task::JoinHandle<Result<(), Error>>,
) {
    let (tx, rx) = mpsc::channel::<io::Result<Vec<u8>>>(4);
    let task = tokio::task::spawn_blocking(move || {
        let writer = ChannelWriter { tx: tx.clone(), buf: Vec::with_capacity(CHUNK) };
        match build(&items, writer) {
            Ok(()) => Ok(()),
            Err((path, source)) => {
                // Make the upload fail too, so the daemon does not extract a truncated archive.
                let _ = tx.blocking_send(Err(io::Error::new(source.kind(), source.to_string())));
                Err(Error::Read { path, source })
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        Some((item, rx))
    });
    (stream, task)
}

/// Upload `items` as a tar extracted at `dest` (which must exist) in the container.
pub(crate) async fn upload(
    docker: &Docker,
    container: &str,
    dest: &str,
    items: Vec<Item>,
) -> Result<(), Error> {
    let (stream, task) = tar_stream(items);
    let body = bollard::body_try_stream(stream.map(|chunk| chunk.map(Into::into)));
    let options = UploadToContainerOptionsBuilder::default().path(dest).build();
    let sent = docker.upload_to_container(container, Some(options), body).await;
    let built = match task.await {
        Ok(result) => result,
        Err(join) => Err(Error::env(format!("building an archive failed: {join}"))),
    };
    // A read error explains a failed upload better than the daemon's message.
    built?;
    sent.map_err(|e| docker_error("copying files into the container", &e))
}

/// Download `src` (a file or a directory) of the container into the host directory `dest`: a
/// file lands as `dest/NAME`, a directory's contents land in `dest`. Only regular files and
/// directories are written. Returns the number of files written; a missing `src` writes nothing.
pub(crate) async fn download(
    docker: &Docker,
    container: &str,
    src: &str,
    dest: &Path,
) -> Result<usize, Error> {
    let options = DownloadFromContainerOptionsBuilder::default().path(src).build();
    let mut stream = docker.download_from_container(container, Some(options));
    let mut archive = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => archive.extend_from_slice(&chunk),
            Err(e) if is_not_found(&e) => return Ok(0),
            Err(e) => {
                return Err(docker_error(&format!("copying {src} out of the container"), &e));
            }
        }
    }
    let dest = dest.to_path_buf();
    let result = tokio::task::spawn_blocking(move || unpack(&archive, &dest)).await;
    match result {
        Ok(r) => r,
        Err(join) => Err(Error::env(format!("unpacking an archive failed: {join}"))),
    }
}

/// Unpack an archive from the daemon into `dest`; when its first entry is a directory, that
/// directory's own name is dropped.
fn unpack(archive: &[u8], dest: &Path) -> Result<usize, Error> {
    let write_err = |path: &Path, source: io::Error| Error::Write { path: path.to_path_buf(), source };
    let mut archive = tar::Archive::new(archive);
    let entries = archive.entries().map_err(|e| write_err(dest, e))?;
    let mut strip_top = None;
    let mut files = 0;
    for entry in entries {
        let mut entry = entry.map_err(|e| write_err(dest, e))?;
        let kind = entry.header().entry_type();
        let strip = *strip_top.get_or_insert(kind == tar::EntryType::Directory);
        let path = entry.path().map_err(|e| write_err(dest, e))?.into_owned();
        let mut components = path.components();
        if strip {
            components.next();
        }
        let mut relative = PathBuf::new();
        for component in components {
            match component {
                Component::Normal(part) => relative.push(part),
                Component::CurDir => {}
                // Never write outside `dest`.
                _ => {
                    return Err(write_err(
                        &path,
                        io::Error::new(io::ErrorKind::InvalidData, "unsafe path in archive"),
                    ));
                }
            }
        }
        if relative.as_os_str().is_empty() {
            continue;
        }
        let target = dest.join(&relative);
        match kind {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&target).map_err(|e| write_err(&target, e))?
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| write_err(parent, e))?;
                }
                entry.unpack(&target).map_err(|e| write_err(&target, e))?;
                files += 1;
            }
            _ => {}
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpack_strips_a_top_directory_and_refuses_escapes() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_size(0);
        builder.append_data(&mut dir, "runner/", io::empty()).unwrap();
        let mut header = tar::Header::new_gnu();
        header.set_size(2);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header.clone(), "runner/out/a.txt", &b"hi"[..]).unwrap();
        let archive = builder.into_inner().unwrap();
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(unpack(&archive, dir.path()).unwrap(), 1);
        assert_eq!(std::fs::read(dir.path().join("out/a.txt")).unwrap(), b"hi");

        // A single file keeps its name.
        let mut builder = tar::Builder::new(Vec::new());
        builder.append_data(&mut header.clone(), "single.txt", &b"hi"[..]).unwrap();
        let archive = builder.into_inner().unwrap();
        assert_eq!(unpack(&archive, dir.path()).unwrap(), 1);
        assert!(dir.path().join("single.txt").is_file());

        // A `..` entry (written raw: the tar crate refuses to build one).
        let mut raw = tar::Header::new_old();
        raw.as_old_mut().name[..18].copy_from_slice(b"runner/../evil.txt");
        raw.set_size(2);
        raw.set_mode(0o644);
        raw.set_entry_type(tar::EntryType::Regular);
        raw.set_cksum();
        let mut bad = Vec::new();
        bad.extend_from_slice(raw.as_bytes());
        bad.extend_from_slice(b"hi");
        bad.resize(512 * 2, 0);
        bad.resize(512 * 4, 0);
        assert!(unpack(&bad, dir.path()).is_err());
    }
}
