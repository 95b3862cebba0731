//! File modes for confidential data: recordings and call records must not be readable by
//! everyone on the machine (严格保密原则), so files are 0640 and directories 0750.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of recordings and the call database: owner writes, the supervisors' group reads.
pub(crate) const FILE_MODE: u32 = 0o640;
/// Mode of the recording directories.
pub(crate) const DIR_MODE: u32 = 0o750;

/// Creates `dir` and its missing parents with [`DIR_MODE`].
pub(crate) fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// Sets `path` to `mode` exactly, because the umask may have cleared bits we rely on.
pub(crate) fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(path, Permissions::from_mode(mode))
}

/// Creates a new file with [`FILE_MODE`]; an existing file is an error, so a recording is
/// never overwritten.
pub(crate) fn create_private_file(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .read(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)?;
    set_mode(path, FILE_MODE)?;
    Ok(file)
}
