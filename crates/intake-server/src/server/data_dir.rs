//! The data directory: its lock, its private files (the URL-signing secret, the admin key) written
//! so that a crash never leaves half a file.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use super::ServeError;

/// The error for a path in the data directory that cannot be used.
pub(super) fn data_error(path: &Path) -> impl FnOnce(std::io::Error) -> ServeError + '_ {
    move |source| ServeError::DataDir {
        path: path.to_owned(),
        source,
    }
}

/// Takes the data directory's lock file, so two servers never share one directory.
pub(super) fn lock(dir: &Path) -> Result<File, ServeError> {
    let path = dir.join("lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(data_error(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ServeError::Locked(dir.to_owned())),
        Err(std::fs::TryLockError::Error(e)) => Err(data_error(&path)(e)),
    }
}

/// Writes `contents` to `dir/name` readable by the owner only (mode 0600), through a temporary name
/// and a rename, so a crash never leaves a partial file behind; the directory lock means no other
/// server races this.
pub(super) fn write_private(
    dir: &Path,
    name: &str,
    contents: &[u8],
) -> Result<PathBuf, ServeError> {
    let path = dir.join(name);
    let temp = dir.join(format!("{name}.tmp"));
    let _ = std::fs::remove_file(&temp);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, &path))
        .map_err(data_error(&path))?;
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
    Ok(path)
}

/// Reads the signing secret, creating it (mode 0600) on first start.
pub(super) fn secret(dir: &Path) -> Result<Vec<u8>, ServeError> {
    let path = dir.join("secret");
    let invalid = |reason: &str| ServeError::Secret {
        path: path.clone(),
        reason: reason.to_owned(),
    };
    if !path.exists() {
        let mut bytes = vec![0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| invalid(&format!("no randomness: {e}")))?;
        write_private(dir, "secret", hex::encode(&bytes).as_bytes())?;
        tracing::info!(path = %path.display(), "created the URL-signing secret");
        return Ok(bytes);
    }
    match File::open(&path) {
        Ok(mut file) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = file
                    .metadata()
                    .map_err(data_error(&path))?
                    .permissions()
                    .mode();
                if mode & 0o077 != 0 {
                    return Err(invalid(&format!(
                        "its mode is {:o}; other users could forge upload URLs (run chmod 600)",
                        mode & 0o777
                    )));
                }
            }
            let mut text = String::new();
            file.read_to_string(&mut text).map_err(data_error(&path))?;
            let text = text.trim();
            if text.len() < 64 {
                return Err(invalid("it must hold at least 32 bytes in hex"));
            }
            hex::decode(text).map_err(|_| invalid("it is not hex"))
        }
        Err(e) => Err(data_error(&path)(e)),
    }
}
