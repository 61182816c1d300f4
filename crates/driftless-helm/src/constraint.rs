//! Semantic version constraints as Helm checks them (Masterminds `semver/v3`): a dependency's
//! `version` against the vendored chart's version, and a chart's `kubeVersion` against the
//! cluster's.
//!
//! Groups separated by `||`; in a group, comparisons separated by spaces or commas, all of which
//! must hold; `a - b` ranges; operators `=`, `!=`, `>`, `<`, `>=`, `<=`, `~` (`~>`), `^`;
//! partial versions and `x`/`X`/`*` wildcards (`1.2`, `1.x`, `*`). A prerelease version only
//! satisfies a group in which some comparison names a prerelease. The empty constraint is `*`.

use semver::Version;

/// Whether `version` satisfies `constraint`; false when either does not parse (Helm's
/// `IsCompatibleRange`).
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    let Some(v) = parse_version(version) else {
        return false;
    };
    let constraint = rewrite_ranges(constraint);
    let mut any = false;
    for group in constraint.split("||") {
        let Some(cs) = parse_group(group) else {
            return false;
        };
        let include_pre = cs.iter().any(|c| !c.version.pre.is_empty());
        if cs.iter().all(|c| c.check(&v, include_pre)) {
            any = true;
        }
    }
    any
}

/// Whether `text` is a version Helm accepts as a chart's `version` (Masterminds
/// `NewVersion`: an optional `v`, one to three numbers, prerelease and build parts).
pub fn is_valid_version(text: &str) -> bool {
    parse_version(text).is_some()
}

/// A version as Masterminds reads it: an optional `v`, one to three numbers, prerelease and
/// build parts.
fn parse_version(text: &str) -> Option<Version> {
    let text = text.trim();
    let text = text.strip_prefix('v').unwrap_or(text);
    let (core, rest) = match text.find(['-', '+']) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let mut parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    Version::parse(&format!("{}.{}.{}{rest}", parts[0], parts[1], parts[2])).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Tilde,
    Caret,
}

#[derive(Debug, Clone)]
struct Comparison {
    op: Op,
    version: Version,
    /// The major part was a wildcard (or missing).
    any: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

fn is_x(part: &str) -> bool {
    matches!(part, "x" | "X" | "*")
}

/// `a - b` becomes `>= a, <= b`.
fn rewrite_ranges(c: &str) -> String {
    let words: Vec<&str> = c.split_whitespace().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if i + 2 < words.len() && words[i + 1] == "-" {
            out.push(format!(">= {}, <= {}", words[i], words[i + 2]));
            i += 3;
        } else {
            out.push(words[i].to_owned());
            i += 1;
        }
    }
    out.join(" ")
}

fn parse_group(group: &str) -> Option<Vec<Comparison>> {
    let mut tokens: Vec<String> = Vec::new();
    let mut pending_op: Option<String> = None;
    for word in group.split([' ', ',', '\t']).filter(|w| !w.is_empty()) {
        let is_op_only = word.chars().all(|c| "=!<>~^".contains(c));
        if is_op_only {
            pending_op = Some(word.to_owned());
        } else {
            tokens.push(format!("{}{word}", pending_op.take().unwrap_or_default()));
        }
    }
    if pending_op.is_some() {
        return None;
    }
    if tokens.is_empty() {
        tokens.push("*".to_owned());
    }
    tokens.iter().map(|t| parse_comparison(t)).collect()
}

fn parse_comparison(token: &str) -> Option<Comparison> {
    let split = token
        .find(|c: char| !"=!<>~^".contains(c))
        .unwrap_or(token.len());
    let (op, ver) = token.split_at(split);
    let op = match op {
        "" | "=" => Op::Eq,
        "!=" => Op::Ne,
        ">" => Op::Gt,
        "<" => Op::Lt,
        ">=" | "=>" => Op::Ge,
        "<=" | "=<" => Op::Le,
        "~" | "~>" => Op::Tilde,
        "^" => Op::Caret,
        _ => return None,
    };
    let ver = ver.strip_prefix('v').unwrap_or(ver);
    let (core, rest) = match ver.find(['-', '+']) {
        Some(i) => ver.split_at(i),
        None => (ver, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let get = |i: usize| parts.get(i).copied().filter(|p| !p.is_empty());
    let (mut any, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let text = match (get(0), get(1), get(2)) {
        (None, _, _) => return None,
        (Some(m), _, _) if is_x(m) => {
            any = true;
            format!("0.0.0{rest}")
        }
        (Some(m), None, _) => {
            minor_dirty = true;
            format!("{m}.0.0{rest}")
        }
        (Some(m), Some(n), _) if is_x(n) => {
            minor_dirty = true;
            format!("{m}.0.0{rest}")
        }
        (Some(m), Some(n), None) => {
            patch_dirty = true;
            format!("{m}.{n}.0{rest}")
        }
        (Some(m), Some(n), Some(p)) if is_x(p) => {
            patch_dirty = true;
            format!("{m}.{n}.0{rest}")
        }
        (Some(m), Some(n), Some(p)) => format!("{m}.{n}.{p}{rest}"),
    };
    let version = Version::parse(&text).ok()?;
    Some(Comparison {
        op,
        version,
        any,
        minor_dirty: minor_dirty || any,
        patch_dirty: patch_dirty || minor_dirty || any,
    })
}

impl Comparison {
    fn dirty(&self) -> bool {
        self.patch_dirty
    }

    fn check(&self, v: &Version, include_pre: bool) -> bool {
        if !v.pre.is_empty() && !include_pre {
            return false;
        }
        let c = &self.version;
        let core = |x: &Version| (x.major, x.minor, x.patch);
        match self.op {
            Op::Eq => self.equal(v),
            Op::Ne => !self.equal(v),
            Op::Gt => {
                if self.any {
                    false
                } else if self.minor_dirty {
                    v.major > c.major
                } else if self.patch_dirty {
                    v.major > c.major || (v.major == c.major && v.minor > c.minor)
                } else {
                    v > c
                }
            }
            Op::Lt => cmp_no_build(v, c).is_lt(),
            Op::Ge => cmp_no_build(v, c).is_ge(),
            Op::Le => {
                if self.any {
                    true
                } else if self.minor_dirty {
                    v.major <= c.major
                } else if self.patch_dirty {
                    v.major < c.major || (v.major == c.major && v.minor <= c.minor)
                } else {
                    cmp_no_build(v, c).is_le()
                }
            }
            Op::Tilde => {
                if cmp_no_build(v, c).is_lt() {
                    return false;
                }
                if self.any {
                    return true;
                }
                if self.minor_dirty {
                    return v.major == c.major;
                }
                v.major == c.major && v.minor == c.minor
            }
            Op::Caret => {
                if cmp_no_build(v, c).is_lt() {
                    return false;
                }
                if self.any {
                    return true;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.major == 0 && v.minor == c.minor;
                }
                core(v) == core(c)
            }
        }
    }

    fn equal(&self, v: &Version) -> bool {
        let c = &self.version;
        if self.any {
            return true;
        }
        if self.dirty() {
            if v.major != c.major {
                return false;
            }
            if self.minor_dirty {
                return true;
            }
            return v.minor == c.minor;
        }
        cmp_no_build(v, c).is_eq()
    }
}

fn cmp_no_build(a: &Version, b: &Version) -> std::cmp::Ordering {
    (a.major, a.minor, a.patch)
        .cmp(&(b.major, b.minor, b.patch))
        .then_with(|| a.pre.cmp(&b.pre))
}

#[cfg(test)]
mod tests {
    use super::is_compatible_range as ok;

    #[test]
    fn exact_wildcards_and_partial_versions() {
        assert!(ok("1.2.3", "1.2.3"));
        assert!(!ok("1.2.3", "1.2.4"));
        assert!(ok("2.x.x", "2.31.4"));
        assert!(ok("2.x", "2.0.0"));
        assert!(!ok("2.x.x", "3.0.0"));
        assert!(ok("*", "0.1.0"));
        assert!(ok("", "0.1.0"));
        assert!(ok("1.2", "1.2.9"));
    }

    #[test]
    fn operators_tilde_caret_ranges_and_groups() {
        assert!(ok(">=1.19.0-0", "v1.35.4"));
        assert!(ok(">= 1.20.0, < 2.0.0", "1.35.4"));
        assert!(ok("~4.38.0", "4.38.9"));
        assert!(!ok("~4.38.0", "4.39.0"));
        assert!(ok("^2.0.0", "2.31.4"));
        assert!(!ok("^2.0.0", "3.0.0"));
        assert!(ok("^0.2.1", "0.2.9"));
        assert!(!ok("^0.2.1", "0.3.0"));
        assert!(ok("1.0.0 - 2.0.0", "1.5.0"));
        assert!(ok("<1.0.0 || >=3.0.0", "3.1.0"));
        assert!(!ok(">1.x", "1.9.0"));
    }

    #[test]
    fn prereleases_only_match_groups_that_name_one() {
        assert!(!ok(">=1.0.0", "1.1.0-rc.1"));
        assert!(ok(">=1.0.0-0", "1.1.0-rc.1"));
        assert!(!ok("1.2.3", "not a version"));
    }
}
