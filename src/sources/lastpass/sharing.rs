//! Who had access to LastPass shared folders. The CSV export does not say,
//! so admins fetch it separately, in one of four shapes (documented in
//! `formats/lastpass-sharing.md`):
//!
//! - Enterprise API `getsfdata` / `getdetailedsfdata`: every shared folder
//!   of the account, keyed by shared-folder id;
//! - Enterprise API `getSharedFolderMembers`: one folder's `users` and `groups`;
//! - web API `share.php?getinfo=1` (what lastpass-cli reads): one folder's
//!   members as XML.
//!
//! Folders are matched to the export's `Shared-X` folders by name,
//! case-insensitively, with or without the `Shared-` prefix.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::model::{Access, Finding, Position, Principal, Share, ShareStatus, Vault};
use crate::sources::{at, recover_or_fail, ParseOptions, SourceError};

/// One member of one shared folder, as the file states it.
struct Member {
    principal: Principal,
    access: Access,
    status: ShareStatus,
    outside_enterprise: Option<bool>,
    source_access: String,
    position: Position,
}

/// One shared folder's entry in a sharing file.
struct SharedFolder {
    /// The shared-folder id, where the file has one.
    id: Option<String>,
    name: String,
    deleted: bool,
    members: Vec<Member>,
    position: Position,
}

/// Reads a LastPass sharing file and adds its shares to `vault`.
pub(crate) fn read(vault: &mut Vault, bytes: &[u8], file: &str, options: &ParseOptions) -> Result<(), SourceError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let (folders, whole_account) = if text.starts_with('<') {
        let (name, members) = read_xml(bytes, file)?;
        (vec![one_folder(vault, name, members, file)?], false)
    } else if text.starts_with('{') {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            SourceError::malformed(
                at(file, e.line() as u64),
                format!("the JSON is not valid ({e}); expected a LastPass getsfdata, getdetailedsfdata or getSharedFolderMembers answer"),
            )
        })?;
        let Value::Object(obj) = value else {
            return Err(not_sharing(file));
        };
        if obj.get("users").is_some_and(Value::is_array) || obj.get("groups").is_some_and(Value::is_array) {
            let name = ["sharedfoldername", "shared_folder_name", "sharedfolder", "foldername"]
                .iter()
                .find_map(|k| obj.get(*k).and_then(Value::as_str))
                .map(str::to_owned);
            let members = read_members(&obj, &Doc::new(text), file)?;
            (vec![one_folder(vault, name, members, file)?], false)
        } else {
            (read_sfdata(obj, &Doc::new(text), file)?, true)
        }
    } else {
        return Err(not_sharing(file));
    };
    attach(vault, folders, whole_account, file, options)
}

fn not_sharing(file: &str) -> SourceError {
    SourceError::malformed(
        at(file, 1),
        "this is not a LastPass sharing file; expected the JSON of the Enterprise API (getsfdata, getdetailedsfdata, getSharedFolderMembers) or the XML of share.php?getinfo=1",
    )
}

/// A one-folder file (getSharedFolderMembers, share getinfo) names its folder
/// only sometimes: then the name in the file wins, else a file named after
/// the folder (`Shared-Engineering.xml`), else the export's only shared folder.
fn one_folder(
    vault: &mut Vault,
    name: Option<String>,
    members: Vec<Member>,
    file: &str,
) -> Result<SharedFolder, SourceError> {
    let shared: Vec<String> = vault
        .folders
        .iter()
        .filter(|f| f.shared && f.path.len() == 1)
        .filter_map(|f| f.path.first().cloned())
        .collect();
    let name = match name {
        Some(n) => n,
        None => {
            let stem = Path::new(file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(n) = shared.iter().find(|n| same_folder(&stem, n)) {
                n.clone()
            } else if let [only] = shared.as_slice() {
                vault.findings.push(
                    Finding::info(
                        "lastpass.sharing-folder-assumed",
                        format!("the sharing file names no folder; its members are applied to the export's only shared folder '{only}'"),
                    )
                    .at(Position::file(file)),
                );
                only.clone()
            } else {
                return Err(SourceError::malformed(
                    Position::file(file),
                    format!(
                        "this file lists one shared folder's members but does not say which folder, and the export has {} shared folders; expected a top-level \"sharedfoldername\" (JSON) or <sharedfoldername> (XML), or a file named after the folder (Shared-X.json)",
                        shared.len()
                    ),
                ));
            }
        }
    };
    Ok(SharedFolder {
        id: None,
        name,
        deleted: false,
        members,
        position: Position::file(file),
    })
}

/// `Shared-Engineering`, `engineering` and `Engineering` name one folder.
fn same_folder(sharing_name: &str, folder: &str) -> bool {
    strip_shared(sharing_name).to_lowercase() == strip_shared(folder).to_lowercase()
}

/// The folder's name without LastPass's `Shared-` prefix, trimmed.
fn strip_shared(name: &str) -> &str {
    let n = name.trim();
    match n.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("Shared-") => n.get(7..).unwrap_or("").trim(),
        _ => n,
    }
}

/// Sharing data for a folder the export lacks is dropped, like the
/// 1Password bundle's unknown vaults, so `--strict` stops there too.
fn attach(
    vault: &mut Vault,
    folders: Vec<SharedFolder>,
    whole_account: bool,
    file: &str,
    options: &ParseOptions,
) -> Result<(), SourceError> {
    let mut matched: Vec<Vec<String>> = Vec::new();
    for sf in folders {
        let path = vault
            .folders
            .iter()
            .filter(|f| f.shared && f.path.len() == 1)
            .filter(|f| f.path.first().is_some_and(|p| same_folder(&sf.name, p)))
            // `Shared-Web` and `Shared-WEB` are two folders: the one
            // spelled as the sharing data spells it wins.
            .min_by_key(|f| {
                f.path
                    .first()
                    .map_or(true, |p| strip_shared(p) != strip_shared(&sf.name))
            })
            .map(|f| f.path.clone());
        let Some(path) = path else {
            recover_or_fail(
                vault,
                Finding::warning(
                    "lastpass.sharing-unknown-folder",
                    format!(
                        "shared folder '{}'{} has sharing data but no Shared- folder of that name is in the export; access for its {} member{} is not migrated",
                        sf.name,
                        sf.id.as_deref().map(|id| format!(" (id {id})")).unwrap_or_default(),
                        sf.members.len(),
                        if sf.members.len() == 1 { "" } else { "s" }
                    ),
                )
                .at(sf.position.clone())
                .help("export the folder's items too, or ignore this if the folder is gone"),
                options,
            )?;
            continue;
        };
        matched.push(path.clone());
        if sf.deleted {
            vault.findings.push(
                Finding::warning(
                    "lastpass.shared-folder-deleted",
                    format!(
                        "shared folder '{}' is marked deleted in the sharing data; its members are not migrated",
                        sf.name
                    ),
                )
                .at(sf.position.clone()),
            );
            continue;
        }
        let folder_name = path.join("/");
        for m in sf.members {
            if let Principal::User { email, .. } = &m.principal {
                if email.contains('@') && !crate::model::address::is_mailbox(email.trim()) {
                    vault
                        .findings
                        .push(invalid_address(email, &folder_name, m.position.clone()));
                    continue;
                }
            }
            let who = match &m.principal {
                Principal::User { email, .. } => email.clone(),
                Principal::Group { group, .. } => format!("group {group}"),
            };
            let finding = match m.status {
                ShareStatus::Active => None,
                ShareStatus::Pending => Some(Finding::warning(
                    "lastpass.share-not-accepted",
                    format!(
                        "{who} was invited to shared folder '{folder_name}' but never accepted; no access is migrated"
                    ),
                )),
                ShareStatus::Deleted => Some(Finding::info(
                    "lastpass.share-deleted",
                    format!("{who} is deleted in LastPass; their access to '{folder_name}' is not migrated"),
                )),
                ShareStatus::Suspended => Some(Finding::info(
                    "lastpass.share-suspended",
                    format!("{who} is disabled in LastPass; their access to '{folder_name}' is not migrated"),
                )),
            };
            if let Some(f) = finding {
                vault.findings.push(f.at(m.position.clone()));
            }
            vault.shares.push(Share {
                folder: path.clone(),
                item: None,
                principal: m.principal,
                access: m.access,
                status: m.status,
                outside_enterprise: m.outside_enterprise,
                source_access: Some(m.source_access),
            });
        }
    }
    if whole_account {
        let missing: Vec<String> = vault
            .folders
            .iter()
            .filter(|f| f.shared && !matched.contains(&f.path))
            .map(|f| f.path.join("/"))
            .collect();
        for name in missing {
            vault.findings.push(
                Finding::warning(
                    "lastpass.folder-without-sharing",
                    format!("shared folder '{name}' is in the export but not in the sharing file; it is migrated without members"),
                )
                .at(Position::file(file))
                .help("fetch the sharing data again, or grant access in the workspace by hand"),
            );
        }
    }
    Ok(())
}

/// A sharer whose address is not a plain addr-spec: no share, so no grant
/// and no invitation email is ever addressed to it.
fn invalid_address(email: &str, folder: &str, position: Position) -> Finding {
    Finding::warning(
        "mapper.sharer-address-invalid",
        format!(
            "the sharer {:?} of '{folder}' is not a valid email address (expected name@domain.example); no grant, no invitation",
            email.trim()
        ),
    )
    .at(position)
    .help("correct the address in the sharing file and run again, or grant access by hand in the workspace")
}

// ---- JSON -----------------------------------------------------------------

/// Where a folder (`id`) or its `array[i]` object starts. serde_json values
/// carry no positions, and a line is what an admin opens the file at; this
/// finds the first matching key in the text, which is exact for the API's
/// own output. The position has no line when the text does not match.
struct Doc<'a> {
    text: &'a str,
    /// Byte offsets of the line breaks, for lines by binary search.
    newlines: Vec<usize>,
    /// Where each folder id's key was found (`None`: not in the text).
    starts: RefCell<HashMap<String, Option<usize>>>,
    /// The last `array[i]` found: (id, array, i, offset), so the users of a
    /// folder are found walking forward once, not from the folder's start
    /// for each of them (a big account has thousands).
    last_item: RefCell<Option<(String, String, usize, usize)>>,
}

impl<'a> Doc<'a> {
    fn new(text: &'a str) -> Doc<'a> {
        Doc {
            text,
            newlines: memchr_all(text.as_bytes()),
            starts: RefCell::new(HashMap::new()),
            last_item: RefCell::new(None),
        }
    }

    fn at(&self, file: &str, id: &str, item: Option<(&str, usize)>) -> Position {
        let position = Position::file(file);
        match self.offset(id, item) {
            Some(offset) => position.line(self.newlines.partition_point(|&n| n < offset) as u64 + 1),
            None => position,
        }
    }

    fn start(&self, id: &str) -> Option<usize> {
        if id.is_empty() {
            return Some(0);
        }
        if let Some(known) = self.starts.borrow().get(id) {
            return *known;
        }
        let found = key_offset(self.text, id);
        self.starts.borrow_mut().insert(id.to_owned(), found);
        found
    }

    fn offset(&self, id: &str, item: Option<(&str, usize)>) -> Option<usize> {
        let start = self.start(id)?;
        let Some((array, i)) = item else { return Some(start) };
        let text = self.text;
        let resume = match &*self.last_item.borrow() {
            Some((lid, larray, li, pos)) if lid == id && larray == array && *li < i => Some((*li, *pos)),
            _ => None,
        };
        let (mut done, mut pos) = match resume {
            Some((li, pos)) => (li + 1, pos),
            None => (0, text.get(start..)?.find(&format!("\"{array}\""))? + start),
        };
        while done <= i {
            pos = text.get(pos + 1..)?.find('{')? + pos + 1;
            done += 1;
        }
        *self.last_item.borrow_mut() = Some((id.to_owned(), array.to_owned(), i, pos));
        Some(pos)
    }
}

/// The first `"id"` followed by `:` (a key, not a value).
fn key_offset(text: &str, id: &str) -> Option<usize> {
    let key = format!("\"{id}\"");
    let mut from = 0;
    loop {
        let at = text.get(from..)?.find(&key)? + from;
        from = at + key.len();
        if text.get(from..)?.trim_start().starts_with(':') {
            return Some(at);
        }
    }
}

fn memchr_all(bytes: &[u8]) -> Vec<usize> {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .map(|(i, _)| i)
        .collect()
}

/// LastPass's API writes flags as `0`/`1`, `"0"`/`"1"` or booleans.
fn flag(obj: &Map<String, Value>, key: &str, at: &Position, path: &str) -> Result<Option<bool>, SourceError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
        Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
        Some(Value::String(s)) if matches!(s.trim(), "0" | "false" | "") => Ok(Some(false)),
        Some(Value::String(s)) if matches!(s.trim(), "1" | "true") => Ok(Some(true)),
        Some(other) => Err(SourceError::malformed(
            at.clone()
                .field(format!("{path}.{key}").trim_start_matches('.').to_owned()),
            format!("found {}, expected 0 or 1 (as a number or a string)", kind_of(other)),
        )),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "another number",
        Value::String(_) => "another string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn string(obj: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match obj.get(*k) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// Flags as read, missing ones left out, for reports.
fn describe_flags(flags: &[(&str, Option<bool>)]) -> String {
    flags
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", u8::from(v))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Missing flags mean the least access (`readonly`, not admin), except
/// `give`, whose absence (getSharedFolderMembers never writes it) means
/// LastPass's default: passwords visible.
fn access(readonly: Option<bool>, admin: Option<bool>, give: Option<bool>) -> Access {
    Access {
        admin: admin.unwrap_or(false),
        edit: !readonly.unwrap_or(true),
        hide_passwords: !give.unwrap_or(true),
    }
}

/// `deletedstatus`: 0 active, 1 deleted, anything else disabled.
fn deleted_status(obj: &Map<String, Value>) -> ShareStatus {
    match string(obj, &["deletedstatus"]).as_deref().map(str::trim) {
        None | Some("0") | Some("") => ShareStatus::Active,
        Some("1") => ShareStatus::Deleted,
        Some(_) => ShareStatus::Suspended,
    }
}

fn read_sfdata(mut obj: Map<String, Value>, doc: &Doc<'_>, file: &str) -> Result<Vec<SharedFolder>, SourceError> {
    if let Some(status) = obj.get("status").and_then(Value::as_str) {
        if !matches!(status.to_ascii_uppercase().as_str(), "OK" | "SUCCESS") {
            let errors = match obj.get("errors") {
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|e| e.as_str().map(str::to_owned).unwrap_or_else(|| e.to_string()))
                    .collect::<Vec<_>>()
                    .join("; "),
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            return Err(SourceError::malformed(
                Position::file(file).field("status"),
                format!("the LastPass API answered status {status:?} ({errors}); expected the shared-folder data, fetch it again"),
            ));
        }
    }
    if let Some(Value::Object(data)) = obj.remove("data") {
        obj = data;
    }
    let mut out = Vec::new();
    for (id, value) in obj {
        if matches!(id.as_str(), "status" | "errors" | "error" | "next") {
            continue;
        }
        let Value::Object(folder) = value else {
            return Err(SourceError::malformed(
                Position::file(file).field(id.clone()),
                format!(
                    "found {}, expected a shared folder object with sharedfoldername and users",
                    kind_of(&value)
                ),
            ));
        };
        let name = string(&folder, &["sharedfoldername", "name"]).ok_or_else(|| {
            SourceError::malformed(
                Position::file(file).field(format!("{id}.sharedfoldername")),
                "the shared folder has no sharedfoldername; expected its name (Shared-X)",
            )
        })?;
        let deleted = flag(&folder, "deleted", &doc.at(file, &id, None), &id)?.unwrap_or(false);
        let members = read_users(&folder, &id, doc, file)?;
        out.push(SharedFolder {
            id: Some(id.clone()),
            name,
            deleted,
            members,
            position: doc.at(file, &id, None).field(id),
        });
    }
    Ok(out)
}

/// `users` of a getsfdata/getdetailedsfdata folder. A user listed with a
/// `group_name` has access through that group: the entries of one group
/// become one group share naming its members.
fn read_users(folder: &Map<String, Value>, id: &str, doc: &Doc<'_>, file: &str) -> Result<Vec<Member>, SourceError> {
    let mut members: Vec<Member> = Vec::new();
    let users = match folder.get("users") {
        None | Some(Value::Null) => return Ok(members),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(SourceError::malformed(
                Position::file(file).field(format!("{id}.users")),
                format!("found {}, expected an array of users", kind_of(other)),
            ))
        }
    };
    for (i, user) in users.iter().enumerate() {
        let path = format!("{id}.users[{i}]").trim_start_matches('.').to_owned();
        let here = doc.at(file, id, Some(("users", i)));
        let Value::Object(u) = user else {
            return Err(SourceError::malformed(
                here.field(path),
                format!("found {}, expected a user object", kind_of(user)),
            ));
        };
        let readonly = flag(u, "readonly", &here, &path)?;
        let admin = flag(u, "can_administer", &here, &path)?;
        let give = flag(u, "give", &here, &path)?;
        let source_access = describe_flags(&[("readonly", readonly), ("can_administer", admin), ("give", give)]);
        let status = deleted_status(u);
        let username = string(u, &["username", "email"]).map(|s| s.trim().to_owned());
        let position = here.clone().field(path.clone());
        if let Some(group) = string(u, &["group_name", "groupname"]) {
            let existing = members
                .iter_mut()
                .find(|m| matches!(&m.principal, Principal::Group { group: g, .. } if *g == group));
            let member = username.filter(|_| status == ShareStatus::Active);
            match existing {
                Some(m) => {
                    if let (Principal::Group { members, .. }, Some(email)) = (&mut m.principal, member) {
                        members.push(email);
                    }
                }
                None => members.push(Member {
                    principal: Principal::Group {
                        group,
                        members: member.into_iter().collect(),
                    },
                    access: access(readonly, admin, give),
                    status: ShareStatus::Active,
                    outside_enterprise: None,
                    source_access,
                    position,
                }),
            }
            continue;
        }
        let Some(email) = username else {
            return Err(SourceError::malformed(
                position.field(format!("{path}.username")),
                "the user has neither username nor group_name; expected the member's email",
            ));
        };
        members.push(Member {
            principal: Principal::User {
                email,
                name: string(u, &["fullname", "realname", "name"]),
            },
            access: access(readonly, admin, give),
            status,
            outside_enterprise: flag(u, "outsideenterprise", &here, &path)?,
            source_access,
            position,
        });
    }
    Ok(members)
}

/// getSharedFolderMembers: `users` and `groups`, each with `readonly` and
/// `can_administer`.
fn read_members(obj: &Map<String, Value>, doc: &Doc<'_>, file: &str) -> Result<Vec<Member>, SourceError> {
    let mut members = read_users(obj, "", doc, file)?;
    let groups = match obj.get("groups") {
        None | Some(Value::Null) => return Ok(members),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(SourceError::malformed(
                Position::file(file).field("groups"),
                format!("found {}, expected an array of groups", kind_of(other)),
            ))
        }
    };
    for (i, group) in groups.iter().enumerate() {
        let path = format!("groups[{i}]");
        let here = doc.at(file, "", Some(("groups", i)));
        let Value::Object(g) = group else {
            return Err(SourceError::malformed(
                here.field(path),
                format!("found {}, expected a group object", kind_of(group)),
            ));
        };
        let Some(name) = string(g, &["name", "groupname", "group_name"]) else {
            return Err(SourceError::malformed(
                Position::file(file).field(format!("{path}.name")),
                "the group has no name; expected its LastPass group name",
            ));
        };
        let readonly = flag(g, "readonly", &here, &path)?;
        let admin = flag(g, "can_administer", &here, &path)?;
        let give = flag(g, "give", &here, &path)?;
        let names: Vec<String> = match g.get("members").or_else(|| g.get("users")) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|m| match m {
                    Value::String(s) => Some(s.trim().to_owned()),
                    Value::Object(o) => string(o, &["username", "email"]).map(|s| s.trim().to_owned()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        members.push(Member {
            principal: Principal::Group {
                group: name,
                members: names,
            },
            access: access(readonly, admin, give),
            status: ShareStatus::Active,
            outside_enterprise: None,
            source_access: describe_flags(&[("readonly", readonly), ("can_administer", admin), ("give", give)]),
            position: here.field(path),
        });
    }
    Ok(members)
}

// ---- XML ------------------------------------------------------------------

#[derive(Default)]
struct XmlItem {
    line: u64,
    username: Option<String>,
    realname: Option<String>,
    group: Option<String>,
    readonly: Option<String>,
    canadminister: Option<String>,
    give: Option<String>,
    outsideenterprise: Option<String>,
    accepted: Option<String>,
}

fn line_of(bytes: &[u8], offset: u64) -> u64 {
    let end = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
    bytes
        .get(..end)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64)
        .unwrap_or(0)
        + 1
}

fn xml_flag(value: &Option<String>, name: &str, file: &str, line: u64) -> Result<Option<bool>, SourceError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some("0") => Ok(Some(false)),
        Some("1") => Ok(Some(true)),
        Some(_) => Err(SourceError::malformed(
            at(file, line).field(name.to_owned()),
            format!("<{name}> is neither 0 nor 1"),
        )),
    }
}

/// The answer of `share.php?getinfo=1`:
/// `<xmlresponse><users><item>` with `username`, `realname`, `group`,
/// `permissions` (`readonly`, `canadminister`, `give`),
/// `outsideenterprise` and `accepted`.
fn read_xml(bytes: &[u8], file: &str) -> Result<(Option<String>, Vec<Member>), SourceError> {
    use quick_xml::events::Event;

    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut items: Vec<XmlItem> = Vec::new();
    let mut current: Option<XmlItem> = None;
    let mut folder_name = None;
    let mut saw_root = false;
    loop {
        buf.clear();
        let pos = reader.buffer_position();
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            SourceError::malformed(
                at(file, line_of(bytes, reader.error_position())),
                format!("the XML is not well-formed ({e}); expected LastPass's share.php?getinfo=1 answer"),
            )
        })?;
        match event {
            Event::Eof => break,
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_ascii_lowercase();
                if path.is_empty() {
                    if name != "xmlresponse" {
                        return Err(SourceError::malformed(
                            at(file, line_of(bytes, pos)),
                            format!("the root element is <{name}>, expected <xmlresponse> (share.php?getinfo=1)"),
                        ));
                    }
                    saw_root = true;
                }
                path.push(name);
                if path == ["xmlresponse", "users", "item"] {
                    current = Some(XmlItem {
                        line: line_of(bytes, pos),
                        ..XmlItem::default()
                    });
                }
            }
            Event::End(_) => {
                if path == ["xmlresponse", "users", "item"] {
                    items.extend(current.take());
                }
                path.pop();
            }
            Event::Text(t) => {
                let text = t
                    .unescape()
                    .map_err(|e| {
                        SourceError::malformed(
                            at(file, line_of(bytes, pos)),
                            format!("bad XML text ({e}); expected plain text or entities"),
                        )
                    })?
                    .trim()
                    .to_owned();
                let tail: Vec<&str> = path.iter().skip(3).map(String::as_str).collect();
                if path.len() == 2 && path.first().is_some_and(|p| p == "xmlresponse") {
                    if path.get(1).is_some_and(|p| p == "sharedfoldername" || p == "sharename") {
                        folder_name = Some(text);
                    }
                    continue;
                }
                let Some(item) = current.as_mut() else { continue };
                let slot = match tail.as_slice() {
                    ["username"] => &mut item.username,
                    ["realname"] => &mut item.realname,
                    ["group"] => &mut item.group,
                    ["permissions", "readonly"] => &mut item.readonly,
                    ["permissions", "canadminister"] => &mut item.canadminister,
                    ["permissions", "give"] => &mut item.give,
                    ["outsideenterprise"] => &mut item.outsideenterprise,
                    ["accepted"] => &mut item.accepted,
                    _ => continue,
                };
                *slot = Some(text);
            }
            _ => {}
        }
    }
    if !saw_root {
        return Err(not_sharing(file));
    }
    let mut members = Vec::with_capacity(items.len());
    for item in items {
        let line = item.line;
        let readonly = xml_flag(&item.readonly, "readonly", file, line)?;
        let admin = xml_flag(&item.canadminister, "canadminister", file, line)?;
        let give = xml_flag(&item.give, "give", file, line)?;
        let is_group = xml_flag(&item.group, "group", file, line)?.unwrap_or(false);
        let accepted = xml_flag(&item.accepted, "accepted", file, line)?.unwrap_or(true);
        let outside = xml_flag(&item.outsideenterprise, "outsideenterprise", file, line)?;
        let username = item.username.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let realname = item.realname.filter(|s| !s.trim().is_empty());
        let principal = if is_group {
            match username.or(realname) {
                Some(group) => Principal::group(group),
                None => {
                    return Err(SourceError::malformed(
                        at(file, line).field("username"),
                        "a group item has no name; expected <username> or <realname>",
                    ))
                }
            }
        } else {
            match username {
                Some(email) => Principal::User { email, name: realname },
                None => {
                    return Err(SourceError::malformed(
                        at(file, line).field("username"),
                        "a member item has no <username>; expected the member's email",
                    ))
                }
            }
        };
        members.push(Member {
            principal,
            access: access(readonly, admin, give),
            status: if accepted {
                ShareStatus::Active
            } else {
                ShareStatus::Pending
            },
            outside_enterprise: outside,
            source_access: describe_flags(&[("readonly", readonly), ("canadminister", admin), ("give", give)]),
            position: at(file, line),
        });
    }
    Ok((folder_name, members))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;

    fn vault() -> Vault {
        let mut v = Vault::new(SourceKind::LastpassCsv, "x.csv");
        v.ensure_folder(&["Finance".to_owned()], true);
        v
    }

    #[test]
    fn folder_names_match_with_or_without_prefix_and_case() {
        assert!(same_folder("Shared-Finance", "Finance"));
        assert!(same_folder("shared-finance", "Finance"));
        assert!(same_folder("FINANCE", "finance"));
        assert!(!same_folder("Shared-Fin", "Finance"));
    }

    #[test]
    fn flags_accept_numbers_strings_and_booleans() {
        let obj: Map<String, Value> =
            serde_json::from_str(r#"{"a": 1, "b": "0", "c": true, "d": null, "e": 2}"#).unwrap_or_default();
        assert_eq!(flag(&obj, "a", &Position::file("f"), "p").ok(), Some(Some(true)));
        assert_eq!(flag(&obj, "b", &Position::file("f"), "p").ok(), Some(Some(false)));
        assert_eq!(flag(&obj, "c", &Position::file("f"), "p").ok(), Some(Some(true)));
        assert_eq!(flag(&obj, "d", &Position::file("f"), "p").ok(), Some(None));
        assert_eq!(flag(&obj, "missing", &Position::file("f"), "p").ok(), Some(None));
        let err = flag(&obj, "e", &Position::file("f"), "p")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("field 'p.e'") && err.contains("expected 0 or 1"), "{err}");
    }

    #[test]
    fn missing_flags_mean_least_access_but_visible_passwords() {
        assert_eq!(
            access(None, None, None),
            Access {
                admin: false,
                edit: false,
                hide_passwords: false
            }
        );
    }

    #[test]
    fn one_folder_files_fall_back_to_the_only_shared_folder() {
        let mut v = vault();
        let json = br#"{"users": [{"username": "priya@northwind.example", "readonly": 1}]}"#;
        assert!(read(&mut v, json, "members.json", &ParseOptions::default()).is_ok());
        assert_eq!(v.shares.len(), 1);
        assert_eq!(
            v.findings.first().map(|f| f.code.as_str()),
            Some("lastpass.sharing-folder-assumed")
        );

        let mut v = vault();
        v.ensure_folder(&["Vendors".to_owned()], true);
        let err = read(&mut v, json, "members.json", &ParseOptions::default()).err();
        assert!(err.is_some_and(|e| e.to_string().contains("sharedfoldername")));
        let mut v = vault();
        v.ensure_folder(&["Vendors".to_owned()], true);
        assert!(read(&mut v, json, "dir/Shared-Vendors.json", &ParseOptions::default()).is_ok());
        assert_eq!(
            v.shares.first().map(|s| s.folder.clone()),
            Some(vec!["Vendors".to_owned()])
        );
    }

    #[test]
    fn hostile_input_never_panics() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let seeds: [&[u8]; 3] = [
            br#"{"1":{"sharedfoldername":"Shared-Finance","users":[{"username":"a","readonly":"1","group_name":"G"}]}}"#,
            br#"{"users":[{"username":"a"}],"groups":[{"name":"g","members":["x",{"username":"y"}]}]}"#,
            b"<xmlresponse><users><item><username>a</username><group>1</group><permissions><give>0</give></permissions></item></users></xmlresponse>",
        ];
        for _ in 0..1000 {
            let seed = seeds[rng.gen_range(0..seeds.len())];
            let mut bytes = seed.to_vec();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..bytes.len());
                match rng.gen_range(0..3) {
                    0 => {
                        bytes.remove(at);
                    }
                    1 => bytes.insert(at, b"<>{}[]\",:01 &"[rng.gen_range(0..13)]),
                    _ => bytes.truncate(at),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            let _ = read(&mut vault(), &bytes, "fuzz", &ParseOptions::default());
        }
    }
}
