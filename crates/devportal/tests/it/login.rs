//! Delegates' login, logout, the failure limit and the CSRF tokens.

use std::time::Duration;

use devportal::store;
use reqwest::StatusCode;

use crate::{PASSWORD, Portal, csrf_of, settings};

const BAD_CREDENTIALS: &str = "Email o password non corretti";
const TOO_MANY: &str = "Troppi tentativi, riprova più tardi";

#[tokio::test]
async fn login_succeeds_with_the_right_password_and_fails_alike_otherwise() {
    let p = Portal::start().await;
    p.delegate("Giovanni.Verdi@example.it", "Giovanni", "Verdi")
        .await;
    let browser = p.browser();

    // Not logged in: the home and the services lead to the login.
    let r = browser.get(p.url("/")).send().await.unwrap();
    assert_eq!(r.url().path(), "/login");
    let r = browser.get(p.url("/services")).send().await.unwrap();
    assert_eq!(r.url().path(), "/login");
    let body = r.text().await.unwrap();
    assert!(body.contains("IO Developer Portal"));

    let wrong_password = p
        .login(&browser, "giovanni.verdi@example.it", "sbagliata")
        .await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    let wrong_password = wrong_password.text().await.unwrap();
    let unknown_email = p.login(&browser, "nessuno@example.it", PASSWORD).await;
    assert_eq!(unknown_email.status(), StatusCode::UNAUTHORIZED);
    let unknown_email = unknown_email.text().await.unwrap();
    assert!(wrong_password.contains(BAD_CREDENTIALS));
    assert!(unknown_email.contains(BAD_CREDENTIALS));
    // Neither says which of the two was wrong.
    for body in [&wrong_password, &unknown_email] {
        assert!(!body.contains("non esiste"));
        assert!(!body.contains("Password errata"));
    }

    // The cookie: HttpOnly, SameSite=Lax, Path=/, a new secret at each login.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut cookies = Vec::new();
    for _ in 0..2 {
        let r = p
            .login(&no_redirect, "GIOVANNI.VERDI@example.it", PASSWORD)
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/services");
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.starts_with("dp_session="), "{cookie}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        cookies.push(cookie);
    }
    assert_ne!(cookies[0], cookies[1]);

    // Logged in: the services, with the delegate's name.
    let r = p
        .login(&browser, "giovanni.verdi@example.it", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.url().path(), "/services");
    let body = r.text().await.unwrap();
    assert!(body.contains("I tuoi servizi"));
    assert!(body.contains("Giovanni Verdi"));
    let r = browser.get(p.url("/")).send().await.unwrap();
    assert_eq!(r.url().path(), "/services");

    // Logout ends the session.
    let csrf = csrf_of(&body);
    let r = browser
        .post(p.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.url().path(), "/login");
    let r = browser.get(p.url("/services")).send().await.unwrap();
    assert_eq!(r.url().path(), "/login");
}

#[tokio::test]
async fn too_many_failures_make_even_the_right_password_wait() {
    let mut s = settings();
    s.login_max_failures = 3;
    s.login_window_secs = 2;
    let p = Portal::start_with(s).await;
    p.delegate("laura.neri@example.it", "Laura", "Neri").await;
    p.delegate("franco.gialli@example.it", "Franco", "Gialli")
        .await;
    let browser = p.browser();
    for _ in 0..3 {
        let r = p
            .login(&browser, "laura.neri@example.it", "sbagliata")
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = p.login(&browser, "laura.neri@example.it", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains(TOO_MANY));
    // The same address is held back for another email too.
    let r = p
        .login(&browser, "franco.gialli@example.it", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains(TOO_MANY));
    // Once the window has passed, the right password works again.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = p.login(&browser, "laura.neri@example.it", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.url().path(), "/services");
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let p = Portal::start().await;
    let (giovanni, id, browser) = p.giovanni_with_tari().await;
    let before = store::service(&p.db, &id).await.unwrap().unwrap();

    let (status, body) = p
        .regenerate(&browser, &id, "primary", "not-the-token")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("Il modulo è scaduto"));
    let (status, _) = p
        .post_form(&browser, &format!("/services/{id}/keys/primary"), &[])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = p
        .post_form(
            &browser,
            &format!("/services/{id}"),
            &[("name", "Cambiato"), ("csrf", "")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = p
        .post_form(&browser, "/services", &[("name", "Nuovo")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = p.post_form(&browser, "/logout", &[("csrf", "x")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Nothing changed, and the session is still there.
    let after = store::service(&p.db, &id).await.unwrap().unwrap();
    assert_eq!(after.primary_key, before.primary_key);
    assert_eq!(after.service.name, "Tari");
    assert_eq!(
        store::delegate_services(&p.db, &giovanni)
            .await
            .unwrap()
            .len(),
        1
    );
    let (status, _) = p.page(&browser, "/services").await;
    assert_eq!(status, StatusCode::OK);

    // Another browser's token is not this one's.
    let other = p.logged_in("giovanni.verdi@example.it").await;
    let other_csrf = p.csrf(&other).await;
    assert_ne!(other_csrf, p.csrf(&browser).await);
    let (status, _) = p
        .regenerate(&browser, &id, "primary", other_csrf.as_str())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
