#include "scheduler.h"

#include <algorithm>
#include <cassert>

namespace olm {

namespace {

// True when a should run before b: smaller priority value, then earlier arrival.
bool runs_before(const request* a, const request* b) {
    return a->priority < b->priority || (a->priority == b->priority && a->arrival < b->arrival);
}

}  // namespace

scheduler::scheduler(const scheduler_config& config, kv_cache_manager& kv) : config_(config), kv_(kv) {
    assert(config.max_batched_tokens > 0 && config.max_running_requests > 0);
}

void scheduler::add_request(std::unique_ptr<request> r) {
    assert(requests_.count(r->id) == 0);
    assert(r->num_tokens() > 0);
    request* p = r.get();
    p->status = request_status::waiting;
    requests_.emplace(p->id, std::move(r));
    insert_waiting(p);
}

void scheduler::insert_waiting(request* r) {
    auto pos = std::upper_bound(waiting_.begin(), waiting_.end(), r, runs_before);
    waiting_.insert(pos, r);
}

request* scheduler::find(int64_t id) {
    auto it = requests_.find(id);
    return it == requests_.end() ? nullptr : it->second.get();
}

void scheduler::preempt(request* victim) {
    kv_.free(*victim);
    victim->num_computed_tokens = 0;
    victim->status = request_status::waiting;
    running_.erase(std::find(running_.begin(), running_.end(), victim));
    insert_waiting(victim);
    stats_.num_preemptions++;
}

scheduler_output scheduler::schedule() {
    scheduler_output out;
    int32_t budget = config_.max_batched_tokens;

    // Running requests, oldest admission first.
    size_t index = 0;
    while (index < running_.size() && budget > 0) {
        request* r = running_[index];
        int32_t num_new = std::min(r->num_tokens() - r->num_computed_tokens, budget);
        assert(num_new > 0);
        bool scheduled = false;
        while (true) {
            if (kv_.allocate_slots(*r, num_new)) {
                scheduled = true;
                break;
            }
            // Out of blocks: recompute someone later. Victim: lowest priority, then newest.
            request* victim = running_[0];
            for (request* c : running_) {
                if (runs_before(victim, c)) victim = c;
            }
            auto was = std::find_if(out.scheduled.begin(), out.scheduled.end(),
                                    [victim](const scheduled_request& s) { return s.req == victim; });
            if (was != out.scheduled.end()) {  // scheduled earlier this step: give its tokens back
                budget += was->num_new_tokens;
                out.num_batched_tokens -= was->num_new_tokens;
                out.scheduled.erase(was);
            }
            size_t victim_index = size_t(std::find(running_.begin(), running_.end(), victim) - running_.begin());
            preempt(victim);
            out.preempted.push_back(victim->id);
            if (victim == r) break;
            if (victim_index < index) index--;
        }
        if (!scheduled) continue;  // r itself was preempted; running_[index] is the next one
        out.scheduled.push_back({r, num_new, kv_cache_blocks{kv_.block_table(r->id)}});
        out.num_batched_tokens += num_new;
        budget -= num_new;
        index++;
    }

    // Waiting requests, when nothing had to be preempted.
    while (out.preempted.empty() && budget > 0 && !waiting_.empty() &&
           int32_t(running_.size()) < config_.max_running_requests) {
        request* r = waiting_.front();
        kv_cache_blocks hit = kv_.get_computed_blocks(*r);
        int32_t num_hit_tokens = int32_t(hit.block_ids.size()) * kv_.block_size_tokens();
        int32_t num_new = std::min(r->num_tokens() - num_hit_tokens, budget);
        assert(num_new > 0);
        if (!kv_.allocate_slots(*r, num_new, &hit)) break;
        waiting_.pop_front();
        if (kv_.prefix_caching()) {
            stats_.prefix_query_tokens += r->num_tokens();
            stats_.prefix_hit_tokens += num_hit_tokens;
        }
        if (r->num_cached_tokens < 0) r->num_cached_tokens = num_hit_tokens;
        r->num_computed_tokens = num_hit_tokens;
        r->status = request_status::running;
        running_.push_back(r);
        out.scheduled.push_back({r, num_new, kv_cache_blocks{kv_.block_table(r->id)}});
        out.num_batched_tokens += num_new;
        budget -= num_new;
    }
    return out;
}

void scheduler::update_after_forward(const scheduler_output& out) {
    for (const scheduled_request& s : out.scheduled) {
        request* r = s.req;
        r->num_computed_tokens += s.num_new_tokens;
        assert(r->num_computed_tokens <= r->num_tokens());
        kv_.cache_computed_blocks(*r);
    }
}

bool scheduler::finish_request(int64_t id) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return false;
    request* r = it->second.get();
    kv_.free(*r);
    if (r->status == request_status::running) {
        running_.erase(std::find(running_.begin(), running_.end(), r));
    } else {
        waiting_.erase(std::find(waiting_.begin(), waiting_.end(), r));
    }
    requests_.erase(it);
    return true;
}

}  // namespace olm
