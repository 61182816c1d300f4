"""The tools under test: how each is declared, started, asked whether it is ready, and notified."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

from .plumbing import HERE, ROOT, Cluster, Procs, app_name, app_namespace, condition_status, conditions_true, free_port



def peer_dir(peer: str) -> Path:
    out = subprocess.run([str(HERE / "build"), "--print-dir", peer], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


def crd_files(directory: Path) -> str:
    return "\n---\n".join(p.read_text() for p in sorted(directory.glob("*.yaml")))


class Flux:
    """source-controller + kustomize-controller: one GitRepository, one Kustomization per app."""

    name = "flux"
    ns = "flux-system"
    # Flux has no self-heal: a Kustomization corrects drift when its interval elapses. 10m is the
    # interval of Flux's own examples; the Git poll is the same for every tool (GitRepository).
    kustomization_interval = "10m"
    notify = "reconcile.fluxcd.io/requestedAt on the GitRepository (what `flux reconcile` does; no notification-controller Receiver built)"

    def version(self) -> str:
        return "source-controller, kustomize-controller " + versions()["FLUX_VERSION"]

    def setup(self, cluster: Cluster, repo: str, n: int, interval: int) -> None:
        cluster.apply(crd_files(peer_dir("flux") / "crds"))
        wait_crds(cluster, ["gitrepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io"])
        objs: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.ns}}]
        objs.append({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "workload", "namespace": self.ns},
            "spec": {"url": repo, "ref": {"branch": "main"}, "interval": f"{interval}s"},
        })
        for i in range(n):
            objs.append({
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": app_name(i), "namespace": self.ns},
                "spec": {
                    "sourceRef": {"kind": "GitRepository", "name": "workload"},
                    "path": f"./apps/{app_name(i)}", "interval": self.kustomization_interval,
                    "prune": True, "wait": True, "timeout": "5m",
                },
            })
        cluster.apply(objs)

    def start(self, procs: Procs, kubeconfig: Path, base: Path) -> None:
        bin_dir = peer_dir("flux") / "bin"
        env = {"KUBECONFIG": str(kubeconfig), "RUNTIME_NAMESPACE": self.ns}
        storage = free_port()
        (base / "flux-storage").mkdir()
        procs.start("source-controller", [
            str(bin_dir / "source-controller"), "--watch-all-namespaces", "--enable-leader-election=false",
            f"--storage-path={base / 'flux-storage'}", f"--storage-addr=127.0.0.1:{storage}",
            f"--storage-adv-addr=127.0.0.1:{storage}", f"--metrics-addr=127.0.0.1:{free_port()}",
            f"--health-addr=127.0.0.1:{free_port()}", "--events-addr=", "--log-level=error",
        ], env, base)
        procs.start("kustomize-controller", [
            str(bin_dir / "kustomize-controller"), "--watch-all-namespaces", "--enable-leader-election=false",
            f"--metrics-addr=127.0.0.1:{free_port()}", f"--health-addr=127.0.0.1:{free_port()}",
            "--events-addr=", "--log-level=error",
        ], env, base)

    def ready(self, cluster: Cluster, commit: str) -> int:
        # kustomize-controller sets lastAppliedRevision only once the apply, the prune and the
        # health checks (`wait: true`) have passed. Ready is Unknown while a Kustomization is
        # being reconciled again at its interval, which at N = 1,000 is always a few of them
        # (4 workers never idle), so only a Ready of False counts against it.
        items = cluster.list(f"/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/{self.ns}/kustomizations")
        return sum(
            1 for k in items
            if (k.get("status") or {}).get("lastAppliedRevision", "").endswith(commit)
            and condition_status(k, "Ready") != "False"
        )

    def trigger(self, cluster: Cluster, n: int) -> None:
        cluster.kubectl("annotate", "--overwrite", "-n", self.ns, "gitrepository/workload",
                        f"reconcile.fluxcd.io/requestedAt={time.time()}")


class ArgoCD:
    """application-controller + repo-server + Redis: one Application per app."""

    name = "argocd"
    ns = "argocd"
    notify = "argocd.argoproj.io/refresh=normal on every Application of the repository (what the webhook, in argocd-server, does)"

    def version(self) -> str:
        return "application-controller, repo-server " + versions()["ARGOCD_VERSION"] + " (+ " + redis_version() + ")"

    def setup(self, cluster: Cluster, repo: str, n: int, interval: int) -> None:
        cluster.apply(crd_files(peer_dir("argocd") / "crds"))
        wait_crds(cluster, ["applications.argoproj.io", "appprojects.argoproj.io"])
        part_of = {"app.kubernetes.io/part-of": "argocd"}
        objs: list[dict] = [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.ns}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "argocd-cm", "namespace": self.ns, "labels": part_of},
             "data": {"timeout.reconciliation": f"{interval}s"}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "argocd-rbac-cm", "namespace": self.ns, "labels": part_of}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "argocd-cmd-params-cm", "namespace": self.ns, "labels": part_of}},
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "argocd-secret", "namespace": self.ns, "labels": part_of},
             "stringData": {"server.secretkey": os.urandom(16).hex()}},
            {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "metadata": {"name": "default", "namespace": self.ns},
             "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}],
                      "clusterResourceWhitelist": [{"group": "*", "kind": "*"}]}},
        ]
        for i in range(n):
            objs.append({
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                "metadata": {"name": app_name(i), "namespace": self.ns},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": repo, "targetRevision": "main", "path": f"apps/{app_name(i)}"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": app_namespace(i)},
                    "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
                },
            })
        cluster.apply(objs)
        self.interval = interval

    def start(self, procs: Procs, kubeconfig: Path, base: Path) -> None:
        argocd = str(peer_dir("argocd") / "bin" / "argocd")
        redis, repo_port = free_port(), free_port()
        (base / "redis").mkdir()
        procs.start("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(redis), "--save", "",
                              "--appendonly", "no", "--dir", str(base / "redis")], {}, base)
        env = {"KUBECONFIG": str(kubeconfig), "ARGOCD_FAKE_IN_CLUSTER": "true", "ARGOCD_GPG_ENABLED": "false",
               "HOME": str(base), "ARGOCD_EXEC_TIMEOUT": "180s"}
        procs.start("argocd-repo-server", [
            argocd, "--disable-tls", "--address", "127.0.0.1", "--port", str(repo_port),
            "--metrics-address", "127.0.0.1", "--metrics-port", str(free_port()),
            "--redis", f"127.0.0.1:{redis}", "--loglevel", "warn",
        ], {**env, "ARGOCD_BINARY_NAME": "argocd-repo-server"}, base)
        procs.start("argocd-application-controller", [
            argocd, "--namespace", self.ns, "--repo-server", f"127.0.0.1:{repo_port}", "--repo-server-plaintext",
            "--redis", f"127.0.0.1:{redis}", "--metrics-port", str(free_port()), "--app-resync", str(self.interval),
            "--loglevel", "warn",
        ], {**env, "ARGOCD_BINARY_NAME": "argocd-application-controller"}, base)

    def ready(self, cluster: Cluster, commit: str) -> int:
        items = cluster.list(f"/apis/argoproj.io/v1alpha1/namespaces/{self.ns}/applications")
        return sum(
            1 for a in items
            if (a.get("status") or {}).get("sync", {}).get("status") == "Synced"
            and a["status"]["sync"].get("revision") == commit
            and a["status"].get("health", {}).get("status") == "Healthy"
        )

    def trigger(self, cluster: Cluster, n: int) -> None:
        cluster.kubectl("annotate", "--overwrite", "-n", self.ns, "applications.argoproj.io", "--all",
                        "argocd.argoproj.io/refresh=normal")


class Driftless:
    """`driftless controller`: one Application per app."""

    name = "driftless"
    ns = "driftless"
    notify = "its webhook: a signed GitHub push event to /api/webhook"
    secret = "peerbench-webhook-secret"

    def version(self) -> str:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return f"driftless controller at {sha} (release build)"

    def setup(self, cluster: Cluster, repo: str, n: int, interval: int) -> None:
        self.repo = repo
        cluster.apply((ROOT / "deploy" / "crd.yaml").read_text())
        wait_crds(cluster, ["applications.driftless.dev"])
        objs: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.ns}}]
        for i in range(n):
            objs.append({
                "apiVersion": "driftless.dev/v1alpha1", "kind": "Application",
                "metadata": {"name": app_name(i), "namespace": self.ns},
                "spec": {
                    "source": {"repoURL": repo, "targetRevision": "main", "path": f"apps/{app_name(i)}"},
                    "destination": {"namespace": app_namespace(i)},
                    "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
                    "interval": f"{interval}s",
                },
            })
        cluster.apply(objs)

    def start(self, procs: Procs, kubeconfig: Path, base: Path) -> None:
        binary = ROOT / "target" / "release" / "driftless"
        self.port = free_port()
        procs.start("driftless", [str(binary), "controller", "--cache-dir", str(base / "driftless-cache"),
                                  "--listen", f"127.0.0.1:{self.port}"],
                    {"KUBECONFIG": str(kubeconfig), "RUST_LOG": os.environ.get("DRIFTLESS_BENCH_RUST_LOG", "warn"),
                     "DRIFTLESS_WEBHOOK_SECRET": self.secret},
                    base)

    def ready(self, cluster: Cluster, commit: str) -> int:
        items = cluster.list(f"/apis/driftless.dev/v1alpha1/namespaces/{self.ns}/applications")
        return sum(
            1 for a in items
            if (a.get("status") or {}).get("sync", {}).get("status") == "Synced"
            and a["status"]["sync"].get("revision") == commit
            and a["status"].get("health", {}).get("status") == "Healthy"
        )

    def trigger(self, cluster: Cluster, n: int) -> None:
        body = json.dumps({"ref": "refs/heads/main", "repository": {"clone_url": self.repo}}).encode()
        signature = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/webhook", data=body, method="POST",
                                         headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": signature,
                                                  "Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).read()


LEGS = {"flux": Flux, "argocd": ArgoCD, "driftless": Driftless}


def versions() -> dict[str, str]:
    out = {}
    for line in (HERE / "versions.env").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            out[key.strip()] = value.split("#")[0].strip()
    return out


def redis_version() -> str:
    r = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    return r.stdout.split(" v=")[1].split()[0] if " v=" in r.stdout else "redis"


def wait_crds(cluster: Cluster, names: list[str]) -> None:
    """Waits (at most 60 s) until the apiserver serves every CRD in `names`."""
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    for _ in range(120):
        served = {c["metadata"]["name"] for c in cluster.list(path) if conditions_true(c, "Established")}
        if set(names) <= served:
            return
        time.sleep(0.5)
    raise RuntimeError(f"CRDs not established within 60 s: {', '.join(sorted(set(names) - served))}")
