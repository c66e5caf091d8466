#include "core/errc.hpp"

#include <string>

namespace planproof::core {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "planproof"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::ok: return "ok";
      case errc::invalid_plan: return "invalid plan";
      case errc::usage: return "invalid usage";
      case errc::secret_unavailable: return "secret unavailable";
      case errc::bind_failed: return "could not bind a listening socket";
      case errc::harness_failure: return "harness failure";
      case errc::dead_letter_write_failed: return "could not write the dead-letter record";
    }
    return "unknown planproof error";
  }
};

}  // namespace

const std::error_category& planproof_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), planproof_category()};
}

}  // namespace planproof::core
