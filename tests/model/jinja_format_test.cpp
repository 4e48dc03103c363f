// jinja2's |format (Python's printf-style %) and |dictsort. Every expected string was produced by Python's jinja2
// 3.1.2 in transformers' chat-template environment and pasted here; the test never runs Python.
#include <gtest/gtest.h>

#include <string>

#include "model/chat_template.h"

namespace strata {
namespace {

struct Case {
  const char* source;
  const char* expected;
};

const Case kCases[] = {
    {R"j({{ '%s-%d'|format('a', 3) }})j", R"j(a-3)j"},
    {R"j({{ '%05.2f|%-6s|%6s|%.2s'|format(3.14159, 'ab', 'cd', 'xyz') }})j", R"j(03.14|ab    |    cd|xy)j"},
    {R"j({{ '%x %X %o %#x %+d % d %e %g %G %%'|format(255, 255, 8, 255, 5, 5, 12345.678, 0.0001, 1e20) }})j", R"j(ff FF 10 0xff +5  5 1.234568e+04 0.0001 1E+20 %)j"},
    {R"j({{ '%d|%i|%5d|%-5d|%05d'|format(3.9, -2.5, 42, 42, -42) }})j", R"j(3|-2|   42|42   |-0042)j"},
    {R"j({{ '%r %s %s %s'|format('q', none, true, [1, 'a']) }})j", R"j('q' None True [1, 'a'])j"},
    {R"j({{ '%.1f%%'|format(99.95) }})j", R"j(100.0%)j"},
    {R"j({{ '%8.3e'|format(-0.000123) }})j", R"j(-1.230e-04)j"},
    {R"j({{ '%s'|format('日本語') }}{{ '%5.2s|'|format('日本語') }})j", R"j(日本語   日本|)j"},
    {R"j({% for k, v in {'b': 1, 'A': 2, 'a': 3, 'c': 0}|dictsort %}{{ k }}{{ v }}{% endfor %})j", R"j(A2a3b1c0)j"},
    {R"j({% for k, v in {'b': 1, 'A': 2, 'a': 3, 'c': 0}|dictsort(true) %}{{ k }}{{ v }}{% endfor %})j", R"j(A2a3b1c0)j"},
    {R"j({% for k, v in {'b': 1, 'A': 2, 'a': 3, 'c': 0}|dictsort(by='value', reverse=true) %}{{ k }}{{ v }}{% endfor %})j", R"j(a3A2b1c0)j"},
    {R"j({% for k, v in {'y': 1, 'x': 2}|dictsort %}{{ k }}={{ v }};{% endfor %})j", R"j(x=2;y=1;)j"},
};

Result<std::string> Render(const char* source) {
  STRATA_ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::Parse(source));
  return t.Render({}, false, "", "");
}

TEST(JinjaFormatTest, FormatAndDictsortMatchJinja2) {
  for (const Case& c : kCases) {
    auto out = Render(c.source);
    ASSERT_TRUE(out.ok()) << c.source << ": " << out.status().ToString();
    EXPECT_EQ(*out, c.expected) << c.source;
  }
}

TEST(JinjaFormatTest, BadFormatsAreErrors) {
  const char* bad[] = {
      "{{ '%s %s'|format(1) }}",          "{{ '%s'|format(1, 2) }}",      "{{ '%d'|format('x') }}",
      "{{ '%(a)s'|format(a=1) }}",        "{{ '%*d'|format(3, 4) }}",     "{{ '%5'|format(1) }}",
      "{{ '%99999d'|format(1) }}",        "{{ '%c'|format(65) }}",        "{{ '%#o'|format(8) }}",
      "{{ '%d'|format(1e300) }}",         "{{ [1]|dictsort }}",           "{{ {'a': 1}|dictsort(by='x') }}",
      "{{ {'a': 1, 'b': 'x'}|dictsort(by='value') }}",
  };
  for (const char* source : bad) EXPECT_FALSE(Render(source).ok()) << source;
}

}  // namespace
}  // namespace strata
