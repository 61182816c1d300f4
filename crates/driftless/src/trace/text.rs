//! The text form of a trace: one labelled line per fact, as `kubectl describe` reads.

use std::fmt::Write as _;

use super::{Location, Report, shown};

/// `file:start-end (how, field)`.
fn place(at: &Location) -> String {
    let mut out = at.file.clone();
    match (at.line, at.end_line) {
        (Some(start), Some(end)) if end > start => {
            let _ = write!(out, ":{start}-{end}");
        }
        (Some(start), _) => {
            let _ = write!(out, ":{start}");
        }
        _ => {}
    }
    match (at.how.as_str(), &at.kustomization_field) {
        ("declared", None) => {}
        (how, None) => {
            let _ = write!(out, " ({how})");
        }
        (how, Some(field)) => {
            let _ = write!(out, " ({how}, {field})");
        }
    }
    out
}

/// A JSON value on one line: strings bare, others as JSON.
fn value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The report as text.
pub fn render(report: &Report) -> String {
    let mut rows: Vec<(&str, String)> = Vec::new();
    let object = &report.object;
    rows.push((
        "Object",
        format!("{} {}", object.kind, shown(&object.namespace, &object.name)),
    ));
    let app = &report.application;
    rows.push((
        "Application",
        format!("{}/{} (cluster {})", app.namespace, app.name, app.cluster),
    ));
    let path = if report.source.path.is_empty() {
        String::new()
    } else {
        format!(", path {}", report.source.path)
    };
    rows.push((
        "Source",
        format!("{}{path} at {}", report.source.repo_url, report.revision),
    ));
    rows.push(("Declared in", place(&report.declared)));
    if let Some(field) = &report.field {
        rows.push((
            "Field",
            format!("{} = {}", field.path, value(&field.desired)),
        ));
        rows.push(("Set by", place(&field.set_by)));
    }
    let commit = &report.commit;
    let pr = commit
        .pull_request
        .map(|n| format!(" (pull request #{n})"))
        .unwrap_or_default();
    rows.push((
        "Commit",
        format!(
            "{} by {} <{}> at {}{pr}",
            commit.id, commit.author, commit.email, commit.date
        ),
    ));
    rows.push(("Message", commit.subject.clone()));
    rows.push((
        "Synced by",
        match &report.sync {
            Some(sync) => format!(
                "history entry {}{} at {}, initiated by {}",
                sync.id,
                if sync.or_earlier {
                    " (or an earlier one no longer kept)"
                } else {
                    ""
                },
                sync.deployed_at,
                sync.initiated_by.as_deref().unwrap_or("<unknown>")
            ),
            None => "no history entry deploys this commit".to_owned(),
        },
    ));
    if let Some(field) = &report.field {
        let live = field
            .live
            .as_ref()
            .map_or_else(|| "<absent>".to_owned(), value);
        let line = if !field.differs {
            format!("{live} (as Git declares)")
        } else if field.changed_by.is_empty() {
            format!("{live}, differs from Git")
        } else {
            let who: Vec<String> = field.changed_by.iter().map(super::live::describe).collect();
            format!("{live}, differs from Git: changed by {}", who.join(", "))
        };
        rows.push(("Live", line));
    }
    rows.push((
        "Field managers",
        super::live::names(&report.field_managers).unwrap_or_else(|| "<none>".to_owned()),
    ));
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0) + 2;
    let mut out = String::new();
    for (label, text) in rows {
        let _ = writeln!(out, "{:width$}{text}", format!("{label}:"));
    }
    out
}
