// ChatTemplate against real chat templates and against the Jinja features they use. Every expected string was
// produced by Python's jinja2 3.1.6 set up as Hugging Face's apply_chat_template sets it up
// (ImmutableSandboxedEnvironment, trim_blocks and lstrip_blocks, the loopcontrols extension, a raise_exception
// global and HF's tojson filter), then pasted here as literals; the test never runs Python.
#include "model/chat_template.h"

#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "model/gguf.h"
#include "testdata.h"

namespace strata {
namespace {

struct RealTemplateCase {
  const char* name;
  const char* source;
  const char* bos;
  const char* eos;
  const std::vector<ChatMessage>* messages;
  bool add_generation_prompt;
  bool expect_error;     // jinja2 raised; `expected` is the raise_exception message
  const char* expected;
};

struct SnippetCase {
  const char* source;  // rendered with kUserAssistantUser and add_generation_prompt=true, bos "<s>", eos "</s>"
  ChatTemplateOptions options;
  const char* expected;
};

// ---- real templates (generated) ----
constexpr const char kChatmlTemplate[] =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
constexpr const char kLlama2Template[] =
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
constexpr const char kLlama3Template[] =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
constexpr const char kLlama31Template[] =
    "{{- bos_token }}\n{%- if custom_tools is defined %}\n    {%- set tools = custom_tools %}\n{%- endif %}\n{%- if not tools_in_user_message is defined %}\n    {%- set tools_in_user_message = true %}\n{%- endif %}\n{%- if not date_string is defined %}\n    {%- set date_string = \"26 Jul 2024\" %}\n{%- endif %}\n{%- if not tools is defined %}\n    {%- set tools = none %}\n{%- endif %}\n\n{#- This block extracts the system message, so we can slot it into the right place. #}\n{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content']|trim %}\n    {%- set messages = messages[1:] %}\n{%- else %}\n    {%- set system_message = \"\" %}\n{%- endif %}\n\n{#- System message + builtin tools #}\n{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n{%- if builtin_tools is defined or tools is not none %}\n    {{- \"Environment: ipython\\n\" }}\n{%- endif %}\n{%- if builtin_tools is defined %}\n    {{- \"Tools: \" + builtin_tools | reject('equalto', 'code_interpreter') | join(\", \") + \"\\n\\n\"}}\n{%- endif %}\n{{- \"Cutting Knowledge Date: December 2023\\n\" }}\n{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n{%- if tools is not none and not tools_in_user_message %}\n    {{- \"You have access to the following functions. To call a function, please respond with JSON for a function call.\" }}\n    {{- 'Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.' }}\n    {{- \"Do not use variables.\\n\\n\" }}\n    {%- for t in tools %}\n        {{- t | tojson(indent=4) }}\n        {{- \"\\n\\n\" }}\n    {%- endfor %}\n{%- endif %}\n{{- system_message }}\n{{- \"<|eot_id|>\" }}\n\n{#- Custom tools are passed in a user message with some extra guidance #}\n{%- if tools_in_user_message and not tools is none %}\n    {#- Extract the first user message so we can plug it in here #}\n    {%- if messages | length != 0 %}\n        {%- set first_user_message = messages[0]['content']|trim %}\n        {%- set messages = messages[1:] %}\n    {%- else %}\n        {{- raise_exception(\"Cannot put tools in the first user message when there's no first user message!\") }}\n{%- endif %}\n    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}\n    {{- \"Given the following functions, please respond with a JSON for a function call \" }}\n    {{- \"with its proper arguments that best answers the given prompt.\\n\\n\" }}\n    {{- 'Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.' }}\n    {{- \"Do not use variables.\\n\\n\" }}\n    {%- for t in tools %}\n        {{- t | tojson(indent=4) }}\n        {{- \"\\n\\n\" }}\n    {%- endfor %}\n    {{- first_user_message + \"<|eot_id|>\"}}\n{%- endif %}\n\n{%- for message in messages %}\n    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}\n        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}\n    {%- elif 'tool_calls' in message %}\n        {%- if not message.tool_calls|length == 1 %}\n            {{- raise_exception(\"This model only supports single tool-calls at once!\") }}\n        {%- endif %}\n        {%- set tool_call = message.tool_calls[0].function %}\n        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}\n            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n            {{- \"<|python_tag|>\" + tool_call.name + \".call(\" }}\n            {%- for arg_name, arg_val in tool_call.arguments | items %}\n                {{- arg_name + '=\"' + arg_val + '\"' }}\n                {%- if not loop.last %}\n                    {{- \", \" }}\n                {%- endif %}\n                {%- endfor %}\n            {{- \")\" }}\n        {%- else  %}\n            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n            {{- '{\"name\": \"' + tool_call.name + '\", ' }}\n            {{- '\"parameters\": ' }}\n            {{- tool_call.arguments | tojson }}\n            {{- \"}\" }}\n        {%- endif %}\n        {%- if builtin_tools is defined %}\n            {#- This means we're in ipython mode #}\n            {{- \"<|eom_id|>\" }}\n        {%- else %}\n            {{- \"<|eot_id|>\" }}\n        {%- endif %}\n    {%- elif message.role == \"tool\" or message.role == \"ipython\" %}\n        {{- \"<|start_header_id|>ipython<|end_header_id|>\\n\\n\" }}\n        {%- if message.content is mapping or message.content is iterable %}\n            {{- message.content | tojson }}\n        {%- else %}\n            {{- message.content }}\n        {%- endif %}\n        {{- \"<|eot_id|>\" }}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n{%- endif %}\n";
constexpr const char kMistralV02Template[] =
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";
constexpr const char kMistralV1Template[] =
    "{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content'] %}\n    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}\n    {%- endif %}\n    {%- if message['role'] == 'user' %}\n        {%- if loop.first and system_message is defined %}\n            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n        {%- else %}\n            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n        {%- endif %}\n    {%- elif message['role'] == 'assistant' %}\n        {{- ' ' + message['content'] + eos_token}}\n    {%- else %}\n        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}\n    {%- endif %}\n{%- endfor %}\n";
constexpr const char kMistralV3Template[] =
    "{%- if messages[0][\"role\"] == \"system\" %}\n    {%- set system_message = messages[0][\"content\"] %}\n    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n{%- if not tools is defined %}\n    {%- set tools = none %}\n{%- endif %}\n{%- set user_messages = loop_messages | selectattr(\"role\", \"equalto\", \"user\") | list %}\n\n{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}\n{%- set ns = namespace() %}\n{%- set ns.index = 0 %}\n{%- for message in loop_messages %}\n    {%- if not (message.role == \"tool\" or message.role == \"tool_results\" or (message.tool_calls is defined and message.tool_calls is not none)) %}\n        {%- if (message[\"role\"] == \"user\") != (ns.index % 2 == 0) %}\n            {{- raise_exception(\"After the optional system message, conversation roles must alternate user/assistant/user/assistant/...\") }}\n        {%- endif %}\n        {%- set ns.index = ns.index + 1 %}\n    {%- endif %}\n{%- endfor %}\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n    {%- if message[\"role\"] == \"user\" %}\n        {%- if tools is not none and (message == user_messages[-1]) %}\n            {{- \"[AVAILABLE_TOOLS] [\" }}\n            {%- for tool in tools %}\n                {%- set tool = tool.function %}\n                {{- '{\"type\": \"function\", \"function\": {' }}\n                {%- for key, val in tool.items() if key != \"return\" %}\n                    {%- if val is string %}\n                        {{- '\"' + key + '\": \"' + val + '\"' }}\n                    {%- else %}\n                        {{- '\"' + key + '\": ' + val|tojson }}\n                    {%- endif %}\n                    {%- if not loop.last %}\n                        {{- \", \" }}\n                    {%- endif %}\n                {%- endfor %}\n                {{- \"}}\" }}\n                {%- if not loop.last %}\n                    {{- \", \" }}\n                {%- else %}\n                    {{- \"]\" }}\n                {%- endif %}\n            {%- endfor %}\n            {{- \"[/AVAILABLE_TOOLS]\" }}\n            {%- endif %}\n        {%- if loop.last and system_message is defined %}\n            {{- \"[INST] \" + system_message + \"\\n\\n\" + message[\"content\"] + \"[/INST]\" }}\n        {%- else %}\n            {{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}\n        {%- endif %}\n    {%- elif message.tool_calls is defined and message.tool_calls is not none %}\n        {{- \"[TOOL_CALLS] [\" }}\n        {%- for tool_call in message.tool_calls %}\n            {%- set out = tool_call.function|tojson %}\n            {{- out[:-1] }}\n            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}\n                {{- raise_exception(\"Tool call IDs should be alphanumeric strings with length 9!\") }}\n            {%- endif %}\n            {{- ', \"id\": \"' + tool_call.id + '\"}' }}\n            {%- if not loop.last %}\n                {{- \", \" }}\n            {%- else %}\n                {{- \"]\" + eos_token }}\n            {%- endif %}\n        {%- endfor %}\n    {%- elif message[\"role\"] == \"assistant\" %}\n        {{- \" \" + message[\"content\"]|trim + eos_token}}\n    {%- elif message[\"role\"] == \"tool_results\" or message[\"role\"] == \"tool\" %}\n        {%- if message.content is defined and message.content.content is defined %}\n            {%- set content = message.content.content %}\n        {%- else %}\n            {%- set content = message.content %}\n        {%- endif %}\n        {{- '[TOOL_RESULTS] {\"content\": ' + content|string + \", \" }}\n        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}\n            {{- raise_exception(\"Tool call IDs should be alphanumeric strings with length 9!\") }}\n        {%- endif %}\n        {{- '\"call_id\": \"' + message.tool_call_id + '\"}[/TOOL_RESULTS]' }}\n    {%- else %}\n        {{- raise_exception(\"Only user and assistant roles are supported, with the exception of an initial optional system message!\") }}\n    {%- endif %}\n{%- endfor %}\n";
constexpr const char kQwen2Template[] =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
constexpr const char kQwen25Template[] =
    "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}\n    {%- if messages[0]['role'] == 'system' %}\n        {{- messages[0]['content'] }}\n    {%- else %}\n        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}\n    {%- endif %}\n    {{- \"\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>\" }}\n    {%- for tool in tools %}\n        {{- \"\\n\" }}\n        {{- tool | tojson }}\n    {%- endfor %}\n    {{- \"\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\\"name\\\": <function-name>, \\\"arguments\\\": <args-json-object>}\\n</tool_call><|im_end|>\\n\" }}\n{%- else %}\n    {%- if messages[0]['role'] == 'system' %}\n        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n    {%- else %}\n        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}\n    {%- endif %}\n{%- endif %}\n{%- for message in messages %}\n    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or (message.role == \"assistant\" and not message.tool_calls) %}\n        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n    {%- elif message.role == \"assistant\" %}\n        {{- '<|im_start|>' + message.role }}\n        {%- if message.content %}\n            {{- '\\n' + message.content }}\n        {%- endif %}\n        {%- for tool_call in message.tool_calls %}\n            {%- if tool_call.function is defined %}\n                {%- set tool_call = tool_call.function %}\n            {%- endif %}\n            {{- '\\n<tool_call>\\n{\"name\": \"' }}\n            {{- tool_call.name }}\n            {{- '\", \"arguments\": ' }}\n            {{- tool_call.arguments | tojson }}\n            {{- '}\\n</tool_call>' }}\n        {%- endfor %}\n        {{- '<|im_end|>\\n' }}\n    {%- elif message.role == \"tool\" %}\n        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != \"tool\") %}\n            {{- '<|im_start|>user' }}\n        {%- endif %}\n        {{- '\\n<tool_response>\\n' }}\n        {{- message.content }}\n        {{- '\\n</tool_response>' }}\n        {%- if loop.last or (messages[loop.index0 + 1].role != \"tool\") %}\n            {{- '<|im_end|>\\n' }}\n        {%- endif %}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n";
constexpr const char kZephyrTemplate[] =
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";
constexpr const char kGemmaTemplate[] =
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}";
constexpr const char kDeepseekCoderTemplate[] =
    "{% if not add_generation_prompt is defined %}\n{% set add_generation_prompt = false %}\n{% endif %}\n{%- set ns = namespace(found=false) -%}\n{%- for message in messages -%}\n    {%- if message['role'] == 'system' -%}\n        {%- set ns.found = true -%}\n    {%- endif -%}\n{%- endfor -%}\n{{bos_token}}{%- if not ns.found -%}\n{{'You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek Company, and you only answer questions related to computer science. For politically sensitive questions, security and privacy issues, and other non-computer science questions, you will refuse to answer\\n'}}\n{%- endif %}\n{%- for message in messages %}\n    {%- if message['role'] == 'system' %}\n{{ message['content'] }}\n    {%- else %}\n        {%- if message['role'] == 'user' %}\n{{'### Instruction:\\n' + message['content'] + '\\n'}}\n        {%- else %}\n{{'### Response:\\n' + message['content'] + '\\n<|EOT|>\\n'}}\n        {%- endif %}\n    {%- endif %}\n{%- endfor %}\n{% if add_generation_prompt %}\n{{'### Response:'}}\n{% endif %}";
constexpr const char kPhi3Template[] =
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\n' + message['content'] + '<|end|>' + '\n' + '<|assistant|>' + '\n'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\n'}}{% endif %}{% endfor %}";
constexpr const char kCommandRTemplate[] =
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% elif false == true %}{% set loop_messages = messages %}{% set system_message = 'You are Command-R, a brilliant, sophisticated, AI-assistant trained to assist human users by providing thorough responses. You are trained by Cohere.' %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% if system_message != false %}{{ '<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>' + system_message + '<|END_OF_TURN_TOKEN|>' }}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% set content = message['content'] %}{% if message['role'] == 'user' %}{{ '<|START_OF_TURN_TOKEN|><|USER_TOKEN|>' + content.strip() + '<|END_OF_TURN_TOKEN|>' }}{% elif message['role'] == 'assistant' %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>'  + content.strip() + '<|END_OF_TURN_TOKEN|>' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' }}{% endif %}";

const std::vector<ChatMessage> kSystemUser = {{"system", "You are a helpful assistant."}, {"user", "Hello!"}};
const std::vector<ChatMessage> kUserAssistantUser = {{"user", "What is 2+2?"}, {"assistant", "  It is 4.  "}, {"user", "And 3+3? ¿Qué?"}};
const std::vector<ChatMessage> kSystemMultiTurn = {{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello there."}, {"user", "Bye"}};

const RealTemplateCase kRealTemplateCases[] = {
    {"chatml", kChatmlTemplate, "", "<|im_end|>", &kSystemUser, true, false,
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n"},
    {"chatml", kChatmlTemplate, "", "<|im_end|>", &kUserAssistantUser, false, false,
     "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n  It is 4.  <|im_end|>\n<|im_start|>user\nAnd 3+3? ¿Qué?<|im_end|>\n"},
    {"chatml", kChatmlTemplate, "", "<|im_end|>", &kSystemMultiTurn, true, false,
     "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello there.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"},
    {"llama2", kLlama2Template, "<s>", "</s>", &kSystemUser, true, false,
     "<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nHello! [/INST]"},
    {"llama2", kLlama2Template, "<s>", "</s>", &kUserAssistantUser, false, false,
     "<s>[INST] What is 2+2? [/INST] It is 4. </s><s>[INST] And 3+3? ¿Qué? [/INST]"},
    {"llama2", kLlama2Template, "<s>", "</s>", &kSystemMultiTurn, true, false,
     "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello there. </s><s>[INST] Bye [/INST]"},
    {"llama3", kLlama3Template, "<|begin_of_text|>", "<|eot_id|>", &kSystemUser, true, false,
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"llama3", kLlama3Template, "<|begin_of_text|>", "<|eot_id|>", &kUserAssistantUser, false, false,
     "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nIt is 4.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnd 3+3? ¿Qué?<|eot_id|>"},
    {"llama3", kLlama3Template, "<|begin_of_text|>", "<|eot_id|>", &kSystemMultiTurn, true, false,
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello there.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"llama31", kLlama31Template, "<|begin_of_text|>", "<|eot_id|>", &kSystemUser, true, false,
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou are a helpful assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"llama31", kLlama31Template, "<|begin_of_text|>", "<|eot_id|>", &kUserAssistantUser, false, false,
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nIt is 4.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnd 3+3? ¿Qué?<|eot_id|>"},
    {"llama31", kLlama31Template, "<|begin_of_text|>", "<|eot_id|>", &kSystemMultiTurn, true, false,
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello there.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"mistral_v02", kMistralV02Template, "<s>", "</s>", &kSystemUser, true, true,
     "Conversation roles must alternate user/assistant/user/assistant/..."},
    {"mistral_v02", kMistralV02Template, "<s>", "</s>", &kUserAssistantUser, false, false,
     "<s>[INST] What is 2+2? [/INST]  It is 4.  </s>[INST] And 3+3? ¿Qué? [/INST]"},
    {"mistral_v02", kMistralV02Template, "<s>", "</s>", &kSystemMultiTurn, true, true,
     "Conversation roles must alternate user/assistant/user/assistant/..."},
    {"mistral_v1", kMistralV1Template, "<s>", "</s>", &kSystemUser, true, false,
     "<s> [INST] You are a helpful assistant.\n\nHello! [/INST]"},
    {"mistral_v1", kMistralV1Template, "<s>", "</s>", &kUserAssistantUser, false, false,
     "<s> [INST] What is 2+2? [/INST]   It is 4.  </s> [INST] And 3+3? ¿Qué? [/INST]"},
    {"mistral_v1", kMistralV1Template, "<s>", "</s>", &kSystemMultiTurn, true, false,
     "<s> [INST] Be brief.\n\nHi [/INST] Hello there.</s> [INST] Bye [/INST]"},
    {"mistral_v3", kMistralV3Template, "<s>", "</s>", &kSystemUser, true, false,
     "<s>[INST] You are a helpful assistant.\n\nHello![/INST]"},
    {"mistral_v3", kMistralV3Template, "<s>", "</s>", &kUserAssistantUser, false, false,
     "<s>[INST] What is 2+2?[/INST] It is 4.</s>[INST] And 3+3? ¿Qué?[/INST]"},
    {"mistral_v3", kMistralV3Template, "<s>", "</s>", &kSystemMultiTurn, true, false,
     "<s>[INST] Hi[/INST] Hello there.</s>[INST] Be brief.\n\nBye[/INST]"},
    {"qwen2", kQwen2Template, "", "<|im_end|>", &kSystemUser, true, false,
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n"},
    {"qwen2", kQwen2Template, "", "<|im_end|>", &kUserAssistantUser, false, false,
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n  It is 4.  <|im_end|>\n<|im_start|>user\nAnd 3+3? ¿Qué?<|im_end|>\n"},
    {"qwen2", kQwen2Template, "", "<|im_end|>", &kSystemMultiTurn, true, false,
     "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello there.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"},
    {"qwen25", kQwen25Template, "", "<|im_end|>", &kSystemUser, true, false,
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n"},
    {"qwen25", kQwen25Template, "", "<|im_end|>", &kUserAssistantUser, false, false,
     "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n  It is 4.  <|im_end|>\n<|im_start|>user\nAnd 3+3? ¿Qué?<|im_end|>\n"},
    {"qwen25", kQwen25Template, "", "<|im_end|>", &kSystemMultiTurn, true, false,
     "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello there.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"},
    {"zephyr", kZephyrTemplate, "<s>", "</s>", &kSystemUser, true, false,
     "<|system|>\nYou are a helpful assistant.</s>\n<|user|>\nHello!</s>\n<|assistant|>\n"},
    {"zephyr", kZephyrTemplate, "<s>", "</s>", &kUserAssistantUser, false, false,
     "<|user|>\nWhat is 2+2?</s>\n<|assistant|>\n  It is 4.  </s>\n<|user|>\nAnd 3+3? ¿Qué?</s>\n"},
    {"zephyr", kZephyrTemplate, "<s>", "</s>", &kSystemMultiTurn, true, false,
     "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello there.</s>\n<|user|>\nBye</s>\n<|assistant|>\n"},
    {"gemma", kGemmaTemplate, "<bos>", "<eos>", &kSystemUser, true, true,
     "System role not supported"},
    {"gemma", kGemmaTemplate, "<bos>", "<eos>", &kUserAssistantUser, false, false,
     "<bos><start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\nIt is 4.<end_of_turn>\n<start_of_turn>user\nAnd 3+3? ¿Qué?<end_of_turn>\n"},
    {"gemma", kGemmaTemplate, "<bos>", "<eos>", &kSystemMultiTurn, true, true,
     "System role not supported"},
    {"deepseek_coder", kDeepseekCoderTemplate, "<｜begin▁of▁sentence｜>", "<|EOT|>", &kSystemUser, true, false,
     "<｜begin▁of▁sentence｜>You are a helpful assistant.### Instruction:\nHello!\n### Response:\n"},
    {"deepseek_coder", kDeepseekCoderTemplate, "<｜begin▁of▁sentence｜>", "<|EOT|>", &kUserAssistantUser, false, false,
     "<｜begin▁of▁sentence｜>You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek Company, and you only answer questions related to computer science. For politically sensitive questions, security and privacy issues, and other non-computer science questions, you will refuse to answer\n### Instruction:\nWhat is 2+2?\n### Response:\n  It is 4.  \n<|EOT|>\n### Instruction:\nAnd 3+3? ¿Qué?\n"},
    {"deepseek_coder", kDeepseekCoderTemplate, "<｜begin▁of▁sentence｜>", "<|EOT|>", &kSystemMultiTurn, true, false,
     "<｜begin▁of▁sentence｜>Be brief.### Instruction:\nHi\n### Response:\nHello there.\n<|EOT|>\n### Instruction:\nBye\n### Response:\n"},
    {"phi3", kPhi3Template, "<s>", "<|endoftext|>", &kSystemUser, true, false,
     "<s><|user|>\nHello!<|end|>\n<|assistant|>\n"},
    {"phi3", kPhi3Template, "<s>", "<|endoftext|>", &kUserAssistantUser, false, false,
     "<s><|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n  It is 4.  <|end|>\n<|user|>\nAnd 3+3? ¿Qué?<|end|>\n<|assistant|>\n"},
    {"phi3", kPhi3Template, "<s>", "<|endoftext|>", &kSystemMultiTurn, true, false,
     "<s><|user|>\nHi<|end|>\n<|assistant|>\nHello there.<|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\n"},
    {"command_r", kCommandRTemplate, "<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>", &kSystemUser, true, false,
     "<BOS_TOKEN><|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>You are a helpful assistant.<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hello!<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"},
    {"command_r", kCommandRTemplate, "<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>", &kUserAssistantUser, false, false,
     "<BOS_TOKEN><|START_OF_TURN_TOKEN|><|USER_TOKEN|>What is 2+2?<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>It is 4.<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>And 3+3? ¿Qué?<|END_OF_TURN_TOKEN|>"},
    {"command_r", kCommandRTemplate, "<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>", &kSystemMultiTurn, true, false,
     "<BOS_TOKEN><|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>Be brief.<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hi<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>Hello there.<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Bye<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"},
};

const SnippetCase kSnippetCases[] = {
    {"{{ messages[0].content }}|{{ messages[0]['role'] }}|{{ messages|length }}|{{ messages[-1]['content'] }}|{{ messages.0.role }}", {true, true, false},
     "What is 2+2?|user|3|And 3+3? ¿Qué?|user"},
    {"{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}", {true, true, false},
     "1/0/3/2/True/False/3;2/1/2/1/False/False/3;3/2/1/0/False/True/3;"},
    {"{% for m in messages if m.role != 'assistant' %}{{ loop.index }}:{{ m.role }}:{{ loop.last }} {% else %}none{% endfor %}|{% for x in [] %}x{% else %}empty{% endfor %}", {true, true, false},
     "1:user:False 2:user:True |empty"},
    {"{% set ns = namespace(n=0, s='') %}{% for m in messages %}{% set ns.n = ns.n + m.content|length %}{% set ns.s = ns.s ~ m.role[0] %}{% endfor %}{{ ns.n }} {{ ns.s }}", {true, true, false},
     "38 uau"},
    {"{% set x = 1 %}{% for i in range(3) %}{{ x }}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}{% if true %}{% set y = 5 %}{% endif %}{{ y }}", {true, true, false},
     "12121215"},
    {"{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 - 4 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 10 / 4 * 2 }} {{ 3.0 }} {{ 1.5e-7 }} {{ 123456789.125 }} {{ -0.0 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}", {true, true, false},
     "3 -4 2 -2 3.5 1024 3 0.30000000000000004 1e+20 5.0 3.0 1.5e-07 123456789.125 -0.0 3.0 0.5"},
    {"{{ 'a' ~ 1 ~ none ~ true ~ 2.0 }} {{ \"it's\" }} {{ 'x' * 3 }} {{ 2 * 'ab' }} {{ 'ab' + \"cd\" }} {{ '\\t|\\x41|\\u00e9|\\101|\\\\n' }} {{ 'con' 'cat' }}", {true, true, false},
     "a1NoneTrue2.0 it's xxx abab abcd \t|A|é|A|\\n concat"},
    {"{{ 1 < 2 < 3 }} {{ 3 > 2 > 5 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' in 'cat' }} {{ 'z' not in ['a'] }} {{ not none }} {{ none or 'd' }} {{ 0 and 1 }} {{ [] or {} }} {{ 'b' >= 'a' }} {{ [1, 2] < [1, 3] }} {{ 2 != 2.0 }}", {true, true, false},
     "True False True True True True True d 0 {} True True False"},
    {"{{ 'yes' if messages else 'no' }}|{{ 'a' if false }}|{{ 'x' if 0 else 'y' if 1 else 'z' }}|{{ (1 if true else 2) + 1 }}", {true, true, false},
     "yes||y|2"},
    {"{{ messages[1:]|length }} {{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ [1,2,3,4][-2:] }} {{ [1,2,3][::2] }} {{ 'héllo'[1] }} {{ 'héllo'|length }} {{ 'héllo'[-3:] }} {{ [1,2,3][5:] }} {{ [1,2,3][:-5] }} {{ 'abc'[10] is defined }}", {true, true, false},
     "2 el olleh [3, 4] [1, 3] é 5 llo [] [] False"},
    {"{{ x is defined }} {{ none is none }} {{ 'a' is string }} {{ 1 is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.5 is float }} {{ {} is mapping }} {{ [] is iterable }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 'ab' is lower }} {{ 'AB' is upper }} {{ x is not defined }} {{ true is sameas true }} {{ 'a' is in 'abc' }} {{ 1 is eq 1 }} {{ 2 is gt 1 }} {{ x is undefined }} {{ none is string }} {{ messages is sequence }} {{ true is boolean }} {{ false is false }}", {true, true, false},
     "False True True True True False True True True True True True False True True True True True True True True False True True True"},
    {"{{ '  hi  '|trim }}|{{ 'hello world-wide (web)'|title }}|{{ 'hELLO wORLD'|capitalize }}|{{ 'abc'|upper }}|{{ 'ABC'|lower }}|{{ x|default('dflt') }}|{{ ''|default('e', true) }}|{{ none|default('n') }}|{{ [1,2,3]|join(', ') }}|{{ [3,1,2]|first }}|{{ [3,1,2]|last }}|{{ 'aXbX'|replace('X', '-') }}|{{ [3,1,2]|sort }}|{{ ['b','A','a']|sort }}|{{ [1,2,2,1]|unique|list }}|{{ [1,2,3]|reverse|list }}|{{ '12'|int + 1 }}|{{ '2.5'|float }}|{{ 'x'|int }}|{{ 42|string ~ '!' }}|{{ [1,2,3]|sum }}|{{ [4,9,2]|max }}|{{ [4,9,2]|min }}|{{ -3|abs }}|{{ 2.5|round }}|{{ 2.567|round(2) }}|{{ 'abc'|list }}|{{ 'xyz'|length }}|{{ [1,2]|count }}|{{ '<a&b>'|e }}|{{ 'hi'|safe }}|{{ 'ab'|reverse }}", {true, true, false},
     "hi|Hello World-Wide (Web)|Hello world|ABC|abc|dflt|e|None|1, 2, 3|3|2|a-b-|[1, 2, 3]|['A', 'a', 'b']|[1, 2]|[3, 2, 1]|13|2.5|0|42!|6|9|2|3|2.0|2.57|['a', 'b', 'c']|3|2|&lt;a&amp;b&gt;|hi|ba"},
    {"{{ {'a': [1, 2.5, none, true, 'x\"y'], 'b': {'c': 'é\\n\\t\\\\'}}|tojson }}|{{ [1, {'k': 'v', 'l': []}]|tojson(indent=2) }}|{{ {}|tojson }}|{{ []|tojson(indent=4) }}|{{ 'plain'|tojson }}|{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}|{{ [1, 2]|tojson(separators=(',', ':')) }}", {true, true, false},
     "{\"a\": [1, 2.5, null, true, \"x\\\"y\"], \"b\": {\"c\": \"é\\n\\t\\\\\"}}|[\n  1,\n  {\n    \"k\": \"v\",\n    \"l\": []\n  }\n]|{}|[]|\"plain\"|{\"a\": 2, \"b\": 1}|[1,2]"},
    {"{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|join(',') }}|{{ messages|rejectattr('role', 'equalto', 'user')|list|length }}|{{ [1,2,3,4]|select('even')|list }}|{{ [1,0,2]|select|list }}|{{ [1,2,3,4]|reject('odd')|list }}|{{ ['a','b']|map('upper')|list }}|{{ messages|map(attribute='nope', default='?')|join }}|{{ messages|selectattr('content')|list|length }}", {true, true, false},
     "What is 2+2?,And 3+3? ¿Qué?|1|[2, 4]|[1, 2]|[2, 4]|['A', 'B']|???|3"},
    {"{{ '  x y  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() ~ '|' }}{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ \"they're bill's 3rd\".title() }}|{{ 'Hi'.upper() }}{{ 'Hi'.lower() }}|{{ 'a-b-c'.replace('-', '+', 1) }}|{{ 'abcabc'.find('c') }}|{{ 'abcabc'.count('bc') }}|{{ '-'.join(['a','b']) }}|{{ 'hello'.capitalize() }}|{{ '\\u00a0 x \\u3000'.strip() }}|{{ 'a\\nb'.splitlines() }}", {true, true, false},
     "x y|hi|a|a|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|True|True|They'Re Bill'S 3Rd|HIhi|a+b-c|2|2|a-b|Hello|x|['a', 'b']"},
    {"{% set d = {'b': 1, 'a': 2} %}{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.get('a') }} {{ d.get('z', 'none') }} {{ d.get('z') }} {{ d.keys()|list }} {{ d.values()|list }} {{ d|length }} {{ d['b'] }} {{ d.b }} {% for k in d %}{{ k }}{% endfor %} {% for k, v in d|items %}{{ k }}{{ v }}{% endfor %} {{ d }} {{ 'a' in d }}{% for (k, v) in [[1, 2]] %}{{ k + v }}{% endfor %}", {true, true, false},
     "b=1;a=2;2 none None ['b', 'a'] [1, 2] 2 1 1 ba b1a2 {'b': 1, 'a': 2} True3"},
    {"{% macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} {{ greet('Al', punct='?') }} {{ greet(messages[0].role) }} {{ greet() }}|{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}", {true, true, false},
     "Hello Bob! Hello Al? Hello user! Hello !|120"},
    {"{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 4 %}{% break %}{% endif %}{{ i }}{% endfor %}|{% for i in range(2, 11, 3) %}{{ i }}{% endfor %}|{% for i in range(5, 0, -2) %}{{ i }}{% endfor %}", {true, true, false},
     "0134|258|531"},
    {"{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set blk %}X{{ a + b }}Y{% endset %}{{ blk }}{{ blk|length }}{% set t = (1, 'two') %}{{ t[1] }}{{ t|length }}", {true, true, false},
     "12X3Y3two2"},
    {"  {%- if true -%}  A  {%- endif %}  \n{{- ' B ' -}}  \n  C {# comment #}\n  {% if true %}\n    D\n  {% endif %}\n  {# own-line comment #}\n{{ 'E' }}\n    {{ 'F' }}\n  {% for i in [1, 2] %}\n  {{ i }}\n  {% endfor %}\nend\n", {true, true, false},
     "A B C     D\nE\n    F\n  1\n  2\nend"},
    {"  {%- if true -%}  A  {%- endif %}  \n{{- ' B ' -}}  \n  C {# comment #}\n  {% if true %}\n    D\n  {% endif %}\n{{ 'E' }}\n  {% for i in [1, 2] %}\n  {{ i }}\n  {% endfor %}\nend\n", {false, false, false},
     "A B C \n  \n    D\n  \nE\n  \n  1\n  \n  2\n  \nend"},
    {"  {% if true %}\n    D\n  {% endif %}\n  {%+ if true %}X{% endif +%}\nY {% if true -%}\n  Z\n  {%- endif %}\n", {true, false, true},
     "      D\n    X\nY Z"},
    {"  {% if true %}\n    D\n  {% endif %}\n  {%+ if true %}X{% endif %}\n  {# c #}\nY", {false, true, false},
     "\n    D\n\n  X\n\nY"},
    {"{% raw %}{{ not evaluated }} {% if %}{% endraw %}|{%- raw -%}  {{ x }}  {%- endraw -%}  |", {true, true, false},
     "{{ not evaluated }} {% if %}|{{ x }}|"},
    {"[{{ undefined_var }}]{{ undefined_var|length }}{{ (undefined_var or 'fallback') }}{% for x in undefined_var %}no{% endfor %}{{ messages[99] is defined }}{{ messages[0].nope is defined }}{{ messages[0].nope|default('d') }}{{ undefined_var == undefined_var }}{{ 'a' in undefined_var }}{{ undefined_var ~ 'x' }}{% if not undefined_var %}!{% endif %}", {true, true, false},
     "[]0fallbackFalseFalsedTrueFalsex!"},
    {"{{ \"quote\\\"s\" }} {{ 'back\\\\slash' }} {{ ['a\\'b', \"c\\\"d\", 'e\\nf', \"g'h\\\"i\"] }} {{ {'k': none, 'n': 1.0, 'l': [true]} }} {{ none }} {{ true }} {{ [] }} {{ (1, 2) | list }}", {true, true, false},
     "quote\"s back\\slash [\"a'b\", 'c\"d', 'e\\nf', 'g\\'h\"i'] {'k': None, 'n': 1.0, 'l': [True]} None True [] [1, 2]"},
    {"{% for i in [1,2,3] %}{{ loop.previtem|default('-') }}{{ loop.nextitem|default('-') }} {% endfor %}|{% for a in [1,2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ loop.index }}|{% endfor %}", {true, true, false},
     "-2 13 2- |1x11y21|2x12y22|"},
    {"{{ -1|abs }} {{ 'a' + 'b'|upper }} {{ ('a' + 'b')|upper }} {{ not 1 == 2 }} {{ -2 ** 2 }} {{ 2 ** 3 ** 2 }} {{ (-2) ** 2 }} {{ 1 + -1 }} {{ 10 - 2 - 3 }} {{ 2 * 3 // 4 }} {{ 'a' ~ (1 + 2) }} {{ 1 ~ 2 * 3 }}", {true, true, false},
     "1 aB AB True 4 64 4 0 5 1 a3 16"},
    {"{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(width=1, blank=true) }}", {true, true, false},
     "a\n  b\n\n  c|  a\n  b|a\n \n b"},
    {"{% if messages|length > 1 and messages[0].role == 'system' %}S{% elif messages %}M{% else %}E{% endif %}{% if false %}1{% elif false %}2{% endif %}|{{ 1_000 + 0x10 + 0o10 + 0b10 }} {{ 1.5e3 }} {{ 10 ** -1 }} {{ 2 ** 0.5 }} {{ 1 / 3 }} {{ 2 / 3 * 3 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }}", {true, true, false},
     "M|1026 1500.0 0.1 1.4142135623730951 0.3333333333333333 2.0 1e+16 1000000000000000.0 0.0001 1e-05"},
    {"{%- set ns = namespace() -%}{%- set ns.i = 0 -%}{%- for m in messages -%}{%- set ns.i = ns.i + 1 -%}{%- endfor -%}{{ ns.i }}{{ namespace(a=1).a }}{{ dict(x=1, y='z') }}{{ range(3)|list }}\n", {true, true, false},
     "31{'x': 1, 'y': 'z'}[0, 1, 2]"},
};

Result<std::string> RenderOnce(std::string_view source, const std::vector<ChatMessage>& messages,
                               bool add_generation_prompt = true) {
  STRATA_ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::Parse(source));
  return t.Render(messages, add_generation_prompt, "<s>", "</s>");
}

TEST(ChatTemplateTest, RealTemplatesMatchJinja2) {
  for (const RealTemplateCase& c : kRealTemplateCases) {
    SCOPED_TRACE(std::string(c.name) + (c.add_generation_prompt ? " +generation prompt" : ""));
    auto t = ChatTemplate::Parse(c.source);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    auto out = t->Render(*c.messages, c.add_generation_prompt, c.bos, c.eos);
    if (c.expect_error) {
      ASSERT_FALSE(out.ok());
      EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
      EXPECT_EQ(out.status().message(), c.expected);
    } else {
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      EXPECT_EQ(*out, c.expected);
    }
  }
}

TEST(JinjaTest, FeaturesMatchJinja2) {
  for (const SnippetCase& c : kSnippetCases) {
    SCOPED_TRACE(c.source);
    auto t = ChatTemplate::Parse(c.source, c.options);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    auto out = t->Render(kUserAssistantUser, true, "<s>", "</s>");
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, c.expected);
  }
}

TEST(ChatTemplateTest, RaiseExceptionSurfacesTheTemplatesMessage) {
  auto out = RenderOnce("{% if messages|length > 1 %}{{ raise_exception('too many: ' ~ messages|length) }}{% endif %}",
                        kUserAssistantUser);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "too many: 3");
}

TEST(ChatTemplateTest, UnsupportedSyntaxIsAnErrorNamingConstructAndPosition) {
  struct Case {
    const char* source;
    const char* construct;
  };
  const Case cases[] = {
      {"{% include 'other.jinja' %}", "include"},
      {"x\n{% extends 'base' %}", "extends"},
      {"{{ messages | wordwrap(10) }}", "wordwrap"},
      {"{{ 3 is prime }}", "prime"},
      {"{% for m in messages recursive %}{% endfor %}", "recursive"},
      {"{{ f(*args) }}", "*args"},
      {"{% call m() %}{% endcall %}", "call"},
  };
  for (const Case& c : cases) {
    auto t = ChatTemplate::Parse(c.source);
    ASSERT_FALSE(t.ok()) << c.source;
    EXPECT_EQ(t.status().code(), Status::Code::kUnsupported) << c.source;
    EXPECT_NE(t.status().message().find(c.construct), std::string::npos) << t.status().message();
    EXPECT_NE(t.status().message().find("line "), std::string::npos) << t.status().message();
  }
  auto t = ChatTemplate::Parse("ok\n  {% include 'x' %}");
  EXPECT_NE(t.status().message().find("line 2, column 6"), std::string::npos) << t.status().message();
}

TEST(ChatTemplateTest, MalformedTemplatesFailCleanly) {
  const char* cases[] = {
      "{% for m in messages %}{{ m.content }}",   // never closed
      "{% if true %}a{% else %}b{% else %}c{% endif %}",
      "{{ 1 + }}",
      "{{ 'unterminated }}",
      "{{ messages[0] ",
      "{# unterminated comment",
      "{% endfor %}",
      "{% set %}",
      "{{ (1, 2 }}",
      "{{ a.  }}",
      "{{ ) }}",
      "{% break %}",
      "{% for in messages %}{% endfor %}",
      "{% bogus %}",
      "{{ 99999999999999999999 }}",
      "{% macro m( %}{% endmacro %}",
      "{{ x | }}",
      "{{ @ }}",
  };
  for (const char* source : cases) {
    auto t = ChatTemplate::Parse(source);
    ASSERT_FALSE(t.ok()) << source;
    EXPECT_EQ(t.status().code(), Status::Code::kInvalidArgument) << source << ": " << t.status().ToString();
    EXPECT_NE(t.status().message().find("line 1"), std::string::npos) << t.status().message();
  }
}

TEST(ChatTemplateTest, RuntimeErrorsComeBackAsStatus) {
  const char* cases[] = {
      "{{ nope.attr }}",                 // attribute of undefined
      "{{ 1 + 'a' }}",                   // type error
      "{{ messages + 1 }}",
      "{{ 1 // 0 }}",
      "{{ undefined_fn() }}",
      "{{ 'abc'() }}",
      "{{ messages|tojson }}{{ nope|tojson }}",
      "{% set x = 5 %}{% set x.attr = 1 %}",
      "{% for a, b, c in messages %}{% endfor %}",
      "{{ 'x' * 100000000 }}",
      "{{ range(100000000)|length }}",
      "{% macro r(n) %}{{ r(n) }}{% endmacro %}{{ r(1) }}",
      "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}",
      "{{ 9223372036854775807 + 1 }}",
      "{{ '%s' % 1 }}",
  };
  for (const char* source : cases) {
    auto t = ChatTemplate::Parse(source);
    ASSERT_TRUE(t.ok()) << source << ": " << t.status().ToString();
    auto out = t->Render(kUserAssistantUser, false, "", "");
    EXPECT_FALSE(out.ok()) << source;
    EXPECT_NE(out.status().message().find("line 1"), std::string::npos) << out.status().message();
  }
  auto out = RenderOnce("\n  {{ nope.attr }}", kSystemUser);
  EXPECT_NE(out.status().message().find("line 2, column 10: 'nope' is undefined"), std::string::npos)
      << out.status().message();
}

// Every prefix of a long real template is either a valid template or an error: never a crash.
TEST(ChatTemplateTest, TruncatedTemplatesNeverCrash) {
  const std::string source = kLlama31Template;
  int parsed = 0;
  for (size_t n = 0; n <= source.size(); ++n) {
    auto t = ChatTemplate::Parse(std::string_view(source).substr(0, n));
    if (!t.ok()) continue;
    ++parsed;
    (void)t->Render(kSystemMultiTurn, true, "<s>", "</s>");
  }
  EXPECT_GT(parsed, 0);
}

// Deterministic random edits (delete, duplicate, swap in template punctuation) of real templates: each result
// parses and renders, or fails with a Status. Run under the sanitizers this catches out-of-bounds reads.
TEST(ChatTemplateTest, MutatedTemplatesNeverCrash) {
  const std::string sources[] = {kLlama31Template, kMistralV3Template, kZephyrTemplate, kDeepseekCoderTemplate};
  const std::string pieces[] = {"{", "}", "%", "#", "-", "'", "\"", "(", ")", "[", "]", "|", ".", " is ", " if ",
                                "{%", "%}", "{{", "}}", "{#", "\\", "~", "*", "loop", "endfor", "else", ":", ","};
  std::mt19937 rng(1234);
  for (const std::string& base : sources) {
    for (int i = 0; i < 300; ++i) {
      std::string s = base;
      for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0; --edits) {
        size_t at = rng() % (s.size() + 1);
        switch (rng() % 3) {
          case 0: s.erase(at, rng() % 8); break;
          case 1: s.insert(at, pieces[rng() % std::size(pieces)]); break;
          default: s.insert(at, s.substr(rng() % s.size(), rng() % 16)); break;
        }
      }
      auto t = ChatTemplate::Parse(s);
      if (t.ok()) (void)t->Render(kSystemMultiTurn, i % 2 == 0, "<s>", "</s>");
    }
  }
}

TEST(ChatTemplateTest, DeepNestingIsAnErrorNotAStackOverflow) {
  std::string deep = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  EXPECT_FALSE(ChatTemplate::Parse(deep).ok());
  std::string nots = "{{ " + std::string(5000, '-') + "1 }}";
  EXPECT_FALSE(ChatTemplate::Parse(nots).ok());
  std::string blocks;
  for (int i = 0; i < 5000; ++i) blocks += "{% if true %}";
  EXPECT_FALSE(ChatTemplate::Parse(blocks).ok());
}

TEST(ChatTemplateTest, GenerationTagIsTransparent) {
  auto out = RenderOnce("{% for m in messages %}{% generation %}[{{ m.role }}]{% endgeneration %}{% endfor %}",
                        kSystemUser);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "[system][user]");
}

TEST(ChatTemplateTest, CopiesShareTheParsedTemplateAndRenderIndependently) {
  auto t = ChatTemplate::Parse(kChatmlTemplate);
  ASSERT_TRUE(t.ok());
  ChatTemplate copy = *t;
  auto a = t->Render(kSystemUser, true, "", "");
  auto b = copy.Render(kSystemUser, false, "", "");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b + "<|im_start|>assistant\n");
}

TEST(ChatTemplateTest, SharedModelTemplateRenders) {
  STRATA_REQUIRE_TESTDATA();
  auto gguf = GgufFile::Open(testing::TestDataPath("models/tiny-llama-f32.gguf"));
  ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
  auto source = (*gguf)->GetString("tokenizer.chat_template");
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  auto t = ChatTemplate::Parse(*source);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto out = t->Render(kSystemUser, true, "<s>", "</s>");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out,
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n"
            "<|im_start|>assistant\n");
}

}  // namespace
}  // namespace strata
