//! Holes an attacker would try that the feature tests did not, each
//! driven through the real router (`app(state).oneshot`) the way the
//! attacker would send it.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use tower::ServiceExt;

use super::*;
use crate::apply::invitations::hash_password;
use crate::secret::Secret;
use crate::workspace::identity::IdentityStore;
use crate::workspace::seed;

const OWNER: &str = "olivia@northwind.example";
const OWNER_PASSWORD: &str = "Correct-Horse-9-Battery";

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ws.db");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed = seed::load(&root.join("samples/workspace.toml"), None).unwrap();
    let ws = SqliteWorkspace::create(&db, false).unwrap();
    ws.init(&seed).unwrap();
    let (phc, _) = hash_password(&Secret::text(OWNER_PASSWORD)).unwrap();
    ws.set_password(OWNER, &phc, session::now()).unwrap();
    let mut config = Config::new(&db);
    config.failure_delay = Duration::from_millis(1);
    let state = AppState::sqlite(ws, config).unwrap();
    Fixture { _dir: dir, state }
}

/// A sign-in form from our own page, from `peer`.
fn login_request(login: &str, password: &str, peer: &str) -> Request<Body> {
    let body = format!(
        "login={}&password={}",
        login.replace('@', "%40"),
        password.replace('#', "%23")
    );
    let mut req = Request::post("/login")
        .header(header::HOST, "vault.test")
        .header(header::ORIGIN, "http://vault.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let addr: SocketAddr = format!("{peer}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

/// Sign-in attempts sent together, each from its own address (as a
/// botnet would), answered with their statuses.
async fn together(state: &AppState, n: usize, password: &str) -> Vec<tokio::task::JoinHandle<StatusCode>> {
    (0..n)
        .map(|i| {
            let state = state.clone();
            let password = format!("{password}{i}");
            tokio::spawn(async move {
                let req = login_request(OWNER, &password, &format!("10.0.{}.{}", i / 200, i % 200 + 1));
                app(state).oneshot(req).await.unwrap().status()
            })
        })
        .collect()
}

/// Hole: the failure counter was read, then written, outside one
/// transaction, and a failure recorded while the name was locked wrote
/// the count back to 1 with no lock. Seven wrong passwords sent together
/// left the name unlocked, so the right one then opened a session.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_passwords_sent_together_still_lock_the_name() {
    let f = fixture();
    for t in together(&f.state, 7, "Wrong-Guess-").await {
        let status = t.await.unwrap();
        assert!(
            matches!(status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS),
            "{status}"
        );
    }
    let right = app(f.state.clone())
        .oneshot(login_request(OWNER, OWNER_PASSWORD, "192.0.2.9"))
        .await
        .unwrap();
    assert_eq!(
        right.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "after 7 failed attempts the right password must still be refused"
    );
    assert!(right.headers().get(header::SET_COOKIE).is_none());
}

/// Hole: the lock was checked before the (slow) password check and the
/// failure counted only after it, so every guess of a burst was checked
/// against the password before the first one was counted: the limit of
/// five guesses per name did not hold for guesses sent together.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_guesses_gets_no_more_than_the_limit_checked() {
    let f = fixture();
    let burst = together(&f.state, 30, "Wrong-Guess-").await;
    // The burst is in flight (its password checks take tens of ms each);
    // the right password arrives as its 31st guess.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let right = app(f.state.clone())
        .oneshot(login_request(OWNER, OWNER_PASSWORD, "192.0.2.9"))
        .await
        .unwrap();
    let right_status = right.status();
    let mut checked = 0;
    for t in burst {
        if t.await.unwrap() == StatusCode::UNAUTHORIZED {
            checked += 1;
        }
    }
    assert_eq!(
        right_status,
        StatusCode::TOO_MANY_REQUESTS,
        "the 31st guess for one name must not be checked, even when the others are still being answered"
    );
    assert!(
        checked < throttle::ACCOUNT_LIMIT as usize,
        "{checked} guesses of the burst were answered as checked"
    );
    let failures = f
        .state
        .identity
        .failures(&format!("account:{OWNER}"), session::now(), throttle::WINDOW);
    assert!(failures.unwrap().locked_until.is_some());
}

/// Paging values a client can type: each route answers them with a page
/// or a 400 that says what it expected, never a 500, for an admin (the
/// walk by id) and for a user (the member's-side read) alike.
#[tokio::test]
async fn odd_paging_values_are_a_page_or_a_400_never_a_500() {
    let f = fixture();
    let mut keys = Vec::new();
    for who in [OWNER, "dana@northwind.example", "mo@freelance.example"] {
        keys.push(f.state.identity.create_api_key_expiring(who, None).unwrap().0);
    }
    let routes = [
        "/api/v1/me/collections",
        "/api/v1/me/accounts",
        "/api/v1/me/secrets",
        "/api/v1/me/teams",
        "/api/v1/me/activity",
        "/api/v1/people",
        "/app/items",
        "/app/items?kind=secrets",
        "/app/items?kind=collections",
        "/app/teams",
        "/app/members",
    ];
    let values = [
        ("page[size]", "-1", false),
        ("page[size]", "0", false),
        ("page[size]", "1001", false),
        ("page[size]", "99999999999999999999999", false),
        ("page[size]", "ten", false),
        ("page[size]", "%20%205%20", true),
        ("page[after]", "-9223372036854775808", true),
        ("page[after]", "9223372036854775807", true),
        ("page[after]", "9223372036854775808", false),
        ("page[after]", "1e3", false),
        ("page[after]", "", false),
    ];
    for key in &keys {
        for route in routes {
            for (name, value, fine) in values {
                let sep = if route.contains('?') { '&' } else { '?' };
                let uri = format!("{route}{sep}{name}={value}");
                let req = Request::get(&uri).header("X-API-Key", key).body(Body::empty()).unwrap();
                let res = app(f.state.clone()).oneshot(req).await.unwrap();
                let status = res.status();
                let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
                let body = String::from_utf8_lossy(&body);
                assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{uri}: 500 {body}");
                if status == StatusCode::FORBIDDEN {
                    // The admin routes refuse a user or guest before paging.
                    assert!(route.contains("people") || route.contains("members"), "{uri}: {body}");
                    continue;
                }
                if fine {
                    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
                } else {
                    assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
                    assert!(body.contains(name), "{uri}: the 400 names {name}: {body}");
                }
            }
        }
    }
}

/// A form POST from our own page, with the session cookie if any.
fn form_post(uri: &str, cookie: Option<&str>, body: &str) -> Request<Body> {
    let mut b = Request::post(uri)
        .header(header::HOST, "vault.test")
        .header(header::ORIGIN, "http://vault.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, format!("vaultferry_session={c}"));
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

fn session_cookie(res: &axum::response::Response) -> Option<String> {
    let v = res.headers().get(header::SET_COOKIE)?.to_str().ok()?;
    let token = v.strip_prefix("vaultferry_session=")?.split(';').next()?;
    (!token.is_empty()).then(|| token.to_owned())
}

/// The same form sent `n` times at once (a double click, a retrying
/// browser), answered with status, Location and any new session cookie.
async fn sent_together(
    state: &AppState,
    n: usize,
    uri: &str,
    cookie: &str,
    body: &str,
) -> Vec<(StatusCode, String, Option<String>)> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (state, req) = (state.clone(), form_post(uri, Some(cookie), body));
            tokio::spawn(async move {
                let res = app(state).oneshot(req).await.unwrap();
                let location = res
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                (res.status(), location, session_cookie(&res))
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

/// Hole: a join form sent twice at once (a double click on Continue)
/// passed the step check twice; the second then found the session past
/// that step and the store's "no row" became a 500 for the guest, though
/// the first had done the work.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_join_form_sent_twice_at_once_is_no_500() {
    use crate::workspace::{ImportKey, NewGuestInvitation};
    let f = fixture();
    let (hash, salt) = hash_password(&Secret::text("Tmp-Pass-Word-42!x")).unwrap();
    f.state
        .workspace
        .create_guest_invitation(&NewGuestInvitation {
            email: "tom@studio.example".into(),
            name: None,
            username: "tom".into(),
            password_hash: hash,
            salt,
            partner: None,
            partner_admin: false,
            import_key: ImportKey("guest:tom@studio.example".into()),
        })
        .unwrap();
    let joined = app(f.state.clone())
        .oneshot(form_post("/join", None, "username=tom&password=Tmp-Pass-Word-42%21x"))
        .await
        .unwrap();
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&joined).expect("a join session");
    let body = "password=Guest-Own-Pass-77%23q&password_again=Guest-Own-Pass-77%23q&given_name=Tom&family_name=Tester";
    for (status, location, _) in sent_together(&f.state, 4, "/join/password", &cookie, body).await {
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "a repeated password form is sent on, not failed"
        );
        assert_eq!(location, "/join/terms");
    }
    let answers = sent_together(&f.state, 8, "/join/terms", &cookie, "accept=yes").await;
    let mut full = None;
    for (status, location, new_cookie) in answers {
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "a repeated terms form is sent on, not failed"
        );
        // On to the dashboard; one arriving after the first rotated the
        // token no longer names a session and is sent to /join as before.
        assert!(location == "/" || location == "/join", "{location}");
        full = full.or(new_cookie);
    }
    let full = full.expect("one of them opened the full session");
    let me = Request::get("/api/v1/me")
        .header(header::COOKIE, format!("vaultferry_session={full}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app(f.state.clone()).oneshot(me).await.unwrap().status(), StatusCode::OK);
}

/// The same hole on the join form (its own sign-in name, the guest's
/// username): temporary-password guesses sent together lock it too, and
/// the right temporary password is then refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn temporary_password_guesses_sent_together_lock_the_username() {
    use crate::workspace::{ImportKey, NewGuestInvitation};
    let f = fixture();
    let (hash, salt) = hash_password(&Secret::text("Tmp-Pass-Word-42!x")).unwrap();
    f.state
        .workspace
        .create_guest_invitation(&NewGuestInvitation {
            email: "tom@studio.example".into(),
            name: None,
            username: "tom".into(),
            password_hash: hash,
            salt,
            partner: None,
            partner_admin: false,
            import_key: ImportKey("guest:tom@studio.example".into()),
        })
        .unwrap();
    let tasks: Vec<_> = (0..7)
        .map(|i| {
            let state = f.state.clone();
            tokio::spawn(async move {
                let mut req = form_post("/join", None, &format!("username=tom&password=Wrong-{i}"));
                let addr: SocketAddr = format!("10.1.0.{}:40000", i + 1).parse().unwrap();
                req.extensions_mut().insert(ConnectInfo(addr));
                app(state).oneshot(req).await.unwrap().status()
            })
        })
        .collect();
    for t in tasks {
        let status = t.await.unwrap();
        assert!(
            matches!(status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS),
            "{status}"
        );
    }
    let right = app(f.state.clone())
        .oneshot(form_post("/join", None, "username=tom&password=Tmp-Pass-Word-42%21x"))
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(session_cookie(&right).is_none());
}

/// Hole: a sign-in was audited under the name typed, so a guest who signs
/// in with their username (as the README tells them to) never found that
/// sign-in in their own activity, and the audit log named it by a
/// username rather than the member.
#[tokio::test]
async fn a_guest_signing_in_by_username_finds_it_in_their_activity() {
    use crate::workspace::{ImportKey, NewGuestInvitation};
    let f = fixture();
    let (hash, salt) = hash_password(&Secret::text("Tmp-Pass-Word-42!x")).unwrap();
    f.state
        .workspace
        .create_guest_invitation(&NewGuestInvitation {
            email: "tom@studio.example".into(),
            name: None,
            username: "tom".into(),
            password_hash: hash,
            salt,
            partner: None,
            partner_admin: false,
            import_key: ImportKey("guest:tom@studio.example".into()),
        })
        .unwrap();
    let send = |req| app(f.state.clone()).oneshot(req);
    let joined = send(form_post("/join", None, "username=tom&password=Tmp-Pass-Word-42%21x"))
        .await
        .unwrap();
    let cookie = session_cookie(&joined).unwrap();
    let body = "password=Guest-Own-Pass-77%23q&password_again=Guest-Own-Pass-77%23q&given_name=Tom&family_name=Tester";
    let set = send(form_post("/join/password", Some(&cookie), body)).await.unwrap();
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    let accepted = send(form_post("/join/terms", Some(&cookie), "accept=yes"))
        .await
        .unwrap();
    let full = session_cookie(&accepted).unwrap();
    send(form_post("/logout", Some(&full), "")).await.unwrap();

    let signed_in = send(form_post("/login", None, "login=Tom&password=Guest-Own-Pass-77%23q"))
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&signed_in).unwrap();
    let activity = Request::get("/api/v1/me/activity")
        .header(header::COOKIE, format!("vaultferry_session={cookie}"))
        .body(Body::empty())
        .unwrap();
    let res = send(activity).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let actions: Vec<&str> = doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["attributes"]["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"http POST /login"),
        "the guest's own sign-in is in their activity: {actions:?}"
    );
    // Signing out is theirs too, not "anonymous".
    assert!(actions.contains(&"http POST /logout"), "{actions:?}");
}

/// Hole: an invitation's domain was any text with a dot, so an address
/// that reads as a company one (`olivia@northwind.example` with an
/// invisible character after it, or a `!`) passed the company-domain rule
/// and became a guest the Members page shows as the owner's address.
#[tokio::test]
async fn look_alike_company_addresses_are_not_invited_as_guests() {
    let f = fixture();
    let (key, _) = f.state.identity.create_api_key_expiring(OWNER, None).unwrap();
    let invite = |email: &str| {
        let body = serde_json::json!({"data": {"type": "guest", "attributes": {"email": email}}});
        Request::post("/api/v1/guests")
            .header("X-API-Key", &key)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    for bad in [
        "olivia@northwind.example\u{200b}",
        "olivia@northwind.example!",
        "olivia@northwind..example",
        "olivia@-northwind.example",
        "olivia@northwind.example/x",
    ] {
        let res = app(f.state.clone()).oneshot(invite(bad)).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {body}");
        assert!(body.contains("data.attributes.email must be"), "{bad:?}: {body}");
    }
    let res = app(f.state.clone())
        .oneshot(invite("Nina@Sub.Contractor-1.example"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}
