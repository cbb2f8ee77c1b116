//! `intake --auth iam` against a local endpoint that checks SigV4 itself, as API Gateway's IAM
//! authorization does: the canonical request is rebuilt here from what arrived (method, path, query,
//! signed headers, the body's SHA-256) by a verifier of this test's own, checked first against
//! AWS's published signing test vectors, with known test credentials the CLI gets from the
//! environment or a profile. Calls with a missing, tampered or wrong signature are refused (403),
//! and the presigned upload PUT must arrive unsigned.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use intake_domain::testkit::images;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

type HmacSha256 = Hmac<Sha256>;

/// The example key of AWS's documentation and test suite.
const ACCESS_KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// A session token with characters that need care in a header.
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+test=";
/// A cursor that is not URL-safe, handed back by the fake API and expected again as it was.
const CURSOR: &str = "c+/=1 x&y";

// --- The verifier -------------------------------------------------------------------------------

/// Who may call, and the scope their signatures must name.
#[derive(Debug, Clone)]
struct Verifier {
    access_key_id: String,
    secret: String,
    /// Temporary credentials' token, which must be sent and signed.
    session_token: Option<String>,
    region: String,
    service: String,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    Missing,
    Malformed(&'static str),
    UnknownKey,
    Scope,
    Skew,
    Token,
    Unsigned(&'static str),
    Mismatch,
}

/// What a request's signature covers, as it arrived.
struct Arrived<'a> {
    method: &'a str,
    /// The path as sent (percent-encoded).
    path: &'a str,
    /// The query as sent (percent-encoded), if any.
    query: Option<&'a str>,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

/// RFC 3986's unreserved characters, which SigV4 never encodes.
fn unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~')
}

fn encode(bytes: &[u8], keep_slash: bool) -> String {
    bytes
        .iter()
        .map(|&b| {
            if unreserved(b) || (keep_slash && b == b'/') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// Each path segment encoded once more, as every service but S3 expects.
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        "/".to_owned()
    } else {
        encode(path.as_bytes(), true)
    }
}

/// The query's names and values decoded, encoded as RFC 3986 says, sorted.
fn canonical_query(query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (encode(&decode(name), false), encode(&decode(value), false))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn canonical_request(request: &Arrived<'_>, signed: &[&str]) -> String {
    let headers = signed
        .iter()
        .map(|name| {
            let values: Vec<String> = request
                .headers
                .get_all(*name)
                .iter()
                .map(|value| {
                    String::from_utf8_lossy(value.as_bytes())
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            format!("{name}:{}\n", values.join(","))
        })
        .collect::<Vec<_>>()
        .concat();
    format!(
        "{}\n{}\n{}\n{headers}\n{}\n{}",
        request.method,
        canonical_uri(request.path),
        canonical_query(request.query),
        signed.join(";"),
        hex::encode(Sha256::digest(request.body)),
    )
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

impl Verifier {
    fn new(region: &str, service: &str, session_token: Option<&str>) -> Self {
        Self {
            access_key_id: ACCESS_KEY_ID.to_owned(),
            secret: SECRET.to_owned(),
            session_token: session_token.map(str::to_owned),
            region: region.to_owned(),
            service: service.to_owned(),
        }
    }

    fn scope(&self, date: &str) -> String {
        format!("{date}/{}/{}/aws4_request", self.region, self.service)
    }

    /// The MAC that signs requests of `date` (`YYYYMMDD`), over `request`'s string to sign.
    fn mac(&self, request: &Arrived<'_>, signed: &[&str], amz_date: &str) -> HmacSha256 {
        let date = &amz_date[..8];
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}",
            self.scope(date),
            hex::encode(Sha256::digest(canonical_request(request, signed)))
        );
        let key = [date, &self.region, &self.service, "aws4_request"]
            .iter()
            .fold(format!("AWS4{}", self.secret).into_bytes(), |key, part| {
                hmac(&key, part)
            });
        let mut mac = HmacSha256::new_from_slice(&key).unwrap();
        mac.update(string_to_sign.as_bytes());
        mac
    }

    /// The `Authorization` header that signs `request` (which carries `x-amz-date: amz_date`).
    fn authorization(&self, request: &Arrived<'_>, signed: &[&str], amz_date: &str) -> String {
        let signature = hex::encode(self.mac(request, signed, amz_date).finalize().into_bytes());
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={signature}",
            self.access_key_id,
            self.scope(&amz_date[..8]),
            signed.join(";")
        )
    }

    /// Checks `request`'s signature as API Gateway would, at `now`.
    fn verify(&self, request: &Arrived<'_>, now: OffsetDateTime) -> Result<(), Refusal> {
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        let authorization = header("authorization").ok_or(Refusal::Missing)?;
        let fields = authorization
            .strip_prefix("AWS4-HMAC-SHA256 ")
            .ok_or(Refusal::Malformed("algorithm"))?;
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for field in fields.split(',') {
            match field.trim().split_once('=') {
                Some(("Credential", value)) => credential = Some(value),
                Some(("SignedHeaders", value)) => signed = Some(value),
                Some(("Signature", value)) => signature = Some(value),
                _ => return Err(Refusal::Malformed("authorization")),
            }
        }
        let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature)
        else {
            return Err(Refusal::Malformed("authorization"));
        };
        let [key_id, date, region, service, terminator] =
            credential.split('/').collect::<Vec<_>>()[..]
        else {
            return Err(Refusal::Malformed("credential"));
        };
        if key_id != self.access_key_id {
            return Err(Refusal::UnknownKey);
        }
        if region != self.region || service != self.service || terminator != "aws4_request" {
            return Err(Refusal::Scope);
        }
        let amz_date = header("x-amz-date").ok_or(Refusal::Unsigned("x-amz-date"))?;
        if amz_date.get(..8) != Some(date) {
            return Err(Refusal::Scope);
        }
        let when = PrimitiveDateTime::parse(
            amz_date,
            format_description!("[year][month][day]T[hour][minute][second]Z"),
        )
        .map_err(|_| Refusal::Malformed("x-amz-date"))?
        .assume_utc();
        if (now - when).abs() > Duration::minutes(15) {
            return Err(Refusal::Skew);
        }
        let signed: Vec<&str> = signed.split(';').collect();
        if !signed.is_sorted()
            || signed
                .iter()
                .any(|n| n.bytes().any(|b| b.is_ascii_uppercase()))
        {
            return Err(Refusal::Malformed("signed headers"));
        }
        for required in ["host", "x-amz-date"] {
            if !signed.contains(&required) {
                return Err(Refusal::Unsigned(required));
            }
        }
        if let Some(token) = &self.session_token {
            if header("x-amz-security-token") != Some(token.as_str()) {
                return Err(Refusal::Token);
            }
            if !signed.contains(&"x-amz-security-token") {
                return Err(Refusal::Unsigned("x-amz-security-token"));
            }
        }
        let signature = hex::decode(signature).map_err(|_| Refusal::Malformed("signature"))?;
        self.mac(request, &signed, amz_date)
            .verify_slice(&signature)
            .map_err(|_| Refusal::Mismatch)
    }
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

fn signature_of(authorization: &str) -> &str {
    authorization.rsplit("Signature=").next().unwrap()
}

/// The verifier computes the signatures of AWS's signing test suite (aws-sig-v4-test-suite, as
/// shipped with aws-sigv4), so what it accepts is SigV4 and not only what this CLI sends.
#[test]
fn the_verifier_agrees_with_aws_test_vectors() {
    let at = "20150830T123600Z";
    let when = OffsetDateTime::from_unix_timestamp(1_440_938_160).unwrap();
    let host = [("host", "example.amazonaws.com"), ("x-amz-date", at)];
    let suite = Verifier::new("us-east-1", "service", None);

    // get-vanilla-query-order-key-case
    let get = headers(&host);
    let request = Arrived {
        method: "GET",
        path: "/",
        query: Some("Param2=value2&Param1=value1"),
        headers: &get,
        body: b"",
    };
    let authorization = suite.authorization(&request, &["host", "x-amz-date"], at);
    assert_eq!(
        signature_of(&authorization),
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    );
    let mut signed = get.clone();
    signed.insert("authorization", authorization.parse().unwrap());
    let arrived = Arrived {
        headers: &signed,
        ..request
    };
    assert_eq!(suite.verify(&arrived, when), Ok(()));
    let swapped = Arrived {
        query: Some("Param2=value1&Param1=value2"),
        ..arrived
    };
    assert_eq!(suite.verify(&swapped, when), Err(Refusal::Mismatch));
    let late = when + Duration::minutes(16);
    assert_eq!(suite.verify(&arrived, late), Err(Refusal::Skew));

    // get-vanilla-utf8-query
    let request = Arrived {
        method: "GET",
        path: "/",
        query: Some("%E1%88%B4=bar"),
        headers: &get,
        body: b"",
    };
    assert_eq!(
        signature_of(&suite.authorization(&request, &["host", "x-amz-date"], at)),
        "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"
    );

    // get-vanilla-with-session-token
    let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
    let with_token = headers(&[host[0], host[1], ("x-amz-security-token", token)]);
    let request = Arrived {
        method: "GET",
        path: "/",
        query: None,
        headers: &with_token,
        body: b"",
    };
    assert_eq!(
        signature_of(
            &Verifier::new("us-east-1", "service", Some(token)).authorization(
                &request,
                &["host", "x-amz-date", "x-amz-security-token"],
                at
            )
        ),
        "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
    );

    // post-x-www-form-urlencoded-parameters: a signed body
    let form = headers(&[
        ("content-length", "13"),
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
        host[0],
        (
            "x-amz-content-sha256",
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
        ),
        host[1],
    ]);
    let request = Arrived {
        method: "POST",
        path: "/",
        query: None,
        headers: &form,
        body: b"Param1=value1",
    };
    assert_eq!(
        signature_of(&suite.authorization(
            &request,
            &[
                "content-length",
                "content-type",
                "host",
                "x-amz-content-sha256",
                "x-amz-date"
            ],
            at
        )),
        "328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422"
    );
}

// --- The fake API -------------------------------------------------------------------------------

/// One API call the fake API received, and what the verifier said.
#[derive(Debug, Clone)]
struct Call {
    method: String,
    path: String,
    query: Option<String>,
    verdict: Result<(), Refusal>,
}

#[derive(Default)]
struct Seen {
    calls: Vec<Call>,
    /// The headers of each PUT to the presigned upload URL.
    puts: Vec<HeaderMap>,
}

/// An API on 127.0.0.1 that answers like Intake's behind API Gateway's IAM authorization.
struct FakeApi {
    url: String,
    verifier: Verifier,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

fn api_error(status: StatusCode, code: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": code.to_lowercase()}})),
    )
        .into_response()
}

fn image(id: &str) -> Value {
    json!({
        "imageId": id,
        "status": "PROCESSED",
        "fileName": format!("{id}.png"),
        "createdAt": "2026-01-02T03:04:05.000Z",
        "sizeBytes": 3,
        "ocrText": "",
    })
}

impl FakeApi {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let verifier = Verifier::new("us-east-1", "execute-api", Some(SESSION_TOKEN));
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let (shared, base, check) = (Arc::clone(&seen), url.clone(), verifier.clone());
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let (seen, base, check) = (Arc::clone(&shared), base.clone(), check.clone());
            async move {
                let (parts, body) = request.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                let (path, query) = (parts.uri.path(), parts.uri.query());
                if parts.method == Method::PUT && path.starts_with("/storage/") {
                    seen.lock().unwrap().puts.push(parts.headers);
                    return StatusCode::OK.into_response();
                }
                let arrived = Arrived {
                    method: parts.method.as_str(),
                    path,
                    query,
                    headers: &parts.headers,
                    body: &body,
                };
                let verdict = check.verify(&arrived, OffsetDateTime::now_utc());
                seen.lock().unwrap().calls.push(Call {
                    method: parts.method.to_string(),
                    path: path.to_owned(),
                    query: query.map(str::to_owned),
                    verdict: verdict.clone(),
                });
                if let Err(refusal) = verdict {
                    return (
                        StatusCode::FORBIDDEN,
                        Json(json!({"message": format!("Forbidden: {refusal:?}")})),
                    )
                        .into_response();
                }
                answer(&parts.method, path, query, &body, &base)
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            verifier,
            seen,
            task,
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.seen.lock().unwrap().calls.clone()
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the API answers a verified call.
fn answer(method: &Method, path: &str, query: Option<&str>, body: &[u8], base: &str) -> Response {
    let params: Vec<(String, String)> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| {
            let text = |s: &str| String::from_utf8(decode(s)).unwrap();
            (text(name), text(value))
        })
        .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    match (method.as_str(), path) {
        ("GET", "/images") => match param("cursor") {
            None => Json(json!({"images": [image("img-1")], "nextCursor": CURSOR})).into_response(),
            Some(CURSOR) => Json(json!({"images": [image("img-0")]})).into_response(),
            Some(_) => api_error(StatusCode::BAD_REQUEST, "INVALID_CURSOR"),
        },
        ("POST", "/uploads") => {
            let Ok(upload) = serde_json::from_slice::<Value>(body) else {
                return api_error(StatusCode::BAD_REQUEST, "INVALID_BODY");
            };
            (
                StatusCode::CREATED,
                Json(json!({
                    "imageId": "img-2",
                    "uploadUrl": format!("{base}/storage/img-2?x-signature=presigned"),
                    "requiredHeaders": {"content-type": upload["contentType"]},
                })),
            )
                .into_response()
        }
        ("GET", "/images/img-2") => Json(image("img-2")).into_response(),
        ("DELETE", "/images/img-1") if param("purge") == Some("true") => {
            StatusCode::NO_CONTENT.into_response()
        }
        _ => api_error(StatusCode::NOT_FOUND, "NOT_FOUND"),
    }
}

// --- The CLI against it -------------------------------------------------------------------------

/// `intake ARGS --api URL` in `cwd`, with only the AWS settings of `env` (no profile, files,
/// instance metadata or region of the machine running the test).
async fn intake(api: &str, args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_intake-test-cli"));
    command.args(args).args(["--api", api]).current_dir(cwd);
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") || name.starts_with("INTAKE_") {
            command.env_remove(name);
        }
    }
    command
        .env("AWS_CONFIG_FILE", cwd.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            cwd.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("INTAKE_DATA_DIR", cwd.join("no-data-dir"))
        .envs(env.iter().copied());
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

const CREDENTIALS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
    ("AWS_SECRET_ACCESS_KEY", SECRET),
    ("AWS_SESSION_TOKEN", SESSION_TOKEN),
];

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn the_cli_signs_every_api_call_with_sigv4() {
    let api = FakeApi::start().await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("scan.png"), images::png(64, 48, 7)).unwrap();
    let iam = ["--auth", "iam", "--region", "us-east-1"];
    let run = |args: Vec<&'static str>| {
        let args = [&args[..], &iam[..]].concat();
        let url = api.url.clone();
        async move { intake(&url, &args, &CREDENTIALS, dir).await }
    };

    // A query, and a cursor that needs encoding sent back as it came.
    let out = run(vec!["list", "--all", "--status", "PROCESSED", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["images"].as_array().unwrap().len(), 2, "{listed}");
    // Words with a space in the query.
    let out = run(vec!["search", "two words", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A JSON body (its SHA-256 is signed), the presigned PUT, and a path with an id.
    let out = run(vec!["upload", "scan.png", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let uploaded: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(uploaded[0]["imageId"], "img-2", "{uploaded}");
    let out = run(vec!["delete", "img-1", "--purge"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let calls = api.calls();
    let shown: Vec<String> = calls
        .iter()
        .map(|c| format!("{} {} {:?}", c.method, c.path, c.query))
        .collect();
    assert_eq!(
        shown,
        [
            "GET /images Some(\"limit=50&status=PROCESSED\")",
            "GET /images Some(\"limit=50&status=PROCESSED&cursor=c%2B%2F%3D1%20x%26y\")",
            "GET /images Some(\"q=two%20words&limit=20\")",
            "POST /uploads None",
            "GET /images/img-2 None",
            "DELETE /images/img-1 Some(\"purge=true\")",
        ],
        "{calls:#?}"
    );
    assert!(calls.iter().all(|c| c.verdict.is_ok()), "{calls:#?}");
    // The upload went to the presigned URL with its own signature only: no SigV4 of the CLI's.
    let puts = api.seen.lock().unwrap().puts.clone();
    assert_eq!(puts.len(), 1);
    for name in ["authorization", "x-amz-date", "x-amz-security-token"] {
        assert!(
            !puts[0].contains_key(name),
            "{name} on the upload: {puts:?}"
        );
    }
}

#[tokio::test]
async fn missing_wrong_or_tampered_signatures_are_refused() {
    let api = FakeApi::start().await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let iam = ["list", "--auth", "iam", "--region", "us-east-1"];

    // Another secret: the API refuses (403), the CLI says not authenticated (8).
    let wrong = [
        CREDENTIALS[0],
        ("AWS_SECRET_ACCESS_KEY", "not-the-secret"),
        CREDENTIALS[2],
    ];
    let out = intake(&api.url, &iam, &wrong, dir).await;
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    // Another region in the scope.
    let out = intake(
        &api.url,
        &["list", "--region", "eu-west-1", "--auth", "iam"],
        &CREDENTIALS,
        dir,
    )
    .await;
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    // No signature at all: the local server's keys, or nothing.
    let out = intake(&api.url, &["list"], &CREDENTIALS, dir).await;
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let out = intake(
        &api.url,
        &["list", "--auth", "jwt", "--token", "eyJ.x.y"],
        &CREDENTIALS,
        dir,
    )
    .await;
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let verdicts: Vec<Result<(), Refusal>> = api.calls().into_iter().map(|c| c.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Err(Refusal::Mismatch),
            Err(Refusal::Scope),
            Err(Refusal::Missing),
            Err(Refusal::Malformed("algorithm")),
        ]
    );

    // No credentials anywhere: nothing is sent.
    let out = intake(&api.url, &iam, &[], dir).await;
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no AWS credentials"),
        "{}",
        stderr(&out)
    );
    // No region for a host that does not name one: nothing is sent.
    let out = intake(&api.url, &["list", "--auth", "iam"], &CREDENTIALS, dir).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--region"), "{}", stderr(&out));
    assert_eq!(api.calls().len(), 4);

    // A request signed right passes; the same signature over anything else does not.
    let http = reqwest::Client::new();
    let amz_date = OffsetDateTime::now_utc()
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap();
    let host = api.url.trim_start_matches("http://").to_owned();
    let sent = headers(&[
        ("content-type", "application/json"),
        ("host", &host),
        ("x-amz-date", &amz_date),
        ("x-amz-security-token", SESSION_TOKEN),
    ]);
    let body = br#"{"filename":"a.png","contentType":"image/png","sizeBytes":3,"sha256":"00"}"#;
    let authorization = api.verifier.authorization(
        &Arrived {
            method: "POST",
            path: "/uploads",
            query: None,
            headers: &sent,
            body,
        },
        &["content-type", "host", "x-amz-date", "x-amz-security-token"],
        &amz_date,
    );
    let send = |method: Method, path: &str, body: &'static [u8], authorization: &str| {
        let mut request = http
            .request(method, format!("{}{path}", api.url))
            .header("authorization", authorization)
            .body(body);
        for (name, value) in &sent {
            if name != "host" {
                request = request.header(name, value);
            }
        }
        request.send()
    };
    let ok = send(Method::POST, "/uploads", body, &authorization)
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let tampered = [
        send(
            Method::POST,
            "/uploads",
            br#"{"filename":"b.png"}"#,
            &authorization,
        ),
        send(Method::POST, "/uploads?x=1", body, &authorization),
        send(Method::PUT, "/uploads", body, &authorization),
        send(Method::POST, "/images", body, &authorization),
    ];
    for response in futures::future::join_all(tampered).await {
        assert_eq!(response.unwrap().status(), StatusCode::FORBIDDEN);
    }
    let forged = authorization.replace(signature_of(&authorization), &"0".repeat(64));
    let response = send(Method::POST, "/uploads", body, &forged).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let verdicts: Vec<Result<(), Refusal>> =
        api.calls().into_iter().skip(4).map(|c| c.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Ok(()),
            Err(Refusal::Mismatch),
            Err(Refusal::Mismatch),
            Err(Refusal::Mismatch),
            Err(Refusal::Mismatch),
            Err(Refusal::Mismatch),
        ]
    );
}

#[tokio::test]
async fn credentials_and_region_come_from_a_profile() {
    let api = FakeApi::start().await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(
        dir.join("credentials"),
        format!(
            "[intake-test]\naws_access_key_id = {ACCESS_KEY_ID}\naws_secret_access_key = {SECRET}\naws_session_token = {SESSION_TOKEN}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("config"),
        "[profile intake-test]\nregion = us-east-1\n",
    )
    .unwrap();
    let credentials = dir.join("credentials");
    let config = dir.join("config");
    let profile = [
        ("AWS_PROFILE", "intake-test"),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
    ];
    let out = intake(
        &api.url,
        &["list", "--auth", "iam", "--json"],
        &profile,
        dir,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // INTAKE_AUTH chooses as --auth does.
    let env = [profile[0], profile[1], profile[2], ("INTAKE_AUTH", "iam")];
    let out = intake(&api.url, &["list", "--json"], &env, dir).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let calls = api.calls();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert!(calls.iter().all(|c| c.verdict.is_ok()), "{calls:#?}");
}
