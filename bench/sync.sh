#!/usr/bin/env bash
# Benchmark of the sync engine on the test control plane:
#   1. `driftless sync` of one application with 500 objects: cold, then unchanged re-sync;
#   2. `driftless diff` of 50 applications x 20 objects in the steady state.
# For each: wall time and the API requests it caused, read from the API server's
# apiserver_request_total counter. The control plane's own components (controller-manager,
# scheduler, kwok) also make requests, so an idle interval of the same length is measured right
# before each step and subtracted; both raw and corrected counts are printed.
#
# Usage: bench/sync.sh     (OBJECTS=500 APPS=50 PER_APP=20 by default)
# Uses $KUBECONFIG when set; otherwise starts testenv/up --detach and stops it at the end.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
objects=${OBJECTS:-500}
apps=${APPS:-50}
per_app=${PER_APP:-20}
work=$(mktemp -d)
cp_pidfile=""
cleanup() {
  [[ -n $cp_pidfile && -s $cp_pidfile ]] && kill "$(cat "$cp_pidfile")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building driftless (release)..." >&2
(cd "$root" && cargo build --quiet --release -p driftless)
driftless=$root/target/release/driftless
kubectl="$("$root/testenv/build" --print-dir)/bin/kubectl"

if [[ -z ${KUBECONFIG:-} ]]; then
  cp_pidfile=$work/testenv.pid
  line=$("$root/testenv/up" --detach --dir "$work/testenv" --pid-file "$cp_pidfile")
  export "${line?}"
fi

requests() { # total API requests served so far
  "$kubectl" get --raw /metrics | awk '/^apiserver_request_total\{/ {sum += $NF} END {printf "%d\n", sum}'
}
now() { date +%s.%N; }

# measure NAME COMMAND...: runs the command, prints wall time and request counts.
measure() {
  local name=$1; shift
  local idle_start idle_end t0 t1 r0 r1 wall idle
  # Idle baseline over about the same time as the step is expected to take (2 s minimum).
  idle_start=$(requests); sleep "${IDLE_SECONDS:-2}"; idle_end=$(requests)
  r0=$(requests); t0=$(now)
  "$@" >"$work/out.txt" 2>&1 || { cat "$work/out.txt" >&2; echo "$name failed" >&2; exit 1; }
  t1=$(now); r1=$(requests)
  wall=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
  idle=$(python3 -c "print(round(($idle_end - $idle_start) * $wall / ${IDLE_SECONDS:-2}))")
  printf '%-44s %8.2f s %8d requests (%d after subtracting ~%d from the control plane itself)\n' \
    "$name" "$wall" "$((r1 - r0))" "$((r1 - r0 - idle))" "$idle"
}

gen_app() { # gen_app DIR COUNT PREFIX: ConfigMaps, Services and single-replica Deployments
  python3 - "$1" "$2" "$3" <<'PY'
import os, sys
out, count, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
docs = []
for i in range(count):
    name = f"{prefix}-{i:04d}"
    kind = i % 10
    if kind < 7:
        docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  index: \"{i}\"\n  mode: fast\n")
    elif kind < 9:
        docs.append(f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector: {{app: {name}}}\n  ports:\n  - port: 80\n    targetPort: 8080\n")
    else:
        docs.append(f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: app\n        image: registry.example/app:1\n        resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}\n")
with open(os.path.join(out, "app.yaml"), "w") as f:
    f.write("---\n".join(docs))
PY
}

# Room for every pod of the workload: kwok nodes are cheap (110 pods each).
for n in $(seq 1 "${EXTRA_NODES:-4}"); do
  "$kubectl" apply -f - >/dev/null <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-bench-$n
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {type: kwok, kubernetes.io/hostname: kwok-bench-$n}
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
NODE
done
"$kubectl" create namespace bench-sync >/dev/null
gen_app "$work/big" "$objects" obj
echo "== one application, $objects objects"
measure "sync, cold ($objects objects)" "$driftless" sync "$work/big" --app bench-big --dest-namespace bench-sync
measure "sync, unchanged re-sync" "$driftless" sync "$work/big" --app bench-big --dest-namespace bench-sync
measure "diff, steady state" "$driftless" diff "$work/big" --app bench-big --dest-namespace bench-sync

echo "== $apps applications x $per_app objects"
for a in $(seq 1 "$apps"); do
  "$kubectl" create namespace "bench-app-$a" >/dev/null
  gen_app "$work/apps/$a" "$per_app" "a$a"
  "$driftless" sync "$work/apps/$a" --app "bench-app-$a" --dest-namespace "bench-app-$a" >/dev/null
done
diff_all() {
  for a in $(seq 1 "$apps"); do
    "$driftless" diff "$work/apps/$a" --app "bench-app-$a" --dest-namespace "bench-app-$a" >/dev/null 2>&1 ||
      { echo "application $a is not in sync" >&2; return 1; }
  done
}
IDLE_SECONDS=5 measure "diff of $apps apps, steady state (all in sync)" diff_all
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $("$kubectl" version -o json | python3 -c 'import json,sys; print("Kubernetes", json.load(sys.stdin)["serverVersion"]["gitVersion"])')"
