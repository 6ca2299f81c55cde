// The one translation unit that includes hnswlib. Debian's hnswlib 0.6.2 defines non-inline functions
// and variables in its headers (cpuid, AVXCapable, the SIMD function pointers of space_l2.h and
// space_ip.h), so a second including .cpp in the same program fails to link with "multiple
// definition". The implementation of HnswIndex therefore lives in .inc files compiled here only.
// Anything else that needs the graph goes through HnswSegment.
#include "store/hnsw_index.inc"
#include "store/hnsw_search.inc"
#include "store/hnsw_files_read.inc"
#include "store/hnsw_files_write.inc"
