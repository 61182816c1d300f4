//! Watches of Alerts and Providers in every namespace: they fill the Context's stores, and each
//! change is checked at once, its `Ready` condition naming what is wrong.

use std::sync::Arc;

use driftless_api::{Alert, Provider, reasons};
use driftless_notify::{Selector, Template};
use futures::StreamExt;
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};

use super::deliver::target;
use super::status::{Readiness, set_ready};
use crate::context::Context;

/// Keeps [`Context::providers`] filled and each Provider's `Ready` condition current; a change
/// of a Provider also checks the Alerts that name it.
pub(crate) async fn watch_providers(ctx: Arc<Context>, writer: reflector::store::Writer<Provider>) {
    let api: Api<Provider> = Api::all(ctx.client.clone());
    watcher::watcher(api, watcher::Config::default())
        .backoff(driftless_cluster::WatchBackoff::default())
        .reflect(writer)
        .for_each(|event| {
            let ctx = ctx.clone();
            async move {
                match event {
                    Ok(watcher::Event::Apply(provider) | watcher::Event::InitApply(provider)) => {
                        check_provider(&ctx, &provider).await;
                        check_alerts_of(&ctx, &provider).await;
                    }
                    Ok(watcher::Event::Delete(provider)) => check_alerts_of(&ctx, &provider).await,
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "watching notification Providers"),
                }
            }
        })
        .await;
}

/// Keeps [`Context::alerts`] filled and each Alert's `Ready` condition current.
pub(crate) async fn watch_alerts(ctx: Arc<Context>, writer: reflector::store::Writer<Alert>) {
    let api: Api<Alert> = Api::all(ctx.client.clone());
    watcher::watcher(api, watcher::Config::default())
        .backoff(driftless_cluster::WatchBackoff::default())
        .reflect(writer)
        .for_each(|event| {
            let ctx = ctx.clone();
            async move {
                match event {
                    Ok(watcher::Event::Apply(alert) | watcher::Event::InitApply(alert)) => {
                        // Judged against every Provider, not those listed so far.
                        if ctx.providers.wait_until_ready().await.is_ok() {
                            check_alert(&ctx, &alert).await;
                        }
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "watching notification Alerts"),
                }
            }
        })
        .await;
}

/// Sets a Provider's `Ready`: its spec and Secret read. A failed delivery stands until the
/// next delivery or a change of the spec, though the spec still reads.
pub(crate) async fn check_provider(ctx: &Context, provider: &Provider) {
    let readiness = if provider.spec.suspend {
        Readiness::not(reasons::SUSPENDED, "suspended: sends nothing".to_owned())
    } else {
        match target(ctx, provider).await {
            Ok(_) if delivery_failed(provider) => return,
            Ok(target) => Readiness::ok(format!("delivers to a {} endpoint", target.kind.as_str())),
            Err(readiness) => readiness,
        }
    };
    set_ready(ctx, provider, &readiness).await;
}

/// Whether the Provider's `Ready` says that a delivery failed, for its current generation.
fn delivery_failed(provider: &Provider) -> bool {
    provider.status.as_ref().is_some_and(|status| {
        status.observed_generation == provider.metadata.generation
            && status.conditions.iter().any(|c| {
                c.type_ == driftless_api::condition_types::READY
                    && c.reason == reasons::DELIVERY_FAILED
            })
    })
}

/// Checks the Alerts of `provider`'s namespace that name it.
async fn check_alerts_of(ctx: &Context, provider: &Provider) {
    let namespace = provider.namespace();
    let name = provider.name_any();
    for alert in ctx.alerts.state() {
        if alert.namespace() == namespace && alert.spec.provider_ref.name == name {
            check_alert(ctx, &alert).await;
        }
    }
}

/// What is wrong with `alert`, if anything.
pub(crate) fn alert_readiness(ctx: &Context, alert: &Alert) -> Readiness {
    let namespace = alert.namespace().unwrap_or_default();
    if alert.spec.suspend {
        return Readiness::not(reasons::SUSPENDED, "suspended: sends nothing".to_owned());
    }
    if let Err(error) = Selector::new(&alert.spec, &namespace, &ctx.namespace) {
        return Readiness::not(reasons::INVALID_SPEC, error.to_string());
    }
    if let Err(error) = Template::new(alert.spec.template.as_deref()) {
        return Readiness::not(reasons::INVALID_SPEC, error.to_string());
    }
    let provider = &alert.spec.provider_ref.name;
    let key = ObjectRef::<Provider>::new(provider).within(&namespace);
    if ctx.providers.get(&key).is_none() {
        return Readiness::not(
            reasons::PROVIDER_NOT_FOUND,
            format!("spec.providerRef: Provider {namespace}/{provider} not found"),
        );
    }
    Readiness::ok(format!("sends to Provider {provider}"))
}

async fn check_alert(ctx: &Context, alert: &Alert) {
    set_ready(ctx, alert, &alert_readiness(ctx, alert)).await;
}
