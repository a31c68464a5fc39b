//! The raw record: the bytes a post was decoded from, kept exactly as received.

use base64::Engine as _;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The bytes of the record a post was decoded from, exactly as received.
///
/// Serialized as a JSON string when the bytes are valid UTF-8 (the common case: a JSON or XML
/// record), and as `{"base64": "..."}` otherwise, so that a round trip never alters a byte.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct RawRecord(pub Vec<u8>);

impl RawRecord {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes as text, when they are valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

impl From<&[u8]> for RawRecord {
    fn from(bytes: &[u8]) -> RawRecord {
        RawRecord(bytes.to_vec())
    }
}

impl From<Vec<u8>> for RawRecord {
    fn from(bytes: Vec<u8>) -> RawRecord {
        RawRecord(bytes)
    }
}

impl fmt::Debug for RawRecord {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(text) if text.len() <= 120 => write!(formatter, "RawRecord({text:?})"),
            Some(text) => {
                let cut = (0..=120)
                    .rev()
                    .find(|index| text.is_char_boundary(*index))
                    .unwrap_or(0);
                write!(
                    formatter,
                    "RawRecord({:?}... {} bytes)",
                    &text[..cut],
                    text.len()
                )
            }
            None => write!(formatter, "RawRecord({} non-UTF-8 bytes)", self.0.len()),
        }
    }
}

impl Serialize for RawRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.as_str() {
            Some(text) => serializer.serialize_str(text),
            None => {
                let mut map = serializer.serialize_map(Some(1))?;
                let encoded = base64::engine::general_purpose::STANDARD.encode(&self.0);
                map.serialize_entry("base64", &encoded)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for RawRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawRecord, D::Error> {
        struct RawVisitor;

        impl<'de> Visitor<'de> for RawVisitor {
            type Value = RawRecord;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a string or {\"base64\": \"...\"}")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawRecord, E> {
                Ok(RawRecord(text.as_bytes().to_vec()))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawRecord, A::Error> {
                let mut bytes = None;
                while let Some(field) = map.next_key::<String>()? {
                    if field != "base64" {
                        return Err(de::Error::unknown_field(&field, &["base64"]));
                    }
                    let encoded: String = map.next_value()?;
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(encoded.as_bytes())
                        .map_err(|error| de::Error::custom(format!("raw.base64: {error}")))?;
                    bytes = Some(decoded);
                }
                bytes
                    .map(RawRecord)
                    .ok_or_else(|| de::Error::missing_field("base64"))
            }
        }

        deserializer.deserialize_any(RawVisitor)
    }
}
