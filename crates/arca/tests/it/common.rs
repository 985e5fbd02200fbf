//! What the tests of the real `arca` binary share: starting `arca serve` on a free port, waiting
//! for it to be ready, a started server that is killed if a test fails, stopping it with SIGTERM,
//! and a TLS client that trusts its CA.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_arca");

/// A loopback port that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `serve --data-dir <data> --listen 127.0.0.1:<port>`.
pub(crate) fn serve_args(data: &Path, port: u16) -> Vec<OsString> {
    vec![
        "serve".into(),
        "--data-dir".into(),
        data.into(),
        "--listen".into(),
        format!("127.0.0.1:{port}").into(),
    ]
}

/// `arca serve` with [`serve_args`], no configuration file from the environment and nothing on
/// standard input; the caller adds its arguments and where the output goes.
pub(crate) fn serve(data: &Path, port: u16) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(serve_args(data, port))
        .env_remove("ARCA_CONFIG")
        .stdin(Stdio::null());
    command
}

/// Waits until the server `child` listens on `port` and its data directory `data` holds a
/// `bootstrap.json` that names this port (what tools wait for at start). Panics, with what
/// `log` returns, if the server exits first or is not ready within 30 s.
pub(crate) fn wait_until_ready(
    child: &mut Child,
    port: u16,
    data: &Path,
    log: impl Fn() -> String,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let bootstrap = data.join("bootstrap.json");
    let names_port = || {
        std::fs::read_to_string(&bootstrap).is_ok_and(|text| text.contains(&format!(":{port}\"")))
    };
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() || !names_port() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("server exited with {status}: {}", log());
        }
        assert!(Instant::now() < deadline, "server did not start: {}", log());
        // real time: polls a real arca process until it listens on its port.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A server started in a temporary directory of its own (data directory `data/`, its output in
/// files there), killed when dropped unless it was stopped.
pub(crate) struct Running {
    child: Option<Child>,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Running {
    /// Spawns `command`, an `arca serve` on `port` whose data directory is `<dir>/data`, and
    /// waits until it is ready; if it is not, the panic shows the file `log` of `dir`.
    pub fn spawn(command: &mut Command, dir: tempfile::TempDir, port: u16, log: &str) -> Self {
        let mut running = Self {
            child: Some(command.spawn().unwrap()),
            port,
            dir,
        };
        let (data, log) = (running.data(), running.dir.path().join(log));
        let child = running.child.as_mut().unwrap();
        wait_until_ready(child, port, &data, || {
            std::fs::read_to_string(&log).unwrap_or_default()
        });
        running
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The text of the file `name` in the server's directory; empty if there is none.
    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// The process id; the server must not have been stopped.
    pub fn id(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Stops the server with SIGTERM (see [`stop_with_sigterm`]).
    pub fn stop(&mut self) -> ExitStatus {
        stop_with_sigterm(&mut self.child.take().unwrap())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends SIGTERM to the server `child` and waits, at most 20 s, for it to exit.
pub(crate) fn stop_with_sigterm(child: &mut Child) -> ExitStatus {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        // real time: polls a real arca process until it exits on SIGTERM.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A TLS client of the server whose data directory is `data`, trusting its CA (`ca.pem`),
/// offering `alpn` and expecting the certificate of `name`.
pub(crate) fn tls_client(data: &Path, alpn: &[u8], name: &str) -> rustls::ClientConnection {
    let pem = std::fs::read(data.join("ca.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(arca_crypto::tls_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let name = ServerName::try_from(name.to_owned()).unwrap();
    rustls::ClientConnection::new(Arc::new(config), name).unwrap()
}
