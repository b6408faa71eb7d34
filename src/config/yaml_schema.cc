#include "config/yaml_schema.h"

#include "config/env_expand.h"

namespace sy::config::schema {

void Checker::Visit(const std::string& path, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (!mark.is_null()) positions_.emplace(path, mark);
}

namespace {
constexpr size_t kMaxProblems = 1000;  // a file that bad needs no more listed
}  // namespace

bool Checker::Spend() {
  if (++entries_ <= kMaxEntries) return true;
  if (entries_ == kMaxEntries + 1) {
    Add("", "the document has more than " + std::to_string(kMaxEntries) +
                " entries once YAML aliases are expanded; refusing to read further");
  }
  return false;
}

void Checker::Add(const std::string& path, std::string message) {
  if (problems_.size() >= kMaxProblems) {
    ++dropped_problems_;
    return;
  }
  Problem p;
  p.error.path = path.empty() ? kDocumentPath : path;
  p.error.message = std::move(message);
  auto it = positions_.find(path);
  if (it != positions_.end()) {
    p.line = it->second.line;
    p.column = it->second.column;
  }
  problems_.push_back(std::move(p));
}

bool Checker::Expand(const std::string& path, const std::string& text, std::string* out) {
  std::vector<std::string> messages;
  if (ExpandEnv(text, env_, out, &messages)) return true;
  for (std::string& m : messages) Add(path, std::move(m));
  return false;
}

bool Checker::HasProblemAt(const std::string& path) const {
  return std::any_of(problems_.begin(), problems_.end(),
                     [&path](const Problem& p) { return p.error.path == path; });
}

std::vector<ConfigError> Checker::TakeErrors() {
  std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  std::vector<ConfigError> errors;
  errors.reserve(problems_.size());
  for (Problem& p : problems_) errors.push_back(std::move(p.error));
  if (dropped_problems_ > 0) {
    errors.push_back({kDocumentPath, "... and " + std::to_string(dropped_problems_) + " more problems"});
  }
  problems_.clear();
  return errors;
}

std::string JoinKey(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string JoinIndex(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string Quote(const std::string& text) { return "\"" + text + "\""; }

const char* KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "nothing";
  }
}

// Reads a scalar with ${VAR} expanded. False (problem recorded) when node is
// not a scalar or a reference cannot be expanded.
bool ReadText(Checker& c, const YAML::Node& node, const std::string& path, std::string* out) {
  if (!node.IsScalar()) {
    c.Add(path, std::string("expected a string, got ") + KindName(node));
    return false;
  }
  return c.Expand(path, node.Scalar(), out);
}

// Reads a decimal integer in [min, max]. The text is echoed in messages, so
// never use this for secrets.
bool ReadUint(Checker& c, const YAML::Node& node, const std::string& path, uint64_t min,
              uint64_t max, uint64_t* out) {
  std::string text;
  if (!node.IsScalar()) {
    c.Add(path, std::string("expected a non-negative integer, got ") + KindName(node));
    return false;
  }
  if (!c.Expand(path, node.Scalar(), &text)) return false;
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) {
    c.Add(path, "expected a non-negative integer, got " + Quote(text));
    return false;
  }
  uint64_t value = 0;
  bool overflow = false;
  for (char ch : text) {
    const uint64_t d = static_cast<uint64_t>(ch - '0');
    overflow = overflow || value > (std::numeric_limits<uint64_t>::max() - d) / 10;
    if (!overflow) value = value * 10 + d;
  }
  if (overflow || value < min || value > max) {
    c.Add(path, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                    ", got " + text);
    return false;
  }
  *out = value;
  return true;
}

// Reads true/false (also True/TRUE/False/FALSE). yes/no/on/off are refused:
// they are booleans in YAML 1.1 only, and easy to misread.
bool ReadBool(Checker& c, const YAML::Node& node, const std::string& path, bool* out) {
  std::string text;
  if (!node.IsScalar()) {
    c.Add(path, std::string("expected true or false, got ") + KindName(node));
    return false;
  }
  if (!c.Expand(path, node.Scalar(), &text)) return false;
  if (text == "true" || text == "True" || text == "TRUE") {
    *out = true;
  } else if (text == "false" || text == "False" || text == "FALSE") {
    *out = false;
  } else {
    c.Add(path, "expected true or false, got " + Quote(text));
    return false;
  }
  return true;
}

}  // namespace sy::config::schema
