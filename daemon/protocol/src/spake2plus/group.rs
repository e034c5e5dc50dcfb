//! The P-256 group as SPAKE2+ uses it: the points M and N, share encoding and
//! validation, and scalars from bytes.

use std::sync::OnceLock;

use p256::elliptic_curve::PrimeField;
use p256::elliptic_curve::ff::FromUniformBytes;
use p256::elliptic_curve::sec1::{FromSec1Point, ToSec1Point};
use p256::elliptic_curve::{Field, Group};
use p256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar};
use zeroize::Zeroizing;

use super::{PBKDF_HALF_LEN, SHARE_LEN, Spake2PlusError};

/// RFC 9383 §4, P-256: `M`, compressed SEC1, from the seed
/// "1.2.840.10045.3.1.7 point generation seed (M)".
pub(super) const M_COMPRESSED: [u8; 33] = [
    0x02, 0x88, 0x6e, 0x2f, 0x97, 0xac, 0xe4, 0x6e, 0x55, 0xba, 0x9d, 0xd7, 0x24, 0x25, 0x79, 0xf2, 0x99, 0x3b, 0x64,
    0xe1, 0x6e, 0xf3, 0xdc, 0xab, 0x95, 0xaf, 0xd4, 0x97, 0x33, 0x3d, 0x8f, 0xa1, 0x2f,
];

/// RFC 9383 §4, P-256: `N`, compressed SEC1, from the seed
/// "1.2.840.10045.3.1.7 point generation seed (N)".
pub(super) const N_COMPRESSED: [u8; 33] = [
    0x03, 0xd8, 0xbb, 0xd6, 0xc6, 0x39, 0xc6, 0x29, 0x37, 0xb0, 0x4d, 0x99, 0x7f, 0x38, 0xc3, 0x77, 0x07, 0x19, 0xc6,
    0x29, 0xd7, 0x01, 0x4d, 0x49, 0xa2, 0x4b, 0x4f, 0x98, 0xba, 0xa1, 0x29, 0x2b, 0x49,
];

/// `M` and `N` as points and as the uncompressed encodings the transcript carries.
pub(super) struct Constants {
    pub(super) m: ProjectivePoint,
    pub(super) n: ProjectivePoint,
    pub(super) m_bytes: [u8; SHARE_LEN],
    pub(super) n_bytes: [u8; SHARE_LEN],
}

/// `M` and `N`, decompressed once per process. `None` only if the constants above were not
/// points of the curve, which the unit tests rule out.
pub(super) fn constants() -> Option<&'static Constants> {
    static CONSTANTS: OnceLock<Option<Constants>> = OnceLock::new();
    CONSTANTS
        .get_or_init(|| {
            let m = ProjectivePoint::from(AffinePoint::from_sec1_bytes(&M_COMPRESSED).ok()?);
            let n = ProjectivePoint::from(AffinePoint::from_sec1_bytes(&N_COMPRESSED).ok()?);
            Some(Constants { m, n, m_bytes: encode(&m)?, n_bytes: encode(&n)? })
        })
        .as_ref()
}

/// The uncompressed SEC1 encoding `04 ‖ x ‖ y`; `None` for the identity, which has none.
pub(super) fn encode(point: &ProjectivePoint) -> Option<[u8; SHARE_LEN]> {
    point.to_affine().to_sec1_point(false).as_bytes().try_into().ok()
}

/// Parses a peer's share: exactly 65 bytes, uncompressed (`04` tag), on the curve, not
/// the identity. P-256 has cofactor 1, so every such point is in the prime-order group
/// and the RFC's `h*V = I` check reduces to the identity check.
pub(super) fn decode_share(bytes: &[u8]) -> Result<ProjectivePoint, Spake2PlusError> {
    if bytes.len() != SHARE_LEN || bytes.first() != Some(&0x04) {
        return Err(Spake2PlusError::InvalidShare);
    }
    let point = AffinePoint::from_sec1_bytes(bytes).map_err(|_| Spake2PlusError::InvalidShare)?;
    let point = ProjectivePoint::from(point);
    if bool::from(point.is_identity()) {
        return Err(Spake2PlusError::InvalidShare);
    }
    Ok(point)
}

/// A scalar from its 32-byte big-endian encoding, which must be in `1..n`.
pub(super) fn nonzero_scalar(bytes: &[u8; 32]) -> Result<Scalar, Spake2PlusError> {
    let scalar: Option<Scalar> = Scalar::from_repr(FieldBytes::from(*bytes)).into();
    match scalar {
        Some(s) if !bool::from(s.is_zero()) => Ok(s),
        _ => Err(Spake2PlusError::InvalidScalar),
    }
}

/// `w = ws mod n` for a 40-byte big-endian PBKDF half (RFC 9383 §3.2: `ceil(log2(n)) + 64`
/// bits, so the reduction's bias is below 2^-64). Zero is refused.
pub(super) fn reduce_pbkdf_half(half: &[u8; PBKDF_HALF_LEN]) -> Result<Scalar, Spake2PlusError> {
    // Left-pad to the 64 bytes of a wide reduction: the value is unchanged.
    let mut wide = Zeroizing::new([0u8; 64]);
    if let Some(tail) = wide.last_chunk_mut::<PBKDF_HALF_LEN>() {
        tail.copy_from_slice(half);
    }
    let scalar = Scalar::from_uniform_bytes(&wide);
    if bool::from(scalar.is_zero()) {
        return Err(Spake2PlusError::InvalidScalar);
    }
    Ok(scalar)
}
