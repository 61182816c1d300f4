//! What happened to an Application, as a notification carries it.

use std::collections::BTreeMap;

/// The events an Alert can select, named as the controller's Kubernetes Events are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A sync operation started.
    SyncStarted,
    /// A sync operation succeeded.
    SyncSucceeded,
    /// A sync operation failed (or failed and waits for its next retry).
    SyncFailed,
    /// The Application's health became Degraded.
    HealthDegraded,
    /// Self-heal reverted a change made in the cluster.
    DriftCorrected,
    /// The cluster started to differ from Git (and no automated sync corrects it).
    OutOfSync,
}

impl EventKind {
    /// Every kind, in the order docs/notifications.md lists them.
    pub const ALL: [Self; 6] = [
        Self::SyncStarted,
        Self::SyncSucceeded,
        Self::SyncFailed,
        Self::HealthDegraded,
        Self::DriftCorrected,
        Self::OutOfSync,
    ];

    /// The reason, as in the Kubernetes Event and an Alert's `eventReasons`.
    pub fn reason(self) -> &'static str {
        match self {
            Self::SyncStarted => "SyncStarted",
            Self::SyncSucceeded => "SyncSucceeded",
            Self::SyncFailed => "SyncFailed",
            Self::HealthDegraded => "HealthDegraded",
            Self::DriftCorrected => "DriftCorrected",
            Self::OutOfSync => "OutOfSync",
        }
    }

    /// The kind of a reason; `None` for an Event that is not a notification.
    pub fn from_reason(reason: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.reason() == reason)
    }

    /// How bad it is: failures and degradation are errors, the rest information.
    pub fn severity(self) -> Severity {
        match self {
            Self::SyncFailed | Self::HealthDegraded => Severity::Error,
            _ => Severity::Info,
        }
    }
}

/// An event's severity, as Flux's `eventSeverity` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Something happened.
    Info,
    /// Something went wrong.
    Error,
}

impl Severity {
    /// `info` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Error => "error",
        }
    }

    /// Parses `info` or `error`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "info" => Some(Self::Info),
            "error" => Some(Self::Error),
            _ => None,
        }
    }
}

/// One event of one Application, with what selection, templates and payloads need. Holds no
/// secret: what is here may appear in any message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The Application's namespace.
    pub namespace: String,
    /// The Application's name.
    pub name: String,
    /// The Application's labels.
    pub labels: BTreeMap<String, String>,
    /// The Application's project.
    pub project: String,
    /// The commit the event is about, when there is one.
    pub revision: Option<String>,
    /// The Application's `source.repoURL`.
    pub repo_url: String,
    /// One line for people (the Kubernetes Event's note).
    pub message: String,
    /// When it happened, RFC 3339.
    pub time: String,
}

impl Event {
    /// The event's severity.
    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }
}
