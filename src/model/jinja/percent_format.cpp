#include "model/jinja/percent_format.h"

#include <cmath>
#include <cstdio>
#include <string>

#include "model/jinja/operators.h"
#include "model/jinja/py_string.h"

namespace strata::jinja {

namespace {

constexpr int64_t kMaxWidth = 4096;  // bounds the output of one conversion

struct Spec {
  std::string flags;  // of "-+ 0#"
  int64_t width = -1, precision = -1;
  char type = 0;
};

// Reads digits at `i` into `out` (bounded), for width and precision.
Status ReadNumber(std::string_view f, size_t& i, int64_t& out) {
  out = 0;
  while (i < f.size() && f[i] >= '0' && f[i] <= '9') {
    out = out * 10 + (f[i++] - '0');
    if (out > kMaxWidth) return Status::InvalidArgument("format: width or precision above " + std::to_string(kMaxWidth));
  }
  return Status::Ok();
}

// Parses the conversion after a '%' at `i` (which ends past it).
Result<Spec> ParseSpec(std::string_view f, size_t& i) {
  Spec s;
  if (i < f.size() && f[i] == '(') return Status::Unsupported("format: mapping keys (%(name)s) are not supported");
  while (i < f.size() && std::string_view("-+ 0#").find(f[i]) != std::string_view::npos) s.flags += f[i++];
  if (i < f.size() && f[i] == '*') return Status::Unsupported("format: '*' widths are not supported");
  if (i < f.size() && f[i] >= '0' && f[i] <= '9') STRATA_RETURN_IF_ERROR(ReadNumber(f, i, s.width));
  if (i < f.size() && f[i] == '.') {
    ++i;
    STRATA_RETURN_IF_ERROR(ReadNumber(f, i, s.precision));
  }
  while (i < f.size() && (f[i] == 'l' || f[i] == 'h' || f[i] == 'L')) ++i;  // Python ignores length modifiers
  if (i >= f.size()) return Status::InvalidArgument("format: incomplete format");
  s.type = f[i++];
  return s;
}

// %s / %r: precision cuts and width pads by code points.
std::string FormatText(std::string text, const Spec& s) {
  if (s.precision >= 0) {
    const std::vector<size_t> offsets = CodePointOffsets(text);
    if (static_cast<size_t>(s.precision) + 1 < offsets.size()) text.resize(offsets[s.precision]);
  }
  const auto n = static_cast<int64_t>(CodePointCount(text));
  if (s.width <= n) return text;
  const std::string pad(static_cast<size_t>(s.width - n), ' ');
  return s.flags.find('-') != std::string::npos ? text + pad : pad + text;
}

// A numeric conversion through C's printf, whose output Python's matches for these types.
Result<std::string> FormatNumber(const Value& arg, const Spec& s) {
  if (!arg.is_number())
    return Status::InvalidArgument(std::string("format: %") + s.type + " format: a real number is required, not " +
                                   arg.TypeName());
  if (s.type == 'o' && s.flags.find('#') != std::string::npos)
    return Status::Unsupported("format: '%#o' is not supported");
  std::string c_format = "%" + s.flags;
  if (s.width >= 0) c_format += std::to_string(s.width);
  if (s.precision >= 0) c_format += "." + std::to_string(s.precision);
  char buf[kMaxWidth + 400];
  const bool integral = std::string_view("diuxXo").find(s.type) != std::string_view::npos;
  if (integral) {
    const double d = arg.number_value();
    if (arg.is_float() && !(std::fabs(d) < 9.2e18))
      return Status::InvalidArgument("format: %" + std::string(1, s.type) + " of a float out of integer range");
    const int64_t i = arg.is_float() ? static_cast<int64_t>(d) : arg.int_value();  // Python truncates a float
    const char type = s.type == 'i' || s.type == 'u' ? 'd' : s.type;
    std::snprintf(buf, sizeof buf, (c_format + "ll" + type).c_str(), static_cast<long long>(i));
  } else {
    std::snprintf(buf, sizeof buf, (c_format + s.type).c_str(), arg.number_value());
  }
  return std::string(buf);
}

Result<std::string> Convert(const Value& arg, const Spec& s) {
  switch (s.type) {
    case 's': return FormatText(arg.ToString(), s);
    case 'r': return FormatText(arg.Repr(), s);
    case 'd': case 'i': case 'u': case 'x': case 'X': case 'o':
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': return FormatNumber(arg, s);
    default: return Status::Unsupported(std::string("format: the conversion %") + s.type + " is not supported");
  }
}

}  // namespace

Result<std::string> PercentFormat(std::string_view format, const ValueList& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size();) {
    if (format[i] != '%') {
      out += format[i++];
      continue;
    }
    ++i;
    if (i < format.size() && format[i] == '%') {
      out += '%';
      ++i;
      continue;
    }
    STRATA_ASSIGN_OR_RETURN(Spec spec, ParseSpec(format, i));
    if (next >= args.size()) return Status::InvalidArgument("format: not enough arguments for format string");
    STRATA_ASSIGN_OR_RETURN(std::string piece, Convert(args[next++], spec));
    out += piece;
    if (out.size() > kMaxStringBytes) return Status::InvalidArgument("format: result is too large");
  }
  if (next < args.size()) return Status::InvalidArgument("format: not all arguments converted during string formatting");
  return out;
}

}  // namespace strata::jinja
