// The syntax tree the parser builds and the evaluator walks. Plain structs with a kind tag and generic child
// slots: the templates are small and one layout for every kind keeps the parser and evaluator short.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/jinja/lexer.h"
#include "model/jinja/value.h"

namespace strata::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,    // literal
    kName,       // name
    kList,       // children: items (tuples are lists too)
    kDict,       // children: key, value, key, value, ...
    kGetAttr,    // children[0].name
    kGetItem,    // children[0][children[1]]
    kSlice,      // children[0][children[1]:children[2]:children[3]], absent parts null
    kCall,       // children[0](children[1..], kwargs)
    kFilter,     // children[0] | name(children[1..], kwargs)
    kTest,       // children[0] is [not] name(children[1..]); negated
    kUnary,      // name ("not", "-", "+") applied to children[0]
    kBinary,     // children[0] name children[1]; name is the operator ("+", "~", "and", "or", ...)
    kCompare,    // children[0] ops[0] children[1] ops[1] ...; ops are "==", "<", "in", "not in", ...
    kCondition,  // children[1] if children[0] else children[2] (children[2] null: undefined)
  };
  Kind kind = Kind::kLiteral;
  SourcePos pos;
  std::string name;
  Value literal;
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
  bool negated = false;
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  enum class Kind {
    kText,      // text
    kOutput,    // {{ exprs[0] }}
    kIf,        // if exprs[i]: bodies[i] ... else: bodies[exprs.size()] when present
    kFor,       // for names in exprs[0] [if exprs[1]]: bodies[0], else bodies[1]
    kSet,       // set names (or name.attr when attr is set) = exprs[0]
    kSetBlock,  // set names[0] = rendered bodies[0]
    kMacro,     // macro text(names...) with defaults exprs (null when none): bodies[0]
    kBreak,
    kContinue,
  };
  Kind kind = Kind::kText;
  SourcePos pos;
  std::string text;
  std::string attr;
  std::vector<std::string> names;
  std::vector<ExprPtr> exprs;
  std::vector<Body> bodies;
};

}  // namespace strata::jinja
