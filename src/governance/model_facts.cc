#include "governance/model_facts.h"

#include <string_view>

namespace sy::gov {
namespace {

struct Row {
  std::string_view prefix;
  ModelFacts facts;
};

// Public model documentation as of 2026; a prefix covers dated versions.
constexpr Row kRows[] = {
    {"gpt-4o", {128000, true, true}},         {"gpt-4.1", {1047576, true, true}},
    {"gpt-4-turbo", {128000, true, true}},    {"gpt-4", {8192, false, true}},
    {"gpt-3.5-turbo", {16385, false, true}},  {"gpt-5", {400000, true, true}},
    {"o1", {200000, true, true}},             {"o3", {200000, true, true}},
    {"o4-mini", {200000, true, true}},        {"text-embedding-3", {8191, false, false}},
    {"claude-opus-4", {200000, true, true}},  {"claude-sonnet-4", {200000, true, true}},
    {"claude-3-7-sonnet", {200000, true, true}}, {"claude-3-5-sonnet", {200000, true, true}},
    {"claude-3-5-haiku", {200000, true, true}}, {"claude-3", {200000, true, true}},
    {"claude-haiku-4", {200000, true, true}}, {"gemini-2.5", {1048576, true, true}},
    {"gemini-2.0", {1048576, true, true}},    {"gemini-1.5-pro", {2097152, true, true}},
    {"gemini-1.5-flash", {1048576, true, true}}, {"llama3", {8192, false, false}},
    {"llama3.1", {131072, false, true}},      {"llama3.2", {131072, false, true}},
};

}  // namespace

ModelFacts FactsOf(std::string_view upstream_model) {
  const Row* best = nullptr;
  for (const Row& r : kRows) {
    if (upstream_model.starts_with(r.prefix) && (!best || r.prefix.size() > best->prefix.size())) best = &r;
  }
  return best ? best->facts : ModelFacts{};
}

}  // namespace sy::gov
