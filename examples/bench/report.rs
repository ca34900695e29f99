//! The figures of one benchmark part, printed as aligned text or as one JSON object.

use std::time::Duration;

use serde_json::{Value, json};

/// One measured quantity.
struct Figure {
    key: &'static str,
    label: String,
    value: Value,
    unit: &'static str,
}

/// A goal and whether this run met it.
pub(crate) struct Goal {
    pub(crate) text: String,
    pub(crate) met: bool,
    /// A correctness goal (e.g. "finds exactly 100 orphans"): missing it fails the run.
    /// Speed and memory goals never do; they are figures to read, not assertions.
    pub(crate) hard: bool,
}

/// Everything one part measured.
pub(crate) struct Section {
    part: &'static str,
    title: &'static str,
    figures: Vec<Figure>,
    goals: Vec<Goal>,
}

impl Section {
    pub(crate) fn new(part: &'static str, title: &'static str) -> Self {
        Section {
            part,
            title,
            figures: Vec::new(),
            goals: Vec::new(),
        }
    }

    /// Adds a figure; `key` names it in JSON, `label` in text.
    pub(crate) fn figure(
        &mut self,
        key: &'static str,
        label: impl Into<String>,
        value: impl Into<Value>,
        unit: &'static str,
    ) {
        self.figures.push(Figure {
            key,
            label: label.into(),
            value: value.into(),
            unit,
        });
    }

    /// A speed or memory goal: reported, never fails the run.
    pub(crate) fn goal(&mut self, text: impl Into<String>, met: bool) {
        self.goals.push(Goal {
            text: text.into(),
            met,
            hard: false,
        });
    }

    /// A correctness goal: the run exits non-zero when it is missed.
    pub(crate) fn must(&mut self, text: impl Into<String>, met: bool) {
        self.goals.push(Goal {
            text: text.into(),
            met,
            hard: true,
        });
    }

    /// Correctness goals this run missed.
    pub(crate) fn failures(&self) -> impl Iterator<Item = &Goal> {
        self.goals.iter().filter(|g| g.hard && !g.met)
    }

    /// One line of JSON: `{"part": …, <figures in order>, "goals": [{"goal", "met"}]}`.
    pub(crate) fn to_json(&self) -> String {
        // Written by hand to keep the order of the text output (serde_json's map sorts).
        let pair = |key: &str, value: &Value| format!("{}:{value}", Value::from(key));
        let mut fields = vec![pair("part", &json!(self.part))];
        fields.extend(self.figures.iter().map(|f| pair(f.key, &f.value)));
        let goals: Vec<Value> = self
            .goals
            .iter()
            .map(|g| json!({"goal": g.text, "met": g.met}))
            .collect();
        fields.push(pair("goals", &Value::Array(goals)));
        format!("{{{}}}", fields.join(","))
    }

    /// A heading, one aligned line per figure, then the goals.
    pub(crate) fn to_text(&self) -> String {
        let width = self.figures.iter().map(|f| f.label.len()).max().unwrap_or(0) + 2;
        let mut out = format!("\n{}\n", self.title);
        for f in &self.figures {
            let value = match &f.value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let unit = if f.unit.is_empty() {
                String::new()
            } else {
                format!(" {}", f.unit)
            };
            out.push_str(&format!("  {:.<width$} {value}{unit}\n", format!("{} ", f.label)));
        }
        for g in &self.goals {
            let mark = if g.met { "met" } else { "MISSED" };
            out.push_str(&format!("  goal: {} … {mark}\n", g.text));
        }
        out
    }
}

/// Milliseconds with one decimal.
pub(crate) fn ms(d: Duration) -> f64 {
    round(d.as_secs_f64() * 1_000.0, 1)
}

/// Seconds with two decimals.
pub(crate) fn secs(d: Duration) -> f64 {
    round(d.as_secs_f64(), 2)
}

/// Rounds to `digits` decimals, for figures a reader compares by eye.
pub(crate) fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// Kibibytes with one decimal.
pub(crate) fn kib(bytes: usize) -> f64 {
    round(bytes as f64 / 1024.0, 1)
}
