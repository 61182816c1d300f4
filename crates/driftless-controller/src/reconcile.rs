//! One reconciliation of one Application, in four steps: [observe](crate::observe) (I/O:
//! gather what a decision needs), [decide](crate::decide) (pure: the guards), act (I/O: carry
//! the decision out; syncs go through [`crate::lifecycle`]), and report (the status computed by
//! [`crate::report`], written here and only here, with the metrics, and when to look again).

use std::sync::Arc;

use driftless_api::{Application, FINALIZER, SyncStatusCode};
use driftless_sync::{Cluster, Permit, Propagation};
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action as Requeue;
use kube::runtime::reflector::ObjectRef;
use serde_json::json;

use crate::Error;
use crate::context::Context;
use crate::decide::{Action, Decision, decide};
use crate::events::publish;
use crate::lifecycle::SyncInput;
use crate::observe::{Deletion, Observation, compare, observe};
use crate::report::Acted;
use crate::status::{clear_request, write};

/// Reconciles one Application and writes its status.
pub async fn reconcile(app: Arc<Application>, ctx: Arc<Context>) -> Result<Requeue, Error> {
    if ctx.waiting(&ObjectRef::from_obj(app.as_ref())) && app.metadata.deletion_timestamp.is_none()
    {
        return Ok(Requeue::requeue(crate::context::triage::DEFER_LIMIT));
    }
    let seen = observe(app, &ctx).await;
    if seen.deferred {
        // Woken when the changed Applications are done; the backstop if that never comes.
        return Ok(Requeue::requeue(crate::context::triage::DEFER_LIMIT));
    }
    let decision = decide(&seen);
    let acted = act(&ctx, &seen, &decision).await?;
    report(&ctx, &seen, &decision, &acted).await
}

/// Carries out `decision`.
async fn act(ctx: &Context, seen: &Observation, decision: &Decision) -> Result<Acted, Error> {
    for note in &decision.events {
        publish(ctx, &seen.app, note.clone());
    }
    match &decision.action {
        Action::Report => Ok(Acted::default()),
        Action::CleanUp(deletion) => {
            clean_up(ctx, seen, *deletion).await?;
            Ok(Acted::default())
        }
        Action::Sync(trigger) => {
            // The guards sync only what was rendered and compared.
            let (Ok(spec), Some(Ok(render)), Some(Ok(compared)), Some(Ok(target))) =
                (&seen.spec, &seen.source, &seen.compare, &seen.target)
            else {
                return Ok(Acted::default());
            };
            let input = SyncInput {
                seen,
                spec,
                render,
                compared,
                target,
            };
            let synced = crate::lifecycle::sync(ctx, &api(ctx, seen), input, trigger).await?;
            let after = compare(ctx, target, spec, render.manifests.clone()).await;
            Ok(Acted {
                synced: Some(synced),
                after: Some(after),
            })
        }
    }
}

/// Writes the status (the one place it is written, besides the Running record of a sync that
/// starts), records metrics, takes the request it answered, and says when to look again.
async fn report(
    ctx: &Context,
    seen: &Observation,
    decision: &Decision,
    acted: &Acted,
) -> Result<Requeue, Error> {
    let Some(status) = crate::report::status(seen, decision, acted) else {
        return Ok(Requeue::await_change());
    };
    let api = api(ctx, seen);
    let name = seen.me.name.as_str();
    let fetched = matches!(&seen.source, Some(Ok(render)) if render.fetched);
    let written = write(&api, name, &status, &seen.previous, fetched).await?;
    ctx.memory(&seen.me, |m| m.wrote(&status, written));
    for note in crate::events::transitions(&seen.previous, &status) {
        publish(ctx, &seen.app, note);
    }
    if decision.clear_request {
        clear_request(&api, name).await?;
    }
    let sync = match status.sync.as_ref().map(|s| s.status) {
        Some(SyncStatusCode::Synced) => "Synced",
        Some(SyncStatusCode::OutOfSync) => "OutOfSync",
        _ => "Unknown",
    };
    let health = status
        .health
        .as_ref()
        .map_or("Unknown", |h| h.status.as_str());
    ctx.metrics.set_app_status(
        seen.me.namespace.as_deref().unwrap_or_default(),
        name,
        sync,
        health,
    );

    let failed = crate::report::failed(decision, Some(&status));
    let interval = seen.spec.as_ref().map(|s| s.interval).unwrap_or_default();
    let (failures, next_poll) = ctx.memory(&seen.me, |m| {
        m.failures = if failed {
            m.failures.saturating_add(1)
        } else {
            0
        };
        (m.failures, m.next_poll(interval))
    });
    Ok(
        match crate::report::requeue(decision, Some(&status), failures, next_poll, seen.now) {
            Some(after) => Requeue::requeue(after),
            None => Requeue::await_change(),
        },
    )
}

fn api(ctx: &Context, seen: &Observation) -> Api<Application> {
    Api::namespaced(
        ctx.client.clone(),
        seen.me.namespace.as_deref().unwrap_or_default(),
    )
}

/// A deleted Application: its objects deleted first with the finalizer, then forgotten.
async fn clean_up(ctx: &Context, seen: &Observation, deletion: Deletion) -> Result<(), Error> {
    if deletion == Deletion::Cascade {
        let namespace = seen.me.namespace.as_deref().unwrap_or_default();
        // The project's rules bound the cascade as they bound prune; a spec that does not
        // validate (a project gone) leaves ownership alone to decide.
        let (permit, account) = seen
            .spec
            .as_ref()
            .map(|spec| (spec.permit.clone(), spec.service_account.clone()))
            .unwrap_or_default();
        let id = app_id(namespace, &seen.me.name);
        match &seen.target {
            Some(Ok(target)) => delete_managed(ctx, target, &id, &permit, account.as_ref()).await?,
            // Retried with backoff until the cluster answers.
            Some(Err(error)) => return Err(Error::Unreachable(error.clone())),
            None if is_local(&seen.app) => {
                delete_managed(ctx, &ctx.local, &id, &permit, account.as_ref()).await?;
            }
            // Its cluster is not known any more (its Secret gone): as Argo CD does for a
            // destination that is no longer valid, the finalizer goes without a cascade.
            None => {
                tracing::warn!(application = %id, "the destination cluster is not known; its objects are left in place")
            }
        }
        remove_finalizer(&api(ctx, seen), &seen.app).await?;
    }
    ctx.forget(&seen.me);
    Ok(())
}

/// Deletes every object the application owns and `permit` lets it delete (the finalizer's
/// cascade).
async fn delete_managed(
    ctx: &Context,
    target: &crate::clusters::Target,
    id: &str,
    permit: &Permit,
    account: Option<&(String, String)>,
) -> Result<(), Error> {
    // Deleted as the application's ServiceAccount, as its prunes are.
    let cluster = ctx.writer(target, account).map_err(Error::Spec)?;
    for (key, live) in cluster.list_owned(id).await? {
        if driftless_sync::owner(&live, id, &key) != driftless_sync::Owner::This {
            continue;
        }
        if let Err(rule) = permit.check(&key) {
            tracing::info!(object = %key, %rule, "not deleted with its application");
            continue;
        }
        cluster
            .delete(
                &key,
                driftless_sync::api_version(&live),
                Propagation::Background,
            )
            .await?;
    }
    Ok(())
}

async fn remove_finalizer(api: &Api<Application>, app: &Application) -> Result<(), Error> {
    let rest: Vec<&String> = app
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .collect();
    // The resource version makes this fail, rather than drop a finalizer added meanwhile.
    let patch = json!({ "metadata": {
        "finalizers": rest,
        "resourceVersion": app.resource_version(),
    }});
    api.patch(
        &app.name_any(),
        &PatchParams::default(),
        &Patch::Merge(patch),
    )
    .await?;
    Ok(())
}

/// Whether `app`'s destination is the cluster the controller runs in, as written.
fn is_local(app: &Application) -> bool {
    let d = &app.spec.destination;
    let server = d
        .server
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches('/');
    let name = d.name.as_deref().unwrap_or_default();
    (server.is_empty() || crate::local::LOCAL_SERVERS.contains(&server))
        && (name.is_empty() || name == crate::local::IN_CLUSTER_NAME)
}

/// The application's identity in tracking ids and labels: `<namespace>_<name>`, unique in the
/// cluster (two Applications of the same name in different namespaces must never prune each
/// other's objects), as Argo CD names applications outside its own namespace.
///
/// # Caveats
/// A label value holds at most 63 characters; longer identities are refused by the API server.
pub fn app_id(namespace: &str, name: &str) -> String {
    format!("{namespace}_{name}")
}

/// The Application an identity from [`app_id`] names.
pub(crate) fn app_ref(id: &str) -> Option<ObjectRef<Application>> {
    // Namespace names cannot contain `_`, so the first one separates.
    let (namespace, name) = id.split_once('_')?;
    Some(ObjectRef::new(name).within(namespace))
}

/// The Application's `ignoreDifferences` as comparison options for the field manager the
/// controller applies with (also what `driftless app diff` compares with).
pub fn diff_options(app: &Application) -> Result<driftless_diff::DiffOptions, Error> {
    crate::spec::diff_options(app).map_err(Error::Spec)
}
