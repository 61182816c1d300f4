//! Sync options, as `KEY=VALUE` strings (the form Argo CD users write in `syncPolicy.syncOptions`)
//! and per object in the `driftless.dev/sync-options` annotation.

use serde_json::Value;

/// Per-object sync options: a comma-separated `KEY=VALUE` list, e.g. `Prune=false,Replace=true`.
pub const SYNC_OPTIONS_ANNOTATION: &str = "driftless.dev/sync-options";

/// How dependents of a pruned object are deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// The object goes first, dependents after it, by the garbage collector.
    Foreground,
    /// The object goes at once; the garbage collector removes dependents later (the default,
    /// as in `kubectl delete`).
    #[default]
    Background,
    /// Dependents are left in place.
    Orphan,
}

impl Propagation {
    /// The API server's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Foreground => "Foreground",
            Self::Background => "Background",
            Self::Orphan => "Orphan",
        }
    }
}

/// Options for one sync of one application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// Create the destination namespace when it does not exist.
    pub create_namespace: bool,
    /// Delete live objects this application owns that Git no longer declares.
    pub prune: bool,
    /// Prune only after every wave has been applied and is healthy.
    pub prune_last: bool,
    /// Propagation policy for prune deletes.
    pub prune_propagation: Propagation,
    /// Apply only the objects that differ from Git; unchanged ones are not sent at all.
    pub apply_out_of_sync_only: bool,
    /// Replace (PUT, or delete and create when that is refused) instead of server-side apply.
    pub replace: bool,
    /// Ask the API server to reject unknown and duplicate fields (`fieldValidation=Strict`);
    /// `false` sends `Ignore`.
    ///
    /// # Caveats
    /// Server-side apply builds a typed patch, so the API server refuses fields outside the
    /// schema whatever this says; it only changes what happens to duplicate fields.
    pub validate: bool,
    /// Take fields over from other field managers on conflict.
    pub force: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            create_namespace: false,
            prune: false,
            prune_last: false,
            prune_propagation: Propagation::default(),
            apply_out_of_sync_only: false,
            replace: false,
            validate: true,
            force: false,
        }
    }
}

/// A sync option that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// Not of the form `KEY=VALUE`.
    #[error("sync option {0:?} is not KEY=VALUE")]
    NotKeyValue(String),
    /// An option Driftless does not know.
    #[error(
        "unknown sync option {0:?} (known: CreateNamespace, Prune, PruneLast, PrunePropagationPolicy, ApplyOutOfSyncOnly, Replace, Validate, Force)"
    )]
    Unknown(String),
    /// A value of the wrong form.
    #[error("sync option {key}={value:?}: expected {expected}")]
    BadValue {
        /// The option.
        key: String,
        /// What was given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
}

impl SyncOptions {
    /// Parses `KEY=VALUE` options on top of the defaults.
    pub fn parse<S: AsRef<str>>(options: &[S]) -> Result<Self, OptionError> {
        let mut parsed = Self::default();
        for option in options {
            parsed.set(option.as_ref())?;
        }
        Ok(parsed)
    }

    /// Applies one `KEY=VALUE` option.
    pub fn set(&mut self, option: &str) -> Result<(), OptionError> {
        let (key, value) = option
            .trim()
            .split_once('=')
            .ok_or_else(|| OptionError::NotKeyValue(option.to_owned()))?;
        let flag = || match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(OptionError::BadValue {
                key: key.to_owned(),
                value: value.to_owned(),
                expected: "true or false",
            }),
        };
        match key {
            "CreateNamespace" => self.create_namespace = flag()?,
            "Prune" => self.prune = flag()?,
            "PruneLast" => self.prune_last = flag()?,
            "ApplyOutOfSyncOnly" => self.apply_out_of_sync_only = flag()?,
            "Replace" => self.replace = flag()?,
            "Validate" => self.validate = flag()?,
            "Force" => self.force = flag()?,
            "PrunePropagationPolicy" => {
                self.prune_propagation = match value.to_ascii_lowercase().as_str() {
                    "foreground" => Propagation::Foreground,
                    "background" => Propagation::Background,
                    "orphan" => Propagation::Orphan,
                    _ => {
                        return Err(OptionError::BadValue {
                            key: key.to_owned(),
                            value: value.to_owned(),
                            expected: "foreground, background or orphan",
                        });
                    }
                }
            }
            _ => return Err(OptionError::Unknown(key.to_owned())),
        }
        Ok(())
    }
}

/// Options an object sets for itself in its [`SYNC_OPTIONS_ANNOTATION`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ObjectOptions {
    /// `Prune=false`: never prune this object.
    pub no_prune: bool,
    /// `Replace=true`: replace instead of apply.
    pub replace: Option<bool>,
    /// `Validate=false`: skip strict field validation.
    pub validate: Option<bool>,
}

/// Reads an object's own sync options; options it does not recognise are ignored, as a newer
/// version of Driftless may have written them.
pub fn object_options(object: &Value) -> ObjectOptions {
    let mut options = ObjectOptions::default();
    let Some(text) = object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(SYNC_OPTIONS_ANNOTATION))
        .and_then(Value::as_str)
    else {
        return options;
    };
    for item in text.split(',') {
        match item.trim() {
            "Prune=false" => options.no_prune = true,
            "Replace=true" => options.replace = Some(true),
            "Replace=false" => options.replace = Some(false),
            "Validate=false" => options.validate = Some(false),
            "Validate=true" => options.validate = Some(true),
            _ => {}
        }
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_every_option() -> Result<(), OptionError> {
        let options = SyncOptions::parse(&[
            "CreateNamespace=true",
            "Prune=true",
            "PruneLast=true",
            "PrunePropagationPolicy=foreground",
            "ApplyOutOfSyncOnly=true",
            "Replace=true",
            "Validate=false",
        ])?;
        assert!(options.create_namespace && options.prune && options.prune_last);
        assert!(options.apply_out_of_sync_only && options.replace && !options.validate);
        assert_eq!(options.prune_propagation, Propagation::Foreground);
        Ok(())
    }

    #[test]
    fn bad_options_name_themselves() {
        let err = SyncOptions::parse(&["Prune=maybe"])
            .map(|_| ())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "sync option Prune=\"maybe\": expected true or false"
        );
        let err = SyncOptions::parse(&["Prnue=true"]).map(|_| ()).unwrap_err();
        assert!(err.to_string().contains("unknown sync option \"Prnue\""));
        let err = SyncOptions::parse(&["Prune"]).map(|_| ()).unwrap_err();
        assert_eq!(err, OptionError::NotKeyValue("Prune".into()));
    }

    #[test]
    fn object_annotation_can_forbid_prune() {
        let object = json!({"metadata": {"annotations": {SYNC_OPTIONS_ANNOTATION: "Prune=false, Replace=true"}}});
        let options = object_options(&object);
        assert!(options.no_prune);
        assert_eq!(options.replace, Some(true));
        assert_eq!(object_options(&json!({})), ObjectOptions::default());
    }
}
