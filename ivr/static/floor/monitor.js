// Live calls on the wallboard: a supervisor listens to a call (muted), coaches the call-taker
// (only the call-taker hears them) or barges in (everyone hears them), switches mode and
// leaves. The list comes with every wallboard event (wallboard.js passes it on as
// "ivr:wallboard"); actions go to /api/v1/calls/<sid>/monitor. The supervisor's audio is their
// account's contact: the browser phone below (Twilio's Voice SDK) or a desk phone.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const api = window.ivr.api.request;  // ivr/static/shared/api.js
  const MODES = { listen: "Listen", coach: "Coach", barge: "Barge" };
  const HEARD = { listen: "listening (nobody hears you)",
                  coach: "coaching (only the call-taker hears you)",
                  barge: "on the call (everyone hears you)" };
  let calls = [];
  let mine = null;
  let skew = 0;  // the server's clock minus this computer's: calls are timed by the server's

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c);
    return node;
  }

  function message(text) { $("monitor-message").textContent = text || ""; }

  function talking(since) {
    if (!since) return "–";
    const s = Math.max(0, Math.round(Date.now() / 1000 + skew - since));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  function button(call, mode, label, pressed) {
    const b = el("button", { type: "button", class: "btn", "data-mode": mode,
                             "aria-pressed": pressed ? "true" : "false" }, label);
    b.addEventListener("click", () => (mode === "leave" ? leave(call) : join(call, mode)));
    return b;
  }

  function render() {
    // A call I am still on may have left the list (its call-taker completed a transfer and
    // left): it stays, so I can leave it.
    const shown = mine && !calls.some((c) => c.call === mine.call)
      ? [...calls, { call: mine.call, agent: mine.agent, supervisor: mine, since: mine.since }]
      : calls;
    const rows = shown.map((c) => {
      const sup = c.supervisor;
      const onIt = mine && mine.call === c.call;
      const actions = el("td", { class: "actions" });
      if (!sup || onIt) {
        for (const [mode, label] of Object.entries(MODES)) {
          const b = button(c.call, mode, label, onIt && mine.mode === mode);
          b.disabled = Boolean((mine && !onIt) || (onIt && mine.status !== "joined"));
          actions.append(b);
        }
        if (onIt) actions.append(button(c.call, "leave", "Leave", false));
      }
      const who = sup ? `${sup.name || sup.supervisor} · ${sup.mode}${sup.status === "ringing" ? " (ringing)" : ""}` : "–";
      return el("tr", { "data-call": c.call, "data-agent": c.agent },
        el("td", {}, c.agent), el("td", {}, c.line || "–"), el("td", {}, c.queue_class || "–"),
        el("td", { class: "timer", "data-since": String(c.since || ""), "data-held": c.held ? "1" : "" },
           talking(c.since) + (c.held ? " · held" : "")),
        el("td", { class: "supervisor" }, who), actions);
    });
    $("live-calls-rows").replaceChildren(...rows);
    $("live-calls-empty").hidden = rows.length > 0;
    const badge = $("monitor-mine");
    badge.hidden = !mine;
    if (mine) {
      badge.dataset.mode = mine.mode;
      badge.dataset.status = mine.status;
      badge.textContent = mine.status === "joined" ? `You are ${HEARD[mine.mode]}` : "Your phone is ringing…";
    }
  }

  function tick() {  // the talking clocks, without rebuilding the rows (and their buttons)
    for (const cell of document.querySelectorAll("#live-calls-rows td.timer")) {
      cell.textContent = talking(Number(cell.dataset.since) || 0) + (cell.dataset.held ? " · held" : "");
    }
  }

  function apply(data) {
    if (typeof data.server_time === "number") skew = data.server_time - Date.now() / 1000;
    if (data.calls) calls = data.calls;
    mine = data.mine === undefined ? mine : data.mine;
    render();
  }

  async function reload() {
    try { apply(await api("GET", "/live-calls")); } catch (error) { message(error.message); }
  }

  async function join(call, mode) {
    try {
      const data = await api("POST", `/calls/${encodeURIComponent(call)}/monitor`, { mode });
      mine = data.monitoring;
      message("");
    } catch (error) {
      message(error.message);
    }
    await reload();
  }

  async function leave(call) {
    try {
      await api("POST", `/calls/${encodeURIComponent(call)}/monitor/leave`);
      mine = null;
      message("");
    } catch (error) {
      message(error.message);
    }
    await reload();
  }

  // The browser phone: the server rings it into the call's conference when a mode is chosen.
  async function phone() {
    const pill = $("sup-phone");
    let token;
    try {
      token = await api("GET", "/voice/token");
    } catch (error) {
      pill.textContent = error.code === "desk_phone" ? "Phone: desk phone" : "Browser phone unavailable";
      pill.title = error.message;
      pill.className = `pill ${error.code === "desk_phone" ? "pill-ok" : "pill-bad"}`;
      return;
    }
    await new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/static/vendor/twilio.min.js";
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    }).catch(() => null);
    if (!window.Twilio || !window.Twilio.Device) {
      pill.textContent = "Browser phone unavailable";
      pill.className = "pill pill-bad";
      return;
    }
    const device = new window.Twilio.Device(token.token, { closeProtection: true });
    device.on("registered", () => { pill.textContent = "Browser phone ready"; pill.className = "pill pill-ok"; });
    device.on("error", (error) => { pill.textContent = "Browser phone error"; pill.title = error.message; pill.className = "pill pill-bad"; });
    device.on("tokenWillExpire", async () => {
      try { device.updateToken((await api("GET", "/voice/token")).token); } catch (_) { /* shown on error */ }
    });
    // Only a call this supervisor asked for is answered.
    device.on("incoming", (call) => { if (mine) call.accept(); else call.reject(); });
    device.register();
  }

  document.addEventListener("ivr:wallboard", (e) => {
    skew = Date.parse(e.detail.at) / 1000 - Date.now() / 1000;
    calls = e.detail.live_calls || [];
    // Who I am on comes with the list: my own row names me.
    const me = document.querySelector(".floor-who").textContent.trim();
    const row = calls.find((c) => c.supervisor && c.supervisor.supervisor === me);
    if (row) mine = row.supervisor;
    else if (mine) { reload(); return; }  // the server says whether I am still on it
    render();
  });
  document.addEventListener("DOMContentLoaded", () => {
    reload();
    phone();
    setInterval(tick, 1000);
  });
})();
