#include "model/jinja/parser.h"

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>

#include "model/jinja/expression_parser.h"

namespace strata::jinja {

namespace {

constexpr int kMaxBlockNesting = 100;

// Tags jinja2 knows but this renderer does not implement: reported as unsupported rather than unknown.
constexpr std::string_view kUnsupportedTags[] = {"include", "extends", "block",      "import", "from",  "call",
                                                 "filter",  "with",    "autoescape", "do",     "trans", "print"};

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : ts_(tokens), exprs_(ts_) {}

  Result<Body> Run() {
    std::string stop;
    STRATA_ASSIGN_OR_RETURN(Body body, ParseBody({}, &stop, ts_.Peek()));
    return body;
  }

 private:
  // Parses nodes until a block tag whose name is in `stops` (its name goes to *stopped_at, with the tag's
  // `{%` and name consumed) or, when `stops` is empty, the end of the template.
  Result<Body> ParseBody(std::initializer_list<std::string_view> stops, std::string* stopped_at,
                         const Token& opener) {
    if (++nesting_ > kMaxBlockNesting) return TokenStream::SyntaxError(opener, "blocks nested too deeply");
    Body body;
    while (true) {
      const Token& t = ts_.Peek();
      if (t.kind == TokenKind::kEnd) {
        --nesting_;
        if (stops.size() == 0) return body;
        return TokenStream::SyntaxError(
            opener, "'{% " + opener.text + " %}' is never closed (expected '{% " + std::string(*(stops.end() - 1)) +
                        " %}' before the end of the template)");
      }
      if (t.kind == TokenKind::kText) {
        auto node = MakeNode(Node::Kind::kText, t);
        node->text = ts_.Next().text;
        body.push_back(std::move(node));
        continue;
      }
      if (t.kind == TokenKind::kExprBegin) {
        ts_.Next();
        auto node = MakeNode(Node::Kind::kOutput, t);
        STRATA_ASSIGN_OR_RETURN(ExprPtr e, exprs_.ParseExpression());
        node->exprs.push_back(std::move(e));
        STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kExprEnd));
        body.push_back(std::move(node));
        continue;
      }
      if (t.kind != TokenKind::kBlockBegin) return TokenStream::SyntaxError(t, "unexpected " + TokenStream::Describe(t));
      const Token& name = ts_.Peek(1);
      if (name.kind == TokenKind::kName &&
          std::find(stops.begin(), stops.end(), std::string_view(name.text)) != stops.end()) {
        ts_.Next();
        *stopped_at = ts_.Next().text;
        --nesting_;
        return body;
      }
      STRATA_ASSIGN_OR_RETURN(NodePtr node, ParseStatement());
      if (node) body.push_back(std::move(node));
    }
  }

  static NodePtr MakeNode(Node::Kind kind, const Token& at) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->pos = at.pos;
    return n;
  }

  Status ExpectEnd(TokenKind kind) {
    const Token& t = ts_.Peek();
    if (t.kind == kind) {
      ts_.Next();
      return Status::Ok();
    }
    return TokenStream::SyntaxError(t, std::string("expected '") + (kind == TokenKind::kExprEnd ? "}}" : "%}") +
                                           "', found " + TokenStream::Describe(t));
  }

  // After `{%`: dispatches on the tag name. Returns null for tags that produce no node.
  Result<NodePtr> ParseStatement() {
    ts_.Next();  // {%
    const Token& tag = ts_.Next();
    if (tag.kind != TokenKind::kName) return TokenStream::SyntaxError(tag, "expected a tag name after '{%'");
    const std::string& name = tag.text;
    if (name == "if") return ParseIf(tag);
    if (name == "for") return ParseFor(tag);
    if (name == "set") return ParseSet(tag);
    if (name == "macro") return ParseMacro(tag);
    if (name == "generation") return ParseGeneration(tag);
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) return TokenStream::SyntaxError(tag, "'" + name + "' is only allowed inside a for loop");
      STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kBlockEnd));
      return MakeNode(name == "break" ? Node::Kind::kBreak : Node::Kind::kContinue, tag);
    }
    for (std::string_view unsupported : kUnsupportedTags)
      if (name == unsupported) return TokenStream::Unsupported(tag, "the tag '{% " + name + " %}'");
    return TokenStream::SyntaxError(tag, "unexpected tag '{% " + name + " %}'");
  }

  Result<NodePtr> ParseIf(const Token& tag) {
    auto node = MakeNode(Node::Kind::kIf, tag);
    const Token* opener = &tag;
    while (true) {
      STRATA_ASSIGN_OR_RETURN(ExprPtr cond, exprs_.ParseExpression());
      node->exprs.push_back(std::move(cond));
      STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kBlockEnd));
      std::string stop;
      STRATA_ASSIGN_OR_RETURN(Body body, ParseBody({"elif", "else", "endif"}, &stop, *opener));
      node->bodies.push_back(std::move(body));
      if (stop == "elif") continue;
      if (stop == "else") {
        STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kBlockEnd));
        STRATA_ASSIGN_OR_RETURN(Body else_body, ParseBody({"endif"}, &stop, *opener));
        node->bodies.push_back(std::move(else_body));
      }
      STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kBlockEnd));
      return node;
    }
  }

  // Loop variables: `x`, `k, v` or `(k, v)`, ended by `in`.
  Result<std::vector<std::string>> ParseTargets() {
    std::vector<std::string> names;
    bool parens = ts_.SkipOp("(");
    do {
      if (parens && ts_.IsOp(")")) break;
      STRATA_ASSIGN_OR_RETURN(std::string n, ts_.ExpectName("a variable name"));
      names.push_back(std::move(n));
    } while (ts_.SkipOp(","));
    if (parens) STRATA_RETURN_IF_ERROR(ts_.ExpectOp(")"));
    return names;
  }

  Result<NodePtr> ParseFor(const Token& tag) {
    auto node = MakeNode(Node::Kind::kFor, tag);
    STRATA_ASSIGN_OR_RETURN(node->names, ParseTargets());
    if (!ts_.SkipName("in")) return TokenStream::SyntaxError(ts_.Peek(), "expected 'in' in for loop");
    STRATA_ASSIGN_OR_RETURN(ExprPtr iterable, exprs_.ParseNoCondition());
    node->exprs.push_back(std::move(iterable));
    if (ts_.SkipName("if")) {
      STRATA_ASSIGN_OR_RETURN(ExprPtr filter, exprs_.ParseExpression());
      node->exprs.push_back(std::move(filter));
    }
    if (ts_.IsName("recursive")) return TokenStream::Unsupported(ts_.Peek(), "a recursive for loop");
    STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kBlockEnd));
    ++loop_depth_;
    std::string stop;
    auto body = ParseBody({"else", "endfor"}, &stop, tag);
    --loop_depth_;
    if (!body.ok()) return body.status();
    node->bodies.push_back(std::move(body).value());
    Body else_body;
    if (stop == "else") {
      STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kBlockEnd));
      STRATA_ASSIGN_OR_RETURN(else_body, ParseBody({"endfor"}, &stop, tag));
    }
    node->bodies.push_back(std::move(else_body));
    STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kBlockEnd));
    return node;
  }

  Result<NodePtr> ParseSet(const Token& tag) {
    auto node = MakeNode(Node::Kind::kSet, tag);
    STRATA_ASSIGN_OR_RETURN(std::string first, ts_.ExpectName("a variable name after 'set'"));
    node->names.push_back(std::move(first));
    if (ts_.SkipOp(".")) {
      STRATA_ASSIGN_OR_RETURN(node->attr, ts_.ExpectName("an attribute name"));
    } else {
      while (ts_.SkipOp(",")) {
        STRATA_ASSIGN_OR_RETURN(std::string n, ts_.ExpectName("a variable name"));
        node->names.push_back(std::move(n));
      }
    }
    if (ts_.Peek().kind == TokenKind::kBlockEnd && node->attr.empty() && node->names.size() == 1) {
      ts_.Next();  // {% set x %}...{% endset %}
      node->kind = Node::Kind::kSetBlock;
      std::string stop;
      STRATA_ASSIGN_OR_RETURN(Body body, ParseBody({"endset"}, &stop, tag));
      node->bodies.push_back(std::move(body));
      STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kBlockEnd));
      return node;
    }
    if (ts_.IsOp("|")) return TokenStream::Unsupported(ts_.Peek(), "a filtered set block");
    STRATA_RETURN_IF_ERROR(ts_.ExpectOp("="));
    STRATA_ASSIGN_OR_RETURN(ExprPtr value, exprs_.ParseTupleOrExpression());
    node->exprs.push_back(std::move(value));
    STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kBlockEnd));
    return node;
  }

  Result<NodePtr> ParseMacro(const Token& tag) {
    auto node = MakeNode(Node::Kind::kMacro, tag);
    STRATA_ASSIGN_OR_RETURN(node->text, ts_.ExpectName("a macro name"));
    STRATA_RETURN_IF_ERROR(ts_.ExpectOp("("));
    while (!ts_.SkipOp(")")) {
      if (!node->names.empty()) STRATA_RETURN_IF_ERROR(ts_.ExpectOp(","));
      if (ts_.SkipOp(")")) break;
      STRATA_ASSIGN_OR_RETURN(std::string param, ts_.ExpectName("a parameter name"));
      node->names.push_back(std::move(param));
      ExprPtr default_value;
      if (ts_.SkipOp("=")) {
        STRATA_ASSIGN_OR_RETURN(default_value, exprs_.ParseExpression());
      }
      node->exprs.push_back(std::move(default_value));
    }
    STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kBlockEnd));
    int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;  // break/continue cannot reach a loop outside the macro
    std::string stop;
    auto body = ParseBody({"endmacro"}, &stop, tag);
    loop_depth_ = saved_loop_depth;
    if (!body.ok()) return body.status();
    node->bodies.push_back(std::move(body).value());
    if (ts_.Peek().kind == TokenKind::kName && ts_.Peek().text == node->text) ts_.Next();
    STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kBlockEnd));
    return node;
  }

  // Hugging Face's {% generation %} marks assistant text for training masks; rendering ignores it, so its
  // body is parsed as if the tags were not there (wrapped in an always-true if to keep one node).
  Result<NodePtr> ParseGeneration(const Token& tag) {
    STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kBlockEnd));
    std::string stop;
    STRATA_ASSIGN_OR_RETURN(Body body, ParseBody({"endgeneration"}, &stop, tag));
    STRATA_RETURN_IF_ERROR(ExpectEnd(TokenKind::kBlockEnd));
    auto node = MakeNode(Node::Kind::kIf, tag);
    auto always = std::make_unique<Expr>();
    always->literal = Value::Bool(true);
    always->pos = tag.pos;
    node->exprs.push_back(std::move(always));
    node->bodies.push_back(std::move(body));
    return node;
  }

  TokenStream ts_;
  ExpressionParser exprs_;
  int nesting_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Result<Body> ParseTemplate(const std::vector<Token>& tokens) { return Parser(tokens).Run(); }

}  // namespace strata::jinja
