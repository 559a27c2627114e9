//! User templates in minijinja (Jinja2 syntax): the prompt template of `--template` (the
//! system, user and assistant texts, three parts of one file) and the line template of
//! `--format template` (one JSON value per example). Both are compiled once, before any
//! input is read; a syntax error or an unknown filter, test or function is a usage error
//! naming the file, line and column. Rendering is strict (a template that reads what an
//! example lacks fails, naming the example's place and the template's line) and runs on
//! any thread. The built-in texts are `prompt`'s; `show` writes them out as a template.
//!
//! Like Hugging Face chat templates, `trim_blocks` and `lstrip_blocks` are on: a line
//! holding only `{% … %}` leaves nothing in the output.

mod context;
mod filters;
mod parts;
pub mod show;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use minijinja::machinery::{get_compiled_template, Instruction};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

pub use context::Context;

pub use filters::to_fixed;

use crate::example::{Policy, Split};
use crate::json::ExampleText;
use crate::objective::Objective;
use crate::outcome::UsageError;
use crate::prompt::{Answer, StateText};

/// One compiled template's source and where it is in its file.
#[derive(Debug)]
struct Source {
    /// The template's name in the environment.
    name: &'static str,
    /// The file's first line that is the template's first line.
    first_line: usize,
    text: String,
}

impl Source {
    /// The text itself, when it holds no `{{`, `{%` or `{#` and renders as itself: a
    /// system prompt usually is such a part, and is then not rendered per example.
    fn constant(&self, env: &Environment<'static>) -> Option<String> {
        if ["{{", "{%", "{#"].iter().any(|d| self.text.contains(d)) {
            return None;
        }
        let rendered = env.get_template(self.name).and_then(|t| t.render(()));
        rendered.ok().filter(|out| *out == self.text)
    }
}

/// An environment holding the templates of one file, and the file's name for messages.
#[derive(Debug)]
struct Compiled {
    env: Environment<'static>,
    path: String,
    sources: Vec<Source>,
    /// The context names the templates read.
    reads: BTreeSet<String>,
    /// Per source, `Source::constant`.
    constants: Vec<Option<String>>,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_debug(true);
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("the default delimiters are a valid syntax"),
    );
    filters::install(&mut env);
    env
}

/// Read a template file, with Windows line breaks as `\n`.
fn read(path: &Path, flag: &str) -> Result<String, UsageError> {
    let bytes = std::fs::read(path).map_err(|e| {
        UsageError(format!(
            "{flag} {}: cannot read it: {e}; expected a template file",
            path.display()
        ))
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        UsageError(format!(
            "{flag} {}: byte {} is not UTF-8; expected a UTF-8 text file",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok(text.replace("\r\n", "\n"))
}

/// Line and column (1-based, in characters) of byte `at` of `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

impl Compiled {
    /// Compile `sources`, which may read the first `names` of `context::NAMES`.
    fn new(path: &str, sources: Vec<Source>, names: usize) -> Result<Compiled, UsageError> {
        let mut env = environment();
        for source in &sources {
            env.add_template_owned(source.name, source.text.clone())
                .map_err(|e| UsageError(place(path, &sources, &e)))?;
        }
        let constants = sources.iter().map(|s| s.constant(&env)).collect();
        let mut compiled = Compiled {
            env,
            path: path.to_string(),
            sources,
            reads: BTreeSet::new(),
            constants,
        };
        compiled.check_names(&context::NAMES[..names])?;
        Ok(compiled)
    }

    /// Every filter, test and function a template uses must exist, and every name it
    /// reads must be one the context has or the template sets.
    fn check_names(&mut self, names: &[&str]) -> Result<(), UsageError> {
        let probe = environment();
        for source in &self.sources {
            let template = self
                .env
                .get_template(source.name)
                .expect("every source was added above");
            self.reads.extend(template.undeclared_variables(false));
            let instructions = &get_compiled_template(&template).instructions;
            let mut stored = BTreeSet::new();
            let mut used = Vec::new();
            for idx in 0.. {
                let Some(instruction) = instructions.get(idx) else {
                    break;
                };
                match instruction {
                    Instruction::StoreLocal(name) => {
                        stored.insert(*name);
                    }
                    Instruction::ApplyFilter(name, ..) => used.push(("filter", *name, idx)),
                    Instruction::PerformTest(name, ..) => used.push(("test", *name, idx)),
                    Instruction::CallFunction(name, ..) => used.push(("function", *name, idx)),
                    _ => {}
                }
            }
            for (what, name, idx) in used {
                let probe_source = match what {
                    "filter" => format!("{{{{ 1 | {name} }}}}"),
                    "test" => format!("{{{{ 1 is {name} }}}}"),
                    _ if stored.contains(name) || names.contains(&name) => continue,
                    _ => format!("{{{{ {name} is defined }}}}"),
                };
                let is_known = match probe.render_str(&probe_source, ()) {
                    Err(e) => {
                        !matches!(e.kind(), ErrorKind::UnknownFilter | ErrorKind::UnknownTest)
                    }
                    Ok(out) => what != "function" || out == "true",
                };
                if !is_known {
                    let at = instructions
                        .get_span(idx)
                        .map(|s| (s.start_line as usize, s.start_col as usize + 1))
                        .or_else(|| instructions.get_line(idx).map(|l| (l, 1)))
                        .unwrap_or((1, 1));
                    return Err(UsageError(format!(
                        "{}:{}:{}: the {what} {name:?} is unknown; expected one of minijinja's or rlx's (fixed, tojson, pretty_json, shown, reward_band, without)",
                        self.path,
                        source.first_line + at.0 - 1,
                        at.1
                    )));
                }
            }
        }
        let is_global = |name: &str| {
            probe
                .render_str(&format!("{{{{ {name} is defined }}}}"), ())
                .is_ok_and(|out| out == "true")
        };
        if let Some(name) = self
            .reads
            .iter()
            .find(|n| !names.contains(&n.as_str()) && !is_global(n))
        {
            return Err(UsageError(format!(
                "{}: the template reads {name:?}, which it does not have; expected one of {}",
                self.path,
                names.join(", ")
            )));
        }
        Ok(())
    }

    fn reads(&self, name: &str) -> bool {
        self.reads.contains(name)
    }

    fn render(&self, name: &str, context: &Value) -> Result<String, String> {
        let at = self.sources.iter().position(|s| s.name == name);
        if let Some(constant) = at.and_then(|at| self.constants[at].as_ref()) {
            return Ok(constant.clone());
        }
        let template = self
            .env
            .get_template(name)
            .expect("templates are looked up by the names they were added with");
        template.render(context).map_err(|e| {
            let hint = match e.kind() {
                ErrorKind::UndefinedError => "; expected the example to have every value the template reads (guard an optional one with `is defined`, or give it a `default`)",
                _ => "",
            };
            format!("template {}{hint}", place(&self.path, &self.sources, &e))
        })
    }
}

/// An error of a template as `file:line:col: what`, the column when minijinja knows it.
fn place(path: &str, sources: &[Source], e: &Error) -> String {
    let source = e
        .name()
        .and_then(|n| sources.iter().find(|s| s.name == n))
        .or(sources.first());
    let (first_line, text) = source.map_or((1, ""), |s| (s.first_line, s.text.as_str()));
    let what = match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    };
    let quoted = e
        .range()
        .filter(|r| r.end <= text.len() && r.start < r.end)
        .map(|r| &text[r])
        .filter(|q| !what.contains(&format!("`{q}`")))
        .map(|q| format!(" (in `{q}`)"))
        .unwrap_or_default();
    match (e.range(), e.line()) {
        (Some(range), _) => {
            let (line, col) = line_col(text, range.start);
            format!("{path}:{}:{col}: {what}{quoted}", first_line + line - 1)
        }
        (None, Some(line)) => format!("{path}:{}: {what}", first_line + line - 1),
        (None, None) => format!("{path}: {what}"),
    }
}

/// The three texts of one example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts {
    pub system: String,
    pub user: String,
    pub assistant: String,
}

/// `--template FILE`: the system, user and assistant texts of every prompt format.
#[derive(Debug)]
pub struct PromptTemplate {
    compiled: Compiled,
}

impl PromptTemplate {
    pub fn load(path: &Path) -> Result<PromptTemplate, UsageError> {
        let text = read(path, "--template")?;
        PromptTemplate::parse(&path.display().to_string(), &text)
    }

    /// The template in `text`, named `path` in messages.
    pub fn parse(path: &str, text: &str) -> Result<PromptTemplate, UsageError> {
        let cut = parts::cut(path, text)?;
        let sources = cut
            .into_iter()
            .map(|p| Source {
                name: p.name,
                first_line: p.first_line,
                text: p.source,
            })
            .collect();
        Ok(PromptTemplate {
            compiled: Compiled::new(path, sources, context::EXAMPLE_NAMES)?,
        })
    }

    /// Whether the texts can differ between splits.
    pub fn reads_split(&self) -> bool {
        self.compiled.reads("split")
    }

    /// The file, as given.
    pub fn path(&self) -> &str {
        &self.compiled.path
    }

    pub fn render(&self, context: &Context) -> Result<Texts, String> {
        let [system, user, assistant] = context
            .while_rendering(|value| parts::NAMES.map(|name| self.compiled.render(name, &value)));
        Ok(Texts {
            system: system?,
            user: user?,
            assistant: assistant?,
        })
    }
}

/// `--line-template FILE`: one JSON value per example.
#[derive(Debug)]
pub struct LineTemplate {
    compiled: Compiled,
}

impl LineTemplate {
    pub fn load(path: &Path) -> Result<LineTemplate, UsageError> {
        let text = read(path, "--line-template")?;
        LineTemplate::parse(&path.display().to_string(), &text)
    }

    pub fn parse(path: &str, text: &str) -> Result<LineTemplate, UsageError> {
        let source = Source {
            name: "line",
            first_line: 1,
            text: text.to_string(),
        };
        Ok(LineTemplate {
            compiled: Compiled::new(path, vec![source], context::NAMES.len())?,
        })
    }

    pub fn reads_split(&self) -> bool {
        self.compiled.reads("split")
    }

    /// The file, as given.
    pub fn path(&self) -> &str {
        &self.compiled.path
    }

    /// The template's text.
    pub fn source(&self) -> &str {
        &self.compiled.sources[0].text
    }

    /// Whether the line shows the prompt texts (`system`, `user`, `assistant`), its own
    /// or a pair side's.
    pub fn reads_texts(&self) -> bool {
        ["system", "user", "assistant", "chosen", "rejected"]
            .iter()
            .any(|n| self.compiled.reads(n))
    }

    /// The names a line of `objective` has (`--format template` with `--objective`).
    pub fn check_objective(&self, objective: Objective) -> Result<(), UsageError> {
        let names: &[&str] = match objective {
            Objective::Sft => &context::NAMES[..10],
            Objective::Kto => &context::NAMES[..11],
            Objective::Dpo | Objective::Reward => &[
                "chosen", "rejected", "margin", "policy", "split", "system", "user",
            ],
        };
        match self.compiled.reads.iter().find(|n| {
            context::NAMES.contains(&n.as_str()) && !names.contains(&n.as_str())
        }) {
            Some(name) => Err(UsageError(format!(
                "{}: the line template reads {name:?}, which a line of --objective {objective} does not have; expected one of {}",
                self.compiled.path,
                names.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// The line: the rendered text, checked to be one JSON value, compact.
    pub fn render(&self, context: &Context) -> Result<String, String> {
        let text = context.while_rendering(|value| self.compiled.render("line", &value))?;
        compact_json(&text).map_err(|e| {
            format!(
                "the line template {} rendered {}, which is not one JSON value: {e}; expected each example to render as exactly one JSON value (use the tojson filter for strings)",
                self.compiled.path,
                crate::example::quote_cut(text.trim(), true)
            )
        })
    }
}

/// The templates of an export, compiled before any input is read.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    pub prompt: Option<Arc<PromptTemplate>>,
    pub line: Option<Arc<LineTemplate>>,
}

/// What the scan renders of each example to find the ones a template fails on, so they
/// are rejected (or fail the export) before anything is written.
#[derive(Debug, Clone)]
pub struct TrialRender {
    /// The prompt template, when a format renders prompts or the line reads them.
    pub prompt: Option<Arc<PromptTemplate>>,
    /// The line template of `--format template`.
    pub line: Option<Arc<LineTemplate>>,
    /// The splits the export may write; a template that reads `split` is tried in each.
    pub splits: Vec<Split>,
    /// What a line is (a pair's line is tried with the example on both sides).
    pub objective: Objective,
}

impl Templates {
    /// What the scan must render, given the formats written and the splits they may have.
    pub fn trial(
        &self,
        renders_prompts: bool,
        writes_lines: bool,
        splits: Vec<Split>,
        objective: Objective,
    ) -> Option<TrialRender> {
        let line = self.line.clone().filter(|_| writes_lines);
        let needs_texts = renders_prompts || line.as_ref().is_some_and(|l| l.reads_texts());
        let prompt = self.prompt.clone().filter(|_| needs_texts);
        (prompt.is_some() || line.is_some()).then_some(TrialRender {
            prompt,
            line,
            splits,
            objective,
        })
    }
}

impl TrialRender {
    /// Render `ex` (whose text is `bytes`) as every format will; the first failure.
    pub fn check(
        &self,
        policy: Policy,
        ex: &ExampleText,
        bytes: &[u8],
        state: Option<&StateText>,
    ) -> Result<(), String> {
        let reads_split = self.prompt.as_ref().is_some_and(|p| p.reads_split())
            || self.line.as_ref().is_some_and(|l| l.reads_split());
        let splits = match reads_split {
            true => &self.splits[..],
            false => &[Split::Train][..],
        };
        for split in splits {
            let context = Context::new(policy, split.name(), ex, bytes);
            let texts = match &self.prompt {
                Some(p) => Some(p.render(&context)?),
                None => None,
            };
            let Some(line) = &self.line else {
                continue;
            };
            let mut context =
                with_texts(line, context, texts, (policy, self.objective), ex, state)?;
            match self.objective {
                Objective::Sft => {}
                Objective::Kto => context.set_label(ex.reward_value > 0.0),
                Objective::Dpo | Objective::Reward => {
                    context = Context::pair(context.clone(), context, Value::from(0.0));
                }
            }
            line.render(&context)?;
        }
        Ok(())
    }
}

/// `context` with the prompt texts, when the line reads them: the prompt template's
/// (`texts`) or the built-in ones.
pub fn with_texts(
    line: &LineTemplate,
    mut context: Context,
    texts: Option<Texts>,
    (policy, objective): (Policy, Objective),
    ex: &ExampleText,
    state: Option<&StateText>,
) -> Result<Context, String> {
    if line.reads_texts() {
        let texts = match (texts, state) {
            (Some(t), _) => t,
            (None, Some(state)) => built_in_texts(policy, objective, ex, state),
            (None, None) => return Err("the state's groups were not read".to_string()),
        };
        context.set_texts(&texts.system, &texts.user, &texts.assistant);
    }
    Ok(context)
}

/// The built-in texts a line template reads: those of `--format openai` for sft, and
/// the action alone (no reward) for the reward-aware objectives.
pub fn built_in_texts(
    policy: Policy,
    objective: Objective,
    ex: &ExampleText,
    state: &StateText,
) -> Texts {
    Texts {
        system: crate::prompt::system_prompt(policy).to_string(),
        user: crate::prompt::render_user_prompt(policy, state),
        assistant: crate::prompt::render_answer(policy, Answer::for_objective(objective), ex),
    }
}

/// `text` as one compact JSON value: key order, numbers and string contents kept.
pub fn compact_json(text: &str) -> Result<String, String> {
    let value: serde_json::Value = {
        let mut de = serde_json::Deserializer::from_str(text);
        let value = serde::Deserialize::deserialize(&mut de).map_err(|e| e.to_string())?;
        de.end().map_err(|e| e.to_string())?;
        value
    };
    if let Some(path) = repeated_key(text) {
        return Err(format!("the key {path} appears twice in one object"));
    }
    Ok(serde_json::to_string(&value).expect("a parsed value always serializes"))
}

/// The first key that repeats within one object of `text` (valid JSON).
fn repeated_key(text: &str) -> Option<String> {
    use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    struct Check;
    impl<'de> DeserializeSeed<'de> for Check {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(Check)
        }
    }
    impl<'de> Visitor<'de> for Check {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element_seed(Check)?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = BTreeSet::new();
            while let Some(key) = map.next_key::<String>()? {
                // serde_json's arbitrary-precision numbers arrive as a one-key map.
                if !seen.insert(key.clone()) {
                    return Err(A::Error::custom(format!("{key:?}")));
                }
                map.next_value_seed(Check)?;
            }
            Ok(())
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    match Check.deserialize(&mut de) {
        Err(e) if e.is_data() => {
            let message = e.to_string();
            Some(
                message
                    .split(" at line")
                    .next()
                    .unwrap_or(&message)
                    .to_string(),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
