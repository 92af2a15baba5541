// aligned-vector.h: std::vector whose storage starts on a 64-byte (cache line) boundary. The
// kernels load activations and scratch rows 32 or 64 bytes at a time; from a plain vector
// (malloc: 16-byte aligned) half or all of those loads split two cache lines, which made decode
// 1.13–1.19× slower (docs/PERFORMANCE.md, "Aligned activations").
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace olm {

template <class T>
struct cache_line_allocator {
    using value_type = T;
    static constexpr std::align_val_t kAlignment{64};

    cache_line_allocator() = default;
    template <class U>
    cache_line_allocator(const cache_line_allocator<U>&) noexcept {}

    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlignment)); }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, kAlignment); }

    template <class U>
    bool operator==(const cache_line_allocator<U>&) const noexcept { return true; }
};

template <class T>
using aligned_vector = std::vector<T, cache_line_allocator<T>>;

}  // namespace olm
