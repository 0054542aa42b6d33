//! `--auth jwt`: verified bearer tokens, pinned algorithms, scopes.

use crate::assertions::expect_error;
use crate::helpers::{Engine, TestApp};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use numbering::auth::jwt::{Audience, Claims};
use numbering::config::AuthMode;
use numbering::proto::v1 as pb;
use numbering::proto::v1::did_service_client::DidServiceClient;
use numbering::proto::v1::sender_id_service_client::SenderIdServiceClient;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};
use tonic::{Code, Request, Status};

const SECRET: &str = "the jwt test secret, long enough";
const ADMIN: &str = "0195d7a0-0000-7000-8000-000000000001";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/jwt")
        .join(name)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims() -> Claims {
    Claims {
        sub: ADMIN.into(),
        org: None,
        role: "admin".into(),
        scope: None,
        exp: now() + 600,
        nbf: Some(now()),
        iat: Some(now()),
        iss: None,
        aud: None,
    }
}

fn sign(claims: &Claims, algorithm: Algorithm, key: &EncodingKey, kid: Option<&str>) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(Into::into);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn hs256(claims: &Claims) -> String {
    sign(
        claims,
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET.as_bytes()),
        None,
    )
}

async fn jwt_app(configure: impl FnOnce(&mut numbering::config::JwtSettings)) -> TestApp {
    TestApp::spawn_with(Engine::Sqlite, |settings| {
        settings.auth = AuthMode::Jwt;
        configure(&mut settings.jwt);
    })
    .await
}

fn with_auth<T>(message: T, authorization: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(value) = authorization {
        request
            .metadata_mut()
            .insert("authorization", value.parse().unwrap());
    }
    request
}

/// A create as `token`: the created DID, or the refusal.
async fn create_as(app: &TestApp, token: &str) -> Result<pb::Did, Status> {
    let number = format!(
        "+1{:012}",
        uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000
    );
    let request = pb::CreateDidRequest {
        number,
        country: "US".into(),
        description: None,
        status: 0,
        request_id: String::new(),
    };
    let response = DidServiceClient::new(app.channel.clone())
        .create_did(with_auth(request, Some(&format!("Bearer {token}"))))
        .await?;
    Ok(response.into_inner().did.unwrap())
}

async fn list_dids_as(app: &TestApp, token: &str) -> Result<(), Status> {
    let request = with_auth(
        pb::ListDidsRequest::default(),
        Some(&format!("Bearer {token}")),
    );
    let mut stream = DidServiceClient::new(app.channel.clone())
        .list_dids(request)
        .await?
        .into_inner();
    while stream.message().await?.is_some() {}
    Ok(())
}

fn expect_rejected<T: std::fmt::Debug>(result: Result<T, Status>, says: &str) {
    let status = expect_error(result, Code::Unauthenticated, "INVALID_TOKEN");
    assert!(
        status.message().contains(says),
        "{:?} does not say {says:?}",
        status.message()
    );
    assert!(!status.message().contains(SECRET));
}

#[tokio::test]
async fn a_valid_token_names_the_caller() {
    let app = jwt_app(|jwt| jwt.secret = Some(SECRET.into())).await;

    let did = create_as(&app, &hs256(&claims())).await.unwrap();

    assert_eq!(did.created_by.as_deref(), Some(ADMIN));
    app.stop().await;
}

#[tokio::test]
async fn a_missing_or_non_bearer_authorization_is_unauthenticated() {
    let app = jwt_app(|jwt| jwt.secret = Some(SECRET.into())).await;
    let mut client = DidServiceClient::new(app.channel.clone());
    let get = |authorization| with_auth(pb::GetDidRequest { id: ADMIN.into() }, authorization);

    expect_error(
        client.get_did(get(None)).await,
        Code::Unauthenticated,
        "MISSING_IDENTITY",
    );
    expect_error(
        client.get_did(get(Some("Basic YWRtaW4="))).await,
        Code::Unauthenticated,
        "INVALID_IDENTITY",
    );
    // Trusted headers mean nothing in JWT mode.
    let mut headers = get(None);
    headers
        .metadata_mut()
        .insert("x-user-id", ADMIN.parse().unwrap());
    headers
        .metadata_mut()
        .insert("x-role", "admin".parse().unwrap());
    expect_error(
        client.get_did(headers).await,
        Code::Unauthenticated,
        "MISSING_IDENTITY",
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_tokens_are_refused_with_a_reason() {
    let app = jwt_app(|jwt| jwt.secret = Some(SECRET.into())).await;
    let unsigned = {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).unwrap());
        format!("{header}.{body}.")
    };
    let other_secret = sign(
        &claims(),
        Algorithm::HS256,
        &EncodingKey::from_secret(b"another secret"),
        None,
    );
    let expired = hs256(&Claims {
        exp: now() - 120,
        ..claims()
    });
    let not_yet = hs256(&Claims {
        nbf: Some(now() + 600),
        ..claims()
    });
    let from_the_future = hs256(&Claims {
        iat: Some(now() + 600),
        ..claims()
    });
    let bad_sub = hs256(&Claims {
        sub: "root".into(),
        ..claims()
    });
    let bad_role = hs256(&Claims {
        role: "superuser".into(),
        ..claims()
    });
    let orphan_reseller = hs256(&Claims {
        role: "reseller".into(),
        ..claims()
    });
    let bad_scope = hs256(&Claims {
        scope: Some("dids:delete".into()),
        ..claims()
    });
    let no_exp = {
        let mut value = serde_json::to_value(claims()).unwrap();
        value.as_object_mut().unwrap().remove("exp");
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &value,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    };

    let cases = [
        (unsigned, "not a well-formed JWT"),
        ("not.a.jwt".to_owned(), "not a well-formed JWT"),
        (other_secret, "signature"),
        (expired, "expired"),
        (not_yet, "not valid yet"),
        (from_the_future, "issued in the future"),
        (bad_sub, "sub"),
        (bad_role, "role"),
        (bad_scope, "scope"),
        (orphan_reseller, "organization"),
        (no_exp, "exp"),
    ];
    for (token, says) in cases {
        expect_rejected(create_as(&app, &token).await, says);
    }
    let within_leeway = hs256(&Claims {
        exp: now() - 5,
        ..claims()
    });
    create_as(&app, &within_leeway)
        .await
        .expect("a few seconds of clock skew are tolerated");
    app.stop().await;
}

#[tokio::test]
async fn a_configured_issuer_and_audience_are_required() {
    let app = jwt_app(|jwt| {
        jwt.secret = Some(SECRET.into());
        jwt.issuer = Some("https://idp.example".into());
        jwt.audience = Some("numbering".into());
    })
    .await;
    let right = Claims {
        iss: Some("https://idp.example".into()),
        aud: Some("numbering".into()),
        ..claims()
    };

    create_as(&app, &hs256(&right))
        .await
        .expect("the right issuer and audience pass");
    expect_rejected(
        create_as(
            &app,
            &hs256(&Claims {
                iss: None,
                ..right.clone()
            }),
        )
        .await,
        "iss",
    );
    expect_rejected(
        create_as(
            &app,
            &hs256(&Claims {
                iss: Some("evil".into()),
                ..right.clone()
            }),
        )
        .await,
        "issuer",
    );
    expect_rejected(
        create_as(
            &app,
            &hs256(&Claims {
                aud: None,
                ..right.clone()
            }),
        )
        .await,
        "aud",
    );
    expect_rejected(
        create_as(
            &app,
            &hs256(&Claims {
                aud: Some("other".into()),
                ..right.clone()
            }),
        )
        .await,
        "audience",
    );
    // RFC 7519 §4.1.3: `aud` may be an array; one of its values must match.
    let many = |audiences: &[&str]| Claims {
        aud: Some(Audience::Many(
            audiences.iter().map(|a| a.to_string()).collect(),
        )),
        ..right.clone()
    };
    create_as(&app, &hs256(&many(&["billing", "numbering"])))
        .await
        .expect("an audience array naming this service passes");
    expect_rejected(
        create_as(&app, &hs256(&many(&["billing", "portal"]))).await,
        "audience",
    );
    app.stop().await;
}

#[tokio::test]
async fn a_token_with_critical_header_extensions_is_refused() {
    let app = jwt_app(|jwt| jwt.secret = Some(SECRET.into())).await;
    let mut header = Header::new(Algorithm::HS256);
    header.crit = Some(vec!["exp-ext".into()]);
    let critical = jsonwebtoken::encode(
        &header,
        &claims(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();

    // RFC 7515 §4.1.11: an extension the recipient does not understand.
    expect_rejected(create_as(&app, &critical).await, "critical");
    app.stop().await;
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_authorization_comes_once() {
    let app = jwt_app(|jwt| jwt.secret = Some(SECRET.into())).await;
    let mut client = DidServiceClient::new(app.channel.clone());
    let token = hs256(&claims());
    let get = |authorization: &str| {
        with_auth(pb::GetDidRequest { id: ADMIN.into() }, Some(authorization))
    };

    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        expect_error(
            client.get_did(get(&format!("{scheme} {token}"))).await,
            Code::NotFound,
            "DID_NOT_FOUND",
        );
    }
    let mut twice = get(&format!("Bearer {token}"));
    twice
        .metadata_mut()
        .append("authorization", "Bearer x.y.z".parse().unwrap());
    expect_error(
        client.get_did(twice).await,
        Code::Unauthenticated,
        "INVALID_IDENTITY",
    );
    app.stop().await;
}

#[tokio::test]
async fn rs256_and_eddsa_keys_come_from_pem_files_and_pin_their_algorithm() {
    let cases = [
        (
            "rsa-public.pem",
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(&std::fs::read(fixture("rsa-private.pem")).unwrap()).unwrap(),
        ),
        (
            "ed-public.pem",
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(&std::fs::read(fixture("ed-private.pem")).unwrap()).unwrap(),
        ),
    ];
    for (public, algorithm, private) in cases {
        let app = jwt_app(|jwt| jwt.keys = Some(fixture(public))).await;

        create_as(&app, &sign(&claims(), algorithm, &private, None))
            .await
            .expect("a token signed by the key passes");
        // The classic confusion: HS256 "signed" with the public key as secret.
        let public_bytes = std::fs::read(fixture(public)).unwrap();
        let confused = sign(
            &claims(),
            Algorithm::HS256,
            &EncodingKey::from_secret(&public_bytes),
            None,
        );
        expect_rejected(create_as(&app, &confused).await, "takes");
        expect_rejected(create_as(&app, &hs256(&claims())).await, "takes");
        app.stop().await;
    }
}

#[tokio::test]
async fn es256_keys_rotate_through_a_jwks_chosen_by_kid() {
    let old = EncodingKey::from_ec_pem(&std::fs::read(fixture("ec-private.pem")).unwrap()).unwrap();
    let new =
        EncodingKey::from_ec_pem(&std::fs::read(fixture("ec2-private.pem")).unwrap()).unwrap();
    let jwk = |key: &EncodingKey, kid: &str| {
        let mut jwk = Jwk::from_encoding_key(key, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some(kid.into());
        jwk
    };
    let jwks = JwkSet {
        keys: vec![jwk(&old, "2026-10"), jwk(&new, "2026-11")],
    };
    let path = std::env::temp_dir().join(format!("numbering-jwks-{}.json", uuid::Uuid::now_v7()));
    std::fs::write(&path, serde_json::to_vec(&jwks).unwrap()).unwrap();
    let app = jwt_app(|jwt| jwt.keys = Some(path.clone())).await;

    create_as(
        &app,
        &sign(&claims(), Algorithm::ES256, &old, Some("2026-10")),
    )
    .await
    .expect("the old key still passes");
    create_as(
        &app,
        &sign(&claims(), Algorithm::ES256, &new, Some("2026-11")),
    )
    .await
    .expect("the new key passes");
    expect_rejected(
        create_as(
            &app,
            &sign(&claims(), Algorithm::ES256, &new, Some("2026-10")),
        )
        .await,
        "signature",
    );
    expect_rejected(
        create_as(
            &app,
            &sign(&claims(), Algorithm::ES256, &new, Some("2027-01")),
        )
        .await,
        "kid",
    );
    expect_rejected(
        create_as(&app, &sign(&claims(), Algorithm::ES256, &new, None)).await,
        "kid",
    );
    app.stop().await;
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn scopes_narrow_what_a_token_may_call() {
    let app = jwt_app(|jwt| jwt.secret = Some(SECRET.into())).await;
    let reader = hs256(&Claims {
        scope: Some("dids:read".into()),
        ..claims()
    });

    list_dids_as(&app, &reader)
        .await
        .expect("dids:read lists DIDs");
    let denied = expect_error(
        create_as(&app, &reader).await,
        Code::PermissionDenied,
        "SCOPE_MISSING",
    );
    assert!(denied.message().contains("dids:write"), "{denied:?}");
    let request = with_auth(
        pb::GetSenderIdRequest { id: ADMIN.into() },
        Some(&format!("Bearer {reader}")),
    );
    let other = SenderIdServiceClient::new(app.channel.clone())
        .get_sender_id(request)
        .await;
    let denied = expect_error(other, Code::PermissionDenied, "SCOPE_MISSING");
    assert!(denied.message().contains("sender_ids:read"), "{denied:?}");
    let writer = hs256(&Claims {
        scope: Some("dids:read dids:write".into()),
        ..claims()
    });
    create_as(&app, &writer)
        .await
        .expect("dids:write creates DIDs");
    app.stop().await;
}

#[tokio::test]
async fn a_first_run_without_keys_makes_an_admin_token_that_works() {
    let app = jwt_app(|_| {}).await;
    let token = app
        .bootstrap_token
        .clone()
        .expect("a first run prints an admin token");

    create_as(&app, &token)
        .await
        .expect("the printed token is an admin's");
    expect_rejected(create_as(&app, &hs256(&claims())).await, "signature");
    app.stop().await;
}

#[test]
fn the_token_subcommand_mints_tokens_the_server_accepts() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_numbering"))
        .args([
            "token",
            "--role",
            "reseller",
            "--org",
            ADMIN,
            "--scope",
            "dids:read",
            "--ttl",
            "5m",
        ])
        .env("NUMBERING_JWT_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap();

    let verifier = numbering::auth::jwt::Verifier::from_secret(SECRET.as_bytes());
    let caller = verifier.verify(token.trim()).expect("the token verifies");
    assert_eq!(caller.role(), numbering::auth::Role::Reseller);
    assert_eq!(caller.organization_id().unwrap().to_string(), ADMIN);

    let unsigned = std::process::Command::new(env!("CARGO_BIN_EXE_numbering"))
        .args(["token", "--role", "admin"])
        .env_remove("NUMBERING_JWT_SECRET")
        .output()
        .unwrap();
    assert!(!unsigned.status.success());
    assert!(String::from_utf8_lossy(&unsigned.stderr).contains("--jwt-secret"));
}
