// The `bespoke` command: builds the subcommands and owns the one place that turns errors
// into a message and an exit code.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bespoke/core/allocator.h"
#include "bespoke/core/error.h"
#include "commands.h"

namespace {

// Exit codes: bad input (files, values) is 2, a usage mistake 64, a bug in Bespoke 70.
constexpr int kExitInput = 2;
constexpr int kExitUsage = 64;
constexpr int kExitInternal = 70;

int exit_code(bespoke::ErrorKind kind) {
  switch (kind) {
    case bespoke::ErrorKind::kUsage:
      return kExitUsage;
    case bespoke::ErrorKind::kInternal:
      return kExitInternal;
    default:
      return kExitInput;
  }
}

// One line on stderr, whatever the message holds.
int report(std::string message, int code) {
  for (char& c : message)
    if (c == '\n') c = ' ';
  std::cerr << "error: " << message << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  bespoke::keep_freed_memory();
  CLI::App app{"Bespoke: carve a small task model out of a large pretrained one"};
  app.require_subcommand(1);
  // `bespoke train --config run.toml`: options from a TOML file, a [train] table holding the
  // flags' names without dashes; flags on the command line win.
  app.set_config("--config", "", "TOML file of options, one [subcommand] table each");
  app.fallthrough();
  bespoke::cli::add_inspect(app);
  bespoke::cli::add_logits(app);
  bespoke::cli::add_generate(app);
  bespoke::cli::add_tokenize(app);
  bespoke::cli::add_chat_format(app);
  bespoke::cli::add_export(app);
  bespoke::cli::add_train(app);
  bespoke::cli::add_teacher_logits(app);
  bespoke::cli::add_encoding(app);
  bespoke::cli::add_gate(app);
  bespoke::cli::add_demo(app);
  bespoke::cli::add_run(app);
  bespoke::cli::add_prune(app);
  bespoke::cli::add_importance(app);
  bespoke::cli::add_serve(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {  // a command's own exit status (`gate`: 1 for no-go)
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  } catch (const bespoke::Error& e) {
    return report(e.what(), exit_code(e.kind()));
  } catch (const c10::Error& e) {
    return report(e.what_without_backtrace(), kExitInternal);
  } catch (const nlohmann::json::exception& e) {
    // A JSON file of a shape its reader did not check for (a string where an object belongs):
    // bad input, not a bug.
    return report(std::string("malformed JSON input: ") + e.what(), kExitInput);
  } catch (const std::filesystem::filesystem_error& e) {
    // A path that cannot be read or written (a directory inside a file, no permission).
    return report(e.what(), kExitInput);
  } catch (const std::exception& e) {
    return report(e.what(), kExitInternal);
  }
  return 0;
}
