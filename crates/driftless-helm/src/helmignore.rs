//! `.helmignore`: which files of a chart directory Helm leaves out, exactly as Helm applies it.
//!
//! Rules are read line by line (a UTF-8 BOM on the first line dropped, blank lines and `#`
//! comments skipped); `**` is refused; each rule must be a valid Go `filepath.Match` pattern. A
//! rule with a leading `/` or any other `/` matches the whole path relative to the chart, one
//! without matches the last path element. A trailing `/` makes a rule apply to directories only.
//! Helm always adds `templates/.?*`. An ignored directory drops everything below it.
//!
//! Negated rules (`!rule`) behave as Helm's do, which is not as `.gitignore`'s: a path that a
//! negated rule does *not* match is ignored, and so is a file that meets a negated
//! directory-only rule.
//!
//! The rules of the top chart apply to the whole tree, `charts/` included; a subchart's own
//! `.helmignore` is not read (Helm only reads the one at the top).

use crate::gomatch;

/// The file Helm reads the rules from, at the chart's root.
pub const HELMIGNORE: &str = ".helmignore";

/// A rule Helm refuses, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The rule contains `**`.
    #[error("line {line}: double-star (**) syntax is not supported")]
    DoubleStar {
        /// 1-based line.
        line: usize,
    },
    /// The rule is not a valid Go glob.
    #[error("line {line}: syntax error in pattern {rule:?}")]
    BadPattern {
        /// 1-based line.
        line: usize,
        /// The rule as written.
        rule: String,
    },
}

#[derive(Debug, Clone)]
enum Scope {
    /// The whole relative path (the rule had a `/`).
    Path,
    /// The last path element.
    Base,
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    scope: Scope,
    negate: bool,
    dir_only: bool,
}

impl Rule {
    fn matches(&self, path: &str) -> bool {
        let name = match self.scope {
            Scope::Path => path,
            Scope::Base => path.rsplit('/').next().unwrap_or(path),
        };
        gomatch::matches(&self.pattern, name).unwrap_or(false)
    }
}

/// The rules of one `.helmignore`, plus Helm's default rule.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    /// The rules of `text` (a `.helmignore`'s content) followed by Helm's default
    /// `templates/.?*`.
    ///
    /// # Errors
    /// The first rule Helm refuses.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        let mut rules = Rules::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, line) in text.lines().enumerate() {
            rules.push(line, index + 1)?;
        }
        rules.push("templates/.?*", 0)?;
        Ok(rules)
    }

    /// Only Helm's default rule (a chart without `.helmignore`).
    pub fn defaults() -> Self {
        // The default rule is well formed, so parsing it cannot fail.
        Self::parse("").unwrap_or_default()
    }

    fn push(&mut self, line: &str, number: usize) -> Result<(), RuleError> {
        let rule = line.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err(RuleError::DoubleStar { line: number });
        }
        if gomatch::validate(rule).is_err() {
            return Err(RuleError::BadPattern {
                line: number,
                rule: rule.to_owned(),
            });
        }
        let (negate, rest) = match rule.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, rule),
        };
        let (dir_only, rest) = match rest.strip_suffix('/') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let (scope, pattern) = if let Some(rest) = rest.strip_prefix('/') {
            (Scope::Path, rest)
        } else if rest.contains('/') {
            (Scope::Path, rest)
        } else {
            (Scope::Base, rest)
        };
        self.rules.push(Rule {
            pattern: pattern.to_owned(),
            scope,
            negate,
            dir_only,
        });
        Ok(())
    }

    /// Whether Helm ignores `path` (relative to the chart, `/`-separated), a directory when
    /// `is_dir`. The path itself only: see [`Rules::ignores_file`] for a file under
    /// directories.
    pub fn ignores(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for rule in &self.rules {
            if rule.negate {
                if rule.dir_only && !is_dir {
                    return true;
                }
                if !rule.matches(path) {
                    return true;
                }
                continue;
            }
            if rule.dir_only && !is_dir {
                continue;
            }
            if rule.matches(path) {
                return true;
            }
        }
        false
    }

    /// Whether the file at `path` is left out: one of its directories or the file itself is
    /// ignored (Helm's walk skips an ignored directory's whole subtree).
    pub fn ignores_file(&self, path: &str) -> bool {
        let mut end = 0;
        while let Some(slash) = path[end..].find('/') {
            let dir = &path[..end + slash];
            if self.ignores(dir, true) {
                return true;
            }
            end += slash + 1;
        }
        self.ignores(path, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Rules {
        Rules::parse(text).unwrap_or_default()
    }

    #[test]
    fn base_name_rules_match_at_any_depth_and_path_rules_from_the_root() {
        let r = rules("*.md\n/ci/*.yaml\nfiles/dashboards/\n# comment\n\n");
        assert!(r.ignores_file("README.md"));
        assert!(r.ignores_file("charts/sub/README.md"));
        assert!(r.ignores_file("ci/test.yaml"));
        assert!(!r.ignores_file("x/ci/test.yaml"));
        assert!(r.ignores_file("files/dashboards/a.json"));
        assert!(!r.ignores_file("files/dashboards"));
        assert!(!r.ignores_file("values.yaml"));
    }

    #[test]
    fn the_default_rule_drops_hidden_files_directly_in_templates() {
        let r = Rules::defaults();
        assert!(r.ignores_file("templates/.keep"));
        assert!(!r.ignores_file("templates/sub/.keep"));
        assert!(!r.ignores_file("templates/deployment.yaml"));
    }

    #[test]
    fn a_negated_rule_ignores_what_it_does_not_match_as_helm_does() {
        let r = rules("!keep.txt\n");
        assert!(!r.ignores_file("keep.txt"));
        assert!(r.ignores_file("other.txt"));
        let dirs = rules("!dir/\n");
        assert!(dirs.ignores_file("file.txt"));
    }

    #[test]
    fn double_star_and_bad_patterns_are_refused_with_their_line() {
        assert_eq!(
            Rules::parse("a\n**/x\n").err(),
            Some(RuleError::DoubleStar { line: 2 })
        );
        assert!(matches!(
            Rules::parse("[").err(),
            Some(RuleError::BadPattern { line: 1, .. })
        ));
    }
}
