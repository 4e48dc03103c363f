#include "model/jinja/to_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace strata::jinja {

namespace {

constexpr int kMaxDepth = 100;

void AppendJsonString(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);  // ensure_ascii=False: UTF-8 passes through
        }
    }
  }
  out += '"';
}

class JsonWriter {
 public:
  explicit JsonWriter(const JsonOptions& o) : opt_(o) {
    item_sep_ = !o.item_separator.empty() ? o.item_separator : (o.indent >= 0 ? "," : ", ");
    key_sep_ = !o.key_separator.empty() ? o.key_separator : ": ";
  }

  Status Write(const Value& v, int depth) {
    if (depth > kMaxDepth) return Status::InvalidArgument("tojson: value nested too deeply");
    switch (v.kind()) {
      case Value::Kind::kNone: out_ += "null"; return Status::Ok();
      case Value::Kind::kBool: out_ += v.bool_value() ? "true" : "false"; return Status::Ok();
      case Value::Kind::kInt: out_ += std::to_string(v.int_value()); return Status::Ok();
      case Value::Kind::kFloat: {
        double d = v.number_value();
        out_ += std::isnan(d) ? "NaN" : std::isinf(d) ? (d < 0 ? "-Infinity" : "Infinity") : FormatFloat(d);
        return Status::Ok();
      }
      case Value::Kind::kString: AppendJsonString(out_, v.str()); return Status::Ok();
      case Value::Kind::kList: return WriteList(v.list(), depth);
      case Value::Kind::kDict: return WriteDict(v.dict(), depth);
      default:
        return Status::InvalidArgument(std::string("tojson: object of type '") + v.TypeName() +
                                       "' is not JSON serializable");
    }
  }

  std::string Take() { return std::move(out_); }

 private:
  void Newline(int depth) {
    if (opt_.indent < 0) return;
    out_ += '\n';
    out_.append(static_cast<size_t>(opt_.indent) * depth, ' ');
  }

  Status WriteList(const ValueList& items, int depth) {
    if (items.empty()) {
      out_ += "[]";
      return Status::Ok();
    }
    out_ += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out_ += item_sep_;
      Newline(depth + 1);
      STRATA_RETURN_IF_ERROR(Write(items[i], depth + 1));
    }
    Newline(depth);
    out_ += ']';
    return Status::Ok();
  }

  Status WriteDict(const ValueDict& dict, int depth) {
    if (dict.items.empty()) {
      out_ += "{}";
      return Status::Ok();
    }
    std::vector<const std::pair<std::string, Value>*> items;
    for (const auto& kv : dict.items) items.push_back(&kv);
    if (opt_.sort_keys)
      std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
    out_ += '{';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out_ += item_sep_;
      Newline(depth + 1);
      AppendJsonString(out_, items[i]->first);
      out_ += key_sep_;
      STRATA_RETURN_IF_ERROR(Write(items[i]->second, depth + 1));
    }
    Newline(depth);
    out_ += '}';
    return Status::Ok();
  }

  const JsonOptions& opt_;
  std::string item_sep_, key_sep_;
  std::string out_;
};

}  // namespace

Result<std::string> ToJson(const Value& value, const JsonOptions& options) {
  JsonWriter w(options);
  STRATA_RETURN_IF_ERROR(w.Write(value, 0));
  return w.Take();
}

}  // namespace strata::jinja
