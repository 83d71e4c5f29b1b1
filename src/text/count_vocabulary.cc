#include "text/count_vocabulary.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_map>
#include <utility>

namespace sagaflow::text {

Result<DocumentFrequencyBound> DocumentFrequencyBound::Parse(std::string_view text, std::string_view flag) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (text.find_first_of(".eE") != std::string_view::npos) {
    double p = 0;
    auto [ptr, ec] = std::from_chars(begin, end, p);
    if (ec != std::errc() || ptr != end || !(p >= 0.0 && p <= 1.0)) {
      return Status::InvalidArgument(
          fmt::format("{}: '{}' is neither a document count (integer >= 0) nor a proportion in [0, 1]", flag, text));
    }
    return Proportion(p);
  }
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(begin, end, n);
  if (ec != std::errc() || ptr != end || n < 0) {
    return Status::InvalidArgument(
        fmt::format("{}: '{}' is neither a document count (integer >= 0) nor a proportion in [0, 1]", flag, text));
  }
  return Count(n);
}

std::string DocumentFrequencyBound::ToString() const {
  if (!proportion) return fmt::format("{}", static_cast<int64_t>(value));
  std::string s = fmt::format("{}", value);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";  // keep it a proportion when read back
  return s;
}

namespace {

// numpy's aheapsort_ (npysort_heapsort.h), 1-based indexing into tosort - 1.
void ArgHeapsort(const int64_t* v, uint32_t* tosort, size_t n) {
  uint32_t* a = tosort - 1;
  size_t i, j, l;
  uint32_t tmp;
  for (l = n >> 1; l > 0; --l) {
    tmp = a[l];
    for (i = l, j = l << 1; j <= n;) {
      if (j < n && v[a[j]] < v[a[j + 1]]) j += 1;
      if (v[tmp] < v[a[j]]) {
        a[i] = a[j];
        i = j;
        j += j;
      } else {
        break;
      }
    }
    a[i] = tmp;
  }
  for (; n > 1;) {
    tmp = a[n];
    a[n] = a[1];
    n -= 1;
    for (i = 1, j = 2; j <= n;) {
      if (j < n && v[a[j]] < v[a[j + 1]]) j++;
      if (v[tmp] < v[a[j]]) {
        a[i] = a[j];
        i = j;
        j += j;
      } else {
        break;
      }
    }
    a[i] = tmp;
  }
}

int MostSignificantBit(size_t n) {
  int depth = 0;
  while (n > 1) {
    n >>= 1;
    ++depth;
  }
  return depth;
}

}  // namespace

// A transcription of numpy 1.24's aquicksort_ (npysort/quicksort.cpp) for
// int64: the same pivots, partitioning, stack discipline and cutoffs, hence
// the same order of equal keys.
std::vector<uint32_t> NumpyArgsort(std::span<const int64_t> keys) {
  constexpr ptrdiff_t kSmallQuicksort = 15;
  const size_t num = keys.size();
  std::vector<uint32_t> order(num);
  for (size_t k = 0; k < num; ++k) order[k] = static_cast<uint32_t>(k);
  if (num < 2) return order;
  const int64_t* v = keys.data();
  uint32_t* pl = order.data();
  uint32_t* pr = pl + num - 1;
  std::vector<uint32_t*> stack;
  std::vector<int> depth;
  int cdepth = MostSignificantBit(num) * 2;
  for (;;) {
    if (cdepth < 0) {
      ArgHeapsort(v, pl, static_cast<size_t>(pr - pl + 1));
    } else {
      while ((pr - pl) > kSmallQuicksort) {
        uint32_t* pm = pl + ((pr - pl) >> 1);
        if (v[*pm] < v[*pl]) std::swap(*pm, *pl);
        if (v[*pr] < v[*pm]) std::swap(*pr, *pm);
        if (v[*pm] < v[*pl]) std::swap(*pm, *pl);
        const int64_t vp = v[*pm];
        uint32_t* pi = pl;
        uint32_t* pj = pr - 1;
        std::swap(*pm, *pj);
        for (;;) {
          do ++pi;
          while (v[*pi] < vp);
          do --pj;
          while (vp < v[*pj]);
          if (pi >= pj) break;
          std::swap(*pi, *pj);
        }
        uint32_t* pk = pr - 1;
        std::swap(*pi, *pk);
        // Push the larger partition, continue with the smaller.
        if (pi - pl < pr - pi) {
          stack.push_back(pi + 1);
          stack.push_back(pr);
          pr = pi - 1;
        } else {
          stack.push_back(pl);
          stack.push_back(pi - 1);
          pl = pi + 1;
        }
        depth.push_back(--cdepth);
      }
      for (uint32_t* pi = pl + 1; pi <= pr; ++pi) {
        const uint32_t vi = *pi;
        const int64_t vp = v[vi];
        uint32_t* pj = pi;
        uint32_t* pk = pi - 1;
        while (pj > pl && vp < v[*pk]) *pj-- = *pk--;
        *pj = vi;
      }
    }
    if (stack.empty()) break;
    pr = stack.back();
    stack.pop_back();
    pl = stack.back();
    stack.pop_back();
    cdepth = depth.back();
    depth.pop_back();
  }
  return order;
}

TermCounts TermCounts::Build(const Tokenizer& tokenizer, std::span<const std::string_view> texts) {
  TermCounts tc;
  std::unordered_map<std::string, TermId> ids;
  std::vector<uint32_t> count_of;  // per term id, count in the current document
  std::vector<TermId> doc_terms;   // distinct term ids of the current document
  std::string key;
  for (std::string_view text : texts) {
    doc_terms.clear();
    tokenizer.ForEachTerm(text, [&](std::string_view term) {
      key.assign(term);
      auto [it, inserted] = ids.try_emplace(key, static_cast<TermId>(tc.terms_.size()));
      if (inserted) {
        tc.terms_.push_back(key);
        count_of.push_back(0);
      }
      if (count_of[it->second]++ == 0) doc_terms.push_back(it->second);
    });
    std::sort(doc_terms.begin(), doc_terms.end());
    for (TermId t : doc_terms) {
      tc.entries_.push_back({t, count_of[t]});
      count_of[t] = 0;
    }
    tc.doc_begin_.push_back(tc.entries_.size());
  }
  return tc;
}

Result<std::vector<TermCounts::TermId>> TermCounts::SelectVocabulary(std::span<const uint32_t> docs,
                                                                     const VocabularyOptions& options) const {
  std::vector<uint32_t> df(terms_.size(), 0);
  std::vector<int64_t> tf(terms_.size(), 0);
  for (uint32_t d : docs) {
    for (uint64_t k = doc_begin_[d]; k < doc_begin_[d + 1]; ++k) {
      ++df[entries_[k].term];
      tf[entries_[k].term] += entries_[k].count;
    }
  }
  std::vector<TermId> sorted;
  for (TermId t = 0; t < terms_.size(); ++t) {
    if (df[t] > 0) sorted.push_back(t);
  }
  if (sorted.empty()) {
    return Status::InvalidArgument("empty vocabulary; perhaps the documents only contain stop words");
  }
  std::sort(sorted.begin(), sorted.end(), [&](TermId a, TermId b) { return terms_[a] < terms_[b]; });

  const double high = options.max_df.Threshold(docs.size());
  const double low = options.min_df.Threshold(docs.size());
  if (high < low) {
    return Status::InvalidArgument(fmt::format("max_df ({}) corresponds to < documents than min_df ({})",
                                               options.max_df.ToString(), options.min_df.ToString()));
  }
  std::vector<TermId> kept;
  for (TermId t : sorted) {
    if (df[t] <= high && df[t] >= low) kept.push_back(t);
  }
  if (options.max_features > 0 && kept.size() > options.max_features) {
    std::vector<int64_t> neg_tf(kept.size());
    for (size_t k = 0; k < kept.size(); ++k) neg_tf[k] = -tf[kept[k]];
    std::vector<uint32_t> order = NumpyArgsort(neg_tf);
    order.resize(options.max_features);
    std::sort(order.begin(), order.end());  // back to term order
    std::vector<TermId> limited;
    limited.reserve(order.size());
    for (uint32_t k : order) limited.push_back(kept[k]);
    kept = std::move(limited);
  }
  if (kept.empty()) {
    return Status::InvalidArgument("after pruning, no terms remain; try a lower min_df or a higher max_df");
  }
  return kept;
}

SparseRows TermCounts::Vectorize(std::span<const uint32_t> docs, std::span<const TermId> vocabulary) const {
  constexpr uint32_t kAbsent = UINT32_MAX;
  std::vector<uint32_t> column(terms_.size(), kAbsent);
  for (size_t j = 0; j < vocabulary.size(); ++j) column[vocabulary[j]] = static_cast<uint32_t>(j);
  SparseRows rows;
  rows.cols = static_cast<uint32_t>(vocabulary.size());
  std::vector<std::pair<uint32_t, double>> row;
  std::vector<uint32_t> cols;
  std::vector<double> values;
  for (uint32_t d : docs) {
    row.clear();
    for (uint64_t k = doc_begin_[d]; k < doc_begin_[d + 1]; ++k) {
      uint32_t j = column[entries_[k].term];
      if (j != kAbsent) row.emplace_back(j, static_cast<double>(entries_[k].count));
    }
    std::sort(row.begin(), row.end());
    cols.clear();
    values.clear();
    for (auto [j, v] : row) {
      cols.push_back(j);
      values.push_back(v);
    }
    rows.AddRow(cols, values);
  }
  return rows;
}

}  // namespace sagaflow::text
