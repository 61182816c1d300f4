//! Provenance recording: which file of the build changed each object, step by step, so that a
//! trace can say which file (a base, a patch, an overlay's kustomization) set a field's final
//! value.
//!
//! Only [`build_traced`] records. A plain [`crate::build`] takes no snapshot: recording costs a
//! copy of every object per transformer step, which a trace pays once and rendering never.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::fs::FileSystem;
use crate::resource::{Origin, Resource};
use crate::target::{Builder, Options};

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
    /// The object, as [`crate::build`] returns it.
    pub object: Value,
    /// The file that declared it (`None` for generated objects, see `generator`).
    pub file: Option<String>,
    /// The kustomization whose generator made it, for generated objects.
    pub generator: Option<String>,
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

/// The objects before a step, by resource uid; `None` when not recording.
pub(crate) struct Snapshot(Vec<(u64, Map<String, Value>)>);

/// What a recorded step is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step<'a> {
    /// See [`Change::file`].
    pub(crate) file: &'a str,
    /// See [`Change::field`].
    pub(crate) field: Option<&'a str>,
    /// See [`Change::transformer`].
    pub(crate) transformer: &'a str,
}

impl Builder<'_> {
    /// The objects as they are, when this build records provenance.
    pub(crate) fn snapshot(&self, res: &[Resource]) -> Option<Snapshot> {
        self.record
            .then(|| Snapshot(res.iter().map(|r| (r.uid, r.obj.clone())).collect()))
    }

    /// Records `step` on every object that differs from its snapshot.
    pub(crate) fn changed(&self, snapshot: Option<Snapshot>, res: &mut [Resource], step: Step<'_>) {
        let Some(Snapshot(before)) = snapshot else {
            return;
        };
        for r in res.iter_mut() {
            let Some((_, old)) = before.iter().find(|(uid, _)| *uid == r.uid) else {
                continue;
            };
            if *old != r.obj {
                r.changes.push(Change {
                    file: step.file.to_owned(),
                    field: step.field.map(str::to_owned),
                    transformer: step.transformer.to_owned(),
                    before: Value::Object(old.clone()),
                });
            }
        }
    }

    /// Runs `f` over the resources as one recorded step.
    pub(crate) fn step<T>(
        &self,
        res: &mut Vec<Resource>,
        step: Step<'_>,
        f: impl FnOnce(&mut Vec<Resource>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let snapshot = self.snapshot(res);
        let out = f(res)?;
        self.changed(snapshot, res, step);
        Ok(out)
    }
}

/// Builds the kustomization in `dir` as [`crate::build`] does, and records for every object
/// the file that declared it and each step that changed it.
///
/// # Errors
/// As [`crate::build`].
pub fn build_traced(
    fs: &dyn FileSystem,
    dir: &str,
    options: &Options,
) -> Result<Vec<Traced>, Error> {
    let mut b = Builder::new(fs, options);
    b.record = true;
    let resources = crate::build::build_resources(&b, dir)?;
    Ok(resources
        .into_iter()
        .map(|r| {
            let (file, generator) = match &r.origin {
                Some(Origin::File(path)) => (Some(path.clone()), None),
                Some(Origin::Generator { file, .. }) => (None, Some(file.clone())),
                None => (None, None),
            };
            let declared_name = r
                .history
                .first()
                .map_or_else(|| r.name().to_owned(), |(name, _)| name.clone());
            Traced {
                declared_kind: r.orig_kind.clone(),
                declared_name,
                file,
                generator,
                changes: r.changes,
                object: Value::Object(r.obj),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemFs;

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
