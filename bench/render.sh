#!/usr/bin/env bash
# Benchmark of `driftless render --repo` against `git clone --depth 1` + `kubectl create
# --dry-run=client -f DIR -R -o yaml`, on a generated repository served by git daemon on loopback.
#
# Usage: bench/render.sh            (FILES=200 PER_FILE=10 COMMITS=50 RUNS=3 by default)
# Uses $KUBECONFIG when set (kubectl needs API discovery even for a client dry-run); otherwise
# starts the test control plane with testenv/up --detach and stops it at the end.
# Prints wall time and peak resident memory (from /usr/bin/time) for every run, then medians.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
files=${FILES:-200}
per_file=${PER_FILE:-10}
commits=${COMMITS:-50}
runs=${RUNS:-3}
work=$(mktemp -d)
daemon_pid=""
cp_pidfile=""

cleanup() {
  [[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null || true
  [[ -n $cp_pidfile && -s $cp_pidfile ]] && kill "$(cat "$cp_pidfile")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building driftless (release)..." >&2
(cd "$root" && cargo build --quiet --release -p driftless)
driftless=$root/target/release/driftless

# --- the repository: $files files of $per_file manifests each, added over $commits commits ---
upstream=$work/upstream
git init -q -b main "$upstream"
git -C "$upstream" config user.email bench@example.com
git -C "$upstream" config user.name bench
gen() { # gen FIRST LAST REVISION: writes manifests/fNNN.yaml for FIRST <= N < LAST
  python3 - "$upstream/manifests" "$1" "$2" "$per_file" "$3" <<'PY'
import os, sys
out, first, last, per_file, revision = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
os.makedirs(out, exist_ok=True)
for f in range(first, last):
    docs = []
    for d in range(per_file):
        name = f"app-{f:03d}-{d}"
        if d % 3 == 0:
            docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: bench
  labels: &labels
    app: {name}
    revision: "{revision}"
spec:
  replicas: 2
  selector:
    matchLabels: *labels
  template:
    metadata:
      labels: *labels
    spec:
      containers:
      - name: main
        image: registry.example.com/{name}:1.{f}.{d}
        ports:
        - containerPort: 8080
        resources:
          limits: {{cpu: 500m, memory: 256Mi}}
""")
        elif d % 3 == 1:
            docs.append(f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: bench
spec:
  selector:
    app: {name}
  ports:
  - port: 80
    targetPort: 8080
""")
        else:
            docs.append(f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: bench
data:
  revision: "{revision}"
  mode: "0644"
  config.yaml: |
    server:
      port: 8080
      replicas: {f}
""")
    with open(os.path.join(out, f"f{f:03d}.yaml"), "w") as fh:
        fh.write("---\n".join(docs))
PY
}
step=$(( (files + commits - 1) / commits ))
for ((c = 0; c < commits; c++)); do
  first=$((c * step)); last=$(((c + 1) * step)); ((last > files)) && last=$files
  ((first < last)) && gen "$first" "$last" "c$c"
  git -C "$upstream" add -A
  git -C "$upstream" commit -q --allow-empty -m "commit $c"
done
echo "repository: $(ls "$upstream/manifests" | wc -l) files, $(cat "$upstream"/manifests/*.yaml | grep -c '^kind:') manifests, $(git -C "$upstream" rev-list --count HEAD) commits" >&2

# --- git daemon on loopback ---
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$(git --exec-path)/git-daemon" --export-all --reuseaddr --listen=127.0.0.1 --port="$port" \
  --base-path="$work" "$work" 2>/dev/null &
daemon_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
url=git://127.0.0.1:$port/upstream/.git

# --- kubectl needs a server for discovery ---
if [[ -z ${KUBECONFIG:-} ]]; then
  cp_pidfile=$work/cp.pid
  echo "starting the test control plane for kubectl..." >&2
  line=$("$root/testenv/up" --detach --dir "$work/cp" --pid-file "$cp_pidfile" | grep '^KUBECONFIG=')
  export KUBECONFIG=${line#KUBECONFIG=}
fi

# measure LABEL CMD...: runs CMD, prints and records "wall_seconds peak_kib"
declare -A results
measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
    echo "$label failed:" >&2; cat "$work/err" >&2; exit 1; }
  read -r wall kib <"$work/time"
  results[$label]+="$wall:$kib "
  printf '  %-34s %6.2f s  %6d MiB peak\n' "$label" "$wall" $((kib / 1024)) >&2
}
baseline() {
  rm -rf "$work/clone"
  measure "baseline: git clone --depth 1" git clone -q --depth 1 "$url" "$work/clone"
  measure "baseline: kubectl create dry-run" kubectl create --dry-run=client --validate=false \
    -f "$work/clone/manifests" -R -o yaml
  echo "    kubectl printed $(grep -c '^kind:' "$work/out") objects" >&2
}

for ((r = 1; r <= runs; r++)); do
  echo "run $r" >&2
  cache=$work/cache-$r
  measure "driftless cold clone+render" "$driftless" render --repo "$url" --path manifests -R --cache-dir "$cache"
  echo "    driftless printed $(grep -c '^kind:' "$work/out") objects; $(head -c 48 "$work/err")" >&2
  gen 0 1 "run$r"
  git -C "$upstream" commit -q -am "one more commit, run $r"
  measure "driftless warm fetch+render" "$driftless" render --repo "$url" --path manifests -R --cache-dir "$cache"
  baseline
done

median() { tr ' ' '\n' | grep . | sort -t: -k1 -g | awk -F: '{w[NR]=$1; m[NR]=$2} END {i=int((NR+1)/2); printf "%.2f s, %d MiB", w[i], m[i]/1024}'; }
echo
echo "medians over $runs runs ($files files, $((files * per_file)) manifests, $commits commits, git daemon on loopback):"
for label in "driftless cold clone+render" "driftless warm fetch+render" "baseline: git clone --depth 1" "baseline: kubectl create dry-run"; do
  printf '  %-34s %s\n' "$label" "$(echo "${results[$label]}" | median)"
done
