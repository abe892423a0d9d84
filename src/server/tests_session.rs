//! Signing in, joining, CSRF, security headers and API keys, driven
//! through the real router with `oneshot`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Request, StatusCode};
use tower::ServiceExt;

use super::*;
use crate::apply::invitations::hash_password;
use crate::secret::Secret;
use crate::workspace::identity::IdentityStore;
use crate::workspace::seed;
use crate::workspace::{ImportKey, MemberState, NewGuestInvitation};

const OWNER: &str = "olivia@northwind.example";
const OWNER_PASSWORD: &str = "Correct-Horse-9-Battery";
const GUEST: &str = "tom@studio.example";
const TEMPORARY: &str = "Tmp-Pass-Word-42!x";
const NEW_PASSWORD: &str = "Guest-Own-Pass-77#q";

struct Fixture {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    state: AppState,
    owner_key: String,
}

fn fixture() -> Fixture {
    fixture_with(|_| {})
}

fn fixture_with(configure: impl FnOnce(&mut Config)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ws.db");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed = seed::load(&root.join("samples/workspace.toml"), None).unwrap();
    let ws = SqliteWorkspace::create(&db, false).unwrap();
    ws.init(&seed).unwrap();
    let (owner_key, _) = ws.create_api_key_expiring(OWNER, None).unwrap();
    let (phc, _) = hash_password(&Secret::text(OWNER_PASSWORD)).unwrap();
    ws.set_password(OWNER, &phc, session::now()).unwrap();
    let (hash, salt) = hash_password(&Secret::text(TEMPORARY)).unwrap();
    ws.create_guest_invitation(&NewGuestInvitation {
        email: GUEST.into(),
        name: None,
        username: "tom".into(),
        password_hash: hash,
        salt,
        partner: None,
        partner_admin: false,
        import_key: ImportKey("guest:tom@studio.example".into()),
    })
    .unwrap();
    let mut config = Config::new(&db);
    config.failure_delay = Duration::from_millis(1);
    configure(&mut config);
    let state = AppState::sqlite(ws, config).unwrap();
    Fixture {
        _dir: dir,
        db,
        state,
        owner_key,
    }
}

impl Fixture {
    fn sql(&self, statement: &str) {
        rusqlite::Connection::open(&self.db)
            .unwrap()
            .execute_batch(statement)
            .unwrap();
    }

    fn member_state(&self, email: &str) -> MemberState {
        self.state
            .identity
            .credential(email)
            .unwrap()
            .map(|(m, _)| m.state)
            .unwrap()
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The session token a Set-Cookie gives, if any.
    fn session_cookie(&self) -> Option<String> {
        let v = self.headers.get(header::SET_COOKIE)?.to_str().ok()?;
        let token = v.strip_prefix("vaultferry_session=")?.split(';').next()?;
        (!token.is_empty()).then(|| token.to_owned())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    fn detail(&self) -> String {
        self.json()["errors"][0]["detail"].as_str().unwrap_or("").to_owned()
    }
}

async fn send(f: &Fixture, mut req: Request<Body>, peer: &str) -> Answer {
    let addr: SocketAddr = format!("{peer}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    let response = app(f.state.clone()).oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A form POST as a browser on our own page sends it (same Origin).
fn post_form(uri: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::post(uri)
        .header(header::HOST, "vault.test")
        .header(header::ORIGIN, "http://vault.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, format!("vaultferry_session={c}"));
    }
    b.body(Body::from(form(fields))).unwrap()
}

fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(uri).header(header::HOST, "vault.test");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, format!("vaultferry_session={c}"));
    }
    b.body(Body::empty()).unwrap()
}

fn with_key(method: &str, uri: &str, key: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("X-API-Key", key)
        .body(Body::empty())
        .unwrap()
}

async fn login(f: &Fixture, who: &str, password: &str) -> Answer {
    send(
        f,
        post_form("/login", None, &[("login", who), ("password", password)]),
        "10.0.0.1",
    )
    .await
}

async fn signed_in_owner(f: &Fixture) -> String {
    let a = login(f, OWNER, OWNER_PASSWORD).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    a.session_cookie().expect("a session cookie")
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_that_opens_the_api_and_the_page() {
    let f = fixture();
    let a = login(&f, OWNER, OWNER_PASSWORD).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), "/");
    let set = a.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(set.contains(flag), "{flag} missing: {set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP, no Secure: {set}");
    let token = a.session_cookie().unwrap();

    let me = send(&f, get("/api/v1/me", Some(&token)), "10.0.0.1").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.json()["data"]["attributes"]["email"], OWNER);

    // The importer's page, without typing a key: the upload form and the
    // session's CSRF token for its script.
    let page = send(&f, get("/", Some(&token)), "10.0.0.1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"type="file""#) && page.body.contains("Apply"));
    assert!(page.body.contains(&session::csrf_token(&token)));
    assert!(page.body.contains(r#"<script src="/static/app.js">"#));
    assert!(!page.body.contains("<script>"), "no inline script");
    assert!(!page.body.contains("apikey"), "no key field any more");

    // Without a session the page sends the browser to sign in.
    let page = send(&f, get("/", None), "10.0.0.1").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login");
    let login_page = send(&f, get("/login", None), "10.0.0.1").await;
    assert_eq!(login_page.status, StatusCode::OK);
    assert!(login_page.body.contains(r#"action="/login""#));
}

#[tokio::test]
async fn the_cookie_is_secure_behind_tls() {
    let f = fixture_with(|c| c.secure_cookies = true);
    let a = login(&f, OWNER, OWNER_PASSWORD).await;
    assert!(a.headers[header::SET_COOKIE].to_str().unwrap().contains("; Secure"));

    let f = fixture();
    let mut req = post_form("/login", None, &[("login", OWNER), ("password", OWNER_PASSWORD)]);
    req.headers_mut().insert("x-forwarded-proto", "https".parse().unwrap());
    let a = send(&f, req, "10.0.0.1").await;
    assert!(a.headers[header::SET_COOKIE].to_str().unwrap().contains("; Secure"));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_name_are_answered_alike() {
    let f = fixture();
    let wrong = login(&f, OWNER, "Not-The-Password-1!").await;
    let unknown = login(&f, "nobody@northwind.example", "Not-The-Password-1!").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.session_cookie().is_none());
    assert!(wrong.body.contains(session::WRONG), "{}", wrong.body);
    assert!(unknown.body.contains(session::WRONG), "{}", unknown.body);
    // A member without a password of their own cannot sign in either.
    let none = login(&f, "sam@northwind.example", "").await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn five_failures_lock_the_name_even_for_the_right_password() {
    let delay = Duration::from_millis(60);
    let f = fixture_with(|c| c.failure_delay = delay);
    let mut last = None;
    for n in 1..=throttle::ACCOUNT_LIMIT {
        let started = Instant::now();
        let a = login(&f, OWNER, "Wrong-Password-0!").await;
        // Each failure waits longer than the one before.
        assert!(started.elapsed() >= delay * n, "failure {n} answered too fast");
        last = Some(a);
    }
    let locked = last.unwrap();
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{}", locked.body);
    assert!(locked.body.contains("try again in 15 minutes"), "{}", locked.body);
    let right = login(&f, OWNER, OWNER_PASSWORD).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(right.headers.contains_key(header::RETRY_AFTER));
    assert!(right.session_cookie().is_none());
    // Another member from the same address is not locked out.
    f.state
        .identity
        .set_password(
            "sam@northwind.example",
            &hash_password(&Secret::text(OWNER_PASSWORD)).unwrap().0,
            session::now(),
        )
        .unwrap();
    let other = login(&f, "sam@northwind.example", OWNER_PASSWORD).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
    // When the lock has passed, the right password works again.
    f.sql("UPDATE login_failures SET locked_until = 0");
    let later = login(&f, OWNER, OWNER_PASSWORD).await;
    assert_eq!(later.status, StatusCode::SEE_OTHER, "{}", later.body);
}

#[tokio::test]
async fn an_address_trying_many_names_is_locked() {
    let f = fixture();
    for n in 0..throttle::ADDRESS_LIMIT {
        let name = format!("guess{n}@northwind.example");
        let a = send(
            &f,
            post_form("/login", None, &[("login", &name), ("password", "x")]),
            "10.9.9.9",
        )
        .await;
        assert_ne!(a.status, StatusCode::SEE_OTHER);
    }
    let from_there = send(
        &f,
        post_form("/login", None, &[("login", OWNER), ("password", OWNER_PASSWORD)]),
        "10.9.9.9",
    )
    .await;
    assert_eq!(from_there.status, StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = login(&f, OWNER, OWNER_PASSWORD).await;
    assert_eq!(elsewhere.status, StatusCode::SEE_OTHER);
}

/// Joins with the temporary password: the join session's token.
async fn join(f: &Fixture) -> String {
    let a = send(
        f,
        post_form("/join", None, &[("username", "tom"), ("password", TEMPORARY)]),
        "10.0.0.2",
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), "/join/password");
    a.session_cookie().unwrap()
}

fn new_password(password: &str, again: &str) -> Vec<(&'static str, String)> {
    vec![
        ("password", password.to_owned()),
        ("password_again", again.to_owned()),
        ("given_name", "Tom".to_owned()),
        ("family_name", "Baker".to_owned()),
    ]
}

async fn post_password(f: &Fixture, token: &str, fields: Vec<(&'static str, String)>) -> Answer {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    send(f, post_form("/join/password", Some(token), &fields), "10.0.0.2").await
}

#[tokio::test]
async fn joining_takes_a_new_password_that_meets_the_policy_then_the_terms() {
    let f = fixture();
    let wrong = send(
        &f,
        post_form("/join", None, &[("username", "tom"), ("password", "Wrong-Temp-1!")]),
        "10.0.0.2",
    )
    .await;
    let unknown = send(
        &f,
        post_form("/join", None, &[("username", "nobody"), ("password", "Wrong-Temp-1!")]),
        "10.0.0.2",
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let msg = "that username and temporary password do not match an invitation";
    assert!(wrong.body.contains(msg) && unknown.body.contains(msg));

    let token = join(&f).await;
    // Until the terms are accepted nothing else opens.
    let me = send(&f, get("/api/v1/me", Some(&token)), "10.0.0.2").await;
    assert_eq!(me.status, StatusCode::FORBIDDEN);
    assert!(me.detail().contains("/join/password"), "{}", me.body);
    let home = send(&f, get("/", Some(&token)), "10.0.0.2").await;
    assert_eq!(home.location(), "/join/password");
    let terms_early = send(&f, get("/join/terms", Some(&token)), "10.0.0.2").await;
    assert_eq!(terms_early.location(), "/join/password");

    // The page shows the policy (the sample's: 14 characters and every class).
    let page = send(&f, get("/join/password", Some(&token)), "10.0.0.2").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("at least 14 characters"), "{}", page.body);
    assert!(page.body.contains("a symbol"));
    assert!(page.body.contains(&session::csrf_token(&token)));

    let weak = post_password(&f, &token, new_password("short1A!", "short1A!")).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.body.contains("does not meet the workspace&#39;s policy"),
        "{}",
        weak.body
    );
    assert!(weak.body.contains("at least 14 characters"));
    let same = post_password(&f, &token, new_password(TEMPORARY, TEMPORARY)).await;
    assert_eq!(same.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(same.body.contains("differ from the temporary one"), "{}", same.body);
    let twice = post_password(&f, &token, new_password(NEW_PASSWORD, "Guest-Own-Pass-78#q")).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(twice.body.contains("type the same password twice"));
    let mut nameless = new_password(NEW_PASSWORD, NEW_PASSWORD);
    nameless[3].1 = " ".into();
    let nameless = post_password(&f, &token, nameless).await;
    assert_eq!(nameless.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nameless.body.contains("family name is required"));

    let ok = post_password(&f, &token, new_password(NEW_PASSWORD, NEW_PASSWORD)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location(), "/join/terms");
    assert_eq!(f.member_state(GUEST), MemberState::Invited, "not before the terms");
    let me = send(&f, get("/api/v1/me", Some(&token)), "10.0.0.2").await;
    assert_eq!(me.status, StatusCode::FORBIDDEN);
    assert!(me.detail().contains("/join/terms"));

    let terms = send(&f, get("/join/terms", Some(&token)), "10.0.0.2").await;
    assert!(terms.body.contains("Terms of Service") && terms.body.contains("Northwind"));
    let csrf = session::csrf_token(&token);
    let unconfirmed = send(
        &f,
        post_form("/join/terms", Some(&token), &[("csrf", &csrf)]),
        "10.0.0.2",
    )
    .await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unconfirmed.body.contains("confirm that you accept"));
    assert_eq!(f.member_state(GUEST), MemberState::Invited);

    let accepted = send(
        &f,
        post_form("/join/terms", Some(&token), &[("csrf", &csrf), ("accept", "yes")]),
        "10.0.0.2",
    )
    .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER);
    assert_eq!(accepted.location(), "/");
    // The full session has a token of its own; the join session's is spent.
    let joined = accepted.session_cookie().expect("a new session cookie");
    let set = accepted.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        set.contains("Max-Age=43200") && set.contains("HttpOnly"),
        "a full session's life: {set}"
    );
    assert_ne!(joined, token);
    let old = send(&f, get("/api/v1/me", Some(&token)), "10.0.0.2").await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let token = joined;
    assert_eq!(f.member_state(GUEST), MemberState::Active);
    let snapshot = f.state.workspace.snapshot().unwrap();
    let guest = snapshot.member_by_email(GUEST).unwrap();
    assert_eq!(guest.name.as_deref(), Some("Tom Baker"));
    let invitation = f.state.identity.member_invitation(guest.id).unwrap().unwrap();
    assert_eq!(invitation.state, "accepted");

    let me = send(&f, get("/api/v1/me", Some(&token)), "10.0.0.2").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let home = send(&f, get("/", Some(&token)), "10.0.0.2").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location(), "/app/items");
    let items = send(&f, get("/app/items", Some(&token)), "10.0.0.2").await;
    assert_eq!(items.status, StatusCode::OK);
    assert!(items.body.contains("Signed in as Tom Baker"), "{}", items.body);
    // The importer stays closed to a guest.
    let workspace = send(&f, get("/api/v1/workspace", Some(&token)), "10.0.0.2").await;
    assert_eq!(workspace.status, StatusCode::FORBIDDEN);

    // From now on the guest signs in with the username and their password.
    let again = login(&f, "tom", NEW_PASSWORD).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(again.location(), "/");
    let old = login(&f, "tom", TEMPORARY).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_temporary_password_works_once() {
    let f = fixture();
    let _ = join(&f).await;
    let second = send(
        &f,
        post_form("/join", None, &[("username", "tom"), ("password", TEMPORARY)]),
        "10.0.0.2",
    )
    .await;
    assert_eq!(second.status, StatusCode::UNAUTHORIZED);
    assert!(second.body.contains("used already or has expired"), "{}", second.body);
    assert!(second.session_cookie().is_none());
}

#[tokio::test]
async fn the_temporary_password_expires() {
    let f = fixture();
    // The sample's policy keeps the default: 7 days.
    f.sql("UPDATE guest_invitations SET created = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-8 days')");
    let late = send(
        &f,
        post_form("/join", None, &[("username", "tom"), ("password", TEMPORARY)]),
        "10.0.0.2",
    )
    .await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
    assert!(late.body.contains("used already or has expired"), "{}", late.body);
    // A longer policy lets the same invitation in.
    f.sql("UPDATE workspace SET guest_invitation_days = 10");
    let a = send(
        &f,
        post_form("/join", None, &[("username", "tom"), ("password", TEMPORARY)]),
        "10.0.0.3",
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
}

#[tokio::test]
async fn a_cross_origin_post_with_a_valid_session_is_refused() {
    let f = fixture();
    let token = signed_in_owner(&f).await;
    let mut forged = post_form("/logout", Some(&token), &[]);
    forged
        .headers_mut()
        .insert(header::ORIGIN, "http://evil.example".parse().unwrap());
    let a = send(&f, forged, "10.0.0.1").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.detail().contains("another origin"), "{}", a.body);
    // Still signed in.
    let me = send(&f, get("/api/v1/me", Some(&token)), "10.0.0.1").await;
    assert_eq!(me.status, StatusCode::OK);

    // Without an Origin the session's token is needed: absent, wrong, right.
    let (_, spare) = f.state.identity.create_api_key_expiring(OWNER, None).unwrap();
    let revoke = format!("/api/v1/api-keys/{}", spare.id);
    let bare = Request::delete(&revoke)
        .header(header::COOKIE, format!("vaultferry_session={token}"))
        .body(Body::empty())
        .unwrap();
    let a = send(&f, bare, "10.0.0.1").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.detail().contains("CSRF"), "{}", a.body);
    let wrong = Request::delete(&revoke)
        .header(header::COOKIE, format!("vaultferry_session={token}"))
        .header("X-CSRF-Token", session::csrf_token("vfs_another"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&f, wrong, "10.0.0.1").await.status, StatusCode::FORBIDDEN);
    let right = Request::delete(&revoke)
        .header(header::COOKIE, format!("vaultferry_session={token}"))
        .header("X-CSRF-Token", session::csrf_token(&token))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&f, right, "10.0.0.1").await.status, StatusCode::NO_CONTENT);

    // A form without an Origin carries the token as a field.
    let no_origin = |fields: &[(&str, &str)]| {
        Request::post("/logout")
            .header(header::COOKIE, format!("vaultferry_session={token}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form(fields)))
            .unwrap()
    };
    assert_eq!(send(&f, no_origin(&[]), "10.0.0.1").await.status, StatusCode::FORBIDDEN);
    // `Origin: null` (a browser's form under no-referrer) proves nothing.
    let mut null = no_origin(&[]);
    null.headers_mut().insert(header::ORIGIN, "null".parse().unwrap());
    assert_eq!(send(&f, null, "10.0.0.1").await.status, StatusCode::FORBIDDEN);
    let out = send(&f, no_origin(&[("csrf", &session::csrf_token(&token))]), "10.0.0.1").await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let me = send(&f, get("/api/v1/me", Some(&token)), "10.0.0.1").await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert!(me.detail().contains("session has ended"), "{}", me.body);

    // A key needs no CSRF token (no cookie to borrow).
    let keyed = Request::post("/api/v1/runs")
        .header("X-API-Key", &f.owner_key)
        .header(header::ORIGIN, "http://evil.example")
        .body(Body::from("{}"))
        .unwrap();
    assert_ne!(send(&f, keyed, "10.0.0.1").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_session_ends_when_idle_and_at_its_absolute_expiry() {
    let f = fixture();
    let token = signed_in_owner(&f).await;
    f.sql("UPDATE sessions SET last_seen = last_seen - 31 * 60");
    let idle = send(&f, get("/api/v1/me", Some(&token)), "10.0.0.1").await;
    assert_eq!(idle.status, StatusCode::UNAUTHORIZED);

    let token = signed_in_owner(&f).await;
    f.sql("UPDATE sessions SET expires = CAST(strftime('%s', 'now') AS INTEGER) - 1");
    let over = send(&f, get("/api/v1/me", Some(&token)), "10.0.0.1").await;
    assert_eq!(over.status, StatusCode::UNAUTHORIZED);
    assert!(over.detail().contains("sign in again"));
}

fn assert_secure_headers(a: &Answer, what: &str) {
    let h = &a.headers;
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{what}");
    assert_eq!(h[header::REFERRER_POLICY], "no-referrer", "{what}");
    assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{what}");
    assert_eq!(h[header::CACHE_CONTROL], "no-store", "{what}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let f = fixture();
    let token = signed_in_owner(&f).await;
    for (what, req) in [
        ("login page", get("/login", None)),
        ("upload page", get("/", Some(&token))),
        ("join page", get("/join", None)),
        ("script", get("/static/app.js", None)),
        ("api", with_key("GET", "/api/v1/members", &f.owner_key)),
        ("refusal", get("/api/v1/me", None)),
        ("no route", get("/nothing", None)),
    ] {
        let a = send(&f, req, "10.0.0.1").await;
        assert_secure_headers(&a, what);
    }
    let failed = login(&f, OWNER, "nope").await;
    assert_secure_headers(&failed, "failed login");
}

#[tokio::test]
async fn revoked_and_expired_keys_are_refused_and_say_so() {
    let f = fixture();
    let identity = &f.state.identity;
    let (revoked, record) = identity.create_api_key_expiring(OWNER, None).unwrap();
    assert!(identity.revoke_api_key(record.id, None, session::now()).unwrap());
    let a = send(&f, with_key("GET", "/api/v1/members", &revoked), "10.0.0.1").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.detail().contains("revoked on"), "{}", a.body);

    let (expired, _) = identity
        .create_api_key_expiring(OWNER, Some(session::now() - 1))
        .unwrap();
    let a = send(&f, with_key("GET", "/api/v1/members", &expired), "10.0.0.1").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.detail().contains("expired on"), "{}", a.body);

    // The plain lookup other code may use refuses them too.
    assert!(f.state.store.member_for_key(&revoked).unwrap().is_none());
    assert!(f.state.store.member_for_key(&expired).unwrap().is_none());
    assert!(f.state.store.member_for_key(&f.owner_key).unwrap().is_some());

    let (later, _) = identity
        .create_api_key_expiring(OWNER, Some(session::now() + 3600))
        .unwrap();
    let a = send(&f, with_key("GET", "/api/v1/members", &later), "10.0.0.1").await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn the_audit_log_names_the_key_or_session_never_its_secret() {
    let f = fixture();
    let _ = send(&f, with_key("GET", "/api/v1/members", &f.owner_key), "10.0.0.1").await;
    let token = signed_in_owner(&f).await;
    let _ = send(&f, get("/api/v1/me", Some(&token)), "10.0.0.1").await;
    let conn = rusqlite::Connection::open(&f.db).unwrap();
    let rows: Vec<(String, String)> = conn
        .prepare("SELECT actor, action FROM audit_log WHERE action LIKE 'http %' ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let prefix: String = f.owner_key.chars().take(12).collect();
    let by_key = rows.iter().find(|(_, a)| a == "http GET /api/v1/members").unwrap();
    assert_eq!(by_key.0, format!("{OWNER} (key #1 {prefix}…)"));
    let by_session = rows.iter().find(|(_, a)| a == "http GET /api/v1/me").unwrap();
    assert!(
        by_session.0.starts_with(&format!("{OWNER} (session #")),
        "{by_session:?}"
    );
    let login_row = rows.iter().find(|(_, a)| a == "http POST /login").unwrap();
    assert!(login_row.0.contains("(session #"), "{login_row:?}");
    let everything: String = conn
        .prepare("SELECT group_concat(actor || action || object, '\n') FROM audit_log")
        .unwrap()
        .query_row([], |r| r.get(0))
        .unwrap();
    for secret in [f.owner_key.as_str(), token.as_str(), OWNER_PASSWORD] {
        assert!(!everything.contains(secret), "the audit log holds a secret");
    }
}

#[tokio::test]
async fn members_list_and_revoke_their_own_keys() {
    let f = fixture();
    let (other, _) = f
        .state
        .identity
        .create_api_key_expiring("sam@northwind.example", None)
        .unwrap();
    let a = send(&f, with_key("GET", "/api/v1/api-keys", &f.owner_key), "10.0.0.1").await;
    assert_eq!(a.status, StatusCode::OK);
    let data = a.json()["data"].as_array().unwrap().clone();
    assert_eq!(data.len(), 1, "only the caller's own keys: {data:?}");
    assert_eq!(data[0]["attributes"]["state"], "active");
    assert!(!a.body.contains(&f.owner_key) && !a.body.contains(&other));
    // Someone else's key is not the caller's to revoke.
    let a = send(&f, with_key("DELETE", "/api/v1/api-keys/2", &f.owner_key), "10.0.0.1").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = send(&f, with_key("DELETE", "/api/v1/api-keys/1", &f.owner_key), "10.0.0.1").await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = send(&f, with_key("GET", "/api/v1/api-keys", &f.owner_key), "10.0.0.1").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = send(&f, with_key("GET", "/api/v1/me", &other), "10.0.0.1").await;
    assert_eq!(a.status, StatusCode::OK);
}

#[path = "tests_webapp.rs"]
mod webapp;
