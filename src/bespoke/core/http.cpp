#include "bespoke/core/http.h"

#include <httplib.h>

#include "bespoke/core/error.h"

namespace bespoke {

HttpResponse http_request(const std::string& method, const std::string& url, const std::string& body,
                          const std::string& bearer_token, int timeout_seconds) {
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) fail(ErrorKind::kUsage, url + ": not an http:// or https:// URL");
  const size_t host_at = url.find("://") + 3, slash = url.find('/', host_at);
  const std::string origin = url.substr(0, slash), path = slash == std::string::npos ? "/" : url.substr(slash);
  if (origin.size() == host_at) fail(ErrorKind::kUsage, url + ": no host");
  httplib::Client client(origin);
  if (!client.is_valid()) fail(ErrorKind::kUsage, url + ": not a URL cpp-httplib can reach");
  client.set_connection_timeout(timeout_seconds, 0);
  client.set_read_timeout(timeout_seconds, 0);
  client.set_write_timeout(timeout_seconds, 0);
  if (!bearer_token.empty()) client.set_bearer_token_auth(bearer_token);
  const httplib::Result r = method == "GET" ? client.Get(path.c_str())
                                            : client.Post(path.c_str(), body, "application/json");
  if (!r) fail(ErrorKind::kIo, method + " " + url + ": " + httplib::to_string(r.error()));
  return {r->status, r->body};
}

}  // namespace bespoke
