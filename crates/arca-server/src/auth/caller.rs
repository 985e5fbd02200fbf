//! [`Caller`]: who a verified token speaks for. A leaf, so that access control, the data plane
//! and the identity endpoints can name the caller without depending on one another.

/// Who a verified token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub object_id: String,
    pub client_id: String,
    /// The credential the token was issued through (see `access::secret_credential` and
    /// friends); a token stops working when its credential is removed.
    pub credential: String,
    /// Unix seconds after which the token (plus skew) no longer counts.
    pub expires: i64,
}
