// The OpenAPI importer on any bytes: a skeleton plan with its notes, or a diagnostic.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/diagnostic.hpp"
#include "plan/openapi_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)planproof::plan::import_openapi(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.openapi.yaml");
  } catch (const planproof::core::diagnostic_error&) {
  }
  return 0;
}
