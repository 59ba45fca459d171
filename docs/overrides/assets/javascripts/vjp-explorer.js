// The vᵀJ explorer of lesson 2. docs/hooks/vjp_explorer.py writes its form, its labels in
// the page's language and the rows of J that torch computed at each point of the grid.
// Here vᵀJ = v₁·row₁ + v₂·row₂ and J·u = u₁·col₁ + u₂·col₂ are formed from those numbers.
(function () {
  "use strict";
  var root = document.querySelector(".vjp-explorer");
  if (!root) return;
  var data = JSON.parse(root.querySelector(".vjp-data").textContent);
  var labels = data.labels;
  var NAMES = ["x1", "x2", "v1", "v2"];
  var SUB = { 1: "₁", 2: "₂" };
  var state = Object.assign({}, data.start);
  var columns = root.querySelector("#vjp-columns");
  var view = root.querySelector(".vjp-view");
  var result = root.querySelector(".vjp-result");
  var compare = root.querySelector(".vjp-compare");

  // At most 4 significant digits, a real minus sign, never "-0".
  function fmt(n) {
    var r = Number(n.toPrecision(4));
    return (r === 0 ? "0" : String(r)).replace(/-/g, "\u2212");
  }
  function vec(a) { return "(" + fmt(a[0]) + ", " + fmt(a[1]) + ")"; }
  function bracket(a) { return "[" + fmt(a[0]) + ", " + fmt(a[1]) + "]"; }
  function weight(w) { return w < 0 ? "(" + fmt(w) + ")" : fmt(w); }
  function fill(template, values) {
    return template.replace(/\{(\w*)\}/g, function (_, key) { return values[key || 0]; });
  }
  function h(tag, className, children) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    [].concat(children || []).forEach(function (child) {
      element.append(child instanceof Node ? child : String(child));
    });
    return element;
  }

  // x only on the grid (every 0.5), v anywhere in [−3, 3].
  function read(name) {
    var value = root.querySelector("#vjp-" + name + "-exact").valueAsNumber;
    if (!isFinite(value)) return state[name];
    value = Math.min(3, Math.max(-3, value));
    return name[0] === "x" ? Math.round(value * 2) / 2 : value;
  }

  function table(J, w, byColumns) {
    var big = Math.max(Math.abs(w[0]), Math.abs(w[1]));
    var strong = [0, 1].map(function (k) { return big > 0 && Math.abs(w[k]) === big; });
    var name = byColumns ? "u" : "v";
    function weightCell(k, tag) {
      var text = name + SUB[k + 1] + " = " + fmt(w[k]);
      return h(tag || "td", strong[k] ? "vjp-weight vjp-strong" : "vjp-weight",
        strong[k] ? [text + " ", h("strong", "", labels.largest)] : text);
    }
    var head = h("tr", "", [h("td")].concat([0, 1].map(function (j) {
      return h("th", byColumns && strong[j] ? "vjp-strong" : "", fill(labels.column, [j + 1]));
    })).concat(byColumns ? [] : [h("th", "vjp-weight", labels.weight)]));
    var body = [0, 1].map(function (i) {
      var rowHead = h("th", !byColumns && strong[i] ? "vjp-strong" : "", fill(labels.row, [i + 1]));
      var cells = [rowHead].concat([0, 1].map(function (j) {
        var emphasis = byColumns ? strong[j] : strong[i];
        return h("td", emphasis ? "vjp-strong" : "", fmt(J[i][j]));
      }));
      if (!byColumns) cells.push(weightCell(i));
      return h("tr", "", cells);
    });
    if (byColumns) {
      body.push(h("tr", "", [h("th", "", labels.weight), weightCell(0), weightCell(1)]));
    }
    head.querySelectorAll("th").forEach(function (th) { th.scope = "col"; });
    body.forEach(function (tr) { tr.querySelector("th").scope = "row"; });
    var caption = h("caption", "", fill(labels.jacobian, { x: vec([state.x1, state.x2]) }));
    return h("table", "vjp-matrix", [caption, h("thead", "", head), h("tbody", "", body)]);
  }

  function formula(head, w, parts, total) {
    var big = Math.max(Math.abs(w[0]), Math.abs(w[1]));
    var terms = [0, 1].map(function (k) {
      var term = weight(w[k]) + "·" + bracket(parts[k]);
      return big > 0 && Math.abs(w[k]) === big ? h("strong", "", term) : term;
    });
    var scaled = parts.map(function (p, k) { return bracket([w[k] * p[0], w[k] * p[1]]); });
    return h("p", "vjp-formula", [
      head, h("br"), "= ", terms[0], " + ", terms[1], h("br"),
      "= " + scaled[0] + " + " + scaled[1], h("br"), "= ", h("strong", "", bracket(total)),
    ]);
  }

  function update() {
    var i = data.grid.indexOf(state.x1);
    var j = data.grid.indexOf(state.x2);
    var J = data.J[i][j];  // [row 1, row 2], from torch
    var w = [state.v1, state.v2];
    var cols = [[J[0][0], J[1][0]], [J[0][1], J[1][1]]];
    var vjp = [0, 1].map(function (k) { return w[0] * J[0][k] + w[1] * J[1][k]; });
    var jvp = [0, 1].map(function (k) { return w[0] * cols[0][k] + w[1] * cols[1][k]; });
    var byColumns = columns.checked;
    var values = { x: vec([state.x1, state.x2]), v: vec(w) };
    view.replaceChildren(
      table(J, w, byColumns),
      byColumns ? formula(labels.jvp, w, cols, jvp) : formula(labels.vjp, w, J, vjp)
    );
    values.result = vec(byColumns ? jvp : vjp);
    result.textContent = fill(byColumns ? labels.jvp_result : labels.vjp_result, values);
    var same = vec(vjp) === vec(jvp);
    compare.textContent = fill(same ? labels.same : labels.differ, { vjp: vec(vjp), jvp: vec(jvp) });
  }

  NAMES.forEach(function (name) {
    var slider = root.querySelector("#vjp-" + name);
    var exact = root.querySelector("#vjp-" + name + "-exact");
    slider.addEventListener("input", function () {
      exact.value = slider.value;
      state[name] = read(name);
      update();
    });
    exact.addEventListener("input", function () {
      state[name] = read(name);
      slider.value = String(state[name]);
      update();
    });
    exact.addEventListener("change", function () {  // show the value that is used
      exact.value = String(state[name]);
    });
    state[name] = read(name);  // the browser may have restored an earlier entry
    slider.value = String(state[name]);
  });
  columns.addEventListener("change", update);
  root.querySelector("form").addEventListener("submit", function (event) { event.preventDefault(); });
  update();
})();
