#include "server/admin_api.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"
#include "common/text_codec.h"
#include "governance/clock.h"
#include "server/admin_internal.h"
#include "server/router.h"

namespace sy {
namespace admin {

Reply JsonReply(int status, const Json& body) {
  Reply r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

Reply ErrorReply(int status, std::string_view message, std::string_view type) {
  return JsonReply(status, {{"error", {{"message", message}, {"type", type}, {"code", status}}}});
}

Reply StoreErrorReply(const gov::Status& st, std::string_view what) {
  using K = gov::Status::Kind;
  switch (st.kind()) {
    case K::kNotFound: return ErrorReply(404, "Cannot " + std::string(what) + ": not found.", "not_found_error");
    case K::kConflict: return ErrorReply(409, "Cannot " + std::string(what) + ": it conflicts with an existing one.");
    case K::kInvalid: return ErrorReply(400, "Cannot " + std::string(what) + ": invalid value.");
    default: break;
  }
  log::Warn("admin: cannot ", what, ": ", st.message());
  return ErrorReply(503, "Cannot " + std::string(what) + ": the database is unavailable; try again.", "api_error");
}

std::string Query(const Request& r, std::string_view name) {
  std::string target = "?" + r.query;
  std::string out;
  text::PercentDecode(QueryParam(target, name), &out);
  for (char& c : out) {
    if (c == '+') c = ' ';
  }
  return out;
}

bool ParseObject(const std::string& body, Json* out, std::string* error) {
  *out = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded()) {
    *error = body.empty() ? "Request body is empty; expected a JSON object." : "Request body is not valid JSON.";
    return false;
  }
  if (!out->is_object()) {
    *error = "Request body must be a JSON object.";
    return false;
  }
  return true;
}

std::string UnknownMember(const Json& obj, std::initializer_list<std::string_view> allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (auto a : allowed) known = known || it.key() == a;
    if (!known) return it.key().substr(0, 100);
  }
  return "";
}

Json Dollars(gov::Micros micros) {
  if (micros < 0) return nullptr;
  return static_cast<double>(micros) / 1e6;
}

Json TimeOrNull(int64_t ms) { return ms == 0 ? Json(nullptr) : Json(gov::IsoTime(ms)); }

namespace {

Reply Dispatch(Context& ctx, const Request& r) {
  try {
    if (auto reply = HandleTenancy(ctx, r)) return std::move(*reply);
    if (auto reply = HandleConfig(ctx, r)) return std::move(*reply);
    return ErrorReply(404, "Unknown admin endpoint: " + r.method.substr(0, 16) + " " + r.path.substr(0, 200),
                      "not_found_error");
  } catch (const std::exception& e) {
    // The one catch-all at the edge of a handler: nlohmann-json throws on
    // misuse; nothing else here should.
    log::Error("admin: ", r.method, " ", r.path, ": ", e.what());
    return ErrorReply(500, "The admin request failed.", "server_error");
  }
}

}  // namespace
}  // namespace admin

struct AdminApi::Worker {
  boost::asio::thread_pool pool{1};  // one admin thread: admin calls run one at a time
};

AdminApi::AdminApi(Gateway& gateway)
    : gateway_(gateway), worker_(std::make_unique<Worker>()), started_(std::chrono::steady_clock::now()) {}

AdminApi::~AdminApi() {
  worker_->pool.join();
}

boost::asio::awaitable<void> AdminApi::Handle(GatewayRequest& request, const Admission& admission,
                                              ResponseSink& sink) {
  auto r = std::make_shared<admin::Request>();
  r->method = std::string(request.method);
  const std::string_view target = request.target;
  const size_t q = target.find('?');
  r->path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) r->query = std::string(target.substr(q + 1));
  r->body = std::move(request.body);
  r->caller = admission.caller;
  // Runs on the admin thread; the worker's event loop goes on meanwhile.
  // The initiation is a named local that owns nothing: GCC 12 destroys
  // temporaries that live across a co_await twice, and a shared_ptr captured
  // by a temporary lambda was released twice (a use-after-free of the request
  // on every admin call). The posted job takes its own reference.
  const std::shared_ptr<admin::Request>* request_ref = &r;
  auto initiate = [this, request_ref](auto handler) {
    boost::asio::post(worker_->pool, [this, r = *request_ref, handler = std::move(handler)]() mutable {
      admin::Context ctx{gateway_, gateway_.governance(), started_};
      admin::Reply out = admin::Dispatch(ctx, *r);
      auto ex = boost::asio::get_associated_executor(handler);
      boost::asio::post(ex, [handler = std::move(handler), out = std::move(out)]() mutable {
        std::move(handler)(std::move(out));
      });
    });
  };
  admin::Reply reply =
      co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(admin::Reply)>(
          initiate, boost::asio::use_awaitable);
  ResponseHead head;
  head.status = reply.status;
  head.content_type = reply.content_type;
  head.content_length = reply.body.size();
  head.headers.emplace_back("Cache-Control", "no-store");
  const bool begun = co_await sink.Begin(std::move(head));
  if (begun) co_await sink.WriteAndEnd(reply.body);
}

}  // namespace sy
