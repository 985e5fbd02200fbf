//! The JSON-lines log format: one JSON object per event, with `timestamp`, `level`, `target`,
//! `request_id` (when the event was raised while serving a request), `message` and the event's
//! fields, each at the top level (the request log line, written after its request, carries its
//! `request_id` as a field). Written straight into the line with JSON's string escaping (no
//! map of values per event: every request writes one line of sixteen fields); an event whose
//! field names repeat or take `timestamp`, `level`, `target` (or `request_id` while a request is
//! served), or whose time cannot be formatted, is built as a `serde_json` map instead (later values win, keys in sorted order), which was the
//! only path before and which the tests compare with. Nothing here decides what a line contains:
//! that is the caller's (`request_log`'s) rule.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::log_text::Timestamp;

/// The members every line has besides the event's fields.
const OWN_MEMBERS: [&str; 3] = ["timestamp", "level", "target"];
/// The member a line has when the event was raised while serving a request (the request log line
/// itself, written after its request, carries the id as a field of this name instead).
const REQUEST_ID: &str = "request_id";

/// The event format of JSON lines (`MAP_ONLY`: always the map's way, for the tests to compare).
pub struct JsonLines<const MAP_ONLY: bool = false>;

impl<S, N, const MAP_ONLY: bool> FormatEvent<S, N> for JsonLines<MAP_ONLY>
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
        let meta = event.metadata();
        let id = arca_server::request_id::current();
        let distinct = match field_names(meta) {
            Names::Distinct { request_id } => !(request_id && id.is_some()),
            Names::Repeated => false,
        };
        let Some(now) = Timestamp::now().filter(|_| distinct && !MAP_ONLY) else {
            return writeln!(writer, "{}", json_map_line(event));
        };
        writer.write_str("{\"timestamp\":\"")?;
        writer.write_str(now.as_str())?;
        writer.write_str("\",\"level\":\"")?;
        writer.write_str(meta.level().as_str())?;
        writer.write_str("\",\"target\":")?;
        string(&mut writer, meta.target())?;
        if let Some(id) = id {
            writer.write_str(",\"request_id\":")?;
            quoted_display(&mut writer, &id)?;
        }
        let mut visitor = JsonVisitor {
            writer: writer.by_ref(),
            result: Ok(()),
        };
        event.record(&mut visitor);
        visitor.result?;
        writer.write_str("}\n")
    }
}

/// What an event's field names are to a line.
#[derive(Clone, Copy)]
enum Names {
    /// No two fields, nor a field and one of [`OWN_MEMBERS`], share a name; whether one is
    /// [`REQUEST_ID`].
    Distinct {
        request_id: bool,
    },
    Repeated,
}

thread_local! {
    /// The last call site this thread looked at with [`field_names`], and what it found: most
    /// events are request lines, from one call site.
    static LAST_SITE: std::cell::Cell<Option<(tracing::callsite::Identifier, Names)>> =
        const { std::cell::Cell::new(None) };
}

fn field_names(meta: &tracing::Metadata<'_>) -> Names {
    let (site, fields) = (meta.callsite(), meta.fields());
    LAST_SITE.with(|last| {
        let names = match last.take() {
            Some((seen, names)) if seen == site => names,
            _ => {
                let repeated = fields.iter().enumerate().any(|(i, field)| {
                    OWN_MEMBERS.contains(&field.name())
                        || fields
                            .iter()
                            .skip(i + 1)
                            .any(|other| other.name() == field.name())
                });
                match repeated {
                    true => Names::Repeated,
                    false => Names::Distinct {
                        request_id: fields.field(REQUEST_ID).is_some(),
                    },
                }
            }
        };
        last.set(Some((site, names)));
        names
    })
}

/// Writes `text` as a JSON string, escaped as `serde_json` escapes it.
fn string(writer: &mut Writer<'_>, text: &str) -> std::fmt::Result {
    writer.write_char('"')?;
    Escaped(writer).write_str(text)?;
    writer.write_char('"')
}

/// Writes `value`'s `Display` form as a JSON string.
fn quoted_display(writer: &mut Writer<'_>, value: &dyn std::fmt::Display) -> std::fmt::Result {
    writer.write_char('"')?;
    write!(Escaped(writer), "{value}")?;
    writer.write_char('"')
}

/// A writer that escapes what goes through it for the inside of a JSON string: `"`, `\` and the
/// control characters below U+0020, as `serde_json` does (short forms where JSON has them, else
/// `\u00xx`); everything else as it is.
struct Escaped<'w, 'a>(&'w mut Writer<'a>);

impl std::fmt::Write for Escaped<'_, '_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let mut plain_from = 0;
        for (at, byte) in text.bytes().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                0..=0x1f => "",
                _ => continue,
            };
            // Every byte stopped at is ASCII, so these are character boundaries.
            self.0.write_str(&text[plain_from..at])?;
            if escape.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            plain_from = at + 1;
        }
        self.0.write_str(&text[plain_from..])
    }
}

/// Writes each field as `,"name":value`.
struct JsonVisitor<'a> {
    writer: Writer<'a>,
    result: std::fmt::Result,
}

impl JsonVisitor<'_> {
    fn member(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> std::fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = self
            .writer
            .write_char(',')
            .and_then(|()| string(&mut self.writer, field.name()))
            .and_then(|()| self.writer.write_char(':'))
            .and_then(|()| value(&mut self.writer));
    }
}

impl Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.member(field, |w| string(w, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field, |w| write!(w, "{value}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field, |w| write!(w, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field, |w| write!(w, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.member(field, |w| match serde_json::Number::from_f64(value) {
            Some(number) => write!(w, "{number}"),
            None => quoted_display(w, &value),
        });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.member(field, |w| quoted_display(w, &value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.member(field, |w| quoted_display(w, &format_args!("{value:?}")));
    }
}

/// The JSON text of one event as a map, without the line end.
fn json_map_line(event: &tracing::Event<'_>) -> String {
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
mod tests {
    use super::*;
    use crate::logging::tests::Buffer;

    /// Events with every kind of value and the strings JSON must escape.
    fn assorted_events() {
        let error = std::io::Error::other("disk \"full\"\n");
        tracing::info!(
            target: "arca::request",
            method = "GET",
            path = "/secrets/x?q=\"quoted\"&b=a\\b",
            status = 200_u16,
            duration_ms = 1.5,
            whole = 2.0,
            not_a_number = f64::NAN,
            negative = -3_i64,
            big = u64::MAX,
            flag = false,
            empty = "",
            accented = "é ✓",
            controls = "\u{0}\u{8}\t\n\u{c}\r\u{1b}\u{1f}\u{7f}",
            request_id = %"abc-1",
            debugged = ?Some("x\"y"),
            "request"
        );
        tracing::warn!(error = &error as &dyn std::error::Error, "plain {}", 7);
        tracing::error!(message = "a message field", other = "x");
        // Names that take the line's own members, or repeat: the map's way.
        tracing::info!(level = "mine", "own member");
        tracing::info!(target: "t", timestamp = 5_u64, "own member");
    }

    fn lines_of(
        format: impl FormatEvent<
                tracing_subscriber::Registry,
                tracing_subscriber::fmt::format::DefaultFields,
            > + Send
            + Sync
            + 'static,
    ) -> Vec<(String, serde_json::Value)> {
        let buffer = Buffer::default();
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .event_format(format)
            .finish();
        tracing::subscriber::with_default(subscriber, assorted_events);
        buffer
            .text()
            .lines()
            .map(|line| {
                let value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                (line.to_owned(), value)
            })
            .collect()
    }

    #[test]
    fn json_lines_hold_what_the_map_holds() {
        let fast = lines_of(JsonLines::<false>);
        let map = lines_of(JsonLines::<true>);
        assert_eq!(fast.len(), 5);
        assert_eq!(map.len(), 5);
        for ((fast_text, mut fast), (_, mut map)) in fast.into_iter().zip(map) {
            let mut times = [&mut fast, &mut map].map(|line| {
                line.as_object_mut()
                    .and_then(|o| o.remove("timestamp"))
                    .unwrap_or_default()
            });
            // The clock's (which differ between the runs) or an event's own (which do not).
            if let [serde_json::Value::String(a), serde_json::Value::String(b)] = &mut times {
                assert_eq!((a.len(), b.len()), (27, 27), "{a} {b}");
                a.clear();
                b.clear();
            }
            assert_eq!(times[0], times[1]);
            assert_eq!(fast, map, "{fast_text}");
        }
    }

    #[test]
    fn json_lines_carry_every_field_typed_and_escaped() {
        let lines = lines_of(JsonLines::<false>);
        let (text, first) = &lines[0];
        // Written directly: the line's own members first, then the fields in order.
        assert!(
            text.starts_with("{\"timestamp\":\"") && text.contains("\",\"level\":\"INFO\",\"target\":\"arca::request\",\"message\":\"request\",\"method\":\"GET\""),
            "{text}"
        );
        assert_eq!(first["status"], 200);
        assert_eq!(first["duration_ms"], 1.5);
        assert_eq!(first["whole"], 2.0);
        assert_eq!(first["not_a_number"], "NaN");
        assert_eq!(first["big"], u64::MAX);
        assert_eq!(first["negative"], -3);
        assert_eq!(first["flag"], false);
        assert_eq!(first["path"], "/secrets/x?q=\"quoted\"&b=a\\b");
        assert_eq!(first["controls"], "\u{0}\u{8}\t\n\u{c}\r\u{1b}\u{1f}\u{7f}");
        assert!(
            text.contains(r#""controls":"\u0000\b\t\n\f\r\u001b\u001f"#),
            "{text}"
        );
        assert_eq!(first["accented"], "é ✓");
        assert_eq!(first["request_id"], "abc-1");
        assert_eq!(first["debugged"], "Some(\"x\\\"y\")");
        assert_eq!(lines[1].1["error"], "disk \"full\"\n");
        assert_eq!(lines[1].1["message"], "plain 7");
        assert_eq!(lines[3].1["level"], "mine");
        assert_eq!(lines[4].1["timestamp"], 5);
    }
}
