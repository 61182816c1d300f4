//! `values.schema.json` validation, as Helm runs it before rendering: each chart's schema
//! against its (coalesced) values, then each enabled subchart's against the values under the
//! subchart's name. Failures are gathered and reported together in Helm's shape:
//!
//! ```text
//! values don't meet the specifications of the schema(s) in the following chart(s):
//! mychart:
//! - at '/replicaCount': "three" is not of type "integer"
//! ```
//!
//! Caveat: the chart lines and `- at '<pointer>'` lines are Helm's; the wording of each
//! violation is the `jsonschema` crate's, not Helm's Go validator's. Remote `$ref`s are not
//! fetched (rendering does no network I/O): a schema that needs one is reported as invalid.

use serde_json::Value;

use crate::Error;
use crate::chart::Chart;
use crate::table::{Values, type_name};

/// Validates `values` (the chart's coalesced values) against the schemas of `chart` and of its
/// enabled subcharts.
///
/// # Errors
/// [`Error::Schema`] with every violation, or [`Error::BadSchema`] for a schema that is not
/// valid JSON or not a valid schema.
pub fn validate_values(chart: &Chart, values: &Values) -> Result<(), Error> {
    let mut report = String::new();
    collect(chart, values, &mut report)?;
    if report.is_empty() {
        Ok(())
    } else {
        Err(Error::Schema(report))
    }
}

fn collect(chart: &Chart, values: &Values, report: &mut String) -> Result<(), Error> {
    if let Some(schema) = &chart.schema {
        let bad = |message: String| Error::BadSchema {
            chart: chart.name().to_owned(),
            message,
        };
        let mut schema: Value = serde_json::from_slice(schema).map_err(|e| bad(e.to_string()))?;
        latest_draft_alias(&mut schema);
        let validator = jsonschema::validator_for(&schema).map_err(|e| bad(e.to_string()))?;
        let instance = integral_floats_as_integers(Value::Object(values.clone()));
        let mut errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| {
                let at = e.instance_path.to_string();
                format!("- at '{at}': {e}")
            })
            .collect();
        if !errors.is_empty() {
            errors.sort();
            report.push_str(&format!("{}:\n", chart.name()));
            for e in errors {
                report.push_str(&e);
                report.push('\n');
            }
        }
    }
    for sub in &chart.dependencies {
        match values.get(sub.name()) {
            None | Some(Value::Null) => {}
            Some(Value::Object(sub_values)) => collect(sub, sub_values, report)?,
            Some(other) => report.push_str(&format!(
                "{}:\ninvalid type for values: expected object (map), got {}\n",
                sub.name(),
                type_name(other)
            )),
        }
    }
    Ok(())
}

/// `http://json-schema.org/schema` names "the latest draft" (Helm's validator fetches it, and
/// it is the 2020-12 meta-schema); the `jsonschema` crate does not know the alias.
fn latest_draft_alias(schema: &mut Value) {
    if let Some(Value::String(s)) = schema.get_mut("$schema") {
        let bare = s
            .trim_end_matches('#')
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        if bare == "json-schema.org/schema" {
            *s = "https://json-schema.org/draft/2020-12/schema".into();
        }
    }
}

/// Values read from YAML are Go `float64`s; JSON Schema counts `3.0` as an integer, as Helm's
/// validator does, but the `jsonschema` crate does not for every keyword: integral floats are
/// handed to it as integers.
fn integral_floats_as_integers(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                Value::Number(serde_json::Number::from(f as i64))
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => {
            Value::Array(items.into_iter().map(integral_floats_as_integers).collect())
        }
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, integral_floats_as_integers(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::load_files;
    use crate::file::File;
    use serde_json::json;

    fn chart() -> Result<Chart, Error> {
        load_files(vec![
            File {
                name: "Chart.yaml".into(),
                data: b"name: app\nversion: 1.0.0\n".to_vec(),
            },
            File {
                name: "values.schema.json".into(),
                data: br#"{"type":"object","properties":{"replicas":{"type":"integer","minimum":1}},"required":["replicas"]}"#.to_vec(),
            },
        ])
    }

    #[test]
    fn yaml_numbers_are_integers_to_the_schema_and_violations_name_the_chart() -> Result<(), Error>
    {
        let c = chart()?;
        let ok = crate::yaml::values_file(b"replicas: 3\n")
            .map_err(|e| Error::Invalid(e.to_string()))?;
        validate_values(&c, &ok)?;
        let bad = json!({"replicas": "three"});
        let Value::Object(bad) = bad else {
            return Ok(());
        };
        match validate_values(&c, &bad) {
            Err(Error::Schema(report)) => {
                assert!(report.starts_with("app:\n- at '/replicas': "), "{report}");
            }
            other => panic!("expected a schema error, got {other:?}"),
        }
        Ok(())
    }
}
