// Runs inside one page of the textbook site that headless Chromium opened for
// CheckBrowser.cmake. It waits until the page has loaded and MathJax has typeset it, looks at
// the page as the browser shows it, and writes what it found into a <pre id="browser-check">
// at the end of the page, which Chromium's --dump-dom hands back to CheckBrowser.cmake:
//   checked: 14 formulas, 5 images, 2 previous/next bars
//   problem: raw TeX left in the text: ...see \f$x\f$ here...
//   image: ch01_parameters.png
//   end
// window.cnnBrowserCheck, written by CheckBrowser.cmake before this script, says where the
// page's previous/next bars must lead: { previous: "chapter01.html", next: "chapter03.html" }
// ("" for no link), or null for a page without bars (the main page).
(function () {
  "use strict";
  var problems = [];
  var loadErrors = [];
  var done = false;

  function excerpt(text, at, length) {
    var from = Math.max(0, at - 40);
    var to = Math.min(text.length, at + length + 40);
    return "..." + text.slice(from, to).replace(/\s+/g, " ") + "...";
  }

  // A script or style sheet of the page that does not load (images are checked below): the
  // error event does not bubble, so it is caught on its way down to the element.
  window.addEventListener("error", function (event) {
    var element = event.target;
    if (element && (element.nodeName === "SCRIPT" || element.nodeName === "LINK")) {
      loadErrors.push(element.getAttribute("src") || element.getAttribute("href"));
    }
  }, true);

  // MathJax reads this object when MathJax.js arrives; it reports files it fails to load.
  window.MathJax = {
    AuthorInit: function () {
      MathJax.Hub.Register.MessageHook("file load error", function (message) {
        problems.push("MathJax could not load " + message[1]);
      });
    }
  };

  // Formulas: every formula MathJax found must have been typeset without an error.
  // MathJax 2 marks a TeX error (unknown command, missing brace) with an element of class
  // "merror" inside the typeset formula, and a failure of its own with "MathJax_Error".
  function checkMath() {
    var formulas = MathJax.Hub.getAllJax();
    formulas.forEach(function (jax) {
      var shown = document.getElementById(jax.inputID + "-Frame");
      if (!shown) {
        problems.push("formula not typeset: " + jax.originalText);
      } else if (shown.querySelector(".merror")) {
        problems.push("MathJax error \"" + shown.querySelector(".merror").textContent +
                      "\" in the formula " + jax.originalText.trim());
      }
    });
    document.querySelectorAll(".MathJax_Error").forEach(function (error) {
      var source = error.nextElementSibling;
      problems.push("MathJax error \"" + error.textContent + "\"" +
                    (source && source.type && source.type.indexOf("math/tex") === 0
                       ? " in the formula " + source.textContent.trim() : ""));
    });
    return formulas.length;
  }

  // Raw TeX: the text a reader sees must hold no TeX once MathJax is done. Code, program output
  // and the formulas' own sources are not prose and are skipped, and so are the typeset
  // formulas, whose errors checkMath reports.
  // Looked for: Doxygen's formula commands (\f$ \f[ \f] \f{ \f}) that Doxygen did not turn into
  // formulas, MathJax's delimiters \( \) \[ \] left untypeset, $$, and any TeX command (\frac).
  // \f$ and friends, \( \[, $$, a TeX command, or $x$: a formula written with single dollars,
  // which neither Doxygen nor this site's MathJax reads.
  var RAW_TEX = /\\f[$\[\]{}]|\\[()\[\]]|\$\$|\\[A-Za-z]+|\$[^$\s][^$]*\$/;
  var NOT_PROSE = { SCRIPT: 1, STYLE: 1, NOSCRIPT: 1, TEXTAREA: 1, PRE: 1, CODE: 1 };
  var NOT_PROSE_CLASSES = ["fragment", "MathJax", "MathJax_Display", "MathJax_Error"];
  function checkRawTeX() {
    var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ALL, {
      acceptNode: function (node) {
        if (node.nodeType === Node.ELEMENT_NODE) {
          var skip = NOT_PROSE[node.nodeName] || NOT_PROSE_CLASSES.some(function (name) {
            return node.classList.contains(name);
          });
          return skip ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_SKIP;
        }
        return node.nodeType === Node.TEXT_NODE ? NodeFilter.FILTER_ACCEPT
                                                 : NodeFilter.FILTER_SKIP;
      }
    });
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      var found = RAW_TEX.exec(node.nodeValue);
      if (found) {
        problems.push("raw TeX left in the text: " +
                      excerpt(node.nodeValue, found.index, found[0].length));
      }
    }
  }

  // Images: by now the page has loaded, so an image the browser could not show (a missing file,
  // or one that is not a picture) has no width. A picture cut short still has one (the browser
  // draws what arrived), so the page's own image files are listed for CheckBrowser.cmake to
  // check that each is whole.
  var files = [];
  function checkImages() {
    var images = Array.prototype.slice.call(document.images);
    images.forEach(function (image) {
      var source = image.getAttribute("src") || "";
      if (!image.complete || image.naturalWidth === 0) {
        problems.push("broken image: " + (source || "(no src)"));
      } else if (source && !/^[a-z]+:/i.test(source) && files.indexOf(source) === -1) {
        files.push(source);
      }
    });
    return images.length;
  }

  // Widths, at the 1280-pixel window CheckBrowser.cmake opens: nothing in the text column may
  // need a horizontal scroll bar or stick out of the column (an output block, a code snippet,
  // a table or a displayed formula wider than its box; an image wider than the column), and
  // every image says what it shows in its alt text, for a reader who cannot see it.
  function describe(element) {
    var text = (element.textContent || "").replace(/\s+/g, " ").trim().slice(0, 50);
    return element.nodeName.toLowerCase() + (element.className ? "." + element.className.split(" ")[0] : "") +
           (text ? " \"" + text + "...\"" : "");
  }
  function checkWidths() {
    var column = document.querySelector("div.textblock");
    if (!column) {
      return;
    }
    var right = column.getBoundingClientRect().right + 1;
    var boxes = column.querySelectorAll("pre.fragment, div.fragment, table, .MathJax_Display");
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.scrollWidth > box.clientWidth + 1 || box.getBoundingClientRect().right > right) {
        problems.push("wider than the text column: " + describe(box));
      }
    });
    Array.prototype.forEach.call(column.querySelectorAll("img"), function (image) {
      var source = image.getAttribute("src") || "";
      var alt = (image.getAttribute("alt") || "").trim();
      if (image.getBoundingClientRect().right > right) {
        problems.push("image wider than the text column: " + source);
      }
      if (alt === "" || alt === source) {
        problems.push("image without alt text: " + source);
      }
    });
  }

  // Previous/next bars: one above the page's content and one below it, both shown, each with
  // the links the book's order asks for.
  function checkNavigation(expected) {
    var bars = Array.prototype.slice.call(document.querySelectorAll("div.booknav"));
    if (!expected) {
      return bars.length;
    }
    if (bars.length !== 2) {
      problems.push(bars.length + " previous/next bars, expected 2 (top and bottom)");
    }
    // The page's text (the table of contents beside it and empty anchor paragraphs aside).
    var content = Array.prototype.filter.call(
      document.querySelectorAll(".textblock :is(p, h1, h2, h3, h4, pre, table, img, .fragment)"),
      function (element) {
        return !element.closest("div.booknav") &&
               (element.nodeName === "IMG" || element.textContent.trim() !== "");
      });
    if (bars.length > 0 && content.length > 0) {
      var first = bars[0], last = bars[bars.length - 1];
      if (first.compareDocumentPosition(content[0]) & Node.DOCUMENT_POSITION_PRECEDING) {
        problems.push("no previous/next bar above the page's content");
      }
      if (bars.length < 2 ||
          last.compareDocumentPosition(content[content.length - 1]) &
              Node.DOCUMENT_POSITION_FOLLOWING) {
        problems.push("no previous/next bar below the page's content");
      }
    }
    bars.forEach(function (bar, i) {
      var where = i === 0 ? "top" : i === bars.length - 1 ? "bottom" : "middle";
      var box = bar.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || getComputedStyle(bar).visibility !== "visible") {
        problems.push("the " + where + " previous/next bar is not shown");
      }
      [["previous", ".booknav-prev a[href]"], ["next", ".booknav-next a[href]"]].forEach(
        function (link) {
          var want = expected[link[0]];
          var anchor = bar.querySelector(link[1]);
          if (!want) {
            return;
          }
          if (!anchor) {
            problems.push("the " + where + " bar has no " + link[0] + " link (to " + want + ")");
          } else if (anchor.getAttribute("href") !== want) {
            problems.push("the " + where + " bar's " + link[0] + " link leads to " +
                          anchor.getAttribute("href") + ", not " + want);
          } else if (anchor.textContent.trim() === "") {
            problems.push("the " + where + " bar's " + link[0] + " link has no text");
          }
        });
    });
    return bars.length;
  }

  function finish(reason) {
    if (done) {
      return;
    }
    done = true;
    var formulas = 0;
    if (reason) {
      problems.push(reason);
    } else {
      formulas = checkMath();
    }
    checkRawTeX();
    checkWidths();
    var images = checkImages();
    var bars = checkNavigation(window.cnnBrowserCheck);
    loadErrors.forEach(function (file) { problems.push("could not load " + file); });
    var report = document.createElement("pre");
    report.id = "browser-check";
    report.textContent =
      "checked: " + formulas + " formulas, " + images + " images, " + bars +
      " previous/next bars\n" +
      problems.map(function (problem) {
        return "problem: " + problem.replace(/\s+/g, " ") + "\n";  // one line each
      }).join("") +
      files.map(function (file) { return "image: " + file + "\n"; }).join("") +
      "end\n";
    document.body.appendChild(report);
  }

  // MathJax.js arrives with the page (it delays the load event); its "End" signal comes once it
  // has typeset the whole page, at once when that has already happened.
  window.addEventListener("load", function () {
    if (!window.MathJax || !window.MathJax.Hub) {
      finish("MathJax did not load (is the site's mathjax folder there?)");
      return;
    }
    MathJax.Hub.Register.StartupHook("End", function () { finish(""); });
  });
  // CheckBrowser.cmake gives Chromium more virtual time than this.
  setTimeout(function () { finish("MathJax did not finish typesetting within 20 s"); }, 20000);
})();
