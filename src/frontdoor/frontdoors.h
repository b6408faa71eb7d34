// The one place that knows every front door. Front doors are stateless, so
// one instance of each serves every worker thread.
#pragma once

#include "core/codec.h"
#include "core/request.h"

namespace sy {

namespace ollama {
class OllamaFrontDoor;
}

const FrontDoor& FrontDoorFor(WireProtocol protocol);
// The Ollama front door's extra endpoints (/api/tags, /api/show, ...).
const ollama::OllamaFrontDoor& OllamaDoor();

}  // namespace sy
