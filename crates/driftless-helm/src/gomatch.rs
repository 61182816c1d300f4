//! Go's `path/filepath.Match` on `/`-separated paths, which `.helmignore` rules use.
//!
//! `*` matches any run of characters other than `/`, `?` one character other than `/`,
//! `[...]` a character class (`[^...]` negated, ranges `a-z`, `\` escapes; a class may match
//! `/`, as Go's does), `\c` the character `c`. A malformed pattern (an unclosed class, a
//! trailing `\`, an empty range bound) is an error, as Go's `ErrBadPattern`.

/// A pattern Go's `filepath.Match` refuses (`syntax error in pattern`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern")]
pub struct BadPattern;

/// Whether `pattern` is well formed.
///
/// # Errors
/// [`BadPattern`] for a pattern Go refuses.
pub fn validate(pattern: &str) -> Result<(), BadPattern> {
    let p: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(BadPattern);
                }
                i += 2;
            }
            '[' => {
                let (_, next) = class(&p, i + 1, None)?;
                i = next;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Whether `name` matches `pattern` as a whole.
///
/// # Errors
/// [`BadPattern`] for a malformed pattern.
pub fn matches(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    validate(pattern)?;
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    Ok(match_at(&p, &s))
}

fn match_at(p: &[char], s: &[char]) -> bool {
    let Some(&first) = p.first() else {
        return s.is_empty();
    };
    match first {
        '*' => {
            let mut rest = p;
            while rest.first() == Some(&'*') {
                rest = &rest[1..];
            }
            let mut i = 0;
            loop {
                if match_at(rest, &s[i..]) {
                    return true;
                }
                if i >= s.len() || s[i] == '/' {
                    return false;
                }
                i += 1;
            }
        }
        '?' => match s.first() {
            Some(&c) if c != '/' => match_at(&p[1..], &s[1..]),
            _ => false,
        },
        '[' => {
            let Some(&c) = s.first() else {
                return false;
            };
            match class(p, 1, Some(c)) {
                Ok((true, next)) => match_at(&p[next..], &s[1..]),
                _ => false,
            }
        }
        '\\' => match (p.get(1), s.first()) {
            (Some(a), Some(b)) if a == b => match_at(&p[2..], &s[1..]),
            _ => false,
        },
        c => s.first() == Some(&c) && match_at(&p[1..], &s[1..]),
    }
}

/// Parses the class starting after `[` at `start`; returns whether `c` is in it (false when
/// `c` is `None`) and the index after the closing `]`.
fn class(p: &[char], start: usize, c: Option<char>) -> Result<(bool, usize), BadPattern> {
    let mut i = start;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut ranges = 0;
    loop {
        if p.get(i) == Some(&']') && ranges > 0 {
            i += 1;
            break;
        }
        let (lo, next) = escaped(p, i)?;
        i = next;
        let mut hi = lo;
        if p.get(i) == Some(&'-') {
            let (h, next) = escaped(p, i + 1)?;
            hi = h;
            i = next;
        }
        if let Some(c) = c
            && lo <= c
            && c <= hi
        {
            matched = true;
        }
        ranges += 1;
    }
    Ok((c.is_some() && matched != negated, i))
}

/// One (possibly escaped) class character at `i`.
fn escaped(p: &[char], i: usize) -> Result<(char, usize), BadPattern> {
    match p.get(i) {
        None | Some('-') | Some(']') => Err(BadPattern),
        Some('\\') => p.get(i + 1).map(|&c| (c, i + 2)).ok_or(BadPattern),
        Some(&c) => Ok((c, i + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        matches(p, s).unwrap_or(false)
    }

    #[test]
    fn stars_and_questions_stay_within_one_path_segment() {
        assert!(m("*.md", "README.md"));
        assert!(!m("*.md", "docs/README.md"));
        assert!(m("templates/.?*", "templates/.hidden"));
        assert!(!m("templates/.?*", "templates/."));
        assert!(!m("a?c", "a/c"));
        assert!(m("a*", "a"));
        assert!(m("**", "abc"));
    }

    #[test]
    fn classes_ranges_negation_and_escapes() {
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[^a-c]x", "bx"));
        assert!(m("[^a-c]x", "/x"));
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("[\\]]", "]"));
    }

    #[test]
    fn malformed_patterns_are_refused_like_go() {
        for bad in ["[", "[]", "a\\", "[a-", "[-a]", "[a"] {
            assert_eq!(validate(bad), Err(BadPattern), "{bad}");
        }
        assert_eq!(validate("a[b]c*?"), Ok(()));
    }
}
