#include "huge-page-buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "status.h"

namespace olm {

namespace {

constexpr size_t kHugePage = size_t(2) << 20;

}  // namespace

int64_t release_weight_pages(const void* p, int64_t bytes) {
    constexpr uintptr_t kPage = 4096;
    const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kPage - 1) / kPage * kPage;
    const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + uintptr_t(bytes)) / kPage * kPage;
    if (end <= begin) return 0;
    if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED) != 0) return 0;  // advice: kept on failure
    return int64_t(end - begin);
}

huge_page_buffer::huge_page_buffer(size_t bytes) : size_(bytes) {
    if (bytes == 0) return;
    const bool huge = bytes >= kHugePage;
    // One spare huge page lets the start be aligned to 2 MiB, which THP needs.
    mapping_bytes_ = huge ? (bytes + kHugePage - 1) / kHugePage * kHugePage + kHugePage : bytes;
    mapping_ = ::mmap(nullptr, mapping_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping_ == MAP_FAILED) {
        mapping_ = nullptr;
        throw error(ORLEANSLLM_ERR_OUT_OF_MEMORY, "cannot allocate " + std::to_string(bytes) + " bytes of weights: " +
                                                      std::strerror(errno));
    }
    const uintptr_t base = reinterpret_cast<uintptr_t>(mapping_);
    data_ = reinterpret_cast<uint8_t*>(huge ? (base + kHugePage - 1) / kHugePage * kHugePage : base);
    if (huge) ::madvise(data_, (bytes + kHugePage - 1) / kHugePage * kHugePage, MADV_HUGEPAGE);  // advice only
}

huge_page_buffer::~huge_page_buffer() {
    if (mapping_ != nullptr) ::munmap(mapping_, mapping_bytes_);
}

huge_page_buffer::huge_page_buffer(huge_page_buffer&& other) noexcept
    : mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_bytes_(std::exchange(other.mapping_bytes_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

huge_page_buffer& huge_page_buffer::operator=(huge_page_buffer&& other) noexcept {
    if (this != &other) {
        if (mapping_ != nullptr) ::munmap(mapping_, mapping_bytes_);
        mapping_ = std::exchange(other.mapping_, nullptr);
        mapping_bytes_ = std::exchange(other.mapping_bytes_, 0);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

}  // namespace olm
