//! Key release (secure key export): an exportable key leaves the vault only wrapped for a target
//! RSA key that an attestation token vouches for, and only when the token's claims satisfy the
//! key's release policy.
//!
//! The checks, in order: the proof; the version (current by default) is active and enabled
//! (`Disabled`, 403), exportable and has a release policy (`NotPermitted`, 403); `enc` is one of
//! Key Vault's three (400). Then the token: at most [`MAX_TOKEN_LEN`] bytes and a well-formed
//! JWS (400); its `iss` one of the vault's trusted issuers (`attestation`), its signature
//! verifying against that issuer's keys, `exp` present and `nbf`/`exp` holding on the engine's
//! clock within [`CLOCK_SKEW`] seconds (each `ReleaseRefused`, 403); the policy satisfied by the
//! claims, its authority being the issuer (403); an RSA encryption key of 2048 bits or more in
//! `x-ms-runtime.keys` (400). No message quotes the token, a claim or the policy.
//!
//! The policy grammar (Key Vault's "secure key release policy grammar"): `{"version": "1.0.0",
//! "anyOf": [authority, ...]}`, an authority being `{"authority": url, "allOf"|"anyOf":
//! [condition, ...]}`, a condition either nested `allOf`/`anyOf` or `{"claim": "a.b.c",
//! <operator>: value}` with the operators `equals`, `notEquals`, `less`, `lessOrEquals`,
//! `greater`, `greaterOrEquals` and `exists` (the form `{"claim", "condition", "value"}` is read
//! too). A claim that is absent meets no condition but `exists: false`. A key gets only a policy
//! valid by this grammar ([`check_policy`], at create, import and update).

use arca_core::{ObjectName, Operation, VersionId};
use arca_crypto::keys::{PublicKey, ReleaseEncryption};
use arca_crypto::{jws_unverified, verify_external_jws, MAX_TOKEN_LEN};
use arca_proto::keys::KeyReleasePolicy;
use serde_json::{Map, Value};

use super::{key_error, open_private, view_of, Meta, KIND};
use crate::objects::{self, require_object};
use crate::{attestation, Authorized, Engine, EngineError, EngineResult};
use arca_store::VaultRecord;

/// Seconds of clock difference tolerated on a token's `exp` and `nbf`.
pub const CLOCK_SKEW: i64 = 60;
/// Deepest nesting of `allOf`/`anyOf` a policy may use.
const MAX_POLICY_DEPTH: usize = 16;
/// Most conditions (of every level) a policy may hold.
const MAX_POLICY_CONDITIONS: usize = 1024;
/// Deepest dotted claim path.
const MAX_CLAIM_DEPTH: usize = 16;

/// What a release request asks for.
#[derive(Debug)]
pub struct ReleaseRequest {
    /// The attestation token (a compact JWS), redacted in `Debug`.
    pub target: arca_crypto::SecretString,
    pub nonce: Option<String>,
    pub enc: Option<String>,
}

/// A released key: the version's public view, and the key wrapped for the target as Key Vault's
/// `key_hsm` (base64url of `{"schema_version", "header": {"kid", "alg": "dir", "enc"},
/// "ciphertext"}`).
#[derive(Debug)]
pub struct Released {
    pub view: super::KeyView,
    pub key_hsm: String,
    /// The `enc` used.
    pub enc: &'static str,
    pub nonce: Option<String>,
}

fn refused(message: &str) -> EngineError {
    EngineError::ReleaseRefused(message.to_owned())
}

fn invalid(message: &str) -> EngineError {
    EngineError::Invalid(message.to_owned())
}

/// Releases a version (default: the current one) of an exportable key to the environment the
/// attestation token vouches for.
pub async fn release(
    engine: &Engine,
    auth: &Authorized,
    vault: &VaultRecord,
    name: &ObjectName,
    version: Option<&VersionId>,
    request: ReleaseRequest,
) -> EngineResult<Released> {
    require_object(auth, Operation::KeyRelease, &vault.name, name)?;
    let found = objects::active(engine, &vault.name, KIND, name, version).await?;
    if !found.version.enabled {
        return Err(EngineError::Disabled {
            kind: KIND,
            operation: "release",
        });
    }
    let meta: Meta = objects::open_meta(engine, &vault.name, KIND, name, &found.version)?;
    let not_exportable = EngineError::NotPermitted {
        kind: KIND,
        operation: "release",
        reason: crate::error::Refusal::NotAllowed,
    };
    if !meta.exportable {
        return Err(not_exportable);
    }
    let Some(policy) = meta.release_policy.as_ref() else {
        return Err(not_exportable);
    };
    let enc = match request.enc.as_deref() {
        None => ReleaseEncryption::CkmRsaAesKeyWrap,
        Some(name) => ReleaseEncryption::from_name(name).ok_or_else(|| {
            invalid(
                "enc must be CKM_RSA_AES_KEY_WRAP, RSA_AES_KEY_WRAP_256 or RSA_AES_KEY_WRAP_384.",
            )
        })?,
    };
    let policy = decode_policy(policy.data.as_deref())?;
    let (issuer, claims) = verified_claims(engine, &vault.name, request.target.expose()).await?;
    if !policy_allows(&policy, &issuer, &claims)? {
        return Err(refused(
            "The attestation token does not satisfy the key's release policy.",
        ));
    }
    let (target_kid, target) = target_key(&claims)?;
    let private = open_private(engine, &vault.name, name, &found.version)?;
    let blob = private.wrap_for_release(&target, enc).map_err(key_error)?;
    drop(private);
    let mut header = Map::new();
    if let Some(kid) = target_kid {
        header.insert("kid".into(), Value::String(kid));
    }
    header.insert("alg".into(), Value::String("dir".into()));
    header.insert("enc".into(), Value::String(enc.name().into()));
    let envelope = serde_json::json!({
        "schema_version": "1.0",
        "header": header,
        "ciphertext": crate::b64url(&blob),
    });
    let envelope = serde_json::to_vec(&envelope).map_err(|_| EngineError::Internal)?;
    Ok(Released {
        view: view_of(vault, &found.object, &found.version, meta),
        key_hsm: crate::b64url(&envelope),
        enc: enc.name(),
        nonce: request.nonce,
    })
}

// ---- the attestation token ----

/// The token's issuer and claims, once its issuer is trusted by the vault, its signature
/// verifies with that issuer's keys and its validity window holds.
async fn verified_claims(
    engine: &Engine,
    vault: &str,
    token: &str,
) -> EngineResult<(String, Map<String, Value>)> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(invalid(&format!(
            "The attestation token (target) is longer than {MAX_TOKEN_LEN} bytes."
        )));
    }
    let (header, unverified) = jws_unverified(token)
        .map_err(|_| invalid("The attestation token (target) is not a well-formed JWT."))?;
    let Some(iss) = unverified.get("iss").and_then(Value::as_str) else {
        return Err(invalid(
            "The attestation token (target) has no issuer (iss).",
        ));
    };
    let Some(trusted) = attestation::issuer(engine, vault, iss).await? else {
        return Err(refused(
            "The attestation token's issuer is not trusted by this vault.",
        ));
    };
    let keys = trusted.key_set()?;
    let kid = header.get("kid").and_then(Value::as_str);
    let claims = keys
        .keys_for(kid)
        .into_iter()
        .find_map(|key| verify_external_jws(token, key).ok())
        .ok_or_else(|| refused("The attestation token's signature does not verify."))?;
    // The verified claims, not the unverified ones, decide from here on.
    if claims.get("iss").and_then(Value::as_str) != Some(trusted.issuer.as_str()) {
        return Err(refused(
            "The attestation token's issuer is not trusted by this vault.",
        ));
    }
    check_window(&claims, engine.now())?;
    Ok((trusted.issuer, claims))
}

/// `exp` (required) and `nbf` (optional), numeric, against `now` with [`CLOCK_SKEW`].
fn check_window(claims: &Map<String, Value>, now: i64) -> EngineResult<()> {
    let time = |name: &str| claims.get(name).map(|v| v.as_f64().map(|t| t as i64));
    match time("exp") {
        None => return Err(refused("The attestation token has no expiry (exp).")),
        Some(None) => return Err(invalid("The attestation token's exp is not a number.")),
        Some(Some(exp)) if exp.saturating_add(CLOCK_SKEW) <= now => {
            return Err(refused("The attestation token has expired."))
        }
        Some(Some(_)) => {}
    }
    match time("nbf") {
        Some(None) => Err(invalid("The attestation token's nbf is not a number.")),
        Some(Some(nbf)) if nbf.saturating_sub(CLOCK_SKEW) > now => {
            Err(refused("The attestation token is not yet valid (nbf)."))
        }
        _ => Ok(()),
    }
}

/// The first RSA encryption key of the token's `x-ms-runtime.keys` (`use` or `key_use` `enc`,
/// or `key_ops` holding `encrypt`), with its `kid`.
fn target_key(claims: &Map<String, Value>) -> EngineResult<(Option<String>, PublicKey)> {
    let none =
        || invalid("The attestation token holds no RSA encryption key in x-ms-runtime.keys.");
    let keys = claims
        .get("x-ms-runtime")
        .and_then(|r| r.get("keys"))
        .and_then(Value::as_array)
        .ok_or_else(none)?;
    let for_encryption = |jwk: &&Value| {
        let text = |m: &str| jwk.get(m).and_then(Value::as_str);
        text("kty") == Some("RSA")
            && (text("use") == Some("enc")
                || text("key_use") == Some("enc")
                || jwk
                    .get("key_ops")
                    .and_then(Value::as_array)
                    .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("encrypt"))))
    };
    let jwk = keys.iter().find(for_encryption).ok_or_else(none)?;
    let map = jwk.as_object().ok_or_else(none)?;
    let key = PublicKey::from_jwk(map).map_err(|_| {
        invalid(
            "The target key in x-ms-runtime.keys must be an RSA key of 2048, 3072 or 4096 bits.",
        )
    })?;
    if key.rsa_bits().is_none_or(|bits| bits < 2048) {
        return Err(invalid(
            "The target key in x-ms-runtime.keys must be an RSA key of 2048 bits or more.",
        ));
    }
    let kid = map.get("kid").and_then(Value::as_str).map(str::to_owned);
    Ok((kid, key))
}

// ---- the release policy ----

fn bad_policy(why: &str) -> EngineError {
    EngineError::Invalid(format!("The key's release policy is not valid: {why}."))
}

/// The policy document of a stored `KeyReleasePolicy` (`data`, base64url of JSON).
fn decode_policy(data: Option<&str>) -> EngineResult<Value> {
    let data = data.ok_or_else(|| bad_policy("it has no data"))?;
    let bytes = crate::b64url_decode(data).ok_or_else(|| bad_policy("data is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| bad_policy("data is not JSON"))
}

/// Refuses a release policy that is not valid by the grammar (checked when a key gets one, at
/// create, import and update, so a release never meets a policy that cannot be read).
pub(super) fn check_policy(policy: &KeyReleasePolicy) -> EngineResult<()> {
    let document = decode_policy(policy.data.as_deref())?;
    policy_allows(&document, "", &Map::new()).map(|_| ())
}

/// A member looked up ignoring ASCII case (`anyOf`, `anyof`, `AnyOf` alike).
fn member<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Two issuer spellings name the same authority: equal but for ASCII case and trailing slashes
/// (policies write `https://host/`, tokens `https://host`).
fn same_authority(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// Whether the policy lets the claims of a token from `issuer` release the key. Errors only for
/// a policy that is not valid by the grammar or over the limits.
pub(crate) fn policy_allows(
    policy: &Value,
    issuer: &str,
    claims: &Map<String, Value>,
) -> EngineResult<bool> {
    let policy = policy
        .as_object()
        .ok_or_else(|| bad_policy("it is not a JSON object"))?;
    match member(policy, "version").and_then(Value::as_str) {
        Some("1.0.0" | "1.1.0" | "1.2.0") | None => {}
        Some(_) => return Err(bad_policy("its version is not 1.0.0, 1.1.0 or 1.2.0")),
    }
    let authorities = member(policy, "anyOf")
        .and_then(Value::as_array)
        .ok_or_else(|| bad_policy("it has no anyOf array of authorities"))?;
    let mut budget = MAX_POLICY_CONDITIONS;
    let mut allowed = false;
    // Every authority is checked, so a policy's validity does not depend on the token.
    for authority in authorities {
        let authority = authority
            .as_object()
            .ok_or_else(|| bad_policy("an authority is not an object"))?;
        let name = member(authority, "authority")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_policy("an authority has no authority URL"))?;
        let met = match (member(authority, "allOf"), member(authority, "anyOf")) {
            (Some(all), None) => group(all, true, claims, 1, &mut budget)?,
            (None, Some(any)) => group(any, false, claims, 1, &mut budget)?,
            _ => {
                return Err(bad_policy(
                    "an authority needs exactly one of allOf and anyOf",
                ))
            }
        };
        allowed |= met && same_authority(name, issuer);
    }
    Ok(allowed)
}

/// `allOf` (`all`) or `anyOf` over an array of conditions. Empty arrays are refused.
fn group(
    conditions: &Value,
    all: bool,
    claims: &Map<String, Value>,
    depth: usize,
    budget: &mut usize,
) -> EngineResult<bool> {
    if depth > MAX_POLICY_DEPTH {
        return Err(bad_policy("allOf and anyOf are nested too deeply"));
    }
    let conditions = conditions
        .as_array()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| bad_policy("allOf and anyOf need a non-empty array"))?;
    let mut results = Vec::with_capacity(conditions.len());
    for condition in conditions {
        results.push(condition_met(condition, claims, depth, budget)?);
    }
    Ok(if all {
        results.iter().all(|&r| r)
    } else {
        results.iter().any(|&r| r)
    })
}

const OPERATORS: [&str; 7] = [
    "equals",
    "notEquals",
    "less",
    "lessOrEquals",
    "greater",
    "greaterOrEquals",
    "exists",
];

fn condition_met(
    condition: &Value,
    claims: &Map<String, Value>,
    depth: usize,
    budget: &mut usize,
) -> EngineResult<bool> {
    *budget = budget
        .checked_sub(1)
        .ok_or_else(|| bad_policy("it holds too many conditions"))?;
    let condition = condition
        .as_object()
        .ok_or_else(|| bad_policy("a condition is not an object"))?;
    if let Some(all) = member(condition, "allOf") {
        return group(all, true, claims, depth + 1, budget);
    }
    if let Some(any) = member(condition, "anyOf") {
        return group(any, false, claims, depth + 1, budget);
    }
    let path = member(condition, "claim")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_policy("a condition has no claim"))?;
    let (operator, expected) = match member(condition, "condition").and_then(Value::as_str) {
        Some(op) => (op, member(condition, "value")),
        None => match OPERATORS
            .iter()
            .find_map(|op| member(condition, op).map(|v| (*op, Some(v))))
        {
            Some(found) => found,
            None => return Err(bad_policy("a condition has no operator")),
        },
    };
    let expected = expected.ok_or_else(|| bad_policy("a condition has no value"))?;
    if expected.is_object() || expected.is_array() || expected.is_null() {
        return Err(bad_policy(
            "a condition's value must be a string, number or boolean",
        ));
    }
    let actual = claim(claims, path)?;
    let operator = OPERATORS
        .iter()
        .find(|op| op.eq_ignore_ascii_case(operator))
        .ok_or_else(|| bad_policy("a condition's operator is not one the grammar knows"))?;
    Ok(compare(operator, actual, expected))
}

/// The claim at a dotted path; `None` when any step is absent or not an object.
fn claim<'a>(claims: &'a Map<String, Value>, path: &str) -> EngineResult<Option<&'a Value>> {
    let mut steps = path.split('.');
    if path.is_empty() || path.split('.').count() > MAX_CLAIM_DEPTH {
        return Err(bad_policy("a claim path is empty or too deep"));
    }
    let Some(first) = steps.next() else {
        return Ok(None);
    };
    let mut at = claims.get(first);
    for step in steps {
        at = at.and_then(|v| v.get(step));
    }
    Ok(at)
}

fn compare(operator: &str, actual: Option<&Value>, expected: &Value) -> bool {
    if operator == "exists" {
        return expected.as_bool() == Some(actual.is_some());
    }
    let Some(actual) = actual else {
        return false;
    };
    let ordered = || match (actual.as_f64(), expected.as_f64()) {
        (Some(a), Some(e)) => a.partial_cmp(&e),
        _ => None,
    };
    let equal = match (actual.as_f64(), expected.as_f64()) {
        (Some(a), Some(e)) => a == e,
        _ => actual == expected,
    };
    use std::cmp::Ordering::*;
    match operator {
        "equals" => equal,
        "notEquals" => !equal,
        "less" => ordered() == Some(Less),
        "lessOrEquals" => matches!(ordered(), Some(Less | Equal)),
        "greater" => ordered() == Some(Greater),
        "greaterOrEquals" => matches!(ordered(), Some(Greater | Equal)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISS: &str = "https://attest.example";

    fn claims() -> Map<String, Value> {
        json!({
            "iss": ISS,
            "sdk-test": "true",
            "svn": 4,
            "x-ms-isolation-tee": {"x-ms-attestation-type": "sevsnpvm", "debuggable": false},
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn allows(policy: Value) -> bool {
        policy_allows(&policy, ISS, &claims()).unwrap()
    }

    fn authority(conditions: Value) -> Value {
        json!({"version": "1.0.0", "anyOf": [{"authority": format!("{ISS}/"), "allOf": conditions}]})
    }

    #[test]
    fn equals_on_a_dotted_claim_allows_and_a_different_value_does_not() {
        let cond = |v: &str| {
            authority(json!([{"claim": "x-ms-isolation-tee.x-ms-attestation-type", "equals": v}]))
        };
        assert!(allows(cond("sevsnpvm")));
        assert!(!allows(cond("sgx")));
        assert!(!allows(cond("SEVSNPVM")), "equals is exact");
    }

    #[test]
    fn nested_any_and_all_combine() {
        let policy = authority(json!([
            {"claim": "sdk-test", "equals": "true"},
            {"anyOf": [
                {"claim": "svn", "equals": 99},
                {"allOf": [
                    {"claim": "svn", "greaterOrEquals": 4},
                    {"claim": "x-ms-isolation-tee.debuggable", "equals": false},
                ]},
            ]},
        ]));
        assert!(allows(policy));
        let policy = authority(json!([
            {"claim": "sdk-test", "equals": "true"},
            {"anyOf": [
                {"claim": "svn", "equals": 99},
                {"allOf": [{"claim": "svn", "greater": 4}]},
            ]},
        ]));
        assert!(!allows(policy));
    }

    #[test]
    fn every_operator() {
        let one = |op: &str, v: Value| authority(json!([{"claim": "svn", op: v}]));
        assert!(allows(one("less", json!(5))));
        assert!(!allows(one("less", json!(4))));
        assert!(allows(one("lessOrEquals", json!(4))));
        assert!(allows(one("greater", json!(3))));
        assert!(allows(one("notEquals", json!(3))));
        assert!(!allows(one("notEquals", json!(4))));
        assert!(allows(one("exists", json!(true))));
        assert!(!allows(one("less", json!("5"))), "no ordering across types");
        let absent = |op: &str, v: Value| authority(json!([{"claim": "nope.deeper", op: v}]));
        assert!(!allows(absent("equals", json!("x"))));
        assert!(
            !allows(absent("notEquals", json!("x"))),
            "absent meets nothing"
        );
        assert!(allows(absent("exists", json!(false))));
    }

    #[test]
    fn the_condition_value_form_is_read_too() {
        let policy = json!({"anyOf": [{"authority": ISS, "anyOf": [
            {"claim": "sdk-test", "condition": "equals", "value": "true"}
        ]}]});
        assert!(allows(policy));
    }

    #[test]
    fn another_authority_does_not_allow() {
        let policy = json!({"version": "1.0.0", "anyOf": [{"authority": "https://other.example",
            "allOf": [{"claim": "sdk-test", "equals": "true"}]}]});
        assert!(!allows(policy));
    }

    #[test]
    fn invalid_policies_are_refused_whatever_the_token() {
        for policy in [
            json!([]),
            json!({"version": "9.9"}),
            json!({"anyOf": [{"authority": ISS}]}),
            json!({"anyOf": [{"authority": ISS, "allOf": [], }]}),
            json!({"anyOf": [{"authority": ISS, "allOf": [{"claim": "a"}]}]}),
            json!({"anyOf": [{"authority": ISS, "allOf": [{"claim": "a", "matches": "x"}]}]}),
            json!({"anyOf": [{"authority": ISS, "allOf": [{"claim": "a", "equals": {"x": 1}}]}]}),
            json!({"anyOf": [{"authority": ISS, "allOf": [{"claim": "a", "equals": 1}],
                "anyOf": [{"claim": "a", "equals": 1}]}]}),
        ] {
            assert!(
                matches!(
                    policy_allows(&policy, ISS, &claims()),
                    Err(EngineError::Invalid(_))
                ),
                "{policy}"
            );
        }
    }

    #[test]
    fn nesting_and_size_are_limited() {
        let mut deep = json!({"claim": "svn", "equals": 4});
        for _ in 0..=MAX_POLICY_DEPTH {
            deep = json!({"allOf": [deep]});
        }
        let refused = policy_allows(&authority(json!([deep])), ISS, &claims());
        assert!(matches!(refused, Err(EngineError::Invalid(m)) if m.contains("deeply")));
        let many: Vec<Value> = (0..=MAX_POLICY_CONDITIONS)
            .map(|_| json!({"claim": "svn", "equals": 4}))
            .collect();
        let refused = policy_allows(&authority(Value::Array(many)), ISS, &claims());
        assert!(matches!(refused, Err(EngineError::Invalid(m)) if m.contains("too many")));
    }

    #[test]
    fn the_validity_window_has_a_small_skew() {
        let at = |exp: i64, nbf: Option<i64>| {
            let mut c = Map::new();
            c.insert("exp".into(), json!(exp));
            if let Some(nbf) = nbf {
                c.insert("nbf".into(), json!(nbf));
            }
            check_window(&c, 1000)
        };
        assert!(at(1000 - CLOCK_SKEW + 1, None).is_ok());
        assert!(matches!(
            at(1000 - CLOCK_SKEW, None),
            Err(EngineError::ReleaseRefused(_))
        ));
        assert!(at(2000, Some(1000 + CLOCK_SKEW)).is_ok());
        assert!(matches!(
            at(2000, Some(1001 + CLOCK_SKEW)),
            Err(EngineError::ReleaseRefused(_))
        ));
        assert!(matches!(
            check_window(&Map::new(), 1000),
            Err(EngineError::ReleaseRefused(_))
        ));
    }

    #[test]
    fn the_target_is_the_first_rsa_encryption_key() {
        let rsa = arca_crypto::keys::PrivateKey::generate_rsa(2048).unwrap();
        let mut jwk = Value::Object(rsa.public_jwk());
        jwk["kid"] = json!("TpmEphemeralEncryptionKey");
        let mut signing = jwk.clone();
        signing["kid"] = json!("signing");
        signing["key_ops"] = json!(["sign"]);
        jwk["key_ops"] = json!(["encrypt"]);
        let claims = json!({"x-ms-runtime": {"keys": [signing, jwk]}});
        let (kid, _) = target_key(claims.as_object().unwrap()).unwrap();
        assert_eq!(kid.as_deref(), Some("TpmEphemeralEncryptionKey"));
        let none = json!({"x-ms-runtime": {"keys": [{"kty": "EC", "use": "enc"}]}});
        assert!(matches!(
            target_key(none.as_object().unwrap()),
            Err(EngineError::Invalid(_))
        ));
    }
}
