//! Real-process tests of what the running server tells its operator and its clients: the request
//! log (one line per request, as text and as JSON lines, with no credential in it), the headers
//! of answers over real TLS (`x-ms-keyvault-network-info` names the client's address), and
//! `arca hosts`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::{free_port, serve, tls_client, Running, BIN};

const API: &str = "api-version=7.5";
const SECRET_VALUE: &str = "log-must-never-show-this-value-4f1c";

/// A server with its output in `stdout.log` and `stderr.log`.
struct Server {
    running: Running,
}

impl Server {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let stdout = std::fs::File::create(dir.path().join("stdout.log")).unwrap();
        let stderr = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let mut command = serve(&dir.path().join("data"), port);
        command
            .args(args)
            .env_remove("ARCA_LOG")
            .env_remove("ARCA_LOG_FORMAT")
            .env_remove("ARCA_REGION")
            .envs(env.iter().copied())
            .stdout(stdout)
            .stderr(stderr);
        Server {
            running: Running::spawn(&mut command, dir, port, "stderr.log"),
        }
    }

    fn stderr(&self) -> String {
        self.running.file("stderr.log")
    }

    fn bootstrap(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.running.data().join("bootstrap.json")).unwrap())
            .unwrap()
    }

    /// Stops the server with SIGTERM and returns everything it wrote to standard error.
    fn stop(&mut self) -> String {
        self.running.stop();
        self.stderr()
    }

    /// One HTTP/1.1 request over TLS to `host` (the Host header; the connection goes to
    /// 127.0.0.1): status, headers (names in lower case) and body.
    fn request(
        &self,
        host: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, HashMap<String, String>, String) {
        let name = host.rsplit_once(':').map_or(host, |(n, _)| n);
        let client = tls_client(&self.running.data(), b"http/1.1", name);
        let tcp = TcpStream::connect(("127.0.0.1", self.running.port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut tls = rustls::StreamOwned::new(client, tcp);
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        tls.write_all(head.as_bytes()).unwrap();
        tls.write_all(body.as_bytes()).unwrap();
        let mut response = Vec::new();
        match tls.read_to_end(&mut response) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof && !response.is_empty() => {}
            Err(e) => panic!("{e}"),
        }
        let text = String::from_utf8(response).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let mut lines = head.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        (status.parse().unwrap(), headers, body.to_owned())
    }
}

/// What the test did, and the secrets it used, so its log can be checked.
struct Session {
    vault_host: String,
    token: String,
    client_secret: String,
    identity_header: String,
    object_id: String,
}

/// Signs in, sets and reads a secret, and makes a few refused requests.
fn exercise(server: &Server) -> Session {
    let boot = server.bootstrap();
    let port = server.running.port;
    let tenant = boot["tenant_id"].as_str().unwrap();
    let client_id = boot["client_id"].as_str().unwrap();
    let client_secret = boot["client_secret"].as_str().unwrap().to_owned();
    let identity_header = boot["identity_header"].as_str().unwrap().to_owned();
    let issuer_host = format!("localhost:{port}");
    let vault_host = format!("default.vault.localhost:{port}");
    let form = format!(
        "grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}&scope=https%3A%2F%2Fvault.localhost%3A{port}%2F.default"
    );
    let form_type = ("content-type", "application/x-www-form-urlencoded");
    let (status, _, body) = server.request(
        &issuer_host,
        "POST",
        &format!("/{tenant}/oauth2/v2.0/token"),
        &[form_type, ("x-ms-client-request-id", "token-call-1")],
        &form,
    );
    assert_eq!(status, 200, "{body}");
    let token = serde_json::from_str::<Value>(&body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let claims = token.split('.').nth(1).unwrap();
    let claims = base64_url(claims);
    let object_id = serde_json::from_slice::<Value>(&claims).unwrap()["oid"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {token}");
    let auth = ("authorization", bearer.as_str());
    let json = ("content-type", "application/json");

    let (status, headers, body) = server.request(
        &vault_host,
        "PUT",
        &format!("/secrets/logged?{API}"),
        &[auth, json, ("x-ms-client-request-id", "set-call-2")],
        &format!("{{\"value\":\"{SECRET_VALUE}\"}}"),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        headers["x-ms-keyvault-network-info"],
        "conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;"
    );
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    assert_eq!(headers["x-ms-client-request-id"], "set-call-2");
    let (status, _, body) = server.request(
        &vault_host,
        "GET",
        &format!("/secrets/logged?{API}&hint=my-password-hint-77"),
        &[auth],
        "",
    );
    assert_eq!(status, 200);
    assert!(body.contains(SECRET_VALUE));
    // Refused: no token; a wrong client secret; an admin call allowed.
    let (status, _, _) = server.request(&vault_host, "GET", &format!("/secrets?{API}"), &[], "");
    assert_eq!(status, 401);
    let wrong = form.replace(&client_secret, "not-the-secret-xyz");
    let (status, _, _) = server.request(
        &issuer_host,
        "POST",
        &format!("/{tenant}/oauth2/v2.0/token"),
        &[form_type],
        &wrong,
    );
    assert_eq!(status, 401);
    let (status, headers, _) = server.request(&issuer_host, "GET", "/admin/vaults", &[auth], "");
    assert_eq!(status, 200);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("strict-transport-security"));
    assert!(!headers.contains_key("x-ms-keyvault-region"));
    // The managed-identity endpoint, with its header (it serves no identity by default).
    let (status, _, _) = server.request(
        &issuer_host,
        "GET",
        &format!("/msi/token?api-version=2019-08-01&resource=https://vault.localhost:{port}"),
        &[("x-identity-header", &identity_header)],
        "",
    );
    assert!((400..500).contains(&status), "{status}");
    Session {
        vault_host,
        token,
        client_secret,
        identity_header,
        object_id,
    }
}

fn base64_url(text: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => continue,
        };
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).unwrap());
        }
    }
    out
}

/// The `key=value` fields of a text log line after `marker`: values quoted (with `\"` escapes)
/// or bare.
fn text_fields(line: &str, marker: &str) -> HashMap<String, String> {
    let rest = &line[line.find(marker).unwrap() + marker.len()..];
    let mut fields = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ' ' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        fields.insert(key, value);
    }
    fields
}

fn assert_no_credentials(log: &str, session: &Session) {
    for (what, needle) in [
        ("secret value", SECRET_VALUE),
        ("access token", session.token.as_str()),
        ("token signature", session.token.rsplit('.').next().unwrap()),
        ("client secret", session.client_secret.as_str()),
        ("wrong client secret", "not-the-secret-xyz"),
        ("identity header", session.identity_header.as_str()),
        ("query value", "my-password-hint-77"),
    ] {
        assert!(!log.contains(needle), "the log shows the {what}:\n{log}");
    }
}

/// The request-log lines as maps of their fields, in order.
fn check_lines(lines: &[HashMap<String, String>], session: &Session) {
    let find = |method: &str, path_start: &str, status: &str| {
        lines
            .iter()
            .find(|l| {
                l["method"] == method && l["path"].starts_with(path_start) && l["status"] == status
            })
            .unwrap_or_else(|| panic!("no line for {method} {path_start} {status}: {lines:?}"))
    };
    for line in lines {
        for field in [
            "method",
            "host",
            "path",
            "status",
            "duration_ms",
            "request_id",
            "client_request_id",
            "caller",
            "operation",
            "authz",
            "role",
            "scope",
            "reason",
        ] {
            assert!(line.contains_key(field), "{field} missing: {line:?}");
        }
        assert!(line["duration_ms"].parse::<f64>().unwrap() >= 0.0);
        assert_eq!(line["request_id"].len(), 21, "{line:?}");
    }
    let token = find("POST", "/", "200");
    assert_eq!(token["client_request_id"], "token-call-1");
    assert_eq!(
        (token["authz"].as_str(), token["caller"].as_str()),
        ("issued", session.object_id.as_str())
    );
    let set = find("PUT", "/secrets/logged", "200");
    assert_eq!(set["host"], session.vault_host);
    assert_eq!(set["path"], format!("/secrets/logged?{API}"));
    assert_eq!(set["client_request_id"], "set-call-2");
    assert_eq!(set["caller"], session.object_id);
    assert_eq!(
        (
            set["authz"].as_str(),
            set["role"].as_str(),
            set["scope"].as_str()
        ),
        ("allowed", "Key Vault Administrator", "/")
    );
    assert_eq!(set["operation"], "SecretSet");
    assert_eq!(token["operation"], "-");
    let get = find("GET", "/secrets/logged", "200");
    assert_eq!(get["operation"], "SecretGet");
    assert_eq!(get["path"], format!("/secrets/logged?{API}&hint=REDACTED"));
    assert_eq!(get["client_request_id"], "-");
    let unauthenticated = find("GET", "/secrets?", "401");
    assert_eq!(
        (
            unauthenticated["authz"].as_str(),
            unauthenticated["reason"].as_str(),
            unauthenticated["caller"].as_str()
        ),
        ("refused", "no bearer token", "-")
    );
    let wrong = find("POST", "/", "401");
    assert_eq!(wrong["authz"], "refused");
    assert!(wrong["reason"].starts_with("invalid_client"), "{wrong:?}");
    let admin = find("GET", "/admin/vaults", "200");
    assert_eq!(
        (admin["authz"].as_str(), admin["role"].as_str()),
        ("allowed", "Key Vault Administrator")
    );
    let msi = lines
        .iter()
        .find(|l| l["path"].starts_with("/msi/token"))
        .unwrap();
    assert!(msi["path"].contains("resource=https://vault.localhost"));
    assert_ne!(set["request_id"], get["request_id"]);
}

#[test]
fn the_text_log_has_one_line_per_request_and_no_credentials() {
    let mut server = Server::start(&[], &[]);
    let session = exercise(&server);
    let log = server.stop();
    assert_no_credentials(&log, &session);
    let marker = "arca::request: request ";
    let lines: Vec<_> = log
        .lines()
        .filter(|l| l.contains(marker))
        .map(|l| text_fields(l, marker))
        .collect();
    assert_eq!(lines.len(), 7, "{log}");
    assert!(log
        .lines()
        .filter(|l| l.contains(marker))
        .all(|l| l.contains(" INFO ")));
    check_lines(&lines, &session);
}

#[test]
fn the_json_log_has_every_line_as_json() {
    let mut server = Server::start(&["--region", "lab-1"], &[("ARCA_LOG_FORMAT", "json")]);
    let session = exercise(&server);
    let (status, headers, _) = server.request(
        &session.vault_host,
        "GET",
        &format!("/secrets?{API}"),
        &[("authorization", &format!("Bearer {}", session.token))],
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(headers["x-ms-keyvault-region"], "lab-1");
    assert_eq!(
        headers["x-ms-keyvault-service-version"],
        env!("CARGO_PKG_VERSION")
    );
    let log = server.stop();
    assert_no_credentials(&log, &session);
    let events: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(events
        .iter()
        .all(|e| e["timestamp"].is_string() && e["level"].is_string()));
    // Start-up and shutdown lines are JSON too.
    assert!(events.iter().any(|e| e["target"] != "arca::request"));
    let lines: Vec<HashMap<String, String>> = events
        .iter()
        .filter(|e| e["target"] == "arca::request")
        .map(|e| {
            assert_eq!(e["level"], "INFO");
            assert!(e["status"].is_u64() && e["duration_ms"].is_f64());
            e.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    (k.clone(), text)
                })
                .collect()
        })
        .collect();
    assert_eq!(lines.len(), 8, "{log}");
    check_lines(&lines, &session);
    // Events raised while serving a request name it: the refused token request's warning.
    let refused = lines
        .iter()
        .find(|l| l["status"] == "401" && l["method"] == "POST")
        .unwrap();
    assert!(events.iter().any(|e| e["target"] != "arca::request"
        && e["request_id"].as_str() == Some(refused["request_id"].as_str())));
}

#[test]
fn arca_hosts_prints_a_line_per_vault_and_address() {
    let mut server = Server::start(&[], &[]);
    let data = server.running.data();
    let arca = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .env_remove("ARCA_BOOTSTRAP")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    arca(&["vault", "create", "team-a"]);
    let printed = arca(&["hosts"]);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(
        lines,
        [
            "127.0.0.1 default.vault.localhost",
            "::1 default.vault.localhost",
            "127.0.0.1 team-a.vault.localhost",
            "::1 team-a.vault.localhost",
        ]
    );
    let json: Value = serde_json::from_str(&arca(&["hosts", "--output", "json"])).unwrap();
    assert_eq!(json["value"].as_array().unwrap().len(), 2);
    server.stop();
}

#[test]
fn a_failed_start_is_reported_in_json_lines_too() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = serve(&dir.path().join("data"), port)
        .args(["--log-format", "json"])
        .env_remove("ARCA_LOG_FORMAT")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let events: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["level"] == "ERROR"
                && e["message"].as_str().unwrap().contains("cannot listen")),
        "{stderr}"
    );
    drop(taken);
}
