//! Body validation like Konnect's: every problem collected, each naming the field and the
//! rule (`required`, `unknown_property`, `type`, `min_length`, `max_length`, `enum`,
//! `is_label`, `matches_regex`, …) as the documents' `InvalidParameter*` schemas spell them.

use serde_json::{Map, Value, json};

use super::problem::{Outcome, SandboxProblem, param};
use super::rules::{RESERVED_LABEL_PREFIXES, label_token};

/// Collects the problems of one body.
pub(crate) struct Check<'a> {
    body: &'a Map<String, Value>,
    prefix: String,
    pub(crate) problems: Vec<Value>,
}

pub(crate) fn object(body: &Value) -> Outcome<&Map<String, Value>> {
    body.as_object()
        .ok_or_else(|| SandboxProblem::field("body", "is_object", "the body must be a JSON object"))
}

impl<'a> Check<'a> {
    pub(crate) fn new(body: &'a Map<String, Value>) -> Self {
        Check {
            body,
            prefix: String::new(),
            problems: Vec::new(),
        }
    }

    /// A check of a nested object whose fields are reported as `prefix.field`.
    pub(crate) fn nested(body: &'a Map<String, Value>, prefix: &str) -> Self {
        Check {
            body,
            prefix: format!("{prefix}."),
            problems: Vec::new(),
        }
    }

    fn name(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    fn push(&mut self, field: &str, rule: &str, reason: impl Into<String>) {
        let name = self.name(field);
        self.problems.push(param(&name, rule, reason));
    }

    pub(crate) fn merge(&mut self, other: Check<'_>) {
        self.problems.extend(other.problems);
    }

    pub(crate) fn finish(self) -> Outcome<()> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(SandboxProblem::invalid(self.problems))
        }
    }

    pub(crate) fn allowed(&mut self, keys: &[&str]) {
        let unknown: Vec<String> = self
            .body
            .keys()
            .filter(|k| !keys.contains(&k.as_str()))
            .cloned()
            .collect();
        for key in unknown {
            self.push(&key, "unknown_property", "unknown property");
        }
    }

    fn length(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let n = value.chars().count();
        if n < min {
            let name = self.name(field);
            let mut p = param(&name, "min_length", format!("must have at least {min} characters"));
            p["minimum"] = json!(min);
            self.problems.push(p);
        } else if n > max {
            let name = self.name(field);
            let mut p = param(&name, "max_length", format!("must not have more than {max} characters"));
            p["maximum"] = json!(max);
            self.problems.push(p);
        }
    }

    /// A string field; `required` says whether it must be present.
    pub(crate) fn string(&mut self, field: &str, required: bool, min: usize, max: usize) -> Option<&'a str> {
        match self.body.get(field) {
            None => {
                if required {
                    self.push(field, "required", "is a required field");
                }
                None
            }
            Some(Value::String(s)) => {
                self.length(field, s, min, max);
                Some(s)
            }
            Some(Value::Null) if !required => None,
            Some(_) => {
                self.push(field, "is_string", "must be a string");
                None
            }
        }
    }

    pub(crate) fn boolean(&mut self, field: &str) {
        if let Some(v) = self.body.get(field)
            && !v.is_boolean()
        {
            self.push(field, "is_boolean", "must be a boolean");
        }
    }

    pub(crate) fn url(&mut self, field: &str, required: bool) -> Option<&'a str> {
        let value = self.string(field, required, 1, 256)?;
        let ok = url::Url::parse(value).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            self.push(field, "invalid", "must be a valid URL");
        }
        Some(value)
    }

    pub(crate) fn uuid(&mut self, field: &str, required: bool) -> Option<&'a str> {
        let value = self.string(field, required, 0, 64)?;
        if !is_uuid(value) {
            self.push(field, "is_uuid", "must be a valid UUID");
            return None;
        }
        Some(value)
    }

    pub(crate) fn choice(&mut self, field: &str, required: bool, choices: &[&str]) -> Option<&'a str> {
        let value = self.string(field, required, 0, 256)?;
        if !choices.contains(&value) {
            let name = self.name(field);
            let mut p = param(&name, "enum", format!("must be one of: {}", choices.join(", ")));
            p["choices"] = json!(choices);
            self.problems.push(p);
            return None;
        }
        Some(value)
    }

    pub(crate) fn strings(
        &mut self,
        field: &str,
        required: bool,
        min: usize,
        max: usize,
        item_max: usize,
    ) -> Option<Vec<String>> {
        match self.body.get(field) {
            None => {
                if required {
                    self.push(field, "required", "is a required field");
                }
                None
            }
            Some(Value::Array(items)) => {
                if items.len() < min {
                    let name = self.name(field);
                    let mut p = param(&name, "min_items", format!("must have at least {min} items"));
                    p["minimum"] = json!(min);
                    self.problems.push(p);
                } else if items.len() > max {
                    let name = self.name(field);
                    let mut p = param(&name, "max_items", format!("must not have more than {max} items"));
                    p["maximum"] = json!(max);
                    self.problems.push(p);
                }
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) => {
                            self.length(&format!("{field}[{i}]"), s, 0, item_max);
                            out.push(s.to_owned());
                        }
                        None => self.push(&format!("{field}[{i}]"), "is_string", "must be a string"),
                    }
                }
                Some(out)
            }
            Some(_) => {
                self.push(field, "is_array", "must be an array");
                None
            }
        }
    }

    pub(crate) fn nested_object(&mut self, field: &str, required: bool) -> Option<&'a Map<String, Value>> {
        match self.body.get(field) {
            None => {
                if required {
                    self.push(field, "required", "is a required field");
                }
                None
            }
            Some(Value::Object(map)) => Some(map),
            Some(Value::Null) if !required => None,
            Some(_) => {
                self.push(field, "is_object", "must be an object");
                None
            }
        }
    }

    /// Labels; `nullable_values` for PATCH bodies, where `null` deletes a label.
    pub(crate) fn labels(&mut self, nullable_values: bool) {
        let Some(value) = self.body.get("labels") else { return };
        let Some(map) = value.as_object() else {
            if !(nullable_values && value.is_null()) {
                self.push("labels", "is_object", "must be an object");
            }
            return;
        };
        if map.len() > 50 {
            self.push("labels", "max", "must not have more than 50 labels");
        }
        for (k, v) in map {
            let field = format!("labels.{k}");
            let lower = k.to_ascii_lowercase();
            if k.is_empty() || k.len() > 63 || !label_token(k) {
                self.push(
                    &field,
                    "is_label",
                    "label keys must be 1-63 letters, digits, '-', '.', '_'",
                );
            } else if RESERVED_LABEL_PREFIXES.iter().any(|p| lower.starts_with(p)) {
                self.push(
                    &field,
                    "is_label",
                    "label keys must not start with kong, konnect, mesh, kic or _",
                );
            }
            match v {
                Value::Null if nullable_values => {}
                Value::String(s) if !s.is_empty() && s.len() <= 63 && label_token(s) => {}
                _ => self.push(
                    &field,
                    "matches_regex",
                    "must match ^[a-z0-9A-Z]{1}([a-z0-9A-Z-._]*[a-z0-9A-Z]+)?$",
                ),
            }
        }
    }
}

pub(crate) fn is_uuid(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}
