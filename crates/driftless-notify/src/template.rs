//! Message templates: Jinja syntax (MiniJinja) over the event's fields, checked when the Alert is
//! read and bounded when it runs.
//!
//! The fields: `reason`, `severity`, `name`, `namespace`, `project`, `revision` (empty when the
//! event has none), `short_revision` (its first 8 characters), `repo_url`, `message`, `time`,
//! `labels` (a map) and `metadata` (the Alert's `eventMetadata`). A field that does not exist is
//! an error, not an empty string, so a typo shows on the Alert instead of in every message.

use std::collections::BTreeMap;

use std::sync::Arc;

use minijinja::value::Object;
use minijinja::{Environment, UndefinedBehavior, Value};

use crate::event::Event;

/// The message when an Alert has no template.
pub const DEFAULT_TEMPLATE: &str = "{{ name }}: {{ message }}";

/// Template instructions one message may execute: enough for any loop over labels, and a bound
/// on a template written to spin (an Alert is written by a tenant, rendered by the controller).
const FUEL: u64 = 10_000;

/// The longest rendered message, in bytes; longer ones are cut (chat and forge APIs refuse huge
/// bodies, and a message is one line for people).
pub const MAX_MESSAGE: usize = 4_000;

/// Why a template cannot be used: its line and MiniJinja's word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("spec.template: {0}")]
pub struct TemplateError(String);

/// A checked template.
#[derive(Debug, Clone)]
pub struct Template {
    source: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    // Messages are plain text: no HTML escaping.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env
}

fn describe(error: &minijinja::Error) -> String {
    let what = match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    };
    match error.line() {
        Some(line) => format!("line {line}: {what}"),
        None => what,
    }
}

impl Template {
    /// Parses `source` (or the default) and renders it once over a sample event, so that a
    /// syntax error or an unknown field is reported before any event comes.
    pub fn new(source: Option<&str>) -> Result<Self, TemplateError> {
        let template = Self {
            source: source.unwrap_or(DEFAULT_TEMPLATE).to_owned(),
        };
        // Labels and metadata differ between Applications: any key reads while checking.
        template.render_with(
            &crate::sample_event(),
            Value::from_object(AnyKey),
            Value::from_object(AnyKey),
        )?;
        Ok(template)
    }

    /// The message for `event`, with the Alert's `metadata`; at most [`MAX_MESSAGE`] bytes.
    ///
    /// # Caveats
    /// A label the Application does not carry is undefined (an error): write
    /// `{{ labels.tier | default('') }}` for one that only some Applications have.
    pub fn render(
        &self,
        event: &Event,
        metadata: &BTreeMap<String, String>,
    ) -> Result<String, TemplateError> {
        self.render_with(
            event,
            Value::from_pairs(event.labels.clone()),
            Value::from_pairs(metadata.clone()),
        )
    }

    fn render_with(
        &self,
        event: &Event,
        labels: Value,
        metadata: Value,
    ) -> Result<String, TemplateError> {
        let env = environment();
        let revision = event.revision.clone().unwrap_or_default();
        let short: String = revision.chars().take(8).collect();
        let fields: BTreeMap<&str, Value> = BTreeMap::from([
            ("reason", Value::from(event.kind.reason())),
            ("severity", Value::from(event.severity().as_str())),
            ("name", Value::from(event.name.as_str())),
            ("namespace", Value::from(event.namespace.as_str())),
            ("project", Value::from(event.project.as_str())),
            ("revision", Value::from(revision.as_str())),
            ("short_revision", Value::from(short)),
            ("repo_url", Value::from(event.repo_url.as_str())),
            ("message", Value::from(event.message.as_str())),
            ("time", Value::from(event.time.as_str())),
            ("labels", labels),
            ("metadata", metadata),
        ]);
        let text = env
            .render_str(&self.source, Value::from_pairs(fields))
            .map_err(|e| TemplateError(describe(&e)))?;
        Ok(cut(text, MAX_MESSAGE))
    }
}

/// A map that has every key, standing for labels and metadata while a template is checked.
#[derive(Debug)]
struct AnyKey;

impl Object for AnyKey {
    fn get_value(self: &Arc<Self>, _key: &Value) -> Option<Value> {
        Some(Value::from("value"))
    }
}

/// `text`, cut to at most `most` bytes on a character boundary, ending in `...` when cut.
pub fn cut(mut text: String, most: usize) -> String {
    if text.len() > most {
        let mut end = most.saturating_sub(3);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("...");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;
    use crate::fixtures::event;

    #[test]
    fn the_default_names_the_application_and_says_what_happened() {
        let template = Template::new(None).unwrap();
        let text = template
            .render(
                &event(EventKind::SyncSucceeded, "team-a", "web"),
                &BTreeMap::new(),
            )
            .unwrap();
        assert_eq!(
            text,
            "web: synced to 0123456789abcdef0123456789abcdef01234567"
        );
    }

    #[test]
    fn every_field_renders() {
        let template = Template::new(Some(
            "{{ severity|upper }} {{ reason }} {{ namespace }}/{{ name }} ({{ project }}) at {{ short_revision }} of {{ repo_url }}: {{ message }} [{{ labels.tier }}] {{ metadata.cluster }}{% if severity == 'error' %} !{% endif %}",
        ))
        .unwrap();
        let mut failed = event(EventKind::SyncFailed, "team-a", "web");
        failed.labels.insert("tier".into(), "prod".into());
        failed.message = "apply failed".into();
        let metadata = BTreeMap::from([("cluster".to_owned(), "eu-1".to_owned())]);
        assert_eq!(
            template.render(&failed, &metadata).unwrap(),
            "ERROR SyncFailed team-a/web (default) at 01234567 of https://git.example/acme/web.git: apply failed [prod] eu-1 !"
        );
    }

    #[test]
    fn an_unknown_field_or_bad_syntax_is_refused_with_its_line() {
        let unknown = Template::new(Some("{{ nmae }}")).unwrap_err();
        assert!(
            unknown
                .to_string()
                .starts_with("spec.template: line 1: undefined value"),
            "{unknown}"
        );
        let syntax = Template::new(Some("ok\n{% if %}")).unwrap_err();
        assert!(
            syntax
                .to_string()
                .starts_with("spec.template: line 2: syntax error"),
            "{syntax}"
        );
    }

    #[test]
    fn a_spinning_template_runs_out_of_fuel() {
        let spin = Template::new(Some(
            "{% for a in range(1000) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}",
        ))
        .unwrap_err();
        assert!(spin.to_string().contains("fuel"), "{spin}");
    }

    #[test]
    fn a_missing_label_is_an_error_unless_defaulted() {
        let strict = Template::new(Some("{{ labels.tier }}")).unwrap();
        let web = event(EventKind::SyncStarted, "team-a", "web");
        assert!(strict.render(&web, &BTreeMap::new()).is_err());
        let lenient = Template::new(Some("[{{ labels.tier | default('none') }}]")).unwrap();
        assert_eq!(lenient.render(&web, &BTreeMap::new()).unwrap(), "[none]");
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let template = Template::new(Some("{{ message }}")).unwrap();
        let mut long = event(EventKind::SyncFailed, "team-a", "web");
        long.message = "é".repeat(3_000);
        let text = template.render(&long, &BTreeMap::new()).unwrap();
        assert!(text.len() <= MAX_MESSAGE && text.ends_with("..."));
    }
}
