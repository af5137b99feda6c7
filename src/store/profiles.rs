//! Named scoring profiles kept in the data directory, `profiles/<name>.toml`: saved by the
//! profile editor, read by `--profile <name>`. Each is written whole and atomically; the store
//! keeps the text and does not read it (scoring profiles are the `score` layer's).

use std::fs;
use std::path::{Path, PathBuf};

use super::{Store, write_atomic};
use crate::{Error, Result};

/// The directory of the saved profiles in a data directory.
pub const PROFILES_DIR: &str = "profiles";

/// Whether `name` can name a saved profile: 1 to 64 ASCII letters, digits, `-`, `_` and `.`,
/// not starting with `.` (so never a path, a hidden file or a temporary one).
pub fn is_profile_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn check(name: &str) -> Result<()> {
    if is_profile_name(name) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "profile name {name:?}: 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"
        )))
    }
}

impl Store {
    fn profile_path(&self, name: &str) -> PathBuf {
        self.dir.join(PROFILES_DIR).join(format!("{name}.toml"))
    }

    /// Saves profile `text` as `name`, replacing one of that name; a reader sees the old text
    /// or the new, never part of one.
    pub fn save_profile(&self, name: &str, text: &str) -> Result<PathBuf> {
        check(name)?;
        let dir = self.dir.join(PROFILES_DIR);
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = self.profile_path(name);
        write_atomic(&path, text.as_bytes())?;
        Ok(path)
    }

    /// The text of saved profile `name`, or `None` when there is none of that name.
    pub fn profile(&self, name: &str) -> Result<Option<String>> {
        check(name)?;
        read(&self.profile_path(name))
    }

    /// The names of the saved profiles, sorted.
    pub fn profile_names(&self) -> Result<Vec<String>> {
        let dir = self.dir.join(PROFILES_DIR);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&dir, e)),
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let file = e.file_name().to_string_lossy().into_owned();
                file.strip_suffix(".toml")
                    .filter(|n| is_profile_name(n))
                    .map(str::to_owned)
            })
            .collect();
        names.sort();
        Ok(names)
    }
}

fn read(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_never_paths() {
        for ok in ["gxd-2025", "pc_2026.v2", "A"] {
            assert!(is_profile_name(ok), "{ok}");
        }
        let long = "x".repeat(65);
        for bad in [
            "",
            ".hidden",
            "../etc",
            "a/b",
            "a\\b",
            "名前",
            "a b",
            long.as_str(),
        ] {
            assert!(!is_profile_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_saved_profile_reads_back_and_is_listed() {
        let dir = std::env::temp_dir().join(format!("mieruka-profiles-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let store = Store::create_or_open(&dir).expect("store");
        assert_eq!(store.profile("pc").expect("read"), None);
        assert!(store.profile_names().expect("names").is_empty());
        store.save_profile("pc", "name = \"pc\"\n").expect("save");
        store
            .save_profile("pc", "name = \"pc v2\"\n")
            .expect("replace");
        store
            .save_profile("battery", "name = \"b\"\n")
            .expect("save");
        assert_eq!(
            store.profile("pc").expect("read").as_deref(),
            Some("name = \"pc v2\"\n")
        );
        assert_eq!(store.profile_names().expect("names"), ["battery", "pc"]);
        let e = store.save_profile("../x", "").expect_err("not a name");
        assert!(e.to_string().contains("profile name"), "{e}");
        // No temporary file is left beside them.
        let files = fs::read_dir(dir.join(PROFILES_DIR)).expect("dir").count();
        assert_eq!(files, 2);
        let _ = fs::remove_dir_all(&dir);
    }
}
