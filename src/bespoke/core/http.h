// An HTTP/1.1 client for OpenAI-compatible servers (cpp-httplib's), plain http or https.
#pragma once

#include <string>

namespace bespoke {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// Throws Error(kIo) when the server cannot be reached or the reply is cut short or malformed,
// Error(kUsage) for a URL that is not http(s)://host[:port][/path]. `body` empty sends no body
// (a GET); otherwise a POST of JSON.
HttpResponse http_request(const std::string& method, const std::string& url, const std::string& body,
                          const std::string& bearer_token = "", int timeout_seconds = 120);

}  // namespace bespoke
