// batch_builder: the flat arrays of batch_view for two sequences over scattered blocks, written
// out by hand here (slot = block * B + offset), and the logits rows each mode asks for.
#include <gtest/gtest.h>

#include <vector>

#include "batch.h"
#include "status.h"

namespace {

std::vector<int32_t> as_vector(const int32_t* p, int32_t n) { return std::vector<int32_t>(p, p + n); }

TEST(BatchBuilder, LaysOutTwoSequencesOverTheirBlockTables) {
    olm::batch_builder b(4);
    // Sequence 0: a 3-token chunk at positions 5..7 over blocks {9, 2}; sequence 1: one decode
    // token at position 0 over block {7}.
    const int32_t chunk[3] = {11, 12, 13};
    const int32_t table0[2] = {9, 2};
    EXPECT_EQ(b.add_sequence(chunk, 5, 3, table0, 2, olm::logits_wanted::last), 0);
    const int32_t decode[1] = {42};
    const int32_t table1[3] = {7, 8, 6};  // longer than needed: only the used block is listed
    EXPECT_EQ(b.add_sequence(decode, 0, 1, table1, 3, olm::logits_wanted::last), 1);
    const olm::batch_view v = b.view();
    ASSERT_EQ(v.n_tokens, 4);
    EXPECT_EQ(as_vector(v.token_ids, 4), (std::vector<int32_t>{11, 12, 13, 42}));
    EXPECT_EQ(as_vector(v.positions, 4), (std::vector<int32_t>{5, 6, 7, 0}));
    EXPECT_EQ(std::vector<int64_t>(v.slot_mapping, v.slot_mapping + 4), (std::vector<int64_t>{2 * 4 + 1, 2 * 4 + 2, 2 * 4 + 3, 7 * 4}));
    ASSERT_EQ(v.n_seqs, 2);
    EXPECT_EQ(as_vector(v.query_start, 3), (std::vector<int32_t>{0, 3, 4}));
    EXPECT_EQ(as_vector(v.context_lens, 2), (std::vector<int32_t>{8, 1}));
    EXPECT_EQ(as_vector(v.block_indptr, 3), (std::vector<int32_t>{0, 2, 3}));
    EXPECT_EQ(as_vector(v.block_indices, 3), (std::vector<int32_t>{9, 2, 7}));
    EXPECT_EQ(as_vector(v.logits_rows, v.n_logits), (std::vector<int32_t>{2, 3}));
}

TEST(BatchBuilder, AllNoneAndClear) {
    olm::batch_builder b(16);
    const int32_t tokens[3] = {1, 2, 3};
    const int32_t table[1] = {0};
    EXPECT_EQ(b.add_sequence(tokens, 0, 2, table, 1, olm::logits_wanted::none), -1);
    EXPECT_EQ(b.add_sequence(tokens, 0, 3, table, 1, olm::logits_wanted::all), 0);
    EXPECT_EQ(as_vector(b.view().logits_rows, b.n_logits()), (std::vector<int32_t>{2, 3, 4}));
    b.clear();
    EXPECT_EQ(b.n_tokens(), 0);
    EXPECT_EQ(b.view().n_seqs, 0);
    EXPECT_EQ(b.view().query_start[0], 0);
}

TEST(BatchBuilder, ABlockTableTooShortIsAnInternalError) {
    olm::batch_builder b(4);
    const int32_t tokens[5] = {1, 2, 3, 4, 5};
    const int32_t table[1] = {3};
    try {
        b.add_sequence(tokens, 0, 5, table, 1, olm::logits_wanted::last);
        FAIL() << "5 tokens do not fit one block of 4";
    } catch (const olm::error& e) {
        EXPECT_EQ(e.status(), ORLEANSLLM_ERR_INTERNAL);
    }
}

}  // namespace
