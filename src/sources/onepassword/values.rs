//! JSON values of unexpected shape in 1PUX and 1PIF items. One odd value
//! must never cost the user an item: a string field that holds a number, a
//! `null` title or an object where text was expected is read as far as it is
//! understood and the rest is kept, concealed, with a finding.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::secret_field;
use crate::model::{Entry, FieldKind, Finding, Position};

/// Deserializes a field that should be a string from any JSON value:
/// numbers and booleans as their text, `null` as empty, and an object or
/// array as its JSON text, so a `"title": null` does not fail the item.
/// Text is taken as it comes (no `Value` first: these are most of an
/// item's fields).
pub(super) fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(Lenient)
}

struct Lenient;

impl<'de> serde::de::Visitor<'de> for Lenient {
    type Value = String;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("text")
    }
    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_bool<E>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    /// As JSON writes the number (`1.0`, not Rust's `1`).
    fn visit_f64<E>(self, v: f64) -> Result<String, E> {
        Ok(serde_json::Number::from_f64(v).map_or_else(String::new, |n| n.to_string()))
    }
    fn visit_unit<E>(self) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_none<E>(self) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<String, A::Error> {
        Value::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(|v| v.to_string())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<String, A::Error> {
        Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(|v| v.to_string())
    }
}

/// A list of tags as written. Numbers and booleans in the list are tags
/// (their text); anything else — a string where a list was expected, an
/// object in the list — is `odd`, for the caller to keep concealed with a
/// finding: it is not known to be a tag, and tags are shown to everyone.
#[derive(Debug, Default)]
pub(super) struct Tags {
    pub list: Vec<String>,
    pub odd: Vec<Value>,
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tags, D::Error> {
        let mut tags = Tags::default();
        match Value::deserialize(d)? {
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(s) => tags.list.push(s),
                        Value::Null => {}
                        Value::Number(_) | Value::Bool(_) => tags.list.extend(scalar_text(&item)),
                        other => tags.odd.push(other),
                    }
                }
            }
            Value::Null => {}
            other => tags.odd.push(other),
        }
        Ok(tags)
    }
}

/// The text of a string, number or boolean; `None` for anything else or an
/// empty string.
pub(super) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An e-mail value as 1Password 8 writes it, for section `email` fields and
/// for login fields that hold a masked-email alias:
/// `{"email_address": "…", "provider": {…} | "…" | null}`.
pub(super) struct Email {
    pub address: Option<String>,
    /// The alias service (Fastmail…), by name where it has one.
    pub provider: Option<String>,
    /// Keys this version does not know, kept by the caller as concealed
    /// fields.
    pub rest: Vec<(String, Value)>,
}

pub(super) fn email(value: Value) -> Email {
    let mut out = Email {
        address: None,
        provider: None,
        rest: Vec::new(),
    };
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match key.as_str() {
                    "email_address" | "emailAddress" | "email" if out.address.is_none() => {
                        out.address = scalar_text(&v);
                    }
                    "provider" => out.provider = provider_name(&v),
                    _ if v.is_null() || v == Value::String(String::new()) => {}
                    _ => out.rest.push((key, v)),
                }
            }
        }
        other => out.address = scalar_text(&other),
    }
    out
}

/// A provider is a name, or an object naming itself by `name` (or
/// `displayName`, `id`); any other object is kept as its JSON text.
fn provider_name(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => ["name", "displayName", "display_name", "id"]
            .iter()
            .find_map(|k| o.get(*k).and_then(scalar_text))
            .or_else(|| (!o.is_empty()).then(|| v.to_string())),
        other => scalar_text(other),
    }
}

/// The text to keep for a value of unknown shape: strings as they are,
/// anything else as JSON.
pub(super) fn kept_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Keeps a value of a shape this version does not read as a concealed field
/// (it may well be a secret) and names it in a warning, never its content.
pub(super) fn odd_value(
    entry: &mut Entry,
    label: &str,
    value: &Value,
    group: Option<&str>,
    pos: &Position,
    findings: &mut Vec<Finding>,
) {
    let Some(text) = kept_text(value) else {
        return;
    };
    entry
        .fields
        .push(secret_field(label, text, FieldKind::Concealed, group));
    findings.push(
        Finding::warning(
            "onepassword.odd-value",
            format!("field '{label}' holds a value of a shape this version does not read; it is kept whole as a concealed field"),
        )
        .at(pos.clone())
        .help("check the field in the workspace after the import"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masked_email_values_are_read_with_their_provider() {
        let e = email(json!({"email_address": "a@alias.example", "provider": {"name": "Fastmail", "id": "fm"}}));
        assert_eq!(e.address.as_deref(), Some("a@alias.example"));
        assert_eq!(e.provider.as_deref(), Some("Fastmail"));
        assert!(e.rest.is_empty());
        let e = email(json!({"email_address": "a@x.example", "provider": null, "alias_id": 7}));
        assert_eq!(e.provider, None);
        assert_eq!(e.rest.len(), 1);
        assert_eq!(email(json!("b@x.example")).address.as_deref(), Some("b@x.example"));
    }

    #[test]
    fn lenient_strings_and_tags_take_any_scalar() {
        #[derive(Deserialize)]
        struct T {
            #[serde(deserialize_with = "lenient_string")]
            a: String,
            b: Tags,
        }
        let t: T = serde_json::from_value(json!({"a": null, "b": ["x", 2, null, {"y": 1}]})).unwrap();
        assert_eq!((t.a.as_str(), t.b.list), ("", vec!["x".to_owned(), "2".to_owned()]));
        assert_eq!(t.b.odd.len(), 1);
        let t: T = serde_json::from_value(json!({"a": 12, "b": "solo"})).unwrap();
        assert_eq!((t.a.as_str(), t.b.list.len(), t.b.odd.len()), ("12", 0, 1));
        for (raw, want) in [
            (r#"{"a": 1.0, "b": []}"#, "1.0"),
            (r#"{"a": true, "b": []}"#, "true"),
            (r#"{"a": {"x": [1, "y"]}, "b": []}"#, r#"{"x":[1,"y"]}"#),
            (r#"{"a": "caf\u00e9", "b": []}"#, "café"),
        ] {
            let t: T = serde_json::from_str(raw).unwrap();
            assert_eq!(t.a, want, "{raw}");
        }
    }
}
