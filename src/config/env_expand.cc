#include "config/env_expand.h"

namespace sy::config {
namespace {

bool IsNameStart(char c) { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

}  // namespace

bool IsValidEnvName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0])) return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

bool ExpandEnv(std::string_view text, const EnvLookup& env, std::string* out,
               std::vector<std::string>* errors) {
  out->clear();
  const size_t errors_before = errors->size();
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$') {
      out->push_back(text[i++]);
      continue;
    }
    if (text.substr(i, 3) == "$${") {  // escape for a literal "${"
      out->append("${");
      i += 3;
      continue;
    }
    if (text.substr(i, 2) != "${") {  // a "$" that starts no reference
      out->push_back('$');
      ++i;
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      errors->push_back(
          "unterminated \"${\": close it with \"}\", or write \"$${\" for a literal \"${\"");
      out->append(text.substr(i));
      break;
    }
    const std::string name(text.substr(i + 2, close - i - 2));
    i = close + 1;
    if (!IsValidEnvName(name)) {
      errors->push_back("invalid variable reference \"${" + name +
                        "}\": names use letters, digits and _, and do not start with a digit");
      continue;
    }
    std::optional<std::string> value = env ? env(name) : std::nullopt;
    if (!value) {
      errors->push_back("environment variable " + name + " is not set (referenced as ${" + name +
                        "})");
      continue;
    }
    out->append(*value);
  }
  return errors->size() == errors_before;
}

}  // namespace sy::config
