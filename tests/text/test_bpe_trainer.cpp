// Learning byte-level BPE merges: a hand-counted corpus gives the hand-counted merges, the
// learned tokenizer encodes any text losslessly and its own corpus in fewer tokens, and the
// base's special tokens keep their text under new ids.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "bespoke/core/error.h"
#include "bespoke/task/encoding/generator.h"
#include "bespoke/text/bpe_trainer.h"
#include "bespoke/text/hf_tokenizer.h"
#include "test_util.h"

namespace bespoke {
namespace {

using nlohmann::json;

json fixture_tokenizer() {
  return json::parse(std::ifstream(test::fixture_dir("llama") + "/tokenizer.json"));
}

TEST(BpeTrainer, MergesTheMostFrequentPairFirstAndStopsAtPairsSeenOnce) {
  // Words (the fixture's Qwen2 split, "Ġ" is the space): "ab" "Ġab" "Ġab" "Ġcd".
  // Pairs: (a,b) 3, (Ġ,a) 2, (Ġ,c) 1, (c,d) 1 -> "ab"; then (Ġ,ab) 2 -> "Ġab"; the rest occur once.
  const json t = text::train_byte_level_bpe(fixture_tokenizer(), {"ab ab ab cd"}, 1000);
  EXPECT_EQ(t["model"]["merges"], json::parse(R"([["a","b"],["Ġ","ab"]])"));
  EXPECT_EQ(t["model"]["vocab"].size(), 3u + 256u + 2u);
  EXPECT_EQ(t["model"]["vocab"]["ab"], 259);
  EXPECT_EQ(t["model"]["vocab"]["Ġab"], 260);
  const text::HfTokenizer tokenizer(t);
  EXPECT_EQ(tokenizer.encode("ab ab cd", false), (std::vector<int32_t>{259, 260, 3 + 0x20, 3 + 'c', 3 + 'd'}));
}

TEST(BpeTrainer, TiesGoToTheSmallerPairAndTheVocabularyStopsWhereAsked) {
  // (x,y) and (a,b) both occur twice: "ab" first. A vocabulary of 260 leaves room for one merge.
  const json t = text::train_byte_level_bpe(fixture_tokenizer(), {"xy ab", "xy ab"}, 260);
  EXPECT_EQ(t["model"]["merges"], json::parse(R"([["a","b"]])"));
  EXPECT_EQ(t["model"]["vocab"].size(), 260u);
}

TEST(BpeTrainer, EveryTokenOnceWithDenseIdsAndEveryMergeLoadable) {
  const std::vector<std::string> texts = {"ab ab ab abc abc", "bc bc bc bc bc abc", "xbc xbc",
                                          "aaaa aaa aaaaa aaaaaaa aa"};
  const json t = text::train_byte_level_bpe(fixture_tokenizer(), texts, 400);
  std::set<int64_t> ids;
  for (const auto& [token, id] : t["model"]["vocab"].items()) ids.insert(id.get<int64_t>());
  EXPECT_EQ(ids.size(), t["model"]["vocab"].size());
  EXPECT_EQ(*ids.rbegin(), static_cast<int64_t>(ids.size()) - 1);
  const text::HfTokenizer tokenizer(t);  // loads: every merge's parts and result are in the vocabulary
  for (const std::string& s : texts) EXPECT_EQ(tokenizer.decode(tokenizer.encode(s, false)), s);
}

TEST(BpeTrainer, EncodesTheTaskInFewerTokensAndAnyTextLosslessly) {
  const auto records = task::encoding::generate_encoding_records({60, 3}, task::encoding::PromptTemplate::builtin());
  std::vector<std::string> texts;
  for (const auto& r : records)
    for (const auto& m : r["messages"]) texts.push_back(m["content"].get<std::string>());
  const json base = fixture_tokenizer();
  const json learned = text::train_byte_level_bpe(base, texts, 1024);
  EXPECT_EQ(learned["model"]["vocab"].size(), 1024u);
  EXPECT_EQ(learned, text::train_byte_level_bpe(base, texts, 1024));  // deterministic

  const text::HfTokenizer ours(learned), fixture(base);
  size_t n_ours = 0, n_fixture = 0;
  for (const std::string& s : texts) {
    const std::vector<int32_t> ids = ours.encode(s, false);
    EXPECT_EQ(ours.decode(ids), s);
    n_ours += ids.size();
    n_fixture += fixture.encode(s, false).size();
  }
  EXPECT_LT(n_ours, n_fixture * 7 / 10) << n_ours << " vs " << n_fixture;
  // Text unlike the corpus still round-trips: every byte has a token.
  const std::string other = "Ünïcödé, 日本語, emoji 🙂, tabs\tand\r\nnewlines <|im_end|>";
  EXPECT_EQ(ours.decode(ours.encode(other, false)), other);
}

TEST(BpeTrainer, SpecialTokensKeepTheirTextAndTemplateIdsFollowThem) {
  json base = fixture_tokenizer();
  // Specials listed out of id order, and a post-processor that adds one of them.
  std::swap(base["added_tokens"][0], base["added_tokens"][2]);
  base["post_processor"] = json::parse(R"({"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<|im_start|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "pair": [], "special_tokens": {"<|im_start|>": {"id": "<|im_start|>", "ids": [99], "tokens": ["<|im_start|>"]}}})");
  const json t = text::train_byte_level_bpe(base, {"hello hello"}, 300);
  ASSERT_EQ(t["added_tokens"].size(), 3u);
  EXPECT_EQ(t["added_tokens"][0]["content"], "<|endoftext|>");
  EXPECT_EQ(t["added_tokens"][2]["content"], "<|im_end|>");
  EXPECT_EQ(t["added_tokens"][2]["id"], 2);
  EXPECT_EQ(t["post_processor"]["special_tokens"]["<|im_start|>"]["ids"], json::array({1}));
  const text::HfTokenizer tokenizer(t);
  EXPECT_EQ(tokenizer.encode("hello").front(), 1);
  EXPECT_EQ(tokenizer.token_id("<|im_end|>"), 2);
}

TEST(BpeTrainer, NumbersCanSplitIntoRunsOfUpToThreeDigits) {
  const std::vector<std::string> texts = {"cost 156980 then 318932 and 318932"};
  const json runs = text::train_byte_level_bpe(fixture_tokenizer(), texts, 400, 3);
  EXPECT_NE(runs["pre_tokenizer"].dump().find(R"(|\\p{N}{1,3}|)"), std::string::npos);  // LLaMA 3's rule
  const text::HfTokenizer tokenizer(runs);
  // "318" and "932" occur twice, so each became one token; the base's rule keeps six digits.
  EXPECT_EQ(tokenizer.encode("318932", false),
            (std::vector<int32_t>{tokenizer.token_id("318"), tokenizer.token_id("932")}));
  const text::HfTokenizer single(text::train_byte_level_bpe(fixture_tokenizer(), texts, 400));
  EXPECT_EQ(single.encode("318932", false).size(), 6u);
  // Any number: pieces of at most three digits that spell it.
  std::string spelled;
  for (const int32_t id : tokenizer.encode("12345678901", false)) {
    const std::string piece = tokenizer.decode({id});
    EXPECT_LE(piece.size(), 3u) << piece;
    spelled += piece;
  }
  EXPECT_EQ(spelled, "12345678901");
  // Only the two rules llama.cpp knows, and only on a base whose rule can be widened.
  EXPECT_THROW(text::train_byte_level_bpe(fixture_tokenizer(), texts, 400, 2), Error);
  json gpt2 = fixture_tokenizer();
  gpt2["pre_tokenizer"] = json::parse(R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})");
  EXPECT_THROW(text::train_byte_level_bpe(gpt2, texts, 400, 3), Error);
}

TEST(BpeTrainer, RefusesANonByteLevelBaseAndAVocabularyBelowItsAlphabet) {
  const json spm = json::parse(std::ifstream(test::fixture_dir("tokenizer_spm") + "/tokenizer.json"));
  EXPECT_THROW(text::train_byte_level_bpe(spm, {"a b"}, 1000), Error);
  EXPECT_THROW(text::train_byte_level_bpe(fixture_tokenizer(), {"a b"}, 200), Error);
}

}  // namespace
}  // namespace bespoke
