// The scaffold compiler (fast path). Line for line the algorithm of edgeagent/scaffold/reference.py:
// the same order of checks, the same error pointers and reasons.
#include "scaffold.hpp"

#include <algorithm>

namespace edgeagent {

using json::Kind;
using json::Value;

namespace {

const char* kUnsupported[] = {"allOf", "not", "if", "then", "else", "patternProperties", "dependentSchemas",
                              "dependentRequired", "dependencies", "prefixItems", "contains",
                              "unevaluatedProperties", "unevaluatedItems", "propertyNames", "additionalItems",
                              "$dynamicRef", "$recursiveRef"};
const char* kStructural[] = {"type", "properties", "items", "enum", "const", "anyOf", "oneOf", "required",
                             "additionalProperties"};
const char* kTypes[] = {"string", "integer", "number", "boolean", "null", "object", "array"};
constexpr int kMaxDepth = 32;

template <size_t N>
bool in(const char* (&list)[N], const std::string& s) {
  for (auto* x : list)
    if (s == x) return true;
  return false;
}

bool is_slot_kind(const std::string& k) { return k == "string" || k == "integer" || k == "number" || k == "json"; }

std::string esc_ptr(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  size_t i = 0;
  while ((i = s.find(from, i)) != std::string::npos) {
    s.replace(i, from.size(), to);
    i += to.size();
  }
  return s;
}

Value make_bool(bool b) {
  Value v;
  v.kind = Kind::Bool;
  v.b = b;
  return v;
}

NodeP make(const std::string& kind, const std::string& sp) {
  auto n = std::make_shared<Node>();
  n->kind = kind;
  n->sp = sp;
  return n;
}

void dedupe_into(std::vector<Value>& out, const std::vector<Value>& values) {
  for (auto& v : values) {
    bool seen = false;
    for (auto& w : out)
      if (json::equal(v, w)) { seen = true; break; }
    if (!seen) out.push_back(v);
  }
}

bool can_be_empty(const Node& n) {
  if (n.kind == "string" || n.kind == "const" || n.kind == "array") return true;
  if (n.kind == "object") {
    for (auto& [key, child, req] : n.props)
      if (req && !can_be_empty(*child)) return false;
    return true;
  }
  if (n.kind == "nullable") return can_be_empty(*n.inner);
  return false;
}

// Whether a json node holds free-form JSON (an object without properties, an array without items).
bool is_free(const Node& n) {
  for (auto& t : n.types)
    if (t == "object" || t == "array") return true;
  return false;
}

std::string budget_key(const Node& n) { return n.kind == "json" && is_free(n) ? "free" : n.kind; }

bool json_matches(const Node& n, const Value& v) {
  for (auto& t : n.types) {
    if (t == "string" && v.kind == Kind::String) return true;
    if (t == "number" && v.kind == Kind::Number) return true;
    if (t == "integer" && v.kind == Kind::Number && json::integer_text(v.s)) return true;
    if (t == "object" && v.kind == Kind::Object) return true;
    if (t == "array" && v.kind == Kind::Array) return true;
  }
  for (auto& c : n.values)
    if (json::equal(v, c)) return true;
  return false;
}

class Normalizer {
 public:
  explicit Normalizer(const Value& root) : root_(root) {}

  NodeP norm(const Value& s, const std::string& sp, std::vector<std::string> stack, int depth) {
    if (depth > kMaxDepth)
      throw SchemaError(sp, "the schema nests deeper than " + std::to_string(kMaxDepth) + " levels");
    if (s.kind != Kind::Object) throw SchemaError(sp, "a schema must be a JSON object");
    for (auto& kv : s.obj)
      if (in(kUnsupported, kv.first))
        throw SchemaError(sp + "/" + esc_ptr(kv.first), "'" + kv.first + "' is not supported by the scaffold compiler");
    if (const Value* ref = s.get("$ref")) {
      if (ref->kind != Kind::String) throw SchemaError(sp + "/$ref", "$ref must be a string");
      for (auto& kv : s.obj)
        if (in(kStructural, kv.first))
          throw SchemaError(sp + "/" + esc_ptr(kv.first), "'" + kv.first + "' beside $ref is not supported");
      std::string target_ptr;
      const Value& target = resolve(ref->s, sp + "/$ref", target_ptr);
      if (std::find(stack.begin(), stack.end(), target_ptr) != stack.end())
        throw SchemaError(sp + "/$ref", "'" + ref->s + "' is recursive; recursive schemas cannot be scaffolded");
      stack.push_back(target_ptr);
      return norm(target, target_ptr, stack, depth + 1);
    }
    NodeP node = norm_inner(s, sp, stack, depth);
    const Value* d = s.get("default");
    if (d && (node->kind == "string" || node->kind == "integer" || node->kind == "number" || node->kind == "choice" ||
              node->kind == "json"))
      node->default_text = json::dumps(*d);
    return node;
  }

 private:
  const Value& root_;

  const Value& resolve(const std::string& ref, const std::string& sp, std::string& target_ptr) {
    if (ref.empty() || ref[0] != '#')
      throw SchemaError(sp, "only references within the document ('#/$defs/Name') are supported");
    target_ptr = ref.substr(1);
    if (!target_ptr.empty() && target_ptr[0] != '/')
      throw SchemaError(sp, "'" + ref + "' is not a JSON pointer reference");
    const Value* node = &root_;
    size_t i = 0;
    while (i < target_ptr.size()) {
      size_t j = target_ptr.find('/', i + 1);
      if (j == std::string::npos) j = target_ptr.size();
      std::string key = replace_all(replace_all(target_ptr.substr(i + 1, j - i - 1), "~1", "/"), "~0", "~");
      i = j;
      const Value* next = nullptr;
      if (node->kind == Kind::Object) {
        next = node->get(key);
      } else if (node->kind == Kind::Array && !key.empty() &&
                 key.find_first_not_of("0123456789") == std::string::npos) {
        size_t idx = 0;
        for (char c : key) idx = std::min<size_t>(idx * 10 + size_t(c - '0'), size_t(1) << 40);
        if (idx < node->arr.size()) next = &node->arr[idx];
      }
      if (!next) throw SchemaError(sp, "'" + ref + "' does not resolve in this document");
      node = next;
    }
    return *node;
  }

  NodeP norm_inner(const Value& s, const std::string& sp, const std::vector<std::string>& stack, int depth) {
    if (s.has("anyOf") || s.has("oneOf")) return norm_union(s, sp, stack, depth);
    if (const Value* c = s.get("const")) {
      NodeP n = make("const", sp);
      n->value = *c;
      return n;
    }
    if (const Value* e = s.get("enum")) {
      if (e->kind != Kind::Array || e->arr.empty()) throw SchemaError(sp + "/enum", "enum must be a non-empty array");
      for (size_t i = 0; i < e->arr.size(); i++)
        if (e->arr[i].kind == Kind::Array || e->arr[i].kind == Kind::Object)
          throw SchemaError(sp + "/enum/" + std::to_string(i), "enum values must be scalars (string, number, boolean, null)");
      NodeP n = make("choice", sp);
      dedupe_into(n->values, e->arr);
      return n;
    }
    const Value* t = s.get("type");
    std::vector<std::string> types;
    if (!t) {
      if (s.has("properties")) types = {"object"};
      else if (s.has("items")) types = {"array"};
      else throw SchemaError(sp, "no 'type': a schema that accepts any value cannot be scaffolded");
    } else if (t->kind == Kind::String) {
      if (!in(kTypes, t->s)) throw SchemaError(sp + "/type", "unknown type '" + t->s + "'");
      types = {t->s};
    } else if (t->kind == Kind::Array && !t->arr.empty()) {
      for (size_t i = 0; i < t->arr.size(); i++) {
        const Value& x = t->arr[i];
        if (x.kind != Kind::String || !in(kTypes, x.s))
          throw SchemaError(sp + "/type/" + std::to_string(i),
                            "must be one of string, integer, number, boolean, null, object, array");
        if (std::find(types.begin(), types.end(), x.s) == types.end()) types.push_back(x.s);
      }
    } else {
      throw SchemaError(sp + "/type", "type must be a type name or a non-empty array of type names");
    }
    std::vector<std::string> rest;
    for (auto& x : types)
      if (x != "null") rest.push_back(x);
    bool nullable = rest.size() < types.size();
    if (rest.empty()) return make("const", sp);
    if (rest.size() > 1) {
      bool compound = false, boolean = false;
      for (auto& x : rest) {
        compound |= x == "object" || x == "array";
        boolean |= x == "boolean";
      }
      if (compound) throw SchemaError(sp + "/type", "a union of object or array with other types is not supported");
      NodeP n = make("json", sp);
      for (auto& x : rest)
        if (x != "boolean") n->types.push_back(x);
      if (boolean) {
        n->values.push_back(make_bool(true));
        n->values.push_back(make_bool(false));
      }
      if (nullable) n->values.push_back(Value());
      return n;
    }
    NodeP base = build(rest[0], s, sp, stack, depth);
    if (!nullable) return base;
    if (base->kind == "object" || base->kind == "array") {
      NodeP n = make("nullable", sp);
      n->inner = base;
      return n;
    }
    if (base->kind == "choice" || base->kind == "json") {
      base->values.push_back(Value());
      return base;
    }
    NodeP n = make("json", sp);
    n->types = {base->kind};
    n->values = {Value()};
    return n;
  }

  NodeP norm_union(const Value& s, const std::string& sp, const std::vector<std::string>& stack, int depth) {
    if (s.has("anyOf") && s.has("oneOf")) throw SchemaError(sp + "/oneOf", "anyOf together with oneOf is not supported");
    std::string kw = s.has("anyOf") ? "anyOf" : "oneOf";
    const Value& branches = *s.get(kw);
    if (branches.kind != Kind::Array || branches.arr.empty())
      throw SchemaError(sp + "/" + kw, kw + " must be a non-empty array of schemas");
    for (const char* key : {"type", "enum", "const", "properties", "items"})
      if (s.has(key)) throw SchemaError(sp + "/" + key, std::string("'") + key + "' beside " + kw + " is not supported");
    std::vector<NodeP> nodes;
    for (size_t i = 0; i < branches.arr.size(); i++)
      nodes.push_back(norm(branches.arr[i], sp + "/" + kw + "/" + std::to_string(i), stack, depth + 1));
    if (nodes.size() == 1) return nodes[0];
    bool any_null = false;
    std::vector<size_t> compound;
    for (size_t i = 0; i < nodes.size(); i++) {
      any_null |= nodes[i]->kind == "const" && nodes[i]->value.kind == Kind::Null;
      if (nodes[i]->kind == "object" || nodes[i]->kind == "array" || nodes[i]->kind == "nullable") compound.push_back(i);
    }
    if (!compound.empty()) {
      if (nodes.size() == 2 && any_null) {
        NodeP inner = nodes[compound[0]];
        if (inner->kind == "nullable") return inner;
        NodeP n = make("nullable", sp);
        n->inner = inner;
        return n;
      }
      throw SchemaError(sp + "/" + kw + "/" + std::to_string(compound[0]),
                        kw + " branches must be scalar (an object or array is allowed only beside null)");
    }
    std::vector<std::string> types;
    std::vector<Value> values;
    auto add_type = [&](const std::string& t) {
      if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
    };
    for (size_t i = 0; i < nodes.size(); i++) {
      const Node& n = *nodes[i];
      if (n.kind == "string" || n.kind == "integer" || n.kind == "number") {
        add_type(n.kind);
      } else if (n.kind == "choice") {
        values.insert(values.end(), n.values.begin(), n.values.end());
      } else if (n.kind == "const") {
        if (n.value.kind == Kind::Array || n.value.kind == Kind::Object)
          throw SchemaError(sp + "/" + kw + "/" + std::to_string(i), kw + " branches must be scalar");
        values.push_back(n.value);
      } else {
        for (auto& t : n.types) add_type(t);
        values.insert(values.end(), n.values.begin(), n.values.end());
      }
    }
    NodeP n = make(types.empty() ? "choice" : "json", sp);
    n->types = types;
    dedupe_into(n->values, values);
    return n;
  }

  NodeP build(const std::string& t, const Value& s, const std::string& sp, const std::vector<std::string>& stack,
              int depth) {
    if (t == "string" || t == "integer" || t == "number") return make(t, sp);
    if (t == "boolean") {
      NodeP n = make("choice", sp);
      n->values = {make_bool(true), make_bool(false)};
      return n;
    }
    if (t == "object") {
      const Value* props = s.get("properties");
      if (props && props->kind != Kind::Object) throw SchemaError(sp + "/properties", "properties must be an object");
      const Value* ap = s.get("additionalProperties");
      if (ap) {
        if (ap->kind == Kind::Object && !ap->obj.empty() && props)
          throw SchemaError(sp + "/additionalProperties",
                            "a schema for extra keys is not supported (free-form keys cannot be scaffolded)");
        if (ap->kind != Kind::Bool && ap->kind != Kind::Object)
          throw SchemaError(sp + "/additionalProperties", "must be a boolean or a schema");
      }
      Value empty_props;
      empty_props.kind = Kind::Object;
      if (!props) {
        if (!(ap && ap->kind == Kind::Bool && !ap->b)) {
          NodeP n = make("json", sp);  // free-form keys: one slot of JSON text
          n->types = {"object"};
          return n;
        }
        props = &empty_props;
      }
      std::vector<std::string> required;
      if (const Value* r = s.get("required")) {
        if (r->kind != Kind::Array) throw SchemaError(sp + "/required", "required must be an array of property names");
        for (size_t i = 0; i < r->arr.size(); i++) {
          if (r->arr[i].kind != Kind::String)
            throw SchemaError(sp + "/required/" + std::to_string(i), "must be a property name (a string)");
          if (!props->has(r->arr[i].s))
            throw SchemaError(sp + "/required/" + std::to_string(i), "'" + r->arr[i].s + "' is not in properties");
          required.push_back(r->arr[i].s);
        }
      }
      NodeP n = make("object", sp);
      for (auto& [key, sub] : props->obj) {
        NodeP child = norm(sub, sp + "/properties/" + esc_ptr(key), stack, depth + 1);
        bool req = std::find(required.begin(), required.end(), key) != required.end();
        n->props.emplace_back(key, child, req);
      }
      return n;
    }
    const Value* items = s.get("items");
    if (!items) {
      NodeP n = make("json", sp);  // items of any type: one slot of JSON text
      n->types = {"array"};
      return n;
    }
    if (items->kind == Kind::Array) throw SchemaError(sp + "/items", "tuple 'items' (an array of schemas) is not supported");
    int64_t max_items = -1;
    if (const Value* m = s.get("maxItems")) {
      if (m->kind != Kind::Number || !json::is_integer(m->s) || m->s[0] == '-')
        throw SchemaError(sp + "/maxItems", "maxItems must be a non-negative integer");
      max_items = 0;
      for (char c : m->s) max_items = std::min<int64_t>(max_items * 10 + (c - '0'), int64_t(1) << 40);
    }
    NodeP n = make("array", sp);
    n->item = norm(*items, sp + "/items", stack, depth + 1);
    n->max_items = max_items;
    return n;
  }
};

}  // namespace

bool Vocab::allowed(const std::string& kind, const std::string& b) const {
  if (b.empty()) return false;
  if (kind == "integer") return b.find_first_not_of("0123456789-") == std::string::npos;
  if (kind == "number") return b.find_first_not_of("0123456789-+.eE") == std::string::npos;
  for (unsigned char c : b)
    if (c < 0x20) return false;
  if (kind == "string") {
    for (size_t i = 0; i < b.size(); i++) {
      if (b[i] != '"') continue;
      size_t run = 0;
      while (run < i && b[i - run - 1] == '\\') run++;
      if (run % 2 == 0) return false;
    }
  }
  return true;
}

std::string Vocab::class_mask(const std::string& kind) const {
  std::string out(bytes_.size() + 2, '\0');
  for (size_t i = 0; i < bytes_.size(); i++) out[i] = allowed(kind, bytes_[i]) ? 1 : 0;
  out[bytes_.size()] = 1;
  return out;
}

Scaffold::Scaffold(const std::string& schema_text, const std::map<std::string, int64_t>& budgets,
                   const std::map<std::string, int64_t>& pointer_budgets, int64_t max_len,
                   std::shared_ptr<const Vocab> vocab, const TokenizeFn& tokenize_literals)
    : vocab_(std::move(vocab)), budgets_(budgets), pointer_budgets_(pointer_budgets), max_len_(max_len) {
  null_ = vocab_->size();
  mask_ = null_ + 1;
  for (const char* k : {"string", "integer", "number", "json", "free", "array_items"})
    if (!budgets_.count(k)) throw std::invalid_argument(std::string("missing budget ") + k);
  Value schema;
  try {
    schema = json::parse(schema_text);
  } catch (const json::ParseError&) {
    throw SchemaError("", "the schema is not valid JSON");
  }
  NodeP root = Normalizer(schema).norm(schema, "", {""}, 0);
  if (root->kind != "object") throw SchemaError("", "the parameters schema must be an object with properties");
  root_ = emit(root, "", true);
  flush();
  assemble(tokenize_literals);
}

void Scaffold::flush() {
  if (pending_.empty()) return;
  segments_.push_back({false, pending_, -1});
  lower_bound_ += 1;
  pending_.clear();
}

std::string Scaffold::too_long() const {
  return "the scaffold needs more than max_len=" + std::to_string(max_len_) +
         " positions; lower the budgets (array_items=, string=, ...) or raise max_len";
}

int64_t Scaffold::add_slot(const std::string& kind, const std::string& ptr, const std::string& sp, bool required,
                           std::vector<std::string> choices, std::optional<std::string> default_text,
                           const std::string& budget_key) {
  flush();
  int64_t budget = 0;
  if (is_slot_kind(kind)) {
    auto it = pointer_budgets_.find(ptr);
    budget = it != pointer_budgets_.end() ? it->second : budgets_.at(budget_key.empty() ? kind : budget_key);
  }
  Slot s;
  s.pointer = ptr;
  s.schema_pointer = sp;
  s.kind = kind;
  s.budget = budget;
  s.required = required;
  s.choice_texts = std::move(choices);
  s.default_text = std::move(default_text);
  slots_.push_back(std::move(s));
  int64_t index = int64_t(slots_.size()) - 1;
  segments_.push_back({true, "", index});
  lower_bound_ += is_slot_kind(kind) ? budget : 1;
  if (lower_bound_ > max_len_) throw SchemaError("", too_long());
  return index;
}

std::unique_ptr<Inst> Scaffold::emit(const NodeP& node, const std::string& ptr, bool required) {
  auto inst = std::make_unique<Inst>();
  inst->node = node;
  inst->ptr = ptr;
  inst->first = int64_t(slots_.size());
  const std::string& k = node->kind;
  if (k == "object") {
    lit("{");
    for (size_t i = 0; i < node->props.size(); i++) {
      auto& [key, child, req] = node->props[i];
      if (i) lit(", ");
      lit("\"" + json::escape(key) + "\": ");
      inst->children.emplace_back(key, member(child, ptr + "/" + esc_ptr(key), !req), req);
    }
    lit("}");
  } else if (k == "array") {
    auto it = pointer_budgets_.find(ptr);
    int64_t n = it != pointer_budgets_.end() ? it->second : budgets_.at("array_items");
    if (node->max_items >= 0) n = std::min(n, node->max_items);
    lit("[");
    for (int64_t i = 0; i < n; i++) {
      if (i) lit(", ");
      inst->children.emplace_back("", member(node->item, ptr + "/" + std::to_string(i), true), false);
    }
    lit("]");
  } else if (k == "string") {
    lit("\"");
    inst->slot = add_slot("string", ptr, node->sp, required, {}, node->default_text);
    lit("\"");
  } else if (k == "integer" || k == "number" || k == "json") {
    inst->slot = add_slot(k, ptr, node->sp, required, {}, node->default_text, budget_key(*node));
  } else if (k == "choice") {
    std::vector<std::string> texts;
    for (auto& v : node->values) texts.push_back(json::dumps(v));
    inst->slot = add_slot("choice", ptr, node->sp, required, texts, node->default_text);
  } else if (k == "const") {
    lit(json::dumps(node->value));
  } else {
    inst->slot = add_slot("null", ptr, node->sp, false, {"null"});
    inst->children.emplace_back("", emit(node->inner, ptr, required), required);
  }
  inst->end = int64_t(slots_.size());
  return inst;
}

std::unique_ptr<Inst> Scaffold::member(const NodeP& node, const std::string& ptr, bool optional) {
  int64_t presence = -1;
  if (optional && can_be_empty(*node)) presence = add_slot("presence", ptr, node->sp, false, {"true"});
  auto inst = emit(node, ptr, !optional);
  if (presence >= 0) {
    inst->presence = presence;
    inst->first = presence;
  }
  return inst;
}

void Scaffold::assemble(const TokenizeFn& tokenize_literals) {
  std::vector<std::string> texts;
  for (auto& seg : segments_)
    if (!seg.is_slot) texts.push_back(seg.text);
  size_t n_literal = texts.size();
  std::vector<std::string> choice_texts;
  for (auto& s : slots_)
    for (auto& t : s.choice_texts)
      if (std::find(choice_texts.begin(), choice_texts.end(), t) == choice_texts.end()) choice_texts.push_back(t);
  texts.insert(texts.end(), choice_texts.begin(), choice_texts.end());
  std::vector<Ids> toks = tokenize_literals(texts);
  if (toks.size() != texts.size()) throw std::runtime_error("tokenize returned the wrong number of sequences");
  for (auto& s : slots_) {
    if (s.choice_texts.empty()) continue;
    for (auto& t : s.choice_texts) {
      size_t j = size_t(std::find(choice_texts.begin(), choice_texts.end(), t) - choice_texts.begin());
      s.choices.push_back(toks[n_literal + j]);
      s.budget = std::max(s.budget, int64_t(s.choices.back().size()));
    }
  }
  size_t lit_i = 0;
  for (auto& seg : segments_) {
    if (!seg.is_slot) {
      const Ids& t = toks[lit_i++];
      template_.insert(template_.end(), t.begin(), t.end());
    } else {
      Slot& s = slots_[size_t(seg.slot)];
      s.start = int64_t(template_.size());
      template_.insert(template_.end(), size_t(s.budget), mask_);
    }
    if (int64_t(template_.size()) > max_len_) throw SchemaError("", too_long());
  }
}

Ids Scaffold::encode(const std::string& args_text, const TokenizeFn& tokenize) const {
  Value value;
  try {
    value = json::parse(args_text);
  } catch (const json::ParseError&) {
    throw ArgumentError("", "the arguments are not valid JSON");
  }
  EncodeState st;
  enc(*root_, value, st);
  std::vector<int64_t> order;
  std::vector<std::string> texts;
  for (auto& [i, t] : st.texts) {
    order.push_back(i);
    texts.push_back(t);
  }
  std::vector<Ids> toks;
  if (!order.empty()) toks = tokenize(texts);
  if (toks.size() != texts.size()) throw std::runtime_error("tokenize returned the wrong number of sequences");
  Ids ids = template_;
  for (auto& s : slots_) std::fill(ids.begin() + s.start, ids.begin() + s.start + s.budget, null_);
  for (size_t j = 0; j < order.size(); j++) {
    const Slot& s = slots_[size_t(order[j])];
    const Ids& t = toks[j];
    if (int64_t(t.size()) > s.budget) {
      std::string n = std::to_string(t.size());
      throw ArgumentError(s.pointer, "the value needs " + n + " tokens but its " + s.kind + " slot has a budget of " +
                                         std::to_string(s.budget) + " (raise " + s.kind + "= or budgets={'" +
                                         s.pointer + "': " + n + "})");
    }
    std::string bytes;
    for (int64_t x : t)
      if (x >= 0 && x < vocab_->size()) bytes += vocab_->bytes(x);
    if (bytes != texts[j]) throw ArgumentError(s.pointer, "the tokenizer does not reproduce the value text byte for byte");
    std::copy(t.begin(), t.end(), ids.begin() + s.start);
  }
  for (auto& [i, c] : st.fixed) {
    const Slot& s = slots_[size_t(i)];
    std::copy(s.choices[c].begin(), s.choices[c].end(), ids.begin() + s.start);
  }
  return ids;
}

void Scaffold::enc_member(const Inst& inst, const Value& v, EncodeState& st) const {
  if (inst.presence >= 0) st.fixed[inst.presence] = 0;
  enc(inst, v, st);
}

void Scaffold::enc(const Inst& inst, const Value& v, EncodeState& st) const {
  const Node& node = *inst.node;
  const std::string& k = node.kind;
  const std::string& ptr = inst.ptr;
  if (k == "object") {
    if (v.kind != Kind::Object) throw ArgumentError(ptr, "expected an object");
    for (auto& kv : v.obj) {
      bool known = false;
      for (auto& p : node.props)
        if (std::get<0>(p) == kv.first) { known = true; break; }
      if (!known) throw ArgumentError(ptr + "/" + esc_ptr(kv.first), "is not a property in the schema");
    }
    for (auto& [key, child, req] : inst.children) {
      if (const Value* x = v.get(key)) enc_member(*child, *x, st);
      else if (req) throw ArgumentError(child->ptr, "required property is missing");
    }
  } else if (k == "array") {
    if (v.kind != Kind::Array) throw ArgumentError(ptr, "expected an array");
    if (v.arr.size() > inst.children.size()) {
      std::string n = std::to_string(v.arr.size());
      throw ArgumentError(ptr, n + " items exceed the budget of " + std::to_string(inst.children.size()) +
                                   " items (raise array_items= or budgets={'" + ptr + "': " + n + "})");
    }
    for (size_t i = 0; i < v.arr.size(); i++) enc_member(*std::get<1>(inst.children[i]), v.arr[i], st);
  } else if (k == "string") {
    if (v.kind != Kind::String) throw ArgumentError(ptr, "expected a string");
    st.texts[inst.slot] = json::escape(v.s);
  } else if (k == "integer") {
    std::optional<std::string> t;
    if (v.kind == Kind::Number) t = json::integer_text(v.s);
    if (!t) throw ArgumentError(ptr, "expected an integer");
    st.texts[inst.slot] = *t;
  } else if (k == "number") {
    if (v.kind != Kind::Number) throw ArgumentError(ptr, "expected a number");
    st.texts[inst.slot] = v.s;
  } else if (k == "choice") {
    for (size_t i = 0; i < node.values.size(); i++)
      if (json::equal(v, node.values[i])) {
        st.fixed[inst.slot] = i;
        return;
      }
    throw ArgumentError(ptr, "is not one of the allowed values");
  } else if (k == "const") {
    if (!json::equal(v, node.value)) throw ArgumentError(ptr, "must equal the schema's const value " + json::dumps(node.value));
  } else if (k == "json") {
    if (!json_matches(node, v)) throw ArgumentError(ptr, "matches none of the allowed types");
    st.texts[inst.slot] = json::dumps(v);
  } else if (v.kind == Kind::Null) {
    st.fixed[inst.slot] = 0;
  } else {
    enc(*std::get<1>(inst.children[0]), v, st);
  }
}

std::string Scaffold::decode(const Ids& ids) const {
  if (ids.size() != template_.size())
    throw ArgumentError("", "expected " + std::to_string(template_.size()) + " ids, got " + std::to_string(ids.size()));
  std::vector<char> in_slot(ids.size(), 0);
  for (auto& s : slots_) std::fill(in_slot.begin() + s.start, in_slot.begin() + s.start + s.budget, 1);
  for (size_t p = 0; p < ids.size(); p++)
    if (!in_slot[p] && ids[p] != template_[p])
      throw ArgumentError("", "position " + std::to_string(p) + " must hold the literal token " +
                                  std::to_string(template_[p]) + ", not " + std::to_string(ids[p]));
  Vals vals;
  for (auto& s : slots_) {
    Ids toks;
    for (int64_t p = s.start; p < s.start + s.budget; p++)
      if (ids[size_t(p)] != null_) toks.push_back(ids[size_t(p)]);
    for (int64_t x : toks) {
      if (x == mask_) throw ArgumentError(s.pointer, "the slot is still masked");
      if (!vocab_->is_text(x)) throw ArgumentError(s.pointer, "token " + std::to_string(x) + " is not a text token");
    }
    vals.push_back(std::move(toks));
  }
  return dec(*root_, vals);
}

bool Scaffold::empty(const Vals& vals, int64_t first, int64_t end) const {
  for (int64_t i = first; i < end; i++)
    if (!vals[size_t(i)].empty()) return false;
  return true;
}

std::string Scaffold::text(const Inst& inst, const Vals& vals) const {
  std::string b;
  for (int64_t x : vals[size_t(inst.slot)]) b += vocab_->bytes(x);
  if (!json::valid_utf8(b)) throw ArgumentError(inst.ptr, "the slot's bytes are not valid UTF-8");
  return b;
}

std::optional<std::string> Scaffold::dec_optional(const Inst& inst, const Vals& vals) const {
  if (inst.presence >= 0) {
    const Ids& p = vals[size_t(inst.presence)];
    if (p.empty()) {
      if (!empty(vals, inst.presence + 1, inst.end)) throw ArgumentError(inst.ptr, "value tokens without the presence token");
      return std::nullopt;
    }
    if (p != slots_[size_t(inst.presence)].choices[0])
      throw ArgumentError(inst.ptr, "the presence slot holds something other than its token");
    return dec(inst, vals);
  }
  if (empty(vals, inst.first, inst.end)) return std::nullopt;
  return dec(inst, vals);
}

std::string Scaffold::dec(const Inst& inst, const Vals& vals) const {
  const Node& node = *inst.node;
  const std::string& k = node.kind;
  const std::string& ptr = inst.ptr;
  if (k == "object") {
    std::string out = "{";
    bool first = true;
    for (auto& [key, child, req] : inst.children) {
      std::optional<std::string> t = req ? std::optional<std::string>(dec(*child, vals)) : dec_optional(*child, vals);
      if (!t) continue;
      out += (first ? "\"" : ", \"") + json::escape(key) + "\": " + *t;
      first = false;
    }
    return out + "}";
  }
  if (k == "array") {
    std::string out = "[";
    bool first = true;
    for (auto& c : inst.children) {
      auto t = dec_optional(*std::get<1>(c), vals);
      if (!t) continue;
      out += (first ? "" : ", ") + *t;
      first = false;
    }
    return out + "]";
  }
  if (k == "const") return json::dumps(node.value);
  if (k == "nullable") {
    const Ids& s = vals[size_t(inst.slot)];
    if (s.empty()) return dec(*std::get<1>(inst.children[0]), vals);
    if (s != slots_[size_t(inst.slot)].choices[0])
      throw ArgumentError(ptr, "the null slot holds something other than the null token");
    if (!empty(vals, inst.slot + 1, inst.end)) throw ArgumentError(ptr, "the value is null but its slots are not all NULL");
    return "null";
  }
  if (k == "string") {
    auto body = json::string_body(text(inst, vals));
    if (!body) throw ArgumentError(ptr, "the slot is not a valid JSON string body");
    return "\"" + json::escape(*body) + "\"";
  }
  const Ids& s = vals[size_t(inst.slot)];
  if (s.empty()) throw ArgumentError(ptr, "the slot has no value");
  if (k == "choice") {
    const auto& choices = slots_[size_t(inst.slot)].choices;
    for (size_t i = 0; i < choices.size(); i++)
      if (s == choices[i]) return json::dumps(node.values[i]);
    throw ArgumentError(ptr, "the slot holds none of its choices");
  }
  std::string t = text(inst, vals);
  if (k == "integer") {
    if (!json::is_integer(t)) throw ArgumentError(ptr, "the slot is not a JSON integer");
    return t;
  }
  if (k == "number") {
    if (!json::is_number(t)) throw ArgumentError(ptr, "the slot is not a JSON number");
    return t;
  }
  std::optional<Value> v;
  if (is_free(node)) {
    try {
      v = json::parse(t);
    } catch (const json::ParseError&) {
      throw ArgumentError(ptr, "the slot is not JSON text");
    }
  } else {
    v = json::scalar(t);
    if (!v) throw ArgumentError(ptr, "the slot is not a JSON scalar");
  }
  if (!json_matches(node, *v)) throw ArgumentError(ptr, "matches none of the allowed types");
  return json::dumps(*v);
}

}  // namespace edgeagent
