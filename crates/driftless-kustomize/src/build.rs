//! The build: reads a kustomization, accumulates its resources, bases and components, runs the
//! generators and transformers, and finishes with name suffix hashes and name references.

use crate::error::Error;
use crate::fs::{FileSystem, join, normalize};
use crate::kustomization::{FILE_NAMES, GENERATOR_KEYS, Kustomization};
use crate::parse::{parse_documents, parse_one};
use crate::provenance::Traced;
use crate::record::Step;
use crate::resource::Origin;
use crate::resource::{Resource, scalar_text};
use crate::target::{Accumulator, Builder, Options, Target, dir_in_tree, is_remote, outside_tree};
use serde_json::{Map, Value};

/// Builds the kustomization in `dir` and returns the resulting objects.
pub fn build(fs: &dyn FileSystem, dir: &str, options: &Options) -> Result<Vec<Value>, Error> {
    let b = Builder::new(fs, options);
    Ok(build_resources(&b, dir)?
        .into_iter()
        .map(|r| Value::Object(r.obj))
        .collect())
}

/// The build with a given builder (which may record provenance).
pub(crate) fn build_resources(b: &Builder<'_>, dir: &str) -> Result<Vec<Resource>, Error> {
    let dir = normalize(dir);
    let mut ra = Accumulator::default();
    // The directory built may hold a Component; only `resources` entries may not.
    let k = b.accumulate(&dir, &mut ra, Expect::Any)?;
    // Named in recorded steps only; a build that does not record looks nothing up.
    let root = if b.record {
        FILE_NAMES
            .iter()
            .map(|n| join(&dir, n))
            .find(|p| b.fs.exists(p))
            .unwrap_or_else(|| join(&dir, FILE_NAMES[0]))
    } else {
        String::new()
    };
    let at = |transformer| Step {
        file: &root,
        field: None,
        transformer,
    };
    b.step(&mut ra.resources, at("NameSuffixHash"), |res| {
        crate::generate::add_hashes(res)
    })?;
    b.step(&mut ra.resources, at("NameReferenceTransformer"), |res| {
        crate::nameref::fix(res, &ra.config.name_reference)
    })?;
    b.step(&mut ra.resources, at("VarsTransformer"), |res| {
        crate::vars::resolve(res, &ra.vars, &ra.config.var_reference)
    })?;
    ra.resources.retain(|r| {
        r.annotations()
            .get("config.kubernetes.io/local-config")
            .and_then(Value::as_str)
            != Some("true")
    });
    crate::sort::sort(
        &mut ra.resources,
        k.sort_options.as_ref(),
        b.options.reorder,
    )?;
    let keeps_all = ["originAnnotations", "transformerAnnotations"]
        .iter()
        .all(|o| k.build_metadata.iter().any(|m| m == o));
    if !keeps_all {
        // kustomize rewrites the annotations of every object when it removes its own, and an
        // annotations field left empty (or null) is removed then.
        b.step(&mut ra.resources, at("buildMetadata"), |res| {
            res.iter_mut().for_each(drop_empty_annotations);
            Ok(())
        })?;
    }
    Ok(ra.resources)
}

/// Builds the kustomization in `dir` as [`crate::build`] does, and records for every object
/// the file that declared it and each step that changed it.
///
/// # Errors
/// As [`crate::build`].
pub fn build_traced(
    fs: &dyn FileSystem,
    dir: &str,
    options: &Options,
) -> Result<Vec<Traced>, Error> {
    let mut b = Builder::new(fs, options);
    b.record = true;
    let resources = build_resources(&b, dir)?;
    Ok(resources
        .into_iter()
        .map(|r| {
            let (file, generator, generator_kind) = match &r.origin {
                Some(Origin::File(path)) => (Some(path.clone()), None, None),
                Some(Origin::Generator { file, kind, .. }) => {
                    (None, Some(file.clone()), Some(kind.clone()))
                }
                None => (None, None, None),
            };
            let declared_name = r
                .history
                .first()
                .map_or_else(|| r.name().to_owned(), |(name, _, _)| name.clone());
            Traced {
                declared_kind: r.orig_kind.clone(),
                declared_name,
                file,
                generator,
                generator_kind,
                changes: r.changes,
                object: Value::Object(r.obj),
            }
        })
        .collect())
}

/// kustomize's final rewrite of an object's annotations: values become strings (a number put
/// there by a replacement is quoted), and an empty or null annotations field is removed.
fn drop_empty_annotations(r: &mut Resource) {
    let Some(Value::Object(md)) = r.obj.get_mut("metadata") else {
        return;
    };
    if let Some(Value::Object(a)) = md.get_mut("annotations") {
        for v in a.values_mut() {
            if matches!(v, Value::Number(_) | Value::Bool(_)) {
                *v = Value::String(scalar_text(v));
            }
        }
    }
    if md
        .get("annotations")
        .is_some_and(|a| a.is_null() || a.as_object().is_some_and(Map::is_empty))
    {
        md.shift_remove("annotations");
    }
}

/// Builds and prints the way `kustomize build` does.
pub fn build_yaml(fs: &dyn FileSystem, dir: &str, options: &Options) -> Result<String, Error> {
    Ok(driftless_goyaml::to_yaml_stream(&build(fs, dir, options)?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Kustomization,
    Component,
    Any,
}

impl Builder<'_> {
    fn load_kustomization(&self, dir: &str) -> Result<Target, Error> {
        let found: Vec<String> = FILE_NAMES
            .iter()
            .map(|n| join(dir, n))
            .filter(|p| self.fs.exists(p) && !self.fs.is_dir(p))
            .collect();
        let file = match found.as_slice() {
            [] => return Err(Error::MissingKustomization(dir.to_string())),
            [one] => one.clone(),
            _ => {
                return Err(Error::msg(format!(
                    "Found multiple kustomization files under: {dir}"
                )));
            }
        };
        let text = self.read_text(&file)?;
        let value = crate::parse::parse_kustomization(&text, &file)?;
        let value = if value.is_null() {
            Value::Object(Map::new())
        } else {
            value
        };
        let value = fix_legacy(value);
        check_string_maps(&value, &file)?;
        if is_empty(&value) {
            return Err(Error::msg(format!("{file}: kustomization is empty")));
        }
        let k: Kustomization = serde_json::from_value(value)
            .map_err(|e| Error::msg(format!("{file}: invalid Kustomization: {e}")))?;
        let mut k = k;
        enforce_kind_and_version(&k, &file)?;
        // `imageTags` is the old name of `images`.
        let tags = std::mem::take(&mut k.image_tags);
        k.images.extend(tags);
        Ok(Target {
            dir: dir.to_string(),
            file,
            k,
            schema: None,
        })
    }

    /// The `openapi` field: a builtin version or a custom schema file, not both.
    /// Checks the `openapi` field and applies it to the schema in effect: a custom document
    /// replaces it, a builtin version clears it.
    fn apply_openapi(&self, t: &Target, ra: &mut Accumulator) -> Result<(), Error> {
        let Some(openapi) = t.k.openapi.as_ref().and_then(Value::as_object) else {
            return Ok(());
        };
        let path = openapi.get("path").and_then(Value::as_str);
        let version = openapi.get("version").and_then(Value::as_str);
        let err = |m: String| Err(Error::msg(m).in_field(&t.file, "openapi"));
        match (path, version) {
            (Some(_), Some(_)) => {
                err("builtin version and custom schema provided, cannot use both".into())
            }
            (Some(p), None) => {
                let full = self
                    .file_in_root(t, p)
                    .map_err(|e| e.in_field(&t.file, "openapi"))?;
                if !self.fs.exists(&full) {
                    return err(format!("'{full}' doesn't exist"));
                }
                let doc = parse_one(&self.read_text(&full)?, &full)?;
                ra.schema = Some(std::sync::Arc::new(doc));
                Ok(())
            }
            (None, Some(v)) if v != "v1.21.2" => err(format!(
                "the specified OpenAPI version {v} is not built in; only v1.21.2 is"
            )),
            (None, Some(_)) => {
                ra.schema = None;
                Ok(())
            }
            (None, None) => Ok(()),
        }
    }

    pub(crate) fn read_text(&self, path: &str) -> Result<String, Error> {
        let bytes = self.fs.read(path)?;
        String::from_utf8(bytes).map_err(|_| Error::msg(format!("{path}: not valid UTF-8")))
    }

    /// Reads a file named in a kustomization, enforcing the load restrictions.
    pub(crate) fn read_in_root(&self, t: &Target, rel: &str) -> Result<String, Error> {
        let path = self.file_in_root(t, rel)?;
        self.read_text(&path)
    }

    /// The path of a file named in kustomization `t`, as kustomize's `LoadRestrictionsRootOnly`
    /// allows it: inside the kustomization's directory (unless the build allows any path), and
    /// never above the root of the tree (a `..` is not clamped there).
    pub(crate) fn file_in_root(&self, t: &Target, rel: &str) -> Result<String, Error> {
        let path = dir_in_tree(t, rel)?;
        self.check_root(t, &path)?;
        Ok(path)
    }

    pub(crate) fn check_root(&self, t: &Target, path: &str) -> Result<(), Error> {
        if self.options.allow_outside_root {
            return Ok(());
        }
        // Symbolic links are followed first, on both sides, as kustomize evaluates them.
        let root = self.fs.resolve(&t.dir).unwrap_or_else(|| t.dir.clone());
        let real = self.fs.resolve(path);
        let inside = real
            .as_deref()
            .is_some_and(|p| root == "/" || p == root || p.starts_with(&format!("{root}/")));
        if inside {
            Ok(())
        } else {
            Err(Error::msg(format!(
                "security; file '{path}' is not in or below '{root}'"
            )))
        }
    }

    /// Accumulates the kustomization in `dir`, refusing, as kustomize does, a directory that is
    /// or contains one already being accumulated (a cycle).
    fn accumulate(
        &self,
        dir: &str,
        ra: &mut Accumulator,
        expect: Expect,
    ) -> Result<Kustomization, Error> {
        let visited = {
            let chain = self.chain.borrow();
            chain
                .iter()
                .rev()
                .find(|a| contains(dir, a))
                .cloned()
                .map(|a| {
                    let mut path: Vec<&str> = chain.iter().map(String::as_str).collect();
                    path.push(dir);
                    (a, path.join(" -> "))
                })
        };
        if let Some((a, path)) = visited {
            return Err(Error::msg(format!(
                "cycle detected: candidate root '{dir}' contains visited root '{a}' ({path})"
            )));
        }
        let loads = self.loads.get() + 1;
        if loads > crate::target::MAX_KUSTOMIZATIONS {
            return Err(Error::msg(format!(
                "{dir}: more than {} kustomizations accumulated in one build (bases shared along too many paths)",
                crate::target::MAX_KUSTOMIZATIONS
            )));
        }
        self.loads.set(loads);
        self.chain.borrow_mut().push(dir.to_string());
        let result = self.accumulate_here(dir, ra, expect);
        self.chain.borrow_mut().pop();
        result
    }

    fn accumulate_here(
        &self,
        dir: &str,
        ra: &mut Accumulator,
        expect: Expect,
    ) -> Result<Kustomization, Error> {
        let mut t = self.load_kustomization(dir)?;
        for (field, set) in [
            ("helmCharts", !t.k.helm_charts.is_empty()),
            (
                "helmChartInflationGenerator",
                !t.k.helm_chart_inflation_generator.is_empty(),
            ),
        ] {
            if set {
                return Err(Error::msg(crate::target::HELM_UNSUPPORTED).in_field(&t.file, field));
            }
        }
        let is_component = t.k.kind.as_deref() == Some("Component");
        match expect {
            Expect::Kustomization if is_component => {
                return Err(Error::msg(format!(
                    "expected kind != 'Component' for path '{dir}'"
                )));
            }
            Expect::Component if !is_component => {
                let kind = t.k.kind.clone().unwrap_or_else(|| "Kustomization".into());
                return Err(Error::msg(format!(
                    "accumulating components: accumulateDirectory: \"expected kind 'Component' for path '{dir}' but got '{kind}'"
                )));
            }
            _ => {}
        }
        let entries: Vec<String> =
            t.k.bases
                .iter()
                .chain(t.k.resources.iter())
                .cloned()
                .collect();
        for entry in &entries {
            self.accumulate_resource(&t, entry, ra).map_err(|e| {
                Error::msg(format!("accumulating resources: {e}")).in_field(&t.file, "resources")
            })?;
        }
        for crd in &t.k.crds {
            // CRD definitions only feed name reference configuration; they are not output.
            let text = self
                .read_in_root(&t, crd)
                .map_err(|e| e.in_field(&t.file, "crds"))?;
            let doc = parse_one(&text, &join(&t.dir, crd))?;
            let refs = crate::crds::name_references(&doc);
            ra.config.merge(crate::config::TransformerConfig {
                name_reference: refs,
                ..Default::default()
            });
        }
        for c in &t.k.configurations {
            let text = self
                .read_in_root(&t, c)
                .map_err(|e| e.in_field(&t.file, "configurations"))?;
            let cfg = crate::config::TransformerConfig::parse(&text, &join(&t.dir, c))?;
            ra.config.merge(cfg);
        }
        self.apply_openapi(&t, ra)?;
        t.schema = ra.schema.clone();
        // The kustomization's own generators run before its components are accumulated.
        let snapshot = self.snapshot(&ra.resources);
        crate::generate::run(self, &t, ra)?;
        crate::plugins::run_generators(self, &t, ra)?;
        let step = Step {
            file: &t.file,
            field: None,
            transformer: "generators",
        };
        self.changed(snapshot, &mut ra.resources, step);
        for comp in &t.k.components {
            let path = dir_in_tree(&t, comp).map_err(|e| {
                Error::msg(format!("accumulating components: {e}")).in_field(&t.file, "components")
            })?;
            if !self.fs.is_dir(&path) {
                return Err(Error::msg(format!(
                    "accumulating components: accumulateDirectory: \"'{path}' must build at directory: '{path}'\""
                ))
                .in_field(&t.file, "components"));
            }
            self.accumulate(&path, ra, Expect::Component)?;
        }
        crate::transform::run(self, &t, &mut ra.resources, &ra.config)?;
        let snapshot = self.snapshot(&ra.resources);
        if t.k.build_metadata.iter().any(|m| m == "originAnnotations") {
            for r in ra.resources.iter_mut() {
                let Some(origin) = r.origin.clone() else {
                    continue;
                };
                let key = "config.kubernetes.io/origin";
                let md = r.metadata_mut();
                let ann =
                    crate::fieldpath::ensure_object(md.entry("annotations").or_insert(Value::Null));
                if !ann.contains_key(key) {
                    ann.insert(key.into(), Value::String(origin.annotation(&t.dir)));
                }
            }
        }
        if t.k.build_metadata.iter().any(|m| m == "managedByLabel") {
            // kubectl's bundled kustomize reports its version as `(devel)`.
            for r in ra.resources.iter_mut() {
                let md = r.metadata_mut();
                let labels =
                    crate::fieldpath::ensure_object(md.entry("labels").or_insert(Value::Null));
                labels.insert(
                    "app.kubernetes.io/managed-by".into(),
                    Value::String("kustomize-(devel)".into()),
                );
            }
        }
        if t.k
            .build_metadata
            .iter()
            .any(|m| m == "transformerAnnotations")
        {
            for r in ra
                .resources
                .iter_mut()
                .filter(|r| !r.transformations.is_empty())
            {
                let text = crate::resource::transformations_annotation(&r.transformations, &t.dir);
                let md = r.metadata_mut();
                let ann =
                    crate::fieldpath::ensure_object(md.entry("annotations").or_insert(Value::Null));
                ann.insert(
                    "alpha.config.kubernetes.io/transformations".into(),
                    Value::String(text),
                );
            }
        }
        let step = Step {
            file: &t.file,
            field: Some("buildMetadata"),
            transformer: "buildMetadata",
        };
        self.changed(snapshot, &mut ra.resources, step);
        for v in &t.k.vars {
            if ra.vars.iter().any(|x| x.name == v.name) {
                return Err(Error::msg(format!("var '{}' already encountered", v.name)));
            }
            let mut v = v.clone();
            v.target = Some(crate::vars::bind(&ra.resources, &v)?);
            ra.vars.push(v);
        }
        Ok(t.k)
    }

    /// Builds a kustomization directory on its own (for plugin configurations given as one).
    pub(crate) fn build_dir(&self, dir: &str) -> Result<Vec<Resource>, Error> {
        let mut sub = Accumulator::default();
        self.accumulate(dir, &mut sub, Expect::Kustomization)?;
        Ok(sub.resources)
    }

    fn accumulate_resource(
        &self,
        t: &Target,
        entry: &str,
        ra: &mut Accumulator,
    ) -> Result<(), Error> {
        if is_remote(entry) {
            let Some(loader) = &self.options.remote else {
                return Err(Error::msg(format!(
                    "'{entry}': remote resources are not allowed (allow them explicitly to fetch remote bases)"
                )));
            };
            let (fs, dir) = loader
                .load(entry)
                .map_err(|e| Error::msg(format!("'{entry}': {e}")))?;
            let remote = Builder::new(fs.as_ref(), self.options);
            let mut sub = Accumulator::default();
            remote
                .accumulate(&normalize(&dir), &mut sub, Expect::Kustomization)
                .map_err(|e| {
                    Error::msg(format!(
                        "accumulation err='accumulating resources from '{entry}': {e}'"
                    ))
                })?;
            return merge_sub(ra, sub);
        }
        if crate::fs::escapes_root(&t.dir, entry) {
            return Err(Error::msg(format!(
                "accumulation err='accumulating resources from '{entry}': {}'",
                outside_tree(entry)
            )));
        }
        let path = join(&t.dir, entry);
        if self.fs.is_dir(&path) {
            let mut sub = Accumulator::default();
            self.accumulate(&path, &mut sub, Expect::Kustomization)
                .map_err(|e| {
                    Error::msg(format!(
                        "accumulation err='accumulating resources from '{entry}': {e}'"
                    ))
                })?;
            return merge_sub(ra, sub);
        }
        if !self.fs.exists(&path) {
            return Err(Error::msg(format!(
                "accumulation err='accumulating resources from '{entry}': evalsymlink failure on '{path}' : lstat {path}: no such file or directory'"
            )));
        }
        self.check_root(t, &path)?;
        let text = self.read_text(&path)?;
        for mut r in load_resources(&text, &path)? {
            r.origin = Some(crate::resource::Origin::File(path.clone()));
            ra.append(r)?;
        }
        Ok(())
    }
}

/// Whether directory `outer` is `inner` or one of its ancestors.
fn contains(outer: &str, inner: &str) -> bool {
    outer == "/" || outer == inner || inner.starts_with(&format!("{outer}/"))
}

/// Adds what a base accumulated to its parent.
fn merge_sub(ra: &mut Accumulator, sub: Accumulator) -> Result<(), Error> {
    for r in sub.resources {
        ra.append(r)?;
    }
    for v in sub.vars {
        if ra.vars.iter().any(|x| x.name == v.name) {
            return Err(Error::msg(format!("var '{}' already encountered", v.name)));
        }
        ra.vars.push(v);
    }
    ra.config.merge(sub.config);
    if sub.schema.is_some() {
        ra.schema = sub.schema;
    }
    Ok(())
}

/// Reads the resources of a YAML file (expanding `kind: List`).
pub(crate) fn load_resources(text: &str, file: &str) -> Result<Vec<Resource>, Error> {
    let mut out = Vec::new();
    for doc in parse_documents(text, file)? {
        push_doc(doc, text, file, &mut out)?;
    }
    Ok(out)
}

fn push_doc(doc: Value, text: &str, file: &str, out: &mut Vec<Resource>) -> Result<(), Error> {
    let Value::Object(mut obj) = doc else {
        return Err(Error::msg(format!("{file}: a resource must be a mapping")));
    };
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind.ends_with("List") && obj.get("items").is_some_and(Value::is_array) {
        if let Some(Value::Array(items)) = obj.remove("items") {
            for item in items {
                push_doc(item, text, file, out)?;
            }
        }
        return Ok(());
    }
    if kind.is_empty() {
        return Err(Error::msg(format!(
            "{file}: missing Resource metadata: kind not set"
        )));
    }
    let named = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .is_some_and(|n| !n.is_null() && n.as_str() != Some(""));
    if !named && !kind.ends_with("List") {
        return Err(Error::msg(format!(
            "{file}: missing metadata.name in object of kind {kind}"
        )));
    }
    stringify_annotations(&mut obj, text);
    out.push(Resource::new(obj));
    Ok(())
}

/// kustomize reads annotation values as strings whatever their YAML type; a null one becomes
/// its spelling in the file (`~`, `null`, or the empty string for `key:`).
fn stringify_annotations(obj: &mut Map<String, Value>, text: &str) {
    if let Some(Value::Object(a)) = obj
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
    {
        for (k, v) in a.iter_mut() {
            let spelled = v
                .is_null()
                .then(|| crate::parse::scalar_spelling(text, k))
                .flatten()
                .filter(|s| matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"));
            *v = Value::String(match spelled {
                Some(spelled) => spelled,
                None if v.is_null() => "null".to_string(),
                None => scalar_text(v),
            });
        }
    }
}

/// Moves legacy spellings into their current fields before the typed read.
fn fix_legacy(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        let old = std::mem::take(m);
        for (k, v) in old {
            let key = TOP_KEYS
                .iter()
                .find(|c| c.eq_ignore_ascii_case(&k))
                .map_or(k, |c| (*c).to_string());
            m.insert(key, v);
        }
        // A field set to null (`patches:` with every entry commented out) is absent, as in
        // kustomize's Go types; so is a null field of an entry (`literals:` of a generator).
        m.retain(|_, v| !v.is_null());
        for v in m.values_mut() {
            if let Value::Array(items) = v {
                for item in items.iter_mut() {
                    if let Value::Object(fields) = item {
                        fields.retain(|_, f| !f.is_null());
                    }
                }
            }
        }
        canonical_entry_keys(m);
        if let Some(Value::Array(vars)) = m.get_mut("vars") {
            for v in vars.iter_mut() {
                canonical_keys(v);
            }
        }
        for key in ["commonLabels", "commonAnnotations"] {
            if let Some(Value::Object(labels)) = m.get_mut(key) {
                for val in labels.values_mut() {
                    if val.is_null() {
                        *val = Value::String(String::new());
                    }
                }
            }
        }
    }
    v
}

/// Label and annotation values of a kustomization are strings in kustomize's types: a number or
/// a boolean (`1`, `true`, `y`) is refused, as kustomize refuses it, rather than converted.
fn check_string_maps(k: &Value, file: &str) -> Result<(), Error> {
    let mut maps: Vec<(String, &Value)> = ["commonLabels", "commonAnnotations"]
        .iter()
        .filter_map(|f| k.get(*f).map(|m| ((*f).to_string(), m)))
        .collect();
    if let Some(Value::Array(labels)) = k.get("labels") {
        for (i, l) in labels.iter().enumerate() {
            if let Some(p) = l.get("pairs") {
                maps.push((format!("labels[{i}].pairs"), p));
            }
        }
    }
    for (field, m) in maps {
        let Value::Object(m) = m else { continue };
        if let Some((key, _)) = m.iter().find(|(_, v)| !(v.is_string() || v.is_null())) {
            return Err(Error::msg(format!(
                "{file}: invalid Kustomization: the value of {field}.{key} must be a string (quote it)"
            )));
        }
    }
    Ok(())
}

/// kustomize's `EnforceFields`: the kind is `Kustomization` or `Component` (or unset), and the
/// apiVersion, when set, is the one of that kind.
fn enforce_kind_and_version(k: &Kustomization, file: &str) -> Result<(), Error> {
    let kind = k.kind.as_deref().unwrap_or("");
    if !matches!(kind, "" | "Kustomization" | "Component") {
        return Err(Error::msg(format!(
            "{file}: kind should be Kustomization or Component"
        )));
    }
    let (kind, required) = if kind == "Component" {
        ("Component", "kustomize.config.k8s.io/v1alpha1")
    } else {
        ("Kustomization", "kustomize.config.k8s.io/v1beta1")
    };
    match k.api_version.as_deref() {
        None | Some("") => Ok(()),
        Some(v) if v == required => Ok(()),
        Some(_) => Err(Error::msg(format!(
            "{file}: apiVersion for {kind} should be {required}"
        ))),
    }
}

/// Whether a kustomization sets nothing but its `apiVersion` and `kind`, which kustomize refuses:
/// every other field is absent, null, or an empty string (an empty list or map counts as set).
fn is_empty(k: &Value) -> bool {
    let Value::Object(m) = k else {
        return true;
    };
    m.iter().all(|(key, v)| {
        matches!(key.as_str(), "apiVersion" | "kind") || v.is_null() || v.as_str() == Some("")
    })
}

/// Kustomization field names, which kustomize matches case-insensitively.
const TOP_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "components",
    "crds",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "images",
    "imageTags",
    "replicas",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "replacements",
    "vars",
    "sortOptions",
    "buildMetadata",
    "openapi",
    "configurations",
    "transformers",
    "generators",
    "validators",
    "helmCharts",
    "helmGlobals",
    "helmChartInflationGenerator",
];

const GENERATOR_OPTION_KEYS: &[&str] = &[
    "labels",
    "annotations",
    "disableNameSuffixHash",
    "immutable",
];
const PATCH_KEYS: &[&str] = &["path", "patch", "target", "options"];
const SELECTOR_KEYS: &[&str] = &[
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
];
const IMAGE_KEYS: &[&str] = &["name", "newName", "newTag", "digest", "tagSuffix"];
const REPLICA_KEYS: &[&str] = &["name", "count"];
const LABEL_KEYS: &[&str] = &["pairs", "includeSelectors", "includeTemplates", "fields"];
const SORT_KEYS: &[&str] = &["order", "legacySortOptions"];
const LEGACY_SORT_KEYS: &[&str] = &["orderFirst", "orderLast"];

/// Renames the keys of `v` (a mapping) that match one of `names` case-insensitively.
fn canon(v: &mut Value, names: &[&str]) {
    if let Value::Object(m) = v {
        let old = std::mem::take(m);
        for (k, val) in old {
            let key = names
                .iter()
                .find(|c| c.eq_ignore_ascii_case(&k))
                .map_or(k, |c| (*c).to_string());
            m.insert(key, val);
        }
    }
}

/// kustomize's Go types match field names case-insensitively at every level: the fields of
/// generator, patch, image, replica, label and sort entries are renamed to their spelling here
/// (user data such as label pairs is left alone). Unknown fields are then refused by the types.
fn canonical_entry_keys(m: &mut Map<String, Value>) {
    let each = |m: &mut Map<String, Value>, key: &str, f: &dyn Fn(&mut Value)| {
        if let Some(Value::Array(items)) = m.get_mut(key) {
            items.iter_mut().for_each(f);
        }
    };
    let generator = |g: &mut Value| {
        canon(g, GENERATOR_KEYS);
        if let Some(o) = g.get_mut("options") {
            canon(o, GENERATOR_OPTION_KEYS);
        }
    };
    each(m, "configMapGenerator", &generator);
    each(m, "secretGenerator", &generator);
    if let Some(o) = m.get_mut("generatorOptions") {
        canon(o, GENERATOR_OPTION_KEYS);
    }
    let patch = |p: &mut Value| {
        canon(p, PATCH_KEYS);
        if let Some(t) = p.get_mut("target") {
            canon(t, SELECTOR_KEYS);
        }
    };
    each(m, "patches", &patch);
    each(m, "patchesJson6902", &patch);
    each(m, "images", &|i| canon(i, IMAGE_KEYS));
    each(m, "imageTags", &|i| canon(i, IMAGE_KEYS));
    each(m, "replicas", &|r| canon(r, REPLICA_KEYS));
    each(m, "labels", &|l| canon(l, LABEL_KEYS));
    if let Some(s) = m.get_mut("sortOptions") {
        canon(s, SORT_KEYS);
        if let Some(l) = s.get_mut("legacySortOptions") {
            canon(l, LEGACY_SORT_KEYS);
        }
    }
}

/// Field names of `vars` entries, which kustomize matches case-insensitively.
const VAR_KEYS: &[&str] = &[
    "name",
    "objRef",
    "fieldRef",
    "fieldPath",
    "apiVersion",
    "kind",
    "namespace",
    "group",
    "version",
];

fn canonical_keys(v: &mut Value) {
    if let Value::Object(m) = v {
        let old = std::mem::take(m);
        for (k, mut val) in old {
            canonical_keys(&mut val);
            let key = VAR_KEYS
                .iter()
                .find(|c| c.eq_ignore_ascii_case(&k))
                .map_or(k, |c| (*c).to_string());
            m.insert(key, val);
        }
    }
}
