//! `naming.template`: parsed once, rendered for each application Konnect registered.
//!
//! The rule for Auth0's limits, stated once: a name is at most [`MAX_NAME_CHARS`]
//! characters (the longest name Konnect itself gives an Auth0 application: a portal
//! application's name is `maxLength: 255`) and holds no `<` or `>` (Auth0's
//! `^[^<>]+$`). Substituted values lose their `<` and `>`; when the result is too long,
//! the application's name is cut to fit; ids are never cut, and a name that does not fit
//! even so is not given (the application keeps its name, and the report says why).

use std::fmt;

use serde_json::{Value, json};

/// Longest name the workflow gives an Auth0 application.
pub const MAX_NAME_CHARS: usize = 255;
/// How long `validate` takes an id to be: Konnect's ids are UUIDs.
pub(crate) const ID_CHARS: usize = 36;

/// One thing a template can say about an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Placeholder {
    PortalId,
    DeveloperId,
    OrgId,
    ApplicationId,
    ApplicationName,
}

impl Placeholder {
    const ALL: [(&'static str, Placeholder); 5] = [
        ("portal_id", Placeholder::PortalId),
        ("developer_id", Placeholder::DeveloperId),
        ("org_id", Placeholder::OrgId),
        ("application_id", Placeholder::ApplicationId),
        ("application_name", Placeholder::ApplicationName),
    ];

    /// The `client_metadata` key Konnect writes it under (ids only).
    fn metadata_key(self) -> Option<&'static str> {
        match self {
            Placeholder::PortalId => Some("konnect_portal_id"),
            Placeholder::DeveloperId => Some("konnect_developer_id"),
            Placeholder::OrgId => Some("konnect_org_id"),
            Placeholder::ApplicationId => Some("konnect_application_id"),
            Placeholder::ApplicationName => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Placeholder),
}

/// A parsed `naming.template`.
///
/// ```
/// use dcr_workflow::{NameFacts, NameTemplate};
/// let template = NameTemplate::parse("{application_name} ({developer_id})")?;
/// let facts = NameFacts::new()
///     .metadata("konnect_developer_id", "d-1")
///     .application_name("my app");
/// assert_eq!(template.render(&facts)?, "my app (d-1)");
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameTemplate {
    parts: Vec<Part>,
}

/// What a name is made of: the application's `konnect_*` metadata and, when the template
/// asks for it, the portal application's name.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct NameFacts<'a> {
    metadata: Vec<(&'a str, &'a str)>,
    application_name: Option<&'a str>,
}

impl<'a> NameFacts<'a> {
    /// No facts yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// One `client_metadata` entry (`konnect_portal_id`, …).
    pub fn metadata(mut self, key: &'a str, value: &'a str) -> Self {
        self.metadata.push((key, value));
        self
    }

    /// The portal application's name.
    pub fn application_name(mut self, name: &'a str) -> Self {
        self.application_name = Some(name);
        self
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.metadata.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// Why an application gets no name from the template: it keeps the one it has.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unnamed {
    /// The application lacks this `client_metadata` key.
    MissingMetadata(&'static str),
    /// The portal application (and so its name) was not found.
    MissingApplicationName,
    /// Even with the application's name cut away, the ids make it this long.
    TooLong(usize),
    /// The result is empty once trimmed.
    Empty,
}

impl fmt::Display for Unnamed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unnamed::MissingMetadata(key) => write!(f, "its client_metadata has no {key}"),
            Unnamed::MissingApplicationName => {
                f.write_str("its portal application was not found, so its name is unknown")
            }
            Unnamed::TooLong(n) => write!(
                f,
                "the name would be {n} characters; Auth0 names here are at most {MAX_NAME_CHARS}"
            ),
            Unnamed::Empty => f.write_str("the name would be empty"),
        }
    }
}

impl std::error::Error for Unnamed {}

/// A substituted value: without `<` and `>`, which Auth0 refuses in names.
fn clean(value: &str) -> String {
    value.chars().filter(|c| !matches!(c, '<' | '>')).collect()
}

impl NameTemplate {
    /// Parses a template; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    let Some((_, placeholder)) = Placeholder::ALL.iter().find(|(n, _)| *n == name) else {
                        let known: Vec<String> = Placeholder::ALL.iter().map(|(n, _)| format!("{{{n}}}")).collect();
                        return Err(format!(
                            "unknown placeholder {{{name}}}: the known ones are {} (`{{{{` and `}}}}` for braces)",
                            known.join(", ")
                        ));
                    };
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Field(*placeholder));
                }
                '}' => return Err("a lone `}`: write `}}` for a brace".into()),
                '<' | '>' => return Err("must not contain `<` or `>`: Auth0 refuses them in names".into()),
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        if !parts.iter().any(|p| matches!(p, Part::Field(_))) {
            return Err("has no placeholder: every application would get the same name".into());
        }
        let template = NameTemplate { parts };
        let worst = template.shortest_longest();
        if worst > MAX_NAME_CHARS {
            return Err(format!(
                "is at least {worst} characters with {ID_CHARS}-character ids (Konnect's are UUIDs); \
                 the names it makes must fit in {MAX_NAME_CHARS}"
            ));
        }
        Ok(template)
    }

    /// The length of the template's fixed text and ids, with every application name one
    /// character long: the worst case `validate` refuses when it is over the limit.
    fn shortest_longest(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.chars().count(),
                Part::Field(Placeholder::ApplicationName) => 1,
                Part::Field(_) => ID_CHARS,
            })
            .sum()
    }

    /// Whether it uses the portal application's name (which only Konnect knows: a rename
    /// then walks the portal's applications too).
    pub fn uses_application_name(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Field(Placeholder::ApplicationName)))
    }

    /// The name for an application, by the rule in this module's documentation.
    pub fn render(&self, facts: &NameFacts<'_>) -> Result<String, Unnamed> {
        let mut fixed = String::new();
        let mut name_slots = 0usize;
        // First everything but the application's name, to know how much room it has.
        let mut pieces: Vec<Option<String>> = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            match part {
                Part::Text(t) => {
                    fixed.push_str(t);
                    pieces.push(Some(t.clone()));
                }
                Part::Field(Placeholder::ApplicationName) => {
                    name_slots += 1;
                    pieces.push(None);
                }
                Part::Field(p) => {
                    let key = p.metadata_key().unwrap_or_default();
                    let value = clean(facts.get(key).ok_or(Unnamed::MissingMetadata(key))?);
                    fixed.push_str(&value);
                    pieces.push(Some(value));
                }
            }
        }
        let fixed_len = fixed.chars().count();
        let application_name = match MAX_NAME_CHARS.saturating_sub(fixed_len).checked_div(name_slots) {
            // No `{application_name}` in the template.
            None => String::new(),
            Some(0) => return Err(Unnamed::TooLong(fixed_len + name_slots)),
            Some(room) => {
                let name = clean(facts.application_name.ok_or(Unnamed::MissingApplicationName)?);
                name.trim().chars().take(room).collect::<String>().trim_end().to_owned()
            }
        };
        let rendered: String = pieces
            .into_iter()
            .map(|p| p.unwrap_or_else(|| application_name.clone()))
            .collect();
        let rendered = rendered.trim();
        let len = rendered.chars().count();
        if len > MAX_NAME_CHARS {
            return Err(Unnamed::TooLong(len));
        }
        if rendered.is_empty() {
            return Err(Unnamed::Empty);
        }
        Ok(rendered.to_owned())
    }

    /// The template as the Action's code receives it: a list of fixed texts and
    /// `client_metadata` keys, joined in order (the Action cannot know the application's
    /// name; `validate` refuses such a template with `naming.action`).
    pub(crate) fn to_action_parts(&self) -> Value {
        Value::Array(
            self.parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => json!({ "text": t }),
                    Part::Field(f) => json!({ "metadata": f.metadata_key() }),
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(name: Option<&'a str>) -> NameFacts<'a> {
        let facts = NameFacts::new()
            .metadata("konnect_portal_id", "p")
            .metadata("konnect_developer_id", "d")
            .metadata("konnect_org_id", "o")
            .metadata("konnect_application_id", "a");
        match name {
            Some(n) => facts.application_name(n),
            None => facts,
        }
    }

    #[test]
    fn placeholders_and_braces() {
        let t = NameTemplate::parse("{{x}} {portal_id}+{developer_id}+{org_id}+{application_id}: {application_name}")
            .unwrap();
        assert_eq!(t.render(&facts(Some("my app"))).unwrap(), "{x} p+d+o+a: my app");
        assert!(t.uses_application_name());
        assert_eq!(t.render(&facts(None)), Err(Unnamed::MissingApplicationName));
        let ids = NameTemplate::parse("{application_id}").unwrap();
        assert!(!ids.uses_application_name());
        assert_eq!(
            ids.render(&NameFacts::new()),
            Err(Unnamed::MissingMetadata("konnect_application_id"))
        );
    }

    #[test]
    fn bad_templates_say_why() {
        for (text, reason) in [
            ("{app}", "unknown placeholder {app}"),
            ("plain", "no placeholder"),
            ("<{application_id}>", "`<` or `>`"),
            ("{application_id}}", "lone `}`"),
        ] {
            let e = NameTemplate::parse(text).unwrap_err();
            assert!(e.contains(reason), "{text}: {e}");
        }
        let long = format!("{}{{application_id}}", "x".repeat(MAX_NAME_CHARS - ID_CHARS + 1));
        let e = NameTemplate::parse(&long).unwrap_err();
        assert!(e.contains("at least 256 characters"), "{e}");
        // Exactly at the limit is accepted.
        assert!(NameTemplate::parse(&format!("{}{{application_id}}", "x".repeat(MAX_NAME_CHARS - ID_CHARS))).is_ok());
    }

    #[test]
    fn a_long_application_name_is_cut_to_fit_and_angle_brackets_go() {
        let t = NameTemplate::parse("{application_name} ({application_id})").unwrap();
        let long = "n".repeat(400);
        let name = t.render(&facts(Some(&long))).unwrap();
        assert_eq!(name.chars().count(), MAX_NAME_CHARS);
        assert!(name.ends_with(" (a)"));
        assert_eq!(t.render(&facts(Some("<b>bold</b>"))).unwrap(), "bbold/b (a)");
        assert_eq!(t.render(&facts(Some("  "))).unwrap(), "(a)");
        let huge = "i".repeat(300);
        let f = NameFacts::new()
            .metadata("konnect_application_id", &huge)
            .application_name("x");
        assert_eq!(t.render(&f), Err(Unnamed::TooLong(304)));
    }
}
