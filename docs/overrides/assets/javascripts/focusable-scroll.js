// A keyboard user can scroll a region only once it can take focus (axe's rule
// scrollable-region-focusable, WCAG 2.1.1). Material already does this for its own code
// blocks (pre > code, while they scroll; left to it here), and has no setting for the
// rest: the wrappers it puts around tables, display formulas (docs/hooks/render_math.py)
// and the notebook pages' code cells and outputs. They get tabindex="0" here, while they
// overflow. The table wrappers only exist once Material's script has run, hence a
// script, not markup.
(function () {
  var SCROLLERS = [
    ".md-typeset__scrollwrap",
    ".md-typeset math[display=block]",
    ".jupyter-wrapper .highlight-ipynb",
    ".jupyter-wrapper .jp-OutputArea-output pre",
  ].join(",");

  function update(element) {
    var overflows =
      element.scrollWidth > element.clientWidth || element.scrollHeight > element.clientHeight;
    if (overflows) {
      element.setAttribute("tabindex", "0");
    } else if (element.getAttribute("tabindex") === "0") {
      element.removeAttribute("tabindex");
    }
  }

  function mount() {
    var observer = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) { update(entry.target); });
    });
    document.querySelectorAll(SCROLLERS).forEach(function (element) {
      observer.observe(element);
    });
  }

  // document$ is Material's page-load signal: it fires after Material has wrapped the tables.
  window.document$.subscribe(mount);
})();
