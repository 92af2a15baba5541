// c-api-handles.h: what the opaque handles of orleansllm.h hold: each defined here and only here,
// shared by the C API files (c-api.cpp, c-api-engine.cpp).
#pragma once

#include <memory>
#include <vector>

#include "context.h"
#include "engine.h"
#include "model.h"
#include "orleansllm.h"

struct orleansllm_model {
    std::unique_ptr<olm::model> impl;
};

struct orleansllm_context {
    std::unique_ptr<olm::context> impl;
};

struct orleansllm_engine {
    std::unique_ptr<olm::engine> impl;
    // The last step's output and its C views (valid until the next step).
    olm::step_output last;
    std::vector<orleansllm_request_output> outputs;
    std::vector<orleansllm_kv_event> events;
};
