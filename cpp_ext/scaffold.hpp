// The scaffold compiler: JSON Schema -> token template with typed value slots (plain C++17).
// The algorithm and its rules are documented in cpp_ext/README.md; the Python reference is
// edgeagent/scaffold/reference.py and must produce identical ids, slots, errors and JSON text.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "json.hpp"

namespace edgeagent {

using Ids = std::vector<int64_t>;
// Tokenize each text on its own (no special tokens). Supplied by the caller (Python's tokenizer).
using TokenizeFn = std::function<std::vector<Ids>(const std::vector<std::string>&)>;

// what() is "pointer\x1freason".
struct SchemaError : std::runtime_error {
  SchemaError(const std::string& pointer, const std::string& reason)
      : std::runtime_error(pointer + "\x1f" + reason) {}
};
struct ArgumentError : std::runtime_error {
  ArgumentError(const std::string& pointer, const std::string& reason)
      : std::runtime_error(pointer + "\x1f" + reason) {}
};

// Token bytes per id ("" for special tokens) and the per-kind allowed-token masks.
class Vocab {
 public:
  explicit Vocab(std::vector<std::string> token_bytes) : bytes_(std::move(token_bytes)) {}
  int64_t size() const { return int64_t(bytes_.size()); }
  const std::string& bytes(int64_t id) const { return bytes_[size_t(id)]; }
  bool is_text(int64_t id) const { return id >= 0 && id < size() && !bytes_[size_t(id)].empty(); }
  bool allowed(const std::string& kind, const std::string& b) const;
  // V + 2 bytes of 0/1 for a slot kind (string, integer, number, json); NULL 1, MASK 0.
  std::string class_mask(const std::string& kind) const;

 private:
  std::vector<std::string> bytes_;
};

struct Node;
using NodeP = std::shared_ptr<Node>;

// A normalized schema node. kind: object array string integer number choice const json nullable.
struct Node {
  std::string kind, sp;
  std::optional<std::string> default_text;
  std::vector<std::tuple<std::string, NodeP, bool>> props;  // key, schema, required
  NodeP item, inner;
  int64_t max_items = -1;
  json::Value value;                 // const
  std::vector<json::Value> values;   // choice values; json: literal values allowed
  std::vector<std::string> types;    // json: string / integer / number
};

struct Slot {
  std::string pointer, schema_pointer, kind;
  int64_t start = 0, budget = 0;
  bool required = false;
  std::vector<std::string> choice_texts;
  std::vector<Ids> choices;
  std::optional<std::string> default_text;
};

// A node laid out at one place: its slots are [first, end); `slot`, `presence` are -1 if none.
struct Inst {
  NodeP node;
  std::string ptr;
  int64_t slot = -1, presence = -1, first = 0, end = 0;
  std::vector<std::tuple<std::string, std::unique_ptr<Inst>, bool>> children;
};

class Scaffold {
 public:
  Scaffold(const std::string& schema_text, const std::map<std::string, int64_t>& budgets,
           const std::map<std::string, int64_t>& pointer_budgets, int64_t max_len,
           std::shared_ptr<const Vocab> vocab, const TokenizeFn& tokenize_literals);

  const Ids& template_ids() const { return template_; }
  const std::vector<Slot>& slots() const { return slots_; }
  Ids encode(const std::string& args_text, const TokenizeFn& tokenize) const;
  std::string decode(const Ids& ids) const;

 private:
  struct Segment {
    bool is_slot;
    std::string text;
    int64_t slot;
  };
  struct EncodeState {
    std::map<int64_t, std::string> texts;
    std::map<int64_t, size_t> fixed;
  };

  std::shared_ptr<const Vocab> vocab_;
  int64_t null_, mask_;
  std::map<std::string, int64_t> budgets_, pointer_budgets_;
  int64_t max_len_;
  std::vector<Slot> slots_;
  std::vector<Segment> segments_;
  std::string pending_;
  int64_t lower_bound_ = 0;
  std::unique_ptr<Inst> root_;
  Ids template_;

  void lit(const std::string& text) { pending_ += text; }
  void flush();
  int64_t add_slot(const std::string& kind, const std::string& ptr, const std::string& sp, bool required,
                   std::vector<std::string> choices = {}, std::optional<std::string> default_text = {},
                   const std::string& budget_key = "");
  std::string too_long() const;
  std::unique_ptr<Inst> emit(const NodeP& node, const std::string& ptr, bool required);
  std::unique_ptr<Inst> member(const NodeP& node, const std::string& ptr, bool optional);
  void assemble(const TokenizeFn& tokenize_literals);

  void enc(const Inst& inst, const json::Value& v, EncodeState& st) const;
  void enc_member(const Inst& inst, const json::Value& v, EncodeState& st) const;

  using Vals = std::vector<Ids>;
  bool empty(const Vals& vals, int64_t first, int64_t end) const;
  std::string text(const Inst& inst, const Vals& vals) const;
  std::optional<std::string> dec_optional(const Inst& inst, const Vals& vals) const;
  std::string dec(const Inst& inst, const Vals& vals) const;
};

}  // namespace edgeagent
