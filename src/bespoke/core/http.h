// A minimal HTTP/1.1 client over POSIX sockets: enough to talk to an OpenAI-compatible server
// on localhost or a LAN (plain http, Content-Length or chunked replies). No TLS: an https
// URL is refused with a message saying so.
#pragma once

#include <string>

namespace bespoke {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// Throws Error(kIo) when the server cannot be reached or the reply is cut short or malformed,
// Error(kUsage) for a URL that is not http://host[:port][/path]. `body` empty sends no body.
HttpResponse http_request(const std::string& method, const std::string& url, const std::string& body,
                          const std::string& bearer_token = "", int timeout_seconds = 120);

}  // namespace bespoke
