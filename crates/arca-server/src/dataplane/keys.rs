//! Routes of the keys API: path matching, authorization of each operation, decoding of
//! base64url members, and the mapping of the engine's results to Key Vault bodies. Storage and
//! crypto are reached only through `arca_engine::keys`. Bodies that carry key material (import,
//! encrypt, wrapKey) are wiped once parsed, and the parsed secrets live in zeroizing types.

use arca_core::{ObjectKind, ObjectName, Operation, VersionId};
use arca_crypto::keys::SymmetricParams;
use arca_crypto::SecretBytes;
use arca_proto::keys::{
    BackupBlob, DeletedMembers, GetRandomBytesRequest, KeyBundle, KeyCreateParameters,
    KeyImportParameters, KeyItem, KeyOperationResult, KeyOperationsParameters,
    KeyReleaseParameters, KeyReleaseResult, KeyRotationPolicy, KeySignParameters,
    KeyUpdateParameters, KeyVerifyParameters, KeyVerifyResult, ListResult, RandomBytes,
};
use arca_proto::SecretText;
use arca_store::Listing;
use axum::http::Method;
use axum::response::Response;

use arca_core::authz::Authorized;
use arca_engine::keys::{self as engine, KeyRef, KeyUse, KeyView, Outcome};
use arca_engine::objects::Page;

use super::context::{object_name, Ctx};
use super::deleted::DeletedObjects;
use super::paging::{cursor, next_link, page_size};
use super::{json, parse_json};
use crate::body::{Lease, Unread};
use crate::error::{ApiError, ApiResult};

const KIND: ObjectKind = ObjectKind::Key;

fn version_id(raw: &str, name: &ObjectName) -> ApiResult<VersionId> {
    super::context::version_id(raw, KIND, name)
}

/// An optional version segment: empty means the current version.
fn optional_version(raw: &str, name: &ObjectName) -> ApiResult<Option<VersionId>> {
    if raw.is_empty() {
        Ok(None)
    } else {
        version_id(raw, name).map(Some)
    }
}

/// `/keys/...` routes. `rest` are the path segments after `keys`; `body` is read only by the
/// operations that take one, after their authorization.
pub(crate) async fn route(
    ctx: &Ctx<'_>,
    method: &Method,
    rest: &[&str],
    body: Unread,
) -> ApiResult<Response> {
    let word = |segment: &str, w: &str| segment.eq_ignore_ascii_case(w);
    match (method, rest) {
        (&Method::GET, [] | [""]) => {
            let auth = ctx.authorize(Operation::KeyList, None)?;
            list(ctx, &auth, Listing::Active).await
        }
        (&Method::POST, ["restore"]) => {
            let auth = ctx.authorize(Operation::KeyRestore, None)?;
            let (params, _lease): (BackupBlob, Lease) = ctx.read_json(body).await?;
            let v = engine::restore(&ctx.state.engine, &auth, ctx.vault, &params.value).await?;
            Ok(bundle(ctx, &v))
        }
        (&Method::POST, [name, w]) if word(w, "create") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::KeyCreate, Some(&name))?;
            let (params, _lease): (KeyCreateParameters, Lease) = ctx.read_json(body).await?;
            let v = engine::create(&ctx.state.engine, &auth, ctx.vault, &name, params.into());
            Ok(bundle(ctx, &v.await?))
        }
        (&Method::PUT, [name]) => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::KeyImport, Some(&name))?;
            let (params, _lease): (KeyImportParameters, Lease) = ctx.read_json(body).await?;
            let v = engine::import(&ctx.state.engine, &auth, ctx.vault, &name, params.into());
            Ok(bundle(ctx, &v.await?))
        }
        (&Method::GET, [name] | [name, ""]) => get(ctx, &object_name(name)?, None).await,
        (&Method::GET, [name, w]) if word(w, "versions") => {
            versions(ctx, &object_name(name)?).await
        }
        (&Method::GET, [name, w]) if word(w, "rotationpolicy") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::KeyRotationPolicyGet, Some(&name))?;
            let policy = engine::rotation_policy(&ctx.state.engine, &auth, ctx.vault, &name);
            Ok(rotation_policy(ctx, &name, policy.await?))
        }
        (&Method::PUT, [name, w]) if word(w, "rotationpolicy") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::KeyRotationPolicySet, Some(&name))?;
            let (params, _lease): (KeyRotationPolicy, Lease) = ctx.read_json(body).await?;
            let e = &ctx.state.engine;
            let policy = engine::update_rotation_policy(e, &auth, ctx.vault, &name, params);
            Ok(rotation_policy(ctx, &name, policy.await?))
        }
        (&Method::POST, [name, w]) if word(w, "rotate") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::KeyRotate, Some(&name))?;
            let v = engine::rotate(&ctx.state.engine, &auth, ctx.vault, &name).await?;
            Ok(bundle(ctx, &v))
        }
        (&Method::POST, [name, w]) if word(w, "backup") => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::KeyBackup, Some(&name))?;
            let value = engine::backup(&ctx.state.engine, &auth, ctx.vault, &name).await?;
            Ok(json(&BackupBlob { value }))
        }
        (&Method::GET, [name, version]) => {
            let name = object_name(name)?;
            let version = version_id(version, &name)?;
            get(ctx, &name, Some(&version)).await
        }
        (&Method::PATCH, [name] | [name, ""]) => update(ctx, &object_name(name)?, None, body).await,
        (&Method::PATCH, [name, version]) => {
            let name = object_name(name)?;
            let version = version_id(version, &name)?;
            update(ctx, &name, Some(&version), body).await
        }
        (&Method::DELETE, [name]) => {
            let name = object_name(name)?;
            let auth = ctx.authorize(Operation::KeyDelete, Some(&name))?;
            let v = engine::delete(&ctx.state.engine, &auth, ctx.vault, &name).await?;
            Ok(bundle(ctx, &v))
        }
        (&Method::POST, [name, version, w]) if word(w, "release") => {
            let name = object_name(name)?;
            let version = optional_version(version, &name)?;
            release(ctx, &name, version.as_ref(), body).await
        }
        (&Method::POST, [name, version, op]) => match KeyUse::from_name(op) {
            Some(op) => {
                let name = object_name(name)?;
                let version = optional_version(version, &name)?;
                crypto(ctx, &name, version.as_ref(), op, body).await
            }
            None => Err(ApiError::UnknownPath),
        },
        (_, [] | [""] | ["restore"] | [_] | [_, _]) => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::UnknownPath),
    }
}

/// `/deletedkeys/...`: the routes every kind shares (`super::deleted`), on keys.
pub(crate) struct Deleted;

impl DeletedObjects for Deleted {
    const LIST: Operation = Operation::KeyListDeleted;
    const GET: Operation = Operation::KeyGetDeleted;
    const PURGE: Operation = Operation::KeyPurge;
    const RECOVER: Operation = Operation::KeyRecover;

    async fn list(ctx: &Ctx<'_>, auth: &Authorized, which: Listing) -> ApiResult<Response> {
        list(ctx, auth, which).await
    }

    async fn get_deleted(
        ctx: &Ctx<'_>,
        auth: &Authorized,
        name: &ObjectName,
    ) -> ApiResult<Response> {
        let v = engine::get_deleted(&ctx.state.engine, auth, ctx.vault, name).await?;
        Ok(bundle(ctx, &v))
    }

    async fn purge(ctx: &Ctx<'_>, auth: &Authorized, name: &ObjectName) -> ApiResult<()> {
        Ok(engine::purge(&ctx.state.engine, auth, ctx.vault, name).await?)
    }

    async fn recover(ctx: &Ctx<'_>, auth: &Authorized, name: &ObjectName) -> ApiResult<Response> {
        let v = engine::recover(&ctx.state.engine, auth, ctx.vault, name).await?;
        Ok(bundle(ctx, &v))
    }
}

/// `POST /rng`: random bytes.
pub(crate) async fn random(ctx: &Ctx<'_>, method: &Method, body: Unread) -> ApiResult<Response> {
    if method != Method::POST {
        return Err(ApiError::MethodNotAllowed);
    }
    let auth = ctx.authorize(Operation::KeyRandomBytes, None)?;
    let (params, _lease): (GetRandomBytesRequest, Lease) = ctx.read_json(body).await?;
    let bytes = engine::random_bytes(&auth, ctx.vault, params.count)?;
    Ok(json(&RandomBytes {
        value: encoded(&bytes),
    }))
}

/// Reads and parses a JSON body. The raw body is wiped once parsed (it may hold key material);
/// the caller holds the returned lease, which keeps the body's budget share, until it answers.
/// A base64url member of a request.
fn decode(text: &str, member: &str) -> ApiResult<Vec<u8>> {
    crate::b64url_decode(text)
        .ok_or_else(|| ApiError::BadParameter(format!("The member {member} is not base64url.")))
}

fn decode_optional(text: Option<&String>, member: &str) -> ApiResult<Option<Vec<u8>>> {
    text.map(|t| decode(t, member)).transpose()
}

fn encoded(bytes: &SecretBytes) -> SecretText {
    SecretText::new(crate::b64url(bytes.expose()))
}

async fn get(ctx: &Ctx<'_>, name: &ObjectName, version: Option<&VersionId>) -> ApiResult<Response> {
    let auth = ctx.authorize(Operation::KeyGet, Some(name))?;
    let v = engine::get(&ctx.state.engine, &auth, ctx.vault, name, version).await?;
    Ok(bundle(ctx, &v))
}

async fn update(
    ctx: &Ctx<'_>,
    name: &ObjectName,
    version: Option<&VersionId>,
    body: Unread,
) -> ApiResult<Response> {
    let auth = ctx.authorize(Operation::KeyUpdate, Some(name))?;
    let bytes = ctx.read(body).await?;
    let params: KeyUpdateParameters = if bytes.is_empty() {
        KeyUpdateParameters::default()
    } else {
        parse_json(&bytes)?
    };
    let _lease = bytes.into_lease();
    let e = &ctx.state.engine;
    let v = engine::update(e, &auth, ctx.vault, name, version, params.into()).await?;
    Ok(bundle(ctx, &v))
}

/// encrypt, decrypt, sign, verify, wrapKey and unwrapKey.
async fn crypto(
    ctx: &Ctx<'_>,
    name: &ObjectName,
    version: Option<&VersionId>,
    op: KeyUse,
    body: Unread,
) -> ApiResult<Response> {
    let auth = ctx.authorize(op.operation(), Some(name))?;
    let e = &ctx.state.engine;
    let at = KeyRef {
        vault: ctx.vault,
        name,
        version,
    };
    let outcome = match op {
        KeyUse::Sign => {
            let (p, _lease): (KeySignParameters, Lease) = ctx.read_json(body).await?;
            engine::sign(e, &auth, at, &p.alg, &decode(&p.value, "value")?).await?
        }
        KeyUse::Verify => {
            let (p, _lease): (KeyVerifyParameters, Lease) = ctx.read_json(body).await?;
            let digest = decode(&p.digest, "digest")?;
            let signature = decode(&p.value, "value")?;
            let valid = engine::verify(e, &auth, at, &p.alg, &digest, &signature).await?;
            return Ok(json(&KeyVerifyResult { value: valid }));
        }
        _ => {
            let (p, _lease): (KeyOperationsParameters, Lease) = ctx.read_json(body).await?;
            let value = SecretBytes::new(decode(p.value.expose(), "value")?);
            let iv = decode_optional(p.iv.as_ref(), "iv")?;
            let aad = decode_optional(p.aad.as_ref(), "aad")?;
            let tag = decode_optional(p.tag.as_ref(), "tag")?;
            let params = SymmetricParams {
                iv: iv.as_deref(),
                aad: aad.as_deref(),
                tag: tag.as_deref(),
            };
            let alg = p.alg.as_str();
            let outcome = match op {
                KeyUse::Encrypt => engine::encrypt(e, &auth, at, alg, &value, params).await?,
                KeyUse::Decrypt => {
                    engine::decrypt(e, &auth, at, alg, value.expose(), params).await?
                }
                KeyUse::Wrap => engine::wrap_key(e, &auth, at, alg, &value).await?,
                _ => engine::unwrap_key(e, &auth, at, alg, value.expose()).await?,
            };
            // Key Vault answers an authenticated encryption with the data it authenticated.
            if matches!(op, KeyUse::Encrypt) && outcome.tag.is_some() {
                return Ok(operation_result(ctx, name, outcome, p.aad));
            }
            outcome
        }
    };
    Ok(operation_result(ctx, name, outcome, None))
}

/// `POST /keys/{name}/{version}/release` (an empty version is the current one): the key wrapped
/// for the attested target, in a JWS signed with the deployment's release-signing key. The
/// payload is Key Vault's: `{"request": {...}, "response": {"key": <key bundle whose key carries
/// key_hsm>}}`.
async fn release(
    ctx: &Ctx<'_>,
    name: &ObjectName,
    version: Option<&VersionId>,
    body: Unread,
) -> ApiResult<Response> {
    let auth = ctx.authorize(Operation::KeyRelease, Some(name))?;
    let (params, _lease): (KeyReleaseParameters, Lease) = ctx.read_json(body).await?;
    let request = engine::ReleaseRequest {
        target: arca_crypto::SecretString::new(params.target.expose().to_owned()),
        nonce: params.nonce,
        enc: params.enc,
    };
    drop(params.target);
    let e = &ctx.state.engine;
    let released = engine::release(e, &auth, ctx.vault, name, version, request).await?;
    let mut bundle =
        serde_json::to_value(bundle_of(ctx, &released.view)).map_err(|_| ApiError::Internal)?;
    let kid = kid(ctx, &released.view, true);
    if let Some(key) = bundle
        .get_mut("key")
        .and_then(serde_json::Value::as_object_mut)
    {
        key.insert("key_hsm".into(), released.key_hsm.into());
    }
    let mut request = serde_json::Map::new();
    request.insert("enc".into(), released.enc.into());
    request.insert("kid".into(), kid.into());
    if let Some(nonce) = released.nonce {
        request.insert("nonce".into(), nonce.into());
    }
    let payload = serde_json::json!({ "request": request, "response": { "key": bundle } });
    let value = ctx.state.release_signing.sign(&payload).map_err(|_| {
        tracing::error!("the release answer could not be signed");
        ApiError::Internal
    })?;
    Ok(json(&KeyReleaseResult { value }))
}

/// `GET /release-signing-keys` on the deployment host: the JWK set of the key that signs release
/// answers (ES256), for clients to verify them. Public, as an issuer's JWKS is.
pub(crate) async fn release_signing_keys(
    axum::extract::State(state): axum::extract::State<crate::state::SharedState>,
) -> Response {
    json(&serde_json::json!({ "keys": [state.release_signing.public_jwk()] }))
}

fn operation_result(
    ctx: &Ctx<'_>,
    name: &ObjectName,
    outcome: Outcome,
    aad: Option<String>,
) -> Response {
    json(&KeyOperationResult {
        kid: format!("{}/keys/{}/{}", ctx.origin, name.as_str(), outcome.version),
        value: encoded(&outcome.value),
        iv: outcome.iv.as_deref().map(crate::b64url),
        tag: outcome.tag.as_deref().map(crate::b64url),
        aad,
    })
}

fn rotation_policy(ctx: &Ctx<'_>, name: &ObjectName, mut policy: KeyRotationPolicy) -> Response {
    policy.id = Some(format!(
        "{}/keys/{}/rotationpolicy",
        ctx.origin,
        name.as_str()
    ));
    json(&policy)
}

async fn list(ctx: &Ctx<'_>, auth: &Authorized, which: Listing) -> ApiResult<Response> {
    let size = page_size(&ctx.query)?;
    let after = cursor(&ctx.query)?;
    let e = &ctx.state.engine;
    let Page { items, next } =
        engine::list(e, auth, ctx.vault, which, after.as_deref(), size).await?;
    let path = match which {
        Listing::Active => "/keys",
        Listing::Deleted => "/deletedkeys",
    };
    let value = items.iter().map(|v| item(ctx, v, false)).collect();
    Ok(json(&ListResult {
        value,
        next_link: next_link(ctx, path, next, size),
    }))
}

async fn versions(ctx: &Ctx<'_>, name: &ObjectName) -> ApiResult<Response> {
    let auth = ctx.authorize(Operation::KeyListVersions, Some(name))?;
    let size = page_size(&ctx.query)?;
    let after = cursor(&ctx.query)?;
    let e = &ctx.state.engine;
    let Page { items, next } =
        engine::list_versions(e, &auth, ctx.vault, name, after.as_deref(), size).await?;
    let value = items.iter().map(|v| item(ctx, v, true)).collect();
    let path = format!("/keys/{}/versions", name.as_str());
    Ok(json(&ListResult {
        value,
        next_link: next_link(ctx, &path, next, size),
    }))
}

fn kid(ctx: &Ctx<'_>, v: &KeyView, versioned: bool) -> String {
    if versioned {
        format!("{}/keys/{}/{}", ctx.origin, v.name, v.version)
    } else {
        format!("{}/keys/{}", ctx.origin, v.name)
    }
}

fn deleted_members(ctx: &Ctx<'_>, v: &KeyView) -> Option<DeletedMembers> {
    v.deleted.map(|d| DeletedMembers {
        recovery_id: format!("{}/deletedkeys/{}", ctx.origin, v.name),
        deleted_date: d.deleted_at,
        scheduled_purge_date: d.scheduled_purge,
    })
}

fn bundle(ctx: &Ctx<'_>, v: &KeyView) -> Response {
    json(&bundle_of(ctx, v))
}

fn bundle_of<'v>(ctx: &Ctx<'_>, v: &'v KeyView) -> KeyBundle<'v> {
    ctx.key_seen(&v.name, &v.key);
    let mut key = v.key.clone();
    key.kid = Some(kid(ctx, v, true));
    KeyBundle {
        key,
        attributes: v.attributes.clone(),
        tags: v.tags.as_ref(),
        managed: v.managed.then_some(true),
        release_policy: v.release_policy.as_ref(),
        deleted: deleted_members(ctx, v),
    }
}

fn item<'v>(ctx: &Ctx<'_>, v: &'v KeyView, versioned: bool) -> KeyItem<'v> {
    KeyItem {
        kid: kid(ctx, v, versioned),
        attributes: v.attributes.clone(),
        tags: v.tags.as_ref(),
        managed: v.managed.then_some(true),
        deleted: deleted_members(ctx, v),
    }
}
