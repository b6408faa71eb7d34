// WS /chat/ws: the LLM service's WebSocket chat. After the upgrade, each text
// message from the client is a chat body (the seed's kebab-case fields);
// the answer comes back as text frames, one per generated piece, then an
// empty frame that marks its end; an error is one frame
// "__ERROR__:<message>" (and no empty frame). Messages are answered in order,
// one at a time; the connection stays open between them.
//
// Each message goes through the gateway like a POST /chat/completions
// (admission, limits, usage records, sessions) with the caller admitted at
// the upgrade. A frame that cannot be written ends the generation (the
// engine's sequence is freed) and the connection.
#pragma once

#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

#include "server/gateway.h"
#include "server/worker.h"

namespace sy {

boost::asio::awaitable<void> ServeChatSocket(ClientConnection& conn, Worker& worker,
                                             const boost::beast::http::request<boost::beast::http::empty_body>& upgrade,
                                             const Admission& admission, std::string_view request_id);

}  // namespace sy
