#include "server/client_sink.h"

#include <array>
#include <cstdio>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>

namespace sy {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

asio::awaitable<bool> ClientSink::Begin(ResponseHead head) {
  started_ = true;
  status_ = head.status;
  chunked_ = !head.content_length.has_value();
  head_.reserve(256);
  head_ = "HTTP/1.1 ";
  head_ += std::to_string(head.status);
  head_ += ' ';
  head_ += ReasonPhrase(head.status);
  head_ += "\r\nServer: switchyard\r\nContent-Type: ";
  head_ += head.content_type;
  if (chunked_) {
    head_ += "\r\nTransfer-Encoding: chunked";
  } else {
    head_ += "\r\nContent-Length: ";
    head_ += std::to_string(*head.content_length);
  }
  if (!keep_alive_) head_ += "\r\nConnection: close";
  head_ += "\r\nx-request-id: ";
  head_ += request_id_;
  for (const auto& [name, value] : head.headers) {
    head_ += "\r\n";
    head_ += name;
    head_ += ": ";
    head_ += value;
  }
  head_ += "\r\n\r\n";
  co_return ok_;
}

asio::awaitable<bool> ClientSink::Write(std::string_view data) {
  if (data.empty() || !ok_) co_return ok_;
  co_return co_await SendPiece(data, false);
}

// One piece of the body (a chunk when chunked), after the head if it is not
// sent yet, and with `last` the chunked terminator too: one writev.
asio::awaitable<bool> ClientSink::SendPiece(std::string_view data, bool last) {
  std::array<asio::const_buffer, 4> bufs;
  char size_line[24];
  bufs[0] = asio::buffer(head_);
  if (chunked_) {
    int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
    bufs[1] = asio::buffer(size_line, static_cast<size_t>(n));
    bufs[2] = asio::buffer(data);
    bufs[3] = last ? asio::buffer("\r\n0\r\n\r\n", 7) : asio::buffer("\r\n", 2);
  } else {
    bufs[1] = asio::buffer(data);
  }
  co_return co_await Send(bufs);
}

asio::awaitable<bool> ClientSink::End() {
  if (!ok_) co_return false;
  std::array<asio::const_buffer, 2> bufs;
  bufs[0] = asio::buffer(head_);
  if (chunked_) bufs[1] = asio::buffer("0\r\n\r\n", 5);
  if (asio::buffer_size(bufs) == 0) co_return true;
  co_return co_await Send(bufs);
}

// The last piece and the end of the body in one writev.
asio::awaitable<bool> ClientSink::WriteAndEnd(std::string_view data) {
  if (data.empty() || !ok_) co_return co_await End();
  co_return co_await SendPiece(data, true);
}

void ClientSink::Abort() {
  ok_ = false;
  error_code ignored;
  conn_.socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

// Tries one non-blocking writev first: the kernel's send buffer almost
// always has room, and then no async operation or write timer is needed.
// Only what did not fit is written asynchronously, under the write timeout.
template <typename Buffers>
asio::awaitable<bool> ClientSink::Send(const Buffers& bufs) {
  error_code ec;
  auto& socket = conn_.socket;
  const size_t total = asio::buffer_size(bufs);
  size_t sent = 0;
  if (!socket.non_blocking()) socket.non_blocking(true, ec);
  if (!ec) sent = socket.write_some(bufs, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  if (!ec && sent < total) {
    auto rest = beast::buffers_suffix<Buffers>(bufs);
    rest.consume(sent);
    conn_.ExpireIn(write_timeout_);
    co_await asio::async_write(socket, rest, asio::redirect_error(asio::use_awaitable, ec));
    conn_.NoDeadline();
  }
  head_.clear();
  if (ec) ok_ = false;
  co_return ok_;
}

}  // namespace sy
