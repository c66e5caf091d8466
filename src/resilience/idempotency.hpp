// Idempotency keys: one per logical request, reused by every attempt of it.
#pragma once

#include <string>

#include "resilience/random.hpp"

namespace planproof::resilience {

// A random (version 4) UUID in its canonical text form.
std::string make_idempotency_key(random_source& rng);

}  // namespace planproof::resilience
