// Micro benchmark of a translated stream, without sockets: the user-space
// work the gateway adds per streamed response when an Anthropic client talks
// to an OpenAI upstream (bench/run.sh's "translated" target), next to the
// work a passthrough stream costs (copying the bytes). Build with
// -DSWITCHYARD_MICROBENCH=ON (on when Google Benchmark is installed) and run
// build/translate_bench. See docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/chat.h"
#include "core/request.h"
#include "frontdoor/frontdoors.h"
#include "provider/http_provider.h"

namespace {

// The mock upstream's 50-chunk stream, as the gateway asks for it
// (stream_options.include_usage): role chunk, 50 content chunks, the finish
// chunk, the usage chunk and [DONE].
std::string OpenAiStream(int chunks) {
  const std::string head =
      R"(data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"chunks-50","choices":[{"index":0,"delta":)";
  std::string s = head + R"({"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})" "\n\n";
  for (int i = 0; i < chunks; ++i) {
    s += head + R"({"content":"tok)" + std::to_string(i) + R"("},"logprobs":null,"finish_reason":null}]})" "\n\n";
  }
  s += head + R"({},"logprobs":null,"finish_reason":"stop"}]})" "\n\n";
  s += R"(data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"chunks-50","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":50,"total_tokens":55}})" "\n\n";
  s += "data: [DONE]\n\n";
  return s;
}

// Upstream bytes arrive in reads of this size (what a loopback read hands
// the gateway under load).
constexpr size_t kRead = 4096;

void BM_TranslatedStream(benchmark::State& state) {
  const std::string body = OpenAiStream(50);
  const auto codec = sy::MakeCodec("openai");
  const sy::FrontDoor& door = sy::FrontDoorFor(sy::WireProtocol::kAnthropic);
  sy::InternalRequest request;
  request.wire = sy::WireProtocol::kAnthropic;
  request.model = "chunks-50";
  request.stream = true;
  sy::chat::Request chat;
  chat.model = "chunks-50";
  chat.stream = true;
  std::vector<sy::chat::StreamEvent> events;
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    auto decoder = codec->NewStreamDecoder();
    auto encoder = door.NewStreamEncoder(request, chat);
    for (size_t at = 0; at < body.size(); at += kRead) {
      events.clear();
      decoder->Feed(std::string_view(body).substr(at, kRead), &events);
      if (at + kRead >= body.size()) decoder->Finish(&events);
      out.clear();
      for (const auto& ev : events) encoder->Encode(ev, &out);
      bytes += out.size();
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.counters["out_bytes_per_stream"] = static_cast<double>(bytes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_TranslatedStream);

// The request half: the Anthropic body read into the internal model and
// written as the OpenAI request the provider sends.
void BM_TranslatedRequest(benchmark::State& state) {
  const std::string body =
      R"({"model":"chunks-50","max_tokens":128,"system":"You are a concise assistant for a freight logistics team.",)"
      R"("messages":[{"role":"user","content":"Summarise in two sentences why rail switchyards matter for moving goods across a continent."}],)"
      R"("temperature":0.7,"stream":true})";
  const auto codec = sy::MakeCodec("openai");
  const sy::FrontDoor& door = sy::FrontDoorFor(sy::WireProtocol::kAnthropic);
  for (auto _ : state) {
    sy::FrontDoorInput input;
    input.body = body;
    auto peeked = door.Peek(std::move(input));
    auto& request = std::get<sy::InternalRequest>(peeked);
    sy::chat::Request chat;
    auto error = door.ParseChat(request, &chat);
    benchmark::DoNotOptimize(error);
    chat.model = request.model;
    chat.stream = request.stream;
    auto encoded = codec->EncodeChat(chat, "chunks-50", sy::CodecOptions{false});
    benchmark::DoNotOptimize(encoded);
    const int64_t estimate = sy::chat::EstimateTokens(chat);
    benchmark::DoNotOptimize(estimate);
  }
}
BENCHMARK(BM_TranslatedRequest);

void BM_PassthroughStream(benchmark::State& state) {
  const std::string body = OpenAiStream(50);
  std::string out;
  for (auto _ : state) {
    for (size_t at = 0; at < body.size(); at += kRead) {
      out.assign(body, at, kRead);
      benchmark::DoNotOptimize(out.data());
    }
  }
}
BENCHMARK(BM_PassthroughStream);

}  // namespace

BENCHMARK_MAIN();
