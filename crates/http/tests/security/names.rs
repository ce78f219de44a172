//! Logon names (R10): a name with an invisible, format, separator or control character
//! could pass for another user's name on screen; only the General Security Profile of
//! Unicode TS #39 (and `.`, `-`, `_`, `@`) is let in.

use crate::support::*;

/// Every byte but the unreserved ones percent-encoded, so a tab or a line separator in a
/// name reaches the server as it was typed.
fn path_segment(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn r10_invisible_and_format_characters_are_refused_over_http() {
    let s = start().await;
    let token = s.sign_in(s.demo.operator).await;
    let path = format!("/v1/tenants/{}/users", s.demo.root);
    let body = |logon: &str, n: usize| {
        json!({
            "logon": logon,
            "first_name": "Eve",
            "last_name": "Mallory",
            "email": format!("eve{n}@example.com"),
            "send_invitation": false,
        })
    };
    let refused: &[(&str, &str)] = &[
        ("\u{2800}operator", "U+2800"), // braille pattern blank: looks like `operator`
        ("operator\u{2800}", "U+2800"),
        ("jane\u{0600}", "U+0600"),
        ("ja\u{06DD}ne", "U+06DD"),
        ("ja\u{070F}ne", "U+070F"),
        ("ja\u{08E2}ne", "U+08E2"),
        ("ja\u{110BD}ne", "U+110BD"),
        ("ja\u{13430}ne", "U+13430"),
        ("ja\u{2028}ne", "U+2028"),
        ("ja\u{2029}ne", "U+2029"),
        ("ja\u{200B}ne", "U+200B"),
        ("ja\u{00A0}ne", "U+00A0"),
        ("ja\u{202E}ne", "U+202E"),
        ("ja\tne", "U+0009"),
        ("\u{FEFF}jane", "U+FEFF"),
    ];
    let before = s.app.deputy().snapshot().n_principals();
    for (n, &(logon, code)) in refused.iter().enumerate() {
        let r = s
            .http
            .post(s.url(&path))
            .bearer_auth(&token)
            .json(&body(logon, n))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let content_type = r.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_owned();
        let problem: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{logon:?}: {problem}");
        assert_eq!(content_type, "application/problem+json", "{logon:?}");
        assert_eq!(problem["field"], "logon", "{logon:?}: {problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(code), "{logon:?}: the character is named: {detail}");
        assert!(detail.contains("General Security Profile"), "{logon:?}: and why: {detail}");
        // Nothing was created: no principal holds the name, and it finds none.
        let snapshot = s.app.deputy().snapshot();
        assert!(!snapshot.principals().any(|p| &*p.logon == logon), "{logon:?}");
        let (status, _) = s.get(&token, &format!("/v1/principals/{}", path_segment(logon))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{logon:?}");
    }
    assert_eq!(s.app.deputy().snapshot().n_principals(), before, "nothing was created");
    // The operator is still the only `operator`.
    let operator = s.app.deputy().snapshot().principal_by_logon("operator");
    assert_eq!(operator, Some(s.demo.operator));

    // Ordinary names, accented and non-Latin ones too, are created as before.
    for (n, logon) in ["jane.doe", "ann-lee_2", "bob@example.com", "josé", "müller", "李雷"]
        .into_iter()
        .enumerate()
    {
        let (status, created) = s.post(&token, &path, body(logon, 100 + n)).await;
        assert_eq!(status, StatusCode::CREATED, "{logon:?}: {created}");
        assert_eq!(created["logon"], logon);
    }
}
