// tokenizer.json against the reference encodings of Hugging Face tokenizers, and properties
// that must hold for any text.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "bespoke/core/error.h"
#include "bespoke/text/normalizer.h"
#include "bespoke/text/tokenizer.h"
#include "bespoke/text/utf8.h"
#include "test_util.h"

namespace bespoke {
namespace {

class ReferenceEncodings : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceEncodings, EncodeAndDecodeExactly) {
  const std::string dir = test::fixture_dir(GetParam());
  const auto tokenizer = text::load_tokenizer(dir);
  const nlohmann::json cases = nlohmann::json::parse(std::ifstream(dir + "/reference_encodings.json"));
  ASSERT_GE(cases.size(), 10u);
  for (const auto& c : cases) {
    const std::string s = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tokenizer->encode(s), want) << "text: " << s;
    EXPECT_EQ(tokenizer->decode(want), c["decoded"].get<std::string>()) << "text: " << s;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ReferenceEncodings, ::testing::Values("tokenizer_bpe", "tokenizer_spm"),
                         [](const auto& info) { return info.param; });

TEST(Tokenizer, ByteLevelRoundTripsRandomUnicode) {
  // The tokenizer normalizes to NFC, so decode(encode(s)) == s holds for text in NFC.
  const auto tokenizer = text::load_tokenizer(test::fixture_dir("tokenizer_bpe"));
  const text::Normalizer nfc(nlohmann::json{{"type", "NFC"}});
  std::mt19937 rng(1234);
  for (int i = 0; i < 2000; ++i) {
    const std::string s = nfc.apply(test::random_text(rng, 40));
    EXPECT_EQ(tokenizer->decode(tokenizer->encode(s)), s) << "text: " << s;
  }
}

TEST(Tokenizer, ByteLevelRoundTripsTextWithoutCombiningMarksExactly) {
  const auto tokenizer = text::load_tokenizer(test::fixture_dir("tokenizer_bpe"));
  for (const std::string s : {"", " ", "\n\n\t", "naïve café ñ", "日本語のテキスト", "emoji 😀👍🏽 mix",
                              "a\r\nb  c   ", "<|im_start|>user\nhi<|im_end|>", "x = f(3.14) // 42"})
    EXPECT_EQ(tokenizer->decode(tokenizer->encode(s)), s);
}

TEST(Tokenizer, InvalidUtf8IsAClearError) {
  const auto tokenizer = text::load_tokenizer(test::fixture_dir("tokenizer_bpe"));
  for (const std::string bad :
       {std::string("abc\xff"), std::string("\xc3"), std::string("\xed\xa0\x80"), std::string("\xe2\x82")}) {
    try {
      tokenizer->encode(bad);
      FAIL() << "accepted invalid UTF-8";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInput);
      EXPECT_NE(std::string(e.what()).find("not valid UTF-8"), std::string::npos) << e.what();
    }
  }
}

TEST(Tokenizer, SpecialTokensAndSkipping) {
  const auto tokenizer = text::load_tokenizer(test::fixture_dir("tokenizer_spm"));
  const int32_t bos = tokenizer->token_id("<s>");
  const int32_t turn = tokenizer->token_id("<start_of_turn>");
  ASSERT_GE(bos, 0);
  ASSERT_GE(turn, 0);
  const auto ids = tokenizer->encode("<start_of_turn>user\nhi");
  EXPECT_EQ(ids[0], bos);
  EXPECT_EQ(ids[1], turn);
  EXPECT_EQ(tokenizer->encode("hi", /*add_special=*/false).front() == bos, false);
  EXPECT_EQ(tokenizer->decode(ids, /*skip_special=*/true).find("<start_of_turn>"), std::string::npos);
  EXPECT_THROW(tokenizer->decode({tokenizer->vocab_size() + 5}), Error);
}

TEST(Utf8, LossyDecodingReplacesEachBadSequenceOnce) {
  EXPECT_EQ(text::utf8_lossy("a\xff"
                             "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(text::utf8_lossy("\xe2\x82"
                             "x"),
            "\xEF\xBF\xBD"
            "x");                                               // truncated 3-byte sequence
  EXPECT_EQ(text::utf8_lossy("\xe2\x82\xac"), "\xe2\x82\xac");  // the euro sign is valid
}

}  // namespace
}  // namespace bespoke
