//! The dispatcher: takes each event from the notifier's queue, finds the Alerts that select it,
//! renders their messages, drops duplicates and what is over a Provider's rate, and hands the
//! rest to the Provider's delivery task.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use driftless_api::{Alert, Provider};
use driftless_notify::{DEDUP_CAPACITY, DEDUP_WINDOW, Dedup, Event, EventKind, Selector, Template};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use tokio::sync::mpsc::{self, Receiver, Sender, error::TrySendError};

use super::deliver::{Job, deliver_all};
use super::status::warn;
use crate::context::Context;
use crate::metrics::Dropped;

/// Deliveries waiting for one Provider at most: a Provider that is down holds its queue while
/// it retries (a minute at most per delivery); a few hundred events cover that for a busy
/// controller, and beyond it new events are dropped, counted, rather than held in memory.
pub const PROVIDER_QUEUE: usize = 256;

/// Messages one Provider is sent per minute at most, in bursts of as many: a chat that hears
/// more than one a second hears noise, and forges limit their API (GitHub: 5,000 an hour).
pub const PER_MINUTE: u32 = 60;

/// What an event is, for deduplication: the same event (reason and message) of the same
/// Application at the same revision, through the same Alert.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    alert: ObjectRef<Alert>,
    kind: EventKind,
    namespace: String,
    name: String,
    revision: Option<String>,
    message: String,
}

/// Dispatches the events of `queue` until the controller stops.
pub(crate) async fn dispatch(ctx: Arc<Context>, mut queue: Receiver<Event>) {
    // Judged against every Alert and Provider, not those listed so far; events wait meanwhile.
    for (what, ready) in [
        ("Alerts", ctx.alerts.wait_until_ready().await),
        ("Providers", ctx.providers.wait_until_ready().await),
    ] {
        if let Err(error) = ready {
            tracing::error!(%error, "the watch of notification {what} ended; no notification is sent");
            return;
        }
    }
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(error = %error.without_url(), "no HTTP client; no notification is sent");
            return;
        }
    };
    let per_minute = NonZeroU32::new(PER_MINUTE).unwrap_or(NonZeroU32::MIN);
    let mut dispatcher = Dispatcher {
        ctx: ctx.clone(),
        client,
        dedup: Dedup::new(DEDUP_WINDOW, DEDUP_CAPACITY),
        limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        workers: HashMap::new(),
    };
    while let Some(event) = queue.recv().await {
        dispatcher.dispatch(&event).await;
    }
}

struct Dispatcher {
    ctx: Arc<Context>,
    client: reqwest::Client,
    dedup: Dedup<Key>,
    limiter: DefaultKeyedRateLimiter<ObjectRef<Provider>>,
    workers: HashMap<ObjectRef<Provider>, Sender<Job>>,
}

impl Dispatcher {
    async fn dispatch(&mut self, event: &Event) {
        for alert in self.ctx.alerts.state() {
            if let Some(job) = self.job(&alert, event).await {
                self.route(job);
            }
        }
    }

    /// What `alert` sends for `event`, if anything. An Alert that does not read sends nothing
    /// (its `Ready` condition says why).
    async fn job(&mut self, alert: &Arc<Alert>, event: &Event) -> Option<Job> {
        if alert.spec.suspend {
            return None;
        }
        let namespace = alert.namespace().unwrap_or_default();
        let selector = Selector::new(&alert.spec, &namespace, &self.ctx.namespace).ok()?;
        if !selector.selects(event) {
            return None;
        }
        let provider_ref =
            ObjectRef::<Provider>::new(&alert.spec.provider_ref.name).within(&namespace);
        let provider = self.ctx.providers.get(&provider_ref)?;
        if provider.spec.suspend {
            return None;
        }
        let key = Key {
            alert: ObjectRef::from_obj(alert.as_ref()),
            kind: event.kind,
            namespace: event.namespace.clone(),
            name: event.name.clone(),
            revision: event.revision.clone(),
            message: event.message.clone(),
        };
        if !self.dedup.first(&key, Instant::now()) {
            self.ctx.metrics.notification_dropped(Dropped::Duplicate);
            return None;
        }
        if self.limiter.check_key(&provider_ref).is_err() {
            self.ctx.metrics.notification_dropped(Dropped::RateLimited);
            return None;
        }
        let metadata: BTreeMap<String, String> = alert.spec.event_metadata.clone();
        let template = Template::new(alert.spec.template.as_deref()).ok()?;
        let message = match template.render(event, &metadata) {
            Ok(message) => message,
            Err(error) => {
                // A field only some Applications have (a label): the default message still
                // tells what happened.
                warn(
                    &self.ctx,
                    alert.as_ref(),
                    "TemplateFailed",
                    format!(
                        "{error} for Application {}/{}; sent the default message instead",
                        event.namespace, event.name
                    ),
                )
                .await;
                Template::new(None).ok()?.render(event, &metadata).ok()?
            }
        };
        Some(Job {
            provider: provider_ref,
            alert: alert.name_any(),
            event: event.clone(),
            message,
            metadata,
        })
    }

    /// Hands `job` to its Provider's delivery task, started on first use.
    fn route(&mut self, job: Job) {
        let key = job.provider.clone();
        let sender = self
            .workers
            .entry(key.clone())
            .or_insert_with(|| start(&self.ctx, &self.client, key.clone()));
        let job = match sender.try_send(job) {
            Ok(()) => return,
            Err(TrySendError::Full(_)) => {
                self.ctx
                    .metrics
                    .notification_dropped(Dropped::ProviderQueueFull);
                return;
            }
            Err(TrySendError::Closed(job)) => job,
        };
        // The task ended (it never does but by a panic): start another.
        let sender = start(&self.ctx, &self.client, key.clone());
        if sender.try_send(job).is_err() {
            self.ctx
                .metrics
                .notification_dropped(Dropped::ProviderQueueFull);
        }
        self.workers.insert(key, sender);
    }
}

fn start(
    ctx: &Arc<Context>,
    client: &reqwest::Client,
    provider: ObjectRef<Provider>,
) -> Sender<Job> {
    let (sender, receiver) = mpsc::channel(PROVIDER_QUEUE);
    tokio::spawn(deliver_all(ctx.clone(), client.clone(), provider, receiver));
    sender
}
