// Constrained decoding of an encoding record. The byte-level grammar accepts the strict schema
// (key order, enums, salience range, gist/summary limits in code points, UTF-8, escapes and
// surrogate pairs) in the generator's layout, refuses each departure at its first byte, and completes every prefix to a
// record without violations. Greedy decoding under it gives valid records from random-weight
// models with byte-level, SentencePiece-style and native SentencePiece vocabularies; without
// it, generate_greedy's tokens. Tokens' raw bytes join to their decoded text.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>

#include "bespoke/model/generate.h"
#include "bespoke/model/load.h"
#include "bespoke/task/encoding/decode.h"
#include "bespoke/task/encoding/generator.h"
#include "bespoke/task/encoding/grammar.h"
#include "bespoke/task/encoding/record.h"
#include "bespoke/text/chat_template.h"
#include "bespoke/text/spm_tokenizer.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace enc = task::encoding;
using enc::Json;
using enc::RecordGrammar;

// Multi-byte UTF-8, every escape, a surrogate pair, lists of several items and of none.
const std::string kRecord =
    R"({"gist": "Caf\u00e9 \"pool\" \ud83d\uDE00 é😀", "summary": "Raised the pool\\size\/limit.\n\tok\b\f\r", )"
    R"("content": "Set max pool size to 25 in db.go line 88.", "narrative": "日本語 context", "concepts": ["database", "config"], )"
    R"("structured_concepts": {"topics": [{"label": "database", "path": "backend/database"}], )"
    R"("entities": [{"name": "db.go", "type": "file", "context": "pool config"}, {"name": "", "type": "", "context": ""}], )"
    R"("actions": [{"verb": "set", "object": "pool size", "details": "25"}], "causality": []}, )"
    R"("significance": "routine", "emotional_tone": "neutral", "outcome": "success", "salience": 0.35})";

std::string replaced(const std::string& s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.substr(0, at) + to + s.substr(at + from.size());
}

// The record with `gist` as its gist.
std::string with_gist(const std::string& gist) {
  return replaced(kRecord, R"(Caf\u00e9 \"pool\" \ud83d\uDE00 é😀)", gist);
}

// How many leading bytes of `s` the grammar takes before it refuses one.
size_t accepted(const std::string& s) {
  RecordGrammar g;
  size_t n = 0;
  while (n < s.size() && g.advance(s[n])) ++n;
  return n;
}

bool valid(const std::string& text) {
  try {
    return enc::violations(Json::parse(text)).empty();
  } catch (const Json::exception&) {
    return false;
  }
}

TEST(RecordGrammar, AcceptsAValidRecordByteByByte) {
  ASSERT_TRUE(valid(kRecord));
  RecordGrammar g;
  for (size_t i = 0; i < kRecord.size(); ++i) {
    EXPECT_FALSE(g.done()) << i;
    ASSERT_TRUE(g.advance(kRecord[i])) << "byte " << i << " of " << kRecord;
  }
  EXPECT_TRUE(g.done());
  EXPECT_EQ(g.shortest_completion(), "");
  EXPECT_FALSE(g.advance(' '));
  EXPECT_FALSE(g.advance('}'));
  for (const char* salience : {"0", "1", "1.0", "1.0000", "0.5", "0.0001", "0.9999"})
    EXPECT_EQ(accepted(replaced(kRecord, "0.35", salience)), kRecord.size() - 4 + std::strlen(salience)) << salience;
}

TEST(RecordGrammar, RefusesEachDepartureFromTheSchemaAtItsFirstByte) {
  struct Case {
    const char* what;
    std::string text;
    std::string refused;  // the text from the refused byte on, up to its last occurrence
  };
  const std::string sixty = std::string(58, 'x') + "\\u00e9😀";  // 60 code points: an escape is one
  const Case cases[] = {
      {"key order",
       replaced(kRecord, R"("significance": "routine", "emotional_tone": "neutral")",
                R"("emotional_tone": "neutral", "significance": "routine")"),
       R"(emotional_tone": "neutral", "significance)"},
      {"whitespace", replaced(kRecord, "{\"gist\"", "{ \"gist\""), " \"gist\""},
      {"no space after a key", replaced(kRecord, "\"content\": ", "\"content\":"), "\"Set max"},
      {"no space after a comma", replaced(kRecord, "\"database\", \"config\"", "\"database\",\"config\""),
       "\"config\"]"},
      {"two spaces", replaced(kRecord, "\"outcome\": ", "\"outcome\":  "), " \"success"},
      {"newline between items", replaced(kRecord, "}, {\"name\": \"\"", "},\n{\"name\": \"\""), "\n{\"name\": \"\""},
      {"extra key", replaced(kRecord, "0.35}", "0.35, \"extra\": 1}"), ", \"extra\""},
      {"missing item field", replaced(kRecord, R"(, "path": "backend/database")", ""), R"(}], "entities")"},
      {"enum", replaced(kRecord, "\"routine\"", "\"trivial\""), "trivial\""},
      {"enum prefix", replaced(kRecord, "\"routine\"", "\"rout\""), "\", \"emotional"},
      {"salience 1.5", replaced(kRecord, "0.35", "1.5"), "5}"},
      {"salience 2", replaced(kRecord, "0.35", "2"), "2}"},
      {"salience -0", replaced(kRecord, "0.35", "-0"), "-0}"},
      {"salience 01", replaced(kRecord, "0.35", "01"), "1}"},
      {"salience 0.", replaced(kRecord, "0.35", "0."), "}"},
      {"five decimals", replaced(kRecord, "0.35", "0.12345"), "5}"},
      {"salience string", replaced(kRecord, "0.35", "\"0.35\""), "\"0.35\"}"},
      {"gist of 61", with_gist(std::string(60, 'x') + "é"), "é\""},
      {"gist of 61 with an escape", with_gist("x" + sixty), "😀\""},
      {"empty content", replaced(kRecord, "Set max pool size to 25 in db.go line 88.", ""), "\", \"narrative"},
      {"raw newline", replaced(kRecord, "db.go line", "db.go\nline"), "\nline"},
      {"raw tab", replaced(kRecord, "db.go line", "db.go\tline"), "\tline"},
      {"stray continuation byte", replaced(kRecord, "db.go line", "db.go\x80line"), "\x80line"},
      {"overlong", replaced(kRecord, "db.go line", "db.go\xC0\xAFline"), "\xC0\xAFline"},
      {"encoded surrogate", replaced(kRecord, "db.go line", "db.go\xED\xA0\x80line"), "\xA0\x80line"},
      {"past U+10FFFF", replaced(kRecord, "db.go line", "db.go\xF4\x90\x80\x80line"), "\x90\x80\x80line"},
      {"truncated sequence", replaced(kRecord, "db.go line", "db.go\xE2\x82line"), "line"},
      {"unknown escape", replaced(kRecord, "db.go line", "db.go\\xline"), "xline"},
      {"short \\u", replaced(kRecord, "db.go line", "db.go\\u12g4line"), "g4line"},
      {"lone low surrogate", replaced(kRecord, "db.go line", "db.go\\udc00line"), "c00line"},
      {"high surrogate alone", replaced(kRecord, "db.go line", "db.go\\ud83dline"), "line"},
      {"high then not low", replaced(kRecord, "db.go line", "db.go\\ud83d\\u0041line"), "0041line"},
  };
  for (const Case& c : cases) {
    const size_t at = c.text.rfind(c.refused);
    EXPECT_EQ(accepted(c.text), at) << c.what << ": refused \"" << c.text.substr(accepted(c.text), 12) << "\"";
  }
  EXPECT_EQ(accepted(with_gist(sixty)), with_gist(sixty).size());
  EXPECT_TRUE(valid(with_gist(sixty)));
  EXPECT_EQ(accepted(with_gist(std::string(60, 'x'))), with_gist(std::string(60, 'x')).size());
}

// A model trained on the generator's records is held to the layout it learned, byte for byte.
TEST(RecordGrammar, AcceptsEveryGeneratedGoldRecordAsWritten) {
  for (const Json& r : enc::generate_encoding_records({200, 11}, enc::PromptTemplate::builtin())) {
    const std::string gold = r["messages"].back()["content"].get<std::string>();
    RecordGrammar g;
    ASSERT_EQ(accepted(gold), gold.size()) << gold.substr(accepted(gold));
    for (const char c : gold) g.advance(c);
    EXPECT_TRUE(g.done()) << gold;
  }
}

TEST(RecordGrammar, RefusedByteLeavesTheStateAsItWas) {
  RecordGrammar g;
  const size_t half = kRecord.find("narrative");
  for (size_t i = 0; i < half; ++i) ASSERT_TRUE(g.advance(kRecord[i]));
  const std::string before = g.shortest_completion();
  EXPECT_FALSE(g.advance('{'));
  EXPECT_EQ(g.shortest_completion(), before);
  for (size_t i = half; i < kRecord.size(); ++i) ASSERT_TRUE(g.advance(kRecord[i]));
  EXPECT_TRUE(g.done());
}

TEST(RecordGrammar, ShortestCompletionFinishesEveryPrefix) {
  const std::string shortest = RecordGrammar().shortest_completion();
  EXPECT_TRUE(valid(shortest)) << shortest;
  EXPECT_EQ(RecordGrammar().completion_length(), shortest.size());
  for (const std::string& record : {kRecord, replaced(kRecord, "0.35", "1.0"), replaced(kRecord, "0.35", "1"),
                                    with_gist(std::string(60, 'x')), shortest}) {
    RecordGrammar g;
    for (size_t n = 0; n <= record.size(); ++n) {
      const std::string completion = g.shortest_completion();
      ASSERT_EQ(g.completion_length(), completion.size());
      ASSERT_TRUE(valid(record.substr(0, n) + completion)) << record.substr(0, n) << " + " << completion;
      RecordGrammar done = g;
      for (char c : completion) ASSERT_TRUE(done.advance(c)) << record.substr(0, n) << " + " << completion;
      EXPECT_TRUE(done.done());
      // Decoding relies on this: each byte of the completion brings the end one byte nearer.
      if (!completion.empty()) {
        RecordGrammar next = g;
        ASSERT_TRUE(next.advance(completion[0]));
        EXPECT_LE(next.completion_length(), completion.size() - 1);
      }
      if (n < record.size()) ASSERT_TRUE(g.advance(record[n]));
    }
  }
}

// Prompts from short random memories through the fixture's chat template.
std::vector<std::vector<int32_t>> prompts(const std::string& dir, const text::Tokenizer& tok, int n) {
  const text::ChatFormat format = text::detect_chat_format(text::read_chat_template(dir));
  text::ChatOptions options;
  options.add_generation_prompt = true;
  std::mt19937 rng(11);
  std::vector<std::vector<int32_t>> out;
  for (int i = 0; i < n; ++i) {
    const std::string memory = "Encode this memory as JSON: " + test::random_text(rng, 30);
    out.push_back(tok.encode(text::render_chat(format, {{"user", memory}}, options), /*add_special=*/false));
  }
  return out;
}

// Token budget: a little room before the budget forces the completion.
constexpr int64_t kSlack = 40;

void expect_valid_records(const std::string& family, const text::Tokenizer& tok,
                          const std::vector<std::vector<int32_t>>& prompts) {
  model::Transformer net = model::load_model(test::fixture_dir(family));
  const enc::DecodeOptions options{static_cast<int64_t>(RecordGrammar().completion_length()) + kSlack,
                                   /*constrained=*/true};
  const auto start = std::chrono::steady_clock::now();
  int valid_records = 0;
  for (const std::vector<int32_t>& prompt : prompts) {
    const std::string text = enc::generate_text(net, tok, prompt, {}, options);
    EXPECT_EQ(accepted(text), text.size()) << text;
    valid_records += valid(text);
    EXPECT_TRUE(valid(text)) << text;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << family << ": " << valid_records << "/" << prompts.size() << " valid records in " << seconds << " s\n";
}

TEST(EncodingDecode, ConstrainedGreedyYieldsValidRecordsByteLevel) {
  const auto tok = text::load_tokenizer(test::fixture_dir("llama"));
  expect_valid_records("llama", *tok, prompts(test::fixture_dir("llama"), *tok, 20));
}

TEST(EncodingDecode, ConstrainedGreedyYieldsValidRecordsSentencePieceStyle) {
  const auto tok = text::load_tokenizer(test::fixture_dir("gemma3"));
  expect_valid_records("gemma3", *tok, prompts(test::fixture_dir("gemma3"), *tok, 5));
}

// A tokenizer.model trained here (no fixture ships one), with byte fallback; a model's ids
// above its 400 pieces are never chosen.
std::string train_spm() {
  const std::string dir = test::scratch_dir("spm_decode");
  const test::CommandResult r = test::run_command(
      "spm_train --input=" + std::string(BESPOKE_FIXTURES) + "/README.md --model_prefix=" + dir +
      "/m --vocab_size=400 --model_type=bpe --byte_fallback=true --normalization_rule_name=identity --minloglevel=2");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return dir + "/m.model";
}

TEST(EncodingDecode, ConstrainedGreedyYieldsValidRecordsNativeSentencePiece) {
  const text::SpmTokenizer tok(train_spm(), /*add_bos=*/true, /*add_eos=*/false);
  std::vector<std::vector<int32_t>> ps;
  for (const char* memory : {"Bumped the pool size to 25 in db.go.", "Naïve café: 日本 😀"})
    ps.push_back(tok.encode(memory));
  expect_valid_records("llama", tok, ps);
}

TEST(EncodingDecode, BelowTheShortestRecordIsAnError) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  const auto tok = text::load_tokenizer(test::fixture_dir("llama"));
  const enc::DecodeOptions options{static_cast<int64_t>(RecordGrammar().completion_length()) - 1, true};
  EXPECT_THROW(enc::generate_text(net, *tok, tok->encode("hi"), {}, options), Error);
}

TEST(EncodingDecode, UnconstrainedIsGenerateGreedy) {
  for (const char* family : {"llama", "gemma3"}) {
    model::Transformer net = model::load_model(test::fixture_dir(family));
    const auto tok = text::load_tokenizer(test::fixture_dir(family));
    const std::vector<int32_t> prompt = prompts(test::fixture_dir(family), *tok, 1)[0];
    const torch::Tensor ids = model::generate_greedy(
        net, torch::tensor(std::vector<int64_t>(prompt.begin(), prompt.end())).unsqueeze(0), 24)[0];
    const std::vector<int32_t> greedy(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
    EXPECT_EQ(enc::generate_text(net, *tok, prompt, {}, {24, false}), tok->decode(greedy)) << family;
    // A stop token ends the text before it.
    const std::vector<int32_t> before(greedy.begin(), std::find(greedy.begin(), greedy.end(), greedy[10]));
    EXPECT_EQ(enc::generate_text(net, *tok, prompt, {greedy[10]}, {24, false}), tok->decode(before)) << family;
  }
}

// Each token's bytes, joined, are the decoded text (but for the space a SentencePiece-style
// decoder drops at the start).
void expect_bytes_join_to_text(const text::Tokenizer& tok) {
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) {
    const std::string s = test::random_text(rng, 40);
    const std::vector<int32_t> ids = tok.encode(s, /*add_special=*/false);
    std::string joined;
    for (int32_t id : ids) joined += tok.token_bytes(id);
    const std::string decoded = tok.decode(ids);
    EXPECT_TRUE(joined == decoded || joined == " " + decoded) << "'" << joined << "' vs '" << decoded << "'";
  }
}

TEST(EncodingDecode, TokenBytesJoinToTheDecodedText) {
  const auto byte_level = text::load_tokenizer(test::fixture_dir("llama"));
  expect_bytes_join_to_text(*byte_level);
  EXPECT_EQ(byte_level->token_bytes(byte_level->token_id("<|im_end|>")), "");
  EXPECT_EQ(byte_level->token_bytes(byte_level->token_id("\xC4\xA0")), " ");  // Ġ
  const auto spm_style = text::load_tokenizer(test::fixture_dir("gemma3"));
  expect_bytes_join_to_text(*spm_style);
  EXPECT_EQ(spm_style->token_bytes(spm_style->token_id("<start_of_turn>")), "");
  EXPECT_EQ(spm_style->token_bytes(spm_style->token_id("<0xE2>")), "\xE2");  // listed as a special token
  EXPECT_EQ(spm_style->token_bytes(spm_style->token_id("\xE2\x96\x81")), " ");
  const text::SpmTokenizer spm(train_spm(), true, false);
  expect_bytes_join_to_text(spm);
  EXPECT_EQ(spm.token_bytes(spm.token_id("<s>")), "");
  EXPECT_EQ(spm.token_bytes(spm.token_id("<0x0A>")), "\n");
  EXPECT_THROW(spm.token_bytes(spm.vocab_size()), Error);
}

}  // namespace
}  // namespace bespoke
