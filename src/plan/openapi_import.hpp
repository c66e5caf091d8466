// `planproof import-openapi`: an OpenAPI 3.0/3.1 document turned into a draft plan. What the API
// description says (auth, endpoints, schemas, statuses, webhooks) is carried over; what it cannot say
// (mapping, retry, failure modes, phases) is left as the `planproof new` placeholders to fill in.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostic.hpp"

namespace planproof::plan {

struct openapi_import_result {
  std::string plan_yaml;                     // the draft plan, loadable by load_string
  std::vector<core::diagnostic> warnings;    // what was dropped, cut or ignored; never fatal
};

// Throws core::diagnostic_error when `text` is not YAML/JSON, not an OpenAPI 3.0/3.1 document, has
// no operations, or is too large to walk (aliases can make a small file expand without bound).
// `file_name` is used as given in diagnostics.
openapi_import_result import_openapi(std::string_view text, std::string file_name);

}  // namespace planproof::plan
