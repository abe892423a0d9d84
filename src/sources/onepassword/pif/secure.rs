//! `secureContents` (and an OPVault record's `details`) decoded straight
//! into the parts the reader uses. Decoded as a `serde_json::Map` first,
//! every key of every URL, form field and section field was a `String` in a
//! `BTreeMap` node, built to be read once and freed: most of the time of an
//! `inspect` of a large 1PIF (issue 20). Only keys this reader does not know
//! are kept as `Value` (`rest`), as before.
//!
//! The decoding is as lenient as reading the `Value` was: a value of an
//! unexpected type reads as absent (a list that is not a list, as empty),
//! so no record is lost to it that was read before; a known key present
//! with an odd value still counts as present when an OPVault record's
//! `overview`/`details` fill the gaps ([`SecureContents::fill_from`]).

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};

/// The keys the reader takes apart; anything else is in `rest`.
#[derive(Debug, Default)]
pub(in crate::sources::onepassword) struct SecureContents {
    /// `URLs`: `Some` when the key is there (empty when it is not a list).
    pub urls: Option<Vec<UrlItem>>,
    /// `notesPlain`: `Some("")` when the key holds something else than text.
    pub notes: Option<String>,
    /// `fields`: the web form.
    pub fields: Option<Vec<FormField>>,
    pub password_history: Option<Vec<HistoryItem>>,
    pub sections: Option<Vec<Section>>,
    /// Every other key (older records' flat values, form bookkeeping).
    pub rest: Map<String, Value>,
}

impl SecureContents {
    /// Takes from `other` what `self` does not hold, key by key (the
    /// `or_insert` of the map this replaces).
    pub(in crate::sources::onepassword) fn fill_from(&mut self, other: SecureContents) {
        let SecureContents {
            urls,
            notes,
            fields,
            password_history,
            sections,
            rest,
        } = other;
        self.urls = self.urls.take().or(urls);
        self.notes = self.notes.take().or(notes);
        self.fields = self.fields.take().or(fields);
        self.password_history = self.password_history.take().or(password_history);
        self.sections = self.sections.take().or(sections);
        for (key, value) in rest {
            self.rest.entry(key).or_insert(value);
        }
    }
}

/// `{"url": …, "label": …}`.
#[derive(Debug, Default)]
pub(in crate::sources::onepassword) struct UrlItem {
    pub url: Option<String>,
    pub label: Option<String>,
}

/// A web-form field `{designation, name, id, type, value}`.
#[derive(Debug, Default)]
pub(in crate::sources::onepassword) struct FormField {
    pub designation: Option<String>,
    pub name: Option<String>,
    pub id: Option<String>,
    pub kind: Option<String>,
    pub value: Option<Json>,
}

/// `{"value": …, "time": …}` of `passwordHistory`.
#[derive(Debug, Default)]
pub(in crate::sources::onepassword) struct HistoryItem {
    pub value: Option<String>,
    pub time: Option<Value>,
}

/// `{"title", "name", "fields": [...]}`.
#[derive(Debug, Default)]
pub(in crate::sources::onepassword) struct Section {
    pub title: Option<String>,
    pub name: Option<String>,
    /// `None` when absent or not a list.
    pub fields: Option<Vec<SectionField>>,
}

/// A section field `{k: kind, n: id, t: title, v: value}`.
#[derive(Debug, Default)]
pub(in crate::sources::onepassword) struct SectionField {
    pub k: Option<String>,
    pub n: Option<String>,
    pub t: Option<String>,
    pub v: Option<Json>,
}

/// A JSON value where text is expected: text, numbers and booleans as they
/// come, anything else (an object, a list) kept whole for the finding that
/// names it.
#[derive(Debug)]
pub(in crate::sources::onepassword) enum Json {
    Str(String),
    Num(Number),
    Bool(bool),
    Null,
    Other(Value),
}

impl Json {
    pub(in crate::sources::onepassword) fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Num(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The text a `Value` of it would give: a string as it is, the rest as
    /// JSON (`Value::to_string`).
    pub(in crate::sources::onepassword) fn text(&self) -> String {
        match self {
            Json::Str(s) => s.clone(),
            Json::Num(n) => n.to_string(),
            Json::Bool(b) => b.to_string(),
            Json::Null => "null".to_owned(),
            Json::Other(v) => v.to_string(),
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::Str(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Num(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Num(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
                Ok(Number::from_f64(v).map_or(Json::Null, Json::Num))
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Json, A::Error> {
                Value::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Json::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Json, A::Error> {
                Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(Json::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// Text if the value is a string, `None` for any other value (consumed).
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Text, E> {
                Ok(Text(Some(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Text, E> {
                Ok(Text(Some(v)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_unit<E>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_none<E>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
                IgnoredAny.visit_map(map).map(|_| Text(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text, A::Error> {
                IgnoredAny.visit_seq(seq).map(|_| Text(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A list of `T`, empty when the value is not a list.
struct List<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<List<T>, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(List(out))
            }
            fn visit_str<E>(self, _: &str) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_none<E>(self) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<List<T>, A::Error> {
                IgnoredAny.visit_map(map).map(|_| List(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A list that is `None` when the value is not a list (sections' `fields`).
struct StrictList<T>(Option<Vec<T>>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for StrictList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<StrictList<T>, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = StrictList<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<StrictList<T>, A::Error> {
                List::<T>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(|l| StrictList(Some(l.0)))
            }
            fn visit_str<E>(self, _: &str) -> Result<StrictList<T>, E> {
                Ok(StrictList(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<StrictList<T>, E> {
                Ok(StrictList(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<StrictList<T>, E> {
                Ok(StrictList(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<StrictList<T>, E> {
                Ok(StrictList(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<StrictList<T>, E> {
                Ok(StrictList(None))
            }
            fn visit_unit<E>(self) -> Result<StrictList<T>, E> {
                Ok(StrictList(None))
            }
            fn visit_none<E>(self) -> Result<StrictList<T>, E> {
                Ok(StrictList(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<StrictList<T>, A::Error> {
                IgnoredAny.visit_map(map).map(|_| StrictList(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A key: the index of a known name, or the key itself.
enum Key {
    Known(usize),
    Other(String),
}

/// Matches a key against `names` without allocating for the known ones.
struct Keys(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Keys {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Keys {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<Key, E> {
        Ok(match self.0.iter().position(|n| *n == v) {
            Some(i) => Key::Known(i),
            None => Key::Other(v.to_owned()),
        })
    }
}

/// An object read key by key into `T` (last of a repeated key wins, as in
/// a map); anything that is not an object reads as `T::default()`.
trait Object: Default {
    const KEYS: &'static [&'static str];
    /// Reads the value of `KEYS[index]`.
    fn read<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error>;
}

struct ObjectVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Object> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut out = T::default();
        while let Some(key) = map.next_key_seed(Keys(T::KEYS))? {
            match key {
                Key::Known(i) => out.read(i, &mut map)?,
                Key::Other(_) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        IgnoredAny.visit_seq(seq).map(|_| T::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_bool<E>(self, _: bool) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_unit<E>(self) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_none<E>(self) -> Result<T, E> {
        Ok(T::default())
    }
}

macro_rules! object {
    ($t:ty) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                d.deserialize_any(ObjectVisitor(std::marker::PhantomData))
            }
        }
    };
}

fn text<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<String>, A::Error> {
    map.next_value::<Text>().map(|t| t.0)
}

impl Object for UrlItem {
    const KEYS: &'static [&'static str] = &["url", "label"];
    fn read<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        match index {
            0 => self.url = text(map)?,
            _ => self.label = text(map)?,
        }
        Ok(())
    }
}
object!(UrlItem);

impl Object for FormField {
    const KEYS: &'static [&'static str] = &["designation", "name", "id", "type", "value"];
    fn read<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        match index {
            0 => self.designation = text(map)?,
            1 => self.name = text(map)?,
            2 => self.id = text(map)?,
            3 => self.kind = text(map)?,
            _ => self.value = Some(map.next_value()?),
        }
        Ok(())
    }
}
object!(FormField);

impl Object for HistoryItem {
    const KEYS: &'static [&'static str] = &["value", "time"];
    fn read<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        match index {
            0 => self.value = text(map)?,
            _ => self.time = Some(map.next_value()?),
        }
        Ok(())
    }
}
object!(HistoryItem);

impl Object for Section {
    const KEYS: &'static [&'static str] = &["title", "name", "fields"];
    fn read<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        match index {
            0 => self.title = text(map)?,
            1 => self.name = text(map)?,
            _ => self.fields = map.next_value::<StrictList<SectionField>>()?.0,
        }
        Ok(())
    }
}
object!(Section);

impl Object for SectionField {
    const KEYS: &'static [&'static str] = &["k", "n", "t", "v"];
    fn read<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        match index {
            0 => self.k = text(map)?,
            1 => self.n = text(map)?,
            2 => self.t = text(map)?,
            _ => self.v = Some(map.next_value()?),
        }
        Ok(())
    }
}
object!(SectionField);

const SECURE_KEYS: &[&str] = &["URLs", "notesPlain", "fields", "passwordHistory", "sections"];

/// An object, as `Map<String, Value>` reads one: anything else is an error
/// (the record is then reported malformed, as before).
impl<'de> Deserialize<'de> for SecureContents {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SecureContents, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SecureContents;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_unit<E>(self) -> Result<SecureContents, E> {
                Ok(SecureContents::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecureContents, A::Error> {
                let mut out = SecureContents::default();
                while let Some(key) = map.next_key_seed(Keys(SECURE_KEYS))? {
                    match key {
                        Key::Known(0) => out.urls = Some(map.next_value::<List<UrlItem>>()?.0),
                        Key::Known(1) => out.notes = Some(text(&mut map)?.unwrap_or_default()),
                        Key::Known(2) => out.fields = Some(map.next_value::<List<FormField>>()?.0),
                        Key::Known(3) => out.password_history = Some(map.next_value::<List<HistoryItem>>()?.0),
                        Key::Known(_) => out.sections = Some(map.next_value::<List<Section>>()?.0),
                        Key::Other(k) => {
                            let value = map.next_value()?;
                            out.rest.insert(k, value);
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> SecureContents {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn known_keys_are_typed_and_the_rest_kept() {
        let s = read(
            r#"{"URLs":[{"url":"https://a","label":"x"},7,{"url":3}],"notesPlain":"n",
            "fields":[{"designation":"password","value":"pw","type":"P"},{"value":{"a":1}}],
            "passwordHistory":[{"value":"old","time":5}],
            "sections":[{"title":"T","fields":[{"k":"string","n":"a","t":"A","v":12}]},{"fields":"no"}],
            "ccnum":"4111","htmlForm":{"x":1}}"#,
        );
        let urls = s.urls.unwrap();
        assert_eq!(urls.len(), 3);
        assert_eq!(urls[0].url.as_deref(), Some("https://a"));
        assert_eq!(urls[1].url, None);
        assert_eq!(urls[2].url, None);
        assert_eq!(s.notes.as_deref(), Some("n"));
        let fields = s.fields.unwrap();
        assert!(matches!(&fields[0].value, Some(Json::Str(v)) if v == "pw"));
        assert!(matches!(&fields[1].value, Some(Json::Other(Value::Object(_)))));
        assert_eq!(s.password_history.unwrap()[0].time, Some(Value::from(5)));
        let sections = s.sections.unwrap();
        assert_eq!(sections[0].fields.as_ref().unwrap()[0].v.as_ref().unwrap().text(), "12");
        assert!(sections[1].fields.is_none());
        assert_eq!(s.rest.len(), 2);
        assert_eq!(s.rest["ccnum"], "4111");
    }

    #[test]
    fn odd_values_read_as_present_but_empty_and_fill_nothing() {
        let mut s = read(r#"{"URLs":"https://a","notesPlain":5,"k":"mine"}"#);
        assert_eq!(s.urls.as_ref().map(Vec::len), Some(0));
        assert_eq!(s.notes.as_deref(), Some(""));
        s.fill_from(read(
            r#"{"URLs":[{"url":"u"}],"notesPlain":"theirs","fields":[],"k":"theirs","j":1}"#,
        ));
        assert_eq!(s.urls.as_ref().map(Vec::len), Some(0));
        assert_eq!(s.notes.as_deref(), Some(""));
        assert_eq!(s.fields.as_ref().map(Vec::len), Some(0));
        assert_eq!(s.rest["k"], "mine");
        assert_eq!(s.rest["j"], 1);
    }

    #[test]
    fn a_repeated_key_keeps_the_last_as_a_map_does() {
        let s = read(r#"{"notesPlain":"a","notesPlain":"b","x":1,"x":2}"#);
        assert_eq!(s.notes.as_deref(), Some("b"));
        assert_eq!(s.rest["x"], 2);
    }

    #[test]
    fn a_non_object_is_an_error_like_a_map() {
        assert!(serde_json::from_str::<SecureContents>(r#""text""#).is_err());
        assert!(serde_json::from_str::<SecureContents>("[1]").is_err());
        assert!(serde_json::from_str::<Map<String, Value>>(r#""text""#).is_err());
    }
}
