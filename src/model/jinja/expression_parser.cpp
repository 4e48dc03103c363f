#include "model/jinja/expression_parser.h"

#include "model/jinja/filters.h"
#include "model/jinja/tests.h"

namespace strata::jinja {

namespace {

constexpr int kMaxNesting = 200;

ExprPtr MakeExpr(Expr::Kind kind, SourcePos pos, std::string name = "") {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->pos = pos;
  e->name = std::move(name);
  return e;
}

ExprPtr MakeBinary(std::string op, ExprPtr lhs, ExprPtr rhs, SourcePos pos) {
  auto e = MakeExpr(Expr::Kind::kBinary, pos, std::move(op));
  e->children.push_back(std::move(lhs));
  e->children.push_back(std::move(rhs));
  return e;
}

ExprPtr MakeLiteral(Value v, SourcePos pos) {
  auto e = MakeExpr(Expr::Kind::kLiteral, pos);
  e->literal = std::move(v);
  return e;
}

}  // namespace

// ---- TokenStream ----

const Token& TokenStream::Peek(size_t ahead) const {
  size_t i = pos_ + ahead;
  return i < tokens_.size() ? tokens_[i] : tokens_.back();  // the last token is always kEnd
}

const Token& TokenStream::Next() {
  const Token& t = Peek();
  if (pos_ + 1 < tokens_.size()) ++pos_;
  return t;
}

bool TokenStream::IsOp(std::string_view op) const {
  return Peek().kind == TokenKind::kOperator && Peek().text == op;
}

bool TokenStream::IsName(std::string_view name) const {
  return Peek().kind == TokenKind::kName && Peek().text == name;
}

bool TokenStream::SkipOp(std::string_view op) {
  if (!IsOp(op)) return false;
  Next();
  return true;
}

bool TokenStream::SkipName(std::string_view name) {
  if (!IsName(name)) return false;
  Next();
  return true;
}

Status TokenStream::ExpectOp(std::string_view op) {
  if (SkipOp(op)) return Status::Ok();
  return SyntaxError(Peek(), "expected '" + std::string(op) + "', found " + Describe(Peek()));
}

Result<std::string> TokenStream::ExpectName(std::string_view what) {
  if (Peek().kind != TokenKind::kName)
    return SyntaxError(Peek(), "expected " + std::string(what) + ", found " + Describe(Peek()));
  return Next().text;
}

Status TokenStream::SyntaxError(const Token& at, const std::string& message) {
  return Status::InvalidArgument("chat template syntax error at " + FormatPos(at.pos) + ": " + message);
}

Status TokenStream::Unsupported(const Token& at, const std::string& construct) {
  return Status::Unsupported("chat template uses " + construct + " at " + FormatPos(at.pos) +
                             ", which this renderer does not support");
}

std::string TokenStream::Describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::kText: return "template text";
    case TokenKind::kExprBegin: return "'{{'";
    case TokenKind::kExprEnd: return "'}}'";
    case TokenKind::kBlockBegin: return "'{%'";
    case TokenKind::kBlockEnd: return "'%}'";
    case TokenKind::kEnd: return "end of template";
    case TokenKind::kString: return "string literal";
    default: return "'" + t.text + "'";
  }
}

// ---- ExpressionParser ----

Result<ExprPtr> ExpressionParser::ParseExpression() {
  if (++depth_ > kMaxNesting) return TokenStream::SyntaxError(ts_.Peek(), "expression nested too deeply");
  auto result = ParseCondition();
  --depth_;
  return result;
}

Result<ExprPtr> ExpressionParser::ParseNoCondition() { return ParseOr(); }

Result<ExprPtr> ExpressionParser::ParseTupleOrExpression() {
  SourcePos pos = ts_.Peek().pos;
  STRATA_ASSIGN_OR_RETURN(ExprPtr first, ParseExpression());
  if (!ts_.IsOp(",")) return first;
  auto tuple = MakeExpr(Expr::Kind::kList, pos);
  tuple->children.push_back(std::move(first));
  while (ts_.SkipOp(",")) {
    if (ts_.Peek().kind == TokenKind::kBlockEnd) break;
    STRATA_ASSIGN_OR_RETURN(ExprPtr item, ParseExpression());
    tuple->children.push_back(std::move(item));
  }
  return tuple;
}

Result<ExprPtr> ExpressionParser::ParseCondition() {
  STRATA_ASSIGN_OR_RETURN(ExprPtr node, ParseOr());
  while (ts_.IsName("if")) {
    SourcePos pos = ts_.Next().pos;
    STRATA_ASSIGN_OR_RETURN(ExprPtr cond, ParseOr());
    ExprPtr otherwise;
    if (ts_.SkipName("else")) {
      STRATA_ASSIGN_OR_RETURN(otherwise, ParseCondition());
    }
    auto e = MakeExpr(Expr::Kind::kCondition, pos);
    e->children.push_back(std::move(cond));
    e->children.push_back(std::move(node));
    e->children.push_back(std::move(otherwise));
    node = std::move(e);
  }
  return node;
}

Result<ExprPtr> ExpressionParser::ParseOr() {
  STRATA_ASSIGN_OR_RETURN(ExprPtr node, ParseAnd());
  while (ts_.IsName("or")) {
    SourcePos pos = ts_.Next().pos;
    STRATA_ASSIGN_OR_RETURN(ExprPtr rhs, ParseAnd());
    node = MakeBinary("or", std::move(node), std::move(rhs), pos);
  }
  return node;
}

Result<ExprPtr> ExpressionParser::ParseAnd() {
  STRATA_ASSIGN_OR_RETURN(ExprPtr node, ParseNot());
  while (ts_.IsName("and")) {
    SourcePos pos = ts_.Next().pos;
    STRATA_ASSIGN_OR_RETURN(ExprPtr rhs, ParseNot());
    node = MakeBinary("and", std::move(node), std::move(rhs), pos);
  }
  return node;
}

Result<ExprPtr> ExpressionParser::ParseNot() {
  if (!ts_.IsName("not")) return ParseCompare();
  SourcePos pos = ts_.Next().pos;
  if (++depth_ > kMaxNesting) return TokenStream::SyntaxError(ts_.Peek(), "expression nested too deeply");
  auto operand = ParseNot();
  --depth_;
  if (!operand.ok()) return operand.status();
  auto e = MakeExpr(Expr::Kind::kUnary, pos, "not");
  e->children.push_back(std::move(operand).value());
  return e;
}

// Comparisons chain as in Python: a < b < c means (a < b) and (b < c), each operand evaluated once.
Result<ExprPtr> ExpressionParser::ParseCompare() {
  SourcePos start = ts_.Peek().pos;
  STRATA_ASSIGN_OR_RETURN(ExprPtr first, ParseAdditive());
  ExprPtr compare;
  while (true) {
    std::string op;
    const Token& t = ts_.Peek();
    if (t.kind == TokenKind::kOperator &&
        (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">=")) {
      op = ts_.Next().text;
    } else if (ts_.SkipName("in")) {
      op = "in";
    } else if (ts_.IsName("not") && ts_.Peek(1).kind == TokenKind::kName && ts_.Peek(1).text == "in") {
      op = "not in";
      ts_.Next();
      ts_.Next();
    } else {
      break;
    }
    if (!compare) {
      compare = MakeExpr(Expr::Kind::kCompare, start);
      compare->children.push_back(std::move(first));
    }
    STRATA_ASSIGN_OR_RETURN(ExprPtr rhs, ParseAdditive());
    compare->ops.push_back(std::move(op));
    compare->children.push_back(std::move(rhs));
  }
  return compare ? std::move(compare) : std::move(first);
}

Result<ExprPtr> ExpressionParser::ParseAdditive() {
  STRATA_ASSIGN_OR_RETURN(ExprPtr node, ParseConcat());
  while (ts_.IsOp("+") || ts_.IsOp("-")) {
    const Token& op = ts_.Next();
    STRATA_ASSIGN_OR_RETURN(ExprPtr rhs, ParseConcat());
    node = MakeBinary(op.text, std::move(node), std::move(rhs), op.pos);
  }
  return node;
}

Result<ExprPtr> ExpressionParser::ParseConcat() {
  STRATA_ASSIGN_OR_RETURN(ExprPtr node, ParseMultiplicative());
  while (ts_.IsOp("~")) {
    const Token& op = ts_.Next();
    STRATA_ASSIGN_OR_RETURN(ExprPtr rhs, ParseMultiplicative());
    node = MakeBinary("~", std::move(node), std::move(rhs), op.pos);
  }
  return node;
}

Result<ExprPtr> ExpressionParser::ParseMultiplicative() {
  STRATA_ASSIGN_OR_RETURN(ExprPtr node, ParsePower());
  while (ts_.IsOp("*") || ts_.IsOp("/") || ts_.IsOp("//") || ts_.IsOp("%")) {
    const Token& op = ts_.Next();
    STRATA_ASSIGN_OR_RETURN(ExprPtr rhs, ParsePower());
    node = MakeBinary(op.text, std::move(node), std::move(rhs), op.pos);
  }
  return node;
}

Result<ExprPtr> ExpressionParser::ParsePower() {
  STRATA_ASSIGN_OR_RETURN(ExprPtr node, ParseUnary(true));
  while (ts_.IsOp("**")) {
    const Token& op = ts_.Next();
    STRATA_ASSIGN_OR_RETURN(ExprPtr rhs, ParseUnary(true));
    node = MakeBinary("**", std::move(node), std::move(rhs), op.pos);
  }
  return node;
}

// As in jinja2, a unary minus binds tighter than filters: `-x|abs` is abs(-x).
Result<ExprPtr> ExpressionParser::ParseUnary(bool with_filters) {
  if (++depth_ > kMaxNesting) return TokenStream::SyntaxError(ts_.Peek(), "expression nested too deeply");
  ExprPtr node;
  if (ts_.IsOp("-") || ts_.IsOp("+")) {
    const Token& op = ts_.Next();
    auto operand = ParseUnary(false);
    if (!operand.ok()) return operand.status();
    node = MakeExpr(Expr::Kind::kUnary, op.pos, op.text);
    node->children.push_back(std::move(operand).value());
  } else {
    auto primary = ParsePrimary();
    if (!primary.ok()) return primary.status();
    node = std::move(primary).value();
  }
  --depth_;
  STRATA_ASSIGN_OR_RETURN(node, ParsePostfix(std::move(node)));
  if (with_filters) return ParseFilterChain(std::move(node));
  return node;
}

Result<ExprPtr> ExpressionParser::ParsePrimary() {
  const Token& t = ts_.Next();
  switch (t.kind) {
    case TokenKind::kName:
      if (t.text == "true" || t.text == "True") return MakeLiteral(Value::Bool(true), t.pos);
      if (t.text == "false" || t.text == "False") return MakeLiteral(Value::Bool(false), t.pos);
      if (t.text == "none" || t.text == "None") return MakeLiteral(Value::None(), t.pos);
      return MakeExpr(Expr::Kind::kName, t.pos, t.text);
    case TokenKind::kString: {
      std::string s = t.text;  // adjacent literals concatenate, as in Python
      while (ts_.Peek().kind == TokenKind::kString) s += ts_.Next().text;
      return MakeLiteral(Value::String(std::move(s)), t.pos);
    }
    case TokenKind::kInt: return MakeLiteral(Value::Int(t.int_value), t.pos);
    case TokenKind::kFloat: return MakeLiteral(Value::Float(t.float_value), t.pos);
    case TokenKind::kOperator:
      if (t.text == "(") return ParseParenthesized(t);
      if (t.text == "[") return ParseListLiteral(t);
      if (t.text == "{") return ParseDictLiteral(t);
      break;
    default: break;
  }
  return TokenStream::SyntaxError(t, "unexpected " + TokenStream::Describe(t) + " in expression");
}

Result<ExprPtr> ExpressionParser::ParseParenthesized(const Token& open) {
  if (ts_.SkipOp(")")) return MakeExpr(Expr::Kind::kList, open.pos);  // () is an empty tuple
  STRATA_ASSIGN_OR_RETURN(ExprPtr first, ParseExpression());
  if (ts_.SkipOp(")")) return first;
  auto tuple = MakeExpr(Expr::Kind::kList, open.pos);
  tuple->children.push_back(std::move(first));
  while (ts_.SkipOp(",")) {
    if (ts_.IsOp(")")) break;
    STRATA_ASSIGN_OR_RETURN(ExprPtr item, ParseExpression());
    tuple->children.push_back(std::move(item));
  }
  STRATA_RETURN_IF_ERROR(ts_.ExpectOp(")"));
  return tuple;
}

Result<ExprPtr> ExpressionParser::ParseListLiteral(const Token& open) {
  auto list = MakeExpr(Expr::Kind::kList, open.pos);
  while (!ts_.IsOp("]")) {
    if (!list->children.empty()) {
      STRATA_RETURN_IF_ERROR(ts_.ExpectOp(","));
      if (ts_.IsOp("]")) break;
    }
    STRATA_ASSIGN_OR_RETURN(ExprPtr item, ParseExpression());
    list->children.push_back(std::move(item));
  }
  ts_.Next();
  return list;
}

Result<ExprPtr> ExpressionParser::ParseDictLiteral(const Token& open) {
  auto dict = MakeExpr(Expr::Kind::kDict, open.pos);
  while (!ts_.IsOp("}")) {
    if (!dict->children.empty()) {
      STRATA_RETURN_IF_ERROR(ts_.ExpectOp(","));
      if (ts_.IsOp("}")) break;
    }
    STRATA_ASSIGN_OR_RETURN(ExprPtr key, ParseExpression());
    STRATA_RETURN_IF_ERROR(ts_.ExpectOp(":"));
    STRATA_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
    dict->children.push_back(std::move(key));
    dict->children.push_back(std::move(value));
  }
  ts_.Next();
  return dict;
}

Result<ExprPtr> ExpressionParser::ParsePostfix(ExprPtr node) {
  while (true) {
    const Token& t = ts_.Peek();
    if (ts_.IsOp(".")) {
      ts_.Next();
      const Token& attr = ts_.Next();
      if (attr.kind == TokenKind::kName) {
        auto e = MakeExpr(Expr::Kind::kGetAttr, t.pos, attr.text);
        e->children.push_back(std::move(node));
        node = std::move(e);
      } else if (attr.kind == TokenKind::kInt) {  // x.0 is x[0]
        auto e = MakeExpr(Expr::Kind::kGetItem, t.pos);
        e->children.push_back(std::move(node));
        e->children.push_back(MakeLiteral(Value::Int(attr.int_value), attr.pos));
        node = std::move(e);
      } else {
        return TokenStream::SyntaxError(attr, "expected an attribute name after '.'");
      }
    } else if (ts_.IsOp("[")) {
      ts_.Next();
      STRATA_ASSIGN_OR_RETURN(node, ParseSubscript(std::move(node), t));
    } else if (ts_.IsOp("(")) {
      ts_.Next();
      STRATA_ASSIGN_OR_RETURN(node, ParseCall(std::move(node), t));
    } else {
      return node;
    }
  }
}

// `node(args)`, the '(' already consumed.
Result<ExprPtr> ExpressionParser::ParseCall(ExprPtr node, const Token& t) {
  auto call = MakeExpr(Expr::Kind::kCall, t.pos);
  call->children.push_back(std::move(node));
  STRATA_RETURN_IF_ERROR(ParseCallArgs(*call));
  return call;
}

Result<ExprPtr> ExpressionParser::ParseSubscript(ExprPtr node, const Token& open) {
  ExprPtr parts[3];
  int colons = 0;
  while (!ts_.IsOp("]")) {
    if (ts_.SkipOp(":")) {
      if (++colons > 2) return TokenStream::SyntaxError(ts_.Peek(), "too many ':' in slice");
      continue;
    }
    if (parts[colons]) return TokenStream::SyntaxError(ts_.Peek(), "expected ']' or ':' in subscript");
    STRATA_ASSIGN_OR_RETURN(parts[colons], ParseExpression());
  }
  ts_.Next();
  if (colons == 0) {
    if (!parts[0]) return TokenStream::SyntaxError(open, "empty subscript");
    auto e = MakeExpr(Expr::Kind::kGetItem, open.pos);
    e->children.push_back(std::move(node));
    e->children.push_back(std::move(parts[0]));
    return e;
  }
  auto e = MakeExpr(Expr::Kind::kSlice, open.pos);
  e->children.push_back(std::move(node));
  for (auto& p : parts) e->children.push_back(std::move(p));
  return e;
}

Result<ExprPtr> ExpressionParser::ParseFilterChain(ExprPtr node) {
  while (true) {
    const Token& t = ts_.Peek();
    if (ts_.IsOp("|")) {
      ts_.Next();
      const Token& name_token = ts_.Peek();
      STRATA_ASSIGN_OR_RETURN(std::string name, ts_.ExpectName("a filter name after '|'"));
      if (!IsKnownFilter(name)) return TokenStream::Unsupported(name_token, "the filter '" + name + "'");
      auto e = MakeExpr(Expr::Kind::kFilter, name_token.pos, name);
      e->children.push_back(std::move(node));
      if (ts_.SkipOp("(")) STRATA_RETURN_IF_ERROR(ParseCallArgs(*e));
      node = std::move(e);
    } else if (ts_.IsName("is")) {
      ts_.Next();
      STRATA_ASSIGN_OR_RETURN(node, ParseTest(std::move(node), t));
    } else if (ts_.IsOp("(")) {
      ts_.Next();
      STRATA_ASSIGN_OR_RETURN(node, ParseCall(std::move(node), t));
    } else {
      return node;
    }
  }
}

// `x is [not] name`, `x is name(args)` or `x is name arg` (one bare argument, as jinja2 allows).
Result<ExprPtr> ExpressionParser::ParseTest(ExprPtr node, const Token& is_token) {
  bool negated = ts_.SkipName("not");
  const Token& name_token = ts_.Peek();
  std::string name;
  if (name_token.kind == TokenKind::kName) {
    name = ts_.Next().text;
  } else if (name_token.kind == TokenKind::kOperator &&
             (name_token.text == "==" || name_token.text == "!=" || name_token.text == "<" ||
              name_token.text == "<=" || name_token.text == ">" || name_token.text == ">=")) {
    name = ts_.Next().text;
  } else {
    return TokenStream::SyntaxError(name_token, "expected a test name after 'is'");
  }
  if (!IsKnownTest(name)) return TokenStream::Unsupported(name_token, "the test '" + name + "'");
  auto e = MakeExpr(Expr::Kind::kTest, is_token.pos, name);
  e->negated = negated;
  e->children.push_back(std::move(node));
  const Token& next = ts_.Peek();
  if (ts_.SkipOp("(")) {
    STRATA_RETURN_IF_ERROR(ParseCallArgs(*e));
  } else if ((next.kind == TokenKind::kName || next.kind == TokenKind::kString || next.kind == TokenKind::kInt ||
              next.kind == TokenKind::kFloat || ts_.IsOp("[") || ts_.IsOp("{")) &&
             !ts_.IsName("else") && !ts_.IsName("or") && !ts_.IsName("and")) {
    if (ts_.IsName("is")) return TokenStream::SyntaxError(next, "tests cannot be chained with 'is'");
    STRATA_ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary());
    STRATA_ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
    e->children.push_back(std::move(arg));
  }
  return e;
}

// After '(': positional and name=value arguments up to ')'.
Status ExpressionParser::ParseCallArgs(Expr& call) {
  bool first = true;
  while (!ts_.IsOp(")")) {
    if (!first) {
      STRATA_RETURN_IF_ERROR(ts_.ExpectOp(","));
      if (ts_.IsOp(")")) break;
    }
    first = false;
    if (ts_.IsOp("*") || ts_.IsOp("**")) return TokenStream::Unsupported(ts_.Peek(), "*args / **kwargs in a call");
    if (ts_.Peek().kind == TokenKind::kName && ts_.Peek(1).kind == TokenKind::kOperator && ts_.Peek(1).text == "=") {
      std::string key = ts_.Next().text;
      ts_.Next();
      STRATA_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
      call.kwargs.emplace_back(std::move(key), std::move(value));
      continue;
    }
    if (!call.kwargs.empty())
      return TokenStream::SyntaxError(ts_.Peek(), "positional argument follows keyword argument");
    STRATA_ASSIGN_OR_RETURN(ExprPtr arg, ParseExpression());
    call.children.push_back(std::move(arg));
  }
  ts_.Next();
  return Status::Ok();
}

}  // namespace strata::jinja
