//! Request and response bodies of the keys API (`shared/spec/keyvault/2026-04-01/keys.json`).
//!
//! Members named in snake case on the wire (`key_ops`, `key_size`, `release_policy`, ...) keep
//! that spelling; the others are camelCase, as the swagger has them. Binary members are base64url
//! text, passed through as such: decoding is the caller's business. Members that carry secret
//! material (the private members of an imported JWK, a plaintext to encrypt or a key to wrap,
//! the result of a decryption or an unwrap, random bytes) are [`SecretText`]: wiped on drop,
//! redacted in `Debug`. Nothing here has behaviour.

use serde::{Deserialize, Serialize};

pub use crate::secrets::{
    BackupBlob, DeletedMembers, ListResult, SecretAttributes, SecretAttributesIn, Tags,
};
use crate::SecretText;

/// Key attributes as a client sends them: a secret's, plus `exportable`. Read-only members
/// (`created`, `updated`, `recoveryLevel`, `recoverableDays`, `key_size`, ...) are accepted and
/// ignored.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct KeyAttributesIn {
    #[serde(flatten)]
    pub common: SecretAttributesIn,
    pub exportable: Option<bool>,
}

/// `KeyAttributes` as Arca reports them: a secret's attributes plus the key's own.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KeyAttributes {
    #[serde(flatten)]
    pub common: SecretAttributes,
    pub exportable: bool,
    /// The size of a symmetric key, in bits (read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_size: Option<u32>,
}

/// The public members of a JSON web key, as Key Vault returns them: never `d`, `p`, `q`, `dp`,
/// `dq`, `qi` or `k` (this type has no place for them).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct JsonWebKey {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `RSA`, `RSA-HSM`, `EC`, `EC-HSM`, `oct` or `oct-HSM`.
    pub kty: String,
    pub key_ops: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// A JSON web key with its private members, as an import sends it. The private members are
/// [`SecretText`] (base64url text), so `Debug` shows none of them.
#[derive(Debug, Default, Deserialize)]
pub struct PrivateJsonWebKey {
    pub kid: Option<String>,
    pub kty: String,
    pub key_ops: Option<Vec<String>>,
    pub n: Option<String>,
    pub e: Option<String>,
    pub crv: Option<String>,
    pub x: Option<String>,
    pub y: Option<String>,
    pub d: Option<SecretText>,
    pub p: Option<SecretText>,
    pub q: Option<SecretText>,
    pub dp: Option<SecretText>,
    pub dq: Option<SecretText>,
    pub qi: Option<SecretText>,
    pub k: Option<SecretText>,
    /// A protected key blob for bring-your-own-key transfer (the SDKs' `t`).
    pub key_hsm: Option<SecretText>,
}

/// `KeyReleasePolicy`: kept as sent and returned as stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct KeyReleasePolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
    /// The policy document, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// `KeyReleaseParameters`: the attestation token (`target`) is a bearer credential of the
/// attested environment, so it is a [`SecretText`].
#[derive(Debug, Deserialize)]
pub struct KeyReleaseParameters {
    pub target: SecretText,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub enc: Option<String>,
}

/// `KeyReleaseResult`: the signed release answer, a compact JWS.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyReleaseResult {
    pub value: String,
}

/// `KeyCreateParameters`.
#[derive(Debug, Deserialize)]
pub struct KeyCreateParameters {
    pub kty: String,
    pub key_size: Option<u32>,
    pub public_exponent: Option<u32>,
    pub key_ops: Option<Vec<String>>,
    pub attributes: Option<KeyAttributesIn>,
    pub tags: Option<Tags>,
    pub crv: Option<String>,
    pub release_policy: Option<KeyReleasePolicy>,
}

/// `KeyImportParameters`. Note the capital `Hsm` on the wire.
#[derive(Debug, Deserialize)]
pub struct KeyImportParameters {
    #[serde(rename = "Hsm", default)]
    pub hsm: Option<bool>,
    pub key: PrivateJsonWebKey,
    pub attributes: Option<KeyAttributesIn>,
    pub tags: Option<Tags>,
    pub release_policy: Option<KeyReleasePolicy>,
}

/// `KeyUpdateParameters`: only members present are changed.
#[derive(Debug, Default, Deserialize)]
pub struct KeyUpdateParameters {
    pub key_ops: Option<Vec<String>>,
    pub attributes: Option<KeyAttributesIn>,
    pub tags: Option<Tags>,
    pub release_policy: Option<KeyReleasePolicy>,
}

/// `KeyBundle`, and with the deletion members set, `DeletedKeyBundle`.
#[derive(Debug, Serialize)]
pub struct KeyBundle<'a> {
    pub key: JsonWebKey,
    pub attributes: KeyAttributes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<&'a Tags>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_policy: Option<&'a KeyReleasePolicy>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<DeletedMembers>,
}

/// `KeyItem`, and with the deletion members set, `DeletedKeyItem`.
#[derive(Debug, Serialize)]
pub struct KeyItem<'a> {
    pub kid: String,
    pub attributes: KeyAttributes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<&'a Tags>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<DeletedMembers>,
}

/// `KeyOperationsParameters` of encrypt, decrypt, wrapKey and unwrapKey. `value` is the
/// plaintext (encrypt), the key to wrap (wrapKey) or a ciphertext: secret in the first two
/// cases, so always held as [`SecretText`].
#[derive(Debug, Deserialize)]
pub struct KeyOperationsParameters {
    pub alg: String,
    pub value: SecretText,
    pub iv: Option<String>,
    pub aad: Option<String>,
    pub tag: Option<String>,
}

/// `KeyOperationResult`. `value` is a ciphertext, a wrapped key, a signature, or (decrypt,
/// unwrapKey) secret material: always held as [`SecretText`].
#[derive(Debug, Serialize)]
pub struct KeyOperationResult {
    pub kid: String,
    pub value: SecretText,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aad: Option<String>,
}

/// `KeySignParameters`: `value` is the digest to sign (Key Vault never hashes).
#[derive(Debug, Deserialize)]
pub struct KeySignParameters {
    pub alg: String,
    pub value: String,
}

/// `KeyVerifyParameters`: `value` is the signature.
#[derive(Debug, Deserialize)]
pub struct KeyVerifyParameters {
    pub alg: String,
    pub digest: String,
    pub value: String,
}

/// `KeyVerifyResult`.
#[derive(Debug, Serialize)]
pub struct KeyVerifyResult {
    pub value: bool,
}

/// `GetRandomBytesRequest`.
#[derive(Debug, Deserialize)]
pub struct GetRandomBytesRequest {
    pub count: i64,
}

/// `RandomBytes`: base64url.
#[derive(Debug, Serialize)]
pub struct RandomBytes {
    pub value: SecretText,
}

/// `KeyRotationPolicy`, as sent and as returned.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct KeyRotationPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_actions: Option<Vec<LifetimeAction>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<KeyRotationPolicyAttributes>,
}

/// `LifetimeActions`: one trigger and one action.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LifetimeAction {
    pub trigger: LifetimeActionTrigger,
    pub action: LifetimeActionType,
}

/// `LifetimeActionsTrigger`: ISO-8601 durations.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LifetimeActionTrigger {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_after_create: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_before_expiry: Option<String>,
}

/// `LifetimeActionsType`: `Rotate` or `Notify`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LifetimeActionType {
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// `KeyRotationPolicyAttributes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct KeyRotationPolicyAttributes {
    /// An ISO-8601 duration applied to new versions as their expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_parameters_read_hsm_and_hide_private_members() {
        let p: KeyImportParameters = serde_json::from_str(
            r#"{"Hsm":true,"key":{"kty":"EC","crv":"P-256","x":"eA","y":"eQ","d":"c2VjcmV0ZA"},
                "attributes":{"enabled":false,"created":1,"exportable":false},"other":1}"#,
        )
        .unwrap();
        assert_eq!(p.hsm, Some(true));
        assert_eq!(p.key.d.as_ref().unwrap().expose(), "c2VjcmV0ZA");
        assert_eq!(p.attributes.unwrap().common.enabled, Some(false));
        let shown = format!("{:?}", p.key);
        assert!(!shown.contains("c2VjcmV0ZA"), "{shown}");
    }

    #[test]
    fn operation_values_are_redacted_in_debug() {
        let p: KeyOperationsParameters =
            serde_json::from_str(r#"{"alg":"A256GCM","value":"cGxhaW50ZXh0","aad":"YQ"}"#).unwrap();
        assert!(!format!("{p:?}").contains("cGxhaW50ZXh0"));
        let r = KeyOperationResult {
            kid: "https://v.example/keys/k/0".into(),
            value: SecretText::new("dW53cmFwcGVk".into()),
            iv: None,
            tag: None,
            aad: None,
        };
        assert!(!format!("{r:?}").contains("dW53cmFwcGVk"));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kid":"https://v.example/keys/k/0","value":"dW53cmFwcGVk"})
        );
    }

    #[test]
    fn bundle_has_snake_case_members_and_flattened_deletion() {
        let tags = Tags::from([("a".to_owned(), "b".to_owned())]);
        let policy = KeyReleasePolicy {
            content_type: Some("application/json; charset=utf-8".into()),
            immutable: Some(false),
            data: Some("e30".into()),
        };
        let bundle = KeyBundle {
            key: JsonWebKey {
                kid: Some("https://v.example/keys/k/1".into()),
                kty: "oct-HSM".into(),
                key_ops: vec!["wrapKey".into()],
                ..JsonWebKey::default()
            },
            attributes: KeyAttributes {
                common: SecretAttributes {
                    enabled: true,
                    nbf: None,
                    exp: Some(9),
                    created: 1,
                    updated: 2,
                    recoverable_days: 7,
                    recovery_level: "CustomizedRecoverable+Purgeable",
                },
                exportable: false,
                key_size: Some(256),
            },
            tags: Some(&tags),
            managed: None,
            release_policy: Some(&policy),
            deleted: Some(DeletedMembers {
                recovery_id: "https://v.example/deletedkeys/k".into(),
                deleted_date: 3,
                scheduled_purge_date: 4,
            }),
        };
        let json = serde_json::to_value(&bundle).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "key": {"kid": "https://v.example/keys/k/1", "kty": "oct-HSM", "key_ops": ["wrapKey"]},
                "attributes": {"enabled": true, "exp": 9, "created": 1, "updated": 2,
                    "recoverableDays": 7, "recoveryLevel": "CustomizedRecoverable+Purgeable",
                    "exportable": false, "key_size": 256},
                "tags": {"a": "b"},
                "release_policy": {"contentType": "application/json; charset=utf-8",
                    "immutable": false, "data": "e30"},
                "recoveryId": "https://v.example/deletedkeys/k",
                "deletedDate": 3,
                "scheduledPurgeDate": 4
            })
        );
    }

    #[test]
    fn rotation_policy_round_trips() {
        let text = r#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P30D"},"action":{"type":"Rotate"}},{"trigger":{"timeBeforeExpiry":"P7D"},"action":{"type":"Notify"}}],"attributes":{"expiryTime":"P90D"}}"#;
        let policy: KeyRotationPolicy = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&policy).unwrap(), text);
    }

    #[test]
    fn wrong_shapes_are_rejected() {
        assert!(serde_json::from_str::<KeyCreateParameters>(r#"{"key_size":2048}"#).is_err());
        assert!(
            serde_json::from_str::<KeyCreateParameters>(r#"{"kty":"RSA","key_size":"x"}"#).is_err()
        );
        assert!(
            serde_json::from_str::<KeyImportParameters>(r#"{"key":{"kty":"oct","k":1}}"#).is_err()
        );
        assert!(serde_json::from_str::<KeySignParameters>(r#"{"alg":"ES256"}"#).is_err());
        assert!(serde_json::from_str::<GetRandomBytesRequest>(r#"{}"#).is_err());
    }
}
