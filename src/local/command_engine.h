// `engine: command`: any OpenAI-compatible inference server started from a
// command template, one process per loaded model — llama.cpp's own
// llama-server, for instance:
//
//   command: "llama-server -m {model} --port {port} -c {ctx_total} -t {threads} -np {parallel}"
//
// Placeholders: {model} (the GGUF path), {port} (a free loopback port the
// gateway picked), {ctx} (tokens per sequence), {ctx_total} (ctx x parallel,
// what llama-server's -c means), {threads}, {parallel}. The command is split
// on spaces (quotes group words); no shell runs it.
//
// The engine waits until GET /health stops answering 503 (or the server
// answers at all, for servers without it), then serves the requests of
// engine/PROTOCOL.md over HTTP to the child: chat → /v1/chat/completions,
// complete → /v1/completions (both streamed), embed → /v1/embeddings,
// count → /apply-template + /tokenize (llama-server's). Its exit is seen by
// the end of its output pipe, then reaped.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "local/engine.h"

namespace sy::local {

std::unique_ptr<EngineFactory> MakeCommandEngineFactory(std::string command_template);

// The template with its placeholders filled, split into argv. Exposed for tests.
std::vector<std::string> ExpandCommand(const std::string& command_template, const LoadSpec& spec, int port);

}  // namespace sy::local
