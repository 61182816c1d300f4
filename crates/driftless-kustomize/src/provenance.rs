//! Provenance recording: which file of the build changed each object, step by step, so that a
//! trace can say which file (a base, a patch, an overlay's kustomization) set a field's final
//! value.
//!
//! Only `build_traced` records. A plain `build` takes no snapshot: recording costs a
//! copy of every object per transformer step, which a trace pays once and rendering never.

use serde_json::Value;

/// One step of the build that changed an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The file the step comes from: a patch file, or the kustomization configuring it (an
    /// inline patch, `images`, `replicas`, `namespace`...). Absolute in the build's file system.
    pub file: String,
    /// The kustomization field that configured the step (`patches[1]`, `images`), when it is
    /// configured in `file` itself; `None` for a patch file.
    pub field: Option<String>,
    /// What ran: `PatchTransformer`, `ImageTagTransformer`, ...
    pub transformer: String,
    /// The object before the step.
    pub before: Value,
}

/// An output object and how it came to be.
#[derive(Debug, Clone, PartialEq)]
pub struct Traced {
    /// The object, as `build` returns it.
    pub object: Value,
    /// The file that declared it (`None` for generated objects, see `generator`).
    pub file: Option<String>,
    /// The kustomization (or plugin configuration) whose generator made it, for generated
    /// objects.
    pub generator: Option<String>,
    /// That generator's kind (`ConfigMapGenerator`, `SecretGenerator`, a plugin's kind).
    pub generator_kind: Option<String>,
    /// Its kind and name where it was declared (before prefixes, suffixes and patches).
    pub declared_kind: String,
    /// See `declared_kind`.
    pub declared_name: String,
    /// The steps that changed it, in build order.
    pub changes: Vec<Change>,
}

/// Who set the value at a field path.
#[derive(Debug, Clone, PartialEq)]
pub enum Setter<'a> {
    /// No step changed it: the declaring file set it.
    Declared,
    /// This step set it last.
    Changed(&'a Change),
}

impl Traced {
    /// The step that last changed the value `at` returns (the value at one field path), or
    /// [`Setter::Declared`] when none did.
    pub fn setter(&self, at: impl Fn(&Value) -> Option<Value>) -> Setter<'_> {
        let mut after = at(&self.object);
        for change in self.changes.iter().rev() {
            let before = at(&change.before);
            if before != after {
                return Setter::Changed(change);
            }
            after = before;
        }
        Setter::Declared
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, MemFs, Options, build_traced};

    fn fs() -> MemFs {
        MemFs::new()
            .with(
                "/base/kustomization.yaml",
                "resources:\n- deployment.yaml\n- cm.yaml\n",
            )
            .with(
                "/base/deployment.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  paused: false\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1\n",
            )
            .with(
                "/base/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: slow\n",
            )
            .with(
                "/overlay/kustomization.yaml",
                "resources:\n- ../base\nnamePrefix: prod-\npatches:\n- path: replicas.yaml\n- target: {kind: ConfigMap}\n  patch: |-\n    - op: replace\n      path: /data/mode\n      value: fast\nimages:\n- name: nginx\n  newTag: \"2\"\n",
            )
            .with(
                "/overlay/replicas.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
            )
    }

    fn setter_of(traced: &Traced, pointer: &str) -> Option<(String, Option<String>)> {
        match traced.setter(|v| v.pointer(pointer).cloned()) {
            Setter::Declared => None,
            Setter::Changed(c) => Some((c.file.clone(), c.field.clone())),
        }
    }

    #[test]
    fn each_field_names_the_file_that_set_its_final_value() -> Result<(), Error> {
        let traced = build_traced(&fs(), "/overlay", &Options::default())?;
        let plain = crate::build(&fs(), "/overlay", &Options::default())?;
        assert_eq!(
            traced.iter().map(|t| t.object.clone()).collect::<Vec<_>>(),
            plain,
            "recording changes nothing in the output"
        );
        let web = traced
            .iter()
            .find(|t| t.declared_kind == "Deployment")
            .ok_or_else(|| Error::msg("no Deployment"))?;
        assert_eq!(web.file.as_deref(), Some("/base/deployment.yaml"));
        assert_eq!(web.declared_name, "web");
        assert_eq!(web.object["metadata"]["name"], "prod-web");
        assert_eq!(
            setter_of(web, "/spec/replicas"),
            Some(("/overlay/replicas.yaml".into(), None))
        );
        assert_eq!(setter_of(web, "/spec/paused"), None, "declared by the base");
        assert_eq!(
            setter_of(web, "/spec/template/spec/containers/0/image"),
            Some(("/overlay/kustomization.yaml".into(), Some("images".into())))
        );
        assert_eq!(
            setter_of(web, "/metadata/name"),
            Some((
                "/overlay/kustomization.yaml".into(),
                Some("namePrefix".into())
            ))
        );
        let cm = traced
            .iter()
            .find(|t| t.declared_kind == "ConfigMap")
            .ok_or_else(|| Error::msg("no ConfigMap"))?;
        assert_eq!(
            setter_of(cm, "/data/mode"),
            Some((
                "/overlay/kustomization.yaml".into(),
                Some("patches[1]".into())
            ))
        );
        Ok(())
    }
}
