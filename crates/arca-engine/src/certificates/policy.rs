//! A certificate's policy: Key Vault's rules for what a client may ask for, the defaults it
//! fills in, the merge of a policy PATCH, and the key operations a policy's key usages give the
//! backing key. Pure functions over the wire type: storing the policy (a sealed document owned by
//! the certificate) and acting on it (issuing, renewing) are the rest of the module's business.
//!
//! The normalized policy is what Arca stores and returns: every member Key Vault reports is set
//! (key type, size or curve, exportability, key reuse, secret content type, subject or SANs, key
//! usages, validity, lifetime actions, issuer, enabled), names of fixed vocabularies are written
//! in Key Vault's spelling whatever case the client used, and read-only members a client echoed
//! (`id`, `created`, `updated`) are dropped.
//!
//! Rules, as Key Vault states or shows them (guesses marked in the module's tests and the issue
//! note): `kty` is RSA, RSA-HSM, EC or EC-HSM; RSA keys are 2048, 3072 or 4096 bits (default
//! 2048) and take no curve; EC keys are on P-256, P-384 or P-521 (default P-256; a `key_size`
//! that disagrees with the curve is refused); HSM keys are never exportable; the secret is
//! `application/x-pkcs12` (default) or `application/x-pem-file`; a policy names a subject or at
//! least one SAN; key usages are Key Vault's nine names (default digitalSignature and
//! keyEncipherment); EKUs are dotted OIDs; validity is 1 to 1,200 months (default 12); each
//! lifetime action has exactly one trigger, a percentage of 1 to 99 or a number of days shorter
//! than the validity, and there is at most one `AutoRenew` and one `EmailContacts`; with no
//! lifetime action, a `Self` or named issuer renews at 80 % of the lifetime and `Unknown`
//! e-mails the contacts 30 days before expiry; the issuer is `Self` (default), `Unknown`, or an
//! issuer's name.

use arca_proto::certificates::{
    Action, CertificatePolicy, IssuerParameters, KeyProperties, LifetimeAction, PolicyAttributes,
    SecretProperties, SubjectAlternativeNames, Trigger, X509CertificateProperties,
};

use crate::{EngineError, EngineResult};

/// The content type of a PFX secret (the default).
pub const PKCS12: &str = "application/x-pkcs12";
/// The content type of a PEM secret.
pub const PEM: &str = "application/x-pem-file";

/// The issuer that signs with the certificate's own key.
pub const SELF_ISSUER: &str = "Self";
/// The issuer that leaves the CSR for the client to have signed and merge.
pub const UNKNOWN_ISSUER: &str = "Unknown";

/// The most months a certificate may be valid for.
pub const MAX_VALIDITY_MONTHS: u32 = 1200;
const DEFAULT_VALIDITY_MONTHS: u32 = 12;
const DEFAULT_RENEW_PERCENTAGE: u32 = 80;
const DEFAULT_NOTIFY_DAYS: u32 = 30;
/// Bounds on the lists a policy carries, so a policy stays a small document.
const MAX_SANS: usize = 100;
const MAX_EKUS: usize = 20;
const MAX_NAME_LEN: usize = 1024;

/// Key Vault's key usage names, in its spelling, with the key operations each gives the key.
const KEY_USAGES: [(&str, &[&str]); 9] = [
    ("digitalSignature", &["sign", "verify"]),
    ("nonRepudiation", &["sign", "verify"]),
    ("keyCertSign", &["sign", "verify"]),
    ("cRLSign", &["sign", "verify"]),
    ("keyEncipherment", &["wrapKey", "unwrapKey"]),
    ("dataEncipherment", &["encrypt", "decrypt"]),
    ("encipherOnly", &["encrypt"]),
    ("decipherOnly", &["decrypt"]),
    ("keyAgreement", &[]),
];

fn invalid(message: impl Into<String>) -> EngineError {
    EngineError::Invalid(message.into())
}

/// `text` in the spelling of the entry of `names` it matches ignoring ASCII case.
fn canonical(text: &str, names: &[&'static str]) -> Option<&'static str> {
    names.iter().copied().find(|n| n.eq_ignore_ascii_case(text))
}

/// Checks `policy` against Key Vault's rules and fills in every default; the result is what is
/// stored and shown (without its `id`, which the caller sets from the certificate's URL).
pub fn normalize(policy: CertificatePolicy) -> EngineResult<CertificatePolicy> {
    let key_props = key_properties(policy.key_props.unwrap_or_default())?;
    let secret_props = secret_properties(policy.secret_props.unwrap_or_default())?;
    let x509_props = x509_properties(policy.x509_props.unwrap_or_default())?;
    let issuer = issuer(policy.issuer.unwrap_or_default())?;
    let validity_days = x509_props
        .validity_months
        .unwrap_or(DEFAULT_VALIDITY_MONTHS)
        .saturating_mul(28);
    let lifetime_actions = lifetime_actions(policy.lifetime_actions, &issuer, validity_days)?;
    let enabled = policy.attributes.and_then(|a| a.enabled).unwrap_or(true);
    Ok(CertificatePolicy {
        id: None,
        key_props: Some(key_props),
        secret_props: Some(secret_props),
        x509_props: Some(x509_props),
        lifetime_actions: Some(lifetime_actions),
        issuer: Some(issuer),
        attributes: Some(PolicyAttributes {
            enabled: Some(enabled),
            created: None,
            updated: None,
        }),
    })
}

/// A policy PATCH: every member the client sent replaces the stored one, member by member down
/// to the leaves (a patch that sends only `x509_props.validity_months` keeps the subject);
/// lists (SANs of one kind, EKUs, key usages, lifetime actions) are replaced whole. The result
/// is normalized again, so a patch cannot leave an invalid policy behind.
pub fn merge(
    stored: &CertificatePolicy,
    patch: CertificatePolicy,
) -> EngineResult<CertificatePolicy> {
    let mut merged = stored.clone();
    if let Some(p) = patch.key_props {
        let k = merged.key_props.get_or_insert_with(KeyProperties::default);
        // A new key type resets the size and curve that belonged to the old one.
        if p.kty.is_some() && p.kty != k.kty {
            k.key_size = None;
            k.crv = None;
        }
        set(&mut k.exportable, p.exportable);
        set(&mut k.kty, p.kty);
        set(&mut k.key_size, p.key_size);
        set(&mut k.reuse_key, p.reuse_key);
        set(&mut k.crv, p.crv);
    }
    if let Some(p) = patch.secret_props {
        let s = merged
            .secret_props
            .get_or_insert_with(SecretProperties::default);
        set(&mut s.content_type, p.content_type);
    }
    if let Some(p) = patch.x509_props {
        let x = merged
            .x509_props
            .get_or_insert_with(X509CertificateProperties::default);
        set(&mut x.subject, p.subject);
        set(&mut x.ekus, p.ekus);
        set(&mut x.key_usage, p.key_usage);
        set(&mut x.validity_months, p.validity_months);
        if let Some(p) = p.sans {
            let s = x.sans.get_or_insert_with(SubjectAlternativeNames::default);
            set(&mut s.emails, p.emails);
            set(&mut s.dns_names, p.dns_names);
            set(&mut s.upns, p.upns);
            set(&mut s.uris, p.uris);
            set(&mut s.ip_addresses, p.ip_addresses);
        }
    }
    set(&mut merged.lifetime_actions, patch.lifetime_actions);
    if let Some(p) = patch.issuer {
        let i = merged.issuer.get_or_insert_with(IssuerParameters::default);
        set(&mut i.name, p.name);
        set(&mut i.cty, p.cty);
        set(&mut i.cert_transparency, p.cert_transparency);
    }
    if let Some(enabled) = patch.attributes.and_then(|a| a.enabled) {
        merged
            .attributes
            .get_or_insert_with(PolicyAttributes::default)
            .enabled = Some(enabled);
    }
    normalize(merged)
}

fn set<T>(into: &mut Option<T>, from: Option<T>) {
    if from.is_some() {
        *into = from;
    }
}

/// The key operations a normalized policy's key usages give the backing key, in Key Vault's
/// order and without repeats.
pub fn key_ops(policy: &CertificatePolicy) -> Vec<String> {
    let usages = policy
        .x509_props
        .as_ref()
        .and_then(|x| x.key_usage.as_deref())
        .unwrap_or_default();
    let mut ops: Vec<String> = Vec::new();
    for usage in usages {
        let given = KEY_USAGES
            .iter()
            .find(|(name, _)| name == usage)
            .map_or(&[][..], |(_, ops)| *ops);
        for op in given {
            if !ops.iter().any(|o| o == op) {
                ops.push((*op).to_owned());
            }
        }
    }
    ops
}

fn key_properties(k: KeyProperties) -> EngineResult<KeyProperties> {
    let kty = match k.kty.as_deref() {
        None => "RSA",
        Some(kty) => canonical(kty, &["RSA", "RSA-HSM", "EC", "EC-HSM"]).ok_or_else(|| {
            invalid("The certificate's key type (kty) must be RSA, RSA-HSM, EC or EC-HSM.")
        })?,
    };
    let hsm = kty.ends_with("-HSM");
    let exportable = k.exportable.unwrap_or(!hsm);
    if hsm && exportable {
        return Err(invalid(
            "An HSM-protected certificate key cannot be exportable.",
        ));
    }
    let (key_size, crv) = if kty.starts_with("RSA") {
        if k.crv.is_some() {
            return Err(invalid("An RSA certificate key takes no curve (crv)."));
        }
        let size = k.key_size.unwrap_or(2048);
        if ![2048, 3072, 4096].contains(&size) {
            return Err(invalid(
                "The certificate's RSA key size (key_size) must be 2048, 3072 or 4096.",
            ));
        }
        (Some(size), None)
    } else {
        let crv = match k.crv.as_deref() {
            None => "P-256",
            Some(crv) => canonical(crv, &["P-256", "P-384", "P-521"]).ok_or_else(|| {
                invalid("The certificate's curve (crv) must be P-256, P-384 or P-521.")
            })?,
        };
        let size = match crv {
            "P-256" => 256,
            "P-384" => 384,
            _ => 521,
        };
        if k.key_size.is_some_and(|s| s != size) {
            return Err(invalid(format!(
                "The key size (key_size) of a {crv} key is {size}."
            )));
        }
        (Some(size), Some(crv.to_owned()))
    };
    Ok(KeyProperties {
        exportable: Some(exportable),
        kty: Some(kty.to_owned()),
        key_size,
        reuse_key: Some(k.reuse_key.unwrap_or(false)),
        crv,
    })
}

fn secret_properties(s: SecretProperties) -> EngineResult<SecretProperties> {
    let content_type = match s.content_type.as_deref() {
        None => PKCS12,
        Some(ct) => canonical(ct, &[PKCS12, PEM]).ok_or_else(|| {
            invalid(format!(
                "The secret content type (contentType) must be {PKCS12} or {PEM}."
            ))
        })?,
    };
    Ok(SecretProperties {
        content_type: Some(content_type.to_owned()),
    })
}

fn x509_properties(x: X509CertificateProperties) -> EngineResult<X509CertificateProperties> {
    let subject = x.subject.filter(|s| !s.trim().is_empty());
    if subject.as_ref().is_some_and(|s| s.len() > MAX_NAME_LEN) {
        return Err(invalid(format!(
            "The subject is longer than {MAX_NAME_LEN} characters."
        )));
    }
    let sans = x
        .sans
        .map(sans)
        .transpose()?
        .filter(|s| *s != SubjectAlternativeNames::default());
    if subject.is_none() && sans.is_none() {
        return Err(invalid(
            "A certificate policy needs a subject or at least one subject alternative name.",
        ));
    }
    let ekus = x.ekus.unwrap_or_default();
    if ekus.len() > MAX_EKUS {
        return Err(invalid(format!(
            "A policy has at most {MAX_EKUS} extended key usages (ekus)."
        )));
    }
    if let Some(bad) = ekus.iter().find(|e| !is_oid(e)) {
        return Err(invalid(format!(
            "The extended key usage {bad:?} is not a dotted object identifier."
        )));
    }
    let names: Vec<&'static str> = KEY_USAGES.iter().map(|(n, _)| *n).collect();
    let mut key_usage: Vec<String> = Vec::new();
    for usage in x
        .key_usage
        .unwrap_or_else(|| vec!["digitalSignature".into(), "keyEncipherment".into()])
    {
        let name = canonical(&usage, &names).ok_or_else(|| {
            invalid(format!(
                "{usage:?} is not a key usage (key_usage) Key Vault knows."
            ))
        })?;
        if !key_usage.iter().any(|u| u == name) {
            key_usage.push(name.to_owned());
        }
    }
    let validity = x.validity_months.unwrap_or(DEFAULT_VALIDITY_MONTHS);
    if !(1..=MAX_VALIDITY_MONTHS).contains(&validity) {
        return Err(invalid(format!(
            "The validity (validity_months) must be from 1 to {MAX_VALIDITY_MONTHS} months."
        )));
    }
    Ok(X509CertificateProperties {
        subject: Some(subject.unwrap_or_default()),
        ekus: Some(ekus),
        sans,
        key_usage: Some(key_usage),
        validity_months: Some(validity),
    })
}

/// A dotted OID: at least two arcs, digits only, the first 0, 1 or 2.
fn is_oid(text: &str) -> bool {
    let arcs: Vec<&str> = text.split('.').collect();
    arcs.len() >= 2
        && text.len() <= 128
        && arcs
            .iter()
            .all(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
        && matches!(arcs[0], "0" | "1" | "2")
}

fn sans(s: SubjectAlternativeNames) -> EngineResult<SubjectAlternativeNames> {
    let lists = [&s.emails, &s.dns_names, &s.upns, &s.uris, &s.ip_addresses];
    let count: usize = lists.iter().map(|l| l.as_ref().map_or(0, Vec::len)).sum();
    if count > MAX_SANS {
        return Err(invalid(format!(
            "A policy has at most {MAX_SANS} subject alternative names."
        )));
    }
    let all = lists.iter().flat_map(|l| l.iter().flatten());
    if all.clone().any(|n| n.is_empty() || n.len() > MAX_NAME_LEN) {
        return Err(invalid(format!(
            "A subject alternative name must be 1 to {MAX_NAME_LEN} characters."
        )));
    }
    if let Some(bad) = s
        .ip_addresses
        .iter()
        .flatten()
        .find(|ip| ip.parse::<std::net::IpAddr>().is_err())
    {
        return Err(invalid(format!("{bad:?} is not an IP address.")));
    }
    let non_empty = |l: Option<Vec<String>>| l.filter(|l| !l.is_empty());
    Ok(SubjectAlternativeNames {
        emails: non_empty(s.emails),
        dns_names: non_empty(s.dns_names),
        upns: non_empty(s.upns),
        uris: non_empty(s.uris),
        ip_addresses: non_empty(s.ip_addresses),
    })
}

fn issuer(i: IssuerParameters) -> EngineResult<IssuerParameters> {
    let name = match i.name.as_deref().map(str::trim) {
        None | Some("") => SELF_ISSUER.to_owned(),
        Some(name) => match canonical(name, &[SELF_ISSUER, UNKNOWN_ISSUER]) {
            Some(fixed) => fixed.to_owned(),
            None if name.len() <= 127 => name.to_owned(),
            None => return Err(invalid("An issuer name is at most 127 characters.")),
        },
    };
    Ok(IssuerParameters {
        name: Some(name),
        cty: i.cty,
        cert_transparency: i.cert_transparency,
    })
}

fn lifetime_actions(
    actions: Option<Vec<LifetimeAction>>,
    issuer: &IssuerParameters,
    validity_days: u32,
) -> EngineResult<Vec<LifetimeAction>> {
    let Some(actions) = actions else {
        let unknown = issuer.name.as_deref() == Some(UNKNOWN_ISSUER);
        return Ok(vec![if unknown {
            action("EmailContacts", None, Some(DEFAULT_NOTIFY_DAYS))
        } else {
            action("AutoRenew", Some(DEFAULT_RENEW_PERCENTAGE), None)
        }]);
    };
    let mut out: Vec<LifetimeAction> = Vec::new();
    for a in actions {
        let kind = a
            .action
            .and_then(|a| a.action_type)
            .and_then(|t| canonical(&t, &["AutoRenew", "EmailContacts"]))
            .ok_or_else(|| {
                invalid(
                    "A lifetime action's type (action_type) must be AutoRenew or EmailContacts.",
                )
            })?;
        if out
            .iter()
            .any(|o| o.action.as_ref().and_then(|a| a.action_type.as_deref()) == Some(kind))
        {
            return Err(invalid(format!(
                "A policy has at most one {kind} lifetime action."
            )));
        }
        if kind == "AutoRenew" && issuer.name.as_deref() == Some(UNKNOWN_ISSUER) {
            return Err(invalid(
                "A certificate whose issuer is Unknown cannot renew itself (AutoRenew).",
            ));
        }
        let trigger = a.trigger.unwrap_or_default();
        match (trigger.lifetime_percentage, trigger.days_before_expiry) {
            (Some(p), None) if (1..=99).contains(&p) => {
                out.push(action(kind, Some(p), None));
            }
            (None, Some(d)) if d >= 1 && d < validity_days => {
                out.push(action(kind, None, Some(d)));
            }
            (Some(_), None) => {
                return Err(invalid(
                    "A lifetime percentage (lifetime_percentage) must be from 1 to 99.",
                ))
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "Days before expiry (days_before_expiry) must be at least 1 and less than the validity.",
                ))
            }
            _ => {
                return Err(invalid(
                    "A lifetime action's trigger has exactly one of lifetime_percentage and days_before_expiry.",
                ))
            }
        }
    }
    Ok(out)
}

fn action(kind: &str, percentage: Option<u32>, days: Option<u32>) -> LifetimeAction {
    LifetimeAction {
        trigger: Some(Trigger {
            lifetime_percentage: percentage,
            days_before_expiry: days,
        }),
        action: Some(Action {
            action_type: Some(kind.to_owned()),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn policy(value: serde_json::Value) -> CertificatePolicy {
        serde_json::from_value(value).unwrap()
    }

    fn refused(value: serde_json::Value) -> String {
        match normalize(policy(value)) {
            Err(EngineError::Invalid(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_bare_subject_gets_key_vaults_defaults() {
        let p = normalize(policy(json!({"x509_props": {"subject": "CN=a"}}))).unwrap();
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({
                "key_props": {"exportable": true, "kty": "RSA", "key_size": 2048, "reuse_key": false},
                "secret_props": {"contentType": "application/x-pkcs12"},
                "x509_props": {
                    "subject": "CN=a", "ekus": [],
                    "key_usage": ["digitalSignature", "keyEncipherment"],
                    "validity_months": 12
                },
                "lifetime_actions": [
                    {"trigger": {"lifetime_percentage": 80}, "action": {"action_type": "AutoRenew"}}
                ],
                "issuer": {"name": "Self"},
                "attributes": {"enabled": true}
            })
        );
        assert_eq!(key_ops(&p), ["sign", "verify", "wrapKey", "unwrapKey"]);
    }

    #[test]
    fn names_take_key_vaults_spelling_and_echoed_read_only_members_go() {
        let p = normalize(policy(json!({
            "id": "https://v/certificates/c/policy",
            "key_props": {"kty": "ec-hsm", "crv": "p-384"},
            "secret_props": {"contentType": "Application/X-PEM-File"},
            "x509_props": {"sans": {"dns_names": ["a.example"]}, "key_usage": ["DIGITALSIGNATURE"]},
            "lifetime_actions": [{"trigger": {"days_before_expiry": 10}, "action": {"action_type": "emailcontacts"}}],
            "issuer": {"name": "unknown"},
            "attributes": {"enabled": false, "created": 5}
        })))
        .unwrap();
        assert_eq!(p.id, None);
        let k = p.key_props.as_ref().unwrap();
        assert_eq!(
            (k.kty.as_deref(), k.crv.as_deref(), k.key_size, k.exportable),
            (Some("EC-HSM"), Some("P-384"), Some(384), Some(false))
        );
        assert_eq!(p.secret_props.unwrap().content_type.as_deref(), Some(PEM));
        let x = p.x509_props.unwrap();
        assert_eq!(x.subject.as_deref(), Some(""));
        assert_eq!(x.key_usage.unwrap(), ["digitalSignature"]);
        assert_eq!(p.issuer.unwrap().name.as_deref(), Some("Unknown"));
        let a = p.attributes.unwrap();
        assert_eq!((a.enabled, a.created), (Some(false), None));
    }

    #[test]
    fn an_unknown_issuer_defaults_to_e_mailing_contacts() {
        let p = normalize(policy(json!({
            "x509_props": {"subject": "CN=a"}, "issuer": {"name": "Unknown"}
        })))
        .unwrap();
        let a = &p.lifetime_actions.unwrap()[0];
        assert_eq!(a.trigger.as_ref().unwrap().days_before_expiry, Some(30));
        assert_eq!(
            a.action.as_ref().unwrap().action_type.as_deref(),
            Some("EmailContacts")
        );
    }

    #[test]
    fn impossible_policies_are_refused_with_what_is_wrong() {
        let cases = [
            (json!({}), "subject or at least one"),
            (
                json!({"x509_props": {"subject": "  "}}),
                "subject or at least one",
            ),
            (
                json!({"key_props": {"kty": "oct"}, "x509_props": {"subject": "CN=a"}}),
                "RSA, RSA-HSM, EC or EC-HSM",
            ),
            (
                json!({"key_props": {"key_size": 1024}, "x509_props": {"subject": "CN=a"}}),
                "2048, 3072 or 4096",
            ),
            (
                json!({"key_props": {"kty": "RSA", "crv": "P-256"}, "x509_props": {"subject": "CN=a"}}),
                "no curve",
            ),
            (
                json!({"key_props": {"kty": "EC", "crv": "P-256K"}, "x509_props": {"subject": "CN=a"}}),
                "P-256, P-384 or P-521",
            ),
            (
                json!({"key_props": {"kty": "EC", "crv": "P-384", "key_size": 256}, "x509_props": {"subject": "CN=a"}}),
                "of a P-384 key is 384",
            ),
            (
                json!({"key_props": {"kty": "RSA-HSM", "exportable": true}, "x509_props": {"subject": "CN=a"}}),
                "cannot be exportable",
            ),
            (
                json!({"secret_props": {"contentType": "text/plain"}, "x509_props": {"subject": "CN=a"}}),
                "application/x-pkcs12",
            ),
            (
                json!({"x509_props": {"subject": "CN=a", "validity_months": 0}}),
                "1 to 1200",
            ),
            (
                json!({"x509_props": {"subject": "CN=a", "validity_months": 1201}}),
                "1 to 1200",
            ),
            (
                json!({"x509_props": {"subject": "CN=a", "ekus": ["serverAuth"]}}),
                "dotted object identifier",
            ),
            (
                json!({"x509_props": {"subject": "CN=a", "ekus": ["3.1"]}}),
                "dotted object identifier",
            ),
            (
                json!({"x509_props": {"subject": "CN=a", "key_usage": ["sign"]}}),
                "not a key usage",
            ),
            (
                json!({"x509_props": {"sans": {"ipAddresses": ["300.1.1.1"]}}}),
                "not an IP address",
            ),
            (
                json!({"x509_props": {"sans": {"dns_names": [""]}}}),
                "1 to 1024 characters",
            ),
            (
                json!({"x509_props": {"subject": "CN=a"}, "lifetime_actions": [{"trigger": {"lifetime_percentage": 100}, "action": {"action_type": "AutoRenew"}}]}),
                "1 to 99",
            ),
            (
                json!({"x509_props": {"subject": "CN=a"}, "lifetime_actions": [{"trigger": {"lifetime_percentage": 50, "days_before_expiry": 5}, "action": {"action_type": "AutoRenew"}}]}),
                "exactly one",
            ),
            (
                json!({"x509_props": {"subject": "CN=a", "validity_months": 1}, "lifetime_actions": [{"trigger": {"days_before_expiry": 28}, "action": {"action_type": "EmailContacts"}}]}),
                "less than the validity",
            ),
            (
                json!({"x509_props": {"subject": "CN=a"}, "lifetime_actions": [{"trigger": {"lifetime_percentage": 50}, "action": {"action_type": "Rotate"}}]}),
                "AutoRenew or EmailContacts",
            ),
            (
                json!({"x509_props": {"subject": "CN=a"}, "lifetime_actions": [
                {"trigger": {"lifetime_percentage": 50}, "action": {"action_type": "AutoRenew"}},
                {"trigger": {"lifetime_percentage": 60}, "action": {"action_type": "autorenew"}}]}),
                "at most one AutoRenew",
            ),
            (
                json!({"x509_props": {"subject": "CN=a"}, "issuer": {"name": "Unknown"}, "lifetime_actions": [{"trigger": {"lifetime_percentage": 50}, "action": {"action_type": "AutoRenew"}}]}),
                "cannot renew itself",
            ),
        ];
        for (value, expected) in cases {
            let message = refused(value.clone());
            assert!(message.contains(expected), "{value}: {message}");
        }
    }

    #[test]
    fn a_patch_changes_only_what_it_sends_and_is_checked_again() {
        let stored = normalize(policy(json!({
            "key_props": {"kty": "EC", "crv": "P-384"},
            "x509_props": {"subject": "CN=a", "sans": {"dns_names": ["a.example"], "emails": ["x@example"]}}
        })))
        .unwrap();
        let merged = merge(
            &stored,
            policy(json!({"x509_props": {"validity_months": 24, "sans": {"dns_names": ["b.example"]}}})),
        )
        .unwrap();
        let x = merged.x509_props.as_ref().unwrap();
        assert_eq!(x.subject.as_deref(), Some("CN=a"));
        assert_eq!(x.validity_months, Some(24));
        let sans = x.sans.as_ref().unwrap();
        assert_eq!(sans.dns_names.as_deref().unwrap(), ["b.example"]);
        assert_eq!(sans.emails.as_deref().unwrap(), ["x@example"]);
        assert_eq!(
            merged.key_props.as_ref().unwrap().crv.as_deref(),
            Some("P-384")
        );

        // A new key type drops the old curve, so RSA does not inherit P-384.
        let rsa = merge(&stored, policy(json!({"key_props": {"kty": "RSA"}}))).unwrap();
        let k = rsa.key_props.unwrap();
        assert_eq!((k.crv, k.key_size), (None, Some(2048)));

        // A patch that would make the policy invalid is refused.
        assert!(matches!(
            merge(
                &stored,
                policy(json!({"x509_props": {"validity_months": 0}}))
            ),
            Err(EngineError::Invalid(_))
        ));
    }

    #[test]
    fn key_usages_map_to_key_operations_as_key_vault_maps_them() {
        let p = normalize(policy(
            json!({"x509_props": {"subject": "CN=a", "key_usage": [
                "keyAgreement", "dataEncipherment", "encipherOnly", "decipherOnly", "cRLSign"
            ]}}),
        ))
        .unwrap();
        assert_eq!(key_ops(&p), ["encrypt", "decrypt", "sign", "verify"]);
    }
}
