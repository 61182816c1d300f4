//! Regular expressions that kustomize evaluates at build time (patch target selectors, image
//! names), compiled once per thread and pattern. RE2 syntax, as Go's `regexp`.

use std::cell::RefCell;
use std::collections::HashMap;

/// Patterns kept compiled per thread, at most.
const CACHE_SIZE: usize = 1024;

thread_local! {
    static CACHE: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
}

/// Whether `value` matches the regular expression `pattern` (anchored only as written). The
/// error is one line naming the pattern.
pub(crate) fn is_match(pattern: &str, value: &str) -> Result<bool, String> {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(re) = cache.get(pattern) {
            return Ok(re.is_match(value));
        }
        let re = regex::Regex::new(pattern)
            .map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))?;
        let m = re.is_match(value);
        if cache.len() < CACHE_SIZE {
            cache.insert(pattern.to_string(), re);
        }
        Ok(m)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_and_reports_bad_patterns() {
        assert_eq!(is_match("^(?:d|e)$", "e"), Ok(true));
        assert_eq!(is_match("^(?:d|e)$", "de"), Ok(false));
        assert!(is_match("^(?:[d)$", "d").is_err());
    }
}
