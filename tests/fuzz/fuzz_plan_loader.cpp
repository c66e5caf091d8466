// The plan loader on any bytes (YAML, of which JSON is a part): a plan or a diagnostic, nothing else.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/diagnostic.hpp"
#include "plan/lint.hpp"
#include "plan/loader.hpp"
#include "plan/render.hpp"

namespace {

void load(std::string_view text, const char* name) {
  try {
    const auto plan = planproof::plan::load_string(text, name);
    // What a loaded plan is used for first: linted and rendered.
    (void)planproof::plan::lint(plan);
    (void)planproof::plan::render_markdown(plan);
  } catch (const planproof::core::diagnostic_error&) {
    // The expected answer to a bad plan.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  load(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.plan.yaml");
  return 0;
}
