// bench-cuda.cpp: the CUDA backend's benchmarks, one JSON object on stdout (and in --out). In
// the same run: the device's copy bandwidth and bf16 GEMM TFLOP/s, batch-1 decode on the
// llama3-8b shape (→ HBM roofline ratio), offline throughput on the llama3-8b shape (N requests
// of 256 + 256 tokens, ignore_eos) and on the qwen3-0.6b shape (N requests, input and output
// lengths uniform in [100, 1024]). Models are random BF16 weights built in memory from the
// configs (tests/random-model.h): no files, no downloads. scripts/gpu-check.sh runs it.
//
//   bench-cuda [--scenario all|device|decode|llama-throughput|qwen3-throughput] [--requests N]
//              [--qwen3-requests N] [--out FILE] [--tiny]
//   bench-cuda --hf-logits DIR [--out FILE]   (full-model logits vs HF transformers, tiny models)
// --tiny swaps the model shapes for small ones (a smoke run of the whole program).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cuda/cuda-check.h"
#include "cuda/gemm.h"
#include "batch.h"
#include "backend.h"
#include "engine.h"
#include "model.h"
#include "random-model.h"

namespace {

using clock_type = std::chrono::steady_clock;
using nlohmann::json;

double seconds_since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

// Device-to-device copy of 2 GiB, best of 10; bytes read + written per second (the usual
// "copy bandwidth" convention, comparable with the HBM figure).
json measure_copy_bandwidth() {
    const size_t bytes = size_t(2) << 30;
    void *a = nullptr, *b = nullptr;
    olm::cuda::check(cudaMalloc(&a, bytes), "cudaMalloc");
    olm::cuda::check(cudaMalloc(&b, bytes), "cudaMalloc");
    olm::cuda::check(cudaMemset(a, 1, bytes), "cudaMemset");
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    float best_ms = 1e30f;
    for (int i = 0; i < 12; ++i) {
        cudaEventRecord(e0);
        olm::cuda::check(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpy D2D");
        cudaEventRecord(e1);
        cudaEventSynchronize(e1);
        float ms = 0.0f;
        cudaEventElapsedTime(&ms, e0, e1);
        if (i >= 2) best_ms = std::min(best_ms, ms);
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaFree(a);
    cudaFree(b);
    return {{"copy_bytes", bytes}, {"copy_read_write_bytes_per_s", 2.0 * double(bytes) / (best_ms * 1e-3)}};
}

// The backend's own GEMM (bf16 x bf16 -> f32, cuBLAS) at n x k x m, best of 10.
double measure_gemm_tflops(cublasHandle_t h, int32_t n, int32_t out, int32_t in) {
    void *x = nullptr, *w = nullptr, *y = nullptr;
    olm::cuda::check(cudaMalloc(&x, size_t(n) * in * 2), "cudaMalloc");
    olm::cuda::check(cudaMalloc(&w, size_t(out) * in * 2), "cudaMalloc");
    olm::cuda::check(cudaMalloc(&y, size_t(n) * out * 4), "cudaMalloc");
    // Small random-ish bf16 values (0x3c00..0x3cff ≈ 0.0078..0.031): zeros would flatter the clock.
    std::vector<uint16_t> host(size_t(std::max<int64_t>(int64_t(n), out)) * in);
    for (size_t i = 0; i < host.size(); ++i) host[i] = uint16_t(0x3c00 + (i * 2654435761u >> 24));
    cudaMemcpy(x, host.data(), size_t(n) * in * 2, cudaMemcpyHostToDevice);
    cudaMemcpy(w, host.data(), size_t(out) * in * 2, cudaMemcpyHostToDevice);
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    float best_ms = 1e30f;
    for (int i = 0; i < 13; ++i) {
        cudaEventRecord(e0);
        olm::cuda::gemm_bf16(h, static_cast<uint16_t*>(x), static_cast<uint16_t*>(w), static_cast<float*>(y), n, out, in);
        cudaEventRecord(e1);
        cudaEventSynchronize(e1);
        float ms = 0.0f;
        cudaEventElapsedTime(&ms, e0, e1);
        if (i >= 3) best_ms = std::min(best_ms, ms);
    }
    olm::cuda::check(cudaGetLastError(), "gemm");
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaFree(x);
    cudaFree(w);
    cudaFree(y);
    return 2.0 * double(n) * out * in / (best_ms * 1e-3) / 1e12;
}

json device_json() {
    int dev = 0;
    cudaGetDevice(&dev);
    cudaDeviceProp p{};
    olm::cuda::check(cudaGetDeviceProperties(&p, dev), "cudaGetDeviceProperties");
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    return {{"name", p.name},
            {"compute_capability", std::to_string(p.major) + "." + std::to_string(p.minor)},
            {"multiprocessors", p.multiProcessorCount},
            {"memory_bytes", p.totalGlobalMem},
            {"driver_version", driver},
            {"runtime_version", runtime}};
}

olm::engine_params throughput_params(int32_t max_running, int32_t max_batched_tokens) {
    olm::engine_params p;
    p.backend = olm::backend_kind::cuda;
    p.block_size_tokens = 16;
    p.kv_cache_bytes = int64_t(1) << 50;  // the gpu_memory_fraction decides
    p.gpu_memory_fraction = 0.9f;
    p.max_batched_tokens = max_batched_tokens;
    p.max_running_requests = max_running;
    p.enable_prefix_caching = false;      // random prompts share nothing; measure the raw path
    return p;
}

std::vector<int32_t> random_prompt(std::mt19937& rng, int32_t n, int32_t vocab) {
    std::uniform_int_distribution<int32_t> d(10, vocab - 1);
    std::vector<int32_t> p(static_cast<size_t>(n));
    for (int32_t& t : p) t = d(rng);
    return p;
}

olm::sampling_params fixed_length(int32_t max_tokens) {
    olm::sampling_params s;
    s.temperature = 0.0f;
    s.max_tokens = max_tokens;
    s.ignore_eos = true;
    return s;
}

// Batch-1 decode: a 128-token prompt, then 256 tokens; tokens/s over the decode steps only.
json bench_decode(const olm::model& m, double copy_bandwidth) {
    olm::engine_params p = throughput_params(1, 512);
    olm::engine e(m, p);
    std::mt19937 rng(1);
    const int32_t n_out = 256;
    e.add_request(random_prompt(rng, 128, m.config.vocab_size), fixed_length(n_out + 1), "", 0);
    e.step();  // prefill + the first token
    e.step();  // warm-up decode
    const auto t0 = clock_type::now();
    int32_t decoded = 0;
    while (e.has_unfinished()) {
        e.step();
        ++decoded;
    }
    const double s = seconds_since(t0);
    const double tps = decoded / s;
    const double weight_bytes = double(m.weight_bytes_per_token());
    return {{"decoded_tokens", decoded},
            {"elapsed_s", s},
            {"decode_tokens_per_s", tps},
            {"weight_bytes", weight_bytes},
            {"roofline_tokens_per_s", copy_bandwidth / weight_bytes},
            {"decode_roofline_ratio", tps * weight_bytes / copy_bandwidth},
            {"n_blocks", e.n_blocks()}};
}

// Offline throughput: every request queued at once, stepped to the end.
json run_offline(const olm::model& m, const std::vector<std::vector<int32_t>>& prompts, const std::vector<int32_t>& outputs,
                 int32_t max_running, int32_t max_batched_tokens) {
    olm::engine e(m, throughput_params(max_running, max_batched_tokens));
    int64_t prompt_tokens = 0, output_tokens = 0;
    for (size_t i = 0; i < prompts.size(); ++i) {
        e.add_request(prompts[i], fixed_length(outputs[i]), "", 0);
        prompt_tokens += int64_t(prompts[i].size());
    }
    const auto t0 = clock_type::now();
    int64_t steps = 0;
    while (e.has_unfinished()) {
        for (const auto& o : e.step().outputs) output_tokens += int64_t(o.new_token_ids.size());
        ++steps;
    }
    const double s = seconds_since(t0);
    const olm::engine_stats st = e.stats();
    return {{"requests", prompts.size()},
            {"prompt_tokens", prompt_tokens},
            {"output_tokens", output_tokens},
            {"elapsed_s", s},
            {"output_tokens_per_s", double(output_tokens) / s},
            {"total_tokens_per_s", double(prompt_tokens + output_tokens) / s},
            {"steps", steps},
            {"preemptions", st.num_preemptions},
            {"n_blocks", e.n_blocks()},
            {"max_running_requests", max_running},
            {"max_batched_tokens", max_batched_tokens}};
}

json bench_llama_throughput(const olm::model& m, int32_t n_requests, int32_t in_len, int32_t out_len) {
    std::mt19937 rng(2);
    std::vector<std::vector<int32_t>> prompts;
    for (int32_t i = 0; i < n_requests; ++i) prompts.push_back(random_prompt(rng, in_len, m.config.vocab_size));
    json j = run_offline(m, prompts, std::vector<int32_t>(size_t(n_requests), out_len), 256, 8192);
    j["input_len"] = in_len;
    j["output_len"] = out_len;
    return j;
}

// Request i's input and output lengths, uniform in [lo, hi]: splitmix64 of (1000 + i) and
// (5000 + i), so that scripts/gpu/hf_baseline.py draws the very same requests.
int32_t request_length(uint64_t key, int32_t lo, int32_t hi) {
    return lo + int32_t(olm::testing::detail::splitmix64(key) % uint64_t(hi - lo + 1));
}

json bench_qwen3_throughput(const olm::model& m, int32_t n_requests, int32_t lo, int32_t hi) {
    std::mt19937 rng(3);
    std::vector<std::vector<int32_t>> prompts;
    std::vector<int32_t> outputs;
    for (int32_t i = 0; i < n_requests; ++i) {
        prompts.push_back(random_prompt(rng, request_length(1000 + uint64_t(i), lo, hi), m.config.vocab_size));
        outputs.push_back(request_length(5000 + uint64_t(i), lo, hi));
    }
    json j = run_offline(m, prompts, outputs, 256, 8192);
    j["length_range"] = {lo, hi};
    j["lengths"] = "input 100 + splitmix64(1000 + i) % 925, output 100 + splitmix64(5000 + i) % 925";
    return j;
}

// Full-model logits of each tiny HF model under `dir` (written by hf_baseline.py tiny-models:
// config.json, model.safetensors, hf-logits.json with prompts and HF's float32 logits), from
// the CUDA and the CPU backend, compared with HF's: relative L2 error per row, worst of each.
json compare_hf_logits(const std::string& dir) {
    json out = json::array();
    std::ifstream list_file(dir + "/models.txt");
    std::string name;
    while (list_file >> name) {
        const std::string model_dir = dir + "/" + name;
        json entry = {{"model", name}};
        try {
            json hf = json::parse(std::ifstream(model_dir + "/hf-logits.json"));
            auto m = olm::load_model(model_dir, 4);
            const int32_t vocab = m->config.vocab_size;
            olm::cuda_backend_params p;
            p.max_batched_tokens = 1024;
            std::unique_ptr<olm::forward_backend> gpu, cpu;
            double worst_gpu = 0.0, worst_cpu = 0.0, worst_gpu_cpu = 0.0;
            int32_t argmax_agree = 0, rows = 0;
            for (size_t pi = 0; pi < hf["prompts"].size(); ++pi) {
                const std::vector<int32_t> ids = hf["prompts"][pi].get<std::vector<int32_t>>();
                const int32_t n = int32_t(ids.size()), bs = 16, n_blocks = (n + bs - 1) / bs;
                std::vector<int32_t> table(static_cast<size_t>(n_blocks));
                for (int32_t b = 0; b < n_blocks; ++b) table[size_t(b)] = n_blocks - 1 - b;  // not the identity
                gpu = olm::make_cuda_backend(*m, p);  // fresh caches per prompt
                cpu = olm::make_cpu_backend(*m, *m->pool, m->kv_type());
                gpu->allocate_kv(n_blocks, bs);
                cpu->allocate_kv(n_blocks, bs);
                olm::batch_builder batch(bs);
                batch.add_sequence(ids.data(), 0, n, table.data(), table.size(), olm::logits_wanted::all);
                std::vector<float> g(size_t(n) * vocab), c(g.size());
                gpu->forward(batch.view(), g.data());
                cpu->forward(batch.view(), c.data());
                const auto& want = hf["logits"][pi];
                for (int32_t r = 0; r < n; ++r) {
                    const std::vector<float> h = want[size_t(r)].get<std::vector<float>>();
                    double eg = 0, ec = 0, egc = 0, den = 0;
                    int32_t ag = 0, ah = 0;
                    for (int32_t v = 0; v < vocab; ++v) {
                        const double gv = g[size_t(r) * vocab + v], cv = c[size_t(r) * vocab + v], hv = h[size_t(v)];
                        eg += (gv - hv) * (gv - hv);
                        ec += (cv - hv) * (cv - hv);
                        egc += (gv - cv) * (gv - cv);
                        den += hv * hv;
                        if (gv > g[size_t(r) * vocab + ag]) ag = v;
                        if (hv > h[size_t(ah)]) ah = v;
                    }
                    worst_gpu = std::max(worst_gpu, std::sqrt(eg / den));
                    worst_cpu = std::max(worst_cpu, std::sqrt(ec / den));
                    worst_gpu_cpu = std::max(worst_gpu_cpu, std::sqrt(egc / den));
                    argmax_agree += ag == ah ? 1 : 0;
                    ++rows;
                }
            }
            entry["rows"] = rows;
            entry["cuda_vs_hf_worst_rel_l2"] = worst_gpu;
            entry["cpu_vs_hf_worst_rel_l2"] = worst_cpu;
            entry["cuda_vs_cpu_worst_rel_l2"] = worst_gpu_cpu;
            entry["cuda_argmax_equals_hf"] = argmax_agree;
            entry["pass"] = worst_gpu <= 0.03 && worst_cpu <= 0.03;
        } catch (const std::exception& e) {
            entry["error"] = e.what();
            entry["pass"] = false;
        }
        out.push_back(entry);
    }
    return out;
}

std::string arg_value(int argc, char** argv, const std::string& name, const std::string& fallback) {
    for (int i = 1; i + 1 < argc; ++i) {
        if (name == argv[i]) return argv[i + 1];
    }
    return fallback;
}

bool has_flag(int argc, char** argv, const std::string& name) {
    for (int i = 1; i < argc; ++i) {
        if (name == argv[i]) return true;
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string scenario = arg_value(argc, argv, "--scenario", "all");
    const int32_t n_requests = std::stoi(arg_value(argc, argv, "--requests", "1000"));
    const int32_t n_qwen3 = std::stoi(arg_value(argc, argv, "--qwen3-requests", "256"));
    const std::string out_path = arg_value(argc, argv, "--out", "");
    const bool tiny = has_flag(argc, argv, "--tiny");
    const bool all = scenario == "all";
    const std::string hf_logits_dir = arg_value(argc, argv, "--hf-logits", "");
    const int32_t n_threads = int32_t(std::max(1u, std::thread::hardware_concurrency()));
    json result;
    try {
        if (!olm::cuda_device_available()) throw olm::error(ORLEANSLLM_ERR_UNSUPPORTED, "no CUDA device");
        result["device"] = device_json();
        if (!hf_logits_dir.empty()) {
            result["hf_logits"] = compare_hf_logits(hf_logits_dir);
            bool pass = true;
            for (const auto& e : result["hf_logits"]) pass = pass && e["pass"].get<bool>();
            result["hf_logits_pass"] = pass;
            const std::string text = result.dump(2);
            std::printf("%s\n", text.c_str());
            if (!out_path.empty()) std::ofstream(out_path) << text << "\n";
            return pass ? 0 : 1;
        }
        json copy = measure_copy_bandwidth();
        const double bandwidth = copy["copy_read_write_bytes_per_s"].get<double>();
        result["copy_bandwidth"] = copy;
        cublasHandle_t h;
        olm::cuda::check(cublasCreate(&h), "cublasCreate");
        result["gemm_bf16_tflops"] = {{"m8192_n8192_k8192", measure_gemm_tflops(h, 8192, 8192, 8192)},
                                      {"tokens4096_out14336_in4096", measure_gemm_tflops(h, 4096, 14336, 4096)},
                                      {"tokens1_out14336_in4096", measure_gemm_tflops(h, 1, 14336, 4096)}};
        cublasDestroy(h);
        std::fprintf(stderr, "device: %s\n", result["device"].dump().c_str());
        if (all || scenario == "decode" || scenario == "llama-throughput") {
            const olm::model_config c = tiny ? olm::testing::llama_like_config(4096, 512, 1024, 2, 8, 2, 128)
                                             : olm::testing::llama3_8b_config();
            const auto t0 = clock_type::now();
            auto m = olm::testing::make_random_model(c, 42, n_threads);
            result["llama3_8b_shape"]["build_s"] = seconds_since(t0);
            if (all || scenario == "decode") {
                result["llama3_8b_shape"]["decode_batch1"] = bench_decode(*m, bandwidth);
                std::fprintf(stderr, "decode: %s\n", result["llama3_8b_shape"]["decode_batch1"].dump().c_str());
                // The same without CUDA graphs: what the graphs are worth.
                setenv("ORLEANSLLM_CUDA_GRAPHS", "0", 1);
                result["llama3_8b_shape"]["decode_batch1_no_graphs"] = bench_decode(*m, bandwidth);
                unsetenv("ORLEANSLLM_CUDA_GRAPHS");
                std::fprintf(stderr, "decode, no graphs: %s\n", result["llama3_8b_shape"]["decode_batch1_no_graphs"].dump().c_str());
            }
            if (all || scenario == "llama-throughput") {
                result["llama3_8b_shape"]["offline_256_256"] = bench_llama_throughput(*m, n_requests, 256, 256);
                std::fprintf(stderr, "throughput: %s\n", result["llama3_8b_shape"]["offline_256_256"].dump().c_str());
            }
        }
        if (all || scenario == "qwen3-throughput") {
            olm::model_config c = olm::testing::qwen3_0_6b_config();
            if (tiny) {
                c.vocab_size = 4096;
                c.n_layers = 2;
            }
            auto m = olm::testing::make_random_model(c, 43, n_threads);
            result["qwen3_0_6b_shape"]["offline_100_1024"] = bench_qwen3_throughput(*m, n_qwen3, 100, 1024);
            std::fprintf(stderr, "qwen3: %s\n", result["qwen3_0_6b_shape"]["offline_100_1024"].dump().c_str());
        }
    } catch (const olm::error& e) {
        result["error"] = {{"status", orleansllm_status_name(e.status())}, {"message", e.what()}};
    } catch (const std::exception& e) {
        result["error"] = {{"status", "internal"}, {"message", e.what()}};
    }
    const std::string text = result.dump(2);
    std::printf("%s\n", text.c_str());
    if (!out_path.empty()) std::ofstream(out_path) << text << "\n";
    return result.contains("error") ? 1 : 0;
}
