//! The JSON the workspace API speaks, shared by the server and the HTTP
//! target.
//!
//! The HTTP target has to write real passwords, so unlike reports and
//! `--json` output these types carry secret values. They do it through
//! [`WireSecret`] (text) and [`WireBytes`] (attachments, base64), which keep
//! the value in a [`Secret`] on both ends and serialize it without the
//! process-wide `reveal` switch: the switch is thread-local, and axum
//! serializes responses on whatever worker thread runs the handler.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{
    Account, Collection, Grant, GuestInvitation, ImportKey, ItemImport, LocalPartner, Member, NewGuestInvitation,
    Partnership, SecretItem, SecretType, Snapshot, Team, Withheld, WorkspaceInfo, Write,
};
use crate::model::{Attachment, Field, FieldKind, FieldValue};
use crate::secret::Secret;

/// A text secret on the wire: its value as a JSON string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireSecret(pub Secret);

impl Serialize for WireSecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.expose())
    }
}

impl<'de> Deserialize<'de> for WireSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<WireSecret, D::Error> {
        Ok(WireSecret(Secret::text(String::deserialize(deserializer)?)))
    }
}

/// Attachment content on the wire: base64 of the bytes, plus whether the
/// secret was text, so a round trip gives back an equal [`Secret`] (the
/// diff's hashes compare them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireBytes(pub Secret);

impl Serialize for WireBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        use serde::ser::SerializeStruct;
        let encoded = zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(self.0.expose_bytes()));
        let mut s = serializer.serialize_struct("WireBytes", 2)?;
        s.serialize_field("base64", encoded.as_str())?;
        s.serialize_field("text", &self.0.is_text())?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for WireBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<WireBytes, D::Error> {
        use base64::Engine as _;
        #[derive(Deserialize)]
        struct Raw {
            base64: String,
            text: bool,
        }
        let mut raw = Raw::deserialize(deserializer)?;
        let decoded = base64::engine::general_purpose::STANDARD.decode(raw.base64.as_bytes());
        zeroize::Zeroize::zeroize(&mut raw.base64);
        let bytes = decoded.map_err(|_| serde::de::Error::custom("attachment content is not valid base64"))?;
        if raw.text {
            let text = String::from_utf8(bytes)
                .map_err(|_| serde::de::Error::custom("a text attachment's content is not UTF-8"))?;
            Ok(WireBytes(Secret::text(text)))
        } else {
            Ok(WireBytes(Secret::bytes(bytes)))
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireField {
    pub label: String,
    pub value: WireFieldValue,
    pub kind: FieldKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// Plain values as strings, concealed ones marked so the store keeps
/// them concealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireFieldValue {
    Plain(String),
    Concealed(WireSecret),
    /// A concealed value a list route leaves out (`"withheld"`).
    Withheld,
}

impl From<&Field> for WireField {
    fn from(f: &Field) -> WireField {
        WireField {
            label: f.label.clone(),
            value: match &f.value {
                FieldValue::Plain(s) => WireFieldValue::Plain(s.clone()),
                FieldValue::Concealed(s) => WireFieldValue::Concealed(WireSecret(s.clone())),
            },
            kind: f.kind,
            group: f.group.clone(),
        }
    }
}

impl From<WireField> for Field {
    fn from(f: WireField) -> Field {
        Field {
            label: f.label,
            value: match f.value {
                WireFieldValue::Plain(s) => FieldValue::Plain(s),
                WireFieldValue::Concealed(s) => FieldValue::Concealed(s.0),
                WireFieldValue::Withheld => FieldValue::Concealed(Secret::default_text()),
            },
            kind: f.kind,
            group: f.group,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireAttachment {
    pub name: String,
    pub size: u64,
    #[serde(default)]
    pub content: Option<WireBytes>,
    #[serde(default)]
    pub source_id: Option<String>,
    /// SHA-256 (hex) of the bytes, for an attachment listed without them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// In a batch: the bytes were sent before it, on their own, to
    /// `PUT /api/v1/blobs/{sha256}`, and the server streams them from there
    /// into the store. A batch is one JSON document; an attachment inside
    /// it (base64) would be held whole by both ends.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub uploaded: bool,
}

impl WireAttachment {
    /// An attachment of a batch: its bytes, if it has any, go to the blob
    /// route (see [`WireAttachment::uploaded`]); the batch names them by
    /// digest.
    pub fn for_batch(a: &Attachment) -> WireAttachment {
        WireAttachment {
            name: a.name.clone(),
            size: a.size,
            content: None,
            source_id: a.source_id.clone(),
            sha256: a.sha256().map(hex::encode),
            uploaded: a.has_bytes(),
        }
    }
}

/// An attachment whose bytes were streamed past (a large 1PUX) is read
/// back here, one attachment at a time, since the API takes JSON. If they
/// cannot be read back as they were, it goes without content and with its
/// digest, and the run's read-back names the item as not stored.
impl From<&Attachment> for WireAttachment {
    fn from(a: &Attachment) -> WireAttachment {
        WireAttachment {
            name: a.name.clone(),
            size: a.size,
            content: a.load().ok().flatten().map(WireBytes),
            source_id: a.source_id.clone(),
            sha256: a.sha256().map(hex::encode),
            uploaded: false,
        }
    }
}

impl From<WireAttachment> for Attachment {
    fn from(a: WireAttachment) -> Attachment {
        let digest = a.sha256.as_deref().and_then(|h| {
            let mut d = [0u8; 32];
            hex::decode_to_slice(h, &mut d).ok().map(|()| d)
        });
        Attachment {
            name: a.name,
            size: a.size,
            // Held bytes decide the digest; a claimed one stands only for
            // bytes not sent.
            digest: if a.content.is_some() { None } else { digest },
            content: a.content.map(|c| c.0),
            source_id: a.source_id,
            origin: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireAccount {
    pub id: i64,
    pub collection: Option<i64>,
    pub name: String,
    pub url: Option<String>,
    #[serde(default)]
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub password: Option<WireSecret>,
    pub totp: Option<WireSecret>,
    pub notes: Option<String>,
    #[serde(default)]
    pub fields: Vec<WireField>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub attachments: Vec<WireAttachment>,
    pub import_key: Option<ImportKey>,
    pub imported_hash: Option<String>,
    /// In a list: the values are left out, and this stands for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<Withheld>,
}

impl From<&Account> for WireAccount {
    fn from(a: &Account) -> WireAccount {
        WireAccount::from_parts(a, &a.attachments)
    }
}

impl WireAccount {
    /// The account with `attachments` (as listed: with their bytes).
    fn from_parts(a: &Account, attachments: &[Attachment]) -> WireAccount {
        WireAccount {
            id: a.id,
            collection: a.collection,
            name: a.name.clone(),
            url: a.url.clone(),
            urls: a.urls.clone(),
            username: a.username.clone(),
            password: a.password.clone().map(WireSecret),
            totp: a.totp.clone().map(WireSecret),
            notes: a.notes.clone(),
            fields: a.fields.iter().map(WireField::from).collect(),
            tags: a.tags.clone(),
            attachments: attachments.iter().map(WireAttachment::from).collect(),
            import_key: a.import.import_key.clone(),
            imported_hash: a.import.imported_hash.clone(),
            withheld: None,
        }
    }

    /// The account as a list route gives it: no password, one-time
    /// password, notes, concealed field value or attachment bytes, and
    /// `withheld` in their place.
    pub fn listed(a: &Account, withheld: Withheld) -> WireAccount {
        WireAccount {
            id: a.id,
            collection: a.collection,
            name: a.name.clone(),
            url: a.url.clone(),
            urls: a.urls.clone(),
            username: a.username.clone(),
            password: None,
            totp: None,
            notes: None,
            fields: a.fields.iter().map(WireField::listed).collect(),
            tags: a.tags.clone(),
            attachments: a.attachments.iter().map(WireAttachment::listed).collect(),
            import_key: a.import.import_key.clone(),
            imported_hash: a.import.imported_hash.clone(),
            withheld: Some(withheld),
        }
    }
}

impl WireField {
    /// A field as listed: a concealed value is left out.
    fn listed(f: &Field) -> WireField {
        WireField {
            label: f.label.clone(),
            value: match &f.value {
                FieldValue::Plain(s) => WireFieldValue::Plain(s.clone()),
                FieldValue::Concealed(_) => WireFieldValue::Withheld,
            },
            kind: f.kind,
            group: f.group.clone(),
        }
    }
}

impl WireAttachment {
    /// An attachment as listed: its digest, never its bytes.
    fn listed(a: &Attachment) -> WireAttachment {
        WireAttachment {
            name: a.name.clone(),
            size: a.size,
            content: None,
            source_id: a.source_id.clone(),
            sha256: a.sha256().map(hex::encode),
            uploaded: false,
        }
    }
}

impl From<WireAccount> for Account {
    fn from(a: WireAccount) -> Account {
        Account {
            id: a.id,
            collection: a.collection,
            name: a.name,
            url: a.url,
            urls: a.urls,
            username: a.username,
            password: a.password.map(|s| s.0),
            totp: a.totp.map(|s| s.0),
            notes: a.notes,
            fields: a.fields.into_iter().map(Field::from).collect(),
            tags: a.tags,
            attachments: a.attachments.into_iter().map(Attachment::from).collect(),
            import: ItemImport {
                import_key: a.import_key,
                imported_hash: a.imported_hash,
                withheld: a.withheld,
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireSecretItem {
    pub id: i64,
    pub collection: Option<i64>,
    pub secret_type: SecretType,
    pub title: String,
    pub notes: Option<String>,
    #[serde(default)]
    pub fields: Vec<WireField>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub attachments: Vec<WireAttachment>,
    pub import_key: Option<ImportKey>,
    pub imported_hash: Option<String>,
    /// In a list: the values are left out, and this stands for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<Withheld>,
}

impl From<&SecretItem> for WireSecretItem {
    fn from(s: &SecretItem) -> WireSecretItem {
        WireSecretItem::from_parts(s, &s.attachments)
    }
}

impl WireSecretItem {
    /// The secret with `attachments` (as listed: with their bytes).
    fn from_parts(s: &SecretItem, attachments: &[Attachment]) -> WireSecretItem {
        WireSecretItem {
            id: s.id,
            collection: s.collection,
            secret_type: s.secret_type,
            title: s.title.clone(),
            notes: s.notes.clone(),
            fields: s.fields.iter().map(WireField::from).collect(),
            tags: s.tags.clone(),
            attachments: attachments.iter().map(WireAttachment::from).collect(),
            import_key: s.import.import_key.clone(),
            imported_hash: s.import.imported_hash.clone(),
            withheld: None,
        }
    }

    /// The secret as a list route gives it: no notes, concealed field
    /// value or attachment bytes, and `withheld` in their place.
    pub fn listed(s: &SecretItem, withheld: Withheld) -> WireSecretItem {
        WireSecretItem {
            id: s.id,
            collection: s.collection,
            secret_type: s.secret_type,
            title: s.title.clone(),
            notes: None,
            fields: s.fields.iter().map(WireField::listed).collect(),
            tags: s.tags.clone(),
            attachments: s.attachments.iter().map(WireAttachment::listed).collect(),
            import_key: s.import.import_key.clone(),
            imported_hash: s.import.imported_hash.clone(),
            withheld: Some(withheld),
        }
    }
}

impl From<WireSecretItem> for SecretItem {
    fn from(s: WireSecretItem) -> SecretItem {
        SecretItem {
            id: s.id,
            collection: s.collection,
            secret_type: s.secret_type,
            title: s.title,
            notes: s.notes,
            fields: s.fields.into_iter().map(Field::from).collect(),
            tags: s.tags,
            attachments: s.attachments.into_iter().map(Attachment::from).collect(),
            import: ItemImport {
                import_key: s.import_key,
                imported_hash: s.imported_hash,
                withheld: s.withheld,
            },
        }
    }
}

/// One write of a batch (`POST /api/v1/runs/{id}/batches`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum WireWrite {
    Team {
        key: ImportKey,
        name: String,
        members: Vec<i64>,
    },
    Invitation {
        invitation: NewGuestInvitation,
    },
    Collection {
        key: ImportKey,
        name: String,
        parent: Option<i64>,
    },
    Account {
        account: WireAccount,
    },
    Secret {
        secret: WireSecretItem,
    },
    Grant {
        grant: Grant,
    },
}

impl WireWrite {
    /// `None` for the crash test hook, which never crosses the network.
    pub fn from_write(w: &Write) -> Option<WireWrite> {
        Some(match w {
            Write::Team { key, name, members } => WireWrite::Team {
                key: key.clone(),
                name: name.clone(),
                members: members.clone(),
            },
            Write::Invitation(i) => WireWrite::Invitation { invitation: i.clone() },
            Write::Collection { key, name, parent } => WireWrite::Collection {
                key: key.clone(),
                name: name.clone(),
                parent: *parent,
            },
            Write::Account(a) => {
                let mut account = WireAccount::from_parts(a, &[]);
                account.attachments = a.attachments.iter().map(WireAttachment::for_batch).collect();
                WireWrite::Account { account }
            }
            Write::Secret(s) => {
                let mut secret = WireSecretItem::from_parts(s, &[]);
                secret.attachments = s.attachments.iter().map(WireAttachment::for_batch).collect();
                WireWrite::Secret { secret }
            }
            Write::Grant(g) => WireWrite::Grant { grant: g.clone() },
            Write::Interrupt => return None,
        })
    }

    pub fn into_write(self) -> Write {
        match self {
            WireWrite::Team { key, name, members } => Write::Team { key, name, members },
            WireWrite::Invitation { invitation } => Write::Invitation(invitation),
            WireWrite::Collection { key, name, parent } => Write::Collection { key, name, parent },
            WireWrite::Account { account } => Write::Account(account.into()),
            WireWrite::Secret { secret } => Write::Secret(secret.into()),
            WireWrite::Grant { grant } => Write::Grant(grant),
        }
    }
}

/// The snapshot's resources as the API pages them: `(path segment, JSON:API
/// type)`. One table so the router, the HTTP target and the OpenAPI test
/// agree.
pub const RESOURCES: &[(&str, &str)] = &[
    ("members", "member"),
    ("teams", "team"),
    ("partners", "partner"),
    ("partnerships", "partnership"),
    ("collections", "collection"),
    ("accounts", "account"),
    ("secrets", "secret"),
    ("grants", "grant"),
    ("invitations", "invitation"),
];

/// What a list route sends in place of an item's secret values.
pub trait Withhold {
    fn account(&self, a: &Account) -> Withheld;
    fn secret(&self, s: &SecretItem) -> Withheld;
}

/// One resource of a snapshot as wire objects (each with its `id`), or
/// `None` for an unknown resource name. Accounts and secrets come without
/// their secret values: an admin's API key lists them, it does not read
/// every password of the company (`withhold` says what stands in for them).
pub fn resource_items(snapshot: &Snapshot, resource: &str, withhold: &dyn Withhold) -> Option<Vec<serde_json::Value>> {
    fn all<T: Serialize>(items: impl Iterator<Item = T>) -> Vec<serde_json::Value> {
        items.filter_map(|i| serde_json::to_value(i).ok()).collect()
    }
    Some(match resource {
        "members" => all(snapshot.members.iter()),
        "teams" => all(snapshot.teams.iter()),
        "partners" => all(snapshot.partners.iter()),
        "partnerships" => all(snapshot.partnerships.iter()),
        "collections" => all(snapshot.collections.iter()),
        "accounts" => all(snapshot
            .accounts
            .iter()
            .map(|a| WireAccount::listed(a, withhold.account(a)))),
        "secrets" => all(snapshot
            .secrets
            .iter()
            .map(|s| WireSecretItem::listed(s, withhold.secret(s)))),
        "grants" => all(snapshot.grants.iter()),
        "invitations" => all(snapshot.invitations.iter()),
        _ => return None,
    })
}

/// The parts of a snapshot, filled resource by resource by the HTTP target.
#[derive(Default)]
pub struct SnapshotParts {
    pub members: Vec<Member>,
    pub teams: Vec<Team>,
    pub partners: Vec<LocalPartner>,
    pub partnerships: Vec<Partnership>,
    pub collections: Vec<Collection>,
    pub accounts: Vec<Account>,
    pub secrets: Vec<SecretItem>,
    pub grants: Vec<Grant>,
    pub invitations: Vec<GuestInvitation>,
}

impl SnapshotParts {
    /// Adds wire objects of `resource`; an object that does not parse is
    /// an error naming the resource (never its content).
    pub fn add(&mut self, resource: &str, items: Vec<serde_json::Value>) -> Result<(), String> {
        fn parse<T: serde::de::DeserializeOwned>(
            resource: &str,
            items: Vec<serde_json::Value>,
        ) -> Result<Vec<T>, String> {
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    serde_json::from_value(v).map_err(|e| {
                        // serde_json's messages name the field and the expected
                        // type, not the value.
                        format!("{resource} item {i}: unexpected shape ({e})")
                    })
                })
                .collect()
        }
        match resource {
            "members" => self.members.extend(parse(resource, items)?),
            "teams" => self.teams.extend(parse(resource, items)?),
            "partners" => self.partners.extend(parse(resource, items)?),
            "partnerships" => self.partnerships.extend(parse(resource, items)?),
            "collections" => self.collections.extend(parse(resource, items)?),
            "accounts" => self
                .accounts
                .extend(parse::<WireAccount>(resource, items)?.into_iter().map(Account::from)),
            "secrets" => self.secrets.extend(
                parse::<WireSecretItem>(resource, items)?
                    .into_iter()
                    .map(SecretItem::from),
            ),
            "grants" => self.grants.extend(parse(resource, items)?),
            "invitations" => self.invitations.extend(parse(resource, items)?),
            other => return Err(format!("unknown resource {other:?}")),
        }
        Ok(())
    }

    pub fn into_snapshot(self, workspace: WorkspaceInfo) -> Snapshot {
        Snapshot {
            workspace,
            members: self.members,
            teams: self.teams,
            partners: self.partners,
            partnerships: self.partnerships,
            collections: self.collections,
            accounts: self.accounts,
            secrets: self.secrets,
            intact_accounts: Vec::new(),
            intact_secrets: Vec::new(),
            grants: self.grants,
            invitations: self.invitations,
            removed: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_attachments_survive_a_round_trip() {
        let account = Account {
            id: 7,
            collection: Some(2),
            name: "db".into(),
            url: None,
            urls: vec![],
            username: Some("root".into()),
            password: Some(Secret::text("pw-marker")),
            totp: None,
            notes: None,
            fields: vec![Field::concealed("pin", "1234"), Field::plain("host", "h")],
            tags: vec![],
            attachments: vec![Attachment {
                name: "k.bin".into(),
                size: 3,
                content: Some(Secret::bytes(vec![0, 1, 255])),
                source_id: None,
                digest: None,
                origin: None,
            }],
            import: ItemImport {
                import_key: Some(ImportKey("account:x:1".into())),
                imported_hash: Some("h".into()),
                withheld: None,
            },
        };
        let json = serde_json::to_string(&WireAccount::from(&account)).unwrap();
        assert!(json.contains("pw-marker"), "the API must carry the password");
        let back: WireAccount = serde_json::from_str(&json).unwrap();
        assert_eq!(Account::from(back), account);
    }
}
