#!/usr/bin/env python3
"""Benchmark of the Driftless controller on the test control plane (testenv + kwok).

  (a) self-heal latency: a managed field edited through the API -> reverted (watch-observed),
      p50 / p99 over EDITS edits (default 200);
  (b) commit -> applied through the webhook (the app alone in its repository, then in the
      repository of all the others): a commit pushed to a git daemon on loopback, a
      signed GitHub push webhook sent, until the change is live; p50 / p99 over COMMITS (20);
  (c) APPS applications x 20 objects (default 1000): time from controller start to all Synced
      and Healthy, then steady-state CPU (% of one core over STEADY seconds) and resident
      memory of the controller.

Usage: bench/controller.py [--apps 1000] [--edits 200] [--commits 20] [--steady 60]
Starts its own control plane (testenv/up --detach) and stops it at the end. Every loop is
bounded in count and time; all traffic stays on 127.0.0.1.
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "bench-webhook-secret"


def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Kube:
    """A minimal API client: the admin token and CA of the testenv kubeconfig."""

    def __init__(self, kubectl, kubeconfig):
        config = json.loads(run(kubectl, "--kubeconfig", kubeconfig, "config", "view", "--raw", "-o", "json"))
        cluster = config["clusters"][0]["cluster"]
        user = config["users"][0]["user"]
        server = cluster["server"].removeprefix("https://")
        self.host, self.port = server.split(":")
        self.token = user["token"]
        ca = cluster.get("certificate-authority-data")
        self.ctx = ssl.create_default_context()
        if ca:
            import base64
            self.ctx.load_verify_locations(cadata=base64.b64decode(ca).decode())
        else:
            self.ctx.load_verify_locations(cafile=cluster["certificate-authority"])

    def conn(self, timeout=30):
        return http.client.HTTPSConnection(self.host, int(self.port), context=self.ctx, timeout=timeout)

    def request(self, method, path, body=None, content_type="application/json"):
        c = self.conn()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": content_type}
        c.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        if r.status >= 300:
            raise RuntimeError(f"{method} {path}: {r.status} {data[:300]!r}")
        return json.loads(data)

    def wait_for(self, path, predicate, resource_version, deadline):
        """Watches one object from resource_version until predicate(object) holds; returns the time."""
        c = self.conn(timeout=max(1, deadline - time.time()))
        sep = "&" if "?" in path else "?"
        c.request("GET", f"{path}{sep}watch=1&resourceVersion={resource_version}",
                  headers={"Authorization": f"Bearer {self.token}"})
        r = c.getresponse()
        buf = b""
        try:
            while time.time() < deadline:
                chunk = r.readline()
                if not chunk:
                    break
                buf += chunk
                if not buf.endswith(b"\n"):
                    continue
                event = json.loads(buf)
                buf = b""
                if event.get("type") in ("ADDED", "MODIFIED") and predicate(event["object"]):
                    return time.time()
        finally:
            c.close()
        return None


def request_counts(kube):
    """apiserver_request_total summed by (verb, resource, dry run)."""
    c = kube.conn()
    c.request("GET", "/metrics", headers={"Authorization": f"Bearer {kube.token}"})
    text = c.getresponse().read().decode()
    c.close()
    counts = {}
    for line in text.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels_text, value = line[len("apiserver_request_total{"):].rsplit("} ", 1)
        labels = dict(part.split("=", 1) for part in labels_text.split('",') if "=" in part)
        labels = {k: v.strip('"') for k, v in labels.items()}
        key = (labels.get("verb", ""), labels.get("resource", ""), labels.get("dry_run", ""))
        counts[key] = counts.get(key, 0) + float(value)
    return counts


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def tree_cpu_seconds(root):
    """CPU seconds of every live process under `root` (inclusive), by command name."""
    parents, names = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        names[int(entry)] = stat[stat.index("(") + 1:stat.rindex(")")]
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    out = {}
    for pid, name in names.items():
        p = pid
        while p not in (0, 1, root) and p in parents:
            p = parents[p]
        if p == root:
            try:
                out[name] = out.get(name, 0) + proc_cpu_seconds(pid)
            except OSError:
                pass
    return out


def proc_memory(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) / 1024
    return out


def add_nodes(k, apps):
    """Room for the pods of `apps` applications: one kwok node per hundred (kwok nodes are cheap)."""
    for n in range(max(1, apps // 100 + 1)):
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": f"kwok-bench-{n}", "annotations": {"kwok.x-k8s.io/node": "fake"},
                             "labels": {"type": "kwok", "kubernetes.io/hostname": f"kwok-bench-{n}"}},
                "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                           "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"}}}
        k("apply", "-f", "-", input=json.dumps(node))


def configmaps(prefix, count, value):
    return "---\n".join(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {prefix}-{i:02d}\ndata:\n  value: \"{value}\"\n"
        for i in range(count))


def app_objects(name):
    """20 objects: 14 ConfigMaps, 5 Services, 1 Deployment whose pod kwok runs."""
    docs = [f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-cm-{i:02d}\ndata:\n  value: \"{i}\"\n"
            for i in range(14)]
    docs += [f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}-svc-{i}\nspec:\n  selector: {{app: {name}}}\n"
             f"  ports:\n  - port: 80\n    targetPort: 8080\n" for i in range(5)]
    docs.append(f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}-web\nspec:\n  replicas: 1\n"
                f"  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n"
                "    spec:\n      containers:\n      - name: web\n        image: registry.example/web:1\n")
    return "---\n".join(docs)


def application(name, namespace, url, path, interval="1h"):
    return {
        "apiVersion": "driftless.dev/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "source": {"repoURL": url, "targetRevision": "main", "path": path},
            "destination": {"namespace": namespace},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"]},
            "interval": interval,
        },
    }


def git(cwd, *args):
    return run("git", *args, cwd=cwd).strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--commits", type=int, default=20)
    parser.add_argument("--steady", type=int, default=60)
    parser.add_argument("--timeout", type=int, default=900, help="bound on the cold start, seconds")
    args = parser.parse_args()

    print("building driftless (release)...", file=sys.stderr)
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "driftless"], cwd=ROOT, check=True)
    driftless = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "driftless")
    kubectl = os.path.join(run(os.path.join(ROOT, "testenv/build"), "--print-dir").strip(), "bin", "kubectl")

    work = tempfile.mkdtemp(prefix="driftless-bench-")
    procs = []
    try:
        pidfile = os.path.join(work, "testenv.pid")
        line = run(os.path.join(ROOT, "testenv/up"), "--detach", "--dir", os.path.join(work, "testenv"),
                   "--pid-file", pidfile).strip().splitlines()[-1]
        procs.append(("testenv", pidfile))
        kubeconfig = line.split("=", 1)[1]
        env = dict(os.environ, KUBECONFIG=kubeconfig)
        kube = Kube(kubectl, kubeconfig)
        k = lambda *a, **kw: run(kubectl, *a, env=env, **kw)
        k("apply", "--server-side", "-f", os.path.join(ROOT, "deploy/crd.yaml"))
        k("wait", "--for=condition=Established", "crd/applications.driftless.dev", "--timeout=60s")
        add_nodes(k, args.apps)

        # The repository: a bare one served by git daemon, written through a clone.
        bare = os.path.join(work, "repos", "bench.git")
        os.makedirs(bare)
        git(bare, "init", "-q", "--bare", "-b", "main")
        tree = os.path.join(work, "tree")
        os.makedirs(tree)
        git(tree, "init", "-q", "-b", "main")
        git(tree, "config", "user.email", "bench@example.com")
        git(tree, "config", "user.name", "bench")
        os.makedirs(os.path.join(tree, "hook"))
        with open(os.path.join(tree, "hook", "objects.yaml"), "w") as f:
            f.write(configmaps("hook", 50, "0"))
        for a in range(args.apps):
            os.makedirs(os.path.join(tree, "apps", f"app-{a:04d}"))
            with open(os.path.join(tree, "apps", f"app-{a:04d}", "objects.yaml"), "w") as f:
                f.write(app_objects(f"app-{a:04d}"))
        git(tree, "add", "-A")
        git(tree, "commit", "-qm", "workload")
        git(tree, "push", "-q", bare, "main")
        git_port = free_port()
        daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={work}/repos",
                                   "--listen=127.0.0.1", f"--port={git_port}", f"{work}/repos"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(("git-daemon", daemon))
        url = f"git://127.0.0.1:{git_port}/bench.git"
        time.sleep(0.5)

        http_port = free_port()
        requests_before = request_counts(kube)
        with open(pidfile) as f:
            testenv_pid = int(f.read().strip())
        plane_before = tree_cpu_seconds(testenv_pid)
        log = open(os.path.join(work, "controller.log"), "w")
        start = time.time()
        controller = subprocess.Popen(
            [driftless, "controller", "--listen", f"127.0.0.1:{http_port}"],
            env=dict(env, DRIFTLESS_WEBHOOK_SECRET=SECRET, DRIFTLESS_CACHE_DIR=os.path.join(work, "cache"),
                     RUST_LOG=os.environ.get("BENCH_RUST_LOG", "warn")),
            stdout=log, stderr=log)
        procs.append(("controller", controller))

        # (c) cold start: APPS applications created at once, right after the controller starts.
        k("create", "namespace", "bench-apps")
        apps = [application(f"app-{a:04d}", "bench-apps", url, f"apps/app-{a:04d}") for a in range(args.apps)]
        for i in range(0, len(apps), 200):
            k("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": apps[i:i + 200]}))
        ready_at = None
        deadline = start + args.timeout
        ready = 0
        while time.time() < deadline:
            items = kube.request("GET", "/apis/driftless.dev/v1alpha1/namespaces/bench-apps/applications")["items"]
            ready = sum(1 for i in items
                        if (i.get("status") or {}).get("sync", {}).get("status") == "Synced"
                        and (i.get("status") or {}).get("health", {}).get("status") == "Healthy")
            if ready == args.apps:
                ready_at = time.time()
                break
            if controller.poll() is not None:
                raise RuntimeError("the controller exited; see " + log.name)
            time.sleep(2)
        cold_cpu = proc_cpu_seconds(controller.pid)
        requests_after = request_counts(kube)
        cold_requests = {key: requests_after[key] - requests_before.get(key, 0) for key in requests_after}
        cold_requests = {key: n for key, n in cold_requests.items() if n > 0}
        cold_total = sum(cold_requests.values())
        plane_after = tree_cpu_seconds(testenv_pid)
        plane = {name: plane_after[name] - plane_before.get(name, 0) for name in plane_after}
        plane_text = ", ".join(f"{name} {cpu:.0f}" for name, cpu in sorted(plane.items(), key=lambda kv: -kv[1]) if cpu >= 1)
        print(f"control plane CPU seconds during the cold start: {plane_text}", file=sys.stderr)
        print(f"API requests during the cold start (all clients): {cold_total:.0f}", file=sys.stderr)
        for (verb, resource, dry_run), n in sorted(cold_requests.items(), key=lambda kv: -kv[1])[:24]:
            print(f"  {n:8.0f}  {verb} {resource}{' (dry run)' if dry_run else ''}", file=sys.stderr)
        cold = ready_at - start if ready_at else None
        cold_text = f"{cold:.1f} s" if cold else f"not all Synced+Healthy within {args.timeout} s ({ready}/{args.apps})"
        print(f"cold start, {args.apps} apps x 20 objects: {cold_text}", file=sys.stderr)

        time.sleep(5)
        cpu0, t0 = proc_cpu_seconds(controller.pid), time.time()
        time.sleep(args.steady)
        cpu1, t1 = proc_cpu_seconds(controller.pid), time.time()
        steady_cpu = 100 * (cpu1 - cpu0) / (t1 - t0)
        memory = proc_memory(controller.pid)
        print(f"steady state: {steady_cpu:.1f} % of one core; memory {memory}", file=sys.stderr)

        # (a) self-heal: one edit of a managed field per application of the workload, round
        # robin (edits of one application in quick succession would meet the self-heal backoff,
        # which is there to stop a fight, not to measure).
        heal = []
        missed = 0
        for i in range(args.edits):
            path = "/api/v1/namespaces/bench-apps/configmaps"
            name = f"app-{i % args.apps:04d}-cm-00"
            t_edit = time.time()
            edited = kube.request("PATCH", f"{path}/{name}?fieldManager=kubectl-edit",
                                  {"data": {"value": f"edited-{i}"}}, "application/merge-patch+json")
            rv = edited["metadata"]["resourceVersion"]
            t_back = kube.wait_for(f"{path}?fieldSelector=metadata.name%3D{name}",
                                   lambda o: o.get("data", {}).get("value") == "0", rv, time.time() + 30)
            if t_back is None:
                missed += 1
            else:
                heal.append(t_back - t_edit)
        # (b) commit -> webhook -> applied: 50 ConfigMaps in one app, each commit changes one;
        # first with the app alone in its repository, then in the repository of all the others
        # (a push there refreshes every application of that repository).
        def measure_hook(name, work_tree, bare_repo, repo_url, commits):
            k("create", "namespace", f"bench-{name}")
            k("create", "-f", "-", input=json.dumps(application(name, f"bench-{name}", repo_url, "hook")))
            base = f"/api/v1/namespaces/bench-{name}/configmaps"
            bound = time.time() + 120
            while time.time() < bound:
                try:
                    kube.request("GET", f"{base}/hook-49")
                    break
                except RuntimeError:
                    time.sleep(0.5)
            latencies = []
            for i in range(1, commits + 1):
                with open(os.path.join(work_tree, "hook", "objects.yaml"), "w") as f:
                    f.write(configmaps("hook", 50, str(i)))
                git(work_tree, "commit", "-qam", f"hook {i}")
                before = kube.request("GET", f"{base}/hook-00")["metadata"]["resourceVersion"]
                git(work_tree, "push", "-q", bare_repo, "main")
                t_push = time.time()
                payload = json.dumps({"ref": "refs/heads/main", "after": git(work_tree, "rev-parse", "HEAD"),
                                      "repository": {"clone_url": repo_url, "html_url": repo_url}}).encode()
                signature = "sha256=" + hmac.new(SECRET.encode(), payload, hashlib.sha256).hexdigest()
                req = urllib.request.Request(f"http://127.0.0.1:{http_port}/api/webhook", data=payload, method="POST",
                                             headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": signature,
                                                      "Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=10).read()
                t_live = kube.wait_for(f"{base}?fieldSelector=metadata.name%3Dhook-00",
                                       lambda o, v=str(i): o.get("data", {}).get("value") == v, before, time.time() + 60)
                if t_live is not None:
                    latencies.append(t_live - t_push)
            return latencies

        own_bare = os.path.join(work, "repos", "hook.git")
        os.makedirs(own_bare)
        git(own_bare, "init", "-q", "--bare", "-b", "main")
        own_tree = os.path.join(work, "hook-tree")
        os.makedirs(os.path.join(own_tree, "hook"))
        git(own_tree, "init", "-q", "-b", "main")
        git(own_tree, "config", "user.email", "bench@example.com")
        git(own_tree, "config", "user.name", "bench")
        with open(os.path.join(own_tree, "hook", "objects.yaml"), "w") as f:
            f.write(configmaps("hook", 50, "0"))
        git(own_tree, "add", "-A")
        git(own_tree, "commit", "-qm", "hook")
        git(own_tree, "push", "-q", own_bare, "main")
        hook = measure_hook("hook", own_tree, own_bare, f"git://127.0.0.1:{git_port}/hook.git", args.commits)
        hook_mono = measure_hook("hook-mono", tree, bare, url, max(1, args.commits // 2))

        with open(os.path.join(work, "metrics.txt"), "w") as f:
            f.write(urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10).read().decode())
        cores = os.cpu_count()
        with open("/proc/meminfo") as f:
            mem_gib = int(f.readline().split()[1]) / 1024 / 1024
        print()
        print(f"Driftless controller benchmark ({cores} cores, {mem_gib:.0f} GiB; testenv + kwok)")
        print(f"| what | figure | target |")
        print(f"|---|---|---|")
        print(f"| self-heal, edit -> reverted ({len(heal)} edits, {missed} missed) | p50 {percentile(heal, 50) * 1000:.0f} ms, p99 {percentile(heal, 99) * 1000:.0f} ms | p50 < 100 ms, p99 < 500 ms |")
        print(f"| commit pushed + webhook -> applied, 50-object app in its own repository ({len(hook)} commits) | p50 {percentile(hook, 50) * 1000:.0f} ms, p99 {percentile(hook, 99) * 1000:.0f} ms | p50 < 1 s |")
        print(f"| same, the app in the repository of all {args.apps} others ({len(hook_mono)} commits) | p50 {percentile(hook_mono, 50) * 1000:.0f} ms, p99 {percentile(hook_mono, 99) * 1000:.0f} ms | |")
        print(f"| {args.apps} apps x 20 objects: controller start -> all Synced+Healthy | {cold_text} | < 60 s |")
        print(f"| same: CPU during the cold start | {cold_cpu:.0f} CPU seconds | |")
        print(f"| same: API requests during the cold start (all clients) | {cold_total:.0f} | |")
        print(f"| same: control plane CPU during the cold start (CPU seconds) | {plane_text} | |")
        print(f"| same: steady-state controller CPU ({args.steady} s) | {steady_cpu:.1f} % of one core | < 5 % |")
        print(f"| same: controller resident memory | {memory.get('VmRSS', 0):.0f} MiB now, {memory.get('VmHWM', 0):.0f} MiB peak | < 150 MB |")
        if heal:
            print(f"\nself-heal latencies: min {min(heal) * 1000:.0f} ms, mean {statistics.mean(heal) * 1000:.0f} ms, max {max(heal) * 1000:.0f} ms")
    finally:
        for name, p in reversed(procs):
            if isinstance(p, str):
                try:
                    with open(p) as f:
                        os.kill(int(f.read().strip()), signal.SIGTERM)
                except (OSError, ValueError):
                    pass
            elif p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if os.environ.get("KEEP"):
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
