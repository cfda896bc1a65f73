/* gitqms: stamp the print date into the "uncontrolled copy" notice (no network, no data). */
(function () {
  function stamp() {
    var now = new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC";
    document.querySelectorAll(".qms-printed").forEach(function (el) { el.textContent = now; });
  }
  window.addEventListener("beforeprint", stamp);
  document.addEventListener("DOMContentLoaded", stamp);
})();
