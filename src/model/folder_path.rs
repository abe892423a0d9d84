//! An entry's folder path, shared by the entries of one folder.
//!
//! A million-entry export has a few thousand folders. Built as its own
//! `Vec<String>` for every entry, the path was two to four allocations per
//! entry on the reading threads, freed on another thread, and the mapper
//! hashed and compared every entry's copy to find its folder. A reader
//! that knows two entries share a folder hands both the same path (a
//! reference count each), and the mapper finds a folder it has seen by
//! the path's address.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// Folder path from the root, outermost first; empty is the root (and
/// holds no allocation).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct FolderPath(Option<Arc<[String]>>);

impl FolderPath {
    /// Where the path's segments live (`None` for the root). Equal
    /// addresses are the same path while either is held.
    pub fn address(&self) -> Option<usize> {
        Some(Arc::as_ptr(self.0.as_ref()?).cast::<String>() as usize)
    }

    /// Whether someone else holds this same path too: then another entry
    /// may hand it again, and its address is worth remembering.
    pub fn is_shared(&self) -> bool {
        self.0.as_ref().is_some_and(|parts| Arc::strong_count(parts) > 1)
    }
}

impl From<Vec<String>> for FolderPath {
    fn from(parts: Vec<String>) -> FolderPath {
        FolderPath((!parts.is_empty()).then(|| Arc::from(parts)))
    }
}

impl From<&[String]> for FolderPath {
    fn from(parts: &[String]) -> FolderPath {
        FolderPath((!parts.is_empty()).then(|| Arc::from(parts)))
    }
}

impl FromIterator<String> for FolderPath {
    fn from_iter<I: IntoIterator<Item = String>>(parts: I) -> FolderPath {
        FolderPath::from(parts.into_iter().collect::<Vec<String>>())
    }
}

impl Deref for FolderPath {
    type Target = [String];

    fn deref(&self) -> &[String] {
        self.0.as_deref().unwrap_or_default()
    }
}

impl fmt::Debug for FolderPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for FolderPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.deref().serialize(s)
    }
}

impl PartialEq<Vec<String>> for FolderPath {
    fn eq(&self, other: &Vec<String>) -> bool {
        self.deref() == other.as_slice()
    }
}

impl<const N: usize> PartialEq<[&str; N]> for FolderPath {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.len() == N && self.iter().zip(other).all(|(a, b)| a == b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_empty_and_equal_paths_are_equal_however_made() {
        assert!(FolderPath::from(Vec::new()).is_empty());
        assert_eq!(FolderPath::from(Vec::new()), FolderPath::default());
        let a = FolderPath::from(vec!["Ops".to_owned(), "DB".to_owned()]);
        let b = FolderPath::from(&["Ops".to_owned(), "DB".to_owned()][..]);
        assert_eq!(a, b);
        assert_eq!(a, ["Ops", "DB"]);
        assert_ne!(a, ["Ops"]);
        assert_eq!(serde_json::to_string(&a).unwrap(), r#"["Ops","DB"]"#);
        assert_eq!(format!("{a:?}"), r#"["Ops", "DB"]"#);
    }

    #[test]
    fn a_path_held_twice_is_shared_and_clones_have_its_address() {
        let a = FolderPath::from(vec!["Ops".to_owned()]);
        assert!(!a.is_shared(), "nobody else holds it");
        let b = a.clone();
        assert!(a.is_shared() && b.is_shared());
        assert_eq!(a.address(), b.address());
        let c = FolderPath::from(vec!["Ops".to_owned()]);
        assert_ne!(c.address(), a.address(), "equal paths made apart are apart");
        drop(b);
        assert!(!a.is_shared());
        assert_eq!(FolderPath::default().address(), None);
        assert!(!FolderPath::default().is_shared());
    }
}
