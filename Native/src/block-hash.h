// block-hash.h: the chained block hash of DESIGN.md §3, shared by the engine, the prefix index
// and the session grain (the C# twin is Native/Binding/BlockHash.cs).
//   hash[0] = H(salt ‖ tokens[0..B)),  hash[i] = H(hash[i-1] ‖ tokens[iB..(i+1)B))
// tokens as little-endian int32, H = the first 16 bytes of SHA-256.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace olm {

constexpr int32_t block_hash_bytes = 16;
using block_hash = std::array<uint8_t, block_hash_bytes>;

// SHA-256 (FIPS 180-4) of `n` bytes, streamed: update() any number of times, then final().
class sha256 {
public:
    sha256();
    void update(const void* data, size_t n);
    std::array<uint8_t, 32> final();

private:
    void compress(const uint8_t* block);  // block: [64] bytes

    uint32_t state_[8];
    uint8_t buffer_[64];
    size_t buffer_len_ = 0;
    uint64_t total_len_ = 0;
};

// Hash of one full block. `parent` is null for block 0, where `salt` is mixed in instead.
// tokens: [block_size] ids.
block_hash hash_block(const block_hash* parent, const std::string& salt, const int32_t* tokens,
                      int32_t block_size);

// Appends to `hashes` the hashes of every full block of `tokens` not hashed yet
// (hashes.size() blocks already are). Returns the number of full blocks.
int32_t extend_block_hashes(std::vector<block_hash>& hashes, const std::string& salt,
                            const int32_t* tokens, int32_t n_tokens, int32_t block_size);

std::string to_hex(const block_hash& hash);

struct block_hash_hasher {
    size_t operator()(const block_hash& h) const {
        size_t v;
        std::memcpy(&v, h.data(), sizeof(v));  // already uniformly distributed
        return v;
    }
};

}  // namespace olm
