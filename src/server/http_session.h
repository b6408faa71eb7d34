// One client connection, start to end, as a coroutine that reads top to bottom:
// wait for a request (idle timeout) → read the header block (size limit,
// header timeout) → read the body (size limit, body timeout) → Gateway::Handle
// → keep alive or close.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace sy {

class Worker;

boost::asio::awaitable<void> RunSession(boost::asio::ip::tcp::socket socket, Worker& worker);

}  // namespace sy
