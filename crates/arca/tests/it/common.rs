//! What the tests of the real `arca` binary share: waiting for a started server to be ready.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

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
