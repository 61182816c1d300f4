//! A path to one field of an object, as people write it on a command line:
//! `spec.replicas`, `spec.template.spec.containers[name=web].image`, `spec.ports[0].port`,
//! `metadata.labels["app.kubernetes.io/name"]`, or a JSON Pointer (`/spec/replicas`).

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key. On a sequence, a key that is a number is an index (JSON Pointer reads so).
    Key(String),
    /// A sequence index, from 0.
    Index(usize),
    /// The element of a sequence whose `key` field is `value` (`containers[name=web]`).
    Match {
        /// The field compared (`name`).
        key: String,
        /// The value it must have, as text.
        value: String,
    },
}

/// A path to a field; see the module documentation for the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldPath(pub Vec<Segment>);

/// Why a field path does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "field path {path:?}: {message}; write e.g. spec.replicas, spec.template.spec.containers[name=web].image or /spec/replicas"
)]
pub struct FieldPathError {
    /// The path as given.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl FromStr for FieldPath {
    type Err = FieldPathError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |message: &str| FieldPathError {
            path: text.to_owned(),
            message: message.to_owned(),
        };
        if text.is_empty() {
            return Err(error("empty"));
        }
        if let Some(pointer) = text.strip_prefix('/') {
            let segments = pointer
                .split('/')
                .map(|s| Segment::Key(s.replace("~1", "/").replace("~0", "~")))
                .collect();
            return Ok(Self(segments));
        }
        let mut segments = Vec::new();
        let mut chars = text.chars().peekable();
        let mut key = String::new();
        // Whether a segment just ended (a `]`), so a `.` or `[` must follow.
        let mut closed = false;
        while let Some(c) = chars.next() {
            match c {
                '.' => {
                    if !key.is_empty() {
                        segments.push(Segment::Key(std::mem::take(&mut key)));
                    } else if !closed {
                        return Err(error("empty field name"));
                    }
                    closed = false;
                    if chars.peek().is_none() {
                        return Err(error("ends with '.'"));
                    }
                }
                '[' => {
                    if !key.is_empty() {
                        segments.push(Segment::Key(std::mem::take(&mut key)));
                    } else if !closed && !segments.is_empty() {
                        return Err(error("empty field name before '['"));
                    }
                    let mut inner = String::new();
                    let mut ended = false;
                    for c in chars.by_ref() {
                        if c == ']' {
                            ended = true;
                            break;
                        }
                        inner.push(c);
                    }
                    if !ended {
                        return Err(error("'[' without ']'"));
                    }
                    segments.push(bracket(&inner).ok_or_else(|| {
                        error("inside [] write an index, key=value or a quoted key")
                    })?);
                    closed = true;
                }
                _ if closed => return Err(error("expected '.' or '[' after ']'")),
                _ => key.push(c),
            }
        }
        if !key.is_empty() {
            segments.push(Segment::Key(key));
        }
        Ok(Self(segments))
    }
}

/// The segment written inside `[...]`.
fn bracket(inner: &str) -> Option<Segment> {
    let inner = inner.trim();
    for quote in ['"', '\''] {
        if let Some(key) = inner
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return Some(Segment::Key(key.to_owned()));
        }
    }
    if let Ok(index) = inner.parse::<usize>() {
        return Some(Segment::Index(index));
    }
    let (key, value) = inner.split_once('=')?;
    let value = value.trim();
    let value = ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
        .unwrap_or(value);
    (!key.trim().is_empty()).then(|| Segment::Match {
        key: key.trim().to_owned(),
        value: value.to_owned(),
    })
}

impl fmt::Display for FieldPath {
    /// The dotted form: `spec.containers[name=web].image`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if key.contains(['.', '[', ']', '/']) || key.is_empty() => {
                    write!(f, "[{key:?}]")?;
                }
                Segment::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Match { key, value } => write!(f, "[{key}={value}]")?,
            }
        }
        Ok(())
    }
}

/// Scalar text for matching `[key=value]`: strings as they are, numbers and booleans printed.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The index of the element a segment names in `items`.
fn index_in(items: &[Value], segment: &Segment) -> Option<usize> {
    match segment {
        Segment::Index(index) => (*index < items.len()).then_some(*index),
        Segment::Key(key) => key.parse::<usize>().ok().filter(|i| *i < items.len()),
        Segment::Match { key, value } => items
            .iter()
            .position(|item| item.get(key).and_then(scalar).as_deref() == Some(value)),
    }
}

impl FieldPath {
    /// The value at this path in `value`.
    pub fn get<'a>(&self, value: &'a Value) -> Option<&'a Value> {
        let mut current = value;
        for segment in &self.0 {
            current = match (current, segment) {
                (Value::Object(map), Segment::Key(key)) => map.get(key)?,
                (Value::Array(items), segment) => items.get(index_in(items, segment)?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// The JSON Pointer of this path in `value` (selectors resolved to indices), when the path
    /// leads somewhere in it.
    pub fn pointer_in(&self, value: &Value) -> Option<String> {
        let mut current = value;
        let mut pointer = String::new();
        for segment in &self.0 {
            let step;
            (current, step) = match (current, segment) {
                (Value::Object(map), Segment::Key(key)) => (map.get(key)?, key.clone()),
                (Value::Array(items), segment) => {
                    let index = index_in(items, segment)?;
                    (items.get(index)?, index.to_string())
                }
                _ => return None,
            };
            pointer.push('/');
            pointer.push_str(&step.replace('~', "~0").replace('/', "~1"));
        }
        Some(pointer)
    }

    /// This path with every sequence step that lands on an element with a `name` written as
    /// `[name=...]`, so that it names the same element in an earlier or later version of the
    /// object (patches merge lists by name). Steps past the end of `value` stay as they are.
    pub fn stable_in(&self, value: &Value) -> FieldPath {
        let mut current = Some(value);
        let mut out = Vec::with_capacity(self.0.len());
        for segment in &self.0 {
            let next = match (current, segment) {
                (Some(Value::Object(map)), Segment::Key(key)) => {
                    out.push(segment.clone());
                    map.get(key)
                }
                (Some(Value::Array(items)), segment) => {
                    let found = index_in(items, segment).and_then(|i| items.get(i));
                    match found.and_then(|item| item.get("name")).and_then(scalar) {
                        Some(name) => out.push(Segment::Match {
                            key: "name".to_owned(),
                            value: name,
                        }),
                        None => out.push(segment.clone()),
                    }
                    found
                }
                _ => {
                    out.push(segment.clone());
                    None
                }
            };
            current = next;
        }
        FieldPath(out)
    }

    /// Whether this path is `other` or lies below it.
    pub fn starts_with(&self, other: &FieldPath) -> bool {
        self.0.len() >= other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| a == b)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(text: &str) -> FieldPath {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn dotted_bracketed_and_pointer_forms_parse() {
        use Segment::*;
        assert_eq!(
            path("spec.template.spec.containers[name=web].image").0,
            [
                Key("spec".into()),
                Key("template".into()),
                Key("spec".into()),
                Key("containers".into()),
                Match {
                    key: "name".into(),
                    value: "web".into()
                },
                Key("image".into())
            ]
        );
        assert_eq!(
            path("spec.ports[0].port").0,
            [
                Key("spec".into()),
                Key("ports".into()),
                Index(0),
                Key("port".into())
            ]
        );
        assert_eq!(
            path("metadata.labels[\"app.kubernetes.io/name\"]").0,
            [
                Key("metadata".into()),
                Key("labels".into()),
                Key("app.kubernetes.io/name".into())
            ]
        );
        assert_eq!(
            path("/metadata/annotations/a~1b").0,
            [
                Key("metadata".into()),
                Key("annotations".into()),
                Key("a/b".into())
            ]
        );
        assert_eq!(
            path("spec.containers[name=web].image").to_string(),
            "spec.containers[name=web].image"
        );
        assert_eq!(
            path("metadata.labels['a.b/c']").to_string(),
            "metadata.labels[\"a.b/c\"]"
        );
    }

    #[test]
    fn malformed_paths_say_how_to_write_one() {
        for bad in [
            "",
            "spec.",
            "spec..replicas",
            "a[0",
            "a[]",
            "a[0]b",
            "a[=x]",
        ] {
            let error = bad.parse::<FieldPath>().err();
            let text = error.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                text.starts_with(&format!("field path {bad:?}: ")),
                "{bad:?}: {text}"
            );
            assert!(text.contains("spec.replicas"), "{text}");
        }
    }

    #[test]
    fn values_pointers_and_stable_forms_resolve_against_an_object() {
        let object = json!({"spec": {"containers": [
            {"name": "side", "image": "busybox"},
            {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]}
        ]}});
        assert_eq!(
            path("spec.containers[name=web].image").get(&object),
            Some(&json!("nginx:1"))
        );
        assert_eq!(
            path("spec.containers[1].ports[0].containerPort").get(&object),
            Some(&json!(80))
        );
        assert_eq!(
            path("/spec/containers/1/image").get(&object),
            Some(&json!("nginx:1"))
        );
        assert_eq!(path("spec.containers[name=db]").get(&object), None);
        assert_eq!(
            path("spec.containers[name=web].image")
                .pointer_in(&object)
                .as_deref(),
            Some("/spec/containers/1/image")
        );
        assert_eq!(
            path("spec.containers[1].ports[0]")
                .stable_in(&object)
                .to_string(),
            "spec.containers[name=web].ports[0]"
        );
        assert!(path("spec.containers[name=web].image").starts_with(&path("spec.containers")));
        assert!(!path("spec").starts_with(&path("spec.containers")));
    }
}
