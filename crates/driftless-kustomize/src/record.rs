//! Recording the steps of a build (see [`crate::provenance`]): a snapshot of every object
//! before a step, compared after it, only when the build records.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::provenance::Change;
use crate::resource::Resource;
use crate::target::Builder;

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
