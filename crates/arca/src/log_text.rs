//! The text log format: exactly the lines of `tracing_subscriber`'s default format (timestamp,
//! level, target, `name=value` fields), preceded by `request{id=..}` when the event was raised
//! while serving a request, written with less work. Every request writes one such line of sixteen
//! fields, and the default path formats each piece through `core::fmt` with colour wrappers even
//! when colours are off, which cost a request about as much as its authorization. Here the
//! timestamp's date and time are formatted once a second per thread, and strings of printable
//! ASCII, integers and booleans are written directly; anything else (a span around the event,
//! colours on a terminal, a string that needs escaping, a field of unusual name) goes to
//! `tracing_subscriber`'s own code, so the text is the same either way. The tests compare the two.
//! Nothing here decides what a line contains: that is the caller's (`request_log`'s) rule.

use std::cell::Cell;

use tracing::field::{Field, Visit};
use tracing_subscriber::field::{RecordFields, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultFields, DefaultVisitor, Format, Full, Writer};
use tracing_subscriber::fmt::time::SystemTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The event format of text lines (use with [`TextFields`]).
#[derive(Default)]
pub struct TextLines {
    default: Format<Full, SystemTime>,
}

impl<S, N> FormatEvent<S, N> for TextLines
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        if let Some(id) = arca_server::request_id::current() {
            write!(writer, "request{{id={id}}} ")?;
        }
        if writer.has_ansi_escapes() || ctx.event_scope().is_some() {
            return self.default.format_event(ctx, writer, event);
        }
        let meta = event.metadata();
        timestamp(&mut writer)?;
        writer.write_str(level(meta.level()))?;
        writer.write_char(' ')?;
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

/// The level as the default format writes it without colours (five characters).
fn level(level: &tracing::Level) -> &'static str {
    match *level {
        tracing::Level::TRACE => "TRACE",
        tracing::Level::DEBUG => "DEBUG",
        tracing::Level::INFO => " INFO",
        tracing::Level::WARN => " WARN",
        tracing::Level::ERROR => "ERROR",
    }
}

/// The last second whose `YYYY-MM-DDTHH:MM:SS` this thread formatted.
struct Second {
    unix: u64,
    text: [u8; 19],
}

thread_local! {
    static SECOND: Cell<Option<Second>> = const { Cell::new(None) };
}

/// The latest second the fast path formats (9999-12-31T23:59:59Z); later ones, and times before
/// 1970, are left to `tracing_subscriber`.
const LAST_SECOND: u64 = 253_402_300_799;

/// Writes the current time as the default format does (`2026-12-03T18:30:03.615814Z `).
fn timestamp(writer: &mut Writer<'_>) -> std::fmt::Result {
    match Timestamp::now() {
        Some(now) => writer.write_str(now.as_str())?,
        None => {
            use tracing_subscriber::fmt::time::FormatTime;
            if SystemTime.format_time(writer).is_err() {
                writer.write_str("<unknown time>")?;
            }
        }
    }
    writer.write_char(' ')
}

/// The current time in the default format's form, `2026-12-03T18:30:03.615814Z` (UTC, to the
/// microsecond); also the JSON lines' `timestamp`.
pub struct Timestamp([u8; 27]);

impl Timestamp {
    /// Now, unless the clock is before 1970 or after [`LAST_SECOND`].
    pub fn now() -> Option<Timestamp> {
        // The log's timestamps are the wall clock, as in `tracing_subscriber`'s own `SystemTime`
        // (nothing depends on them); the injected clock is for what the server decides.
        #[allow(clippy::disallowed_methods)]
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .filter(|since| since.as_secs() <= LAST_SECOND)?;
        let unix = since.as_secs();
        let date = SECOND.with(|cell| {
            let second = match cell.take() {
                Some(second) if second.unix == unix => second,
                _ => Second {
                    unix,
                    text: date_time(unix),
                },
            };
            let text = second.text;
            cell.set(Some(second));
            text
        });
        let mut text = *b"0000-00-00T00:00:00.000000Z";
        text[..19].copy_from_slice(&date);
        put_digits(&mut text[20..26], u64::from(since.subsec_micros()));
        Some(Timestamp(text))
    }

    pub fn as_str(&self) -> &str {
        // ASCII digits and separators only, by construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// `value`'s last `out.len()` decimal digits, zero-padded.
fn put_digits(out: &mut [u8], mut value: u64) {
    for digit in out.iter_mut().rev() {
        // `value % 10` is below 10.
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// `YYYY-MM-DDTHH:MM:SS` of a Unix second up to [`LAST_SECOND`] (proleptic Gregorian calendar;
/// the days-to-civil conversion of H. Hinnant's "chrono-Compatible Low-Level Date Algorithms").
fn date_time(unix: u64) -> [u8; 19] {
    let (days, second_of_day) = (unix / 86_400, unix % 86_400);
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    let mut text = *b"0000-00-00T00:00:00";
    put_digits(&mut text[0..4], year);
    put_digits(&mut text[5..7], month);
    put_digits(&mut text[8..10], day);
    put_digits(&mut text[11..13], second_of_day / 3_600);
    put_digits(&mut text[14..16], second_of_day / 60 % 60);
    put_digits(&mut text[17..19], second_of_day % 60);
    text
}

/// The fields of a text line exactly as `tracing_subscriber`'s default (`name=value` with the
/// value's `Debug` form, separated by spaces), with less work for the common values: a string of
/// printable ASCII without `"` or `\` (whose `Debug` form is itself in quotes), an integer or a
/// boolean is written directly, and any other value through `Debug` without the colour wrappers.
/// The message, a field of unusual name, and every field when the writer colours its output go
/// to the default visitor.
pub struct TextFields;

impl<'writer> FormatFields<'writer> for TextFields {
    fn format_fields<R: RecordFields>(
        &self,
        writer: Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        if writer.has_ansi_escapes() {
            return DefaultFields::new().format_fields(writer, fields);
        }
        let mut visitor = TextVisitor {
            writer,
            is_empty: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct TextVisitor<'a> {
    writer: Writer<'a>,
    is_empty: bool,
    result: std::fmt::Result,
}

/// Whether `value`'s `Debug` form is `value` in quotes.
fn is_plain(value: &str) -> bool {
    value
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// Whether the default visitor writes `name=` and the value's `Debug` form for this field: not
/// for the message (which it sanitizes), a raw identifier or a field of the `log` bridge.
fn is_plain_name(name: &str) -> bool {
    name != "message" && !name.starts_with("r#") && !name.starts_with("log.")
}

impl TextVisitor<'_> {
    /// Writes the separating space and `name=`.
    fn start(&mut self, name: &str) -> std::fmt::Result {
        if !std::mem::replace(&mut self.is_empty, false) {
            self.writer.write_char(' ')?;
        }
        self.writer.write_str(name)?;
        self.writer.write_char('=')
    }

    /// Lets the default visitor write one field.
    fn default_for(&mut self, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        let mut visitor = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        record(&mut visitor);
        self.result = visitor.finish();
        self.is_empty = false;
    }

    /// Writes `name=` and `value`'s `Debug` form, or lets the default visitor write it.
    fn debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        if !is_plain_name(field.name()) {
            return self.default_for(|v| v.record_debug(field, value));
        }
        self.result = self
            .start(field.name())
            .and_then(|()| write!(self.writer, "{value:?}"));
    }
}

impl Visit for TextVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.result.is_err() {
            return;
        }
        if !is_plain_name(field.name()) || !is_plain(value) {
            return self.default_for(|v| v.record_str(field, value));
        }
        self.result = self.start(field.name()).and_then(|()| {
            self.writer.write_char('"')?;
            self.writer.write_str(value)?;
            self.writer.write_char('"')
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.debug(field, &value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.debug(field, &value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.debug(field, &value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.debug(field, &value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.result.is_ok() {
            self.default_for(|v| v.record_error(field, value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.debug(field, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::tests::Buffer;

    /// Events with every kind of field value, plain and not, outside and inside a span.
    fn assorted_events() {
        let error = std::io::Error::other("disk \"full\"");
        tracing::info!(
            target: "arca::request",
            method = "GET",
            host = "a.vault.localhost:8443",
            path = "/secrets/x?api-version=7.5&q=\"quoted\"",
            status = 200_u16,
            duration_ms = 1.5,
            whole = 2.0,
            tiny = 1e-9,
            request_id = %"abc-1",
            caller = "-",
            negative = -3_i64,
            flag = true,
            empty = "",
            accented = "é",
            tab = "a\tb",
            escape = "\u{1b}[31m",
            backslash = "a\\b",
            r#type = "raw",
            debugged = ?Some("x"),
            "request"
        );
        tracing::warn!(error = &error as &dyn std::error::Error, "plain {}", 7);
        tracing::error!(message = "a message field", other = "x");
        tracing::debug!(number = 1_u64, "\u{1b}[2J in a message");
        tracing::trace!(target: "other::target", "only a message");
        let span = tracing::info_span!("outer", id = 5_u64, name = "span \"name\"");
        span.in_scope(|| tracing::info!(inside = "the span", "nested"));
    }

    /// The lines the events make, with the timestamps cut off (they differ between the runs).
    fn lines_of(fast: bool) -> Vec<String> {
        let buffer = Buffer::default();
        let sink = buffer.clone();
        let builder = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false);
        if fast {
            let subscriber = builder
                .fmt_fields(TextFields)
                .event_format(TextLines::default())
                .finish();
            tracing::subscriber::with_default(subscriber, assorted_events);
        } else {
            tracing::subscriber::with_default(builder.finish(), assorted_events);
        }
        buffer
            .text()
            .lines()
            .map(|line| {
                let (time, rest) = line.split_once(' ').unwrap_or_default();
                assert_eq!(time.len(), 27, "{line}");
                assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{line}");
                rest.to_owned()
            })
            .collect()
    }

    #[test]
    fn text_lines_are_exactly_the_default_format() {
        let fast = lines_of(true);
        assert_eq!(fast, lines_of(false));
        assert_eq!(fast.len(), 6, "{fast:#?}");
        let all = fast.join("\n");
        for expected in [
            " INFO arca::request: request method=\"GET\"",
            "status=200",
            "duration_ms=1.5 whole=2.0 tiny=1e-9 request_id=abc-1",
            "negative=-3",
            "flag=true",
            "empty=\"\"",
            "path=\"/secrets/x?api-version=7.5&q=\\\"quoted\\\"\"",
            "escape=\"\\u{1b}[31m\"",
            "type=\"raw\"",
            "\\x1b[2J in a message",
            "TRACE other::target: only a message",
            "outer{id=5 name=\"span \\\"name\\\"\"}: arca::log_text::tests: nested inside=\"the span\"",
        ] {
            assert!(all.contains(expected), "{expected} in {all}");
        }
    }

    #[test]
    fn timestamps_are_the_default_formats() {
        let cases: [(u64, &str); 6] = [
            (0, "1970-01-01T00:00:00"),
            (951_782_399, "2000-02-28T23:59:59"),
            (951_782_400, "2000-02-29T00:00:00"),
            (1_796_321_403, "2026-12-03T18:10:03"),
            (4_107_542_400, "2100-03-01T00:00:00"),
            (LAST_SECOND, "9999-12-31T23:59:59"),
        ];
        for (unix, text) in cases {
            assert_eq!(std::str::from_utf8(&date_time(unix)), Ok(text), "{unix}");
        }
        // Now, against tracing_subscriber's own formatting (again if a second passed between).
        for _ in 0..3 {
            let mut ours = String::new();
            let mut theirs = String::new();
            timestamp(&mut Writer::new(&mut ours)).expect("format");
            tracing_subscriber::fmt::time::FormatTime::format_time(
                &SystemTime,
                &mut Writer::new(&mut theirs),
            )
            .expect("format");
            assert_eq!(ours.len(), theirs.len() + 1, "{ours} {theirs}");
            if ours[..19] == theirs[..19] {
                return;
            }
        }
        panic!("the timestamps never agreed to the second");
    }
}
