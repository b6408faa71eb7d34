#include "server/chat_socket.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <simdjson.h>

#include "common/cancellation.h"
#include "common/log.h"
#include "frontdoor/llmservice/llmservice_frontdoor.h"

namespace sy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using Socket = websocket::stream<asio::ip::tcp::socket&>;

namespace {

// The answer to one message, as frames: pieces of a 200, or the error of a
// failed request.
class SocketSink final : public ResponseSink {
 public:
  explicit SocketSink(Socket& ws) : ws_(ws) {}

  asio::awaitable<bool> Begin(ResponseHead head) override {
    status_ = head.status;
    started_ = true;
    co_return alive_;
  }

  asio::awaitable<bool> Write(std::string_view data) override {
    if (!alive_) co_return false;
    if (status_ >= 400) {
      error_body_.append(data);
      co_return true;
    }
    pending_.append(data);
    pieces_.clear();
    if (!llmservice::TakeSocketPieces(&pending_, &pieces_)) {
      alive_ = false;
      co_return false;
    }
    for (const std::string& piece : pieces_) {
      if (piece.starts_with(llmservice::kSocketErrorPrefix)) errored_ = true;
      const bool sent = co_await Frame(piece);
      if (!sent) co_return false;
    }
    co_return true;
  }

  asio::awaitable<bool> End() override {
    if (!alive_) co_return false;
    if (status_ >= 400) {
      // {"error":"message"} (the LLM service's error shape) → one error frame.
      std::string message = "request failed with status " + std::to_string(status_);
      simdjson::dom::parser parser;
      std::string_view text;
      if (!parser.parse(error_body_).get_object()["error"].get_string().get(text)) message = std::string(text);
      std::string frame = std::string(llmservice::kSocketErrorPrefix) + message;
      const bool sent = co_await Frame(frame);
      co_return sent;
    }
    if (errored_) co_return true;
    // An empty frame ends a successful answer (the client knows it is complete).
    const std::string end;
    const bool sent = co_await Frame(end);
    co_return sent;
  }

  void Abort() override { alive_ = false; }
  bool started() const override { return started_; }
  bool chunked() const override { return true; }
  bool alive() const { return alive_; }

 private:
  asio::awaitable<bool> Frame(const std::string& text) {
    boost::system::error_code ec;
    ws_.text(true);
    co_await ws_.async_write(asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) alive_ = false;
    co_return alive_;
  }

  Socket& ws_;
  int status_ = 0;
  bool started_ = false;
  bool alive_ = true;
  bool errored_ = false;  // an in-band error frame went out
  std::string error_body_;
  std::string pending_;
  std::vector<std::string> pieces_;
};

}  // namespace

asio::awaitable<void> ServeChatSocket(ClientConnection& conn, Worker& worker,
                                      const beast::http::request<beast::http::empty_body>& upgrade,
                                      const Admission& admission, std::string_view request_id) {
  Socket ws(conn.socket);
  const auto& cfg = worker.gateway().config().server;
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws.read_message_max(cfg.max_body_bytes);
  boost::system::error_code ec;
  co_await ws.async_accept(upgrade, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  beast::flat_buffer buffer;
  while (!worker.draining()) {
    buffer.clear();
    co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;  // closed, timed out, or not WebSocket
    std::string body = beast::buffers_to_string(buffer.data());
    SocketSink sink(ws);
    Cancellation cancel;
    RequestContext ctx;
    ctx.http = &worker.http();
    ctx.cancel = &cancel;
    ctx.request_id = request_id;
    co_await worker.gateway().HandleSocketMessage(std::move(body), admission, sink, ctx);
    if (!sink.alive()) break;
  }
  if (ws.is_open()) {
    websocket::close_reason reason(websocket::close_code::normal);
    co_await ws.async_close(reason, asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace sy
