#include "model/jinja/evaluator.h"

#include <algorithm>
#include <unordered_map>

#include "model/jinja/filters.h"
#include "model/jinja/globals.h"
#include "model/jinja/methods.h"
#include "model/jinja/operators.h"
#include "model/jinja/tests.h"

namespace strata::jinja {

namespace {

constexpr int64_t kMaxLoopIterations = 1 << 18;  // over the whole render; real templates need ~messages + tools
constexpr int kMaxCallDepth = 50;                // nested macro calls

Status WithPos(SourcePos pos, const Status& st) {
  return Status(st.code(), "chat template error at " + FormatPos(pos) + ": " + st.message());
}

template <class T>
Result<T> WithPos(SourcePos pos, Result<T> r) {
  if (r.ok()) return r;
  return WithPos(pos, r.status());
}

class Evaluator {
 public:
  explicit Evaluator(ValueDict variables) {
    AddBuiltinGlobals(variables);
    scopes_.emplace_back();
    for (auto& [k, v] : variables.items) scopes_[0][k] = std::move(v);
  }

  Result<std::string> Render(const Body& body) {
    STRATA_RETURN_IF_ERROR(ExecBody(body));
    return std::move(out_);
  }

 private:
  enum class Control { kNone, kBreak, kContinue };
  using Scope = std::unordered_map<std::string, Value>;

  // ---- scopes ----

  Value Lookup(const std::string& name) const {
    for (size_t i = scopes_.size(); i-- > frame_base_;) {
      auto it = scopes_[i].find(name);
      if (it != scopes_[i].end()) return it->second;
    }
    auto it = scopes_[0].find(name);  // a macro body still sees the template's globals
    return it != scopes_[0].end() ? it->second : Value::Undefined(name);
  }

  void Assign(const std::string& name, Value v) { scopes_.back()[name] = std::move(v); }

  // Pushes a scope for the lifetime of the guard.
  struct ScopeGuard {
    explicit ScopeGuard(std::vector<Scope>& s) : scopes(s) { scopes.emplace_back(); }
    ~ScopeGuard() { scopes.pop_back(); }
    std::vector<Scope>& scopes;
  };

  // ---- statements ----

  Status ExecBody(const Body& body) {
    for (const NodePtr& node : body) {
      STRATA_RETURN_IF_ERROR(Exec(*node));
      if (control_ != Control::kNone) break;
    }
    return Status::Ok();
  }

  Status Exec(const Node& node) {
    switch (node.kind) {
      case Node::Kind::kText: return Append(node.text, node.pos);
      case Node::Kind::kOutput: {
        STRATA_ASSIGN_OR_RETURN(Value v, Eval(*node.exprs[0]));
        return Append(v.ToString(), node.pos);
      }
      case Node::Kind::kIf:
        for (size_t i = 0; i < node.exprs.size(); ++i) {
          STRATA_ASSIGN_OR_RETURN(Value cond, Eval(*node.exprs[i]));
          if (cond.Truthy()) return ExecBody(node.bodies[i]);
        }
        return node.bodies.size() > node.exprs.size() ? ExecBody(node.bodies.back()) : Status::Ok();
      case Node::Kind::kFor: return ExecFor(node);
      case Node::Kind::kSet: return ExecSet(node);
      case Node::Kind::kSetBlock: {
        std::string saved = std::move(out_);
        out_.clear();
        Status st = ExecBody(node.bodies[0]);
        std::string rendered = std::move(out_);
        out_ = std::move(saved);
        STRATA_RETURN_IF_ERROR(st);
        Assign(node.names[0], Value::String(std::move(rendered)));
        return Status::Ok();
      }
      case Node::Kind::kMacro: Assign(node.text, MakeMacro(node)); return Status::Ok();
      case Node::Kind::kBreak: control_ = Control::kBreak; return Status::Ok();
      case Node::Kind::kContinue: control_ = Control::kContinue; return Status::Ok();
    }
    return Status::Internal("unknown template node");
  }

  Status Append(const std::string& text, SourcePos pos) {
    if (out_.size() + text.size() > kMaxStringBytes)
      return WithPos(pos, Status::InvalidArgument("rendered output exceeds the size limit"));
    out_ += text;
    return Status::Ok();
  }

  // Binds loop variables: one name takes the item, several unpack it.
  Status BindTargets(const std::vector<std::string>& names, const Value& item, SourcePos pos) {
    if (names.size() == 1) {
      Assign(names[0], item);
      return Status::Ok();
    }
    auto parts = Iterate(item);
    if (!parts.ok()) return WithPos(pos, parts.status());
    if (parts->size() != names.size())
      return WithPos(pos, Status::InvalidArgument("cannot unpack " + std::to_string(parts->size()) +
                                                  " values into " + std::to_string(names.size()) + " names"));
    for (size_t i = 0; i < names.size(); ++i) Assign(names[i], (*parts)[i]);
    return Status::Ok();
  }

  // A loop's `if` filter runs before the loop so loop.length and loop.last count only kept items.
  Result<ValueList> LoopItems(const Node& node) {
    STRATA_ASSIGN_OR_RETURN(Value iterable, Eval(*node.exprs[0]));
    STRATA_ASSIGN_OR_RETURN(ValueList items, WithPos(node.pos, Iterate(iterable)));
    if (node.exprs.size() < 2) return items;
    ValueList kept;
    for (const Value& item : items) {
      ScopeGuard scope(scopes_);
      STRATA_RETURN_IF_ERROR(BindTargets(node.names, item, node.pos));
      STRATA_ASSIGN_OR_RETURN(Value keep, Eval(*node.exprs[1]));
      if (keep.Truthy()) kept.push_back(item);
    }
    return kept;
  }

  static Value LoopObject(const ValueList& items, size_t i) {
    int64_t n = static_cast<int64_t>(items.size()), k = static_cast<int64_t>(i);
    ValueDict loop;
    loop.items = {{"index", Value::Int(k + 1)},
                  {"index0", Value::Int(k)},
                  {"revindex", Value::Int(n - k)},
                  {"revindex0", Value::Int(n - k - 1)},
                  {"first", Value::Bool(k == 0)},
                  {"last", Value::Bool(k == n - 1)},
                  {"length", Value::Int(n)},
                  {"depth", Value::Int(1)},
                  {"depth0", Value::Int(0)},
                  {"previtem", k > 0 ? items[i - 1] : Value::Undefined("previtem")},
                  {"nextitem", k + 1 < n ? items[i + 1] : Value::Undefined("nextitem")}};
    return Value::Dict(std::move(loop));
  }

  Status ExecFor(const Node& node) {
    STRATA_ASSIGN_OR_RETURN(ValueList items, LoopItems(node));
    for (size_t i = 0; i < items.size(); ++i) {
      if (++iterations_ > kMaxLoopIterations)
        return WithPos(node.pos, Status::InvalidArgument("template exceeds the loop iteration limit"));
      ScopeGuard scope(scopes_);  // each iteration starts from the enclosing scope, as in jinja2
      Assign("loop", LoopObject(items, i));
      STRATA_RETURN_IF_ERROR(BindTargets(node.names, items[i], node.pos));
      STRATA_RETURN_IF_ERROR(ExecBody(node.bodies[0]));
      Control c = control_;
      control_ = Control::kNone;
      if (c == Control::kBreak) break;
    }
    if (items.empty()) return ExecBody(node.bodies[1]);
    return Status::Ok();
  }

  Status ExecSet(const Node& node) {
    STRATA_ASSIGN_OR_RETURN(Value v, Eval(*node.exprs[0]));
    if (!node.attr.empty()) {
      Value target = Lookup(node.names[0]);
      if (!target.is_dict() || !target.dict().is_namespace)
        return WithPos(node.pos, Status::InvalidArgument("cannot assign attribute '" + node.attr + "' on '" +
                                                         node.names[0] + "': it is not a namespace()"));
      target.mutable_dict().Set(node.attr, std::move(v));
      return Status::Ok();
    }
    return BindTargets(node.names, v, node.pos);
  }

  Value MakeMacro(const Node& node) {
    return Value::Func(node.text, [this, &node](CallArgs& args) { return CallMacro(node, args); });
  }

  Result<Value> CallMacro(const Node& node, CallArgs& args) {
    if (call_depth_ >= kMaxCallDepth)
      return Status::InvalidArgument("macro '" + node.text + "' recursed too deeply");
    if (args.positional.size() > node.names.size())
      return Status::InvalidArgument("macro '" + node.text + "' takes " + std::to_string(node.names.size()) +
                                     " argument(s), " + std::to_string(args.positional.size()) + " given");
    size_t saved_base = frame_base_;
    std::string saved_out = std::move(out_);
    out_.clear();
    frame_base_ = scopes_.size();
    ++call_depth_;
    Status st = BindMacroArgs(node, args);
    if (st.ok()) st = ExecBody(node.bodies[0]);
    --call_depth_;
    scopes_.pop_back();
    frame_base_ = saved_base;
    control_ = Control::kNone;
    std::string rendered = std::move(out_);
    out_ = std::move(saved_out);
    STRATA_RETURN_IF_ERROR(st);
    return Value::String(std::move(rendered));
  }

  // Pushes the macro's scope (popped by CallMacro) and binds parameters: positional, then keyword, then
  // defaults evaluated in the macro's scope; a parameter with none stays undefined.
  Status BindMacroArgs(const Node& node, CallArgs& args) {
    scopes_.emplace_back();
    for (const auto& [key, value] : args.keyword)
      if (std::find(node.names.begin(), node.names.end(), key) == node.names.end())
        return Status::InvalidArgument("macro '" + node.text + "' has no parameter named '" + key + "'");
    for (size_t i = 0; i < node.names.size(); ++i) {
      Value v = Value::Undefined(node.names[i]);
      bool given = i < args.positional.size();
      if (given) v = args.positional[i];
      for (const auto& [key, value] : args.keyword)
        if (key == node.names[i]) v = value, given = true;
      if (!given && node.exprs[i]) {
        STRATA_ASSIGN_OR_RETURN(v, Eval(*node.exprs[i]));
      }
      Assign(node.names[i], std::move(v));
    }
    return Status::Ok();
  }

  // ---- expressions ----

  Result<Value> Eval(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kLiteral: return e.literal;
      case Expr::Kind::kName: return Lookup(e.name);
      case Expr::Kind::kList: {
        ValueList items;
        for (const ExprPtr& c : e.children) {
          STRATA_ASSIGN_OR_RETURN(Value v, Eval(*c));
          items.push_back(std::move(v));
        }
        return Value::List(std::move(items));
      }
      case Expr::Kind::kDict: return EvalDict(e);
      case Expr::Kind::kGetAttr: {
        STRATA_ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0]));
        return WithPos(e.pos, GetAttr(obj, e.name));
      }
      case Expr::Kind::kGetItem: {
        STRATA_ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0]));
        STRATA_ASSIGN_OR_RETURN(Value key, Eval(*e.children[1]));
        return WithPos(e.pos, GetItem(obj, key));
      }
      case Expr::Kind::kSlice: {
        Value parts[4];
        for (size_t i = 0; i < 4; ++i)
          if (e.children[i]) {
            STRATA_ASSIGN_OR_RETURN(parts[i], Eval(*e.children[i]));
          }
        return WithPos(e.pos, Slice(parts[0], parts[1], parts[2], parts[3]));
      }
      case Expr::Kind::kCall: return EvalCall(e);
      case Expr::Kind::kFilter: {
        STRATA_ASSIGN_OR_RETURN(Value operand, Eval(*e.children[0]));
        STRATA_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
        return WithPos(e.pos, ApplyFilter(e.name, operand, args));
      }
      case Expr::Kind::kTest: {
        STRATA_ASSIGN_OR_RETURN(Value operand, Eval(*e.children[0]));
        STRATA_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
        STRATA_ASSIGN_OR_RETURN(bool pass, WithPos(e.pos, ApplyTest(e.name, operand, args)));
        return Value::Bool(pass != e.negated);
      }
      case Expr::Kind::kUnary: return EvalUnary(e);
      case Expr::Kind::kBinary: return EvalBinary(e);
      case Expr::Kind::kCompare: return EvalCompare(e);
      case Expr::Kind::kCondition: {
        STRATA_ASSIGN_OR_RETURN(Value cond, Eval(*e.children[0]));
        if (cond.Truthy()) return Eval(*e.children[1]);
        return e.children[2] ? Eval(*e.children[2]) : Value::Undefined();
      }
    }
    return Status::Internal("unknown expression kind");
  }

  Result<Value> EvalDict(const Expr& e) {
    ValueDict dict;
    for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
      STRATA_ASSIGN_OR_RETURN(Value key, Eval(*e.children[i]));
      STRATA_ASSIGN_OR_RETURN(Value value, Eval(*e.children[i + 1]));
      if (!key.is_string())
        return WithPos(e.children[i]->pos, Status::Unsupported("dict keys other than strings are not supported"));
      dict.Set(key.str(), std::move(value));
    }
    return Value::Dict(std::move(dict));
  }

  Result<CallArgs> EvalArgs(const Expr& e, size_t first) {
    CallArgs args;
    for (size_t i = first; i < e.children.size(); ++i) {
      STRATA_ASSIGN_OR_RETURN(Value v, Eval(*e.children[i]));
      args.positional.push_back(std::move(v));
    }
    for (const auto& [key, expr] : e.kwargs) {
      STRATA_ASSIGN_OR_RETURN(Value v, Eval(*expr));
      args.keyword.emplace_back(key, std::move(v));
    }
    return args;
  }

  // obj.method(...) calls a str/dict method; anything else must evaluate to a function.
  Result<Value> EvalCall(const Expr& e) {
    const Expr& callee_expr = *e.children[0];
    Value callee;
    if (callee_expr.kind == Expr::Kind::kGetAttr) {
      STRATA_ASSIGN_OR_RETURN(Value obj, Eval(*callee_expr.children[0]));
      if (HasMethod(obj, callee_expr.name)) {
        STRATA_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
        return WithPos(e.pos, CallMethod(obj, callee_expr.name, args));
      }
      STRATA_ASSIGN_OR_RETURN(callee, WithPos(callee_expr.pos, GetAttr(obj, callee_expr.name)));
    } else {
      STRATA_ASSIGN_OR_RETURN(callee, Eval(callee_expr));
    }
    if (callee.is_undefined()) return WithPos(e.pos, UndefinedError(callee));
    if (!callee.is_function())
      return WithPos(e.pos, Status::InvalidArgument(std::string("'") + callee.TypeName() + "' object is not callable"));
    STRATA_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
    Result<Value> result = callee.function().call(args);
    // raise_exception's message is the template author's text for the user: passed on unchanged.
    if (!result.ok() && callee.function().name == "raise_exception") return result;
    return WithPos(e.pos, std::move(result));
  }

  Result<Value> EvalUnary(const Expr& e) {
    STRATA_ASSIGN_OR_RETURN(Value v, Eval(*e.children[0]));
    if (e.name == "not") return Value::Bool(!v.Truthy());
    if (v.is_undefined()) return WithPos(e.pos, UndefinedError(v));
    if (!v.is_number())
      return WithPos(e.pos, Status::InvalidArgument("bad operand type for unary " + e.name + ": '" + v.TypeName() + "'"));
    if (e.name == "+") return v.is_float() ? v : Value::Int(v.int_value());
    if (v.is_float()) return Value::Float(-v.number_value());
    if (v.int_value() == INT64_MIN) return WithPos(e.pos, Status::InvalidArgument("integer overflow"));
    return Value::Int(-v.int_value());
  }

  // `and` / `or` short-circuit and yield an operand, as in Python.
  Result<Value> EvalBinary(const Expr& e) {
    STRATA_ASSIGN_OR_RETURN(Value lhs, Eval(*e.children[0]));
    if (e.name == "and" && !lhs.Truthy()) return lhs;
    if (e.name == "or" && lhs.Truthy()) return lhs;
    STRATA_ASSIGN_OR_RETURN(Value rhs, Eval(*e.children[1]));
    if (e.name == "and" || e.name == "or") return rhs;
    return WithPos(e.pos, BinaryOp(e.name, lhs, rhs));
  }

  Result<Value> EvalCompare(const Expr& e) {
    STRATA_ASSIGN_OR_RETURN(Value lhs, Eval(*e.children[0]));
    for (size_t i = 0; i < e.ops.size(); ++i) {
      STRATA_ASSIGN_OR_RETURN(Value rhs, Eval(*e.children[i + 1]));
      STRATA_ASSIGN_OR_RETURN(bool holds, WithPos(e.children[i + 1]->pos, CompareOp(e.ops[i], lhs, rhs)));
      if (!holds) return Value::Bool(false);
      lhs = std::move(rhs);
    }
    return Value::Bool(true);
  }

  std::vector<Scope> scopes_;
  size_t frame_base_ = 0;  // scopes below this index (except the globals) belong to a macro's caller
  std::string out_;
  Control control_ = Control::kNone;
  int64_t iterations_ = 0;
  int call_depth_ = 0;
};

}  // namespace

Result<std::string> RenderTemplate(const Body& body, ValueDict variables) {
  return Evaluator(std::move(variables)).Render(body);
}

}  // namespace strata::jinja
