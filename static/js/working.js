// A "Working… 12 s" line with a Cancel button, for any call that may take a while.
// Working.start(box, onCancel) shows the box (an element with [data-working-elapsed] and
// [data-working-cancel] inside), counts seconds from now and calls onCancel when the button is
// pressed; the returned function hides the box again.
(function () {
  "use strict";
  function start(box, onCancel) {
    const elapsed = box.querySelector("[data-working-elapsed]");
    const cancel = box.querySelector("[data-working-cancel]");
    const template = box.dataset.elapsedTemplate || "{seconds} s";
    const began = Date.now();
    function tick() {
      const seconds = Math.floor((Date.now() - began) / 1000);
      if (elapsed) elapsed.textContent = template.replace("{seconds}", String(seconds));
    }
    tick();
    const timer = window.setInterval(tick, 1000);
    function onClick() {
      onCancel();
    }
    if (cancel) {
      cancel.disabled = false;
      cancel.addEventListener("click", onClick);
    }
    box.hidden = false;
    return function stop() {
      window.clearInterval(timer);
      if (cancel) cancel.removeEventListener("click", onClick);
      box.hidden = true;
    };
  }
  window.Working = { start: start };

  // Feature forms sent with htmx: the box shows while the request runs; Cancel aborts it.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-working]").forEach(function (form) {
      const box = document.getElementById(form.dataset.working);
      const result = document.getElementById(form.dataset.resultTarget || "");
      const button = form.querySelector("button[type=submit]");
      if (!box) return;
      let stop = null;
      form.addEventListener("htmx:beforeRequest", function () {
        if (button) button.disabled = true;
        stop = Working.start(box, function () {
          window.htmx.trigger(form, "htmx:abort");
          if (result && box.dataset.cancelledText !== undefined) {
            const notice = document.createElement("div");
            notice.className = "card";
            notice.id = "result-cancelled";
            const p = document.createElement("p");
            p.className = "msg msg-warning";
            p.setAttribute("role", "status");
            p.textContent = box.dataset.cancelledText;
            notice.appendChild(p);
            result.replaceChildren(notice);
          }
          finish();
        });
      });
      function finish() {
        if (stop) stop();
        stop = null;
        if (button) button.disabled = false;
      }
      form.addEventListener("htmx:afterRequest", finish);
    });
  });
})();
