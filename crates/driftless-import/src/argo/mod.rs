//! Argo CD's `Application`, `AppProject` and `ApplicationSet` (`argoproj.io/v1alpha1`), and
//! its repository Secrets.
//!
//! Driftless took Argo CD's field names where the concept is the same, so most fields carry
//! over as they are; these modules say which do not, field by field.

mod application;
mod project;
mod secret;

pub(crate) use application::application;
pub(crate) use project::{application_set, project};
pub(crate) use secret::{is_repository_secret, repository_secret};

/// Argo CD's API group.
pub(crate) const GROUP: &str = "argoproj.io";
/// The field managers Argo CD writes as: server-side apply, and client-side apply.
pub(crate) const MANAGERS: [&str; 2] = ["argocd-controller", "argocd-application-controller"];

/// `./deploy/` → `deploy`; `.` and `` → none (the repository root).
pub(crate) fn clean_path(path: &str) -> Option<String> {
    let trimmed = path.trim().trim_start_matches("./").trim_end_matches('/');
    match trimmed {
        "" | "." => None,
        other => Some(other.to_owned()),
    }
}
