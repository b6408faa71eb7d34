#include "core/model_router.h"
#include "provider/http_provider.h"

#include <gtest/gtest.h>

namespace sy {
namespace {

config::ProviderConfig ProviderCfg(std::string id) {
  config::ProviderConfig p;
  p.id = std::move(id);
  p.base_url = "http://127.0.0.1:1/v1";
  return p;
}

struct Fixture {
  HttpProvider openai{ProviderCfg("openai")};
  HttpProvider local{ProviderCfg("local")};
  ModelRouter router{{{"gpt-4", "openai/gpt-4o", "openai", "gpt-4o", std::nullopt, std::nullopt, 0},
                      {"fast", "local://llama", "local", "llama", true, std::nullopt, 0}},
                     {{"openai", &openai}, {"local", &local}}};
};

TEST(ModelRouter, AliasWins) {
  Fixture f;
  auto r = f.router.Resolve("gpt-4");
  ASSERT_TRUE(std::holds_alternative<Route>(r));
  EXPECT_EQ(std::get<Route>(r).provider, &f.openai);
  EXPECT_EQ(std::get<Route>(r).upstream_model, "gpt-4o");
}

TEST(ModelRouter, ProviderSlashModelAndSchemeForm) {
  Fixture f;
  auto r = f.router.Resolve("openai/gpt-4o-mini");
  ASSERT_TRUE(std::holds_alternative<Route>(r));
  EXPECT_EQ(std::get<Route>(r).upstream_model, "gpt-4o-mini");
  r = f.router.Resolve("local://org/model-7b");
  ASSERT_TRUE(std::holds_alternative<Route>(r));
  EXPECT_EQ(std::get<Route>(r).provider, &f.local);
  EXPECT_EQ(std::get<Route>(r).upstream_model, "org/model-7b");
  r = f.router.Resolve("local/org/model-7b");
  ASSERT_TRUE(std::holds_alternative<Route>(r));
  EXPECT_EQ(std::get<Route>(r).upstream_model, "org/model-7b");
}

TEST(ModelRouter, UnknownModelIsModelNotFound) {
  Fixture f;
  for (const char* name : {"gpt-5", "nobody/gpt-4o", "openai/", "/gpt-4o", "openai://"}) {
    auto r = f.router.Resolve(name);
    ASSERT_TRUE(std::holds_alternative<GatewayError>(r)) << name;
    EXPECT_EQ(std::get<GatewayError>(r).code, ErrorCode::kModelNotFound);
  }
}

TEST(ModelRouter, AliasCarriesItsDropParams) {
  Fixture f;
  auto fast = f.router.Resolve("fast");
  ASSERT_TRUE(std::holds_alternative<Route>(fast));
  EXPECT_EQ(std::get<Route>(fast).drop_params, std::optional<bool>(true));
  auto direct = f.router.Resolve("local/llama");
  ASSERT_TRUE(std::holds_alternative<Route>(direct));
  EXPECT_EQ(std::get<Route>(direct).drop_params, std::nullopt);  // the provider's setting applies
}

TEST(ModelRouter, LooseResolveDropsOllamasLatestTag) {
  Fixture f;
  auto r = f.router.ResolveLoose("fast:latest");
  ASSERT_TRUE(std::holds_alternative<Route>(r));
  EXPECT_EQ(std::get<Route>(r).upstream_model, "llama");
  r = f.router.ResolveLoose("local/llama:latest");  // a provider/model name keeps its tag
  ASSERT_TRUE(std::holds_alternative<Route>(r));
  EXPECT_EQ(std::get<Route>(r).upstream_model, "llama:latest");
  EXPECT_TRUE(std::holds_alternative<GatewayError>(f.router.Resolve("fast:latest")));
  EXPECT_TRUE(std::holds_alternative<GatewayError>(f.router.ResolveLoose("slow:latest")));
}

TEST(ModelRouter, ListsAliasesAndCountsPerProvider) {
  Fixture f;
  ASSERT_EQ(f.router.models().size(), 2u);
  EXPECT_EQ(f.router.models()[0].id, "gpt-4");
  EXPECT_EQ(f.router.ModelCount("openai"), 1u);
  EXPECT_EQ(f.router.ModelCount("nobody"), 0u);
}

TEST(HttpProvider, WeightedKeyRotation) {
  auto cfg = ProviderCfg("p");
  cfg.keys = {{"a", "ka", 1}, {"b", "kb", 3}};
  HttpProvider p(cfg);
  int counts[2] = {0, 0};
  for (int i = 0; i < 400; ++i) ++counts[p.NextKeyIndex()];
  EXPECT_EQ(counts[0], 100);
  EXPECT_EQ(counts[1], 300);
}

TEST(HttpProvider, RewriteModelTouchesOnlyTheModelValue) {
  InternalRequest req;
  req.model = "gpt-4";
  req.raw_body = "{ \"model\" : \"gpt-4\",\n \"messages\":[{\"content\":\"gpt-4 é\"}] }";
  req.model_span = {12, 19};
  EXPECT_EQ(HttpProvider::RewriteModel(req, "gpt-4o"),
            "{ \"model\" : \"gpt-4o\",\n \"messages\":[{\"content\":\"gpt-4 é\"}] }");
  EXPECT_EQ(HttpProvider::RewriteModel(req, "gpt-4"), req.raw_body);
  EXPECT_EQ(HttpProvider::RewriteModel(req, "a\"b"),
            "{ \"model\" : \"a\\\"b\",\n \"messages\":[{\"content\":\"gpt-4 é\"}] }");
}

}  // namespace
}  // namespace sy
