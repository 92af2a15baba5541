// test-read-bandwidth.cpp: the roofline probe (orleansllm_read_bandwidth_measure) reports
// ordered, positive figures for the buffer and threads it was given, and refuses bad arguments
// with a status and a message. Its speed is measured by `orleansllm bench engine`, not here.
#include "orleansllm.h"
#include "read-bandwidth.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

constexpr int64_t kMiB = int64_t(1) << 20;

TEST(ReadBandwidth, ReportsOrderedPositiveRatesForTheBufferAndThreadsGiven) {
    orleansllm_read_bandwidth r{};
    ASSERT_EQ(ORLEANSLLM_OK, orleansllm_read_bandwidth_measure(2, 64 * kMiB, 5, &r)) << orleansllm_last_error();
    EXPECT_EQ(64 * kMiB, r.buffer_bytes);
    EXPECT_EQ(2, r.n_threads);
    EXPECT_EQ(5, r.n_passes);
    EXPECT_GT(r.worst_bytes_per_s, 0.0);
    EXPECT_LE(r.worst_bytes_per_s, r.median_bytes_per_s);
    EXPECT_LE(r.median_bytes_per_s, r.best_bytes_per_s);
}

TEST(ReadBandwidth, RoundsTheBufferUpToWholeChunks) {
    orleansllm_read_bandwidth r{};
    ASSERT_EQ(ORLEANSLLM_OK, orleansllm_read_bandwidth_measure(1, 5 * kMiB, 1, &r)) << orleansllm_last_error();
    EXPECT_EQ(8 * kMiB, r.buffer_bytes);  // 4 MiB chunks
    EXPECT_EQ(r.best_bytes_per_s, r.worst_bytes_per_s);  // one pass: one rate
}

TEST(ReadBandwidth, LastLevelCacheSizeIsKnown) {
    // The default buffer (max(1 GiB, 8 x this)) is not allocated here: that pass belongs to the benchmark.
    int64_t llc = olm::last_level_cache_bytes();
    EXPECT_GE(llc, 0);
#if defined(__linux__) && defined(__x86_64__)
    EXPECT_GT(llc, 256 * 1024) << "neither sysfs nor sysconf names a cache of a plausible size";
#endif
}

TEST(ReadBandwidth, RefusesBadArguments) {
    orleansllm_read_bandwidth r{};
    EXPECT_EQ(ORLEANSLLM_ERR_INVALID_ARGUMENT, orleansllm_read_bandwidth_measure(1, kMiB, 0, &r));
    EXPECT_NE(std::string(orleansllm_last_error()).find("n_passes"), std::string::npos);
    EXPECT_EQ(ORLEANSLLM_ERR_INVALID_ARGUMENT, orleansllm_read_bandwidth_measure(-1, kMiB, 1, &r));
    EXPECT_NE(std::string(orleansllm_last_error()).find("n_threads"), std::string::npos);
    EXPECT_EQ(ORLEANSLLM_ERR_INVALID_ARGUMENT, orleansllm_read_bandwidth_measure(1, -5, 1, &r));
    EXPECT_NE(std::string(orleansllm_last_error()).find("buffer_bytes"), std::string::npos);
    EXPECT_EQ(ORLEANSLLM_ERR_INVALID_ARGUMENT, orleansllm_read_bandwidth_measure(1, kMiB, 1, nullptr));
}

}  // namespace
