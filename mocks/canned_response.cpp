#include "mocks/canned_response.hpp"

#include <cstdio>
#include <ctime>

#include <boost/beast/http/status.hpp>
#include <boost/json/parse.hpp>

namespace planproof::mocks {
namespace {

bool carries_body(int status) noexcept { return status >= 200 && status != 204 && status != 304; }

bool is_json(std::string_view text) {
  boost::system::error_code ec;
  (void)boost::json::parse(text, ec);
  return !ec;
}

}  // namespace

canned_response make_canned_response(int status, std::string_view content_type, std::string body,
                                     header_list extra_headers) {
  canned_response r;
  r.status = status;
  auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  if (reason.starts_with('<')) reason = {};  // Beast's "<unknown-status>": an empty phrase is valid
  r.head.reserve(128);
  r.head.append("HTTP/1.1 ").append(std::to_string(status)).append(" ");
  r.head.append(reason.data(), reason.size()).append("\r\nServer: planproof-mock\r\n");
  if (carries_body(status)) {
    if (!content_type.empty()) r.head.append("Content-Type: ").append(content_type).append("\r\n");
    r.head.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    r.body = std::move(body);
  }
  for (const auto& [name, value] : extra_headers) {
    r.head.append(name).append(": ").append(value).append("\r\n");
  }
  return r;
}

canned_response from_beast(const boost::beast::http::response<boost::beast::http::string_body>& r) {
  canned_response out;
  out.status = static_cast<int>(r.result_int());
  auto reason = r.reason();
  if (reason.empty()) reason = boost::beast::http::obsolete_reason(r.result());
  out.head.append("HTTP/1.1 ").append(std::to_string(out.status)).append(" ").append(reason.data(), reason.size());
  out.head.append("\r\nServer: planproof-mock\r\n");
  bool has_length = false;
  for (const auto& field : r) {
    if (field.name() == boost::beast::http::field::connection || field.name() == boost::beast::http::field::server)
      continue;
    has_length = has_length || field.name() == boost::beast::http::field::content_length;
    out.head.append(field.name_string().data(), field.name_string().size()).append(": ");
    out.head.append(field.value().data(), field.value().size()).append("\r\n");
  }
  if (!has_length) out.head.append("Content-Length: ").append(std::to_string(r.body().size())).append("\r\n");
  out.body = r.body();
  return out;
}

canned_response make_json_error(int status, std::string_view code, header_list extra_headers) {
  std::string body = R"({"error":")";
  body.append(code).append(R"("})");
  return make_canned_response(status, "application/json", std::move(body), extra_headers);
}

std::string retry_after_value(core::duration d) {
  using namespace std::chrono_literals;
  if (d <= core::duration::zero()) return "0";
  const auto seconds = (d + 1s - core::duration(1)) / core::duration(1s);
  return std::to_string(seconds);
}

std::string invalid_utf8_body(std::string_view body) {
  std::string out(body);
  // 0xC3 0x28 is a lead byte followed by a non-continuation byte: invalid in every decoder.
  const auto quote = out.find('"');
  if (quote == std::string::npos) return "\"\xC3\x28\"";
  out.insert(quote + 1, "\xC3\x28");
  return out;
}

canned_response with_overstated_length(canned_response r, std::size_t extra) {
  const std::string field = "Content-Length: ";
  const auto at = r.head.find(field);
  if (at == std::string::npos) return r;
  const auto end = r.head.find("\r\n", at);
  r.head.replace(at + field.size(), end - at - field.size(), std::to_string(r.body.size() + extra));
  return r;
}

std::string http_date(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
                months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string truncate_body(std::string_view body) {
  std::string out(body.substr(0, body.size() / 2));
  // Half of some valid JSON is still valid ("1234" -> "12", "{} " -> "{"... but "{}  " -> "{}").
  while (!out.empty() && is_json(out)) out.pop_back();
  return out;
}

}  // namespace planproof::mocks
