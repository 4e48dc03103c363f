#include "engine/json_grammar.h"

#include <set>

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

// Walks a schema depth-first into grammar nodes; $ref to #/$defs or #/definitions is inlined (not recursive).
class SchemaCompiler {
 public:
  SchemaCompiler(JsonGrammar& g, const json& root) : g_(g), root_(root) {}

  Result<int32_t> Compile(const json& s, int depth) {
    if (depth > 32) return Status::Unsupported("schema nests deeper than 32 levels (recursive $ref?)");
    if (s.is_boolean()) return g_.any();
    if (!s.is_object()) return Status::InvalidArgument("a schema must be an object, got " + s.dump());
    if (s.contains("$ref")) return Ref(s["$ref"], depth);
    for (const char* k : {"pattern", "patternProperties", "not", "if", "allOf", "prefixItems", "uniqueItems"})
      if (s.contains(k)) return Status::Unsupported(std::string("JSON schema keyword '") + k + "' is not supported");
    if (s.contains("enum")) return Literals(s["enum"]);
    if (s.contains("const")) return Literals(json::array({s["const"]}));
    for (const char* k : {"anyOf", "oneOf"})
      if (s.contains(k)) return AnyOf(s[k], depth);
    if (!s.contains("type")) return s.contains("properties") ? Object(s, depth) : g_.any();
    const json& type = s["type"];
    if (type.is_array()) {
      JsonGrammar::Node alt{.kind = Kind::kAnyOf};
      for (const json& t : type) {
        json one = s;
        one["type"] = t;
        STRATA_ASSIGN_OR_RETURN(int32_t n, Compile(one, depth + 1));
        alt.alts.push_back(n);
      }
      return g_.Add(std::move(alt));
    }
    if (!type.is_string()) return Status::InvalidArgument("schema 'type' must be a string or an array");
    return Typed(type.get<std::string>(), s, depth);
  }

 private:
  Result<int32_t> Typed(const std::string& type, const json& s, int depth) {
    if (type == "object") return Object(s, depth);
    if (type == "array") return Array(s, depth);
    if (type == "string")
      return g_.Add({.kind = Kind::kString, .min = s.value("minLength", int64_t{0}), .max = s.value("maxLength", int64_t{-1})});
    if (type == "number") return g_.any_number();
    if (type == "integer") {
      const bool non_negative = s.contains("minimum") && s["minimum"].is_number() && s["minimum"].get<double>() >= 0;
      return g_.Add({.kind = Kind::kInteger, .non_negative = non_negative});
    }
    if (type == "boolean") return Literals(json::array({true, false}));
    if (type == "null") return Literals(json::array({nullptr}));
    return Status::Unsupported("JSON schema type '" + type + "' is not supported");
  }

  Result<int32_t> Object(const json& s, int depth) {
    JsonGrammar::Node n{.kind = Kind::kObject};
    if (!s.contains("properties")) {
      n.free_keys = true;
      const json* extra = s.contains("additionalProperties") ? &s["additionalProperties"] : nullptr;
      if (extra && extra->is_object()) {
        STRATA_ASSIGN_OR_RETURN(n.item, Compile(*extra, depth + 1));
      } else {
        n.item = g_.any();
      }
      return g_.Add(std::move(n));
    }
    if (!s["properties"].is_object()) return Status::InvalidArgument("schema 'properties' must be an object");
    std::set<std::string> required;
    if (s.contains("required") && s["required"].is_array())
      for (const json& r : s["required"])
        if (r.is_string()) required.insert(r.get<std::string>());
    for (const auto& [key, sub] : s["properties"].items()) {
      STRATA_ASSIGN_OR_RETURN(int32_t value, Compile(sub, depth + 1));
      n.props.push_back({g_.AddLiteral(json(key).dump()), value, required.count(key) > 0});
    }
    return g_.Add(std::move(n));
  }

  Result<int32_t> Array(const json& s, int depth) {
    JsonGrammar::Node n{.kind = Kind::kArray, .min = s.value("minItems", int64_t{0}), .max = s.value("maxItems", int64_t{-1})};
    if (s.contains("items")) {
      STRATA_ASSIGN_OR_RETURN(n.item, Compile(s["items"], depth + 1));
    } else {
      n.item = g_.any();
    }
    if (n.max >= 0 && n.max < n.min) return Status::InvalidArgument("schema maxItems is below minItems");
    return g_.Add(std::move(n));
  }

  Result<int32_t> Literals(const json& values) {
    if (!values.is_array() || values.empty()) return Status::InvalidArgument("schema 'enum' must be a non-empty array");
    JsonGrammar::Node n{.kind = Kind::kLiterals};
    for (const json& v : values) n.alts.push_back(g_.AddLiteral(v.dump()));
    return g_.Add(std::move(n));
  }

  Result<int32_t> AnyOf(const json& alts, int depth) {
    if (!alts.is_array() || alts.empty()) return Status::InvalidArgument("schema 'anyOf' must be a non-empty array");
    JsonGrammar::Node n{.kind = Kind::kAnyOf};
    for (const json& a : alts) {
      STRATA_ASSIGN_OR_RETURN(int32_t id, Compile(a, depth + 1));
      n.alts.push_back(id);
    }
    return g_.Add(std::move(n));
  }

  Result<int32_t> Ref(const json& ref, int depth) {
    if (!ref.is_string()) return Status::InvalidArgument("schema '$ref' must be a string");
    const std::string r = ref.get<std::string>();
    for (const char* prefix : {"#/$defs/", "#/definitions/"}) {
      const std::string p = prefix;
      const std::string section = p.substr(2, p.size() - 3);
      if (r.starts_with(p) && root_.contains(section) && root_[section].contains(r.substr(p.size())))
        return Compile(root_[section][r.substr(p.size())], depth + 1);
    }
    return Status::Unsupported("schema $ref '" + r + "' cannot be resolved (only #/$defs/... and #/definitions/...)");
  }

  JsonGrammar& g_;
  const json& root_;
};

Result<std::shared_ptr<const JsonGrammar>> JsonGrammar::AnyObject() {
  auto g = std::make_shared<JsonGrammar>();
  g->AddBuiltins();
  g->root_ = g->any_object_;
  return std::shared_ptr<const JsonGrammar>(g);
}

Result<std::shared_ptr<const JsonGrammar>> JsonGrammar::FromSchema(const json& schema) {
  auto g = std::make_shared<JsonGrammar>();
  g->AddBuiltins();
  SchemaCompiler c(*g, schema);
  STRATA_ASSIGN_OR_RETURN(g->root_, c.Compile(schema, 0));
  return std::shared_ptr<const JsonGrammar>(g);
}

}  // namespace strata
