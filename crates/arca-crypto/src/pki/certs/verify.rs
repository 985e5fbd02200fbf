//! Chain verification for merge (and import): the chain a client sends must be the pending
//! key's certificate and the CAs above it, each signed by the next, each CA fit to sign and
//! valid now.
//!
//! The certificates may come in any order; the path is built from the leaf (the certificate
//! whose public key is the pending key) by matching each issuer name to a subject. Every
//! certificate given must be on that path. The result is the order kept as given (Key Vault's
//! `preserveCertOrder: true`) or leaf first (the default). Trust anchors are optional: without
//! them the top of the chain is accepted as sent (self-signed or not, its own signature not
//! checked), as Key Vault accepts any CA's chain on merge.

use super::parse::ParsedCertificate;
use super::{cert_error, MAX_CHAIN_LEN};
use crate::keys::PrivateKey;
use crate::CryptoError;

/// How the verified chain is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainOrder {
    /// As given (`preserveCertOrder: true`).
    Preserve,
    /// Leaf first, then each issuer (the default).
    LeafFirst,
}

/// Verifies `chain` for `key` at `now` (Unix seconds) and returns it in `order`. With
/// `anchors`, the top of the path must be an anchor or be signed by one.
pub fn verify_chain(
    chain: Vec<ParsedCertificate>,
    key: &PrivateKey,
    now: i64,
    order: ChainOrder,
    anchors: &[ParsedCertificate],
) -> Result<Vec<ParsedCertificate>, CryptoError> {
    if chain.is_empty() || chain.len() > MAX_CHAIN_LEN {
        return Err(cert_error("the chain must hold 1 to 10 certificates"));
    }
    let leaf = chain
        .iter()
        .position(|c| c.public_key_matches(key))
        .ok_or_else(|| cert_error("no certificate in the chain holds the pending key"))?;
    let mut path = vec![leaf];
    loop {
        let current = &chain[*path.last().unwrap_or(&leaf)];
        if current.issuer_der == current.subject_der {
            break;
        }
        let next = chain
            .iter()
            .enumerate()
            .find(|(i, c)| !path.contains(i) && c.subject_der == current.issuer_der);
        match next {
            Some((index, _)) => path.push(index),
            None => break,
        }
    }
    if path.len() != chain.len() {
        return Err(cert_error(
            "the chain holds certificates that are not on the path from the leaf",
        ));
    }
    for (position, &index) in path.iter().enumerate() {
        let cert = &chain[index];
        if now < cert.not_before || now > cert.not_after {
            return Err(cert_error("a certificate of the chain is not valid now"));
        }
        if position > 0 && !cert.can_sign_certificates() {
            return Err(cert_error(
                "an issuer in the chain is not a CA (basicConstraints cA, keyCertSign)",
            ));
        }
        // The top's own signature is not checked: a self-signature proves nothing, and many
        // public roots still carry SHA-1 ones, which are not verified here.
        if let Some(&issuer) = path.get(position + 1) {
            cert.verify_signed_by(&chain[issuer])?;
        }
    }
    if !anchors.is_empty() {
        let top = &chain[path[path.len() - 1]];
        let anchored = anchors.iter().any(|anchor| {
            anchor.der == top.der
                || (anchor.can_sign_certificates()
                    && now >= anchor.not_before
                    && now <= anchor.not_after
                    && top.verify_signed_by(anchor).is_ok())
        });
        if !anchored {
            return Err(cert_error(
                "the chain does not lead to a trusted certificate",
            ));
        }
    }
    Ok(match order {
        ChainOrder::Preserve => chain,
        ChainOrder::LeafFirst => {
            let mut slots: Vec<Option<ParsedCertificate>> = chain.into_iter().map(Some).collect();
            path.iter().filter_map(|&i| slots[i].take()).collect()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Curve;
    use crate::pki::certs::build::{
        issue_certificate, self_signed_certificate, CertificateDescription, CertificateIssuer,
    };

    const NOW: i64 = 1_780_000_000;

    fn described(subject: &str, usages: &[&str]) -> CertificateDescription {
        CertificateDescription {
            subject: subject.into(),
            key_usages: usages.iter().map(|s| (*s).to_owned()).collect(),
            validity_months: 24,
            ..Default::default()
        }
    }

    /// Root → intermediate → leaf, each with its key; the leaf's key is returned.
    fn three_level() -> (Vec<ParsedCertificate>, PrivateKey) {
        let ca_usages = ["keyCertSign", "cRLSign"];
        let root_key = PrivateKey::generate_ec(Curve::P384).unwrap();
        let root = self_signed_certificate(&described("CN=Root", &ca_usages), &root_key, NOW - 100)
            .unwrap();
        let root_issuer = CertificateIssuer::new(root.clone(), root_key).unwrap();
        let mid_key = PrivateKey::generate_rsa(2048).unwrap();
        let mid = issue_certificate(
            &described("CN=Intermediate", &ca_usages),
            &mid_key.public_key().unwrap(),
            &root_issuer,
            NOW - 50,
        )
        .unwrap();
        let mid_issuer = CertificateIssuer::new(mid.clone(), mid_key).unwrap();
        let leaf_key = PrivateKey::generate_ec(Curve::P256).unwrap();
        let leaf = issue_certificate(
            &described("CN=leaf", &["digitalSignature"]),
            &leaf_key.public_key().unwrap(),
            &mid_issuer,
            NOW - 10,
        )
        .unwrap();
        let parsed = [leaf, mid, root]
            .iter()
            .map(|d| ParsedCertificate::from_der(d).unwrap())
            .collect();
        (parsed, leaf_key)
    }

    fn subjects(chain: &[ParsedCertificate]) -> Vec<&str> {
        chain.iter().map(|c| c.subject.as_str()).collect()
    }

    #[test]
    fn chains_in_any_order_verify_and_are_ordered_as_asked() {
        let (chain, key) = three_level();
        let reversed: Vec<_> = chain.iter().rev().cloned().collect();
        let ordered =
            verify_chain(reversed.clone(), &key, NOW, ChainOrder::LeafFirst, &[]).unwrap();
        assert_eq!(
            subjects(&ordered),
            ["CN=leaf", "CN=Intermediate", "CN=Root"]
        );
        let kept = verify_chain(reversed, &key, NOW, ChainOrder::Preserve, &[]).unwrap();
        assert_eq!(subjects(&kept), ["CN=Root", "CN=Intermediate", "CN=leaf"]);
        // Leaf alone, and leaf + intermediate without the root, verify too.
        assert!(verify_chain(chain[..1].to_vec(), &key, NOW, ChainOrder::LeafFirst, &[]).is_ok());
        assert!(verify_chain(chain[..2].to_vec(), &key, NOW, ChainOrder::LeafFirst, &[]).is_ok());
        // Against anchors: the root as anchor works, an unrelated one does not.
        let anchor = [chain[2].clone()];
        assert!(verify_chain(
            chain[..2].to_vec(),
            &key,
            NOW,
            ChainOrder::LeafFirst,
            &anchor
        )
        .is_ok());
        let (other, _) = three_level();
        let stranger = [other[2].clone()];
        assert!(verify_chain(chain.clone(), &key, NOW, ChainOrder::LeafFirst, &stranger).is_err());
    }

    #[test]
    fn broken_chains_are_refused() {
        let (chain, key) = three_level();
        let other_key = PrivateKey::generate_ec(Curve::P256).unwrap();
        let err = |chain: Vec<ParsedCertificate>, key: &PrivateKey, now: i64| {
            verify_chain(chain, key, now, ChainOrder::LeafFirst, &[])
                .unwrap_err()
                .to_string()
        };
        assert!(err(chain.clone(), &other_key, NOW).contains("pending key"));
        assert!(err(chain.clone(), &key, NOW + 3 * 366 * 86_400).contains("not valid now"));
        // A stray certificate that is not on the path.
        let (other, _) = three_level();
        let mut stray = chain.clone();
        stray.push(other[2].clone());
        assert!(err(stray, &key, NOW).contains("not on the path"));
        // An intermediate with the right name but another key: the signature fails.
        let mut forged = chain.clone();
        let mut wrong_mid = other[1].clone();
        wrong_mid.subject_der = chain[1].subject_der.clone();
        forged[1] = wrong_mid;
        assert!(err(forged, &key, NOW).contains("signature"));
        // A leaf used as an issuer.
        let leaf_key = PrivateKey::generate_ec(Curve::P256).unwrap();
        let not_ca = CertificateIssuer::new(chain[0].der.clone(), key);
        assert!(not_ca.is_err());
        assert!(err(Vec::new(), &leaf_key, NOW).contains("1 to 10"));
    }
}
