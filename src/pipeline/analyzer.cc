#include "pipeline/analyzer.h"

#include <fmt/format.h>

#include <algorithm>

#include "events/excerpt.h"
#include "text/classifier.h"
#include "text/entity_matcher.h"
#include "text/unicode.h"

namespace sagaflow::pipeline {

uint64_t AnalyzeTally::Rejected() const {
  uint64_t n = 0;
  for (uint64_t r : rejected) n += r;
  return n;
}

int AnalyzeText(const text::Classifier& classifier, const text::EntityMatcher& matcher, const Dimensions& dims,
                std::string_view text, double* scores, std::vector<text::Mention>* scratch,
                std::vector<MentionRow>* out) {
  const int label = classifier.Predict(text, scores);
  const size_t first_row = out->size();
  matcher.Count(text, dims.sagas[static_cast<size_t>(label)].name, scratch);
  for (const text::Mention& m : *scratch) {
    if (m.count == 0) continue;
    out->push_back(MentionRow{dims.entity_row[m.entity], m.count});
  }
  auto first = out->begin() + static_cast<ptrdiff_t>(first_row);
  if (dims.has_duplicate_entities && out->end() - first > 1) {
    // Two dictionary entries for one entity: one row with the summed count.
    std::sort(first, out->end(), [](const MentionRow& a, const MentionRow& b) { return a.entity < b.entity; });
    auto kept = first;
    for (auto it = first + 1; it != out->end(); ++it) {
      if (it->entity == kept->entity) {
        kept->count += it->count;
      } else {
        *++kept = *it;
      }
    }
    out->erase(kept + 1, out->end());
  }
  return label;
}

Analyzer::Analyzer(const text::Classifier& classifier, const text::EntityMatcher& matcher, const Dimensions& dimensions,
                   size_t max_record_bytes)
    : classifier_(classifier), matcher_(matcher), dims_(dimensions), max_record_bytes_(max_record_bytes) {
  scores_.resize(std::max<size_t>(classifier.labels().size(), 1));
}

Analyzer::~Analyzer() = default;

void Analyzer::Reject(const sources::Record& record, uint32_t stream, events::RejectReason reason, std::string detail,
                      Batch* batch, AnalyzeTally* tally) {
  DeadLetterRow& row = batch->dead_letters.emplace_back();
  row.stream = stream;
  row.position = record.position;
  row.line = record.line;
  row.reason = reason;
  row.detail = std::move(detail);
  row.excerpt = events::Utf8Excerpt(record.payload);
  row.payload_bytes = record.size;
  ++tally->rejected[static_cast<size_t>(reason)];
}

void Analyzer::Process(const sources::Record& record, uint32_t stream, Batch* batch, AnalyzeTally* tally) {
  ++batch->records;
  batch->bytes += record.size;
  if (record.kind == sources::Record::Kind::kTooLarge || record.size > max_record_bytes_) {
    Reject(record, stream, events::RejectReason::kTooLarge,
           fmt::format("the record is larger than the maximum of {} bytes", max_record_bytes_), batch, tally);
    return;
  }
  events::Event event;
  if (!parser_.Parse(record.payload, &event, &rejection_)) {
    Reject(record, stream, rejection_.reason, std::move(rejection_.detail), batch, tally);
    return;
  }
  EventRow& row = batch->events.emplace_back();
  row.stream = stream;
  row.position = record.position;
  row.line = record.line;
  row.article_id.assign(event.id);
  row.readers = event.readers;
  row.time = event.time;
  row.first_mention = static_cast<uint32_t>(batch->mentions.size());
  if (text::IsBlank(event.text)) {
    row.status = EventStatus::kEmpty;
    row.saga = -1;
    ++tally->empty;
    return;
  }
  row.status = EventStatus::kClassified;
  row.saga = AnalyzeText(classifier_, matcher_, dims_, event.text, scores_.data(), &mentions_, &batch->mentions);
  ++tally->classified;
  row.mention_count = static_cast<uint32_t>(batch->mentions.size() - row.first_mention);
}

}  // namespace sagaflow::pipeline
