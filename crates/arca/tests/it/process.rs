//! Real-process tests of the `arca` binary: configuration errors, first start and reuse of the
//! data directory, the admin subcommands against a live server, and graceful shutdown on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use crate::common::{free_port, serve, stop_with_sigterm, BIN};

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dir: &Path, extra: &[&str]) -> Server {
        let port = free_port();
        let child = serve(dir, port)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut server = Server { child, port };
        // The port is bound before start-up finishes, and a restart finds the previous run's
        // bootstrap.json: ready means listening with a bootstrap file that names this port.
        crate::common::wait_until_ready(&mut server.child, port, dir, String::new);
        server
    }

    /// Sends SIGTERM and returns the exit status and everything the server printed.
    /// (Dropping a `Server` without stopping it kills the process, so a failed test leaves no
    /// server behind.)
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        let status = stop_with_sigterm(&mut self.child);
        let mut printed = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut printed)
            .unwrap();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut printed)
            .unwrap();
        (status, printed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn arca(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("ARCA_DATA_DIR")
        .env_remove("ARCA_BOOTSTRAP")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn bootstrap(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("bootstrap.json")).unwrap()).unwrap()
}

#[test]
fn configuration_errors_stop_start_up_and_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("arca.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nlsiten = \"oops\"\n").unwrap();
    let out = arca(&["serve", "--config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("lsiten") && err.contains("unknown key"),
        "{err}"
    );

    let out = Command::new(BIN)
        .args([
            "serve",
            "--dns-suffix",
            "bad_suffix",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .env("ARCA_LISTEN", "nowhere")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("listen (environment)"), "{err}");
    assert!(err.contains("dns_suffix (command line)"), "{err}");
    assert!(
        !dir.path().join("arca.db").exists(),
        "a refused start touches nothing"
    );
}

#[test]
fn first_start_initialises_and_later_starts_reuse_everything() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let server = Server::start(&dir, &[]);
    let first = bootstrap(&dir);
    let mut keys: Vec<_> = first.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "authority_host",
            "ca_cert",
            "client_id",
            "client_secret",
            "identity_endpoint",
            "identity_header",
            "msi_endpoint",
            "msi_secret",
            "tenant_id",
            "vault_url"
        ]
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("bootstrap.json"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        first["vault_url"],
        format!("https://default.vault.localhost:{}", server.port)
    );
    assert!(Path::new(first["ca_cert"].as_str().unwrap()).is_absolute());

    let data_dir = dir.to_str().unwrap();
    let out = arca(&[
        "vault",
        "create",
        "team-x",
        "--retention-days",
        "7",
        "--data-dir",
        data_dir,
        "--output",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["recovery_level"], "CustomizedRecoverable+Purgeable");
    let out = arca(&["vault", "create", "team-x", "--data-dir", data_dir]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Conflict"));
    let out = arca(&["vault", "create", "x", "--data-dir", data_dir]);
    assert!(!out.status.success());
    let out = arca(&[
        "vault",
        "create",
        "ok-name",
        "--retention-days",
        "91",
        "--data-dir",
        data_dir,
    ]);
    assert!(!out.status.success());

    let (status, printed) = server.stop();
    assert!(status.success(), "{printed}");
    assert!(
        printed.contains("THE KEY FILE LIVES INSIDE THE DATA DIRECTORY"),
        "{printed}"
    );
    assert!(
        printed.contains("bootstrap.json") && printed.contains("ca.pem"),
        "{printed}"
    );
    for secret in ["client_secret", "identity_header"] {
        assert!(
            !printed.contains(first[secret].as_str().unwrap()),
            "{secret} was printed"
        );
    }

    // A later start reuses credentials, CA and vaults, on another port.
    let server = Server::start(&dir, &[]);
    let second = bootstrap(&dir);
    for same in [
        "tenant_id",
        "client_id",
        "client_secret",
        "identity_header",
        "ca_cert",
    ] {
        assert_eq!(first[same], second[same], "{same}");
    }
    assert_eq!(
        second["vault_url"],
        format!("https://default.vault.localhost:{}", server.port)
    );
    let out = arca(&["vault", "list", "--data-dir", data_dir, "--output", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<_> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["default", "team-x"]);
    let out = arca(&["vault", "delete", "team-x", "--data-dir", data_dir]);
    assert!(out.status.success());
    let out = arca(&["vault", "show", "team-x", "--data-dir", data_dir]);
    assert!(!out.status.success());
    let (status, _) = server.stop();
    assert!(status.success());

    // Without its key file the data directory does not open.
    std::fs::rename(dir.join("arca.key"), root.path().join("moved.key")).unwrap();
    let out = arca(&["serve", "--data-dir", data_dir, "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("key file"));
    // With the wrong key file neither.
    let other = root.path().join("other.key");
    let out = arca(&[
        "serve",
        "--data-dir",
        data_dir,
        "--listen",
        "127.0.0.1:0",
        "--key-file",
        other.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    // With the right one, kept outside the data directory, it opens without the warning.
    let moved = root.path().join("moved.key");
    let server = Server::start(&dir, &["--key-file", moved.to_str().unwrap()]);
    let (status, printed) = server.stop();
    assert!(status.success());
    assert!(!printed.contains("THE KEY FILE LIVES INSIDE"), "{printed}");
}

/// The built-in issuer's administration through the CLI against a live server: `arca ca show`
/// prints the generated chain (ending with ca.pem's root), `arca vault
/// certificate-issuer-suffixes` sets, lists and deletes an issuer's suffixes (refusing Arca's
/// own names), and `arca ca import` replaces the CA with an operator's, which `show` then prints.
#[test]
fn the_issuing_ca_and_issuer_suffixes_through_the_cli() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let server = Server::start(&dir, &["--issuing-dns-suffixes", "example.internal"]);
    let data_dir = dir.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--data-dir", data_dir]);
        arca(&all)
    };
    let ok = |args: &[&str]| {
        let out = run(args);
        assert!(
            out.status.success(),
            "arca {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // What a refused command says on standard error.
    let refused = |args: &[&str]| {
        let out = run(args);
        assert!(!out.status.success(), "arca {args:?} succeeded");
        String::from_utf8(out.stderr).unwrap()
    };
    let shown = ok(&["ca", "show"]);
    assert_eq!(shown.matches("-----BEGIN CERTIFICATE-----").count(), 2);
    let ca_pem = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
    assert!(shown.ends_with(&ca_pem), "{shown}");

    let suffixes = |rest: &[&'static str]| {
        let mut args = vec!["vault", "certificate-issuer-suffixes"];
        args.extend_from_slice(rest);
        args
    };
    let set_to = |suffix: &'static str| {
        suffixes(&["set", "default", "--issuer", "internal", "--suffix", suffix])
    };
    let set = ok(&set_to("svc.example.internal"));
    assert!(set.contains("svc.example.internal"), "{set}");
    let listed = ok(&suffixes(&["list", "default", "--output", "json"]));
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["value"][0]["issuer"], "internal");
    assert_eq!(
        listed["value"][0]["suffixes"],
        serde_json::json!(["svc.example.internal"])
    );
    let said = refused(&set_to("vault.localhost"));
    assert!(said.contains("Arca's own name"), "{said}");
    let deleted = ok(&suffixes(&["delete", "default", "--issuer", "internal"]));
    assert!(deleted.starts_with("deleted"), "{deleted}");

    // The server's start, on its clock: its local CA begins an hour before it.
    let started = arca_crypto::pki::certs::ParsedCertificate::from_pem(&ca_pem)
        .unwrap()
        .not_before
        + 3_600;
    let files = root.path();
    let write = |name: &str, text: &str| {
        let path = files.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let operator = arca_crypto::generate_ca("Operator CA", started).unwrap();
    let other = arca_crypto::generate_ca("Other CA", started).unwrap();
    let cert = write("op.pem", &operator.cert_pem);
    let key = write(
        "op.key",
        arca_crypto::private_key_pem(&operator.key_pkcs8).expose(),
    );
    let other_key = write(
        "other.key",
        arca_crypto::private_key_pem(&other.key_pkcs8).expose(),
    );
    let imported = ok(&["ca", "import", "--cert", &cert, "--key", &key]);
    assert!(imported.contains("CN=Operator CA"), "{imported}");
    assert!(!imported.contains("PRIVATE KEY"), "{imported}");
    assert_eq!(ok(&["ca", "show"]), operator.cert_pem);
    // A key that is not the certificate's is refused, and nothing changes.
    let said = refused(&["ca", "import", "--cert", &cert, "--key", &other_key]);
    assert!(said.contains("cannot be imported"), "{said}");
    assert!(!said.contains("PRIVATE KEY"), "{said}");
    assert_eq!(ok(&["ca", "show"]), operator.cert_pem);
    let (status, printed) = server.stop();
    assert!(status.success(), "{printed}");
    assert!(!printed.contains("PRIVATE KEY"), "{printed}");
}
