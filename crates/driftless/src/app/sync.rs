//! `driftless app sync NAME`: asks the controller for a sync through the
//! `driftless.dev/sync-request` annotation and, by default, waits for its result.

use std::process::ExitCode;

use clap::Args;
use driftless_api::{SYNC_REQUEST_ANNOTATION, SyncRequest};
use kube::ResourceExt;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use super::Apps;
use super::wait::{WaitArgs, new_id};

/// Request a sync.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The Application's name.
    name: String,
    /// Sync this branch, tag or commit instead of the target revision (once; the spec is
    /// unchanged).
    #[arg(long)]
    revision: Option<String>,
    /// Delete objects Git no longer declares, whatever the policy says.
    #[arg(long)]
    prune: bool,
    #[command(flatten)]
    wait: WaitArgs,
}

/// Runs the command.
pub async fn run(apps: &Apps, args: &SyncArgs) -> anyhow::Result<ExitCode> {
    let request = SyncRequest {
        id: new_id(),
        revision: args.revision.clone(),
        prune: args.prune,
        initiated_by: Some(initiator()),
    };
    request_sync(apps, &args.name, &request, None).await?;
    println!(
        "sync of application {} requested (request {})",
        apps.display(&args.name),
        request.id
    );
    args.wait.wait(apps, &args.name, &request.id).await
}

/// Writes the request annotation, and `spec` fields along in the same patch when given. The
/// Application must exist (a merge patch would otherwise fail less clearly); a pending request
/// of someone else is replaced, with a warning.
pub async fn request_sync(
    apps: &Apps,
    name: &str,
    request: &SyncRequest,
    spec: Option<serde_json::Value>,
) -> anyhow::Result<()> {
    let app = apps.get(name).await?;
    if let Some(pending) = app.annotations().get(SYNC_REQUEST_ANNOTATION) {
        eprintln!(
            "warning: replacing the pending sync request of application {}: {pending}",
            apps.display(name)
        );
    }
    let mut patch = json!({
        "metadata": {"annotations": {SYNC_REQUEST_ANNOTATION: request.to_annotation()}}
    });
    if let Some(spec) = spec {
        patch["spec"] = spec;
    }
    apps.api()
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| apps.error(name, e))?;
    Ok(())
}

/// `user:<login>` from `$USER`, as the history shows who synced; `user` when unknown.
fn initiator() -> String {
    std::env::var("USER")
        .ok()
        .filter(|user| {
            !user.is_empty()
                && user
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        })
        .map_or_else(|| "user".to_owned(), |user| format!("user:{user}"))
}
