# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rlx_global_optspecs
    string join \n h/help V/version
end

function __fish_rlx_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_rlx_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_rlx_using_subcommand
    set -l cmd (__fish_rlx_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c rlx -n "__fish_rlx_needs_command" -s h -l help -d 'Print help'
complete -c rlx -n "__fish_rlx_needs_command" -s V -l version -d 'Print version'
complete -c rlx -n "__fish_rlx_needs_command" -f -a "export" -d 'Shuffle, split, validate and write a dataset in one or every format'
complete -c rlx -n "__fish_rlx_needs_command" -f -a "validate" -d 'Run every check `export` would, and write nothing'
complete -c rlx -n "__fish_rlx_needs_command" -f -a "stats" -d 'Show a log before training on it: the reward distribution with a histogram, the actions and how each paid off, group sizes, token counts; per split for a pre-split input. Reads like validate, writes nothing'
complete -c rlx -n "__fish_rlx_needs_command" -f -a "clean" -d 'Remove what killed exports left beside an output directory (stale staging directories), put back an old export a killed --force left aside, and never touch the files of an export still running'
complete -c rlx -n "__fish_rlx_needs_command" -f -a "merge" -d 'Combine parquet exports (parts of one log, each exported on its own, typically with --split-by hash and one seed) into one dataset: one data/ numbered across the parts and one card. The parts\' schemas must agree'
complete -c rlx -n "__fish_rlx_needs_command" -f -a "template" -d 'Work with prompt templates: `rlx template show` prints the built-in texts as a template file to start your own from'
complete -c rlx -n "__fish_rlx_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c rlx -n "__fish_rlx_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rlx -n "__fish_rlx_using_subcommand export" -s o -l output -d 'Output directory. It is written atomically and must not exist or be empty, unless --force' -r -F
complete -c rlx -n "__fish_rlx_using_subcommand export" -s f -l format -d 'Output format [default: inferred from the output directory\'s name, else jsonl]. `all` writes every format into DIR/<format>/' -r -f -a "huggingface\t'datasets-ready JSON Lines splits with a dataset card declaring the schema'
openai\t'chat fine-tuning JSONL with exact token counts'
anthropic\t'Claude prompt/completion (or Bedrock) JSONL'
csv\t'flattened CSV with a data dictionary and an analysis script'
jsonl\t'one example per line, as in the input'
parquet\t'Parquet shards laid out for the Hugging Face Hub, Spark, DuckDB and Polars'
trl\t'Hugging Face TRL datasets: SFT, DPO, KTO and reward-model rows (--objective)'
template\t'your own JSON lines, one per example, rendered by --line-template'
all\t'every format, each in DIR/<format>/'"
complete -c rlx -n "__fish_rlx_using_subcommand export" -l seed -d 'Seed of the ChaCha20 shuffle' -r
complete -c rlx -n "__fish_rlx_using_subcommand export" -l split-ratio -d 'Share of examples for the eval split, in [0, 1) [default: 0.2]. Given explicitly, it also re-splits a pre-split {"train","eval"} input' -r
complete -c rlx -n "__fish_rlx_using_subcommand export" -l validation-ratio -d 'Share of examples for a validation split, in [0, 1) [default: 0]; split + validation must be < 1' -r
complete -c rlx -n "__fish_rlx_using_subcommand export" -l group-by -d 'Keep the examples that share the value at this dotted path (compared as minified JSON text, e.g. metadata.sessionId) together in one split; an example without it is a group of its own. Re-splits a pre-split input' -r
complete -c rlx -n "__fish_rlx_using_subcommand export" -l split-by -d 'ratio: exact counts over the seeded shuffle. hash: each example\'s split from SHA-256 of the seed and its key alone (the --group-by value, else the whole example), so adding examples never moves an old one; counts are then binomial' -r -f -a "ratio\t'exact counts from the ratios, over the seeded shuffle'
hash\t'each example\'s split from SHA-256 of the seed and its key alone: adding examples never moves an old one'"
complete -c rlx -n "__fish_rlx_using_subcommand export" -l max-examples -d 'Keep at most N examples, shared among the splits in proportion to their sizes' -r
complete -c rlx -n "__fish_rlx_using_subcommand export" -l model -d 'Model whose tokenizer and training-example token limit `--format openai` applies [default: gpt-4o-mini-2024-07-18; with --objective dpo gpt-4.1-mini-2025-04-14]' -r
complete -c rlx -n "__fish_rlx_using_subcommand export" -l anthropic-style -d 'Line style of `--format anthropic`: legacy {"prompt","completion"} with the exact Human/Assistant separators, or Bedrock {"system","messages"} for Claude fine-tuning' -r -f -a "legacy\t'{"prompt":"\\n\\nHuman: …\\n\\nAssistant:","completion":" …"}'
bedrock\t'{"system":…,"messages":[user, assistant]} as Bedrock\'s Claude 3 Haiku fine-tuning reads'"
complete -c rlx -n "__fish_rlx_using_subcommand export" -l objective -d 'What the rewards become [default: inferred from the output name (the words dpo, kto, sft, reward), else sft]. sft: every kept example as a target; dpo: (prompt, chosen, rejected) pairs; kto: examples labelled by reward; reward: reward-model pairs with a margin' -r -f -a "sft\t'every selected example as an imitation target (prompt, completion)'
dpo\t'preference pairs (prompt, chosen, rejected) from groups of examples'
kto\t'every example with a desirable/undesirable label from its reward'
reward\t'reward-model pairs (chosen, rejected conversations, margin)'"
complete -c rlx -n "__fish_rlx_using_subcommand export" -l min-reward -d 'Keep only examples whose reward is at least R (compared as written decimals); the rest are counted as filteredExamples. Every format and objective' -r
complete -c rlx -n "__fish_rlx_using_subcommand export" -l template -d 'Prompt template (Jinja2, minijinja): the system, user and assistant texts of every format that renders prompts (openai, anthropic, trl, template), in three parts `=== system ===`, `=== user ===`, `=== assistant ===`. `rlx template show` prints the built-in ones to start from' -r -F
complete -c rlx -n "__fish_rlx_using_subcommand export" -l line-template -d 'template: the Jinja2 template of one line, which must render exactly one JSON value per example (written compact). It reads state, action, reward, metadata, next_state, policy, split and the prompt texts system, user, assistant' -r -F
complete -c rlx -n "__fish_rlx_using_subcommand export" -l trl-style -d 'Row style of `--format trl`: message lists (conversational) or plain strings' -r -f -a "conversational\t'prompt = [system, user] messages, completions = [assistant] (TRL\'s conversational type)'
standard\t'plain strings: the prompt is the system text, a blank line, the user text'"
complete -c rlx -n "__fish_rlx_using_subcommand export" -l shard-size -d 'parquet: the most input text per shard, in bytes with an optional unit (KB, MB, GB, KiB, MiB, GiB); the default is push_to_hub\'s' -r
complete -c rlx -n "__fish_rlx_using_subcommand export" -l compression -d 'parquet: the codec of every column chunk' -r -f -a "snappy\t'What push_to_hub and pyarrow write: fast to write and to read'
zstd\t'zstd level 3: about a third smaller than snappy, slower to write'
none\t'Uncompressed'"
complete -c rlx -n "__fish_rlx_using_subcommand export" -l kto-threshold -d 'kto: rewards above T are desirable, below T undesirable; examples at exactly T are left out and counted' -r
complete -c rlx -n "__fish_rlx_using_subcommand export" -l pair-by -d 'dpo/reward: what makes examples comparable. `original` (the original dpo-trainer\'s key per policy), `state` (the whole state), or dotted paths joined by commas (state.scopeStats.scopeType,metadata.sessionId)' -r
complete -c rlx -n "__fish_rlx_using_subcommand export" -l pairs -d 'dpo/reward: one pair per group (its best against its worst different action), or every pair with different actions, largest margin first' -r -f -a "best-worst\t'At most one pair per group: its best example against the lowest-reward example whose action differs'
all\t'Every pair with different actions, largest margin first, up to --max-pairs-per-group'"
complete -c rlx -n "__fish_rlx_using_subcommand export" -l max-pairs-per-group -d 'dpo/reward with --pairs all: the most pairs one group gives' -r
complete -c rlx -n "__fish_rlx_using_subcommand export" -l min-margin -d 'dpo/reward: a pair needs chosen reward minus rejected reward above M, exactly as written (a gap of exactly 0.1 makes no pair)' -r
complete -c rlx -n "__fish_rlx_using_subcommand export" -l policy -d 'Policy of the examples; detected from the state\'s shape when absent (contextFeatures+memoryState+contentFeatures → extraction, queryFeatures → retrieval, groupFeatures → consolidation)' -r -f -a "extraction\t'store, skip or defer what a conversation said'
retrieval\t'whether and where to search memory'
consolidation\t'merge, dedupe, archive, abstract or keep memory entries'"
complete -c rlx -n "__fish_rlx_using_subcommand export" -l threads -d 'Worker threads for parsing and rendering [default: all cores]. The output is byte-identical whatever the number' -r
complete -c rlx -n "__fish_rlx_using_subcommand export" -l no-shuffle -d 'Keep the input order instead of shuffling'
complete -c rlx -n "__fish_rlx_using_subcommand export" -l dedupe -d 'Keep the first of examples with identical state, action and reward and drop the rest, counted as duplicateExamples'
complete -c rlx -n "__fish_rlx_using_subcommand export" -l plots -d 'Draw SVG charts into DIR/plots/ (the reward histogram of each split, the mean reward per action, the action counts per split) and show them in the dataset cards'
complete -c rlx -n "__fish_rlx_using_subcommand export" -l no-metadata -d 'Leave each example\'s `metadata` out of every format'
complete -c rlx -n "__fish_rlx_using_subcommand export" -l compress -d 'Gzip every data file (train.jsonl.gz, ...); README and guide files stay plain'
complete -c rlx -n "__fish_rlx_using_subcommand export" -l force -d 'Replace a non-empty output directory. The old one survives any failure, and the swap is one atomic step (renameat2 RENAME_EXCHANGE on Linux)'
complete -c rlx -n "__fish_rlx_using_subcommand export" -l no-sync -d 'Skip syncing the files and directories to disk before the final rename: faster scratch exports that a power loss may leave empty (never half-replaced)'
complete -c rlx -n "__fish_rlx_using_subcommand export" -l skip-invalid -d 'Drop invalid examples instead of failing; each is counted, warned about and written with its location and reason to DIR/rejected.jsonl'
complete -c rlx -n "__fish_rlx_using_subcommand export" -l no-formula-escape -d 'Write CSV string cells as they are, without the `\'` that stops spreadsheets from running cells that start with = + - @ tab CR LF as formulas'
complete -c rlx -n "__fish_rlx_using_subcommand export" -l no-cdc -d 'parquet: turn content-defined chunking off (on by default: re-uploading a grown export to the Hub sends only the changed chunks)'
complete -c rlx -n "__fish_rlx_using_subcommand export" -l no-margin -d 'reward: leave the `margin` column out of every row'
complete -c rlx -n "__fish_rlx_using_subcommand export" -l json -d 'Print the result as one JSON object on stdout instead of the human summary'
complete -c rlx -n "__fish_rlx_using_subcommand export" -s q -l quiet -d 'Print nothing but errors (no progress bar, no summary)'
complete -c rlx -n "__fish_rlx_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlx -n "__fish_rlx_using_subcommand export" -s V -l version -d 'Print version'
complete -c rlx -n "__fish_rlx_using_subcommand validate" -s f -l format -d 'Also run the checks this format needs (prompt fields for openai/anthropic, token limits for openai)' -r -f -a "huggingface\t'datasets-ready JSON Lines splits with a dataset card declaring the schema'
openai\t'chat fine-tuning JSONL with exact token counts'
anthropic\t'Claude prompt/completion (or Bedrock) JSONL'
csv\t'flattened CSV with a data dictionary and an analysis script'
jsonl\t'one example per line, as in the input'
parquet\t'Parquet shards laid out for the Hugging Face Hub, Spark, DuckDB and Polars'
trl\t'Hugging Face TRL datasets: SFT, DPO, KTO and reward-model rows (--objective)'
template\t'your own JSON lines, one per example, rendered by --line-template'
all\t'every format, each in DIR/<format>/'"
complete -c rlx -n "__fish_rlx_using_subcommand validate" -l model -d 'Model whose tokenizer and token limit the openai checks apply' -r
complete -c rlx -n "__fish_rlx_using_subcommand validate" -l template -d 'Prompt template whose texts the openai token counts and the prompt checks use (as `export --template`)' -r -F
complete -c rlx -n "__fish_rlx_using_subcommand validate" -l check-file -d 'Check an already written platform file instead of an rlx input: an OpenAI chat fine-tuning JSONL or a Bedrock Claude JSONL' -r -f -a "openai\t'OpenAI chat fine-tuning JSONL ({"messages":[…]})'
bedrock\t'Amazon Bedrock Claude fine-tuning JSONL ({"system","messages"})'"
complete -c rlx -n "__fish_rlx_using_subcommand validate" -l policy -d 'Policy of the examples; detected from the state\'s shape when absent (contextFeatures+memoryState+contentFeatures → extraction, queryFeatures → retrieval, groupFeatures → consolidation)' -r -f -a "extraction\t'store, skip or defer what a conversation said'
retrieval\t'whether and where to search memory'
consolidation\t'merge, dedupe, archive, abstract or keep memory entries'"
complete -c rlx -n "__fish_rlx_using_subcommand validate" -l threads -d 'Worker threads for parsing and rendering [default: all cores]. The output is byte-identical whatever the number' -r
complete -c rlx -n "__fish_rlx_using_subcommand validate" -l json -d 'Print the result as one JSON object on stdout instead of the human summary'
complete -c rlx -n "__fish_rlx_using_subcommand validate" -s q -l quiet -d 'Print nothing but errors (no progress bar, no summary)'
complete -c rlx -n "__fish_rlx_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlx -n "__fish_rlx_using_subcommand validate" -s V -l version -d 'Print version'
complete -c rlx -n "__fish_rlx_using_subcommand stats" -l group-by -d 'Also report the sizes of the groups that share the value at this dotted path (e.g. metadata.sessionId), as `export --group-by` would keep them together' -r
complete -c rlx -n "__fish_rlx_using_subcommand stats" -s f -l format -d 'Also run this format\'s checks; openai adds the token distribution of its lines' -r -f -a "huggingface\t'datasets-ready JSON Lines splits with a dataset card declaring the schema'
openai\t'chat fine-tuning JSONL with exact token counts'
anthropic\t'Claude prompt/completion (or Bedrock) JSONL'
csv\t'flattened CSV with a data dictionary and an analysis script'
jsonl\t'one example per line, as in the input'
parquet\t'Parquet shards laid out for the Hugging Face Hub, Spark, DuckDB and Polars'
trl\t'Hugging Face TRL datasets: SFT, DPO, KTO and reward-model rows (--objective)'
template\t'your own JSON lines, one per example, rendered by --line-template'
all\t'every format, each in DIR/<format>/'"
complete -c rlx -n "__fish_rlx_using_subcommand stats" -l model -d 'Model whose tokenizer and token limit --format openai applies' -r
complete -c rlx -n "__fish_rlx_using_subcommand stats" -l template -d 'Prompt template whose texts the openai token counts use (as `export --template`)' -r -F
complete -c rlx -n "__fish_rlx_using_subcommand stats" -l bins -d 'Bins of the reward histogram' -r
complete -c rlx -n "__fish_rlx_using_subcommand stats" -l policy -d 'Policy of the examples; detected from the state\'s shape when absent (contextFeatures+memoryState+contentFeatures → extraction, queryFeatures → retrieval, groupFeatures → consolidation)' -r -f -a "extraction\t'store, skip or defer what a conversation said'
retrieval\t'whether and where to search memory'
consolidation\t'merge, dedupe, archive, abstract or keep memory entries'"
complete -c rlx -n "__fish_rlx_using_subcommand stats" -l threads -d 'Worker threads for parsing and rendering [default: all cores]. The output is byte-identical whatever the number' -r
complete -c rlx -n "__fish_rlx_using_subcommand stats" -l json -d 'Print the result as one JSON object on stdout instead of the human summary'
complete -c rlx -n "__fish_rlx_using_subcommand stats" -s q -l quiet -d 'Print nothing but errors (no progress bar, no summary)'
complete -c rlx -n "__fish_rlx_using_subcommand stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlx -n "__fish_rlx_using_subcommand stats" -s V -l version -d 'Print version'
complete -c rlx -n "__fish_rlx_using_subcommand clean" -l json -d 'Print the result as one JSON object on stdout instead of the human summary'
complete -c rlx -n "__fish_rlx_using_subcommand clean" -s q -l quiet -d 'Print nothing but errors'
complete -c rlx -n "__fish_rlx_using_subcommand clean" -s h -l help -d 'Print help'
complete -c rlx -n "__fish_rlx_using_subcommand clean" -s V -l version -d 'Print version'
complete -c rlx -n "__fish_rlx_using_subcommand merge" -s o -l output -d 'Output directory, written atomically like an export\'s' -r -F
complete -c rlx -n "__fish_rlx_using_subcommand merge" -l force -d 'Replace a non-empty output directory'
complete -c rlx -n "__fish_rlx_using_subcommand merge" -l no-sync -d 'Skip syncing the files to disk before the final rename'
complete -c rlx -n "__fish_rlx_using_subcommand merge" -l json -d 'Print the result as one JSON object on stdout instead of the human summary'
complete -c rlx -n "__fish_rlx_using_subcommand merge" -s q -l quiet -d 'Print nothing but errors'
complete -c rlx -n "__fish_rlx_using_subcommand merge" -s h -l help -d 'Print help'
complete -c rlx -n "__fish_rlx_using_subcommand merge" -s V -l version -d 'Print version'
complete -c rlx -n "__fish_rlx_using_subcommand template; and not __fish_seen_subcommand_from show help" -s h -l help -d 'Print help'
complete -c rlx -n "__fish_rlx_using_subcommand template; and not __fish_seen_subcommand_from show help" -s V -l version -d 'Print version'
complete -c rlx -n "__fish_rlx_using_subcommand template; and not __fish_seen_subcommand_from show help" -f -a "show" -d 'Print the built-in system, user and assistant texts of a policy and format as a template file; exporting with it gives byte-identical output'
complete -c rlx -n "__fish_rlx_using_subcommand template; and not __fish_seen_subcommand_from show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rlx -n "__fish_rlx_using_subcommand template; and __fish_seen_subcommand_from show" -l policy -d 'The policy whose texts to print' -r -f -a "extraction\t'store, skip or defer what a conversation said'
retrieval\t'whether and where to search memory'
consolidation\t'merge, dedupe, archive, abstract or keep memory entries'"
complete -c rlx -n "__fish_rlx_using_subcommand template; and __fish_seen_subcommand_from show" -s f -l format -d 'The format whose texts to print: openai, anthropic, trl or template' -r -f -a "huggingface\t'datasets-ready JSON Lines splits with a dataset card declaring the schema'
openai\t'chat fine-tuning JSONL with exact token counts'
anthropic\t'Claude prompt/completion (or Bedrock) JSONL'
csv\t'flattened CSV with a data dictionary and an analysis script'
jsonl\t'one example per line, as in the input'
parquet\t'Parquet shards laid out for the Hugging Face Hub, Spark, DuckDB and Polars'
trl\t'Hugging Face TRL datasets: SFT, DPO, KTO and reward-model rows (--objective)'
template\t'your own JSON lines, one per example, rendered by --line-template'
all\t'every format, each in DIR/<format>/'"
complete -c rlx -n "__fish_rlx_using_subcommand template; and __fish_seen_subcommand_from show" -l objective -d 'The objective (openai with dpo writes the action alone, as trl does)' -r -f -a "sft\t'every selected example as an imitation target (prompt, completion)'
dpo\t'preference pairs (prompt, chosen, rejected) from groups of examples'
kto\t'every example with a desirable/undesirable label from its reward'
reward\t'reward-model pairs (chosen, rejected conversations, margin)'"
complete -c rlx -n "__fish_rlx_using_subcommand template; and __fish_seen_subcommand_from show" -l anthropic-style -d 'The anthropic line style (legacy completions add the reward band)' -r -f -a "legacy\t'{"prompt":"\\n\\nHuman: …\\n\\nAssistant:","completion":" …"}'
bedrock\t'{"system":…,"messages":[user, assistant]} as Bedrock\'s Claude 3 Haiku fine-tuning reads'"
complete -c rlx -n "__fish_rlx_using_subcommand template; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlx -n "__fish_rlx_using_subcommand template; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c rlx -n "__fish_rlx_using_subcommand template; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the built-in system, user and assistant texts of a policy and format as a template file; exporting with it gives byte-identical output'
complete -c rlx -n "__fish_rlx_using_subcommand template; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rlx -n "__fish_rlx_using_subcommand completions" -s h -l help -d 'Print help'
complete -c rlx -n "__fish_rlx_using_subcommand completions" -s V -l version -d 'Print version'
complete -c rlx -n "__fish_rlx_using_subcommand help; and not __fish_seen_subcommand_from export validate stats clean merge template completions help" -f -a "export" -d 'Shuffle, split, validate and write a dataset in one or every format'
complete -c rlx -n "__fish_rlx_using_subcommand help; and not __fish_seen_subcommand_from export validate stats clean merge template completions help" -f -a "validate" -d 'Run every check `export` would, and write nothing'
complete -c rlx -n "__fish_rlx_using_subcommand help; and not __fish_seen_subcommand_from export validate stats clean merge template completions help" -f -a "stats" -d 'Show a log before training on it: the reward distribution with a histogram, the actions and how each paid off, group sizes, token counts; per split for a pre-split input. Reads like validate, writes nothing'
complete -c rlx -n "__fish_rlx_using_subcommand help; and not __fish_seen_subcommand_from export validate stats clean merge template completions help" -f -a "clean" -d 'Remove what killed exports left beside an output directory (stale staging directories), put back an old export a killed --force left aside, and never touch the files of an export still running'
complete -c rlx -n "__fish_rlx_using_subcommand help; and not __fish_seen_subcommand_from export validate stats clean merge template completions help" -f -a "merge" -d 'Combine parquet exports (parts of one log, each exported on its own, typically with --split-by hash and one seed) into one dataset: one data/ numbered across the parts and one card. The parts\' schemas must agree'
complete -c rlx -n "__fish_rlx_using_subcommand help; and not __fish_seen_subcommand_from export validate stats clean merge template completions help" -f -a "template" -d 'Work with prompt templates: `rlx template show` prints the built-in texts as a template file to start your own from'
complete -c rlx -n "__fish_rlx_using_subcommand help; and not __fish_seen_subcommand_from export validate stats clean merge template completions help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c rlx -n "__fish_rlx_using_subcommand help; and not __fish_seen_subcommand_from export validate stats clean merge template completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rlx -n "__fish_rlx_using_subcommand help; and __fish_seen_subcommand_from template" -f -a "show" -d 'Print the built-in system, user and assistant texts of a policy and format as a template file; exporting with it gives byte-identical output'
