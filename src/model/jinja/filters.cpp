#include "model/jinja/filters.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "model/jinja/arguments.h"
#include "model/jinja/operators.h"
#include "model/jinja/percent_format.h"
#include "model/jinja/py_string.h"
#include "model/jinja/tests.h"
#include "model/jinja/to_json.h"

namespace strata::jinja {

namespace {

using FilterFn = Result<Value> (*)(const Value&, ArgReader&);

Result<Value> StringFilter(const Value& v, std::string (*fn)(std::string_view)) {
  return Value::String(fn(v.ToString()));
}

// jinja2's attribute getter: "a.b.0" walks dict keys and list indexes.
Result<Value> GetPath(const Value& item, const std::string& path) {
  Value cur = item;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    STRATA_ASSIGN_OR_RETURN(cur, GetItem(cur, numeric ? Value::Int(std::atoll(part.c_str())) : Value::String(part)));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

// Sort / unique key: strings compare case-insensitively unless case_sensitive.
Value SortKey(const Value& v, bool case_sensitive) {
  return v.is_string() && !case_sensitive ? Value::String(AsciiLower(v.str())) : v;
}

// The items a filter works on, each mapped through the optional `attribute` path.
Result<ValueList> KeyedItems(const Value& v, const Value& attribute, ValueList* originals) {
  STRATA_ASSIGN_OR_RETURN(ValueList items, Iterate(v));
  if (originals) *originals = items;
  if (attribute.is_undefined() || attribute.is_none()) return items;
  for (Value& item : items) {
    STRATA_ASSIGN_OR_RETURN(item, GetPath(item, attribute.ToString()));
  }
  return items;
}

Result<Value> Default(const Value& v, ArgReader& args) {
  Value fallback = args.Get(0, "default_value", Value::String(""));
  bool boolean = args.Get(1, "boolean", Value::Bool(false)).Truthy();
  return (v.is_undefined() || (boolean && !v.Truthy())) ? fallback : v;
}

Result<Value> LengthFilter(const Value& v, ArgReader&) {
  STRATA_ASSIGN_OR_RETURN(int64_t n, Length(v));
  return Value::Int(n);
}

Result<Value> First(const Value& v, ArgReader&) {
  STRATA_ASSIGN_OR_RETURN(ValueList items, Iterate(v));
  return items.empty() ? Value::Undefined("first") : items.front();
}

Result<Value> Last(const Value& v, ArgReader&) {
  STRATA_ASSIGN_OR_RETURN(ValueList items, Iterate(v));
  return items.empty() ? Value::Undefined("last") : items.back();
}

Result<Value> Join(const Value& v, ArgReader& args) {
  std::string sep = args.Get(0, "d", Value::String("")).ToString();
  Value attribute = args.Get(1, "attribute");
  STRATA_ASSIGN_OR_RETURN(ValueList items, KeyedItems(v, attribute, nullptr));
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i].ToString();
    if (out.size() > kMaxStringBytes) return Status::InvalidArgument("join: result is too large");
  }
  return Value::String(std::move(out));
}

Result<Value> Trim(const Value& v, ArgReader& args) {
  STRATA_ASSIGN_OR_RETURN(auto chars, args.GetOptionalString(0, "chars"));
  return Value::String(PyStrip(v.ToString(), chars, true, true));
}

Result<Value> Replace(const Value& v, ArgReader& args) {
  std::string from = args.Get(0, "old").ToString();
  std::string to = args.Get(1, "new").ToString();
  Value count = args.Get(2, "count");
  int64_t n = count.is_int() ? count.int_value() : -1;
  std::string out = PyReplace(v.ToString(), from, to, n);
  if (out.size() > kMaxStringBytes) return Status::InvalidArgument("replace: result is too large");
  return Value::String(std::move(out));
}

Result<Value> ToInt(const Value& v, ArgReader& args) {
  Value fallback = args.Get(0, "default", Value::Int(0));
  if (v.is_int() || v.is_bool()) return Value::Int(v.int_value());
  if (v.is_float()) {
    double d = v.number_value();
    if (!std::isfinite(d) || std::fabs(d) > 9.2e18) return fallback;
    return Value::Int(static_cast<int64_t>(d));
  }
  if (!v.is_string()) return fallback;
  std::string s = PyStrip(v.str(), std::nullopt, true, true);
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (s.empty()) return fallback;
  char* end = nullptr;
  errno = 0;
  long long i = std::strtoll(s.c_str(), &end, 10);
  if (errno == 0 && *end == '\0') return Value::Int(i);
  double d = std::strtod(s.c_str(), &end);  // jinja2 falls back to int(float(s))
  if (*end != '\0' || !std::isfinite(d) || std::fabs(d) > 9.2e18) return fallback;
  return Value::Int(static_cast<int64_t>(d));
}

Result<Value> ToFloat(const Value& v, ArgReader& args) {
  Value fallback = args.Get(0, "default", Value::Float(0.0));
  if (v.is_number()) return Value::Float(v.number_value());
  if (!v.is_string()) return fallback;
  std::string s = PyStrip(v.str(), std::nullopt, true, true);
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0') return fallback;
  return Value::Float(d);
}

Result<Value> ToList(const Value& v, ArgReader&) {
  STRATA_ASSIGN_OR_RETURN(ValueList items, Iterate(v));
  return Value::List(std::move(items));
}

Result<Value> Items(const Value& v, ArgReader&) {
  if (v.is_undefined()) return Value::List({});
  if (!v.is_dict()) return Status::InvalidArgument(std::string("items: expected a dict, got ") + v.TypeName());
  ValueList out;
  for (const auto& [k, val] : v.dict().items) out.push_back(Value::List({Value::String(k), val}));
  return Value::List(std::move(out));
}

// select / reject / selectattr / rejectattr share one shape: keep items whose (attribute's) test result
// equals `keep`. Without a test name the item's truthiness decides.
Result<Value> SelectImpl(const Value& v, ArgReader& args, bool by_attribute, bool keep) {
  size_t next = 0;
  std::string attribute;
  if (by_attribute) attribute = args.Get(next++, "attribute").ToString();
  Value test = args.Get(next++, "test");
  CallArgs test_args;
  for (size_t i = next; i < next + 4; ++i) {
    Value a = args.Get(i, "");
    if (a.is_undefined()) break;
    test_args.positional.push_back(std::move(a));
  }
  if (!test.is_undefined() && (!test.is_string() || !IsKnownTest(test.str())))
    return Status::Unsupported("unknown test '" + test.ToString() + "'");
  STRATA_ASSIGN_OR_RETURN(ValueList items, Iterate(v));
  ValueList out;
  for (const Value& item : items) {
    Value subject = item;
    if (by_attribute) {
      STRATA_ASSIGN_OR_RETURN(subject, GetPath(item, attribute));
    }
    bool pass = subject.Truthy();
    if (!test.is_undefined()) {
      STRATA_ASSIGN_OR_RETURN(pass, ApplyTest(test.str(), subject, test_args));
    }
    if (pass == keep) out.push_back(item);
  }
  return Value::List(std::move(out));
}

Result<Value> Select(const Value& v, ArgReader& a) { return SelectImpl(v, a, false, true); }
Result<Value> Reject(const Value& v, ArgReader& a) { return SelectImpl(v, a, false, false); }
Result<Value> SelectAttr(const Value& v, ArgReader& a) { return SelectImpl(v, a, true, true); }
Result<Value> RejectAttr(const Value& v, ArgReader& a) { return SelectImpl(v, a, true, false); }

// map(attribute="x", default=d) or map("filter", args...).
Result<Value> Map(const Value& v, ArgReader& args) {
  Value attribute = args.Get(100, "attribute");  // keyword-only: no caller passes 100 positionals
  STRATA_ASSIGN_OR_RETURN(ValueList items, Iterate(v));
  if (!attribute.is_undefined()) {
    Value fallback = args.Get(101, "default");
    for (Value& item : items) {
      STRATA_ASSIGN_OR_RETURN(item, GetPath(item, attribute.ToString()));
      if (item.is_undefined() && !fallback.is_undefined()) item = fallback;
    }
    return Value::List(std::move(items));
  }
  Value filter = args.Get(0, "");
  if (!filter.is_string() || !IsKnownFilter(filter.str()))
    return Status::Unsupported("map: unknown filter '" + filter.ToString() + "'");
  CallArgs filter_args;
  for (size_t i = 1; i < 5; ++i) {
    Value a = args.Get(i, "");
    if (a.is_undefined()) break;
    filter_args.positional.push_back(std::move(a));
  }
  for (Value& item : items) {
    STRATA_ASSIGN_OR_RETURN(item, ApplyFilter(filter.str(), item, filter_args));
  }
  return Value::List(std::move(items));
}

Result<Value> Unique(const Value& v, ArgReader& args) {
  bool case_sensitive = args.Get(0, "case_sensitive", Value::Bool(false)).Truthy();
  ValueList originals;
  STRATA_ASSIGN_OR_RETURN(ValueList keys, KeyedItems(v, args.Get(1, "attribute"), &originals));
  ValueList out, seen;
  for (size_t i = 0; i < keys.size(); ++i) {
    Value key = SortKey(keys[i], case_sensitive);
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return ValuesEqual(s, key); })) continue;
    seen.push_back(key);
    out.push_back(originals[i]);
  }
  return Value::List(std::move(out));
}

// `originals` in the stable order of their `keys`, as Python's sorted(key=..., reverse=...) gives it.
Result<Value> SortedBy(const ValueList& keys, const ValueList& originals, bool reverse, bool case_sensitive) {
  std::vector<size_t> order(keys.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Status error;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    auto less = ValueLess(SortKey(keys[reverse ? b : a], case_sensitive), SortKey(keys[reverse ? a : b], case_sensitive));
    if (!less.ok()) error = less.status();
    return less.ok() && *less;
  });
  if (!error.ok()) return error;
  ValueList out;
  for (size_t i : order) out.push_back(originals[i]);
  return Value::List(std::move(out));
}

Result<Value> Sort(const Value& v, ArgReader& args) {
  bool reverse = args.Get(0, "reverse", Value::Bool(false)).Truthy();
  bool case_sensitive = args.Get(1, "case_sensitive", Value::Bool(false)).Truthy();
  ValueList originals;
  STRATA_ASSIGN_OR_RETURN(ValueList keys, KeyedItems(v, args.Get(2, "attribute"), &originals));
  return SortedBy(keys, originals, reverse, case_sensitive);
}

// dictsort(case_sensitive=false, by='key', reverse=false): the (key, value) pairs, sorted.
Result<Value> DictSort(const Value& v, ArgReader& args) {
  bool case_sensitive = args.Get(0, "case_sensitive", Value::Bool(false)).Truthy();
  Value by = args.Get(1, "by", Value::String("key"));
  bool reverse = args.Get(2, "reverse", Value::Bool(false)).Truthy();
  if (!v.is_dict()) return Status::InvalidArgument(std::string("dictsort: expected a dict, got ") + v.TypeName());
  if (!by.is_string() || (by.str() != "key" && by.str() != "value"))
    return Status::InvalidArgument("dictsort: You can only sort by either 'key' or 'value'");
  ValueList pairs, keys;
  for (const auto& [k, val] : v.dict().items) {
    pairs.push_back(Value::List({Value::String(k), val}));
    keys.push_back(by.str() == "key" ? Value::String(k) : val);
  }
  return SortedBy(keys, pairs, reverse, case_sensitive);
}

// value|format(args...): Python's value % args.
Result<Value> Format(const Value& v, ArgReader& args) {
  ValueList positional;
  for (size_t i = 0; args.HasPositional(i); ++i) positional.push_back(args.Get(i, ""));
  STRATA_ASSIGN_OR_RETURN(std::string out, PercentFormat(v.ToString(), positional));
  return Value::String(std::move(out));
}

Result<Value> Reverse(const Value& v, ArgReader&) {
  STRATA_ASSIGN_OR_RETURN(ValueList items, Iterate(v));
  std::reverse(items.begin(), items.end());
  if (!v.is_string()) return Value::List(std::move(items));
  std::string out;
  for (const Value& c : items) out += c.str();
  return Value::String(std::move(out));
}

Result<Value> ToJsonFilter(const Value& v, ArgReader& args) {
  JsonOptions options;
  Value indent = args.Get(1, "indent");
  if (indent.is_int()) options.indent = static_cast<int>(std::clamp<int64_t>(indent.int_value(), 0, 64));
  options.sort_keys = args.Get(3, "sort_keys", Value::Bool(false)).Truthy();
  Value separators = args.Get(2, "separators");
  if (separators.is_list() && separators.list().size() == 2) {
    options.item_separator = separators.list()[0].ToString();
    options.key_separator = separators.list()[1].ToString();
  }
  if (args.Get(0, "ensure_ascii", Value::Bool(false)).Truthy())
    return Status::Unsupported("tojson(ensure_ascii=true) is not supported");
  STRATA_ASSIGN_OR_RETURN(std::string json, ToJson(v, options));
  return Value::String(std::move(json));
}

Result<Value> Escape(const Value& v, ArgReader&) {
  std::string out;
  for (char c : v.ToString()) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return Value::String(std::move(out));
}

Result<Value> Round(const Value& v, ArgReader& args) {
  STRATA_ASSIGN_OR_RETURN(int64_t precision, args.GetInt(0, "precision", 0));
  std::string method = args.Get(1, "method", Value::String("common")).ToString();
  if (!v.is_number()) return Status::InvalidArgument(std::string("round: expected a number, got ") + v.TypeName());
  if (v.is_int() && method == "common") return Value::Int(v.int_value());
  double scale = std::pow(10.0, static_cast<double>(precision));
  double x = v.number_value() * scale;
  // "common" is Python's round(): ties go to the even neighbour.
  double r = method == "floor" ? std::floor(x) : method == "ceil" ? std::ceil(x) : std::nearbyint(x);
  return Value::Float(r / scale);
}

Result<Value> Indent(const Value& v, ArgReader& args) {
  Value width = args.Get(0, "width", Value::Int(4));
  std::string pad = width.is_string() ? width.str() : std::string(std::clamp<int64_t>(width.int_value(), 0, 256), ' ');
  bool first = args.Get(1, "first", Value::Bool(false)).Truthy();
  bool blank = args.Get(2, "blank", Value::Bool(false)).Truthy();
  std::vector<std::string> lines = PySplit(v.ToString() + "\n", std::string("\n"), -1);
  lines.pop_back();  // splitlines() of the text plus "\n" has no trailing empty line
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += "\n";
    if ((i > 0 || first) && (blank || !lines[i].empty())) out += pad;
    out += lines[i];
  }
  return Value::String(std::move(out));
}

Result<Value> Sum(const Value& v, ArgReader& args) {
  STRATA_ASSIGN_OR_RETURN(ValueList items, KeyedItems(v, args.Get(0, "attribute"), nullptr));
  Value total = args.Get(1, "start", Value::Int(0));
  for (const Value& item : items) {
    STRATA_ASSIGN_OR_RETURN(total, BinaryOp("+", total, item));
  }
  return total;
}

Result<Value> MinMax(const Value& v, ArgReader& args, bool want_max) {
  bool case_sensitive = args.Get(0, "case_sensitive", Value::Bool(false)).Truthy();
  ValueList originals;
  STRATA_ASSIGN_OR_RETURN(ValueList keys, KeyedItems(v, args.Get(1, "attribute"), &originals));
  if (keys.empty()) return Value::Undefined(want_max ? "max" : "min");
  size_t best = 0;
  for (size_t i = 1; i < keys.size(); ++i) {
    const Value& a = want_max ? keys[best] : keys[i];
    const Value& b = want_max ? keys[i] : keys[best];
    STRATA_ASSIGN_OR_RETURN(bool less, ValueLess(SortKey(a, case_sensitive), SortKey(b, case_sensitive)));
    if (less) best = i;
  }
  return originals[best];
}

Result<Value> Min(const Value& v, ArgReader& a) { return MinMax(v, a, false); }
Result<Value> Max(const Value& v, ArgReader& a) { return MinMax(v, a, true); }

Result<Value> Abs(const Value& v, ArgReader&) {
  if (v.is_float()) return Value::Float(std::fabs(v.number_value()));
  if (v.is_int() || v.is_bool()) {
    if (v.int_value() == INT64_MIN) return Status::InvalidArgument("abs: integer overflow");
    return Value::Int(std::llabs(v.int_value()));
  }
  return Status::InvalidArgument(std::string("bad operand type for abs(): '") + v.TypeName() + "'");
}

struct FilterEntry {
  std::string_view name;
  FilterFn fn;
};

const FilterEntry kFilters[] = {
    {"abs", Abs},
    {"capitalize", [](const Value& v, ArgReader&) { return StringFilter(v, PyCapitalize); }},
    {"count", LengthFilter},
    {"d", Default},
    {"default", Default},
    {"dictsort", DictSort},
    {"e", Escape},
    {"escape", Escape},
    {"first", First},
    {"float", ToFloat},
    {"format", Format},
    {"indent", Indent},
    {"int", ToInt},
    {"items", Items},
    {"join", Join},
    {"last", Last},
    {"length", LengthFilter},
    {"list", ToList},
    {"lower", [](const Value& v, ArgReader&) { return StringFilter(v, AsciiLower); }},
    {"map", Map},
    {"max", Max},
    {"min", Min},
    {"reject", Reject},
    {"rejectattr", RejectAttr},
    {"replace", Replace},
    {"reverse", Reverse},
    {"round", Round},
    {"safe", [](const Value& v, ArgReader&) -> Result<Value> { return v; }},
    {"select", Select},
    {"selectattr", SelectAttr},
    {"sort", Sort},
    {"string", [](const Value& v, ArgReader&) -> Result<Value> { return Value::String(v.ToString()); }},
    {"sum", Sum},
    {"title", [](const Value& v, ArgReader&) { return StringFilter(v, JinjaTitle); }},
    {"tojson", ToJsonFilter},
    {"trim", Trim},
    {"unique", Unique},
    {"upper", [](const Value& v, ArgReader&) { return StringFilter(v, AsciiUpper); }},
};

const FilterEntry* FindFilter(std::string_view name) {
  for (const FilterEntry& f : kFilters)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace

bool IsKnownFilter(std::string_view name) { return FindFilter(name) != nullptr; }

Result<Value> ApplyFilter(std::string_view name, const Value& value, const CallArgs& call_args) {
  const FilterEntry* f = FindFilter(name);
  if (!f) return Status::Unsupported("unknown filter '" + std::string(name) + "'");
  ArgReader args(name, call_args);
  STRATA_ASSIGN_OR_RETURN(Value result, f->fn(value, args));
  if (name != "select" && name != "reject" && name != "selectattr" && name != "rejectattr" && name != "map")
    STRATA_RETURN_IF_ERROR(args.Finish());  // those take a variable number of test/filter arguments
  return result;
}

}  // namespace strata::jinja
