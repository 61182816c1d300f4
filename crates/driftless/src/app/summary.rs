//! The human summaries: one Application (`app get`) and one sync operation (`app get`,
//! `app sync --wait`). Pure functions of the resource, so they are tested without a cluster.

use driftless_api::{Application, ApplicationStatus, OperationState};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use super::output::{NONE, age_of, commit, or_none};
use crate::table::render_rows;

/// The sync word of a status: `Synced`, `OutOfSync` or `Unknown` (also before the first status).
pub fn sync_word(status: &ApplicationStatus) -> String {
    status
        .sync
        .as_ref()
        .map_or_else(|| "Unknown".to_owned(), |s| format!("{:?}", s.status))
}

/// The health word of a status; `Unknown` before the first status.
pub fn health_word(status: &ApplicationStatus) -> String {
    status
        .health
        .as_ref()
        .map_or_else(|| "Unknown".to_owned(), |h| h.status.clone())
}

/// `app get`: source, destination, policy, state, conditions, resources and the last operation.
pub fn application(app: &Application, wide: bool, now: Timestamp) -> String {
    let name = app.name_any();
    let namespace = app.namespace().unwrap_or_default();
    let status = app.status.clone().unwrap_or_default();
    let source = &app.spec.source;
    let mut fields: Vec<(&str, String)> = vec![
        ("Name", format!("{namespace}/{name}")),
        ("Repository", source.repo_url.clone()),
        ("Path", or_none(source.path.as_deref())),
        (
            "Target",
            source
                .target_revision
                .clone()
                .unwrap_or_else(|| "HEAD".to_owned()),
        ),
        (
            "Destination",
            format!(
                "namespace {} on {}",
                app.destination_namespace(),
                app.spec
                    .destination
                    .server
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .unwrap_or("the cluster Driftless runs in")
            ),
        ),
        ("Policy", policy(app)),
    ];
    if app.spec.suspend {
        fields.push((
            "Suspended",
            format!("automated sync is off (resume: driftless app resume {name} -n {namespace})"),
        ));
    }
    let revision = status.sync.as_ref().and_then(|s| s.revision.as_deref());
    fields.push((
        "Sync",
        format!("{} at {}", sync_word(&status), commit(revision, wide)),
    ));
    let health = match status.health.as_ref().and_then(|h| h.message.as_deref()) {
        Some(message) if !message.is_empty() => {
            format!("{}: {}", health_word(&status), one_line(message))
        }
        _ => health_word(&status),
    };
    fields.push(("Health", health));
    fields.push((
        "Reconciled",
        match status.reconciled_at.as_deref() {
            Some(at) => format!("{at} ({} ago)", age_of(Some(at), now)),
            None => "never".to_owned(),
        },
    ));
    let mut text = aligned(&fields);

    if !status.conditions.is_empty() {
        text.push_str("\nCONDITIONS\n");
        let mut rows = vec![cells(&["TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"])];
        for c in &status.conditions {
            rows.push(vec![
                c.type_.clone(),
                format!("{:?}", c.status),
                c.reason.clone(),
                age_of(Some(&c.last_transition_time), now),
                one_line(&c.message),
            ]);
        }
        text.push_str(&render_rows(&rows));
    }

    if !status.resources.is_empty() {
        text.push_str("\nRESOURCES\n");
        let mut rows = vec![cells(&[
            "GROUP",
            "KIND",
            "NAMESPACE",
            "NAME",
            "STATUS",
            "HEALTH",
            "MESSAGE",
        ])];
        for r in &status.resources {
            rows.push(vec![
                or_none(Some(&r.group)),
                r.kind.clone(),
                or_none(Some(&r.namespace)),
                r.name.clone(),
                format!("{:?}", r.status),
                r.health
                    .as_ref()
                    .map_or_else(|| NONE.to_owned(), |h| h.status.clone()),
                one_line(r.message.as_deref().unwrap_or_default()),
            ]);
        }
        text.push_str(&render_rows(&rows));
    }

    if let Some(op) = &status.operation_state {
        text.push_str("\nLAST OPERATION\n");
        text.push_str(&operation(op, wide, now));
    }
    text
}

/// One sync operation: phase, message, revision, who, when, and the result per object.
pub fn operation(op: &OperationState, wide: bool, now: Timestamp) -> String {
    let mut fields = vec![
        ("Phase", format!("{:?}", op.phase)),
        ("Message", one_line(&op.message)),
        ("Revision", commit(op.revision.as_deref(), wide)),
        ("Initiated by", or_none(op.initiated_by.as_deref())),
        (
            "Started",
            format!(
                "{} ({} ago)",
                op.started_at,
                age_of(Some(&op.started_at), now)
            ),
        ),
    ];
    if let Some(finished) = &op.finished_at {
        fields.push((
            "Finished",
            format!("{finished} ({} ago)", age_of(Some(finished), now)),
        ));
    }
    if let Some(id) = &op.request_id {
        fields.push(("Request", id.clone()));
    }
    let mut text = aligned(&fields);
    if !op.results.is_empty() {
        let mut rows = vec![cells(&[
            "GROUP",
            "KIND",
            "NAMESPACE",
            "NAME",
            "ACTION",
            "RESULT",
            "MESSAGE",
        ])];
        for r in &op.results {
            rows.push(vec![
                or_none(Some(&r.group)),
                r.kind.clone(),
                or_none(Some(&r.namespace)),
                r.name.clone(),
                r.action.clone(),
                r.result.clone(),
                one_line(&r.message),
            ]);
        }
        text.push_str(&render_rows(&rows));
    }
    text
}

/// `automated (prune, self-heal)`, or `manual`, and the sync options.
fn policy(app: &Application) -> String {
    let Some(policy) = &app.spec.sync_policy else {
        return "manual".to_owned();
    };
    let mut text = match &policy.automated {
        Some(automated) => {
            let flags: Vec<&str> = [
                (automated.prune, "prune"),
                (automated.self_heal, "self-heal"),
                (automated.allow_empty, "allow-empty"),
            ]
            .into_iter()
            .filter_map(|(on, word)| on.then_some(word))
            .collect();
            if flags.is_empty() {
                "automated".to_owned()
            } else {
                format!("automated ({})", flags.join(", "))
            }
        }
        None => "manual".to_owned(),
    };
    if !policy.sync_options.is_empty() {
        text.push_str(&format!("; options {}", policy.sync_options.join(", ")));
    }
    if let Some(limit) = policy.retry.as_ref().and_then(|r| r.limit) {
        text.push_str(&format!("; retry {limit}"));
    }
    text
}

/// `Label:   value` lines, the values aligned.
fn aligned(fields: &[(&str, String)]) -> String {
    let width = fields
        .iter()
        .map(|(k, _)| k.len())
        .max()
        .unwrap_or_default()
        + 2;
    fields
        .iter()
        .map(|(key, value)| format!("{:width$}{value}\n", format!("{key}:")))
        .collect()
}

fn cells(titles: &[&str]) -> Vec<String> {
    titles.iter().map(|t| (*t).to_owned()).collect()
}

/// Messages from the cluster may hold newlines; a table cell must not.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An Application as the controller leaves it after a failed sync.
    pub(crate) fn fixture() -> Application {
        let yaml = r#"
apiVersion: driftless.dev/v1alpha1
kind: Application
metadata: {name: guestbook, namespace: apps, creationTimestamp: "2025-01-01T10:00:00Z"}
spec:
  source: {repoURL: "https://git.example/guestbook.git", targetRevision: main, path: deploy}
  destination: {namespace: guestbook}
  syncPolicy: {automated: {prune: true, selfHeal: true}, syncOptions: [CreateNamespace=true]}
  suspend: true
status:
  sync: {status: OutOfSync, revision: "1111111111111111111111111111111111111111"}
  health: {status: Degraded, message: "Deployment guestbook/web:\n  1 of 2 replicas unavailable"}
  reconciledAt: "2025-01-01T11:59:00Z"
  conditions:
  - {type: Ready, status: "False", reason: SyncFailed, message: "ConfigMap guestbook/settings: denied", lastTransitionTime: "2025-01-01T11:30:00Z"}
  resources:
  - {group: apps, kind: Deployment, namespace: guestbook, name: web, status: Synced, health: {status: Degraded}}
  - {kind: ConfigMap, namespace: guestbook, name: settings, status: OutOfSync, message: denied}
  operationState:
    phase: Failed
    message: "ConfigMap guestbook/settings: admission webhook denied the request"
    revision: "1111111111111111111111111111111111111111"
    initiatedBy: automated
    startedAt: "2025-01-01T11:29:00Z"
    finishedAt: "2025-01-01T11:30:00Z"
    requestId: "r-1"
    results:
    - {kind: ConfigMap, namespace: guestbook, name: settings, action: update, result: failed, message: "admission webhook denied the request"}
    - {group: apps, kind: Deployment, namespace: guestbook, name: web, action: update, result: synced}
  history:
  - {id: 1, revision: "0000000000000000000000000000000000000000", deployedAt: "2025-01-01T10:05:00Z", initiatedBy: automated}
  - {id: 2, revision: "2222222222222222222222222222222222222222", deployedAt: "2025-01-01T11:00:00Z", initiatedBy: "user:alice"}
"#;
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn the_summary_tells_state_conditions_resources_and_the_last_operation() {
        let now: Timestamp = "2025-01-01T12:00:00Z".parse().unwrap();
        let text = application(&fixture(), false, now);
        for expected in [
            "Name:        apps/guestbook\n",
            "Repository:  https://git.example/guestbook.git\n",
            "Destination: namespace guestbook on the cluster Driftless runs in\n",
            "Policy:      automated (prune, self-heal); options CreateNamespace=true\n",
            "Suspended:   automated sync is off (resume: driftless app resume guestbook -n apps)\n",
            "Sync:        OutOfSync at 1111111\n",
            "Health:      Degraded: Deployment guestbook/web: 1 of 2 replicas unavailable\n",
            "Reconciled:  2025-01-01T11:59:00Z (60s ago)\n",
            "Ready   False    SyncFailed   30m     ConfigMap guestbook/settings: denied\n",
            "apps     Deployment   guestbook   web        Synced      Degraded\n",
            "Phase:        Failed\n",
            "Initiated by: automated\n",
            "Request:      r-1\n",
            "<none>   ConfigMap    guestbook   settings   update   failed   admission webhook denied the request\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }

    #[test]
    fn an_application_without_status_reads_unknown() {
        let mut app = fixture();
        app.status = None;
        app.spec.sync_policy = None;
        let text = application(&app, false, Timestamp::UNIX_EPOCH);
        assert!(text.contains("Policy:      manual\n"), "{text}");
        assert!(text.contains("Sync:        Unknown at <none>\n"), "{text}");
        assert!(text.contains("Reconciled:  never\n"), "{text}");
        assert!(!text.contains("LAST OPERATION"), "{text}");
    }
}
