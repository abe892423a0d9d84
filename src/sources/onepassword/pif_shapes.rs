//! The record shapes 1PIF files come in besides the classic one
//! (`typeName`, `title`, `secureContents`, `openContents`):
//!
//! - 1Password for Windows exporting an OPVault writes the OPVault item as
//!   it is: `category: "001"`, `overview` (`title`, `url`, `URLs[].u`,
//!   `tags`), `details` (`fields`, `sections`, `notesPlain`,
//!   `passwordHistory`), `created`/`updated`/`folder`/`fave`, and no
//!   `typeName`. [`normalize`] turns it into the classic shape so both read
//!   the same way.
//! - Older records keep values as flat `secureContents` keys beside their
//!   sections, a date split in three (`birthdate_dd`, `_mm`, `_yy`):
//!   [`split_dates`] joins those.

use serde_json::{Map, Value};

use super::pif::secure::{SecureContents, UrlItem};

/// `typeName` given to an OPVault-shaped record: the prefix and its
/// category code, resolved by `Categories::pif_type`.
pub(super) const CATEGORY_PREFIX: &str = "category:";

/// The parts of a record that differ between the shapes.
pub(super) struct Shape<'a> {
    pub type_name: &'a mut String,
    pub title: &'a mut String,
    pub location: &'a mut String,
    pub folder_uuid: &'a mut Option<String>,
    pub created_at: &'a mut Value,
    pub updated_at: &'a mut Value,
    pub fave_index: &'a mut Value,
    pub tags: &'a mut Vec<String>,
    pub secure_contents: &'a mut SecureContents,
}

/// The OPVault-only keys of a record.
pub(super) struct OpVault {
    pub category: String,
    pub overview: Map<String, Value>,
    pub details: SecureContents,
    pub created: Value,
    pub updated: Value,
    pub folder: Option<String>,
    pub fave: Value,
}

/// Moves an OPVault-shaped record's values to where classic records keep
/// them. A record that has a `typeName` is left alone.
pub(super) fn normalize(rec: Shape<'_>, op: OpVault) {
    if !rec.type_name.is_empty() || op.category.trim().is_empty() {
        return;
    }
    *rec.type_name = format!("{CATEGORY_PREFIX}{}", op.category.trim());
    let OpVault {
        mut overview,
        details,
        created,
        updated,
        folder,
        fave,
        ..
    } = op;
    let text = |v: Option<Value>| match v {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    if rec.title.is_empty() {
        *rec.title = text(overview.remove("title"));
    }
    if rec.location.is_empty() {
        *rec.location = text(overview.remove("url"));
    }
    if let Some(Value::Array(tags)) = overview.remove("tags") {
        for t in tags {
            if let Value::String(t) = t {
                if !rec.tags.contains(&t) {
                    rec.tags.push(t);
                }
            }
        }
    }
    // `URLs: [{"u": …, "l": label}]` → the classic `[{"url": …, "label": …}]`.
    if let Some(Value::Array(urls)) = overview.remove("URLs") {
        let urls = urls
            .into_iter()
            .map(|u| {
                let Value::Object(mut u) = u else {
                    return UrlItem::default();
                };
                // The first of the names present wins, whatever its value.
                let mut first = |names: [&str; 2]| match names.iter().find_map(|n| u.remove(*n)) {
                    Some(Value::String(s)) => Some(s),
                    _ => None,
                };
                let url = first(["u", "url"]);
                let label = first(["l", "label"]);
                UrlItem { url, label }
            })
            .collect();
        if rec.secure_contents.urls.is_none() {
            rec.secure_contents.urls = Some(urls);
        }
    }
    rec.secure_contents.fill_from(details);
    if rec.created_at.is_null() {
        *rec.created_at = created;
    }
    if rec.updated_at.is_null() {
        *rec.updated_at = updated;
    }
    if rec.folder_uuid.is_none() {
        *rec.folder_uuid = folder;
    }
    if rec.fave_index.is_null() {
        *rec.fave_index = fave;
    }
}

/// A date older records split into `<stem>_dd`, `<stem>_mm`, `<stem>_yy`
/// (or a month and year alone, as `expiry_mm`/`expiry_yy`).
pub(super) struct SplitDate {
    pub stem: String,
    /// `YYYY-MM-DD`, or `YYYY-MM` when there is no day.
    pub value: String,
    pub has_day: bool,
}

/// Takes every complete `<stem>_mm` + `<stem>_yy` (+ `<stem>_dd`) group out
/// of `secure` and returns it as one date. Parts that do not make a real
/// date are left in place, so they are still kept as fields.
pub(super) fn split_dates(secure: &mut Map<String, Value>) -> Vec<SplitDate> {
    let stems: Vec<String> = secure
        .keys()
        .filter_map(|k| k.strip_suffix("_yy"))
        .map(str::to_owned)
        .collect();
    let mut out = Vec::new();
    for stem in stems {
        let part = |secure: &Map<String, Value>, p: &str| -> Option<i64> {
            match secure.get(&format!("{stem}_{p}"))? {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
        };
        let (Some(y), Some(m)) = (part(secure, "yy"), part(secure, "mm")) else {
            continue;
        };
        let d = part(secure, "dd");
        let Ok(month) = u32::try_from(m) else { continue };
        let value = match d.and_then(|d| u32::try_from(d).ok()) {
            Some(day) => crate::model::Timestamp::from_civil(y, month, day, 0, 0, 0).map(|t| t.to_date()),
            None => super::month_year(y * 100 + m),
        };
        let Some(value) = value else { continue };
        for p in ["dd", "mm", "yy"] {
            secure.remove(&format!("{stem}_{p}"));
        }
        out.push(SplitDate {
            stem,
            value,
            has_day: d.is_some(),
        });
    }
    out.sort_by(|a, b| a.stem.cmp(&b.stem));
    out
}

/// The label 1Password shows for a flat key, where it is not the key itself.
pub(super) fn flat_label(key: &str) -> &str {
    match key {
        "birthdate" => "birth date",
        "expiry" => "expiry date",
        "validFrom" | "valid_from" => "valid from",
        "issue_date" => "issued on",
        "expiry_date" => "expiry date",
        "member_since" => "member since",
        "defphone" => "default phone",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn split_dates_join_only_real_dates() {
        let mut m = json!({"birthdate_dd": "24", "birthdate_mm": 2, "birthdate_yy": "1992",
            "expiry_mm": "11", "expiry_yy": 2028, "bad_mm": "13", "bad_yy": "2020", "other": "x"})
        .as_object()
        .unwrap()
        .clone();
        let dates = split_dates(&mut m);
        let got: Vec<(&str, &str)> = dates.iter().map(|d| (d.stem.as_str(), d.value.as_str())).collect();
        assert_eq!(got, [("birthdate", "1992-02-24"), ("expiry", "2028-11")]);
        assert!(m.contains_key("bad_mm") && m.contains_key("other") && !m.contains_key("birthdate_dd"));
    }
}
