//! Where `arca serve`'s log lines go: standard error, with the request log kept off the
//! request's path. A request log line (target `arca::request`) is appended to a memory buffer
//! under a short lock and written by a thread of its own (`arca-log`) at least every
//! [`FLUSH_INTERVAL`], sooner when [`FLUSH_BYTES`] are waiting, and at shutdown ([`Guard`]); every
//! other line (start-up, warnings, errors) is written at once, after the request lines before it,
//! so lines appear in the order they were logged and a warning is never held back.
//!
//! The buffer is bounded ([`MAX_PENDING`]): if standard error stops taking lines (a full pipe, a
//! stalled disk) request lines beyond the bound are dropped rather than stalling requests, counted,
//! and the count is reported (at warning level, through the log itself) at most once every
//! [`REPORT_INTERVAL`] and at shutdown. The request log is not the audit log: losing lines under
//! such pressure is the better choice than serving no requests, as long as it is never silent.
//! Nothing here reads or changes a line's content; what a line may contain is `request_log`'s rule.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;

/// The target of the request log lines, the only ones buffered (`arca_server::router`).
pub const REQUEST_TARGET: &str = "arca::request";
/// The longest a request log line waits in memory.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);
/// Pending bytes that wake the writer before the interval ends.
pub const FLUSH_BYTES: usize = 64 << 10;
/// The most bytes of request lines held in memory; lines beyond it are dropped and counted.
pub const MAX_PENDING: usize = 4 << 20;
/// How often, at most, dropped lines are reported.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// The capacity of each of the two buffers, allocated once at start so that appending does not
/// allocate while the writer keeps up (a buffer that grew while standard error stalled is shrunk
/// back after its write). Allocations made while serving, and freed and made again, cost the
/// process more memory than these two blocks: the allocator cannot reuse the space in between
/// for the large blocks others ask for (Argon2's, for a client secret).
const BUFFER_CAPACITY: usize = 2 * FLUSH_BYTES;

type Sink = Box<dyn Write + Send>;
type Report = Box<dyn Fn(u64) + Send + Sync>;

/// Lines waiting for the writer.
#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    /// Request lines dropped since the last report.
    dropped: u64,
    /// Set by [`Guard`]: lines are written at once from then on.
    stopped: bool,
}

struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
    /// The output, locked for the whole of each write so that writes reach it in order.
    sink: Mutex<Sink>,
    /// A cleared buffer kept for the next swap, so appending rarely allocates.
    spare: Mutex<Vec<u8>>,
    report: Report,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every change under these locks is a single append, swap or counter update: a panic while
    // one was held leaves nothing half done for the next holder.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// Appends a request line, or drops and counts it when the buffer is full; never waits for
    /// the output. After [`Guard`] stopped the writer, writes it at once.
    fn buffer(&self, line: &[u8]) {
        let mut pending = lock(&self.pending);
        if pending.stopped {
            drop(pending);
            self.write_now(line);
            return;
        }
        if pending.bytes.len() + line.len() > MAX_PENDING {
            pending.dropped += 1;
            return;
        }
        let was_below = pending.bytes.len() < FLUSH_BYTES;
        pending.bytes.extend_from_slice(line);
        if was_below && pending.bytes.len() >= FLUSH_BYTES {
            self.wake.notify_one();
        }
    }

    /// Writes every pending line, then `line`, to the output.
    fn write_now(&self, line: &[u8]) {
        self.write_pending_and(line);
    }

    /// Writes every pending line to the output.
    fn write_pending(&self) {
        self.write_pending_and(b"");
    }

    /// Writes every pending line and `line`. The buffer taken goes back as the spare before the
    /// output is released, so the next writer finds it there.
    fn write_pending_and(&self, line: &[u8]) {
        let mut sink = lock(&self.sink);
        let mut taken = self.take();
        taken.extend_from_slice(line);
        if !taken.is_empty() {
            // A log line that cannot be written has nowhere else to go.
            let _ = sink.write_all(&taken).and_then(|()| sink.flush());
        }
        self.give_back(taken);
        drop(sink);
    }

    /// The pending lines, leaving the spare buffer in their place.
    fn take(&self) -> Vec<u8> {
        let spare = std::mem::take(&mut *lock(&self.spare));
        std::mem::replace(&mut lock(&self.pending).bytes, spare)
    }

    fn give_back(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        if buffer.capacity() > BUFFER_CAPACITY {
            buffer.shrink_to(BUFFER_CAPACITY);
        }
        *lock(&self.spare) = buffer;
    }

    /// Reports the lines dropped since the last report, if any.
    fn report_dropped(&self) {
        let dropped = std::mem::take(&mut lock(&self.pending).dropped);
        if dropped > 0 {
            (self.report)(dropped);
        }
    }

    /// The writer thread: waits for the interval, for [`FLUSH_BYTES`] or for the stop, writes
    /// what is pending, and reports drops at most once every [`REPORT_INTERVAL`].
    fn run(&self) {
        let mut reported = Instant::now();
        loop {
            let stopped = {
                let pending = lock(&self.pending);
                let (pending, _) = self
                    .wake
                    .wait_timeout_while(pending, FLUSH_INTERVAL, |p| {
                        !p.stopped && p.bytes.len() < FLUSH_BYTES
                    })
                    .unwrap_or_else(|p| p.into_inner());
                pending.stopped
            };
            self.write_pending();
            if stopped {
                return;
            }
            if reported.elapsed() >= REPORT_INTERVAL {
                self.report_dropped();
                reported = Instant::now();
            }
        }
    }
}

/// The log's writer (a [`MakeWriter`] for `tracing_subscriber`).
#[derive(Clone)]
pub struct Output {
    shared: Arc<Shared>,
}

/// Stops the writer thread when dropped: writes every pending line and reports any drops not
/// yet reported. Held by `serve` for as long as the server runs.
pub struct Guard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Output {
    /// An output to `sink` with its writer thread; `report` is called with the number of request
    /// lines dropped (from the writer thread, or the thread dropping the guard), and should log it
    /// at warning level. Without a thread (it could not be started) every line is written at
    /// once.
    pub fn start(sink: Sink, report: impl Fn(u64) + Send + Sync + 'static) -> (Output, Guard) {
        let output = Output::new(sink, report);
        let writer = output.shared.clone();
        let thread = std::thread::Builder::new()
            .name("arca-log".into())
            .spawn(move || writer.run())
            .ok();
        if thread.is_none() {
            lock(&output.shared.pending).stopped = true;
        }
        let guard = Guard {
            shared: output.shared.clone(),
            thread,
        };
        (output, guard)
    }

    /// An output whose request lines wait until something writes them (the writer thread, a
    /// line of another target, or the guard).
    fn new(sink: Sink, report: impl Fn(u64) + Send + Sync + 'static) -> Output {
        Output {
            shared: Arc::new(Shared {
                pending: Mutex::new(Pending {
                    bytes: Vec::with_capacity(BUFFER_CAPACITY),
                    ..Pending::default()
                }),
                wake: Condvar::new(),
                sink: Mutex::new(sink),
                spare: Mutex::new(Vec::with_capacity(BUFFER_CAPACITY)),
                report: Box::new(report),
            }),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        lock(&self.shared.pending).stopped = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.shared.write_pending();
        self.shared.report_dropped();
    }
}

/// The writer of one event: buffered for a request line, direct for any other.
pub struct EventWriter<'a> {
    shared: &'a Shared,
    buffered: bool,
}

impl Write for EventWriter<'_> {
    /// Takes the whole of `bytes`: `tracing_subscriber` formats an event completely, then writes
    /// it with one `write_all`, so one call is one line.
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.buffered {
            self.shared.buffer(bytes);
        } else {
            self.shared.write_now(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Output {
    type Writer = EventWriter<'a>;

    fn make_writer(&'a self) -> EventWriter<'a> {
        EventWriter {
            shared: &self.shared,
            buffered: false,
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> EventWriter<'a> {
        EventWriter {
            shared: &self.shared,
            buffered: meta.target() == REQUEST_TARGET,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output that records what reached it and wakes waiters on every write; it can be
    /// blocked, as a full pipe would block.
    #[derive(Clone, Default)]
    struct Recorder(Arc<(Mutex<RecorderState>, Condvar)>);

    #[derive(Default)]
    struct RecorderState {
        text: Vec<u8>,
        writes: usize,
        blocked: bool,
    }

    impl Write for Recorder {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let (state, changed) = &*self.0;
            let mut state = changed
                .wait_while(lock(state), |s| s.blocked)
                .unwrap_or_else(|p| p.into_inner());
            state.text.extend_from_slice(bytes);
            state.writes += 1;
            changed.notify_all();
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Recorder {
        fn text(&self) -> String {
            String::from_utf8_lossy(&lock(&self.0 .0).text).into_owned()
        }

        fn block(&self, blocked: bool) {
            lock(&self.0 .0).blocked = blocked;
            self.0 .1.notify_all();
        }

        /// Waits (at most 30 s, then fails) until the text satisfies `done`.
        fn wait_for(&self, done: impl Fn(&str) -> bool) -> String {
            let (state, changed) = &*self.0;
            let (state, timeout) = changed
                .wait_timeout_while(lock(state), Duration::from_secs(30), |s| {
                    !done(&String::from_utf8_lossy(&s.text))
                })
                .unwrap_or_else(|p| p.into_inner());
            let text = String::from_utf8_lossy(&state.text).into_owned();
            assert!(!timeout.timed_out(), "not written in time: {text}");
            text
        }
    }

    fn reports() -> (Arc<Mutex<Vec<u64>>>, impl Fn(u64) + Send + Sync + 'static) {
        let reports = Arc::new(Mutex::new(Vec::new()));
        let noted = reports.clone();
        (reports, move |n| lock(&noted).push(n))
    }

    fn started() -> (Recorder, Output, Guard, Arc<Mutex<Vec<u64>>>) {
        let recorder = Recorder::default();
        let (reports, report) = reports();
        let (output, guard) = Output::start(Box::new(recorder.clone()), report);
        (recorder, output, guard, reports)
    }

    fn log(output: &Output, request: bool, line: &str) {
        let mut writer = EventWriter {
            shared: &output.shared,
            buffered: request,
        };
        writer.write_all(line.as_bytes()).expect("write");
    }

    #[test]
    fn request_lines_wait_and_other_lines_bring_them_out_in_order() {
        // No writer thread: only the line of another target writes the request lines.
        let recorder = Recorder::default();
        let output = Output::new(Box::new(recorder.clone()), |_| {});
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .without_time()
            .with_writer(output.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "arca::request", status = 200_u16, "request");
            tracing::info!(target: "arca::request", status = 404_u16, "request");
            assert_eq!(recorder.text(), "");
            tracing::warn!("something else");
        });
        let text = recorder.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].contains("status=200"), "{text}");
        assert!(lines[1].contains("status=404"), "{text}");
        assert!(lines[2].contains("WARN") && lines[2].contains("something else"));
        assert_eq!(lock(&recorder.0 .0).writes, 1, "one write for all three");
    }

    #[test]
    fn the_guard_writes_what_is_pending_and_later_lines_go_out_at_once() {
        let (recorder, output, guard, reports) = started();
        recorder.block(true);
        log(&output, true, "r1\n");
        log(&output, true, "r2\n");
        recorder.block(false);
        drop(guard);
        assert_eq!(recorder.text(), "r1\nr2\n");
        log(&output, true, "late\n");
        assert_eq!(recorder.text(), "r1\nr2\nlate\n");
        assert!(lock(&reports).is_empty());
    }

    #[test]
    fn the_writer_thread_writes_request_lines_without_being_asked() {
        let (recorder, output, _guard, _) = started();
        log(&output, true, "only\n");
        assert_eq!(recorder.wait_for(|t| t.contains("only")), "only\n");
        // Enough for early wake-ups: written in few writes, not one per line.
        let line = "x".repeat(1023) + "\n";
        let lines = 4 * FLUSH_BYTES / line.len();
        for _ in 0..lines {
            log(&output, true, &line);
        }
        let text = recorder.wait_for(|t| t.len() == 5 + lines * line.len());
        assert!(text.ends_with(&line));
        assert!(lock(&recorder.0 .0).writes < lines / 8);
    }

    #[test]
    fn a_stalled_output_drops_request_lines_counts_them_and_says_so() {
        let (recorder, output, guard, reports) = started();
        recorder.block(true);
        let line = "y".repeat(4095) + "\n";
        let sent = 3 * MAX_PENDING / line.len();
        for _ in 0..sent {
            log(&output, true, &line);
        }
        // The writer may hold one taken buffer (blocked in its write) besides the full one.
        let dropped = lock(&output.shared.pending).dropped;
        assert!(
            dropped >= (sent - 2 * MAX_PENDING / line.len()) as u64,
            "{dropped}"
        );
        recorder.block(false);
        drop(guard);
        let written = recorder.text().len() / line.len();
        let reported: u64 = lock(&reports).iter().sum();
        assert!(reported > 0);
        assert_eq!(
            written as u64 + reported,
            sent as u64,
            "every line written or counted"
        );
        assert!(recorder.text().ends_with(&line));
    }
}
