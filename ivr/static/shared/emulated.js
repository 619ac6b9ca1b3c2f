// The emulated phone of `ivr serve --emulate` (loaded on every page only in that mode): the
// banner's "Place a test call", and the caller's side of a call as text - what the caller
// hears, the keys they press and what they say - with a keypad and a box to speak for them.
// The console names its current call in <body data-call>; otherwise the phone follows the last
// test call placed from this browser.
"use strict";

(() => {
  const BASE = "/api/v1/emulator";
  const KEPT = "ivr-emulated-call";
  const $ = (id) => document.getElementById(id);
  const WHO = { heard: "hears", pressed: "presses", said: "says", call: "" };

  // The session's CSRF token: the page's meta tag, or (pages without one, the wallboard) the
  // one /api/v1/me gives the signed-in session.
  let token = "";
  async function csrf() {
    const tag = document.querySelector('meta[name="csrf-token"]');
    if (tag) return tag.content;
    if (!token) {
      const me = await fetch("/api/v1/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
      token = me.ok ? (await me.json()).csrf_token || "" : "";
    }
    return token;
  }

  async function call(method, path, body) {
    const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      options.headers["X-CSRF-Token"] = await csrf();
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    const response = await fetch(BASE + path, options);
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new Error(error.message || `the emulator answered ${response.status}`);
    }
    return data;
  }

  // -- the phone panel ------------------------------------------------------------------------

  const phone = { sid: "", timer: null, ended: false };

  function build() {
    const box = document.createElement("aside");
    box.id = "emulated-phone";
    box.className = "emulated-phone";
    box.hidden = true;
    box.setAttribute("aria-label", "The caller's phone (emulated)");
    box.innerHTML = `
      <header><strong>Caller's phone</strong> <span id="phone-who"></span>
        <span id="emulated-phone-status" class="phone-status"></span>
        <button id="btn-phone-close" type="button" title="Hide">×</button></header>
      <ol id="phone-lines" class="phone-lines"></ol>
      <p id="phone-listening" class="phone-listening"></p>
      <div class="phone-keys">${"123456789*0#".split("").map((k) =>
        `<button type="button" class="phone-key" data-key="${k}">${k}</button>`).join("")}</div>
      <div class="phone-say">
        <label for="phone-say" class="sr-only">What the caller says</label>
        <input id="phone-say" type="text" maxlength="500" placeholder="What the caller says">
        <button id="btn-phone-say" type="button">Say</button>
        <button id="btn-phone-hangup" type="button" class="phone-hangup">Hang up</button>
      </div>
      <p id="phone-message" class="phone-message" role="status"></p>`;
    document.body.append(box);
    box.querySelectorAll(".phone-key").forEach((b) => b.addEventListener("click", () => send({ keys: b.dataset.key })));
    $("btn-phone-say").addEventListener("click", say);
    $("phone-say").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); say(); } });
    $("btn-phone-hangup").addEventListener("click", () => send({ hangup: true }));
    $("btn-phone-close").addEventListener("click", () => show(false));
  }

  function show(on) {
    $("emulated-phone").hidden = !on;
    document.body.classList.toggle("phone-open", on);
  }

  function say() {
    const words = $("phone-say").value.trim();
    if (!words) return;
    send({ say: words }).then((ok) => { if (ok) $("phone-say").value = ""; });
  }

  async function send(input) {
    if (!phone.sid) return false;
    try {
      const answer = await call("POST", `/calls/${encodeURIComponent(phone.sid)}/input`, input);
      const message = $("phone-message");
      message.textContent = answer.result === "kept" ? "No menu is listening now: kept for the next one." : "";
      if (answer.result === "kept") message.dataset.kept = "yes";
      refresh();
      return true;
    } catch (error) {
      $("phone-message").textContent = error.message;
      return false;
    }
  }

  // `kept`: a call remembered from another page, shown only while it lasts.
  function follow(sid, kept) {
    if (!sid || sid === phone.sid) return;
    phone.sid = sid;
    phone.ended = false;
    phone.kept = !!kept;
    $("phone-lines").replaceChildren();
    if (!kept) show(true);
    refresh();
  }

  async function refresh() {
    if (!phone.sid) return;
    let view;
    try {
      view = await call("GET", `/calls/${encodeURIComponent(phone.sid)}`);
    } catch (error) {
      if (phone.kept) { localStorage.removeItem(KEPT); phone.sid = ""; phone.kept = false; return; }
      $("phone-message").textContent = error.message;
      return;
    }
    if (phone.kept) {
      phone.kept = false;
      if (view.ended) { localStorage.removeItem(KEPT); phone.sid = ""; return; }
      show(true);
    }
    $("phone-who").textContent = `${view.from} → ${view.to}`;
    $("emulated-phone-status").textContent = view.status;
    $("emulated-phone").dataset.status = view.status;
    const list = $("phone-lines");
    list.replaceChildren(...view.lines.map((line) => {
      const li = document.createElement("li");
      li.className = `phone-${line.who}`;
      li.dataset.who = line.who;
      if (WHO[line.who]) {
        const who = document.createElement("b");
        who.textContent = WHO[line.who];
        li.append(who, " ");
      }
      li.append(line.text);
      return li;
    }));
    list.scrollTop = list.scrollHeight;
    const l = view.listening;
    $("phone-listening").textContent = view.ended ? "The call is over."
      : l ? `Listening for ${l.input.filter((i) => i !== "record").join(" or ") || "a message"} (${l.timeout} s)` : "";
    document.querySelectorAll("#emulated-phone button:not(#btn-phone-close), #phone-say")
      .forEach((el) => { el.disabled = view.ended; });
    phone.ended = view.ended;
    if (!view.kept && $("phone-message").dataset.kept) {
      $("phone-message").textContent = "";
      delete $("phone-message").dataset.kept;
    }
  }

  function tick() {
    if (phone.sid && !phone.ended && !$("emulated-phone").hidden) refresh();
  }

  // -- the banner's test call -----------------------------------------------------------------

  async function setupPlace() {
    let info;
    try { info = await call("GET", ""); } catch (_) { return false; }  // signed out: no calls
    const select = $("emulated-line");
    select.replaceChildren(...Object.entries(info.lines).map(([name, number]) => new Option(`${name} (${number})`, name)));
    $("emulated-place").hidden = false;
    $("btn-test-call").addEventListener("click", async () => {
      try {
        const placed = await call("POST", "/calls", { line: select.value });
        localStorage.setItem(KEPT, placed.call);
        follow(placed.call);
      } catch (error) {
        $("phone-message").textContent = error.message;
        show(true);
      }
    });
    return true;
  }

  document.addEventListener("DOMContentLoaded", () => {
    build();
    const fromConsole = () => document.body.dataset.call;
    new MutationObserver(() => follow(fromConsole())).observe(document.body, { attributes: true, attributeFilter: ["data-call"] });
    follow(fromConsole());
    // The last test call placed from this browser, on any page, while it lasts.
    setupPlace().then((signedIn) => { if (signedIn && !phone.sid) follow(localStorage.getItem(KEPT) || "", true); });
    setInterval(tick, 1000);
  });
})();
