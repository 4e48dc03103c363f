#include "model/jinja/py_string.h"

namespace strata::jinja {

namespace {

// Length of the UTF-8 sequence a lead byte announces; 1 for a stray continuation or invalid byte so that
// broken input still advances.
size_t SeqLen(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xE) return 3;
  if ((c >> 3) == 0x1E) return 4;
  return 1;
}

// Decodes the code point at s[i]; sets `len` to its byte length.
uint32_t Decode(std::string_view s, size_t i, size_t& len) {
  unsigned char c = s[i];
  len = SeqLen(c);
  if (i + len > s.size()) len = 1;
  if (len == 1) return c;
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

// Python's str.isspace() set.
bool IsPyWhitespace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char Upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

struct CodePoint {
  size_t begin, end;
  uint32_t cp;
};

std::vector<CodePoint> Split(std::string_view s) {
  std::vector<CodePoint> out;
  for (size_t i = 0, len = 0; i < s.size(); i += len) {
    uint32_t cp = Decode(s, i, len);
    out.push_back({i, i + len, cp});
  }
  return out;
}

}  // namespace

size_t CodePointCount(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0, len = 0; i < s.size(); i += len, ++n) Decode(s, i, len);
  return n;
}

std::vector<size_t> CodePointOffsets(std::string_view s) {
  std::vector<size_t> out;
  for (size_t i = 0, len = 0; i < s.size(); i += len) {
    out.push_back(i);
    Decode(s, i, len);
  }
  out.push_back(s.size());
  return out;
}

std::string PyStrip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right) {
  std::vector<CodePoint> cps = Split(s);
  std::vector<CodePoint> set_cps;
  if (chars) set_cps = Split(*chars);
  auto strip_me = [&](const CodePoint& c) {
    if (!chars) return IsPyWhitespace(c.cp);
    for (const auto& x : set_cps)
      if (x.cp == c.cp) return true;
    return false;
  };
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && strip_me(cps[b])) ++b;
  if (right)
    while (e > b && strip_me(cps[e - 1])) --e;
  if (b == e) return "";
  return std::string(s.substr(cps[b].begin, cps[e - 1].end - cps[b].begin));
}

std::vector<std::string> PySplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit) {
  std::vector<std::string> parts;
  if (sep) {
    size_t start = 0;
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
      size_t at = s.find(*sep, start);
      if (at == std::string_view::npos) break;
      parts.emplace_back(s.substr(start, at - start));
      start = at + sep->size();
    }
    parts.emplace_back(s.substr(start));
    return parts;
  }
  std::vector<CodePoint> cps = Split(s);
  size_t i = 0;
  while (i < cps.size()) {
    while (i < cps.size() && IsPyWhitespace(cps[i].cp)) ++i;
    if (i == cps.size()) break;
    if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
      // The remainder keeps its inner whitespace but loses trailing whitespace, as in Python.
      parts.push_back(PyStrip(s.substr(cps[i].begin), std::nullopt, false, true));
      break;
    }
    size_t start = i;
    while (i < cps.size() && !IsPyWhitespace(cps[i].cp)) ++i;
    parts.emplace_back(s.substr(cps[start].begin, cps[i - 1].end - cps[start].begin));
  }
  return parts;
}

std::string PyReplace(std::string_view s, std::string_view from, std::string_view to, int64_t count) {
  std::string out;
  if (from.empty()) {  // Python inserts `to` between every character (and at both ends)
    std::vector<size_t> offs = CodePointOffsets(s);
    int64_t done = 0;
    for (size_t k = 0; k + 1 < offs.size(); ++k) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      out += s.substr(offs[k], offs[k + 1] - offs[k]);
    }
    if (count < 0 || done < count) out += to;
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t at = s.find(from, start);
    if (at == std::string_view::npos) break;
    out += s.substr(start, at - start);
    out += to;
    start = at + from.size();
    ++done;
  }
  out += s.substr(start);
  return out;
}

std::string AsciiUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Upper(c);
  return out;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string PyCapitalize(std::string_view s) {
  std::string out = AsciiLower(s);
  if (!out.empty()) out[0] = Upper(out[0]);
  return out;
}

std::string PyTitle(std::string_view s) {
  std::string out(s);
  bool prev_cased = false;
  for (char& c : out) {
    bool letter = IsAsciiLetter(c);
    if (letter) c = prev_cased ? Lower(c) : Upper(c);
    prev_cased = letter;
  }
  return out;
}

std::string JinjaTitle(std::string_view s) {
  std::string out(s);
  auto is_separator = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '-' || c == '(' ||
           c == '{' || c == '[' || c == '<';
  };
  bool word_start = true;
  for (char& c : out) {
    if (is_separator(c)) {
      word_start = true;
      continue;
    }
    c = word_start ? Upper(c) : Lower(c);
    word_start = false;
  }
  return out;
}

}  // namespace strata::jinja
