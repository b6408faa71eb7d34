// A small schema walker for YAML configuration, used by config_loader.cc.
//
// Each section's schema is a table of Field rows (key, required, parse), in the
// manner of Redis's standardConfig table. ParseMapping applies a table to a
// YAML mapping, so unknown keys, duplicate keys, missing required keys and null
// values are handled the same way everywhere. Problems are collected in a
// Checker, never thrown, each with the full key path it concerns.
//
// Internal to sy_config; not part of the configuration interface.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"

namespace sy::config::schema {

// Path used for problems that concern the whole document (syntax, file).
inline constexpr char kDocumentPath[] = "(document)";

// Collects problems while the document is walked, and remembers where each
// visited key path sits so that checks made later sort into document order.
// Not thread-safe; one Checker per load.
class Checker {
 public:
  // REQUIRES: env outlives the Checker.
  explicit Checker(const EnvLookup& env) : env_(env) {}

  // Records that path is found at node's position (the first visit wins).
  void Visit(const std::string& path, const YAML::Node& node);
  // Records a problem at path ("" = the whole document).
  void Add(const std::string& path, std::string message);
  // Expands ${VAR} in text; records one problem per bad reference.
  bool Expand(const std::string& path, const std::string& text, std::string* out);

  // Counts one more mapping entry or list item walked. False once the
  // document holds more than kMaxEntries (YAML aliases can make a small file
  // expand to millions: "billion laughs"); the walk must then stop, and one
  // problem says why.
  static constexpr size_t kMaxEntries = 100000;
  bool Spend();

  bool ok() const { return problems_.empty(); }
  bool HasProblemAt(const std::string& path) const;
  // The problems in document order (stable for problems at one position).
  std::vector<ConfigError> TakeErrors();

 private:
  struct Problem {
    int line = INT_MAX;  // 0-based position of the path; INT_MAX sorts last
    int column = INT_MAX;
    ConfigError error;
  };

  const EnvLookup& env_;
  std::map<std::string, YAML::Mark> positions_;
  std::vector<Problem> problems_;
  size_t entries_ = 0;
  size_t dropped_problems_ = 0;  // past kMaxProblems
};

std::string JoinKey(const std::string& path, const std::string& key);  // "a.b"
std::string JoinIndex(const std::string& path, size_t index);          // "a[3]"
std::string Quote(const std::string& text);                            // "\"text\""
const char* KindName(const YAML::Node& node);                          // "a mapping", "a list", ...

// Scalar readers. Each expands ${VAR}, checks the type, and returns false with
// a problem recorded at path when the value is unusable.
bool ReadText(Checker& c, const YAML::Node& node, const std::string& path, std::string* out);
// Decimal digits only, in [min, max]. Echoes the value in messages: no secrets.
bool ReadUint(Checker& c, const YAML::Node& node, const std::string& path, uint64_t min,
              uint64_t max, uint64_t* out);
// true/True/TRUE/false/False/FALSE; YAML 1.1's yes/no/on/off are refused.
bool ReadBool(Checker& c, const YAML::Node& node, const std::string& path, bool* out);

// One key of a mapping: its name, whether it must be present (and non-null),
// and how to parse its value into T.
template <typename T>
struct Field {
  std::string key;
  bool required = false;
  std::function<void(Checker&, const YAML::Node&, const std::string& path, T*)> parse;
};

template <typename T>
using Schema = std::vector<Field<T>>;

// A string; a required string must also be non-empty after expansion.
template <typename T>
Field<T> StringField(const char* key, std::string T::*member, bool required) {
  return {key, required,
          [member, required](Checker& c, const YAML::Node& n, const std::string& path, T* out) {
            std::string text;
            if (!ReadText(c, n, path, &text)) return;
            if (required && text.empty()) {
              c.Add(path, "must not be empty");
              return;
            }
            out->*member = std::move(text);
          }};
}

// A non-negative integer in [min, max] (max is capped to what I can hold).
template <typename T, typename I>
Field<T> UintField(const char* key, I T::*member, uint64_t min, uint64_t max) {
  max = std::min<uint64_t>(max, std::numeric_limits<I>::max());
  return {key, false,
          [member, min, max](Checker& c, const YAML::Node& n, const std::string& path, T* out) {
            uint64_t value = 0;
            if (ReadUint(c, n, path, min, max, &value)) out->*member = static_cast<I>(value);
          }};
}

template <typename T>
Field<T> BoolField(const char* key, bool T::*member) {
  return {key, false, [member](Checker& c, const YAML::Node& n, const std::string& path, T* out) {
            bool value = false;
            if (ReadBool(c, n, path, &value)) out->*member = value;
          }};
}

template <typename T>
std::string KeyList(const Schema<T>& schema) {
  std::string list;
  for (const Field<T>& f : schema) list += (list.empty() ? "" : ", ") + f.key;
  return list;
}

// Applies schema to the mapping at node. A null node is an empty mapping; a
// null value is the same as an absent key.
template <typename T>
void ParseMapping(Checker& c, const YAML::Node& node, const std::string& path,
                  const Schema<T>& schema, T* out) {
  if (!c.Spend()) return;
  c.Visit(path, node);
  if (!node.IsNull() && !node.IsMap()) {
    c.Add(path, std::string("expected a mapping (key: value), got ") + KindName(node));
    return;
  }
  std::set<std::string> seen;     // every key, to catch duplicates
  std::set<std::string> present;  // keys with a non-null value
  if (node.IsMap()) {
    for (const auto& entry : node) {
      if (!c.Spend()) return;
      if (!entry.first.IsScalar()) {
        c.Add(path, "keys must be plain strings");
        continue;
      }
      const std::string& key = entry.first.Scalar();
      const std::string child = JoinKey(path, key);
      c.Visit(child, entry.first);
      if (!seen.insert(key).second) {
        c.Add(child, "duplicate key");
        continue;
      }
      auto field = std::find_if(schema.begin(), schema.end(),
                                [&key](const Field<T>& f) { return f.key == key; });
      if (field == schema.end()) {
        c.Add(child, "unknown key; expected one of: " + KeyList(schema));
        continue;
      }
      if (entry.second.IsNull()) continue;
      present.insert(key);
      field->parse(c, entry.second, child, out);
    }
  }
  for (const Field<T>& f : schema) {
    if (!f.required || present.count(f.key)) continue;
    const std::string child = JoinKey(path, f.key);
    c.Visit(child, node);
    c.Add(child, "is required");
  }
}

// Parses a list of mappings; each item (even a bad one) adds one element to
// *out, so indexes in later checks match the document. Null = empty list.
template <typename T>
void ParseList(Checker& c, const YAML::Node& node, const std::string& path,
               const Schema<T>& item_schema, std::vector<T>* out) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    c.Add(path, std::string("expected a list (- item), got ") + KindName(node));
    return;
  }
  size_t index = 0;
  for (const auto& item : node) {
    if (!c.Spend()) return;
    T value;
    ParseMapping(c, item, JoinIndex(path, index++), item_schema, &value);
    out->push_back(std::move(value));
  }
}

// A field holding a list of mappings, each parsed with item_schema().
template <typename T, typename Item>
Field<T> ListField(const char* key, std::vector<Item> T::*member,
                   const Schema<Item>& (*item_schema)()) {
  return {key, false,
          [member, item_schema](Checker& c, const YAML::Node& n, const std::string& path, T* out) {
            ParseList(c, n, path, item_schema(), &(out->*member));
          }};
}

}  // namespace sy::config::schema
