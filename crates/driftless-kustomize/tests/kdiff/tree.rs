//! Generated kustomization trees: bases, components and an overlay that uses them, each with a
//! random choice of kustomize's generators and transformers.

use super::manifests::{IMAGES, Manifest, manifest};
use super::rng::Rng;
use super::strings::{file_contents, odd, word};
use super::yaml::Writer;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// A generated tree: file path (relative, `/`-separated) to contents, and the directory built.
pub struct Tree {
    pub files: BTreeMap<String, Vec<u8>>,
    pub build_dir: String,
}

impl Tree {
    /// The tree, file by file, for a failure report.
    pub fn listing(&self) -> String {
        let mut s = String::new();
        for (path, data) in &self.files {
            s.push_str(&format!("----- {path}\n"));
            match std::str::from_utf8(data) {
                Ok(t) => s.push_str(t),
                Err(_) => s.push_str(&format!("(binary, {} bytes: {:02x?})", data.len(), data)),
            }
            if !s.ends_with('\n') {
                s.push_str("\n(no final newline)\n");
            }
        }
        s
    }
}

/// What one kustomization level makes visible to the levels above it.
struct Level {
    /// Current names of the resources, by kind.
    resources: Vec<(String, String, Value)>,
    /// Names of the generators (before the hash suffix).
    generators: Vec<(String, String)>,
}

struct Gen<'a> {
    rng: &'a mut Rng,
    files: BTreeMap<String, Vec<u8>>,
}

/// The tree of `seed`.
pub fn tree(seed: u64) -> Tree {
    let mut rng = Rng::new(seed);
    let mut g = Gen {
        rng: &mut rng,
        files: BTreeMap::new(),
    };
    let bases = g.rng.range(1, 3);
    let mut below = Vec::new();
    for b in 0..bases {
        let dir = format!("base{b}");
        below.push((dir.clone(), g.level(&dir, &[], false)));
    }
    let mut components = Vec::new();
    if g.rng.chance(30) {
        let lvl = g.level("comp", &below, true);
        components.push(("comp".to_string(), lvl));
    }
    let _ = g.level_with("overlay", &below, &components);
    Tree {
        files: g.files,
        build_dir: "overlay".into(),
    }
}

impl Gen<'_> {
    fn write(&mut self, path: String, data: Vec<u8>) {
        self.files.insert(path, data);
    }

    fn yaml_docs(&mut self, docs: &[Value]) -> String {
        let leading_marker = self.rng.chance(10);
        let mut w = Writer::new(self.rng);
        for (i, _) in docs.iter().enumerate() {
            let d = &docs[i];
            if i > 0 || leading_marker {
                w.text("---\n");
            }
            w.document(d);
        }
        w.finish()
    }

    fn level(&mut self, dir: &str, below: &[(String, Level)], component: bool) -> Level {
        if component {
            self.kustomization(dir, below, &[], true)
        } else {
            self.kustomization(dir, &[], &[], false)
        }
    }

    fn level_with(
        &mut self,
        dir: &str,
        below: &[(String, Level)],
        components: &[(String, Level)],
    ) -> Level {
        self.kustomization(dir, below, components, false)
    }

    /// Writes `dir/kustomization.yaml` and its files; `below` are the bases it lists.
    fn kustomization(
        &mut self,
        dir: &str,
        below: &[(String, Level)],
        components: &[(String, Level)],
        component: bool,
    ) -> Level {
        let mut k = Map::new();
        if component {
            k.insert(
                "apiVersion".into(),
                json!("kustomize.config.k8s.io/v1alpha1"),
            );
            k.insert("kind".into(), json!("Component"));
        } else if self.rng.chance(60) {
            k.insert(
                "apiVersion".into(),
                json!("kustomize.config.k8s.io/v1beta1"),
            );
            k.insert("kind".into(), json!("Kustomization"));
        }
        let mut level = Level {
            resources: Vec::new(),
            generators: Vec::new(),
        };
        // A component transforms everything accumulated before it, the bases included: above
        // it, names are the component's.
        let sources = if components.is_empty() {
            below
        } else {
            components
        };
        for (_, l) in sources {
            level.resources.extend(l.resources.iter().cloned());
            level.generators.extend(l.generators.iter().cloned());
        }
        let mut resources: Vec<Value> = Vec::new();
        if !component {
            for (b, _) in below {
                resources.push(json!(format!("../{b}")));
            }
        }
        // Own manifests: a few files, some holding several documents.
        let own = if below.is_empty() && !component {
            self.rng.range(1, 5)
        } else {
            self.rng.range(0, 2)
        };
        let refs: Vec<String> = level
            .generators
            .iter()
            .map(|(_, n)| n.clone())
            .chain(
                level
                    .resources
                    .iter()
                    .filter(|(k, _, _)| k == "ConfigMap" || k == "Secret")
                    .map(|(_, n, _)| n.clone()),
            )
            .take(3)
            .collect();
        let mut file_docs: Vec<Vec<Value>> = Vec::new();
        for i in 0..own {
            let stem = if self.rng.chance(10) {
                "shared".to_string()
            } else {
                format!("{dir}-{i}")
            };
            let m: Manifest = manifest(self.rng, &stem, &refs);
            level
                .resources
                .push((m.kind.to_string(), m.name.clone(), m.value.clone()));
            if !file_docs.is_empty() && self.rng.chance(30) {
                if let Some(last) = file_docs.last_mut() {
                    last.push(m.value);
                }
            } else {
                file_docs.push(vec![m.value]);
            }
        }
        for (i, docs) in file_docs.iter().enumerate() {
            let name = format!("r{i}.yaml");
            let text = self.yaml_docs(docs);
            self.write(format!("{dir}/{name}"), text.into_bytes());
            resources.push(json!(name));
        }
        if !resources.is_empty() || self.rng.chance(50) {
            k.insert("resources".into(), Value::Array(resources));
        }
        if !components.is_empty() {
            let list: Vec<Value> = components
                .iter()
                .map(|(c, _)| json!(format!("../{c}")))
                .collect();
            k.insert("components".into(), Value::Array(list));
        }
        self.generators(dir, &mut k, &mut level);
        self.transformers(dir, &mut k, &level);
        // Names change with the prefix and suffix.
        let prefix = k
            .get("namePrefix")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let suffix = k
            .get("nameSuffix")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        for (kind, name, _) in level.resources.iter_mut() {
            if kind != "Namespace" && kind != "CustomResourceDefinition" {
                *name = format!("{prefix}{name}{suffix}");
            }
        }
        let thousands = self.rng.chance(3);
        let mut w = Writer::new(self.rng).with_comments(10).yaml11();
        if thousands {
            w.text(&"# - commented-out.yaml\n".repeat(3000));
        }
        w.document(&Value::Object(k));
        if thousands {
            w.text(&"# trailing comment\n".repeat(2000));
        }
        let text = w.finish();
        let file = *self.rng.pick(&[
            "kustomization.yaml",
            "kustomization.yaml",
            "kustomization.yml",
            "Kustomization",
        ]);
        self.write(format!("{dir}/{file}"), text.into_bytes());
        level
    }

    fn generators(&mut self, dir: &str, k: &mut Map<String, Value>, level: &mut Level) {
        for (field, kind) in [
            ("configMapGenerator", "ConfigMap"),
            ("secretGenerator", "Secret"),
        ] {
            if !self.rng.chance(35) {
                continue;
            }
            let mut list = Vec::new();
            for i in 0..self.rng.range(1, 2) {
                let mut merging = None;
                if let Some((gk, gn)) = level.generators.iter().find(|(gk, _)| gk == kind).cloned()
                    && self.rng.chance(40)
                {
                    merging = Some(gn);
                    let _ = gk;
                }
                let name = match &merging {
                    Some(n) => n.clone(),
                    None => format!("{}-gen-{dir}-{i}", kind.to_ascii_lowercase()),
                };
                let mut g_ = json!({"name": name});
                if let Some(b) = merging
                    .as_ref()
                    .map(|_| *self.rng.pick(&["merge", "replace", "merge"]))
                {
                    g_["behavior"] = json!(b);
                }
                if self.rng.chance(70) {
                    let mut lits = Vec::new();
                    for j in 0..self.rng.range(1, 3) {
                        let v = match self.rng.below(5) {
                            0 => format!("\"{}\"", word(self.rng)),
                            1 => "with spaces inside".to_string(),
                            2 => String::new(),
                            3 => odd(self.rng).replace(['\n', '\r'], " "),
                            _ => word(self.rng),
                        };
                        lits.push(json!(format!("lit{j}={v}")));
                    }
                    g_["literals"] = Value::Array(lits);
                }
                if self.rng.chance(50) {
                    let mut files = Vec::new();
                    for j in 0..self.rng.range(1, 2) {
                        let f = format!("{}-{i}-{j}.txt", field);
                        let data = file_contents(self.rng);
                        self.write(format!("{dir}/{f}"), data);
                        if self.rng.chance(30) {
                            files.push(json!(format!("renamed{j}.conf={f}")));
                        } else {
                            files.push(json!(f));
                        }
                    }
                    g_["files"] = Value::Array(files);
                }
                if self.rng.chance(30) {
                    let f = format!("{field}-{i}.env");
                    let mut text = String::new();
                    text.push_str("# a comment\n\nENV_A=a\n");
                    text.push_str(&format!(
                        "ENV_B={}\n",
                        odd(self.rng).replace(['\n', '\r'], "")
                    ));
                    let env_c: &str = self.rng.pick::<&str>(&[
                        "ENV_C=\"quoted value\"\n",
                        "ENV_C='single'\n",
                        "  ENV_C=indented\n",
                        "ENV_C=trailing  \n",
                        "ENV_C=\n",
                    ]);
                    text.push_str(env_c);
                    self.write(format!("{dir}/{f}"), text.into_bytes());
                    g_["envs"] = json!([f]);
                }
                if self.rng.chance(40) {
                    let mut o = json!({});
                    if self.rng.chance(50) {
                        o["disableNameSuffixHash"] = json!(true);
                    }
                    if self.rng.chance(40) {
                        o["labels"] = json!({"generated": "yes"});
                    }
                    if self.rng.chance(40) {
                        o["annotations"] = json!({"note": odd(self.rng)});
                    }
                    if self.rng.chance(20) {
                        o["immutable"] = json!(true);
                    }
                    g_["options"] = o;
                }
                if kind == "Secret" && self.rng.chance(30) {
                    g_["type"] = json!(*self.rng.pick(&[
                        "Opaque",
                        "kubernetes.io/tls",
                        "example.com/custom"
                    ]));
                }
                if merging.is_none() {
                    level.generators.push((kind.to_string(), name));
                }
                list.push(g_);
            }
            k.insert(field.into(), Value::Array(list));
        }
        if self.rng.chance(15) {
            let mut o = json!({});
            if self.rng.chance(50) {
                o["disableNameSuffixHash"] = json!(self.rng.chance(50));
            }
            o["labels"] = json!({"from-options": "true"});
            k.insert("generatorOptions".into(), o);
        }
    }

    fn pick_resource(&mut self, level: &Level, kinds: &[&str]) -> Option<(String, String, Value)> {
        let c: Vec<_> = level
            .resources
            .iter()
            .filter(|(k, _, _)| kinds.contains(&k.as_str()))
            .collect();
        if c.is_empty() {
            None
        } else {
            Some((*self.rng.pick(&c)).clone())
        }
    }

    fn transformers(&mut self, dir: &str, k: &mut Map<String, Value>, level: &Level) {
        let r = &mut *self.rng;
        if r.chance(30) {
            k.insert(
                "namespace".into(),
                json!(*r.pick(&["prod", "team-b", "system"])),
            );
        }
        if r.chance(30) {
            k.insert("namePrefix".into(), json!(format!("{dir}-")));
        }
        if r.chance(25) {
            k.insert("nameSuffix".into(), json!(*r.pick(&["-v2", "-x"])));
        }
        if r.chance(25) {
            k.insert(
                "commonLabels".into(),
                json!({"env": *r.pick(&["dev", "prod"]), "app.kubernetes.io/part-of": "kdiff"}),
            );
        }
        if r.chance(30) {
            let mut l = json!({"pairs": {"team": word(r)}});
            if r.chance(50) {
                l["includeSelectors"] = json!(r.chance(50));
            }
            if r.chance(50) {
                l["includeTemplates"] = json!(r.chance(50));
            }
            k.insert("labels".into(), json!([l]));
        }
        if r.chance(25) {
            k.insert(
                "commonAnnotations".into(),
                json!({"owner": odd(r), "ticket": "1234"}),
            );
        }
        if r.chance(30) {
            let mut list = Vec::new();
            for _ in 0..r.range(1, 2) {
                let img = r.pick(IMAGES);
                let name = img.split(['@']).next().unwrap_or(img);
                let name = match name.rsplit_once(':') {
                    Some((n, t)) if !t.contains('/') => n,
                    _ => name,
                };
                let mut e = json!({"name": name});
                match r.below(4) {
                    0 => e["newTag"] = json!(*r.pick(&["1.25", "v2", "latest"])),
                    1 => e["newName"] = json!("mirror.example.com/copy"),
                    2 => {
                        e["digest"] = json!(
                            "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
                        )
                    }
                    _ => {
                        e["newName"] = json!("mirror.example.com/copy");
                        e["newTag"] = json!("2.0");
                    }
                }
                list.push(e);
            }
            k.insert("images".into(), Value::Array(list));
        }
        if let Some((_, name, _)) = self.pick_resource(level, &["Deployment", "StatefulSet"])
            && self.rng.chance(30)
        {
            k.insert(
                "replicas".into(),
                json!([{"name": name, "count": self.rng.range(0, 9)}]),
            );
        }
        self.patches(dir, k, level);
        if self.rng.chance(20) {
            self.replacements(k, level);
        }
        let r = &mut *self.rng;
        if r.chance(20) {
            let s = if r.chance(50) {
                json!({"order": "fifo"})
            } else {
                json!({"order": "legacy", "legacySortOptions": {"orderFirst": ["Namespace", "Secret"], "orderLast": ["ValidatingWebhookConfiguration"]}})
            };
            k.insert("sortOptions".into(), s);
        }
    }

    fn patches(&mut self, dir: &str, k: &mut Map<String, Value>, level: &Level) {
        let mut smp_files = Vec::new();
        let mut patches = Vec::new();
        let mut json6902 = Vec::new();
        for i in 0..self.rng.range(0, 3) {
            let Some((kind, name, value)) = self.pick_resource(
                level,
                &[
                    "Deployment",
                    "StatefulSet",
                    "ConfigMap",
                    "Widget",
                    "Service",
                    "Secret",
                ],
            ) else {
                break;
            };
            let api = value["apiVersion"].as_str().unwrap_or("v1").to_string();
            let smp = self.smp(&kind, &name, &api, &value);
            let ops = self.json_ops(&kind, &value);
            match self.rng.below(6) {
                0 => {
                    let f = format!("smp{i}.yaml");
                    let text = self.yaml_docs(&[smp]);
                    self.write(format!("{dir}/{f}"), text.into_bytes());
                    smp_files.push(json!(f));
                }
                1 => {
                    let f = format!("smp{i}.yaml");
                    let text = self.yaml_docs(&[smp]);
                    self.write(format!("{dir}/{f}"), text.into_bytes());
                    patches.push(json!({"path": f}));
                }
                2 => {
                    let text = self.yaml_docs(&[smp]);
                    let mut p = json!({"patch": text});
                    if self.rng.chance(50) {
                        p["target"] = self.target(&kind, &name, &api);
                    }
                    patches.push(p);
                }
                3 => {
                    let text = if self.rng.chance(50) {
                        self.yaml_docs(&[ops])
                    } else {
                        serde_json::to_string(&ops).unwrap_or_default()
                    };
                    patches.push(json!({"patch": text, "target": self.target(&kind, &name, &api)}));
                }
                4 => {
                    let f = format!("ops{i}.yaml");
                    let text = self.yaml_docs(&[ops]);
                    self.write(format!("{dir}/{f}"), text.into_bytes());
                    patches.push(json!({"path": f, "target": self.target(&kind, &name, &api)}));
                }
                _ => {
                    let f = format!("ops{i}.yaml");
                    let text = self.yaml_docs(&[ops]);
                    self.write(format!("{dir}/{f}"), text.into_bytes());
                    let (group, version) = match api.split_once('/') {
                        Some((g, v)) => (g.to_string(), v.to_string()),
                        None => (String::new(), api.clone()),
                    };
                    let mut t = json!({"version": version, "kind": kind, "name": name});
                    if !group.is_empty() {
                        t["group"] = json!(group);
                    }
                    json6902.push(json!({"target": t, "path": f}));
                }
            }
        }
        if !smp_files.is_empty() {
            k.insert("patchesStrategicMerge".into(), Value::Array(smp_files));
        }
        if !patches.is_empty() {
            k.insert("patches".into(), Value::Array(patches));
        }
        if !json6902.is_empty() {
            k.insert("patchesJson6902".into(), Value::Array(json6902));
        }
    }

    fn target(&mut self, kind: &str, name: &str, api: &str) -> Value {
        match self.rng.below(5) {
            0 => json!({"kind": kind}),
            1 => json!({"kind": kind, "name": name}),
            2 => json!({"name": format!("{}.*", &name[..name.len().min(4)])}),
            3 => {
                let (group, version) = match api.split_once('/') {
                    Some((g, v)) => (g, v),
                    None => ("", api),
                };
                json!({"group": group, "version": version, "kind": kind, "name": name})
            }
            _ => json!({"kind": kind, "annotationSelector": "note", "labelSelector": "app"}),
        }
    }

    fn smp(&mut self, kind: &str, name: &str, api: &str, value: &Value) -> Value {
        let mut p = json!({"apiVersion": api, "kind": kind, "metadata": {"name": name}});
        let r = &mut *self.rng;
        if r.chance(30) {
            p["metadata"]["annotations"] = json!({"patched": odd(r)});
        }
        if r.chance(10) && value["metadata"]["annotations"].is_object() {
            p["metadata"]["annotations"] = json!({"note": null});
        }
        match kind {
            "Deployment" | "StatefulSet" => {
                if r.chance(50) {
                    p["spec"]["replicas"] = json!(r.range(1, 7));
                }
                let mut c = json!({"name": "main"});
                match r.below(4) {
                    0 => c["env"] = json!([{"name": "ADDED", "value": odd(r)}]),
                    1 => c["image"] = json!("patched/image:1"),
                    2 => c["args"] = json!([odd(r)]),
                    _ => c["resources"] = json!({"requests": {"cpu": "10m"}}),
                }
                p["spec"]["template"]["spec"]["containers"] = json!([c]);
                if r.chance(15) {
                    p["spec"]["template"]["spec"]["affinity"] = Value::Null;
                }
            }
            "ConfigMap" => {
                p["data"] = json!({"patched": odd(r)});
                if r.chance(30) {
                    p["data"]["k"] = Value::Null;
                }
            }
            "Secret" => p["stringData"] = json!({"added": odd(r)}),
            "Service" => {
                p["spec"] = json!({"ports": [{"port": 443, "name": "https", "targetPort": 8443}]})
            }
            _ => p["spec"] = json!({"text": odd(r), "nested": {"added": [odd(r)]}}),
        }
        p
    }

    fn json_ops(&mut self, kind: &str, value: &Value) -> Value {
        let r = &mut *self.rng;
        let mut ops = Vec::new();
        if value["metadata"]["labels"].is_object() && r.chance(50) {
            ops.push(json!({"op": "add", "path": "/metadata/labels/added", "value": word(r)}));
        }
        match kind {
            "Deployment" | "StatefulSet" => {
                if r.chance(50) {
                    ops.push(
                        json!({"op": "replace", "path": "/spec/replicas", "value": r.range(1, 5)}),
                    );
                }
                ops.push(json!({"op": "add", "path": "/spec/template/spec/containers/0/env/-", "value": {"name": "J", "value": odd(r)}}));
            }
            "ConfigMap" if value["data"].is_object() => {
                ops.push(json!({"op": "add", "path": "/data/json~1key", "value": odd(r)}));
                if r.chance(30) {
                    ops.push(json!({"op": "remove", "path": "/data/k"}));
                }
            }
            "Service" => {
                ops.push(json!({"op": "replace", "path": "/spec/ports/0/port", "value": 8443}))
            }
            _ => ops.push(
                json!({"op": "add", "path": "/metadata/annotations", "value": {"json": odd(r)}}),
            ),
        }
        if r.chance(10) {
            ops.push(json!({"op": "test", "path": "/kind", "value": kind}));
        }
        Value::Array(ops)
    }

    fn replacements(&mut self, k: &mut Map<String, Value>, level: &Level) {
        let Some((skind, sname, sval)) =
            self.pick_resource(level, &["ConfigMap", "Deployment", "Service"])
        else {
            return;
        };
        let field = match skind.as_str() {
            "ConfigMap" if sval["data"]["k"].is_string() => "data.k",
            "Deployment" => "spec.template.spec.containers.0.image",
            _ => "metadata.name",
        };
        let Some((tkind, _, _)) =
            self.pick_resource(level, &["Deployment", "StatefulSet", "Widget", "ConfigMap"])
        else {
            return;
        };
        let mut target = json!({"select": {"kind": tkind}, "fieldPaths": ["metadata.annotations.copied"], "options": {"create": true}});
        if tkind == "Deployment" && self.rng.chance(50) {
            target["fieldPaths"] =
                json!(["spec.template.spec.containers.[name=main].env.[name=PLAIN].value"]);
            target["options"] = json!({});
        }
        if self.rng.chance(20) {
            target["reject"] = json!([{"name": sname}]);
        }
        k.insert("replacements".into(), json!([{"source": {"kind": skind, "name": sname, "fieldPath": field}, "targets": [target]}]));
    }
}
