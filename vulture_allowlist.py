# Names vulture reports that are used by frameworks, not by our own calls: FastAPI routes and
# pydantic model fields and validators, Typer commands, PEP 562 __getattr__, the contract
# suites' fixtures. `make lint` runs: vulture src/docsage vulture_allowlist.py --min-confidence 60
# (regenerate candidates with: vulture src/docsage --make-whitelist).
__getattr__  # unused function (src/docsage/__init__.py:54)
totals  # unused function (src/docsage/agent/trace.py:30)
left_out  # unused variable (src/docsage/answer/prompt.py:54)
abstain  # unused variable (src/docsage/answer/structured.py:40)
healthz  # unused function (src/docsage/api/app.py:111)
readyz  # unused function (src/docsage/api/app.py:116)
prometheus  # unused function (src/docsage/api/app.py:123)
chat_completions  # unused function (src/docsage/api/chat.py:164)
models  # unused function (src/docsage/api/chat.py:198)
embeddings  # unused function (src/docsage/api/chat.py:215)
model_config  # unused variable (src/docsage/api/models.py:27)
model_config  # unused variable (src/docsage/api/openai_models.py:24)
model_config  # unused variable (src/docsage/api/openai_models.py:49)
model_config  # unused variable (src/docsage/api/openai_models.py:58)
prompt_tokens  # unused variable (src/docsage/api/openai_models.py:128)
completion_tokens  # unused variable (src/docsage/api/openai_models.py:129)
total_tokens  # unused variable (src/docsage/api/openai_models.py:130)
created  # unused variable (src/docsage/api/openai_models.py:136)
choices  # unused variable (src/docsage/api/openai_models.py:138)
docsage  # unused variable (src/docsage/api/openai_models.py:141)
created  # unused variable (src/docsage/api/openai_models.py:147)
owned_by  # unused variable (src/docsage/api/openai_models.py:148)
model_config  # unused variable (src/docsage/api/openai_models.py:157)
embedding  # unused variable (src/docsage/api/openai_models.py:180)
prompt_tokens  # unused variable (src/docsage/api/openai_models.py:184)
total_tokens  # unused variable (src/docsage/api/openai_models.py:185)
exc_info  # unused variable (src/docsage/app.py:341)
run_command  # unused function (src/docsage/cli/eval_cmd.py:148)
list_command  # unused function (src/docsage/cli/eval_cmd.py:221)
compare_command  # unused function (src/docsage/cli/eval_cmd.py:246)
generate_command  # unused function (src/docsage/cli/eval_cmd.py:262)
list_keys  # unused function (src/docsage/cli/keys_cmd.py:58)
model_config  # unused variable (src/docsage/evals/dataset.py:25)
_._not_blank  # unused method (src/docsage/evals/dataset.py:34)
_._gold_when_answerable  # unused method (src/docsage/evals/dataset.py:41)
f1  # unused variable (src/docsage/evals/metrics.py:221)
false_abstention_rate  # unused variable (src/docsage/evals/metrics.py:222)
search_ms  # unused variable (src/docsage/evals/runner.py:73)
optional_arguments  # unused variable (src/docsage/ingest/parsers/_rst_sphinx.py:114)
final_argument_whitespace  # unused variable (src/docsage/ingest/parsers/_rst_sphinx.py:115)
has_content  # unused variable (src/docsage/ingest/parsers/_rst_sphinx.py:116)
option_spec  # unused variable (src/docsage/ingest/parsers/_rst_sphinx.py:117)
inliner  # unused variable (src/docsage/ingest/parsers/_rst_sphinx.py:200)
FreePricer  # unused class (src/docsage/models/chat.py:95)
tool_call  # unused function (src/docsage/models/fake.py:60)
_.intra_op_num_threads  # unused attribute (src/docsage/models/onnx.py:64)
_.inter_op_num_threads  # unused attribute (src/docsage/models/onnx.py:65)
_.dropped  # unused attribute (src/docsage/store/sqlite_writes.py:51)
_.dropped  # unused attribute (src/docsage/store/sqlite_writes.py:92)
exc_info  # unused variable (src/docsage/store/sqlite_db.py:61)
ChatModelContract  # unused class (src/docsage/testing/chat_contract.py:22)
CountingEmbedder  # unused class (src/docsage/testing/embedders.py:15)
SlowHashEmbedder  # unused class (src/docsage/testing/embedders.py:34)
files_seen  # unused variable (src/docsage/types.py:245)
chunks_total  # unused variable (src/docsage/types.py:251)
settings_customise_sources  # pydantic-settings hook (src/docsage/settings.py)
env_settings  # its keyword parameters, passed by name
dotenv_settings
file_secret_settings
_expand_home  # a pydantic field validator
add_chat_model  # public API of Docsage, used by embedding code and tests
EmbedderContract  # a contract suite: subclassed by tests and by plugin authors
RerankerContract  # a contract suite: subclassed by tests and by plugin authors
# Named by "module:attr" strings in the registries' built-in tables (docsage.adapters,
# docsage.ingest.parsers.registry), loaded when a setting or a file suffix names them.
parse_mdx  # unused function (src/docsage/ingest/parsers/markdown.py:38)
hash_embedder  # unused function (src/docsage/models/fake.py:154)
echo_chat_model  # unused function (src/docsage/models/fake.py:159)
ObedientChatModel  # shipped fake, used by tests/ and benchmarks/injection.py (src/docsage/models/fake_obedient.py)
IdentifierReranker  # unused class (src/docsage/rerank.py:55)
open_store  # unused function (src/docsage/store/sqlite.py:325)
# Registry API for plugin authors and tests (entry points rescanned, an in-process name removed).
refresh  # unused function (src/docsage/registry.py:36)
remove  # unused method (src/docsage/registry.py:81)
KeyStoreContract  # a contract suite: subclassed by tests and by plugin authors
RequestLogContract  # a contract suite: subclassed by tests and by plugin authors
JobStoreContract  # a contract suite: subclassed by tests and by plugin authors
RunStoreContract  # a contract suite: subclassed by tests and by plugin authors
