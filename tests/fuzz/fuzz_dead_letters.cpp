// The dead-letter reader `dlq replay` and `dlq list` use, on any file: records, damaged lines
// counted, never a crash; then what replay would select from it against an example plan.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "client/dead_letter.hpp"
#include "plan/loader.hpp"
#include "scenario/replay.hpp"

namespace {

const std::filesystem::path& scratch() {
  static const std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("planproof-fuzz-dlq-" + std::to_string(::getpid()) + ".jsonl");
  return p;
}

const planproof::plan::integration_plan& plan() {
  static const auto p = planproof::plan::load_file(std::filesystem::path(PLANPROOF_SOURCE_DIR) / "scenarios/payments.plan.yaml");
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  {
    std::ofstream out(scratch(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  // A small line bound too, so that the fuzzer reaches the over-long-line path.
  (void)planproof::client::read_dead_letters(scratch(), 64);
  const auto file = planproof::client::read_dead_letters(scratch());
  (void)planproof::scenario::select_replay(plan(), file);
  return 0;
}
