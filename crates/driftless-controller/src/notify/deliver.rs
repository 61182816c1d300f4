//! Delivery: one task per Provider sends its messages in order (a commit status's `pending`
//! never overtakes its `success`), each retried with exponential backoff; every failed attempt
//! is a Warning Event on the Provider and a metric, and a delivery that fails for good sets the
//! Provider's `Ready` to False.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use driftless_api::{Provider, reasons};
use driftless_notify::{
    Event, PayloadError, ProviderError, Request, Target, request as build_request, resolve,
};
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::reflector::ObjectRef;
use tokio::sync::mpsc::Receiver;

use super::status::{Readiness, set_ready, warn};
use crate::OpResult;
use crate::context::Context;
use crate::metrics::Dropped;

/// Attempts per delivery, the first included (Flux's notification-controller makes five too).
pub const ATTEMPTS: u32 = 5;

/// The wait after the first failed attempt; doubled after each further one.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The longest wait between attempts: with [`ATTEMPTS`], a delivery gives up after about 15 s
/// of waits, so one dead Provider holds its own queue, never long.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// One message for one Provider.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// The Provider.
    pub provider: ObjectRef<Provider>,
    /// The Alert that selected the event (in the Provider's namespace).
    pub alert: String,
    /// The event.
    pub event: Event,
    /// The rendered message.
    pub message: String,
    /// The Alert's `eventMetadata`.
    pub metadata: BTreeMap<String, String>,
}

/// Delivers the jobs of one Provider, in order, until the dispatcher goes.
pub(crate) async fn deliver_all(
    ctx: Arc<Context>,
    client: reqwest::Client,
    provider: ObjectRef<Provider>,
    mut jobs: Receiver<Job>,
) {
    while let Some(job) = jobs.recv().await {
        deliver(&ctx, &client, job).await;
    }
    tracing::debug!(provider = %provider, "delivery task ended");
}

/// The wait after `failures` failed attempts.
fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_BACKOFF
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF)
}

/// Where and how `provider` delivers: its spec and Secret checked (a missing Secret, a missing
/// key or a bad field is the Readiness that says so).
pub(crate) async fn target(ctx: &Context, provider: &Provider) -> Result<Target, Readiness> {
    let namespace = provider.namespace().unwrap_or_default();
    let data = match &provider.spec.secret_ref {
        None => None,
        Some(secret) => {
            let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
            match api.get_opt(&secret.name).await {
                Ok(Some(found)) => Some(
                    found
                        .data
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (k, v.0))
                        .collect::<BTreeMap<_, _>>(),
                ),
                Ok(None) => {
                    return Err(Readiness::not(
                        reasons::SECRET_NOT_FOUND,
                        format!(
                            "spec.secretRef: Secret {namespace}/{} not found",
                            secret.name
                        ),
                    ));
                }
                Err(error) => {
                    return Err(Readiness::not(
                        reasons::SECRET_NOT_FOUND,
                        format!(
                            "spec.secretRef: reading Secret {namespace}/{}: {error}",
                            secret.name
                        ),
                    ));
                }
            }
        }
    };
    resolve(&provider.spec, data.as_ref(), crate::parse_duration).map_err(|error| {
        let reason = match error {
            ProviderError::Missing(_) => reasons::SECRET_NOT_FOUND,
            _ => reasons::INVALID_SPEC,
        };
        Readiness::not(reason, error.to_string())
    })
}

/// Delivers one job: resolved against the Provider as it is now, then sent, retried.
async fn deliver(ctx: &Context, client: &reqwest::Client, job: Job) {
    // The Provider as it is now: changed or deleted since the event was dispatched.
    let Some(provider) = ctx.providers.get(&job.provider) else {
        return;
    };
    if provider.spec.suspend {
        return;
    }
    let target = match target(ctx, &provider).await {
        Ok(target) => target,
        Err(readiness) => {
            ctx.metrics.notification_dropped(Dropped::InvalidProvider);
            set_ready(ctx, provider.as_ref(), &readiness).await;
            return;
        }
    };
    let what = format!(
        "{} of Application {}/{} (Alert {})",
        job.event.kind.reason(),
        job.event.namespace,
        job.event.name,
        job.alert
    );
    let request = match build_request(&target, &job.event, &job.message, &job.metadata) {
        Ok(request) => request,
        Err(PayloadError::Forge(error)) => {
            // Not every event is about a commit: a commit status is posted when it is.
            tracing::debug!(provider = %job.provider, %error, "no commit status for {what}");
            return;
        }
    };
    let kind = target.kind.as_str();
    let namespace = job.provider.namespace.as_deref().unwrap_or_default();
    let name = job.provider.name.as_str();
    for attempt in 1..=ATTEMPTS {
        match send(client, &request, target.timeout).await {
            Ok(()) => {
                ctx.metrics
                    .notification_attempted(namespace, name, kind, OpResult::Success);
                let ready = Readiness::ok(format!("delivers to a {kind} endpoint"));
                set_ready(ctx, provider.as_ref(), &ready).await;
                return;
            }
            Err(why) => {
                ctx.metrics
                    .notification_attempted(namespace, name, kind, OpResult::Error);
                if attempt == ATTEMPTS {
                    ctx.metrics.notification_dropped(Dropped::Abandoned);
                    let message =
                        format!("delivering {what} failed {ATTEMPTS} times, last: {why}; dropped");
                    tracing::warn!(provider = %job.provider, "{message}");
                    set_ready(
                        ctx,
                        provider.as_ref(),
                        &Readiness::not(reasons::DELIVERY_FAILED, message),
                    )
                    .await;
                    return;
                }
                let wait = backoff(attempt);
                tracing::info!(provider = %job.provider, attempt, wait_s = wait.as_secs(), "delivering {what} failed: {why}; retrying");
                // The same words for every attempt of one delivery, so the API server keeps
                // them as one Event with a count rather than one Event per attempt.
                warn(
                    ctx,
                    provider.as_ref(),
                    reasons::DELIVERY_FAILED,
                    format!(
                        "delivering {what} failed: {why}; retrying, {ATTEMPTS} attempts at most"
                    ),
                )
                .await;
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Sends `request`; the error says what failed without the URL (a webhook URL can be a
/// credential) and without the response body.
async fn send(
    client: &reqwest::Client,
    request: &Request,
    timeout: Duration,
) -> Result<(), String> {
    let mut builder = client
        .post(&request.url)
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .body(request.body.clone());
    for (name, value) in &request.headers {
        builder = builder.header(*name, value);
    }
    let response = builder
        .send()
        .await
        .map_err(|error| describe(&error, timeout))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {status}"))
    }
}

fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {}s", timeout.as_secs());
    }
    let what = if error.is_connect() {
        "connecting failed"
    } else if error.is_builder() {
        "the request is malformed"
    } else {
        "sending failed"
    };
    // The innermost cause (connection refused, DNS, TLS) names no URL.
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    if std::ptr::addr_eq(cause, error) {
        what.to_owned()
    } else {
        format!("{what}: {cause}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_bound() {
        let waits: Vec<u64> = (1..=7).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
    }
}
