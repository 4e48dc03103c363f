// Recursive-descent parser for Jinja expressions, with jinja2's precedence: conditional `a if c else b`,
// or, and, not, comparisons / in, + -, ~, * / // %, **, unary - +, then filters `|f`, tests `is t`, calls,
// attributes and subscripts. TokenStream is the cursor both this and the statement parser read from.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/jinja/ast.h"
#include "model/jinja/lexer.h"

namespace strata::jinja {

class TokenStream {
 public:
  explicit TokenStream(const std::vector<Token>& tokens) : tokens_(tokens) {}

  const Token& Peek(size_t ahead = 0) const;
  const Token& Next();
  bool IsOp(std::string_view op) const;
  bool IsName(std::string_view name) const;
  bool SkipOp(std::string_view op);
  bool SkipName(std::string_view name);
  Status ExpectOp(std::string_view op);
  Result<std::string> ExpectName(std::string_view what);

  // A kInvalidArgument error naming the position of `at` ("...syntax error at line 2, column 7: ...").
  static Status SyntaxError(const Token& at, const std::string& message);
  // A kUnsupported error for a construct this renderer does not implement.
  static Status Unsupported(const Token& at, const std::string& construct);
  // How a token is quoted in an error message.
  static std::string Describe(const Token& t);

 private:
  const std::vector<Token>& tokens_;
  size_t pos_ = 0;
};

class ExpressionParser {
 public:
  explicit ExpressionParser(TokenStream& tokens) : ts_(tokens) {}

  // A full expression, including `a if c else b`.
  Result<ExprPtr> ParseExpression();
  // An expression without a trailing `if` (the iterable of `for x in xs if cond`).
  Result<ExprPtr> ParseNoCondition();
  // `a, b, c` (a tuple, held as a list) or a single expression, as `set x = ...` accepts.
  Result<ExprPtr> ParseTupleOrExpression();

 private:
  Result<ExprPtr> ParseCondition();
  Result<ExprPtr> ParseOr();
  Result<ExprPtr> ParseAnd();
  Result<ExprPtr> ParseNot();
  Result<ExprPtr> ParseCompare();
  Result<ExprPtr> ParseAdditive();
  Result<ExprPtr> ParseConcat();
  Result<ExprPtr> ParseMultiplicative();
  Result<ExprPtr> ParsePower();
  Result<ExprPtr> ParseUnary(bool with_filters);
  Result<ExprPtr> ParsePrimary();
  Result<ExprPtr> ParseParenthesized(const Token& open);
  Result<ExprPtr> ParseListLiteral(const Token& open);
  Result<ExprPtr> ParseDictLiteral(const Token& open);
  Result<ExprPtr> ParsePostfix(ExprPtr node);
  Result<ExprPtr> ParseCall(ExprPtr node, const Token& t);
  Result<ExprPtr> ParseSubscript(ExprPtr node, const Token& open);
  Result<ExprPtr> ParseFilterChain(ExprPtr node);
  Result<ExprPtr> ParseTest(ExprPtr node, const Token& is_token);
  Status ParseCallArgs(Expr& call);

  TokenStream& ts_;
  int depth_ = 0;  // nesting guard: a deeply nested expression is an error, not a stack overflow
};

}  // namespace strata::jinja
