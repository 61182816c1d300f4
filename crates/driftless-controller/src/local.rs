//! The cluster the controller runs in: how destinations and projects name it.

/// Its address, as Argo CD spells it.
pub(crate) const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";

/// Its name, as Argo CD names it.
pub(crate) const IN_CLUSTER_NAME: &str = "in-cluster";

/// The servers that name it (the address with and without the default port).
pub(crate) const LOCAL_SERVERS: [&str; 2] =
    [IN_CLUSTER_SERVER, "https://kubernetes.default.svc:443"];
