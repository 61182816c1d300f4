//! Notifications, the controller's side: events of Applications go into a bounded queue that
//! reconciliation never waits on ([`Notifier::notify`]); one task matches them against the
//! Alerts ([`dispatch`]), and one task per Provider delivers them in order, retrying with
//! backoff ([`deliver`]). Failures are Kubernetes Events and the `Ready` condition of the
//! Provider, and metrics. What to send is decided by the pure `driftless-notify` crate.
//!
//! Alerts and Providers are watched ([`watch`]) and their `Ready` condition says what is wrong
//! with them (a bad field, a missing Secret, a Provider that is not there).

mod deliver;
mod dispatch;
mod status;
mod watch;

use std::sync::Mutex;

use driftless_api::Application;
use driftless_notify::{Event, EventKind};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use tokio::sync::mpsc::{self, Receiver, Sender, error::TrySendError};

use crate::metrics::{Dropped, Metrics};

pub(crate) use dispatch::dispatch;
pub(crate) use watch::{watch_alerts, watch_providers};

/// How many events wait for the dispatcher at most. Events come a few per sync; a thousand
/// absorbs a burst of every Application syncing at once on a large controller, and a full queue
/// drops (counted) rather than hold a reconciliation.
pub const QUEUE: usize = 1024;

/// The notifier's end of the queue, held by the [`Context`](crate::Context).
#[derive(Debug)]
pub struct Notifier {
    sender: Sender<Event>,
    receiver: Mutex<Option<Receiver<Event>>>,
    metrics: Metrics,
}

impl Notifier {
    /// A notifier whose queue holds `capacity` events; drops are counted in `metrics`.
    pub(crate) fn new(capacity: usize, metrics: Metrics) -> Self {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        Self {
            sender,
            receiver: Mutex::new(Some(receiver)),
            metrics,
        }
    }

    /// Queues the event `reason` of `app` when it is a notification (else does nothing).
    ///
    /// # Guarantees
    /// Never waits: a full queue drops the event and counts it
    /// (`driftless_notification_dropped_total{reason="QueueFull"}`).
    pub(crate) fn notify(
        &self,
        app: &Application,
        reason: &str,
        message: &str,
        revision: Option<&str>,
    ) {
        let Some(kind) = EventKind::from_reason(reason) else {
            return;
        };
        let event = Event {
            kind,
            namespace: app.namespace().unwrap_or_default(),
            name: app.name_any(),
            labels: app.labels().clone(),
            project: app.project().to_owned(),
            revision: revision.map(str::to_owned),
            repo_url: app.spec.source.repo_url.clone(),
            message: message.to_owned(),
            time: Timestamp::now().to_string(),
        };
        match self.sender.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.metrics.notification_dropped(Dropped::QueueFull),
            // The dispatcher is gone only when the controller stops.
            Err(TrySendError::Closed(_)) => {}
        }
    }

    /// The dispatcher's end, taken once.
    pub(crate) fn take_receiver(&self) -> Option<Receiver<Event>> {
        self.receiver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::registry::Registry;

    #[test]
    fn a_full_queue_drops_and_counts_and_never_waits() {
        let mut registry = Registry::default();
        let metrics = Metrics::new(&mut registry);
        let notifier = Notifier::new(1, metrics);
        let mut app = crate::fixtures::application(serde_json::json!({"project": "shop"}));
        app.metadata.labels = Some([("tier".to_owned(), "prod".to_owned())].into());
        notifier.notify(&app, "SyncSucceeded", "synced to abc", Some("abc"));
        // Not a notification: not queued, not counted.
        notifier.notify(&app, "InvalidSyncRequest", "ignored", None);
        notifier.notify(&app, "SyncFailed", "failed", Some("abc"));

        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains("driftless_notification_dropped_total{reason=\"QueueFull\"} 1\n"),
            "{text}"
        );
        let mut queue = notifier.take_receiver().unwrap();
        let event = queue.try_recv().unwrap();
        assert_eq!(event.kind, EventKind::SyncSucceeded);
        assert_eq!(
            (event.namespace.as_str(), event.name.as_str()),
            ("apps", "guestbook")
        );
        assert_eq!(event.project, "shop");
        assert_eq!(event.labels.get("tier").map(String::as_str), Some("prod"));
        assert_eq!(event.revision.as_deref(), Some("abc"));
        assert_eq!(event.repo_url, "file:///r");
        assert!(queue.try_recv().is_err());
        assert!(notifier.take_receiver().is_none(), "taken once");
    }
}
