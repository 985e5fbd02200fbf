//! Real-process tests of connection exhaustion and process hardening: floods of idle
//! connections (silent TCP, silent TLS, idle HTTP/2) against the connection caps, the idle
//! timeout, and the limits the started server runs under (open files raised, no core files).
//!
//! Each server runs under `sh -c 'ulimit ...; exec arca serve ...'` when a test needs its own
//! descriptor or core limits, and logs to a file (a pipe nobody reads could fill up and stall it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{free_port, serve_args, tls_client, Running, BIN};

/// How long a client waits for the server before a test fails: well above what a healthy server
/// needs, well below the old behaviour it guards against (a TLS connection never closed, an idle
/// HTTP/1 connection closed after 30 s).
const PATIENCE: Duration = Duration::from_secs(8);
/// The HTTP/2 connection preface and an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// A server with its output in `server.log`.
struct Server {
    running: Running,
}

impl Server {
    /// Starts `arca serve` after running the shell commands `limits` (e.g. `ulimit -n 256`).
    fn start(limits: &str, args: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("{limits}\nexec \"$0\" \"$@\""))
            .arg(BIN)
            .args(serve_args(&dir.path().join("data"), port))
            .args(args)
            .env_remove("ARCA_CONFIG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        Server {
            running: Running::spawn(&mut command, dir, port, "server.log"),
        }
    }

    fn log(&self) -> String {
        self.running.file("server.log")
    }

    fn tcp(&self) -> TcpStream {
        let tcp = TcpStream::connect(("127.0.0.1", self.running.port)).unwrap();
        tcp.set_read_timeout(Some(PATIENCE)).unwrap();
        tcp.set_write_timeout(Some(PATIENCE)).unwrap();
        tcp
    }

    /// A connection with its TLS handshake completed, offering `alpn`.
    fn tls(&self, alpn: &[u8]) -> std::io::Result<Tls> {
        let client = tls_client(&self.running.data(), alpn, "localhost");
        let mut tls = rustls::StreamOwned::new(client, self.tcp());
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock)?;
        }
        Ok(tls)
    }

    /// `GET /healthz` on a new connection; the whole response.
    fn healthz(&self) -> std::io::Result<String> {
        let mut tls = self.tls(b"http/1.1")?;
        write!(
            tls,
            "GET /healthz HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n\r\n",
            self.running.port
        )?;
        let mut response = Vec::new();
        match tls.read_to_end(&mut response) {
            Ok(_) => {}
            // Some servers close without close_notify after `Connection: close`.
            Err(e) if e.kind() == ErrorKind::UnexpectedEof && !response.is_empty() => {}
            Err(e) => return Err(e),
        }
        Ok(String::from_utf8_lossy(&response).into_owned())
    }

    /// The limit lines of `/proc/<pid>/limits` for `name`: (soft, hard).
    fn limit(&self, name: &str) -> (String, String) {
        let text = std::fs::read_to_string(format!("/proc/{}/limits", self.running.id())).unwrap();
        let line = text.lines().find(|l| l.starts_with(name)).unwrap();
        let mut fields = line[name.len()..].split_whitespace();
        (
            fields.next().unwrap().to_owned(),
            fields.next().unwrap().to_owned(),
        )
    }
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// True when the server closes `stream` before `deadline` (whatever it sends first, such as an
/// HTTP/2 GOAWAY, is read and dropped).
fn closed_by(stream: &mut impl Read, set_timeout: impl Fn(Duration), deadline: Instant) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        set_timeout(left);
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A reset, or the end of the socket without a TLS close_notify.
            Err(_) => return true,
        }
    }
}

fn tcp_closed_by(tcp: &mut TcpStream, deadline: Instant) -> bool {
    let clone = tcp.try_clone().unwrap();
    closed_by(tcp, |t| clone.set_read_timeout(Some(t)).unwrap(), deadline)
}

fn tls_closed_by(tls: &mut Tls, deadline: Instant) -> bool {
    let clone = tls.sock.try_clone().unwrap();
    closed_by(tls, |t| clone.set_read_timeout(Some(t)).unwrap(), deadline)
}

fn log_has(dir: &Path, needle: &str) -> bool {
    std::fs::read_to_string(dir.join("server.log")).is_ok_and(|log| log.contains(needle))
}

/// The attack: idle connections until the process runs out of descriptors, after which nothing,
/// not even /healthz, was served. With 256 descriptors the automatic cap leaves room, and
/// newcomers take the places of the oldest idle connections.
#[test]
fn a_flood_of_idle_connections_past_the_descriptor_limit_does_not_lock_out_new_clients() {
    let server = Server::start("ulimit -n 256", &[]);
    let mut flood_h2 = Vec::new();
    for _ in 0..20 {
        let mut tls = server.tls(b"h2").unwrap();
        tls.write_all(H2_PREFACE).unwrap();
        flood_h2.push(tls);
    }
    let flood_tls: Vec<_> = (0..40).map(|_| server.tls(b"http/1.1").unwrap()).collect();
    let flood_tcp: Vec<_> = (0..240).map(|_| server.tcp()).collect();

    let response = server.healthz();
    let log = server.log();
    let response = response.unwrap_or_else(|e| panic!("/healthz failed: {e}\n{log}"));
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(log.contains("connection limits"), "{log}");
    assert!(!log.contains("accept failed"), "{log}");
    // The oldest idle connections made way: the HTTP/2 ones went first.
    let deadline = Instant::now() + PATIENCE;
    for tls in &mut flood_h2 {
        assert!(
            tls_closed_by(tls, deadline),
            "an idle HTTP/2 connection stayed open"
        );
    }
    drop((flood_tls, flood_tcp));
}

/// One address may hold only `max_connections_per_ip` connections; a newcomer from it takes the
/// place of its oldest idle connection, while the total cap is far away.
#[test]
fn the_per_address_cap_closes_that_addresses_oldest_idle_connection() {
    let server = Server::start(
        "",
        &["--max-connections", "64", "--max-connections-per-ip", "8"],
    );
    let mut idle: Vec<_> = (0..8).map(|_| server.tcp()).collect();
    // A ninth connection from the address takes the place of the first; completing its
    // handshake also shows that the server has admitted the eight before it.
    let mut newer_tls = server.tls(b"http/1.1").unwrap();
    let response = server.healthz().unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let deadline = Instant::now() + PATIENCE;
    assert!(
        tcp_closed_by(&mut idle[0], deadline),
        "the oldest stayed open"
    );
    assert!(
        tcp_closed_by(&mut idle[1], deadline),
        "the second stayed open"
    );
    // The others stay (the /healthz connection closed itself).
    assert!(!tcp_closed_by(
        &mut idle[7],
        Instant::now() + Duration::from_millis(300)
    ));
    assert!(!tls_closed_by(
        &mut newer_tls,
        Instant::now() + Duration::from_millis(300)
    ));
}

/// A connection that says nothing, an HTTP/1 keep-alive connection after its request and an
/// HTTP/2 connection without a request are closed after `idle_timeout_secs`.
#[test]
fn idle_connections_of_every_kind_are_closed_after_the_idle_timeout() {
    let server = Server::start("", &["--idle-timeout-secs", "1"]);
    let mut silent_tls = server.tls(b"http/1.1").unwrap();
    let mut h2 = server.tls(b"h2").unwrap();
    h2.write_all(H2_PREFACE).unwrap();
    let mut keep_alive = server.tls(b"http/1.1").unwrap();
    write!(
        keep_alive,
        "GET /healthz HTTP/1.1\r\nHost: localhost:{}\r\n\r\n",
        server.running.port
    )
    .unwrap();
    let mut head = [0u8; 12];
    keep_alive.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let mut silent_tcp = server.tcp();

    let deadline = Instant::now() + PATIENCE;
    let still_open: Vec<&str> = [
        ("silent TLS", tls_closed_by(&mut silent_tls, deadline)),
        ("idle HTTP/2", tls_closed_by(&mut h2, deadline)),
        (
            "HTTP/1 keep-alive",
            tls_closed_by(&mut keep_alive, deadline),
        ),
        ("silent TCP", tcp_closed_by(&mut silent_tcp, deadline)),
    ]
    .into_iter()
    .filter(|(_, closed)| !closed)
    .map(|(kind, _)| kind)
    .collect();
    assert!(still_open.is_empty(), "still open: {still_open:?}");
    assert!(!log_has(server.running.dir.path(), "accept failed"));
}

/// The server raises its open-files soft limit to the hard limit, forbids core files, and
/// refuses a `max_connections` that does not fit under the limit.
#[test]
fn the_server_runs_without_core_files_and_with_every_descriptor_it_may_have() {
    let limits = "ulimit -S -n 200\nulimit -S -c \"$(ulimit -H -c)\"";
    let server = Server::start(limits, &[]);
    let (soft, hard) = server.limit("Max open files");
    assert_eq!(soft, hard);
    assert_ne!(soft, "200");
    assert_eq!(server.limit("Max core file size"), ("0".into(), "0".into()));
    drop(server);

    // Allowed for debugging: the inherited limit stays, and the log says what that means.
    let server = Server::start(limits, &["--allow-core-dumps", "true"]);
    let (soft, hard) = server.limit("Max core file size");
    assert_eq!(soft, hard);
    assert!(server.log().contains("CORE DUMPS ARE ALLOWED"));
    drop(server);

    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 256\nexec \"$0\" \"$@\"")
        .arg(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--max-connections",
            "1000",
        ])
        .args(["--data-dir", "/nonexistent/arca-test"])
        .env_remove("ARCA_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("max_connections 1000 does not fit") && stderr.contains("256"),
        "{stderr}"
    );
}
