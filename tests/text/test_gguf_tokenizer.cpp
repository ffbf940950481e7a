// A GGUF file's own tokenizer (tokenizer.ggml.*) against two oracles: the model directory's
// tokenizer.json (Hugging Face's tokenizer, held to transformers' encodings by test_tokenizer.cpp)
// and llama.cpp's tokenizer reading the same file (node-llama-cpp through tools/interop). Every
// fixture family is exported to GGUF as test_gguf_interop.cpp does; a copy of an export's
// metadata without its tensors (a vocab-only file) must give the same tokenizer and chat format.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <tuple>

#include "bespoke/core/error.h"
#include "bespoke/export/gguf_export.h"
#include "bespoke/io/gguf_reader.h"
#include "bespoke/io/gguf_writer.h"
#include "bespoke/model/load.h"
#include "bespoke/text/chat_template.h"
#include "bespoke/text/encoder.h"
#include "bespoke/text/gguf_tokenizer.h"
#include "bespoke/text/normalizer.h"
#include "bespoke/text/tokenizer.h"
#include "test_util.h"

namespace bespoke {
namespace {

using nlohmann::json;

// The fixture of `family` exported to an F32 GGUF, once per run.
std::string exported(const std::string& family) {
  static std::map<std::string, std::string> done;
  if (!done.count(family)) {
    model::Transformer net = model::load_model(test::fixture_dir(family));
    const std::string path = test::scratch_dir("gguf_tokenizer") + "/" + family + ".gguf";
    exporter::export_gguf(net, test::fixture_dir(family), path, io::GgmlType::kF32);
    done[family] = path;
  }
  return done[family];
}

// `v` written back with the type the exporter wrote it with: it writes no other types.
void copy_value(io::GgufWriter& out, const std::string& key, const json& v) {
  const json& kind = v.is_array() && !v.empty() ? v[0] : v;
  if (v.is_array() && kind.is_string())
    out.add_string_array(key, v.get<std::vector<std::string>>());
  else if (v.is_array() && kind.is_number_unsigned())
    out.add_uint32_array(key, v.get<std::vector<uint32_t>>());
  else if (v.is_array() && kind.is_number_integer())
    out.add_int32_array(key, v.get<std::vector<int32_t>>());
  else if (v.is_array() && kind.is_number_float())
    out.add_float32_array(key, v.get<std::vector<float>>());
  else if (v.is_string())
    out.add_string(key, v.get<std::string>());
  else if (v.is_boolean())
    out.add_bool(key, v.get<bool>());
  else if (v.is_number_unsigned())
    out.add_uint32(key, v.get<uint32_t>());
  else if (v.is_number_integer())
    out.add_int32(key, v.get<int32_t>());
  else if (v.is_number_float())
    out.add_float32(key, v.get<float>());
  else
    ADD_FAILURE() << key << " holds a value the copy cannot write: " << v.dump();
}

// `gguf`'s metadata alone, without tensors: a vocab-only file.
std::string vocab_only(const std::string& gguf) {
  const io::GgufFile from(gguf);
  io::GgufWriter out;
  for (const auto& [key, value] : from.metadata().items()) copy_value(out, key, value);
  const std::string path = test::scratch_dir("vocab_only") + "/vocab.gguf";
  out.write(path);
  return path;
}

// Text that tokenizers get wrong: runs of spaces and newlines, digits, scripts, emoji, characters
// outside the vocabulary (byte fallback), both families' special tokens among words and alone,
// text that is not in NFC, and random text of every kind.
std::vector<std::string> varied_texts() {
  std::vector<std::string> texts = {"",
                                    "a",
                                    " ",
                                    "  ",
                                    "   ",
                                    "\n",
                                    "\n\n",
                                    " \n\n ",
                                    "\t",
                                    "\r\n",
                                    "Hello world",
                                    " Hello  world ",
                                    "hello\n\nworld\n",
                                    "Grüße aus München! naïve café résumé",
                                    "東京は日本の首都です。",
                                    "Ελληνικά и русский",
                                    "emoji 🙂🚀 👍🏽 ✓ → ∑",
                                    "1 12 123 1234 12345 3.14159 -42 1e-5",
                                    "2026-11-26T05:24:10Z",
                                    "def f(x):\n    return x**2  # square\n\n\n",
                                    "I'm you're they'll we've it's DON'T",
                                    "\u00a0no-break\u2009thin\u3000wide",
                                    "https://example.com/a?b=1&c=two#frag",
                                    "{\"gist\": \"short\", \"n\": [1, 2]}",
                                    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
                                    "<|endoftext|>",
                                    "a<|endoftext|>b",
                                    "  <|im_end|>  ",
                                    "<|im_start|><|im_end|>",
                                    "<s>",
                                    "</s>",
                                    "<s>hi</s> there",
                                    "<unk>",
                                    "x<unk>y",
                                    "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n",
                                    "<0x41><0x0A>",
                                    "e\u0301 cafe\u0301",
                                    "A\u030a ring"};
  std::mt19937 rng(20260);
  for (int i = 0; i < 150; ++i) texts.push_back(test::random_text(rng, 24));
  return texts;
}

// llama.cpp's view of `gguf` through `script` (eval.mjs or tokenize_vocab.mjs) with `texts`.
json llama_cpp(const std::string& script, const std::string& gguf, const std::vector<std::string>& texts) {
  const std::string file = test::scratch_dir("texts") + "/texts.json";
  std::ofstream(file) << json(texts).dump();
  const std::string args = script == "eval.mjs" ? " --texts " + file : " " + file;
  const test::CommandResult r =
      test::run_command("node " + std::string(BESPOKE_INTEROP) + "/" + script + " " + gguf + args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out) : json::object();
}

// Whether composing to NFC leaves `s` as it is: the byte-level tokenizer.json normalizes to NFC,
// which llama.cpp does not (nor the file: GGUF has no key for it).
bool nfc_stable(const std::string& s) {
  static const text::Normalizer nfc(json{{"type", "NFC"}});
  return nfc.apply(s) == s;
}

class GgufTokenizer : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufTokenizer, EncodesAsLlamaCppAndTheDirectoryTokenizer) {
  const std::string family = GetParam(), gguf = exported(family);
  const auto ours = text::load_gguf_tokenizer(io::GgufFile(gguf));
  const auto reference = text::load_tokenizer(test::fixture_dir(family));
  const std::vector<std::string> texts = varied_texts();
  const json llama = llama_cpp("eval.mjs", gguf, texts);
  ASSERT_TRUE(llama.contains("tokens")) << family;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string& s = texts[i];
    const std::vector<int32_t> ids = ours->encode(s, false);
    EXPECT_EQ(ids, llama["tokens"][i].get<std::vector<int32_t>>()) << family << " text: " << json(s).dump();
    if (!nfc_stable(s)) continue;
    EXPECT_EQ(ids, reference->encode(s, false)) << family << " text: " << json(s).dump();
    EXPECT_EQ(ours->encode(s, true), reference->encode(s, true)) << family << " text: " << json(s).dump();
    EXPECT_EQ(ours->decode(ids), reference->decode(ids)) << family << " text: " << json(s).dump();
    EXPECT_EQ(ours->decode(ids, /*skip_special=*/true), reference->decode(ids, true)) << family;
  }
}

TEST_P(GgufTokenizer, TokenTextAndIdsAsTheDirectoryTokenizer) {
  const std::string family = GetParam();
  const auto ours = text::load_gguf_tokenizer(io::GgufFile(exported(family)));
  const auto reference = text::load_tokenizer(test::fixture_dir(family));
  ASSERT_EQ(ours->vocab_size(), reference->vocab_size()) << family;
  for (int32_t id = 0; id < ours->vocab_size(); ++id)
    EXPECT_EQ(ours->token_bytes(id), reference->token_bytes(id)) << family << " id " << id;
  for (const char* t : {"<|im_start|>", "<|im_end|>", "<|endoftext|>", "<s>", "</s>", "<unk>", "<start_of_turn>",
                        "<0x41>", "a", "no such token"})
    EXPECT_EQ(ours->token_id(t), reference->token_id(t)) << family << " token " << t;
  EXPECT_THROW(ours->decode({ours->vocab_size()}), Error);
  EXPECT_THROW(ours->token_bytes(-1), Error);
}

TEST_P(GgufTokenizer, VocabOnlyFileGivesTheSameTokenizerAndChatFormat) {
  const std::string family = GetParam(), path = vocab_only(exported(family));
  ASSERT_TRUE(io::GgufFile(path).tensors().empty());
  const std::vector<std::string> texts = varied_texts();
  const json llama = llama_cpp("tokenize_vocab.mjs", path, texts);
  ASSERT_TRUE(llama.contains("tokens")) << family;
  const auto ours = text::load_tokenizer(path);  // the hook every command's tokenizer goes through
  const auto reference = text::load_tokenizer(test::fixture_dir(family));
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int32_t> ids = ours->encode(texts[i], false);
    EXPECT_EQ(ids, llama["tokens"][i].get<std::vector<int32_t>>()) << family << " text: " << json(texts[i]).dump();
    if (nfc_stable(texts[i])) {
      EXPECT_EQ(ids, reference->encode(texts[i], false)) << family << " text: " << json(texts[i]).dump();
    }
  }
  // Special tokens as llama.cpp reads them: what encoding with them adds, and their text.
  std::vector<int32_t> want = ours->encode("hi", false);
  if (llama["add_bos"].get<bool>()) want.insert(want.begin(), llama["bos"].get<int32_t>());
  if (llama["add_eos"].get<bool>()) want.push_back(llama["eos"].get<int32_t>());
  EXPECT_EQ(ours->encode("hi", true), want) << family;
  const text::Encoder encoder(path), from_dir(test::fixture_dir(family));
  EXPECT_EQ(encoder.options.bos_token, llama["bos_text"].is_string() ? llama["bos_text"].get<std::string>() : "");
  EXPECT_EQ(encoder.options.eos_token, llama["eos_text"].is_string() ? llama["eos_text"].get<std::string>() : "");
  EXPECT_EQ(text::read_gguf_chat(io::GgufFile(path)).chat_template,
            text::read_chat_template(test::fixture_dir(family)));
  EXPECT_EQ(encoder.chat_format(), from_dir.chat_format()) << family;
}

TEST_P(GgufTokenizer, EncoderEncodesRecordsAsFromTheDirectory) {
  const std::string family = GetParam();
  const text::Encoder from_gguf(exported(family)), from_dir(test::fixture_dir(family));
  EXPECT_EQ(from_gguf.eos_id, from_dir.eos_id) << family;
  for (const char* record :
       {R"({"messages": [{"role": "user", "content": "Hi there!"}, {"role": "assistant", "content": "Hello."}]})",
        R"({"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"},
                            {"role": "user", "content": "and  3 + 3 ?\n"}, {"role": "assistant", "content": " 6 "}]})",
        R"({"prompt": "Translate: Grüße", "completion": " Greetings"})",
        R"({"text": "plain text, 12345 and emoji 🙂"})"}) {
    const text::Example a = from_gguf.encode(json::parse(record)), b = from_dir.encode(json::parse(record));
    EXPECT_EQ(a.ids, b.ids) << family << " record: " << record;
    EXPECT_EQ(a.trained, b.trained) << family << " record: " << record;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, GgufTokenizer,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "gemma4", "phi3",
                                           "olmo2", "granite", "qwen3_5"),
                         [](const auto& info) { return info.param; });

// Real Qwen 3.5 tokenizers split with combining marks kept with their letters (\p{M}); the export
// names that llama.cpp's "qwen35" pre-tokenizer, and the GGUF encodes as llama.cpp and as the
// directory's tokenizer.json do. The fixture's own regex is qwen2's: a copy with Qwen 3.5's.
TEST(GgufTokenizer, Qwen35MarksStayWithTheirLetters) {
  namespace fs = std::filesystem;
  const std::string dir = test::scratch_dir("qwen35_pre") + "/model";
  fs::copy(test::fixture_dir("qwen3_5"), dir, fs::copy_options::recursive);
  json tok = json::parse(std::ifstream(dir + "/tokenizer.json"));
  tok["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|"
      "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  std::ofstream(dir + "/tokenizer.json") << tok.dump();
  model::Transformer net = model::load_model(dir);
  const std::string gguf = test::scratch_dir("qwen35_pre") + "/model.gguf";
  exporter::export_gguf(net, dir, gguf, io::GgmlType::kF32);
  EXPECT_EQ(io::GgufFile(gguf).metadata()["tokenizer.ggml.pre"], "qwen35");
  const auto ours = text::load_gguf_tokenizer(io::GgufFile(gguf));
  const auto reference = text::load_tokenizer(dir);
  std::vector<std::string> texts = varied_texts();
  texts.push_back("Tie\u0301ng Vie\u0323\u0302t, \u0915\u093f\u0924\u093e\u092c, a\u0308\u0308!");
  const json llama = llama_cpp("eval.mjs", gguf, texts);
  ASSERT_TRUE(llama.contains("tokens"));
  int with_marks = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int32_t> ids = ours->encode(texts[i], false);
    EXPECT_EQ(ids, llama["tokens"][i].get<std::vector<int32_t>>()) << "text: " << json(texts[i]).dump();
    if (nfc_stable(texts[i])) EXPECT_EQ(ids, reference->encode(texts[i], false)) << "text: " << json(texts[i]).dump();
    with_marks += texts[i].find("\xcc") != std::string::npos;  // U+0300..U+033F
  }
  EXPECT_GE(with_marks, 3);
}

// `bespoke tokenize` takes a GGUF where it takes a model directory, and prints the same ids.
TEST(GgufTokenizerCli, TokenizeTakesAGgufFile) {
  for (const char* family : {"llama", "mistral"}) {
    const std::string args = " --text 'Hello <|im_end|> world <start_of_turn>\n12345'";
    const test::CommandResult from_gguf = test::run_bespoke("tokenize " + exported(family) + args);
    const test::CommandResult from_dir = test::run_bespoke("tokenize " + test::fixture_dir(family) + args);
    ASSERT_EQ(from_gguf.exit_code, 0) << from_gguf.err;
    EXPECT_EQ(from_gguf.out, from_dir.out) << family;
  }
}

// A GGUF of `tokens` whose tokenizer.ggml.model is `model` (and .pre `pre`, where not empty).
std::string small_gguf(const std::string& model, const std::string& pre, const std::vector<std::string>& tokens) {
  io::GgufWriter out;
  out.add_string("general.architecture", "llama");
  if (!model.empty()) out.add_string("tokenizer.ggml.model", model);
  if (!pre.empty()) out.add_string("tokenizer.ggml.pre", pre);
  if (!tokens.empty()) out.add_string_array("tokenizer.ggml.tokens", tokens);
  out.add_string_array("tokenizer.ggml.merges", {"a b"});
  const std::string path = test::scratch_dir("bad_gguf") + "/bad.gguf";
  out.write(path);
  return path;
}

// The error loading `path`'s tokenizer raises; fails the test if it raises none.
Error load_error(const std::string& path) {
  try {
    text::load_gguf_tokenizer(io::GgufFile(path));
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << path << " loaded";
  return Error(ErrorKind::kInternal, "");
}

TEST(GgufTokenizerErrors, ATokenizerBespokeCannotReproduceIsRefusedByName) {
  for (const auto& [model, pre, named] : {std::tuple<std::string, std::string, std::string>{"bert", "", "\"bert\""},
                                          {"t5-unigram?", "", "\"t5-unigram?\""},
                                          {"gpt2", "mystery-pre", "\"mystery-pre\""},
                                          {"gpt2", "", "\"default\""}}) {
    const std::string path = small_gguf(model, pre, {"a", "b", "ab"});
    const Error e = load_error(path);
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported) << e.what();
    const std::string what = e.what();
    EXPECT_NE(what.find(named), std::string::npos) << what;
    EXPECT_EQ(what.rfind(path, 0), 0u) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(GgufTokenizerErrors, MalformedVocabulariesAreInputErrors) {
  for (const auto& [tokens, named] : {std::pair<std::vector<std::string>, std::string>{{}, "tokenizer.ggml.tokens"},
                                      {{"a", "b", "a"}, "\"a\" twice (ids 0 and 2)"}}) {
    const Error e = load_error(small_gguf("gpt2", "gpt-2", tokens));
    EXPECT_EQ(e.kind(), ErrorKind::kInput) << e.what();
    EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
  }
}

// A GGUF without tokenizer metadata still makes an Encoder, for ids records, as a directory
// without tokenizer files does.
TEST(GgufTokenizerErrors, AFileWithoutATokenizerEncodesIdsOnly) {
  const text::Encoder encoder(small_gguf("", "", {}));
  EXPECT_TRUE(encoder.tokenizer == nullptr);
  EXPECT_EQ(encoder.encode(json::parse(R"({"ids": [1, 2, 3]})")).ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_THROW(encoder.encode(json::parse(R"({"text": "hi"})")), Error);
}

}  // namespace
}  // namespace bespoke
