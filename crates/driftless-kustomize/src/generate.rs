//! `configMapGenerator` and `secretGenerator`, and the name suffix hash.

use crate::error::Error;
use crate::kustomization::{Generator, GeneratorOptions};
use crate::resource::{Behavior, Origin, Resource};
use crate::resource::{generated, ns_eq};
use crate::target::{Accumulator, Builder, Target};
use base64::Engine;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Runs the generators of one kustomization.
pub(crate) fn run(b: &Builder<'_>, t: &Target, ra: &mut Accumulator) -> Result<(), Error> {
    for (i, g) in t.k.config_map_generator.iter().enumerate() {
        let mut r = make(b, t, g, "ConfigMap")
            .map_err(|e| e.in_field(&t.file, &format!("configMapGenerator[{i}]")))?;
        r.origin = Some(Origin::Generator {
            file: t.file.clone(),
            kind: "ConfigMapGenerator".into(),
            name: None,
            namespace: None,
        });
        add(ra, r)?;
    }
    for (i, g) in t.k.secret_generator.iter().enumerate() {
        let mut r = make(b, t, g, "Secret")
            .map_err(|e| e.in_field(&t.file, &format!("secretGenerator[{i}]")))?;
        r.origin = Some(Origin::Generator {
            file: t.file.clone(),
            kind: "SecretGenerator".into(),
            name: None,
            namespace: None,
        });
        add(ra, r)?;
    }
    Ok(())
}

/// Adds a generated resource, merging with or replacing an existing one as its behavior says.
pub(crate) fn add(ra: &mut Accumulator, r: Resource) -> Result<(), Error> {
    let id = r.id();
    let existing = ra.resources.iter().position(|x| {
        x.kind() == id.kind
            && (x.had_name(&id.name) || x.orig_id().name == id.name)
            && (ns_eq(x.namespace(), &id.namespace) || ns_eq(&x.orig_id().namespace, &id.namespace))
    });
    match (r.behavior, existing) {
        (Behavior::Create, None) => {
            ra.resources.push(r);
            Ok(())
        }
        (Behavior::Create, Some(_)) => Err(Error::msg(format!(
            "id {id} exists; behavior must be merge or replace"
        ))),
        (_, None) => Err(Error::msg(format!(
            "id {id} does not exist; cannot merge or replace"
        ))),
        (behavior, Some(i)) => {
            let Some(old) = ra.resources.get_mut(i) else {
                return Ok(());
            };
            for field in ["data", "binaryData"] {
                let new = r
                    .obj
                    .get(field)
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                if behavior == Behavior::Replace {
                    // The replacement's own field, even empty (a Secret's `data: {}`).
                    match r.obj.get(field) {
                        Some(v) => {
                            old.obj.insert(field.to_string(), v.clone());
                        }
                        None => {
                            old.obj.shift_remove(field);
                        }
                    }
                    continue;
                }
                if new.is_empty() {
                    // kustomize writes the merged map back, and an empty one is no field at all.
                    if old
                        .obj
                        .get(field)
                        .and_then(Value::as_object)
                        .is_some_and(Map::is_empty)
                    {
                        old.obj.shift_remove(field);
                    }
                    continue;
                }
                let slot = old
                    .obj
                    .entry(field.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                let m = crate::fieldpath::ensure_object(slot);
                for (k, v) in new {
                    m.insert(k, v);
                }
            }
            for field in ["labels", "annotations"] {
                if let Some(Value::Object(new)) = r.obj.get("metadata").and_then(|m| m.get(field)) {
                    let md = old.metadata_mut();
                    let m = crate::fieldpath::ensure_object(
                        md.entry(field.to_string()).or_insert(Value::Null),
                    );
                    for (k, v) in new {
                        m.insert(k.clone(), v.clone());
                    }
                }
            }
            // kustomize puts the new object in the old one's place, under the old name and with
            // the old labels, annotations (and, to merge, data) beneath the new ones: every other
            // field (`immutable`, a Secret's `type`) is the new object's.
            let kept = ["metadata", "data", "binaryData"];
            old.obj.retain(|k, _| kept.contains(&k.as_str()));
            for (k, v) in &r.obj {
                if !kept.contains(&k.as_str()) {
                    old.obj.insert(k.clone(), v.clone());
                }
            }
            if behavior == Behavior::Replace {
                old.origin = r.origin.clone();
            }
            // A merged or replaced resource keeps its hash suffix only if both sides want one.
            old.needs_hash = old.needs_hash && r.needs_hash;
            Ok(())
        }
    }
}

pub(crate) fn make(
    b: &Builder<'_>,
    t: &Target,
    g: &Generator,
    kind: &str,
) -> Result<Resource, Error> {
    let name = g.name.clone().unwrap_or_default();
    if name.is_empty() {
        let what = if kind == "Secret" {
            "secret"
        } else {
            "configmap"
        };
        return Err(Error::msg(format!("a {what} must have a name")));
    }
    let mut pairs: Vec<(String, Vec<u8>)> = Vec::new();
    // kustomize reads env files first (`envs`, then the legacy `env`), then literals, then files.
    for env in g.envs.iter().chain(g.env.iter()) {
        let text = b.read_in_root(t, env)?;
        pairs.extend(env_pairs(&text));
    }
    for lit in &g.literals {
        let (k, v) = lit
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| {
                Error::msg("invalid literal source (the value is not shown), expected key=value")
            })?;
        pairs.push((k.to_string(), unquote(v).as_bytes().to_vec()));
    }
    for f in &g.files {
        let (key, path) = match f.split_once('=') {
            Some((k, p)) => (k.to_string(), p.to_string()),
            None => (f.rsplit('/').next().unwrap_or(f).to_string(), f.clone()),
        };
        let full = b.file_in_root(t, &path)?;
        let content = b.fs.read(&full)?;
        pairs.push((key, content));
    }
    let mut data = Map::new();
    let mut binary = Map::new();
    for (k, v) in pairs {
        if data.contains_key(&k) || binary.contains_key(&k) {
            return Err(Error::msg(format!(
                "configmap {name} illegally repeats the key `{k}`"
            )));
        }
        match (kind, String::from_utf8(v)) {
            ("Secret", Ok(s)) => {
                data.insert(
                    k,
                    Value::String(wrap70(&base64::engine::general_purpose::STANDARD.encode(s))),
                );
            }
            ("Secret", Err(e)) => {
                data.insert(
                    k,
                    Value::String(wrap70(
                        &base64::engine::general_purpose::STANDARD.encode(e.into_bytes()),
                    )),
                );
            }
            (_, Ok(s)) => {
                // kustomize writes the generated object as YAML and reads it back: a value of
                // several lines goes out as a literal block, and one whose first character is a
                // tab cannot be read back from it.
                if s.starts_with('\t') && s.contains('\n') {
                    return Err(Error::msg(format!(
                        "configmap {name}: the value of {k} spans lines and starts with a tab, which kustomize cannot read back (found a tab character where an indentation space is expected)"
                    )));
                }
                data.insert(k, Value::String(s));
            }
            (_, Err(e)) => {
                // Wrapped like a Secret's data: kustomize encodes both with one function.
                binary.insert(
                    k,
                    Value::String(wrap70(
                        &base64::engine::general_purpose::STANDARD.encode(e.into_bytes()),
                    )),
                );
            }
        }
    }
    let opts = merged_options(t.k.generator_options.as_ref(), g.options.as_ref());
    let mut md = Map::new();
    md.insert("name".into(), Value::String(name));
    if let Some(ns) = &g.namespace {
        md.insert("namespace".into(), Value::String(ns.clone()));
    }
    if !opts.labels.is_empty() {
        md.insert(
            "labels".into(),
            Value::Object(
                opts.labels
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
    }
    if !opts.annotations.is_empty() {
        md.insert(
            "annotations".into(),
            Value::Object(
                opts.annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
    }
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), Value::String("v1".into()));
    obj.insert("kind".into(), Value::String(kind.into()));
    obj.insert("metadata".into(), Value::Object(md));
    // A generated Secret always has `data` (`data: {}` when empty); a ConfigMap only when set.
    if !data.is_empty() || kind == "Secret" {
        obj.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        obj.insert("binaryData".into(), Value::Object(binary));
    }
    if kind == "Secret" {
        obj.insert(
            "type".into(),
            Value::String(g.type_.clone().unwrap_or_else(|| "Opaque".into())),
        );
    }
    if opts.immutable == Some(true) {
        obj.insert("immutable".into(), Value::Bool(true));
    }
    // kustomize reads any other value (`add`, a typo) as unspecified, which creates.
    let behavior = match g.behavior.as_deref() {
        Some("merge") => Behavior::Merge,
        Some("replace") => Behavior::Replace,
        _ => Behavior::Create,
    };
    Ok(generated(
        obj,
        behavior,
        opts.disable_name_suffix_hash != Some(true),
    ))
}

/// The pairs of an env file as kustomize reads them: leading white space is dropped, empty lines
/// and `#` comments are skipped, a line is split at its first `=`, a line without `=` is a key
/// with an empty value, and a line with an empty key is skipped. A byte order mark is dropped
/// from the first line only.
fn env_pairs(text: &str) -> Vec<(String, Vec<u8>)> {
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = if i == 0 {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        if !k.is_empty() {
            pairs.push((k.to_string(), v.as_bytes().to_vec()));
        }
    }
    pairs
}

fn merged_options(
    global: Option<&GeneratorOptions>,
    own: Option<&GeneratorOptions>,
) -> GeneratorOptions {
    let mut o = global.cloned().unwrap_or_default();
    if let Some(own) = own {
        o.labels.extend(own.labels.clone());
        o.annotations.extend(own.annotations.clone());
        if own.disable_name_suffix_hash.is_some() {
            o.disable_name_suffix_hash = own.disable_name_suffix_hash;
        }
        if own.immutable.is_some() {
            o.immutable = own.immutable;
        }
    }
    o
}

/// Literal values lose one pair of matching surrounding quotes.
fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// Base64 text longer than 70 characters is split into lines of 70, each ending in a newline.
fn wrap70(s: &str) -> String {
    if s.len() <= 70 {
        return s.to_string();
    }
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(70) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

/// Appends the content hash to the names of generated resources.
pub fn add_hashes(res: &mut [Resource]) -> Result<(), Error> {
    for r in res.iter_mut().filter(|r| r.needs_hash) {
        let h = content_hash(r);
        let name = format!("{}-{h}", r.name());
        r.set_name(&name);
        r.needs_hash = false;
    }
    Ok(())
}

/// kustomize's content hash: SHA-256 of a JSON encoding of the kind, `data` (a missing one as an
/// empty string, a present one as a map, even empty), `binaryData` of a ConfigMap and
/// `stringData` and `type` of a Secret, first ten hex digits with `0 1 3 a e` replaced so no
/// words form.
pub fn content_hash(r: &Resource) -> String {
    let mut m = Map::new();
    let kind = r.kind().to_string();
    let field = |k: &str| match r.obj.get(k) {
        None => Value::String(String::new()),
        Some(Value::Object(d)) => Value::Object(d.clone()),
        Some(other) => Value::String(crate::resource::scalar_text(other)),
    };
    m.insert("data".into(), field("data"));
    let extra = if kind == "Secret" {
        "stringData"
    } else {
        "binaryData"
    };
    if let Some(Value::Object(b)) = r.obj.get(extra) {
        m.insert(extra.into(), Value::Object(b.clone()));
    }
    m.insert("kind".into(), Value::String(kind.clone()));
    m.insert("name".into(), Value::String(String::new()));
    if kind == "Secret" {
        m.insert("type".into(), field("type"));
    }
    let json = go_json(&Value::Object(m));
    let digest = Sha256::digest(json.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex.chars()
        .take(10)
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// JSON as Go's `encoding/json` writes it: keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped.
fn go_json(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        go_str(k),
                        go_json(m.get(*k).unwrap_or(&Value::Null))
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(go_json).collect::<Vec<_>>().join(",")),
        Value::String(s) => go_str(s),
        other => other.to_string(),
    }
}

fn go_str(s: &str) -> String {
    let base = Value::String(s.to_string()).to_string();
    base.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn env_files_read_bare_keys_as_empty_values() {
        let got = env_pairs("\u{feff}A=1\n# c\n\n  BARE  \n=skipped\nB=x=y \r\n");
        let want: Vec<(String, Vec<u8>)> = vec![
            ("A".into(), b"1".to_vec()),
            ("BARE  ".into(), Vec::new()),
            ("B".into(), b"x=y ".to_vec()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn hashes_match_kustomize() {
        let cm = Resource::new(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s"}, "data": {"a": "b"}}).as_object().cloned().unwrap_or_default());
        assert_eq!(content_hash(&cm), "4h2mbtbbt6");
        let s = Resource::new(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "Yg=="}, "type": "Opaque"}).as_object().cloned().unwrap_or_default());
        assert_eq!(content_hash(&s), "k695gkmbtk");
    }
}
