//! 1Password categories → entry kinds, from `formats/onepassword-categories.toml`.
//!
//! The three export families name the same categories three ways (1PUX by
//! code, 1PIF by `typeName`, CSV by English name), so one table keeps them in
//! step; it is compiled in and parsed once.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::model::EntryKind;

const TABLE: &str = include_str!("../../../formats/onepassword-categories.toml");

#[derive(Debug, Deserialize)]
struct RawTable {
    category: Vec<RawCategory>,
    #[serde(default)]
    pif_extra: HashMap<String, String>,
    pif_families: RawFamilies,
}

#[derive(Debug, Deserialize)]
struct RawCategory {
    code: String,
    name: String,
    kind: String,
    #[serde(default)]
    pif: Vec<String>,
    #[serde(default)]
    aliases: Vec<String>,
    /// Lowercased labels of the category's template fields, to tell the
    /// category of a row in a CSV with no type column (1Password 7 for
    /// Windows).
    #[serde(default)]
    csv_fields: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RawFamilies {
    prefixes: Vec<String>,
    ignored: Vec<String>,
}

pub(crate) struct Categories {
    by_code: HashMap<String, (EntryKind, String)>,
    by_pif: HashMap<String, EntryKind>,
    /// Lowercased English names (and aliases) as CSV `Type` columns write them.
    by_name: HashMap<String, EntryKind>,
    pif_prefixes: Vec<String>,
    pif_ignored: Vec<String>,
    /// In table order, which breaks ties.
    by_fields: Vec<(EntryKind, Vec<String>)>,
}

/// What a 1PIF `typeName` is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PifType {
    Item(EntryKind),
    /// In a known family but not in the table: kept as `unknown`.
    UnknownItem,
    Folder,
    /// Saved searches and tombstones: not items.
    Ignored,
    /// Not a 1Password type at all.
    Foreign,
}

pub(crate) fn table() -> &'static Categories {
    static TABLE_CELL: OnceLock<Categories> = OnceLock::new();
    TABLE_CELL.get_or_init(|| build(TABLE))
}

/// Builds the lookup maps. The table is compiled in and checked by a unit
/// test, so a broken row can only come from an edit to the file; such a row
/// is left out rather than crashing a user's import.
fn build(text: &str) -> Categories {
    let raw: RawTable = toml::from_str(text).unwrap_or(RawTable {
        category: Vec::new(),
        pif_extra: HashMap::new(),
        pif_families: RawFamilies {
            prefixes: Vec::new(),
            ignored: Vec::new(),
        },
    });
    let mut out = Categories {
        by_code: HashMap::new(),
        by_pif: HashMap::new(),
        by_name: HashMap::new(),
        pif_prefixes: raw.pif_families.prefixes,
        pif_ignored: raw.pif_families.ignored,
        by_fields: Vec::new(),
    };
    for c in raw.category {
        let Some(kind) = EntryKind::from_name(&c.kind) else {
            continue;
        };
        out.by_code.insert(c.code.clone(), (kind, c.name.clone()));
        out.by_name.insert(c.name.to_lowercase(), kind);
        for alias in c.aliases {
            out.by_name.insert(alias.to_lowercase(), kind);
        }
        for pif in c.pif {
            out.by_pif.insert(pif, kind);
        }
        if !c.csv_fields.is_empty() {
            out.by_fields.push((kind, c.csv_fields));
        }
    }
    for (type_name, kind) in raw.pif_extra {
        if let Some(kind) = EntryKind::from_name(&kind) {
            out.by_pif.insert(type_name, kind);
        }
    }
    out
}

impl Categories {
    /// The kind and English name of a 1PUX category code.
    pub(crate) fn by_code(&self, code: &str) -> Option<(EntryKind, &str)> {
        self.by_code.get(code).map(|(k, n)| (*k, n.as_str()))
    }

    /// The kind named by a CSV `Type` cell ("Login", "Secure Note"…).
    pub(crate) fn by_name(&self, name: &str) -> Option<EntryKind> {
        self.by_name.get(&name.trim().to_lowercase()).copied()
    }

    /// The category whose template field labels (lowercased) `labels`
    /// fills most, when it fills at least `min` of them: one shared label
    /// ("number", "website") says nothing.
    pub(crate) fn by_fields(&self, labels: &[String], min: usize) -> Option<EntryKind> {
        let mut best: Option<(usize, EntryKind)> = None;
        for (kind, template) in &self.by_fields {
            let score = template.iter().filter(|t| labels.contains(t)).count();
            if score >= min.max(1) && best.map_or(true, |(b, _)| score > b) {
                best = Some((score, *kind));
            }
        }
        best.map(|(_, k)| k)
    }

    pub(crate) fn pif_type(&self, type_name: &str) -> PifType {
        if type_name == "system.folder.Regular" {
            return PifType::Folder;
        }
        // An OPVault-shaped record (1Password for Windows), by category
        // code; `099` is OPVault's tombstone.
        if let Some(code) = type_name.strip_prefix(super::pif_shapes::CATEGORY_PREFIX) {
            return match self.by_code(code) {
                Some((kind, _)) => PifType::Item(kind),
                None if code == "099" => PifType::Ignored,
                None => PifType::UnknownItem,
            };
        }
        if self.pif_ignored.iter().any(|t| t == type_name) {
            return PifType::Ignored;
        }
        if let Some(kind) = self.by_pif.get(type_name) {
            return PifType::Item(*kind);
        }
        if self.pif_prefixes.iter().any(|p| type_name.starts_with(p.as_str())) {
            return PifType::UnknownItem;
        }
        PifType::Foreign
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_covers_every_1pux_code() {
        let raw: RawTable = toml::from_str(TABLE).expect("formats/onepassword-categories.toml parses");
        for c in &raw.category {
            assert!(EntryKind::from_name(&c.kind).is_some(), "unknown kind {}", c.kind);
        }
        let t = table();
        for code in [
            "001", "002", "003", "004", "005", "006", "100", "101", "102", "103", "104", "105", "106", "107", "108",
            "109", "110", "111", "112", "113", "114", "115",
        ] {
            assert!(t.by_code(code).is_some(), "category {code} missing");
        }
        assert_eq!(t.by_code("114").map(|c| c.0), Some(EntryKind::SshKey));
        assert_eq!(t.by_code("999"), None);
    }

    #[test]
    fn pif_type_names_and_csv_names_resolve() {
        let t = table();
        assert_eq!(t.pif_type("webforms.WebForm"), PifType::Item(EntryKind::Login));
        assert_eq!(t.pif_type("wallet.computer.Router"), PifType::Item(EntryKind::Wifi));
        assert_eq!(t.pif_type("wallet.financial.Futures"), PifType::UnknownItem);
        assert_eq!(t.pif_type("system.Tombstone"), PifType::Ignored);
        assert_eq!(t.pif_type("system.folder.Regular"), PifType::Folder);
        assert_eq!(t.pif_type("com.example.Thing"), PifType::Foreign);
        assert_eq!(t.pif_type("category:002"), PifType::Item(EntryKind::CreditCard));
        assert_eq!(t.pif_type("category:099"), PifType::Ignored);
        assert_eq!(t.pif_type("category:777"), PifType::UnknownItem);
        assert_eq!(t.by_name("secure note"), Some(EntryKind::SecureNote));
        assert_eq!(t.by_name("Social"), None);
        let labels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            t.by_fields(&labels(&["cardholder name", "number", "expiry date"]), 2),
            Some(EntryKind::CreditCard)
        );
        assert_eq!(
            t.by_fields(&labels(&["first name", "last name", "username"]), 2),
            Some(EntryKind::Identity)
        );
        assert_eq!(t.by_fields(&labels(&["number", "website"]), 2), None);
    }
}
