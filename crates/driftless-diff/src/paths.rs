//! Changed paths: where two compared views differ, named in the live object's own terms.

use serde_json::Value;

use crate::pointer;

/// The JSON Pointers of every difference between `old` and `new`: the deepest path at which
/// they differ (a field only one side has, a scalar that changed, a list whose length changed is
/// compared item by item and its extra items named). Sorted and free of duplicates.
pub fn changed_paths(old: Option<&Value>, new: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = Vec::new();
    walk(old, new, &mut at, &mut out);
    out.sort();
    out.dedup();
    out
}

fn walk(old: Option<&Value>, new: Option<&Value>, at: &mut Vec<String>, out: &mut Vec<String>) {
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (key, value) in a {
                at.push(key.clone());
                walk(Some(value), b.get(key), at, out);
                at.pop();
            }
            for (key, value) in b {
                if !a.contains_key(key) {
                    at.push(key.clone());
                    walk(None, Some(value), at, out);
                    at.pop();
                }
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for index in 0..a.len().max(b.len()) {
                at.push(index.to_string());
                walk(a.get(index), b.get(index), at, out);
                at.pop();
            }
        }
        (a, b) if a == b => {}
        _ => out.push(pointer::format(at)),
    }
}

/// Rewrites the list indices of `segments` (a path in `view`, the compared projection of
/// `live`) into indices of `live` itself, so that the path can be looked up in the live
/// object's `managedFields` ([`crate::managers_of`]).
///
/// The projection keeps list items in order and each kept item is a part of its live item, so
/// the n-th item of a projected list is the n-th live item that contains it. Where the path
/// leaves the live object (an item only the desired side has), the remaining segments are kept
/// as they are.
pub fn to_live_indices(segments: &[String], view: &Value, live: &Value) -> Vec<String> {
    let mut out = Vec::with_capacity(segments.len());
    let (mut view, mut live) = (Some(view), Some(live));
    for segment in segments {
        let (next_view, next_live, translated) = match (view, live) {
            (Some(Value::Array(view_items)), Some(Value::Array(live_items))) => {
                match segment.parse::<usize>() {
                    Ok(index) => match live_index(view_items, live_items, index) {
                        Some(j) => (view_items.get(index), live_items.get(j), j.to_string()),
                        None => (None, None, segment.clone()),
                    },
                    Err(_) => (None, None, segment.clone()),
                }
            }
            (v, l) => (
                v.and_then(|v| v.get(segment.as_str())),
                l.and_then(|l| l.get(segment.as_str())),
                segment.clone(),
            ),
        };
        out.push(translated);
        view = next_view;
        live = next_live;
    }
    out
}

/// The index in `live_items` of the item `view_items[index]` was projected from.
fn live_index(view_items: &[Value], live_items: &[Value], index: usize) -> Option<usize> {
    let mut next = 0;
    let mut found = None;
    for item in view_items.get(..=index)? {
        let offset = live_items
            .get(next..)?
            .iter()
            .position(|l| contains(l, item))?;
        found = Some(next + offset);
        next += offset + 1;
    }
    found
}

/// Whether `part` is `whole` with some fields or list items left out.
fn contains(whole: &Value, part: &Value) -> bool {
    match (whole, part) {
        (Value::Object(w), Value::Object(p)) => p
            .iter()
            .all(|(k, pv)| w.get(k).is_some_and(|wv| contains(wv, pv))),
        (Value::Array(w), Value::Array(p)) => {
            let mut rest = w.iter();
            p.iter().all(|pv| rest.any(|wv| contains(wv, pv)))
        }
        (w, p) => w == p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_name_the_deepest_difference() {
        let old = json!({"a": {"b": 1, "c": [1, 2]}, "gone": true, "same": "x"});
        let new = json!({"a": {"b": 2, "c": [1, 2, 3]}, "added": {"x": 1}, "same": "x"});
        assert_eq!(
            changed_paths(Some(&old), Some(&new)),
            ["/a/b", "/a/c/2", "/added", "/gone"]
        );
        assert!(changed_paths(Some(&old), Some(&old)).is_empty());
        assert_eq!(changed_paths(None, Some(&new)), [""]);
    }

    #[test]
    fn projected_indices_become_live_indices() {
        let live = json!({"containers": [
            {"name": "injected", "image": "proxy"},
            {"name": "web", "image": "nginx:2", "ports": [{"containerPort": 80}]},
        ]});
        let view = json!({"containers": [{"name": "web", "image": "nginx:2"}]});
        let segments = ["containers", "0", "image"].map(String::from);
        assert_eq!(
            to_live_indices(&segments, &view, &live),
            ["containers", "1", "image"]
        );
        let beyond = ["containers", "3", "image"].map(String::from);
        assert_eq!(to_live_indices(&beyond, &view, &live), beyond);
    }
}
