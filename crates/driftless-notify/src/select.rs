//! Which events an Alert selects: by severity, reason, and source (Application name glob,
//! namespace, labels, project).

use driftless_api::{AlertSpec, EventSource};
use globset::{Glob, GlobMatcher};

use crate::event::{Event, EventKind, Severity};

/// The only kind of event source.
pub const APPLICATION_KIND: &str = "Application";

/// Why an Alert's spec cannot be used; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    /// `eventSeverity` is neither `info` nor `error`.
    #[error("spec.eventSeverity: {0:?} is not info or error")]
    Severity(String),
    /// An event source is not of kind Application.
    #[error("spec.eventSources[{index}].kind: {kind:?} is not Application")]
    Kind {
        /// Which source.
        index: usize,
        /// The kind it names.
        kind: String,
    },
    /// A name or project glob does not parse.
    #[error("spec.eventSources[{index}].{field}: {message}")]
    Glob {
        /// Which source.
        index: usize,
        /// `name` or `project`.
        field: &'static str,
        /// The parser's word.
        message: String,
    },
    /// A source names another namespace, and the Alert is not in the controller's.
    #[error(
        "spec.eventSources[{index}].namespace: {namespace:?} is not the Alert's; only Alerts in the controller's namespace may listen to other namespaces"
    )]
    Namespace {
        /// Which source.
        index: usize,
        /// The namespace it names.
        namespace: String,
    },
    /// No event source.
    #[error("spec.eventSources: empty, so the Alert selects nothing")]
    NoSources,
    /// An unknown reason.
    #[error(
        "spec.eventReasons: {0:?} is not one of SyncStarted, SyncSucceeded, SyncFailed, HealthDegraded, DriftCorrected, OutOfSync"
    )]
    Reason(String),
}

/// An Alert's selection, validated once and applied to many events.
#[derive(Debug, Clone)]
pub struct Selector {
    severity: Severity,
    reasons: Vec<EventKind>,
    sources: Vec<Source>,
}

#[derive(Debug, Clone)]
struct Source {
    namespace: String,
    name: GlobMatcher,
    labels: Vec<(String, String)>,
    project: Option<GlobMatcher>,
}

fn glob(text: &str, index: usize, field: &'static str) -> Result<GlobMatcher, AlertError> {
    // `*` matches any name: names hold no `/`, so the literal separator does not matter.
    Glob::new(text)
        .map(|g| g.compile_matcher())
        .map_err(|e| AlertError::Glob {
            index,
            field,
            message: e.kind().to_string(),
        })
}

impl Selector {
    /// Validates `spec` of an Alert in `namespace`; `controller_namespace` is the one whose
    /// Alerts may listen to every namespace.
    pub fn new(
        spec: &AlertSpec,
        namespace: &str,
        controller_namespace: &str,
    ) -> Result<Self, AlertError> {
        let severity = match spec.event_severity.as_deref() {
            None | Some("") => Severity::Info,
            Some(text) => Severity::parse(text).ok_or_else(|| AlertError::Severity(text.into()))?,
        };
        let reasons = spec
            .event_reasons
            .iter()
            .map(|r| EventKind::from_reason(r).ok_or_else(|| AlertError::Reason(r.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        if spec.event_sources.is_empty() {
            return Err(AlertError::NoSources);
        }
        let sources = spec
            .event_sources
            .iter()
            .enumerate()
            .map(|(index, source)| Self::source(index, source, namespace, controller_namespace))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            severity,
            reasons,
            sources,
        })
    }

    fn source(
        index: usize,
        source: &EventSource,
        namespace: &str,
        controller_namespace: &str,
    ) -> Result<Source, AlertError> {
        if source.kind != APPLICATION_KIND {
            return Err(AlertError::Kind {
                index,
                kind: source.kind.clone(),
            });
        }
        let wanted = source.namespace.as_deref().unwrap_or(namespace);
        if wanted != namespace && namespace != controller_namespace {
            return Err(AlertError::Namespace {
                index,
                namespace: wanted.to_owned(),
            });
        }
        Ok(Source {
            namespace: wanted.to_owned(),
            name: glob(&source.name, index, "name")?,
            labels: source
                .match_labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            project: source
                .project
                .as_deref()
                .map(|p| glob(p, index, "project"))
                .transpose()?,
        })
    }

    /// Whether the Alert sends `event`.
    pub fn selects(&self, event: &Event) -> bool {
        if self.severity == Severity::Error && event.severity() != Severity::Error {
            return false;
        }
        if !self.reasons.is_empty() && !self.reasons.contains(&event.kind) {
            return false;
        }
        self.sources.iter().any(|source| {
            source.namespace == event.namespace
                && source.name.is_match(&event.name)
                && source
                    .labels
                    .iter()
                    .all(|(k, v)| event.labels.get(k) == Some(v))
                && source
                    .project
                    .as_ref()
                    .is_none_or(|p| p.is_match(&event.project))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::event;
    use driftless_api::LocalObjectReference;
    use std::collections::BTreeMap;

    fn source(name: &str) -> EventSource {
        EventSource {
            kind: APPLICATION_KIND.into(),
            name: name.into(),
            ..EventSource::default()
        }
    }

    fn alert(sources: Vec<EventSource>) -> AlertSpec {
        AlertSpec {
            provider_ref: LocalObjectReference {
                name: "hook".into(),
            },
            event_sources: sources,
            ..AlertSpec::default()
        }
    }

    fn selector(spec: &AlertSpec) -> Selector {
        Selector::new(spec, "team-a", "driftless-system").unwrap()
    }

    #[test]
    fn names_match_exactly_or_by_glob_in_the_alerts_namespace() {
        let exact = selector(&alert(vec![source("web")]));
        assert!(exact.selects(&event(EventKind::SyncSucceeded, "team-a", "web")));
        assert!(!exact.selects(&event(EventKind::SyncSucceeded, "team-a", "web-2")));
        assert!(!exact.selects(&event(EventKind::SyncSucceeded, "team-b", "web")));
        let every = selector(&alert(vec![source("*")]));
        assert!(every.selects(&event(EventKind::SyncSucceeded, "team-a", "anything")));
        let prefix = selector(&alert(vec![source("web-*")]));
        assert!(prefix.selects(&event(EventKind::SyncStarted, "team-a", "web-2")));
        assert!(!prefix.selects(&event(EventKind::SyncStarted, "team-a", "api")));
    }

    #[test]
    fn labels_and_project_must_all_match() {
        let mut wanted = source("*");
        wanted.match_labels = BTreeMap::from([("tier".to_owned(), "prod".to_owned())]);
        wanted.project = Some("shop-*".into());
        let selector = selector(&alert(vec![wanted]));
        let mut hit = event(EventKind::SyncFailed, "team-a", "web");
        hit.labels.insert("tier".into(), "prod".into());
        hit.project = "shop-eu".into();
        assert!(selector.selects(&hit));
        let mut other_project = hit.clone();
        other_project.project = "default".into();
        assert!(!selector.selects(&other_project));
        let mut other_label = hit.clone();
        other_label.labels.insert("tier".into(), "dev".into());
        assert!(!selector.selects(&other_label));
        let mut no_label = hit;
        no_label.labels.clear();
        assert!(!selector.selects(&no_label));
    }

    #[test]
    fn error_severity_selects_failures_and_degradation_only() {
        let mut spec = alert(vec![source("*")]);
        spec.event_severity = Some("error".into());
        let selector = selector(&spec);
        let selected: Vec<EventKind> = EventKind::ALL
            .into_iter()
            .filter(|k| selector.selects(&event(*k, "team-a", "web")))
            .collect();
        assert_eq!(selected, [EventKind::SyncFailed, EventKind::HealthDegraded]);
    }

    #[test]
    fn reasons_narrow_the_events() {
        let mut spec = alert(vec![source("*")]);
        spec.event_reasons = vec!["DriftCorrected".into(), "OutOfSync".into()];
        let selector = selector(&spec);
        assert!(selector.selects(&event(EventKind::DriftCorrected, "team-a", "web")));
        assert!(selector.selects(&event(EventKind::OutOfSync, "team-a", "web")));
        assert!(!selector.selects(&event(EventKind::SyncStarted, "team-a", "web")));
    }

    #[test]
    fn only_the_controllers_namespace_listens_to_others() {
        let mut elsewhere = source("*");
        elsewhere.namespace = Some("team-b".into());
        let spec = alert(vec![elsewhere]);
        let refused = Selector::new(&spec, "team-a", "driftless-system").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "spec.eventSources[0].namespace: \"team-b\" is not the Alert's; only Alerts in the controller's namespace may listen to other namespaces"
        );
        let central = Selector::new(&spec, "driftless-system", "driftless-system").unwrap();
        assert!(central.selects(&event(EventKind::SyncStarted, "team-b", "web")));
        assert!(!central.selects(&event(EventKind::SyncStarted, "driftless-system", "web")));
    }

    #[test]
    fn bad_specs_name_the_field() {
        let mut spec = alert(vec![source("*")]);
        spec.event_severity = Some("warning".into());
        assert_eq!(
            Selector::new(&spec, "a", "b").unwrap_err().to_string(),
            "spec.eventSeverity: \"warning\" is not info or error"
        );
        let mut spec = alert(vec![source("*")]);
        spec.event_sources[0].kind = "Kustomization".into();
        assert_eq!(
            Selector::new(&spec, "a", "b").unwrap_err().to_string(),
            "spec.eventSources[0].kind: \"Kustomization\" is not Application"
        );
        let spec = alert(vec![source("web-[")]);
        assert!(
            Selector::new(&spec, "a", "b")
                .unwrap_err()
                .to_string()
                .starts_with("spec.eventSources[0].name: ")
        );
        let mut spec = alert(vec![source("*")]);
        spec.event_reasons = vec!["Synced".into()];
        assert!(matches!(
            Selector::new(&spec, "a", "b"),
            Err(AlertError::Reason(r)) if r == "Synced"
        ));
        assert_eq!(
            Selector::new(&alert(vec![]), "a", "b").unwrap_err(),
            AlertError::NoSources
        );
    }
}
