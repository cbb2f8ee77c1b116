//! Writing what the API or storage sends: to standard output, or to a file that appears whole or
//! not at all (written beside its target, synced, then renamed).

use std::path::{Path, PathBuf};

use futures::StreamExt as _;
use reqwest::Response;
use tokio::io::AsyncWriteExt as _;

use crate::client::ClientError;

/// Where a download is saved: `-o FILE` (or `-` for stdout) and `--force`, shared by the commands
/// that save a file.
#[derive(Debug, clap::Args)]
pub(crate) struct SaveArgs {
    /// Where to write (default: the name the API gives the file, in the current directory; `-` for
    /// stdout).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
}

impl SaveArgs {
    /// Where to write: as [`Sink::choose`], with `default` when no `-o` is given.
    ///
    /// # Errors
    /// As [`Sink::choose`].
    pub(crate) fn sink(&self, default: impl FnOnce() -> PathBuf) -> Result<Sink, ClientError> {
        Sink::choose(self.output.as_deref(), default, self.force)
    }
}

/// Where a download goes.
#[derive(Debug)]
pub(crate) enum Sink {
    /// Standard output (`-o -`).
    Stdout,
    /// A file, written atomically.
    File(PathBuf),
}

impl Sink {
    /// Standard output for `-`, else the file `output` names, else `default` in the current
    /// directory; an existing file is refused unless `force`.
    ///
    /// # Errors
    /// [`ClientError::Input`] when the file exists and `force` is not given.
    pub(crate) fn choose(
        output: Option<&Path>,
        default: impl FnOnce() -> PathBuf,
        force: bool,
    ) -> Result<Self, ClientError> {
        if output == Some(Path::new("-")) {
            return Ok(Self::Stdout);
        }
        let target = output.map_or_else(default, Path::to_path_buf);
        if target.exists() && !force {
            return Err(ClientError::Input(format!(
                "{} exists; use --force to overwrite",
                target.display()
            )));
        }
        Ok(Self::File(target))
    }
}

/// Streams `response`'s body (from `url`) into `sink`; the bytes written.
///
/// # Errors
/// [`ClientError::Unreachable`] when the body breaks off (no partial file is left),
/// [`ClientError::File`] when writing fails.
pub(crate) async fn save(response: Response, url: &str, sink: &Sink) -> Result<u64, ClientError> {
    let mut stream = response.bytes_stream();
    let broken = |error: reqwest::Error| ClientError::Unreachable {
        url: url.to_owned(),
        reason: error.to_string(),
    };
    let target = match sink {
        Sink::Stdout => {
            let mut stdout = tokio::io::stdout();
            let mut written = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(broken)?;
                written += chunk.len() as u64;
                stdout
                    .write_all(&chunk)
                    .await
                    .map_err(ClientError::file("-"))?;
            }
            stdout.flush().await.map_err(ClientError::file("-"))?;
            return Ok(written);
        }
        Sink::File(target) => target,
    };
    // Write beside the target and rename, so an interrupted download never leaves a partial file.
    let partial = target.with_extension("intake-partial");
    let mut file = tokio::fs::File::create(&partial)
        .await
        .map_err(ClientError::file(&partial))?;
    let mut written = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(broken(error));
            }
        };
        written += chunk.len() as u64;
        file.write_all(&chunk)
            .await
            .map_err(ClientError::file(&partial))?;
    }
    file.sync_all().await.map_err(ClientError::file(&partial))?;
    tokio::fs::rename(&partial, target)
        .await
        .map_err(ClientError::file(target))?;
    Ok(written)
}

/// The file name a `Content-Disposition` header gives (`filename*=UTF-8''…` first, else
/// `filename="…"`), as one safe path component: never a directory, `.` or `..`.
pub(crate) fn disposition_name(value: &str) -> Option<String> {
    let parameter = |name: &str| {
        value
            .split(';')
            .map(str::trim)
            .find_map(|p| p.strip_prefix(name))
            .map(str::to_owned)
    };
    let name = parameter("filename*=UTF-8''")
        .and_then(|encoded| {
            percent_encoding::percent_decode_str(&encoded)
                .decode_utf8()
                .ok()
                .map(std::borrow::Cow::into_owned)
        })
        .or_else(|| parameter("filename=").map(|n| n.trim_matches('"').to_owned()))?;
    let component = Path::new(&name).file_name()?.to_str()?.to_owned();
    (component == name && !component.contains(['/', '\\']) && component != "..")
        .then_some(component)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_the_exact_one_and_never_a_path() {
        let name = |v: &str| disposition_name(v);
        assert_eq!(
            name("attachment; filename=\"_t_ 1.hocr\"; filename*=UTF-8''%C3%A9t%C3%A9%201.hocr")
                .as_deref(),
            Some("été 1.hocr")
        );
        assert_eq!(
            name("attachment; filename=\"scan.xml\"").as_deref(),
            Some("scan.xml")
        );
        for bad in [
            "attachment; filename*=UTF-8''..%2Fetc%2Fpasswd",
            "attachment; filename=\"../x\"",
            "attachment; filename=\"..\"",
            "attachment; filename*=UTF-8''a%5Cb",
            "attachment",
        ] {
            assert_eq!(name(bad), None, "{bad}");
        }
    }
}
