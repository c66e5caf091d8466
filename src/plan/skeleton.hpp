// `planproof new`: a plan with all six sections filled with placeholders that load, so an author
// starts from a valid file and lint lists what is left to write. `import-openapi` reuses the parts
// an API description cannot fill (mapping, retry, traffic, failure modes, phases, verification).
#pragma once

#include <string>
#include <string_view>

namespace planproof::plan {

std::string skeleton_plan(std::string_view name, std::string_view system);

// NAME as an environment variable prefix: "acme-payments" -> "ACME_PAYMENTS".
std::string env_prefix(std::string_view name);

// The sections after `endpoints` (mapping, retry, traffic, failure_modes, phases, verification), as
// placeholders: the mapping and traffic use `endpoint_id`, mapped fields land under `entity`.
std::string skeleton_tail(std::string_view name, std::string_view endpoint_id, std::string_view entity);

}  // namespace planproof::plan
