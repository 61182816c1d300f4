//! Waiting for the controller to answer a sync request: `status.operationState.requestId`
//! becomes the request's id and the phase is final.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use driftless_api::{OperationPhase, SYNC_REQUEST_ANNOTATION, SyncRequest};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use super::Apps;
use crate::sync::parse_duration;

/// How often the Application is read while waiting: quick enough to feel immediate, one GET
/// per half second is nothing for an API server.
const POLL: Duration = Duration::from_millis(500);

/// Whether and how long to wait for the result.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Wait for the controller's result (the default).
    #[arg(long, overrides_with = "no_wait")]
    wait: bool,
    /// Return as soon as the request is written.
    #[arg(long, overrides_with = "wait", env = "DRIFTLESS_NO_WAIT")]
    no_wait: bool,
    /// How long to wait for the result, e.g. 90s, 5m.
    #[arg(long, default_value = "5m", value_parser = parse_duration, env = "DRIFTLESS_WAIT_TIMEOUT")]
    timeout: Duration,
}

impl WaitArgs {
    /// Waits when asked to (the default), else returns success at once.
    pub async fn wait(&self, apps: &Apps, name: &str, id: &str) -> anyhow::Result<ExitCode> {
        if self.no_wait {
            return Ok(ExitCode::SUCCESS);
        }
        wait_for(apps, name, id, self.timeout).await
    }
}

/// A fresh request id: the time in nanoseconds and a random suffix, so two requests made in the
/// same nanosecond (two terminals, a script) still differ.
pub fn new_id() -> String {
    use std::hash::BuildHasher;
    // RandomState is seeded from the OS's randomness: enough for uniqueness, no dependency.
    let random = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
    format!(
        "{}-{:08x}",
        Timestamp::now().as_nanosecond(),
        random & 0xffff_ffff
    )
}

/// Polls until the operation answering `id` is final, prints it, and exits 0 when it
/// succeeded, [`crate::exit::ERROR`] when it failed; an error (exit 2 as well) on timeout or when
/// another request replaced this one.
pub async fn wait_for(
    apps: &Apps,
    name: &str,
    id: &str,
    timeout: Duration,
) -> anyhow::Result<ExitCode> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last_message = None;
    loop {
        let app = apps.get(name).await?;
        let operation = app
            .status
            .as_ref()
            .and_then(|s| s.operation_state.as_ref())
            .filter(|op| op.request_id.as_deref() == Some(id));
        if let Some(op) = operation {
            match op.phase {
                OperationPhase::Succeeded | OperationPhase::Failed => {
                    print!("{}", super::summary::operation(op, false, Timestamp::now()));
                    return Ok(if op.phase == OperationPhase::Succeeded {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(crate::exit::ERROR)
                    });
                }
                OperationPhase::Running | OperationPhase::Retrying => {
                    if last_message.as_ref() != Some(&op.message) {
                        eprintln!("{:?}: {}", op.phase, op.message);
                        last_message = Some(op.message.clone());
                    }
                }
            }
        } else if let Some(other) = app
            .annotations()
            .get(SYNC_REQUEST_ANNOTATION)
            .and_then(|text| SyncRequest::parse(text).ok())
            .filter(|pending| pending.id != id)
        {
            anyhow::bail!(
                "application {}: sync request {id} was replaced by request {} before the \
                 controller took it",
                apps.display(name),
                other.id
            );
        }
        if tokio::time::Instant::now() + POLL > deadline {
            anyhow::bail!(
                "application {}: no result for sync request {id} within {}s; the controller may \
                 not be running",
                apps.display(name),
                timeout.as_secs()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_differ() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert!(
            a.split_once('-')
                .is_some_and(|(t, r)| t.parse::<i128>().is_ok() && r.len() == 8)
        );
    }
}
