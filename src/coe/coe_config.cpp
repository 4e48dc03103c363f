#include "coe/coe_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace strata::coe {

namespace {

Status Bad(const std::string& where, const std::string& what) {
  return Status::InvalidArgument("coe config: " + where + ": " + what);
}

// A scalar field as a string; absent gives `fallback` when not required.
Result<std::string> Text(const YAML::Node& map, const std::string& key, const std::string& where, bool required) {
  const YAML::Node v = map[key];
  if (!v) {
    if (required) return Bad(where, "'" + key + "' is required");
    return std::string();
  }
  if (!v.IsScalar()) return Bad(where, "'" + key + "' must be a string");
  return v.as<std::string>();
}

Status CheckKeys(const YAML::Node& map, const std::set<std::string>& known, const std::string& where) {
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (!known.contains(key)) return Bad(where, "unknown field '" + key + "'");
  }
  return Status::Ok();
}

Result<int64_t> Bytes(const YAML::Node& map, const std::string& key, bool required) {
  auto text = Text(map, key, "top level", required);
  if (!text.ok()) return text.status();
  if (text->empty()) return int64_t{0};
  auto bytes = ParseByteSize(*text);
  if (!bytes.ok()) return Bad(key, bytes.status().message());
  return *bytes;
}

Result<std::filesystem::path> ModelPath(const std::string& file, const std::filesystem::path& base,
                                        const std::string& where) {
  std::filesystem::path p(file);
  if (p.is_relative()) p = base / p;
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return Bad(where, "model file '" + p.string() + "' does not exist");
  return p;
}

Result<ExpertSpec> ParseExpert(const YAML::Node& e, size_t index, const std::filesystem::path& base) {
  std::string where = "experts[" + std::to_string(index) + "]";
  if (!e.IsMap()) return Bad(where, "each expert must be a mapping");
  STRATA_RETURN_IF_ERROR(CheckKeys(e, {"name", "model", "description", "examples"}, where));
  ExpertSpec spec;
  auto name = Text(e, "name", where, true);
  if (!name.ok()) return name.status();
  if (name->empty()) return Bad(where, "'name' is empty");
  spec.name = *name;
  where += " (" + spec.name + ")";
  auto model = Text(e, "model", where, true);
  if (!model.ok()) return model.status();
  auto path = ModelPath(*model, base, where);
  if (!path.ok()) return path.status();
  spec.model = *path;
  auto description = Text(e, "description", where, false);
  if (!description.ok()) return description.status();
  spec.description = *description;
  if (const YAML::Node ex = e["examples"]) {
    if (!ex.IsSequence()) return Bad(where, "'examples' must be a list of strings");
    for (const auto& x : ex) {
      if (!x.IsScalar()) return Bad(where, "'examples' must be a list of strings");
      spec.examples.push_back(x.as<std::string>());
    }
  }
  return spec;
}

Result<RouterSpec> ParseRouter(const YAML::Node& r, const std::filesystem::path& base) {
  RouterSpec spec{.model = {}, .method = "lexical"};
  if (!r) return spec;
  if (!r.IsMap()) return Bad("router", "must be a mapping");
  STRATA_RETURN_IF_ERROR(CheckKeys(r, {"model", "method", "shortlist"}, "router"));
  auto model = Text(r, "model", "router", false);
  if (!model.ok()) return model.status();
  if (!model->empty()) {
    auto path = ModelPath(*model, base, "router");
    if (!path.ok()) return path.status();
    spec.model = *path;
    spec.method = "embedding";
  }
  auto method = Text(r, "method", "router", false);
  if (!method.ok()) return method.status();
  if (!method->empty()) spec.method = *method;
  if (spec.method != "embedding" && spec.method != "lexical" && spec.method != "likelihood")
    return Bad("router", "method must be 'lexical', 'embedding' or 'likelihood', not '" + spec.method + "'");
  if (const YAML::Node k = r["shortlist"]) {
    int shortlist = 0;
    if (!k.IsScalar() || !YAML::convert<int>::decode(k, shortlist) || shortlist < 2 || shortlist > 64)
      return Bad("router", "'shortlist' must be a whole number from 2 to 64");
    spec.shortlist = shortlist;
  }
  if (spec.method == "embedding" && spec.model.empty()) return Bad("router", "method 'embedding' needs a 'model'");
  return spec;
}

Result<CoeConfig> ParseNode(const YAML::Node& root, const std::filesystem::path& base) {
  if (!root.IsMap()) return Bad("top level", "must be a mapping");
  STRATA_RETURN_IF_ERROR(CheckKeys(root, {"name", "ram_budget", "kv_per_expert", "router", "experts"}, "top level"));
  CoeConfig c;
  auto name = Text(root, "name", "top level", true);
  if (!name.ok()) return name.status();
  if (name->empty()) return Bad("top level", "'name' is empty");
  c.name = *name;
  auto budget = Bytes(root, "ram_budget", true);
  if (!budget.ok()) return budget.status();
  if (*budget <= 0) return Bad("ram_budget", "must be positive");
  c.ram_budget = *budget;
  auto kv = Bytes(root, "kv_per_expert", false);
  if (!kv.ok()) return kv.status();
  c.kv_per_expert = *kv;
  auto router = ParseRouter(root["router"], base);
  if (!router.ok()) return router.status();
  c.router = std::move(*router);
  const YAML::Node experts = root["experts"];
  if (!experts || !experts.IsSequence() || experts.size() == 0)
    return Bad("experts", "a non-empty list of experts is required");
  std::set<std::string> names{c.name, "auto"};
  for (size_t i = 0; i < experts.size(); ++i) {
    auto e = ParseExpert(experts[i], i, base);
    if (!e.ok()) return e.status();
    if (!names.insert(e->name).second)
      return Bad("experts[" + std::to_string(i) + "]", "the name '" + e->name + "' is taken (by another expert, the "
                 "CoE's name or \"auto\")");
    c.experts.push_back(std::move(*e));
  }
  return c;
}

}  // namespace

Result<CoeConfig> ParseCoeConfig(const std::string& text, const std::filesystem::path& base_dir) {
  try {
    return ParseNode(YAML::Load(text), base_dir);
  } catch (const YAML::Exception& e) {  // yaml-cpp reports by exception: turned into a value at this boundary
    return Status::InvalidArgument("coe config: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Result<CoeConfig> LoadCoeConfig(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("coe config '" + path.string() + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  auto config = ParseCoeConfig(ss.str(), path.parent_path().empty() ? "." : path.parent_path());
  if (!config.ok()) return Status(config.status().code(), path.string() + ": " + config.status().message());
  return config;
}

Result<int64_t> ParseByteSize(std::string_view text) {
  const std::string s(text);
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(s, &used);
  } catch (const std::exception&) {
    return Status::InvalidArgument("'" + s + "' is not a size (bytes, or a number with KiB, MiB, GiB, KB, MB, GB)");
  }
  std::string unit = s.substr(used);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1},          {"B", 1},         {"K", 1024.0},        {"KiB", 1024.0},     {"M", 1048576.0},
      {"MiB", 1048576.0}, {"G", 1073741824.0}, {"GiB", 1073741824.0}, {"T", 1099511627776.0},
      {"TiB", 1099511627776.0}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}};
  for (const auto& [name, scale] : kUnits) {
    if (unit != name) continue;
    const double bytes = value * scale;
    if (!std::isfinite(bytes) || bytes < 0 || bytes >= 9.2e18)
      return Status::OutOfRange("'" + s + "' is not a size between 0 and 8 EiB");
    if (bytes != std::floor(bytes)) return Status::InvalidArgument("'" + s + "' is not a whole number of bytes");
    return static_cast<int64_t>(bytes);
  }
  return Status::InvalidArgument("'" + s + "' has an unknown unit (use KiB, MiB, GiB, TiB, KB, MB, GB or TB)");
}

}  // namespace strata::coe
