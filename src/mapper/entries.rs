//! Entries → accounts and secrets, and the duplicate check against the
//! workspace.

// See diff/mod.rs: Fx hashing for maps of a million import keys.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::model::{Entry, EntryKind, Field, FieldKind, FieldValue, Finding, Position};
use crate::workspace::{Account, ImportKey, SecretType, Snapshot};

use super::{PlannedAccount, PlannedSecret};

/// The secret type an entry kind becomes when it is not an account kind.
/// Kinds the product has no type for (cards, identities, passports, API
/// credentials…) become custom secrets with all their fields.
pub fn secret_type(kind: EntryKind) -> SecretType {
    match kind {
        EntryKind::SecureNote => SecretType::Secret,
        EntryKind::Wifi => SecretType::Wifi,
        EntryKind::SshKey => SecretType::SshKey,
        EntryKind::Database => SecretType::Database,
        EntryKind::Server => SecretType::Server,
        EntryKind::SoftwareLicense => SecretType::SoftwareLicense,
        _ => SecretType::Custom,
    }
}

/// Moves the entry's content into the account (no copy of any value).
pub fn account(entry: Entry, key: ImportKey, collection: Option<ImportKey>) -> PlannedAccount {
    let history = password_history(&entry);
    let mut fields = entry.fields;
    fields.extend(history);
    let mut urls = entry.urls.into_iter().map(trimmed).filter(|u| !u.is_empty());
    let url = urls.next();
    PlannedAccount {
        key,
        source_id: entry.source_id,
        source_kind: entry.kind,
        collection,
        name: entry.title,
        url,
        urls: urls.collect(),
        username: entry.username,
        password: entry.password,
        totp: entry.totp,
        notes: entry.notes,
        fields,
        tags: entry.tags,
        attachments: entry.attachments,
        source_line: entry.line,
        duplicate_of: None,
    }
}

/// The URL without surrounding blanks, reusing its buffer when it has none.
fn trimmed(u: String) -> String {
    if u.trim().len() == u.len() {
        u
    } else {
        u.trim().to_owned()
    }
}

/// The group former passwords are filed under.
pub const PASSWORD_HISTORY: &str = "Password history";

/// 1Password keeps former passwords (`passwordHistory`); the workspace has
/// no history slot, and dropping them would lose data a user may need (an
/// old password for a restored backup). Each becomes a concealed field,
/// "Password (until YYYY-MM-DD)" when the change date is known, numbered
/// otherwise, in the group "Password history".
pub fn password_history(entry: &Entry) -> Vec<Field> {
    entry
        .password_history
        .iter()
        .filter(|h| !h.value.is_empty())
        .enumerate()
        .map(|(i, h)| Field {
            label: match h.changed {
                Some(t) => format!("Password (until {})", t.to_date()),
                None => format!("Password {}", i + 1),
            },
            value: FieldValue::Concealed(h.value.clone()),
            kind: FieldKind::Concealed,
            group: Some(PASSWORD_HISTORY.to_owned()),
        })
        .collect()
}

/// Secrets have no username, password, URL or TOTP slot; a database or
/// server entry (LastPass note types, 1Password categories) often carries
/// them in the standard slots, so they become the first fields instead of
/// being dropped.
pub fn secret(entry: Entry, key: ImportKey, collection: Option<ImportKey>) -> PlannedSecret {
    let mut fields = Vec::new();
    if let Some(u) = entry.username.as_deref().filter(|u| !u.is_empty()) {
        fields.push(Field::plain("username", u));
    }
    if let Some(p) = entry.password.as_ref().filter(|p| !p.is_empty()) {
        fields.push(Field {
            label: "password".into(),
            value: FieldValue::Concealed(p.clone()),
            kind: FieldKind::Concealed,
            group: None,
        });
    }
    for (i, u) in entry.urls.iter().filter(|u| !u.trim().is_empty()).enumerate() {
        let label = if i == 0 {
            "url".to_owned()
        } else {
            format!("url {}", i + 1)
        };
        fields.push(Field::plain(label, u.trim()).kind(FieldKind::Url));
    }
    if let Some(t) = entry.totp.as_ref().filter(|t| !t.is_empty()) {
        fields.push(Field {
            label: "one-time password".into(),
            value: FieldValue::Concealed(t.clone()),
            kind: FieldKind::Totp,
            group: None,
        });
    }
    let history = password_history(&entry);
    fields.extend(entry.fields);
    fields.extend(history);
    PlannedSecret {
        key,
        source_id: entry.source_id,
        source_kind: entry.kind,
        source_type: entry.source_type,
        collection,
        secret_type: secret_type(entry.kind),
        title: entry.title,
        notes: entry.notes,
        fields,
        tags: entry.tags,
        attachments: entry.attachments,
        source_line: entry.line,
        duplicate_of: None,
    }
}

/// The login domain of a URL: its host, lowercase, without `www.`, port
/// or credentials. Exports hold URLs with and without a scheme
/// (`https://a.example/login`, `a.example`), and LastPass writes `http://sn`
/// for secure notes, which has a host but is no login: callers only compare
/// accounts.
pub fn login_domain(url: &str) -> Option<String> {
    let rest = url.trim();
    let rest = match rest.find("://") {
        Some(i) => rest.get(i + 3..)?,
        None => rest,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host
    } else {
        host.split(':').next()?
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_owned();
    if host.is_empty() {
        None
    } else {
        Some(host)
    }
}

fn account_domain(url: Option<&String>, urls: &[String]) -> Option<String> {
    url.into_iter().chain(urls.iter()).find_map(|u| login_domain(u))
}

/// Marks accounts that duplicate a workspace account created some other
/// way (same username and login domain, different or no import key).
/// An account that already carries this plan's key is the same object, not
/// a duplicate: the diff decides whether it changed. Nor is a workspace
/// account under another key of this plan a duplicate's original: a first
/// run creates both entries, so a re-run must not skip one of them. The
/// workspace side is indexed once, so a large export against a large
/// workspace stays linear.
pub fn mark_duplicate_accounts(accounts: &mut [PlannedAccount], snapshot: &Snapshot, file: &str) -> Vec<Finding> {
    // Only accounts read whole can be originals (intact ones carry this
    // plan's keys): none on a re-run of the same export.
    if snapshot.accounts.is_empty()
        || all_keyed(
            &snapshot.intact_accounts,
            snapshot.accounts.iter().filter_map(|w| w.import.import_key.as_ref()),
            accounts.iter().map(|a| &a.key),
        )
    {
        return Vec::new();
    }
    let mut originals = Originals::keyed(snapshot);
    // A re-run plans every account under a key the workspace has: then
    // nothing can be a duplicate, and indexing a million workspace logins
    // would be wasted.
    if accounts.iter().all(|a| originals.accounts_keyed.contains(&a.key)) {
        return Vec::new();
    }
    let planned: HashSet<ImportKey> = accounts.iter().map(|a| a.key.clone()).collect();
    originals.index_accounts(snapshot, &|k| planned.contains(k));
    originals.mark_accounts(accounts, file)
}

/// Whether every planned item carries a key the workspace has, told
/// without the set of a million keys [`Originals::keyed`] builds: the
/// intact items the read-ahead settles come in plan order and share the
/// planned keys, so one walk matches them by pointer; any other planned
/// key must be one of the few items read whole. `false` (and the full
/// check after) when the store gave its intact items in another order.
fn all_keyed<'a>(
    intact: &[crate::workspace::IntactItem],
    read_whole: impl Iterator<Item = &'a ImportKey>,
    mut planned: impl Iterator<Item = &'a ImportKey>,
) -> bool {
    let read_whole: HashSet<&ImportKey> = read_whole.collect();
    let mut intact = intact.iter().peekable();
    planned.all(|key| {
        if intact
            .peek()
            .is_some_and(|i| std::sync::Arc::ptr_eq(&i.import_key.0, &key.0))
        {
            intact.next();
            true
        } else {
            read_whole.contains(key)
        }
    })
}

/// Marks secrets equal to a workspace secret (type, title, notes and
/// fields) that carries another import key (not one of this plan's: see
/// [`mark_duplicate_accounts`]) or none.
pub fn mark_duplicate_secrets(secrets: &mut [PlannedSecret], snapshot: &Snapshot, file: &str) -> Vec<Finding> {
    if snapshot.secrets.is_empty()
        || all_keyed(
            &snapshot.intact_secrets,
            snapshot.secrets.iter().filter_map(|w| w.import.import_key.as_ref()),
            secrets.iter().map(|s| &s.key),
        )
    {
        return Vec::new();
    }
    let mut originals = Originals::keyed(snapshot);
    if secrets.iter().all(|s| originals.secrets_keyed.contains(&s.key)) {
        return Vec::new();
    }
    let planned: HashSet<ImportKey> = secrets.iter().map(|s| s.key.clone()).collect();
    originals.index_secrets(snapshot, &|k| planned.contains(k));
    originals.mark_secrets(secrets, file)
}

/// The workspace items a planned item can duplicate, indexed once: by the
/// full-plan functions above, and once per run by a plan decided a chunk
/// of items at a time (which cannot know the plan's keys in advance, so
/// indexes every workspace item and checks the originals it used at the
/// end: [`Originals::keys_used`]).
#[derive(Default)]
pub struct Originals<'a> {
    accounts_keyed: HashSet<&'a ImportKey>,
    secrets_keyed: HashSet<&'a ImportKey>,
    by_login: HashMap<(String, String), &'a Account>,
    /// Candidates by type and title, so each planned secret compares
    /// content with a handful of workspace secrets, not all of them.
    by_title: HashMap<(crate::workspace::SecretType, &'a str), Vec<&'a crate::workspace::SecretItem>>,
    /// Import keys of the workspace items marked as originals so far.
    used: Vec<&'a ImportKey>,
}

impl<'a> Originals<'a> {
    /// The workspace's item keys only: an item under one of them is the
    /// same object, never a duplicate.
    fn keyed(snapshot: &'a Snapshot) -> Originals<'a> {
        Originals {
            accounts_keyed: snapshot
                .accounts
                .iter()
                .filter_map(|w| w.import.import_key.as_ref())
                .chain(snapshot.intact_accounts.iter().map(|w| &w.import_key))
                .collect(),
            secrets_keyed: snapshot
                .secrets
                .iter()
                .filter_map(|w| w.import.import_key.as_ref())
                .chain(snapshot.intact_secrets.iter().map(|w| &w.import_key))
                .collect(),
            ..Originals::default()
        }
    }

    /// Every workspace item indexed, none taken for one of the plan's.
    pub fn all(snapshot: &'a Snapshot) -> Originals<'a> {
        let mut o = Originals::keyed(snapshot);
        o.index_accounts(snapshot, &|_| false);
        o.index_secrets(snapshot, &|_| false);
        o
    }

    fn index_accounts(&mut self, snapshot: &'a Snapshot, planned: &dyn Fn(&ImportKey) -> bool) {
        for w in &snapshot.accounts {
            if w.import.import_key.as_ref().is_some_and(planned) {
                continue;
            }
            let Some(user) = w.username.as_deref().filter(|u| !u.trim().is_empty()) else {
                continue;
            };
            if let Some(domain) = account_domain(w.url.as_ref(), &w.urls) {
                self.by_login.entry((user.trim().to_lowercase(), domain)).or_insert(w);
            }
        }
    }

    fn index_secrets(&mut self, snapshot: &'a Snapshot, planned: &dyn Fn(&ImportKey) -> bool) {
        for w in &snapshot.secrets {
            if w.import.import_key.as_ref().is_some_and(planned) {
                continue;
            }
            self.by_title
                .entry((w.secret_type, w.title.as_str()))
                .or_default()
                .push(w);
        }
    }

    /// Import keys of the workspace items some planned item was marked a
    /// duplicate of: were one of them also planned, the full-plan rule
    /// would not have taken it for an original.
    pub fn keys_used(&self) -> &[&'a ImportKey] {
        &self.used
    }

    pub fn mark_accounts(&mut self, accounts: &mut [PlannedAccount], file: &str) -> Vec<Finding> {
        let mut findings = Vec::new();
        if self.by_login.is_empty() {
            // Nothing to be a duplicate of (a fresh workspace): skip working
            // out a million login domains.
            return findings;
        }
        for a in accounts.iter_mut() {
            if self.accounts_keyed.contains(&a.key) {
                continue;
            }
            let Some(user) = a.username.as_deref().filter(|u| !u.trim().is_empty()) else {
                continue;
            };
            let Some(domain) = account_domain(a.url.as_ref(), &a.urls) else {
                continue;
            };
            if let Some(w) = self.by_login.get(&(user.trim().to_lowercase(), domain.clone())) {
                a.duplicate_of = Some(w.id);
                self.used.extend(w.import.import_key.as_ref());
                let mut position = Position::file(file);
                position.line = a.source_line;
                findings.push(
                    Finding::warning(
                        "mapper.duplicate-account",
                        format!(
                            "account '{}' has the same username and login domain ({domain}) as workspace account '{}' (id {}); it will not be created",
                            a.name, w.name, w.id
                        ),
                    )
                    .at(position)
                    .help("merge them by hand in the workspace if they differ, or delete one of them before importing"),
                );
            }
        }
        findings
    }

    pub fn mark_secrets(&mut self, secrets: &mut [PlannedSecret], file: &str) -> Vec<Finding> {
        let mut findings = Vec::new();
        if self.by_title.is_empty() {
            return findings;
        }
        for s in secrets.iter_mut() {
            if self.secrets_keyed.contains(&s.key) {
                continue;
            }
            let existing = self
                .by_title
                .get(&(s.secret_type, s.title.as_str()))
                .into_iter()
                .flatten()
                .find(|w| same_notes(w.notes.as_deref(), s.notes.as_deref()) && same_fields(&w.fields, &s.fields));
            if let Some(w) = existing {
                s.duplicate_of = Some(w.id);
                self.used.extend(w.import.import_key.as_ref());
                let mut position = Position::file(file);
                position.line = s.source_line;
                findings.push(
                    Finding::warning(
                        "mapper.duplicate-secret",
                        format!(
                            "{} secret '{}' has the same title and content as workspace secret id {}; it will not be created",
                            s.secret_type.name(),
                            s.title,
                            w.id
                        ),
                    )
                    .at(position),
                );
            }
        }
        findings
    }
}

fn same_fields(a: &[Field], b: &[Field]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.label == y.label && x.value.expose() == y.value.expose())
}

fn same_notes(a: Option<&str>, b: Option<&str>) -> bool {
    a.unwrap_or("").trim() == b.unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn former_passwords_become_concealed_fields_in_their_own_group() {
        use crate::model::{PasswordChange, Timestamp};
        use crate::secret::Secret;
        let mut e = Entry::new(EntryKind::Login, "Jira");
        e.password_history = vec![
            PasswordChange {
                value: Secret::text("Old-Pw-1!"),
                changed: Timestamp::from_civil(2024, 3, 1, 12, 0, 0),
            },
            PasswordChange {
                value: Secret::text("Old-Pw-0!"),
                changed: None,
            },
        ];
        let a = account(e.clone(), ImportKey("k".into()), None);
        let labels: Vec<(&str, Option<&str>, bool)> = a
            .fields
            .iter()
            .map(|f| (f.label.as_str(), f.group.as_deref(), f.is_concealed()))
            .collect();
        assert_eq!(
            labels,
            [
                ("Password (until 2024-03-01)", Some(PASSWORD_HISTORY), true),
                ("Password 2", Some(PASSWORD_HISTORY), true)
            ]
        );
        assert_eq!(a.fields[0].value.expose(), "Old-Pw-1!");
        let s = secret(e, ImportKey("s".into()), None);
        assert!(s.fields.iter().any(|f| f.value.expose() == "Old-Pw-0!"));
    }

    #[test]
    fn login_domains_drop_scheme_www_port_and_credentials() {
        assert_eq!(
            login_domain("https://www.GitHub.com/login").as_deref(),
            Some("github.com")
        );
        assert_eq!(login_domain("github.com").as_deref(), Some("github.com"));
        assert_eq!(
            login_domain("ftp://u:p@files.example:2121/x").as_deref(),
            Some("files.example")
        );
        assert_eq!(login_domain("https://a.example?x=1").as_deref(), Some("a.example"));
        assert_eq!(login_domain(""), None);
        assert_eq!(login_domain("https://"), None);
    }
}
