//! Validating an Application's spec into the values a reconciliation uses, or the first field
//! that is wrong. Nothing is defaulted silently: a value that is present must parse.

use std::time::Duration;

use std::sync::Arc;

use driftless_api::{AppProject, Application, DEFAULT_PROJECT};
use driftless_diff::{DiffOptions, IgnoreRule};
use driftless_sync::{Permit, RetryPolicy, SyncOptions};
use kube::ResourceExt;

use crate::duration::duration;
use crate::project::Policy;

/// The longest wait before a failed reconciliation is tried again: the polling interval, as
/// Flux's `retryInterval` defaults to `interval`. A failure's backoff grows to five minutes, and
/// without this bound failures made while the API server refuses requests would leave an
/// Application that polls every few seconds unseen for minutes after it recovered. An interval
/// that does not parse gives the default (the Application is then InvalidSpec anyway).
pub(crate) fn retry_bound(app: &Application) -> Duration {
    app.spec
        .interval
        .as_deref()
        .and_then(|text| duration(text).ok())
        .unwrap_or(DEFAULT_INTERVAL)
        .max(MIN_INTERVAL)
}

/// The default polling interval, as Argo CD's (which adds up to a minute of jitter).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(180);

/// The shortest polling interval accepted: shorter ones would poll Git in a hot loop.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The most characters of a label value, and so of a tracking id.
const MAX_LABEL_VALUE: usize = 63;

/// A spec that passed validation.
#[derive(Debug)]
pub(crate) struct ValidSpec {
    /// The identity of the application in tracking ids and labels.
    pub id: String,
    /// How often the source is polled.
    pub interval: Duration,
    /// The namespace for namespaced objects that name none.
    pub destination: String,
    /// Sync options from `syncPolicy.syncOptions`.
    pub options: SyncOptions,
    /// The comparison options from `ignoreDifferences`.
    pub diff: DiffOptions,
    /// How failed syncs are retried (`limit: None` is unlimited).
    pub retry: Retry,
    /// The objects the application's project lets it create and delete ([`with_project`]).
    pub permit: Permit,
    /// The application's project (its sync windows).
    pub project: Arc<Policy>,
    /// The ServiceAccount (namespace, name) its writes and dry runs are made as; `None`: the
    /// controller's own rights.
    pub service_account: Option<(String, String)>,
    /// How many history entries the status keeps (`spec.revisionHistoryLimit`).
    pub history_limit: usize,
    /// The cluster `spec.destination` names ([`crate::clusters::resolve`]; the local one until
    /// resolved).
    pub cluster: crate::clusters::ClusterRef,
}

/// `syncPolicy.retry`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retry {
    /// Retries after the first attempt; `None` retries without end (a negative limit, as in
    /// Argo CD).
    pub limit: Option<u32>,
    /// The delays between attempts.
    pub backoff: RetryPolicy,
}

impl Retry {
    /// The delay before retry number `retry` (1-based), or `None` when retries are used up.
    pub fn delay(&self, retry: u32) -> Option<Duration> {
        let limit = self.limit.unwrap_or(u32::MAX);
        RetryPolicy {
            limit,
            ..self.backoff
        }
        .delay(retry)
    }
}

/// Why a spec is invalid: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    /// The field, as a path in the Application (`spec.syncPolicy.retry.backoff.duration`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl From<crate::clusters::Unresolved> for SpecError {
    fn from(unresolved: crate::clusters::Unresolved) -> Self {
        Self {
            field: unresolved.field,
            message: unresolved.message,
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> SpecError {
    SpecError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// `spec.decryption`: the provider is `sops`, a `secretRef` names a Secret.
fn check_decryption(decryption: Option<&driftless_api::Decryption>) -> Result<(), SpecError> {
    let Some(decryption) = decryption else {
        return Ok(());
    };
    if decryption.provider != "sops" {
        return Err(invalid(
            "spec.decryption.provider",
            format!(
                "{:?} is not a decryption provider; the only one is \"sops\"",
                decryption.provider
            ),
        ));
    }
    if decryption
        .secret_ref
        .as_ref()
        .is_some_and(|r| r.name.is_empty())
    {
        return Err(invalid("spec.decryption.secretRef.name", "is empty"));
    }
    Ok(())
}

/// How many history entries are kept unless `spec.revisionHistoryLimit` says otherwise, as
/// Argo CD's default.
pub(crate) const HISTORY_LIMIT: usize = 10;

/// The most `spec.revisionHistoryLimit` may keep: the history lives in the status, which must
/// stay small (an entry is a few hundred bytes).
pub(crate) const MAX_HISTORY_LIMIT: usize = 100;

/// Validates `app`'s spec.
pub(crate) fn validate(app: &Application) -> Result<ValidSpec, SpecError> {
    let namespace = app.namespace().unwrap_or_default();
    let id = crate::app_id(&namespace, &app.name_any());
    if id.len() > MAX_LABEL_VALUE {
        return Err(invalid(
            "metadata.name",
            format!(
                "the tracking id {id:?} (namespace_name) has {} characters; a label value holds at most {MAX_LABEL_VALUE}",
                id.len()
            ),
        ));
    }
    let spec = &app.spec;
    let interval = match spec.interval.as_deref() {
        None => DEFAULT_INTERVAL,
        Some(text) => {
            let interval = duration(text).map_err(|m| invalid("spec.interval", m))?;
            if interval < MIN_INTERVAL {
                return Err(invalid(
                    "spec.interval",
                    format!("{text:?} is shorter than the minimum of 1s"),
                ));
            }
            interval
        }
    };
    check_decryption(spec.decryption.as_ref())?;
    let policy = spec.sync_policy.clone().unwrap_or_default();
    let options = SyncOptions::parse(&policy.sync_options)
        .map_err(|e| invalid("spec.syncPolicy.syncOptions", e.to_string()))?;
    let diff = diff_options(app).map_err(|e| invalid("spec.ignoreDifferences", e))?;
    let retry = retry(policy.retry.as_ref())?;
    let history_limit = match spec.revision_history_limit {
        None => HISTORY_LIMIT,
        Some(limit) => usize::try_from(limit)
            .ok()
            .filter(|limit| *limit <= MAX_HISTORY_LIMIT)
            .ok_or_else(|| {
                invalid(
                    "spec.revisionHistoryLimit",
                    format!("{limit} is not between 0 and {MAX_HISTORY_LIMIT}"),
                )
            })?,
    };
    Ok(ValidSpec {
        destination: app.destination_namespace(),
        id,
        interval,
        options,
        diff,
        retry,
        permit: Permit::all(),
        project: Arc::new(Policy::open(app.project())),
        service_account: None,
        history_limit,
        cluster: crate::clusters::ClusterRef::default(),
    })
}

/// Checks `spec` against the application's project (`project`: the AppProject of that name in
/// the controller's namespace `controller`, if there is one): the project must exist (the
/// default project permits everything when there is none), let Applications of this
/// namespace use it, and permit the source and destination; its rules then bound every
/// object.
///
/// The ServiceAccount to write as is `spec.serviceAccountName` (in the Application's
/// namespace), else the project's `destinationServiceAccounts`; with `impersonate_only`, an
/// Application with neither is invalid.
pub(crate) fn with_project(
    mut spec: ValidSpec,
    app: &Application,
    project: Option<&AppProject>,
    controller: &str,
    impersonate_only: bool,
) -> Result<ValidSpec, SpecError> {
    let name = app.project();
    let policy = match project {
        Some(project) => Policy::compile(name, &project.spec)
            .map_err(|e| invalid("spec.project", format!("AppProject {name:?}: {e}")))?,
        None if name == DEFAULT_PROJECT => Policy::open(name),
        None => {
            return Err(invalid(
                "spec.project",
                format!("AppProject {name:?} does not exist in namespace {controller:?}"),
            ));
        }
    };
    policy
        .app_namespace(&app.namespace().unwrap_or_default(), controller)
        .map_err(|m| invalid("spec.project", m))?;
    policy
        .source(&app.spec.source.repo_url)
        .map_err(|m| invalid("spec.source.repoURL", m))?;
    policy
        .destination_on(
            spec.cluster.server(),
            spec.cluster.name(),
            &spec.destination,
        )
        .map_err(|m| invalid("spec.destination", m))?;
    spec.service_account = match app.spec.service_account_name.as_deref() {
        Some("") => return Err(invalid("spec.serviceAccountName", "empty")),
        Some(name) => Some((app.namespace().unwrap_or_default(), name.to_owned())),
        None => policy.service_account(spec.cluster.server(), &spec.destination),
    };
    if impersonate_only && spec.service_account.is_none() {
        return Err(invalid(
            "spec.serviceAccountName",
            format!(
                "the controller applies nothing with its own rights: set spec.serviceAccountName, or destinationServiceAccounts in AppProject {name:?}"
            ),
        ));
    }
    let policy = Arc::new(policy);
    spec.project = policy.clone();
    let (server, cluster) = (
        spec.cluster.server().to_owned(),
        spec.cluster.name().to_owned(),
    );
    spec.permit = Permit::new(move |key| policy.resource_on(&server, &cluster, key));
    Ok(spec)
}

/// `ignoreDifferences` as comparison options for the controller's field manager.
pub(crate) fn diff_options(app: &Application) -> Result<DiffOptions, String> {
    let rules = app
        .spec
        .ignore_differences
        .iter()
        .map(|rule| IgnoreRule {
            group: rule.group.clone(),
            kind: rule.kind.clone(),
            name: rule.name.clone(),
            namespace: rule.namespace.clone(),
            json_pointers: rule.json_pointers.clone(),
            jq_path_expressions: rule.jq_path_expressions.clone(),
            managed_fields_managers: rule.managed_fields_managers.clone(),
        })
        .collect();
    DiffOptions::new(driftless_diff::DEFAULT_MANAGER, rules).map_err(|e| e.to_string())
}

fn retry(retry: Option<&driftless_api::Retry>) -> Result<Retry, SpecError> {
    let defaults = RetryPolicy::default();
    let Some(retry) = retry else {
        return Ok(Retry {
            limit: Some(0),
            backoff: defaults,
        });
    };
    let limit = match retry.limit {
        None => Some(0),
        Some(n) if n < 0 => None,
        Some(n) => Some(
            u32::try_from(n)
                .map_err(|_| invalid("spec.syncPolicy.retry.limit", format!("{n} is too large")))?,
        ),
    };
    let backoff = retry.backoff.clone().unwrap_or_default();
    let field_duration = |field: &str, text: Option<&str>, default: Duration| match text {
        None => Ok(default),
        Some(text) => duration(text).map_err(|m| invalid(field, m)),
    };
    let duration = field_duration(
        "spec.syncPolicy.retry.backoff.duration",
        backoff.duration.as_deref(),
        defaults.duration,
    )?;
    let max_duration = field_duration(
        "spec.syncPolicy.retry.backoff.maxDuration",
        backoff.max_duration.as_deref(),
        defaults.max_duration,
    )?;
    let factor = match backoff.factor {
        None => defaults.factor,
        Some(f) => u32::try_from(f).ok().filter(|f| *f >= 1).ok_or_else(|| {
            invalid(
                "spec.syncPolicy.retry.backoff.factor",
                format!("{f} is not a whole number of at least 1"),
            )
        })?,
    };
    if duration.is_zero() {
        return Err(invalid(
            "spec.syncPolicy.retry.backoff.duration",
            "must be longer than 0s",
        ));
    }
    Ok(Retry {
        limit,
        backoff: RetryPolicy {
            limit: 0,
            duration,
            factor,
            max_duration: max_duration.max(duration),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(spec: serde_json::Value) -> Application {
        let mut base = serde_json::json!({
            "source": {"repoURL": "file:///r"},
            "destination": {"namespace": "web"},
        });
        if let (Some(base), Some(extra)) = (base.as_object_mut(), spec.as_object()) {
            for (k, v) in extra {
                base.insert(k.clone(), v.clone());
            }
        }
        let value = serde_json::json!({
            "apiVersion": "driftless.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "guestbook", "namespace": "apps"},
            "spec": base,
        });
        serde_json::from_value(value).unwrap_or_else(|e| panic!("test application: {e}"))
    }

    fn field_of(spec: serde_json::Value) -> Option<String> {
        validate(&app(spec)).err().map(|e| e.field)
    }

    #[test]
    fn decryption_names_its_provider_and_secret() {
        let field = |decryption| {
            validate(&app(serde_json::json!({"decryption": decryption})))
                .err()
                .map(|e| e.field)
        };
        assert_eq!(
            field(serde_json::json!({"provider": "sops", "secretRef": {"name": "k"}})),
            None
        );
        assert_eq!(field(serde_json::json!({"provider": "sops"})), None);
        assert_eq!(
            field(serde_json::json!({"provider": "vault"})).as_deref(),
            Some("spec.decryption.provider")
        );
        assert_eq!(
            field(serde_json::json!({"provider": "sops", "secretRef": {"name": ""}})).as_deref(),
            Some("spec.decryption.secretRef.name")
        );
    }

    #[test]
    fn failures_are_retried_within_the_polling_interval() {
        let bound = |spec| retry_bound(&app(spec));
        assert_eq!(
            bound(serde_json::json!({"interval": "5s"})),
            Duration::from_secs(5)
        );
        assert_eq!(bound(serde_json::json!({})), DEFAULT_INTERVAL);
        assert_eq!(
            bound(serde_json::json!({"interval": "soon"})),
            DEFAULT_INTERVAL
        );
        assert_eq!(
            bound(serde_json::json!({"interval": "100ms"})),
            MIN_INTERVAL
        );
        assert!(crate::report::backoff(9) > bound(serde_json::json!({"interval": "5s"})));
    }

    #[test]
    fn a_valid_spec_gets_its_values_and_defaults_only_when_absent() -> Result<(), SpecError> {
        let valid = validate(&app(serde_json::json!({"interval": "1m30s"})))?;
        assert_eq!(valid.interval, Duration::from_secs(90));
        assert_eq!(valid.id, "apps_guestbook");
        assert_eq!(valid.destination, "web");
        assert_eq!(valid.retry.limit, Some(0));
        let default = validate(&app(serde_json::json!({})))?;
        assert_eq!(default.interval, DEFAULT_INTERVAL);
        assert_eq!(default.history_limit, HISTORY_LIMIT);
        for limit in [0, 3, 100] {
            let kept = validate(&app(serde_json::json!({"revisionHistoryLimit": limit})))?;
            assert_eq!(kept.history_limit, limit as usize);
        }
        Ok(())
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (serde_json::json!({"interval": "soon"}), "spec.interval"),
            (serde_json::json!({"interval": "0s"}), "spec.interval"),
            (serde_json::json!({"interval": "500ms"}), "spec.interval"),
            (
                serde_json::json!({"syncPolicy": {"syncOptions": ["Bogus=true"]}}),
                "spec.syncPolicy.syncOptions",
            ),
            (
                serde_json::json!({"syncPolicy": {"retry": {"limit": 2, "backoff": {"duration": "5 seconds"}}}}),
                "spec.syncPolicy.retry.backoff.duration",
            ),
            (
                serde_json::json!({"syncPolicy": {"retry": {"backoff": {"maxDuration": "x"}}}}),
                "spec.syncPolicy.retry.backoff.maxDuration",
            ),
            (
                serde_json::json!({"syncPolicy": {"retry": {"backoff": {"factor": 0}}}}),
                "spec.syncPolicy.retry.backoff.factor",
            ),
            (
                serde_json::json!({"ignoreDifferences": [{"kind": "Deployment", "jqPathExpressions": ["..[["]}]}),
                "spec.ignoreDifferences",
            ),
            (
                serde_json::json!({"revisionHistoryLimit": -1}),
                "spec.revisionHistoryLimit",
            ),
            (
                serde_json::json!({"revisionHistoryLimit": 101}),
                "spec.revisionHistoryLimit",
            ),
        ];
        for (spec, field) in cases {
            assert_eq!(field_of(spec.clone()).as_deref(), Some(field), "{spec}");
        }
    }

    #[test]
    fn the_local_server_is_accepted_in_its_spellings() {
        for server in [
            "https://kubernetes.default.svc",
            "https://kubernetes.default.svc/",
            "https://kubernetes.default.svc:443",
            "",
        ] {
            let spec = serde_json::json!({"destination": {"server": server, "namespace": "web"}});
            assert_eq!(field_of(spec), None, "{server}");
        }
    }

    #[test]
    fn a_tracking_id_longer_than_a_label_value_is_refused() {
        let mut long = app(serde_json::json!({}));
        long.metadata.name = Some("x".repeat(60));
        let error = validate(&long).err();
        assert_eq!(error.map(|e| e.field).as_deref(), Some("metadata.name"));
    }

    #[test]
    fn a_negative_retry_limit_retries_without_end_and_delays_are_capped() -> Result<(), SpecError> {
        let spec = serde_json::json!({"syncPolicy": {"retry": {"limit": -1,
            "backoff": {"duration": "2s", "factor": 3, "maxDuration": "10s"}}}});
        let retry = validate(&app(spec))?.retry;
        assert_eq!(retry.limit, None);
        let delays: Vec<_> = (1..=4).filter_map(|n| retry.delay(n)).collect();
        assert_eq!(delays, [2, 6, 10, 10].map(Duration::from_secs));
        assert!(retry.delay(1000).is_some());
        let limited = validate(&app(
            serde_json::json!({"syncPolicy": {"retry": {"limit": 1}}}),
        ))?;
        assert!(limited.retry.delay(1).is_some());
        assert_eq!(limited.retry.delay(2), None);
        Ok(())
    }

    #[test]
    fn the_service_account_comes_from_the_application_then_the_project_and_can_be_required()
    -> Result<(), SpecError> {
        let plain = app(serde_json::json!({}));
        let spec = with_project(validate(&plain)?, &plain, None, "driftless-system", false)?;
        assert_eq!(spec.service_account, None);
        let required = with_project(validate(&plain)?, &plain, None, "driftless-system", true);
        assert_eq!(
            required.err().map(|e| e.field).as_deref(),
            Some("spec.serviceAccountName")
        );
        let own = app(serde_json::json!({"serviceAccountName": "deployer"}));
        let spec = with_project(validate(&own)?, &own, None, "driftless-system", true)?;
        assert_eq!(
            spec.service_account,
            Some(("apps".to_owned(), "deployer".to_owned()))
        );
        let project: AppProject = serde_json::from_value(serde_json::json!({
            "apiVersion": "driftless.dev/v1alpha1", "kind": "AppProject",
            "metadata": {"name": "default", "namespace": "driftless-system"},
            "spec": {"sourceRepos": ["*"], "sourceNamespaces": ["*"],
                "destinations": [{"server": "*", "namespace": "*"}],
                "destinationServiceAccounts": [{"namespace": "web", "defaultServiceAccount": "sync"}]},
        }))
        .map_err(|e| invalid("test", e.to_string()))?;
        let spec = with_project(
            validate(&plain)?,
            &plain,
            Some(&project),
            "driftless-system",
            true,
        )?;
        assert_eq!(
            spec.service_account,
            Some(("web".to_owned(), "sync".to_owned()))
        );
        Ok(())
    }
}
