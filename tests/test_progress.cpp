#include <sstream>

#include <doctest/doctest.h>

#include "cnn/model/progress.hpp"

TEST_CASE("ProgressBar: one summary line when not interactive, Keras's format") {
    std::ostringstream out;
    cnn::ProgressBar bar(out, 20, false);
    for (std::size_t s = 1; s <= 20; ++s) {
        bar.update(s, 0.5, 0.75);
    }
    bar.finish(0.5, 0.75, " - val_loss: 0.4000");
    const std::string line = out.str();
    CHECK(line.find("20/20 [==============================]") == 0);
    CHECK(line.find("- loss: 0.5000 - accuracy: 0.7500 - val_loss: 0.4000\n") != std::string::npos);
    CHECK(line.find('\r') == std::string::npos);
    std::ostringstream quiet;
    cnn::ProgressBar silent(quiet, 5, true, true);
    silent.update(5, 1, 1);
    CHECK(silent.finish(1, 1, "") >= 0.0);
    CHECK(quiet.str().empty());
}

TEST_CASE("ProgressBar: redraws in place when interactive") {
    std::ostringstream out;
    cnn::ProgressBar bar(out, 4, true);
    bar.update(4, 0.1, 0.9);  // the last step always draws
    CHECK(out.str().find("\r4/4 [") == 0);
    CHECK(out.str().find("ETA: 0s") != std::string::npos);
}

TEST_CASE("ProgressBar: abandon() ends a live line, and prints nothing in a log") {
    std::ostringstream live, log;
    cnn::ProgressBar bar(live, 4, true), lines(log, 4, false);
    bar.update(4, 0.1, 0.9);
    bar.abandon();
    CHECK(live.str().back() == '\n');
    lines.update(2, 0.1, 0.9);
    lines.abandon();
    CHECK(log.str().empty());
}
