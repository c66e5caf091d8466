#include "core/secret.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/logging.hpp"

namespace planproof::core {

std::string secret_ref::str() const {
  return (from == source::env ? "env:" : "file:") + name;
}

std::optional<secret_ref> parse_secret_ref(std::string_view text) {
  auto take = [&](std::string_view prefix, secret_ref::source src) -> std::optional<secret_ref> {
    if (!text.starts_with(prefix) || text.size() == prefix.size()) return std::nullopt;
    return secret_ref{src, std::string(text.substr(prefix.size()))};
  };
  if (auto r = take("env:", secret_ref::source::env)) return r;
  return take("file:", secret_ref::source::file);
}

secret_result resolve_secret(const secret_ref& ref) {
  secret_result result;
  std::string value;
  if (ref.from == secret_ref::source::env) {
    const char* v = std::getenv(ref.name.c_str());
    if (v == nullptr || *v == '\0') {
      result.error = "environment variable " + ref.name + " is not set";
      return result;
    }
    value = v;
  } else {
    std::ifstream in(ref.name, std::ios::binary);
    if (!in) {
      result.error = "cannot read secret file " + ref.name;
      return result;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    value = ss.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (value.empty()) {
      result.error = "secret file " + ref.name + " is empty";
      return result;
    }
  }
  redactor::instance().add(value);
  result.value = std::move(value);
  return result;
}

}  // namespace planproof::core
