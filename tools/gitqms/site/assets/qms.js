/* gitqms: stamp the print date into the "uncontrolled copy" notice (no network, no data), and
   name the theme's search dialog for screen readers (the theme leaves it unnamed). */
(function () {
  function stamp() {
    var now = new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC";
    document.querySelectorAll(".qms-printed").forEach(function (el) { el.textContent = now; });
  }
  function nameSearch() {
    var dialog = document.querySelector('.md-search[role="dialog"]:not([aria-label])');
    var input = document.querySelector(".md-search__input");
    if (dialog) dialog.setAttribute("aria-label", (input && input.getAttribute("aria-label")) || "Search");
  }
  window.addEventListener("beforeprint", stamp);
  document.addEventListener("DOMContentLoaded", function () { stamp(); nameSearch(); });
})();
