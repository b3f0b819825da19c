// Chapter 12: beyond the book. The models the book trained, carried out to the frameworks
// everyone uses, and back.
//
//   1. ONNX: the seed model (chapter 06), the ResNet (chapter 08) and a tour of every layer,
//      written as ONNX models through ONNX's own classes and checked by ONNX's checker.
//   2. ONNX Runtime: the same predictions from the exported files (onnxruntime-node, run by
//      Node.js), on the first test images.
//   3. PyTorch, both ways: the same networks as torch.nn modules load the library's weights
//      and predict the same; weights trained further in PyTorch load back into the library and
//      predict the same there.
//   4. Distributed training: one epoch of PyTorch's DistributedDataParallel, two processes,
//      starting from the library's weights; the library measures the accuracy before and after.
//
// Run: ch12_beyond_the_book [--quick] [--out DIR] [--seed N] [--data DIR] [--only N]
//                           [--epochs N] [--seed-weights DIR] [--resnet-weights DIR]
//                           [--keep-inputs DIR] [--python PATH] [--node PATH]

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include "cnn/interop/layer_tour.hpp"
#include "cnn/interop/onnx_export.hpp"
#include "cnn/model/batches.hpp"
#include "cnn/model/resnet.hpp"
#include "cnn/model/zoo.hpp"
#include "cnn/optim/adam.hpp"
#include "cnn/tensor/random.hpp"
#include "support/app/program.hpp"
#include "support/app/python.hpp"
#include "support/io/atomic_file.hpp"
#include "support/io/dataset.hpp"
#include "support/io/npy.hpp"
#include "support/io/onnx_file.hpp"
#include "support/io/weights.hpp"

namespace {

namespace fs = std::filesystem;
using cnn::Tensor2;
using cnn::Tensor4;

struct Budget {
    std::size_t train = 60000;       // training images (the library's and PyTorch's training)
    std::size_t compare = 1000;      // test images every framework predicts
    std::size_t test = 10000;        // test images for the accuracy before and after DDP
    std::size_t seed_epochs = 2;     // the seed model's training in the library
    std::size_t resnet_epochs = 1;   // the ResNet's
    std::size_t torch_steps = 100;   // steps of training in PyTorch (section 3)
};

// The largest difference between two logits allowed anywhere: float32 sums in another order
// differ in the sixth or seventh digit, a wrong layout in the first.
constexpr double tolerance = 1e-4;

// PyTorch's training (sections 3 and 4): Adam, gently, from the library's trained weights.
constexpr std::size_t torch_batch = 64;
constexpr double torch_learning_rate = 1e-4;
constexpr std::size_t ddp_processes = 2;

// The tools this chapter runs, and where they are.
struct Tools {
    std::string python = "/usr/bin/python3";
    std::string node = CNN_NODE;  // the Node.js the build found
    fs::path scripts = CNN_CHAPTER_DIR;      // torch_interop.py, run_onnx.js
    fs::path node_modules = CNN_NODE_MODULES;  // onnxruntime-node, installed by the build
};

// The folder for the files handed to the other frameworks (images, labels, their outputs):
// `keep`, when given (--keep-inputs), so that a reader can run the scripts by hand on them;
// otherwise a temporary folder, removed when the program ends.
class Scratch {
public:
    explicit Scratch(const std::optional<fs::path>& keep) : removed_(!keep) {
        if (keep) {
            fs::create_directories(*keep);
            path_ = *keep;
            return;
        }
        std::string pattern = (fs::temp_directory_path() / "ch12-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("cannot make a scratch folder in " + fs::temp_directory_path().string());
        }
        path_ = pattern;
    }
    ~Scratch() {
        if (removed_) {
            std::error_code ignored;
            fs::remove_all(path_, ignored);
        }
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
    bool removed_ = true;
};

struct Data {
    cnn::Dataset train, test;
};

Data load_data(const cnn::ProgramOptions& options, const Budget& budget) {
    const fs::path dir = cnn::find_data_directory(options.data, options.quick);
    Data data{cnn::load_split(dir, cnn::Split::train, budget.train),
              cnn::load_split(dir, cnn::Split::test, std::max(budget.test, budget.compare))};
    cnn::require_images(data.train, budget.train);
    cnn::require_images(data.test, std::max(budget.test, budget.compare));
    std::cout << fmt::format("data: {} training images, {} test images\n\n", data.train.labels.size(),
                             data.test.labels.size());
    return data;
}

Tensor4 first_images(const cnn::Dataset& data, std::size_t n) {
    return xt::view(data.images, xt::range(0, n), xt::all(), xt::all(), xt::all());
}

// The model's logits (N, K) for x, in inference mode, 250 images at a time.
Tensor2 logits_of(cnn::Model& model, const Tensor4& x) {
    Tensor2 all;
    for (const std::vector<std::size_t>& batch : cnn::ordered_batches(x.shape(0), 250)) {
        const Tensor4 y = model.forward(cnn::take_examples(x, batch), false, false);  // (n, K, 1, 1)
        if (all.size() == 0) {
            all = Tensor2::from_shape({x.shape(0), y.shape(1)});
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            for (std::size_t k = 0; k < y.shape(1); ++k) {
                all(batch[i], k) = y(i, k, 0, 0);
            }
        }
    }
    return all;
}

void save_images(const fs::path& file, const Tensor4& x) {
    cnn::write_npy(file, x.data(), {x.shape(0), x.shape(1), x.shape(2), x.shape(3)});
}

// The training images and labels as .npy files, for PyTorch (labels as float32 class numbers).
void save_training_data(const Data& data, const fs::path& images, const fs::path& labels) {
    save_images(images, data.train.images);
    const std::vector<float> y(data.train.labels.begin(), data.train.labels.end());
    cnn::write_npy(labels, y.data(), {y.size()});
}

// How closely another framework's logits agree with ours.
struct Agreement {
    std::size_t images = 0;
    std::size_t same_class = 0;       // images whose most likely class is the same
    double max_logit_difference = 0;  // the largest |ours - theirs| over every logit
};

Agreement compare(const Tensor2& ours, const cnn::NpyArray& theirs, const std::string& who) {
    if (theirs.shape != std::vector<std::size_t>{ours.shape(0), ours.shape(1)}) {
        throw std::runtime_error(fmt::format("{} returned logits of shape ({}), expected ({}, {})", who,
                                             fmt::join(theirs.shape, ", "), ours.shape(0), ours.shape(1)));
    }
    Agreement a;
    a.images = ours.shape(0);
    const std::size_t k = ours.shape(1);
    for (std::size_t n = 0; n < a.images; ++n) {
        const float* row = theirs.data.data() + n * k;
        std::size_t ours_best = 0, theirs_best = 0;
        for (std::size_t j = 0; j < k; ++j) {
            a.max_logit_difference = std::max(a.max_logit_difference, std::abs(double{ours(n, j)} - row[j]));
            ours_best = ours(n, j) > ours(n, ours_best) ? j : ours_best;
            theirs_best = row[j] > row[theirs_best] ? j : theirs_best;
        }
        a.same_class += ours_best == theirs_best ? 1 : 0;
    }
    return a;
}

// One row of an agreement table; throws when the two disagree, so that a wrong export or a
// wrong weight layout fails the program (and its test) rather than print a bad row.
std::string agreement_row(const std::string& what, const Agreement& a) {
    if (a.same_class != a.images || a.max_logit_difference > tolerance) {
        throw std::runtime_error(fmt::format("{}: {} of {} images with the same class, largest logit difference {:.3g} "
                                             "(allowed {:g})",
                                             what, a.same_class, a.images, a.max_logit_difference, tolerance));
    }
    return fmt::format("{:<34} {:>6} {:>10} {:>14.2e}", what, a.images, a.same_class, a.max_logit_difference);
}

// The models of this chapter, trained in the library (or loaded from an earlier chapter's run).
struct Models {
    cnn::Sequential seed;
    cnn::Graph resnet;
    cnn::Graph tour;
};

void train(cnn::Model& model, const Data& data, std::size_t epochs, const std::string& name) {
    model.compile(cnn::Adam(), "sparse_categorical_crossentropy", {"accuracy"});
    cnn::FitOptions fit;
    fit.epochs = epochs;
    fit.batch_size = 64;
    fit.verbose = cnn::Verbosity::epoch_line;
    std::cout << fmt::format("training the {} for {} epoch{} on {} images\n", name, epochs, epochs == 1 ? "" : "s",
                             data.train.labels.size());
    model.fit(data.train.images, data.train.labels, fit);
}

Models make_models(const Data& data, const Budget& budget, std::uint64_t seed, bool needs_resnet,
                   const std::optional<fs::path>& seed_weights, const std::optional<fs::path>& resnet_weights) {
    Models m{cnn::seed_model(seed), cnn::resnet_model(seed), cnn::layer_tour_model(seed)};
    if (seed_weights) {
        cnn::load_weights(m.seed.weights(), *seed_weights);
        std::cout << "the seed model's weights: " << seed_weights->filename().string() << '\n';
    } else {
        train(m.seed, data, budget.seed_epochs, "seed model");
    }
    if (!needs_resnet) {
        // section 4 alone: the ResNet is not used
    } else if (resnet_weights) {
        cnn::load_weights(m.resnet.weights(), *resnet_weights);
        std::cout << "the ResNet's weights: " << resnet_weights->filename().string() << '\n';
    } else {
        train(m.resnet, data, budget.resnet_epochs, "ResNet");
    }
    std::cout << '\n';
    return m;
}

// ---------------------------------------------------------------------------------------------
// 1. ONNX

// One node per line, as a reader of the file would list them: the operator, what it reads,
// what it writes, and its attributes.
void print_graph(const onnx::ModelProto& proto, const fs::path& file) {
    cnn::Transcript text(file);
    for (const onnx::NodeProto& n : proto.graph().node()) {
        std::vector<std::string> attributes;
        for (const onnx::AttributeProto& a : n.attribute()) {
            if (a.type() == onnx::AttributeProto::INTS) {
                attributes.push_back(fmt::format("{}={}", a.name(), fmt::join(a.ints(), ",")));
            } else if (a.type() == onnx::AttributeProto::INT) {
                attributes.push_back(fmt::format("{}={}", a.name(), a.i()));
            } else if (a.type() == onnx::AttributeProto::FLOAT) {
                attributes.push_back(fmt::format("{}={:g}", a.name(), a.f()));
            } else if (a.type() == onnx::AttributeProto::STRING) {
                attributes.push_back(fmt::format("{}={}", a.name(), a.s()));
            }
        }
        text.line(fmt::format("{:<18} {} -> {}", n.op_type(), fmt::join(n.input(), ", "), n.output(0)));
        if (!attributes.empty()) {
            text.line(fmt::format("{:<18}   {}", "", fmt::join(attributes, "  ")));
        }
    }
    text.save();
}

// The first `count` nodes of the graph as a Graphviz drawing, top to bottom: each node an
// operator with the value it writes, each edge a value read, with its inferred shape; weights
// (initializers) are left out, so that the data's path shows.
void draw_graph(const onnx::ModelProto& proto, std::size_t count, const fs::path& file) {
    std::map<std::string, std::string> writer;  // value -> the node that writes it
    std::string dot = "digraph onnx {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", "
                      "fillcolor=\"#dbe9f6\", fontname=Helvetica, fontsize=11];\n  edge [fontname=Helvetica, "
                      "fontsize=9];\n  input [label=\"input\", fillcolor=\"#eeeeee\"];\n";
    writer["input"] = "input";
    const auto shape_of = [&](const std::string& value) {
        std::vector<std::string> dims;
        for (const std::int64_t d : cnn::onnx_value_shape(proto, value)) {
            dims.push_back(d < 0 ? "N" : std::to_string(d));
        }
        return fmt::format("{}", fmt::join(dims, "x"));
    };
    for (std::size_t i = 0; i < count && i < static_cast<std::size_t>(proto.graph().node_size()); ++i) {
        const onnx::NodeProto& n = proto.graph().node(static_cast<int>(i));
        const std::string id = fmt::format("n{}", i);
        dot += fmt::format("  {} [label=\"{}\\n{}\"];\n", id, n.op_type(), n.output(0));
        for (const std::string& in : n.input()) {
            const auto from = writer.find(in);
            if (from != writer.end()) {  // a value, not a weight
                dot += fmt::format("  {} -> {} [label=\" {}\"];\n", from->second, id, shape_of(in));
            }
        }
        writer[n.output(0)] = id;
    }
    cnn::write_file_atomically(file, dot + "}\n");
}

std::string shape_text(const std::vector<std::int64_t>& dims) {
    std::vector<std::string> parts;
    for (const std::int64_t d : dims) {
        parts.push_back(d < 0 ? "N" : std::to_string(d));
    }
    return "(" + fmt::format("{}", fmt::join(parts, ", ")) + ")";
}

onnx::ModelProto write_onnx(cnn::Model& model, const fs::path& file) {
    //! [export]
    onnx::ModelProto proto = cnn::to_onnx(model);
    cnn::save_onnx(proto, file);  // check_onnx() first: ONNX's checker and shape inference
    //! [export]
    return proto;
}

void export_models(Models& m, const fs::path& out) {
    cnn::Transcript table(out / "ch12_operators.txt");
    table.line(fmt::format("{:<24} {}", "layer", "ONNX operators"));
    for (const cnn::OnnxMapping& row : cnn::onnx_operators()) {
        table.line(fmt::format("{:<24} {}", row.layer, row.operators));
    }
    table.save();
    std::cout << '\n';

    cnn::Transcript text(out / "ch12_export.txt");
    text.line(fmt::format("{:<12} {:>7} {:>6} {:>13} {:>11}  {:<14} {}", "model", "layers", "nodes", "initializers",
                          "file bytes", "checker", "output"));
    const auto write = [&](cnn::Model& model, const std::string& name) {
        const fs::path file = out / ("ch12_" + name + ".onnx");
        const onnx::ModelProto proto = write_onnx(model, file);
        const std::string output = proto.graph().output_size() == 2 ? "logits" : "output";
        text.line(fmt::format("{:<12} {:>7} {:>6} {:>13} {:>11}  {:<14} {} {}", name, model.calls().size(),
                              proto.graph().node_size(), proto.graph().initializer_size(),
                              cnn::thousands(fs::file_size(file)), "passed", output,
                              shape_text(cnn::onnx_value_shape(proto, output))));
        return proto;
    };
    const onnx::ModelProto seed = write(m.seed, "seed");
    const onnx::ModelProto resnet = write(m.resnet, "resnet");
    write(m.tour, "layer_tour");
    text.save();
    print_graph(seed, out / "ch12_seed_graph.txt");
    // The ResNet's stem and first residual block: the fan-out of the shortcut, the Add.
    draw_graph(resnet, 10, out / "ch12_resnet_graph.dot");
}

// ---------------------------------------------------------------------------------------------
// 2. ONNX Runtime

// What every framework is handed, written once for all sections: the first test images, the
// models' weights in the library's format and the training data as .npy files, and the
// library's own logits on those images, which every comparison reads.
struct Handoff {
    fs::path images;                       // the first budget.compare test images (.npy)
    Tensor2 seed_logits, resnet_logits;    // the library's logits for them
    fs::path seed_weights, resnet_weights;  // save_weights() folders, in --out for the reader
    fs::path train_images, train_labels;    // the training data (.npy)
};

Handoff hand_off(Models& m, const Data& data, const Budget& budget, const cnn::ProgramOptions& options,
                 const fs::path& scratch) {
    const bool compares = options.wants(2) || options.wants(3);  // sections that compare logits
    const bool trains = options.wants(3) || options.wants(4);    // sections where PyTorch trains
    Handoff h{scratch / "test_images.npy", {}, {}, options.out / "ch12_seed_weights",
              options.out / "ch12_resnet_weights", scratch / "train_images.npy", scratch / "train_labels.npy"};
    if (compares) {
        const Tensor4 x = first_images(data.test, budget.compare);
        save_images(h.images, x);
        h.seed_logits = logits_of(m.seed, x);
        h.resnet_logits = logits_of(m.resnet, x);
    }
    if (trains) {
        save_training_data(data, h.train_images, h.train_labels);
    }
    if (trains) {
        //! [save_for_pytorch]
        cnn::save_weights(m.seed.weights(), h.seed_weights);  // manifest.txt and one .npy per tensor
        //! [save_for_pytorch]
    }
    if (options.wants(3)) {
        cnn::save_weights(m.resnet.weights(), h.resnet_weights);
    }
    return h;
}

Agreement run_in_onnxruntime(const fs::path& onnx_file, const fs::path& images, const Tensor2& ours,
                             const Tools& tools, const fs::path& scratch, const std::string& name,
                             std::string& version) {
    //! [onnxruntime]
    const cnn::PythonFigures ran =
        cnn::run_tool({tools.node, (tools.scripts / "run_onnx.js").string(), onnx_file.string(), images.string(),
                       (scratch / (name + "_ort_")).string()},
                      600, {"NODE_PATH=" + tools.node_modules.string()});
    const cnn::NpyArray theirs = cnn::read_npy(scratch / (name + "_ort_logits.npy"));
    //! [onnxruntime]
    version = ran.text("onnxruntime_version");
    return compare(ours, theirs, "ONNX Runtime");
}

void onnxruntime_section(Models& m, const Handoff& h, const Budget& budget, const Tools& tools,
                         const fs::path& scratch, const fs::path& out, std::uint64_t seed) {
    cnn::Transcript text(out / "ch12_onnxruntime.txt");
    cnn::Rng rng(seed);
    const cnn::Shape& tour_shape = m.tour.input_shape();  // (2, 12, 10)
    Tensor4 tour_x = Tensor4::from_shape({budget.compare, tour_shape[0], tour_shape[1], tour_shape[2]});
    for (float& v : tour_x) {
        v = rng.normal();
    }
    const fs::path tour_images = scratch / "tour_images.npy";
    save_images(tour_images, tour_x);
    std::string version;
    const std::vector<std::string> rows = {
        agreement_row("seed model, test images", run_in_onnxruntime(out / "ch12_seed.onnx", h.images, h.seed_logits,
                                                                     tools, scratch, "seed", version)),
        agreement_row("ResNet, test images", run_in_onnxruntime(out / "ch12_resnet.onnx", h.images, h.resnet_logits,
                                                                 tools, scratch, "resnet", version)),
        agreement_row("layer tour, random inputs",
                      run_in_onnxruntime(out / "ch12_layer_tour.onnx", tour_images, logits_of(m.tour, tour_x), tools,
                                         scratch, "tour", version))};
    text.line(fmt::format("ONNX Runtime {} (onnxruntime-node) against this library, logits compared:", version));
    text.line(fmt::format("{:<34} {:>6} {:>10} {:>14}", "model, inputs", "images", "same class", "largest |diff|"));
    for (const std::string& row : rows) {
        text.line(row);
    }
    text.save();
}

// ---------------------------------------------------------------------------------------------
// 3. PyTorch, both ways

std::vector<std::string> torch_command(const Tools& tools, const std::vector<std::string>& arguments) {
    std::vector<std::string> command = {tools.python, (tools.scripts / "torch_interop.py").string()};
    command.insert(command.end(), arguments.begin(), arguments.end());
    return command;
}

Agreement predict_in_pytorch(const std::string& name, const fs::path& weights, const Handoff& h,
                             const Tensor2& ours, const Tools& tools, const fs::path& scratch,
                             std::string& version) {
    //! [to_pytorch]
    const fs::path logits = scratch / (name + "_torch_logits.npy");
    const cnn::PythonFigures ran = cnn::run_tool(
        torch_command(tools, {"predict", "--model", name, "--weights", weights.string(), "--images",
                              h.images.string(), "--logits", logits.string()}),
        1800);
    //! [to_pytorch]
    version = ran.text("torch_version");
    return compare(ours, cnn::read_npy(logits), "PyTorch");
}

void pytorch_section(const Data& data, const Handoff& h, const Budget& budget, const Tools& tools,
                     const fs::path& scratch, const fs::path& out, std::uint64_t seed) {
    cnn::Transcript text(out / "ch12_pytorch.txt");
    std::string version;
    std::vector<std::string> rows;
    rows.push_back(agreement_row("seed model -> PyTorch", predict_in_pytorch("seed", h.seed_weights, h, h.seed_logits,
                                                                             tools, scratch, version)));
    rows.push_back(agreement_row("ResNet -> PyTorch", predict_in_pytorch("resnet", h.resnet_weights, h,
                                                                         h.resnet_logits, tools, scratch, version)));

    // The other way: PyTorch trains the seed model further and saves the library's format.
    const fs::path trained = out / "ch12_torch_trained_weights";
    const fs::path logits = scratch / "seed_trained_logits.npy";
    //! [from_pytorch]
    const cnn::PythonFigures ran = cnn::run_tool(
        torch_command(tools, {"train", "--model", "seed", "--weights", h.seed_weights.string(), "--train-images",
                              h.train_images.string(), "--train-labels", h.train_labels.string(), "--steps",
                              std::to_string(budget.torch_steps), "--batch", std::to_string(torch_batch),
                              "--learning-rate", fmt::format("{:g}", torch_learning_rate), "--save", trained.string(),
                              "--images", h.images.string(), "--logits", logits.string(), "--seed",
                              std::to_string(seed)}),
        1800);
    cnn::Sequential back = cnn::seed_model(seed + 1);  // other weights, until they are loaded
    cnn::load_weights(back.weights(), trained);
    //! [from_pytorch]
    const Tensor2 ours = logits_of(back, first_images(data.test, budget.compare));
    rows.push_back(agreement_row("PyTorch-trained -> seed model",
                                 compare(ours, cnn::read_npy(logits), "the library, with PyTorch's weights")));
    text.line(fmt::format("PyTorch {} against this library, logits compared on the first {} test images:", version,
                          budget.compare));
    text.line(fmt::format("{:<34} {:>6} {:>10} {:>14}", "direction", "images", "same class", "largest |diff|"));
    for (const std::string& row : rows) {
        text.line(row);
    }
    text.line(fmt::format("PyTorch's {} steps of Adam (batch {}, learning rate {:g}) moved the", budget.torch_steps,
                          torch_batch, torch_learning_rate));
    text.line(fmt::format("training loss from {:.4f} to {:.4f}", ran.figure("first_loss"), ran.figure("last_loss")));
    text.save();
}

// ---------------------------------------------------------------------------------------------
// 4. Distributed training

void distributed_section(Models& m, const Data& data, const Handoff& h, const Budget& budget, const Tools& tools,
                         const fs::path& out, std::uint64_t seed) {
    cnn::Transcript text(out / "ch12_distributed.txt");
    const Tensor4 test_x = first_images(data.test, budget.test);
    const cnn::Labels test_y(data.test.labels.begin(), data.test.labels.begin() + static_cast<std::ptrdiff_t>(budget.test));
    m.seed.compile(cnn::Adam(), "sparse_categorical_crossentropy", {"accuracy"});
    const cnn::Evaluation before = m.seed.evaluate(test_x, test_y);
    const fs::path trained = out / "ch12_ddp_weights";
    //! [ddp]
    const cnn::PythonFigures ran = cnn::run_tool(
        torch_command(tools, {"ddp", "--model", "seed", "--weights", h.seed_weights.string(), "--train-images",
                              h.train_images.string(), "--train-labels", h.train_labels.string(), "--save",
                              trained.string(), "--processes", std::to_string(ddp_processes), "--batch",
                              std::to_string(torch_batch), "--learning-rate", fmt::format("{:g}", torch_learning_rate),
                              "--seed", std::to_string(seed)}),
        7200);
    cnn::Sequential after_ddp = cnn::seed_model(seed + 1);
    cnn::load_weights(after_ddp.weights(), trained);
    after_ddp.compile(cnn::Adam(), "sparse_categorical_crossentropy", {"accuracy"});
    const cnn::Evaluation after = after_ddp.evaluate(test_x, test_y);
    //! [ddp]
    text.line(fmt::format("DistributedDataParallel, {} processes (gloo), one epoch of {:.0f} training images:",
                          ddp_processes, ran.figure("ddp_images")));
    text.line(fmt::format("  global batch {} ({} per process), Adam at {:g}, {:.0f} steps per process", torch_batch,
                          torch_batch / ddp_processes, torch_learning_rate, ran.figure("ddp_batches_per_process")));
    text.line(fmt::format("  mean training loss {:.4f}, {:.0f} s ({:.0f} images/s)", ran.figure("ddp_mean_loss"),
                          ran.figure("ddp_seconds"), ran.figure("ddp_images") / ran.figure("ddp_seconds")));
    text.line(fmt::format("test accuracy on {} images, measured by this library:", budget.test));
    text.line(fmt::format("  before {:.4f} (loss {:.4f})", before.accuracy, before.loss));
    text.line(fmt::format("  after  {:.4f} (loss {:.4f})", after.accuracy, after.loss));
    text.save();
}

}  // namespace

int main(int argc, char** argv) {
    cnn::Program program("ch12_beyond_the_book",
                         "Chapter 12: beyond the book: ONNX export, ONNX Runtime, PyTorch both ways, distributed "
                         "training",
                         cnn::ReadsData::yes, cnn::Engines::fast);
    program.sections(4);
    std::size_t epochs = 0;
    std::optional<fs::path> seed_weights, resnet_weights, keep_inputs;
    Tools tools;
    program
        .option("--epochs", epochs,
                "Epochs of the seed model in the library (default 2, or 1 with --quick)")
        .within(1, 1000);
    program
        .option("--seed-weights", seed_weights,
                "The seed model's weights from an earlier run (chapter 06's ch06_weights with "
                "--model seed); "
                "without it the seed model trains")
        .existing_folder();
    program
        .option("--resnet-weights", resnet_weights,
                "The ResNet's weights; without it the ResNet trains")
        .existing_folder();
    program.option(
        "--keep-inputs", keep_inputs,
        "Keep the files handed to PyTorch and ONNX Runtime (images, labels, their outputs) in "
        "this folder, to run the scripts by hand");
    program.option("--python", tools.python, "The Python that has PyTorch").show_default();
    program.option("--node", tools.node, "Node.js, which runs ONNX Runtime").show_default();
    return program.run(argc, argv, [&](const cnn::ProgramOptions& options) {
        Budget budget;
        if (options.quick) {  // the committed sample: seconds
            budget = {512, 64, 256, 1, 1, 3};
        }
        budget.seed_epochs = epochs > 0 ? epochs : budget.seed_epochs;
        const fs::path& out = options.out;
        const Data data = load_data(options, budget);
        const bool needs_resnet = options.wants(1) || options.wants(2) || options.wants(3);
        Models models = make_models(data, budget, options.seed, needs_resnet, seed_weights, resnet_weights);
        const Scratch scratch(keep_inputs);
        const Handoff handoff = hand_off(models, data, budget, options, scratch.path());
        if (options.wants(1) || options.wants(2)) {
            std::cout << "== 1. ONNX ==\n\n";
            export_models(models, out);
        }
        if (options.wants(2)) {
            std::cout << "\n== 2. ONNX Runtime ==\n\n";
            onnxruntime_section(models, handoff, budget, tools, scratch.path(), out, options.seed);
        }
        if (options.wants(3)) {
            std::cout << "\n== 3. PyTorch, both ways ==\n\n";
            pytorch_section(data, handoff, budget, tools, scratch.path(), out, options.seed);
        }
        if (options.wants(4)) {
            std::cout << "\n== 4. Distributed training ==\n\n";
            distributed_section(models, data, handoff, budget, tools, out, options.seed);
        }
        std::cout << "\nplots and tables written to " << out.filename().string() << '\n';
    });
}
