// Reading the XML planproof writes (JUnit reports) in tests: parsed by Python's expat through
// tests/support/xml_to_json.py, as strict as the CI servers that read it, and handed back as JSON.
// Needs /usr/bin/python3 (tools/bootstrap installs it with python3-yaml).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof::test {

// The element tree of `file`: {"tag", "attrib", "text", "children"}; a test failure (and null) when
// the file is not well-formed XML.
inline boost::json::value parse_xml(const std::filesystem::path& file) {
  const auto r = run_shell("/usr/bin/python3 '" + source_dir() + "/tests/support/xml_to_json.py' '" + file.string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  if (r.exit_code != 0) return nullptr;
  boost::system::error_code ec;
  auto v = boost::json::parse(r.output, ec);
  EXPECT_FALSE(ec) << r.output;
  return v;
}

// The children of `element` with this tag, in order.
inline std::vector<boost::json::object> children(const boost::json::value& element, std::string_view tag) {
  std::vector<boost::json::object> out;
  for (const auto& c : element.at("children").as_array()) {
    if (c.at("tag").as_string() == tag) out.push_back(c.as_object());
  }
  return out;
}

inline std::string attribute(const boost::json::value& element, std::string_view name) {
  const auto* v = element.at("attrib").as_object().if_contains(name);
  return v != nullptr ? std::string(v->as_string()) : std::string();
}

}  // namespace planproof::test
