// Exit codes of every subcommand (DESIGN.md section 8).
#pragma once

namespace planproof::cli {

inline constexpr int exit_held = 0;           // every selected failure mode holds
inline constexpr int exit_broken = 1;         // at least one is broken (or skipped: not verified)
inline constexpr int exit_usage = 2;          // invalid plan or usage
inline constexpr int exit_harness_error = 3;  // the harness itself failed

}  // namespace planproof::cli
