// c-api-handles.h: what the opaque handles of orleansllm.h hold, shared by the C API files.
#pragma once

#include <memory>

#include "model.h"
#include "orleansllm.h"

struct orleansllm_model {
    std::unique_ptr<olm::model> impl;
};
