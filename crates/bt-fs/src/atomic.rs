use std::{
    fs::{self, File},
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
};

/// A file being written atomically: bytes go to `NAME.tmp` beside the target; [`AtomicFile::commit`]
/// syncs it, renames it over the target and syncs the directory. Dropped without a commit (an
/// error, a panic), it removes the temporary file.
///
/// The temporary name is fixed (`NAME.tmp`), so two writers of the same path at once must be
/// excluded by the caller (a run directory's [`crate::DirLock`] does); a temporary file left by a
/// killed process is simply overwritten by the next write.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
}

/// The temporary file of `path`: `NAME.tmp` in the same directory.
fn tmp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!("{name}.tmp"))
}

impl AtomicFile {
    /// Starts writing `path` (its directory must exist).
    pub fn create(path: impl Into<PathBuf>) -> io::Result<AtomicFile> {
        let path = path.into();
        let tmp = tmp_path(&path);
        let file = File::create(&tmp)?;
        Ok(AtomicFile { path, tmp, out: Some(BufWriter::with_capacity(1 << 16, file)) })
    }

    /// The target path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the file durable and visible: flush, fsync, rename over the target, then a
    /// best-effort fsync of the directory (some file systems cannot sync a directory; the
    /// content is on disk already).
    pub fn commit(mut self) -> io::Result<()> {
        let out = self.out.take().expect("an AtomicFile is committed once");
        let durable = (|| {
            let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&self.tmp, &self.path)
        })();
        if let Err(e) = durable {
            // Best effort: the write's error matters more than a failed cleanup.
            let _ = fs::remove_file(&self.tmp);
            return Err(e);
        }
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.as_mut().expect("not committed").write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.as_mut().expect("not committed").write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.as_mut().expect("not committed").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            // Abandoned: best effort, the error that led here matters more.
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `path` atomically and durably (see [`AtomicFile`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["a.txt"]);
        let err = write_atomic(&dir.path().join("missing/x.txt"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn an_abandoned_write_keeps_the_old_file_and_removes_the_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"old").unwrap();
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"half of the new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"old", "nothing visible before the commit");
        drop(f);
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["a.txt"]);
    }

    #[test]
    fn a_full_disk_fails_the_write_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        // /dev/full fails every write with ENOSPC, for root too.
        std::os::unix::fs::symlink("/dev/full", dir.path().join("a.txt.tmp")).unwrap();
        let err = write_atomic(&p, &[0u8; 1 << 17]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert!(!p.exists());
        assert!(names(dir.path()).is_empty(), "the temporary link is removed too");
    }

    #[test]
    fn a_failed_rename_removes_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("a.txt")).unwrap();
        let err = write_atomic(&dir.path().join("a.txt"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::IsADirectory);
        assert_eq!(names(dir.path()), ["a.txt"]);
    }
}
