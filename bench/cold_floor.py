#!/usr/bin/env python3
"""What the control plane itself needs for the cold-start workload of bench/controller.py.

The same APPS x 20 objects (14 ConfigMaps, 5 Services, 1 Deployment whose pod kwok runs) are
created without Driftless: `kubectl apply --server-side`, PARALLEL processes at once, each with
the objects of its share of the applications. Measured: the time until every Deployment is
Available, the API requests and the CPU seconds of the control plane's processes. Driftless's
cold start cannot beat this on the same machine; the ratio of the two is its overhead.

Usage: bench/cold_floor.py [--apps 1000] [--parallel 8]
Starts its own control plane (testenv/up --detach) and stops it at the end.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import controller as bench  # noqa: E402  (the helpers of the controller benchmark)

ROOT = bench.ROOT


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--timeout", type=int, default=900, help="bound on the wait, seconds")
    args = parser.parse_args()
    kubectl = os.path.join(bench.run(os.path.join(ROOT, "testenv/build"), "--print-dir").strip(), "bin", "kubectl")

    work = tempfile.mkdtemp(prefix="driftless-floor-")
    pidfile = os.path.join(work, "testenv.pid")
    try:
        line = bench.run(os.path.join(ROOT, "testenv/up"), "--detach", "--dir", os.path.join(work, "testenv"),
                         "--pid-file", pidfile).strip().splitlines()[-1]
        kubeconfig = line.split("=", 1)[1]
        env = dict(os.environ, KUBECONFIG=kubeconfig)
        kube = bench.Kube(kubectl, kubeconfig)
        k = lambda *a, **kw: bench.run(kubectl, *a, env=env, **kw)
        bench.add_nodes(k, args.apps)
        k("create", "namespace", "bench-apps")
        shares = []
        for p in range(min(args.parallel, args.apps)):
            path = os.path.join(work, f"share-{p}.yaml")
            with open(path, "w") as f:
                f.write("---\n".join(bench.app_objects(f"app-{a:04d}")
                                     for a in range(p, args.apps, args.parallel)))
            shares.append(path)

        with open(pidfile) as f:
            testenv_pid = int(f.read().strip())
        requests_before = bench.request_counts(kube)
        plane_before = bench.tree_cpu_seconds(testenv_pid)
        start = time.time()
        appliers = [subprocess.Popen([kubectl, "apply", "--server-side", "--field-manager=floor",
                                      "-n", "bench-apps", "-f", path],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                    for path in shares]
        for applier in appliers:
            _, err = applier.communicate(timeout=args.timeout)
            if applier.returncode != 0:
                raise RuntimeError(f"kubectl apply failed: {err.strip()[:300]}")
        applied = time.time() - start
        ready_at, available = None, 0
        while time.time() < start + args.timeout:
            items = kube.request("GET", "/apis/apps/v1/namespaces/bench-apps/deployments")["items"]
            available = sum(1 for d in items if (d.get("status") or {}).get("availableReplicas") == 1)
            if available == args.apps:
                ready_at = time.time()
                break
            time.sleep(2)
        plane_after = bench.tree_cpu_seconds(testenv_pid)
        requests_after = bench.request_counts(kube)
        total = sum(n - requests_before.get(key, 0) for key, n in requests_after.items())
        plane = {name: cpu - plane_before.get(name, 0) for name, cpu in plane_after.items()}
        plane_text = ", ".join(f"{name} {cpu:.0f}" for name, cpu in sorted(plane.items(), key=lambda kv: -kv[1])
                               if cpu >= 1)
        ready = f"{ready_at - start:.1f} s" if ready_at else f"not within {args.timeout} s ({available}/{args.apps})"
        cores = os.cpu_count()
        print(f"\nCold-start floor: the control plane alone ({cores} cores; testenv + kwok)")
        print("| what | figure |")
        print("|---|---|")
        print(f"| {args.apps} x 20 objects, kubectl apply --server-side x {len(shares)}: all applied | {applied:.1f} s |")
        print(f"| same: all {args.apps} Deployments Available | {ready} |")
        print(f"| same: API requests (all clients) | {total:.0f} |")
        print(f"| same: control plane CPU (CPU seconds) | {plane_text} |")
    finally:
        try:
            with open(pidfile) as f:
                os.kill(int(f.read().strip()), signal.SIGTERM)
        except (OSError, ValueError):
            pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
