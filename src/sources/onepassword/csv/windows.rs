//! 1Password 7 for Windows CSV quirks: section columns named by position,
//! no type column, and dates written in the desktop's locale.

use crate::model::{Entry, EntryKind, FieldKind, FieldValue};
use crate::secret::Secret;

use super::categories;

/// What a Windows column that is not one of the fixed ones
/// (`UUID,TITLE,USERNAME,…`) holds.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Column {
    /// `SECTION <n>: <NAME>`: each row's cell is the display title of the
    /// section whose fields are the `<NAME> <k>: …` columns.
    SectionTitle(String),
    /// `<NAME> <k>: <LABEL>` (a field of section NAME) or `<k>: <LABEL>`
    /// (a field of the category's unnamed first section, as a card's
    /// `1: CARDHOLDER NAME`).
    Field { label: String, section: Option<String> },
}

pub(super) fn column(name: &str) -> Option<Column> {
    let (head, label) = name.split_once(": ")?;
    let label = label.trim();
    let head = head.trim();
    let (section, index) = match head.rsplit_once(' ') {
        Some((section, index)) => (Some(section.trim()), index),
        None => (None, head),
    };
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match section {
        Some(s) if s.eq_ignore_ascii_case("section") => Some(Column::SectionTitle(label.to_owned())),
        Some(s) => Some(Column::Field {
            label: label.to_owned(),
            section: Some(s.to_owned()),
        }),
        None => Some(Column::Field {
            label: label.to_owned(),
            section: None,
        }),
    }
}

/// The section name to show when a row leaves the section's title empty:
/// 1Password names untitled sections `SECTION_<id>`; the id alone reads
/// better and stays stable.
pub(super) fn untitled_section(name: &str) -> String {
    name.strip_prefix("SECTION_")
        .or_else(|| name.strip_prefix("section_"))
        .unwrap_or(name)
        .to_owned()
}

/// A date as the Windows app writes it: `1/3/1970 12:23 AM` (the desktop's
/// short date, month first in US English) → `YYYY-MM-DD`. A first number
/// above 12 can only be a day, so `24/2/1992` reads day first. `None` when
/// the value is not such a date, so it stays text.
pub(super) fn date(value: &str) -> Option<String> {
    let mut parts = value.split_whitespace();
    let day = parts.next()?;
    let time = parts.next();
    let meridiem = parts.next();
    if parts.next().is_some() {
        return None;
    }
    if let Some(t) = time {
        let (h, m) = t.split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.get(..2)?.parse().ok()?);
        let twelve = matches!(meridiem.map(str::to_ascii_uppercase).as_deref(), Some("AM" | "PM"));
        if m > 59 || h > 23 || (twelve && !(1..=12).contains(&h)) || (meridiem.is_some() && !twelve) {
            return None;
        }
    }
    let mut nums = day.split('/');
    let (a, b, y): (u32, u32, i64) = (nums.next()?.parse().ok()?, nums.next()?.parse().ok()?, {
        let y = nums.next()?;
        if y.len() != 4 {
            return None;
        }
        y.parse().ok()?
    });
    if nums.next().is_some() {
        return None;
    }
    let (m, d) = if a > 12 { (b, a) } else { (a, b) };
    crate::model::Timestamp::from_civil(y, m, d, 0, 0, 0).map(|t| t.to_date())
}

/// The kind of a row of a file with no type column, from what it fills:
/// the category whose template fields it fills most (at least two, three
/// when the row also fills the login columns, whose custom sections could
/// match by chance), else a login when it has login values, a note when it
/// has only notes, and a generic item otherwise. So a card (`CARDHOLDER
/// NAME`, `NUMBER`…) or an identity (`FIRST NAME`, `LAST NAME`…) never
/// becomes a login.
pub(super) fn infer_kind(entry: &Entry) -> EntryKind {
    let labels: Vec<String> = entry.fields.iter().map(|f| f.label.to_lowercase()).collect();
    let login = entry.username.is_some() || entry.password.is_some() || !entry.urls.is_empty() || entry.totp.is_some();
    if let Some(kind) = categories::table().by_fields(&labels, if login { 3 } else { 2 }) {
        return kind;
    }
    if login {
        EntryKind::Login
    } else if entry.fields.is_empty() {
        EntryKind::SecureNote
    } else {
        EntryKind::Unknown
    }
}

/// Windows labels name a card's number `NUMBER`, with nothing that says
/// secret until the row's kind is known; these template fields are then
/// concealed (and typed) as 1PUX and 1PIF conceal them.
pub(super) fn conceal_template_secrets(entry: &mut Entry) {
    let secret: &[(&str, FieldKind)] = match entry.kind {
        EntryKind::CreditCard => &[
            ("number", FieldKind::CardNumber),
            ("verification number", FieldKind::Concealed),
            ("pin", FieldKind::Concealed),
        ],
        EntryKind::SocialSecurity => &[("number", FieldKind::Concealed)],
        EntryKind::BankAccount => &[
            ("account number", FieldKind::Concealed),
            ("pin", FieldKind::Concealed),
            ("iban", FieldKind::Concealed),
        ],
        _ => return,
    };
    for field in entry.fields.iter_mut().filter(|f| f.group.is_none()) {
        let label = field.label.to_lowercase();
        let Some((_, kind)) = secret.iter().find(|(l, _)| *l == label) else {
            continue;
        };
        if let FieldValue::Plain(value) = &mut field.value {
            field.value = FieldValue::Concealed(Secret::text(std::mem::take(value)));
            field.kind = *kind;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_columns_are_told_apart() {
        assert_eq!(
            column("SECTION 2: ADDRESS"),
            Some(Column::SectionTitle("ADDRESS".into()))
        );
        assert_eq!(
            column("ADDRESS 1: DEFAULT PHONE"),
            Some(Column::Field {
                label: "DEFAULT PHONE".into(),
                section: Some("ADDRESS".into())
            })
        );
        assert_eq!(
            column("1: CARDHOLDER NAME"),
            Some(Column::Field {
                label: "CARDHOLDER NAME".into(),
                section: None
            })
        );
        assert_eq!(column("NOTES"), None);
        assert_eq!(column("MY NOTE: TEXT"), None);
        assert_eq!(untitled_section("SECTION_3EKPT2MQ"), "3EKPT2MQ");
    }

    #[test]
    fn windows_dates_become_iso_dates() {
        assert_eq!(date("1/3/1970 12:23 AM").as_deref(), Some("1970-01-03"));
        assert_eq!(date("12/2/2020 4:01 AM").as_deref(), Some("2020-12-02"));
        assert_eq!(date("24/2/1992 00:00").as_deref(), Some("1992-02-24"));
        assert_eq!(date("2/24/1992").as_deref(), Some("1992-02-24"));
        assert_eq!(date("2/30/1992"), None);
        assert_eq!(date("1/3/70"), None);
        assert_eq!(date("13:00 PM"), None);
        assert_eq!(date("8005555555"), None);
        assert_eq!(date("1/3/1970 12:23 XM"), None);
    }
}
