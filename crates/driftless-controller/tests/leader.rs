//! Leader election against the real test control plane: one namespace, and one Lease, per test.
//!
//! Durations are short (a 4 s lease renewed every second) so the tests move quickly; the bounds
//! of `eventually` are generous because the machine may be busy. No test asserts wall time.

use std::time::Duration;

use anyhow::{Context as _, ensure};
use driftless_controller::{Leadership, LeaseConfig};
use driftless_testenv::with_namespace;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, PostParams};

/// Generous bound for a follower to notice a change; not a performance figure.
const SETTLE: Duration = Duration::from_secs(60);
/// How long a follower is watched to show that it keeps waiting: several renew periods.
const OBSERVE: Duration = Duration::from_secs(5);
const LEASE: &str = "driftless-test";

fn config(ns: &str, identity: &str) -> LeaseConfig {
    LeaseConfig {
        lease_duration: Duration::from_secs(4),
        renew_deadline: Duration::from_secs(3),
        renew_period: Duration::from_secs(1),
        retry_period: Duration::from_millis(250),
        ..LeaseConfig::new(ns, LEASE, identity)
    }
}

async fn lease(client: &Client, ns: &str) -> anyhow::Result<Lease> {
    Ok(Api::<Lease>::namespaced(client.clone(), ns)
        .get(LEASE)
        .await?)
}

fn holder(lease: &Lease) -> Option<&str> {
    lease.spec.as_ref()?.holder_identity.as_deref()
}

fn transitions(lease: &Lease) -> i32 {
    lease
        .spec
        .as_ref()
        .and_then(|s| s.lease_transitions)
        .unwrap_or(-1)
}

fn renewed_at(lease: &Lease) -> Option<Timestamp> {
    lease.spec.as_ref()?.renew_time.as_ref().map(|t| t.0)
}

#[tokio::test]
async fn one_of_two_candidates_leads_and_the_other_waits_while_it_renews() -> anyhow::Result<()> {
    with_namespace("leader-two", |client, ns| async move {
        let mut a = tokio::spawn(Leadership::acquire(client.clone(), config(&ns, "a")));
        let mut b = tokio::spawn(Leadership::acquire(client.clone(), config(&ns, "b")));
        let (leader, follower) = tokio::select! {
            leader = &mut a => (leader??, b),
            leader = &mut b => (leader??, a),
        };
        let identity = leader.config().identity.clone();
        ensure!(leader.is_leader());
        let first = lease(&client, &ns).await?;
        ensure!(holder(&first) == Some(identity.as_str()), "{first:?}");
        ensure!(
            transitions(&first) == 0,
            "a new lease starts at 0: {first:?}"
        );

        // Several renew periods later the leader has renewed and still leads, and the follower
        // still waits.
        tokio::time::sleep(OBSERVE).await;
        ensure!(
            !follower.is_finished(),
            "the follower acquired a held lease"
        );
        ensure!(
            leader.is_leader(),
            "the leader lost a lease it kept renewing"
        );
        let later = lease(&client, &ns).await?;
        ensure!(holder(&later) == Some(identity.as_str()), "{later:?}");
        ensure!(
            renewed_at(&later) > renewed_at(&first),
            "the lease was not renewed: {first:?} then {later:?}"
        );
        ensure!(transitions(&later) == 0, "{later:?}");

        // Released: the follower takes over without waiting for expiry, one transition later.
        leader.release().await?;
        let successor = tokio::time::timeout(SETTLE, follower)
            .await
            .context("the follower did not acquire the released lease")???;
        ensure!(successor.is_leader());
        let handed_over = lease(&client, &ns).await?;
        let next = successor.config().identity.clone();
        ensure!(next != identity);
        ensure!(
            holder(&handed_over) == Some(next.as_str()),
            "{handed_over:?}"
        );
        ensure!(transitions(&handed_over) == 1, "{handed_over:?}");
        successor.release().await?;
        let free = lease(&client, &ns).await?;
        ensure!(
            holder(&free).is_none(),
            "released lease still held: {free:?}"
        );
        anyhow::Ok(())
    })
    .await?
}

/// A lease that cannot expire while a test waits: whoever takes it within [`SETTLE`] was handed it.
fn long_config(ns: &str, identity: &str) -> LeaseConfig {
    LeaseConfig {
        lease_duration: SETTLE * 2,
        renew_deadline: SETTLE,
        ..config(ns, identity)
    }
}

#[tokio::test]
async fn a_released_lease_is_taken_at_once_not_after_it_expires() -> anyhow::Result<()> {
    with_namespace("leader-release", |client, ns| async move {
        let leader = Leadership::acquire(client.clone(), long_config(&ns, "a")).await?;
        let follower = tokio::spawn(Leadership::acquire(client.clone(), long_config(&ns, "b")));
        tokio::time::sleep(OBSERVE).await;
        ensure!(
            !follower.is_finished(),
            "the follower acquired a held lease"
        );

        leader.release().await?;
        // Within SETTLE, half the lease duration: only the release can have let it in.
        let successor = tokio::time::timeout(SETTLE, follower)
            .await
            .context("the follower did not take the released lease before it expired")???;
        let taken = lease(&client, &ns).await?;
        ensure!(holder(&taken) == Some("b"), "{taken:?}");
        ensure!(transitions(&taken) == 1, "{taken:?}");
        successor.release().await?;
        anyhow::Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_leader_whose_lease_is_taken_over_notices() -> anyhow::Result<()> {
    with_namespace("leader-takeover", |client, ns| async move {
        let leader = Leadership::acquire(client.clone(), config(&ns, "a")).await?;
        ensure!(leader.is_leader());

        // Someone else writes themselves into the lease (an operator, or a replica with another
        // view of the world).
        let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
        let mut current = leases.get(LEASE).await?;
        let spec = current.spec.get_or_insert_with(Default::default);
        spec.holder_identity = Some("intruder".to_owned());
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        leases
            .replace(LEASE, &PostParams::default(), &current)
            .await?;

        tokio::time::timeout(SETTLE, leader.lost())
            .await
            .context("the leader did not notice the takeover")?;
        ensure!(!leader.is_leader());
        // It does not fight back, and releasing it leaves the new holder alone.
        leader.release().await?;
        let after = lease(&client, &ns).await?;
        ensure!(holder(&after) == Some("intruder"), "{after:?}");
        anyhow::Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_lease_nobody_renews_is_taken_once_it_has_expired() -> anyhow::Result<()> {
    with_namespace("leader-expired", |client, ns| async move {
        // A holder that has gone away without releasing: its record never changes again.
        let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
        let stale: Lease = serde_json::from_value(serde_json::json!({
            "metadata": {"name": LEASE},
            "spec": {
                "holderIdentity": "gone",
                "leaseDurationSeconds": 2,
                "leaseTransitions": 4,
                "acquireTime": "2020-01-01T00:00:00.000000Z",
                "renewTime": "2020-01-01T00:00:00.000000Z",
            },
        }))?;
        leases.create(&PostParams::default(), &stale).await?;

        let leader = tokio::time::timeout(
            SETTLE,
            Leadership::acquire(client.clone(), config(&ns, "a")),
        )
        .await
        .context("the expired lease was not taken")??;
        ensure!(leader.is_leader());
        let taken = lease(&client, &ns).await?;
        ensure!(holder(&taken) == Some("a"), "{taken:?}");
        ensure!(transitions(&taken) == 5, "{taken:?}");
        ensure!(
            taken.spec.as_ref().and_then(|s| s.lease_duration_seconds) == Some(4),
            "{taken:?}"
        );
        leader.release().await?;
        anyhow::Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_missing_namespace_is_an_error_naming_the_lease() -> anyhow::Result<()> {
    let client = driftless_testenv::shared()?.client().await?;
    let outcome = tokio::time::timeout(
        SETTLE,
        Leadership::acquire(client, config("no-such-namespace", "a")),
    )
    .await
    .context("acquiring in a missing namespace did not fail")?;
    let message = match outcome {
        Ok(_) => anyhow::bail!("acquired a lease in a namespace that does not exist"),
        Err(error) => error.to_string(),
    };
    ensure!(
        message.contains("no-such-namespace/driftless-test"),
        "{message}"
    );
    Ok(())
}

#[tokio::test]
async fn a_watcher_sees_leadership_end_when_the_lease_is_deleted() -> anyhow::Result<()> {
    with_namespace("leader-watch", |client, ns| async move {
        let leader = Leadership::acquire(client.clone(), config(&ns, "a")).await?;
        let mut leading = leader.watch();
        ensure!(*leading.borrow_and_update());
        Api::<Lease>::namespaced(client.clone(), &ns)
            .delete(LEASE, &Default::default())
            .await?;
        // Deleting the lease ends leadership too: the leader does not quietly recreate it.
        // (A closed channel, the renewer gone, also means it ended.)
        let _ = tokio::time::timeout(SETTLE, leading.wait_for(|l| !*l))
            .await
            .context("the watcher did not see leadership end")?;
        leader.lost().await;
        ensure!(!leader.is_leader());
        anyhow::Ok(())
    })
    .await?
}
