// Tests of support/io/checkpoint.hpp and of fit()'s use of it: an interrupted run resumed from
// its checkpoint ends bit for bit where an uninterrupted one does; a damaged or mismatched
// checkpoint is refused without touching the model; a diverging run stops and keeps its last
// good checkpoint.
#include "support/io/checkpoint.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cnn/layers/batch_normalization.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/dropout.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/layers/relu.hpp"
#include "cnn/model/schedule.hpp"
#include "cnn/model/sequential.hpp"
#include "cnn/optim/adam.hpp"
#include "cnn/optim/sgd.hpp"
#include "support/io/atomic_file.hpp"
#include "support/io/checksum.hpp"
#include "support/io/npy.hpp"
#include "support/io/weights.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using cnn::BatchNormalization;
using cnn::Conv2D;
using cnn::Dense;
using cnn::Dropout;
using cnn::Flatten;
using cnn::MaxPooling2D;
using cnn::ReLU;
using cnn::Tensor4;

namespace {

// A small model with every kind of state a checkpoint must carry: weights, optimizer buffers,
// and a generator that shuffles and draws dropout masks.
using OptimizerMaker = std::function<std::unique_ptr<cnn::Optimizer>()>;

template <class O>
OptimizerMaker maker(const O& optimizer) {
    return [optimizer] { return std::make_unique<O>(optimizer); };
}

cnn::Sequential small_model(std::uint64_t seed, const OptimizerMaker& optimizer) {
    cnn::Sequential model(seed);
    model.add(Conv2D(3, 3).activation("relu").padding("same").input_shape({1, 6, 6}));
    model.add(MaxPooling2D(2));
    model.add(Flatten());
    model.add(Dense(8).activation("relu"));
    model.add(Dropout(0.25f));
    model.add(Dense(3).activation("softmax"));
    model.compile(optimizer(), "sparse_categorical_crossentropy", {"accuracy"});
    return model;
}

template <class O>
cnn::Sequential small_model(std::uint64_t seed, const O& optimizer) {
    return small_model(seed, maker(optimizer));
}

// The same with batch normalisation, per channel after the convolution and per feature
// after the first Dense layer: moving averages a checkpoint must carry too.
cnn::Sequential bn_model(std::uint64_t seed, const OptimizerMaker& optimizer) {
    cnn::Sequential model(seed);
    model.add(Conv2D(3, 3).padding("same").input_shape({1, 6, 6}));
    model.add(BatchNormalization().momentum(0.9f));
    model.add(ReLU());
    model.add(MaxPooling2D(2));
    model.add(Flatten());
    model.add(Dense(8));
    model.add(BatchNormalization().momentum(0.9f));
    model.add(ReLU());
    model.add(Dense(3).activation("softmax"));
    model.compile(optimizer(), "sparse_categorical_crossentropy", {"accuracy"});
    return model;
}

using cnn::testing::same_weights;

// 30 random 6x6 images of 3 classes.
cnn::testing::LabelledImages small_data() {
    return cnn::testing::labelled_noise({30, 1, 6, 6}, 3, 11);
}

cnn::FitOptions options(std::size_t epochs, const fs::path& checkpoint = {}, bool resume = false) {
    cnn::FitOptions o;
    o.epochs = epochs;
    o.batch_size = 8;
    o.validation_split = 0.2;
    o.verbose = cnn::Verbosity::silent;
    if (!checkpoint.empty()) {
        o.callbacks.push_back(std::make_shared<cnn::ModelCheckpoint>(checkpoint, resume));
    }
    return o;
}

void same_history(const cnn::History& a, const cnn::History& b) {
    CHECK(a.loss == b.loss);
    CHECK(a.accuracy == b.accuracy);
    CHECK(a.val_loss == b.val_loss);
    CHECK(a.val_accuracy == b.val_accuracy);
    CHECK(a.seconds.size() == b.seconds.size());
    CHECK(a.train_seconds.size() == b.train_seconds.size());
}

using cnn::testing::write_text;

using cnn::testing::read_text;

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const std::size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

// `text` with the rest of its line that starts with "key " replaced by `value`.
std::string with_line(const std::string& text, const std::string& key, const std::string& value) {
    const std::size_t start = text.find("\n" + key + " ");
    REQUIRE(start != std::string::npos);
    const std::size_t end = text.find('\n', start + 1);
    return text.substr(0, start + key.size() + 2) + value + text.substr(end);
}

// A checkpoint.txt's text after an edit, with its checksum line made to match again: what
// a deliberate forgery, or a run that saved bad values itself, would leave.
std::string sealed(std::string text) {
    const std::size_t last = text.rfind("checksum ");
    if (last != std::string::npos) {
        text.erase(last);
    }
    return text + "checksum " + cnn::sha256_of_text(text) + "\n";
}

}  // namespace

TEST_CASE("a run interrupted after epoch 1 and resumed ends bit for bit like an uninterrupted one") {
    const auto d = small_data();
    const std::vector<OptimizerMaker> optimizers = {maker(cnn::Adam({0.01f})), maker(cnn::nadam({0.01f})),
                                                    maker(cnn::Sgd({0.05f, 0.9f}))};
    for (const OptimizerMaker& optimizer : optimizers) {
        CAPTURE(optimizer()->state().kind);
        cnn::testing::TempDir dir;
        const fs::path checkpoint = dir / "checkpoint";

        cnn::Sequential straight = small_model(5, optimizer);
        const cnn::History whole = straight.fit(d.x, d.y, options(3));

        cnn::Sequential first = small_model(5, optimizer);
        first.fit(d.x, d.y, options(1, checkpoint));
        REQUIRE(cnn::read_checkpoint_progress(checkpoint).epoch == 1);
        // Another object, with other initial weights and another seed: everything that
        // matters must come from the checkpoint.
        cnn::Sequential resumed = small_model(99, optimizer);
        std::ostringstream log;
        cnn::FitOptions more = options(3, checkpoint, true);
        more.verbose = cnn::Verbosity::epoch_line;
        const cnn::History rest = resumed.fit(d.x, d.y, more, log);
        CHECK(log.str().find("Resuming from") != std::string::npos);
        CHECK(log.str().find("Epoch 1/3") == std::string::npos);
        CHECK(log.str().find("Epoch 2/3") != std::string::npos);

        CHECK(rest.loss.size() == 3);
        same_history(rest, whole);
        CHECK(same_weights(resumed, straight));
        CHECK(cnn::read_checkpoint_progress(checkpoint).epoch == 3);

        // Without the optimizer's state or the generator's, the run would differ: the test
        // can tell (a model resumed from the weights alone ends elsewhere).
        cnn::Sequential weights_only = small_model(5, optimizer);
        weights_only.fit(d.x, d.y, options(1));
        cnn::save_weights(weights_only.parameters(), dir / "w");
        cnn::Sequential restarted = small_model(5, optimizer);
        cnn::load_weights(restarted.parameters(), dir / "w");
        restarted.fit(d.x, d.y, options(2));
        CHECK_FALSE(same_weights(restarted, straight));
    }
}

TEST_CASE("with BatchNormalization, the moving averages are saved, loaded and resumed exactly") {
    const auto d = small_data();
    cnn::testing::TempDir dir;
    const OptimizerMaker adam = maker(cnn::Adam({0.01f}));
    cnn::Sequential straight = bn_model(5, adam);
    const cnn::History whole = straight.fit(d.x, d.y, options(3));
    auto& bn = dynamic_cast<BatchNormalization&>(straight.layer(1));
    CHECK(xt::amax(xt::abs(bn.moving().mean))() > 0.01f);  // trained away from the initial 0
    CHECK(straight.weights().size() == straight.parameters().size() + 4);

    // Interrupted after epoch 1, resumed by another object: the same bits, the moving
    // averages included (the validation losses, measured with them, agree too).
    cnn::Sequential first = bn_model(5, adam);
    first.fit(d.x, d.y, options(1, dir / "checkpoint"));
    cnn::Sequential resumed = bn_model(99, adam);
    same_history(resumed.fit(d.x, d.y, options(3, dir / "checkpoint", true)), whole);
    CHECK(same_weights(resumed, straight));
    // The weights folder holds the moving averages; the optimizer's, only trainable tensors.
    const fs::path saved = dir / "checkpoint";
    CHECK(cnn::read_npy(saved / "weights" / "batch_normalization.moving_mean.npy").data ==
          std::vector<float>(bn.moving().mean.begin(), bn.moving().mean.end()));
    CHECK(fs::exists(saved / "optimizer" / "m.batch_normalization.gamma.npy"));
    CHECK_FALSE(fs::exists(saved / "optimizer" / "m.batch_normalization.moving_mean.npy"));

    // save_weights of Model::weights() and load_weights restore them: the same predictions.
    cnn::save_weights(straight.weights(), dir / "w");
    cnn::Sequential fresh = bn_model(7, adam);
    CHECK_FALSE(same_weights(fresh, straight));
    cnn::load_weights(fresh.weights(), dir / "w");
    CHECK(same_weights(fresh, straight));
    CHECK(cnn::testing::max_abs_diff(fresh.predict(d.x), straight.predict(d.x)) == 0);
    // The trainable parameters alone are not the saved model.
    CHECK_THROWS_WITH_AS(cnn::load_weights(fresh.parameters(), dir / "w"),
                         doctest::Contains("lists more parameters than the model's"),
                         cnn::DataError);
}

TEST_CASE("a checkpoint is a checkpoint.txt beside weights and optimizer folders NumPy can read") {
    const auto d = small_data();
    cnn::testing::TempDir dir;
    const fs::path checkpoint = dir / "run";
    cnn::Sequential model = small_model(5, cnn::Adam({0.01f}));
    const cnn::History h = model.fit(d.x, d.y, options(2, checkpoint));

    const cnn::TrainingProgress p = cnn::read_checkpoint_progress(checkpoint);
    CHECK(p.epoch == 2);
    CHECK(p.examples == 24);  // 30, less the 20% held out
    CHECK(p.validation_examples == 6);
    CHECK(p.batch_size == 8);
    CHECK(p.shuffle);
    same_history(p.history, h);
    CHECK(p.history.seconds == h.seconds);  // written exactly, even the timings

    const std::string text = read_text(checkpoint / "checkpoint.txt");
    CHECK(text.rfind("# cnn-steps checkpoint 2\nepoch 2\nexamples 24\n", 0) == 0);
    CHECK(text.find("\noptimizer adam 6\n") != std::string::npos);  // 2 epochs of 3 steps

    // The weights folder is what save_weights writes: a fresh model loads it.
    cnn::Sequential fresh = small_model(1, cnn::Adam());
    cnn::load_weights(fresh.parameters(), checkpoint / "weights");
    CHECK(same_weights(fresh, model));
    // Adam's averages, one file per parameter, in the parameter's shape.
    const cnn::Adam& adam = dynamic_cast<const cnn::Adam&>(model.optimizer());
    const cnn::NpyArray m = cnn::read_npy(checkpoint / "optimizer" / "m.conv2d.kernel.npy");
    CHECK(m.shape == std::vector<std::size_t>{3, 1, 3, 3});
    CHECK(m.data == adam.first_moments()[0]);
    const cnn::NpyArray v = cnn::read_npy(checkpoint / "optimizer" / "v.dense_1.bias.npy");
    CHECK(v.data == adam.second_moments()[5]);

    // Saving again replaces the whole directory and leaves nothing beside it.
    model.fit(d.x, d.y, options(3, checkpoint, true));
    CHECK(cnn::read_checkpoint_progress(checkpoint).epoch == 3);
    CHECK(dir.files() == std::vector<std::string>{"run"});
}

TEST_CASE("a damaged or mismatched checkpoint is refused and the model is left unchanged") {
    const auto d = small_data();
    cnn::testing::TempDir dir;
    const fs::path good = dir / "good";
    small_model(5, cnn::Adam({0.01f})).fit(d.x, d.y, options(1, good));
    const std::string description = read_text(good / "checkpoint.txt");

    cnn::Sequential model = small_model(7, cnn::Adam({0.01f}));
    cnn::Sequential untouched = small_model(7, cnn::Adam({0.01f}));
    const auto refused = [&](const std::string& name, const auto& damage, const char* expected) {
        CAPTURE(name);
        const fs::path broken = dir / name;
        fs::copy(good, broken, fs::copy_options::recursive);
        damage(broken);
        CHECK_THROWS_WITH_AS(cnn::load_checkpoint(model, broken), doctest::Contains(expected),
                             cnn::DataError);
        CHECK(same_weights(model, untouched));
        CHECK(dynamic_cast<const cnn::Adam&>(model.optimizer()).steps_taken() == 0);
    };
    refused("bad-epoch", [&](const fs::path& c) {
        write_text(c / "checkpoint.txt", replaced(description, "epoch 1\n", "epoch one\n"));
    }, "checkpoint.txt: line 2: expected a whole number after 'epoch', found 'one'");
    refused("short-history", [&](const fs::path& c) {
        write_text(c / "checkpoint.txt", replaced(description, "epoch 1\n", "epoch 2\n"));
    }, "expected 2 numbers after 'loss' (one per epoch), found 1");
    refused("bad-header", [&](const fs::path& c) {
        write_text(c / "checkpoint.txt", replaced(description, "checkpoint 2", "checkpoint 9"));
    }, "line 1: expected the first line to be '# cnn-steps checkpoint 2'");
    refused("bad-rng", [&](const fs::path& c) {
        write_text(c / "checkpoint.txt", sealed(replaced(description, "\nrng ", "\nrng x")));
    }, "the generator's state: Rng::set_state: expected");
    refused("no-description", [&](const fs::path& c) { fs::remove(c / "checkpoint.txt"); },
            "checkpoint.txt: no checkpoint: the file is missing");
    refused("device-description", [&](const fs::path& c) {  // a FIFO would block the reader
        fs::remove(c / "checkpoint.txt");
        fs::create_symlink("/dev/null", c / "checkpoint.txt");
    }, "checkpoint.txt: expected a regular file, found a character device");
    refused("damaged-weights", [&](const fs::path& c) {
        const fs::path file = c / "weights" / "dense.kernel.npy";
        std::string bytes = read_text(file);
        bytes.back() = static_cast<char>(bytes.back() ^ 1);
        write_text(file, bytes);
    }, "dense.kernel.npy: SHA-256 mismatch");
    refused("other-manifest", [&](const fs::path& c) {
        const fs::path manifest = c / "optimizer" / "manifest.txt";
        write_text(manifest, read_text(manifest) + "\n");
    }, "optimizer/manifest.txt: SHA-256 mismatch");
    refused("missing-optimizer", [&](const fs::path& c) { fs::remove_all(c / "optimizer"); },
            "optimizer/manifest.txt: missing");

    // Another optimizer, another model.
    cnn::Sequential sgd = small_model(7, cnn::Sgd({0.1f}));
    CHECK_THROWS_WITH_AS(cnn::load_checkpoint(sgd, good),
                         doctest::Contains("holds the state of the optimizer 'adam', but the "
                                           "model was compiled with 'sgd'"),
                         cnn::DataError);
    cnn::Sequential nadam = small_model(7, cnn::nadam({0.01f}));
    CHECK_THROWS_WITH_AS(cnn::load_checkpoint(nadam, good),
                         doctest::Contains("the optimizer 'adam', but the model was compiled with "
                                           "'nadam'"),
                         cnn::DataError);
    cnn::Sequential other(1);
    other.add(Flatten().input_shape({1, 6, 6}));
    other.add(Dense(3).activation("softmax"));
    other.compile(cnn::Adam(), "sparse_categorical_crossentropy", {"accuracy"});
    CHECK_THROWS_AS(cnn::load_checkpoint(other, good), cnn::DataError);

    // Resuming with another batch size could not repeat the run: refused before any change.
    cnn::FitOptions other_batch = options(2, good, true);
    other_batch.batch_size = 4;
    CHECK_THROWS_WITH_AS(model.fit(d.x, d.y, other_batch),
                         doctest::Contains("it was made with batch size 8, this run has 4"),
                         std::invalid_argument);
    CHECK(same_weights(model, untouched));
    CHECK_THROWS_WITH_AS(cnn::ModelCheckpoint({}, true),
                         doctest::Contains("expected a directory to save checkpoints in"),
                         std::invalid_argument);
}

TEST_CASE("checkpoint.txt ends with a checksum of its lines, and an edited one is refused") {
    const auto d = small_data();
    cnn::testing::TempDir dir;
    const fs::path checkpoint = dir / "run";
    small_model(5, cnn::Adam({0.01f})).fit(d.x, d.y, options(1, checkpoint));
    const std::string description = read_text(checkpoint / "checkpoint.txt");
    // The last line is the SHA-256 of every byte before it.
    const std::size_t last = description.rfind("\nchecksum ") + 1;
    REQUIRE(last > 0);
    CHECK(description.substr(last) ==
          "checksum " + cnn::sha256_of_text(description.substr(0, last)) + "\n");

    // One step more in Adam's count reads as well as the true count, and a resumed run would
    // end with other weights than an uninterrupted one (Adam's bias correction uses it).
    write_text(checkpoint / "checkpoint.txt",
               replaced(description, "\noptimizer adam 3\n", "\noptimizer adam 4\n"));
    cnn::Sequential model = small_model(7, cnn::Adam({0.01f}));
    cnn::Sequential untouched = small_model(7, cnn::Adam({0.01f}));
    CHECK_THROWS_WITH_AS(cnn::load_checkpoint(model, checkpoint),
                         doctest::Contains("checkpoint.txt: line 17: checksum mismatch"),
                         cnn::DataError);
    CHECK(same_weights(model, untouched));
    CHECK_THROWS_WITH_AS(cnn::read_checkpoint_progress(checkpoint),
                         doctest::Contains("checksum mismatch"), cnn::DataError);

    // A line cut off the end is no better.
    write_text(checkpoint / "checkpoint.txt", description.substr(0, last));
    CHECK_THROWS_WITH_AS(cnn::load_checkpoint(model, checkpoint),
                         doctest::Contains("line 17: expected a line 'checksum ...', found the end "
                                           "of the file"),
                         cnn::DataError);
}

TEST_CASE("a checkpoint whose history or weights are not finite is neither saved nor loaded") {
    const auto d = small_data();
    cnn::testing::TempDir dir;
    const fs::path good = dir / "good";
    small_model(5, cnn::Adam({0.01f})).fit(d.x, d.y, options(1, good));
    const std::string description = read_text(good / "checkpoint.txt");
    cnn::Sequential model = small_model(7, cnn::Adam({0.01f}));
    cnn::Sequential untouched = small_model(7, cnn::Adam({0.01f}));

    // A NaN or an infinity in the History, even under a matching checksum: the run would
    // train and save, then fail in a plot on every later resume.
    for (const char* bad : {"nan", "inf", "-inf"}) {
        CAPTURE(bad);
        const fs::path c = dir / (std::string("history-") + bad);
        fs::copy(good, c, fs::copy_options::recursive);
        write_text(c / "checkpoint.txt", sealed(with_line(description, "val_loss", bad)));
        const std::string expected =
            std::string("line 11: expected finite numbers after 'val_loss', found '") + bad + "'";
        CHECK_THROWS_WITH_AS(cnn::load_checkpoint(model, c), doctest::Contains(expected.c_str()),
                             cnn::DataError);
        CHECK(same_weights(model, untouched));
    }

    // A model whose weights went NaN is not saved: the last good checkpoint stays the last.
    cnn::Sequential diverged = small_model(5, cnn::Adam({0.01f}));
    diverged.fit(d.x, d.y, options(1));
    diverged.weights()[2].value[1] = std::nanf("");
    const std::string name = diverged.weights()[2].name;
    CHECK_THROWS_WITH_AS(cnn::save_checkpoint(diverged, {}, good),
                         doctest::Contains(("cannot save the checkpoint: expected finite weights, "
                                            "found nan in '" + name + "' at index 1").c_str()),
                         cnn::DataError);
    CHECK(read_text(good / "checkpoint.txt") == description);

    // And such weights in a checkpoint, with every checksum made to match, are not loaded.
    const fs::path nan_weights = dir / "nan-weights";
    fs::copy(good, nan_weights, fs::copy_options::recursive);
    fs::remove_all(nan_weights / "weights");
    cnn::save_weights(diverged.weights(), nan_weights / "weights");
    const std::string manifest_sha256 = cnn::sha256_hex(nan_weights / "weights" / "manifest.txt");
    write_text(nan_weights / "checkpoint.txt",
               sealed(with_line(description, "weights", manifest_sha256)));
    CHECK_THROWS_WITH_AS(cnn::load_checkpoint(model, nan_weights),
                         doctest::Contains(("expected finite weights, found nan in '" + name +
                                            "' at index 1").c_str()),
                         cnn::DataError);
    CHECK(same_weights(model, untouched));
}

TEST_CASE("a learning-rate schedule: epoch by epoch, resumed exactly") {
    // Epoch 1 at 0.05, epoch 2 at 0.01 is one fit() with the schedule, or two fit() calls
    // with the rate changed by hand between them: the same steps, so the same bits.
    const auto d = small_data();
    const auto schedule = std::make_shared<cnn::LearningRateScheduler>(
        [](std::size_t epoch) { return epoch == 1 ? 0.05f : 0.01f; });
    cnn::FitOptions scheduled = options(2);
    scheduled.callbacks.push_back(schedule);
    cnn::Sequential a = small_model(5, cnn::Sgd({0.05f, 0.9f}));
    a.fit(d.x, d.y, scheduled);
    cnn::Sequential b = small_model(5, cnn::Sgd({0.05f, 0.9f}));
    b.fit(d.x, d.y, options(1));
    b.optimizer().set_learning_rate(0.01f);
    b.fit(d.x, d.y, options(1));
    CHECK(same_weights(a, b));
    CHECK(a.optimizer().learning_rate() == 0.01f);
    cnn::Sequential unscheduled = small_model(5, cnn::Sgd({0.05f, 0.9f}));
    unscheduled.fit(d.x, d.y, options(2));
    CHECK_FALSE(same_weights(a, unscheduled));  // the schedule did change the second epoch

    // Interrupted after epoch 1 and resumed: the schedule is a function of the epoch alone.
    cnn::testing::TempDir dir;
    cnn::FitOptions first = options(1, dir / "checkpoint");
    first.callbacks.insert(first.callbacks.begin(), schedule);
    cnn::Sequential c = small_model(5, cnn::Sgd({0.05f, 0.9f}));
    c.fit(d.x, d.y, first);
    cnn::FitOptions rest = options(2, dir / "checkpoint", true);
    rest.callbacks.insert(rest.callbacks.begin(), schedule);
    cnn::Sequential resumed = small_model(9, cnn::Sgd({0.05f, 0.9f}));
    resumed.fit(d.x, d.y, rest);
    CHECK(same_weights(a, resumed));

    // A rate that is not > 0 stops fit() before the epoch, naming it.
    cnn::FitOptions bad = options(3);
    bad.callbacks.push_back(std::make_shared<cnn::LearningRateScheduler>(
        [](std::size_t epoch) { return epoch < 2 ? 0.01f : 0.0f; }));
    cnn::Sequential e = small_model(5, cnn::Adam());
    CHECK_THROWS_WITH_AS(e.fit(d.x, d.y, bad),
                         doctest::Contains("the learning-rate schedule gave 0 for epoch 2"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::Adam().set_learning_rate(-1.0f), std::invalid_argument);
}

TEST_CASE("resume starts afresh without a checkpoint, has_checkpoint sees an interrupted save") {
    const auto d = small_data();
    cnn::testing::TempDir dir;
    cnn::Sequential a = small_model(5, cnn::Adam({0.01f}));
    cnn::Sequential b = small_model(5, cnn::Adam({0.01f}));
    const cnn::History fresh = a.fit(d.x, d.y, options(1, dir / "new", true));
    same_history(fresh, b.fit(d.x, d.y, options(1)));
    CHECK(cnn::has_checkpoint(dir / "new"));
    CHECK_FALSE(cnn::has_checkpoint(dir / "none"));

    // What a crash between the two renames of a save leaves: no checkpoint, its copies beside.
    fs::rename(dir / "new", dir / "run.old-0123abcd");
    CHECK_THROWS_WITH_AS(cnn::has_checkpoint(dir / "run"),
                         doctest::Contains("no checkpoint, but an interrupted save left "
                                           "run.old-0123abcd beside it"),
                         cnn::DataError);
}

TEST_CASE("after an interrupted save, resume continues from the newest complete checkpoint") {
    // What a kill at each moment of replace_directory()'s steps leaves, built from real
    // checkpoints of epochs 1 and 2 of one run. Resuming must pick the newest complete one,
    // say so, and remove every other copy; with none complete it starts afresh, saying so.
    const auto d = small_data();
    cnn::testing::TempDir saved;
    small_model(5, cnn::Adam({0.01f})).fit(d.x, d.y, options(1, saved / "epoch1"));
    small_model(5, cnn::Adam({0.01f})).fit(d.x, d.y, options(2, saved / "epoch2"));
    fs::copy(saved / "epoch2", saved / "unfinished", fs::copy_options::recursive);
    fs::remove(saved / "unfinished" / "checkpoint.txt");  // written last, so missing if cut
    cnn::Sequential straight = small_model(5, cnn::Adam({0.01f}));
    straight.fit(d.x, d.y, options(3));

    struct Case {
        const char* name;
        std::vector<std::pair<const char*, const char*>> copies;  // (saved copy, name left)
        std::size_t resumed_epoch;                                // 0: starts afresh
    };
    const std::vector<Case> cases = {
        {"first save killed after its files", {{"epoch1", "run.new-0000000a"}}, 1},
        {"first save killed while writing", {{"unfinished", "run.new-0000000a"}}, 0},
        {"killed between the renames",
         {{"epoch1", "run.old-0000000b"}, {"epoch2", "run.new-0000000c"}},
         2},
        {"killed while writing a later save",
         {{"epoch1", "run"}, {"unfinished", "run.new-0000000d"}},
         1},
        {"killed before the old copy was deleted",
         {{"epoch2", "run"}, {"epoch1", "run.old-0000000e"}},
         2},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        cnn::testing::TempDir dir;
        for (const auto& [from, to] : c.copies) {
            fs::copy(saved / from, dir / to, fs::copy_options::recursive);
        }
        cnn::FitOptions resume = options(3, dir / "run", true);
        resume.verbose = cnn::Verbosity::epoch_line;
        std::ostringstream out;
        cnn::Sequential model = small_model(c.resumed_epoch == 0 ? 5 : 9, cnn::Adam({0.01f}));
        REQUIRE_NOTHROW(model.fit(d.x, d.y, resume, out));
        CHECK(out.str().find("an interrupted save left") != std::string::npos);
        const std::vector<std::string> said =
            c.resumed_epoch == 0
                ? std::vector<std::string>{"no complete checkpoint among them, so they were "
                                           "removed",
                                           "No checkpoint to resume from"}
                : std::vector<std::string>{
                      fmt::format("kept the checkpoint of epoch {}", c.resumed_epoch),
                      fmt::format("run: {} of 3 epochs done", c.resumed_epoch)};
        for (const std::string& words : said) {
            CHECK_MESSAGE(out.str().find(words) != std::string::npos, out.str());
        }
        CHECK(same_weights(model, straight));  // resumed or afresh, the same run
        CHECK(dir.files() == std::vector<std::string>{"run"});  // every other copy removed
    }

    // A folder of the learner's is never replaced by a copy beside it.
    cnn::testing::TempDir dir;
    fs::create_directory(dir / "run");
    write_text(dir / "run" / "notes.txt", "mine\n");
    fs::copy(saved / "epoch2", dir / "run.new-0000000f", fs::copy_options::recursive);
    cnn::Sequential model = small_model(9, cnn::Adam({0.01f}));
    CHECK_THROWS_AS(model.fit(d.x, d.y, options(3, dir / "run", true)), cnn::DataError);
    CHECK(read_text(dir / "run" / "notes.txt") == "mine\n");
}

TEST_CASE("a save killed before any one of its file-system steps resumes to the same weights") {
    // The experiment of issue 22, kept as a test: epoch 2's checkpoint is saved over epoch 1's
    // in a child process that ends (as kill -9 would: no destructor, no clean-up) just before
    // its n-th step, for every n. Resuming must then train to the weights of a run never
    // interrupted, from epoch 1 or 2, whichever survived, and leave no copy behind.
    const auto d = small_data();
    cnn::testing::TempDir saved;
    small_model(5, cnn::Adam({0.01f})).fit(d.x, d.y, options(1, saved / "epoch1"));
    cnn::Sequential two = small_model(5, cnn::Adam({0.01f}));
    const cnn::TrainingProgress at_two{2, 24, 6, 8, true, two.fit(d.x, d.y, options(2))};
    cnn::Sequential straight = small_model(5, cnn::Adam({0.01f}));
    straight.fit(d.x, d.y, options(3));

    std::vector<std::string> steps;  // the steps of one save, counted on a copy
    fs::copy(saved / "epoch1", saved / "counted", fs::copy_options::recursive);
    cnn::file_system_step_hook = [&](const char* step) { steps.emplace_back(step); };
    cnn::save_checkpoint(two, at_two, saved / "counted");
    cnn::file_system_step_hook = nullptr;
    REQUIRE(steps.size() > 10);

    std::size_t resumed_from_two = 0;
    for (std::size_t kill_at = 1; kill_at <= steps.size(); ++kill_at) {
        CAPTURE(kill_at);
        CAPTURE(steps[kill_at - 1]);
        cnn::testing::TempDir dir;
        fs::copy(saved / "epoch1", dir / "run", fs::copy_options::recursive);
        const pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {  // the child saves, and ends before step kill_at
            std::size_t step = 0;
            cnn::file_system_step_hook = [&](const char*) {
                if (++step == kill_at) {
                    _exit(0);
                }
            };
            try {
                cnn::save_checkpoint(two, at_two, dir / "run");
            } catch (...) {
                _exit(2);
            }
            _exit(1);  // the save finished: it had fewer steps than counted
        }
        int status = 0;
        REQUIRE(waitpid(child, &status, 0) == child);
        REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));

        cnn::FitOptions resume = options(3, dir / "run", true);
        resume.verbose = cnn::Verbosity::epoch_line;
        std::ostringstream out;
        cnn::Sequential resumed = small_model(9, cnn::Adam({0.01f}));
        REQUIRE_NOTHROW(resumed.fit(d.x, d.y, resume, out));
        CHECK(same_weights(resumed, straight));
        CHECK(dir.files() == std::vector<std::string>{"run"});
        resumed_from_two += out.str().find("run: 2 of 3 epochs done") != std::string::npos;
    }
    // Killed early, the old checkpoint survives; killed late, the new one: both happened.
    CHECK(resumed_from_two > 0);
    CHECK(resumed_from_two < steps.size());
    MESSAGE(steps.size() << " kill points tried; every resumed run ended with the same weights");
}

TEST_CASE("resuming a checkpoint that has more epochs than the run asks for is refused") {
    // It would report 2 epochs with the weights of 3.
    const auto d = small_data();
    cnn::testing::TempDir dir;
    small_model(5, cnn::Adam({0.01f})).fit(d.x, d.y, options(3, dir / "run"));
    cnn::Sequential model = small_model(7, cnn::Adam({0.01f}));
    cnn::Sequential untouched = small_model(7, cnn::Adam({0.01f}));
    CHECK_THROWS_WITH_AS(model.fit(d.x, d.y, options(2, dir / "run", true)),
                         doctest::Contains("it holds 3 completed epochs, more than the 2 this run "
                                           "asks for"),
                         std::invalid_argument);
    CHECK(same_weights(model, untouched));
    CHECK(cnn::read_checkpoint_progress(dir / "run").epoch == 3);  // left as it was
    // As many epochs as are done: nothing left to train, and that is no error.
    CHECK(model.fit(d.x, d.y, options(3, dir / "run", true)).loss.size() == 3);
}

TEST_CASE("a checkpoint folder that cannot be saved to is refused before the first epoch") {
    // Not after an epoch of training that is then lost.
    const auto d = small_data();
    cnn::testing::TempDir dir;
    write_text(dir / "a-file", "not a folder\n");
    fs::create_directory(dir / "notes");
    write_text(dir / "notes" / "todo.txt", "a learner's file\n");
    const std::vector<std::pair<fs::path, std::string>> unusable = {
        {dir / "a-file", "it exists and is not a directory"},
        {dir / "notes", "it holds 'todo.txt', which save_checkpoint did not write"},
        {dir / "a-file" / "run", "cannot create the directory to save checkpoint in"},
    };
    for (const auto& bad : unusable) {  // (CAPTURE needs a variable, not a structured binding)
        const fs::path& target = bad.first;
        const std::string& expected = bad.second;
        CAPTURE(target);
        cnn::Sequential model = small_model(7, cnn::Adam({0.01f}));
        cnn::Sequential untouched = small_model(7, cnn::Adam({0.01f}));
        CHECK_THROWS_WITH_AS(model.fit(d.x, d.y, options(1, target)),
                             doctest::Contains(expected.c_str()), cnn::DataError);
        CHECK(same_weights(model, untouched));  // not one step was taken
        // With --resume the folder must hold a checkpoint, or nothing at all.
        CHECK_THROWS_AS(model.fit(d.x, d.y, options(1, target, true)), cnn::DataError);
        CHECK(same_weights(model, untouched));
    }
    CHECK(dir.files().size() == 2);  // nothing left behind: a-file and notes
}

TEST_CASE("save_checkpoint refuses to replace a directory that holds more than a checkpoint") {
    cnn::testing::TempDir dir;
    cnn::Sequential model = small_model(5, cnn::Adam());
    const auto check_refused = [&](const fs::path& directory, const char* message) {
        CHECK_THROWS_WITH_AS(cnn::save_checkpoint(model, {}, directory), doctest::Contains(message),
                             cnn::DataError);
    };
    fs::create_directories(dir / "notes");
    write_text(dir / "notes" / "todo.txt", "keep me");
    check_refused(dir / "notes",
                  "refusing to replace it with a checkpoint: it holds 'todo.txt', which "
                  "save_checkpoint did not write");
    CHECK(read_text(dir / "notes" / "todo.txt") == "keep me");
    // Only what a checkpoint holds, but no checkpoint.txt: not a checkpoint either.
    fs::create_directories(dir / "half" / "weights");
    check_refused(dir / "half",
                  "refusing to replace it with a checkpoint: it holds no checkpoint.txt "
                  "written by save_checkpoint");
    // A checkpoint with a file of the learner's beside it: the file is not lost.
    cnn::save_checkpoint(model, {}, dir / "run");
    write_text(dir / "run" / "notes.txt", "keep me too");
    check_refused(dir / "run", "it holds 'notes.txt', which save_checkpoint did not write");
    CHECK(read_text(dir / "run" / "notes.txt") == "keep me too");
    fs::remove(dir / "run" / "notes.txt");
    cnn::save_checkpoint(model, {}, dir / "run");  // a checkpoint alone is replaced
    // A symbolic link, even to a checkpoint; a file.
    fs::create_directory_symlink("run", dir / "link");
    check_refused(dir / "link", "it is a symbolic link");
    write_text(dir / "file", "x");
    check_refused(dir / "file", "it exists and is not a directory");
}

TEST_CASE(
    "a diverging run stops with a message about the learning rate and keeps its last good "
    "checkpoint") {
    const auto d = small_data();
    cnn::testing::TempDir dir;
    const fs::path checkpoint = dir / "run";
    // One good epoch, then the same run resumed with a learning rate no model survives: the
    // first step throws the weights to about 1e30 and the next loss overflows.
    cnn::Sequential good = small_model(5, cnn::Adam({0.01f}));
    good.fit(d.x, d.y, options(1, checkpoint));
    const std::string saved = read_text(checkpoint / "checkpoint.txt");

    cnn::Sequential wild = small_model(5, cnn::Adam({1e30f}));
    std::string message;
    try {
        wild.fit(d.x, d.y, options(4, checkpoint, true));
    } catch (const cnn::TrainingDiverged& error) {
        message = error.what();
    }
    CHECK(message.find("fit: the loss became ") == 0);
    CHECK(message.find(" at epoch 2, step ") != std::string::npos);
    CHECK(message.find("the learning rate (1e+30) is probably too high") != std::string::npos);
    CHECK(message.find("the last good checkpoint (epoch 1) is in " + checkpoint.string()) !=
          std::string::npos);

    // The checkpoint is the good epoch's, whole, and loads.
    CHECK(read_text(checkpoint / "checkpoint.txt") == saved);
    cnn::Sequential reloaded = small_model(8, cnn::Adam({0.01f}));
    CHECK(cnn::load_checkpoint(reloaded, checkpoint).epoch == 1);
    CHECK(same_weights(reloaded, good));

    // Without a checkpoint directory the message still names the cause.
    cnn::Sequential alone = small_model(5, cnn::Adam({1e30f}));
    CHECK_THROWS_WITH_AS(alone.fit(d.x, d.y, options(2)),
                         doctest::Contains("at epoch 1, step 2 of 3; the learning rate (1e+30) is "
                                           "probably too high"),
                         cnn::TrainingDiverged);
}

TEST_CASE("every input of the checkpoint fuzz corpus reads, or fails with a DataError naming it") {
    // tests/fuzz/corpus/checkpoint holds the seeds of fuzz_checkpoint: a first byte, then the
    // text of checkpoint.txt; an even first byte means the harness appends the checksum line
    // (tests/fuzz/fuzz_checkpoint.cpp), as done here. The seeds are real checkpoints, so they
    // must read: the fuzzer then starts from descriptions that pass every check.
    const fs::path corpus = fs::path(CNN_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "checkpoint";
    std::size_t inputs = 0, read = 0;
    for (const fs::directory_entry& entry : fs::directory_iterator(corpus)) {
        CAPTURE(entry.path());
        ++inputs;
        const std::string bytes = read_text(entry.path());
        REQUIRE_FALSE(bytes.empty());
        std::string text = bytes.substr(1);
        if (bytes[0] % 2 == 0) {
            text += "checksum " + cnn::sha256_of_text(text) + "\n";
        }
        cnn::testing::TempDir dir;
        write_text(dir / cnn::checkpoint_file, text);
        try {
            const cnn::CheckpointDescription d = cnn::read_checkpoint_description(dir.path());
            CHECK(d.progress.history.loss.size() == d.progress.epoch);
            ++read;
        } catch (const cnn::DataError& e) {
            CHECK(std::string(e.what()).find(cnn::checkpoint_file) != std::string::npos);
        }
    }
    CHECK(inputs >= 3);
    CHECK(read == inputs);
}
