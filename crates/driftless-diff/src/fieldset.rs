//! Field sets: which fields of an object a field manager owns.
//!
//! The API server records server-side apply ownership in `metadata.managedFields[].fieldsV1`, a
//! trie serialised as JSON (format defined by `sigs.k8s.io/structured-merge-diff`):
//!
//! - every key of a node is either `.` (the node itself is a member of the set; always maps to
//!   `{}`) or a path element with a one-letter prefix:
//!   - `f:<name>`: a field of a struct or a key of a map;
//!   - `k:<json object>`: the item of an associative list whose key fields have these values,
//!     e.g. `k:{"name":"web"}` or `k:{"containerPort":80,"protocol":"TCP"}`;
//!   - `v:<json value>`: the item of a set-like list with exactly this value, e.g.
//!     `v:"example.com/finalizer"`;
//!   - `i:<index>`: the item at this position of a list;
//! - a path element mapping to `{}` is a leaf: the whole value there is owned (a scalar, or an
//!   atomic list or map such as `f:command`).
//!
//! [`FieldSet`] parses that format, unions sets, and applies a set to an object: keep only the
//! owned fields ([`FieldSet::project`]) or drop them ([`FieldSet::remove_from`]). List items are
//! matched by content (`k:`/`v:`) or position (`i:`), so a set recorded on the live object applies
//! equally to a server-side dry-run result of the same object.

use serde_json::{Map, Value};

/// A field set could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum FieldSetError {
    /// A node of the trie is not a JSON object.
    #[error("field set node at {at} is not an object")]
    NotAnObject {
        /// The path elements leading to the node, joined with `.`.
        at: String,
    },
    /// A key has no known prefix or its payload does not parse.
    #[error("field set key {key:?} at {at} is not f:, k:, v:, i: or '.'")]
    BadKey {
        /// The offending key.
        key: String,
        /// The path elements leading to it, joined with `.`.
        at: String,
    },
}

/// One step in a field set: which child of a map, struct or list.
#[derive(Debug, Clone, PartialEq)]
pub enum PathElement {
    /// `f:<name>`: a struct field or map key.
    Field(String),
    /// `k:{...}`: the associative-list item whose key fields have these values.
    Key(Map<String, Value>),
    /// `v:<json>`: the set-list item equal to this value.
    Value(Value),
    /// `i:<n>`: the list item at this index.
    Index(usize),
}

impl PathElement {
    /// Parses one key of a `fieldsV1` node (anything but `.`).
    pub fn parse(key: &str) -> Option<PathElement> {
        let (prefix, rest) = key.split_at_checked(2)?;
        match prefix {
            "f:" => Some(PathElement::Field(rest.to_owned())),
            "k:" => match serde_json::from_str(rest).ok()? {
                Value::Object(map) => Some(PathElement::Key(map)),
                _ => None,
            },
            "v:" => serde_json::from_str(rest).ok().map(PathElement::Value),
            "i:" => rest.parse().ok().map(PathElement::Index),
            _ => None,
        }
    }

    /// Whether this element selects `item`, found at `index` of a list.
    fn selects_item(&self, index: usize, item: &Value) -> bool {
        match self {
            PathElement::Field(_) => false,
            PathElement::Key(keys) => keys.iter().all(|(k, v)| item.get(k) == Some(v)),
            PathElement::Value(value) => value == item,
            PathElement::Index(i) => *i == index,
        }
    }
}

/// A set of fields of one object, as a trie. The empty set is `FieldSet::default()`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSet {
    /// Whether the node itself is a member (`.` in `fieldsV1`).
    pub(crate) itself: bool,
    /// The children, in the order first seen.
    pub(crate) children: Vec<(PathElement, FieldSet)>,
}

impl FieldSet {
    /// Parses a `fieldsV1` value.
    pub fn from_fields_v1(fields: &Value) -> Result<FieldSet, FieldSetError> {
        Self::parse_node(fields, &mut Vec::new())
    }

    fn parse_node(node: &Value, at: &mut Vec<String>) -> Result<FieldSet, FieldSetError> {
        let Value::Object(map) = node else {
            return Err(FieldSetError::NotAnObject { at: at.join(".") });
        };
        let mut set = FieldSet::default();
        for (key, child) in map {
            if key == "." {
                set.itself = true;
                continue;
            }
            let element = PathElement::parse(key).ok_or_else(|| FieldSetError::BadKey {
                key: key.clone(),
                at: at.join("."),
            })?;
            at.push(key.clone());
            let child = Self::parse_node(child, at)?;
            at.pop();
            set.insert(element, child);
        }
        Ok(set)
    }

    /// The set of every field present in `value`, the way an apply of `value` would claim them:
    /// each map key is a field, recursively; lists and scalars are leaves (without a schema a
    /// list's merge keys are unknown, so the whole list is claimed).
    pub fn from_value(value: &Value) -> FieldSet {
        Self::claimed_by(value, None, None)
    }

    /// The fields a manifest claims, with its list items resolved against the live object.
    ///
    /// Like [`FieldSet::from_value`], except that a list of objects is described item by item
    /// when each desired item can be paired with a live item: by an element of `live_set` (the
    /// live object's managed set at this node) that selects a live item and agrees with the
    /// desired item on every key field the desired item sets (key fields it leaves out are
    /// assumed defaulted, like a port's `protocol`), or else by an equal `name`. Projecting the
    /// live object onto the result then keeps the live values of fields the manifest sets even
    /// where the manager lost their ownership (someone else changed them), so a diff shows the
    /// old value and the new one. Desired items without a live counterpart are left out (there
    /// is nothing of them to project); a list where no item pairs, or of scalars, stays a leaf
    /// (claimed whole, as atomic lists such as `tolerations` are).
    pub fn claimed_by(
        desired: &Value,
        live: Option<&Value>,
        live_set: Option<&FieldSet>,
    ) -> FieldSet {
        let mut set = FieldSet::default();
        match (desired, live) {
            (Value::Object(map), _) => {
                for (key, child) in map {
                    let element = PathElement::Field(key.clone());
                    let live_child = live.and_then(|l| l.get(key));
                    let set_child = live_set.and_then(|s| s.child(&element));
                    set.insert(element, Self::claimed_by(child, live_child, set_child));
                }
            }
            (Value::Array(items), Some(Value::Array(live_items))) => {
                if !items.iter().all(Value::is_object) {
                    // A list of scalars is a set or atomic: claimed whole.
                    return set;
                }
                for item in items {
                    // An item with no live counterpart is new: nothing of it to project.
                    if let Some((element, live_item)) = pair_item(item, live_items, live_set) {
                        let set_child = live_set.and_then(|s| s.child(&element));
                        let child = Self::claimed_by(item, Some(live_item), set_child);
                        set.insert(element, child);
                    }
                }
            }
            _ => {}
        }
        set
    }

    /// Whether the set is a leaf (no children): the whole value at this node is a member.
    pub fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }

    /// The child set for a path element, if any.
    pub fn child(&self, element: &PathElement) -> Option<&FieldSet> {
        self.children
            .iter()
            .find(|(e, _)| e == element)
            .map(|(_, set)| set)
    }

    fn insert(&mut self, element: PathElement, set: FieldSet) {
        match self.children.iter_mut().find(|(e, _)| *e == element) {
            Some((_, existing)) => existing.union_with(&set),
            None => self.children.push((element, set)),
        }
    }

    /// Adds every member of `other` to `self`.
    ///
    /// A leaf united with a detailed node keeps the detail: the detailed side says precisely
    /// which parts of the value are owned, which is what comparisons need.
    pub fn union_with(&mut self, other: &FieldSet) {
        self.itself |= other.itself;
        for (element, set) in &other.children {
            self.insert(element.clone(), set.clone());
        }
    }

    /// Renames the top-level `f:<from>` child to `f:<to>`, uniting it with an existing one.
    pub(crate) fn rename_field(&mut self, from: &str, to: &str) {
        let from = PathElement::Field(from.to_owned());
        if let Some(pos) = self.children.iter().position(|(e, _)| *e == from) {
            let (_, set) = self.children.remove(pos);
            self.insert(PathElement::Field(to.to_owned()), set);
        }
    }

    /// The part of `value` this set covers.
    ///
    /// A leaf keeps the whole value. An object keeps only its member fields, in the object's own
    /// order; a list keeps the items some child selects, in the list's order. A node owned only
    /// as itself (`.`, no children) becomes an empty object or list. A scalar where the set
    /// expects structure is kept whole, so a type change shows up in a comparison.
    pub fn project(&self, value: &Value) -> Value {
        if self.is_leaf() {
            return match value {
                Value::Object(_) if self.itself => Value::Object(Map::new()),
                Value::Array(_) if self.itself => Value::Array(Vec::new()),
                other => other.clone(),
            };
        }
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter_map(|(key, child)| {
                        let set = self.child(&PathElement::Field(key.clone()))?;
                        Some((key.clone(), set.project(child)))
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(index, item)| {
                        Some(self.item_set_merged(index, item)?.project(item))
                    })
                    .collect(),
            ),
            scalar => scalar.clone(),
        }
    }

    /// Removes the members of this set from `value`.
    ///
    /// A leaf field is removed from its map. A list item is removed when it is a leaf or owned
    /// as itself (`.`); otherwise only its member fields are. Maps that end up empty are kept:
    /// another owner may have created them.
    pub fn remove_from(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (element, set) in &self.children {
                    let PathElement::Field(name) = element else {
                        continue;
                    };
                    if set.is_leaf() {
                        map.shift_remove(name);
                    } else if let Some(child) = map.get_mut(name) {
                        set.remove_from(child);
                    }
                }
            }
            Value::Array(items) => {
                let mut index = 0;
                items.retain_mut(|item| {
                    let keep = match self.item_set(index, item) {
                        Some(set) if set.is_leaf() || set.itself => false,
                        Some(set) => {
                            set.remove_from(item);
                            true
                        }
                        None => true,
                    };
                    index += 1;
                    keep
                });
            }
            _ => {}
        }
    }

    /// The union of every child set selecting the list item `item` at `index` (two elements
    /// can select the same item, e.g. `k:{"name":"web"}` and `i:0`), if any.
    fn item_set_merged(&self, index: usize, item: &Value) -> Option<FieldSet> {
        let mut matching = self
            .children
            .iter()
            .filter(|(e, _)| e.selects_item(index, item))
            .map(|(_, set)| set);
        let mut union = matching.next()?.clone();
        for set in matching {
            union.union_with(set);
        }
        Some(union)
    }

    /// The first child set selecting the list item `item` at `index`, if any.
    pub(crate) fn item_set(&self, index: usize, item: &Value) -> Option<&FieldSet> {
        self.children
            .iter()
            .find(|(e, _)| e.selects_item(index, item))
            .map(|(_, set)| set)
    }
}

/// The path element and live item a desired list item corresponds to, if any.
fn pair_item<'a>(
    item: &Value,
    live_items: &'a [Value],
    live_set: Option<&FieldSet>,
) -> Option<(PathElement, &'a Value)> {
    let Value::Object(fields) = item else {
        return None;
    };
    let agrees = |keys: &Map<String, Value>| {
        keys.iter()
            .all(|(k, v)| fields.get(k).is_none_or(|mine| mine == v))
            && keys.keys().any(|k| fields.contains_key(k))
    };
    let by_key = live_set
        .into_iter()
        .flat_map(|s| &s.children)
        .find_map(|(element, _)| {
            let PathElement::Key(keys) = element else {
                return None;
            };
            if !agrees(keys) {
                return None;
            }
            let live_item = live_items.iter().find(|l| element.selects_item(0, l))?;
            Some((element.clone(), live_item))
        });
    by_key.or_else(|| {
        let name = fields.get("name")?;
        let live_item = live_items.iter().find(|l| l.get("name") == Some(name))?;
        let mut keys = Map::new();
        keys.insert("name".to_owned(), name.clone());
        Some((PathElement::Key(keys), live_item))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment_fields() -> Value {
        json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {},
                        "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":
                            {".": {}, "f:containerPort": {}}}},
                }}},
            },
            "f:metadata2": {"f:finalizers": {"v:\"example.com/x\"": {}}},
        })
    }

    #[test]
    fn parses_every_key_form() -> Result<(), FieldSetError> {
        let set = FieldSet::from_fields_v1(&json!({
            ".": {}, "f:a": {}, "k:{\"name\":\"x\"}": {}, "v:3": {}, "i:2": {},
        }))?;
        assert!(set.itself);
        let elements: Vec<_> = set.children.iter().map(|(e, _)| e.clone()).collect();
        assert_eq!(
            elements,
            vec![
                PathElement::Field("a".into()),
                PathElement::Key(
                    json!({"name": "x"})
                        .as_object()
                        .cloned()
                        .unwrap_or_default()
                ),
                PathElement::Value(json!(3)),
                PathElement::Index(2),
            ]
        );
        Ok(())
    }

    #[test]
    fn rejects_unknown_prefixes_and_bad_payloads_naming_the_place() {
        for bad in [
            json!({"f:spec": {"x:y": {}}}),
            json!({"f:spec": {"k:notjson": {}}}),
            json!({"f:spec": {"i:-1": {}}}),
            json!({"f:spec": []}),
        ] {
            let err = FieldSet::from_fields_v1(&bad).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains("f:spec")),
                "{err:?}"
            );
        }
    }

    #[test]
    fn projects_owned_fields_matching_list_items_by_key() -> Result<(), FieldSetError> {
        let set = FieldSet::from_fields_v1(&deployment_fields())?;
        let live = json!({
            "metadata": {"name": "web", "labels": {"app": "web", "team": "x"}, "uid": "1"},
            "spec": {
                "replicas": 3,
                "revisionHistoryLimit": 10,
                "template": {"spec": {"containers": [
                    {"name": "sidecar", "image": "envoy"},
                    {"name": "web", "image": "nginx", "imagePullPolicy": "Always",
                     "ports": [{"containerPort": 80, "protocol": "TCP", "name": "http"}]},
                ]}},
            },
        });
        assert_eq!(
            set.project(&live),
            json!({
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "replicas": 3,
                    "template": {"spec": {"containers": [
                        {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]},
                    ]}},
                },
            })
        );
        Ok(())
    }

    #[test]
    fn removes_owned_fields_and_whole_owned_items() -> Result<(), FieldSetError> {
        let set = FieldSet::from_fields_v1(&json!({
            "f:spec": {"f:replicas": {}, "f:list": {"v:\"b\"": {}},
                       "f:items": {"k:{\"name\":\"x\"}": {".": {}, "f:name": {}}}},
        }))?;
        let mut value = json!({"spec": {
            "replicas": 1, "paused": false, "list": ["a", "b"],
            "items": [{"name": "x", "v": 1}, {"name": "y"}],
        }});
        set.remove_from(&mut value);
        assert_eq!(
            value,
            json!({"spec": {"paused": false, "list": ["a"], "items": [{"name": "y"}]}})
        );
        Ok(())
    }

    #[test]
    fn union_keeps_detail_over_leaf() -> Result<(), FieldSetError> {
        let mut leafy = FieldSet::from_value(&json!({"spec": {"ports": [{"port": 80}]}}));
        let detailed = FieldSet::from_fields_v1(&json!({
            "f:spec": {"f:ports": {"k:{\"port\":80}": {".": {}, "f:port": {}}}},
        }))?;
        leafy.union_with(&detailed);
        let live = json!({"spec": {"ports": [{"port": 80, "protocol": "TCP"}]}});
        assert_eq!(
            leafy.project(&live),
            json!({"spec": {"ports": [{"port": 80}]}})
        );
        Ok(())
    }

    #[test]
    fn a_manifest_claim_pairs_items_with_defaulted_keys_and_lost_fields()
    -> Result<(), FieldSetError> {
        // The manager owns the port (keyed with the defaulted protocol) but lost the image.
        let live_set = FieldSet::from_fields_v1(&json!({"f:containers": {
            "k:{\"name\":\"web\"}": {".": {}, "f:name": {},
                "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}}}}))?;
        let live = json!({"containers": [
            {"name": "web", "image": "nginx:2", "imagePullPolicy": "Always",
             "ports": [{"containerPort": 80, "protocol": "TCP"}]}]});
        let desired = json!({"containers": [
            {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]}]});
        let mut set = FieldSet::claimed_by(&desired, Some(&live), Some(&live_set));
        set.union_with(&live_set);
        assert_eq!(
            set.project(&live),
            json!({"containers": [{"name": "web", "image": "nginx:2", "ports": [{"containerPort": 80}]}]})
        );
        Ok(())
    }

    #[test]
    fn itself_only_projects_to_an_empty_container() -> Result<(), FieldSetError> {
        let set = FieldSet::from_fields_v1(&json!({"f:spec": {"f:volumes": {".": {}}}}))?;
        let live = json!({"spec": {"volumes": [{"name": "x"}]}});
        assert_eq!(set.project(&live), json!({"spec": {"volumes": []}}));
        Ok(())
    }
}
