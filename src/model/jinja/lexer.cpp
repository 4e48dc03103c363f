#include "model/jinja/lexer.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace strata::jinja {

std::string FormatPos(SourcePos pos) {
  return "line " + std::to_string(pos.line) + ", column " + std::to_string(pos.column);
}

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

std::string RStrip(std::string s) {
  while (!s.empty() && IsSpace(s.back())) s.pop_back();
  return s;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate can't be encoded
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Reads up to `max_len` digits of `base` at s[i]; returns the count read.
size_t ReadDigits(std::string_view s, size_t i, size_t max_len, int base, uint32_t& value) {
  size_t n = 0;
  value = 0;
  while (n < max_len && i + n < s.size()) {
    char c = s[i + n];
    int d = IsDigit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : 99;
    if (d >= base) break;
    value = value * base + d;
    ++n;
  }
  return n;
}

// Decodes a string literal body the way jinja2 does (Python's unicode-escape): \n \t \\ \' \" \xHH \uXXXX
// \UXXXXXXXX and octal escapes; an unknown escape keeps its backslash.
std::string DecodeEscapes(std::string_view body) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out += c;
      continue;
    }
    char e = body[++i];
    uint32_t cp = 0;
    switch (e) {
      case '\n': break;  // line continuation
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x':
      case 'u':
      case 'U': {
        size_t want = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (ReadDigits(body, i + 1, want, 16, cp) == want && cp <= 0x10FFFF) {
          AppendUtf8(out, cp);
          i += want;
        } else {
          out += '\\';
          out += e;
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          size_t n = ReadDigits(body, i, 3, 8, cp);
          AppendUtf8(out, cp);
          i += n - 1;
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

// jinja2 treats \r\n, \r and \n alike and drops one trailing newline unless asked to keep it.
std::string NormalizeNewlines(std::string_view source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  Lexer(std::string source, const WhitespaceOptions& options) : src_(std::move(source)), opt_(options) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  Result<std::vector<Token>> Run() {
    size_t pos = 0;
    while (pos < src_.size()) {
      size_t open = FindOpener(pos);
      if (open == std::string::npos) {
        EmitText(src_.substr(pos), pos);
        break;
      }
      char type = src_[open + 1];
      size_t after = open + 2;
      char sign = after < src_.size() && (src_[after] == '-' || src_[after] == '+') ? src_[after] : 0;
      EmitText(TrimBeforeTag(src_.substr(pos, open - pos), sign, type != '{'), pos);
      if (sign) ++after;
      Status st = type == '#'   ? LexComment(open, after)
                  : type == '%' && IsRaw(after) ? LexRaw(open, after)
                                 : LexTag(type == '{' ? TokenKind::kExprBegin : TokenKind::kBlockBegin, open, after);
      if (!st.ok()) return st;
      pos = after;
    }
    Token end;
    end.kind = TokenKind::kEnd;
    end.pos = PosAt(src_.size());
    out_.push_back(end);
    return std::move(out_);
  }

 private:
  SourcePos PosAt(size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t line = static_cast<size_t>(it - line_starts_.begin());
    return {static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
  }

  Status Error(size_t offset, const std::string& message) const {
    return Status::InvalidArgument("chat template syntax error at " + FormatPos(PosAt(offset)) + ": " + message);
  }

  size_t FindOpener(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  // `{%-` strips all whitespace before the tag; with lstrip_blocks a block/comment tag also takes the
  // spaces between it and the start of its line (unless written `{%+`).
  std::string TrimBeforeTag(std::string text, char sign, bool is_block_or_comment) const {
    if (sign == '-') return RStrip(std::move(text));
    if (sign == '+' || !opt_.lstrip_blocks || !is_block_or_comment) return text;
    size_t nl = text.rfind('\n');
    size_t line_start = nl == std::string::npos ? 0 : nl + 1;
    if ((line_start > 0 || line_starting_) && line_start < text.size() &&
        std::all_of(text.begin() + line_start, text.end(), IsSpace))
      text.resize(line_start);
    return text;
  }

  void EmitText(std::string text, size_t offset) {
    if (text.empty()) return;
    Token t;
    t.kind = TokenKind::kText;
    t.text = std::move(text);
    t.pos = PosAt(offset);
    out_.push_back(std::move(t));
  }

  void Emit(TokenKind kind, std::string text, size_t offset) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.pos = PosAt(offset);
    out_.push_back(std::move(t));
  }

  // Consumes what follows a closing tag: `-%}` eats all whitespace, a plain block/comment close eats one
  // newline under trim_blocks. Records whether the consumed text ended a line (lstrip_blocks needs it).
  void AfterClose(size_t& pos, char sign, bool block_like) {
    size_t start = pos;
    if (sign == '-') {
      while (pos < src_.size() && IsSpace(src_[pos])) ++pos;
    } else if (sign != '+' && block_like && opt_.trim_blocks && pos < src_.size() && src_[pos] == '\n') {
      ++pos;
    }
    line_starting_ = pos > start && src_[pos - 1] == '\n';
  }

  Status LexComment(size_t open, size_t& pos) {
    size_t body_start = pos;
    size_t close = src_.find("#}", pos);
    if (close == std::string::npos) return Error(open, "missing end of comment tag '#}'");
    char sign = close > body_start && (src_[close - 1] == '-' || src_[close - 1] == '+') ? src_[close - 1] : 0;
    pos = close + 2;
    AfterClose(pos, sign, true);
    return Status::Ok();
  }

  // `{% raw %}` ... `{% endraw %}`: the body is text, not template syntax.
  bool IsRaw(size_t pos) const {
    size_t i = pos;
    while (i < src_.size() && IsSpace(src_[i])) ++i;
    return src_.compare(i, 3, "raw") == 0 && (i + 3 >= src_.size() || !IsNameChar(src_[i + 3]));
  }

  Status LexRaw(size_t open, size_t& pos) {
    size_t i = src_.find("raw", pos) + 3;
    while (i < src_.size() && IsSpace(src_[i])) ++i;
    char sign = 0;
    if (i < src_.size() && src_[i] == '-') sign = src_[i++];
    if (src_.compare(i, 2, "%}") != 0) return Error(open, "expected '%}' after 'raw'");
    pos = i + 2;
    if (sign == '-') AfterClose(pos, '-', false);
    else line_starting_ = false;
    for (size_t at = src_.find("{%", pos); at != std::string::npos; at = src_.find("{%", at + 2)) {
      size_t j = at + 2;
      char end_sign = j < src_.size() && (src_[j] == '-' || src_[j] == '+') ? src_[j++] : 0;
      while (j < src_.size() && IsSpace(src_[j])) ++j;
      if (src_.compare(j, 6, "endraw") != 0) continue;
      j += 6;
      while (j < src_.size() && IsSpace(src_[j])) ++j;
      char close_sign = j < src_.size() && (src_[j] == '-' || src_[j] == '+') ? src_[j++] : 0;
      if (src_.compare(j, 2, "%}") != 0) return Error(at, "expected '%}' after 'endraw'");
      EmitText(TrimBeforeTag(src_.substr(pos, at - pos), end_sign, true), pos);
      pos = j + 2;
      AfterClose(pos, close_sign, true);
      return Status::Ok();
    }
    return Error(open, "missing '{% endraw %}' for '{% raw %}'");
  }

  Status LexTag(TokenKind begin, size_t open, size_t& pos) {
    Emit(begin, begin == TokenKind::kExprBegin ? "{{" : "{%", open);
    const char closer = begin == TokenKind::kExprBegin ? '}' : '%';
    std::vector<char> brackets;  // open ( [ { inside the tag; a closer only ends the tag when balanced
    while (true) {
      while (pos < src_.size() && IsSpace(src_[pos])) ++pos;
      if (pos >= src_.size())
        return Error(open, std::string("unexpected end of template: tag is missing its closing '") + closer + "}'");
      if (brackets.empty()) {
        char sign = (src_[pos] == '-' || (src_[pos] == '+' && closer == '%')) ? src_[pos] : 0;
        size_t c = pos + (sign ? 1 : 0);
        if (c + 1 < src_.size() && src_[c] == closer && src_[c + 1] == '}') {
          Emit(begin == TokenKind::kExprBegin ? TokenKind::kExprEnd : TokenKind::kBlockEnd, "", pos);
          pos = c + 2;
          AfterClose(pos, sign, closer == '%');
          return Status::Ok();
        }
      }
      STRATA_RETURN_IF_ERROR(LexToken(pos, brackets));
    }
  }

  Status LexToken(size_t& pos, std::vector<char>& brackets) {
    const size_t start = pos;
    char c = src_[pos];
    if (IsNameStart(c)) {
      while (pos < src_.size() && IsNameChar(src_[pos])) ++pos;
      Emit(TokenKind::kName, src_.substr(start, pos - start), start);
      return Status::Ok();
    }
    if (IsDigit(c)) return LexNumber(pos);
    if (c == '\'' || c == '"') {
      for (++pos; pos < src_.size() && src_[pos] != c; ++pos)
        if (src_[pos] == '\\') ++pos;
      if (pos >= src_.size()) return Error(start, "unterminated string literal");
      ++pos;
      Emit(TokenKind::kString, DecodeEscapes(std::string_view(src_).substr(start + 1, pos - start - 2)), start);
      return Status::Ok();
    }
    static const char* kTwoChar[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* op : kTwoChar) {
      if (src_.compare(pos, 2, op) == 0) {
        pos += 2;
        Emit(TokenKind::kOperator, op, start);
        return Status::Ok();
      }
    }
    if (std::string_view("+-*/%~[](){}<>=.:|,;").find(c) == std::string_view::npos)
      return Error(start, std::string("unexpected character '") + c + "'");
    if (c == '(' || c == '[' || c == '{') brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    if (c == ')' || c == ']' || c == '}') {
      if (brackets.empty() || brackets.back() != c) return Error(start, std::string("unexpected '") + c + "'");
      brackets.pop_back();
    }
    ++pos;
    Emit(TokenKind::kOperator, std::string(1, c), start);
    return Status::Ok();
  }

  Status LexNumber(size_t& pos) {
    const size_t start = pos;
    auto digits = [&](auto accept) {
      while (pos < src_.size() && (accept(src_[pos]) || (src_[pos] == '_' && pos + 1 < src_.size() && accept(src_[pos + 1]))))
        ++pos;
    };
    int base = 10;
    if (src_[pos] == '0' && pos + 1 < src_.size() && std::string_view("xXoObB").find(src_[pos + 1]) != std::string_view::npos) {
      char b = static_cast<char>(src_[pos + 1] | 0x20);
      base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
      pos += 2;
      digits([&](char ch) { uint32_t v; return ReadDigits(std::string_view(&ch, 1), 0, 1, base, v) == 1; });
    } else {
      digits(IsDigit);
      bool is_float = false;
      if (pos + 1 < src_.size() && src_[pos] == '.' && IsDigit(src_[pos + 1])) {
        ++pos;
        digits(IsDigit);
        is_float = true;
      }
      if (pos < src_.size() && (src_[pos] == 'e' || src_[pos] == 'E')) {
        size_t e = pos + 1;
        if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
        if (e < src_.size() && IsDigit(src_[e])) {
          pos = e;
          digits(IsDigit);
          is_float = true;
        }
      }
      if (is_float) {
        std::string text;
        for (size_t i = start; i < pos; ++i)
          if (src_[i] != '_') text += src_[i];
        Emit(TokenKind::kFloat, text, start);
        out_.back().float_value = std::strtod(text.c_str(), nullptr);
        return Status::Ok();
      }
    }
    std::string text;
    for (size_t i = start + (base == 10 ? 0 : 2); i < pos; ++i)
      if (src_[i] != '_') text += src_[i];
    int64_t value = 0;
    auto res = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (res.ec != std::errc() || res.ptr != text.data() + text.size())
      return Error(start, "integer literal '" + src_.substr(start, pos - start) + "' is out of range");
    Emit(TokenKind::kInt, src_.substr(start, pos - start), start);
    out_.back().int_value = value;
    return Status::Ok();
  }

  std::string src_;
  WhitespaceOptions opt_;
  std::vector<size_t> line_starts_;
  std::vector<Token> out_;
  bool line_starting_ = true;  // the last closing tag consumed a newline (or nothing precedes)
};

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view source, const WhitespaceOptions& options) {
  return Lexer(NormalizeNewlines(source, options.keep_trailing_newline), options).Run();
}

}  // namespace strata::jinja
