// ForEachChunk's prefetch contract (attention_lanes.h): each (chunk, KV head) it hands a kernel comes with the rows
// of the one kPrefetchAheadBytes further on, so every row the kernels read was prefetched first (all but the
// first few items'). A wrong target costs only speed, never a result, so no attention test would notice one.
#if defined(__x86_64__)

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "runtime/kernels/attention_lanes.h"

namespace strata::kernels::internal {
namespace {

struct Item {
  int64_t off, rows;   // the head's slice in the chunk's first row, rows
  KvPrefetch pf;       // what came with it
};

struct Walk {
  std::vector<Item> items;
  int64_t head_bytes = 0;
};

// Positions [lo, last] of a cache of `blocks` blocks of block_size rows (1 KiB a row: 8 heads of 128 bytes),
// the table reversed so consecutive positions' blocks are not adjacent in memory.
Walk WalkCache(const std::vector<uint8_t>& k, const std::vector<uint8_t>& v, int64_t block_size, int64_t blocks,
               int64_t kvh0, int64_t kvh1, int64_t lo, int64_t last, std::vector<int32_t>& table) {
  table.resize(static_cast<size_t>(blocks));
  for (int64_t b = 0; b < blocks; ++b) table[static_cast<size_t>(b)] = static_cast<int32_t>(blocks - 1 - b);
  const int32_t* tables[1] = {table.data()};
  const PagedKvView kv{k.data(), v.data(), block_size, tables, DType::kF16, 1024};
  Walk w;
  w.head_bytes = 128;
  ForEachChunk(table.data(), kv, kvh0, kvh1, w.head_bytes, lo, last,
               [&](int64_t, int64_t off, int64_t, int64_t rows, KvPrefetch pf) { w.items.push_back({off, rows, pf}); });
  return w;
}

// The byte offsets (from k) of the key rows a KvPrefetch names.
std::set<int64_t> KeyRows(const KvPrefetch& pf, const uint8_t* k) {
  std::set<int64_t> rows;
  for (int64_t j = 0; j < pf.rows; ++j) rows.insert(pf.k + j * pf.stride - k);
  return rows;
}

TEST(AttentionPrefetch, EachItemPrefetchesTheOneAheadWithinItsBlock) {
  for (const int64_t block_size : {4, 16, 24, 32, 40, 64}) {  // 24, 40: chunks of 16 and 8 rows a block
    for (const auto& [kvh0, kvh1] : {std::pair<int64_t, int64_t>{0, 8}, {2, 3}, {1, 5}}) {
      for (const auto& [lo, last] : {std::pair<int64_t, int64_t>{0, 255}, {37, 200}, {0, 5}, {100, 100}}) {
        SCOPED_TRACE(::testing::Message() << "block " << block_size << " heads " << kvh0 << ".." << kvh1 << " positions "
                                        << lo << ".." << last);
        const int64_t blocks = (256 + block_size - 1) / block_size;
        std::vector<uint8_t> k(static_cast<size_t>(blocks * block_size * 1024)), v(k.size());
        std::vector<int32_t> table;
        const Walk w = WalkCache(k, v, block_size, blocks, kvh0, kvh1, lo, last, table);
        const int64_t step = std::min<int64_t>(16, block_size), item = 2 * step * w.head_bytes;
        const size_t ahead = static_cast<size_t>(std::max<int64_t>(1, (kPrefetchAheadBytes + item - 1) / item));
        ASSERT_FALSE(w.items.empty());
        for (size_t i = 0; i < w.items.size(); ++i) {
          const KvPrefetch& pf = w.items[i].pf;
          if (i + ahead >= w.items.size()) {  // nothing left that far on
            EXPECT_EQ(pf.rows, 0) << "item " << i;
            continue;
          }
          const Item& target = w.items[i + ahead];
          EXPECT_EQ(pf.k - k.data(), target.off) << "item " << i;
          EXPECT_EQ(pf.v - v.data(), target.off) << "item " << i;
          EXPECT_EQ(pf.rows, target.rows) << "item " << i;
          EXPECT_EQ(pf.stride, 1024);
          EXPECT_EQ(pf.bytes, w.head_bytes);
        }
      }
    }
  }
}

// Every row every item reads, but for the first `ahead` items', was prefetched by an earlier item.
TEST(AttentionPrefetch, EveryRowReadIsPrefetchedFirst) {
  const int64_t block_size = 16, blocks = 64;
  std::vector<uint8_t> k(static_cast<size_t>(blocks * block_size * 1024)), v(k.size());
  std::vector<int32_t> table;
  const Walk w = WalkCache(k, v, block_size, blocks, 0, 8, 0, blocks * block_size - 1, table);
  std::set<int64_t> prefetched;
  size_t unprefetched_items = 0;
  for (const Item& it : w.items) {
    bool all = true;
    for (int64_t j = 0; j < it.rows; ++j) all = all && prefetched.count(it.off + j * 1024) > 0;
    unprefetched_items += all ? 0 : 1;
    const std::set<int64_t> rows = KeyRows(it.pf, k.data());
    prefetched.insert(rows.begin(), rows.end());
  }
  const int64_t item = 2 * 16 * w.head_bytes;
  EXPECT_EQ(unprefetched_items, static_cast<size_t>(std::max<int64_t>(1, (kPrefetchAheadBytes + item - 1) / item)));
}

}  // namespace
}  // namespace strata::kernels::internal

#endif  // __x86_64__
