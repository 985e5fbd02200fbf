//! What every admin subcommand shares: the connection options (where bootstrap.json is, the
//! output format), the one request a command makes and how its answer is shown, the run itself
//! (runtime, login, call through `arca-client`, printing) and the one exit path. It knows no
//! command; each command module only says which typed request it makes and how to draw the
//! typed answer.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;

use arca_client::{load_bootstrap, AdminClient, Credentials, Request};
use clap::{Args, Subcommand};
use hyper::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use zeroize::Zeroizing;

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

/// How a successful answer of type `A` is shown.
pub enum Shown<A> {
    /// `--output json` prints the answer; `--output table` what this function draws from it.
    Answer(fn(&A) -> String),
    /// A deletion, answered 204 without a body: `deleted <what> <id>`, or `{"deleted": id}`.
    Deleted { what: &'static str, id: String },
}

/// One request to the admin API, described and ready to be made. The description (method, path,
/// body, expected status) is what the tests check a command would send, without sending it.
#[cfg_attr(not(test), allow(dead_code))]
pub struct Call {
    pub method: Method,
    pub path: String,
    /// The JSON body as sent (wiped when dropped: it may hold a CA's private key).
    pub body: Option<SentBody>,
    /// The status that means success.
    pub expected: StatusCode,
    exchange: Box<dyn Exchange>,
}

impl Call {
    /// A request whose answer is shown by `table` (or printed as JSON).
    pub fn answer<A>(request: Request<A>, table: fn(&A) -> String) -> Self
    where
        A: DeserializeOwned + Serialize + 'static,
    {
        Self::new(request, Shown::Answer(table))
    }

    /// A deletion of the `what` named `id`.
    pub fn deleted(request: Request<()>, what: &'static str, id: &str) -> Self {
        Self::new(
            request,
            Shown::Deleted {
                what,
                id: id.to_owned(),
            },
        )
    }

    fn new<A>(request: Request<A>, shown: Shown<A>) -> Self
    where
        A: DeserializeOwned + Serialize + 'static,
    {
        Self {
            method: request.method(),
            path: request.path().to_owned(),
            body: request
                .body()
                .map(|b| SentBody(Zeroizing::new(String::from_utf8_lossy(b).into_owned()))),
            expected: request.expected(),
            exchange: Box::new(Typed { request, shown }),
        }
    }
}

/// A request body as text, wiped when dropped, with a `Debug` that shows its length only.
#[derive(PartialEq, Eq)]
pub struct SentBody(Zeroizing<String>);

impl std::ops::Deref for SentBody {
    type Target = str;

    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl std::fmt::Debug for SentBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SentBody([{} bytes])", self.0.len())
    }
}

/// The text a command prints; it may hold a new secret, so it is wiped when dropped.
type Printed = Zeroizing<String>;

/// Makes the request and draws the answer, whatever its type.
trait Exchange {
    fn run<'a>(
        &'a self,
        client: &'a AdminClient,
        output: Output,
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<Printed>> + 'a>>;
}

struct Typed<A> {
    request: Request<A>,
    shown: Shown<A>,
}

impl<A: DeserializeOwned + Serialize + 'static> Exchange for Typed<A> {
    fn run<'a>(
        &'a self,
        client: &'a AdminClient,
        output: Output,
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<Printed>> + 'a>> {
        Box::pin(async move {
            let answer = client.send_request(&self.request).await?;
            render(output, &self.shown, &answer)
        })
    }
}

/// The `--output json` line of a deletion.
#[derive(Serialize)]
struct DeletedJson<'a> {
    deleted: &'a str,
}

/// What the command prints for a successful answer.
fn render<A: Serialize>(output: Output, shown: &Shown<A>, answer: &A) -> anyhow::Result<Printed> {
    Ok(Zeroizing::new(match (shown, output) {
        (Shown::Deleted { what, id }, Output::Table) => format!("deleted {what} {id}\n"),
        (Shown::Deleted { id, .. }, Output::Json) => {
            format!("{}\n", serde_json::to_string(&DeletedJson { deleted: id })?)
        }
        (Shown::Answer(table), Output::Table) => table(answer),
        (Shown::Answer(_), Output::Json) => {
            let text = Zeroizing::new(serde_json::to_string_pretty(answer)?);
            format!("{}\n", text.as_str())
        }
    }))
}

async fn run(connection: &Connection, call: Call) -> anyhow::Result<()> {
    let path = connection
        .bootstrap
        .clone()
        .unwrap_or_else(|| connection.data_dir.join("bootstrap.json"));
    let bootstrap = load_bootstrap(&path)?;
    let credentials = Credentials::from_env_or(&bootstrap)?;
    let mut client = AdminClient::new(&bootstrap)?;
    client.login(&credentials).await?;
    let printed = call.exchange.run(&client, connection.output).await?;
    print!("{}", printed.as_str());
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
    use arca_proto::admin::{List, SigningKey};

    use super::*;

    #[test]
    fn deletions_print_what_was_deleted() {
        let shown = Shown::<()>::Deleted {
            what: "principal",
            id: "ci".into(),
        };
        assert_eq!(
            render(Output::Table, &shown, &()).unwrap().as_str(),
            "deleted principal ci\n"
        );
        assert_eq!(
            render(Output::Json, &shown, &()).unwrap().as_str(),
            "{\"deleted\":\"ci\"}\n"
        );
    }

    #[test]
    fn json_output_is_the_answer() {
        let answer = List::new(vec![SigningKey {
            active: true,
            created: None,
            kid: "k".into(),
            retires: Some(1),
        }]);
        let printed = render(Output::Json, &Shown::Answer(|_| String::new()), &answer).unwrap();
        assert_eq!(
            printed.as_str(),
            "{\n  \"value\": [\n    {\n      \"active\": true,\n      \"created\": null,\n      \"kid\": \"k\",\n      \"retires\": 1\n    }\n  ]\n}\n"
        );
    }

    #[test]
    fn calls_describe_their_request() {
        let call = Call::deleted(Request::delete_role("a b").unwrap(), "role", "a b");
        assert_eq!(
            (call.method, call.path.as_str(), call.expected, call.body),
            (
                Method::DELETE,
                "/admin/roles/a%20b",
                StatusCode::NO_CONTENT,
                None
            )
        );
    }
}
