//! The CA behind the built-in certificate issuer (`Arca`): the deployment's issuing CA, either
//! made under the local root (`pki/ca.rs`) or an operator's own CA imported as PEM, with the
//! certificates above it.
//!
//! An [`IssuingAuthority`] is checked when it is made: its key belongs to its certificate, the
//! certificate may sign others (basicConstraints cA, keyCertSign), every certificate of the
//! chain is valid at that moment and signed by the next (`verify.rs`), and its key is one that
//! clients verify (RSA of 2048 bits or more, EC P-256, P-384 or P-521). What it signs must also
//! satisfy the DNS name constraints of every certificate in its chain
//! ([`IssuingAuthority::permits_dns_name`]), so Arca refuses a name clients would refuse anyway.
//!
//! Must not: read the clock (time is passed in), or let its key out other than as the PKCS#8
//! bytes its owner seals.

use super::build::{issue_certificate, CertificateDescription, CertificateIssuer};
use super::parse::ParsedCertificate;
use super::pem::parse_pem_bundle;
use super::verify::{verify_chain, ChainOrder};
use super::{cert_error, MAX_CHAIN_LEN};
use crate::keys::{Curve, KeyType, PrivateKey, PublicKey};
use crate::pki::ca::dns_name_within;
use crate::pki::der;
use crate::pki::x509::TbsCertificate;
use crate::{CryptoError, SecretBytes, SecretString};

/// Name constraints extension, 2.5.29.30.
const NAME_CONSTRAINTS: &[u64] = &[2, 5, 29, 30];
/// Smallest RSA key a CA may have.
const MIN_RSA_BITS: usize = 2048;

/// The DNS part of one certificate's name constraints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct DnsConstraints {
    /// Permitted DNS subtrees; empty means DNS names are not constrained to any.
    permitted: Vec<String>,
    /// Excluded DNS subtrees.
    excluded: Vec<String>,
}

impl DnsConstraints {
    /// Whether `name` is within a permitted subtree (when there are any) and within no excluded
    /// one. A wildcard `*.b.example` stands for every name below `b.example`: `b.example` must be
    /// permitted, and no excluded subtree may hold it or lie below it.
    fn permits(&self, name: &str) -> bool {
        let (base, wildcard) = match name.strip_prefix("*.") {
            Some(base) => (base, true),
            None => (name, false),
        };
        let within = |constraint: &String| subtree_holds(constraint, base);
        let covers = |constraint: &String| {
            let excluded = constraint.strip_prefix('.').unwrap_or(constraint);
            wildcard && dns_name_within(excluded, base)
        };
        (self.permitted.is_empty() || self.permitted.iter().any(within))
            && !self.excluded.iter().any(|e| within(e) || covers(e))
    }
}

/// Whether the DNS subtree `constraint` holds `name` (RFC 5280 §4.2.1.10): the empty constraint
/// holds every name, `.example.com` only names below it, `example.com` itself and below.
fn subtree_holds(constraint: &str, name: &str) -> bool {
    match constraint.strip_prefix('.') {
        _ if constraint.is_empty() => true,
        Some(rest) => dns_name_within(name, rest) && !name.eq_ignore_ascii_case(rest),
        None => dns_name_within(name, constraint),
    }
}

/// The DNS name constraints of `cert`: `Ok(None)` without the extension, an error when it
/// cannot be read (then nothing is issued: a constraint Arca cannot read is not ignored).
fn dns_constraints(cert: &ParsedCertificate) -> Result<Option<DnsConstraints>, CryptoError> {
    let unreadable = || cert_error("a CA certificate's name constraints cannot be read");
    let tbs = TbsCertificate::parse(&cert.der).ok_or_else(unreadable)?;
    let Some(extensions) = tbs.extensions else {
        return Ok(None);
    };
    let list = der::read_only(extensions.content, der::TAG_SEQUENCE).ok_or_else(unreadable)?;
    for extension in der::children(list.content).ok_or_else(unreadable)? {
        let parts = der::children(extension.content).ok_or_else(unreadable)?;
        let (Some(id), Some(value)) = (parts.first(), parts.last()) else {
            return Err(unreadable());
        };
        if id.tag != der::TAG_OID || der::oid_arcs(id.content).as_deref() != Some(NAME_CONSTRAINTS)
        {
            continue;
        }
        return read_name_constraints(value.content)
            .map(Some)
            .ok_or_else(unreadable);
    }
    Ok(None)
}

/// `NameConstraints ::= SEQUENCE { permittedSubtrees [0] ..., excludedSubtrees [1] ... }`,
/// each a SEQUENCE OF `GeneralSubtree ::= SEQUENCE { base GeneralName, ... }`; the dNSName
/// (`[2]`) bases are kept.
fn read_name_constraints(value: &[u8]) -> Option<DnsConstraints> {
    let sequence = der::read_only(value, der::TAG_SEQUENCE)?;
    let mut out = DnsConstraints::default();
    for part in der::children(sequence.content)? {
        let into = match part.tag {
            0xa0 => &mut out.permitted,
            0xa1 => &mut out.excluded,
            _ => return None,
        };
        for subtree in der::children(part.content)? {
            if subtree.tag != der::TAG_SEQUENCE {
                return None;
            }
            let (base, _) = der::read(subtree.content)?;
            if base.tag == 0x82 {
                let name = std::str::from_utf8(base.content).ok()?;
                if !name.is_ascii() {
                    return None;
                }
                into.push(name.to_ascii_lowercase());
            }
        }
    }
    Some(out)
}

/// Refuses a CA key clients would not verify signatures of.
fn check_ca_key(key: &PrivateKey) -> Result<(), CryptoError> {
    let usable = match (key.key_type(), key.curve()) {
        (KeyType::Rsa, _) => key.size_bits().is_some_and(|bits| bits >= MIN_RSA_BITS),
        (KeyType::Ec, Some(curve)) => matches!(curve, Curve::P256 | Curve::P384 | Curve::P521),
        _ => false,
    };
    if usable {
        Ok(())
    } else {
        Err(cert_error(
            "the CA key must be RSA of 2048 bits or more, or EC P-256, P-384 or P-521",
        ))
    }
}

/// The deployment's issuing CA: its certificate and key, and the certificates above it.
pub struct IssuingAuthority {
    issuer: CertificateIssuer,
    /// The CA's key, PKCS#8, for its owner to seal.
    key_pkcs8: SecretBytes,
    /// The CA first, then each issuer up the path, as far as it was given.
    chain: Vec<ParsedCertificate>,
    /// The DNS name constraints of each certificate of the chain that has them.
    constraints: Vec<DnsConstraints>,
}

impl std::fmt::Debug for IssuingAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuingAuthority")
            .field("chain", &self.chain)
            .finish_non_exhaustive()
    }
}

impl IssuingAuthority {
    /// The CA holding `key` and the certificates above it, in any order: checked as the module
    /// says at `now` (Unix seconds), then kept with the CA first and each issuer after it.
    pub fn new(
        chain: Vec<ParsedCertificate>,
        key: PrivateKey,
        now: i64,
    ) -> Result<Self, CryptoError> {
        if chain.is_empty() || chain.len() > MAX_CHAIN_LEN {
            return Err(cert_error("the CA chain must hold 1 to 10 certificates"));
        }
        check_ca_key(&key)?;
        if !chain.iter().any(|c| c.public_key_matches(&key)) {
            return Err(cert_error(
                "the CA key does not belong to any certificate given",
            ));
        }
        let chain = verify_chain(chain, &key, now, ChainOrder::LeafFirst, &[])?;
        if !chain[0].can_sign_certificates() {
            return Err(cert_error(
                "the certificate of the key is not a CA certificate (basicConstraints cA and keyCertSign)",
            ));
        }
        let constraints = chain
            .iter()
            .filter_map(|cert| dns_constraints(cert).transpose())
            .collect::<Result<Vec<_>, _>>()?;
        let key_pkcs8 = key
            .to_pkcs8()
            .map_err(|_| cert_error("the CA key cannot be written as PKCS#8"))?;
        let issuer = CertificateIssuer::new(chain[0].der.clone(), key)?;
        Ok(Self {
            issuer,
            key_pkcs8,
            chain,
            constraints,
        })
    }

    /// An operator's CA from PEM text: one private key (PKCS#8, PKCS#1 or SEC1; an `ENCRYPTED
    /// PRIVATE KEY` with `password`) and its certificate, with any certificates above it.
    pub fn from_pem(
        text: &str,
        password: Option<&SecretString>,
        now: i64,
    ) -> Result<Self, CryptoError> {
        let bundle = parse_pem_bundle(text, password)?;
        let key = bundle
            .key
            .ok_or_else(|| cert_error("the PEM text holds no private key for the CA"))?;
        Self::new(bundle.chain, key, now)
    }

    /// From stored parts: the chain as DER (the CA first) and the key as PKCS#8.
    pub fn from_parts(
        chain_der: &[Vec<u8>],
        key_pkcs8: &SecretBytes,
        now: i64,
    ) -> Result<Self, CryptoError> {
        let chain = chain_der
            .iter()
            .map(|der_bytes| ParsedCertificate::from_der(der_bytes))
            .collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKey::from_pkcs8(key_pkcs8.expose())
            .map_err(|_| cert_error("the CA key is not a supported PKCS#8 private key"))?;
        Self::new(chain, key, now)
    }

    /// The CA certificate, then each issuer above it as far as known.
    pub fn chain(&self) -> &[ParsedCertificate] {
        &self.chain
    }

    /// The CA's private key, PKCS#8, for sealing.
    pub fn key_pkcs8(&self) -> &SecretBytes {
        &self.key_pkcs8
    }

    /// Whether every certificate of the chain lets the CA sign for the DNS name `name` (a
    /// wildcard `*.b.example` included, see the module's rules).
    pub fn permits_dns_name(&self, name: &str) -> bool {
        self.constraints.iter().all(|c| c.permits(name))
    }

    /// A certificate (DER) for `subject_key` as `description` says, signed by the CA at `now`;
    /// it ends no later than the CA. Names are the caller's to check.
    pub fn issue(
        &self,
        description: &CertificateDescription,
        subject_key: &PublicKey,
        now: i64,
    ) -> Result<Vec<u8>, CryptoError> {
        if self
            .chain
            .iter()
            .any(|c| now < c.not_before || now > c.not_after)
        {
            return Err(cert_error("the issuing CA's chain is not valid now"));
        }
        issue_certificate(description, subject_key, &self.issuer, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::ca::{generate_ca, generate_local_ca, issue_issuing_ca, private_key_pem};
    use crate::pki::certs::{SubjectAltNames, MAX_INPUT_LEN};
    use crate::CaMaterial;

    const NOW: i64 = 1_800_000_000;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    /// A local root with issuing suffixes and the issuing CA below it.
    fn deployment() -> (CaMaterial, CaMaterial) {
        let suffixes = strings(&["example.internal"]);
        let root = generate_local_ca(
            "Arca local CA",
            &strings(&["localhost", "vault.example.internal"]),
            &suffixes,
            NOW,
        )
        .unwrap();
        let ca =
            issue_issuing_ca(&root, &suffixes, &strings(&["vault.example.internal"]), NOW).unwrap();
        (root, ca)
    }

    fn pem_of(ca: &CaMaterial, above: &[&CaMaterial]) -> String {
        let mut text = private_key_pem(&ca.key_pkcs8).expose().to_owned();
        text.push_str(&ca.cert_pem);
        for issuer in above {
            text.push_str(&issuer.cert_pem);
        }
        text
    }

    fn description(name: &str) -> CertificateDescription {
        CertificateDescription {
            subject: format!("CN={name}"),
            sans: SubjectAltNames {
                dns_names: vec![name.to_owned()],
                ..Default::default()
            },
            ekus: vec!["1.3.6.1.5.5.7.3.1".into()],
            key_usages: vec!["digitalSignature".into()],
            validity_months: 12,
        }
    }

    #[test]
    fn the_issuing_ca_keeps_its_chain_and_its_constraints() {
        let (root, ca) = deployment();
        // Given in another order, kept CA first.
        let mut text = private_key_pem(&ca.key_pkcs8).expose().to_owned();
        text.push_str(&root.cert_pem);
        text.push_str(&ca.cert_pem);
        let authority = IssuingAuthority::from_pem(&text, None, NOW).unwrap();
        let chain = authority.chain();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].subject, "CN=Arca issuing CA");
        assert_eq!(chain[1].subject, "CN=Arca local CA");
        for name in [
            "example.internal",
            "a.example.internal",
            "A.Example.Internal",
        ] {
            assert!(authority.permits_dns_name(name), "{name}");
        }
        // Outside the suffixes (the root permits localhost, the issuing CA does not), or one of
        // Arca's own names the issuing CA excludes.
        for name in [
            "badexample.internal",
            "localhost",
            "vault.example.internal",
            "prod.vault.example.internal",
        ] {
            assert!(!authority.permits_dns_name(name), "{name}");
        }
        // Round trip through the stored parts.
        let parts: Vec<Vec<u8>> = chain.iter().map(|c| c.der.clone()).collect();
        let again = IssuingAuthority::from_parts(&parts, authority.key_pkcs8(), NOW).unwrap();
        assert_eq!(again.chain(), authority.chain());
        assert!(!format!("{authority:?}").contains("PRIVATE"));
    }

    #[test]
    fn what_it_issues_chains_to_the_root_and_ends_with_the_ca() {
        let (root, ca) = deployment();
        let authority = IssuingAuthority::from_pem(&pem_of(&ca, &[&root]), None, NOW).unwrap();
        let key = PrivateKey::generate_ec(Curve::P256).unwrap();
        let mut long = description("svc.example.internal");
        long.validity_months = 1_200;
        let leaf = authority
            .issue(&long, &key.public_key().unwrap(), NOW)
            .unwrap();
        let leaf = ParsedCertificate::from_der(&leaf).unwrap();
        assert_eq!(leaf.not_after, authority.chain()[0].not_after);
        let root_cert = ParsedCertificate::from_pem(&root.cert_pem).unwrap();
        let chain = vec![leaf, authority.chain()[0].clone()];
        let verified = verify_chain(chain, &key, NOW, ChainOrder::LeafFirst, &[root_cert]).unwrap();
        assert_eq!(verified.len(), 2);
        // Past the CA's end it issues nothing.
        let late = authority.chain()[0].not_after + 1;
        assert!(authority
            .issue(&long, &key.public_key().unwrap(), late)
            .is_err());
    }

    #[test]
    fn what_is_not_a_usable_ca_is_refused_with_a_reason() {
        let (root, ca) = deployment();
        let other = generate_ca("Other CA", NOW).unwrap();
        let refused = |text: &str, now: i64| {
            IssuingAuthority::from_pem(text, None, now)
                .unwrap_err()
                .to_string()
        };
        // A key without its certificate.
        let mismatched = format!(
            "{}{}",
            private_key_pem(&other.key_pkcs8).expose(),
            ca.cert_pem
        );
        assert!(
            refused(&mismatched, NOW).contains("private key"),
            "{}",
            refused(&mismatched, NOW)
        );
        // No key at all.
        assert!(refused(&ca.cert_pem, NOW).contains("no private key"));
        // A certificate that is not a CA.
        let leaf = crate::issue_server_cert(&ca, &strings(&["a.example.internal"]), NOW).unwrap();
        let leaf_pem = format!(
            "{}{}",
            private_key_pem(&leaf.key_pkcs8).expose(),
            leaf.cert_pem
        );
        assert!(refused(&leaf_pem, NOW).contains("not a CA"));
        // Not valid yet, or no longer.
        assert!(refused(&pem_of(&ca, &[&root]), NOW - 86_400).contains("not valid now"));
        let end = ParsedCertificate::from_pem(&ca.cert_pem).unwrap().not_after;
        assert!(refused(&pem_of(&ca, &[&root]), end + 1).contains("not valid now"));
        // A certificate that is not on the CA's path.
        assert!(refused(&pem_of(&ca, &[&root, &other]), NOW).contains("not on the path"));
        // A key clients do not verify.
        let k1 = PrivateKey::generate_ec(Curve::P256K).unwrap();
        let cert = crate::pki::certs::build::test_certificate(&k1, "CN=k1");
        let parsed = ParsedCertificate::from_der(&cert).unwrap();
        let refused = IssuingAuthority::new(vec![parsed], k1, 1_780_000_000).unwrap_err();
        assert!(refused.to_string().contains("P-256, P-384 or P-521"));
        assert!(IssuingAuthority::new(
            Vec::new(),
            PrivateKey::generate_ec(Curve::P256).unwrap(),
            NOW
        )
        .is_err());
        assert!(IssuingAuthority::from_pem(&"x".repeat(MAX_INPUT_LEN + 1), None, NOW).is_err());
    }

    #[test]
    fn dns_subtrees_follow_rfc_5280() {
        assert!(subtree_holds("", "anything.example"));
        assert!(subtree_holds("example.com", "example.com"));
        assert!(subtree_holds("example.com", "a.example.com"));
        assert!(!subtree_holds("example.com", "badexample.com"));
        assert!(subtree_holds(".example.com", "a.example.com"));
        assert!(!subtree_holds(".example.com", "example.com"));
        let constraints = DnsConstraints {
            permitted: strings(&["example.com"]),
            excluded: strings(&["secret.example.com"]),
        };
        assert!(constraints.permits("www.example.com"));
        assert!(!constraints.permits("a.secret.example.com"));
        assert!(!constraints.permits("example.org"));
        assert!(DnsConstraints::default().permits("example.org"));
        // A wildcard stands for the names below its base.
        assert!(constraints.permits("*.www.example.com"));
        assert!(
            !constraints.permits("*.example.com"),
            "it would cover secret.example.com"
        );
        assert!(!constraints.permits("*.secret.example.com"));
        assert!(!constraints.permits("*.example.org"));
        assert_eq!(read_name_constraints(&[0x30, 0x02, 0x82, 0x00]), None);
    }
}
