//! Reading a source object field by field, so that every field it does not read is reported.

use serde_json::{Map, Value};

use crate::finding::Notes;

/// The fields of one JSON object (`spec`, `spec.source`, ...) not read yet.
#[derive(Debug)]
pub(crate) struct Fields {
    /// The dotted path of this object, for the report.
    path: String,
    rest: Map<String, Value>,
}

impl Fields {
    /// The fields of `value` at `path`; a value that is not an object has none.
    pub(crate) fn new(path: &str, value: Option<Value>) -> Self {
        let rest = match value {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        Self {
            path: path.to_owned(),
            rest,
        }
    }

    /// The dotted path of `field` here.
    pub(crate) fn at(&self, field: &str) -> String {
        if self.path.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.path)
        }
    }

    /// Takes `field`; `null` counts as absent.
    pub(crate) fn take(&mut self, field: &str) -> Option<Value> {
        self.rest.remove(field).filter(|v| !v.is_null())
    }

    /// Takes `field` as a string; another type is left for [`Fields::finish`] to report.
    pub(crate) fn string(&mut self, field: &str) -> Option<String> {
        match self.take(field) {
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                self.rest.insert(field.to_owned(), other);
                None
            }
            None => None,
        }
    }

    /// Takes `field` as a boolean (absent: `None`).
    pub(crate) fn bool(&mut self, field: &str) -> Option<bool> {
        match self.take(field) {
            Some(Value::Bool(b)) => Some(b),
            Some(other) => {
                self.rest.insert(field.to_owned(), other);
                None
            }
            None => None,
        }
    }

    /// Takes `field` as an integer.
    pub(crate) fn int(&mut self, field: &str) -> Option<i64> {
        match self.take(field) {
            Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
            Some(other) => {
                self.rest.insert(field.to_owned(), other);
                None
            }
            None => None,
        }
    }

    /// Takes `field` as the fields of a nested object.
    pub(crate) fn object(&mut self, field: &str) -> Option<Fields> {
        match self.take(field) {
            Some(Value::Object(map)) => Some(Fields {
                path: self.at(field),
                rest: map,
            }),
            Some(other) => {
                self.rest.insert(field.to_owned(), other);
                None
            }
            None => None,
        }
    }

    /// Takes `field` as a list of strings; other items are reported as unreadable.
    pub(crate) fn strings(&mut self, field: &str, notes: &mut Notes<'_>) -> Vec<String> {
        let path = self.at(field);
        match self.take(field) {
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .filter_map(|(i, item)| match item {
                    Value::String(s) => Some(s),
                    other => {
                        notes.dropped(&format!("{path}[{i}]"), format!("not a string: {other}"));
                        None
                    }
                })
                .collect(),
            Some(other) => {
                self.rest.insert(field.to_owned(), other);
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    /// Takes `field` as a list of objects.
    pub(crate) fn list(&mut self, field: &str) -> Vec<Fields> {
        let path = self.at(field);
        match self.take(field) {
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| Fields::new(&format!("{path}[{i}]"), Some(item)))
                .collect(),
            Some(other) => {
                self.rest.insert(field.to_owned(), other);
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    /// Reports every field not taken: an empty object or list is no loss and is not reported.
    pub(crate) fn finish(self, notes: &mut Notes<'_>) {
        for (field, value) in self.rest {
            let empty = match &value {
                Value::Object(m) => m.is_empty(),
                Value::Array(a) => a.is_empty(),
                Value::Null => true,
                _ => false,
            };
            if !empty {
                let path = if self.path.is_empty() {
                    field
                } else {
                    format!("{}.{field}", self.path)
                };
                notes.dropped(
                    &path,
                    "no equivalent in Driftless (or not of the expected type)",
                );
            }
        }
    }
}
