//! Logging set-up for `arca serve`: every log line on standard error, as text or (with
//! `--log-format json`) as one JSON object per line. Either way an event raised while a request
//! is served names that request's id, so a client's `x-ms-request-id` finds its lines. Colours
//! only when standard error is a terminal. Request log lines are written by a thread of their own
//! (`log_output`), so a request does not wait for standard error; text lines are formatted by
//! `log_text`, which writes what `tracing_subscriber`'s default format writes, faster.

use std::io::IsTerminal;

pub use crate::log_output::Guard;
use crate::log_output::Output;
use crate::log_text::{TextFields, TextLines};
use arca_server::config::LogFormat;
use tracing::field::{Field, Visit};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

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
        LogFormat::Json => builder.with_ansi(false).event_format(JsonLines).init(),
    }
    guard
}

/// One JSON object per event: `timestamp`, `level`, `target`, `request_id` (when raised while
/// serving a request), `message` and the event's fields, each at the top level.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        writeln!(writer, "{}", json_line(event))
    }
}

/// The JSON text of one event, without the line end.
fn json_line(event: &tracing::Event<'_>) -> String {
    let mut fields = serde_json::Map::new();
    let mut timestamp = String::new();
    if SystemTime
        .format_time(&mut Writer::new(&mut timestamp))
        .is_ok()
    {
        fields.insert("timestamp".into(), timestamp.into());
    }
    let meta = event.metadata();
    fields.insert("level".into(), meta.level().as_str().into());
    fields.insert("target".into(), meta.target().into());
    if let Some(id) = arca_server::request_id::current() {
        fields.insert("request_id".into(), id.to_string().into());
    }
    event.record(&mut JsonFields(&mut fields));
    serde_json::Value::Object(fields).to_string()
}

/// Collects an event's fields as JSON values.
struct JsonFields<'m>(&'m mut serde_json::Map<String, serde_json::Value>);

impl Visit for JsonFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        let value = serde_json::Number::from_f64(value)
            .map_or_else(|| value.to_string().into(), serde_json::Value::Number);
        self.0.insert(field.name().into(), value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer into a shared buffer (also `log_text`'s tests').
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

    #[test]
    fn json_lines_carry_every_field_typed() {
        let buffer = Buffer::default();
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .event_format(JsonLines)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                target: "arca::request",
                method = "GET",
                status = 200_u16,
                duration_ms = 1.5,
                peer = ?"q\"uote",
                "request"
            );
            tracing::warn!("plain {}", 7);
        });
        let text = buffer.text();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_default())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        let first = &lines[0];
        assert_eq!(first["target"], "arca::request");
        assert_eq!(first["level"], "INFO");
        assert_eq!(first["message"], "request");
        assert_eq!(first["method"], "GET");
        assert_eq!(first["status"], 200);
        assert_eq!(first["duration_ms"], 1.5);
        assert_eq!(first["peer"], "\"q\\\"uote\"");
        assert!(first["timestamp"].as_str().is_some_and(|t| t.len() > 10));
        assert_eq!(lines[1]["message"], "plain 7");
        assert_eq!(lines[1]["level"], "WARN");
    }
}
