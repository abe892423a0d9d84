//! An upload's folder on disk, from the first byte to the job's end, and
//! the sweeps that make sure none outlives its job.
//!
//! The folder holds the export in plaintext, so it must not be left
//! behind: [`UploadFolder`] deletes it when the request that is filling it
//! fails or is cut off (the timeout drops the handler, and the guard with
//! it); [`sweep_orphans`] deletes, at start-up, folders no job owns (a
//! server killed mid-upload); [`expire`] ends jobs nobody applied within
//! `--planned-job-ttl`, with their folders.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::workspace::service::ServiceStore;
use crate::workspace::WorkspaceError;

/// Deletes the folder on drop unless [`UploadFolder::keep`] was called.
#[derive(Debug)]
pub struct UploadFolder {
    path: Option<PathBuf>,
}

impl UploadFolder {
    pub fn new(path: PathBuf) -> UploadFolder {
        UploadFolder { path: Some(path) }
    }

    pub fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// The job owns the folder now: its end deletes it.
    pub fn keep(mut self) -> PathBuf {
        self.path.take().unwrap_or_default()
    }
}

impl Drop for UploadFolder {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            remove(&path);
        }
    }
}

/// Removes a folder and what is in it; gone already is fine.
pub fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_dir_all(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            eprintln!("vaultferry serve: cannot remove an upload folder: {e}");
        }
    }
}

/// Deletes every job folder (`job-…`) under `root` that no job owns.
/// Folders are matched by name, the job's id: the same store opened as
/// `--db ./ws.db` and as `--db ws.db` names its root two ways. Returns how
/// many were deleted.
pub fn sweep_orphans(store: &dyn ServiceStore, root: &Path) -> Result<usize, WorkspaceError> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Ok(0);
    };
    let owned: std::collections::HashSet<std::ffi::OsString> = store
        .upload_dirs()?
        .iter()
        .filter_map(|d| Path::new(d).file_name().map(|n| n.to_owned()))
        .collect();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("job-") && !owned.contains(&name) {
            remove(&entry.path());
            removed += 1;
        }
    }
    Ok(removed)
}

/// Ends the jobs that waited more than `ttl` (as of `now`, seconds since
/// the epoch) and deletes their uploads. Returns their ids.
pub fn expire(store: &dyn ServiceStore, ttl: Duration, now: i64) -> Result<Vec<String>, WorkspaceError> {
    let before = crate::model::Timestamp(now.saturating_sub(ttl.as_secs().min(i64::MAX as u64) as i64)).to_rfc3339();
    let expired = store.expire_jobs(&before)?;
    let mut ids = Vec::with_capacity(expired.len());
    for mut job in expired {
        if let Some(dir) = job.upload_dir.take() {
            remove(Path::new(&dir));
            store.save_job(&job)?;
        }
        ids.push(job.id);
    }
    Ok(ids)
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
