// Fuzzes the chat template engine: the input is a Jinja template (the first byte picks the whitespace
// options), parsed and rendered with a fixed conversation as Hugging Face's apply_chat_template would.
// Errors must be Statuses; no crash, no unbounded recursion or output.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "model/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  if (size == 0) return 0;
  ChatTemplateOptions options;
  options.trim_blocks = (data[0] & 1) != 0;
  options.lstrip_blocks = (data[0] & 2) != 0;
  options.keep_trailing_newline = (data[0] & 4) != 0;
  const std::string_view source(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto tmpl = ChatTemplate::Parse(source, options);
  if (!tmpl.ok()) return 0;
  static const std::vector<ChatMessage> messages = {
      {"system", "You are helpful."}, {"user", "Hi \xC3\xA9 {{ x }}"}, {"assistant", "Hello!"}, {"user", "Bye"}};
  (void)tmpl->Render(messages, (data[0] & 8) != 0, "<s>", "</s>");
  (void)tmpl->Render({}, false, "", "");
  return 0;
}
