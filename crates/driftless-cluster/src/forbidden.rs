//! Kinds the API server refuses to list or watch with 403 Forbidden: RBAC narrowed to the kinds
//! an installation manages (docs/install.md, "Narrowing `driftless-manager`").

use std::collections::BTreeMap;

use kube::core::Status;
use kube::runtime::watcher;

/// A kind Driftless may not list or watch, with the API server's reason.
///
/// Objects of a forbidden kind are invisible: they are never in what an application owns, so they
/// are never pruned and never compared. An object of such a kind declared in Git is still
/// applied, and its sync fails with the API server's forbidden error.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ForbiddenKind {
    /// The API group (`""` for the core group).
    pub group: String,
    /// The kind, such as `Secret`.
    pub kind: String,
    /// The API server's message, naming the user, the verb and the resource.
    pub message: String,
}

/// Forbidden kinds by (group, kind) → the API server's message.
pub(crate) type Forbidden = BTreeMap<(String, String), String>;

/// The sorted list of forbidden kinds in `forbidden`.
pub(crate) fn to_list(forbidden: &Forbidden) -> Vec<ForbiddenKind> {
    forbidden
        .iter()
        .map(|((group, kind), message)| ForbiddenKind {
            group: group.clone(),
            kind: kind.clone(),
            message: message.clone(),
        })
        .collect()
}

/// The API server's message when `error` is a 403 Forbidden answer; `None` for anything else
/// (401 Unauthorized included: a client without valid credentials is not narrowed RBAC).
pub(crate) fn forbidden(error: &kube::Error) -> Option<String> {
    match error {
        kube::Error::Api(status) => status_forbidden(status),
        _ => None,
    }
}

/// [`forbidden`] for an error of a watch: its initial list, its start, or an error event.
pub(crate) fn watch_forbidden(error: &watcher::Error) -> Option<String> {
    match error {
        watcher::Error::InitialListFailed(error)
        | watcher::Error::WatchStartFailed(error)
        | watcher::Error::WatchFailed(error) => forbidden(error),
        watcher::Error::WatchError(status) => status_forbidden(status),
        watcher::Error::NoResourceVersion => None,
    }
}

fn status_forbidden(status: &Status) -> Option<String> {
    if status.code != 403 {
        return None;
    }
    Some(if status.message.is_empty() {
        format!("{} ({})", status.reason, status.code)
    } else {
        status.message.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, reason: &str, message: &str) -> Box<Status> {
        Status::failure(message, reason).with_code(code).boxed()
    }

    #[test]
    fn only_403_is_forbidden_and_its_message_is_kept() {
        let message = r#"secrets is forbidden: User "u" cannot list resource "secrets" in API group "" at the cluster scope"#;
        let refused = kube::Error::Api(status(403, "Forbidden", message));
        assert_eq!(forbidden(&refused).as_deref(), Some(message));
        let list =
            watcher::Error::InitialListFailed(kube::Error::Api(status(403, "Forbidden", message)));
        assert_eq!(watch_forbidden(&list).as_deref(), Some(message));
        let event = watcher::Error::WatchError(status(403, "Forbidden", ""));
        assert_eq!(watch_forbidden(&event).as_deref(), Some("Forbidden (403)"));

        let unauthorized = kube::Error::Api(status(401, "Unauthorized", "Unauthorized"));
        assert_eq!(forbidden(&unauthorized), None);
        let gone = watcher::Error::WatchError(status(410, "Expired", "too old"));
        assert_eq!(watch_forbidden(&gone), None);
        assert_eq!(watch_forbidden(&watcher::Error::NoResourceVersion), None);
    }

    #[test]
    fn the_list_is_sorted_by_group_then_kind() {
        let forbidden: Forbidden = [
            (("apps".into(), "DaemonSet".into()), "a".into()),
            ((String::new(), "Secret".into()), "b".into()),
            ((String::new(), "Pod".into()), "c".into()),
        ]
        .into_iter()
        .collect();
        let kinds: Vec<(String, String)> = to_list(&forbidden)
            .into_iter()
            .map(|k| (k.group, k.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (String::new(), "Pod".to_owned()),
                (String::new(), "Secret".to_owned()),
                ("apps".to_owned(), "DaemonSet".to_owned()),
            ]
        );
    }
}
