// A libFuzzer-compatible driver for builds without libFuzzer: feeds every file of a seed corpus
// directory, then `mutations` seeded random mutations of those seeds (bit flips, truncations,
// byte insertions, splices), to LLVMFuzzerTestOneInput. Deterministic (fixed seed) so a failure
// reproduces; a crash or sanitizer report fails the ctest run.
// usage: fuzz_<target> [CORPUS_DIR] [MUTATIONS]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void Run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::string Mutate(const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  std::string s = seeds[rng() % seeds.size()];
  int steps = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < steps; ++i) {
    switch (rng() % 5) {
      case 0:
        if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:
        if (!s.empty()) s.resize(rng() % s.size());
        break;
      case 2:
        s.insert(s.begin() + static_cast<long>(s.empty() ? 0 : rng() % s.size()), static_cast<char>(rng()));
        break;
      case 3:
        if (!s.empty()) s[rng() % s.size()] = static_cast<char>(rng() % 2 ? 0xFF : 0x00);
        break;
      default: {
        const std::string& other = seeds[rng() % seeds.size()];
        if (!other.empty()) s += other.substr(rng() % other.size());
      }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> seeds;
  if (argc > 1 && std::filesystem::is_directory(argv[1])) {
    for (const auto& e : std::filesystem::directory_iterator(argv[1])) {
      std::ifstream in(e.path(), std::ios::binary);
      seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  long mutations = argc > 2 ? std::atol(argv[2]) : 1000;
  if (seeds.empty()) seeds.emplace_back();
  for (const auto& s : seeds) Run(s);
  std::mt19937_64 rng(0xC0FFEE);
  for (long i = 0; i < mutations; ++i) Run(Mutate(seeds, rng));
  std::printf("replayed %zu seeds and %ld mutations\n", seeds.size(), mutations);
  return 0;
}
