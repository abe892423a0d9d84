//! The synthesizer: a seed and a size in, model `Folder`s, `Share`s and
//! `Entry`s out.
//!
//! Entry `i` is a pure function of `(seed, i)`, so a million entries can be
//! produced in parallel chunks and streamed to a writer without ever being
//! held together, and the same seed always gives the same bytes.

use std::sync::OnceLock;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;

use super::adversarial::Adversarial;
use super::Format;
use crate::model::{
    Access, Attachment, Entry, EntryKind, Field, FieldKind, FieldValue, Folder, Principal, Share, ShareStatus,
    SourceKind, Timestamp, Vault,
};
use crate::secret::Secret;

/// The LastPass note-type table the parser compiles in: the generator writes
/// notes of every type LastPass has, with the labels and order it uses.
const LASTPASS_TYPES_TOML: &str = include_str!("../../formats/lastpass-note-types.toml");

#[derive(Deserialize)]
struct LpTable {
    concealed_words: Vec<String>,
    types: Vec<LpType>,
}

#[derive(Deserialize)]
struct LpType {
    name: String,
    kind: String,
    username: Option<String>,
    password: Option<String>,
    fields: Vec<LpField>,
}

#[derive(Deserialize)]
struct LpField {
    label: String,
    kind: Option<String>,
    #[serde(default)]
    concealed: bool,
}

fn lastpass_table() -> &'static LpTable {
    static TABLE: OnceLock<LpTable> = OnceLock::new();
    TABLE.get_or_init(|| match toml::from_str(LASTPASS_TYPES_TOML) {
        Ok(t) => t,
        // Compiled in, not input; the parser's own test keeps it valid.
        Err(e) => panic!("formats/lastpass-note-types.toml is invalid: {e}"),
    })
}

/// A 1Password category the generator fills: code, 1PIF typeName, kind and
/// its section fields `(section, label, kind, concealed)`. Sample data for
/// synthetic exports, not a parsing table: the readers use
/// `formats/onepassword-categories.toml`.
pub(crate) struct OpCategory {
    pub code: &'static str,
    pub type_name: &'static str,
    pub kind: EntryKind,
    pub fields: &'static [(&'static str, &'static str, FieldKind, bool)],
}

pub(crate) const OP_CATEGORIES: &[OpCategory] = &[
    OpCategory {
        code: "002",
        type_name: "wallet.financial.CreditCard",
        kind: EntryKind::CreditCard,
        fields: &[
            ("", "cardholder name", FieldKind::Text, false),
            ("", "type", FieldKind::CardType, false),
            ("", "number", FieldKind::CardNumber, true),
            ("", "verification number", FieldKind::Concealed, true),
            ("", "expiry date", FieldKind::MonthYear, false),
            ("contact information", "phone (intl)", FieldKind::Phone, false),
        ],
    },
    OpCategory {
        code: "004",
        type_name: "identities.Identity",
        kind: EntryKind::Identity,
        fields: &[
            ("Identification", "first name", FieldKind::Text, false),
            ("Identification", "last name", FieldKind::Text, false),
            ("Identification", "birth date", FieldKind::Date, false),
            ("Identification", "gender", FieldKind::Menu, false),
            ("Internet Details", "email", FieldKind::Email, false),
            ("Internet Details", "website", FieldKind::Url, false),
        ],
    },
    OpCategory {
        code: "005",
        type_name: "passwords.Password",
        kind: EntryKind::Password,
        fields: &[],
    },
    OpCategory {
        code: "100",
        type_name: "wallet.computer.License",
        kind: EntryKind::SoftwareLicense,
        fields: &[
            ("", "version", FieldKind::Text, false),
            ("", "license key", FieldKind::Multiline, false),
            ("Customer", "licensed to", FieldKind::Text, false),
            ("Order", "order number", FieldKind::Text, false),
        ],
    },
    OpCategory {
        code: "101",
        type_name: "wallet.financial.BankAccountUS",
        kind: EntryKind::BankAccount,
        fields: &[
            ("", "bank name", FieldKind::Text, false),
            ("", "account number", FieldKind::Concealed, true),
            ("", "routing number", FieldKind::Text, false),
            ("", "PIN", FieldKind::Concealed, true),
        ],
    },
    OpCategory {
        code: "102",
        type_name: "wallet.computer.Database",
        kind: EntryKind::Database,
        fields: &[
            ("", "type", FieldKind::Menu, false),
            ("", "server", FieldKind::Text, false),
            ("", "port", FieldKind::Text, false),
            ("", "database", FieldKind::Text, false),
            ("", "username", FieldKind::Text, false),
            ("", "password", FieldKind::Concealed, true),
        ],
    },
    OpCategory {
        code: "103",
        type_name: "wallet.government.DriversLicense",
        kind: EntryKind::DriversLicense,
        fields: &[
            ("", "full name", FieldKind::Text, false),
            ("", "number", FieldKind::Text, false),
            ("", "expiry date", FieldKind::MonthYear, false),
        ],
    },
    OpCategory {
        code: "105",
        type_name: "wallet.membership.Membership",
        kind: EntryKind::Membership,
        fields: &[
            ("", "group", FieldKind::Text, false),
            ("", "member ID", FieldKind::Text, false),
            ("", "member since", FieldKind::MonthYear, false),
            ("", "PIN", FieldKind::Concealed, true),
        ],
    },
    OpCategory {
        code: "106",
        type_name: "wallet.government.Passport",
        kind: EntryKind::Passport,
        fields: &[
            ("", "full name", FieldKind::Text, false),
            ("", "number", FieldKind::Text, false),
            ("", "issued on", FieldKind::Date, false),
            ("", "expiry date", FieldKind::Date, false),
        ],
    },
    OpCategory {
        code: "109",
        type_name: "wallet.computer.Router",
        kind: EntryKind::Wifi,
        fields: &[
            ("", "base station name", FieldKind::Text, false),
            ("", "network name", FieldKind::Text, false),
            ("", "wireless network password", FieldKind::Concealed, true),
            ("", "wireless security", FieldKind::Menu, false),
        ],
    },
    OpCategory {
        code: "110",
        type_name: "wallet.computer.UnixServer",
        kind: EntryKind::Server,
        fields: &[
            ("", "URL", FieldKind::Url, false),
            ("", "username", FieldKind::Text, false),
            ("", "password", FieldKind::Concealed, true),
            ("Admin Console", "admin console URL", FieldKind::Url, false),
            ("Admin Console", "console password", FieldKind::Concealed, true),
        ],
    },
    OpCategory {
        code: "111",
        type_name: "wallet.onlineservices.Email.v2",
        kind: EntryKind::EmailAccount,
        fields: &[
            ("", "type", FieldKind::Menu, false),
            ("", "username", FieldKind::Text, false),
            ("", "server", FieldKind::Text, false),
            ("", "password", FieldKind::Concealed, true),
            ("SMTP", "SMTP server", FieldKind::Text, false),
        ],
    },
];

/// Category 003 (secure note) and 006 (document) are written apart: a note
/// has no fields, a document carries its file in `documentAttributes`.
pub(crate) fn op_category(kind: EntryKind) -> Option<&'static OpCategory> {
    OP_CATEGORIES.iter().find(|c| c.kind == kind)
}

/// Company domain of the sample company (see `samples/workspace.toml`).
pub const COMPANY_DOMAIN: &str = "northwind.example";

/// Members of the sample workspace, so a generated export plans against
/// `samples/workspace.toml` with real grants, not only unmatched sharers.
const SAMPLE_MEMBERS: [(&str, &str); 5] = [
    ("olivia", "Olivia Chen"),
    ("sam", "Sam Patel"),
    ("dana", "Dana Kim"),
    ("lee", "Lee Novak"),
    ("priya", "Priya Raman"),
];

const FIRST: [&str; 24] = [
    "ada", "björn", "chloé", "dmitri", "emeka", "fatima", "gustavo", "hana", "ines", "jonas", "kenji", "lucía",
    "mateo", "nadia", "oscar", "pari", "quinn", "rosa", "søren", "tariq", "uma", "vikram", "wen", "zoë",
];
const LAST: [&str; 16] = [
    "Adeyemi",
    "Brandt",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fujita",
    "García",
    "Haddad",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Mendes",
    "Nakamura",
    "Okafor",
    "Petrov",
];
const WORDS: [&str; 40] = [
    "alpha",
    "budget",
    "cloud",
    "deploy",
    "edge",
    "finance",
    "gateway",
    "harbor",
    "invoice",
    "jenkins",
    "kiosk",
    "ledger",
    "mail",
    "nightly",
    "ops",
    "payroll",
    "quarterly",
    "router",
    "staging",
    "ticket",
    "uplink",
    "vendor",
    "warehouse",
    "xero",
    "yard",
    "zone",
    "Zürich",
    "Köln",
    "東京",
    "Москва",
    "São Paulo",
    "Kraków",
    "café",
    "naïve",
    "Ελλάδα",
    "🚀",
    "🔑",
    "résumé",
    "Ærø",
    "smörgåsbord",
];
const SITES: [&str; 20] = [
    "github.com",
    "gitlab.example",
    "aws.amazon.com",
    "console.cloud.google.com",
    "portal.azure.com",
    "slack.com",
    "atlassian.net",
    "salesforce.com",
    "zendesk.com",
    "stripe.com",
    "bank.example",
    "payroll.example",
    "vpn.northwind.example",
    "wiki.northwind.example",
    "grafana.northwind.example",
    "mail.example",
    "figma.com",
    "notion.so",
    "hubspot.com",
    "docker.io",
];
const TOP_FOLDERS: [&str; 8] = [
    "Personal",
    "Budget & Tax",
    "Infrastructure",
    "Travel ✈",
    "Marketing",
    "Legal & Compliance",
    "Büro Köln",
    "開発",
];
const TEAMS: [&str; 10] = [
    "Engineering",
    "Finance",
    "Ops",
    "Sales",
    "Support",
    "Design",
    "Security",
    "Legal",
    "Data",
    "Facilities",
];

/// A deterministic synthetic export of one format.
pub struct Synth {
    pub format: Format,
    pub seed: u64,
    pub entries: usize,
    pub folders: Vec<Folder>,
    pub shares: Vec<Share>,
    /// Indices into `folders` entries may be filed in; the rest are left
    /// empty on purpose (exports carry empty folders).
    fillable: Vec<usize>,
    /// Top-level team folders: the ones the sharing data names.
    teams: Vec<String>,
    pub adversarial: Adversarial,
    /// Personal folders named like a shared folder (`same_name`): written
    /// without the `Shared-` prefix although their path is the shared one's.
    pub personal_twins: Vec<usize>,
    /// `--attachment-bytes`: every Document's file is this many bytes of
    /// noise, written as it is generated (a 4 GB export is never in memory).
    pub attachment_bytes: Option<u64>,
}

/// A large attachment's bytes: xorshift noise (incompressible, like the
/// PDFs and photos real exports carry), made as it is written.
struct Noise {
    seed: u64,
    len: u64,
}

impl crate::model::ContentSource for Noise {
    fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<u64> {
        let mut x = self.seed | 1;
        let mut buf = vec![0u8; 1 << 16];
        let mut left = self.len;
        while left > 0 {
            let n = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
            let piece = buf.get_mut(..n).unwrap_or_default();
            for chunk in piece.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let bytes = x.to_le_bytes();
                chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or_default());
            }
            out.write_all(piece)?;
            left -= n as u64;
        }
        Ok(self.len)
    }
    fn describe(&self) -> String {
        format!("generated noise ({} bytes, seed {})", self.len, self.seed)
    }
}

fn mix(seed: u64, i: u64, salt: u64) -> u64 {
    // splitmix64: cheap, well spread, stable across platforms.
    let mut z = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    // `items` is never empty: every caller passes a non-empty const table.
    &items[rng.gen_range(0..items.len())]
}

fn token(rng: &mut impl Rng, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%+-=?@_";
    (0..len)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect()
}

fn digits(rng: &mut impl Rng, len: usize) -> String {
    (0..len).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect()
}

fn words(rng: &mut impl Rng, n: usize) -> String {
    (0..n).map(|_| *pick(rng, &WORDS)).collect::<Vec<_>>().join(" ")
}

/// Upper-cases the first letter (`björn` → `Björn`).
fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// An email local part: lowercase ASCII only, as real directories have.
fn local_part(first: &str) -> String {
    first
        .chars()
        .map(|c| match c {
            'ö' | 'ø' => 'o',
            'é' => 'e',
            'í' => 'i',
            'ë' => 'e',
            c => c,
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

impl Synth {
    pub fn new(format: Format, entries: usize, seed: u64) -> Synth {
        Synth::with(format, entries, seed, Adversarial::default())
    }

    /// [`Synth::new`] with the adversarial shapes `adversarial` switches on.
    pub fn with(format: Format, entries: usize, seed: u64, adversarial: Adversarial) -> Synth {
        let mut rng = StdRng::seed_from_u64(mix(seed, 0, 1));
        let mut folders: Vec<Folder> = Vec::new();
        let mut fillable = Vec::new();
        let mut personal_twins = Vec::new();
        let teams = (entries / 2000).clamp(3, 400);
        let mut shared_names: Vec<String> = (0..teams)
            .map(|k| {
                let base = TEAMS[k % TEAMS.len()];
                if k < TEAMS.len() {
                    base.to_owned()
                } else {
                    format!("{base} {}", k / TEAMS.len() + 1)
                }
            })
            .collect();
        if adversarial.separators {
            // Two shared folders differing only in case, each with its own members.
            shared_names.extend(["Web".to_owned(), "WEB".to_owned()]);
        }
        match format {
            Format::Pux => {
                // 1PUX has vaults, not folders: one level, the personal
                // vault unshared, every team vault shared.
                folders.push(Folder {
                    path: vec!["Private".into()],
                    shared: false,
                    source_id: Some(format!("{:026x}", mix(seed, 0, 2) as u128)),
                    description: Some("Personal vault".into()),
                });
                for (k, name) in shared_names.iter().enumerate() {
                    folders.push(Folder {
                        path: vec![name.clone()],
                        shared: true,
                        source_id: Some(uuid(mix(seed, k as u64 + 1, 2))),
                        description: None,
                    });
                }
                fillable.extend(0..folders.len());
                folders.push(Folder {
                    path: vec!["Archive (empty)".into()],
                    shared: true,
                    source_id: Some(uuid(mix(seed, 0, 3))),
                    description: Some("Kept for the record; no items".into()),
                });
            }
            Format::LastpassCsv | Format::Pif => {
                let private = (entries / 400).clamp(TOP_FOLDERS.len(), 4000);
                let mut add = |path: Vec<String>, shared: bool, folders: &mut Vec<Folder>| {
                    let source_id = match format {
                        Format::LastpassCsv if shared => path.first().map(|n| {
                            if n.starts_with("Shared-") {
                                n.clone()
                            } else {
                                format!("Shared-{n}")
                            }
                        }),
                        Format::Pif => Some(uuid(mix(seed, folders.len() as u64, 4))),
                        _ => None,
                    };
                    folders.push(Folder {
                        path,
                        // 1PIF carries no sharing: the permissions bundle
                        // marks top folders shared when it is read.
                        shared: shared && format == Format::LastpassCsv,
                        source_id,
                        description: None,
                    });
                    folders.len() - 1
                };
                for k in 0..private {
                    let top = TOP_FOLDERS[k % TOP_FOLDERS.len()].to_owned();
                    let path = if k < TOP_FOLDERS.len() {
                        vec![top]
                    } else {
                        // Nested folders, two and three levels deep.
                        let mut p = vec![top, format!("{} {}", capitalize(word(&mut rng)), k)];
                        if rng.gen_bool(0.4) {
                            p.push(format!("{} {}", capitalize(word(&mut rng)), k));
                        }
                        p
                    };
                    ensure(&mut folders, &path, &mut add, &mut fillable, false);
                }
                for name in &shared_names {
                    // The reader keeps LastPass's prefix in the path: it is
                    // what tells a shared folder from a personal one.
                    let name = match format {
                        Format::LastpassCsv => format!("Shared-{name}"),
                        _ => name.clone(),
                    };
                    let top = vec![name.clone()];
                    ensure(&mut folders, &top, &mut add, &mut fillable, true);
                    if rng.gen_bool(0.5) {
                        let sub = vec![name.clone(), capitalize(word(&mut rng))];
                        ensure(&mut folders, &sub, &mut add, &mut fillable, true);
                    }
                    if adversarial.nested_sharing {
                        let deep = vec![name.clone(), "Deep".to_owned(), "Deeper".to_owned()];
                        ensure(&mut folders, &deep, &mut add, &mut fillable, true);
                    }
                }
                if adversarial.same_name && format == Format::LastpassCsv {
                    // `Engineering` (personal) beside `Shared-Engineering`.
                    if let Some(name) = shared_names.first() {
                        let twin = add(vec![name.clone()], false, &mut folders);
                        personal_twins.push(twin);
                        fillable.push(twin);
                    }
                }
                if adversarial.separators {
                    for path in [
                        vec!["Tools/Build".to_owned()],
                        vec!["Tools".to_owned(), "Build".to_owned()],
                    ] {
                        ensure(&mut folders, &path, &mut add, &mut fillable, false);
                    }
                }
                let mut empty = Vec::new();
                let path = vec!["Archive".to_owned(), "Empty ∅".to_owned()];
                ensure(&mut folders, &path, &mut add, &mut empty, false);
                fillable.retain(|i| !empty.contains(i));
            }
        }
        let shares = match format {
            Format::Pif => Vec::new(),
            _ => make_shares(&mut rng, &folders, format, adversarial),
        };
        Synth {
            format,
            seed,
            entries,
            folders,
            shares,
            fillable,
            teams: shared_names,
            attachment_bytes: None,
            adversarial,
            personal_twins,
        }
    }

    pub fn source(&self) -> SourceKind {
        self.format.source()
    }

    /// Folders shared in the permissions data: for 1PIF, which has no
    /// sharing of its own, the top-level team folders.
    pub fn sharing_folders(&self) -> Vec<&Folder> {
        match self.format {
            Format::Pif => self
                .folders
                .iter()
                .filter(|f| f.path.len() == 1 && f.path.first().is_some_and(|n| self.teams.contains(n)))
                .collect(),
            _ => self.folders.iter().filter(|f| f.shared).collect(),
        }
    }

    /// Shares for `sharing_folders` (1PIF gets them built on demand, since
    /// its folders are not marked shared in the export itself).
    pub fn sharing(&self) -> Vec<Share> {
        match self.format {
            Format::Pif => {
                let mut rng = StdRng::seed_from_u64(mix(self.seed, 0, 5));
                let shared: Vec<Folder> = self
                    .sharing_folders()
                    .into_iter()
                    .map(|f| Folder {
                        shared: true,
                        ..f.clone()
                    })
                    .collect();
                make_shares(&mut rng, &shared, self.format, self.adversarial)
            }
            _ => self.shares.clone(),
        }
    }

    /// Which folder entry `i` is filed in; `None` is the root. Cheap, so a
    /// writer that must group entries by vault can ask without building them.
    pub fn folder_of(&self, i: usize) -> Option<usize> {
        let h = mix(self.seed, i as u64, 7);
        if self.format != Format::Pux && h % 100 < 15 {
            return None;
        }
        let n = self.fillable.len().max(1) as u64;
        self.fillable.get(((h >> 8) % n) as usize).copied()
    }

    pub fn entry(&self, i: usize) -> Entry {
        let mut rng = StdRng::seed_from_u64(mix(self.seed, i as u64, 11));
        let folder = self
            .folder_of(i)
            .and_then(|f| self.folders.get(f))
            .map(|f| f.path.clone())
            .unwrap_or_default();
        let roll = rng.gen_range(0..1000);
        let mut e = if roll < 700 {
            self.login(&mut rng, i)
        } else if roll < 780 {
            note(&mut rng, i)
        } else {
            match self.format {
                Format::LastpassCsv => lastpass_note(&mut rng, i),
                Format::Pux | Format::Pif => self.onepassword_item(&mut rng, i),
            }
        };
        e.folder = folder.into();
        e.favorite = rng.gen_bool(0.05);
        if self.format != Format::LastpassCsv {
            e.source_id = uuid(mix(self.seed, self.id_of(i) as u64, 13));
            // LastPass CSV has no tags nor archive: those stay 1Password-only.
            if rng.gen_bool(0.3) {
                e.tags
                    .push(pick(&mut rng, &["prod", "shared", "legacy", "rotate-2025", "ops/oncall"]).to_string());
            }
            e.archived = rng.gen_bool(0.02);
            let created = 1_600_000_000 + rng.gen_range(0..100_000_000i64);
            e.created = Some(Timestamp(created));
            e.updated = Some(Timestamp(created + rng.gen_range(0..10_000_000i64)));
        }
        e
    }

    /// The number entry `i`'s source id is made from: its own, or with
    /// `duplicate_ids` every 50th entry's predecessor's.
    pub fn id_of(&self, i: usize) -> usize {
        if self.adversarial.duplicate_ids && i % 50 == 49 {
            i - 1
        } else {
            i
        }
    }

    /// All entries in order, built in parallel chunks.
    pub fn entries_chunk(&self, range: std::ops::Range<usize>) -> Vec<Entry> {
        use rayon::prelude::*;
        range.into_par_iter().map(|i| self.entry(i)).collect()
    }

    /// The whole synthetic export as a `Vault` (small sizes and tests; big
    /// exports are streamed by the writers).
    pub fn vault(&self) -> Vault {
        let mut v = Vault::new(self.source(), "generated");
        v.folders = self.folders.clone();
        v.entries = self.entries_chunk(0..self.entries);
        v.shares = self.shares.clone();
        v
    }

    fn login(&self, rng: &mut StdRng, i: usize) -> Entry {
        let site = pick(rng, &SITES);
        let title = match rng.gen_range(0..10) {
            0 => format!("{} — {} #{i}", capitalize(site), pick(rng, &WORDS)),
            1 => format!("\"{}\", {} {i}", capitalize(word(rng)), site),
            _ => format!("{} {i}", capitalize(site)),
        };
        let mut e = Entry::new(EntryKind::Login, title);
        e.urls.push(format!("https://{site}/login"));
        if self.format != Format::LastpassCsv && rng.gen_bool(0.1) {
            e.urls.push(format!("https://sso.{site}/"));
        }
        let first = pick(rng, &FIRST);
        e.username = Some(if rng.gen_bool(0.7) {
            format!("{}.{i}@{COMPANY_DOMAIN}", local_part(first))
        } else {
            format!("{first}_{i}")
        });
        let len = rng.gen_range(10..22);
        e.password = Some(Secret::text(token(rng, len)));
        if rng.gen_bool(0.1) {
            e.totp = Some(Secret::text(if rng.gen_bool(0.5) {
                token_base32(rng, 16)
            } else {
                format!("otpauth://totp/{site}?secret={}", token_base32(rng, 16))
            }));
        }
        if rng.gen_bool(0.08) {
            e.notes = Some(multiline_text(rng));
        }
        if self.format == Format::Pux && rng.gen_bool(0.02) {
            let name = format!("recovery-codes-{i}.txt");
            let bytes: Vec<u8> = format!("codes for {i}: {}\n", digits(rng, 40)).into_bytes();
            let id = format!("{:026x}", mix(self.seed, i as u64, 17) as u128);
            e.fields.push(
                Field::plain("recovery codes", name.clone())
                    .kind(FieldKind::File)
                    .group("Files"),
            );
            e.attachments.push(Attachment {
                name,
                size: bytes.len() as u64,
                content: Some(Secret::bytes(bytes)),
                source_id: Some(id),
                digest: None,
                origin: None,
            });
        }
        e
    }

    fn onepassword_item(&self, rng: &mut StdRng, i: usize) -> Entry {
        // One in twenty is a Document where the export carries its file: a
        // 1PUX always, a 1PIF as the 1Password 7 export folder holds them
        // (`attachments/<uuid>/`) when `--attachment-bytes` asks for one.
        let carries_files = self.format == Format::Pux || self.format == Format::Pif && self.attachment_bytes.is_some();
        if carries_files && rng.gen_bool(0.05) {
            let name = format!("scan-{i}.pdf");
            let bytes: Vec<u8> = format!("%PDF-1.4 synthetic {i} {}", token(rng, 64)).into_bytes();
            let mut e = Entry::new(EntryKind::Document, format!("Scan {i} — {}", pick(rng, &WORDS)));
            let source_id = Some(format!("{:026x}", mix(self.seed, i as u64, 19) as u128));
            e.attachments.push(match self.attachment_bytes {
                Some(len) => Attachment {
                    name,
                    size: len,
                    content: None,
                    source_id,
                    digest: None,
                    origin: Some(crate::model::ContentOrigin::new(Noise {
                        seed: mix(self.seed, i as u64, 23),
                        len,
                    })),
                },
                None => Attachment {
                    name,
                    size: bytes.len() as u64,
                    content: Some(Secret::bytes(bytes)),
                    source_id,
                    digest: None,
                    origin: None,
                },
            });
            return e;
        }
        let cat = pick(rng, OP_CATEGORIES);
        let mut e = Entry::new(cat.kind, format!("{} {i} {}", capitalize(word(rng)), pick(rng, &WORDS)));
        if cat.kind == EntryKind::Password {
            e.password = Some(Secret::text(token(rng, 24)));
        }
        for &(section, label, kind, concealed) in cat.fields {
            let value = value_for(rng, label, kind, concealed, i);
            let value = if concealed {
                FieldValue::Concealed(Secret::text(value))
            } else {
                FieldValue::Plain(value)
            };
            e.fields.push(Field {
                label: label.to_owned(),
                value,
                kind,
                // An untitled section keeps no group (1Password shows its
                // fields under the item itself).
                group: (!section.is_empty()).then(|| section.to_owned()),
            });
        }
        if rng.gen_bool(0.3) {
            e.notes = Some(multiline_text(rng));
        }
        e
    }
}

/// Adds `path` and its ancestors once each, recording fillable indices.
fn ensure(
    folders: &mut Vec<Folder>,
    path: &[String],
    add: &mut impl FnMut(Vec<String>, bool, &mut Vec<Folder>) -> usize,
    fillable: &mut Vec<usize>,
    shared: bool,
) {
    for depth in 1..=path.len() {
        let prefix = &path[..depth];
        if folders.iter().any(|f| f.path == prefix) {
            continue;
        }
        let idx = add(prefix.to_vec(), shared && depth == 1, folders);
        fillable.push(idx);
    }
}

/// A 26-character lowercase id like 1Password's item uuids.
pub(crate) fn uuid(h: u64) -> String {
    let mut rng = StdRng::seed_from_u64(h);
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..26)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect()
}

fn token_base32(rng: &mut impl Rng, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    (0..len)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect()
}

/// Multi-line text with unicode; lines never start or end with spaces and
/// hold no colon, so LastPass's `Label:value` note grammar keeps them whole.
fn multiline_text(rng: &mut impl Rng) -> String {
    let n = rng.gen_range(1..4);
    (0..n)
        .map(|_| {
            let w = rng.gen_range(2..6);
            capitalize(&words(rng, w))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn note(rng: &mut StdRng, i: usize) -> Entry {
    let mut e = Entry::new(EntryKind::SecureNote, format!("Note {i} {}", pick(rng, &WORDS)));
    e.notes = Some(multiline_text(rng));
    e
}

fn date(rng: &mut impl Rng) -> String {
    let t = Timestamp::from_civil(
        rng.gen_range(1960..2035),
        rng.gen_range(1..=12),
        rng.gen_range(1..=28),
        0,
        0,
        0,
    );
    t.map(Timestamp::to_date).unwrap_or_else(|| "2024-01-01".into())
}

/// A plausible value for a field, by label and kind.
fn value_for(rng: &mut impl Rng, label: &str, kind: FieldKind, concealed: bool, i: usize) -> String {
    let l = label.to_ascii_lowercase();
    match kind {
        FieldKind::Date => date(rng),
        FieldKind::MonthYear => format!("{:04}-{:02}", rng.gen_range(2020..2035), rng.gen_range(1..=12)),
        FieldKind::Email => format!("{}.{i}@{COMPANY_DOMAIN}", local_part(first_name(rng))),
        FieldKind::Phone => format!("+1 555 {:04}", rng.gen_range(0..10_000)),
        FieldKind::Url => format!("https://{}/{i}", pick(rng, &SITES)),
        FieldKind::CardNumber => format!("4{}", digits(rng, 15)),
        FieldKind::CardType => pick(rng, &["visa", "mastercard", "amex"]).to_string(),
        FieldKind::Address => format!("{} {} Street", rng.gen_range(1..999), capitalize(word(rng))),
        FieldKind::Menu => pick(rng, &["mysql", "postgresql", "WPA2 Personal", "female", "male", "IMAP"]).to_string(),
        FieldKind::KeyType => "ed25519".into(),
        FieldKind::PublicKey => format!(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5{} ops@{COMPANY_DOMAIN}",
            token_base32(rng, 43)
        ),
        FieldKind::PrivateKey => {
            let body: Vec<String> = (0..4).map(|_| token_base32(rng, 64)).collect();
            format!(
                "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----",
                body.join("\n")
            )
        }
        FieldKind::Multiline => format!("{}\n{}", token_base32(rng, 20), token_base32(rng, 20)),
        _ if l.contains("name") && !l.contains("server") && !l.contains("host") => {
            format!("{} {}", capitalize(first_name(rng)), pick(rng, &LAST))
        }
        _ if l.contains("host") || l.contains("server") => format!("db-{i}.{COMPANY_DOMAIN}"),
        _ if l.contains("port") => rng.gen_range(1024..65535).to_string(),
        _ if concealed => token(rng, 16),
        _ if l.contains("number") || l.contains("id") || l.contains("pin") || l.contains("code") => digits(rng, 10),
        _ => capitalize(&words(rng, 2)),
    }
}

/// A LastPass secure note of one of the types LastPass has (or a
/// user-defined `Custom_<digits>` one), with every field the table lists
/// filled, as the parser will read it back.
fn lastpass_note(rng: &mut StdRng, i: usize) -> Entry {
    let table = lastpass_table();
    let n = table.types.len();
    let pick_type = rng.gen_range(0..=n);
    let Some(ty) = table.types.get(pick_type) else {
        return custom_note(rng, i, &table.concealed_words);
    };
    let kind = EntryKind::from_name(&ty.kind).unwrap_or(EntryKind::Unknown);
    let mut e = Entry::new(kind, format!("{} {i}", ty.name));
    e.source_type = Some(ty.name.clone());
    for f in &ty.fields {
        if rng.gen_bool(0.35) {
            continue; // An empty label, which the parser leaves out.
        }
        let table_kind = f.kind.as_deref().unwrap_or("text");
        let kind = match table_kind {
            "date" => FieldKind::Date,
            "address" => FieldKind::Address,
            "email" => FieldKind::Email,
            "phone" => FieldKind::Phone,
            "url" => FieldKind::Url,
            "card_number" => FieldKind::CardNumber,
            "card_type" => FieldKind::CardType,
            "private_key" => FieldKind::PrivateKey,
            "public_key" => FieldKind::PublicKey,
            "key_type" => FieldKind::KeyType,
            _ if f.concealed => FieldKind::Concealed,
            _ => FieldKind::Text,
        };
        // The private key runs to the `Public Key:` line: keep both.
        let value = value_for(rng, &f.label, kind, f.concealed, i);
        if ty.username.as_deref() == Some(f.label.as_str()) {
            e.username = Some(value.clone());
        }
        if ty.password.as_deref() == Some(f.label.as_str()) {
            e.password = Some(Secret::text(value.clone()));
        }
        e.fields.push(Field {
            label: f.label.clone(),
            value: if f.concealed {
                FieldValue::Concealed(Secret::text(value))
            } else {
                FieldValue::Plain(value)
            },
            kind,
            group: None,
        });
    }
    if e.fields.iter().any(|f| f.label == "Private Key") && !e.fields.iter().any(|f| f.label == "Public Key") {
        let value = value_for(rng, "Public Key", FieldKind::PublicKey, false, i);
        let at = e
            .fields
            .iter()
            .position(|f| f.label == "Private Key")
            .map_or(0, |p| p + 1);
        e.fields
            .insert(at, Field::plain("Public Key", value).kind(FieldKind::PublicKey));
    }
    if rng.gen_bool(0.25) {
        e.notes = Some(multiline_text(rng));
    }
    e
}

fn custom_note(rng: &mut StdRng, i: usize, words: &[String]) -> Entry {
    let id = rng.gen_range(100_000..999_999);
    let mut e = Entry::new(EntryKind::Custom, format!("Custom record {i}"));
    e.source_type = Some(format!("Custom_{id}"));
    for label in ["Badge Number", "Door Code", "Building", "Contact"] {
        let concealed = label
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| words.iter().any(|s| s.eq_ignore_ascii_case(w)));
        let value = value_for(rng, label, FieldKind::Text, concealed, i);
        e.fields.push(if concealed {
            Field::concealed(label, value)
        } else {
            Field::plain(label, value)
        });
    }
    e
}

fn make_shares(rng: &mut StdRng, folders: &[Folder], format: Format, adversarial: Adversarial) -> Vec<Share> {
    let mut shares = Vec::new();
    for folder in folders.iter().filter(|f| f.shared && f.path.len() == 1) {
        // A LastPass shared folder's path carries the `Shared-` prefix the
        // export writes; the team it is named after does not.
        let top = folder.path.first().cloned().unwrap_or_default();
        let team = match top.get(..7) {
            Some(p) if p.eq_ignore_ascii_case("Shared-") && top.len() > 7 => top[7..].to_owned(),
            _ => top,
        };
        let n = rng.gen_range(2..10);
        let mut seen: Vec<String> = Vec::new();
        for _ in 0..n {
            let (email, name) = person(rng);
            if seen.contains(&email) {
                continue;
            }
            seen.push(email.clone());
            let outside = !email.ends_with(COMPANY_DOMAIN);
            let mut share = Share::new(
                folder.path.clone(),
                Principal::User {
                    email,
                    name: (format != Format::LastpassCsv).then_some(name),
                },
                access(rng),
            );
            share.outside_enterprise = Some(outside);
            share.status = status(rng, format);
            shares.push(share);
        }
        let grouped = adversarial.group_outsiders || adversarial.existing_teams || adversarial.nested_sharing;
        if rng.gen_bool(0.4) || grouped {
            let mut members: Vec<String> =
                (0..rng.gen_range(2..6))
                    .map(|_| person(rng).0)
                    .fold(Vec::new(), |mut v, m| {
                        if !v.contains(&m) {
                            v.push(m);
                        }
                        v
                    });
            if adversarial.group_outsiders {
                let k = shares.len();
                members.push(format!("outsider{k}@partner-{}.example", k % 20 + 1));
                members.push(format!("former.employee{k}@{COMPANY_DOMAIN}"));
            }
            if adversarial.nested_sharing {
                // Someone shared the folder directly is in the group too.
                if let Some(Principal::User { email, .. }) = shares.last().map(|s: &Share| &s.principal) {
                    if !members.contains(email) {
                        members.push(email.clone());
                    }
                }
            }
            let group = if adversarial.existing_teams {
                team.clone()
            } else {
                format!("{team} team")
            };
            shares.push(Share::new(
                folder.path.clone(),
                Principal::Group { group, members },
                access(rng),
            ));
        }
    }
    shares
}

/// A sharer: one in twenty from outside the company (`@partner-N.example`),
/// a sample-workspace member one time in three, else another employee.
fn person(rng: &mut impl Rng) -> (String, String) {
    let roll = rng.gen_range(0..100);
    if roll < 5 {
        let first = pick(rng, &FIRST);
        let n = rng.gen_range(1..=20);
        (
            format!("{}@partner-{n}.example", local_part(first)),
            format!("{} {}", capitalize(first), pick(rng, &LAST)),
        )
    } else if roll < 40 {
        let (local, name) = *pick(rng, &SAMPLE_MEMBERS);
        (format!("{local}@{COMPANY_DOMAIN}"), name.to_owned())
    } else {
        let first = pick(rng, &FIRST);
        let last = pick(rng, &LAST);
        let k = rng.gen_range(1..500);
        (
            format!(
                "{}.{}{k}@{COMPANY_DOMAIN}",
                local_part(first),
                local_part(&last.to_lowercase())
            ),
            format!("{} {last}", capitalize(first)),
        )
    }
}

fn access(rng: &mut impl Rng) -> Access {
    let roll = rng.gen_range(0..100);
    let admin = roll < 15;
    Access {
        admin,
        edit: admin || roll < 60,
        hide_passwords: !admin && rng.gen_bool(0.1),
    }
}

/// Mostly active; a few members deleted (LastPass) or invited but never
/// accepted (1Password), as real accounts have.
fn status(rng: &mut impl Rng, format: Format) -> ShareStatus {
    if rng.gen_bool(0.03) {
        match format {
            Format::LastpassCsv => ShareStatus::Deleted,
            _ => ShareStatus::Pending,
        }
    } else {
        ShareStatus::Active
    }
}

/// The LastPass note type for a kind (the first in the table), for writing a
/// vault from another source as LastPass notes.
pub(crate) fn lastpass_type_for(kind: EntryKind) -> Option<&'static str> {
    lastpass_table()
        .types
        .iter()
        .find(|t| EntryKind::from_name(&t.kind) == Some(kind))
        .map(|t| t.name.as_str())
}

fn word(rng: &mut impl Rng) -> &'static str {
    WORDS[rng.gen_range(0..WORDS.len())]
}

fn first_name(rng: &mut impl Rng) -> &'static str {
    FIRST[rng.gen_range(0..FIRST.len())]
}
