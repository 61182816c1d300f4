//! One health rule per kind. Each module documents exactly what it reads and decides.

pub mod apiservice;
pub mod application;
pub mod crd;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod generic;
pub mod hpa;
pub mod ingress;
pub mod job;
pub mod namespace;
pub mod pod;
pub mod pvc;
pub mod replicaset;
pub mod service;
pub mod statefulset;
