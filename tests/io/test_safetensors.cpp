// safetensors reader and writer: round trips, sharded checkpoints, and every malformed file
// rejected with an Error that names the file and the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/io/safetensors.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;

// Writes `header` (JSON text) and `data_bytes` zero bytes as a safetensors file.
std::string write_raw(const std::string& dir, const std::string& header, size_t data_bytes) {
  const std::string path = dir + "/raw.safetensors";
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header << std::string(data_bytes, '\0');
  return path;
}

// Expects opening `path` to throw Error(kind) whose message contains `path` and `needle`.
void expect_rejected(const std::string& path, const std::string& needle, ErrorKind kind = ErrorKind::kInput) {
  try {
    io::SafetensorsFile f(path);
    FAIL() << "accepted " << path;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Safetensors, RoundTripsEveryDtypeAndKeepsDataAligned) {
  const std::string dir = test::scratch_dir("st");
  torch::manual_seed(0);
  const std::vector<std::pair<std::string, torch::Tensor>> tensors = {
      {"f32", torch::randn({3, 5})},
      {"f16", torch::randn({7}).to(torch::kFloat16)},
      {"bf16", torch::randn({2, 3, 4}).to(torch::kBFloat16)},
      {"i64", torch::arange(10, torch::kInt64).view({2, 5})},
      {"scalar", torch::tensor(3.5f)}};
  const std::string path = dir + "/t.safetensors";
  io::write_safetensors(path, tensors);
  io::SafetensorsFile f(path);
  ASSERT_EQ(f.entries().size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    const torch::Tensor back = f.get(name);
    EXPECT_EQ(back.scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(back, t)) << name;
  }
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  EXPECT_EQ(n % 8, 0u) << "data buffer must start 8-byte aligned";
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename(), "t.safetensors") << "temporary file left behind";
}

TEST(Safetensors, FailedWriteLeavesNoFile) {
  const std::string dir = test::scratch_dir("st");
  EXPECT_THROW(io::write_safetensors(dir + "/missing/t.safetensors", {{"x", torch::ones({2})}}), Error);
  EXPECT_TRUE(fs::is_empty(dir));
}

// Rows written a block at a time, out of order, make the same bytes as the whole tensors
// written at once; rows never written read as zeros; a block that does not fit writes no file.
TEST(Safetensors, WritingByRowsMakesTheSameFileAsWritingWholeTensors) {
  const std::string dir = test::scratch_dir("rows");
  torch::manual_seed(2);
  const torch::Tensor ids = torch::randint(1000, {7, 3, 4}, torch::kInt32), logprobs = torch::randn({7, 3, 4});
  io::write_safetensors(dir + "/whole.safetensors", {{"ids", ids}, {"logprobs", logprobs}}, {{"format", "test"}});
  const std::vector<io::TensorLayout> layout = {{"ids", torch::kInt32, {7, 3, 4}},
                                                {"logprobs", torch::kFloat32, {7, 3, 4}}};
  io::write_safetensors_by_rows(
      dir + "/rows.safetensors", layout, {{"format", "test"}}, [&](const io::RowWriter& write) {
        for (int64_t first : {4, 0, 2}) {
          const int64_t n = first == 4 ? 3 : 2;
          write("logprobs", first, logprobs.narrow(0, first, n));
          write("ids", first, ids.narrow(0, first, n).to(torch::kInt64));  // converted to the file's dtype
        }
      });
  const auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(bytes(dir + "/rows.safetensors"), bytes(dir + "/whole.safetensors"));

  io::write_safetensors_by_rows(dir + "/sparse.safetensors", layout, {},
                                [&](const io::RowWriter& write) { write("logprobs", 6, logprobs.narrow(0, 6, 1)); });
  const io::SafetensorsFile sparse(dir + "/sparse.safetensors");
  EXPECT_TRUE(torch::equal(sparse.get("logprobs").narrow(0, 6, 1), logprobs.narrow(0, 6, 1)));
  EXPECT_EQ(sparse.get("logprobs").narrow(0, 0, 6).abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(sparse.get("ids").abs().sum().item<int64_t>(), 0);

  EXPECT_THROW(io::write_safetensors_by_rows(dir + "/bad.safetensors", layout, {},
                                             [&](const io::RowWriter& write) { write("ids", 6, ids.narrow(0, 0, 2)); }),
               Error);
  EXPECT_FALSE(fs::exists(dir + "/bad.safetensors"));
}

TEST(Safetensors, ShardedCheckpointReadsLikeOneFile) {
  const io::Checkpoint whole(test::fixture_dir("llama"));
  const std::string dir = test::scratch_dir("shards");
  std::vector<std::pair<std::string, torch::Tensor>> a, b;
  nlohmann::json map;
  for (const std::string& name : whole.names()) {
    const bool first = name.find("layers.0.") != std::string::npos || name.find("embed") != std::string::npos;
    (first ? a : b).emplace_back(name, whole.get(name));
    map[name] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  io::write_safetensors(dir + "/model-00001-of-00002.safetensors", a);
  io::write_safetensors(dir + "/model-00002-of-00002.safetensors", b);
  std::ofstream(dir + "/model.safetensors.index.json")
      << nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", map}}.dump();
  const io::Checkpoint sharded(dir);
  EXPECT_EQ(sharded.names(), whole.names());
  EXPECT_EQ(sharded.element_count(), whole.element_count());
  for (const std::string& name : whole.names()) EXPECT_TRUE(torch::equal(sharded.get(name), whole.get(name))) << name;
}

TEST(Safetensors, RejectsAFileShorterThanItsHeaderLength) {
  const std::string dir = test::scratch_dir("st");
  std::ofstream(dir + "/short.safetensors") << "abc";
  expect_rejected(dir + "/short.safetensors", "truncated");
}

TEST(Safetensors, RejectsAHeaderLengthPastTheEnd) {
  const std::string dir = test::scratch_dir("st");
  const std::string path = dir + "/long.safetensors";
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = 1000;
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << "{}";
  out.close();
  expect_rejected(path, "exceeds the file size");
}

TEST(Safetensors, RejectsCorruptJson) {
  expect_rejected(write_raw(test::scratch_dir("st"), "{\"a\": [1, 2", 0), "not valid JSON");
}

TEST(Safetensors, RejectsAHeaderThatLiesAboutSizes) {
  const std::string header = R"({"w":{"dtype":"F32","shape":[4,4],"data_offsets":[0,32]}})";
  expect_rejected(write_raw(test::scratch_dir("st"), header, 32), "needs 64 bytes but data_offsets span 32");
}

TEST(Safetensors, RejectsDataPastTheEndOfTheFile) {
  const std::string header = R"({"w":{"dtype":"F32","shape":[4,4],"data_offsets":[0,64]}})";
  expect_rejected(write_raw(test::scratch_dir("st"), header, 40), "truncated");
}

TEST(Safetensors, RejectsShapesThatOverflow) {
  expect_rejected(write_raw(test::scratch_dir("st"),
                            R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})", 0),
                  "absurdly large");
  expect_rejected(
      write_raw(test::scratch_dir("st"),
                R"({"w":{"dtype":"F32","shape":[281474976710656,281474976710656],"data_offsets":[0,0]}})", 0),
      "overflows");
}

TEST(Safetensors, RejectsAnIndexWhoseEntriesAreNotFileNames) {
  const std::string dir = test::scratch_dir("st");
  std::ofstream(dir + "/model.safetensors.index.json") << R"({"weight_map": {"a": 3}})";
  try {
    io::Checkpoint c(dir);
    FAIL() << "accepted a bad index";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("weight_map entry 'a' is not a file name"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, RejectsEntriesWithoutOffsets) {
  expect_rejected(write_raw(test::scratch_dir("st"), R"({"w":{"dtype":"F32","shape":[1]}})", 4),
                  "needs dtype, shape and data_offsets");
}

TEST(Safetensors, UnknownDtypeFailsWhenRead) {
  const std::string path =
      write_raw(test::scratch_dir("st"), R"({"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", 4);
  io::SafetensorsFile f(path);
  try {
    f.get("w");
    FAIL() << "read an unsupported dtype";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("F8_E4M3"), std::string::npos);
  }
}

TEST(Safetensors, MissingFileIsAnIoError) {
  expect_rejected(test::scratch_dir("st") + "/absent.safetensors", "cannot open", ErrorKind::kIo);
}

}  // namespace
}  // namespace bespoke
