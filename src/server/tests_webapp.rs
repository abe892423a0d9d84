//! The signed-in web app through the real router: one shell (nav by role,
//! sign-out with the session's token) and the Guests page's forms (CSRF,
//! who may, the store's refusals shown on the page). A child of
//! `tests_session`, for its fixture and helpers.

use super::*;

const NINA: &str = "nina@contractor.example";

/// A form POST as a browser sends it under `Referrer-Policy: no-referrer`:
/// `Origin: null`, so only the `csrf` field can prove where it came from.
fn post_null_origin(uri: &str, cookie: &str, fields: &[(&str, &str)]) -> Request<Body> {
    Request::post(uri)
        .header(header::HOST, "vault.test")
        .header(header::ORIGIN, "null")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("vaultferry_session={cookie}"))
        .body(Body::from(form(fields)))
        .unwrap()
}

fn outbox_mail_to(f: &Fixture, email: &str) -> Option<String> {
    std::fs::read_dir(&f.state.config.outbox)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .find(|m| m.contains(&format!("To: {email}")))
}

/// Tom (the fixture's invited guest) joined: active, with a password of
/// his own, signed in.
async fn signed_in_guest(f: &Fixture) -> String {
    f.sql("UPDATE members SET state = 'active' WHERE email = 'tom@studio.example'");
    let (phc, _) = hash_password(&Secret::text(NEW_PASSWORD)).unwrap();
    f.state.identity.set_password(GUEST, &phc, session::now()).unwrap();
    let a = login(f, "tom", NEW_PASSWORD).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    a.session_cookie().expect("a session cookie")
}

#[tokio::test]
async fn every_signed_in_page_has_the_header_nav_by_role_and_a_working_sign_out() {
    let f = fixture();
    let owner = signed_in_owner(&f).await;
    let csrf = session::csrf_token(&owner);
    for (uri, title) in [
        ("/", "Import"),
        ("/app/items", "My items"),
        ("/app/teams", "My teams"),
        ("/app/members", "Members"),
        ("/app/guests", "Guests"),
    ] {
        let page = send(&f, get(uri, Some(&owner)), "10.0.0.1").await;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
        assert!(page.body.contains("Northwind Robotics"), "{uri} names no workspace");
        assert!(page.body.contains(&format!("<h1>{title}</h1>")), "{uri}: {}", page.body);
        for link in [
            r#"href="/app/items""#,
            r#"href="/app/teams""#,
            r#"href="/app/members""#,
            r#"href="/app/guests""#,
            r#"href="/""#,
        ] {
            assert!(page.body.contains(link), "{uri} has no {link}");
        }
        assert!(page.body.contains("Signed in as Olivia Chen"), "{uri}: {}", page.body);
        assert!(
            page.body.contains(r#"action="/logout""#) && page.body.contains(&csrf),
            "{uri} has no sign-out form with the session's token"
        );
        assert!(!page.body.contains("style="), "{uri} has inline style");
    }

    // A guest's header: their items and teams, nothing of the admins'.
    let guest = signed_in_guest(&f).await;
    let page = send(&f, get("/app/items", Some(&guest)), "10.0.0.2").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"href="/app/teams""#));
    for link in [r#"href="/app/members""#, r#"href="/app/guests""#, r#"href="/""#] {
        assert!(!page.body.contains(link), "a guest's nav has {link}");
    }

    // The sign-out button ends the session.
    let out = send(&f, post_null_origin("/logout", &owner, &[("csrf", &csrf)]), "10.0.0.1").await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    assert_eq!(out.location(), "/login");
    let after = send(&f, get("/app/items", Some(&owner)), "10.0.0.1").await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn inviting_from_the_guests_page_needs_the_token_then_lists_the_guest_and_mails_them() {
    let f = fixture();
    let owner = signed_in_owner(&f).await;
    let csrf = session::csrf_token(&owner);

    let forged = send(
        &f,
        post_null_origin("/app/guests/invite", &owner, &[("email", NINA), ("name", "Nina Ortiz")]),
        "10.0.0.1",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert!(forged.detail().contains("CSRF"), "{}", forged.body);
    let wrong = send(
        &f,
        post_null_origin("/app/guests/invite", &owner, &[("csrf", "0000"), ("email", NINA)]),
        "10.0.0.1",
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(outbox_mail_to(&f, NINA).is_none(), "a refused form sent an invitation");

    let done = send(
        &f,
        post_null_origin(
            "/app/guests/invite",
            &owner,
            &[
                ("csrf", &csrf),
                ("email", " Nina@Contractor.example "),
                ("name", "Nina Ortiz"),
            ],
        ),
        "10.0.0.1",
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("<h1>Guests</h1>"), "{}", done.body);
    assert!(
        done.body.contains(&format!("Invited {NINA} as a guest")),
        "{}",
        done.body
    );
    assert!(done.body.contains(&format!(
        "<td>{NINA}</td><td>Nina Ortiz</td><td>guest</td><td>invited</td>"
    )));
    let mail = outbox_mail_to(&f, NINA).expect("the invitation email is in the outbox");
    assert!(mail.contains("Temporary password:"), "{mail}");
    assert!(
        !done.body.contains("Temporary password"),
        "the page shows the temporary password"
    );

    // The list shows them from now on, with a Remove button.
    let list = send(&f, get("/app/guests", Some(&owner)), "10.0.0.1").await;
    assert!(list.body.contains(&format!("<td>{NINA}</td>")), "{}", list.body);
    assert!(list.body.contains(r#"action="/app/guests/"#) && list.body.contains("/remove\""));
}

#[tokio::test]
async fn the_invite_form_shows_the_stores_refusal_and_keeps_the_address() {
    let f = fixture();
    let owner = signed_in_owner(&f).await;
    let csrf = session::csrf_token(&owner);
    let company = "new.hire@northwind.example";
    let refused = send(
        &f,
        post_null_origin("/app/guests/invite", &owner, &[("csrf", &csrf), ("email", company)]),
        "10.0.0.1",
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains(r#"class="error""#), "{}", refused.body);
    assert!(
        refused.body.contains("company addresses are members, never guests"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains(&format!(r#"value="{company}""#)),
        "the address is not kept"
    );
    assert!(outbox_mail_to(&f, company).is_none());

    let bad = send(
        &f,
        post_null_origin(
            "/app/guests/invite",
            &owner,
            &[("csrf", &csrf), ("email", "not an address")],
        ),
        "10.0.0.1",
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("email must be one email address"), "{}", bad.body);
}

#[tokio::test]
async fn a_guest_may_neither_invite_nor_remove_from_the_page() {
    let f = fixture();
    let owner = signed_in_owner(&f).await;
    let csrf = session::csrf_token(&owner);
    send(
        &f,
        post_null_origin("/app/guests/invite", &owner, &[("csrf", &csrf), ("email", NINA)]),
        "10.0.0.1",
    )
    .await;
    let nina = f.state.workspace.snapshot().unwrap().member_by_email(NINA).unwrap().id;

    let guest = signed_in_guest(&f).await;
    let token = session::csrf_token(&guest);
    let invite = send(
        &f,
        post_null_origin(
            "/app/guests/invite",
            &guest,
            &[("csrf", &token), ("email", "pat@studio.example")],
        ),
        "10.0.0.2",
    )
    .await;
    assert_eq!(invite.status, StatusCode::FORBIDDEN, "{}", invite.body);
    assert!(invite.body.contains("guests cannot invite guests"), "{}", invite.body);
    assert!(!invite.body.contains(NINA), "a guest is shown the guest list");
    assert!(outbox_mail_to(&f, "pat@studio.example").is_none());

    let remove = send(
        &f,
        post_null_origin(&format!("/app/guests/{nina}/remove"), &guest, &[("csrf", &token)]),
        "10.0.0.2",
    )
    .await;
    assert_eq!(remove.status, StatusCode::FORBIDDEN, "{}", remove.body);
    assert_eq!(f.member_state(NINA), MemberState::Invited, "a guest removed a guest");
}

#[tokio::test]
async fn remove_on_the_guests_page_needs_the_token_and_removes_the_guest() {
    let f = fixture();
    let owner = signed_in_owner(&f).await;
    let csrf = session::csrf_token(&owner);
    send(
        &f,
        post_null_origin("/app/guests/invite", &owner, &[("csrf", &csrf), ("email", NINA)]),
        "10.0.0.1",
    )
    .await;
    let nina = f.state.workspace.snapshot().unwrap().member_by_email(NINA).unwrap().id;
    let uri = format!("/app/guests/{nina}/remove");

    let forged = send(&f, post_null_origin(&uri, &owner, &[]), "10.0.0.1").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert_eq!(f.member_state(NINA), MemberState::Invited);

    let done = send(&f, post_null_origin(&uri, &owner, &[("csrf", &csrf)]), "10.0.0.1").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains(&format!("Removed {NINA}")), "{}", done.body);
    assert!(done
        .body
        .contains(&format!("<td>{NINA}</td><td></td><td>guest</td><td>removed</td>")));
    assert!(
        !done.body.contains(&format!("action=\"{uri}\"")),
        "a removed guest still has a Remove button"
    );
    assert_eq!(f.member_state(NINA), MemberState::Removed);

    // Not a guest (the owner) or no one: the page says so, nothing changes.
    let owner_id = f.state.workspace.snapshot().unwrap().member_by_email(OWNER).unwrap().id;
    for id in [owner_id.to_string(), "999999".into(), "abc".into()] {
        let a = send(
            &f,
            post_null_origin(&format!("/app/guests/{id}/remove"), &owner, &[("csrf", &csrf)]),
            "10.0.0.1",
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{id}: {}", a.body);
        assert!(a.body.contains("no guest with that id"), "{}", a.body);
        assert!(a.body.contains("<h1>Guests</h1>"), "the refusal is shown on the page");
    }
    assert_eq!(f.member_state(OWNER), MemberState::Active);
}

#[tokio::test]
async fn a_user_may_invite_from_the_form_and_is_told_so_without_the_guest_list() {
    let f = fixture();
    let user = "lee@northwind.example";
    let (phc, _) = hash_password(&Secret::text(NEW_PASSWORD)).unwrap();
    f.state.identity.set_password(user, &phc, session::now()).unwrap();
    let a = login(&f, user, NEW_PASSWORD).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let lee = a.session_cookie().unwrap();
    let done = send(
        &f,
        post_null_origin(
            "/app/guests/invite",
            &lee,
            &[("csrf", &session::csrf_token(&lee)), ("email", NINA)],
        ),
        "10.0.0.3",
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.contains(&format!("Invited {NINA} as a guest")),
        "{}",
        done.body
    );
    assert!(
        !done.body.contains("<table"),
        "a user is shown the guest list: {}",
        done.body
    );
    assert!(outbox_mail_to(&f, NINA).is_some());
}
