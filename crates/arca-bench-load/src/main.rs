//! The benchmark's load generator: N HTTP/1.1 keep-alive connections over TLS (rustls, verified
//! against a given CA) to one loopback address, each sending requests built from a path and body
//! template, for a fixed time; it prints one JSON report (throughput, latency quantiles from a
//! log-linear histogram, errors by status, its own CPU time and, given `--server-pid`, the
//! server's CPU time over exactly the measured window).
//!
//! Two ways to offer load:
//! - closed loop (default): each connection sends its next request as soon as the previous
//!   response is read. Throughput is the saturation throughput at that concurrency; latency is the
//!   time from send to the last body byte. A server stall holds back every connection, so the
//!   requests that would have been sent meanwhile are never measured (coordinated omission):
//!   closed-loop percentiles describe service under N outstanding requests, not what clients
//!   arriving at a steady rate would see.
//! - open loop (`--rate R`): each connection sends on a fixed schedule (R/N per second, phases
//!   staggered), and latency counts from the time a request was *due*, when the server's lateness
//!   made it late, so stalls are charged to every request they delayed (as wrk2 does).
//!
//! Safety: it connects to loopback addresses only (refused otherwise), and every run is bounded
//! in time. For `bench/run` only.

mod histogram;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::json;
use tokio::net::TcpStream;

use histogram::Histogram;

/// Longest run accepted, so a mistaken argument cannot leave load running for hours.
const MAX_DURATION_SECS: f64 = 7_200.0;
/// How long connecting (TCP, TLS, HTTP handshake) may take per connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take before it counts as a transport error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Consecutive failed requests after which a connection gives up.
const MAX_CONSECUTIVE_FAILURES: u32 = 20;
/// The kernel's USER_HZ: the unit of utime/stime in /proc/<pid>/stat on every Linux ABI.
const USER_HZ: f64 = 100.0;

#[derive(Parser, Clone)]
#[command(
    name = "arca-bench-load",
    about = "HTTP/1.1-over-TLS load generator for loopback benchmarks"
)]
struct Args {
    /// Address to connect to; must be a loopback address.
    #[arg(long)]
    connect: SocketAddr,
    /// Host header; its name (without port) is also the TLS server name, checked against the CA.
    #[arg(long)]
    host: String,
    /// PEM file of the CA that issued the server's certificate.
    #[arg(long)]
    ca: PathBuf,
    /// HTTP method.
    #[arg(long, default_value = "GET")]
    method: String,
    /// Request path; `{key}` becomes the key index.
    #[arg(long)]
    path: String,
    /// Request body; `{key}` becomes the key index and `{value}` a fresh value (unique per request).
    #[arg(long)]
    body: Option<String>,
    /// Content type of the body.
    #[arg(long, default_value = "application/json")]
    content_type: String,
    /// File of extra request headers, one `Name: value` a line (kept off the command line).
    #[arg(long)]
    header_file: Option<PathBuf>,
    /// Key indexes are drawn uniformly from 0..KEYS.
    #[arg(long, default_value_t = 1000)]
    keys: u64,
    /// Send each key index OFFSET..OFFSET+KEYS exactly once, then stop (populating;
    /// `--duration` is then a limit).
    #[arg(long)]
    each_key_once: bool,
    /// First key index of `--each-key-once`.
    #[arg(long, default_value_t = 0)]
    key_offset: u64,
    /// Length of each `{value}` in bytes.
    #[arg(long, default_value_t = 100)]
    value_bytes: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds of load (measured after all connections are established).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Open loop: total requests per second, spread evenly over the connections.
    #[arg(long)]
    rate: Option<f64>,
    /// PID of the server, whose CPU time over the measured window is reported.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Write the JSON report here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// A template split at its placeholders.
#[derive(Clone)]
enum Part {
    Text(String),
    Key,
    Value,
}

fn parse_template(template: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = template;
    loop {
        let next = [("{key}", Part::Key), ("{value}", Part::Value)]
            .into_iter()
            .filter_map(|(marker, part)| rest.find(marker).map(|at| (at, marker.len(), part)))
            .min_by_key(|(at, _, _)| *at);
        match next {
            Some((at, len, part)) => {
                if at > 0 {
                    parts.push(Part::Text(rest[..at].to_owned()));
                }
                parts.push(part);
                rest = &rest[at + len..];
            }
            None => {
                if !rest.is_empty() {
                    parts.push(Part::Text(rest.to_owned()));
                }
                return parts;
            }
        }
    }
}

fn render(parts: &[Part], key: u64, value: &str, out: &mut String) {
    use std::fmt::Write;
    out.clear();
    for part in parts {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Key => {
                let _ = write!(out, "{key}");
            }
            Part::Value => out.push_str(value),
        }
    }
}

/// A fresh value of exactly `len` bytes: connection, sequence number, then padding.
fn fresh_value(connection: usize, sequence: u64, len: usize, out: &mut String) {
    use std::fmt::Write;
    out.clear();
    let _ = write!(out, "c{connection}s{sequence}-");
    while out.len() < len {
        out.push('v');
    }
    out.truncate(len);
}

/// xorshift64*: cheap, and good enough to spread keys uniformly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// What every connection shares.
struct Plan {
    args: Args,
    method: http::Method,
    path: Vec<Part>,
    body: Option<Vec<Part>>,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    tls: tokio_rustls::TlsConnector,
    server_name: ServerName<'static>,
    /// Next key index in `--each-key-once` mode.
    next_key: AtomicU64,
}

/// What one connection measured.
#[derive(Default)]
struct Tally {
    histogram: Histogram,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
    reconnects: u64,
    first_error: Option<String>,
    tls: Option<(String, String)>,
}

fn read_headers(path: &Path) -> anyhow::Result<Vec<(http::HeaderName, http::HeaderValue)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut headers = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| anyhow!("a header line has no colon"))?;
        headers.push((
            http::HeaderName::from_bytes(name.trim().as_bytes())?,
            http::HeaderValue::from_str(value.trim())?,
        ));
    }
    Ok(headers)
}

fn tls_connector(ca: &Path) -> anyhow::Result<tokio_rustls::TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca)
        .with_context(|| format!("cannot read the CA file {}", ca.display()))?
    {
        roots.add(cert.map_err(|e| anyhow!("bad certificate in {}: {e}", ca.display()))?)?;
    }
    let provider = Arc::new(arca_crypto::tls_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The host name of a `Host` value: brackets and port removed.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

type Sender = SendRequest<Full<Bytes>>;

/// Opens one connection: TCP, TLS (verified), HTTP/1.1 handshake; the connection is driven by its
/// own task.
async fn connect(plan: &Plan, tally: &mut Tally) -> anyhow::Result<Sender> {
    let open = async {
        let tcp = TcpStream::connect(plan.args.connect).await?;
        tcp.set_nodelay(true)?;
        let tls = plan.tls.connect(plan.server_name.clone(), tcp).await?;
        if tally.tls.is_none() {
            let (_, session) = tls.get_ref();
            tally.tls = Some((
                session
                    .protocol_version()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default(),
                session
                    .negotiated_cipher_suite()
                    .map(|s| format!("{:?}", s.suite()))
                    .unwrap_or_default(),
            ));
        }
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        anyhow::Ok(sender)
    };
    tokio::time::timeout(CONNECT_TIMEOUT, open)
        .await
        .map_err(|_| anyhow!("connecting timed out"))?
}

/// Sends one request and reads the whole response. Ok(status) or a transport error.
async fn exchange(
    plan: &Plan,
    sender: &mut Sender,
    path: &str,
    body: Option<&str>,
) -> anyhow::Result<(u16, Bytes)> {
    let mut request = http::Request::builder()
        .method(plan.method.clone())
        .uri(path)
        .header(http::header::HOST, plan.args.host.as_str());
    for (name, value) in &plan.headers {
        request = request.header(name, value);
    }
    let body = match body {
        Some(b) => {
            request = request.header(http::header::CONTENT_TYPE, plan.args.content_type.as_str());
            Full::new(Bytes::copy_from_slice(b.as_bytes()))
        }
        None => Full::new(Bytes::new()),
    };
    let request = request.body(body)?;
    let work = async {
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        anyhow::Ok((status, bytes))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, work)
        .await
        .map_err(|_| anyhow!("request timed out"))?
}

/// One connection's loop until `deadline` (or, with `--each-key-once`, until the keys run out).
async fn run_connection(
    plan: Arc<Plan>,
    index: usize,
    mut sender: Sender,
    mut tally: Tally,
    start: Instant,
    deadline: Instant,
) -> Tally {
    let args = &plan.args;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((index as u64 + 1) << 17) ^ 0x5851_f42d);
    let mut path = String::new();
    let mut body = String::new();
    let mut value = String::new();
    let mut sequence = 0u64;
    let mut failures = 0u32;
    // Open loop: this connection's schedule.
    let interval = args
        .rate
        .map(|r| Duration::from_secs_f64(args.connections as f64 / r));
    let mut due = interval.map(|i| start + i.mul_f64(index as f64 / args.connections as f64));
    let mut previous_done = start;
    loop {
        let key = if args.each_key_once {
            let k = plan.next_key.fetch_add(1, Ordering::Relaxed);
            if k >= args.keys {
                break;
            }
            args.key_offset + k
        } else {
            rng.next() % args.keys.max(1)
        };
        // When this request's latency starts counting.
        let mut began = Instant::now();
        if let (Some(d), Some(i)) = (due, interval) {
            if d >= deadline {
                break;
            }
            if previous_done < d {
                tokio::time::sleep_until(d.into()).await;
                // On time: a late timer wake-up is the client's delay, not the server's.
                began = Instant::now();
            } else {
                // Late because the previous response was late: charge it from when it was due.
                began = d;
            }
            due = Some(d + i);
        } else if began >= deadline {
            break;
        }
        sequence += 1;
        render(&plan.path, key, "", &mut path);
        let body_text = plan.body.as_ref().map(|parts| {
            fresh_value(index, sequence, args.value_bytes, &mut value);
            render(parts, key, &value, &mut body);
            body.as_str()
        });
        let sent = if interval.is_some() {
            began
        } else {
            Instant::now()
        };
        let outcome = exchange(&plan, &mut sender, &path, body_text).await;
        let done = Instant::now();
        previous_done = done;
        if done > deadline && !args.each_key_once {
            // Completed outside the window: neither counted nor timed.
            break;
        }
        match outcome {
            Ok((status, response)) => {
                if (200..300).contains(&status) {
                    failures = 0;
                    let nanos =
                        u64::try_from(done.duration_since(sent).as_nanos()).unwrap_or(u64::MAX);
                    tally.histogram.record(nanos);
                } else {
                    failures += 1;
                    *tally.statuses.entry(status).or_default() += 1;
                    if tally.first_error.is_none() {
                        let text = String::from_utf8_lossy(&response);
                        tally.first_error = Some(format!(
                            "{} {path} -> {status}: {}",
                            plan.method,
                            text.chars().take(300).collect::<String>()
                        ));
                    }
                }
            }
            Err(e) => {
                failures += 1;
                tally.transport_errors += 1;
                if tally.first_error.is_none() {
                    tally.first_error = Some(format!("{} {path}: {e:#}", plan.method));
                }
                match connect(&plan, &mut tally).await {
                    Ok(s) => {
                        sender = s;
                        tally.reconnects += 1;
                    }
                    Err(_) => break,
                }
            }
        }
        if failures >= MAX_CONSECUTIVE_FAILURES {
            break;
        }
    }
    tally
}

/// utime + stime of `pid` in seconds (all threads, dead ones included).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); fields[0] here is field 3.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

/// CPU seconds of the whole machine so far, from the `cpu` line of /proc/stat: user + nice +
/// system, irq + softirq (loopback networking shows up there), and steal (time the hypervisor
/// gave to others).
fn machine_cpu_seconds() -> Option<MachineCpu> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    let field = |i: usize| ticks.get(i).copied().unwrap_or(0.0);
    // user nice system idle iowait irq softirq steal
    Some(MachineCpu {
        tasks: (field(0) + field(1) + field(2)) / USER_HZ,
        interrupts: (field(5) + field(6)) / USER_HZ,
        steal: field(7) / USER_HZ,
    })
}

/// Machine-wide CPU seconds, see [`machine_cpu_seconds`].
#[derive(Clone, Copy)]
struct MachineCpu {
    tasks: f64,
    interrupts: f64,
    steal: f64,
}

fn millis(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

async fn run(args: Args) -> anyhow::Result<serde_json::Value> {
    if !args.connect.ip().is_loopback() {
        bail!(
            "refusing to send load to {}: only loopback addresses are allowed",
            args.connect
        );
    }
    if !(args.duration > 0.0 && args.duration <= MAX_DURATION_SECS) {
        bail!("--duration must be in (0, {MAX_DURATION_SECS}] seconds");
    }
    if args.connections == 0 || args.connections > 4096 {
        bail!("--connections must be in 1..=4096");
    }
    if let Some(rate) = args.rate {
        if !(rate > 0.0 && rate.is_finite()) || args.each_key_once {
            bail!("--rate must be positive and cannot be combined with --each-key-once");
        }
    }
    let server_name = ServerName::try_from(host_name(&args.host).to_owned())
        .map_err(|_| anyhow!("--host does not hold a valid server name"))?;
    let method = http::Method::from_bytes(args.method.as_bytes())?;
    let headers = match &args.header_file {
        Some(p) => read_headers(p)?,
        None => Vec::new(),
    };
    let plan = Arc::new(Plan {
        tls: tls_connector(&args.ca)?,
        server_name,
        method,
        path: parse_template(&args.path),
        body: args.body.as_deref().map(parse_template),
        headers,
        next_key: AtomicU64::new(0),
        args,
    });

    // Every connection is open before the clock starts.
    let mut senders = Vec::with_capacity(plan.args.connections);
    for _ in 0..plan.args.connections {
        let mut tally = Tally::default();
        let sender = connect(&plan, &mut tally)
            .await
            .with_context(|| format!("cannot connect to {}", plan.args.connect))?;
        senders.push((sender, tally));
    }

    let server_pid = plan.args.server_pid.map(|p| p.to_string());
    let server_cpu_start = server_pid.as_deref().and_then(cpu_seconds);
    let client_cpu_start = cpu_seconds("self");
    let machine_start = machine_cpu_seconds();
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(plan.args.duration);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, (sender, tally)) in senders.into_iter().enumerate() {
        tasks.spawn(run_connection(
            plan.clone(),
            index,
            sender,
            tally,
            start,
            deadline,
        ));
    }
    if plan.args.each_key_once {
        // Populating ends when the keys run out (or at the deadline, as a limit).
        let all = async {
            let mut tallies = Vec::new();
            while let Some(t) = tasks.join_next().await {
                tallies.push(t);
            }
            tallies
        };
        let tallies = tokio::time::timeout_at(deadline.into(), all)
            .await
            .map_err(|_| anyhow!("populating did not finish within --duration"))?;
        let end = Instant::now();
        let server_cpu_end = server_pid.as_deref().and_then(cpu_seconds);
        let client_cpu_end = cpu_seconds("self");
        let machine_end = machine_cpu_seconds();
        return report(
            &plan,
            tallies,
            end - start,
            (server_cpu_start, server_cpu_end),
            (client_cpu_start, client_cpu_end),
            (machine_start, machine_end),
        );
    }
    tokio::time::sleep_until(deadline.into()).await;
    let server_cpu_end = server_pid.as_deref().and_then(cpu_seconds);
    let client_cpu_end = cpu_seconds("self");
    let machine_end = machine_cpu_seconds();
    let mut tallies = Vec::new();
    while let Some(t) = tasks.join_next().await {
        tallies.push(t);
    }
    report(
        &plan,
        tallies,
        deadline - start,
        (server_cpu_start, server_cpu_end),
        (client_cpu_start, client_cpu_end),
        (machine_start, machine_end),
    )
}

type CpuWindow = (Option<f64>, Option<f64>);

fn report(
    plan: &Plan,
    tallies: Vec<Result<Tally, tokio::task::JoinError>>,
    elapsed: Duration,
    server_cpu: CpuWindow,
    client_cpu: CpuWindow,
    machine: (Option<MachineCpu>, Option<MachineCpu>),
) -> anyhow::Result<serde_json::Value> {
    let mut histogram = Histogram::default();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut transport_errors = 0;
    let mut reconnects = 0;
    let mut first_error = None;
    let mut tls = None;
    for tally in tallies {
        let tally = tally.map_err(|e| anyhow!("a connection task failed: {e}"))?;
        histogram.merge(&tally.histogram);
        for (status, n) in tally.statuses {
            *statuses.entry(status).or_default() += n;
        }
        transport_errors += tally.transport_errors;
        reconnects += tally.reconnects;
        first_error = first_error.or(tally.first_error);
        tls = tls.or(tally.tls);
    }
    let secs = elapsed.as_secs_f64();
    let ok = histogram.count();
    let errors = statuses.values().sum::<u64>() + transport_errors;
    let delta = |(a, b): CpuWindow| match (a, b) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let server_cpu = delta(server_cpu);
    let client_cpu = delta(client_cpu);
    let (tls_version, tls_cipher) = tls.unwrap_or_default();
    let machine = match machine {
        (Some(a), Some(b)) => Some(MachineCpu {
            tasks: b.tasks - a.tasks,
            interrupts: b.interrupts - a.interrupts,
            steal: b.steal - a.steal,
        }),
        _ => None,
    };
    // CPU time of everything else during the window: the machine's busy time (interrupt time
    // included, since a process's stime includes the softirq work done in its context) minus the
    // server's and ours. Tick-sampled, so a few 10 ms either way are noise.
    let other_cpu = match (machine, server_cpu, client_cpu) {
        (Some(m), Some(s), Some(c)) => Some(m.tasks + m.interrupts - s - c),
        _ => None,
    };
    Ok(json!({
        "mode": if plan.args.rate.is_some() { "open" } else if plan.args.each_key_once { "each-key-once" } else { "closed" },
        "connections": plan.args.connections,
        "rate": plan.args.rate,
        "elapsed_secs": secs,
        "requests": ok,
        "rps": if secs > 0.0 { ok as f64 / secs } else { 0.0 },
        "errors": errors,
        "error_statuses": statuses.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
        "transport_errors": transport_errors,
        "reconnects": reconnects,
        "first_error": first_error,
        "latency_ms": {
            "min": millis(histogram.min()),
            "mean": histogram.mean() / 1e6,
            "p50": millis(histogram.quantile(0.50)),
            "p90": millis(histogram.quantile(0.90)),
            "p99": millis(histogram.quantile(0.99)),
            "p999": millis(histogram.quantile(0.999)),
            "max": millis(histogram.max()),
        },
        "server_cpu_secs": server_cpu,
        "server_cpu_per_request_ms": server_cpu.filter(|_| ok > 0).map(|c| c * 1e3 / ok as f64),
        "client_cpu_secs": client_cpu,
        "client_cpu_utilisation": client_cpu.filter(|_| secs > 0.0).map(|c| c / secs),
        "other_cpu_secs": other_cpu,
        "interrupt_cpu_secs": machine.map(|m| m.interrupts),
        "steal_cpu_secs": machine.map(|m| m.steal),
        "tls": { "version": tls_version, "cipher_suite": tls_cipher },
    }))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let out = args.out.clone();
    // One thread: the benchmark pins this process to one core of its own.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("arca-bench-load: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(args));
    match result.and_then(|report| {
        let text = serde_json::to_string_pretty(&report)?;
        match out {
            Some(path) => std::fs::write(&path, text + "\n")
                .with_context(|| format!("cannot write {}", path.display())),
            None => {
                println!("{text}");
                Ok(())
            }
        }
    }) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arca-bench-load: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_key_and_value() {
        let parts = parse_template(r#"{"value":"{value}","k":{key}}"#);
        let mut out = String::new();
        render(&parts, 42, "abc", &mut out);
        assert_eq!(out, r#"{"value":"abc","k":42}"#);
        render(
            &parse_template("/secrets/bench-{key}?api-version=7.5"),
            7,
            "",
            &mut out,
        );
        assert_eq!(out, "/secrets/bench-7?api-version=7.5");
    }

    #[test]
    fn values_have_the_requested_length_and_differ() {
        let (mut a, mut b) = (String::new(), String::new());
        fresh_value(3, 1, 100, &mut a);
        fresh_value(3, 2, 100, &mut b);
        assert_eq!(a.len(), 100);
        assert_eq!(b.len(), 100);
        assert_ne!(a, b);
    }

    #[test]
    fn host_names_drop_the_port() {
        assert_eq!(
            host_name("default.vault.localhost:8443"),
            "default.vault.localhost"
        );
        assert_eq!(host_name("127.0.0.1:8200"), "127.0.0.1");
        assert_eq!(host_name("[::1]:8200"), "::1");
        assert_eq!(host_name("localhost"), "localhost");
    }

    #[test]
    fn cpu_time_of_this_process_is_readable() {
        assert!(cpu_seconds("self").is_some());
    }
}
