//! `rlx template show`: the built-in texts of a policy and format written as a prompt
//! template file, built from the same tables `prompt` renders from, so that exporting
//! with the printed file gives the very bytes the built-ins give. It is where a user's
//! own template starts.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::cli::TemplateShowArgs;
use crate::example::Policy;
use crate::format::anthropic::AnthropicStyle;
use crate::objective::Objective;
use crate::outcome::{Outcome, UsageError};
use crate::prompt::{self, Answer, FieldKind};

/// `text` as template source that renders as `text` itself.
fn literal(text: &str) -> String {
    if text.contains("{{") || text.contains("{%") || text.contains("{#") {
        format!("{{% raw %}}{text}{{% endraw %}}")
    } else {
        text.to_string()
    }
}

/// A list of strings as a template literal: `["a", "b"]`.
fn string_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = items
        .map(|s| serde_json::to_string(s).expect("a string always serializes"))
        .collect();
    format!("[{}]", quoted.join(", "))
}

/// The user part: the lead-in, every section's fields, the fields and groups the tables
/// do not know, the closing question (as `prompt::render_user_prompt`).
fn user_part(policy: Policy) -> String {
    let mut out = String::new();
    let sections = prompt::sections(policy);
    out.push_str(&literal(prompt::lead_in(policy)));
    out.push('\n');
    for section in sections {
        let group = "group";
        let _ = writeln!(out, "\n{{% set group = state.{} %}}", section.group);
        let _ = writeln!(out, "**{}:**", literal(section.heading));
        for field in section.fields {
            let value = format!("{group}.{}", field.key);
            let shown = match (field.kind, field.is_optional) {
                (_, true) => format!("{value} | default(none) | shown"),
                (FieldKind::Score, false) => format!("{value} | fixed(3)"),
                (FieldKind::List, false) => format!("{value} | shown"),
                _ => value,
            };
            let _ = writeln!(out, "- {}: {{{{ {shown} }}}}", literal(field.label));
        }
        let known = string_list(section.fields.iter().map(|f| f.key));
        let _ = writeln!(
            out,
            "{{% for key, value in {group} | without({known}) | items %}}"
        );
        out.push_str("- {{ key }}: {{ value | shown }}\n{% endfor %}\n");
    }
    let groups = string_list(sections.iter().map(|s| s.group));
    let _ = writeln!(
        out,
        "{{% for key, value in state | without({groups}) | items %}}"
    );
    out.push_str(concat!(
        "\n**{{ key }}:**\n",
        "{% if value is mapping %}\n",
        "{% for k, v in value | items %}\n",
        "- {{ k }}: {{ v | shown }}\n",
        "{% endfor %}\n",
        "{% else %}\n",
        "- {{ value | shown }}\n",
        "{% endif %}\n",
        "{% endfor %}\n",
    ));
    let _ = write!(out, "\n{}", literal(prompt::closing_question(policy)));
    out
}

/// The assistant part for one kind of answer (as `prompt::push_assistant` and friends).
fn assistant_part(policy: Policy, answer: Answer) -> String {
    let decision = format!(
        "{}\n\n```json\n{{{{ action | pretty_json }}}}\n```\n\n**Expected Reward**: {{{{ reward | fixed(3) }}}}",
        literal(prompt::answer_lead_in(policy))
    );
    match answer {
        Answer::Action => "{{ action | pretty_json }}".to_string(),
        Answer::Decision => decision,
        Answer::DecisionAndBand => {
            format!("{decision}, indicating {{{{ reward | reward_band }}}}.")
        }
    }
}

/// The whole file: a header saying what it is, then the three parts.
pub fn built_in_template(policy: Policy, answer: Answer, what: &str) -> String {
    format!(
        "# rlx prompt template: the built-in texts of the {policy} policy, as {what} writes them.\n\
         # Use it with: rlx export INPUT -o DIR {what} --template THIS_FILE\n\
         # Jinja2 syntax (minijinja), trim_blocks and lstrip_blocks on, undefined is an error.\n\
         # Names: state, action, reward, metadata, next_state, policy, split.\n\
         # Filters besides minijinja's: fixed(n), tojson, pretty_json, shown, reward_band, without(keys).\n\
         # A part is the lines after its === name === line, up to the next one.\n\
         === system ===\n{}\n=== user ===\n{}\n=== assistant ===\n{}\n",
        literal(prompt::system_prompt(policy)),
        user_part(policy),
        assistant_part(policy, answer)
    )
}

/// The answer a format writes, and the flags that choose it (for the file's header).
pub fn answer_of(
    format: &str,
    objective: Objective,
    style: AnthropicStyle,
) -> Result<(Answer, String), UsageError> {
    let flags = |extra: &str| format!("--format {format}{extra}");
    match (format, objective, style) {
        ("openai", Objective::Sft, _) => Ok((Answer::Decision, flags(""))),
        ("openai", Objective::Dpo, _) => Ok((Answer::Action, flags(" --objective dpo"))),
        ("anthropic", Objective::Sft, AnthropicStyle::Legacy) => {
            Ok((Answer::DecisionAndBand, flags("")))
        }
        ("anthropic", Objective::Sft, AnthropicStyle::Bedrock) => {
            Ok((Answer::Decision, flags(" --anthropic-style bedrock")))
        }
        ("trl", objective, _) => Ok((Answer::Action, flags(&format!(" --objective {objective}")))),
        ("template", objective, _) => Ok((
            Answer::for_objective(objective),
            flags(&format!(
                " --objective {objective} --line-template LINE_FILE"
            )),
        )),
        ("openai" | "anthropic", objective, _) => Err(UsageError(format!(
            "--format {format} does not write --objective {objective}"
        ))),
        (other, ..) => Err(UsageError(format!(
            "--format {other} renders no prompts; expected openai, anthropic, trl or template"
        ))),
    }
}

/// `rlx template show`.
pub fn run(args: &TemplateShowArgs) -> Outcome {
    let ended = |exit_code: u8, error: Option<String>| Outcome {
        exit_code,
        error,
        result: None,
    };
    let (answer, what) = match answer_of(args.format.name(), args.objective, args.anthropic_style) {
        Ok(found) => found,
        Err(e) => return ended(2, Some(e.0)),
    };
    let text = built_in_template(args.policy, answer, &what);
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            ended(1, Some(format!("writing the template to stdout: {e}")))
        }
        _ => ended(0, None),
    }
}
