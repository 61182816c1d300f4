//! A YAML document as JSON, converted the way `sigs.k8s.io/yaml` converts it for the API server:
//! a plain key that YAML 1.1 reads as a boolean, number or null becomes the text of that value
//! (`on:` is the key `"true"`, `007:` is `"7"`; one that reads as null, `~:`, is an error as
//! there), and a float with an integral
//! value is an integer (`1e3` is `1000`, as Go's JSON encoder writes it). Quoted keys stay as
//! written.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// One YAML node, as the JSON the API server would receive.
#[derive(Debug)]
pub(crate) struct Node(pub Value);

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor).map(Node)
    }
}

/// The JSON number of a float: an integer when the value is integral and an `i64` or `u64`
/// holds it exactly, as Go prints such a float without a fraction.
fn float(value: f64) -> Value {
    // 2^63: every integral f64 below it in magnitude is an exact i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if value.fract() == 0.0 && value.abs() < LIMIT {
        // Exact: the value is integral and in range.
        #[allow(clippy::cast_possible_truncation)]
        return Value::from(value as i64);
    }
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::from)
            .or_else(|_| u64::try_from(v).map(Value::from))
            .map_err(|_| E::custom(format!("the integer {v} is out of range")))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        u64::try_from(v)
            .map(Value::from)
            .map_err(|_| E::custom(format!("the integer {v} is out of range")))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Node::deserialize(deserializer).map(|n| n.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Node(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(text)) = map.next_key()? {
            let Node(value) = map.next_value()?;
            // Two keys written differently that read the same (`on` and `true`, `7` and `007`).
            if out.contains_key(&text) {
                return Err(de::Error::custom(format!(
                    "duplicate mapping key: two keys read as {text:?} (YAML 1.1 reads on, yes and y as true, off, no and n as false, ~ as null, 007 as 7)"
                )));
            }
            out.insert(text, value);
        }
        Ok(Value::Object(out))
    }
}

/// A mapping key: the text the API server sees.
#[derive(Debug)]
pub(crate) struct Key(pub(crate) String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl KeyVisitor {
    fn resolved(text: String) -> Key {
        Key(text)
    }
}

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
        Ok(Self::resolved(v.to_string()))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
        Ok(Self::resolved(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
        Ok(Self::resolved(v.to_string()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Key, E> {
        Ok(Self::resolved(v.to_string()))
    }

    fn visit_u128<E>(self, v: u128) -> Result<Key, E> {
        Ok(Self::resolved(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
        let text = match float(v) {
            Value::Number(n) => n.to_string(),
            _ => v.to_string(),
        };
        Ok(Self::resolved(text))
    }

    fn visit_str<E>(self, v: &str) -> Result<Key, E> {
        Ok(Self::resolved(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Key, E> {
        Ok(Self::resolved(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Err(null_key())
    }

    fn visit_none<E: de::Error>(self) -> Result<Key, E> {
        Err(null_key())
    }
}

/// kubectl's reader refuses a key that reads as null ("unsupported map key").
fn null_key<E: de::Error>() -> E {
    E::custom("a mapping key reads as null (~, null or nothing): quote it if it is text")
}
