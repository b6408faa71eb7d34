// Internal to the admin API (admin_api.cc, admin_tenancy.cc, admin_config.cc):
// the synchronous request/reply every admin handler works with. Handlers run
// on the admin thread, one at a time; they may block on the store.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "governance/governance.h"
#include "server/gateway.h"

namespace sy::admin {

using Json = nlohmann::json;

struct Request {
  std::string method;
  std::string path;   // without the query
  std::string query;  // after '?', still percent-encoded
  std::string body;
  gov::Caller caller;
};

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

// Everything a handler may use.
struct Context {
  Gateway& gateway;
  gov::Governance& governance;
  std::chrono::steady_clock::time_point started;  // process start, for uptime
};

Reply JsonReply(int status, const Json& body);
// An error in the OpenAI shape ({"error":{message,type,code}}).
Reply ErrorReply(int status, std::string_view message, std::string_view type = "invalid_request_error");
// A store failure: 503 when unavailable, 404/409/400 for the others. The
// message is generic (the store's may name hosts or files; it is logged).
Reply StoreErrorReply(const gov::Status& st, std::string_view what);
// Query parameter, percent-decoded ("" when absent).
std::string Query(const Request& r, std::string_view name);
// Parses the body as a JSON object; false (and *error set) otherwise.
bool ParseObject(const std::string& body, Json* out, std::string* error);
// Unknown members of an object: "" when every member is in `allowed`, else
// the first unknown one.
std::string UnknownMember(const Json& obj, std::initializer_list<std::string_view> allowed);
// Dollars as a JSON number (micros / 1e6), or null for kNoBudget.
Json Dollars(gov::Micros micros);
Json TimeOrNull(int64_t ms);

// Handlers. Each returns nullopt when the path is not its own.
std::optional<Reply> HandleTenancy(Context& ctx, const Request& r);  // /admin/users, /admin/keys, /admin/usage, /status
std::optional<Reply> HandleConfig(Context& ctx, const Request& r);   // /admin/v1/*, /admin/providers, /v0/management/*

// Shared by GhostLLM's POST /admin/keys and llm-mux's PUT api-keys.
Reply CreateKey(Context& ctx, const Json& body);
Reply UpdateKey(Context& ctx, const std::string& id, const Json& body);
Reply RevokeKey(Context& ctx, const std::string& id);
Json KeysJson(Context& ctx, const std::string& user_id, gov::Status* st);
Json UsageJson(Context& ctx, const Request& r, gov::Status* st, std::string* bad_param);

}  // namespace sy::admin
