//! `.sops.yaml` creation rules: which recipients and which encryption rule a new file gets.
//! The first rule whose `path_regex` matches the file's path (relative to the configuration
//! file's directory) wins; a rule without `path_regex` matches every file, as in sops.

use serde::Deserialize;

use crate::encrypt::EncryptionRule;

/// The creation rule chosen for a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreationRule {
    /// age recipients.
    pub age: Vec<String>,
    /// The encryption rule, when the rule sets one.
    pub rule: Option<EncryptionRule>,
    /// `mac_only_encrypted`.
    pub mac_only_encrypted: bool,
}

#[derive(Debug, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    creation_rules: Option<Vec<RawRule>>,
}

#[derive(Debug, Default, Deserialize)]
struct RawRule {
    #[serde(default)]
    path_regex: String,
    #[serde(default)]
    age: Option<Keys>,
    #[serde(default)]
    pgp: Option<Keys>,
    #[serde(default)]
    key_groups: Option<serde_json::Value>,
    #[serde(default)]
    unencrypted_suffix: String,
    #[serde(default)]
    encrypted_suffix: String,
    #[serde(default)]
    unencrypted_regex: String,
    #[serde(default)]
    encrypted_regex: String,
    #[serde(default)]
    mac_only_encrypted: bool,
}

/// A key list: a comma-separated string or a list, as sops reads it.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Keys {
    One(String),
    Many(Vec<String>),
}

impl Keys {
    fn list(&self) -> Vec<String> {
        let all = match self {
            Keys::One(s) => vec![s.clone()],
            Keys::Many(v) => v.clone(),
        };
        all.iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// The creation rule of `.sops.yaml` text `config` for `path` (relative to the configuration
/// file's directory, `/`-separated). `Ok(None)`: the file has no `creation_rules`.
///
/// # Errors
/// One line: the configuration does not parse, a regex is invalid, no rule matches, or the
/// rule needs what is not supported (PGP or cloud KMS only, key groups, several rules).
pub fn creation_rule(config: &str, path: &str) -> Result<Option<CreationRule>, String> {
    let file: ConfigFile = serde_saphyr::from_str(config).map_err(|e| {
        format!(
            "not valid YAML: {}",
            e.to_string().lines().next().unwrap_or_default()
        )
    })?;
    let Some(rules) = file.creation_rules else {
        return Ok(None);
    };
    let mut chosen = None;
    for (i, rule) in rules.into_iter().enumerate() {
        if rule.path_regex.is_empty() {
            chosen = Some((i, rule));
            break;
        }
        let regex = regex::Regex::new(&rule.path_regex).map_err(|_| {
            format!(
                "creation_rules[{i}].path_regex {:?} is not a valid regex",
                rule.path_regex
            )
        })?;
        if regex.is_match(path) {
            chosen = Some((i, rule));
            break;
        }
    }
    let (i, rule) = chosen.ok_or_else(|| format!("no creation rule matches {path}"))?;
    if rule.key_groups.is_some() {
        return Err(format!(
            "creation_rules[{i}]: key_groups are not supported yet; list age recipients in `age`"
        ));
    }
    let age = rule.age.as_ref().map(Keys::list).unwrap_or_default();
    if age.is_empty() {
        let pgp = rule.pgp.as_ref().is_some_and(|k| !k.list().is_empty());
        return Err(if pgp {
            format!("creation_rules[{i}]: only PGP keys; PGP is not supported yet (only age)")
        } else {
            format!("creation_rules[{i}]: no age recipient")
        });
    }
    let mut rules = Vec::new();
    for (value, make) in [
        (
            &rule.unencrypted_suffix,
            EncryptionRule::UnencryptedSuffix as fn(String) -> EncryptionRule,
        ),
        (&rule.encrypted_suffix, EncryptionRule::EncryptedSuffix),
        (&rule.unencrypted_regex, EncryptionRule::UnencryptedRegex),
        (&rule.encrypted_regex, EncryptionRule::EncryptedRegex),
    ] {
        if !value.is_empty() {
            rules.push(make(value.clone()));
        }
    }
    if rules.len() > 1 {
        return Err(format!(
            "creation_rules[{i}]: more than one of unencrypted_suffix, encrypted_suffix, unencrypted_regex, encrypted_regex"
        ));
    }
    Ok(Some(CreationRule {
        age,
        rule: rules.pop(),
        mac_only_encrypted: rule.mac_only_encrypted,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
creation_rules:
  - path_regex: prod/.*\.yaml$
    encrypted_regex: ^(data|stringData)$
    age: age1aaa, age1bbb
  - path_regex: \.env$
    age: [age1ccc]
    mac_only_encrypted: true
  - age: age1ddd
"#;

    #[test]
    fn the_first_matching_rule_wins() -> Result<(), String> {
        let prod = creation_rule(CONFIG, "prod/db.yaml")?.ok_or("no rule")?;
        assert_eq!(prod.age, ["age1aaa", "age1bbb"]);
        assert_eq!(
            prod.rule,
            Some(EncryptionRule::EncryptedRegex("^(data|stringData)$".into()))
        );
        let env = creation_rule(CONFIG, "app/.env")?.ok_or("no rule")?;
        assert_eq!(env.age, ["age1ccc"]);
        assert!(env.mac_only_encrypted && env.rule.is_none());
        let other = creation_rule(CONFIG, "dev/x.yaml")?.ok_or("no rule")?;
        assert_eq!(other.age, ["age1ddd"]);
        Ok(())
    }

    #[test]
    fn no_match_and_unsupported_rules_are_errors() {
        let config = "creation_rules:\n  - path_regex: x\n    age: age1a\n";
        assert_eq!(
            creation_rule(config, "y"),
            Err("no creation rule matches y".to_owned())
        );
        let pgp = "creation_rules:\n  - pgp: ABCDEF\n";
        assert!(creation_rule(pgp, "y").is_err_and(|e| e.contains("PGP is not supported")));
        assert_eq!(creation_rule("stores: {}\n", "y"), Ok(None));
    }
}
