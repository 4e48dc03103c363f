// Python str semantics over UTF-8 std::string: lengths, indexes and slices count code points; strip and
// split use Python's whitespace set; case mapping covers ASCII (other characters pass through unchanged).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::jinja {

// Number of code points (a stray byte of broken UTF-8 counts as one).
size_t CodePointCount(std::string_view s);
// Byte offsets of every code point start, plus s.size() at the end (size = CodePointCount + 1).
std::vector<size_t> CodePointOffsets(std::string_view s);

// Python's s.strip(chars) / lstrip / rstrip; `chars` absent means whitespace.
std::string PyStrip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// Python's s.split(sep, maxsplit): without sep, splits on whitespace runs and drops empty parts.
std::vector<std::string> PySplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
// Python's s.replace(old, new, count); count < 0 replaces all.
std::string PyReplace(std::string_view s, std::string_view from, std::string_view to, int64_t count);

std::string AsciiUpper(std::string_view s);
std::string AsciiLower(std::string_view s);
// Python's str.capitalize(): first character upper, the rest lower.
std::string PyCapitalize(std::string_view s);
// Python's str.title(): each run of letters starts upper-case, the rest lower.
std::string PyTitle(std::string_view s);
// jinja2's |title filter: words split at whitespace, '-', '(', '{', '[', '<' get an upper-case first letter.
std::string JinjaTitle(std::string_view s);

}  // namespace strata::jinja
