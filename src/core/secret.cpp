#include "core/secret.hpp"

#include <sys/stat.h>

#include <cstdio>
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
    // A secret every user of the machine can read is no secret: refused before it is read.
    struct stat st {};
    if (::stat(ref.name.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
      result.error = "secret file " + ref.name + " is readable by every user (mode " + mode + "); `chmod o-r " +
                     ref.name + "` (or 600) to use it";
      return result;
    }
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
