// huge-page-buffer.h: zeroed, writable memory for weights the engine computes at load (llama-arch
// Q/K rows un-permuted, matrices quantized at load), backed by transparent huge pages like the
// huge-page copy of the weight files (safetensors.h).
//
// Decode streams every weight once per token; on 4 KiB pages that is a TLB miss every 4 KiB and
// the hardware prefetchers stop at each page boundary. A std::vector of the same size gets 4 KiB
// pages wherever THP is `madvise` (the common default), which made the Q/K projections of a GGUF
// llama and every matrix quantized at load slower to stream than the mapped file.
#pragma once

#include <cstddef>
#include <cstdint>

namespace olm {

// Hands the whole 4 KiB pages inside [p, p + bytes) of weight memory back to the system
// (madvise MADV_DONTNEED; the partial pages at either end stay): anonymous pages read back as
// zeros after, pages of a mapped file as the file's. For weights nothing reads again; returns the
// bytes released.
int64_t release_weight_pages(const void* p, int64_t bytes);

class huge_page_buffer {
public:
    // `bytes` zeroed bytes; from 2 MiB up, 2 MiB-aligned and advised to use huge pages (a smaller
    // buffer would waste most of a huge page). Throws olm::error (OUT_OF_MEMORY) on failure.
    explicit huge_page_buffer(size_t bytes);
    ~huge_page_buffer();
    huge_page_buffer(huge_page_buffer&& other) noexcept;
    huge_page_buffer& operator=(huge_page_buffer&& other) noexcept;
    huge_page_buffer(const huge_page_buffer&) = delete;
    huge_page_buffer& operator=(const huge_page_buffer&) = delete;

    uint8_t* data() const { return data_; }
    size_t size() const { return size_; }

private:
    void* mapping_ = nullptr;  // what munmap releases (data_ lies inside it)
    size_t mapping_bytes_ = 0;
    uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace olm
