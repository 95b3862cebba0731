//! The voice content API: admins only; every change needs the page's token and a prompt of
//! the plan, is audited, and is followed by a reload; earlier versions come back on
//! request; a recording rings the admin's own phone.

mod site;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use hotline_b2bua::command::Command;
use site::{get, post, send, session, site};

fn upload(name: &str, cookie: &str, csrf: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut req = Request::post(format!("/api/voice/{name}")).header(header::COOKIE, cookie);
    if let Some(csrf) = csrf {
        req = req.header("x-csrf-token", csrf);
    }
    req.body(Body::from(body)).unwrap()
}

/// A WAV of 0.5 s at 16 kHz.
fn wav_16k() -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut bytes, spec).unwrap();
    for i in 0..8_000 {
        w.write_sample(((i % 40) * 500) as i16).unwrap();
    }
    w.finalize().unwrap();
    bytes.into_inner()
}

fn voice_rows(site: &site::Site) -> Vec<hotline_record::qa::AuditRow> {
    hotline_record::qa::list_audit(&site.dir.path().join("calls.db"))
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.action == "voice")
        .collect()
}

#[tokio::test]
async fn only_admins_see_or_change_the_voice_content() {
    let site = site(Default::default());
    for user in ["wang", "chen", "zhao"] {
        let (cookie, csrf) = session(&site, user).await;
        for path in ["/voice", "/api/voice", "/api/voice/welcome/audio"] {
            let got = send(&site, get(path, &cookie)).await;
            assert_eq!(got.status, StatusCode::FORBIDDEN, "{user} {path}");
        }
        let up = send(&site, upload("welcome", &cookie, Some(&csrf), wav_16k())).await;
        assert_eq!(up.status, StatusCode::FORBIDDEN, "{user}");
    }
    let anonymous = send(&site, get("/api/voice", "")).await;
    assert_ne!(anonymous.status, StatusCode::OK);

    let (cookie, _) = session(&site, "director").await;
    let page = send(&site, get("/voice", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let list = send(&site, get("/api/voice", &cookie)).await;
    assert_eq!(list.status, StatusCode::OK);
    let view: serde_json::Value = serde_json::from_str(&list.body).unwrap();
    assert_eq!(view["phone"], "1950");
    assert_eq!(view["prompts"][0]["name"], "welcome");
    assert_eq!(view["prompts"][0]["text"], "您好，欢迎致电12366。");
    assert_eq!(view["prompts"][0]["seconds"], 0.5);
    assert_eq!(view["prompts"][1]["seconds"], serde_json::Value::Null);
    let audio = send(&site, get("/api/voice/welcome/audio", &cookie)).await;
    assert_eq!(audio.status, StatusCode::OK);
    assert_eq!(audio.headers[header::CONTENT_TYPE], "audio/wav");
    assert!(voice_rows(&site).is_empty(), "listening changes nothing");
}

#[tokio::test]
async fn an_upload_needs_the_token_a_prompt_of_the_plan_and_sound() {
    let site = site(Default::default());
    let (cookie, csrf) = session(&site, "director").await;
    let refused = [
        (
            upload("welcome", &cookie, None, wav_16k()),
            StatusCode::FORBIDDEN,
        ),
        (
            upload("welcome", &cookie, Some("forged"), wav_16k()),
            StatusCode::FORBIDDEN,
        ),
        (
            upload("nosuch", &cookie, Some(&csrf), wav_16k()),
            StatusCode::NOT_FOUND,
        ),
        (
            upload("texts", &cookie, Some(&csrf), wav_16k()),
            StatusCode::NOT_FOUND,
        ),
        (
            upload("welcome", &cookie, Some(&csrf), b"<script>".to_vec()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            upload("welcome", &cookie, Some(&csrf), vec![0; 17 * 1024 * 1024]),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (req, status) in refused {
        let path = req.uri().to_string();
        assert_eq!(send(&site, req).await.status, status, "{path}");
    }
    assert!(
        site.orders.lock().unwrap().is_empty(),
        "no reload for nothing"
    );
    assert!(voice_rows(&site).is_empty());

    let up = send(&site, upload("welcome", &cookie, Some(&csrf), wav_16k())).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    assert!(up.body.contains("now 0.5 s"), "{}", up.body);
    let orders = site.orders.lock().unwrap().clone();
    assert_eq!(orders, [("director".to_string(), Command::Reload)]);
    let rows = voice_rows(&site);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].actor.as_str(), rows[0].subject.as_str()),
        ("director", "prompt welcome")
    );
    let wav = hound::WavReader::open(site.dir.path().join("prompts/welcome.wav")).unwrap();
    assert_eq!(
        (wav.spec().sample_rate, wav.spec().channels, wav.duration()),
        (8_000, 1, 4_000)
    );
}

#[tokio::test]
async fn an_earlier_version_is_played_and_restored_and_no_other_file_is_reached() {
    let site = site(Default::default());
    let (cookie, csrf) = session(&site, "director").await;
    let up = send(&site, upload("welcome", &cookie, Some(&csrf), wav_16k())).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    let list = send(&site, get("/api/voice", &cookie)).await;
    let view: serde_json::Value = serde_json::from_str(&list.body).unwrap();
    let version = view["prompts"][0]["versions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let old = send(
        &site,
        get(
            &format!("/api/voice/welcome/audio?version={version}"),
            &cookie,
        ),
    )
    .await;
    assert_eq!(old.status, StatusCode::OK);
    for bad in [
        "../../calls.db",
        "..%2F..%2Fcalls.db",
        "20990101T000000000Z",
    ] {
        let got = send(
            &site,
            get(&format!("/api/voice/welcome/audio?version={bad}"), &cookie),
        )
        .await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{bad}");
    }
    let nope = send(
        &site,
        post(
            "/api/voice/welcome/restore",
            &cookie,
            &format!("csrf={csrf}&version=../x"),
        ),
    )
    .await;
    assert_eq!(nope.status, StatusCode::NOT_FOUND);
    let forged = send(
        &site,
        post(
            "/api/voice/welcome/restore",
            &cookie,
            &format!("csrf=forged&version={version}"),
        ),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let back = send(
        &site,
        post(
            "/api/voice/welcome/restore",
            &cookie,
            &format!("csrf={csrf}&version={version}"),
        ),
    )
    .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let wav = hound::WavReader::open(site.dir.path().join("prompts/welcome.wav")).unwrap();
    let samples: Vec<i16> = wav.into_samples().map(Result::unwrap).collect();
    assert_eq!(samples, vec![1_000; 4_000], "the original is back");
    assert_eq!(voice_rows(&site).len(), 2);
    assert_eq!(site.orders.lock().unwrap().len(), 2, "each change reloaded");
}

#[tokio::test]
async fn a_recording_rings_the_admins_own_phone() {
    let site = site(Default::default());
    let (cookie, csrf) = session(&site, "director").await;
    let asked = send(
        &site,
        post(
            "/api/voice/welcome/record",
            &cookie,
            &format!("csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let (phoneless, token) = session(&site, "admin").await;
    let refused = send(
        &site,
        post(
            "/api/voice/welcome/record",
            &phoneless,
            &format!("csrf={token}"),
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "no phone to ring");
    let orders = site.orders.lock().unwrap().clone();
    assert_eq!(
        orders,
        [(
            "director".to_string(),
            Command::RecordPrompt {
                prompt: "welcome".into(),
                phone: "1950".into()
            }
        )]
    );
}
