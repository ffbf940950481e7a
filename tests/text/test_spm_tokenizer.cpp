// SentencePiece tokenizer.model, checked against SentencePiece itself: models trained by
// spm_train, encodings and decodings from spm_encode / spm_decode (separate processes).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bespoke/core/error.h"
#include "bespoke/text/spm_tokenizer.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;

// Trains a BPE model with byte fallback and the identity normalizer on text that ships with
// the tests; `extra` adds spm_train flags. Returns the model's path.
std::string train(const std::string& dir, const std::string& extra) {
  const std::string corpus = dir + "/corpus.txt";
  {
    std::ofstream out(corpus);
    for (const char* f :
         {"/hf/tokenizer_spm/tokenizer.json", "/README.md", "/hf/tokenizer_bpe/reference_encodings.json"})
      out << std::ifstream(std::string(BESPOKE_FIXTURES) + f).rdbuf() << "\n";
  }
  const test::CommandResult r = test::run_command(
      "spm_train --input=" + corpus + " --model_prefix=" + dir +
      "/m --vocab_size=500 --model_type=bpe "
      "--byte_fallback=true --normalization_rule_name=identity --character_coverage=0.995 --minloglevel=2 " +
      extra);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return dir + "/m.model";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

std::string join(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s;
}

void expect_same_as_sentencepiece(const std::string& extra) {
  const std::string dir = test::scratch_dir("spm");
  const std::string model = train(dir, extra);
  const text::SpmTokenizer ours(model, /*add_bos=*/true, /*add_eos=*/false);
  std::mt19937 rng(7);
  std::vector<std::string> texts = {"Hello world",       "  two  leading and trailing  ",
                                    "naïve café 日本 😀", "def f(x): return x ** 2  # comment",
                                    "<unused>",          ""};
  for (int i = 0; i < 300; ++i) texts.push_back(test::random_text(rng, 30, /*newlines=*/false));
  {
    std::ofstream out(dir + "/in.txt");
    for (const std::string& t : texts) out << t << "\n";
  }
  const test::CommandResult enc =
      test::run_command("spm_encode --model=" + model + " --output_format=id < " + dir + "/in.txt");
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  const std::vector<std::string> want = lines_of(enc.out);
  ASSERT_EQ(want.size(), texts.size());
  std::ofstream ids_file(dir + "/ids.txt");
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int32_t> ids = ours.encode(texts[i], /*add_special=*/false);
    EXPECT_EQ(join(ids), want[i]) << "text: '" << texts[i] << "'";
    ids_file << want[i] << "\n";
  }
  ids_file.close();
  const test::CommandResult dec =
      test::run_command("spm_decode --model=" + model + " --input_format=id < " + dir + "/ids.txt");
  ASSERT_EQ(dec.exit_code, 0) << dec.err;
  const std::vector<std::string> decoded = lines_of(dec.out);
  ASSERT_EQ(decoded.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i)
    EXPECT_EQ(ours.decode(ours.encode(texts[i], false)), decoded[i]) << "text: '" << texts[i] << "'";
}

TEST(SpmTokenizer, MatchesSentencePieceLlamaStyle) {
  expect_same_as_sentencepiece("--remove_extra_whitespaces=false");
}

TEST(SpmTokenizer, MatchesSentencePieceWithDefaultsAndUserSymbols) {
  expect_same_as_sentencepiece("'--user_defined_symbols=<unused>,<tool>'");
}

TEST(SpmTokenizer, AddsBosAndKeepsControlTokensUnlessSkipped) {
  const std::string dir = test::scratch_dir("spm");
  const text::SpmTokenizer t(train(dir, ""), true, false);
  const std::vector<int32_t> ids = t.encode("Hello");
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), t.token_id("<s>"));
  EXPECT_EQ(t.decode(ids), "<s>Hello");
  EXPECT_EQ(t.decode(ids, /*skip_special=*/true), "Hello");
}

TEST(SpmTokenizer, RejectsWhatItCannotRun) {
  const std::string dir = test::scratch_dir("spm");
  std::ofstream(dir + "/junk.model") << "\x0a\xff\xff\xff\xff\x0f";
  EXPECT_THROW(text::SpmTokenizer(dir + "/junk.model", true, false), Error);
  const test::CommandResult r =
      test::run_command("spm_train --input=" + std::string(BESPOKE_FIXTURES) + "/README.md --model_prefix=" + dir +
                        "/uni --vocab_size=120 --model_type=unigram --minloglevel=2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  try {
    text::SpmTokenizer t(dir + "/uni.model", true, false);
    FAIL() << "accepted a unigram model";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
  }
}

}  // namespace
}  // namespace bespoke
