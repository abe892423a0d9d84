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
