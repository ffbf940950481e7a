// Errors: library code throws `bespoke::Error`; only the CLI and the server catch.
#pragma once

#include <stdexcept>
#include <string>

namespace bespoke {

// What went wrong, so that a boundary can choose an exit code or an HTTP status.
enum class ErrorKind {
  kUsage,        // the caller asked for something that makes no sense
  kInput,        // a file or value the user supplied is malformed
  kIo,           // the operating system refused a read or a write
  kUnsupported,  // well-formed, but Bespoke does not handle it
  kInternal,     // a broken invariant: a bug in Bespoke
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// Returns a copy of `e` whose message starts with `context: `, e.g. the file name.
Error with_context(const Error& e, const std::string& context);

[[noreturn]] void fail(ErrorKind kind, const std::string& message);

}  // namespace bespoke

// Guards an internal invariant; a failure is a bug in Bespoke, not bad input.
#define BESPOKE_CHECK(cond, msg)                                                              \
  do {                                                                                        \
    if (!(cond))                                                                              \
      ::bespoke::fail(::bespoke::ErrorKind::kInternal,                                        \
                      std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " + (msg)); \
  } while (0)
