//! Taking files from a directory: one of this machine's (`folder` sources, which an
//! SFTP server or a mail-to-file gateway writes into) or one on a partner's SFTP server
//! (`sftp` sources). A file is taken once complete (its size and time unchanged for
//! `settle`, or a marker file beside it), oldest first; once stored it is moved to
//! `processed/` or `failed/` with its acknowledgement beside it, or deleted.
//! Storing what a file holds is the application's (`app::pull`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use russh::client;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;

use super::definition::{After, Complete, Files, Sftp, SftpAuth};

/// A file of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub name: String,
    pub size: u64,
    /// Seconds since the epoch (0 when the server does not say).
    pub modified: u64,
}

/// An open directory.
pub(crate) enum Dir {
    Local(PathBuf),
    Sftp {
        session: SftpSession,
        /// Kept open while the SFTP session is used.
        _ssh: Box<client::Handle<PinnedHost>>,
        path: String,
    },
}

/// What became of a taken file.
pub(crate) struct Settled<'a> {
    /// Stored in full (`processed/`), or refused in whole or in part (`failed/`).
    pub processed: bool,
    /// The acknowledgement: the unified endpoint's answer for the file, as JSON.
    pub ack: &'a [u8],
}

impl Dir {
    /// Opens the directory of a `folder` source.
    pub(crate) fn local(files: &Files) -> Result<Dir, String> {
        let path = PathBuf::from(&files.path);
        if !path.is_dir() {
            return Err(format!(
                "the directory {} does not exist or is not a directory",
                path.display()
            ));
        }
        Ok(Dir::Local(path))
    }

    /// Logs in to the SFTP server of an `sftp` source (only when it shows the pinned
    /// host key) and opens its SFTP subsystem.
    pub(crate) async fn sftp(sftp: &Sftp) -> Result<Dir, String> {
        let config = Arc::new(client::Config {
            inactivity_timeout: Some(sftp.timeout.max(Duration::from_secs(5))),
            ..Default::default()
        });
        let address = (sftp.host.as_str(), sftp.port);
        let pinned = PinnedHost {
            expected: sftp.host_key.clone(),
        };
        let connect = client::connect(config, address, pinned);
        let mut ssh = match tokio::time::timeout(sftp.timeout, connect).await {
            Err(_) => {
                return Err(format!(
                    "connecting to {}:{}: no answer within {}",
                    sftp.host,
                    sftp.port,
                    humantime::format_duration(sftp.timeout)
                ));
            }
            Ok(Err(HostError::Unexpected(shown))) => {
                return Err(format!(
                    "{}:{} shows the host key {shown}, not the one pinned in `host_key`: not logging in (if the partner changed its key, check the new one with them and update the source)",
                    sftp.host, sftp.port
                ));
            }
            Ok(Err(e)) => return Err(format!("connecting to {}:{}: {e}", sftp.host, sftp.port)),
            Ok(Ok(ssh)) => ssh,
        };
        let user = sftp.user.clone();
        let logged_in = match &sftp.auth {
            SftpAuth::Key { file, passphrase } => {
                let passphrase = passphrase.as_ref().map(|p| p.read()).transpose()?;
                let key = russh::keys::load_secret_key(file, passphrase.as_deref())
                    .map_err(|e| format!("the key file {}: {e}", file.display()))?;
                let hash = ssh
                    .best_supported_rsa_hash()
                    .await
                    .map_err(|e| e.to_string())?
                    .flatten();
                ssh.authenticate_publickey(user, PrivateKeyWithHashAlg::new(Arc::new(key), hash))
                    .await
            }
            SftpAuth::Password(password) => ssh.authenticate_password(user, password.read()?).await,
        }
        .map_err(|e| format!("logging in to {}: {e}", sftp.host))?;
        if !logged_in.success() {
            return Err(format!(
                "{}:{} refused the login of `{}`",
                sftp.host, sftp.port, sftp.user
            ));
        }
        let channel = ssh
            .channel_open_session()
            .await
            .map_err(|e| format!("opening a session: {e}"))?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(|e| format!("starting SFTP: {e}"))?;
        let session = SftpSession::new(channel.into_stream())
            .await
            .map_err(|e| format!("starting SFTP: {e}"))?;
        session.set_timeout(sftp.timeout.as_secs().max(1));
        Ok(Dir::Sftp {
            session,
            _ssh: Box::new(ssh),
            path: sftp.files.path.trim_end_matches('/').to_string(),
        })
    }

    /// The directory's regular files.
    pub(crate) async fn list(&self) -> Result<Vec<Entry>, String> {
        match self {
            Dir::Local(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || list_local(&path))
                    .await
                    .map_err(|e| e.to_string())?
            }
            Dir::Sftp { session, path, .. } => {
                let entries = session
                    .read_dir(path.as_str())
                    .await
                    .map_err(|e| format!("listing {path}: {e}"))?;
                Ok(entries
                    .filter(|e| e.file_type().is_file())
                    .map(|e| {
                        let meta = e.metadata();
                        Entry {
                            name: e.file_name(),
                            size: meta.size.unwrap_or(0),
                            modified: u64::from(meta.mtime.unwrap_or(0)),
                        }
                    })
                    .collect())
            }
        }
    }

    /// The file's bytes, or `None` when it holds more than `max` bytes.
    pub(crate) async fn read(&self, entry: &Entry, max: usize) -> Result<Option<Vec<u8>>, String> {
        if entry.size > max as u64 {
            return Ok(None);
        }
        let bytes = match self {
            Dir::Local(path) => tokio::fs::read(path.join(&entry.name))
                .await
                .map_err(|e| format!("reading {}: {e}", entry.name))?,
            Dir::Sftp { session, path, .. } => session
                .read(format!("{path}/{}", entry.name))
                .await
                .map_err(|e| format!("reading {path}/{}: {e}", entry.name))?,
        };
        Ok((bytes.len() <= max).then_some(bytes))
    }

    /// Moves or deletes a taken file as the source says, and its marker with it.
    pub(crate) async fn settle(
        &self,
        files: &Files,
        entry: &Entry,
        settled: Settled<'_>,
    ) -> Result<(), String> {
        if let Complete::Marker(suffix) = &files.complete {
            self.remove(&format!("{}{suffix}", entry.name)).await?;
        }
        match &files.after {
            After::Delete => self.remove(&entry.name).await,
            After::Move { processed, failed } => {
                let dir = if settled.processed { processed } else { failed };
                let dir = self.join(dir);
                self.ensure_dir(&dir).await?;
                let taken = self.free_name(&dir, &entry.name).await?;
                self.rename(&self.join(&entry.name), &format!("{dir}/{taken}"))
                    .await?;
                self.write(&format!("{dir}/{taken}.ack.json"), settled.ack)
                    .await
            }
        }
    }

    /// Writes `bytes` as file `name` of the directory (created when missing): under
    /// a temporary name first (`.NAME.part`), then renamed, so that a reader never
    /// sees part of it. A file of that name already there with the same size is
    /// taken for this one, written by an earlier attempt; another is an error.
    pub(crate) async fn put(&self, name: &str, bytes: &[u8]) -> Result<(), String> {
        let root = match self {
            Dir::Local(path) => path.to_string_lossy().into_owned(),
            Dir::Sftp { path, .. } => path.clone(),
        };
        self.ensure_dir(&root).await?;
        let target = self.join(name);
        let temporary = self.join(&format!(".{name}.part"));
        if let Some(size) = self.size(&target).await? {
            if size == bytes.len() as u64 {
                return Ok(());
            }
            return Err(format!(
                "{target} is already there, with other content ({size} bytes): not overwritten"
            ));
        }
        self.write(&temporary, bytes).await?;
        self.rename(&temporary, &target).await
    }

    /// The size of the file at `path`, if there is one.
    async fn size(&self, path: &str) -> Result<Option<u64>, String> {
        match self {
            Dir::Local(_) => match tokio::fs::metadata(path).await {
                Ok(meta) => Ok(Some(meta.len())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("looking for {path}: {e}")),
            },
            Dir::Sftp { session, .. } => {
                if !self.exists(path).await? {
                    return Ok(None);
                }
                session
                    .metadata(path)
                    .await
                    .map(|m| m.size)
                    .map_err(|e| format!("looking at {path}: {e}"))
            }
        }
    }

    /// `name` within the directory, or `name` itself when absolute.
    fn join(&self, name: &str) -> String {
        if name.starts_with('/') {
            return name.to_string();
        }
        match self {
            Dir::Local(path) => path.join(name).to_string_lossy().into_owned(),
            Dir::Sftp { path, .. } => format!("{path}/{name}"),
        }
    }

    async fn exists(&self, path: &str) -> Result<bool, String> {
        match self {
            Dir::Local(_) => Ok(tokio::fs::try_exists(path).await.unwrap_or(false)),
            Dir::Sftp { session, .. } => session
                .try_exists(path)
                .await
                .map_err(|e| format!("looking for {path}: {e}")),
        }
    }

    async fn ensure_dir(&self, path: &str) -> Result<(), String> {
        if self.exists(path).await? {
            return Ok(());
        }
        match self {
            Dir::Local(_) => tokio::fs::create_dir_all(path).await,
            Dir::Sftp { session, .. } => session
                .create_dir(path)
                .await
                .map_err(|e| std::io::Error::other(e.to_string())),
        }
        .map_err(|e| format!("creating {path}: {e}"))
    }

    /// `name`, or `name` with the time before its extension when `dir` holds a file
    /// of that name (one taken earlier).
    async fn free_name(&self, dir: &str, name: &str) -> Result<String, String> {
        if !self.exists(&format!("{dir}/{name}")).await? {
            return Ok(name.to_string());
        }
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        Ok(match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => format!("{stem}-{stamp}.{ext}"),
            _ => format!("{name}-{stamp}"),
        })
    }

    async fn rename(&self, from: &str, to: &str) -> Result<(), String> {
        match self {
            Dir::Local(_) => tokio::fs::rename(from, to).await.map_err(|e| e.to_string()),
            Dir::Sftp { session, .. } => session.rename(from, to).await.map_err(|e| e.to_string()),
        }
        .map_err(|e| format!("moving {from} to {to}: {e}"))
    }

    async fn write(&self, path: &str, bytes: &[u8]) -> Result<(), String> {
        match self {
            Dir::Local(_) => tokio::fs::write(path, bytes)
                .await
                .map_err(|e| e.to_string()),
            Dir::Sftp { session, .. } => {
                use tokio::io::AsyncWriteExt;
                async {
                    let mut file = session.create(path).await?;
                    file.write_all(bytes).await?;
                    file.shutdown().await?;
                    Ok::<_, std::io::Error>(())
                }
                .await
                .map_err(|e| e.to_string())
            }
        }
        .map_err(|e| format!("writing {path}: {e}"))
    }

    async fn remove(&self, name: &str) -> Result<(), String> {
        let path = self.join(name);
        match self {
            Dir::Local(_) => match tokio::fs::remove_file(&path).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
                _ => Ok(()),
            },
            Dir::Sftp { session, .. } => {
                if session.try_exists(path.as_str()).await.unwrap_or(true) {
                    session
                        .remove_file(path.as_str())
                        .await
                        .map_err(|e| e.to_string())
                } else {
                    Ok(())
                }
            }
        }
        .map_err(|e| format!("deleting {path}: {e}"))
    }
}

fn list_local(path: &Path) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(path).map_err(|e| format!("listing {}: {e}", path.display()))?;
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        out.push(Entry {
            name: entry.file_name().to_string_lossy().into_owned(),
            size: meta.len(),
            modified,
        });
    }
    Ok(out)
}

/// The files of `listing` that are ready to take, oldest first, at most `max_files`.
/// With a settle time, `settled` is the listing taken that long later: a file is
/// ready when it is in both with the same size and time.
pub(crate) fn ready(files: &Files, listing: &[Entry], settled: Option<&[Entry]>) -> Vec<Entry> {
    let names: std::collections::HashSet<&str> = listing.iter().map(|e| e.name.as_str()).collect();
    let mut out: Vec<Entry> = listing
        .iter()
        .filter(|e| matches(&files.pattern, &e.name))
        .filter(|e| !e.name.ends_with(".ack.json") && !e.name.starts_with('.'))
        .filter(|e| match &files.complete {
            Complete::Marker(suffix) => {
                !e.name.ends_with(suffix.as_str())
                    && names.contains(format!("{}{suffix}", e.name).as_str())
            }
            Complete::Stable(_) => settled.is_some_and(|later| later.contains(e)),
        })
        .cloned()
        .collect();
    out.sort_by(|a, b| (a.modified, &a.name).cmp(&(b.modified, &b.name)));
    out.truncate(files.max_files as usize);
    out
}

/// Whether `name` matches `pattern` (`*`: any run of characters, `?`: one).
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // The classic two-pointer match with backtracking to the last `*`.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// The SSH client's check of the server: its key must be the pinned one.
pub(crate) struct PinnedHost {
    /// An OpenSSH public key, or a `SHA256:` fingerprint.
    expected: String,
}

/// Why the SSH connection failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HostError {
    #[error("the server's host key {0} is not the pinned one")]
    Unexpected(String),
    #[error(transparent)]
    Ssh(#[from] russh::Error),
}

impl client::Handler for PinnedHost {
    type Error = HostError;

    async fn check_server_key(
        &mut self,
        shown: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match shown {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.key_data(),
            PublicKeyOrCertificate::Certificate(cert) => cert.public_key(),
        };
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let same = if self.expected.starts_with("SHA256:") {
            fingerprint == self.expected
        } else {
            PublicKey::from_openssh(&self.expected).is_ok_and(|expected| expected.key_data() == key)
        };
        if same {
            Ok(true)
        } else {
            Err(HostError::Unexpected(fingerprint))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_with_stars_and_question_marks() {
        assert!(matches("*", "orders.csv"));
        assert!(matches("*.csv", "orders.csv"));
        assert!(!matches("*.csv", "orders.csv.part"));
        assert!(matches("ord??s-*.csv", "orders-2026.csv"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("*.*", "x.y"));
        assert!(!matches("", "x"));
    }

    fn entry(name: &str, size: u64, modified: u64) -> Entry {
        Entry {
            name: name.into(),
            size,
            modified,
        }
    }

    fn files(complete: Complete) -> Files {
        Files {
            path: "/in".into(),
            pattern: "*.csv".into(),
            content_type: None,
            complete,
            after: After::Delete,
            max_files: 2,
        }
    }

    #[test]
    fn a_file_is_ready_once_stable_or_marked_oldest_first_and_capped() {
        let first = [
            entry("b.csv", 10, 5),
            entry("a.csv", 10, 6),
            entry("growing.csv", 10, 7),
            entry("c.csv", 3, 1),
            entry("notes.txt", 1, 1),
        ];
        let later = [
            entry("b.csv", 10, 5),
            entry("a.csv", 10, 6),
            entry("growing.csv", 20, 8),
            entry("c.csv", 3, 1),
        ];
        let stable = files(Complete::Stable(Duration::from_secs(1)));
        let names: Vec<String> = ready(&stable, &first, Some(&later))
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["c.csv", "b.csv"]);
        assert!(ready(&stable, &first, None).is_empty());

        let marked = files(Complete::Marker(".done".into()));
        let listing = [
            entry("a.csv", 1, 1),
            entry("a.csv.done", 0, 1),
            entry("b.csv", 1, 1),
        ];
        let names: Vec<String> = ready(&marked, &listing, None)
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["a.csv"]);
    }
}
