// Chat formats against the templates themselves: tests/fixtures/chat_templates/cases.json
// holds what Jinja2, set up as transformers' apply_chat_template sets it up, renders from each
// real template (make_cases.py). Each template must be recognised as its format and each
// conversation rendered to the same bytes, or refused where the template raises.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/text/chat_template.h"
#include "test_util.h"

namespace bespoke {
namespace {

const std::string kDir = std::string(BESPOKE_FIXTURES) + "/chat_templates/";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(ChatTemplate, RendersLikeTheJinjaTemplates) {
  const nlohmann::json fixture = nlohmann::json::parse(std::ifstream(kDir + "cases.json"));
  ASSERT_GT(fixture["cases"].size(), 100u);
  for (const auto& c : fixture["cases"]) {
    const std::string where = c["template"].get<std::string>() + " / " + c["conversation"].get<std::string>() +
                              " / gen=" + (c["add_generation_prompt"].get<bool>() ? "1" : "0") + " / " +
                              c["variables"].dump();
    const text::ChatFormat format = text::detect_chat_format(read_file(kDir + c["template"].get<std::string>()));
    EXPECT_EQ(text::chat_format_names().name(format), c["format"].get<std::string>()) << where;
    std::vector<text::ChatMessage> messages;
    for (const auto& m : fixture["conversations"][c["conversation"].get<std::string>()])
      messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    text::ChatOptions options;
    options.add_generation_prompt = c["add_generation_prompt"].get<bool>();
    options.bos_token = c["bos_token"].get<std::string>();
    options.eos_token = c["eos_token"].get<std::string>();
    if (c["variables"].contains("enable_thinking"))
      options.enable_thinking = c["variables"]["enable_thinking"].get<bool>();
    if (c.contains("error")) {
      EXPECT_THROW(text::render_chat(format, messages, options), Error) << where;
      continue;
    }
    try {
      EXPECT_EQ(text::render_chat(format, messages, options), c["expected"].get<std::string>()) << where;
    } catch (const Error& e) {
      ADD_FAILURE() << where << ": " << e.what();
    }
  }
}

TEST(ChatTemplate, UnknownTemplateNamesTheOverride) {
  try {
    text::detect_chat_format("{% for m in messages %}### {{ m.role }}: {{ m.content }}{% endfor %}");
    FAIL() << "recognised a template it cannot render";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--chat-template"), std::string::npos) << e.what();
  }
}

TEST(ChatTemplate, ReadsTheTemplateOfAModelDirectory) {
  const std::string t = text::read_chat_template(test::fixture_dir("tokenizer_spm"));
  EXPECT_NE(t.find("<start_of_turn>"), std::string::npos);
  EXPECT_THROW(text::read_chat_template(test::scratch_dir("none")), Error);
}

}  // namespace
}  // namespace bespoke
