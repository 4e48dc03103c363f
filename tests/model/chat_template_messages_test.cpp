// Chat templates given what real requests carry beyond {role, content}: tools, tool calls (arguments as an
// object and as a JSON string), tool results, reasoning_content, content parts, extra variables. The templates
// are the shared models' own (tokenizer_config.json); every expected string was produced by Python's jinja2
// 3.1.2 set up as transformers' apply_chat_template sets it up (sandboxed, trim_blocks, lstrip_blocks,
// loopcontrols, HF's tojson, raise_exception), then pasted here; the test never runs Python.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "model/chat_template.h"
#include "model/hf_tokenizer_config.h"
#include "testdata.h"

namespace strata {
namespace {

using nlohmann::ordered_json;

struct RichCase {
  const char* model;
  const char* name;
  const char* messages;  // JSON
  bool add_generation_prompt;
  const char* variables;  // JSON object
  const char* expected;
};

const RichCase kRichCases[] = {
    {"qwen3", "tools_and_tool_calls", R"ref([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Zürich and Oslo?"}, {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich"}}}, {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]}, {"role": "tool", "content": "{\"temp\": 3}"}, {"role": "tool", "content": "{\"temp\": -2}"}, {"role": "assistant", "content": "<think>\nBoth cold.\n</think>\n\nCold in both."}, {"role": "user", "content": "Thanks"}])ref", true, R"ref({"tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "e.g. Zürich"}}, "required": ["city"]}}}]})ref",
     R"ref(<|im_start|>system
Be brief.

# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "e.g. Zürich"}}, "required": ["city"]}}}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call><|im_end|>
<|im_start|>user
Weather in Zürich and Oslo?<|im_end|>
<|im_start|>assistant
<tool_call>
{"name": "get_weather", "arguments": {"city": "Zürich"}}
</tool_call>
<tool_call>
{"name": "get_weather", "arguments": {"city": "Oslo"}}
</tool_call><|im_end|>
<|im_start|>user
<tool_response>
{"temp": 3}
</tool_response>
<tool_response>
{"temp": -2}
</tool_response><|im_end|>
<|im_start|>assistant
Cold in both.<|im_end|>
<|im_start|>user
Thanks<|im_end|>
<|im_start|>assistant
)ref"},
    {"qwen3", "reasoning_content_after_last_query", R"ref([{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4", "reasoning_content": "  simple\n"}])ref", false, R"ref({})ref",
     R"ref(<|im_start|>user
2+2?<|im_end|>
<|im_start|>assistant
<think>
  simple
</think>

4<|im_end|>
)ref"},
    {"qwen3", "think_in_content_after_last_query", R"ref([{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "<think>\nadd\n</think>\n\n\n4"}])ref", false, R"ref({"enable_thinking": true})ref",
     R"ref(<|im_start|>user
2+2?<|im_end|>
<|im_start|>assistant
<think>
add
</think>

4<|im_end|>
)ref"},
    {"deepseek_v3", "tool_calls", R"ref([{"role": "system", "content": "S1"}, {"role": "system", "content": "S2"}, {"role": "user", "content": "Weather?"}, {"role": "assistant", "content": null, "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}, {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\"}"}}]}, {"role": "tool", "content": "3"}, {"role": "tool", "content": "18"}, {"role": "assistant", "content": "Cold and warm."}])ref", true, R"ref({})ref",
     R"ref(<｜begin▁of▁sentence｜>S1

S2<｜User｜>Weather?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather
```json
{"city": "Oslo"}
```<｜tool▁call▁end｜>
<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather
```json
{"city": "Rome"}
```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>3<｜tool▁output▁end｜>
<｜tool▁output▁begin｜>18<｜tool▁output▁end｜><｜tool▁outputs▁end｜>Cold and warm.<｜end▁of▁sentence｜><｜Assistant｜>)ref"},
    {"gemma3", "content_parts", R"ref([{"role": "system", "content": [{"type": "text", "text": "Sys "}]}, {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": " What is this? "}]}])ref", true, R"ref({})ref",
     R"ref(<bos><start_of_turn>user
Sys 

<start_of_image>What is this?<end_of_turn>
<start_of_turn>model
)ref"},
};

Result<ChatTemplate> ModelTemplate(const std::string& model) {
  const std::string dir = testing::TestDataPath("tokenizer-hf/" + model);
  STRATA_ASSIGN_OR_RETURN(HfTokenizerConfig config, LoadHfTokenizerConfig(dir));
  STRATA_ASSIGN_OR_RETURN(ChatTemplateSource source, ChatTemplateSourceFromHfConfig(config, dir));
  return ChatTemplate::FromSource(source);
}

TEST(ChatTemplateMessagesTest, ToolCallsReasoningAndContentPartsMatchTransformers) {
  STRATA_REQUIRE_TESTDATA();
  for (const RichCase& c : kRichCases) {
    SCOPED_TRACE(std::string(c.model) + " / " + c.name);
    auto t = ModelTemplate(c.model);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    const ordered_json messages = ordered_json::parse(c.messages), variables = ordered_json::parse(c.variables);
    auto out = t->Render({&messages, c.add_generation_prompt, &variables});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, c.expected);
  }
}

// transformers' continue_final_message: the text ends right after the final message (its trailing whitespace
// kept only where the template kept it), so generation continues it.
TEST(ChatTemplateMessagesTest, ContinueFinalMessageCutsAfterItAsTransformersDoes) {
  STRATA_REQUIRE_TESTDATA();
  struct Case {
    const char* model;
    const char* messages;
    const char* expected;
  };
  const Case cases[] = {
      {"llama3", R"([{"role":"user","content":"Hi"},{"role":"assistant","content":"The answer is "}])",
       "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nThe answer is"},
      {"qwen3", R"([{"role":"user","content":"Hi"},{"role":"assistant","content":"The answer is "}])",
       "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nThe answer is "},
      {"gemma3",
       R"([{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"text","text":"Sure"},{"type":"text","text":" thing"}]}])",
       "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nSurething"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.model);
    auto t = ModelTemplate(c.model);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    const ordered_json messages = ordered_json::parse(c.messages);
    ChatRenderRequest request{&messages, false, nullptr, /*continue_final_message=*/true};
    auto out = t->Render(request);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, c.expected);
    request.add_generation_prompt = true;
    EXPECT_FALSE(t->Render(request).ok());
  }
  auto t = ChatTemplate::Parse("{% for m in messages %}{{ m.role }}{% endfor %}");
  ASSERT_TRUE(t.ok());
  for (const char* bad : {R"([{"role":"assistant","content":"absent"}])", R"([{"role":"assistant"}])",
                          R"([{"role":"assistant","content":[{"type":"image"}]}])", "[]"}) {
    const ordered_json messages = ordered_json::parse(bad);
    auto out = t->Render({&messages, false, nullptr, true});
    ASSERT_FALSE(out.ok()) << bad;
    EXPECT_NE(out.status().message().find("continue_final_message"), std::string::npos) << out.status().message();
  }
}

Result<std::string> RenderWith(const char* source, const ordered_json& messages, const ordered_json& variables,
                               ChatSpecialTokens tokens = {}) {
  STRATA_ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::FromSource({source, std::move(tokens)}));
  return t.Render({&messages, true, &variables});
}

const ordered_json kHello = ordered_json::parse(R"([{"role": "user", "content": "hi"}])");

// apply_chat_template passes tools=None and documents=None, the tokenizer's special tokens, then the caller's
// keyword arguments, which win; a token the tokenizer lacks stays undefined.
TEST(ChatTemplateMessagesTest, VariablesAndSpecialTokensAsTransformersPassesThem) {
  const char* source =
      "{{ bos_token }}|{{ eos_token is defined }}|{{ tools is none }}|{{ documents is none }}|{{ x }}|{{ unk_token }}";
  auto plain = RenderWith(source, kHello, ordered_json::object(), {"<s>", std::nullopt, "<unk>", std::nullopt});
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(*plain, "<s>|False|True|True||<unk>");
  auto overridden = RenderWith(source, kHello, {{"bos_token", "B"}, {"tools", {1}}, {"x", {{"k", 1.5}}}},
                               {"<s>", "</s>", std::nullopt, std::nullopt});
  ASSERT_TRUE(overridden.ok()) << overridden.status().ToString();
  EXPECT_EQ(*overridden, "B|True|False|True|{'k': 1.5}|");
}

TEST(ChatTemplateMessagesTest, MalformedInputIsAClearError) {
  const char* source = "{{ messages }}";
  struct Bad {
    ordered_json messages, variables;
    const char* message_part;
  };
  ordered_json deep = "x";
  for (int i = 0; i < 100; ++i) deep = ordered_json::array({deep});
  const Bad bad[] = {
      {ordered_json::object(), ordered_json::object(), "must be a JSON array"},
      {kHello, ordered_json::array(), "must be a JSON object"},
      {kHello, {{"messages", 1}}, "'messages' cannot be set"},
      {kHello, {{"add_generation_prompt", false}}, "'add_generation_prompt' cannot be set"},
      {ordered_json::array({{{"role", "user"}, {"n", uint64_t{1} << 63}}}), ordered_json::object(), "does not fit"},
      {ordered_json::array({deep}), ordered_json::object(), "nests deeper"},
      {kHello, {{"v", deep}}, "variable 'v'"},
  };
  for (const Bad& b : bad) {
    auto out = RenderWith(source, b.messages, b.variables);
    ASSERT_FALSE(out.ok()) << b.message_part;
    EXPECT_NE(out.status().message().find(b.message_part), std::string::npos) << out.status().message();
  }
}

}  // namespace
}  // namespace strata
