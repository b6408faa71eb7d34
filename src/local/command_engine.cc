#include "local/command_engine.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <simdjson.h>

#include "common/json_writer.h"
#include "common/log.h"
#include "local/worker_engine.h"
#include "sse/sse_parser.h"

namespace sy::local {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using simdjson::dom::element;

namespace {

constexpr auto kHealthEvery = std::chrono::milliseconds(250);

void Replace(std::string* text, std::string_view what, const std::string& with) {
  for (size_t at = 0; (at = text->find(what, at)) != std::string::npos; at += with.size()) {
    text->replace(at, what.size(), with);
  }
}

int FreePort() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

std::string_view Str(element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return {};
  return v;
}

// The OpenAI body for a protocol request (chat or complete).
std::string OpenAIBody(element req, bool chat) {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("model").String("local").Key("stream").Bool(true);
  w.Key("stream_options").BeginObject().Key("include_usage").Bool(true).EndObject();
  w.Key("cache_prompt").Bool(true);
  if (chat) {
    w.Key("messages").BeginArray();
    std::string_view system = Str(req, "system");
    if (!system.empty()) w.BeginObject().Key("role").String("system").Key("content").String(system).EndObject();
    simdjson::dom::array messages;
    if (req["messages"].get(messages) == simdjson::SUCCESS) {
      for (element m : messages) {
        std::string_view role = Str(m, "role");
        w.BeginObject().Key("role").String(role);
        if (role == "tool") w.Key("tool_call_id").String(Str(m, "id"));
        w.Key("content").String(Str(m, "text"));
        simdjson::dom::array calls;
        if (m["tool_calls"].get(calls) == simdjson::SUCCESS) {
          w.Key("tool_calls").BeginArray();
          for (element c : calls) {
            w.BeginObject().Key("id").String(Str(c, "id")).Key("type").String("function");
            w.Key("function").BeginObject().Key("name").String(Str(c, "name"));
            w.Key("arguments").String(Str(c, "arguments")).EndObject().EndObject();
          }
          w.EndArray();
        }
        w.EndObject();
      }
    }
    w.EndArray();
    simdjson::dom::array tools;
    if (req["tools"].get(tools) == simdjson::SUCCESS) {
      w.Key("tools").BeginArray();
      for (element t : tools) {
        w.BeginObject().Key("type").String("function").Key("function").BeginObject();
        w.Key("name").String(Str(t, "name")).Key("description").String(Str(t, "description"));
        element params;
        if (t["parameters"].get(params) == simdjson::SUCCESS) w.Key("parameters").Raw(simdjson::minify(params));
        w.EndObject().EndObject();
      }
      w.EndArray();
    }
    element schema;
    if (req["json_schema"].get(schema) == simdjson::SUCCESS) {
      w.Key("response_format").BeginObject().Key("type").String("json_schema");
      w.Key("json_schema").BeginObject().Key("name").String("answer").Key("schema").Raw(simdjson::minify(schema));
      w.EndObject().EndObject();
    }
  } else {
    w.Key("prompt").String(Str(req, "prompt"));
  }
  for (const char* key : {"max_tokens", "top_k", "seed"}) {
    int64_t v = 0;
    if (req[key].get(v) == simdjson::SUCCESS) w.Key(key).Int(v);
  }
  for (const char* key : {"temperature", "top_p", "min_p", "repeat_penalty", "frequency_penalty", "presence_penalty"}) {
    double v = 0;
    if (req[key].get(v) == simdjson::SUCCESS) w.Key(key).Double(v);
  }
  simdjson::dom::array stop;
  if (req["stop"].get(stop) == simdjson::SUCCESS) w.Key("stop").Raw(simdjson::minify(stop));
  w.EndObject();
  return out;
}

class CommandEngine final : public Engine, public std::enable_shared_from_this<CommandEngine> {
 public:
  CommandEngine(std::string command_template, const LoadSpec& spec, asio::io_context& io, EngineListener* listener)
      : template_(std::move(command_template)), spec_(spec), io_(io), listener_(listener), out_(io), timer_(io) {}

  ~CommandEngine() override {
    *alive_ = false;
    for (auto& [id, stream] : requests_) stream->close();
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  void Start() override {
    port_ = FreePort();
    std::vector<std::string> argv = ExpandCommand(template_, spec_, port_);
    if (argv.empty()) {
      Post([this] { Exit("the engine command is empty"); });
      return;
    }
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
      Post([this] { Exit("pipe failed"); });
      return;
    }
    std::string error;
    pid_ = SpawnProcess(argv, {{0, -1}, {1, pipefd[1]}, {2, pipefd[1]}}, &error);
    ::close(pipefd[1]);
    if (pid_ <= 0) {
      ::close(pipefd[0]);
      pid_ = 0;
      Post([this, error] { Exit("could not start the engine command (" + error + ")"); });
      return;
    }
    out_.assign(pipefd[0]);
    log::Info("local: model ", spec_.model, ": engine command started (pid ", pid_, ", port ", port_, ")");
    ReadOutput();
    Spawn([this]() -> asio::awaitable<void> { co_await WaitHealthy(); });
  }

  void Send(std::string line) override {
    simdjson::dom::element req;
    if (parser_.parse(line).get(req) != simdjson::SUCCESS) return;
    std::string_view op = Str(req, "op");
    int64_t id = 0;
    if (req["id"].get(id) != simdjson::SUCCESS) return;
    if (op == "abort") {
      auto it = requests_.find(id);
      if (it != requests_.end()) it->second->close();
      return;
    }
    std::string path, body;
    if (op == "chat" || op == "complete") {
      path = op == "chat" ? "/v1/chat/completions" : "/v1/completions";
      body = OpenAIBody(req, op == "chat");
    } else if (op == "embed") {
      path = "/v1/embeddings";
      simdjson::dom::array inputs;
      std::string input = "[]";
      if (req["inputs"].get(inputs) == simdjson::SUCCESS) input = simdjson::minify(inputs);
      body = "{\"model\":\"local\",\"input\":" + input + "}";
    } else if (op == "count") {
      path = "/apply-template";
      body = OpenAIBody(req, true);
    } else {
      return;
    }
    std::string op_name(op);
    Spawn([this, id, op_name, path, body]() -> asio::awaitable<void> { co_await Run(id, op_name, path, body); });
  }

  void Stop() override {
    if (pid_ > 0) ::kill(-pid_, SIGTERM);
  }
  void Kill() override {
    if (pid_ > 0) ::kill(-pid_, SIGKILL);
  }
  int pid() const override { return pid_; }

 private:
  template <typename F>
  void Post(F f) {
    asio::post(io_, [alive = alive_, f = std::move(f)] {
      if (*alive) f();
    });
  }

  template <typename F>
  void Spawn(F make) {
    asio::co_spawn(
        io_,
        [alive = alive_, make = std::move(make)]() -> asio::awaitable<void> {
          if (!*alive) co_return;
          co_await make();
        },
        asio::detached);
  }

  void Exit(const std::string& reason) {
    if (exited_) return;
    exited_ = true;
    listener_->OnExit(reason);
  }

  void Message(const std::string& line) {
    if (!exited_) listener_->OnMessage(line);
  }

  void ReadOutput() {
    asio::async_read_until(out_, out_buf_, '\n', [this, alive = alive_, buf = out_buf_ptr_](boost::system::error_code ec, size_t n) {
      if (!*alive) return;
      if (ec) {
        Reap();
        return;
      }
      std::string line(asio::buffers_begin(out_buf_.data()),
                       asio::buffers_begin(out_buf_.data()) + static_cast<long>(n) - 1);
      out_buf_.consume(n);
      if (!line.empty()) log::Info("local: model ", spec_.model, " engine: ", line.substr(0, 500));
      ReadOutput();
    });
  }

  // The output ended: the process is gone or going.
  void Reap() {
    if (pid_ <= 0) return;
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == 0) {
      if (++reap_tries_ == 20) ::kill(-pid_, SIGKILL);
      timer_.expires_after(std::chrono::milliseconds(100));
      timer_.async_wait([this, alive = alive_](boost::system::error_code) {
        if (*alive) Reap();
      });
      return;
    }
    pid_ = 0;
    std::string reason = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                         : WIFSIGNALED(status) ? std::string("killed by signal ") + strsignal(WTERMSIG(status))
                                               : std::string("ended");
    log::Info("local: model ", spec_.model, ": engine command ", reason);
    for (auto& [id, stream] : requests_) stream->close();
    Exit(reason);
  }

  // One HTTP exchange with the child; the body is read whole (small answers).
  asio::awaitable<std::pair<int, std::string>> Fetch(http::verb verb, std::string path, std::string body) {
    beast::tcp_stream stream(io_);
    boost::system::error_code ec;
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_));
    co_await stream.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::pair<int, std::string>{0, ""};
    http::request<http::string_body> req{verb, path, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::pair<int, std::string>{0, ""};
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    co_await http::async_read(stream, buf, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::pair<int, std::string>{0, ""};
    co_return std::pair<int, std::string>{static_cast<int>(res.result_int()), std::move(res.body())};
  }

  asio::awaitable<void> WaitHealthy() {
    std::shared_ptr<bool> alive = alive_;
    listener_->OnProgress(0);
    while (*alive && !exited_ && pid_ > 0) {
      std::pair<int, std::string> got = co_await Fetch(http::verb::get, "/health", "");
      if (!*alive) co_return;
      if (got.first != 0 && got.first != 503) break;
      timer_.expires_after(kHealthEvery);
      boost::system::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!*alive || exited_ || pid_ <= 0) co_return;
    EngineReady ready;
    ready.context_size = spec_.context_size;
    ready.parallel = spec_.parallel;
    ready.wrapper = "server";
    ready.tools = true;  // the server decides what its template supports
    ready.embedding_size = spec_.embedding ? 1 : 0;
    listener_->OnReady(ready);
  }

  asio::awaitable<void> Run(int64_t id, std::string op, std::string path, std::string body) {
    std::shared_ptr<bool> alive = alive_;
    if (op == "embed") {
      std::pair<int, std::string> got = co_await Fetch(http::verb::post, path, std::move(body));
      if (!*alive) co_return;
      co_await Embedded(id, got);
      co_return;
    }
    if (op == "count") {
      std::pair<int, std::string> templ = co_await Fetch(http::verb::post, path, std::move(body));
      if (!*alive) co_return;
      element doc;
      std::string_view prompt;
      if (templ.first != 200 || parser_.parse(templ.second).get(doc) != simdjson::SUCCESS ||
          doc["prompt"].get(prompt) != simdjson::SUCCESS) {
        Error(id, "internal", "the engine server cannot count tokens (no /apply-template)");
        co_return;
      }
      std::string tokenize = "{\"content\":" + json::Quote(prompt) + "}";
      std::pair<int, std::string> toks = co_await Fetch(http::verb::post, "/tokenize", std::move(tokenize));
      if (!*alive) co_return;
      simdjson::dom::array tokens;
      if (toks.first != 200 || parser_.parse(toks.second).get(doc) != simdjson::SUCCESS ||
          doc["tokens"].get(tokens) != simdjson::SUCCESS) {
        Error(id, "internal", "the engine server cannot count tokens (no /tokenize)");
        co_return;
      }
      Message("{\"ev\":\"count\",\"id\":" + std::to_string(id) + ",\"tokens\":" + std::to_string(tokens.size()) + "}");
      co_return;
    }
    co_await Stream(id, op == "chat", std::move(path), std::move(body));
  }

  asio::awaitable<void> Embedded(int64_t id, const std::pair<int, std::string>& got) {
    element doc;
    simdjson::dom::array data;
    if (got.first != 200 || parser_.parse(got.second).get(doc) != simdjson::SUCCESS ||
        doc["data"].get(data) != simdjson::SUCCESS) {
      Error(id, "internal", "the engine server answered the embedding request with status " + std::to_string(got.first));
      co_return;
    }
    std::string out = "{\"ev\":\"embedding\",\"id\":" + std::to_string(id) + ",\"vectors\":[";
    bool first = true;
    for (element d : data) {
      element vec;
      if (d["embedding"].get(vec) != simdjson::SUCCESS) continue;
      if (!first) out += ",";
      first = false;
      out += simdjson::minify(vec);
    }
    int64_t prompt = 0;
    if (doc["usage"]["prompt_tokens"].get(prompt) != simdjson::SUCCESS) prompt = 0;
    out += "],\"prompt_tokens\":" + std::to_string(prompt) + "}";
    Message(out);
  }

  void Error(int64_t id, const char* code, const std::string& message) {
    std::string out;
    json::Writer w(&out);
    w.BeginObject().Key("ev").String("error").Key("id").Int(id).Key("code").String(code);
    w.Key("message").String(message).EndObject();
    Message(out);
  }

  // A streamed chat or completion: text events as the server's chunks
  // arrive, then done.
  asio::awaitable<void> Stream(int64_t id, bool chat, std::string path, std::string body) {
    std::shared_ptr<bool> alive = alive_;
    auto stream = std::make_shared<beast::tcp_stream>(io_);
    requests_[id] = stream;
    boost::system::error_code ec;
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_));
    co_await stream->async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
    if (!*alive) co_return;
    http::request<http::string_body> req{http::verb::post, path, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    if (!ec) co_await http::async_write(*stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (!*alive) co_return;
    beast::flat_buffer buf;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    if (!ec) co_await http::async_read_header(*stream, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (!*alive) co_return;
    const bool aborted = requests_.find(id) == requests_.end() || !stream->socket().is_open();
    if (ec || parser.get().result_int() != 200) {
      requests_.erase(id);
      if (aborted) {
        Message("{\"ev\":\"done\",\"id\":" + std::to_string(id) + ",\"finish\":\"abort\"}");
      } else {
        Error(id, "internal", ec ? "the engine server did not answer" : "the engine server answered with status " +
                                                                           std::to_string(parser.get().result_int()));
      }
      co_return;
    }
    std::string text, finish = "stop";
    int64_t prompt = 0, completion = 0, cached = 0, pieces = 0;
    struct Call {
      std::string name, arguments;
    };
    std::map<int64_t, Call> calls;
    simdjson::dom::parser json;
    sse::Parser sse([&](const sse::Event& ev) {
      if (ev.data == "[DONE]") return;
      element doc;
      if (json.parse(ev.data).get(doc) != simdjson::SUCCESS) return;
      element usage;
      if (doc["usage"].get(usage) == simdjson::SUCCESS && !usage.is_null()) {
        int64_t n = 0;
        if (usage["prompt_tokens"].get(n) == simdjson::SUCCESS) prompt = n;
        if (usage["completion_tokens"].get(n) == simdjson::SUCCESS) completion = n;
        if (usage["prompt_tokens_details"]["cached_tokens"].get(n) == simdjson::SUCCESS) cached = n;
      }
      simdjson::dom::array choices;
      if (doc["choices"].get(choices) != simdjson::SUCCESS) return;
      for (element c : choices) {
        std::string_view piece = chat ? Str(c["delta"], "content") : Str(c, "text");
        std::string_view reason = Str(c, "finish_reason");
        if (!reason.empty()) finish = std::string(reason);
        simdjson::dom::array tcs;
        if (chat && c["delta"]["tool_calls"].get(tcs) == simdjson::SUCCESS) {
          for (element tc : tcs) {
            int64_t index = 0;
            if (tc["index"].get(index) != simdjson::SUCCESS) index = 0;
            Call& call = calls[index];
            call.name += std::string(Str(tc["function"], "name"));
            call.arguments += std::string(Str(tc["function"], "arguments"));
          }
        }
        if (piece.empty()) continue;
        text += piece;
        ++pieces;
        std::string out;
        json::Writer w(&out);
        w.BeginObject().Key("ev").String("text").Key("id").Int(id).Key("text").String(piece).Key("tokens").Int(1);
        w.EndObject();
        Message(out);
      }
    });
    char chunk[8192];
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      co_await http::async_read_some(*stream, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (!*alive) co_return;
      if (ec == http::error::need_buffer) ec = {};
      const size_t n = sizeof chunk - parser.get().body().size;
      if (n > 0) sse.Feed(std::string_view(chunk, n));
      if (ec) break;
    }
    const bool cut = requests_.find(id) == requests_.end() || !stream->socket().is_open();
    requests_.erase(id);
    if (ec && !cut) {
      Error(id, "internal", "the engine server's stream broke off");
      co_return;
    }
    std::string out;
    json::Writer w(&out);
    w.BeginObject().Key("ev").String("done").Key("id").Int(id);
    w.Key("finish").String(cut ? "abort" : finish == "length" ? "length" : finish == "tool_calls" ? "tool_calls" : "stop");
    w.Key("text").String(text);
    w.Key("prompt_tokens").Int(prompt).Key("cached_tokens").Int(cached);
    w.Key("completion_tokens").Int(completion > 0 ? completion : pieces);
    if (!calls.empty()) {
      w.Key("tool_calls").BeginArray();
      for (auto& [index, call] : calls) {
        w.BeginObject().Key("name").String(call.name).Key("arguments").String(call.arguments.empty() ? "{}" : call.arguments);
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
    Message(out);
  }

  std::string template_;
  LoadSpec spec_;
  asio::io_context& io_;
  EngineListener* listener_;
  asio::posix::stream_descriptor out_;
  asio::steady_timer timer_;
  // Owned with the pending read's handler: a read cancelled when the engine
  // is destroyed still completes later and commits into its buffer.
  std::shared_ptr<asio::streambuf> out_buf_ptr_ = std::make_shared<asio::streambuf>();
  asio::streambuf& out_buf_ = *out_buf_ptr_;
  simdjson::dom::parser parser_;
  std::map<int64_t, std::shared_ptr<beast::tcp_stream>> requests_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  int port_ = 0;
  int pid_ = 0;
  int reap_tries_ = 0;
  bool exited_ = false;
};

class CommandEngineFactory final : public EngineFactory {
 public:
  explicit CommandEngineFactory(std::string command_template) : template_(std::move(command_template)) {}
  std::unique_ptr<Engine> Create(const LoadSpec& spec, asio::io_context& io, EngineListener* listener) override {
    return std::make_unique<CommandEngine>(template_, spec, io, listener);
  }

 private:
  std::string template_;
};

}  // namespace

std::vector<std::string> ExpandCommand(const std::string& command_template, const LoadSpec& spec, int port) {
  // Split first, so that a path with spaces stays one argument.
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char ch : command_template) {
    if (quote) {
      if (ch == quote) {
        quote = 0;
      } else {
        word.push_back(ch);
      }
      continue;
    }
    if (ch == '"' || ch == '\'') {
      quote = ch;
      in_word = true;
    } else if (ch == ' ' || ch == '\t' || ch == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word.push_back(ch);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  for (auto& w : words) {
    Replace(&w, "{model}", spec.path);
    Replace(&w, "{port}", std::to_string(port));
    Replace(&w, "{ctx_total}", std::to_string(static_cast<uint64_t>(spec.context_size) * spec.parallel));
    Replace(&w, "{ctx}", std::to_string(spec.context_size));
    Replace(&w, "{threads}", std::to_string(spec.threads));
    Replace(&w, "{parallel}", std::to_string(spec.parallel));
  }
  return words;
}

std::unique_ptr<EngineFactory> MakeCommandEngineFactory(std::string command_template) {
  return std::make_unique<CommandEngineFactory>(std::move(command_template));
}

}  // namespace sy::local
