#include "support/app/resident_memory.hpp"

#include <malloc.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace cnn {

ResidentMemory resident_memory() {
    std::ifstream status("/proc/self/status");
    if (!status) {
        throw std::runtime_error("cannot read /proc/self/status: resident memory is measured on Linux only");
    }
    ResidentMemory m;
    bool found_now = false, found_peak = false;
    std::string line;
    while (std::getline(status, line)) {
        std::istringstream in(line);
        std::string key;
        double kb = 0;
        in >> key >> kb;
        if (key == "VmRSS:") {
            m.now_mb = kb / 1024.0;
            found_now = true;
        } else if (key == "VmHWM:") {
            m.peak_mb = kb / 1024.0;
            found_peak = true;
        }
    }
    if (!found_now || !found_peak) {
        throw std::runtime_error("/proc/self/status has no VmRSS or VmHWM line");
    }
    return m;
}

void reset_resident_peak() {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    clear.flush();
    if (!clear) {
        throw std::runtime_error("cannot reset the peak of resident memory: writing 5 to "
                                 "/proc/self/clear_refs failed (it needs Linux 4.0 or later)");
    }
}

void return_freed_memory() {
    constexpr int threshold = 128 * 1024;
    if (mallopt(M_MMAP_THRESHOLD, threshold) != 1 || mallopt(M_TRIM_THRESHOLD, threshold) != 1) {
        throw std::runtime_error("the C library refused mallopt(M_MMAP_THRESHOLD / M_TRIM_THRESHOLD)");
    }
    malloc_trim(0);
}

}  // namespace cnn
