// Compiles a JSON Schema subset (json_grammar.h) into grammar nodes.
#include "engine/json_grammar.h"

#include <algorithm>
#include <map>

namespace strata {

using json = nlohmann::ordered_json;
using Kind = JsonGrammar::Kind;

int32_t JsonGrammar::Add(Node n) {
  nodes_.push_back(std::move(n));
  return static_cast<int32_t>(nodes_.size() - 1);
}

int32_t JsonGrammar::AddLiteral(std::string s) {
  literals_.push_back(std::move(s));
  return static_cast<int32_t>(literals_.size() - 1);
}

int64_t JsonGrammar::RequiredRest(int32_t i, int32_t next, bool leading_comma) const {
  const Node& n = node(i);
  int64_t total = 0;
  bool first = !leading_comma;
  for (size_t j = static_cast<size_t>(std::max(next, 0)); j < n.props.size(); ++j) {
    if (!n.props[j].required) continue;
    total += (first ? 0 : 1) + static_cast<int64_t>(literal(n.props[j].key).size()) + 1 + min_len(n.props[j].value);
    first = false;
  }
  return total;
}

// Shortest value per node by fixed-point iteration (recursive $refs make the node graph cyclic).
void JsonGrammar::ComputeMinLengths() {
  constexpr int64_t kInf = kNoDocument;
  min_len_.assign(nodes_.size(), kInf);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const Node& n = nodes_[i];
      int64_t v = kInf;
      switch (n.kind) {
        case Kind::kAny: v = 1; break;
        case Kind::kNumber: case Kind::kInteger: v = MinNumberLength(n.range); break;
        case Kind::kString: v = 2 + n.min; break;
        case Kind::kLiterals:
          for (int32_t l : n.alts) v = std::min(v, static_cast<int64_t>(literal(l).size()));
          break;
        case Kind::kAnyOf:
          for (int32_t a : n.alts) v = std::min(v, min_len_[static_cast<size_t>(a)]);
          break;
        case Kind::kObject: v = std::min(kInf, 2 + RequiredRest(static_cast<int32_t>(i), 0, false)); break;
        case Kind::kArray:
          // min <= kMaxCount and an item below kInf: no overflow.
          v = n.min == 0 ? 2 : std::min(kInf, 2 + n.min * (std::min(kInf, min_len_[static_cast<size_t>(n.item)]) + 1) - 1);
          break;
      }
      if (v < min_len_[i]) min_len_[i] = v, changed = true;
    }
  }
  // A byte can at most start a key (its literal, ':' and the value) or a value where a shorter one would do.
  int64_t longest_value = 0, longest_literal = 0;
  for (int64_t v : min_len_)
    if (v < kInf) longest_value = std::max(longest_value, v);
  // Inside a bounded number one digit can raise the rest to a whole number's worth (0 -> 0.000000000000001).
  for (const Node& n : nodes_)
    if (n.range.bounded) longest_value = std::max<int64_t>(longest_value, 2 * kNumberMaxDigits + 2);
  for (const std::string& l : literals_) longest_literal = std::max(longest_literal, static_cast<int64_t>(l.size()));
  max_rise_per_byte_ = longest_literal + 2 * longest_value + 4;
}

// After ComputeMinLengths: what has no finite value cannot be part of a finished document, so the matcher must
// not start it (min_len stays the same: it never counted those parts).
void JsonGrammar::DropEndlessParts() {
  auto endless = [&](int32_t i) { return min_len(i) >= kNoDocument; };
  for (Node& n : nodes_) {
    if (n.kind == Kind::kAnyOf) std::erase_if(n.alts, endless);
    if (n.kind == Kind::kArray && n.min == 0 && endless(n.item)) n.max = 0;
    if (n.kind != Kind::kObject) continue;
    if (n.free_keys && endless(n.item)) n.free_keys = false;  // no keys at all: {}
    std::erase_if(n.props, [&](const Property& p) { return !p.required && endless(p.value); });
  }
}

void JsonGrammar::AddBuiltins() {
  any_ = Add({.kind = Kind::kAny});
  any_string_ = Add({.kind = Kind::kString});
  any_number_ = Add({.kind = Kind::kNumber});
  Node kw{.kind = Kind::kLiterals};
  for (const char* s : {"true", "false", "null"}) kw.alts.push_back(AddLiteral(s));
  keywords_ = Add(std::move(kw));
  any_object_ = Add({.kind = Kind::kObject, .free_keys = true, .item = any_});
  any_array_ = Add({.kind = Kind::kArray, .item = any_});
}

// Walks a schema depth-first into grammar nodes. A $ref becomes a node of its own, compiled once, so recursive
// schemas give a cyclic graph (the matcher's nesting limit bounds the documents) instead of endless inlining.
class SchemaCompiler {
 public:
  SchemaCompiler(JsonGrammar& g, const json& root) : g_(g), root_(root) {}

  Result<int32_t> Compile(const json& s, int depth) {
    if (depth > 64) return Status::Unsupported("JSON schema nests deeper than 64 levels");
    if (s.is_boolean()) {
      if (!s.get<bool>()) return Status::InvalidArgument("JSON schema 'false' accepts no value");
      return g_.any();
    }
    if (!s.is_object()) return Status::InvalidArgument("a JSON schema must be an object, got " + s.dump().substr(0, 80));
    if (s.contains("$ref")) return Ref(s["$ref"], depth);
    for (const char* k : {"pattern", "patternProperties", "not", "if", "then", "else", "allOf", "prefixItems",
                          "uniqueItems", "contains", "minProperties", "maxProperties", "propertyNames",
                          "dependentRequired", "dependentSchemas", "multipleOf", "unevaluatedProperties",
                          "unevaluatedItems", "additionalItems", "$dynamicRef"})
      if (s.contains(k)) return Status::Unsupported(std::string("JSON schema keyword '") + k + "' is not supported");
    if (s.contains("enum")) return Literals(s["enum"], "enum");
    if (s.contains("const")) return Literals(json::array({s["const"]}), "const");
    for (const char* k : {"anyOf", "oneOf"})
      if (s.contains(k)) return AnyOf(s[k], k, depth);
    if (!s.contains("type")) {
      for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
        if (s.contains(k))  // bounds numbers only: enforced on an "integer" / "number" type, not on any value
          return Status::Unsupported(std::string("JSON schema '") + k + "' needs \"type\": \"integer\" or \"number\"");
      if (s.contains("properties") || s.contains("required")) return Object(s, depth);
      if (s.contains("items")) return Array(s, depth);
      return g_.any();
    }
    const json& type = s["type"];
    if (type.is_array()) {
      if (type.empty()) return Status::InvalidArgument("JSON schema 'type' must not be an empty array");
      JsonGrammar::Node alt{.kind = Kind::kAnyOf};
      for (const json& t : type) {
        if (!t.is_string()) return Status::InvalidArgument("JSON schema 'type' entries must be strings");
        STRATA_ASSIGN_OR_RETURN(int32_t n, Typed(t.get<std::string>(), s, depth));
        alt.alts.push_back(n);
      }
      return g_.Add(std::move(alt));
    }
    if (!type.is_string()) return Status::InvalidArgument("JSON schema 'type' must be a string or an array");
    return Typed(type.get<std::string>(), s, depth);
  }

 private:
  // A count keyword in [0, kMaxCount] (checked in the JSON's own width), or `dflt` when absent. The bound keeps
  // min_len arithmetic from overflowing; no such document fits a context anyway.
  static constexpr int64_t kMaxCount = int64_t{1} << 20;
  static Result<int64_t> Count(const json& s, const char* key, int64_t dflt) {
    if (!s.contains(key)) return dflt;
    const json& v = s[key];
    if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<int64_t>() < 0) ||
        (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(kMaxCount)))
      return Status::InvalidArgument(std::string("JSON schema '") + key + "' must be an integer in [0, " +
                                     std::to_string(kMaxCount) + "], got " + v.dump());
    return v.get<int64_t>();
  }

  // minimum / maximum, and exclusiveMinimum / exclusiveMaximum as numbers (draft 6+) or as booleans that make
  // minimum / maximum exclusive (draft 4).
  static Result<NumberRange> Range(const json& s, bool integer) {
    std::vector<NumberBound> bounds[2];  // lower, upper
    for (int upper = 0; upper < 2; ++upper) {
      const char* inclusive = upper ? "maximum" : "minimum";
      const char* exclusive = upper ? "exclusiveMaximum" : "exclusiveMinimum";
      const bool flag = s.contains(exclusive) && s[exclusive].is_boolean() && s[exclusive].get<bool>();
      for (const char* k : {inclusive, exclusive}) {
        if (!s.contains(k) || (k == exclusive && s[k].is_boolean())) continue;
        if (!s[k].is_number()) return Status::InvalidArgument(std::string("JSON schema '") + k + "' must be a number");
        bounds[upper].push_back({s[k].dump(), k == exclusive || flag});
      }
    }
    return MakeNumberRange(integer, bounds[0], bounds[1]);
  }

  Result<int32_t> Typed(const std::string& type, const json& s, int depth) {
    if (type == "object") return Object(s, depth);
    if (type == "array") return Array(s, depth);
    if (type == "string") {
      STRATA_ASSIGN_OR_RETURN(int64_t min, Count(s, "minLength", 0));
      STRATA_ASSIGN_OR_RETURN(int64_t max, Count(s, "maxLength", -1));
      if (max >= 0 && max < min) return Status::InvalidArgument("JSON schema maxLength is below minLength");
      return g_.Add({.kind = Kind::kString, .min = min, .max = max});
    }
    if (type == "number" || type == "integer") {
      STRATA_ASSIGN_OR_RETURN(NumberRange range, Range(s, type == "integer"));
      return g_.Add({.kind = type == "number" ? Kind::kNumber : Kind::kInteger, .range = range});
    }
    if (type == "boolean") return Literals(json::array({true, false}), "type");
    if (type == "null") return Literals(json::array({nullptr}), "type");
    return Status::Unsupported("JSON schema type '" + type + "' is not supported");
  }

  Result<int32_t> Object(const json& s, int depth) {
    JsonGrammar::Node n{.kind = Kind::kObject};
    // Values of keys not listed in properties: a schema, any value (absent/true) or none (false).
    int32_t extra = g_.any();
    bool extra_allowed = true;
    if (s.contains("additionalProperties")) {
      const json& a = s["additionalProperties"];
      if (a.is_boolean()) {
        extra_allowed = a.get<bool>();
      } else {
        STRATA_ASSIGN_OR_RETURN(extra, Compile(a, depth + 1));
      }
    }
    std::vector<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) return Status::InvalidArgument("JSON schema 'required' must be an array");
      for (const json& r : s["required"]) {
        if (!r.is_string()) return Status::InvalidArgument("JSON schema 'required' entries must be strings");
        required.push_back(r.get<std::string>());
      }
    }
    const bool listed = s.contains("properties");
    if (!listed && required.empty()) {
      if (extra_allowed) n.free_keys = true, n.item = extra;  // any keys (none when additionalProperties false)
      return g_.Add(std::move(n));
    }
    // By reference: a copy here would copy the whole rest of a deep schema at every level.
    static const json kNoProperties = json::object();
    const json& props = listed ? s["properties"] : kNoProperties;
    if (!props.is_object()) return Status::InvalidArgument("JSON schema 'properties' must be an object");
    std::vector<std::string> undescribed;
    for (const std::string& r : required) {
      if (props.contains(r) || std::find(undescribed.begin(), undescribed.end(), r) != undescribed.end()) continue;
      // A required key the schema does not describe takes the additionalProperties schema.
      if (!extra_allowed)
        return Status::InvalidArgument("JSON schema requires '" + r + "' but forbids keys not in 'properties'");
      undescribed.push_back(r);
    }
    for (const auto& [key, sub] : props.items()) {
      const bool req = std::find(required.begin(), required.end(), key) != required.end();
      STRATA_ASSIGN_OR_RETURN(int32_t value, Compile(sub, depth + 1));
      n.props.push_back({g_.AddLiteral(json(key).dump()), value, req});
    }
    for (const std::string& key : undescribed) n.props.push_back({g_.AddLiteral(json(key).dump()), extra, true});
    return g_.Add(std::move(n));
  }

  Result<int32_t> Array(const json& s, int depth) {
    STRATA_ASSIGN_OR_RETURN(int64_t min, Count(s, "minItems", 0));
    STRATA_ASSIGN_OR_RETURN(int64_t max, Count(s, "maxItems", -1));
    JsonGrammar::Node n{.kind = Kind::kArray, .min = min, .max = max};
    if (n.max >= 0 && n.max < n.min) return Status::InvalidArgument("JSON schema maxItems is below minItems");
    n.item = g_.any();
    if (s.contains("items")) {
      const json& items = s["items"];
      if (items.is_boolean() && !items.get<bool>()) {
        if (n.min > 0) return Status::InvalidArgument("JSON schema 'items': false contradicts minItems");
        n.max = 0;
      } else {
        STRATA_ASSIGN_OR_RETURN(n.item, Compile(items, depth + 1));
      }
    }
    return g_.Add(std::move(n));
  }

  Result<int32_t> Literals(const json& values, const char* keyword) {
    if (!values.is_array() || values.empty())
      return Status::InvalidArgument(std::string("JSON schema '") + keyword + "' must be a non-empty array");
    JsonGrammar::Node n{.kind = Kind::kLiterals};
    for (const json& v : values) n.alts.push_back(g_.AddLiteral(v.dump()));
    return g_.Add(std::move(n));
  }

  Result<int32_t> AnyOf(const json& alts, const char* keyword, int depth) {
    if (!alts.is_array() || alts.empty())
      return Status::InvalidArgument(std::string("JSON schema '") + keyword + "' must be a non-empty array");
    JsonGrammar::Node n{.kind = Kind::kAnyOf};
    for (const json& a : alts) {
      STRATA_ASSIGN_OR_RETURN(int32_t id, Compile(a, depth + 1));
      n.alts.push_back(id);
    }
    return g_.Add(std::move(n));
  }

  // The schema a local reference points to: "#", "#/$defs/name", "#/definitions/name" (JSON pointer escapes).
  const json* Resolve(const std::string& r) const {
    if (r == "#") return &root_;
    for (const char* section : {"$defs", "definitions"}) {
      const std::string prefix = std::string("#/") + section + "/";
      if (!r.starts_with(prefix) || !root_.contains(section) || !root_[section].is_object()) continue;
      std::string name;  // JSON pointer unescaping: ~1 is '/', ~0 is '~'
      for (size_t i = prefix.size(); i < r.size(); ++i) {
        if (r[i] == '~' && i + 1 < r.size() && (r[i + 1] == '0' || r[i + 1] == '1')) {
          name += r[++i] == '1' ? '/' : '~';
        } else {
          name += r[i];
        }
      }
      if (root_[section].contains(name)) return &root_[section][name];
    }
    return nullptr;
  }

  Result<int32_t> Ref(const json& ref, int depth) {
    if (!ref.is_string()) return Status::InvalidArgument("JSON schema '$ref' must be a string");
    const std::string r = ref.get<std::string>();
    if (auto it = refs_.find(r); it != refs_.end()) return it->second;
    const json* target = Resolve(r);
    if (!target)
      return Status::Unsupported("JSON schema $ref '" + r + "' cannot be resolved (only #, #/$defs/... and #/definitions/...)");
    // A one-way anyOf stands for the reference, so a recursive use finds it before its target is compiled.
    const int32_t id = g_.Add({.kind = Kind::kAnyOf});
    refs_[r] = id;
    STRATA_ASSIGN_OR_RETURN(int32_t t, Compile(*target, depth + 1));
    g_.nodes_[static_cast<size_t>(id)].alts = {t};
    return id;
  }

  JsonGrammar& g_;
  const json& root_;
  std::map<std::string, int32_t> refs_;
};

Result<std::shared_ptr<const JsonGrammar>> JsonGrammar::AnyObject() {
  auto g = std::make_shared<JsonGrammar>();
  g->AddBuiltins();
  g->root_ = g->any_object_;
  g->ComputeMinLengths();
  return std::shared_ptr<const JsonGrammar>(g);
}

Result<std::shared_ptr<const JsonGrammar>> JsonGrammar::FromSchema(const json& schema) {
  auto g = std::make_shared<JsonGrammar>();
  g->AddBuiltins();
  SchemaCompiler c(*g, schema);
  // The compiler checks types before it reads; the catch keeps a missed case from throwing across the API.
  try {
    STRATA_ASSIGN_OR_RETURN(g->root_, c.Compile(schema, 0));
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("JSON schema: ") + e.what());
  }
  g->ComputeMinLengths();
  if (g->min_len(g->root_) >= kNoDocument)
    return Status::InvalidArgument(
        "JSON schema admits no finite document (it requires itself, e.g. through a $ref cycle, with no way to end)");
  g->DropEndlessParts();
  return std::shared_ptr<const JsonGrammar>(g);
}

}  // namespace strata
