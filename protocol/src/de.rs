//! Readers for fields that real EMIAS servers and clients send in more than one shape.

use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::Value;

/// Accepts `"2011"` or `2011` and keeps it as a string (EMIAS ids vary between clients).
pub fn str_or_int<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        other => Err(de::Error::custom(format!("expected a string or an integer, got {other}"))),
    }
}

pub(crate) fn opt_str_or_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(other) => Err(de::Error::custom(format!("expected a string or an integer, got {other}"))),
    }
}

/// Accepts `123` or `"123"` as an integer id.
pub fn int_or_str<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64().ok_or_else(|| de::Error::custom("expected a non-negative integer")),
        Value::String(s) => {
            s.trim().parse().map_err(|_| de::Error::custom(format!("expected an integer, got {s:?}")))
        }
        other => Err(de::Error::custom(format!("expected an integer, got {other}"))),
    }
}

pub(crate) fn opt_int_or_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "int_or_str")] u64);
    Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
}

/// A flag the real service sends as the string `"true"` / `"false"` (`receptionType[]`); read
/// from a string or a JSON boolean.
pub mod bool_str {
    use serde::de::{self, Deserializer};
    use serde::{Deserialize, Serializer};
    use serde_json::Value;

    pub fn serialize<S: Serializer>(b: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if *b { "true" } else { "false" })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(b) => Ok(b),
            Value::String(s) if s.eq_ignore_ascii_case("true") || s == "1" => Ok(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") || s == "0" || s.is_empty() => Ok(false),
            Value::Null => Ok(false),
            other => Err(de::Error::custom(format!("expected \"true\" or \"false\", got {other}"))),
        }
    }
}

/// A list that some servers send as `{}` when empty.
pub fn list_or_empty_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum L<T> {
        List(Vec<T>),
        Empty {},
        Null(()),
    }
    Ok(match L::<T>::deserialize(d)? {
        L::List(v) => v,
        L::Empty {} | L::Null(()) => Vec::new(),
    })
}

/// A list result. Sent as a JSON array; read from an array, `{}` or `null` (some servers send
/// an empty list so).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct List<T>(pub Vec<T>);

impl<T: serde::Serialize> serde::Serialize for List<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        list_or_empty_object(d).map(List)
    }
}

impl<T> From<Vec<T>> for List<T> {
    fn from(v: Vec<T>) -> Self {
        List(v)
    }
}

impl<T> IntoIterator for List<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
