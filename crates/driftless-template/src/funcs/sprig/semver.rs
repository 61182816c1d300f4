//! Sprig's `semver` and `semverCompare`, with Masterminds/semver v3.3.0's parsing and
//! constraint rules (loose versions such as `v1.2`, `x` wildcards, `~`, `^`, ranges, `||`,
//! and pre-releases excluded unless the constraint names one).

use std::cmp::Ordering;
use std::sync::{Arc, OnceLock};

use regex::Regex;

use crate::func::{Func, FuncMap, Param};
use crate::value::{Object, Value};

const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

struct Res {
    version: Regex,
    constraint: Regex,
    range: Regex,
    find: Regex,
    valid: Regex,
}

fn res() -> Option<&'static Res> {
    static R: OnceLock<Option<Res>> = OnceLock::new();
    R.get_or_init(|| {
        let sv = r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
        Some(Res {
            version: Regex::new(&format!("^{sv}$")).ok()?,
            constraint: Regex::new(&format!(r"^\s*({OPS})\s*({CV})\s*$")).ok()?,
            range: Regex::new(&format!(r"\s*({CV})\s+-\s+({CV})\s*")).ok()?,
            find: Regex::new(&format!(r"({OPS})\s*({CV})")).ok()?,
            valid: Regex::new(&format!(r"^(\s*({OPS})\s*({CV})\s*)((?:\s+|,\s*)({OPS})\s*({CV})\s*)*$")).ok()?,
        })
    })
    .as_ref()
}

/// A parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    metadata: String,
    original: String,
}

const INVALID: &str = "Invalid Semantic Version";

impl Version {
    /// Masterminds' `NewVersion`.
    pub fn parse(v: &str) -> Result<Version, String> {
        let r = res().ok_or(INVALID)?;
        let m = r.version.captures(v).ok_or(INVALID)?;
        let g = |i: usize| m.get(i).map_or("", |x| x.as_str());
        let seg = |s: &str| -> Result<u64, String> {
            s.trim_start_matches('.')
                .parse::<u64>()
                .map_err(|e| format!("Error parsing version segment: {e}"))
        };
        let pre = g(5).to_string();
        for part in pre.split('.').filter(|_| !pre.is_empty()) {
            if part.len() > 1 && part.starts_with('0') && part.bytes().all(|b| b.is_ascii_digit()) {
                return Err("Version segment starts with 0".into());
            }
        }
        Ok(Version {
            major: seg(g(1))?,
            minor: if g(2).is_empty() { 0 } else { seg(g(2))? },
            patch: if g(3).is_empty() { 0 } else { seg(g(3))? },
            pre,
            metadata: g(8).to_string(),
            original: v.to_string(),
        })
    }

    fn compare(&self, o: &Version) -> Ordering {
        self.major
            .cmp(&o.major)
            .then(self.minor.cmp(&o.minor))
            .then(self.patch.cmp(&o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ => compare_prerelease(&self.pre, &o.pre),
            })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let (x, y): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for i in 0..x.len().max(y.len()) {
        let d = compare_pre_part(
            x.get(i).copied().unwrap_or(""),
            y.get(i).copied().unwrap_or(""),
        );
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

fn compare_pre_part(s: &str, o: &str) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    if s.is_empty() {
        return Ordering::Less;
    }
    if o.is_empty() {
        return Ordering::Greater;
    }
    match (s.parse::<u64>(), o.parse::<u64>()) {
        (Err(_), Err(_)) => {
            if s > o {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (_, Err(_)) => Ordering::Less,
        (Err(_), _) => Ordering::Greater,
        (Ok(a), Ok(b)) => {
            if a > b {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}

struct Constraint {
    con: Version,
    op: String,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "*" | "X")
}

fn parse_constraint(c: &str, r: &Res) -> Result<Constraint, String> {
    if c.is_empty() {
        return Ok(Constraint {
            con: Version::parse("0.0.0")?,
            op: String::new(),
            minor_dirty: false,
            patch_dirty: false,
            dirty: true,
        });
    }
    let m = r
        .constraint
        .captures(c)
        .ok_or_else(|| format!("improper constraint: {c}"))?;
    let g = |i: usize| m.get(i).map_or("", |x| x.as_str());
    let (mut minor_dirty, mut patch_dirty, mut dirty) = (false, false, false);
    let ver = if is_x(g(3)) || g(3).is_empty() {
        dirty = true;
        format!("0.0.0{}", g(6))
    } else if is_x(g(4).trim_start_matches('.')) || g(4).is_empty() {
        minor_dirty = true;
        dirty = true;
        format!("{}.0.0{}", g(3), g(6))
    } else if is_x(g(5).trim_start_matches('.')) || g(5).is_empty() {
        dirty = true;
        patch_dirty = true;
        format!("{}{}.0{}", g(3), g(4), g(6))
    } else {
        g(2).to_string()
    };
    let con = Version::parse(&ver).map_err(|_| "constraint Parser Error".to_string())?;
    Ok(Constraint {
        con,
        op: g(1).to_string(),
        minor_dirty,
        patch_dirty,
        dirty,
    })
}

impl Constraint {
    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        let pre_blocked = !v.pre.is_empty() && c.pre.is_empty();
        let tilde = || {
            if pre_blocked || v.compare(c) == Ordering::Less {
                return false;
            }
            if c.major == 0
                && c.minor == 0
                && c.patch == 0
                && !self.minor_dirty
                && !self.patch_dirty
            {
                return true;
            }
            v.major == c.major && (v.minor == c.minor || self.minor_dirty)
        };
        match self.op.as_str() {
            "" | "=" => {
                if pre_blocked {
                    return false;
                }
                if self.dirty {
                    tilde()
                } else {
                    v.compare(c) == Ordering::Equal
                }
            }
            "!=" => {
                if self.dirty {
                    if pre_blocked {
                        return false;
                    }
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    } else if self.minor_dirty {
                        return false;
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                v.compare(c) != Ordering::Equal
            }
            ">" => {
                if pre_blocked {
                    return false;
                }
                if !self.dirty {
                    return v.compare(c) == Ordering::Greater;
                }
                if v.major > c.major {
                    true
                } else if v.major < c.major || self.minor_dirty {
                    false
                } else if self.patch_dirty {
                    v.minor > c.minor
                } else {
                    v.compare(c) == Ordering::Greater
                }
            }
            "<" => !pre_blocked && v.compare(c) == Ordering::Less,
            ">=" | "=>" => !pre_blocked && v.compare(c) != Ordering::Less,
            "<=" | "=<" => {
                if pre_blocked {
                    return false;
                }
                if !self.dirty {
                    return v.compare(c) != Ordering::Greater;
                }
                !(v.major > c.major
                    || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            "~" | "~>" => tilde(),
            "^" => {
                if pre_blocked || v.compare(c) == Ordering::Less {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                if v.minor > 0 {
                    return false;
                }
                c.patch == v.patch
            }
            _ => false,
        }
    }
}

/// Masterminds' `NewConstraint(c).Check(NewVersion(v))`.
pub fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let r = res().ok_or(INVALID)?;
    // rewriteRange: "A - B" becomes ">= A, <= B ".
    let mut c = constraint.to_string();
    let ranges: Vec<(String, String, String)> = r
        .range
        .captures_iter(constraint)
        .map(|m| {
            let g = |i: usize| m.get(i).map_or("", |x| x.as_str()).to_string();
            (g(0), g(1), g(11))
        })
        .collect();
    for (whole, a, b) in ranges {
        c = c.replacen(&whole, &format!(">= {a}, <= {b} "), 1);
    }
    let mut ors = Vec::new();
    for part in c.split("||") {
        if !r.valid.is_match(part) {
            return Err(format!("improper constraint: {part}"));
        }
        let mut found: Vec<&str> = r.find.find_iter(part).map(|m| m.as_str()).collect();
        if found.is_empty() {
            found.push(part);
        }
        let mut and = Vec::new();
        for s in found {
            and.push(parse_constraint(s, r)?);
        }
        ors.push(and);
    }
    let v = Version::parse(version)?;
    Ok(ors.iter().any(|and| and.iter().all(|c| c.check(&v))))
}

impl Object for Version {
    fn type_name(&self) -> String {
        "*semver.Version".into()
    }

    fn field(&self, _name: &str) -> Option<Value> {
        None
    }

    fn method(&self, name: &str) -> Option<Func> {
        let v = self.clone();
        Some(match name {
            "Major" => Func::new(&[], move |_| Ok(Value::Uint64(v.major))),
            "Minor" => Func::new(&[], move |_| Ok(Value::Uint64(v.minor))),
            "Patch" => Func::new(&[], move |_| Ok(Value::Uint64(v.patch))),
            "Prerelease" => Func::new(&[], move |_| Ok(Value::str(v.pre.as_str()))),
            "Metadata" => Func::new(&[], move |_| Ok(Value::str(v.metadata.as_str()))),
            "Original" => Func::new(&[], move |_| Ok(Value::str(v.original.as_str()))),
            "String" => Func::new(&[], move |_| Ok(Value::str(v.to_string()))),
            _ => return None,
        })
    }

    fn format(&self) -> String {
        self.to_string()
    }
}

pub(super) fn register(m: &mut FuncMap) {
    m.insert(
        "semverCompare".into(),
        Func::new(&[Param::String, Param::String], |a| {
            semver_compare(a[0].as_str().unwrap_or(""), a[1].as_str().unwrap_or(""))
                .map(Value::Bool)
        }),
    );
    m.insert(
        "semver".into(),
        Func::new(&[Param::String], |a| {
            Version::parse(a[0].as_str().unwrap_or("")).map(|v| Value::Object(Arc::new(v)))
        }),
    );
}
