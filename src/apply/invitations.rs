//! Guest invitations: a username, a temporary password that meets the
//! workspace's password policy, its salted hash for the store, and the
//! email that carries them to the guest.
//!
//! The product invites guests by email with the workspace name, a username
//! and a temporary password, so the password must leave the process once:
//! in the email (an owner-only `.eml` in the outbox, or SMTP). It never
//! reaches stdout, stderr, a report or the run journal; the store keeps only
//! an Argon2 hash.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::Rng;
use serde::Serialize;

use crate::secret::Secret;
use crate::workspace::PasswordPolicy;

/// Where invitation emails go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mailer {
    /// One `.eml` file per guest in this folder (created 0700, files 0600).
    Outbox(PathBuf),
    /// `smtp://host:port` (a local relay; no TLS).
    Smtp(String),
}

/// How one invitation was delivered. No password here: this is reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SentInvitation {
    pub email: String,
    pub username: String,
    pub delivery: Delivery,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "via")]
pub enum Delivery {
    Outbox { file: String },
    Smtp { server: String },
}

/// One email to write or send.
pub(crate) struct Invitation {
    pub workspace_name: String,
    pub workspace_id: String,
    pub email: String,
    pub name: Option<String>,
    pub username: String,
    pub password: Secret,
    /// The server's join page (`{base}/join`), where the temporary password
    /// is exchanged for the guest's own.
    pub join_url: String,
}

/// The join page under `base` (`serve --base-url`, `migrate --base-url`);
/// without one, the workspace's own address as before.
pub fn join_url(base: Option<&str>, workspace_id: &str) -> String {
    match base {
        Some(b) => format!("{}/join", b.trim_end_matches('/')),
        None => format!("https://{workspace_id}.example/join"),
    }
}

/// The local part of the email, reduced to `[a-z0-9._-]`, made unique
/// against `taken` with a number (`jules`, `jules2`…), and added to it.
pub fn username_for(email: &str, taken: &mut HashSet<String>) -> String {
    let local = email.trim().rsplit_once('@').map_or(email.trim(), |(l, _)| l);
    let mut base: String = local
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    if base.is_empty() {
        base = "guest".into();
    }
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{base}{n}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"!#%+-=?@^_";

/// A random password meeting `policy`: at least 16 characters (more if the
/// policy asks), one of each required class, the rest from all classes,
/// shuffled. Look-alike characters (0/O, 1/l/I) are left out: guests type
/// it from an email.
pub fn temporary_password(policy: &PasswordPolicy) -> Secret {
    let mut rng = rand::rngs::OsRng;
    let len = usize::try_from(policy.min_length).unwrap_or(16).clamp(16, 128);
    let mut chars: Vec<u8> = Vec::with_capacity(len);
    for (required, class) in [
        (policy.require_uppercase, UPPER),
        (policy.require_lowercase, LOWER),
        (policy.require_digit, DIGITS),
        (policy.require_symbol, SYMBOLS),
    ] {
        if required {
            if let Some(c) = class.choose(&mut rng) {
                chars.push(*c);
            }
        }
    }
    let all: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    while chars.len() < len {
        match all.choose(&mut rng) {
            Some(c) => chars.push(*c),
            None => break,
        }
    }
    chars.shuffle(&mut rng);
    Secret::text(String::from_utf8(chars).unwrap_or_default())
}

/// Whether `password` meets `policy` (used by tests and as a self-check).
pub fn meets_policy(password: &str, policy: &PasswordPolicy) -> bool {
    let min = usize::try_from(policy.min_length).unwrap_or(usize::MAX);
    password.chars().count() >= min
        && (!policy.require_uppercase || password.chars().any(|c| c.is_ascii_uppercase()))
        && (!policy.require_lowercase || password.chars().any(|c| c.is_ascii_lowercase()))
        && (!policy.require_digit || password.chars().any(|c| c.is_ascii_digit()))
        && (!policy.require_symbol || password.chars().any(|c| !c.is_ascii_alphanumeric()))
}

/// A temporary password with its Argon2 hash and salt, made before the
/// invitation is written.
pub type HashedPassword = Result<(Secret, String, String), String>;

/// `n` temporary passwords and their hashes. `apply` runs this on a thread
/// of its own while it writes the items (each hash takes tens of
/// milliseconds by design) and collects the result when the invitations'
/// turn comes. Not on rayon's pool: `apply` sorts the items there, and
/// queued behind a hundred hashes the sort held the writes back by seconds.
pub fn hashed_passwords(n: usize, policy: &PasswordPolicy) -> Vec<HashedPassword> {
    (0..n)
        .map(|_| {
            let password = temporary_password(policy);
            hash_password(&password).map(|(hash, salt)| (password, hash, salt))
        })
        .collect()
}

/// Argon2id with a random salt: the PHC string (which embeds the salt and
/// parameters) and the salt on its own, as the store's columns want.
pub fn hash_password(password: &Secret) -> Result<(String, String), String> {
    use argon2::password_hash::rand_core::OsRng;
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2::Argon2::default()
        .hash_password(password.expose_bytes(), &salt)
        .map_err(|e| format!("cannot hash a temporary password: {e}"))?;
    Ok((hash.to_string(), salt.as_str().to_owned()))
}

/// Whether `password` matches a stored PHC hash.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn random_hex(bytes: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    let v: Vec<u8> = (0..bytes).map(|_| rng.gen()).collect();
    hex::encode(v)
}

/// The sender: the workspace's own address.
fn from_address(workspace_id: &str) -> String {
    format!("no-reply@{workspace_id}.example")
}

fn subject(i: &Invitation) -> String {
    format!("You are invited to {} as a guest", i.workspace_name)
}

/// The text body: workspace, username, temporary password, join link.
fn body(i: &Invitation) -> String {
    let greeting = i
        .name
        .as_deref()
        .map(|n| format!("Hello {n},"))
        .unwrap_or_else(|| "Hello,".into());
    format!(
        "{greeting}\r\n\r\n\
         you have been invited to the workspace \"{ws}\" as a guest user.\r\n\r\n\
         Workspace: {ws}\r\n\
         Username: {user}\r\n\
         Temporary password: {pw}\r\n\r\n\
         Join here: {join}?username={user}\r\n\r\n\
         On first login you will set a new password, your name and family name,\r\n\
         and accept the terms of service. The temporary password works once.\r\n",
        ws = i.workspace_name,
        user = i.username,
        pw = i.password.expose(),
        join = i.join_url,
    )
}

/// Keeps header values on one line (a name from an export could hold a
/// newline and inject headers).
fn header_value(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The whole RFC 5322 message.
pub(crate) fn eml(i: &Invitation) -> String {
    let token = random_hex(16);
    let date = rfc2822_now();
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{token}@vaultferry.invalid>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}",
        from = from_address(&i.workspace_id),
        to = header_value(&i.email),
        subject = header_value(&subject(i)),
        body = body(i),
    )
}

/// The file for one guest: named by email so a re-run after a crash
/// rewrites it (with the password the committed hash belongs to).
fn eml_name(email: &str) -> String {
    let safe: String = email
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("invitation-{safe}.eml")
}

/// Writes the email into `dir` (created owner-only), the file owner-only,
/// durably: written beside its final name, flushed to disk, renamed over
/// it, and the folder flushed, so once this returns (and the invitation is
/// marked delivered) a crash cannot leave a torn file or lose the email,
/// and a guest's earlier email is replaced whole, never mixed.
pub(crate) fn write_eml(dir: &Path, i: &Invitation) -> Result<SentInvitation, String> {
    let fail = |p: &Path, e: std::io::Error| format!("{}: cannot write the invitation email: {e}", p.display());
    if !dir.is_dir() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir).map_err(|e| fail(dir, e))?;
    }
    let path = dir.join(eml_name(&i.email));
    let partial = dir.join(format!(".{}.partial", eml_name(&i.email)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&partial).map_err(|e| fail(&partial, e))?;
    // An existing file keeps its mode on open: make sure it is owner-only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| fail(&partial, e))?;
    }
    let text = zeroize::Zeroizing::new(eml(i));
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| fail(&partial, e))?;
    drop(file);
    std::fs::rename(&partial, &path).map_err(|e| fail(&path, e))?;
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| fail(dir, e))?;
    Ok(SentInvitation {
        email: i.email.clone(),
        username: i.username.clone(),
        delivery: Delivery::Outbox {
            file: path.display().to_string(),
        },
    })
}

/// `smtp://host:port` → (host, port).
pub fn parse_smtp_url(url: &str) -> Result<(String, u16), String> {
    let rest = url
        .strip_prefix("smtp://")
        .ok_or_else(|| format!("--smtp {url:?}: expected smtp://HOST:PORT"))?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("--smtp {url:?}: the port is not a number from 1 to 65535"))?,
        ),
        None => (rest, 25),
    };
    if host.is_empty() {
        return Err(format!("--smtp {url:?}: expected smtp://HOST:PORT"));
    }
    Ok((host.to_owned(), port))
}

/// Sends one invitation through a plain SMTP relay.
pub(crate) fn send_smtp(url: &str, i: &Invitation) -> Result<SentInvitation, String> {
    use lettre::message::header::ContentType;
    use lettre::{Message, SmtpTransport, Transport};
    let (host, port) = parse_smtp_url(url)?;
    let token = random_hex(16);
    let to = i
        .email
        .parse()
        .map_err(|_| format!("{} is not an email address SMTP accepts", i.email))?;
    let from = from_address(&i.workspace_id)
        .parse()
        .map_err(|_| "the workspace id makes no valid sender address".to_owned())?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(header_value(&subject(i)))
        .message_id(Some(format!("<{token}@vaultferry.invalid>")))
        .header(ContentType::TEXT_PLAIN)
        .body(body(i))
        .map_err(|e| format!("cannot build the email: {e}"))?;
    let transport = SmtpTransport::builder_dangerous(host.as_str())
        .port(port)
        .timeout(Some(std::time::Duration::from_secs(30)))
        .build();
    transport
        .send(&message)
        .map_err(|e| format!("SMTP server {host}:{port} refused or failed: {e}"))?;
    Ok(SentInvitation {
        email: i.email.clone(),
        username: i.username.clone(),
        delivery: Delivery::Smtp {
            server: format!("{host}:{port}"),
        },
    })
}

/// `Wed, 25 Nov 2026 22:14:17 +0000` for the Date header.
fn rfc2822_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    rfc2822(secs)
}

pub(crate) fn rfc2822(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let weekday = DAYS.get(days.rem_euclid(7) as usize).copied().unwrap_or("Thu");
    let month = MONTHS.get((m - 1) as usize).copied().unwrap_or("Jan");
    format!(
        "{weekday}, {d:02} {month} {y} {:02}:{:02}:{:02} +0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_come_from_the_local_part_and_are_made_unique() {
        let mut taken = HashSet::from(["jules".to_owned()]);
        assert_eq!(username_for("Jules@Studio-Jules.example", &mut taken), "jules2");
        assert_eq!(username_for("jules@other.example", &mut taken), "jules3");
        assert_eq!(username_for("ravi@acme-partners.example", &mut taken), "ravi");
        assert_eq!(username_for("+++@x.example", &mut taken), "guest");
    }

    #[test]
    fn temporary_passwords_meet_the_policy_and_differ() {
        let policy = PasswordPolicy {
            min_length: 20,
            ..PasswordPolicy::default()
        };
        let a = temporary_password(&policy);
        let b = temporary_password(&policy);
        assert!(meets_policy(a.expose(), &policy));
        assert_eq!(a.expose().len(), 20);
        assert_ne!(a, b);
        let weak = PasswordPolicy {
            min_length: 8,
            require_uppercase: false,
            require_lowercase: false,
            require_digit: false,
            require_symbol: false,
            guest_invitation_days: 7,
        };
        assert!(temporary_password(&weak).expose().len() >= 16);
        assert!(!meets_policy("short", &policy));
    }

    #[test]
    fn only_a_salted_hash_is_kept_and_it_verifies() {
        let pw = Secret::text("Tmp-Pass-Word-42!");
        let (hash, salt) = hash_password(&pw).unwrap();
        let (hash2, salt2) = hash_password(&pw).unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("Tmp-Pass-Word-42!"));
        assert_ne!(salt, salt2, "a fresh salt each time");
        assert_ne!(hash, hash2);
        assert!(verify_password("Tmp-Pass-Word-42!", &hash));
        assert!(!verify_password("wrong", &hash));
    }

    #[test]
    fn dates_are_rfc_2822() {
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(1_795_644_857), "Wed, 25 Nov 2026 22:14:17 +0000");
    }

    #[test]
    fn the_email_names_workspace_username_password_and_join_link() {
        let i = Invitation {
            workspace_name: "Northwind Robotics".into(),
            workspace_id: "ws-northwind".into(),
            email: "tom@initech.example".into(),
            name: Some("Tom\r\nBcc: evil@x.example".into()),
            username: "tom".into(),
            password: Secret::text("Tmp-Pass-Word-42!"),
            join_url: join_url(None, "ws-northwind"),
        };
        let text = eml(&i);
        for needle in [
            "To: tom@initech.example\r\n",
            "From: no-reply@ws-northwind.example\r\n",
            "Subject: You are invited to Northwind Robotics as a guest\r\n",
            "Message-ID: <",
            "Date: ",
            "Username: tom\r\n",
            "Temporary password: Tmp-Pass-Word-42!\r\n",
            "Join here: https://ws-northwind.example/join?username=tom\r\n",
        ] {
            assert!(text.contains(needle), "{needle:?} missing:\n{text}");
        }
        let headers = text.split("\r\n\r\n").next().unwrap_or_default();
        assert!(!headers.contains("Bcc"), "{headers}");
    }

    #[test]
    fn the_join_link_points_at_the_configured_server() {
        assert_eq!(
            join_url(Some("https://vault.example.com/"), "ws-x"),
            "https://vault.example.com/join"
        );
        assert_eq!(join_url(None, "ws-x"), "https://ws-x.example/join");
    }

    #[test]
    fn smtp_urls_need_a_host_and_a_numeric_port() {
        assert_eq!(
            parse_smtp_url("smtp://127.0.0.1:2525").unwrap(),
            ("127.0.0.1".into(), 2525)
        );
        assert_eq!(
            parse_smtp_url("smtp://mail.example").unwrap(),
            ("mail.example".into(), 25)
        );
        assert!(parse_smtp_url("http://x:1").is_err());
        assert!(parse_smtp_url("smtp://x:port").is_err());
    }
}
