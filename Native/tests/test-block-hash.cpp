// Block hash: SHA-256 against FIPS 180-4 examples, the chained block hash against the shared
// vectors of tests/fixtures/block-hash-vectors.json (written by Python's hashlib).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "block-hash.h"

namespace {

std::string hex(const uint8_t* p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; i++) {
        s.push_back(digits[p[i] >> 4]);
        s.push_back(digits[p[i] & 15]);
    }
    return s;
}

std::string sha256_hex(const std::string& text) {
    olm::sha256 h;
    h.update(text.data(), text.size());
    auto d = h.final();
    return hex(d.data(), d.size());
}

std::vector<uint8_t> from_hex(const std::string& s) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < s.size(); i += 2) out.push_back(uint8_t(std::stoi(s.substr(i, 2), nullptr, 16)));
    return out;
}

}  // namespace

TEST(Sha256, MatchesFipsExamples) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, StreamingEqualsOneShotAtEveryPaddingBoundary) {
    for (size_t n : {55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 128u}) {
        std::string text(n, 'x');
        for (size_t i = 0; i < n; i++) text[i] = char('a' + i % 26);
        olm::sha256 h;
        for (size_t i = 0; i < n; i += 7) h.update(text.data() + i, std::min<size_t>(7, n - i));
        auto d = h.final();
        EXPECT_EQ(hex(d.data(), d.size()), sha256_hex(text)) << n;
    }
}

TEST(BlockHash, MatchesSharedVectors) {
    std::ifstream in(std::string(OLM_REPO_ROOT) + "/tests/fixtures/block-hash-vectors.json");
    ASSERT_TRUE(in.good());
    nlohmann::json doc = nlohmann::json::parse(in);
    ASSERT_GE(doc["cases"].size(), 10u);
    for (const auto& c : doc["cases"]) {
        std::vector<uint8_t> salt_bytes = from_hex(c["salt_hex"].get<std::string>());
        std::string salt(salt_bytes.begin(), salt_bytes.end());
        EXPECT_EQ(salt, c["salt"].get<std::string>());
        std::vector<int32_t> tokens = c["tokens"].get<std::vector<int32_t>>();
        int32_t block_size = c["block_size"];
        std::vector<olm::block_hash> hashes;
        int32_t n_full = olm::extend_block_hashes(hashes, salt, tokens.data(), int32_t(tokens.size()), block_size);
        const auto& expected = c["hashes"];
        ASSERT_EQ(size_t(n_full), expected.size()) << c["name"];
        ASSERT_EQ(hashes.size(), expected.size()) << c["name"];
        for (size_t i = 0; i < hashes.size(); i++) {
            EXPECT_EQ(olm::to_hex(hashes[i]), expected[i].get<std::string>()) << c["name"] << " block " << i;
        }
    }
}

TEST(BlockHash, ExtendingIncrementallyEqualsHashingAtOnce) {
    std::vector<int32_t> tokens(100);
    for (int32_t i = 0; i < 100; i++) tokens[i] = i * 7919 % 50000;
    std::vector<olm::block_hash> all, step;
    olm::extend_block_hashes(all, "salt", tokens.data(), 100, 16);
    for (int32_t n = 1; n <= 100; n++) olm::extend_block_hashes(step, "salt", tokens.data(), n, 16);
    EXPECT_EQ(all, step);
    EXPECT_EQ(all.size(), 6u);
}

TEST(BlockHash, SaltChangesEveryBlockAndTokensChangeOnlyLaterBlocks) {
    std::vector<int32_t> tokens(64, 3);
    std::vector<olm::block_hash> a, b, c;
    olm::extend_block_hashes(a, "", tokens.data(), 64, 16);
    olm::extend_block_hashes(b, "t", tokens.data(), 64, 16);
    tokens[40] = 4;
    olm::extend_block_hashes(c, "", tokens.data(), 64, 16);
    for (int i = 0; i < 4; i++) EXPECT_NE(a[i], b[i]);
    EXPECT_EQ(a[0], c[0]);
    EXPECT_EQ(a[1], c[1]);
    EXPECT_NE(a[2], c[2]);
    EXPECT_NE(a[3], c[3]);
}
