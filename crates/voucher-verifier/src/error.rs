//! Why a voucher was refused: one variant per check, each with a clear reason, and the RFC
//! 6750 / RFC 9449 `error` a `WWW-Authenticate` answer carries.

/// A refusal, or a configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the verifier is not configured: {0}")]
    Config(String),
    #[error("no voucher: send it as Authorization: Bearer <voucher> or DPoP <voucher>")]
    MissingAuthorization,
    #[error("the voucher is not a JWT: {0}")]
    Malformed(String),
    #[error("the voucher is signed with {0}, not RS256")]
    Algorithm(String),
    #[error("the voucher's typ is {0:?}, not at+jwt")]
    Type(String),
    #[error("the voucher's key {0} is not among the environment's keys")]
    UnknownKey(String),
    #[error("the environment's keys cannot be read: {0}")]
    KeysUnavailable(String),
    #[error("the voucher's signature does not verify with the environment's key")]
    Signature,
    #[error("the voucher was issued by another issuer")]
    Issuer,
    #[error("the voucher is not for this audience")]
    Audience,
    #[error("the voucher has expired")]
    Expired,
    #[error("the voucher is not valid yet (nbf)")]
    NotYetValid,
    #[error("the voucher is for another e-service ({0})")]
    EService(String),
    #[error("the voucher is for another producer's e-service")]
    Producer,
    #[error("the voucher is for a version not served here ({0})")]
    Descriptor(String),
    #[error("the voucher names no purpose")]
    MissingPurpose,
    #[error(
        "the voucher is bound to a key (cnf.jkt): send it as Authorization: DPoP with a DPoP proof"
    )]
    DpopBoundUsedAsBearer,
    #[error("Authorization: DPoP with a voucher bound to no key")]
    NotDpopBound,
    #[error("no DPoP proof: send it in the DPoP header")]
    DpopMissing,
    #[error("the DPoP proof is not valid: {0}")]
    DpopInvalid(String),
    #[error("the DPoP proof was already used")]
    DpopReplay,
    #[error("no Agid-JWT-TrackingEvidence header, though the voucher carries a digest")]
    TrackingEvidenceMissing,
    #[error("the Agid-JWT-TrackingEvidence header does not match the voucher's digest")]
    DigestMismatch,
    #[error("the Agid-JWT-TrackingEvidence is not signed by a key of the voucher's client: {0}")]
    TrackingEvidenceInvalid(String),
}

impl VerifyError {
    /// A short stable name of the check that failed (metrics, logs).
    pub fn reason(&self) -> &'static str {
        match self {
            VerifyError::Config(_) => "config",
            VerifyError::MissingAuthorization => "missing_authorization",
            VerifyError::Malformed(_) => "malformed",
            VerifyError::Algorithm(_) => "algorithm",
            VerifyError::Type(_) => "typ",
            VerifyError::UnknownKey(_) => "unknown_kid",
            VerifyError::KeysUnavailable(_) => "keys_unavailable",
            VerifyError::Signature => "signature",
            VerifyError::Issuer => "issuer",
            VerifyError::Audience => "audience",
            VerifyError::Expired => "expired",
            VerifyError::NotYetValid => "not_yet_valid",
            VerifyError::EService(_) => "eservice",
            VerifyError::Producer => "producer",
            VerifyError::Descriptor(_) => "descriptor",
            VerifyError::MissingPurpose => "purpose",
            VerifyError::DpopBoundUsedAsBearer => "dpop_bound_as_bearer",
            VerifyError::NotDpopBound => "not_dpop_bound",
            VerifyError::DpopMissing => "dpop_missing",
            VerifyError::DpopInvalid(_) => "dpop_invalid",
            VerifyError::DpopReplay => "dpop_replay",
            VerifyError::TrackingEvidenceMissing => "tracking_evidence_missing",
            VerifyError::DigestMismatch => "digest",
            VerifyError::TrackingEvidenceInvalid(_) => "tracking_evidence",
        }
    }

    /// The `error` of a `WWW-Authenticate` answer: `invalid_request` for what is missing,
    /// `invalid_dpop_proof` for the proof, `invalid_token` for the rest; `None` for what is
    /// not the caller's fault (the keys cannot be read, the verifier is not configured).
    pub fn oauth_error(&self) -> Option<&'static str> {
        match self {
            VerifyError::Config(_) | VerifyError::KeysUnavailable(_) => None,
            VerifyError::MissingAuthorization
            | VerifyError::DpopMissing
            | VerifyError::TrackingEvidenceMissing => Some("invalid_request"),
            VerifyError::DpopInvalid(_) | VerifyError::DpopReplay => Some("invalid_dpop_proof"),
            _ => Some("invalid_token"),
        }
    }
}

impl From<jsonwebtoken::errors::Error> for VerifyError {
    fn from(e: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::InvalidSignature => VerifyError::Signature,
            ErrorKind::InvalidIssuer => VerifyError::Issuer,
            ErrorKind::ExpiredSignature => VerifyError::Expired,
            ErrorKind::ImmatureSignature => VerifyError::NotYetValid,
            ErrorKind::InvalidAlgorithm => VerifyError::Algorithm("another algorithm".into()),
            _ => VerifyError::Malformed(e.to_string()),
        }
    }
}
