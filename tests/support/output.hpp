// Reading what planproof printed or wrote in end-to-end tests: JSON Lines files (dead letters, the
// decision log, journals) and the `mock:` / `admin:` address lines `planproof serve` starts with.
#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace planproof::test {

// One object per line; a line that is not a JSON object is a test failure (and left out).
inline std::vector<boost::json::object> json_lines(const std::string& text) {
  std::vector<boost::json::object> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << "not JSON: " << line;
    if (!ec && v.is_object()) out.push_back(v.as_object());
  }
  return out;
}

// The port of `<prefix>http(s)://127.0.0.1:PORT`, e.g. port_of("mock: http://127.0.0.1:4321", "mock: ").
inline std::optional<unsigned short> port_of(const std::string& line, std::string_view prefix) {
  for (const std::string_view scheme : {"http://", "https://"}) {
    const std::string start = std::string(prefix) + std::string(scheme) + "127.0.0.1:";
    if (!line.starts_with(start)) continue;
    const auto port = std::stoul(line.substr(start.size()));
    if (port == 0 || port > 65535) return std::nullopt;
    return static_cast<unsigned short>(port);
  }
  return std::nullopt;
}

}  // namespace planproof::test
