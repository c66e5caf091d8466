// The caps on what planproof reads and holds, each with a safe default, set with
// `--limit NAME=VALUE` (README "Security", Limits). Going over one is a clear error (a plan, a flag)
// or an HTTP status (413, 431), never unbounded memory.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace planproof::core {

struct limits {
  // A plan file (every command that reads one).
  std::uint64_t plan_size = std::uint64_t{16} << 20;  // bytes, refused before it is read whole
  std::uint64_t plan_depth = 100;                     // levels of nesting
  std::uint64_t plan_nodes = 200'000;                 // nodes, aliases expanded
  std::uint64_t concurrency = 10'000;                 // the largest traffic.concurrency a plan may ask
  // What a mock accepts (run's mocks, serve).
  std::uint64_t request_headers = 16 * 1024;  // request line and headers (431 beyond)
  std::uint64_t request_body = 1024 * 1024;   // request body (413 beyond)
  std::uint64_t connections = 10'000;         // open connections; more are closed at once
  // What planproof's client (run, dlq replay) and the proxy (--upstream) accept of an upstream's answer.
  std::uint64_t response_headers = 64 * 1024;         // status line and headers
  std::uint64_t response_body = std::uint64_t{16} << 20;  // body
};

enum class limit_unit { bytes, count };

// One cap as `--limit` names it.
struct limit_info {
  std::string_view name;
  limit_unit unit;
  std::uint64_t limits::*field;
  std::uint64_t most;  // the largest value accepted (memory, stack or the parser's own type)
  std::string_view what;
};

std::span<const limit_info> limit_catalog();
const limit_info* find_limit(std::string_view name);

// Applies one `NAME=VALUE` (`request_body=4MiB`, `connections=500`). A size is a whole number of
// bytes, optionally followed by KiB, MiB or GiB (or kB, MB, GB: powers of 1000). Returns why it
// cannot be applied (unknown name, bad value, zero, above the largest accepted), empty when applied.
std::string set_limit(limits& into, std::string_view assignment);

// 16 MiB, 64 KiB, 1500 B: the exact value, in the largest binary unit that divides it.
std::string format_size(std::uint64_t bytes);
// A cap's value as `--limit` writes it: a size for bytes, the number for counts.
std::string format_limit(const limit_info& info, std::uint64_t value);
// "raise it with --limit NAME=VALUE" for messages that name the cap that was hit.
std::string limit_hint(std::string_view name);

}  // namespace planproof::core
