// Examples written back as text: compact, numbers as people write them.
#include <limits>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "plan/json_text.hpp"

namespace planproof::plan {
namespace {

TEST(json_text, writes_numbers_in_their_shortest_form) {
  EXPECT_EQ(json_text(boost::json::parse(R"({"price":9.99,"n":3,"big":-12345678901,"half":0.5,"one":1.0})")),
            R"({"price":9.99,"n":3,"big":-12345678901,"half":0.5,"one":1.0})");
  EXPECT_EQ(json_text(boost::json::value(1e21)), "1e+21");
  EXPECT_EQ(json_text(boost::json::value(0.1 + 0.2)), "0.30000000000000004") << "round-trips exactly";
  EXPECT_EQ(json_text(boost::json::value(std::numeric_limits<double>::infinity())), "null");
}

TEST(json_text, keeps_structure_and_escapes_strings) {
  const auto text = R"({"a":[1,"x\"y",null,true,{"b":[]}],"c":"é\n"})";
  EXPECT_EQ(json_text(boost::json::parse(text)), text);
  const auto again = boost::json::parse(json_text(boost::json::parse(text)));
  EXPECT_EQ(again, boost::json::parse(text));
}

}  // namespace
}  // namespace planproof::plan
