// The prompt: the built-in wording carries the task, the three rules, the schema and the
// memory's fields; a template file replaces it (user message, optionally after a system
// message and a "---" line), and a file without {content} is refused.
#include <gtest/gtest.h>

#include <fstream>

#include "bespoke/core/error.h"
#include "bespoke/task/encoding/prompt.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace enc = task::encoding;

std::string write(const std::string& name, const std::string& text) {
  const std::string path = test::scratch_dir("prompt") + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(EncodingPrompt, BuiltInHoldsTheRulesSchemaAndFields) {
  const auto m = enc::prompt_messages(enc::PromptTemplate::builtin(), "SIGKILL {source}", "mcp", "error");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].role, "system");
  EXPECT_EQ(m[1].role, "user");
  for (const char* part : {"FAITHFULNESS", "PRESERVATION", "MINIMALITY", "structured_concepts", "routine | notable",
                           "SOURCE: mcp\nTYPE: error\nCONTENT:\nSIGKILL {source}\n"})
    EXPECT_NE(m[1].content.find(part), std::string::npos) << part;
}

TEST(EncodingPrompt, ATemplateFileReplacesTheWording) {
  auto m =
      enc::prompt_messages(enc::PromptTemplate::from_file(write("a.txt", "Encode: {content} ({type} via {source})")),
                           "x", "git", "repo_changed");
  ASSERT_EQ(m.size(), 1u);  // no system message
  EXPECT_EQ(m[0].content, "Encode: x (repo_changed via git)");
  m = enc::prompt_messages(enc::PromptTemplate::from_file(write("b.txt", "Be brief.\n---\nCONTENT: {content}")), "y");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].content, "Be brief.");
  EXPECT_EQ(m[1].content, "CONTENT: y");
  EXPECT_THROW(enc::PromptTemplate::from_file(write("c.txt", "no placeholder")), Error);
  EXPECT_THROW(enc::PromptTemplate::from_file(test::scratch_dir("prompt") + "/missing.txt"), Error);
}

}  // namespace
}  // namespace bespoke
