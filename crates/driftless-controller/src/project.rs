//! A project's rules, compiled, and the checks made with them (pure): may an Application of
//! this namespace use the project, read this repository, deploy to this destination, and
//! create or delete this object. The matching follows Argo CD's AppProject: globs, `!` entries
//! that deny, an empty cluster-scoped whitelist that permits no cluster-scoped kind.

use driftless_api::{AppProjectSpec, ClusterResourceItem, GroupKind};
use driftless_cluster::Unowned;
use driftless_resource::ResourceKey;
use globset::{GlobBuilder, GlobMatcher};
use k8s_openapi::jiff::Timestamp;

#[cfg(test)]
use crate::local::{IN_CLUSTER_NAME, IN_CLUSTER_SERVER};
use crate::windows::{Blocked, Window, may_sync};

/// A glob, with the text it came from.
#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    /// Starts with `!`: denies what the rest matches.
    deny: bool,
    matcher: GlobMatcher,
}

impl Pattern {
    /// `text` as a glob; with `paths`, `*` stops at `/` (and `**` does not).
    fn new(text: &str, negatable: bool, paths: bool) -> Result<Self, String> {
        let (deny, body) = match text.strip_prefix('!') {
            Some(rest) if negatable => (true, rest),
            _ => (false, text),
        };
        let matcher = GlobBuilder::new(body)
            .literal_separator(paths)
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("{text:?} is not a glob: {}", e.kind()))?
            .compile_matcher();
        Ok(Self {
            text: text.to_owned(),
            deny,
            matcher,
        })
    }

    /// Whether the glob (without its `!`) matches. A lone `*` matches everything, `/` included
    /// (as in Argo CD).
    fn hits(&self, value: &str) -> bool {
        self.text == "*" || self.matcher.is_match(value)
    }

    /// Argo CD's match with negation: a deny entry "matches" what its glob does not.
    fn matches(&self, value: &str) -> bool {
        self.hits(value) != self.deny
    }
}

#[derive(Debug, Clone)]
struct Destination {
    server: Option<Pattern>,
    name: Option<Pattern>,
    namespace: Option<Pattern>,
}

#[derive(Debug, Clone)]
struct Kind {
    group: Pattern,
    kind: Pattern,
    name: Option<Pattern>,
}

impl Kind {
    fn new(field: &str, group: &str, kind: &str, name: Option<&str>) -> Result<Self, String> {
        let at = |e: String| format!("{field}: {e}");
        Ok(Self {
            group: Pattern::new(group, false, true).map_err(at)?,
            kind: Pattern::new(kind, false, true).map_err(at)?,
            name: name
                .map(|n| Pattern::new(n, false, false))
                .transpose()
                .map_err(at)?,
        })
    }

    fn covers(&self, key: &ResourceKey) -> bool {
        self.covers_parts(&key.group, &key.kind, &key.name)
    }

    fn covers_parts(&self, group: &str, kind: &str, name: &str) -> bool {
        self.group.hits(group)
            && self.kind.hits(kind)
            && self.name.as_ref().is_none_or(|n| n.hits(name))
    }

    fn describe(&self) -> String {
        let mut text = format!("{{group: {:?}, kind: {:?}", self.group.text, self.kind.text);
        if let Some(name) = &self.name {
            text.push_str(&format!(", name: {:?}", name.text));
        }
        text.push('}');
        text
    }
}

/// A project's rules, ready to check against.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// The project's name.
    pub name: String,
    /// The built-in default project (no AppProject of that name exists): everything is
    /// permitted.
    open: bool,
    source_repos: Vec<Pattern>,
    destinations: Vec<Destination>,
    cluster_allow: Vec<Kind>,
    cluster_deny: Vec<Kind>,
    namespace_allow: Option<Vec<Kind>>,
    namespace_deny: Vec<Kind>,
    source_namespaces: Vec<Pattern>,
    windows: Vec<Window>,
    service_accounts: Vec<(Option<Pattern>, Option<Pattern>, String)>,
    /// `orphanedResources` with `warn: true`: the objects never counted as orphans.
    orphans_ignored: Option<Vec<Kind>>,
}

/// Objects every namespace has that nobody declares (as in Argo CD).
const NEVER_ORPHANS: [(&str, &str, &str); 2] = [
    ("", "ConfigMap", "kube-root-ca.crt"),
    ("", "ServiceAccount", "default"),
];

impl Policy {
    /// Whether the project warns about orphaned resources (`orphanedResources.warn`).
    pub fn warns_orphans(&self) -> bool {
        self.orphans_ignored.is_some()
    }

    /// Of the `unowned` objects of a destination namespace, the orphans the project warns about:
    /// none when it does not warn, and never those `orphanedResources.ignore` names, Driftless's
    /// own objects (Applications), nor the namespace's own `kube-root-ca.crt` ConfigMap and
    /// `default` ServiceAccount.
    pub fn orphans<'a>(&self, unowned: &'a [Unowned]) -> Vec<&'a Unowned> {
        let Some(ignored) = &self.orphans_ignored else {
            return Vec::new();
        };
        unowned
            .iter()
            .filter(|o| o.group != driftless_api::GROUP)
            .filter(|o| {
                !NEVER_ORPHANS.contains(&(o.group.as_str(), o.kind.as_str(), o.name.as_str()))
            })
            .filter(|o| {
                !ignored
                    .iter()
                    .any(|k| k.covers_parts(&o.group, &o.kind, &o.name))
            })
            .collect()
    }

    /// The built-in default project: permits everything, as Driftless did before projects.
    pub fn open(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            open: true,
            source_repos: Vec::new(),
            destinations: Vec::new(),
            cluster_allow: Vec::new(),
            cluster_deny: Vec::new(),
            namespace_allow: None,
            namespace_deny: Vec::new(),
            source_namespaces: Vec::new(),
            windows: Vec::new(),
            service_accounts: Vec::new(),
            orphans_ignored: None,
        }
    }

    /// Compiles the spec of project `name`, or names the first field that does not compile.
    pub fn compile(name: &str, spec: &AppProjectSpec) -> Result<Self, String> {
        let patterns = |field: &str, list: &[String], negatable: bool, paths: bool| {
            list.iter()
                .enumerate()
                .map(|(i, text)| {
                    let text = if paths {
                        normalize_url(text)
                    } else {
                        text.clone()
                    };
                    Pattern::new(&text, negatable, paths).map_err(|e| format!("{field}[{i}]: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let destinations = spec
            .destinations
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let one = |part: &str, text: &Option<String>| {
                    text.as_deref()
                        .map(|t| Pattern::new(t, true, false))
                        .transpose()
                        .map_err(|e| format!("spec.destinations[{i}].{part}: {e}"))
                };
                Ok(Destination {
                    server: one("server", &d.server)?,
                    name: one("name", &d.name)?,
                    namespace: one("namespace", &d.namespace)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let cluster = |field: &str, list: &[ClusterResourceItem]| {
            list.iter()
                .enumerate()
                .map(|(i, k)| {
                    Kind::new(
                        &format!("{field}[{i}]"),
                        &k.group,
                        &k.kind,
                        k.name.as_deref(),
                    )
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let namespaced = |field: &str, list: &[GroupKind]| {
            list.iter()
                .enumerate()
                .map(|(i, k)| Kind::new(&format!("{field}[{i}]"), &k.group, &k.kind, None))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            name: name.to_owned(),
            open: false,
            source_repos: patterns("spec.sourceRepos", &spec.source_repos, true, true)?,
            destinations,
            cluster_allow: cluster(
                "spec.clusterResourceWhitelist",
                &spec.cluster_resource_whitelist,
            )?,
            cluster_deny: cluster(
                "spec.clusterResourceBlacklist",
                &spec.cluster_resource_blacklist,
            )?,
            namespace_allow: spec
                .namespace_resource_whitelist
                .as_deref()
                .map(|list| namespaced("spec.namespaceResourceWhitelist", list))
                .transpose()?,
            namespace_deny: namespaced(
                "spec.namespaceResourceBlacklist",
                &spec.namespace_resource_blacklist,
            )?,
            source_namespaces: patterns(
                "spec.sourceNamespaces",
                &spec.source_namespaces,
                false,
                false,
            )?,
            windows: spec
                .sync_windows
                .iter()
                .enumerate()
                .map(|(i, w)| Window::compile(i, w))
                .collect::<Result<Vec<_>, _>>()?,
            orphans_ignored: spec
                .orphaned_resources
                .as_ref()
                .filter(|o| o.warn == Some(true))
                .map(|o| {
                    o.ignore
                        .iter()
                        .enumerate()
                        .map(|(i, k)| {
                            Kind::new(
                                &format!("spec.orphanedResources.ignore[{i}]"),
                                k.group.as_deref().unwrap_or("*"),
                                k.kind.as_deref().unwrap_or("*"),
                                k.name.as_deref(),
                            )
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?,
            service_accounts: spec
                .destination_service_accounts
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let one = |part: &str, text: &Option<String>| {
                        text.as_deref()
                            .map(|t| Pattern::new(t, false, false))
                            .transpose()
                            .map_err(|e| {
                                format!("spec.destinationServiceAccounts[{i}].{part}: {e}")
                            })
                    };
                    if d.default_service_account.is_empty() {
                        return Err(format!(
                            "spec.destinationServiceAccounts[{i}].defaultServiceAccount: empty"
                        ));
                    }
                    Ok((
                        one("server", &d.server)?,
                        one("namespace", &d.namespace)?,
                        d.default_service_account.clone(),
                    ))
                })
                .collect::<Result<Vec<_>, String>>()?,
        })
    }

    /// The ServiceAccount (namespace, name) that writes for the destination `namespace`: the
    /// first `destinationServiceAccounts` entry whose server and namespace match; its
    /// `NAMESPACE:NAME`, or `NAME` in the destination namespace.
    pub fn service_account(&self, cluster: &str, namespace: &str) -> Option<(String, String)> {
        let (_, _, account) = self.service_accounts.iter().find(|(server, ns, _)| {
            server.as_ref().is_none_or(|p| p.matches(cluster))
                && ns.as_ref().is_none_or(|p| p.matches(namespace))
        })?;
        Some(match account.split_once(':') {
            Some((ns, name)) => (ns.to_owned(), name.to_owned()),
            None => (namespace.to_owned(), account.clone()),
        })
    }

    /// Whether the project's sync windows let the Application `name` deploying to `namespace`
    /// of the cluster `[server, name]` sync at `now` (`manual`: someone asked for it).
    pub fn may_sync(
        &self,
        name: &str,
        namespace: &str,
        cluster: [&str; 2],
        now: Timestamp,
        manual: bool,
    ) -> Result<(), Blocked> {
        may_sync(&self.windows, name, namespace, cluster, now, manual)
    }

    /// May an Application in `namespace` use the project? The controller's own namespace
    /// always may; others must match `sourceNamespaces`.
    pub fn app_namespace(&self, namespace: &str, controller: &str) -> Result<(), String> {
        if self.open
            || namespace == controller
            || self.source_namespaces.iter().any(|p| p.hits(namespace))
        {
            return Ok(());
        }
        Err(format!(
            "project {:?} does not permit Applications in namespace {namespace:?} (not in its sourceNamespaces)",
            self.name
        ))
    }

    /// May the project's Applications read `repo_url`? Some entry must match, and no `!` entry
    /// may match (Argo CD's rule: a `!` entry that does not match counts as a match).
    pub fn source(&self, repo_url: &str) -> Result<(), String> {
        if self.open {
            return Ok(());
        }
        let url = normalize_url(repo_url);
        let mut any = false;
        for pattern in &self.source_repos {
            if pattern.matches(&url) {
                any = true;
            } else if pattern.deny {
                return Err(format!(
                    "repository {repo_url:?} is denied by project {:?} (sourceRepos entry {:?})",
                    self.name, pattern.text
                ));
            }
        }
        if any {
            Ok(())
        } else {
            Err(format!(
                "repository {repo_url:?} is not permitted by project {:?} (it matches none of its sourceRepos)",
                self.name
            ))
        }
    }

    /// May the project's Applications deploy to `namespace` of the cluster the controller runs
    /// in?
    #[cfg(test)]
    pub fn destination(&self, namespace: &str) -> Result<(), String> {
        self.destination_on(IN_CLUSTER_SERVER, IN_CLUSTER_NAME, namespace)
    }

    /// May the project's Applications deploy to `namespace` of the cluster at `cluster_server`
    /// named `cluster_name` (Argo CD's destination rule, `!` entries included)?
    pub fn destination_on(
        &self,
        cluster_server: &str,
        cluster_name: &str,
        namespace: &str,
    ) -> Result<(), String> {
        if self.open {
            return Ok(());
        }
        let mut any = false;
        for (i, item) in self.destinations.iter().enumerate() {
            let matched = |p: &Option<Pattern>, value: &str| {
                !value.is_empty() && p.as_ref().is_some_and(|p| p.matches(value))
            };
            let denies = |p: &Option<Pattern>| p.as_ref().is_some_and(|p| p.deny);
            let name = matched(&item.name, cluster_name);
            let server = matched(&item.server, cluster_server);
            let in_namespace = match &item.namespace {
                Some(p) => p.matches(namespace),
                None => namespace.is_empty(),
            };
            let denied = (!name && denies(&item.name))
                || (!server && denies(&item.server) && in_namespace)
                || (!in_namespace && denies(&item.namespace) && server);
            if (server || name) && in_namespace {
                any = true;
            } else if denied {
                return Err(format!(
                    "destination namespace {namespace:?} is denied by project {:?} (destinations[{i}])",
                    self.name
                ));
            }
        }
        if any {
            Ok(())
        } else {
            Err(format!(
                "destination namespace {namespace:?} of {cluster_server} is not permitted by project {:?} (it matches none of its destinations)",
                self.name
            ))
        }
    }

    /// May the project's Applications create (and so delete) `key`? Its kind must be
    /// permitted at its scope, and a namespaced object's namespace must be a destination.
    #[cfg(test)]
    pub fn resource(&self, key: &ResourceKey) -> Result<(), String> {
        self.resource_on(IN_CLUSTER_SERVER, IN_CLUSTER_NAME, key)
    }

    /// May the project's Applications create (and so delete) `key` in the cluster at
    /// `cluster_server` named `cluster_name`? As [`Policy::resource`], on that cluster.
    pub fn resource_on(
        &self,
        cluster_server: &str,
        cluster_name: &str,
        key: &ResourceKey,
    ) -> Result<(), String> {
        if self.open {
            return Ok(());
        }
        let kind = if key.group.is_empty() {
            key.kind.clone()
        } else {
            format!("{}/{}", key.group, key.kind)
        };
        let denied_by = |list: &[Kind]| list.iter().find(|k| k.covers(key)).map(Kind::describe);
        if key.namespace.is_empty() {
            if !self.cluster_allow.iter().any(|k| k.covers(key)) {
                return Err(format!(
                    "cluster-scoped {kind} is not permitted by project {:?} (not in its clusterResourceWhitelist)",
                    self.name
                ));
            }
            if let Some(entry) = denied_by(&self.cluster_deny) {
                return Err(format!(
                    "cluster-scoped {kind} is denied by project {:?} (clusterResourceBlacklist entry {entry})",
                    self.name
                ));
            }
            return Ok(());
        }
        if let Some(allow) = &self.namespace_allow
            && !allow.iter().any(|k| k.covers(key))
        {
            return Err(format!(
                "{kind} is not permitted by project {:?} (not in its namespaceResourceWhitelist)",
                self.name
            ));
        }
        if let Some(entry) = denied_by(&self.namespace_deny) {
            return Err(format!(
                "{kind} is denied by project {:?} (namespaceResourceBlacklist entry {entry})",
                self.name
            ));
        }
        self.destination_on(cluster_server, cluster_name, &key.namespace)
    }
}

/// A repository URL as compared with `sourceRepos`: lower case, without a trailing `/` or
/// `.git` (Argo CD compares normalized URLs too).
fn normalize_url(url: &str) -> String {
    let url = url.trim().to_lowercase();
    let url = url.trim_end_matches('/');
    url.strip_suffix(".git").unwrap_or(url).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftless_api::ProjectDestination;

    fn key(group: &str, kind: &str, namespace: &str, name: &str) -> ResourceKey {
        ResourceKey {
            group: group.to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    fn compile(spec: serde_json::Value) -> Result<Policy, String> {
        let spec: AppProjectSpec = serde_json::from_value(spec).map_err(|e| e.to_string())?;
        Policy::compile("team-a", &spec)
    }

    fn team_a() -> Result<Policy, String> {
        compile(serde_json::json!({
            "sourceRepos": ["https://git.example/team-a/*"],
            "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "team-a-*"}],
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
            "namespaceResourceBlacklist": [{"group": "", "kind": "ResourceQuota"}],
            "sourceNamespaces": ["team-a-*"],
        }))
    }

    #[test]
    fn orphans_are_reported_only_with_warn_and_never_what_is_ignored() -> Result<(), String> {
        let unowned = |group: &str, kind: &str, name: &str| Unowned {
            group: group.into(),
            kind: kind.into(),
            name: name.into(),
        };
        let found = [
            unowned("", "ConfigMap", "kube-root-ca.crt"),
            unowned("", "ConfigMap", "stray"),
            unowned("", "ServiceAccount", "default"),
            unowned("", "ServiceAccount", "builder"),
            unowned("apps", "Deployment", "legacy-web"),
            unowned("example.com", "Widget", "w"),
            unowned("driftless.dev", "Application", "app"),
        ];
        let names = |p: &Policy| -> Vec<String> {
            p.orphans(&found).iter().map(|o| o.name.clone()).collect()
        };
        let silent = compile(serde_json::json!({"orphanedResources": {}}))?;
        assert!(!silent.warns_orphans());
        assert!(names(&silent).is_empty());
        assert!(!Policy::open("default").warns_orphans());
        let warns = compile(serde_json::json!({"orphanedResources": {"warn": true}}))?;
        assert!(warns.warns_orphans());
        assert_eq!(names(&warns), ["stray", "builder", "legacy-web", "w"]);
        let ignoring = compile(
            serde_json::json!({"orphanedResources": {"warn": true, "ignore": [
                {"kind": "ServiceAccount"},
                {"group": "apps", "kind": "Deployment", "name": "legacy-*"},
                {"group": "*.com"},
            ]}}),
        )?;
        assert_eq!(names(&ignoring), ["stray"]);
        let bad = compile(
            serde_json::json!({"orphanedResources": {"warn": true, "ignore": [{"name": "["}]}}),
        );
        assert!(
            matches!(&bad, Err(e) if e.starts_with("spec.orphanedResources.ignore[0]: ")),
            "{bad:?}"
        );
        Ok(())
    }

    #[test]
    fn sources_match_globs_per_path_segment() -> Result<(), String> {
        let p = team_a()?;
        assert!(p.source("https://git.example/team-a/web.git").is_ok());
        assert!(p.source("https://GIT.example/team-a/web/").is_ok());
        // `*` stops at `/`; `**` does not.
        assert!(p.source("https://git.example/team-a/web/deeper").is_err());
        assert!(p.source("https://git.example/team-b/web").is_err());
        let deep = compile(serde_json::json!({"sourceRepos": ["https://git.example/team-a/**"]}))?;
        assert!(deep.source("https://git.example/team-a/web/deeper").is_ok());
        let any = compile(serde_json::json!({"sourceRepos": ["*"]}))?;
        assert!(any.source("file:///srv/git/web").is_ok());
        Ok(())
    }

    #[test]
    fn a_deny_entry_that_matches_refuses_and_one_that_does_not_permits_as_in_argo_cd()
    -> Result<(), String> {
        let p = compile(serde_json::json!({
            "sourceRepos": ["https://git.example/*", "!https://git.example/secret*"],
        }))?;
        assert!(p.source("https://git.example/web").is_ok());
        let denied = p
            .source("https://git.example/secrets")
            .err()
            .unwrap_or_default();
        assert!(denied.contains("!https://git.example/secret*"), "{denied}");
        // Argo CD's rule: a `!` entry that does not match counts as a match.
        let lone = compile(serde_json::json!({"sourceRepos": ["!https://evil.example/*"]}))?;
        assert!(lone.source("https://git.example/anything").is_ok());
        assert!(lone.source("https://evil.example/x").is_err());
        Ok(())
    }

    #[test]
    fn destinations_and_kinds_are_judged_on_the_application_s_own_cluster() -> Result<(), String> {
        // #18: a project of the local cluster only keeps its Applications off other clusters.
        let (server, name) = ("https://prod-eu.example:6443", "prod-eu");
        let p = team_a()?;
        assert!(p.destination_on(server, name, "team-a-web").is_err());
        let configmap = ResourceKey::new("v1", "ConfigMap", "team-a-web", "c");
        assert!(p.resource_on(server, name, &configmap).is_err());
        let by_name =
            compile(serde_json::json!({"destinations": [{"name": "prod-*", "namespace": "*"}]}))?;
        assert!(by_name.destination_on(server, name, "web").is_ok());
        assert!(by_name.destination("web").is_err());
        let by_server =
            compile(serde_json::json!({"destinations": [{"server": server, "namespace": "*"}]}))?;
        assert!(by_server.destination_on(server, name, "web").is_ok());
        Ok(())
    }

    #[test]
    fn destinations_need_a_match_and_a_matching_deny_entry_refuses() -> Result<(), String> {
        let p = team_a()?;
        assert!(p.destination("team-a-web").is_ok());
        assert!(p.destination("team-b-web").is_err());
        let nowhere = Policy::compile("empty", &AppProjectSpec::default())?;
        assert!(nowhere.destination("default").is_err());
        let deny = compile(serde_json::json!({"destinations": [
            {"server": "*", "namespace": "*"},
            {"server": "https://kubernetes.default.svc", "namespace": "!kube-*"},
        ]}))?;
        assert!(deny.destination("web").is_ok());
        let denied = deny.destination("kube-system").err().unwrap_or_default();
        assert!(denied.contains("destinations[1]"), "{denied}");
        Ok(())
    }

    #[test]
    fn kinds_follow_the_lists_and_cluster_scoped_kinds_need_the_whitelist() -> Result<(), String> {
        let p = team_a()?;
        assert!(
            p.resource(&key("apps", "Deployment", "team-a-web", "web"))
                .is_ok()
        );
        assert!(p.resource(&key("", "Namespace", "", "team-a-web")).is_ok());
        let role = p
            .resource(&key(
                "rbac.authorization.k8s.io",
                "ClusterRole",
                "",
                "admin",
            ))
            .err()
            .unwrap_or_default();
        assert!(role.contains("clusterResourceWhitelist"), "{role}");
        let quota = p
            .resource(&key("", "ResourceQuota", "team-a-web", "q"))
            .err()
            .unwrap_or_default();
        assert!(quota.contains("namespaceResourceBlacklist"), "{quota}");
        let elsewhere = p
            .resource(&key("", "ConfigMap", "team-b-web", "c"))
            .err()
            .unwrap_or_default();
        assert!(elsewhere.contains("team-b-web"), "{elsewhere}");
        // An empty namespaced whitelist permits no namespaced kind; an absent one, every kind.
        let none = AppProjectSpec {
            namespace_resource_whitelist: Some(Vec::new()),
            destinations: vec![ProjectDestination {
                server: Some("*".to_owned()),
                name: None,
                namespace: Some("*".to_owned()),
            }],
            ..AppProjectSpec::default()
        };
        let none = Policy::compile("none", &none)?;
        assert!(none.resource(&key("", "ConfigMap", "x", "c")).is_err());
        // Cluster-scoped entries may name objects.
        let named = compile(serde_json::json!({"clusterResourceWhitelist": [
            {"group": "", "kind": "Namespace", "name": "team-a-*"}]}))?;
        assert!(
            named
                .resource(&key("", "Namespace", "", "team-a-web"))
                .is_ok()
        );
        assert!(
            named
                .resource(&key("", "Namespace", "", "kube-system"))
                .is_err()
        );
        Ok(())
    }

    #[test]
    fn application_namespaces_other_than_the_controllers_need_source_namespaces()
    -> Result<(), String> {
        let p = team_a()?;
        assert!(
            p.app_namespace("driftless-system", "driftless-system")
                .is_ok()
        );
        assert!(p.app_namespace("team-a-apps", "driftless-system").is_ok());
        assert!(p.app_namespace("team-b-apps", "driftless-system").is_err());
        Ok(())
    }

    #[test]
    fn destination_service_accounts_pick_the_first_match() -> Result<(), String> {
        let p = compile(serde_json::json!({"destinationServiceAccounts": [
            {"server": "https://kubernetes.default.svc", "namespace": "team-a-*", "defaultServiceAccount": "deployer"},
            {"namespace": "*", "defaultServiceAccount": "tenants:fallback"},
        ]}))?;
        assert_eq!(
            p.service_account(IN_CLUSTER_SERVER, "team-a-web"),
            Some(("team-a-web".to_owned(), "deployer".to_owned()))
        );
        assert_eq!(
            p.service_account(IN_CLUSTER_SERVER, "other"),
            Some(("tenants".to_owned(), "fallback".to_owned()))
        );
        assert_eq!(
            team_a()?.service_account(IN_CLUSTER_SERVER, "team-a-web"),
            None
        );
        Ok(())
    }

    #[test]
    fn the_built_in_default_permits_everything() {
        let p = Policy::open("default");
        assert!(p.source("https://anything.example/x").is_ok());
        assert!(p.destination("kube-system").is_ok());
        assert!(
            p.resource(&key("rbac.authorization.k8s.io", "ClusterRole", "", "x"))
                .is_ok()
        );
        assert!(p.app_namespace("anywhere", "driftless-system").is_ok());
    }

    #[test]
    fn a_bad_glob_names_its_field() {
        let spec = AppProjectSpec {
            source_repos: vec!["https://git.example/[".to_owned()],
            ..AppProjectSpec::default()
        };
        let error = Policy::compile("p", &spec).err().unwrap_or_default();
        assert!(error.starts_with("spec.sourceRepos[0]:"), "{error}");
    }
}
