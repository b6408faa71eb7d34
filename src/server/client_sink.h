// The ResponseSink over a client connection (HTTP/1.1).
//
// The status line and headers are held back and go out with the first piece
// of body, so a small response costs one write(2). Every response carries
// `x-request-id`. A write that cannot complete within the write timeout (the
// client stopped reading) fails, and the connection is then closed.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/response_sink.h"
#include "server/worker.h"

namespace sy {

std::string_view ReasonPhrase(int status);

class ClientSink final : public ResponseSink {
 public:
  // REQUIRES: conn and request_id outlive the sink.
  ClientSink(ClientConnection& conn, bool keep_alive, std::chrono::seconds write_timeout,
             std::string_view request_id)
      : conn_(conn), keep_alive_(keep_alive), write_timeout_(write_timeout), request_id_(request_id) {}

  // Whether the connection may serve another request after this response.
  bool keep_alive() const { return keep_alive_ && ok_; }
  int status() const { return status_; }  // 0 until Begin
  bool started() const override { return started_; }
  bool chunked() const override { return started_ && chunked_; }

  boost::asio::awaitable<bool> Begin(ResponseHead head) override;
  boost::asio::awaitable<bool> Write(std::string_view data) override;
  boost::asio::awaitable<bool> End() override;
  boost::asio::awaitable<bool> WriteAndEnd(std::string_view data) override;
  void Abort() override;

 private:
  boost::asio::awaitable<bool> SendPiece(std::string_view data, bool last);
  template <typename Buffers>
  boost::asio::awaitable<bool> Send(const Buffers& bufs);

  ClientConnection& conn_;
  bool keep_alive_;
  std::chrono::seconds write_timeout_;
  std::string_view request_id_;
  bool started_ = false;
  int status_ = 0;
  bool chunked_ = false;
  bool ok_ = true;
  std::string head_;  // status line and headers not yet sent
};

}  // namespace sy
