//! `driftless app list`: one line per Application.

use std::process::ExitCode;

use clap::Args;
use driftless_api::Application;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde_json::json;

use super::Apps;
use super::output::{Format, NONE, age_of, commit, or_none, print_object};
use super::summary::{health_word, sync_word};

/// List Applications.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Applications of every namespace.
    #[arg(short = 'A', long, env = "DRIFTLESS_ALL_NAMESPACES")]
    all_namespaces: bool,
    /// Output format [default: a table].
    #[arg(short = 'o', long, value_enum, env = "DRIFTLESS_OUTPUT")]
    output: Option<Format>,
}

/// Runs the command.
pub async fn run(apps: &Apps, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let api: Api<Application> = if args.all_namespaces {
        Api::all(apps.client.clone())
    } else {
        apps.api()
    };
    let where_ = if args.all_namespaces {
        "all namespaces".to_owned()
    } else {
        format!("namespace {}", apps.namespace)
    };
    let mut list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| anyhow::Error::new(e).context(format!("listing applications in {where_}")))?;
    list.items
        .sort_by_key(|app| (app.namespace().unwrap_or_default(), app.name_any()));
    match args.output {
        Some(format @ (Format::Yaml | Format::Json)) => {
            let items = list
                .items
                .iter()
                .map(with_type)
                .collect::<Result<Vec<_>, _>>()?;
            print_object(
                &json!({"apiVersion": "v1", "kind": "List", "items": items}),
                format,
            )?;
        }
        wide => {
            if list.items.is_empty() {
                eprintln!("no applications in {where_}");
            } else {
                let wide = wide == Some(Format::Wide);
                print!(
                    "{}",
                    table(&list.items, args.all_namespaces, wide, Timestamp::now())
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An item of a list as kubectl prints it: with its apiVersion and kind.
fn with_type(app: &Application) -> serde_json::Result<serde_json::Value> {
    let mut value = serde_json::to_value(app)?;
    if let Some(object) = value.as_object_mut() {
        object.insert("apiVersion".to_owned(), json!("driftless.dev/v1alpha1"));
        object.insert("kind".to_owned(), json!("Application"));
    }
    Ok(value)
}

/// The table: NAME, SYNC, HEALTH, REVISION, AGE (NAMESPACE first with `-A`; wide adds REPO, PATH,
/// TARGET, DESTINATION, LAST SYNC and full commits).
pub fn table(apps: &[Application], all_namespaces: bool, wide: bool, now: Timestamp) -> String {
    let mut header = vec!["NAME", "SYNC", "HEALTH", "REVISION", "AGE"];
    if wide {
        header.extend(["REPO", "PATH", "TARGET", "DESTINATION", "LAST SYNC"]);
    }
    if all_namespaces {
        header.insert(0, "NAMESPACE");
    }
    let mut rows = vec![header.into_iter().map(str::to_owned).collect::<Vec<_>>()];
    for app in apps {
        let status = app.status.clone().unwrap_or_default();
        let created = app
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string());
        let mut row = vec![
            app.name_any(),
            sync_word(&status),
            health_word(&status),
            commit(
                status.sync.as_ref().and_then(|s| s.revision.as_deref()),
                wide,
            ),
            age_of(created.as_deref(), now),
        ];
        if wide {
            let source = &app.spec.source;
            let last_sync = status.operation_state.as_ref().map_or_else(
                || NONE.to_owned(),
                |op| {
                    let when = op.finished_at.as_deref().unwrap_or(&op.started_at);
                    format!("{:?} {} ago", op.phase, age_of(Some(when), now))
                },
            );
            row.extend([
                source.repo_url.clone(),
                or_none(source.path.as_deref()),
                source
                    .target_revision
                    .clone()
                    .unwrap_or_else(|| "HEAD".to_owned()),
                app.destination_namespace(),
                last_sync,
            ]);
        }
        if all_namespaces {
            row.insert(0, app.namespace().unwrap_or_default());
        }
        rows.push(row);
    }
    crate::table::render_rows(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::summary::tests::fixture;

    #[test]
    fn the_table_names_sync_health_and_short_commit() {
        let now: Timestamp = "2025-01-01T12:00:00Z".parse().unwrap();
        let text = table(&[fixture()], false, false, now);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "NAME        SYNC        HEALTH     REVISION   AGE"
        );
        assert_eq!(
            lines[1],
            "guestbook   OutOfSync   Degraded   1111111    120m"
        );
    }

    #[test]
    fn wide_and_all_namespaces_add_columns() {
        let now: Timestamp = "2025-01-01T12:00:00Z".parse().unwrap();
        let text = table(&[fixture()], true, true, now);
        let header: Vec<&str> = text.lines().next().unwrap().split("   ").collect();
        assert_eq!(header.first().map(|h| h.trim()), Some("NAMESPACE"));
        assert!(text.contains("https://git.example/guestbook.git"), "{text}");
        assert!(text.contains("Failed 30m ago"), "{text}");
        assert!(
            text.contains("1111111111111111111111111111111111111111"),
            "{text}"
        );
        assert!(text.contains("apps "), "{text}");
    }
}
