// Secrets are named in the plan by reference (`env:NAME` or `file:PATH`), never written in it.
// Resolving one registers its value with the log redactor before anything can print it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace planproof::core {

struct secret_ref {
  enum class source { env, file };
  source from = source::env;
  std::string name;  // variable name or file path

  std::string str() const;  // "env:NAME" / "file:PATH": safe to print, it is not the secret
};

std::optional<secret_ref> parse_secret_ref(std::string_view text);

struct secret_result {
  std::optional<std::string> value;
  std::string error;  // why it could not be resolved; empty on success
};

// Reads the variable or the file (trailing newline stripped) and registers the value for redaction.
secret_result resolve_secret(const secret_ref& ref);

}  // namespace planproof::core
