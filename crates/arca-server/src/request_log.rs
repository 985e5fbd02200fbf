//! The request log: one line at info level per request, written when its response is ready
//! (see `router::dispatch`): method, host, path (query values that may carry secrets removed),
//! status, duration, request id, client request id, the caller's object id, the data-plane
//! operation and the authorization outcome.
//!
//! What only a handler knows (who the caller is, which role allowed the request or why it was
//! refused) is noted while the request is served, in a record the dispatcher makes current for
//! the request's task ([`Notes::scope`]); code running outside a request notes nothing. Nothing
//! noted here is a credential: object ids, role names, scopes and fixed reasons only. Headers
//! are never logged, so neither a token nor the identity header can reach the log.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::{Arc, Mutex};

tokio::task_local! {
    static CURRENT: Arc<Mutex<Notes>>;
}

/// Longest host, path or client request id written to the log; longer ones are cut.
const MAX_FIELD_CHARS: usize = 512;

/// The authorization outcome of a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Outcome {
    /// Nothing was decided (health checks, unknown paths, discovery documents).
    #[default]
    None,
    /// Allowed, by the named role through an assignment at the named scope.
    Allowed { role: String, scope: String },
    /// A token was issued (identity endpoints).
    Issued,
    /// Refused, and why.
    Refused(Cow<'static, str>),
}

impl Outcome {
    /// The outcome's word in the log: `allowed`, `issued`, `refused` or `-`.
    pub(crate) fn word(&self) -> &'static str {
        match self {
            Outcome::None => "-",
            Outcome::Allowed { .. } => "allowed",
            Outcome::Issued => "issued",
            Outcome::Refused(_) => "refused",
        }
    }
}

/// The authorization decision of a data-plane request, as the audit record will carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecisionNote {
    /// The operation asked for.
    pub operation: arca_core::Operation,
    pub allowed: bool,
    /// The resource decided on, in canonical scope form.
    pub resource: String,
    /// The assignment that granted the operation, when allowed.
    pub assignment_id: Option<String>,
    pub reason: &'static str,
}

/// What the handlers of one request noted for its log line (and, later, its audit record).
#[derive(Debug, Default)]
pub(crate) struct Notes {
    /// The object id of the authenticated caller (or of the principal a token was issued to).
    pub caller: Option<String>,
    pub outcome: Outcome,
    /// The operation and its decision, for data-plane requests that reached authorization.
    pub decision: Option<DecisionNote>,
}

impl Notes {
    /// Runs `future` with `notes` as the current request's record.
    pub(crate) async fn scope<F: Future>(notes: Arc<Mutex<Notes>>, future: F) -> F::Output {
        CURRENT.scope(notes, future).await
    }
}

fn with(change: impl FnOnce(&mut Notes)) {
    let _ = CURRENT.try_with(|notes| {
        let mut notes = notes.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut notes);
    });
}

/// Notes the caller's object id.
pub(crate) fn caller(object_id: &str) {
    with(|n| n.caller = Some(object_id.to_owned()));
}

/// Notes that the request was allowed by `role` through an assignment at `scope`.
pub(crate) fn allowed(role: Option<&str>, scope: Option<&str>) {
    with(|n| {
        n.outcome = Outcome::Allowed {
            role: role.unwrap_or("-").to_owned(),
            scope: scope.unwrap_or("-").to_owned(),
        }
    });
}

/// Notes the decision about `operation`: allowed (with the granting role and scope) or
/// refused (with its reason), and the decision itself for the audit record.
pub(crate) fn decided(operation: arca_core::Operation, decision: &arca_core::authz::Decision<'_>) {
    with(|n| {
        n.decision = Some(DecisionNote {
            operation,
            allowed: decision.allowed,
            resource: decision.resource.to_string(),
            assignment_id: decision.assignment_id.map(str::to_owned),
            reason: decision.reason,
        });
    });
    if decision.allowed {
        allowed(decision.role_name, decision.assignment_scope);
    } else {
        refused(describe(
            decision.reason,
            decision.action,
            decision.resource,
        ));
    }
}

/// Notes that a token was issued to the principal `object_id`.
pub(crate) fn issued(object_id: &str) {
    with(|n| {
        n.caller = Some(object_id.to_owned());
        n.outcome = Outcome::Issued;
    });
}

/// Notes that the request was refused, and why. `reason` must not quote request contents.
pub(crate) fn refused(reason: impl Into<Cow<'static, str>>) {
    let reason = reason.into();
    with(|n| n.outcome = Outcome::Refused(reason));
}

/// Query parameters whose values are written to the log: none of them carries a credential.
/// Every other parameter is written by name with its value replaced.
const SHOWN_PARAMETERS: [&str; 9] = [
    "api-version",
    "maxresults",
    "outcontenttype",
    "resource",
    "client_id",
    "clientid",
    "object_id",
    "principal_id",
    "mi_res_id",
];

/// The path and query of a request as logged: values of parameters not in
/// [`SHOWN_PARAMETERS`] become `REDACTED`, and the whole is cut to [`MAX_FIELD_CHARS`].
pub(crate) fn loggable_target(path: &str, query: Option<&str>) -> String {
    let mut out = String::with_capacity(path.len() + query.map_or(0, str::len) + 1);
    out.push_str(path);
    if let Some(query) = query {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((name, value)) => {
                    out.push_str(name);
                    out.push('=');
                    let shown = SHOWN_PARAMETERS
                        .iter()
                        .any(|p| p.eq_ignore_ascii_case(name));
                    out.push_str(if shown { value } else { "REDACTED" });
                }
                None => out.push_str(pair),
            }
        }
    }
    cut(out)
}

/// `text` cut to [`MAX_FIELD_CHARS`] characters.
pub(crate) fn cut(mut text: String) -> String {
    // No more bytes than the limit means no more characters: the common case, without decoding.
    if text.len() <= MAX_FIELD_CHARS {
        return text;
    }
    if let Some((at, _)) = text.char_indices().nth(MAX_FIELD_CHARS) {
        text.truncate(at);
        text.push('…');
    }
    text
}

/// The duration in milliseconds, to the microsecond.
pub(crate) fn millis(elapsed: std::time::Duration) -> f64 {
    let micros = u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX);
    f64::from(micros) / 1000.0
}

/// The reason of a refused outcome, or `-`.
pub(crate) fn reason(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Refused(r) => r,
        _ => "-",
    }
}

/// A refusal reason naming the action refused and the scope it was asked at.
pub(crate) fn describe(reason: &str, action: &str, scope: &dyn std::fmt::Display) -> String {
    let mut out = String::with_capacity(reason.len() + action.len() + 48);
    let _ = write!(out, "{reason} (action {action} at {scope})");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_harmless_query_values_are_kept() {
        assert_eq!(
            loggable_target(
                "/secrets/a",
                Some("api-version=7.5&$skiptoken=abc&Resource=https://x&password=hunter2&flag")
            ),
            "/secrets/a?api-version=7.5&$skiptoken=REDACTED&Resource=https://x&password=REDACTED&flag"
        );
        assert_eq!(loggable_target("/healthz", None), "/healthz");
        let long = loggable_target(&"/a".repeat(600), None);
        assert_eq!(long.chars().count(), MAX_FIELD_CHARS + 1);
        // The limit counts characters, not bytes.
        let at_limit = "a".repeat(MAX_FIELD_CHARS);
        assert_eq!(cut(at_limit.clone()), at_limit);
        let wide_at_limit = "é".repeat(MAX_FIELD_CHARS);
        assert_eq!(cut(wide_at_limit.clone()), wide_at_limit);
        let wide = cut("é".repeat(MAX_FIELD_CHARS + 1));
        assert_eq!(wide, "é".repeat(MAX_FIELD_CHARS) + "…");
    }

    #[tokio::test]
    async fn notes_are_kept_only_inside_a_request() {
        refused("outside");
        let notes = Arc::new(Mutex::new(Notes::default()));
        Notes::scope(notes.clone(), async {
            caller("oid-1");
            allowed(Some("Reader"), Some("/vaults/v"));
        })
        .await;
        let notes = notes.lock().unwrap_or_else(|p| p.into_inner());
        assert_eq!(notes.caller.as_deref(), Some("oid-1"));
        assert_eq!(notes.outcome.word(), "allowed");
        assert_eq!(
            notes.outcome,
            Outcome::Allowed {
                role: "Reader".into(),
                scope: "/vaults/v".into()
            }
        );
        assert_eq!(millis(std::time::Duration::from_micros(1500)), 1.5);
    }
}
