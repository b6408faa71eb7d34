// MaskYamlText and RestoreMasked (config_document.h): the secrets of a
// configuration document, found by their place in the schema.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string_view>

#include "config/config_document.h"
#include "config/env_expand.h"
#include "config/secret_text.h"
#include "config/yaml_schema.h"

namespace sy::config {
namespace {

using schema::JoinIndex;
using schema::JoinKey;
using secret::Child;
using secret::ChildScalar;
using secret::IsOnlyReferences;

// Most nodes walked or restyled: aliases can make a small document expand to
// millions of paths ("billion laughs"). The loader refuses a document past
// schema::Checker::kMaxEntries; this leaves room above that.
constexpr size_t kMaxNodes = 2 * schema::Checker::kMaxEntries;
constexpr size_t kMaxProblems = 50;

// Keys of the schema that hold no secret, at the levels that hold secrets.
// A key missing here is masked, never leaked: keep in step with
// config_loader.cc and governance_schema.cc.
constexpr std::string_view kServerPlain[] = {
    "listen",          "auth",           "max_body_bytes",     "max_header_bytes", "header_timeout_s",
    "body_timeout_s",  "idle_timeout_s", "write_timeout_s",    "shutdown_timeout_s", "threads",
    "access_log",      "max_connections", "trusted_proxies"};
constexpr std::string_view kClientKeyPlain[] = {"name", "type", "rpm", "tpm", "budget", "budget_period", "models"};
constexpr std::string_view kProviderPlain[] = {
    "id",      "name",      "type", "base_url", "timeout_s", "connect_timeout_s", "ca_file", "max_idle_connections",
    "max_response_bytes", "drop_params", "enabled",
    // type: local
    "models_dir", "keep_alive", "max_loaded", "parallel", "max_queue", "context_size", "threads", "device",
    "flash_attention", "load_timeout_s", "engine", "node", "worker", "command"};
constexpr std::string_view kProviderKeyPlain[] = {"id", "weight"};
// Top-level sections without secrets.
constexpr std::string_view kRootPlain[] = {"models", "limits", "usage", "pricing"};

template <size_t N>
bool In(const std::string_view (&list)[N], std::string_view key) {
  return std::find(std::begin(list), std::end(list), key) != std::end(list);
}

bool IsMask(const YAML::Node& node) { return node.IsScalar() && node.Scalar() == kMask; }

std::string Lower(std::string text) {
  for (char& ch : text) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return text;
}

// "'name'"
std::string Named(const std::string& name) { return "'" + name + "'"; }

// ---------------------------------------------------------------------------
// MaskYamlText

class Masker {
 public:
  // False when the walk ran out of budget (*this then masked only part).
  bool Run(YAML::Node root) {
    if (!root.IsMap()) {
      All(root);
    } else {
      for (auto it = root.begin(); it != root.end() && Spend(); ++it) {
        const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
        if (key == "server") {
          Section(it->second, kServerPlain, [this](const std::string& k, YAML::Node v) {
            if (k != "admin_key") return false;
            Secret(v);
            return true;
          });
        } else if (key == "keys") {
          List(it->second, [this](YAML::Node item) {
            Section(item, kClientKeyPlain, [this](const std::string& k, YAML::Node v) {
              if (k != "key") return false;
              Secret(v);
              return true;
            });
          });
        } else if (key == "providers") {
          List(it->second, [this](YAML::Node item) { Provider(item); });
        } else if (key == "store" || key == "redis") {
          Url(it->second);
        } else if (!In(kRootPlain, key)) {
          All(it->second);
        }
      }
    }
    return !exhausted_;
  }

 private:
  bool Spend() {
    if (budget_ == 0) exhausted_ = true;
    if (exhausted_) return false;
    --budget_;
    return true;
  }

  // A mapping whose `plain` keys hold no secret; special(key, value) handles
  // the secret keys (returns false for a key it does not know); every other
  // key has all its values masked.
  template <size_t N, typename Special>
  void Section(YAML::Node node, const std::string_view (&plain)[N], Special special) {
    if (node.IsNull()) return;
    if (!node.IsMap()) return All(node);
    for (auto it = node.begin(); it != node.end() && Spend(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (!key.empty() && In(plain, key)) continue;
      if (!special(key, it->second)) All(it->second);
    }
  }

  template <typename Item>
  void List(YAML::Node node, Item item) {
    if (node.IsNull()) return;
    if (!node.IsSequence()) return All(node);
    for (auto it = node.begin(); it != node.end() && Spend(); ++it) item(*it);
  }

  void Provider(YAML::Node item) {
    Section(item, kProviderPlain, [this](const std::string& k, YAML::Node v) {
      if (k == "keys") {
        List(v, [this](YAML::Node key_item) {
          Section(key_item, kProviderKeyPlain, [this](const std::string& kk, YAML::Node vv) {
            if (kk != "value") return false;
            Secret(vv);
            return true;
          });
        });
        return true;
      }
      if (k == "headers") {
        if (v.IsNull()) return true;
        if (!v.IsMap()) {
          All(v);
          return true;
        }
        for (auto it = v.begin(); it != v.end() && Spend(); ++it) Secret(it->second);
        return true;
      }
      return false;
    });
  }

  // A secret value: masked unless empty or made only of ${VAR} references.
  void Secret(YAML::Node node) {
    if (node.IsNull()) return;
    if (!node.IsScalar()) return All(node);
    const std::string& text = node.Scalar();
    if (text.empty() || IsOnlyReferences(text) || text == kMask) return;
    node = std::string(kMask);
  }

  void Url(YAML::Node node) {
    if (node.IsNull()) return;
    if (!node.IsScalar()) return All(node);
    const std::string text = node.Scalar();
    const std::string masked = secret::MaskSpans(
        text, [](std::string_view span) { return !span.empty() && !IsOnlyReferences(span); });
    if (masked != text) node = masked;
  }

  // Every value beneath node masked (mapping keys are kept).
  void All(YAML::Node node) {
    if (!Spend()) return;
    if (node.IsScalar()) return Secret(node);
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end() && !exhausted_; ++it) All(it->second);
    } else if (node.IsSequence()) {
      for (auto it = node.begin(); it != node.end() && !exhausted_; ++it) All(*it);
    }
  }

  size_t budget_ = kMaxNodes;
  bool exhausted_ = false;
};

// ---------------------------------------------------------------------------
// RestoreMasked

class Restorer {
 public:
  Restorer(const std::string& current_text, const EnvLookup& env) : current_text_(current_text), env_(env) {}

  // Finds every masked secret of next and its raw value in the current file.
  void Collect(const YAML::Node& next) {
    for (auto it = next.begin(); it != next.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      const YAML::Node v = it->second;  // a copy: it-> yields a temporary
      if (key == "server") {
        if (std::optional<YAML::Node> admin = Child(v, "admin_key"); admin && IsMask(*admin)) {
          Take(*admin, "server.admin_key", CurrentScalar({"server", "admin_key"}),
               "the current file has no server.admin_key");
        }
      } else if (key == "keys" && v.IsSequence()) {
        ClientKeys(v);
      } else if (key == "providers" && v.IsSequence()) {
        Providers(v);
      } else if ((key == "store" || key == "redis") && v.IsScalar()) {
        Url(v, key);
      }
    }
  }

  // Puts the raw values in place. False when two masked places share one
  // node (a YAML alias) but need different values.
  bool Apply() {
    for (size_t i = 0; i < restores_.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (restores_[j].node.is(restores_[i].node) && restores_[j].value != restores_[i].value) {
          Problem(restores_[i].path + " is an alias (*) of " + restores_[j].path +
                  ", but the two take different values; write each value out");
        }
      }
    }
    if (!problems_.empty()) return false;
    for (Restore& r : restores_) r.node = r.value;
    return true;
  }

  const std::vector<std::string>& problems() const { return problems_; }

 private:
  struct Restore {
    YAML::Node node;  // in the posted document
    std::string value;
    std::string path;
  };

  void ClientKeys(const YAML::Node& list) {
    size_t i = 0;
    for (auto it = list.begin(); it != list.end(); ++it, ++i) {
      std::optional<YAML::Node> key = Child(*it, "key");
      if (!key || !IsMask(*key)) continue;
      const std::string path = JoinKey(JoinIndex("keys", i), "key");
      const std::optional<std::string> name = ChildScalar(*it, "name");
      if (!name) {
        Problem(path + " is masked (****) but the key has no name to find its current value by; send the value");
        continue;
      }
      const std::optional<YAML::Node> item = CurrentItem("keys", "name", *name);
      Take(*key, path, item ? ChildScalar(*item, "key") : std::nullopt,
           item ? "the key named " + Named(*name) + " has no value in the current file"
                : "no key named " + Named(*name) + " exists");
    }
  }

  void Providers(const YAML::Node& list) {
    size_t i = 0;
    for (auto it = list.begin(); it != list.end(); ++it, ++i) {
      const std::string provider_path = JoinIndex("providers", i);
      const std::optional<std::string> id = ChildScalar(*it, "id");
      std::optional<YAML::Node> current;
      if (id) current = CurrentItem("providers", "id", *id);
      const std::string no_provider =
          id ? "no provider with id " + Named(*id) + " exists" : "the provider has no id to find it by";
      if (std::optional<YAML::Node> keys = Child(*it, "keys"); keys && keys->IsSequence()) {
        size_t k = 0;
        for (auto kt = keys->begin(); kt != keys->end(); ++kt, ++k) {
          std::optional<YAML::Node> value = Child(*kt, "value");
          if (!value || !IsMask(*value)) continue;
          const std::string path = JoinKey(JoinIndex(JoinKey(provider_path, "keys"), k), "value");
          const std::optional<std::string> key_id = ChildScalar(*kt, "id");
          if (!key_id) {
            Problem(path + " is masked (****) but the key has no id to find its current value by; send the value");
            continue;
          }
          std::optional<YAML::Node> item;
          if (current) item = FindItem(Child(*current, "keys"), "id", *key_id);
          std::string why = no_provider;
          if (item) {
            why = "key " + Named(*key_id) + " of provider " + Named(*id) + " has no value in the current file";
          } else if (current) {
            why = "provider " + Named(*id) + " has no key with id " + Named(*key_id);
          }
          Take(*value, path, item ? ChildScalar(*item, "value") : std::nullopt, why);
        }
      }
      if (std::optional<YAML::Node> headers = Child(*it, "headers"); headers && headers->IsMap()) {
        for (auto ht = headers->begin(); ht != headers->end(); ++ht) {
          if (!ht->first.IsScalar() || !IsMask(ht->second)) continue;
          const std::string name = ht->first.Scalar();
          const std::string path = JoinKey(JoinKey(provider_path, "headers"), name);
          std::optional<std::string> raw;
          if (current) raw = HeaderValue(Child(*current, "headers"), name);
          Take(ht->second, path, raw,
               current ? "provider " + Named(*id) + " has no header " + Named(name) : no_provider);
        }
      }
    }
  }

  // A store or redis URL: masked whole, or with masked password spans.
  void Url(const YAML::Node& node, const std::string& key) {
    const std::optional<std::string> raw = CurrentScalar({key});
    const std::string missing = "the current file has no " + key;
    if (IsMask(node)) return Take(node, key, raw, missing);
    const std::string posted = node.Scalar();
    std::vector<secret::UrlSpan> masked;
    for (const secret::UrlSpan& s : secret::UrlPasswordSpans(posted)) {
      if (std::string_view(posted).substr(s.begin, s.end - s.begin) == kMask) masked.push_back(s);
    }
    if (masked.empty()) return;
    if (!CurrentDocument()) {
      return Problem(key + " holds a masked password (****) but the current configuration file cannot be read (" +
                     current_error_ + "); send the value");
    }
    if (!raw || raw->empty()) {
      return Problem(key + " holds a masked password (****) but " + missing + " to take it from; send the value");
    }
    // Unchanged from what ConfigToJson showed: the raw value whole, references kept.
    std::string expanded;
    std::vector<std::string> expand_errors;
    if (ExpandEnv(*raw, env_, &expanded, &expand_errors) &&
        secret::EscapeReferences(MaskUrlPassword(expanded)) == posted) {
      restores_.push_back({node, *raw, key});
      return;
    }
    // Edited: each masked password from the same place in the raw URL.
    const std::vector<secret::UrlSpan> raw_spans = secret::UrlPasswordSpans(*raw);
    std::string value = posted;
    for (auto it = masked.rbegin(); it != masked.rend(); ++it) {
      auto same = std::find_if(raw_spans.begin(), raw_spans.end(), [&](const secret::UrlSpan& r) {
        return r.kind == it->kind && r.ordinal == it->ordinal && r.end > r.begin;
      });
      if (same == raw_spans.end()) {
        return Problem(key + " holds a masked password (****) but the current " + key +
                       (IsOnlyReferences(*raw) ? " is taken whole from " + *raw + ", and this URL differs from it"
                                               : " has no password at that place") +
                       "; send the full URL");
      }
      value.replace(it->begin, it->end - it->begin, raw->substr(same->begin, same->end - same->begin));
    }
    restores_.push_back({node, value, key});
  }

  // Restores node from raw, or reports that nothing is there to take.
  void Take(const YAML::Node& node, const std::string& path, const std::optional<std::string>& raw,
            const std::string& why_missing) {
    if (!CurrentDocument()) {
      return Problem(path + " is masked (****) but the current configuration file cannot be read (" +
                     current_error_ + "); send the value");
    }
    if (!raw || raw->empty()) {
      return Problem(path + " is masked (****) but " + why_missing + " to take it from; send the value");
    }
    restores_.push_back({node, *raw, path});
  }

  void Problem(std::string message) {
    if (problems_.size() < kMaxProblems) problems_.push_back(std::move(message));
  }

  // The current file, parsed on first use; null when it cannot be.
  const YAML::Node* CurrentDocument() {
    if (!current_loaded_) {
      current_loaded_ = true;
      current_ok_ = secret::LoadOneDocument(current_text_, &current_, &current_error_);
    }
    return current_ok_ ? &current_ : nullptr;
  }

  std::optional<std::string> CurrentScalar(std::initializer_list<std::string_view> keys) {
    const YAML::Node* doc = CurrentDocument();
    if (doc == nullptr) return std::nullopt;
    YAML::Node node = *doc;
    for (std::string_view key : keys) {
      std::optional<YAML::Node> child = Child(node, key);
      if (!child) return std::nullopt;
      // reset() rebinds the handle; operator= would overwrite the node it
      // refers to, i.e. the current document itself.
      node.reset(*child);
    }
    if (!node.IsScalar()) return std::nullopt;
    return node.Scalar();
  }

  std::optional<YAML::Node> CurrentItem(std::string_view list, std::string_view field, const std::string& value) {
    const YAML::Node* doc = CurrentDocument();
    if (doc == nullptr) return std::nullopt;
    return FindItem(Child(*doc, list), field, value);
  }

  // The first mapping of list whose field is the scalar value.
  static std::optional<YAML::Node> FindItem(const std::optional<YAML::Node>& list, std::string_view field,
                                            const std::string& value) {
    if (!list || !list->IsSequence()) return std::nullopt;
    for (auto it = list->begin(); it != list->end(); ++it) {
      if (ChildScalar(*it, field) == value) return *it;
    }
    return std::nullopt;
  }

  // Header names are case-insensitive: an exact match first, then any case.
  static std::optional<std::string> HeaderValue(const std::optional<YAML::Node>& headers, const std::string& name) {
    if (!headers || !headers->IsMap()) return std::nullopt;
    if (std::optional<std::string> exact = ChildScalar(*headers, name)) return exact;
    const std::string lower = Lower(name);
    for (auto it = headers->begin(); it != headers->end(); ++it) {
      if (it->first.IsScalar() && Lower(it->first.Scalar()) == lower && it->second.IsScalar()) {
        return it->second.Scalar();
      }
    }
    return std::nullopt;
  }

  const std::string& current_text_;
  const EnvLookup& env_;
  bool current_loaded_ = false;
  bool current_ok_ = false;
  YAML::Node current_;
  std::string current_error_;
  std::vector<Restore> restores_;
  std::vector<std::string> problems_;
};

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

std::string MaskYamlText(const std::string& yaml_text, std::string* error) {
  error->clear();
  try {
    YAML::Node root;
    if (!secret::LoadOneDocument(yaml_text, &root, error)) return "";
    if (root.IsNull()) return "";
    if (!Masker().Run(root)) {
      *error = "the document has too many entries once YAML aliases are expanded";
      return "";
    }
    std::string out;
    if (!secret::Emit(root, &out, error)) return "";
    return out;
  } catch (const std::exception& e) {  // yaml-cpp, allocation
    *error = std::string("cannot mask the document: ") + e.what();
  }
  return "";
}

bool RestoreMasked(const std::string& next_text, const std::string& current_text, const EnvLookup& env,
                   std::string* out_text, std::string* error) {
  out_text->clear();
  error->clear();
  try {
    YAML::Node next;
    if (!secret::LoadOneDocument(next_text, &next, error)) return false;
    if (!next.IsMap()) {
      *error = std::string("the document must be a mapping (server:, keys:, providers:, ...), got ") +
               schema::KindName(next);
      return false;
    }
    Restorer restorer(current_text, env);
    restorer.Collect(next);
    if (!restorer.Apply()) {
      *error = Join(restorer.problems());
      return false;
    }
    if (!secret::SetBlockStyle(next, kMaxNodes)) {
      *error = "the document has too many entries once YAML aliases are expanded";
      return false;
    }
    return secret::Emit(next, out_text, error);
  } catch (const std::exception& e) {  // yaml-cpp, allocation
    out_text->clear();
    *error = std::string("cannot read the document: ") + e.what();
  }
  return false;
}

bool RestoreMasked(const std::string& next_text, const std::string& current_text, std::string* out_text,
                   std::string* error) {
  return RestoreMasked(next_text, current_text, ProcessEnv(), out_text, error);
}

}  // namespace sy::config
