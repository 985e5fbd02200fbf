//! What every admin subcommand shares: the connection options (where bootstrap.json is, the
//! output format), the one request a command makes and how its answer is shown, the run itself
//! (runtime, login, call, status check, printing) and the one exit path. It knows no command;
//! each command module only says which request it makes and how to draw the answer.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use hyper::{Method, StatusCode};
use serde_json::{json, Value};
use zeroize::{Zeroize, Zeroizing};

use crate::client::{error_message, AdminClient, Bootstrap, Credentials};
use crate::output::Output;

/// The options every admin subcommand takes, after any of its words (listed last in help).
#[derive(Args)]
#[command(next_display_order = 1000)]
pub struct Connection {
    /// Data directory of the server, whose bootstrap.json holds the credentials.
    #[arg(
        long,
        global = true,
        env = "ARCA_DATA_DIR",
        default_value = "./arca-data"
    )]
    data_dir: PathBuf,
    /// Bootstrap file to use instead of <data-dir>/bootstrap.json.
    #[arg(long, global = true, env = "ARCA_BOOTSTRAP")]
    bootstrap: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

/// One group of admin subcommands (`arca vault ...`, `arca role ...`) with the shared options.
#[derive(Args)]
pub struct AdminArgs<C: Subcommand> {
    #[command(subcommand)]
    pub command: C,
    #[command(flatten)]
    pub connection: Connection,
}

/// A command of the admin API: the one request it makes.
pub trait Operation {
    /// Builds the request, reading any file it names, before anything is sent: a local mistake
    /// is reported without contacting the server.
    fn call(&self) -> anyhow::Result<Call>;
}

/// How a successful answer is shown.
pub enum Shown {
    /// `--output json` prints the answer; `--output table` what this function draws from it.
    Answer(fn(&Value) -> String),
    /// A deletion, answered 204 without a body: `deleted <what> <id>`, or `{"deleted": id}`.
    Deleted { what: &'static str, id: String },
}

/// One request to the admin API and the status that means success.
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    pub expected: StatusCode,
    pub shown: Shown,
}

impl Call {
    pub fn get(path: String, table: fn(&Value) -> String) -> Self {
        Self::new(Method::GET, path, None, StatusCode::OK, table)
    }

    pub fn create(path: String, body: Value, table: fn(&Value) -> String) -> Self {
        Self::new(Method::POST, path, Some(body), StatusCode::CREATED, table)
    }

    pub fn put(path: String, body: Value, table: fn(&Value) -> String) -> Self {
        Self::new(Method::PUT, path, Some(body), StatusCode::OK, table)
    }

    pub fn delete(path: String, what: &'static str, id: &str) -> Self {
        Self {
            method: Method::DELETE,
            path,
            body: None,
            expected: StatusCode::NO_CONTENT,
            shown: Shown::Deleted {
                what,
                id: id.to_owned(),
            },
        }
    }

    pub fn new(
        method: Method,
        path: String,
        body: Option<Value>,
        expected: StatusCode,
        table: fn(&Value) -> String,
    ) -> Self {
        Self {
            method,
            path,
            body,
            expected,
            shown: Shown::Answer(table),
        }
    }
}

/// Percent-encodes a client id, name or id as one path segment (`/` and `.` included, so that
/// no value can reach another route), refusing an empty one.
pub fn segment(value: &str) -> anyhow::Result<String> {
    if value.is_empty() {
        anyhow::bail!("an empty name or id was given");
    }
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'~' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Ok(out)
}

/// `path?name=value&...` with the filters that were given.
pub fn with_query(path: &str, filters: &[(&str, Option<&String>)]) -> anyhow::Result<String> {
    let given: Vec<(&str, &str)> = filters
        .iter()
        .filter_map(|(name, value)| value.map(|v| (*name, v.as_str())))
        .collect();
    if given.is_empty() {
        return Ok(path.to_owned());
    }
    Ok(format!("{path}?{}", serde_urlencoded::to_string(given)?))
}

/// What the command prints for a successful answer.
fn render(output: Output, shown: &Shown, answer: &Value) -> anyhow::Result<String> {
    Ok(match (shown, output) {
        (Shown::Deleted { what, id }, Output::Table) => format!("deleted {what} {id}\n"),
        (Shown::Deleted { id, .. }, Output::Json) => format!("{}\n", json!({ "deleted": id })),
        (Shown::Answer(table), Output::Table) => table(answer),
        (Shown::Answer(_), Output::Json) => format!("{}\n", serde_json::to_string_pretty(answer)?),
    })
}

/// Overwrites every string of an answer (one may be a client secret) before it is dropped.
fn scrub(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(values) => values.iter_mut().for_each(scrub),
        Value::Object(members) => members.values_mut().for_each(scrub),
        _ => {}
    }
}

async fn run(connection: &Connection, call: Call) -> anyhow::Result<()> {
    let path = connection
        .bootstrap
        .clone()
        .unwrap_or_else(|| connection.data_dir.join("bootstrap.json"));
    let bootstrap = Bootstrap::load(&path)?;
    let credentials = Credentials::from_env_or(&bootstrap)?;
    let mut client = AdminClient::new(&bootstrap)?;
    client.login(&bootstrap.tenant_id, &credentials).await?;
    let (status, mut answer) = client.call(call.method, &call.path, call.body).await?;
    if status != call.expected {
        anyhow::bail!("{}", error_message(status, &answer));
    }
    let printed = render(connection.output, &call.shown, &answer).map(Zeroizing::new);
    scrub(&mut answer);
    print!("{}", printed?.as_str());
    Ok(())
}

/// Runs one admin command: exit 0 on success, 1 with `arca: <why>` on standard error otherwise
/// (usage errors never get here: clap exits 2 for them).
pub fn main(connection: &Connection, operation: &dyn Operation) -> ExitCode {
    let call = match operation.call() {
        Ok(call) => call,
        Err(e) => return failure(&e),
    };
    let mut runtime = tokio::runtime::Builder::new_current_thread();
    match crate::block_on(&mut runtime, run(connection, call)) {
        Err(code) => code,
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => failure(&e),
    }
}

fn failure(e: &anyhow::Error) -> ExitCode {
    eprintln!("arca: {e:#}");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_leave_their_place_in_the_path() {
        assert_eq!(
            segment("Key Vault Administrator").unwrap(),
            "Key%20Vault%20Administrator"
        );
        assert_eq!(segment("..").unwrap(), "%2E%2E");
        assert_eq!(segment("a/b?c#d").unwrap(), "a%2Fb%3Fc%23d");
        assert_eq!(segment("é").unwrap(), "%C3%A9");
        let id = "6f1c2a8e-0b7d-4a51-9c3e-2f4b5d6e7a8b";
        assert_eq!(segment(id).unwrap(), id);
        assert!(segment("").is_err());
    }

    #[test]
    fn queries_carry_only_the_filters_given() {
        let p = "ci".to_owned();
        let s = "/vaults/team a".to_owned();
        assert_eq!(with_query("/x", &[("principal", None)]).unwrap(), "/x");
        assert_eq!(
            with_query("/x", &[("principal", Some(&p)), ("scope", Some(&s))]).unwrap(),
            "/x?principal=ci&scope=%2Fvaults%2Fteam+a"
        );
        assert_eq!(
            with_query("/x", &[("principal", None), ("scope", Some(&s))]).unwrap(),
            "/x?scope=%2Fvaults%2Fteam+a"
        );
    }

    #[test]
    fn deletions_print_what_was_deleted() {
        let shown = Shown::Deleted {
            what: "principal",
            id: "ci".into(),
        };
        assert_eq!(
            render(Output::Table, &shown, &Value::Null).unwrap(),
            "deleted principal ci\n"
        );
        assert_eq!(
            render(Output::Json, &shown, &Value::Null).unwrap(),
            "{\"deleted\":\"ci\"}\n"
        );
    }

    #[test]
    fn json_output_is_the_answer() {
        let answer = json!({"name": "x", "n": [1]});
        let printed = render(Output::Json, &Shown::Answer(|_| String::new()), &answer).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&printed).unwrap(), answer);
        assert!(printed.ends_with("}\n") && printed.contains("\n  "));
    }

    #[test]
    fn scrub_overwrites_every_string() {
        let mut answer = json!({"secret": "abc", "list": ["d"], "n": 1});
        scrub(&mut answer);
        assert_eq!(answer, json!({"secret": "", "list": [""], "n": 1}));
    }
}
