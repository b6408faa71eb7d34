#include "config/secret_text.h"

#include <yaml-cpp/eventhandler.h>

#include <cctype>
#include <sstream>

#include "config/env_expand.h"

namespace sy::config::secret {
namespace {

bool StartsWithNoCase(std::string_view s, size_t at, std::string_view lower_prefix) {
  if (at > s.size() || s.size() - at < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[at + i])) != lower_prefix[i]) return false;
  }
  return true;
}

// Ignores every parse event: used only to count documents.
class DocumentCounter final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Documents in text, counting no further than max. Not YAML::LoadAll, which
// can loop forever on some malformed input in yaml-cpp 0.7 (see
// config_loader.cc).
size_t CountDocuments(const std::string& text, size_t max) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  size_t n = 0;
  while (n < max && parser.HandleNextDocument(counter)) ++n;
  return n;
}

std::string SyntaxMessage(const YAML::Exception& e) {
  if (e.mark.is_null()) return "not valid YAML or JSON: " + e.msg;
  return "not valid YAML or JSON: line " + std::to_string(e.mark.line + 1) + ", column " +
         std::to_string(e.mark.column + 1) + ": " + e.msg;
}

constexpr int kMaxDocumentDepth = 64;
constexpr size_t kMaxDocumentNodes = 200000;

bool WithinBounds(const YAML::Node& node, int depth, size_t* budget) {
  if (depth > kMaxDocumentDepth || *budget == 0) return false;
  --*budget;
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!WithinBounds(it->first, depth + 1, budget) || !WithinBounds(it->second, depth + 1, budget)) return false;
    }
  } else if (node.IsSequence()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!WithinBounds(*it, depth + 1, budget)) return false;
    }
  }
  return true;
}

bool SetBlockStyleWithin(YAML::Node node, size_t* budget) {
  if (*budget == 0) return false;
  --*budget;
  // Empty ones in flow style: "models: []" rather than "[]" on a line of its own.
  if ((node.IsMap() || node.IsSequence()) && node.size() == 0) {
    node.SetStyle(YAML::EmitterStyle::Flow);
  } else if (node.IsMap()) {
    node.SetStyle(YAML::EmitterStyle::Block);
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!SetBlockStyleWithin(it->second, budget)) return false;
    }
  } else if (node.IsSequence()) {
    node.SetStyle(YAML::EmitterStyle::Block);
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!SetBlockStyleWithin(*it, budget)) return false;
    }
  }
  return true;
}

}  // namespace

std::vector<UrlSpan> UrlPasswordSpans(std::string_view url) {
  std::vector<UrlSpan> spans;
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return spans;
  const size_t start = scheme + 3;
  size_t query_from = start;
  const size_t at = url.rfind('@');
  if (at != std::string_view::npos && at >= start) {
    const size_t colon = url.find(':', start);
    if (colon < at) spans.push_back({UrlSpan::kUserinfo, 0, colon + 1, at});
    query_from = at + 1;
  }
  const size_t query = url.find('?', query_from);
  if (query == std::string_view::npos) return spans;
  size_t ordinal = 0;
  size_t p = query + 1;
  while (p < url.size()) {
    size_t end = url.find_first_of("&#", p);
    if (end == std::string_view::npos) end = url.size();
    if (StartsWithNoCase(url, p, "password=")) spans.push_back({UrlSpan::kQuery, ordinal++, p + 9, end});
    if (end < url.size() && url[end] == '#') break;
    p = end + 1;
  }
  return spans;
}

bool IsOnlyReferences(std::string_view text) {
  if (text.empty()) return false;
  size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, 2) != "${") return false;
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos || !IsValidEnvName(text.substr(i + 2, close - i - 2))) return false;
    i = close + 1;
  }
  return true;
}

std::string EscapeReferences(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') out.push_back('$');
    out.push_back(text[i]);
  }
  return out;
}

bool LoadOneDocument(const std::string& text, YAML::Node* out, std::string* error) {
  try {
    if (CountDocuments(text, 2) > 1) {
      *error = "holds more than one YAML document (separated by ---); send the whole configuration as one";
      return false;
    }
    *out = YAML::Load(text);
    // Every later walk (masking, restoring, emitting) recurses: a node that
    // contains itself through an alias ("a: &x [*x]"), or nesting past any
    // real config, is refused here (found by fuzz/config_document_fuzz).
    size_t budget = kMaxDocumentNodes;
    if (!WithinBounds(*out, 0, &budget)) {
      *error = "is nested deeper than " + std::to_string(kMaxDocumentDepth) +
               " levels, refers to itself through an alias, or holds too many entries";
      return false;
    }
    return true;
  } catch (const YAML::Exception& e) {
    *error = SyntaxMessage(e);
  } catch (const std::exception& e) {
    *error = std::string("cannot parse the document: ") + e.what();
  } catch (...) {
    *error = "cannot parse the document";
  }
  return false;
}

std::optional<YAML::Node> Child(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return std::nullopt;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  }
  return std::nullopt;
}

std::optional<std::string> ChildScalar(const YAML::Node& map, std::string_view key) {
  std::optional<YAML::Node> child = Child(map, key);
  if (!child || !child->IsScalar()) return std::nullopt;
  return child->Scalar();
}

bool SetBlockStyle(YAML::Node root, size_t max_nodes) { return SetBlockStyleWithin(root, &max_nodes); }

bool Emit(const YAML::Node& node, std::string* out, std::string* error) {
  try {
    YAML::Emitter emitter;
    emitter << node;
    if (!emitter.good()) {
      *error = "cannot write the document as YAML: " + emitter.GetLastError();
      return false;
    }
    *out = emitter.c_str();
    if (!out->empty() && out->back() != '\n') out->push_back('\n');
    // yaml-cpp's emitter can write text its own parser refuses (a key read as
    // "---" then NUL then more comes out as a plain "--- b:" at the start of a
    // line, a document marker; found by fuzz/config_document_fuzz): what is
    // written must read back, or it is not written.
    YAML::Node back;
    std::string why;
    if (!LoadOneDocument(*out, &back, &why)) {
      out->clear();
      *error = "cannot write the document as YAML that reads back (" + why + ")";
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    *error = std::string("cannot write the document as YAML: ") + e.what();
  }
  return false;
}

}  // namespace sy::config::secret
