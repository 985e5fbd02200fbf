//! What a secret version may hold: the checks Key Vault applies to values, content types and tags.

use std::collections::BTreeMap;

use crate::limits::{
    MAX_CONTENT_TYPE_CHARS, MAX_SECRET_VALUE_BYTES, MAX_TAGS, MAX_TAG_NAME_CHARS,
    MAX_TAG_VALUE_CHARS,
};

/// A rule a request broke; the message is safe to return to the caller (it never quotes a value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// The value must fit Key Vault's 25 KiB limit.
pub fn check_value(value: &str) -> Result<(), Invalid> {
    if value.len() > MAX_SECRET_VALUE_BYTES {
        return Err(Invalid(format!(
            "Secret value exceeds the maximum permitted length of {MAX_SECRET_VALUE_BYTES} bytes."
        )));
    }
    Ok(())
}

pub fn check_content_type(content_type: &str) -> Result<(), Invalid> {
    if content_type.chars().count() > MAX_CONTENT_TYPE_CHARS {
        return Err(Invalid(format!(
            "contentType exceeds the maximum permitted length of {MAX_CONTENT_TYPE_CHARS} characters."
        )));
    }
    Ok(())
}

pub fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), Invalid> {
    if tags.len() > MAX_TAGS {
        return Err(Invalid(format!(
            "The number of tags exceeds the maximum of {MAX_TAGS}."
        )));
    }
    for (name, value) in tags {
        if name.is_empty() || name.chars().count() > MAX_TAG_NAME_CHARS {
            return Err(Invalid(format!(
                "A tag name must have 1 to {MAX_TAG_NAME_CHARS} characters."
            )));
        }
        if value.chars().count() > MAX_TAG_VALUE_CHARS {
            return Err(Invalid(format!(
                "A tag value must have at most {MAX_TAG_VALUE_CHARS} characters."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_limit_is_25_kib() {
        assert!(check_value(&"a".repeat(25 * 1024)).is_ok());
        assert!(check_value(&"a".repeat(25 * 1024 + 1)).is_err());
        // The limit counts bytes of UTF-8, not characters.
        assert!(check_value(&"é".repeat(12 * 1024 + 513)).is_err());
    }

    #[test]
    fn tag_limits() {
        let many: BTreeMap<_, _> = (0..16).map(|i| (format!("t{i}"), "v".to_owned())).collect();
        assert!(check_tags(&many).is_err());
        let fifteen: BTreeMap<_, _> = (0..15).map(|i| (format!("t{i}"), "v".to_owned())).collect();
        assert!(check_tags(&fifteen).is_ok());
        assert!(check_tags(&BTreeMap::from([("k".repeat(257), String::new())])).is_err());
        assert!(check_tags(&BTreeMap::from([("k".into(), "v".repeat(257))])).is_err());
        assert!(check_tags(&BTreeMap::from([(String::new(), "v".into())])).is_err());
    }

    #[test]
    fn content_type_limit() {
        assert!(check_content_type(&"c".repeat(255)).is_ok());
        assert!(check_content_type(&"c".repeat(256)).is_err());
    }
}
