
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'rlx' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'rlx'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'rlx' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Shuffle, split, validate and write a dataset in one or every format')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Run every check `export` would, and write nothing')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Show a log before training on it: the reward distribution with a histogram, the actions and how each paid off, group sizes, token counts; per split for a pre-split input. Reads like validate, writes nothing')
            [CompletionResult]::new('clean', 'clean', [CompletionResultType]::ParameterValue, 'Remove what killed exports left beside an output directory (stale staging directories), put back an old export a killed --force left aside, and never touch the files of an export still running')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Combine parquet exports (parts of one log, each exported on its own, typically with --split-by hash and one seed) into one dataset: one data/ numbered across the parts and one card. The parts'' schemas must agree')
            [CompletionResult]::new('template', 'template', [CompletionResultType]::ParameterValue, 'Work with prompt templates: `rlx template show` prints the built-in texts as a template file to start your own from')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rlx;export' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output directory. It is written atomically and must not exist or be empty, unless --force')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output directory. It is written atomically and must not exist or be empty, unless --force')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format [default: inferred from the output directory''s name, else jsonl]. `all` writes every format into DIR/<format>/')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: inferred from the output directory''s name, else jsonl]. `all` writes every format into DIR/<format>/')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed of the ChaCha20 shuffle')
            [CompletionResult]::new('--split-ratio', '--split-ratio', [CompletionResultType]::ParameterName, 'Share of examples for the eval split, in [0, 1) [default: 0.2]. Given explicitly, it also re-splits a pre-split {"train","eval"} input')
            [CompletionResult]::new('--validation-ratio', '--validation-ratio', [CompletionResultType]::ParameterName, 'Share of examples for a validation split, in [0, 1) [default: 0]; split + validation must be < 1')
            [CompletionResult]::new('--group-by', '--group-by', [CompletionResultType]::ParameterName, 'Keep the examples that share the value at this dotted path (compared as minified JSON text, e.g. metadata.sessionId) together in one split; an example without it is a group of its own. Re-splits a pre-split input')
            [CompletionResult]::new('--split-by', '--split-by', [CompletionResultType]::ParameterName, 'ratio: exact counts over the seeded shuffle. hash: each example''s split from SHA-256 of the seed and its key alone (the --group-by value, else the whole example), so adding examples never moves an old one; counts are then binomial')
            [CompletionResult]::new('--max-examples', '--max-examples', [CompletionResultType]::ParameterName, 'Keep at most N examples, shared among the splits in proportion to their sizes')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Model whose tokenizer and training-example token limit `--format openai` applies [default: gpt-4o-mini-2024-07-18; with --objective dpo gpt-4.1-mini-2025-04-14]')
            [CompletionResult]::new('--anthropic-style', '--anthropic-style', [CompletionResultType]::ParameterName, 'Line style of `--format anthropic`: legacy {"prompt","completion"} with the exact Human/Assistant separators, or Bedrock {"system","messages"} for Claude fine-tuning')
            [CompletionResult]::new('--objective', '--objective', [CompletionResultType]::ParameterName, 'What the rewards become [default: inferred from the output name (the words dpo, kto, sft, reward), else sft]. sft: every kept example as a target; dpo: (prompt, chosen, rejected) pairs; kto: examples labelled by reward; reward: reward-model pairs with a margin')
            [CompletionResult]::new('--min-reward', '--min-reward', [CompletionResultType]::ParameterName, 'Keep only examples whose reward is at least R (compared as written decimals); the rest are counted as filteredExamples. Every format and objective')
            [CompletionResult]::new('--template', '--template', [CompletionResultType]::ParameterName, 'Prompt template (Jinja2, minijinja): the system, user and assistant texts of every format that renders prompts (openai, anthropic, trl, template), in three parts `=== system ===`, `=== user ===`, `=== assistant ===`. `rlx template show` prints the built-in ones to start from')
            [CompletionResult]::new('--line-template', '--line-template', [CompletionResultType]::ParameterName, 'template: the Jinja2 template of one line, which must render exactly one JSON value per example (written compact). It reads state, action, reward, metadata, next_state, policy, split and the prompt texts system, user, assistant')
            [CompletionResult]::new('--trl-style', '--trl-style', [CompletionResultType]::ParameterName, 'Row style of `--format trl`: message lists (conversational) or plain strings')
            [CompletionResult]::new('--shard-size', '--shard-size', [CompletionResultType]::ParameterName, 'parquet: the most input text per shard, in bytes with an optional unit (KB, MB, GB, KiB, MiB, GiB); the default is push_to_hub''s')
            [CompletionResult]::new('--compression', '--compression', [CompletionResultType]::ParameterName, 'parquet: the codec of every column chunk')
            [CompletionResult]::new('--kto-threshold', '--kto-threshold', [CompletionResultType]::ParameterName, 'kto: rewards above T are desirable, below T undesirable; examples at exactly T are left out and counted')
            [CompletionResult]::new('--pair-by', '--pair-by', [CompletionResultType]::ParameterName, 'dpo/reward: what makes examples comparable. `original` (the original dpo-trainer''s key per policy), `state` (the whole state), or dotted paths joined by commas (state.scopeStats.scopeType,metadata.sessionId)')
            [CompletionResult]::new('--pairs', '--pairs', [CompletionResultType]::ParameterName, 'dpo/reward: one pair per group (its best against its worst different action), or every pair with different actions, largest margin first')
            [CompletionResult]::new('--max-pairs-per-group', '--max-pairs-per-group', [CompletionResultType]::ParameterName, 'dpo/reward with --pairs all: the most pairs one group gives')
            [CompletionResult]::new('--min-margin', '--min-margin', [CompletionResultType]::ParameterName, 'dpo/reward: a pair needs chosen reward minus rejected reward above M, exactly as written (a gap of exactly 0.1 makes no pair)')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'Policy of the examples; detected from the state''s shape when absent (contextFeatures+memoryState+contentFeatures → extraction, queryFeatures → retrieval, groupFeatures → consolidation)')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Worker threads for parsing and rendering [default: all cores]. The output is byte-identical whatever the number')
            [CompletionResult]::new('--no-shuffle', '--no-shuffle', [CompletionResultType]::ParameterName, 'Keep the input order instead of shuffling')
            [CompletionResult]::new('--dedupe', '--dedupe', [CompletionResultType]::ParameterName, 'Keep the first of examples with identical state, action and reward and drop the rest, counted as duplicateExamples')
            [CompletionResult]::new('--plots', '--plots', [CompletionResultType]::ParameterName, 'Draw SVG charts into DIR/plots/ (the reward histogram of each split, the mean reward per action, the action counts per split) and show them in the dataset cards')
            [CompletionResult]::new('--no-metadata', '--no-metadata', [CompletionResultType]::ParameterName, 'Leave each example''s `metadata` out of every format')
            [CompletionResult]::new('--compress', '--compress', [CompletionResultType]::ParameterName, 'Gzip every data file (train.jsonl.gz, ...); README and guide files stay plain')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace a non-empty output directory. The old one survives any failure, and the swap is one atomic step (renameat2 RENAME_EXCHANGE on Linux)')
            [CompletionResult]::new('--no-sync', '--no-sync', [CompletionResultType]::ParameterName, 'Skip syncing the files and directories to disk before the final rename: faster scratch exports that a power loss may leave empty (never half-replaced)')
            [CompletionResult]::new('--skip-invalid', '--skip-invalid', [CompletionResultType]::ParameterName, 'Drop invalid examples instead of failing; each is counted, warned about and written with its location and reason to DIR/rejected.jsonl')
            [CompletionResult]::new('--no-formula-escape', '--no-formula-escape', [CompletionResultType]::ParameterName, 'Write CSV string cells as they are, without the `''` that stops spreadsheets from running cells that start with = + - @ tab CR LF as formulas')
            [CompletionResult]::new('--no-cdc', '--no-cdc', [CompletionResultType]::ParameterName, 'parquet: turn content-defined chunking off (on by default: re-uploading a grown export to the Hub sends only the changed chunks)')
            [CompletionResult]::new('--no-margin', '--no-margin', [CompletionResultType]::ParameterName, 'reward: leave the `margin` column out of every row')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as one JSON object on stdout instead of the human summary')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress bar, no summary)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress bar, no summary)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rlx;validate' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Also run the checks this format needs (prompt fields for openai/anthropic, token limits for openai)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Also run the checks this format needs (prompt fields for openai/anthropic, token limits for openai)')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Model whose tokenizer and token limit the openai checks apply')
            [CompletionResult]::new('--template', '--template', [CompletionResultType]::ParameterName, 'Prompt template whose texts the openai token counts and the prompt checks use (as `export --template`)')
            [CompletionResult]::new('--check-file', '--check-file', [CompletionResultType]::ParameterName, 'Check an already written platform file instead of an rlx input: an OpenAI chat fine-tuning JSONL or a Bedrock Claude JSONL')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'Policy of the examples; detected from the state''s shape when absent (contextFeatures+memoryState+contentFeatures → extraction, queryFeatures → retrieval, groupFeatures → consolidation)')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Worker threads for parsing and rendering [default: all cores]. The output is byte-identical whatever the number')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as one JSON object on stdout instead of the human summary')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress bar, no summary)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress bar, no summary)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rlx;stats' {
            [CompletionResult]::new('--group-by', '--group-by', [CompletionResultType]::ParameterName, 'Also report the sizes of the groups that share the value at this dotted path (e.g. metadata.sessionId), as `export --group-by` would keep them together')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Also run this format''s checks; openai adds the token distribution of its lines')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Also run this format''s checks; openai adds the token distribution of its lines')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Model whose tokenizer and token limit --format openai applies')
            [CompletionResult]::new('--template', '--template', [CompletionResultType]::ParameterName, 'Prompt template whose texts the openai token counts use (as `export --template`)')
            [CompletionResult]::new('--bins', '--bins', [CompletionResultType]::ParameterName, 'Bins of the reward histogram')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'Policy of the examples; detected from the state''s shape when absent (contextFeatures+memoryState+contentFeatures → extraction, queryFeatures → retrieval, groupFeatures → consolidation)')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Worker threads for parsing and rendering [default: all cores]. The output is byte-identical whatever the number')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as one JSON object on stdout instead of the human summary')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress bar, no summary)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress bar, no summary)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rlx;clean' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as one JSON object on stdout instead of the human summary')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rlx;merge' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output directory, written atomically like an export''s')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output directory, written atomically like an export''s')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace a non-empty output directory')
            [CompletionResult]::new('--no-sync', '--no-sync', [CompletionResultType]::ParameterName, 'Skip syncing the files to disk before the final rename')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as one JSON object on stdout instead of the human summary')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rlx;template' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the built-in system, user and assistant texts of a policy and format as a template file; exporting with it gives byte-identical output')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rlx;template;show' {
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'The policy whose texts to print')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The format whose texts to print: openai, anthropic, trl or template')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The format whose texts to print: openai, anthropic, trl or template')
            [CompletionResult]::new('--objective', '--objective', [CompletionResultType]::ParameterName, 'The objective (openai with dpo writes the action alone, as trl does)')
            [CompletionResult]::new('--anthropic-style', '--anthropic-style', [CompletionResultType]::ParameterName, 'The anthropic line style (legacy completions add the reward band)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rlx;template;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the built-in system, user and assistant texts of a policy and format as a template file; exporting with it gives byte-identical output')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rlx;template;help;show' {
            break
        }
        'rlx;template;help;help' {
            break
        }
        'rlx;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rlx;help' {
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Shuffle, split, validate and write a dataset in one or every format')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Run every check `export` would, and write nothing')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Show a log before training on it: the reward distribution with a histogram, the actions and how each paid off, group sizes, token counts; per split for a pre-split input. Reads like validate, writes nothing')
            [CompletionResult]::new('clean', 'clean', [CompletionResultType]::ParameterValue, 'Remove what killed exports left beside an output directory (stale staging directories), put back an old export a killed --force left aside, and never touch the files of an export still running')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Combine parquet exports (parts of one log, each exported on its own, typically with --split-by hash and one seed) into one dataset: one data/ numbered across the parts and one card. The parts'' schemas must agree')
            [CompletionResult]::new('template', 'template', [CompletionResultType]::ParameterValue, 'Work with prompt templates: `rlx template show` prints the built-in texts as a template file to start your own from')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rlx;help;export' {
            break
        }
        'rlx;help;validate' {
            break
        }
        'rlx;help;stats' {
            break
        }
        'rlx;help;clean' {
            break
        }
        'rlx;help;merge' {
            break
        }
        'rlx;help;template' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the built-in system, user and assistant texts of a policy and format as a template file; exporting with it gives byte-identical output')
            break
        }
        'rlx;help;template;show' {
            break
        }
        'rlx;help;completions' {
            break
        }
        'rlx;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
