// Structured output: a JSON Schema subset (or "any JSON object") compiled into an immutable graph of grammar
// nodes that a JsonMatcher (json_matcher.h) follows byte by byte and ComputeTokenMask (token_mask.h) turns into
// a mask over the vocabulary, so a model can only write documents that parse and validate.
//
// Supported: type object (properties in schema order, required, optional keys skippable, additionalProperties
// false/true/schema; with properties only the listed keys are written), string (minLength, maxLength), integer,
// number, boolean, null, array (items, minItems, maxItems), enum / const of any JSON value, anyOf / oneOf
// (oneOf is treated as anyOf), type lists (["string","null"]), $ref to #, #/$defs/... and #/definitions/...
// (recursive refs too), and the free-form {"type":"json_object"} (any object, values of any type).
//
// Choices: at most one space (' ', nothing else) between the tokens of the JSON structure, none before or
// after the document, so a model cannot stall in blanks and output starts with its value; numbers have at most 15 digits per part and 2
// exponent digits (always a finite double); strings are strict JSON (escapes, \uXXXX outside the surrogates,
// well-formed UTF-8); nesting is limited to 32 open containers; enum/const values must be written exactly
// as nlohmann::json dumps them (compact, raw UTF-8). minimum / maximum / exclusiveMinimum / exclusiveMaximum
// on an "integer" or "number" type constrain the digits written (number_range.h: a bounded number has no
// exponent and at most 18 digits); without a numeric type they give kUnsupported. Not enforced: format,
// title/description-like annotations. Keywords that would change which values are valid and that are not
// enforced (pattern, multipleOf, allOf, not, if, uniqueItems, ...) give kUnsupported. A schema with no finite
// document (e.g. {"$ref": "#"}) or with no number in a range is kInvalidArgument; alternatives and optional
// parts with no finite value are dropped (min_len says which).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "engine/number_range.h"

namespace strata {

// Compiled, immutable grammar for one response_format; shared between requests (and threads).
class JsonGrammar {
 public:
  enum class Kind : uint8_t { kAny, kObject, kArray, kString, kNumber, kInteger, kLiterals, kAnyOf };
  struct Property {
    int32_t key = -1;  // literal index of the quoted key
    int32_t value = -1;
    bool required = false;
  };
  struct Node {
    Kind kind = Kind::kAny;
    std::vector<Property> props;  // kObject with properties
    bool free_keys = false;       // kObject without properties: any keys, values of `item`
    int32_t item = -1;            // kArray items / free object values
    int64_t min = 0, max = -1;    // array items or string length (-1: unbounded)
    NumberRange range;            // kInteger / kNumber bounds
    std::vector<int32_t> alts;    // kLiterals: literal indices; kAnyOf: nodes
  };

  // {"type": "json_object"}: any JSON object.
  static Result<std::shared_ptr<const JsonGrammar>> AnyObject();
  // {"type": "json_schema"}: the schema's subset described above; unsupported keywords give kUnsupported,
  // malformed ones kInvalidArgument, both naming the keyword. ordered_json keeps the schema's property order.
  static Result<std::shared_ptr<const JsonGrammar>> FromSchema(const nlohmann::ordered_json& schema);

  static constexpr int64_t kNoDocument = kNumberNoFinish;  // min_len of a node with no finite value

  const Node& node(int32_t i) const { return nodes_[static_cast<size_t>(i)]; }
  // Fewest bytes of any value of node i (e.g. 2 for an object with no required keys): what closing an
  // unfinished document costs, so generation can be steered to finish within its token budget.
  int64_t min_len(int32_t i) const { return min_len_[static_cast<size_t>(i)]; }
  // Bytes of the required properties of object node i from property index `next` on, with their commas.
  int64_t RequiredRest(int32_t i, int32_t next, bool leading_comma) const;
  // An upper bound on how much one byte can raise the bytes still needed to complete a document: lets the
  // budgeted mask skip that computation for tokens that cannot reach the budget.
  int64_t max_rise_per_byte() const { return max_rise_per_byte_; }
  const std::string& literal(int32_t i) const { return literals_[static_cast<size_t>(i)]; }
  int32_t root() const { return root_; }
  int32_t any() const { return any_; }
  int32_t any_string() const { return any_string_; }
  int32_t any_number() const { return any_number_; }
  int32_t json_keywords() const { return keywords_; }
  int32_t any_object() const { return any_object_; }
  int32_t any_array() const { return any_array_; }

 private:
  friend class SchemaCompiler;
  int32_t Add(Node n);
  int32_t AddLiteral(std::string s);
  void AddBuiltins();
  void ComputeMinLengths();
  void DropEndlessParts();

  std::vector<Node> nodes_;
  std::vector<int64_t> min_len_;
  int64_t max_rise_per_byte_ = 0;
  std::vector<std::string> literals_;
  int32_t root_ = -1, any_ = -1, any_string_ = -1, any_number_ = -1, keywords_ = -1, any_object_ = -1, any_array_ = -1;
};

}  // namespace strata
