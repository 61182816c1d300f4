//! The report: every field or object that did not carry over as it was, and why.

use serde::Serialize;

/// What became of a field or an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// The whole object was not converted: nothing was written for it.
    NotConverted,
    /// The object was converted without this field: Driftless has no equivalent.
    Dropped,
    /// The field was converted to the nearest Driftless setting, which behaves differently in
    /// the way the reason says.
    Changed,
}

impl Outcome {
    /// How the report names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotConverted => "not converted",
            Self::Dropped => "dropped",
            Self::Changed => "changed",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The source object: `Kind namespace/name` (`Kind name` when cluster-scoped), with the
    /// file and document it came from.
    pub object: String,
    /// The field, as a dotted path from the object's root (`spec.source.helm`); absent when the
    /// finding is about the whole object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What became of it.
    pub outcome: Outcome,
    /// Why, and what to do about it.
    pub reason: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(
                f,
                "{}: {field}: {}: {}",
                self.object,
                self.outcome.as_str(),
                self.reason
            ),
            None => write!(
                f,
                "{}: {}: {}",
                self.object,
                self.outcome.as_str(),
                self.reason
            ),
        }
    }
}

/// The findings about one source object, as they are made.
#[derive(Debug)]
pub(crate) struct Notes<'a> {
    object: String,
    out: &'a mut Vec<Finding>,
}

impl<'a> Notes<'a> {
    /// Notes about `object`, appended to `out`.
    pub(crate) fn new(object: String, out: &'a mut Vec<Finding>) -> Self {
        Self { object, out }
    }

    /// The object the notes are about.
    pub(crate) fn object(&self) -> &str {
        &self.object
    }

    /// A field without equivalent.
    pub(crate) fn dropped(&mut self, field: &str, reason: impl Into<String>) {
        self.push(Some(field), Outcome::Dropped, reason.into());
    }

    /// A field converted with other semantics.
    pub(crate) fn changed(&mut self, field: &str, reason: impl Into<String>) {
        self.push(Some(field), Outcome::Changed, reason.into());
    }

    /// The object, or because of `field` the object, was not converted.
    pub(crate) fn not_converted(&mut self, field: Option<&str>, reason: impl Into<String>) {
        self.push(field, Outcome::NotConverted, reason.into());
    }

    /// A finding about another object, made while converting this one.
    pub(crate) fn push_finding(&mut self, finding: Finding) {
        self.out.push(finding);
    }

    fn push(&mut self, field: Option<&str>, outcome: Outcome, reason: String) {
        self.out.push(Finding {
            object: self.object.clone(),
            field: field.map(str::to_owned),
            outcome,
            reason,
        });
    }

    /// Whether the object was found not convertible.
    pub(crate) fn refused(&self) -> bool {
        self.out
            .iter()
            .any(|f| f.object == self.object && f.outcome == Outcome::NotConverted)
    }
}
