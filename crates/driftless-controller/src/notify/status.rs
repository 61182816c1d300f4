//! The `Ready` condition of Providers and Alerts, and the Events about them.

use driftless_api::{
    Alert, Condition, ConditionStatus, NotificationStatus, Provider, condition_types,
};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::events::{Event, EventType};
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::context::Context;

/// A Provider or an Alert: both carry a [`NotificationStatus`].
pub(crate) trait Notification:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + std::fmt::Debug
    + k8s_openapi::serde::de::DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// Its status, if any.
    fn notification_status(&self) -> Option<&NotificationStatus>;
}

impl Notification for Provider {
    fn notification_status(&self) -> Option<&NotificationStatus> {
        self.status.as_ref()
    }
}

impl Notification for Alert {
    fn notification_status(&self) -> Option<&NotificationStatus> {
        self.status.as_ref()
    }
}

/// What the `Ready` condition should say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Readiness {
    /// True or False.
    pub ready: bool,
    /// One of [`driftless_api::reasons`].
    pub reason: &'static str,
    /// For people; never a secret.
    pub message: String,
}

impl Readiness {
    /// Ready, with `message`.
    pub fn ok(message: String) -> Self {
        Self {
            ready: true,
            reason: driftless_api::reasons::VALID,
            message,
        }
    }

    /// Not ready, for `reason`.
    pub fn not(reason: &'static str, message: String) -> Self {
        Self {
            ready: false,
            reason,
            message,
        }
    }
}

/// Whether `object`'s `Ready` already says `readiness` for its generation.
fn says(object: &impl Notification, readiness: &Readiness) -> bool {
    let status = if readiness.ready {
        ConditionStatus::True
    } else {
        ConditionStatus::False
    };
    object.notification_status().is_some_and(|s| {
        s.observed_generation == object.meta().generation
            && s.conditions.iter().any(|c| {
                c.type_ == condition_types::READY
                    && c.status == status
                    && c.reason == readiness.reason
                    && c.message == readiness.message
            })
    })
}

/// Sets `object`'s `Ready` condition to `readiness`, unless it says so already; a change to
/// not ready is also a Warning Event. Returns whether it wrote.
pub(crate) async fn set_ready<K: Notification>(
    ctx: &Context,
    object: &K,
    readiness: &Readiness,
) -> bool {
    if says(object, readiness) {
        return false;
    }
    let status = if readiness.ready {
        ConditionStatus::True
    } else {
        ConditionStatus::False
    };
    let previous = object.notification_status().and_then(|s| {
        s.conditions
            .iter()
            .find(|c| c.type_ == condition_types::READY)
    });
    let transition = match previous {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => Timestamp::now().to_string(),
    };
    let generation = object.meta().generation;
    let condition = Condition {
        type_: condition_types::READY.to_owned(),
        status,
        reason: readiness.reason.to_owned(),
        message: readiness.message.clone(),
        last_transition_time: transition,
        observed_generation: generation,
    };
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &object.namespace().unwrap_or_default());
    let patch = json!({"status": {"observedGeneration": generation, "conditions": [condition]}});
    if let Err(error) = api
        .patch_status(
            &object.name_any(),
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
    {
        tracing::warn!(%error, kind = K::kind(&()).as_ref(), name = %object.name_any(), "writing the Ready condition failed");
    }
    if !readiness.ready {
        warn(ctx, object, readiness.reason, readiness.message.clone()).await;
    }
    true
}

/// Publishes a Warning Event about `object`.
pub(crate) async fn warn(ctx: &Context, object: &impl Notification, reason: &str, note: String) {
    let event = Event {
        type_: EventType::Warning,
        reason: reason.to_owned(),
        note: Some(driftless_notify::cut(note, 1000)),
        action: "Notify".to_owned(),
        secondary: None,
    };
    if let Err(error) = ctx.recorder.publish(&event, &object.object_ref(&())).await {
        tracing::debug!(%error, "publishing an event failed");
    }
}
