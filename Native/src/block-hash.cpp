#include "block-hash.h"

#include <cassert>

namespace olm {

namespace {

constexpr uint32_t k_round[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

}  // namespace

sha256::sha256() {
    static constexpr uint32_t initial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                            0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::memcpy(state_, initial, sizeof(state_));
}

void sha256::compress(const uint8_t* block) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++) {
        w[i] = (uint32_t(block[4 * i]) << 24) | (uint32_t(block[4 * i + 1]) << 16) |
               (uint32_t(block[4 * i + 2]) << 8) | uint32_t(block[4 * i + 3]);
    }
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
    uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
    for (int i = 0; i < 64; i++) {
        uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + s1 + ch + k_round[i] + w[i];
        uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = s0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state_[0] += a;
    state_[1] += b;
    state_[2] += c;
    state_[3] += d;
    state_[4] += e;
    state_[5] += f;
    state_[6] += g;
    state_[7] += h;
}

void sha256::update(const void* data, size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    total_len_ += n;
    while (n > 0) {
        size_t take = 64 - buffer_len_;
        if (take > n) take = n;
        std::memcpy(buffer_ + buffer_len_, p, take);
        buffer_len_ += take;
        p += take;
        n -= take;
        if (buffer_len_ == 64) {
            compress(buffer_);
            buffer_len_ = 0;
        }
    }
}

std::array<uint8_t, 32> sha256::final() {
    uint64_t bit_len = total_len_ * 8;
    uint8_t pad[72] = {0x80};
    size_t pad_len = (buffer_len_ < 56) ? 56 - buffer_len_ : 120 - buffer_len_;
    for (int i = 0; i < 8; i++) pad[pad_len + i] = uint8_t(bit_len >> (56 - 8 * i));
    update(pad, pad_len + 8);
    assert(buffer_len_ == 0);
    std::array<uint8_t, 32> digest;
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = uint8_t(state_[i] >> 24);
        digest[4 * i + 1] = uint8_t(state_[i] >> 16);
        digest[4 * i + 2] = uint8_t(state_[i] >> 8);
        digest[4 * i + 3] = uint8_t(state_[i]);
    }
    return digest;
}

block_hash hash_block(const block_hash* parent, const std::string& salt, const int32_t* tokens,
                      int32_t block_size) {
    sha256 h;
    if (parent != nullptr) {
        h.update(parent->data(), parent->size());
    } else {
        h.update(salt.data(), salt.size());
    }
    // Little-endian int32, written byte by byte so the result does not depend on the host.
    std::vector<uint8_t> bytes(size_t(block_size) * 4);
    for (int32_t i = 0; i < block_size; i++) {
        uint32_t t = uint32_t(tokens[i]);
        bytes[4 * i] = uint8_t(t);
        bytes[4 * i + 1] = uint8_t(t >> 8);
        bytes[4 * i + 2] = uint8_t(t >> 16);
        bytes[4 * i + 3] = uint8_t(t >> 24);
    }
    h.update(bytes.data(), bytes.size());
    std::array<uint8_t, 32> digest = h.final();
    block_hash out;
    std::memcpy(out.data(), digest.data(), block_hash_bytes);
    return out;
}

int32_t extend_block_hashes(std::vector<block_hash>& hashes, const std::string& salt,
                            const int32_t* tokens, int32_t n_tokens, int32_t block_size) {
    assert(block_size > 0);
    int32_t n_full = n_tokens / block_size;
    for (int32_t i = int32_t(hashes.size()); i < n_full; i++) {
        const block_hash* parent = i == 0 ? nullptr : &hashes[i - 1];
        hashes.push_back(hash_block(parent, salt, tokens + int64_t(i) * block_size, block_size));
    }
    return n_full;
}

std::string to_hex(const block_hash& hash) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (uint8_t b : hash) {
        s.push_back(digits[b >> 4]);
        s.push_back(digits[b & 15]);
    }
    return s;
}

}  // namespace olm
