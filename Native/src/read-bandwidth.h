// read-bandwidth.h: the machine's sustained memory read bandwidth, the roofline decode is
// compared with (decoding one token streams every weight once).
#pragma once

#include <cstdint>

namespace olm {

struct read_bandwidth_result {
    double best_bytes_per_s;
    double median_bytes_per_s;
    double worst_bytes_per_s;
    int64_t buffer_bytes;  // bytes read per pass
    int64_t llc_bytes;     // the last-level cache size the buffer was sized against; 0 = unknown
    int32_t n_threads;
    int32_t n_passes;
};

// Size of the largest CPU cache (L3 on x86 servers) from sysfs, else from sysconf (CPUID);
// 0 when neither knows.
int64_t last_level_cache_bytes();

// Reads a buffer of `buffer_bytes` (0 = max(1 GiB, 8 × the last-level cache)) `n_passes` times
// with `n_threads` threads (the engine's thread pool, dynamic chunks, 256-bit loads) and reports
// the passes' bandwidth. The buffer lives in anonymous memory advised to use transparent huge
// pages and is written by the same threads before a first, uncounted pass: the weights are held
// the same way (safetensors.cpp). Throws olm::error (OUT_OF_MEMORY) when the buffer cannot be mapped.
read_bandwidth_result measure_read_bandwidth(int32_t n_threads, int64_t buffer_bytes, int32_t n_passes);

}  // namespace olm
