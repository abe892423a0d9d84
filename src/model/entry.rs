use serde::{Serialize, Serializer};

use crate::secret::Secret;

/// What an entry is, across vendors. The mapper decides from this whether an
/// entry becomes an account or which type of secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Login,
    /// A bare password (1Password category 005).
    Password,
    SecureNote,
    CreditCard,
    BankAccount,
    Identity,
    Address,
    Database,
    DriversLicense,
    EmailAccount,
    HealthInsurance,
    InstantMessenger,
    Insurance,
    Membership,
    Passport,
    Server,
    SocialSecurity,
    SoftwareLicense,
    SshKey,
    Wifi,
    Document,
    OutdoorLicense,
    RewardsProgram,
    MedicalRecord,
    ApiCredential,
    CryptoWallet,
    /// A user-defined type (LastPass `Custom_<digits>`); `source_type` names it.
    Custom,
    /// A type this version does not know; kept whole as a generic secret.
    Unknown,
}

impl EntryKind {
    pub const ALL: [EntryKind; 28] = [
        EntryKind::Login,
        EntryKind::Password,
        EntryKind::SecureNote,
        EntryKind::CreditCard,
        EntryKind::BankAccount,
        EntryKind::Identity,
        EntryKind::Address,
        EntryKind::Database,
        EntryKind::DriversLicense,
        EntryKind::EmailAccount,
        EntryKind::HealthInsurance,
        EntryKind::InstantMessenger,
        EntryKind::Insurance,
        EntryKind::Membership,
        EntryKind::Passport,
        EntryKind::Server,
        EntryKind::SocialSecurity,
        EntryKind::SoftwareLicense,
        EntryKind::SshKey,
        EntryKind::Wifi,
        EntryKind::Document,
        EntryKind::OutdoorLicense,
        EntryKind::RewardsProgram,
        EntryKind::MedicalRecord,
        EntryKind::ApiCredential,
        EntryKind::CryptoWallet,
        EntryKind::Custom,
        EntryKind::Unknown,
    ];

    /// The snake_case name used in JSON, the data tables and the policy.
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Login => "login",
            EntryKind::Password => "password",
            EntryKind::SecureNote => "secure_note",
            EntryKind::CreditCard => "credit_card",
            EntryKind::BankAccount => "bank_account",
            EntryKind::Identity => "identity",
            EntryKind::Address => "address",
            EntryKind::Database => "database",
            EntryKind::DriversLicense => "drivers_license",
            EntryKind::EmailAccount => "email_account",
            EntryKind::HealthInsurance => "health_insurance",
            EntryKind::InstantMessenger => "instant_messenger",
            EntryKind::Insurance => "insurance",
            EntryKind::Membership => "membership",
            EntryKind::Passport => "passport",
            EntryKind::Server => "server",
            EntryKind::SocialSecurity => "social_security",
            EntryKind::SoftwareLicense => "software_license",
            EntryKind::SshKey => "ssh_key",
            EntryKind::Wifi => "wifi",
            EntryKind::Document => "document",
            EntryKind::OutdoorLicense => "outdoor_license",
            EntryKind::RewardsProgram => "rewards_program",
            EntryKind::MedicalRecord => "medical_record",
            EntryKind::ApiCredential => "api_credential",
            EntryKind::CryptoWallet => "crypto_wallet",
            EntryKind::Custom => "custom",
            EntryKind::Unknown => "unknown",
        }
    }

    /// Parses the snake_case name (data tables, policy files).
    pub fn from_name(name: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A point in time, seconds since the Unix epoch, UTC. Serialized as
/// RFC 3339 (`2024-03-14T09:30:00Z`) so reports read naturally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn to_rfc3339(self) -> String {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }

    /// `YYYY-MM-DD`, for date fields (1Password `date` values are
    /// timestamps of a day).
    pub fn to_date(self) -> String {
        let (y, m, d) = civil_from_days(self.0.div_euclid(86_400));
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// From a calendar date and time, UTC. `None` if out of range.
    pub fn from_civil(y: i64, m: u32, d: u32, hh: u32, mm: u32, ss: u32) -> Option<Timestamp> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) || hh > 23 || mm > 59 || ss > 60 {
            return None;
        }
        let days = days_from_civil(y, m, d);
        Some(Timestamp(
            days * 86_400 + i64::from(hh) * 3600 + i64::from(mm) * 60 + i64::from(ss),
        ))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's days-from-civil algorithms: exact for the proleptic
// Gregorian calendar, no table, no dependency.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// What a field holds, so the workspace can show it the right way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    #[default]
    Text,
    /// Multi-line text.
    Multiline,
    Concealed,
    Email,
    Phone,
    Url,
    /// An ISO date, `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM`.
    MonthYear,
    Totp,
    CardNumber,
    CardType,
    Address,
    /// One choice out of a list (1Password `menu`, `gender`).
    Menu,
    /// Another item, by its source id.
    Reference,
    PrivateKey,
    PublicKey,
    Fingerprint,
    KeyType,
    /// A file stored as an attachment; the value names it.
    File,
}

/// A field's value. Concealed values are secrets; the rest are plain text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldValue {
    Plain(String),
    Concealed(Secret),
}

impl FieldValue {
    pub fn is_concealed(&self) -> bool {
        matches!(self, FieldValue::Concealed(_))
    }

    /// The value for code that must use it (never for output).
    pub fn expose(&self) -> &str {
        match self {
            FieldValue::Plain(s) => s,
            FieldValue::Concealed(s) => s.expose(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Plain(s) => serializer.serialize_str(s),
            FieldValue::Concealed(s) => s.serialize(serializer),
        }
    }
}

/// A typed field beyond the standard ones: a note-type field, a 1Password
/// section field, a custom field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub value: FieldValue,
    pub kind: FieldKind,
    /// The 1Password section title (or LastPass note type) it belongs to.
    pub group: Option<String>,
}

impl Field {
    pub fn plain(label: impl Into<String>, value: impl Into<String>) -> Field {
        Field {
            label: label.into(),
            value: FieldValue::Plain(value.into()),
            kind: FieldKind::Text,
            group: None,
        }
    }

    pub fn concealed(label: impl Into<String>, value: impl Into<String>) -> Field {
        Field {
            label: label.into(),
            value: FieldValue::Concealed(Secret::text(value.into())),
            kind: FieldKind::Concealed,
            group: None,
        }
    }

    pub fn kind(mut self, kind: FieldKind) -> Field {
        self.kind = kind;
        self
    }

    pub fn group(mut self, group: impl Into<String>) -> Field {
        self.group = Some(group.into());
        self
    }

    pub fn is_concealed(&self) -> bool {
        self.value.is_concealed()
    }
}

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Field", 5)?;
        s.serialize_field("label", &self.label)?;
        s.serialize_field("value", &self.value)?;
        s.serialize_field("concealed", &self.is_concealed())?;
        s.serialize_field("kind", &self.kind)?;
        if let Some(group) = &self.group {
            s.serialize_field("group", group)?;
        } else {
            s.skip_field("group")?;
        }
        s.end()
    }
}

/// A file attached to an entry. The bytes are a secret: documents are as
/// sensitive as passwords.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    /// Size in bytes, as read (declared sizes are never trusted).
    pub size: u64,
    /// `None` when the export names a file it does not contain (a finding
    /// says so) or when LastPass only flags that one exists.
    pub content: Option<Secret>,
    /// The source's id for the file (1Password `documentId`).
    pub source_id: Option<String>,
    /// SHA-256 of the bytes when they are not held (`content` is `None`):
    /// read once through the digest, for the plan and a re-run to compare.
    pub digest: Option<[u8; 32]>,
    /// Where the bytes are when they are not held; the writer copies them
    /// from there in bounded pieces (`ContentOrigin::copy_checked`).
    pub origin: Option<super::ContentOrigin>,
}

/// `content` prints as any secret does (`[redacted]`, or the bytes under
/// `--reveal`) whether the bytes are held or streamed past: a streamed
/// attachment is read back only when revealed, never to be redacted.
impl Serialize for Attachment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeStruct};
        let mut s = serializer.serialize_struct("Attachment", 4)?;
        s.serialize_field("name", &self.name)?;
        s.serialize_field("size", &self.size)?;
        match &self.content {
            Some(c) => s.serialize_field("content", c)?,
            None if self.has_bytes() && !crate::secret::revealing() => {
                s.serialize_field("content", crate::secret::REDACTED)?
            }
            None if self.has_bytes() => {
                let loaded = self
                    .load()
                    .map_err(|e| S::Error::custom(format!("attachment '{}': {e}", self.name)))?;
                s.serialize_field("content", &loaded)?
            }
            None => s.serialize_field("content", &None::<Secret>)?,
        }
        match &self.source_id {
            Some(id) => s.serialize_field("source_id", id)?,
            None => s.skip_field("source_id")?,
        }
        s.end()
    }
}

impl Attachment {
    /// SHA-256 of the bytes: of `content` when held, else the digest taken
    /// when they were read. `None` when the export has no bytes for it.
    pub fn sha256(&self) -> Option<[u8; 32]> {
        use sha2::Digest as _;
        match &self.content {
            Some(c) => Some(sha2::Sha256::digest(c.expose_bytes()).into()),
            None => self.digest,
        }
    }

    /// Whether the bytes are somewhere to be written from.
    pub fn has_bytes(&self) -> bool {
        self.content.is_some() || (self.origin.is_some() && self.digest.is_some())
    }

    /// The bytes, read into memory (the HTTP target sends one attachment
    /// at a time as JSON); `None` when there are none or they cannot be
    /// read back as they were.
    pub fn load(&self) -> std::io::Result<Option<crate::secret::Secret>> {
        if let Some(c) = &self.content {
            return Ok(Some(c.clone()));
        }
        let (Some(origin), Some(digest)) = (&self.origin, &self.digest) else {
            return Ok(None);
        };
        let mut bytes = Vec::with_capacity(usize::try_from(self.size).unwrap_or(0).min(1 << 30));
        let copied = origin.copy_checked(&mut bytes, self.size, digest);
        let secret = crate::secret::Secret::bytes(bytes);
        copied.map(|()| Some(secret))
    }
}

/// One former password (1Password `passwordHistory`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PasswordChange {
    pub value: Secret,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<Timestamp>,
}

/// One item of an export: a login, a note, a card…
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The source's own id (1Password uuid, LastPass `id` column) or, where
    /// the source has none, a fingerprint of the entry's identifying content
    /// (`fp:` + hex), so that re-runs find the same entry again.
    pub source_id: String,
    pub kind: EntryKind,
    /// The source's own type name (LastPass `NoteType`, 1Password category
    /// code or typeName), so nothing about the type is lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// Folder path from the root; `[]` is the root.
    pub folder: super::FolderPath,
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub totp: Option<Secret>,
    pub notes: Option<String>,
    pub fields: Vec<Field>,
    pub password_history: Vec<PasswordChange>,
    pub tags: Vec<String>,
    pub favorite: bool,
    /// Archived or trashed in the source: skipped unless the policy asks.
    pub archived: bool,
    pub created: Option<Timestamp>,
    pub updated: Option<Timestamp>,
    pub attachments: Vec<Attachment>,
    /// First line of the record in its file (1-based), when it has lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// In a 1Password vault others share (a 1PUX vault of type other than
    /// `P`): its collection's key names no owner. LastPass tells its
    /// shared folders by their path (`Shared-X`); 1PIF and CSV exports
    /// name no vault, so their folders are the exporting person's.
    #[serde(skip)]
    pub in_shared_vault: bool,
}

impl Entry {
    pub fn new(kind: EntryKind, title: impl Into<String>) -> Entry {
        Entry {
            source_id: String::new(),
            kind,
            source_type: None,
            title: title.into(),
            subtitle: None,
            folder: super::FolderPath::default(),
            urls: Vec::new(),
            username: None,
            password: None,
            totp: None,
            notes: None,
            fields: Vec::new(),
            password_history: Vec::new(),
            tags: Vec::new(),
            favorite: false,
            archived: false,
            created: None,
            updated: None,
            attachments: Vec::new(),
            line: None,
            in_shared_vault: false,
        }
    }

    /// A stable id from what identifies the entry when the source gives none:
    /// kind, folder, title, username and first URL. Not the password — a
    /// changed password must update the same entry, not create a new one.
    /// Two entries alike in all of these get `#2`, `#3`… in file order from
    /// the source parser (see `sources::assign_fingerprints`).
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [
            self.kind.name(),
            &self.folder.join("\u{1f}"),
            &self.title,
            self.username.as_deref().unwrap_or(""),
            self.urls.first().map(String::as_str).unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        format!("fp:{}", hex::encode(&h.finalize()[..12]))
    }

    /// The first field with this label, if any.
    pub fn field(&self, label: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.label == label)
    }
}

impl crate::secret::Wipe for FieldValue {
    fn wipe(&mut self) {
        if let FieldValue::Concealed(s) = self {
            s.wipe();
        }
    }
}

impl crate::secret::Wipe for Field {
    fn wipe(&mut self) {
        self.value.wipe();
    }
}

impl crate::secret::Wipe for Attachment {
    fn wipe(&mut self) {
        self.content.wipe();
    }
}

impl crate::secret::Wipe for PasswordChange {
    fn wipe(&mut self) {
        self.value.wipe();
    }
}

impl crate::secret::Wipe for Entry {
    fn wipe(&mut self) {
        self.password.wipe();
        self.totp.wipe();
        self.fields.wipe();
        self.password_history.wipe();
        self.attachments.wipe();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_through_the_calendar() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(1_710_408_600).to_rfc3339(), "2024-03-14T09:30:00Z");
        assert_eq!(
            Timestamp::from_civil(2024, 2, 29, 0, 0, 0).unwrap().to_date(),
            "2024-02-29"
        );
        assert_eq!(Timestamp::from_civil(2023, 2, 29, 0, 0, 0), None);
        assert_eq!(Timestamp(-86_400).to_date(), "1969-12-31");
    }

    #[test]
    fn fingerprint_ignores_the_password_but_not_the_folder() {
        let mut a = Entry::new(EntryKind::Login, "mail");
        a.username = Some("ann".into());
        let mut b = a.clone();
        b.password = Some(Secret::text("changed"));
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.folder = vec!["Ops".into()].into();
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert!(a.fingerprint().starts_with("fp:"));
    }

    #[test]
    fn wiping_an_entry_empties_every_secret_it_holds_and_nothing_else() {
        use crate::secret::Wipe;
        let mut e = Entry::new(EntryKind::Login, "mail");
        e.username = Some("ann".into());
        e.password = Some(Secret::text("Pw-1!"));
        e.totp = Some(Secret::text("JBSWY3DPEHPK3PXP"));
        e.fields = vec![Field::concealed("PIN", "4821"), Field::plain("Bank", "ACME")];
        e.password_history = vec![PasswordChange {
            value: Secret::text("Old-Pw!"),
            changed: None,
        }];
        e.attachments = vec![Attachment {
            name: "key.pem".into(),
            size: 3,
            content: Some(Secret::bytes(vec![1, 2, 3])),
            source_id: None,
            digest: None,
            origin: None,
        }];
        e.wipe();
        assert!(e.password.as_ref().is_some_and(Secret::is_empty));
        assert!(e.totp.as_ref().is_some_and(Secret::is_empty));
        assert_eq!(e.fields[0].value.expose(), "");
        assert_eq!(e.fields[1].value.expose(), "ACME", "plain fields are not secrets");
        assert!(e.password_history[0].value.is_empty());
        assert!(e.attachments[0].content.as_ref().is_some_and(Secret::is_empty));
        assert_eq!(e.username.as_deref(), Some("ann"));
    }

    #[test]
    fn concealed_field_values_are_redacted_in_json() {
        let f = Field::concealed("PIN", "4821");
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["value"], "[redacted]");
        assert_eq!(json["concealed"], true);
        let p = serde_json::to_value(Field::plain("Bank", "ACME")).unwrap();
        assert_eq!(p["value"], "ACME");
        assert_eq!(p["concealed"], false);
    }
}
