//! The CXF writer: one header, one account, collections nested, every
//! entry an item (`formats/cxf.md`, "Out").
//!
//! The document is serialized from borrowed views of the vault: a secret
//! goes from its [`Secret`](crate::secret::Secret) to the output buffer,
//! never into another string.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::{json, Value};

use super::CxfExport;
use crate::model::{Access, Attachment, Entry, Field, FieldKind, Principal, Share};
use crate::sources::cxf::{encode_b64url, ITEM_EXTENSION};

/// What was written, for the command's summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub collections: usize,
    pub items: usize,
    pub files: usize,
    /// Attachments named without their bytes (the store streams them and
    /// they were not read back).
    pub files_without_bytes: usize,
}

/// Writes `export` as one CXF document to `out`; the bytes of attachments
/// go to `documents/<file id>` under `documents` when given (created
/// owner-only by the caller).
pub fn write(export: &CxfExport, timestamp: i64, out: &mut dyn Write, documents: Option<&Path>) -> io::Result<Written> {
    let mut written = Written::default();
    let files = Files::of(export, documents, &mut written)?;
    let tree = Tree::of(export);
    let collections = tree.children(&[], export);
    written.collections = export.vault.folders.len();
    let items: Vec<ItemOut<'_>> = export
        .vault
        .entries
        .iter()
        .map(|e| item(e, export.item_shares.get(&e.source_id), &files))
        .collect();
    written.items = items.len();
    let mut extensions = Vec::new();
    if !export.groups.is_empty() {
        let groups: Vec<Value> = export
            .groups
            .iter()
            .map(|(name, members)| json!({"name": name, "members": members}))
            .collect();
        extensions.push(json!({"name": crate::sources::cxf::GROUPS_EXTENSION, "groups": groups}));
    }
    let header = Header {
        version: Version { major: 1, minor: 0 },
        exporter_rp_id: "vaultferry",
        exporter_display_name: "vaultferry",
        timestamp,
        accounts: [AccountOut {
            id: encode_b64url(export.account.id.as_bytes()),
            username: &export.account.username,
            email: &export.account.email,
            collections,
            items,
            extensions,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &header).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(written)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Header<'a> {
    version: Version,
    exporter_rp_id: &'a str,
    exporter_display_name: &'a str,
    timestamp: i64,
    accounts: [AccountOut<'a>; 1],
}

#[derive(Serialize)]
struct Version {
    major: u8,
    minor: u8,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountOut<'a> {
    id: String,
    username: &'a str,
    email: &'a str,
    collections: Vec<CollectionOut<'a>>,
    items: Vec<ItemOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extensions: Vec<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CollectionOut<'a> {
    id: String,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subtitle: Option<&'a str>,
    items: Vec<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sub_collections: Vec<CollectionOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extensions: Vec<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemOut<'a> {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    creation_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    modified_at: Option<i64>,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subtitle: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    favorite: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<Value>,
    credentials: Vec<Credential<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
    extensions: Vec<Value>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "kebab-case", rename_all_fields = "camelCase")]
enum Credential<'a> {
    BasicAuth {
        #[serde(skip_serializing_if = "Option::is_none")]
        username: Option<Editable<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        password: Option<Editable<'a>>,
    },
    Totp {
        secret: &'a str,
        period: u64,
        digits: u64,
        algorithm: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        username: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        issuer: Option<String>,
    },
    Note {
        content: Editable<'a>,
    },
    CustomFields {
        #[serde(skip_serializing_if = "Option::is_none")]
        label: Option<&'a str>,
        fields: Vec<Editable<'a>>,
    },
    File {
        id: String,
        name: &'a str,
        decrypted_size: u64,
        integrity_hash: String,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Editable<'a> {
    field_type: &'static str,
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extensions: Vec<Value>,
}

impl<'a> Editable<'a> {
    fn text(field_type: &'static str, value: &'a str) -> Editable<'a> {
        Editable {
            field_type,
            value,
            label: None,
            extensions: Vec::new(),
        }
    }

    /// A field as it is: `fieldType` from its kind (CXF has no URL, phone
    /// or card-number type), our field extension keeping the kind exactly.
    fn field(f: &'a Field) -> Editable<'a> {
        let field_type = if f.is_concealed() {
            "concealed-string"
        } else {
            match f.kind {
                FieldKind::Email => "email",
                FieldKind::Date => "date",
                FieldKind::MonthYear => "year-month",
                _ => "string",
            }
        };
        Editable {
            field_type,
            value: f.value.expose(),
            label: Some(&f.label),
            extensions: vec![json!({"name": crate::sources::cxf::FIELD_EXTENSION, "kind": f.kind})],
        }
    }
}

/// Folders by parent, to nest collections.
struct Tree<'v> {
    children: BTreeMap<&'v [String], Vec<&'v [String]>>,
    items: BTreeMap<&'v [String], Vec<&'v str>>,
    shares: BTreeMap<&'v [String], Vec<&'v Share>>,
}

impl<'v> Tree<'v> {
    fn of(export: &'v CxfExport) -> Tree<'v> {
        let mut children: BTreeMap<&[String], Vec<&[String]>> = BTreeMap::new();
        for f in &export.vault.folders {
            let path = f.path.as_slice();
            if let Some((_, parent)) = path.split_last() {
                children.entry(parent).or_default().push(path);
            }
        }
        let mut items: BTreeMap<&[String], Vec<&str>> = BTreeMap::new();
        for e in &export.vault.entries {
            if !e.folder.is_empty() {
                items.entry(&e.folder[..]).or_default().push(&e.source_id);
            }
        }
        let mut shares: BTreeMap<&[String], Vec<&Share>> = BTreeMap::new();
        for s in &export.vault.shares {
            shares.entry(s.folder.as_slice()).or_default().push(s);
        }
        Tree {
            children,
            items,
            shares,
        }
    }

    fn children(&self, parent: &[String], export: &'v CxfExport) -> Vec<CollectionOut<'v>> {
        let Some(kids) = self.children.get(parent) else {
            return Vec::new();
        };
        kids.iter()
            .map(|path| {
                let folder = export.vault.folder(path);
                let id = folder
                    .and_then(|f| f.source_id.clone())
                    .unwrap_or_else(|| path.join("\u{1f}"));
                let mut extensions = Vec::new();
                if let Some(shares) = self.shares.get(path) {
                    extensions.push(shared(shares));
                }
                CollectionOut {
                    id: encode_b64url(id.as_bytes()),
                    title: path.last().map(String::as_str).unwrap_or_default(),
                    subtitle: folder.and_then(|f| f.description.as_deref()),
                    items: self
                        .items
                        .get(path)
                        .into_iter()
                        .flatten()
                        .map(|id| json!({"item": encode_b64url(id.as_bytes())}))
                        .collect(),
                    sub_collections: self.children(path, export),
                    extensions,
                }
            })
            .collect()
    }
}

/// The permissions an access is written as (the reverse of the reader's
/// table: each reads back as the same access).
fn permissions(access: &Access) -> Vec<&'static str> {
    let mut p = vec!["read"];
    if !access.hide_passwords {
        p.push("readSecret");
    }
    if access.edit || access.admin {
        p.extend(["update", "create", "delete"]);
    }
    if access.admin {
        p.extend(["share", "manage"]);
    }
    p
}

fn shared(shares: &[&Share]) -> Value {
    let accessors: Vec<Value> = shares
        .iter()
        .filter(|s| s.status == crate::model::ShareStatus::Active)
        .map(|s| match &s.principal {
            Principal::User { email, .. } => json!({
                "type": "user",
                "accountId": encode_b64url(email.to_lowercase().as_bytes()),
                "name": email,
                "permissions": permissions(&s.access),
            }),
            Principal::Group { group, .. } => json!({
                "type": "group",
                "accountId": encode_b64url(format!("group:{group}").as_bytes()),
                "name": group,
                "permissions": permissions(&s.access),
            }),
        })
        .collect();
    json!({"name": crate::sources::cxf::SHARED_EXTENSION, "accessors": accessors})
}

/// Attachment ids and where their bytes went.
struct Files {
    /// (entry source id, attachment index) → (id, size, hash) of a file written or named.
    ids: BTreeMap<(String, usize), (String, u64, String)>,
}

impl Files {
    fn of(export: &CxfExport, documents: Option<&Path>, written: &mut Written) -> io::Result<Files> {
        let mut ids = BTreeMap::new();
        for e in &export.vault.entries {
            for (n, a) in e.attachments.iter().enumerate() {
                // A file the store streams has no bytes here; it is named
                // without them (counted in the summary).
                let bytes: Option<crate::secret::Secret> = a.load().unwrap_or_default();
                let digest = a.sha256();
                let id = encode_b64url(format!("{}\u{1f}{n}", e.source_id).as_bytes());
                let hash = digest.map(|d| encode_b64url(&d)).unwrap_or_default();
                match (&bytes, documents) {
                    (Some(b), Some(dir)) => {
                        write_owner_only(&dir.join(&id), b.expose_bytes())?;
                        written.files += 1;
                    }
                    _ => written.files_without_bytes += 1,
                }
                ids.insert((e.source_id.clone(), n), (id, a.size, hash));
            }
        }
        Ok(Files { ids })
    }
}

/// Creates `path` 0600 (the bytes are as secret as the passwords).
pub fn write_owner_only(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

fn item<'a>(e: &'a Entry, shares: Option<&Vec<Share>>, files: &Files) -> ItemOut<'a> {
    let mut credentials = Vec::new();
    if e.username.is_some() || e.password.is_some() {
        credentials.push(Credential::BasicAuth {
            username: e.username.as_deref().map(|u| Editable::text("string", u)),
            password: e
                .password
                .as_ref()
                .map(|p| Editable::text("concealed-string", p.expose())),
        });
    }
    if let Some(t) = &e.totp {
        credentials.push(totp(t.expose()));
    }
    if let Some(n) = &e.notes {
        credentials.push(Credential::Note {
            content: Editable::text("string", n),
        });
    }
    let mut groups: Vec<(Option<&str>, Vec<Editable<'a>>)> = Vec::new();
    for f in &e.fields {
        let group = f.group.as_deref();
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, list)) => list.push(Editable::field(f)),
            None => groups.push((group, vec![Editable::field(f)])),
        }
    }
    for (label, fields) in groups {
        credentials.push(Credential::CustomFields { label, fields });
    }
    for (n, a) in e.attachments.iter().enumerate() {
        credentials.push(file(e, n, a, files));
    }
    let mut extensions = vec![json!({
        "name": ITEM_EXTENSION,
        "kind": e.kind,
        "sourceType": e.source_type,
    })];
    if let Some(shares) = shares {
        let refs: Vec<&Share> = shares.iter().collect();
        extensions.push(shared(&refs));
    }
    ItemOut {
        id: encode_b64url(e.source_id.as_bytes()),
        creation_at: e.created.map(|t| t.0),
        modified_at: e.updated.map(|t| t.0),
        title: &e.title,
        subtitle: e.subtitle.as_deref(),
        favorite: e.favorite,
        scope: (!e.urls.is_empty()).then(|| json!({"urls": e.urls, "androidApps": []})),
        credentials,
        tags: &e.tags,
        extensions,
    }
}

fn file<'a>(e: &Entry, n: usize, a: &'a Attachment, files: &Files) -> Credential<'a> {
    let (id, size, hash) = files.ids.get(&(e.source_id.clone(), n)).cloned().unwrap_or_default();
    Credential::File {
        id,
        name: &a.name,
        decrypted_size: size,
        integrity_hash: hash,
    }
}

/// A TOTP as the workspace holds it (a base32 seed or an `otpauth://`
/// URI) taken apart into CXF's keys.
fn totp(value: &str) -> Credential<'_> {
    let Some(rest) = value.strip_prefix("otpauth://totp/") else {
        return Credential::Totp {
            secret: value,
            period: 30,
            digits: 6,
            algorithm: "sha1".to_owned(),
            username: None,
            issuer: None,
        };
    };
    let (label, query) = rest.split_once('?').unwrap_or((rest, ""));
    let label = unpercent(label);
    let (label_issuer, username) = match label.split_once(':') {
        Some((i, u)) => (Some(i.to_owned()), u.to_owned()),
        None => (None, label.clone()),
    };
    let mut secret = "";
    let (mut period, mut digits, mut algorithm, mut issuer) = (30, 6, "sha1".to_owned(), label_issuer);
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "secret" => secret = v,
            "period" => period = v.parse().unwrap_or(30),
            "digits" => digits = v.parse().unwrap_or(6),
            "algorithm" => algorithm = v.to_ascii_lowercase(),
            "issuer" => issuer = Some(unpercent(v)),
            _ => {}
        }
    }
    Credential::Totp {
        secret,
        period,
        digits,
        algorithm,
        username: (!username.is_empty()).then_some(username),
        issuer: issuer.filter(|i| !i.is_empty()),
    }
}

fn unpercent(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
