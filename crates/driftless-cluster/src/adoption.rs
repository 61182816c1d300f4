//! Taking over what Argo CD or Flux manages, for `driftless import --adopt`: the objects that
//! carry the old tool's marks for a converted Application get Driftless's marks instead, and
//! the fields the old tool's field managers owned move to Driftless's field manager. Nothing is
//! deleted, recreated or changed in its spec. The pure half is [`driftless_import::adopt`].

use driftless_import::Adoption;
use driftless_import::adopt::{
    Claim, Identity, moved_managed_fields, renamed_annotations, written_by,
};
use driftless_resource::ResourceKey;
use driftless_sync::{ClusterError, ErrorKind};
use futures::StreamExt;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::core::DynamicObject;
use serde_json::{Value, json};

use crate::discovery::Kind;
use crate::errors::cluster_error;
use crate::forbidden::forbidden;
use crate::kube_cluster::{FIELD_MANAGER, KubeCluster};

/// How many kinds are listed at once.
const LIST_CONCURRENCY: usize = 8;

/// Kinds whose objects are records of what happened, never managed by a GitOps tool.
const RECORDS: [(&str, &str); 2] = [("", "Event"), ("events.k8s.io", "Event")];

/// Kinds Kubernetes keeps as mirrors of another object, with its labels but no owner reference:
/// a Service's Endpoints. Their copies of the old tool's labels are not worth a note.
const MIRRORS: [(&str, &str); 1] = [("", "Endpoints")];

/// How often the managed-fields write is tried again when the object changed in between.
const CONFLICT_RETRIES: usize = 5;

/// One object taken over.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Adopted {
    /// The Driftless Application that owns it now, `namespace/name`.
    pub application: String,
    /// The object: `group/Kind namespace/name` (`Kind name` for the core group).
    pub object: String,
    /// The field managers whose fields moved to Driftless's; empty when none of the old
    /// tool's managers owned any (then the first sync takes the fields over).
    pub moved_from: Vec<String>,
}

/// What an adoption did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Adoptions {
    /// The objects taken over.
    pub adopted: Vec<Adopted>,
    /// Whether this was a dry run: nothing was written.
    pub dry_run: bool,
    /// Things to know, one line each: objects that carry the marks but were not written by the
    /// old tool, Argo CD annotations Driftless does not read, kinds that could not be listed.
    pub notes: Vec<String>,
}

fn describe(kind: &Kind, namespace: &str, name: &str) -> String {
    let group = &kind.resource.group;
    let kind = &kind.resource.kind;
    let qualified = if group.is_empty() {
        kind.clone()
    } else {
        format!("{group}/{kind}")
    };
    if namespace.is_empty() {
        format!("{qualified} {name}")
    } else {
        format!("{qualified} {namespace}/{name}")
    }
}

impl KubeCluster {
    /// Takes over every object of the cluster that one of `adoptions` claims (see
    /// [`Adoption::claims`]): its old marks are replaced by Driftless's tracking annotation
    /// and label for that Application (`app_id` gives the Application's tracking identity
    /// from its namespace and name), then its managed fields move from the old tool's managers
    /// to [`FIELD_MANAGER`].
    ///
    /// An object claimed only by labels is taken over only when one of the old managers wrote
    /// it: labels are copied onto derived objects (a Service's onto its EndpointSlices).
    ///
    /// With `dry_run`, the marks patch is sent as a server-side dry run (so the API server
    /// checks it and the rights to make it) and the managed fields are only computed: nothing
    /// is written.
    ///
    /// # Caveats
    /// The old tool's controller must be stopped first, or it puts its marks back.
    ///
    /// # Errors
    /// A failed list (other than 403/404) or a failed write.
    pub async fn adopt(
        &self,
        adoptions: &[Adoption],
        app_id: impl Fn(&str, &str) -> String,
        dry_run: bool,
    ) -> Result<Adoptions, ClusterError> {
        let mut out = Adoptions {
            dry_run,
            ..Adoptions::default()
        };
        if adoptions.is_empty() {
            return Ok(out);
        }
        let kinds: Vec<Kind> = self
            .served_kinds()
            .await
            .into_iter()
            .filter(|k| k.listable)
            .filter(|k| !RECORDS.contains(&(k.resource.group.as_str(), k.resource.kind.as_str())))
            .collect();
        let lists: Vec<_> = futures::stream::iter(kinds)
            .map(|kind| {
                let api: Api<DynamicObject> = Api::all_with(self.client().clone(), &kind.resource);
                async move {
                    let list = list_all(&api).await;
                    (kind, list)
                }
            })
            .buffer_unordered(LIST_CONCURRENCY)
            .collect()
            .await;
        for (kind, list) in lists {
            let list = match list {
                Ok(list) => list,
                Err(kube::Error::Api(status)) if status.code == 404 => continue,
                Err(e) if forbidden(&e).is_some() => {
                    out.notes.push(format!(
                        "may not list {} {}: its objects were not looked at",
                        kind.resource.group, kind.resource.kind
                    ));
                    continue;
                }
                Err(e) => return Err(cluster_error(e)),
            };
            for item in list.items {
                let metadata = serde_json::to_value(&item.metadata).map_err(invalid)?;
                let namespace = item.metadata.namespace.clone().unwrap_or_default();
                let name = item.metadata.name.clone().unwrap_or_default();
                let identity = Identity {
                    group: kind.resource.group.clone(),
                    kind: kind.resource.kind.clone(),
                    namespace: namespace.clone(),
                    name: name.clone(),
                };
                let Some((adoption, claim)) = adoptions
                    .iter()
                    .find_map(|a| a.claims(&metadata, &identity).map(|c| (a, c)))
                else {
                    continue;
                };
                let object = describe(&kind, &namespace, &name);
                let written = written_by(&metadata, &adoption.managers);
                if claim == Claim::Labels && !written {
                    let derived = MIRRORS
                        .contains(&(identity.group.as_str(), identity.kind.as_str()))
                        || item
                            .metadata
                            .owner_references
                            .as_ref()
                            .is_some_and(|o| o.iter().any(|r| r.controller == Some(true)));
                    if !derived {
                        out.notes.push(format!(
                            "{object} carries the marks of {} but none of {} wrote it: not taken over",
                            adoption.source,
                            adoption.managers.join(", ")
                        ));
                    }
                    continue;
                }
                for (old, new) in renamed_annotations(&metadata) {
                    out.notes.push(format!(
                        "{object}: Driftless does not read {old}; rename it {new} in Git"
                    ));
                }
                let app = app_id(&adoption.namespace, &adoption.name);
                let key = ResourceKey::new(
                    &kind.resource.api_version,
                    &kind.resource.kind,
                    &namespace,
                    &name,
                );
                let tracking = driftless_sync::tracking_id(&app, &key);
                let target = Target {
                    kind: &kind,
                    namespace: &namespace,
                    name: &name,
                    metadata: &metadata,
                };
                let moved_from = self
                    .take_over(&target, adoption, &tracking, &app, dry_run)
                    .await
                    .map_err(|e| ClusterError {
                        kind: e.kind,
                        message: format!("taking over {object}: {}", e.message),
                    })?;
                out.adopted.push(Adopted {
                    application: format!("{}/{}", adoption.namespace, adoption.name),
                    object,
                    moved_from,
                });
            }
        }
        out.adopted.sort_by(|a, b| a.object.cmp(&b.object));
        Ok(out)
    }

    /// The two writes of one object; the managers whose fields moved.
    async fn take_over(
        &self,
        target: &Target<'_>,
        adoption: &Adoption,
        tracking: &str,
        app: &str,
        dry_run: bool,
    ) -> Result<Vec<String>, ClusterError> {
        let Target {
            kind,
            namespace,
            name,
            metadata,
        } = *target;
        let api: Api<DynamicObject> = if kind.namespaced {
            Api::namespaced_with(self.client().clone(), namespace, &kind.resource)
        } else {
            Api::all_with(self.client().clone(), &kind.resource)
        };
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            dry_run,
            ..PatchParams::default()
        };
        let marks = adoption.marks_patch(metadata, tracking, app);
        let mut current = api
            .patch(name, &params, &Patch::Merge(&marks))
            .await
            .map_err(cluster_error)?;
        if dry_run {
            let metadata = serde_json::to_value(&current.metadata).map_err(invalid)?;
            return Ok(adoption
                .managers
                .iter()
                .filter(|m| written_by(&metadata, std::slice::from_ref(m)))
                .cloned()
                .collect());
        }
        for _ in 0..CONFLICT_RETRIES {
            let metadata = serde_json::to_value(&current.metadata).map_err(invalid)?;
            let moved_from: Vec<String> = adoption
                .managers
                .iter()
                .filter(|m| written_by(&metadata, std::slice::from_ref(m)))
                .cloned()
                .collect();
            let Some(entries) = moved_managed_fields(&metadata, &adoption.managers, FIELD_MANAGER)
            else {
                return Ok(Vec::new());
            };
            // The resource version makes this a compare-and-swap: fields written meanwhile are
            // never lost to an older list of managed fields.
            let patch = json!({"metadata": {
                "managedFields": entries,
                "resourceVersion": current.metadata.resource_version,
            }});
            match api.patch(name, &params, &Patch::Merge(&patch)).await {
                Ok(_) => return Ok(moved_from),
                Err(e) => {
                    let error = cluster_error(e);
                    if error.kind != ErrorKind::Conflict {
                        return Err(error);
                    }
                    current = api.get(name).await.map_err(cluster_error)?;
                }
            }
        }
        Err(ClusterError {
            kind: ErrorKind::Conflict,
            message: format!(
                "the object kept changing; {CONFLICT_RETRIES} attempts to move its managed fields failed"
            ),
        })
    }
}

/// Every object's metadata, a page at a time, so a kind with many objects is never one huge
/// response.
async fn list_all(
    api: &Api<DynamicObject>,
) -> Result<kube::core::ObjectList<kube::core::PartialObjectMeta<DynamicObject>>, kube::Error> {
    let mut params = ListParams::default().limit(PAGE);
    let mut all = api.list_metadata(&params).await?;
    while let Some(token) = all.metadata.continue_.clone().filter(|t| !t.is_empty()) {
        params = params.continue_token(&token);
        let next = api.list_metadata(&params).await?;
        all.items.extend(next.items);
        all.metadata = next.metadata;
    }
    Ok(all)
}

/// Objects per list page: small enough for the API server, large enough for few requests.
const PAGE: u32 = 500;

/// The object an adoption writes, as listed.
#[derive(Clone, Copy)]
struct Target<'a> {
    kind: &'a Kind,
    namespace: &'a str,
    name: &'a str,
    /// Its metadata (labels, annotations, managed fields) when listed.
    metadata: &'a Value,
}

fn invalid(e: serde_json::Error) -> ClusterError {
    ClusterError {
        kind: ErrorKind::Invalid,
        message: e.to_string(),
    }
}
