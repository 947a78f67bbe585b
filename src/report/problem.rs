//! The message model: a problem (or a warning) knows what it is about and says what is wrong;
//! rendering it is the only place where subjects become prefixes.

use std::fmt;

use super::shorten;

/// What a problem is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The admitted object as a whole; the text names what it is about.
    Object,
    /// One annotation of the object, by key.
    Annotation(String),
    /// A BackupBlueprint, and the field of it (`spec.backend.gcs.prefix`) when one is to blame.
    Blueprint { name: String, field: Option<String> },
    /// A policy setting, by field path (`blueprintAccess[0].namespaces[1]`).
    Setting(String),
}

/// One line of a rejection, or one warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub subject: Subject,
    pub text: String,
}

impl Problem {
    pub fn object(text: impl Into<String>) -> Problem {
        Problem {
            subject: Subject::Object,
            text: text.into(),
        }
    }

    pub fn annotation(key: impl Into<String>, text: impl Into<String>) -> Problem {
        Problem {
            subject: Subject::Annotation(key.into()),
            text: text.into(),
        }
    }

    /// A problem of blueprint `name` as a whole: `text` follows its name (`not found`).
    pub fn blueprint(name: &str, text: impl Into<String>) -> Problem {
        Problem {
            subject: Subject::Blueprint {
                name: name.to_string(),
                field: None,
            },
            text: text.into(),
        }
    }

    pub fn blueprint_field(name: &str, field: impl Into<String>, text: impl Into<String>) -> Problem {
        Problem {
            subject: Subject::Blueprint {
                name: name.to_string(),
                field: Some(field.into()),
            },
            text: text.into(),
        }
    }

    pub fn setting(path: impl Into<String>, text: impl Into<String>) -> Problem {
        Problem {
            subject: Subject::Setting(path.into()),
            text: text.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.subject {
            Subject::Object => write!(f, "{}", self.text),
            // Keys, names and paths come from the object, a blueprint or the settings: quoted
            // like any user text (cut, controls escaped).
            Subject::Annotation(key) | Subject::Setting(key) => write!(f, "{}: {}", shorten(key), self.text),
            Subject::Blueprint { name, field: None } => {
                write!(f, "BackupBlueprint '{}' {}", shorten(name), self.text)
            }
            Subject::Blueprint {
                name,
                field: Some(field),
            } => {
                write!(
                    f,
                    "BackupBlueprint '{}' {}: {}",
                    shorten(name),
                    shorten(field),
                    self.text
                )
            }
        }
    }
}

/// The rendered lines of `problems`.
pub fn render(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(Problem::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_subject_renders_its_prefix() {
        assert_eq!(
            render(&[
                Problem::object("metadata.name is empty"),
                Problem::annotation("stash.appscode.com/schedule", "bad"),
                Problem::blueprint("gcs", "not found"),
                Problem::blueprint_field("gcs", "spec.schedule", "bad"),
                Problem::setting("blueprintAccess[0].blueprints", "is required"),
            ]),
            [
                "metadata.name is empty",
                "stash.appscode.com/schedule: bad",
                "BackupBlueprint 'gcs' not found",
                "BackupBlueprint 'gcs' spec.schedule: bad",
                "blueprintAccess[0].blueprints: is required",
            ]
        );
    }
}
