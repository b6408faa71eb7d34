#include "upstream/http_client.h"

namespace sy::upstream {

// Counts only the bytes this call appends. On overflow *out keeps the first
// max_bytes of them and the response is left unfinished (its connection is
// closed, not pooled, when the response is destroyed).
boost::asio::awaitable<HttpError> HttpResponse::ReadAll(std::string* out, size_t max_bytes) {
  const size_t start = out->size();
  bool done = false;
  while (!done) {
    HttpError err = co_await ReadSome(out, &done);
    if (err) co_return err;
    if (out->size() - start > max_bytes) {
      out->resize(start + max_bytes);
      co_return HttpError{HttpErrorKind::kProtocol,
                          "response body exceeds " + std::to_string(max_bytes) + " bytes"};
    }
  }
  co_return HttpError{};
}

}  // namespace sy::upstream
