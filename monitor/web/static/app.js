// Vigía's keyboard shortcuts and selection, the only script besides htmx (no inline scripts:
// the Content-Security-Policy forbids them). j/k move, r reviewed, f false positive,
// e escalate, o or Enter opens, x selects for a bulk action, ? shows the help.
(function () {
  "use strict";
  function rows() { return Array.from(document.querySelectorAll(".mention-row")); }
  function current() { return document.querySelector(".mention-row.selected"); }
  function select(row) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-current"); });
    if (row) { row.classList.add("selected"); row.setAttribute("aria-current", "true"); row.scrollIntoView({block: "nearest"}); }
  }
  function move(step) {
    var all = rows(); if (!all.length) return;
    var index = all.indexOf(current());
    select(all[Math.max(0, Math.min(all.length - 1, index < 0 ? 0 : index + step))]);
  }
  function act(name) {
    var row = current(); if (!row) return;
    var button = row.querySelector('[data-action="' + name + '"]');
    if (button && !button.disabled) button.click();
  }
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var help = document.getElementById("help");
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "r": act("reviewed"); break;
      case "f": act("false_positive"); break;
      case "e": act("escalate"); break;
      case "x": var box = current() && current().querySelector("input[type=checkbox]");
                if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", {bubbles: true})); } break;
      case "o": case "Enter": var link = current() && current().querySelector("a.open");
                if (link) link.click(); break;
      case "?": if (help) { help.open ? help.close() : help.showModal(); } break;
      default: return;
    }
    event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest(".mention-row");
    if (row) select(row);
    if (event.target.matches && event.target.matches("[data-close-dialog]")) event.target.closest("dialog").close();
  });
  document.addEventListener("change", function (event) {
    if (!event.target.matches || !event.target.matches(".mention-row input[type=checkbox], #select-all")) return;
    if (event.target.id === "select-all") {
      rows().forEach(function (r) { var b = r.querySelector("input[type=checkbox]"); if (b) b.checked = event.target.checked; });
    }
    var count = document.querySelectorAll(".mention-row input[type=checkbox]:checked").length;
    var counter = document.getElementById("selected-count"); if (counter) counter.textContent = count;
    document.querySelectorAll(".bulk button").forEach(function (b) { b.disabled = count === 0; });
  });
  // A row swapped in by htmx (after an action) keeps the keyboard selection.
  var selectedId = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var row = current(); selectedId = row ? row.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (selectedId && !current()) { var row = document.getElementById(selectedId); if (row) select(row); }
  });
})();
