// Compiled only into test-scheduling-asserts: proves that build really has its asserts (the
// Release build compiles every assert out, so a passing scheduler test there proves nothing
// about the preconditions the asserts state).
#include <gtest/gtest.h>

#include "block-pool.h"

namespace {

TEST(AssertBuild, NdebugIsOffAndAPreconditionAssertFires) {
#ifdef NDEBUG
    FAIL() << "NDEBUG is defined: this executable must be compiled with -UNDEBUG";
#endif
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    olm::block_pool pool(2, true);
    // allocate() asserts n <= num_free_blocks().
    EXPECT_DEATH(pool.allocate(3), "num_free_");
}

}  // namespace
