//! Putting the control socket in place: never world-accessible, not even between `bind` and
//! `chmod` (it is bound inside a private folder and linked into place), and never at the
//! cost of a file that is not a socket.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use thiserror::Error;
use tokio::net::UnixListener;

/// Mode of the control socket: only the switch's own user may connect.
pub const SOCKET_MODE: u32 = 0o600;
/// Mode of the folder the socket is bound in before it is linked into place.
const PRIVATE_DIR_MODE: u32 = 0o700;

/// Why the control socket could not be put in place.
#[derive(Debug, Error)]
pub enum SocketError {
    /// Something other than a socket is at the path: it is somebody's file, left alone.
    #[error(
        "{0} exists and is not a socket; refusing to replace it (move it away or give another --control)"
    )]
    NotASocket(PathBuf),
    /// A running switch answers on the path already.
    #[error("{0}: another switch answers on this control socket")]
    InUse(PathBuf),
    /// The OS refused a step.
    #[error("{what} {path}: {source}")]
    Io {
        /// The step.
        what: &'static str,
        /// The file or folder concerned.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> SocketError {
    let path = path.to_path_buf();
    move |source| SocketError::Io { what, path, source }
}

/// Binds a listener reachable at `path` with mode [`SOCKET_MODE`]: a stale socket of a
/// switch that died is replaced; anything else at `path` is refused and left in place.
pub fn bind_private(path: &Path) -> Result<UnixListener, SocketError> {
    clear_stale(path)?;
    let dir = private_dir_beside(path)?;
    let bound = dir.join("s");
    let listener = bind_and_link(&bound, path);
    // The folder and its name for the socket are only scaffolding.
    let _ = fs::remove_file(&bound);
    let _ = fs::remove_dir(&dir);
    listener
}

/// Removes a socket left at `path` by a switch that is gone; refuses a live one and
/// anything that is not a socket (a symlink included: it is not followed).
fn clear_stale(path: &Path) -> Result<(), SocketError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("looking at", path)(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(SocketError::NotASocket(path.to_path_buf()));
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(SocketError::InUse(path.to_path_buf()));
    }
    fs::remove_file(path).map_err(io_err("removing the stale socket", path))
}

/// A new folder of mode 0700 in `path`'s folder, for binding.
fn private_dir_beside(path: &Path) -> Result<PathBuf, SocketError> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Short, because a socket path has room for about 100 bytes.
    let name = format!(
        ".hl{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let dir = parent.join(name);
    fs::DirBuilder::new()
        .mode(PRIVATE_DIR_MODE)
        .create(&dir)
        .map_err(io_err("creating", &dir))?;
    Ok(dir)
}

/// Binds at `bound` (in the private folder), sets the final mode, then links it to `path`;
/// a link, unlike a rename, never replaces a file that appeared at `path` meanwhile.
fn bind_and_link(bound: &Path, path: &Path) -> Result<UnixListener, SocketError> {
    let listener = UnixListener::bind(bound).map_err(io_err("binding", bound))?;
    fs::set_permissions(bound, fs::Permissions::from_mode(SOCKET_MODE))
        .map_err(io_err("setting the mode of", bound))?;
    fs::hard_link(bound, path).map_err(io_err("linking the socket to", path))?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn the_socket_is_the_owners_alone_and_no_scaffolding_is_left() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let path = dir.join("hotline.sock");
        let _listener = bind_private(&path).unwrap();
        assert!(fs::symlink_metadata(&path).unwrap().file_type().is_socket());
        assert_eq!(mode(&path), SOCKET_MODE);
        let left: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["hotline.sock"]);
        tokio::net::UnixStream::connect(&path).await.unwrap();
    }

    #[tokio::test]
    async fn a_file_at_the_path_is_refused_and_kept() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let path = dir.join("hotline.sock");
        fs::write(&path, "the operator's notes").unwrap();
        let err = bind_private(&path).unwrap_err();
        assert!(matches!(err, SocketError::NotASocket(_)), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "the operator's notes");
        let target = dir.join("elsewhere");
        fs::write(&target, "kept").unwrap();
        let link = dir.join("link.sock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            bind_private(&link),
            Err(SocketError::NotASocket(_))
        ));
        assert_eq!(fs::read_to_string(&target).unwrap(), "kept");
    }

    #[tokio::test]
    async fn a_stale_socket_is_replaced_and_a_live_one_refused() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let path = dir.join("hotline.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let live = bind_private(&path).unwrap();
        assert!(matches!(bind_private(&path), Err(SocketError::InUse(_))));
        drop(live);
    }
}
