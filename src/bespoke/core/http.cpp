#include "bespoke/core/http.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "bespoke/core/error.h"

namespace bespoke {
namespace {

struct Url {
  std::string host, port = "80", path = "/";
};

Url parse_url(const std::string& url) {
  if (url.rfind("https://", 0) == 0)
    fail(ErrorKind::kUsage, url + ": https is not supported; use http:// (a local server)");
  if (url.rfind("http://", 0) != 0) fail(ErrorKind::kUsage, url + ": not an http:// URL");
  Url u;
  std::string rest = url.substr(7);
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) u.path = rest.substr(slash), rest = rest.substr(0, slash);
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']') == std::string::npos)
    u.port = rest.substr(colon + 1), rest = rest.substr(0, colon);
  u.host = rest;
  if (u.host.empty()) fail(ErrorKind::kUsage, url + ": no host");
  return u;
}

// A connected socket, closed on destruction.
class Connection {
 public:
  Connection(const Url& u, int timeout_seconds) {
    addrinfo hints{}, *found = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &found) != 0)
      fail(ErrorKind::kIo, "cannot resolve " + u.host);
    for (addrinfo* a = found; a && fd_ < 0; a = a->ai_next) {
      fd_ = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
      if (fd_ < 0) continue;
      timeval tv{timeout_seconds, 0};
      setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      if (connect(fd_, a->ai_addr, a->ai_addrlen) != 0) close(fd_), fd_ = -1;
    }
    freeaddrinfo(found);
    if (fd_ < 0) fail(ErrorKind::kIo, "cannot connect to " + u.host + ":" + u.port + ": " + std::strerror(errno));
  }
  ~Connection() { close(fd_); }

  void send_all(const std::string& data) {
    for (size_t sent = 0; sent < data.size();) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) fail(ErrorKind::kIo, std::string("sending the request failed: ") + std::strerror(errno));
      sent += static_cast<size_t>(n);
    }
  }

  std::string read_all() {
    std::string out;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return out;
      if (n < 0) fail(ErrorKind::kIo, std::string("reading the reply failed: ") + std::strerror(errno));
      out.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string dechunk(const std::string& body) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) fail(ErrorKind::kIo, "malformed chunked reply");
    const size_t size = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
    if (size == 0) return out;
    if (eol + 2 + size > body.size()) fail(ErrorKind::kIo, "the reply was cut short");
    out += body.substr(eol + 2, size);
    pos = eol + 2 + size + 2;
  }
}

void parse_body(const std::string& reply, size_t head_end, HttpResponse& r) {
  const std::string head = lower(reply.substr(0, head_end));
  r.body = reply.substr(head_end + 4);
  if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
    r.body = dechunk(r.body);
  } else if (const size_t at = head.find("\r\ncontent-length:"); at != std::string::npos) {
    const size_t length = std::stoul(head.substr(at + 17));
    if (r.body.size() < length) fail(ErrorKind::kIo, "the reply was cut short");
    r.body.resize(length);
  }
}

}  // namespace

HttpResponse http_request(const std::string& method, const std::string& url, const std::string& body,
                          const std::string& bearer_token, int timeout_seconds) {
  const Url u = parse_url(url);
  Connection c(u, timeout_seconds);
  std::string request = method + " " + u.path + " HTTP/1.1\r\nHost: " + u.host + "\r\nConnection: close\r\n";
  if (!bearer_token.empty()) request += "Authorization: Bearer " + bearer_token + "\r\n";
  if (!body.empty())
    request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  c.send_all(request + "\r\n" + body);

  const std::string reply = c.read_all();
  const size_t head_end = reply.find("\r\n\r\n");
  if (reply.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos || reply.size() < 12)
    fail(ErrorKind::kIo, url + ": not an HTTP reply");
  HttpResponse r;
  r.status = std::atoi(reply.c_str() + 9);
  try {
    parse_body(reply, head_end, r);
  } catch (const std::logic_error&) {  // a size field that is not a number
    fail(ErrorKind::kIo, url + ": malformed reply");
  }
  return r;
}

}  // namespace bespoke
