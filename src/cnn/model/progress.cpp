#include "cnn/model/progress.hpp"

#include <cstdio>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <unistd.h>

namespace cnn {

namespace {

std::string duration_text(double seconds) {
    const auto s = static_cast<long>(seconds + 0.5);
    return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
           : s >= 60 ? fmt::format("{}:{:02}", s / 60, s % 60)
                     : fmt::format("{}s", s);
}

}  // namespace

ProgressBar::ProgressBar(std::ostream& out, std::size_t steps, bool interactive, bool quiet)
    : out_(out), steps_(steps), interactive_(interactive && !quiet), quiet_(quiet),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

double ProgressBar::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

bool ProgressBar::stdout_is_terminal() { return isatty(fileno(stdout)) != 0; }

std::string ProgressBar::bar(std::size_t step) const {
    constexpr std::size_t width = 30;
    const std::size_t done = steps_ == 0 ? width : step * width / steps_;
    std::string text(done, '=');
    if (done < width) {
        text += '>';
        text += std::string(width - done - 1, '.');
    }
    const int digits = static_cast<int>(std::to_string(steps_).size());
    return fmt::format("{:>{}}/{} [{}]", step, digits, steps_, text);
}

void ProgressBar::update(std::size_t step, double loss, double accuracy) {
    if (!interactive_) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (step < steps_ && now - last_draw_ < std::chrono::milliseconds(100)) {
        return;  // a few redraws a second are enough
    }
    last_draw_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double left = elapsed / static_cast<double>(step) * static_cast<double>(steps_ - step);
    fmt::print(out_, "\r{} - ETA: {} - loss: {:.4f} - accuracy: {:.4f}", bar(step),
               duration_text(left), loss, accuracy);
    out_.flush();
}

double ProgressBar::finish(double loss, double accuracy, const std::string& extra) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (quiet_) {
        return seconds;
    }
    const double per_step = steps_ == 0 ? 0.0 : seconds / static_cast<double>(steps_);
    fmt::print(out_, "{}{} - {} {:.0f}ms/step - loss: {:.4f} - accuracy: {:.4f}{}\n",
               interactive_ ? "\r" : "", bar(steps_), duration_text(seconds), per_step * 1000.0,
               loss, accuracy, extra);
    out_.flush();
    return seconds;
}

void ProgressBar::abandon() {
    if (interactive_) {
        out_ << '\n' << std::flush;
    }
}

}  // namespace cnn
