// Progressive enhancement for the wizard. Everything works without this file.
(function () {
  "use strict";

  // The words this file shows, in the page's language: the layout puts them on <body> as JSON
  // (data-i18n); the Chinese here is only the fallback.
  var TEXT = (function () {
    try { return JSON.parse(document.body.getAttribute("data-i18n") || "{}"); } catch (e) { return {}; }
  })();
  function t(key, fallback) { return Object.prototype.hasOwnProperty.call(TEXT, key) ? TEXT[key] : fallback; }

  // Step 3: the SIM question only matters for tablets; without JavaScript it is always shown.
  function syncSimQuestion(root) {
    var question = root.querySelector("[data-shown-for]");
    if (!question) return;
    var form = question.closest("form");
    var chosen = form.querySelector("input[name=device]:checked");
    var show = chosen && chosen.value === question.getAttribute("data-shown-for");
    question.hidden = !show;
    question.querySelectorAll("input").forEach(function (input) { input.disabled = !show; });
  }

  // Show/hide toggles for password fields (paste stays allowed).
  function addPasswordToggles(root) {
    root.querySelectorAll("input[type=password]").forEach(function (input) {
      if (input.dataset.toggle) return;
      input.dataset.toggle = "1";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button-secondary password-toggle";
      var label = document.querySelector("label[for='" + input.id + "']");
      var name = label ? label.textContent.replace("*", "").trim() : "";
      // The visible words lead the accessible name (WCAG 2.5.3); the field's name, for
      // screen readers only, tells the two toggles apart.
      function show(visible) {
        input.type = visible ? "text" : "password";
        button.textContent = visible ? t("hidePassword", "隱藏密碼") : t("showPassword", "顯示密碼");
        if (name) {
          var which = document.createElement("span");
          which.className = "visually-hidden";
          which.textContent = t("fieldSeparator", "：") + name;
          button.appendChild(which);
        }
      }
      button.setAttribute("aria-controls", input.id);
      show(false);
      button.addEventListener("click", function () { show(input.type === "password"); });
      input.insertAdjacentElement("afterend", button);
    });
  }

  // After a step is swapped in, move focus like a page load would: to the error summary when
  // there are errors, else to the new heading.
  function focusNewStep(target) {
    var summary = target.querySelector("#error-summary, #confirm-clear");
    var heading = target.querySelector("h1");
    var focusable = summary || heading;
    if (!focusable) return;
    if (!focusable.hasAttribute("tabindex")) focusable.setAttribute("tabindex", "-1");
    focusable.focus();
    window.scrollTo(0, 0);
  }

  // Step 4: the QR code's countdown. The server decides expiry (the status poll says so);
  // this only shows the time left, and tells screen readers at a few moments, not every second.
  var countdownTimer = null;
  var ANNOUNCE_AT = {
    240: t("left240", "剩下 4 分鐘"), 180: t("left180", "剩下 3 分鐘"), 120: t("left120", "剩下 2 分鐘"),
    60: t("left60", "剩下 1 分鐘"), 30: t("left30", "剩下 30 秒"), 0: t("left0", "QR Code 已逾時")
  };

  // The language switch. The header is not swapped by htmx, so its link may name an older page:
  // go to the page shown now. On a form that keeps what was typed (step 2: data-keeps-typing),
  // post the form natively instead (action=language), so every box comes back in the other
  // language; nothing goes to web storage.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-lang-switch]") : null;
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    var code = link.getAttribute("data-lang-switch");
    var form = document.querySelector("form[data-keeps-typing]");
    if (form) {
      var action = new URL(form.getAttribute("action") || window.location.href, window.location.href);
      action.searchParams.set("lang", code);
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "action";
      input.value = "language";
      form.appendChild(input);
      form.setAttribute("action", action.pathname + action.search);
      form.submit();  // not requestSubmit: a full page load, not an htmx swap
      return;
    }
    var url = new URL(window.location.href);
    url.searchParams.set("lang", code);
    window.location.assign(url.pathname + url.search + url.hash);
  });
  function startCountdown(root) {
    var box = root.querySelector(".countdown[data-expires-in]");
    if (countdownTimer) { clearInterval(countdownTimer); countdownTimer = null; }
    if (!box) return;
    var clockText = box.querySelector(".countdown-clock");
    var announce = document.getElementById("countdown-announce");
    var end = Date.now() + parseInt(box.getAttribute("data-expires-in"), 10) * 1000;
    var last = null;
    function tick() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      if (left === last) return;
      last = left;
      var mm = String(Math.floor(left / 60)).padStart(2, "0");
      var ss = String(left % 60).padStart(2, "0");
      clockText.textContent = mm + ":" + ss;
      if (announce && Object.prototype.hasOwnProperty.call(ANNOUNCE_AT, left)) announce.textContent = ANNOUNCE_AT[left];
      if (left === 0) { clearInterval(countdownTimer); countdownTimer = null; }
    }
    tick();
    countdownTimer = setInterval(tick, 250);
  }

  // Step 4: 複製網址 copies the printed link (the button is hidden without JavaScript, where
  // the link can be selected and copied as text).
  function enhanceCopyButtons(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      if (button.dataset.enhanced) return;
      button.dataset.enhanced = "1";
      var source = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById(button.getAttribute("aria-describedby"));
      if (!source) return;
      button.hidden = false;
      function say(text) { if (status) status.textContent = text; }
      function selectSource() {
        var range = document.createRange();
        range.selectNodeContents(source);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
      button.addEventListener("click", function () {
        var text = source.textContent.trim();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(
            function () { say(t("copied", "已複製網址")); },
            function () { selectSource(); say(t("copyFailed", "無法自動複製，請選取網址後複製")); }
          );
        } else {
          selectSource();
          var done = false;
          try { done = document.execCommand("copy"); } catch (e) { done = false; }
          say(done ? t("copied", "已複製網址") : t("copyFailed", "無法自動複製，請選取網址後複製"));
        }
      });
    });
  }

  // --- The device credential (steps 6-7) ------------------------------------------------
  // A non-extractable ECDSA P-256 key made here and kept in IndexedDB; the server keeps only
  // the public key. Without WebCrypto the forms still work: the server falls back to a cookie.
  var DB_NAME = "bli-device", STORE = "keys", KEY_ID = "device";

  function openStore() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function storeKey(key) {
    return openStore().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, "readwrite");
        tx.objectStore(STORE).put(key, KEY_ID);
        tx.oncomplete = function () { resolve(); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function loadKey() {
    return openStore().then(function (db) {
      return new Promise(function (resolve, reject) {
        var request = db.transaction(STORE, "readonly").objectStore(STORE).get(KEY_ID);
        request.onsuccess = function () { resolve(request.result || null); };
        request.onerror = function () { reject(request.error); };
      });
    });
  }
  function toBase64(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text);
  }
  function webCryptoAvailable() {
    return !!(window.crypto && window.crypto.subtle && window.indexedDB);
  }

  function enhanceBindForm(root) {
    var form = root.querySelector("#bind-form");
    if (!form || form.dataset.enhanced || !webCryptoAvailable()) return;
    form.dataset.enhanced = "1";
    form.addEventListener("submit", function (event) {
      if (form.dataset.ready) return;
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"])
        .then(function (pair) {
          return storeKey(pair.privateKey).then(function () {
            return crypto.subtle.exportKey("spki", pair.publicKey);
          });
        })
        .then(function (spki) { form.elements.public_key.value = toBase64(spki); })
        .catch(function () { form.elements.public_key.value = ""; })
        .then(function () { form.dataset.ready = "1"; button.disabled = false; form.submit(); });
    });
  }

  function enhanceLoginForm(root) {
    var form = root.querySelector("#device-login[data-device-kind=webcrypto]");
    if (!form || form.dataset.enhanced || !webCryptoAvailable()) return;
    form.dataset.enhanced = "1";
    form.addEventListener("submit", function (event) {
      if (form.dataset.ready) return;
      event.preventDefault();
      var challenge = form.elements.challenge.value;
      loadKey()
        .then(function (key) {
          if (!key) return "";
          return crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key,
                                    new TextEncoder().encode(challenge)).then(toBase64);
        })
        .catch(function () { return ""; })
        .then(function (signature) {
          form.elements.signature.value = signature;
          form.dataset.ready = "1";
          form.submit();
        });
    });
  }

  // 使用須知: 開始使用 stays aria-disabled (focusable, announced with its reason) until the end
  // of the notice has been on screen, however it got there: scrolling the page, End, Tab,
  // find in page, a screen reader. A press before that says why instead of submitting.
  // Without JavaScript the button is enabled.
  function enhanceNotice(root) {
    var end = root.querySelector("#notice-end");
    var start = root.querySelector("#notice-start");
    var reason = root.querySelector("#notice-reason");
    if (!end || !start || start.dataset.enhanced) return;
    start.dataset.enhanced = "1";
    var ready = false;
    function show(isReady) {
      ready = isReady;
      if (isReady) start.removeAttribute("aria-disabled"); else start.setAttribute("aria-disabled", "true");
      if (reason) {
        reason.textContent = isReady ? t("noticeRead", "已讀到最後，可以開始使用。")
                                     : t("noticeUnread", "請先閱讀到使用須知最後，「開始使用」才會啟用。");
      }
    }
    show(false);
    start.addEventListener("click", function (event) {
      if (ready) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      if (reason) reason.classList.add("button-reason-stressed");
    }, true);
    // The sticky bar covers the bottom of the window: the end counts as read once it is above it.
    var bar = start.closest("form");
    var covered = function () { return bar && getComputedStyle(bar).position === "sticky" ? bar.offsetHeight : 0; };
    function seen() {
      var box = end.getBoundingClientRect();
      return box.top < window.innerHeight - covered() && box.bottom > 0;
    }
    if ("IntersectionObserver" in window) {
      var observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (entry) { return entry.isIntersecting; })) {
          observer.disconnect();
          show(true);
        }
      }, { rootMargin: "0px 0px -" + covered() + "px 0px" });
      observer.observe(end);
    } else {
      var check = function () {
        if (!seen()) return;
        window.removeEventListener("scroll", check);
        show(true);
      };
      window.addEventListener("scroll", check);
      check();
    }
  }

  // Idle timeout: warn two minutes before; 繼續使用 tells the server, which restarts the clock.
  // Every request the server answered counts as activity there, also an htmx swap (the page is
  // not loaded again): sessionActivity restarts the idle time here too.
  var sessionTimer = null, sessionActivity = null;
  function startSessionTimer() {
    var box = document.getElementById("session-warning");
    if (sessionTimer) { clearInterval(sessionTimer); sessionTimer = null; }
    sessionActivity = null;
    if (!box) return;
    var left0 = parseInt(box.dataset.secondsLeft, 10) * 1000;
    var idle = parseInt(box.dataset.idleSeconds || "900", 10) * 1000;
    var end = Date.now() + left0;
    // Less than the idle time left at a page load: the absolute limit (8 h) comes first.
    var cap = left0 < idle ? end : Infinity;
    var warn = parseInt(box.dataset.warnSeconds, 10);
    var clock = box.querySelector(".session-clock");
    var extend = box.querySelector("#session-extend");
    sessionActivity = function () {
      end = Math.min(Date.now() + idle, cap);
      box.hidden = true;
    };
    extend.onclick = function () {
      var body = new FormData();
      body.append("csrf_token", box.dataset.csrf);
      fetch(box.dataset.extendUrl, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 204) {
            sessionActivity();
          } else {
            window.location.reload();
          }
        });
    };
    sessionTimer = setInterval(function () {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      if (left <= warn && box.hidden) {
        box.hidden = false;
        extend.focus();
      }
      clock.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (left === 0) { clearInterval(sessionTimer); window.location.reload(); }
    }, 1000);
  }

  function enhance(root) {
    startCountdown(root);
    enhanceCopyButtons(root);
    enhanceBindForm(root);
    enhanceLoginForm(root);
    enhanceNotice(root);
    syncSimQuestion(root);
    addPasswordToggles(root);
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "device") syncSimQuestion(document);
  });
  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    startSessionTimer();
    var summary = document.querySelector("#error-summary, #confirm-clear");
    if (summary) summary.focus();
  });
  // 重新產生驗證碼 replaces the button that was pressed: give focus back to the new one.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.elt && event.detail.elt.id === "captcha-block") {
      var again = document.getElementById("captcha-new");
      if (again) again.focus();
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (sessionActivity && event.detail.successful) sessionActivity();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "qr-status") return;
    enhance(document);
    if (event.detail.target && event.detail.target.id === "main") focusNewStep(event.detail.target);
  });
})();
