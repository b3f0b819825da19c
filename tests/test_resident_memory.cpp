// Tests of support/app/resident_memory.hpp: 64 MiB touched and freed show in the resident set
// and its peak.
#include <cstring>
#include <memory>

#include <doctest/doctest.h>

#include "support/app/resident_memory.hpp"

TEST_CASE("resident_memory: a block of 64 MiB shows while held, in the peak after, and leaves") {
#if !defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer's allocator replaces the C library's and refuses its mallopt().
    cnn::return_freed_memory();
#endif
    const cnn::ResidentMemory start = cnn::resident_memory();
    CHECK(start.now_mb > 0.0);
    CHECK(start.peak_mb >= start.now_mb);
    cnn::reset_resident_peak();
    CHECK(cnn::resident_memory().peak_mb < start.now_mb + 8.0);
    constexpr std::size_t bytes = std::size_t{64} << 20;
    {
        const std::unique_ptr<char[]> block(new char[bytes]);
        std::memset(block.get(), 1, bytes);  // pages count once they are touched
        CHECK(cnn::resident_memory().now_mb > start.now_mb + 60.0);
    }
    const cnn::ResidentMemory after = cnn::resident_memory();
    CHECK(after.peak_mb > start.now_mb + 60.0);
#if !defined(__SANITIZE_ADDRESS__)
    // Given back at once (AddressSanitizer's allocator keeps freed memory in quarantine).
    CHECK(after.now_mb < start.now_mb + 8.0);
#endif
}
