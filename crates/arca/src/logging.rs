//! Logging set-up for `arca serve`: every log line on standard error, as text or (with
//! `--log-format json`) as one JSON object per line. Either way an event raised while a request
//! is served names that request's id, so a client's `x-ms-request-id` finds its lines. Colours
//! only when standard error is a terminal. Request log lines are written by a thread of their own
//! (`log_output`), so a request does not wait for standard error; text lines are formatted by
//! `log_text`, which writes what `tracing_subscriber`'s default format writes, faster, and JSON
//! lines by `log_json`.

use std::io::IsTerminal;

use crate::log_json::JsonLines;
pub use crate::log_output::Guard;
use crate::log_output::Output;
use crate::log_text::{TextFields, TextLines};
use arca_server::config::LogFormat;

/// Installs the global subscriber. The level filter comes from `ARCA_LOG` (default `info`).
/// Request log lines still pending are written when the returned guard is dropped: hold it until
/// the server has stopped.
#[must_use = "dropping the guard stops the writer of the request log"]
pub fn init(format: LogFormat) -> Guard {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ARCA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (output, guard) = Output::start(Box::new(std::io::stderr()), |dropped| {
        tracing::warn!(
            dropped,
            "request log lines dropped: standard error did not take them as fast as they came"
        );
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(output);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .fmt_fields(TextFields)
            .event_format(TextLines::default())
            .init(),
        LogFormat::Json => builder
            .with_ansi(false)
            .event_format(JsonLines::<false>)
            .init(),
    }
    guard
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Arc, Mutex};

    /// A writer into a shared buffer, for the log formats' tests.
    #[derive(Clone, Default)]
    pub(crate) struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Buffer {
        pub(crate) fn text(&self) -> String {
            let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
            String::from_utf8(bytes).unwrap_or_default()
        }
    }

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
