"""Plumbing of the peer benchmark: the Git server, the workload, the cluster, the processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
ROOT = HERE.parent.parent
TOOLS = ("flux", "argocd", "driftless")
# Objects per application directory: the issue asks for 20 (ConfigMaps, Services, Deployments).
CONFIGMAPS, SERVICES, DEPLOYMENTS = 14, 4, 2
DRIFT_OBJECTS = 50
DRIFT_LIMIT = 300  # "not reverted within 5 minutes"
CHANGE_LIMIT = 900
POLL = 2.0  # seconds between two looks at the cluster: cheap enough not to skew API counts
TOOL_SA = "system:serviceaccount:kube-system:default"  # a name the apiserver's metrics keep


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- Git over smart HTTP (loopback)


def start_git_server(root: Path) -> tuple[subprocess.Popen, int]:
    """`scripts/git_http.py` (git http-backend behind a loopback HTTP server) serving `root`."""
    server = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "git_http.py"), str(root)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = server.stdout.readline() if server.stdout else ""
    if not line.strip().isdigit():
        server.kill()
        raise RuntimeError("scripts/git_http.py did not start")
    return server, int(line)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


# ---------------------------------------------------------------- the workload


def app_name(i: int) -> str:
    return f"app-{i:04d}"


def app_namespace(i: int) -> str:
    return f"bench-{i:04d}"


def app_manifests(i: int, revision: str) -> str:
    ns, app = app_namespace(i), app_name(i)
    docs = [
        f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: marker
  namespace: {ns}
  labels: {{bench.driftless.dev/marker: "true"}}
data:
  revision: "{revision}"
"""
    ]
    for c in range(1, CONFIGMAPS):
        docs.append(
            f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: config-{c}
  namespace: {ns}
data:
  key: "value {app} {c}"
"""
        )
    for s in range(SERVICES):
        docs.append(
            f"""apiVersion: v1
kind: Service
metadata:
  name: svc-{s}
  namespace: {ns}
spec:
  clusterIP: None
  selector: {{app: web-{s % DEPLOYMENTS}}}
  ports:
  - {{name: http, port: 80, targetPort: 8080}}
"""
        )
    for d in range(DEPLOYMENTS):
        docs.append(
            f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{d}
  namespace: {ns}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: web-{d}}}
  template:
    metadata:
      labels: {{app: web-{d}}}
    spec:
      nodeSelector: {{type: kwok}}
      tolerations:
      - {{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}}
      containers:
      - name: web
        image: registry.invalid/bench/web:1
        ports:
        - {{containerPort: 8080}}
"""
        )
    return "---\n".join(docs)


def write_workload(work: Path, n: int, revision_of) -> None:
    for i in range(n):
        d = work / "apps" / app_name(i)
        d.mkdir(parents=True, exist_ok=True)
        (d / "objects.yaml").write_text(app_manifests(i, revision_of(i)))


def make_repo(base: Path, n: int) -> tuple[Path, str]:
    """A bare repository `workload.git` with the first commit; returns (work tree, commit)."""
    bare = base / "git" / "workload.git"
    bare.parent.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    git(bare, "config", "http.receivepack", "false")
    work = base / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    write_workload(work, n, lambda _: "1")
    git(work, "add", "-A")
    git(work, "-c", "user.name=bench", "-c", "user.email=bench@127.0.0.1", "commit", "-qm", "apps")
    git(work, "push", "-q", str(bare), "main")
    return work, git(work, "rev-parse", "HEAD")


def touched(n: int) -> list[int]:
    """The 10 % of applications that the second commit changes (spread over the range)."""
    step = 10
    return list(range(0, n, step))


def second_commit(work: Path, bare: Path, n: int) -> str:
    changed = set(touched(n))
    for i in changed:
        (work / "apps" / app_name(i) / "objects.yaml").write_text(app_manifests(i, "2"))
    git(work, "-c", "user.name=bench", "-c", "user.email=bench@127.0.0.1", "commit", "-qam", "10 %")
    git(work, "push", "-q", str(bare), "main")
    return git(work, "rev-parse", "HEAD")


# ---------------------------------------------------------------- the cluster


class Cluster:
    """The admin's view of a test control plane: a few plain HTTPS calls and kubectl."""

    def __init__(self, kubeconfig: str, kubectl: str):
        self.kubeconfig, self.kubectl_bin = kubeconfig, kubectl
        cfg = json.loads(self.kubectl("config", "view", "--raw", "-o", "json"))
        cluster = cfg["clusters"][0]["cluster"]
        user = cfg["users"][0]["user"]
        self.server = cluster["server"]
        self.ssl = ssl.create_default_context()
        if "certificate-authority" in cluster:
            self.ssl.load_verify_locations(cafile=cluster["certificate-authority"])
        else:
            import base64

            self.ssl.load_verify_locations(
                cadata=base64.b64decode(cluster["certificate-authority-data"]).decode()
            )
        self.token = user["token"]

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        r = subprocess.run(
            [self.kubectl_bin, "--kubeconfig", self.kubeconfig, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and r.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args[:3])}: {r.stderr.strip()[:500]}")
        return r.stdout

    def apply(self, objects: list[dict] | str) -> None:
        text = objects if isinstance(objects, str) else json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=text)

    def get(self, path: str, accept: str = "application/json") -> bytes:
        req = urllib.request.Request(
            self.server + path, headers={"Authorization": f"Bearer {self.token}", "Accept": accept}
        )
        with urllib.request.urlopen(req, context=self.ssl, timeout=60) as r:
            return r.read()

    def list(self, path: str) -> list[dict]:
        return json.loads(self.get(path)).get("items", [])

    def metrics(self) -> tuple[float, float | None]:
        """(apiserver_request_total summed, requests authenticated as the tools' identity)."""
        total, tool = 0.0, None
        for line in self.get("/metrics", "text/plain").decode().splitlines():
            if line.startswith("apiserver_request_total{"):
                total += float(line.rsplit(" ", 1)[1])
            elif line.startswith("authenticated_user_requests{") and f'"{TOOL_SA}"' in line:
                tool = (tool or 0.0) + float(line.rsplit(" ", 1)[1])
        return total, tool


def condition_status(obj: dict, kind: str) -> str | None:
    """The status ("True", "False", "Unknown") of `obj`'s condition `kind`, None without one."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c.get("status") for c in conditions if c.get("type") == kind), None)


def conditions_true(obj: dict, kind: str) -> bool:
    """Whether `obj` has condition `kind` with status True."""
    return condition_status(obj, kind) == "True"


def fake_nodes(pods: int) -> list[dict]:
    """Extra kwok nodes so that every pod of the workload has room (testenv's node takes 110)."""
    per_node = 1000
    count = max(1, -(-pods // per_node))
    return [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": f"kwok-bench-{k}",
                "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {"type": "kwok", "kubernetes.io/hostname": f"kwok-bench-{k}"},
            },
            "status": {
                "allocatable": {"cpu": "1000", "memory": "4Ti", "pods": str(per_node + 10)},
                "capacity": {"cpu": "1000", "memory": "4Ti", "pods": str(per_node + 10)},
            },
        }
        for k in range(count)
    ]


def tool_kubeconfig(cluster: Cluster, path: Path) -> None:
    """A kubeconfig for the tool as kube-system's default ServiceAccount (bound to cluster-admin):
    the apiserver counts that identity's requests apart (`authenticated_user_requests`)."""
    cluster.apply(
        [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": "bench-tool"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "kube-system"}],
            }
        ]
    )
    token = cluster.kubectl("create", "token", "default", "-n", "kube-system", "--duration=24h").strip()
    cfg = json.loads(cluster.kubectl("config", "view", "--raw", "-o", "json"))
    cfg["users"] = [{"name": "bench-tool", "user": {"token": token}}]
    cfg["contexts"] = [{"name": "bench", "context": {"cluster": cfg["clusters"][0]["name"], "user": "bench-tool"}}]
    cfg["current-context"] = "bench"
    path.write_text(json.dumps(cfg))


# ---------------------------------------------------------------- process accounting (/proc)


class Procs:
    """Processes of one tool: CPU seconds (children reaped included) and peak RSS, from /proc."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []
        self.last: dict[int, tuple[float, int]] = {}
        self.tick = os.sysconf("SC_CLK_TCK")

    def start(self, name: str, argv: list[str], env: dict, log_dir: Path) -> None:
        out = open(log_dir / f"{name}.log", "wb")
        self.procs.append(
            subprocess.Popen(argv, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        )

    def sample(self) -> tuple[float, int]:
        for p in self.procs:
            try:
                stat = Path(f"/proc/{p.pid}/stat").read_text()
                fields = stat.rsplit(")", 1)[1].split()
                cpu = sum(int(x) for x in fields[11:15]) / self.tick  # utime stime cutime cstime
                hwm = 0
                for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        hwm = int(line.split()[1]) * 1024
                self.last[p.pid] = (cpu, max(hwm, self.last.get(p.pid, (0, 0))[1]))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
        return sum(c for c, _ in self.last.values()), sum(h for _, h in self.last.values())

    def dead(self) -> list[str]:
        return [" ".join(p.args[:1]) for p in self.procs if p.poll() is not None]

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.time() + 15
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
