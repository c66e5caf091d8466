// Responses serialized once, when the server is built, so that answering a request is one gather
// write of bytes that already exist: no per-request header formatting on the hot path.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/units.hpp"

namespace planproof::mocks {

struct canned_response {
  int status = 200;
  // Status line and headers, each ending in CRLF, without `Connection` and the blank line: those
  // depend on the request and are added at write time.
  std::string head;
  std::string body;  // empty for statuses that carry no body (1xx, 204, 304)
};

using header_list = std::span<const std::pair<std::string_view, std::string_view>>;

// An HTTP/1.1 response with Content-Length; `content_type` empty = no Content-Type header.
canned_response make_canned_response(int status, std::string_view content_type, std::string body,
                                     header_list extra_headers = {});

// A response built elsewhere (the token endpoint's), as bytes the server writes like its own:
// its headers but Connection, which the server adds per request.
canned_response from_beast(const boost::beast::http::response<boost::beast::http::string_body>& r);

// A JSON error body `{"error":"<code>"}` with its status.
canned_response make_json_error(int status, std::string_view code, header_list extra_headers = {});

// Retry-After value: whole seconds, rounded up, of a plan duration (1500ms -> "2").
std::string retry_after_value(core::duration d);

// The `malformed: invalid_utf8` body: the JSON with bytes that are not UTF-8 inside its first string
// (or a lone such string when it has none), so a strict parser rejects it.
std::string invalid_utf8_body(std::string_view body);

// `r` with a Content-Length `extra` bytes longer than its body (`malformed: wrong_content_length`):
// the client waits for bytes that never come and sees the connection close mid-body.
canned_response with_overstated_length(canned_response r, std::size_t extra);

// An IMF-fixdate (RFC 9110 section 5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::chrono::system_clock::time_point t);

// `malformed: wrong_content_type`: what a proxy's error page or a captive portal looks like to a
// JSON client.
inline constexpr std::string_view html_content_type = "text/html; charset=utf-8";
inline constexpr std::string_view html_error_page = "<html><body><h1>Service Unavailable</h1></body></html>";

// The `malformed: truncated` body: the first half of `body`, at least one byte shorter, and
// shortened further until it does not parse as JSON ("{}" -> "{", "12" -> "").
std::string truncate_body(std::string_view body);

}  // namespace planproof::mocks
