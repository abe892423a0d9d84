//! CXF's scalar quirks: ids are base64url (padding optional, as the spec's
//! examples differ), timestamps are whole seconds that may be negative or
//! far away.

use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde_json::Value;

use crate::model::Timestamp;

const B64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes a base64url id; `None` when it is empty or not base64url.
pub fn decode_b64url(id: &str) -> Option<Vec<u8>> {
    if id.is_empty() {
        return None;
    }
    B64URL.decode(id).ok()
}

/// base64url without padding, as the writer spells ids and hashes.
pub fn encode_b64url(bytes: &[u8]) -> String {
    B64URL.encode(bytes)
}

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what a timestamp prints
/// as four digits of year.
const EARLIEST: i64 = -62_167_219_200;
const LATEST: i64 = 253_402_300_799;

/// A CXF timestamp: `Ok(None)` for `null`, `Err` for anything that is not
/// whole seconds within years 0–9999 (a float, a string, 10^20).
pub(crate) fn timestamp(v: &Value) -> Result<Option<Timestamp>, ()> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => match n.as_i64() {
            Some(secs) if (EARLIEST..=LATEST).contains(&secs) => Ok(Some(Timestamp(secs))),
            _ => Err(()),
        },
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_decode_with_or_without_padding_and_bad_ones_do_not() {
        assert_eq!(decode_b64url("AQID"), Some(vec![1, 2, 3]));
        assert_eq!(decode_b64url("AQ"), Some(vec![1]));
        assert_eq!(decode_b64url("AQ=="), Some(vec![1]));
        assert_eq!(decode_b64url("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode_b64url(""), None);
        assert_eq!(decode_b64url("not base64!"), None);
        assert_eq!(decode_b64url("+/8"), None, "standard alphabet is not base64url");
        assert_eq!(encode_b64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn timestamps_far_away_or_odd_never_panic_and_say_so() {
        assert_eq!(timestamp(&Value::from(0)), Ok(Some(Timestamp(0))));
        assert_eq!(timestamp(&Value::from(-86_400)), Ok(Some(Timestamp(-86_400))));
        assert_eq!(timestamp(&Value::from(LATEST)), Ok(Some(Timestamp(LATEST))));
        assert_eq!(timestamp(&Value::Null), Ok(None));
        for bad in [
            Value::from(i64::MAX),
            Value::from(i64::MIN),
            Value::from(u64::MAX),
            Value::from(1.5),
            Value::from("1710408600"),
            Value::from(LATEST + 1),
        ] {
            assert_eq!(timestamp(&bad), Err(()), "{bad}");
        }
        assert_eq!(Timestamp(EARLIEST).to_rfc3339(), "0000-01-01T00:00:00Z");
        assert_eq!(Timestamp(LATEST).to_rfc3339(), "9999-12-31T23:59:59Z");
    }
}
