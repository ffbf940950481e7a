// The `bespoke` command: builds the subcommands and owns the one place that turns errors
// into a message and an exit code.
#include <iostream>

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {  // a command's own exit status (`gate`: 1 for no-go)
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  } catch (const bespoke::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_code(e.kind());
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    for (char& c : msg) if (c == '\n') c = ' ';
    std::cerr << "error: " << msg << "\n";
    return kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitInternal;
  }
  return 0;
}
