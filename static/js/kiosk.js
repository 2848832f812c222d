// Counter kiosks only (templates/layout.html loads this file when wizard/kiosk.py recognises
// the terminal). After KIOSK_IDLE_SECONDS without input, a warning (role alertdialog) counts
// down KIOSK_WARNING_SECONDS; 繼續使用 starts again (WCAG 2.2.1), otherwise the header's
// 結束使用 form is sent: the server wipes the person's data and answers with Clear-Site-Data.
(function () {
  "use strict";

  var form = document.getElementById("kiosk-end-form");
  if (!form) return;

  // What the previous person may have left in web storage. Clear-Site-Data does the same on
  // the server's answer; this also covers browsers that ignore that header.
  function clearStorage() {
    try { window.localStorage.clear(); } catch (e) { /* storage disabled */ }
    try { window.sessionStorage.clear(); } catch (e) { /* storage disabled */ }
  }

  var ending = false;
  function end() {
    if (ending) return;
    ending = true;
    clearStorage();
    form.submit();  // a native POST (not htmx): its answer replaces the whole page
  }
  form.addEventListener("submit", function () { ending = true; clearStorage(); });

  // A page brought back from the back-forward cache would show what it showed before: load it
  // from the server instead (which, after 結束使用, has nothing of the person to show).
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.body.hidden = true;
    window.location.reload();
  });

  var box = document.getElementById("kiosk-warning");
  if (!box) return;  // the page after 結束使用: nothing to wipe, no timer
  var idleMs = parseInt(box.getAttribute("data-idle-seconds"), 10) * 1000;
  var warnMs = parseInt(box.getAttribute("data-warn-seconds"), 10) * 1000;
  var clock = box.querySelector(".kiosk-clock");
  var extend = document.getElementById("kiosk-extend");
  var lastInput = Date.now();
  var returnFocus = null;

  function showClock(ms) {
    var left = Math.max(0, Math.ceil(ms / 1000));
    clock.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
  }
  showClock(warnMs);

  // Any input counts while the warning is hidden; once it shows, only 繼續使用 (or 結束使用)
  // answers it, so a stray touch cannot dismiss it unseen.
  function activity() {
    if (box.hidden) lastInput = Date.now();
  }
  ["pointerdown", "keydown", "input", "wheel", "touchstart", "scroll"].forEach(function (type) {
    document.addEventListener(type, activity, { capture: true, passive: true });
  });
  // Step 4: the phone moving the hand-off along (the status changes on this screen) counts
  // too; the person is busy with their phone, not gone.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "qr-status") activity();
  });

  extend.addEventListener("click", function () {
    lastInput = Date.now();
    box.hidden = true;
    showClock(warnMs);
    var target = returnFocus && document.contains(returnFocus) ? returnFocus : document.getElementById("main");
    if (target) target.focus();
    returnFocus = null;
  });

  setInterval(function () {
    if (ending) return;
    var idleFor = Date.now() - lastInput;
    if (idleFor >= idleMs + warnMs) {
      end();
      return;
    }
    if (idleFor >= idleMs) {
      if (box.hidden) {
        returnFocus = document.activeElement;
        box.hidden = false;
        extend.focus();
      }
      showClock(idleMs + warnMs - idleFor);
    }
  }, 250);
})();
