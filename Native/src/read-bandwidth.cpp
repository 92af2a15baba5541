#include "read-bandwidth.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <immintrin.h>
#include <string>
#include <vector>

#include "status.h"
#include "thread-pool.h"

namespace olm {
namespace {

constexpr int64_t kMinBufferBytes = int64_t(1) << 30;
constexpr int64_t kChunkBytes = int64_t(4) << 20;  // one parallel_for task
constexpr int64_t kHugePageBytes = int64_t(2) << 20;

// "32768K" / "32M" / "1024" (bytes) as sysfs writes cache sizes.
int64_t parse_cache_size(const std::string& text) {
    size_t end = 0;
    int64_t value = 0;
    try {
        value = std::stoll(text, &end);
    } catch (const std::exception&) {
        return 0;
    }
    if (end < text.size() && (text[end] == 'K' || text[end] == 'k')) value <<= 10;
    if (end < text.size() && (text[end] == 'M' || text[end] == 'm')) value <<= 20;
    return value;
}

// Sums [begin, end) with 256-bit integer adds, 8 independent accumulators (add latency never
// limits the load rate). The sum is returned so the loads cannot be optimised away.
uint64_t sum_chunk(const uint8_t* begin, const uint8_t* end) {
    __m256i a[8];
    for (auto& x : a) x = _mm256_setzero_si256();
    for (const uint8_t* p = begin; p + 256 <= end; p += 256) {
        for (int i = 0; i < 8; ++i) {
            a[i] = _mm256_add_epi64(a[i], _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 32 * i)));
        }
    }
    for (int i = 1; i < 8; ++i) a[0] = _mm256_add_epi64(a[0], a[i]);
    alignas(32) uint64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), a[0]);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

struct mapping {
    void* data = MAP_FAILED;
    size_t bytes = 0;
    ~mapping() {
        if (data != MAP_FAILED) ::munmap(data, bytes);
    }
};

}  // namespace

int64_t last_level_cache_bytes() {
    int64_t largest = 0;
    for (int index = 0; index < 16; ++index) {
        std::ifstream file("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
        if (!file) continue;
        std::string text;
        file >> text;
        largest = std::max(largest, parse_cache_size(text));
    }
    // Some VMs have no cache folders in sysfs; glibc reads the sizes from CPUID instead.
    if (largest == 0) largest = std::max<int64_t>(0, ::sysconf(_SC_LEVEL3_CACHE_SIZE));
    if (largest == 0) largest = std::max<int64_t>(0, ::sysconf(_SC_LEVEL2_CACHE_SIZE));
    return largest;
}

read_bandwidth_result measure_read_bandwidth(int32_t n_threads, int64_t buffer_bytes, int32_t n_passes) {
    read_bandwidth_result r{};
    r.llc_bytes = last_level_cache_bytes();
    if (buffer_bytes == 0) buffer_bytes = std::max(kMinBufferBytes, 8 * r.llc_bytes);
    buffer_bytes = (buffer_bytes + kChunkBytes - 1) / kChunkBytes * kChunkBytes;
    r.buffer_bytes = buffer_bytes;
    r.n_passes = n_passes;

    mapping m;
    m.bytes = static_cast<size_t>(buffer_bytes + kHugePageBytes);
    m.data = ::mmap(nullptr, m.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m.data == MAP_FAILED) {
        throw error(ORLEANSLLM_ERR_OUT_OF_MEMORY, "cannot map a " + std::to_string(buffer_bytes) +
                                                      "-byte bandwidth buffer: " + std::strerror(errno));
    }
    ::madvise(m.data, m.bytes, MADV_HUGEPAGE);  // advice only
    auto* buffer = reinterpret_cast<uint8_t*>(
        (reinterpret_cast<uintptr_t>(m.data) + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes);

    thread_pool pool(n_threads);
    r.n_threads = pool.size();
    const int64_t n_chunks = buffer_bytes / kChunkBytes;
    pool.parallel_for(n_chunks, [&](int64_t c) { std::memset(buffer + c * kChunkBytes, int(c & 0xff) | 1, size_t(kChunkBytes)); });

    std::atomic<uint64_t> sink{0};
    auto pass = [&] {
        pool.parallel_for(n_chunks, [&](int64_t c) {
            const uint8_t* begin = buffer + c * kChunkBytes;
            sink.fetch_add(sum_chunk(begin, begin + kChunkBytes), std::memory_order_relaxed);
        });
    };
    pass();  // warm-up: page tables, thread wake-up
    std::vector<double> rates;
    for (int32_t i = 0; i < n_passes; ++i) {
        auto start = std::chrono::steady_clock::now();
        pass();
        std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
        rates.push_back(double(buffer_bytes) / seconds.count());
    }
    if (sink.load() == 0) throw error(ORLEANSLLM_ERR_INTERNAL, "bandwidth buffer summed to 0");
    std::sort(rates.begin(), rates.end());
    r.worst_bytes_per_s = rates.front();
    r.best_bytes_per_s = rates.back();
    size_t mid = rates.size() / 2;
    r.median_bytes_per_s = rates.size() % 2 == 1 ? rates[mid] : (rates[mid - 1] + rates[mid]) / 2;
    return r;
}

}  // namespace olm
