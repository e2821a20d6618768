// A small JSON value and parser for the scaffold compiler: number lexemes are kept verbatim,
// strings are canonicalized exactly as Python's json.dumps(s, ensure_ascii=False) writes them.
// Mirrors edgeagent/scaffold/jsonlex.py; the two must agree byte for byte.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace edgeagent::json {

enum class Kind { Null, Bool, Number, String, Array, Object };

struct Value {
  Kind kind = Kind::Null;
  bool b = false;
  std::string s;  // number lexeme or decoded string (UTF-8)
  std::vector<Value> arr;
  std::vector<std::pair<std::string, Value>> obj;

  const Value* get(const std::string& key) const {
    for (auto it = obj.rbegin(); it != obj.rend(); ++it)
      if (it->first == key) return &it->second;
    return nullptr;
  }
  bool has(const std::string& key) const { return get(key) != nullptr; }
};

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Null: return "null";
    case Kind::Bool: return "boolean";
    case Kind::Number: return "number";
    case Kind::String: return "string";
    case Kind::Array: return "array";
    default: return "object";
  }
}

inline void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF), as Python's bytes.decode("utf-8").
inline bool valid_utf8(const std::string& s) {
  size_t i = 0, n = s.size();
  auto cont = [&](size_t j, unsigned lo, unsigned hi) {
    return j < n && (unsigned char)s[j] >= lo && (unsigned char)s[j] <= hi;
  };
  while (i < n) {
    unsigned c = (unsigned char)s[i];
    if (c < 0x80) { i += 1; continue; }
    if (c >= 0xC2 && c <= 0xDF) {
      if (!cont(i + 1, 0x80, 0xBF)) return false;
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
      if (!cont(i + 1, lo, hi) || !cont(i + 2, 0x80, 0xBF)) return false;
      i += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
      if (!cont(i + 1, lo, hi) || !cont(i + 2, 0x80, 0xBF) || !cont(i + 3, 0x80, 0xBF)) return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

// Canonical JSON string body: json.dumps(s, ensure_ascii=False)[1:-1].
inline std::string escape(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += char(c);
        }
    }
  }
  return out;
}

inline int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decode a JSON string body from s[i] up to the closing quote (or the end when `to_end`).
// Returns nullopt on any invalid content; on success `i` is past the closing quote.
inline std::optional<std::string> read_string(const std::string& s, size_t& i, bool to_end) {
  std::string out;
  size_t n = s.size();
  auto u4 = [&](size_t j, uint32_t& v) {
    if (j + 4 > n) return false;
    v = 0;
    for (size_t k = j; k < j + 4; k++) {
      int h = hexval(s[k]);
      if (h < 0) return false;
      v = v * 16 + uint32_t(h);
    }
    return true;
  };
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"') {
      if (to_end) return std::nullopt;
      i++;
      return out;
    }
    if (c < 0x20) return std::nullopt;
    if (c != '\\') { out += char(c); i++; continue; }
    if (i + 1 >= n) return std::nullopt;
    char e = s[i + 1];
    i += 2;
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t v;
        if (!u4(i, v)) return std::nullopt;
        i += 4;
        if (v >= 0xDC00 && v <= 0xDFFF) return std::nullopt;
        if (v >= 0xD800 && v <= 0xDBFF) {
          uint32_t lo;
          if (i + 1 < n && s[i] == '\\' && s[i + 1] == 'u' && u4(i + 2, lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
            v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          } else {
            return std::nullopt;
          }
        }
        append_utf8(out, v);
        break;
      }
      default: return std::nullopt;
    }
  }
  if (to_end) return out;
  return std::nullopt;
}

// The decoded text of a JSON string body (no quotes), or nullopt if it is not valid JSON.
inline std::optional<std::string> string_body(const std::string& body) {
  size_t i = 0;
  return read_string(body, i, true);
}

// Length of the JSON number lexeme at s[i], 0 if none.
inline size_t number_len(const std::string& s, size_t i) {
  size_t j = i, n = s.size();
  auto digit = [&](size_t k) { return k < n && s[k] >= '0' && s[k] <= '9'; };
  if (j < n && s[j] == '-') j++;
  if (!digit(j)) return 0;
  if (s[j] == '0') j++;
  else while (digit(j)) j++;
  if (j < n && s[j] == '.') {
    if (!digit(j + 1)) return 0;
    j++;
    while (digit(j)) j++;
  }
  if (j < n && (s[j] == 'e' || s[j] == 'E')) {
    size_t k = j + 1;
    if (k < n && (s[k] == '+' || s[k] == '-')) k++;
    if (!digit(k)) return 0;
    while (digit(k)) k++;
    j = k;
  }
  return j - i;
}

inline bool is_number(const std::string& s) { return !s.empty() && number_len(s, 0) == s.size(); }

inline bool is_integer(const std::string& s) {
  size_t n = number_len(s, 0);
  return n && n == s.size() && s.find_first_of(".eE") == std::string::npos;
}

constexpr size_t kMaxIntDigits = 400;

// "1.0" -> "1", "2e3" -> "2000"; nullopt if the lexeme's value is not integral (or too long).
inline std::optional<std::string> integer_text(const std::string& lex) {
  size_t i = 0;
  std::string sign;
  if (lex[i] == '-') { sign = "-"; i++; }
  std::string whole, frac, exp;
  while (i < lex.size() && lex[i] >= '0' && lex[i] <= '9') whole += lex[i++];
  if (i < lex.size() && lex[i] == '.') {
    i++;
    while (i < lex.size() && lex[i] >= '0' && lex[i] <= '9') frac += lex[i++];
  }
  long long e = 0;
  if (i < lex.size() && (lex[i] == 'e' || lex[i] == 'E')) {
    i++;
    bool neg = false;
    if (lex[i] == '+' || lex[i] == '-') neg = lex[i++] == '-';
    for (; i < lex.size(); i++) e = std::min(e * 10 + (lex[i] - '0'), 1000000000LL);
    if (neg) e = -e;
  }
  std::string digits = whole + frac;
  size_t nz = digits.find_first_not_of('0');
  if (nz == std::string::npos) return std::string("0");
  digits = digits.substr(nz);
  e -= (long long)frac.size();
  if (e >= 0) {
    if ((long long)digits.size() + e > (long long)kMaxIntDigits) return std::nullopt;
    return sign + digits + std::string(size_t(e), '0');
  }
  if (-e >= (long long)digits.size()) return std::nullopt;
  size_t keep = digits.size() - size_t(-e);
  if (digits.find_first_not_of('0', keep) != std::string::npos) return std::nullopt;
  return sign + digits.substr(0, keep);
}

class Parser {
 public:
  explicit Parser(const std::string& text) : s_(text) {}

  Value parse() {
    Value v = value(0);
    ws();
    if (i_ != s_.size()) throw ParseError("extra data");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 900;
  const std::string& s_;
  size_t i_ = 0;

  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) i_++;
  }
  bool lit(const char* w) {
    size_t n = std::char_traits<char>::length(w);
    if (s_.compare(i_, n, w) == 0) { i_ += n; return true; }
    return false;
  }
  std::string str() {
    i_++;
    auto r = read_string(s_, i_, false);
    if (!r) throw ParseError("invalid string");
    return *r;
  }
  Value value(int depth) {
    if (depth > kMaxDepth) throw ParseError("nested too deeply");
    ws();
    if (i_ >= s_.size()) throw ParseError("unexpected end");
    Value v;
    char c = s_[i_];
    if (c == '{') {
      v.kind = Kind::Object;
      i_++;
      ws();
      if (i_ < s_.size() && s_[i_] == '}') { i_++; return v; }
      while (true) {
        ws();
        if (i_ >= s_.size() || s_[i_] != '"') throw ParseError("expected a key");
        std::string key = str();
        ws();
        if (i_ >= s_.size() || s_[i_] != ':') throw ParseError("expected ':'");
        i_++;
        Value item = value(depth + 1);
        bool found = false;
        for (auto& kv : v.obj)
          if (kv.first == key) { kv.second = std::move(item); found = true; break; }
        if (!found) v.obj.emplace_back(std::move(key), std::move(item));
        ws();
        if (i_ < s_.size() && s_[i_] == ',') { i_++; continue; }
        if (i_ < s_.size() && s_[i_] == '}') { i_++; return v; }
        throw ParseError("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.kind = Kind::Array;
      i_++;
      ws();
      if (i_ < s_.size() && s_[i_] == ']') { i_++; return v; }
      while (true) {
        v.arr.push_back(value(depth + 1));
        ws();
        if (i_ < s_.size() && s_[i_] == ',') { i_++; continue; }
        if (i_ < s_.size() && s_[i_] == ']') { i_++; return v; }
        throw ParseError("expected ',' or ']'");
      }
    }
    if (c == '"') { v.kind = Kind::String; v.s = str(); return v; }
    if (lit("null")) return v;
    if (lit("true")) { v.kind = Kind::Bool; v.b = true; return v; }
    if (lit("false")) { v.kind = Kind::Bool; return v; }
    size_t n = number_len(s_, i_);
    if (!n) throw ParseError("invalid value");
    v.kind = Kind::Number;
    v.s = s_.substr(i_, n);
    i_ += n;
    return v;
  }
};

inline Value parse(const std::string& text) { return Parser(text).parse(); }

// Canonical text: json.dumps separators, number lexemes verbatim, canonical strings.
inline std::string dumps(const Value& v) {
  switch (v.kind) {
    case Kind::Null: return "null";
    case Kind::Bool: return v.b ? "true" : "false";
    case Kind::Number: return v.s;
    case Kind::String: return "\"" + escape(v.s) + "\"";
    case Kind::Array: {
      std::string out = "[";
      for (size_t i = 0; i < v.arr.size(); i++) out += (i ? ", " : "") + dumps(v.arr[i]);
      return out + "]";
    }
    default: {
      std::string out = "{";
      for (size_t i = 0; i < v.obj.size(); i++)
        out += (i ? ", \"" : "\"") + escape(v.obj[i].first) + "\": " + dumps(v.obj[i].second);
      return out + "}";
    }
  }
}

// JSON equality: numbers compare as doubles, booleans are not numbers.
inline bool equal(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::Null: return true;
    case Kind::Bool: return a.b == b.b;
    case Kind::Number: return std::strtod(a.s.c_str(), nullptr) == std::strtod(b.s.c_str(), nullptr);
    case Kind::String: return a.s == b.s;
    case Kind::Array:
      if (a.arr.size() != b.arr.size()) return false;
      for (size_t i = 0; i < a.arr.size(); i++)
        if (!equal(a.arr[i], b.arr[i])) return false;
      return true;
    default:
      if (a.obj.size() != b.obj.size()) return false;
      for (auto& kv : a.obj) {
        const Value* o = b.get(kv.first);
        if (!o || !equal(kv.second, *o)) return false;
      }
      return true;
  }
}

// Parse the full JSON text of one scalar, no whitespace allowed; nullopt if it is not one.
inline std::optional<Value> scalar(const std::string& text) {
  Value v;
  if (text == "null") return v;
  if (text == "true" || text == "false") { v.kind = Kind::Bool; v.b = text == "true"; return v; }
  if (is_number(text)) { v.kind = Kind::Number; v.s = text; return v; }
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    auto body = string_body(text.substr(1, text.size() - 2));
    if (body) { v.kind = Kind::String; v.s = *body; return v; }
  }
  return std::nullopt;
}

}  // namespace edgeagent::json
