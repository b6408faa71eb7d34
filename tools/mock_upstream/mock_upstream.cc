// mock_upstream: the project's own OpenAI-compatible upstream, for integration
// tests and as the baseline in bench/. It must stay far faster than any gateway:
// one io_context per thread, SO_REUSEPORT acceptors, a minimal HTTP/1.1 parser
// and pre-built responses for the ordinary cases.
//
// Behaviour is chosen by the request's "model" (parsed in mock_responses.h's
// PickBehaviour). Ordinary names succeed at once; these exercise the gateway:
//
//   chunks-N        a stream of N content chunks
//   slow-MS         waits MS before answering (the client leaving is noticed)
//   drip-MS[-N]     a stream of N (default 1000) content chunks MS apart
//   status-CODE     an OpenAI error body with that HTTP status (429: Retry-After: 7)
//   echo            the request it received (method, path, headers, body) as content
//   garbage         "this is not http" instead of a response, then close
//   close           closes without answering
//
// Faults (each ends the connection; "reset" = RST via SO_LINGER 0, "close" = FIN):
//   reset-headers         reset before any response byte
//   reset-body            non-stream: Content-Length 20000, head + 8000 body bytes, 100 ms, reset
//   reset-stream          stream: chunked head, role + 2 content events, 100 ms, reset
//   endless-headers       "HTTP/1.1 200 OK" then header lines without end
//   endless-body-chunked  non-stream: chunked body without end
//   endless-body-close    non-stream: close-delimited body (no length) without end
//   badchunk-first        chunked head, then a bad chunk size line before any body;
//                         waits (up to 30 s) for the peer to close
//   badchunk-mid          stream: role + 2 content events, 100 ms, a bad chunk size
//                         line; waits (up to 30 s) for the peer to close
//   slow-body-MS          non-stream: head (Content-Length) at once, the body after MS
//   short-stream          stream framed with Content-Length: 100000 (not chunked): role +
//                         2 content events, 100 ms, then close
//   big-stream-MIB        stream: MIB MiB of content events, then the normal end
//   big-body-BYTES        non-stream: a chat body of about BYTES bytes, with Content-Length
// "Without end" stops when a write fails (the peer left) or after 1 GiB.
// Streams count in /_mock/stats: streams_started, then streams_completed or
// streams_aborted (a fault stream counts as aborted).
//
//   mock_upstream --listen 127.0.0.1:0 [--threads N] [--tls-cert FILE --tls-key FILE]
//
// Prints "mock_upstream listening on HOST:PORT" once ready; exits 0 on SIGTERM/SIGINT.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "mock_http.h"
#include "mock_responses.h"

namespace mock {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr size_t kMaxHeadBytes = 64 * 1024;
constexpr uint64_t kMaxBodyBytes = 64ull * 1024 * 1024;
constexpr size_t kInitialBuffer = 16 * 1024;

// ---------------------------------------------------------------- stats

struct Stats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> connections_opened{0};
  std::atomic<int64_t> open_connections{0};
  std::atomic<uint64_t> streams_started{0};
  std::atomic<uint64_t> streams_completed{0};
  std::atomic<uint64_t> streams_aborted{0};
  std::mutex mu;           // guards last_model
  std::string last_model;  // raw JSON string text of the last request's model
};
Stats g_stats;

std::string StatsJson() {
  std::string s = "{\"requests\":" + std::to_string(g_stats.requests.load());
  s += ",\"connections_opened\":" + std::to_string(g_stats.connections_opened.load());
  s += ",\"open_connections\":" + std::to_string(g_stats.open_connections.load());
  s += ",\"streams_started\":" + std::to_string(g_stats.streams_started.load());
  s += ",\"streams_completed\":" + std::to_string(g_stats.streams_completed.load());
  s += ",\"streams_aborted\":" + std::to_string(g_stats.streams_aborted.load());
  std::lock_guard lock(g_stats.mu);
  s += ",\"last_model\":\"" + g_stats.last_model + "\"}";
  return s;
}

void ResetStats() {
  g_stats.requests = 0;
  g_stats.connections_opened = 0;
  g_stats.streams_started = 0;
  g_stats.streams_completed = 0;
  g_stats.streams_aborted = 0;
  std::lock_guard lock(g_stats.mu);
  g_stats.last_model.clear();
}

void NoteModel(std::string_view model) {
  std::lock_guard lock(g_stats.mu);
  if (g_stats.last_model != model) g_stats.last_model.assign(model);
}

// ---------------------------------------------------------------- requests

enum class Endpoint { kChat, kCompletions, kEmbeddings, kModels, kModelGet, kStats, kReset, kNotFound };

Endpoint Route(std::string_view path) {
  if (EndsWith(path, "/chat/completions")) return Endpoint::kChat;
  if (EndsWith(path, "/completions")) return Endpoint::kCompletions;
  if (EndsWith(path, "/embeddings")) return Endpoint::kEmbeddings;
  if (EndsWith(path, "/models")) return Endpoint::kModels;
  if (EndsWith(path, "/_mock/stats")) return Endpoint::kStats;
  if (EndsWith(path, "/_mock/reset")) return Endpoint::kReset;
  if (path.find("/models/") != std::string_view::npos) return Endpoint::kModelGet;
  return Endpoint::kNotFound;
}

// Everything needed to answer one request, owned, so the read buffer can be
// reused as soon as the request is parsed.
struct Request {
  Endpoint endpoint = Endpoint::kNotFound;
  std::string model;  // raw JSON string text
  Behaviour behaviour;
  bool stream = false;
  bool include_usage = false;
  bool keep_alive = true;
  int inputs = 1;         // embeddings
  bool base64 = false;    // embeddings: encoding_format "base64"
  std::string echo_json;  // echo: the JSON string literal sent back as content
  std::string model_id;   // GET .../models/{id}
};

Request MakeRequest(const RequestHead& head, std::string_view body) {
  Request r;
  r.endpoint = Route(head.path);
  r.keep_alive = head.keep_alive;
  if (r.endpoint == Endpoint::kModelGet) {
    r.model_id = head.path.substr(head.path.rfind('/') + 1);
    return r;
  }
  if (r.endpoint != Endpoint::kChat && r.endpoint != Endpoint::kCompletions &&
      r.endpoint != Endpoint::kEmbeddings) {
    return r;
  }
  std::string_view model = ScanModel(body);
  r.model.assign(model);
  r.behaviour = PickBehaviour(model);
  r.stream = r.endpoint != Endpoint::kEmbeddings && ScanTrue(body, "\"stream\"");
  r.include_usage = r.stream && ScanTrue(body, "\"include_usage\"");
  if (r.endpoint == Endpoint::kEmbeddings) {
    r.inputs = ScanInputCount(body);
    r.base64 = ScanString(body, "\"encoding_format\"") == "base64";
  }
  if (r.behaviour.kind == Behaviour::kEcho) {
    std::string e = "{\"method\":" + Quoted(head.method) + ",\"path\":" + Quoted(head.path) +
                    ",\"headers\":{";
    bool first = true;
    for (const auto& [name, value] : HeaderList(head.raw_headers)) {
      if (!first) e += ',';
      first = false;
      e += Quoted(name) + ":" + Quoted(value);
    }
    e += "},\"body\":" + Quoted(body) + "}";
    r.echo_json = Quoted(e);
  }
  return r;
}

// ---------------------------------------------------------------- responses

std::string StreamHead(bool keep_alive) {
  std::string s(kStreamHead);
  if (!keep_alive) s += "Connection: close\r\n";
  s += "\r\n";
  return s;
}

std::string ErrorResponse(int status, std::string_view message, bool keep_alive) {
  std::string extra = status == 429 ? "Retry-After: 7\r\n" : "";
  return FullResponse(status, Reason(status), ErrorBody(status, message, "mock_error"), keep_alive,
                      extra);
}

// The whole response for every case that is answered in one write.
std::string BuildResponse(const Request& r) {
  switch (r.endpoint) {
    case Endpoint::kModels:
      return FullResponse(200, "OK", ModelsBody(), r.keep_alive);
    case Endpoint::kModelGet:
      return FullResponse(200, "OK", ModelObject(r.model_id), r.keep_alive);
    case Endpoint::kNotFound:
      return FullResponse(404, "Not Found",
                          R"({"error":{"message":"mock: no such path","type":"invalid_request_error","code":"not_found"}})",
                          r.keep_alive);
    default:
      break;
  }
  if (r.behaviour.kind == Behaviour::kStatus) {
    return ErrorResponse(r.behaviour.a, "mock error " + std::to_string(r.behaviour.a),
                         r.keep_alive);
  }
  if (r.endpoint == Endpoint::kEmbeddings) {
    return FullResponse(200, "OK", EmbeddingsBody(r.model, r.inputs, r.base64), r.keep_alive);
  }
  bool echo = r.behaviour.kind == Behaviour::kEcho;
  StreamKind kind = r.endpoint == Endpoint::kChat ? StreamKind::kChat : StreamKind::kCompletion;
  if (!r.stream) {
    std::string_view content = echo ? std::string_view(r.echo_json) : "\"Hello from mock\"";
    return FullResponse(200, "OK",
                        kind == StreamKind::kChat ? ChatBody(r.model, content)
                                                  : CompletionBody(r.model, content),
                        r.keep_alive);
  }
  std::string s = StreamHead(r.keep_alive);
  if (kind == StreamKind::kChat) AppendRoleFrame(&s, r.model);
  int pieces = 0;
  if (echo) {
    AppendContentFrame(&s, kind, r.model, r.echo_json);
    pieces = 1;
  } else if (r.behaviour.kind == Behaviour::kChunks) {
    for (int i = 0; i < r.behaviour.a; ++i) AppendContentFrame(&s, kind, r.model, TokenJson(i));
    pieces = r.behaviour.a;
  } else {
    for (std::string_view p : kStreamPieces) AppendContentFrame(&s, kind, r.model, p);
    pieces = static_cast<int>(std::size(kStreamPieces));
  }
  AppendFinish(&s, kind, r.model, r.include_usage, pieces);
  s += kLastChunk;
  return s;
}

// Pre-built responses for the ordinary cases, per thread. Entries are never
// evicted (pointers stay valid across writes); past kMaxEntries new responses
// are simply built each time.
const std::string* CachedResponse(const Request& r) {
  constexpr size_t kMaxEntries = 1024;
  thread_local std::unordered_map<std::string, std::string> cache;
  std::string key;
  key += static_cast<char>('0' + static_cast<int>(r.endpoint));
  key += r.stream ? 's' : 'n';
  key += r.include_usage ? 'u' : '-';
  if (r.endpoint == Endpoint::kEmbeddings) key += std::to_string(r.inputs) + (r.base64 ? "b/" : "/");
  key += r.model;
  auto it = cache.find(key);
  if (it != cache.end()) return &it->second;
  if (cache.size() >= kMaxEntries) return nullptr;
  return &cache.emplace(std::move(key), BuildResponse(r)).first->second;
}

bool Cacheable(const Request& r) {
  if (!r.keep_alive) return false;
  switch (r.behaviour.kind) {
    case Behaviour::kNormal:
    case Behaviour::kChunks:
    case Behaviour::kStatus:
      return r.endpoint != Endpoint::kModelGet && r.endpoint != Endpoint::kNotFound;
    default:
      return false;
  }
}

// ---------------------------------------------------------------- sessions

template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  explicit Session(Stream stream)
      : stream_(std::move(stream)),
        timer_(stream_.get_executor()),
        signal_(stream_.get_executor()),
        buf_(kInitialBuffer) {
    ++g_stats.connections_opened;
    ++g_stats.open_connections;
  }
  ~Session() { --g_stats.open_connections; }

  // REQUIRES: the caller keeps a shared_ptr to this session until Run completes
  // (coroutines start lazily, so RunSession below passes one by value).
  asio::awaitable<void> Run() {
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      error_code ec;
      co_await stream_.async_handshake(asio::ssl::stream_base::server,
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
    co_await Serve();
    error_code ignored;
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.lowest_layer().close(ignored);
  }

 private:
  std::string_view Pending() const { return {buf_.data() + begin_, end_ - begin_}; }

  // Serves requests until the connection is to be closed.
  asio::awaitable<void> Serve() {
    for (;;) {
      RequestHead head;
      ParseStatus st = ParseHead(Pending(), &head);
      if (st == ParseStatus::kNeedMore || head.head_bytes > kMaxHeadBytes) {
        if (end_ - begin_ > kMaxHeadBytes) {
          co_await Write(ErrorResponse(431, "mock: header block too large", false));
          co_return;
        }
        if (!co_await ReadMore()) co_return;
        continue;
      }
      if (st == ParseStatus::kBad || head.chunked) {
        co_await Write(ErrorResponse(400, "mock: bad request (chunked bodies unsupported)", false));
        co_return;
      }
      if (head.content_length > kMaxBodyBytes) {
        co_await Write(ErrorResponse(413, "mock: body too large", false));
        co_return;
      }
      size_t total = head.head_bytes + head.content_length;
      if (end_ - begin_ < total) {
        if (head.expect_continue && !co_await Write("HTTP/1.1 100 Continue\r\n\r\n")) co_return;
        while (end_ - begin_ < total) {
          if (!co_await ReadMore(total)) co_return;
        }
        ParseHead(Pending(), &head);  // the buffer may have moved
      }
      std::string_view body = Pending().substr(head.head_bytes, head.content_length);
      Endpoint endpoint = Route(head.path);
      if (endpoint == Endpoint::kStats || endpoint == Endpoint::kReset) {
        if (endpoint == Endpoint::kReset) ResetStats();
        bool keep = head.keep_alive;
        begin_ += total;
        if (!co_await Write(FullResponse(200, "OK", StatsJson(), keep)) || !keep) co_return;
        continue;
      }
      ++g_stats.requests;
      Request req = MakeRequest(head, body);
      if (!req.model.empty()) NoteModel(req.model);
      begin_ += total;  // from here on only `req` is used
      if (!co_await Answer(req) || !req.keep_alive) co_return;
    }
  }

  // Returns false when the connection must be closed.
  asio::awaitable<bool> Answer(const Request& r) {
    if (r.behaviour.fault()) {
      co_await Fault(r);
      co_return false;
    }
    switch (r.behaviour.kind) {
      case Behaviour::kGarbage:
        co_await Write("this is not http\r\n\r\n");
        co_return false;
      case Behaviour::kClose:
        co_return false;
      case Behaviour::kSlow:
        StartWatch();
        if (!co_await Sleep(r.behaviour.a)) co_return false;
        break;
      case Behaviour::kDrip:
        if (r.stream) co_return co_await Drip(r);
        break;
      default:
        break;
    }
    bool is_stream = r.stream && r.behaviour.kind != Behaviour::kStatus &&
                     (r.endpoint == Endpoint::kChat || r.endpoint == Endpoint::kCompletions);
    if (is_stream) ++g_stats.streams_started;
    bool ok;
    if (const std::string* cached = Cacheable(r) ? CachedResponse(r) : nullptr) {
      ok = co_await Write(*cached);
    } else {
      ok = co_await Write(BuildResponse(r));
    }
    if (is_stream) ++(ok ? g_stats.streams_completed : g_stats.streams_aborted);
    co_return ok;
  }

  // The fault behaviours (see the header comment). The caller closes the
  // connection afterwards unless it was reset here.
  asio::awaitable<void> Fault(const Request& r) {
    using B = Behaviour;
    const StreamKind kind = r.endpoint == Endpoint::kCompletions ? StreamKind::kCompletion : StreamKind::kChat;
    const bool stream_fault = r.behaviour.kind == B::kResetStream || r.behaviour.kind == B::kBadChunkMid ||
                              r.behaviour.kind == B::kShortStream || r.behaviour.kind == B::kBigStream;
    if (stream_fault) ++g_stats.streams_started;
    bool completed = false;
    std::string out;
    switch (r.behaviour.kind) {
      case B::kResetHeaders:
        Reset();
        break;
      case B::kResetBody: {
        const size_t overhead = ChatBody(r.model, "\"\"").size();
        std::string body = ChatBody(r.model, Quoted(std::string(overhead < 20000 ? 20000 - overhead : 0, 'x')));
        std::string whole = FullResponse(200, "OK", body, true);
        StartWatch();
        if (co_await Write(std::string_view(whole).substr(0, whole.size() - body.size() + body.size() * 2 / 5))) {
          co_await Sleep(100);
        }
        Reset();
        break;
      }
      case B::kResetStream:
      case B::kBadChunkMid: {
        out = StreamHead(true);
        if (kind == StreamKind::kChat) AppendRoleFrame(&out, r.model);
        AppendContentFrame(&out, kind, r.model, TokenJson(0));
        AppendContentFrame(&out, kind, r.model, TokenJson(1));
        StartWatch();
        if (!co_await Write(out) || !co_await Sleep(100)) break;
        if (r.behaviour.kind == B::kResetStream) {
          Reset();
        } else if (co_await Write("zz\r\nnot a chunk\r\n")) {
          co_await Sleep(30000);  // ends early when the peer closes
        }
        break;
      }
      case B::kBadChunkFirst:
        out = "HTTP/1.1 200 OK\r\nContent-Type: ";
        out += r.stream ? "text/event-stream" : "application/json";
        out += "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n";
        StartWatch();
        if (co_await Write(out)) co_await Sleep(30000);
        break;
      case B::kEndlessHeaders: {
        std::string lines;
        while (lines.size() < 64 * 1024) lines += "X-Endless: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        if (co_await Write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")) co_await WriteEndlessly(lines);
        break;
      }
      case B::kEndlessChunked: {
        std::string piece;
        AppendHttpChunk(&piece, std::string(32 * 1024, ' '));
        if (co_await Write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")) {
          co_await WriteEndlessly(piece);
        }
        break;
      }
      case B::kEndlessClose:
        if (co_await Write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{")) {
          co_await WriteEndlessly(std::string(64 * 1024, ' '));
        }
        break;
      case B::kSlowBody: {
        std::string body = ChatBody(r.model, "\"Hello from mock\"");
        std::string whole = FullResponse(200, "OK", body, true);
        StartWatch();
        if (co_await Write(std::string_view(whole).substr(0, whole.size() - body.size())) &&
            co_await Sleep(r.behaviour.a)) {
          co_await Write(body);
        }
        break;
      }
      case B::kShortStream:
        out = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100000\r\n\r\n";
        if (kind == StreamKind::kChat) AppendSseEvent(&out, RoleFrameJson(r.model));
        AppendSseEvent(&out, ContentFrameJson(kind, r.model, TokenJson(0)));
        AppendSseEvent(&out, ContentFrameJson(kind, r.model, TokenJson(1)));
        StartWatch();
        if (co_await Write(out)) co_await Sleep(100);
        break;
      case B::kBigStream: {
        out = StreamHead(true);
        if (kind == StreamKind::kChat) AppendRoleFrame(&out, r.model);
        std::string frames;
        int n = 0;
        while (frames.size() < 64 * 1024) AppendContentFrame(&frames, kind, r.model, TokenJson(n++));
        const uint64_t total = uint64_t(r.behaviour.a) << 20;
        bool ok = co_await Write(out);
        uint64_t sent = 0;
        for (; ok && sent < total; sent += frames.size()) ok = co_await Write(frames);
        if (ok) {
          out.clear();
          AppendFinish(&out, kind, r.model, r.include_usage, n);
          out += kLastChunk;
          completed = co_await Write(out);
        }
        break;
      }
      case B::kBigBody: {
        const size_t overhead = ChatBody(r.model, "\"\"").size();
        const size_t pad = static_cast<size_t>(r.behaviour.a) > overhead ? r.behaviour.a - overhead : 0;
        co_await Write(FullResponse(200, "OK", ChatBody(r.model, Quoted(std::string(pad, 'x'))), true));
        break;
      }
      default:
        break;
    }
    if (stream_fault) ++(completed ? g_stats.streams_completed : g_stats.streams_aborted);
  }

  // Writes `piece` over and over until a write fails or 1 GiB went out.
  asio::awaitable<void> WriteEndlessly(std::string piece) {
    for (uint64_t sent = 0; sent < (uint64_t{1} << 30); sent += piece.size()) {
      if (!co_await Write(piece)) break;
    }
  }

  // Closes with an RST instead of a FIN (SO_LINGER 0).
  void Reset() {
    error_code ignored;
    auto& socket = stream_.lowest_layer();
    socket.set_option(asio::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
  }

  // drip-MS[-COUNT]: COUNT content frames MS apart, watching for the client leaving.
  asio::awaitable<bool> Drip(const Request& r) {
    ++g_stats.streams_started;
    StartWatch();
    StreamKind kind = r.endpoint == Endpoint::kChat ? StreamKind::kChat : StreamKind::kCompletion;
    std::string out = StreamHead(r.keep_alive);
    if (kind == StreamKind::kChat) AppendRoleFrame(&out, r.model);
    bool ok = co_await Write(out);
    for (int i = 0; ok && i < r.behaviour.b; ++i) {
      if (i > 0 && !co_await Sleep(r.behaviour.a)) ok = false;
      if (!ok) break;
      out.clear();
      AppendContentFrame(&out, kind, r.model, TokenJson(i));
      ok = co_await Write(out);
    }
    if (ok) {
      out.clear();
      AppendFinish(&out, kind, r.model, r.include_usage, r.behaviour.b);
      out += kLastChunk;
      ok = co_await Write(out);
    }
    ++(ok ? g_stats.streams_completed : g_stats.streams_aborted);
    co_return ok;
  }

  // Waits `ms`; false when the peer closed the connection meanwhile.
  asio::awaitable<bool> Sleep(int ms) {
    if (peer_closed_) co_return false;
    timer_.expires_after(std::chrono::milliseconds(ms));
    error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return !peer_closed_;
  }

  asio::awaitable<bool> Write(std::string_view bytes) {
    error_code ec;
    co_await asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  // Makes room for at least 4 KiB (or until `want` bytes from begin_ fit).
  void MakeRoom(size_t want) {
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    size_t need = std::max(end_ + 4096, want);
    if (buf_.size() < need) buf_.resize(std::max(need, buf_.size() * 2));
  }

  // Reads more bytes into the buffer; false on EOF or error. While a watch read
  // is in flight, waits for it instead of starting a second read.
  asio::awaitable<bool> ReadMore(size_t want = 0) {
    if (watch_pending_) {
      signal_.expires_at(asio::steady_timer::time_point::max());
      error_code ec;
      co_await signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_return !peer_closed_;
    }
    if (peer_closed_) co_return false;
    MakeRoom(want);
    error_code ec;
    size_t n = co_await stream_.async_read_some(
        asio::buffer(buf_.data() + end_, buf_.size() - end_),
        asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    end_ += n;
    co_return true;
  }

  // Starts a read that runs while a slow or dripping response is written, so a
  // client that leaves is noticed at once (and its stream counted as aborted).
  // REQUIRES: no other read in flight; the current request already consumed.
  void StartWatch() {
    if (watch_pending_ || peer_closed_) return;
    MakeRoom(0);
    watch_pending_ = true;
    stream_.async_read_some(asio::buffer(buf_.data() + end_, buf_.size() - end_),
                            [self = this->shared_from_this()](error_code ec, size_t n) {
                              self->watch_pending_ = false;
                              if (ec) {
                                self->peer_closed_ = true;
                                self->timer_.cancel();
                              } else {
                                self->end_ += n;
                              }
                              self->signal_.cancel();
                            });
  }

  Stream stream_;
  asio::steady_timer timer_;   // slow and drip delays
  asio::steady_timer signal_;  // wakes ReadMore when the watch read completes
  std::vector<char> buf_;      // unparsed input is buf_[begin_, end_)
  size_t begin_ = 0;
  size_t end_ = 0;
  bool watch_pending_ = false;
  bool peer_closed_ = false;
};

using TlsStream = asio::ssl::stream<tcp::socket>;

template <typename Stream>
asio::awaitable<void> RunSession(std::shared_ptr<Session<Stream>> session) {
  co_await session->Run();
}

asio::awaitable<void> AcceptLoop(tcp::acceptor& acceptor, asio::ssl::context* tls) {
  auto ex = co_await asio::this_coro::executor;
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      asio::steady_timer backoff(ex, std::chrono::milliseconds(10));  // e.g. EMFILE
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (tls) {
      auto s = std::make_shared<Session<TlsStream>>(TlsStream(std::move(socket), *tls));
      asio::co_spawn(ex, RunSession(std::move(s)), asio::detached);
    } else {
      auto s = std::make_shared<Session<tcp::socket>>(std::move(socket));
      asio::co_spawn(ex, RunSession(std::move(s)), asio::detached);
    }
  }
}

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int threads = 1;
  std::string tls_cert, tls_key;
};

int Usage() {
  std::fprintf(stderr,
               "usage: mock_upstream --listen HOST:PORT [--threads N] "
               "[--tls-cert FILE --tls-key FILE]\n");
  return 2;
}

std::optional<Options> ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    std::string_view v = argv[++i];
    if (a == "--listen") {
      size_t colon = v.rfind(':');
      int port = 0;
      if (colon == std::string_view::npos || !ParseInt(v.substr(colon + 1), &port) || port > 65535)
        return std::nullopt;
      o.host.assign(v.substr(0, colon));
      if (o.host.size() > 1 && o.host.front() == '[') o.host = o.host.substr(1, o.host.size() - 2);
      o.port = static_cast<uint16_t>(port);
    } else if (a == "--threads") {
      if (!ParseInt(v, &o.threads) || o.threads < 1) return std::nullopt;
    } else if (a == "--tls-cert") {
      o.tls_cert = v;
    } else if (a == "--tls-key") {
      o.tls_key = v;
    } else {
      return std::nullopt;
    }
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) return std::nullopt;
  return o;
}

int Main(int argc, char** argv) {
  std::optional<Options> opts = ParseArgs(argc, argv);
  if (!opts) return Usage();
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<asio::ssl::context> tls;
  if (!opts->tls_cert.empty()) {
    tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    tls->use_certificate_chain_file(opts->tls_cert);
    tls->use_private_key_file(opts->tls_key, asio::ssl::context::pem);
  }

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  tcp::endpoint endpoint(asio::ip::make_address(opts->host), opts->port);
  for (int i = 0; i < opts->threads; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
    auto acc = std::make_unique<tcp::acceptor>(*contexts.back());
    acc->open(endpoint.protocol());
    acc->set_option(tcp::acceptor::reuse_address(true));
    // Only when there are several acceptors: a lone port-0 socket with
    // SO_REUSEPORT could be handed a port another such socket already holds.
    if (opts->threads > 1) acc->set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    acc->bind(endpoint);
    acc->listen(4096);
    endpoint = acc->local_endpoint();  // port 0: the others share the chosen port
    asio::co_spawn(*contexts.back(), AcceptLoop(*acc, tls.get()), asio::detached);
    acceptors.push_back(std::move(acc));
  }

  asio::signal_set signals(*contexts[0], SIGINT, SIGTERM);
  signals.async_wait([&](error_code, int) {
    for (auto& c : contexts) c->stop();
  });

  std::string host = endpoint.address().to_string();
  if (endpoint.address().is_v6()) host = "[" + host + "]";
  std::printf("mock_upstream listening on %s:%u\n", host.c_str(), endpoint.port());
  std::fflush(stdout);

  std::vector<std::thread> threads;
  for (size_t i = 1; i < contexts.size(); ++i) threads.emplace_back([&, i] { contexts[i]->run(); });
  contexts[0]->run();
  for (auto& c : contexts) c->stop();
  for (auto& t : threads) t.join();
  // Sessions still open are simply dropped: nothing here needs an orderly teardown.
  std::fflush(stdout);
  std::_Exit(0);
}

}  // namespace
}  // namespace mock

int main(int argc, char** argv) {
  try {
    return mock::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mock_upstream: %s\n", e.what());
    return 1;
  }
}
