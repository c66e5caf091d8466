// Project error codes carried as std::error_code across I/O and policy boundaries.
#pragma once

#include <system_error>

namespace planproof::core {

enum class errc {
  ok = 0,
  invalid_plan = 1,
  usage,
  secret_unavailable,
  bind_failed,
  harness_failure,
  dead_letter_write_failed,
};

const std::error_category& planproof_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

}  // namespace planproof::core

template <>
struct std::is_error_code_enum<planproof::core::errc> : std::true_type {};
